"""Scenario discovery (issue 13): PRIM finds a failing region that is known."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.report import main
from sim.report.collect import ReportError, collect_runs
from sim.report.discovery import choose_box, condition, discover
from sim.report.synthetic import write_run

# The failing region: low fines and rare inspections; literacy and the regime do nothing.
PENALTY_EDGE, INSPECTION_EDGE = 0.03, 0.1


def _sweep(folder: Path, n: int = 300, seed: int = 0, noise: float = 0.0) -> np.ndarray:
    """A sampled sweep whose runs lose 3e6 exactly inside the region (else 1e5)."""
    rng = np.random.default_rng(seed)
    failing = np.zeros(n, dtype=bool)
    for i in range(n):
        overrides = {
            "regulator.penalty": float(rng.uniform(0.0, 0.1)),
            "regulator.inspection_rate": float(rng.uniform(0.0, 0.3)),
            "population.literacy_mean": float(rng.uniform(0.0, 1.0)),
            "regulator": str(rng.choice(["rules_based", "laissez_faire"])),
            "seed": i % 3,
            "sample": i // 3,
        }
        inside = (
            overrides["regulator.penalty"] < PENALTY_EDGE
            and overrides["regulator.inspection_rate"] < INSPECTION_EDGE
        )
        failing[i] = inside != (rng.random() < noise)
        write_run(
            folder / str(i),
            overrides,
            ticks=3,
            columns=["tick", "trust_mean", "user_losses_cum"],
            rng=rng,
        )
        summary_path = folder / str(i) / "summary.json"
        summary = json.loads(summary_path.read_text())
        summary["final"]["user_losses_cum"] = 3e6 if failing[i] else 1e5
        summary_path.write_text(json.dumps(summary))
    return failing


def test_the_condition_reads_final_indicators_and_swept_keys():
    runs = pd.DataFrame(
        {
            "final_trust_mean": [0.4, 0.6, 0.3],
            "final_platforms_active": [5, 12, 20],
            "regulator.penalty": [0.1, 0.0, 0.05],
        }
    )
    assert condition("trust_mean < 0.5", runs).tolist() == [True, False, True]
    both = "trust_mean < 0.5 and platforms_active < 10"
    assert condition(both, runs).tolist() == [True, False, False]
    assert condition("not regulator.penalty > 0.01 or 0.55 < trust_mean <= 0.6", runs).tolist() == [
        False,
        True,
        False,
    ]
    for bad in ("trust_mean <", "__import__('os')", "trust_mean + 1", "trust_mean < 'a'"):
        with pytest.raises(ReportError, match="--discover"):
            condition(bad, runs)
    with pytest.raises(ReportError, match="unknown name trusty"):
        condition("trusty > 1", runs)


def test_prim_recovers_a_known_failing_region(tmp_path):
    failing = _sweep(tmp_path)
    found = discover(collect_runs(tmp_path), "user_losses_cum > 2e6")
    assert found.cases == failing.sum() and found.runs == len(failing)
    row = found.trajectory.loc[found.chosen]
    assert row["coverage"] >= 0.9 and row["density"] >= 0.9
    box = found.box.set_index("input")
    assert set(box.index) == {"regulator.penalty", "regulator.inspection_rate"}
    upper = {k: float(box.loc[k, "in the box"].strip("[]").split(",")[1]) for k in box.index}
    assert upper["regulator.penalty"] == pytest.approx(PENALTY_EDGE, abs=0.006)
    assert upper["regulator.inspection_rate"] == pytest.approx(INSPECTION_EDGE, abs=0.02)
    assert (box["quasi-p upper"] < 1e-6).all()
    scores = found.scores.set_index("input")["score"]
    assert scores["regulator.penalty"] > 2 * scores["population.literacy_mean"]
    assert scores["regulator.inspection_rate"] > 2 * scores["regulator"]
    # CART: some leaf is the region, dense in cases.
    leaf = found.cart.sort_values("density").iloc[-1]
    assert leaf["density"] >= 0.9 and "regulator.penalty" in leaf["box"]


def test_prim_finds_the_region_through_noise(tmp_path):
    """A twentieth of the runs flipped at random: the box is still the region."""
    _sweep(tmp_path, n=450, seed=2, noise=0.05)
    found = discover(collect_runs(tmp_path), "user_losses_cum > 2e6")
    box = found.box.set_index("input")
    assert {"regulator.penalty", "regulator.inspection_rate"} <= set(box.index)
    row = found.trajectory.loc[found.chosen]
    assert row["density"] > 0.6 and row["coverage"] >= 0.5


def test_the_chosen_box_is_the_densest_keeping_half_the_cases():
    trajectory = pd.DataFrame(
        {
            "coverage": [1.0, 0.9, 0.6, 0.5, 0.3],
            "density": [0.1, 0.3, 0.7, 0.7, 0.9],
            "res_dim": [0, 1, 2, 1, 3],
            "mass": [1.0, 0.5, 0.2, 0.18, 0.1],
        }
    )
    assert choose_box(trajectory) == 3  # as dense as box 2, with fewer restrictions
    assert choose_box(trajectory, min_coverage=0.95) == 0


def test_the_report_writes_scenario_discovery(tmp_path, capsys):
    _sweep(tmp_path, n=120)
    assert main([str(tmp_path), "--discover", "user_losses_cum > 2e6"]) == 0
    out = tmp_path / "report"
    for name in (
        "box.csv",
        "trajectory.csv",
        "cart.csv",
        "scores.csv",
        "prim_tradeoff.png",
        "cart_tree.png",
        "feature_scores.png",
    ):
        assert (out / f"discover_1_{name}").is_file(), name
    page = (out / "index.html").read_text()
    assert "Scenario discovery: <code>user_losses_cum &gt; 2e6</code>" in page
    # Asked for no discovery, the report removes the old one's files.
    assert main([str(tmp_path)]) == 0
    assert not list(out.glob("discover_*"))
    capsys.readouterr()
    assert main([str(tmp_path), "--discover", "losses > 1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("trustsim-report: error: --discover 'losses > 1': unknown name losses")
    assert len(err.splitlines()) == 1


def test_nothing_to_tell_apart_is_said_not_failed(tmp_path):
    _sweep(tmp_path, n=30)
    found = discover(collect_runs(tmp_path), "user_losses_cum > 1e9")
    assert found.cases == 0 and "none of the 30" in found.note
