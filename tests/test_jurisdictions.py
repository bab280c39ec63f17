"""Several jurisdictions (issue 12): regulators of their own platforms and residents."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import jurisdictions
from sim.compose import _scenario_node, compose_config, validate_run
from sim.config import ConfigError
from sim.model import TrustModel
from tests.test_ledger import check_every_tick

TWO = """
name: two
jurisdictions:
  - name: strict
    user_share: 0.5
    platform_share: 0.5
    regime: rules_based
    regulator: {{penalty: 0.05, inspection_rate: 0.2}}
  - name: lax
    user_share: 0.5
    platform_share: 0.5
    regime: laissez_faire
cross_border:
  service: {service}
"""


def _world(tmp_path: Path, text: str, *overrides: str, seed: int = 0) -> TrustModel:
    path = tmp_path / "two.yaml"
    path.write_text(text)
    cfg = compose_config(["population.n_users=2000", "ticks=60", f"seed={seed}", *overrides])
    return TrustModel(validate_run(dataclasses.replace(cfg, scenario=_scenario_node(path))))


def _run_world(tmp_path: Path, text: str, *overrides: str, seed: int = 0) -> TrustModel:
    """:func:`_world`, run to its end."""
    model = _world(tmp_path, text, *overrides, seed=seed)
    model.run()
    return model


def _at_end(model: TrustModel, jurisdiction: str) -> pd.Series:
    """``jurisdiction``'s row of the jurisdictions table at the run's last tick."""
    table = model.jurisdiction_table()
    return table[(table.tick == model.tick) & (table.jurisdiction == jurisdiction)].iloc[0]


def test_one_declared_jurisdiction_is_the_model_without_jurisdictions(tmp_path):
    """One jurisdiction, as today: the same files as a run that declares none."""
    one = "name: two\njurisdictions:\n  - {name: home, user_share: 1.0, platform_share: 1.0}\n"
    overrides = ["scenario=fraud_contagion", "ticks=80", "platforms=laggard"]
    declared = _world(tmp_path, one, *overrides)
    plain = TrustModel(compose_config(["population.n_users=2000", "seed=0", *overrides]))
    # The declared world has no events: give it fraud_contagion's to compare like for like.
    declared = TrustModel(
        dataclasses.replace(
            declared.cfg,
            scenario=dataclasses.replace(declared.cfg.scenario, events=plain.cfg.scenario.events),
        )
    )
    declared.run()
    plain.run()
    assert declared.timeseries().equals(plain.timeseries())
    assert declared.platform_table().equals(plain.platform_table())
    assert declared.event_log == plain.event_log
    assert declared.jurisdiction_table().empty and len(declared.regulators) == 1


def test_shares_are_met_and_the_tables_add_up(tmp_path):
    model = _world(tmp_path, TWO.format(service="passport"))
    assert np.bincount(model.population.jurisdiction).tolist() == [1000, 1000]
    assert np.bincount(model.market.jurisdiction).tolist() == [10, 10]
    assert [r.policy.regime for r in model.regulators] == ["rules_based", "laissez_faire"]
    assert model.regulators[1].policy.penalty == 0.002  # the regime's value
    assert model.regulators[0].policy.penalty == 0.05  # the scenario's override
    model.run()
    table = model.jurisdiction_table()
    last = table[table.tick == model.tick]
    series = model.timeseries().iloc[-1]
    assert last.user_losses_cum.sum() == pytest.approx(series.user_losses_cum, rel=1e-9)
    assert last.platforms_active.sum() == series.platforms_active
    assert last.aum.sum() == pytest.approx(series.aum_total, rel=1e-9)
    assert table.groupby("tick").enforcement_actions.sum().tolist() == (
        model.timeseries().enforcement_actions.astype(int).tolist()
    )


def test_each_regulator_supervises_only_its_own_licensees(tmp_path):
    model = _run_world(tmp_path, TWO.format(service="passport"), "ticks=80")
    actions = [e for e in model.event_log if "regulator" in e]
    assert {e["type"] for e in actions} >= {"penalty"}
    for event in actions:
        assert model.market.jurisdiction[event["platform"]] == event["regulator"], event
    by = model.jurisdiction_table().groupby("jurisdiction").inspections.sum()
    assert by["strict"] > 5 * max(by["lax"], 1)


def test_home_only_keeps_residents_at_home_and_passports_let_them_cross(tmp_path):
    crossed = {}
    for service in ("home_only", "passport"):
        model = _run_world(tmp_path, TWO.format(service=service), "ticks=30")
        pop, licence = model.population, model.market.jurisdiction
        held = pop.platform >= 0
        abroad = held & (licence[np.where(held, pop.platform, 0)] != pop.jurisdiction[:, None])
        crossed[service] = int(abroad.sum())
    assert crossed["home_only"] == 0
    assert crossed["passport"] > 100


def test_a_strict_regulator_has_fewer_violations_than_a_lax_one_over_seeds(tmp_path):
    gaps = []
    for seed in range(5):
        model = _run_world(
            tmp_path,
            TWO.format(service="home_only"),
            "platforms.violation_temptation=0.3",
            "ticks=120",
            seed=seed,
        )
        rate = model.jurisdiction_table().groupby("jurisdiction").violation_rate.mean()
        gaps.append(rate["lax"] - rate["strict"])
    assert min(gaps) > 0.02, gaps


def test_education_reaches_only_the_educating_jurisdiction(tmp_path):
    text = TWO.format(service="passport").replace(
        "regulator: {penalty: 0.05, inspection_rate: 0.2}",
        "regulator: {penalty: 0.05, education_rate: 0.05}",
    )
    model = _world(tmp_path, text, "ticks=10")
    start = model.population.literacy.copy()
    model.run()
    gain = model.population.literacy - start
    home = model.population.jurisdiction
    assert (gain[home == 0] > 0).all()
    assert (gain[home == 1] == 0).all()  # laissez_faire educates no one


def test_money_is_conserved_across_jurisdictions(tmp_path):
    model = _world(tmp_path, TWO.format(service="home_only"), "platforms=laggard")
    check_every_tick(model, 40)


def test_assign_meets_shares_to_one_item():
    rng = np.random.default_rng(3)
    for n in (1, 7, 100, 1001):
        labels = jurisdictions.assign([0.2, 0.5, 0.3], n, rng)
        counts = np.bincount(labels, minlength=3)
        assert counts.sum() == n
        assert np.all(np.abs(counts - np.array([0.2, 0.5, 0.3]) * n) < 1.0)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("user_share: 0.5\n    platform_share: 0.5\n    regime: laissez", "user_share: 0.6\n"
          "    platform_share: 0.5\n    regime: laissez"), "user_share"),
        (("name: lax", "name: strict"), "name"),
        (("regime: laissez_faire", "regime: nowhere"), "regime"),
        (("inspection_rate: 0.2", "inspection_rte: 0.2"), "inspection_rte"),
        (("penalty: 0.05", "penalty: 5"), "penalty"),
        (("service: passport", "service: everywhere"), "service"),
    ],
)  # fmt: skip
def test_bad_jurisdictions_are_refused_naming_the_key(tmp_path, change, key):
    text = TWO.format(service="passport").replace(*change)
    with pytest.raises(ConfigError) as info:
        _world(tmp_path, text)
    assert key in str(info.value)


def test_a_jurisdictions_regime_is_not_overridden_on_the_command_line():
    with pytest.raises(ConfigError, match="regime is set in the scenario file"):
        compose_config(["scenario.jurisdictions.0.regime=laissez_faire"])


def test_a_run_writes_its_jurisdictions_table(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "two.yaml").write_text(TWO.format(service="home_only"))
    env = {**os.environ, "TRUSTSIM_SCENARIO_PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "scenario=two", "population.n_users=300", "ticks=6",
         "output.plot=false", "hydra.run.dir=run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(tmp_path / "run" / "jurisdictions.parquet")
    assert len(table) == 2 * 7 and set(table.jurisdiction) == {"strict", "lax"}


# --- regulatory arbitrage --------------------------------------------------------------------

ARBITRAGE = ("platforms=laggard", "ticks=60")


def _moves(model: TrustModel) -> list[dict]:
    return [e for e in model.event_log if e["type"] == "relocation"]


def test_platforms_move_toward_the_lax_regime_when_its_advantage_is_large(tmp_path):
    text = TWO.format(service="passport") + "  relocation_rate: 0.2\n  relocation_cost: 0.01\n"
    moved_to_lax = moved_to_strict = 0
    for seed in range(3):
        model = _world(tmp_path, text, *ARBITRAGE, seed=seed)
        start = int((model.market.jurisdiction == 1).sum())
        model.run()
        moves = _moves(model)
        moved_to_lax += sum(e["destination"] == 1 for e in moves)
        moved_to_strict += sum(e["destination"] == 0 for e in moves)
        assert all(e["saving"] * 3.0 > e["cost"] - 1e-9 for e in moves)
        assert int((model.market.jurisdiction == 1).sum()) >= start
    assert moved_to_lax >= 5 and moved_to_strict == 0, (moved_to_lax, moved_to_strict)


def test_no_platform_moves_when_the_rules_are_the_same(tmp_path):
    same = TWO.format(service="passport").replace("regime: laissez_faire", "regime: rules_based")
    same = same.replace("regulator: {penalty: 0.05, inspection_rate: 0.2}", "regulator: {}")
    text = same + "  relocation_rate: 1.0\n  relocation_cost: 0.0\n"
    model = _run_world(tmp_path, text, *ARBITRAGE)
    assert _moves(model) == []


def test_a_move_that_does_not_pay_for_itself_is_not_made(tmp_path):
    text = TWO.format(service="passport") + "  relocation_rate: 1.0\n  relocation_cost: 1000.0\n"
    model = _run_world(tmp_path, text, *ARBITRAGE)
    assert _moves(model) == []


def test_money_is_conserved_when_platforms_relocate(tmp_path):
    text = TWO.format(service="passport") + "  relocation_rate: 0.3\n  relocation_cost: 0.05\n"
    model = _world(tmp_path, text, "platforms=laggard")
    check_every_tick(model, 40)
    assert _moves(model)


def test_news_from_abroad_weighs_on_system_trust_with_its_weight(tmp_path):
    """Failures among the lax jurisdiction's licensees: the strict one's residents lose
    more system trust the more they hear of abroad (same seeds, paired)."""
    text = TWO.format(service="home_only") + "  foreign_news_weight: WEIGHT\n"
    gaps = []
    for seed in range(4):
        trust = {}
        for w in (0.0, 1.0):
            model = _world(
                tmp_path,
                text.replace("WEIGHT", str(w)),
                "platforms.fraud_share=0.3",
                "ticks=80",
                seed=seed,
            )
            model.run()
            table = model.jurisdiction_table()
            trust[w] = table[table.jurisdiction == "strict"].institutional_trust_mean.mean()
        gaps.append(trust[0.0] - trust[1.0])
    assert min(gaps) > 0.0 and np.mean(gaps) > 0.005, gaps


# --- cooperation between regulators ----------------------------------------------------------


def test_sharing_early_warnings_lowers_losses_from_cross_border_frauds(tmp_path):
    """A strict regulator's RegTech sees the lax jurisdiction's frauds serving its residents;
    passed on, the flags let the licensing regulator wind them down before they collapse."""
    watchful = TWO.format(service="passport").replace(
        "regulator: {penalty: 0.05, inspection_rate: 0.2}",
        "regulator: {penalty: 0.05, inspection_rate: 0.2, early_warning: 0.8,"
        " detection_accuracy: 0.9}",
    )
    text = watchful + "  info_sharing: SHARE\n  info_delay: 2\n"
    losses = {0.0: 0.0, 1.0: 0.0}
    for seed in range(6):
        for share in losses:
            model = _run_world(
                tmp_path, text.replace("SHARE", str(share)), "platforms.fraud_share=0.3",
                "platforms.fraud_drawdown=0.03", "ticks=120", seed=seed,
            )  # fmt: skip
            losses[share] += float(_at_end(model, "strict").user_losses_cum)
            flags = [e for e in model.event_log if e["type"] == "shared_flag"]
            assert all(e["origin"] == 0 and e["destination"] == 1 for e in flags)
            if share == 0.0:
                assert not flags
    assert losses[1.0] < 0.5 * losses[0.0], losses


# --- the library's cross-border scenarios ----------------------------------------------------


def test_harmonisation_brings_the_lax_rules_to_the_strict_ones_and_stops_the_moves():
    model = TrustModel(compose_config(["scenario=harmonisation", "population.n_users=800",
                                       "ticks=150", "seed=1"]))  # fmt: skip
    strict, lax = (r.policy for r in model.regulators)
    assert lax.penalty == 0.002 and lax.regime == "laissez_faire"
    model.run()
    harmonised = [
        "penalty",
        "inspection_rate",
        "detection_accuracy",
        "disclosure_mandate",
        "custody_requirement",
        "early_warning",
        "complaint_response",
        "news_reach",
    ]
    for key in harmonised:
        assert getattr(lax, key) == pytest.approx(getattr(strict, key)), key
    # Once the rules are the same, no licence moves.
    assert not [e for e in model.event_log if e["type"] == "relocation" and e["tick"] >= 104]


def test_an_event_naming_a_jurisdiction_that_does_not_exist_is_refused():
    with pytest.raises(ConfigError, match=r"scenario.events\[0\].jurisdiction"):
        compose_config(["scenario=harmonisation", "scenario.events.0.jurisdiction=nowhere"])
    with pytest.raises(ConfigError, match="one jurisdiction"):
        compose_config(["scenario.events=[{tick:2,type:policy_shift,jurisdiction:lax,"
                        "changes:{penalty:0.1}}]"])  # fmt: skip


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.9])
def test_a_set_share_of_ties_crosses_borders(share):
    from sim.network import watts_strogatz, with_cross_share

    rng = np.random.default_rng(5)
    adj = watts_strogatz(3000, 10, 0.1, rng)
    group = jurisdictions.assign([0.3, 0.7], 3000, rng)
    rewired = with_cross_share(adj, group, share, rng)
    u, v = sp_triu_edges(rewired)
    assert abs(np.mean(group[u] != group[v]) - share) < 0.02
    assert abs(u.size - adj.nnz / 2) < 0.02 * adj.nnz / 2  # ties are moved, not lost
    assert (rewired != rewired.T).nnz == 0 and rewired.diagonal().sum() == 0


def sp_triu_edges(adj):
    import scipy.sparse as sp

    coo = sp.triu(adj, k=1).tocoo()
    return coo.row, coo.col


def test_the_model_builds_its_network_with_the_tie_share(tmp_path):
    text = TWO.format(service="passport") + "  tie_share: 0.05\n"
    model = _world(tmp_path, text, "ticks=2")
    u, v = sp_triu_edges(model.network.adjacency)
    home = model.population.jurisdiction
    assert abs(np.mean(home[u] != home[v]) - 0.05) < 0.02


def test_the_report_draws_jurisdictions_side_by_side(tmp_path):
    import subprocess
    import sys

    from sim.report import write_report

    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "-m", "scenario=cross_border_arbitrage,baseline",
         "seed=0,1", "population.n_users=300", "ticks=8", "output.plot=false",
         "hydra.sweep.dir=sw"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = write_report(tmp_path / "sw")
    names = {p.name for p in out.glob("jurisdiction_*.png")}
    assert {"jurisdiction_trust_mean.png", "jurisdiction_user_losses_cum.png"} <= names
    page = (out / "index.html").read_text()
    assert "trust_mean by jurisdiction" in page
    # A sweep without jurisdictions draws none (and a rerun removes stale ones).
    (tmp_path / "sw2").mkdir()
    plain = subprocess.run(
        [sys.executable, "-m", "sim.cli", "-m", "seed=0,1", "population.n_users=300", "ticks=4",
         "output.plot=false", "hydra.sweep.dir=sw2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert not list(write_report(tmp_path / "sw2").glob("jurisdiction_*.png"))


def test_the_platform_table_says_where_each_is_licensed_with_several(tmp_path):
    text = TWO.format(service="passport") + "  relocation_rate: 0.3\n  relocation_cost: 0.01\n"
    model = _run_world(tmp_path, text, *ARBITRAGE)
    table = model.platform_table()
    assert _moves(model)
    for move in _moves(model):
        rows = table[table.platform == move["platform"]].set_index("tick").jurisdiction
        assert rows[move["tick"]] == move["destination"]
        assert rows[move["tick"] - 1] == move["origin"]
    assert "jurisdiction" not in TrustModel(compose_config(["ticks=2"])).platform_table()


def test_joint_inspections_cut_violations_at_the_lax_regulators_licensees(tmp_path):
    text = TWO.format(service="passport") + "  joint_inspections: JOINT\n"
    for seed in range(3):
        rate, joint_finds = {}, {}
        for joint in (0.0, 0.3):
            model = _run_world(
                tmp_path, text.replace("JOINT", str(joint)), "platforms.violation_temptation=0.3",
                "platforms.fraud_share=0.2", "ticks=120", seed=seed,
            )  # fmt: skip
            table = model.jurisdiction_table()
            rate[joint] = table[table.jurisdiction == "lax"].violation_rate.mean()
            joint_finds[joint] = [e for e in model.event_log if e.get("by") == "joint_inspection"]
        assert rate[0.3] < rate[0.0] - 0.02, (seed, rate)
        assert not joint_finds[0.0] and joint_finds[0.3]


@pytest.mark.parametrize("shared", [False, True])
def test_a_blacklist_is_each_jurisdictions_own_unless_shared(tmp_path, shared):
    """Listed by one regulator: its residents see no reputation; others see it only when
    the blacklist is shared, and a listed platform cannot flee to where it is listed."""
    both = TWO.format(service="passport").replace(
        "regulator: {penalty: 0.05, inspection_rate: 0.2}",
        "regulator: {penalty: 0.05, inspection_rate: 0.2, blacklist: true}",
    )
    text = both + f"  shared_blacklist: {str(shared).lower()}\n"
    text += "  relocation_cost: 0.0\n"
    model = _world(tmp_path, text, "ticks=5")
    model.step()
    market = model.market
    j = int(np.flatnonzero(market.is_open & (market.jurisdiction == 0))[0])
    model.regulators[0]._blacklist(market, j)
    assert market.listed_in(0)[j] and market.blacklisted[j]
    assert bool(market.listed_in(1)[j]) == shared
    assert market.reputation(0)[j] == 0.0
    assert (market.reputation(1)[j] == 0.0) == shared
    fines = np.array([r.expected_penalty() for r in model.regulators])
    border = dataclasses.replace(model.cfg.scenario.cross_border, relocation_rate=1.0)
    cfg = dataclasses.replace(
        model.cfg, scenario=dataclasses.replace(model.cfg.scenario, cross_border=border)
    )
    jurisdictions.relocate(market, market.policies, fines, cfg, np.random.default_rng(0))
    # The lax side's rules are cheaper for everyone: the listed platform moves there
    # unless the blacklist follows it.
    assert market.jurisdiction[j] == (0 if shared else 1)


# --- recognition of each other's sandbox ----------------------------------------------------


def test_a_sandbox_admission_serves_abroad_only_when_recognised():
    licence = np.array([0, 1, 0, 1])
    boxed = np.array([False, False, True, True])
    licensed_home = np.array([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=bool)  # licence == row
    everywhere = np.ones((2, 4), dtype=bool)
    for rule, licences in (("passport", everywhere), ("home_only", licensed_home)):
        plain = jurisdictions.serves(licence, 2, rule)
        assert (plain == licences).all()
        alone = jurisdictions.serves(licence, 2, rule, boxed, recognition=False)
        assert (alone[:, ~boxed] == licences[:, ~boxed]).all()
        assert (alone[:, boxed] == licensed_home[:, boxed]).all()
        recognised = jurisdictions.serves(licence, 2, rule, boxed, recognition=True)
        assert (recognised[:, ~boxed] == licences[:, ~boxed]).all()
        assert recognised[:, boxed].all()


def _sandboxed_abroad(model: TrustModel, first: int) -> tuple[float, float]:
    """Money of residents abroad, and of all, in the cohort while it is in the sandbox."""
    pop, market = model.population, model.market
    slot = np.maximum(pop.platform, 0)
    boxed = (pop.platform >= first) & market.in_sandbox[slot]
    abroad = boxed & (market.jurisdiction[slot] != pop.jurisdiction[:, None])
    return float(pop.balance[abroad].sum()), float(pop.balance[boxed].sum())


@pytest.mark.parametrize("service", ["passport", "home_only"])
def test_recognition_lets_a_sandbox_test_take_in_residents_abroad(tmp_path, service):
    """A cohort in the lax side's sandbox, under its terms and review: residents of the
    strict side hold none of its money unless the sandboxes are recognised, and then the
    cohort grows larger, in every seed."""
    base = TWO.format(service=service).replace(
        "regime: laissez_faire", "regime: laissez_faire\n    regulator: {sandbox_monitoring: 0.5}"
    )
    cohort = "events:\n  - {tick: 5, type: sandbox, jurisdiction: lax, entrants: 4}\n"
    for seed in range(3):
        held = {}
        for recognition in (False, True):
            text = base + f"  sandbox_recognition: {str(recognition).lower()}\n" + cohort
            model = _world(tmp_path, text, "ticks=40", seed=seed)
            first = len(model.market)
            abroad = total = 0.0
            for _ in range(40):
                model.step()
                a, t = _sandboxed_abroad(model, first)
                abroad, total = max(abroad, a), max(total, t)
            cohort_rows = np.arange(first, len(model.market))
            assert cohort_rows.size == 4
            assert (model.market.jurisdiction[cohort_rows] == 1).all()
            assert (model.market.sandbox_monitoring[cohort_rows] == 0.5).all()
            if recognition:
                assert abroad > 0.0, (seed, service)
            else:
                assert abroad == 0.0, (seed, service)
            held[recognition] = total
        assert held[True] > 1.2 * held[False], (seed, service, held)


def test_entrants_of_an_event_are_licensed_where_it_says(tmp_path):
    text = TWO.format(service="passport") + (
        "events:\n  - {tick: 2, type: platform_entry, count: 3, jurisdiction: lax}\n"
        "  - {tick: 3, type: platform_entry, count: 2}\n"
    )
    model = _world(tmp_path, text, "ticks=4")
    first = len(model.market)
    model.run()
    assert model.market.jurisdiction[first:].tolist() == [1, 1, 1, 0, 0]
    scheduled = [e for e in model.event_log if e["type"] == "scheduled"]
    assert [e.get("jurisdiction") for e in scheduled] == ["lax", None]
