"""Deep-uncertainty designs and robust policies (issue 13)."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.report import main
from sim.report.collect import ReportError, collect_runs
from sim.report.robust import parse_outcomes, robustness
from sim.report.synthetic import write_run

# trust (higher is better) and losses (lower is better) of each policy in each world,
# the mean of two seeds that straddle it by +-d.
TRUST = {"a": [0.6, 0.5, 0.7], "b": [0.5, 0.6, 0.65], "c": [0.55, 0.55, 0.55]}
LOSSES = {"a": [10.0, 50.0, 20.0], "b": [30.0, 10.0, 20.0], "c": [20.0, 20.0, 40.0]}


def _toy() -> pd.DataFrame:
    rows = []
    for policy in TRUST:
        for world in range(3):
            for seed, d in ((0, -0.01), (1, 0.01)):
                rows.append(
                    {
                        "run_id": f"{policy}{world}{seed}",
                        "status": "complete",
                        "policy": policy,
                        "sample": world,
                        "seed": seed,
                        "final_trust_mean": TRUST[policy][world] + d,
                        "final_user_losses_cum": LOSSES[policy][world] - 10 * d,
                    }
                )
    return pd.DataFrame(rows)


def test_regret_and_satisficing_match_a_hand_computation():
    runs = _toy()
    outcomes = parse_outcomes(None, runs)
    assert outcomes == [("final_trust_mean", "max"), ("final_user_losses_cum", "min")]
    found = robustness(runs, outcomes, ["trust_mean >= 0.55", "user_losses_cum <= 30"])
    table = found.table.set_index("policy")
    # Hand computation: the best trust per world is 0.6, 0.6, 0.7; the least losses 10, 10, 20.
    best_trust, least_losses = [0.6, 0.6, 0.7], [10.0, 10.0, 20.0]
    for policy in TRUST:
        trust_regret = [b - v for b, v in zip(best_trust, TRUST[policy], strict=True)]
        loss_regret = [v - b for b, v in zip(least_losses, LOSSES[policy], strict=True)]
        assert table.loc[policy, "trust_mean max regret"] == pytest.approx(max(trust_regret))
        assert table.loc[policy, "trust_mean mean regret"] == pytest.approx(np.mean(trust_regret))
        assert table.loc[policy, "user_losses_cum max regret"] == pytest.approx(max(loss_regret))
        assert table.loc[policy, "trust_mean worst"] == pytest.approx(min(TRUST[policy]))
        assert table.loc[policy, "user_losses_cum worst"] == pytest.approx(max(LOSSES[policy]))
        met = [
            t >= 0.55 and loss <= 30 for t, loss in zip(TRUST[policy], LOSSES[policy], strict=True)
        ]
        assert table.loc[policy, "satisficing share"] == pytest.approx(np.mean(met))
    # Largest trust regrets 0.1, 0.1, 0.15; loss regrets a [0, 40, 0], b [20, 0, 0],
    # c [10, 10, 20]: b has the least mean regret on losses.
    assert table["trust_mean max regret"].round(9).tolist() == [0.1, 0.1, 0.15]
    assert table["user_losses_cum mean regret"].idxmin() == "b"
    assert table.loc["a", "satisficing share"] == pytest.approx(2 / 3)
    assert found.worlds == 3


def test_only_worlds_every_policy_ran_in_count():
    runs = _toy()
    runs.loc[(runs.policy == "c") & (runs["sample"] == 2), "status"] = "failed"
    found = robustness(runs, parse_outcomes(["trust_mean"], runs))
    assert found.worlds == 2 and (found.table["worlds"] == 2).all()


def test_robust_measures_need_policies_and_worlds():
    runs = _toy()
    with pytest.raises(ReportError, match="unknown outcome"):
        parse_outcomes(["trusty:max"], runs)
    with pytest.raises(ReportError, match="max or min"):
        parse_outcomes(["trust_mean:up"], runs)
    with pytest.raises(ReportError, match="deep-uncertainty design"):
        robustness(runs.drop(columns="policy"), [])


def _trustsim(tmp_path, *overrides):
    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "-m",
        "hydra/sweeper=lhs",
        "hydra.sweeper.n=3",
        "population.n_users=200",
        "ticks=8",
        "output.plot=false",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *overrides,
    ]
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=300)


UNCERTAIN = "hydra.sweeper.uncertainties={platforms.fraud_share:[0,0.3]}"
POLICIES = (
    "hydra.sweeper.policies={strict:{regulator:rules_based,regulator.penalty:0.05},"
    "lax:{regulator:laissez_faire}}"
)


@pytest.mark.slow
def test_a_design_crosses_policies_worlds_and_seeds_and_the_report_compares_them(tmp_path):
    done = _trustsim(tmp_path, UNCERTAIN, POLICIES, "seed=0,1")
    assert done.returncode == 0, done.stderr
    sweep = tmp_path / "sweep"
    runs = collect_runs(sweep)
    assert len(runs) == 3 * 2 * 2 and (runs.status == "complete").all()
    cells = runs.groupby(["policy", "sample", "seed"]).size()
    assert len(cells) == 12 and (cells == 1).all()  # every policy x world x seed once
    strict = runs[runs.policy == "strict"]
    assert (strict["regulator.penalty"] == 0.05).all() and (strict.regulator == "rules_based").all()
    worlds = runs.groupby("sample")["platforms.fraud_share"].nunique()
    assert (worlds == 1).all()  # a world is the same for every policy and seed
    design = json.loads((sweep / "design.json").read_text())
    assert set(design["policies"]) == {"strict", "lax"}
    assert main([str(sweep), "--satisfice", "trust_mean >= 0.5"]) == 0
    robust = pd.read_csv(sweep / "report" / "robust.csv")
    assert set(robust.policy) == {"strict", "lax"} and (robust.worlds == 3).all()
    assert "Robust policies" in (sweep / "report" / "index.html").read_text()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            (UNCERTAIN, "hydra.sweeper.policies={a:{platforms.fraud_share:0.1}}"),
            "hydra.sweeper.policies.a.platforms.fraud_share=0.1: allowed a lever that is not "
            "an uncertainty",
        ),
        ((UNCERTAIN, POLICIES, "regulator.penalty=0.01"), "is set by hydra.sweeper.policies"),
        ((UNCERTAIN, "hydra.sweeper.policies=[a,b]"), "a mapping {policy name"),
        (
            (UNCERTAIN, "hydra.sweeper.policies={a:{regulator.penalty:5},b:{regulator.penalty:0}}"),
            "hydra.sweeper.policies.a.regulator.penalty=5.0: allowed a number in [0.0, 1.0]",
        ),
        (
            (UNCERTAIN, "hydra.sweeper.policies={a:{regulator.penaltyy:0.1},b:{}}"),
            "Could not override 'regulator.penaltyy'",
        ),
        (
            (UNCERTAIN, "hydra.sweeper.params={regulator.penalty:[0,0.1]}", POLICIES),
            "either uncertainties or params",
        ),
    ],
)
def test_bad_designs_are_refused_before_any_run(tmp_path, overrides, message):
    done = _trustsim(tmp_path, *overrides)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not list((tmp_path / "sweep").glob("*/summary.json"))


def test_write_run_roundtrip_has_policy_column(tmp_path):
    write_run(
        tmp_path / "0",
        {"policy": "strict", "sample": 0, "seed": 0},
        ticks=2,
        columns=["tick", "trust_mean"],
    )
    write_run(
        tmp_path / "1",
        {"policy": "lax", "sample": 0, "seed": 0},
        ticks=2,
        columns=["tick", "trust_mean"],
    )
    runs = collect_runs(tmp_path)
    assert runs.policy.tolist() == ["strict", "lax"]


def test_the_report_groups_a_design_by_policy_not_by_its_levers():
    from sim.report.collect import without_levers
    from sim.report.figures import ranking_keys

    runs = _toy()
    runs["regulator"] = runs["policy"].map({"a": "rules_based", "b": "laissez_faire", "c": "x"})
    runs["regulator.penalty"] = np.where(runs["policy"] == "a", 0.05, 0.01)  # a and c share it
    runs["other"] = runs["seed"]  # varies within a policy: kept
    assert without_levers(runs, ["regulator", "policy", "regulator.penalty", "other"]) == [
        "policy",
        "other",
    ]
    runs.attrs = {"swept": ["regulator", "policy", "sample", "seed"], "sampled": []}
    assert ranking_keys(runs) == ["policy"]
