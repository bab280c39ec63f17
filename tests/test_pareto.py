"""Multi-objective policy search (issue 13): the Pareto front, and what supervision costs."""

import json
import subprocess
import sys

import numpy as np
import optuna
import pandas as pd
import pytest

from sim.compose import compose_config
from sim.model import TrustModel
from sim.report import main
from sim.report.pareto import dominated, trials_table


def test_dominated_rows_by_hand():
    values = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 2.0], [3.0, 3.0], [0.5, 0.5]])
    maximize = np.array([True, False])  # the first higher, the second lower
    # (1, 1), (2, 2), (3, 3) and (0.5, 0.5) trade one against the other; (1, 2) is worse
    # than (1, 1) in the second and no better in the first.
    assert dominated(values, maximize).tolist() == [False, False, True, False, False]


def test_the_front_is_optunas_best_trials_and_no_trial_dominates_it():
    study = optuna.create_study(directions=["maximize", "minimize"])
    rng = np.random.default_rng(0)
    for _ in range(40):
        trial = study.ask()
        study.tell(trial, [float(rng.random()), float(rng.random())])
    objectives = {"trust_mean": "maximize", "user_losses_cum": "minimize"}
    table = trials_table(study, objectives)
    values = table[list(objectives)].to_numpy()
    independent = ~dominated(values, np.array([True, False]))
    assert table["pareto"].tolist() == independent.tolist()


def test_supervision_cost_adds_inspections_and_education():
    cfg = compose_config(
        ["population.n_users=500", "ticks=30", "seed=1", "regulator.early_warning=0"]
    )
    model = TrustModel(cfg)
    literacy = [model.population.literacy.astype(np.float64).sum()]
    for _ in range(cfg.ticks):
        model.step()
        literacy.append(model.population.literacy.astype(np.float64).sum())
    ts = model.timeseries()
    taught = np.diff(literacy)  # education is the only change of literacy in this world
    assert (taught > 0).all()
    by_hand = ts["inspections"].iloc[1:].to_numpy() + cfg.regulator.education_cost * taught
    # Literacy is float32: a tick's gain summed in float64 differs in the sixth digit.
    np.testing.assert_allclose(ts["supervision_cost"].iloc[1:], by_hand.cumsum(), rtol=1e-4)


def test_supervision_cost_counts_early_warning_per_open_licensee():
    cfg = compose_config(
        [
            "population.n_users=500",
            "ticks=2",
            "seed=1",
            "regulator.early_warning=0.5",
            "regulator.education_rate=0",
            "platforms.fraud_share=0",
        ]
    )
    model = TrustModel(cfg)
    model.run()
    ts = model.timeseries()
    assert (ts["platforms_active"] == cfg.platforms.count).all()  # all open, all watched
    watch = cfg.regulator.monitoring_cost * 0.5 * cfg.platforms.count
    by_hand = (ts["inspections"].iloc[1:].to_numpy() + watch).cumsum()
    np.testing.assert_allclose(ts["supervision_cost"].iloc[1:], by_hand, rtol=1e-9)


def test_fines_cost_the_regulator_nothing_and_inspections_cost():
    def cost(*overrides):
        base = ["population.n_users=400", "ticks=40", "seed=2", *overrides]
        model = TrustModel(compose_config(base))
        model.run()
        return model.timeseries()["supervision_cost"].iloc[-1]

    assert cost("regulator.penalty=0.1") == pytest.approx(cost("regulator.penalty=0.0"), rel=0.25)
    assert cost("regulator.inspection_rate=0.3") > 3 * cost("regulator.inspection_rate=0.0")


def _search(tmp_path, *overrides):
    args = [
        sys.executable,
        "-m",
        "sim.cli",
        "-m",
        "hydra/sweeper=pareto",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.batch=3",
        "hydra.sweeper.replicates=2",
        "hydra.sweeper.population_size=3",
        "hydra.sweeper.params={regulator.inspection_rate:[0,0.3],regulator.penalty:[0,0.1]}",
        "population.n_users=200",
        "ticks=10",
        "output.plot=false",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        *overrides,
    ]
    return subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=300)


@pytest.mark.slow
def test_a_search_writes_its_pareto_front_and_resumes(tmp_path):
    done = _search(tmp_path)
    assert done.returncode == 0, done.stderr
    sweep = tmp_path / "sweep"
    trials = pd.read_parquet(sweep / "trials.parquet")
    assert len(trials) == 6 and (trials.state == "complete").all()
    names = ["trust_mean", "user_losses_cum", "supervision_cost"]
    # A trial's objectives are the means of its two runs' final indicators.
    for _, trial in trials.iterrows():
        finals = []
        for job in (2 * trial.trial, 2 * trial.trial + 1):
            summary = json.loads((sweep / str(job) / "summary.json").read_text())
            finals.append([summary["final"][n] for n in names])
            overrides = (sweep / str(job) / ".hydra" / "overrides.yaml").read_text()
            assert f"regulator.penalty={trial['regulator.penalty']!r}" in overrides
        np.testing.assert_allclose(trial[names].to_numpy(float), np.mean(finals, axis=0))
    front = pd.read_csv(sweep / "pareto.csv")
    independent = ~dominated(trials[names].to_numpy(float), np.array([True, False, False]))
    assert sorted(front.trial) == sorted(trials.trial[independent])
    assert (sweep / "pareto.png").is_file()
    assert main([str(sweep)]) == 0
    assert "Pareto front" in (sweep / "report" / "index.html").read_text()
    # The same command again: the study is complete, nothing runs again.
    mtime = (sweep / "0" / "summary.json").stat().st_mtime_ns
    again = _search(tmp_path)
    assert again.returncode == 0, again.stderr
    assert (sweep / "0" / "summary.json").stat().st_mtime_ns == mtime
    assert len(pd.read_parquet(sweep / "trials.parquet")) == 6


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("hydra.sweeper.objectives={trusty:maximize}", "hydra.sweeper.objectives='trusty'"),
        ("hydra.sweeper.objectives=[trust_mean]", "a mapping {indicator: maximize|minimize}"),
        ("hydra.sweeper.objectives={trust_mean:up}", "allowed maximize or minimize"),
        ("hydra.sweeper.sampler=cmaes", "allowed one of nsga2, tpe, random"),
    ],
)
def test_bad_searches_are_refused_before_any_run(tmp_path, override, message):
    done = _search(tmp_path, override)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
