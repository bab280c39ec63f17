"""trustsim-behaviour: paired intervals, Morris ranges, the run cache, and the quick report."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from sim.behaviour import claims, morris, studies
from sim.behaviour.cli import generate, main, parse_args
from sim.behaviour.measures import require_columns
from sim.behaviour.runs import QUIET, Arm, BehaviourError, Cache, RunResult, compose_arm, run_arms
from sim.behaviour.stats import paired
from sim.compose import compose_config
from sim.config import config_dict
from sim.designs import schema_field


def test_paired_interval_matches_a_hand_computation():
    # d = a - b = [0.5, 0.5, 1.0, -0.5]: mean 0.375, sd = sqrt(1.1875 / 3) = 0.6291529,
    # se = sd / 2 = 0.3145764, t(0.975, 3) = 3.1824463, half-width 1.0011226.
    p = paired([1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.0, 4.5])
    assert p.n == 4
    assert p.mean_a == pytest.approx(2.5)
    assert p.mean_b == pytest.approx(2.125)
    assert p.diff == pytest.approx(0.375)
    assert p.lo == pytest.approx(0.375 - 1.0011226, abs=1e-6)
    assert p.hi == pytest.approx(0.375 + 1.0011226, abs=1e-6)
    assert p.sign == 0


def test_paired_drops_undefined_seeds_and_reads_the_sign():
    p = paired([2.9, math.nan, 3.0, 5.1], [1.0, 1.0, 1.0, 3.0])  # d = 1.9, 2, 2.1 (seed 1 out)
    assert p.n == 3 and p.diff == pytest.approx(2.0)
    assert p.sign == 1
    same = paired([2.0, 3.0], [1.0, 2.0])  # every seed differs by exactly 1
    assert (same.lo, same.hi, same.sign) == (1.0, 1.0, 1)
    assert math.isnan(paired([1.0], [0.0]).lo)


def test_morris_ranges_stay_in_the_schema_and_around_the_default():
    cfg = compose_config(["population.n_users=300", "ticks=20"])
    params, _ = morris.parameters(cfg)
    names = {p.name for p in params}
    assert "platforms.strategies.balanced.disclosure" in names
    assert not any(n.startswith(("ishigami.", "output.")) for n in names)
    assert not names & {"seed", "ticks", "population.n_users", "platforms.count", "sample"}
    for p in params:
        meta = schema_field(p.name).metadata
        assert meta.get("lo", -math.inf) <= p.lo < p.hi <= meta.get("hi", math.inf), p
        if meta.get("open_lo"):
            assert p.lo > meta["lo"], p
        if p.default != 0:
            assert min(p.default / 2, p.default * 1.5) - 1e-12 <= p.lo, p
            assert p.hi <= max(p.default / 2, p.default * 1.5) + 1e-12, p
        if p.integer:
            assert p.lo == int(p.lo) and p.hi == int(p.hi), p


def test_morris_range_rules():
    prob = {"lo": 0.0, "hi": 1.0}
    assert morris.morris_range("x", 0.97, prob, False) == pytest.approx((0.955, 0.985))
    assert morris.morris_range("x", 0.2, prob, False) == pytest.approx((0.1, 0.3))
    assert morris.morris_range("x", 0.0, prob, False) == (0.0, morris.ZERO_SPAN)
    assert morris.morris_range("x", 3, {"lo": 1}, True) == (2, 4)
    assert morris.morris_range("x", 1, {"lo": 1}, True) == (1, 2)
    assert morris.morris_range("x", 26.0, {"lo": 1.0}, False) == (13.0, 39.0)


def test_morris_design_cannot_break_the_cross_field_rules():
    cfg = compose_config(["population.n_users=300", "ticks=20"])
    params = {p.name: p for p in morris.parameters(cfg)[0]}
    for low, high in morris.ORDERED_PAIRS:
        assert params[low].hi <= params[high].lo, (low, high)
    # plan() raises if sim.designs.check_rows finds a row that breaks a rule.
    screening = morris.plan(cfg, ("population.n_users=300", "ticks=20"), 4, 4)
    assert len(screening.arms) == 4 * (len(params) + 1)


def test_numeric_overrides_set_directly_give_the_config_hydra_composes():
    overrides = (
        "population.n_users=300",
        "ticks=80",
        "scenario=rumour",
        "regulator=self_regulation",
        "regulator.shutdown_after=5",
        "regulator.peer_audit_rate=0",
        "platforms.strategies.laggard.disclosure=0.9",
        "scenario.events.0.rebuttal=true",
    )
    direct = config_dict(compose_arm(overrides))
    assert direct == config_dict(compose_config([*overrides, *QUIET]))
    assert direct["regulator"]["shutdown_after"] == 5
    assert isinstance(direct["regulator"]["peer_audit_rate"], float)


def test_the_cache_makes_a_second_run_simulate_nothing(tmp_path):
    size = ("population.n_users=200", "ticks=8")
    arms = [Arm("a", size), Arm("b", (*size, "regulator.penalty=0.03"))]
    requests = [(arm, seed) for arm in arms for seed in (0, 1)]
    logged = []
    first, stats = run_arms(requests, Cache(tmp_path), jobs=1, log=logged.append)
    assert (stats.runs, stats.simulated) == (4, 4)
    again, stats = run_arms(requests, Cache(tmp_path), jobs=1, log=logged.append)
    assert (stats.runs, stats.simulated) == (4, 0)
    for key in first:
        pd.testing.assert_frame_equal(first[key].timeseries, again[key].timeseries)
        assert first[key].info == again[key].info
    # A new config simulates only itself; the same config under another label is shared.
    more = [*requests, (Arm("c", (*size, "regulator.penalty=0.04")), 0), (Arm("d", size), 0)]
    _, stats = run_arms(more, Cache(tmp_path), jobs=1, log=logged.append)
    assert (stats.runs, stats.simulated) == (5, 1)


def test_a_missing_indicator_column_is_named():
    frame = pd.DataFrame({"tick": [0, 1], "trust_mean": [0.5, 0.6]})
    run = RunResult(frame, {"closures": [], "rumours": [], "target_trust": {}})
    with pytest.raises(
        BehaviourError, match=r"platforms_collapsed \(read by indicator platforms_failed\)"
    ):
        require_columns([run], {"indicator platforms_failed": ("platforms_collapsed",)})


def test_a_table_entry_the_model_lacks_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(studies.TOOL_LEVELS, "no_such_tool", (0.0, 1.0, "baseline"))
    with pytest.raises(BehaviourError, match=r"regulator\.no_such_tool"):
        studies.tool_factors(("population.n_users=200", "ticks=80"))
    assert main(["--quick", "--out", "/nonexistent/never-written"]) == 2
    assert "regulator.no_such_tool" in capsys.readouterr().err


def test_explanations_are_texts():
    # Unknown claim ids are rejected by claims.evaluate (run by the end-to-end test below).
    explanations = claims.load_explanations()
    assert explanations and all(isinstance(v, str) and len(v) > 100 for v in explanations.values())


def test_quick_flag_sets_small_defaults_that_explicit_values_override():
    options = parse_args(["--quick", "--seeds", "4"])
    assert (options.seeds, options.users, options.ticks) == (4, 800, 80)
    assert options.command == "trustsim-behaviour --quick --seeds 4"


@pytest.mark.slow
def test_quick_report_end_to_end(tmp_path):
    options = dataclasses.replace(
        parse_args(["--quick", "--jobs", "2"]), out=tmp_path / "docs", cache=tmp_path / "cache"
    )
    stats = generate(options)
    assert stats.simulated == stats.runs > 0
    text = (tmp_path / "docs" / "behaviour.md").read_text()
    for heading in (
        "# Behaviour of the model",
        "## 1. Scenarios against baseline",
        "### 1. rumour",
        "## 2. Levers one at a time",
        "## 3. Regulator tools one at a time",
        "## 4. Morris screening of all numeric parameters",
        "## 5. The seed report's claims",
        "### ch. 7.3: A rumour can start a run on a platform.",
    ):
        assert heading in text, heading
    assert "trustsim-behaviour --quick --jobs 2" in text
    assert "Not run at this horizon" in text  # p2p_boom_bust and policy_shift need > 80 weeks
    figures = {p.name for p in (tmp_path / "docs" / "behaviour").glob("*.png")}
    assert {"levers.png", "tools.png", "morris.png", "scenario_rumour.png"} <= figures
    for name in figures:
        assert f"behaviour/{name}" in text
    assert "not measured" not in text  # every claim's scenarios fit in the quick horizon
