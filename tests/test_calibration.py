"""The record, the distance, and the calibrate sweeper end to end (tiny budgets)."""

import datetime
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from sim import calibration
from sim.config import CalibrationConfig
from sim.output import read_json

# The figures of ../shared/REFERENCES.md, as the sources it names give them.
WDZJ_YEAR_END = {2013: 800, 2014: 1575, 2015: 2595, 2016: 2448, 2017: 1931, 2018: 1021, 2019: 343}
REGULATOR = {
    "2019-09-30": 462,
    "2019-12-31": 248,
    "2020-03-31": 139,
    "2020-06-30": 29,
    "2020-08-31": 15,
    "2020-11-05": 3,
    "2020-11-15": 0,
}
TINY = [
    "+experiment=calibrate_china_p2p",
    "population.n_users=300",
    "hydra.sweeper.replicates=2",
    "hydra.sweeper.batch=2",
]


def test_shipped_counts_match_their_sources():
    table = calibration.platform_counts()
    assert table["source"].str.len().min() > 10  # every row names its source
    wdzj = table[table["series"] == "wdzj_first_vintage"]
    year_end = {
        d.year: v
        for d, v in zip(wdzj["date"], wdzj["operating_platforms"], strict=True)
        if d.month == 12
    }
    assert year_end == WDZJ_YEAR_END
    regulator = table[table["series"] == "regulator"]
    assert {
        d.isoformat(): v
        for d, v in zip(regulator["date"], regulator["operating_platforms"], strict=True)
    } == REGULATOR
    market = pd.read_csv(calibration.data_dir() / "china_p2p" / "market.csv")
    assert market.set_index("year").loc[2018, "outstanding_bn_yuan"] == pytest.approx(788.97)
    assert market.set_index("year").loc[2016, "active_investors_m"] == pytest.approx(13.75)
    assert (calibration.data_dir() / "china_p2p" / "SOURCES.md").read_text().count("Vintage") == 1


def test_the_record_is_one_series_a_date_and_leaves_out_the_end_state():
    points = calibration.record("china_p2p")
    assert points["date"].is_unique
    assert points["date"].is_monotonic_increasing
    by_date = dict(zip(points["date"], points["value"], strict=True))
    assert by_date[datetime.date(2015, 12, 31)] == 2595  # WDZJ's year end, not mid-2015
    assert by_date[datetime.date(2019, 12, 31)] == 343  # WDZJ, not the regulator's 248
    assert by_date[datetime.date(2020, 6, 30)] == 29
    assert 0 not in points["value"].tolist()  # "none left" is the scenario's input


def test_ticks_of_the_record_dates():
    start = datetime.date(2013, 1, 1)
    assert calibration.tick_of(datetime.date(2013, 12, 31), start) == 52
    assert calibration.tick_of(datetime.date(2016, 12, 31), start) == 209
    assert calibration.tick_of(datetime.date(2020, 11, 5), start) == 409


def test_distances_against_hand_computation():
    model, data = np.array([100.0, 900.0]), np.array([300.0, 300.0])
    expected = math.sqrt(((math.log(101 / 301)) ** 2 + (math.log(901 / 301)) ** 2) / 2)
    assert calibration.distance(model, data, "rmse_log") == pytest.approx(expected)
    assert calibration.distance(model, data, "nrmse") == pytest.approx(
        math.sqrt((200**2 + 600**2) / 2) / 300
    )
    assert calibration.distance(data, data, "rmse_log") == 0.0
    assert math.isnan(calibration.distance(np.array([]), np.array([]), "nrmse"))


def test_evaluate_splits_the_fit_from_the_hold_out():
    ticks = np.arange(417)
    timeseries = pd.DataFrame({"tick": ticks, "platforms_active": np.full(ticks.size, 200.0)})
    cfg = CalibrationConfig(target="china_p2p", platform_scale=10.0, fit_until="2016-12-31")
    result = calibration.evaluate(timeseries, cfg)
    fit = [p for p in result["points"] if p["fit"]]
    held = [p for p in result["points"] if not p["fit"]]
    assert [p["date"][:4] for p in fit] == ["2013", "2014", "2015", "2016"]
    assert all(p["model"] == 2000.0 for p in result["points"])
    expected = calibration.distance([2000.0] * 4, [p["record"] for p in fit], "rmse_log")
    assert result["distance"] == pytest.approx(expected)
    assert result["distance_holdout"] == pytest.approx(
        calibration.distance([2000.0] * len(held), [p["record"] for p in held], "rmse_log")
    )
    # A run shorter than the record leaves the later dates out.
    short = calibration.evaluate(timeseries[timeseries["tick"] <= 160], cfg)
    assert [p["date"][:4] for p in short["points"]] == ["2013", "2014", "2015"]


def trustsim(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _check_trials_against_runs(sweep: Path, n_trials: int, replicates: int) -> pd.DataFrame:
    """Each trial's value is the mean of its runs' own distances (read back from the runs)."""
    trials = pd.read_parquet(sweep / "trials.parquet")
    assert len(trials) == n_trials and (trials["state"] == "complete").all()
    for row in trials.itertuples():
        summaries = [
            read_json(sweep / str(row.trial * replicates + r) / "summary.json")
            for r in range(replicates)
        ]
        assert [s["config"]["seed"] for s in summaries] == list(range(replicates))
        assert {s["config"]["sample"] for s in summaries} == {row.trial}
        distances = [s["calibration"]["distance"] for s in summaries]
        assert row.distance == pytest.approx(np.mean(distances))
        assert row.se == pytest.approx(np.std(distances, ddof=1) / math.sqrt(replicates))
    return trials


@pytest.mark.slow
def test_calibration_end_to_end_and_resumed(tmp_path):
    """A tiny calibration writes its results; started again with more trials it resumes."""
    first = trustsim(*TINY, "hydra.sweeper.n_trials=2", "hydra.sweep.dir=cal", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    sweep = tmp_path / "cal"
    _check_trials_against_runs(sweep, 2, 2)
    result = read_json(sweep / "calibration.json")
    assert result["target"] == "china_p2p" and result["seeds"] == [0, 1]
    assert set(result["params"]) == set(result["best"]["params"])
    for key, bounds in result["params"].items():
        spread = result["near_optimal"]["params"][key]
        assert bounds["low"] <= spread["min"] <= spread["max"] <= bounds["high"]
    assert (sweep / "calibration.png").stat().st_size > 10_000
    assert "jobs done" in first.stdout  # progress
    mtimes = {p: (p / "summary.json").stat().st_mtime_ns for p in sweep.iterdir() if p.is_dir()}
    # Started again with a larger budget: the two trials are kept, two more are asked for.
    again = trustsim(*TINY, "hydra.sweeper.n_trials=4", "hydra.sweep.dir=cal", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    _check_trials_against_runs(sweep, 4, 2)
    assert all((p / "summary.json").stat().st_mtime_ns == t for p, t in mtimes.items())
    # Another search space into the same folder is refused, before anything runs.
    other = trustsim(
        *TINY,
        "hydra.sweeper.n_trials=5",
        "hydra.sweeper.replicates=3",
        "hydra.sweep.dir=cal",
        cwd=tmp_path,
    )
    assert other.returncode == 2 and "hydra.sweep.dir" in other.stderr
    assert "Traceback" not in other.stderr


@pytest.mark.slow
def test_a_trial_left_running_by_a_killed_calibration_is_finished(tmp_path):
    """A killed run leaves a RUNNING trial: the next start runs it with its own parameters."""
    first = trustsim(*TINY, "hydra.sweeper.n_trials=1", "hydra.sweep.dir=cal", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    sweep = tmp_path / "cal"
    study = optuna.load_study(study_name="calibration", storage=f"sqlite:///{sweep / 'study.db'}")
    space = {n: d for n, d in study.trials[0].distributions.items()}
    killed = study.ask(space)  # asked, its jobs never ran: what a SIGKILL leaves
    params = dict(killed.params)
    again = trustsim(*TINY, "hydra.sweeper.n_trials=2", "hydra.sweep.dir=cal", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    study = optuna.load_study(study_name="calibration", storage=f"sqlite:///{sweep / 'study.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.trials[1].params == params
    _check_trials_against_runs(sweep, 2, 2)


def test_bad_calibration_options_fail_before_any_run(tmp_path):
    no_target = trustsim(
        "hydra/sweeper=calibrate",
        "hydra.sweeper.params={entry.pool:[0.1,1]}",
        "hydra.sweep.dir=cal",
        cwd=tmp_path,
        timeout=120,
    )
    assert no_target.returncode == 2 and "calibration.target" in no_target.stderr
    bad_key = trustsim(*TINY, "hydra.sweeper.params={entry.nope:[0,1]}", cwd=tmp_path, timeout=120)
    assert bad_key.returncode == 2 and "entry.nope" in bad_key.stderr
    sweep_seed = trustsim(*TINY, "seed=0,1", cwd=tmp_path, timeout=120)
    assert sweep_seed.returncode == 2 and "seed" in sweep_seed.stderr
    assert not any((tmp_path / "cal").glob("*/summary.json"))


@pytest.mark.slow
def test_a_calibration_gives_the_same_trials_on_every_local_launcher(tmp_path):
    """The sweeper only calls the launcher: basic, joblib, submitit (and Ray, with the [ray]
    extra) give the same study."""
    import importlib.util

    launchers = ["basic", "joblib", "submitit_local"]
    if importlib.util.find_spec("ray") and importlib.util.find_spec(
        "hydra_plugins.hydra_ray_launcher"
    ):
        launchers.append("ray_cluster")
    tables = {}
    for launcher in launchers:
        result = trustsim(
            *TINY,
            "hydra.sweeper.n_trials=2",
            f"hydra/launcher={launcher}",
            f"hydra.sweep.dir={launcher}",
            cwd=tmp_path,
        )
        assert result.returncode == 0, (launcher, result.stderr[-2000:])
        tables[launcher] = pd.read_parquet(tmp_path / launcher / "trials.parquet")
    for launcher in launchers[1:]:
        pd.testing.assert_frame_equal(tables["basic"], tables[launcher])
