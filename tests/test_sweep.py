"""Sweeps: launchers agree, failures are recorded without loss, a sweep resumes, progress."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from sim.compose import CONF_DIR
from sim.output import read_json
from sim.sweep import EXIT_SWEEP_FAILED, count_jobs, sweep_state

TINY = ["population.n_users=200", "ticks=15", "output.plot=false"]
TRUSTSIM = [sys.executable, "-m", "sim.cli"]


def trustsim(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [*TRUSTSIM, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_count_jobs_matches_the_basic_sweeper():
    assert count_jobs(["seed=range(3)", "platforms=balanced,laggard", "ticks=5"]) == 6
    # A command-line override replaces hydra.sweeper.params for the same key.
    assert count_jobs(["seed=range(2)"], {"seed": "range(20)", "scenario": "a,b,c"}) == 6


@pytest.mark.parametrize(
    "name",
    [
        "sandbox_vs_none",
        "rumour_rebuttal_education",
        "strategy_tournament",
        "penalty_disclosure_grid",
    ],
)
def test_experiments_compose_with_their_sweeps(name):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={name}"], return_hydra_config=True)
    params = dict(cfg.hydra.sweeper.params)
    assert "seed" in params
    assert count_jobs([], params) >= 40
    assert cfg.hydra.sweep.dir == f"multirun/{name}"


@pytest.mark.slow
def test_failed_run_is_recorded_and_the_others_complete(tmp_path):
    result = trustsim(
        "-m", *TINY, "seed=0,1", "platforms.count=20,0", "hydra.sweep.dir=sw", cwd=tmp_path
    )
    assert result.returncode == EXIT_SWEEP_FAILED, result.stderr
    assert "Traceback" not in result.stderr
    state = sweep_state(tmp_path / "sw")
    assert len(state["complete"]) == 2 and len(state["failed"]) == 2
    for folder in state["failed"]:
        status = read_json(folder / "status.json")
        assert status["status"] == "failed" and "platforms.count" in status["error"]
        assert not (folder / "summary.json").exists()
        assert f"  {folder.name}: ConfigError" in result.stderr  # the summary names it
    assert "2 runs failed" in result.stderr
    assert "jobs done" in result.stdout  # progress


@pytest.mark.slow
def test_sweep_resumes_skipping_finished_runs(tmp_path):
    args = ["-m", *TINY, "seed=range(4)", "hydra.sweep.dir=sw"]
    assert trustsim(*args, cwd=tmp_path).returncode == 0
    sweep = tmp_path / "sw"
    folders = sorted(p for p in sweep.iterdir() if p.is_dir())
    mtimes = {f: (f / "timeseries.parquet").stat().st_mtime_ns for f in folders}
    # A run killed before its summary, and a failed run: both must be redone.
    (folders[1] / "summary.json").unlink()
    (folders[2] / "summary.json").unlink()
    (folders[2] / "status.json").write_text('{"status": "failed", "error": "boom"}')
    again = trustsim(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("skipped") == 2
    assert (folders[0] / "timeseries.parquet").stat().st_mtime_ns == mtimes[folders[0]]
    assert (folders[1] / "timeseries.parquet").stat().st_mtime_ns != mtimes[folders[1]]
    assert not (folders[2] / "status.json").exists()
    assert len(sweep_state(sweep)["complete"]) == 4
    # The same folder with another config is not "the same run": it is redone.
    changed = trustsim(
        "-m", *TINY[:-1], "output.plot=true", "seed=0", "hydra.sweep.dir=sw", cwd=tmp_path
    )
    assert changed.returncode == 0 and "skipped" not in changed.stdout


@pytest.mark.slow
def test_sigkill_leaves_nothing_half_written(tmp_path):
    args = ["-m", "population.n_users=3000", "ticks=200", "output.plot=false", "seed=range(6)"]
    proc = subprocess.Popen(
        [*TRUSTSIM, *args, "hydra.sweep.dir=sw"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    sweep = tmp_path / "sw"
    deadline = time.time() + 120
    while time.time() < deadline and len(sweep_state(sweep)["complete"]) < 1:
        time.sleep(0.05)
    time.sleep(0.3)  # somewhere inside the next run
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    state = sweep_state(sweep)
    assert 1 <= len(state["complete"]) < 6
    for folder in state["complete"]:
        for name in ("timeseries.parquet", "platforms.parquet"):
            pd.read_parquet(folder / name)  # whole files only
    # Whatever was in flight has no summary, so a report ignores it; resuming finishes it.
    resumed = trustsim(*args, "hydra.sweep.dir=sw", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert len(sweep_state(sweep)["complete"]) == 6


@pytest.mark.slow
def test_launchers_give_identical_tables(tmp_path):
    common = ["-m", *TINY, "seed=3,4", "scenario=rumour", "ticks=60"]
    runs = {}
    for launcher in ("basic", "joblib", "submitit_local"):
        extra = [f"hydra/launcher={launcher}"]
        if launcher == "joblib":
            extra.append("hydra.launcher.n_jobs=2")
        result = trustsim(*common, *extra, f"hydra.sweep.dir={launcher}", cwd=tmp_path)
        assert result.returncode == 0, (launcher, result.stderr[-2000:])
        runs[launcher] = tmp_path / launcher
    for job in ("0", "1"):
        for name in ("timeseries.parquet", "platforms.parquet", "events.jsonl"):
            blobs = {k: (v / job / name).read_bytes() for k, v in runs.items()}
            assert blobs["basic"] == blobs["joblib"] == blobs["submitit_local"], (job, name)


@pytest.mark.slow
def test_ray_launcher_runs_the_sweep(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="the [ray] extra is optional")
    result = trustsim(
        "-m", *TINY, "seed=0,1", "hydra/launcher=ray_cluster", "hydra.sweep.dir=sw", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(sweep_state(tmp_path / "sw")["complete"]) == 2


def _tiny_sweep(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return trustsim("-m", *args, *TINY, f"hydra.sweep.dir={tmp_path / 's'}", cwd=tmp_path)


def test_each_run_of_a_sweep_says_which_values_it_ran(tmp_path):
    done = _tiny_sweep(tmp_path, "regulator.penalty=0.01,0.05", "seed=3")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "ticks in" in line]
    assert len(lines) == 2
    for penalty, line in zip(("0.01", "0.05"), lines, strict=True):
        assert line.startswith(f"trustsim: baseline seed=3 regulator.penalty={penalty} ")
        assert "output.plot" not in line


def test_a_submitit_sweep_shows_its_progress_where_it_was_started(tmp_path):
    """submitit's jobs print into their own logs: the submitting process watches instead."""
    done = _tiny_sweep(tmp_path, "hydra/launcher=submitit_local", "seed=0,1")
    assert done.returncode == 0, done.stderr
    assert "trustsim sweep: 2/2 jobs done" in done.stdout


def test_the_watcher_prints_when_the_count_changes(tmp_path, capsys):
    from sim.output import write_json
    from sim.sweep import Watcher

    write_json(tmp_path / "sweep.json", {"total": 3, "started": time.time()})
    watcher = Watcher(tmp_path, every=0.05)
    for job in range(2):
        write_json(tmp_path / str(job) / "summary.json", {"status": "complete"})
        deadline = time.monotonic() + 10
        while watcher._done != job + 1 and time.monotonic() < deadline:  # it has looked
            time.sleep(0.01)
    watcher.stop()
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    # A line each time the count changed (the first look comes after `every`), none twice.
    assert [line.split(",")[0] for line in lines] == [
        "trustsim sweep: 1/3 jobs done",
        "trustsim sweep: 2/3 jobs done",
    ]


@pytest.mark.parametrize(
    ("name", "sweeper"),
    [("robust_regulation", "SALibSweeper"), ("pareto_regulator", "ParetoSweeper")],
)
def test_the_policy_studies_compose_with_their_sweepers(name, sweeper):
    from sim.compose import to_config
    from sim.designs import resolve_params

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"+experiment={name}"], return_hydra_config=True)
    options = cfg.hydra.sweeper
    assert options._target_.endswith(sweeper)
    params = options.get("uncertainties") or options.get("params")
    assert len(resolve_params(dict(params))) >= 4  # every key in the schema, in range
    assert cfg.hydra.sweep.dir == f"multirun/{name}"
    from omegaconf import OmegaConf

    to_config(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]))  # a valid task
    if name == "robust_regulation":
        assert set(options.policies) == {
            "rules_based",
            "laissez_faire",
            "sandbox_regtech",
            "adaptive",
        }
