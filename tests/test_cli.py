"""End-to-end tests of the ``trustsim`` command, run as subprocesses.

Every run uses its own working folder (Hydra writes ``outputs/`` relative to it) and tiny
sizes. Independent runs are started together to keep the wall time down.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_process import finish as _finish
from cli_process import start

import sim
from sim.compose import compose_config
from sim.config import LEVERS, config_dict
from sim.metrics import CORE_COLUMNS
from sim.output import config_hash

# Every test here runs the CLI in subprocesses; the shared run fixtures take ~6-8 s on an
# idle 2-core machine and 25-40 s under load, so the whole module counts as slow.
pytestmark = pytest.mark.slow

TICKS = 10
N_USERS = 300
COUNT = 20
TINY = [f"population.n_users={N_USERS}", f"ticks={TICKS}"]
RUN_FILES = (
    "timeseries.parquet",
    "platforms.parquet",
    "events.jsonl",
    "indicators.png",
    "summary.json",
)
TIMESERIES_COLUMNS = CORE_COLUMNS
TIMEOUT = 180


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    return _finish(proc, TIMEOUT)


def run_cli(args: list[str], cwd: Path, command: list[str] | None = None):
    return finish(start(args, cwd, command))


def run_many(jobs: dict[str, tuple[list[str], Path]]) -> dict[str, subprocess.CompletedProcess]:
    """Start every job at once, then wait for all of them."""
    procs = {name: start(args, cwd) for name, (args, cwd) in jobs.items()}
    return {name: finish(proc) for name, proc in procs.items()}


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def printed_output_dir(stdout: str) -> Path:
    match = re.search(r"outputs written to (.+)$", stdout, flags=re.MULTILINE)
    assert match, stdout
    return Path(match.group(1).strip())


# --- a good run, its twin and a different seed -----------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_runs")
    jobs = {
        # default output location, relative to the working folder
        "smoke": (TINY, root / "smoke"),
        # the same overrides into an explicit folder
        "twin": ([*TINY, f"hydra.run.dir={root / 'twin_out'}"], root / "twin"),
        "seed1": (
            [*TINY, "seed=1", "output.plot=false", f"hydra.run.dir={root / 'seed1_out'}"],
            root / "seed1",
        ),
    }
    results = run_many(jobs)
    for result in results.values():
        assert result.returncode == 0, describe(result)
    return {
        "root": root,
        "results": results,
        "smoke": printed_output_dir(results["smoke"].stdout),
        "twin": root / "twin_out",
        "seed1": root / "seed1_out",
    }


def test_smoke_prints_an_existing_output_folder(runs):
    out = runs["smoke"]
    assert out.is_dir()
    assert out.resolve().is_relative_to((runs["root"] / "smoke" / "outputs").resolve())
    assert printed_output_dir(runs["results"]["twin"].stdout) == runs["twin"]


def test_smoke_writes_every_file(runs):
    out = runs["smoke"]
    for name in RUN_FILES:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0 or name == "events.jsonl", name
    assert (out / ".hydra" / "config.yaml").is_file()
    assert (out / "indicators.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = yaml.safe_load((out / ".hydra" / "config.yaml").read_text())
    assert saved["population"]["n_users"] == N_USERS
    assert saved["ticks"] == TICKS
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


def test_smoke_timeseries(runs):
    frame = pd.read_parquet(runs["smoke"] / "timeseries.parquet")
    assert len(frame) == TICKS + 1
    missing = [c for c in TIMESERIES_COLUMNS if c not in frame.columns]
    assert not missing, missing
    assert frame["tick"].tolist() == list(range(TICKS + 1))
    assert frame["platforms_active"].iloc[0] == COUNT


def test_smoke_platforms_table(runs):
    frame = pd.read_parquet(runs["smoke"] / "platforms.parquet")
    assert len(frame) == (TICKS + 1) * COUNT
    for column in ("tick", "status", "assets", "trust_mean", *LEVERS):
        assert column in frame.columns, column
    assert (frame.groupby("tick").size() == COUNT).all()
    assert sorted(frame["tick"].unique()) == list(range(TICKS + 1))
    levers = frame[list(LEVERS)]
    assert ((levers >= 0) & (levers <= 1)).all().all()


def test_smoke_events_are_json_lines(runs):
    for line in (runs["smoke"] / "events.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert {"type", "tick"} <= set(record)
        assert 1 <= record["tick"] <= TICKS


def test_smoke_summary(runs):
    out = runs["smoke"]
    summary = json.loads((out / "summary.json").read_text())
    for key in ("seed", "config_hash", "version", "wall_seconds", "final"):
        assert key in summary, key
    assert summary["seed"] == 0
    assert summary["version"] == sim.__version__
    assert isinstance(summary["wall_seconds"], int | float)
    assert summary["wall_seconds"] >= 0
    # the hash is the hash of the run's config, as composed in-process from the same overrides
    assert summary["config_hash"] == config_hash(config_dict(compose_config(TINY)))
    last = pd.read_parquet(out / "timeseries.parquet").iloc[-1]
    assert summary["final"]["tick"] == TICKS
    assert summary["final"]["trust_mean"] == pytest.approx(float(last["trust_mean"]))


def test_summary_is_written_last(runs):
    out = runs["smoke"]
    summary_mtime = (out / "summary.json").stat().st_mtime_ns
    others = [*(out / name for name in RUN_FILES if name != "summary.json")]
    others.append(out / ".hydra" / "config.yaml")
    for path in others:
        assert summary_mtime >= path.stat().st_mtime_ns, path.name


def test_same_overrides_give_identical_files(runs):
    a, b = runs["smoke"], runs["twin"]
    for name in ("timeseries.parquet", "platforms.parquet", "events.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    hash_a = json.loads((a / "summary.json").read_text())["config_hash"]
    hash_b = json.loads((b / "summary.json").read_text())["config_hash"]
    assert hash_a == hash_b


def test_different_seed_gives_different_timeseries(runs):
    a = pd.read_parquet(runs["smoke"] / "timeseries.parquet")
    c = pd.read_parquet(runs["seed1"] / "timeseries.parquet")
    assert not a.equals(c)
    assert a["trust_mean"].tolist() != c["trust_mean"].tolist()
    summary = json.loads((runs["seed1"] / "summary.json").read_text())
    assert summary["seed"] == 1
    assert not (runs["seed1"] / "indicators.png").exists()  # output.plot=false


# --- bad input -------------------------------------------------------------------------

# name: (the bad overrides, texts stderr must contain)
BAD_INPUTS = {
    "range": (["regulator.penalty=2"], ["regulator.penalty=2"]),
    "type": (["seed=abc"], ["seed", "abc"]),
    "unknown_key": (["foo=1"], ["foo", "1"]),
    "unknown_group_option": (["platforms=nope"], ["platforms/nope"]),
    "missing_edge_list": (
        ["network.kind=edge_list", "network.path=/nonexistent"],
        ["network.path", "/nonexistent"],
    ),
    "ticks_zero": (["ticks=0"], ["ticks=0"]),
    # Interpolations that do not resolve (issue 11, class 5).
    "env_interpolation": (["seed=${oc.env:TRUSTSIM_NO_SUCH_VARIABLE}"], ["seed", "resolve"]),
    "key_interpolation": (["seed=${population.nope}"], ["seed", "population.nope"]),
    # Event parameters typed like config keys (issue 11, class 3).
    "event_float_count": (
        ["scenario.events=[{tick:2,type:platform_entry,count:2.5}]"],
        ["scenario.events[0].count", "a whole number"],
    ),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_bad")
    jobs = {
        # the bad overrides come last, so they are not overridden by the tiny sizes
        name: ([*TINY, "output.plot=false", *overrides], root / name)
        for name, (overrides, _) in BAD_INPUTS.items()
    }
    results = run_many(jobs)
    return {name: (results[name], root / name) for name in BAD_INPUTS}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_exits_2_with_a_clear_message(bad_runs, name):
    result, _ = bad_runs[name]
    assert result.returncode == 2, describe(result)
    for text in BAD_INPUTS[name][1]:
        assert text in result.stderr, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert "outputs written" not in result.stdout


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_writes_no_outputs(bad_runs, name):
    """Nothing is written: no tables, and no run folder holding only Hydra's records."""
    _, cwd = bad_runs[name]
    written = sorted(str(path.relative_to(cwd)) for path in cwd.rglob("*") if path.is_file())
    assert not [w for w in written if Path(w).name in RUN_FILES or w.endswith(".parquet")]
    assert written == []


# --- --cfg job, --help, multirun -------------------------------------------------------


def test_cfg_job_prints_the_composed_config(tmp_path):
    result = run_cli(
        ["--cfg", "job", "population.n_users=1234", "regulator=laissez_faire"], tmp_path
    )
    assert result.returncode == 0, describe(result)
    printed = yaml.safe_load(result.stdout)
    assert printed["seed"] == 0
    assert printed["ticks"] == 260
    assert printed["population"]["n_users"] == 1234
    assert printed["regulator"]["regime"] == "laissez_faire"
    assert printed["platforms"]["preset"] == "mixed"
    assert printed["scenario"]["name"] == "baseline"
    assert not list(tmp_path.rglob("*.parquet")), "--cfg job must not run the simulation"


def test_help_lists_the_config_groups(tmp_path):
    script = Path(sys.executable).parent / "trustsim"
    command = [str(script)] if script.exists() else None  # the installed entry point
    result = run_cli(["--help"], tmp_path, command)
    assert result.returncode == 0, describe(result)
    groups = dict(
        re.findall(r"^  (platforms|regulator|scenario): (.+)$", result.stdout, flags=re.MULTILINE)
    )
    assert set(groups) == {"platforms", "regulator", "scenario"}, result.stdout
    assert "mixed" in groups["platforms"]
    assert "laggard" in groups["platforms"]
    assert "rules_based" in groups["regulator"]
    assert "laissez_faire" in groups["regulator"]
    assert "baseline" in groups["scenario"]
    # Ours, not Hydra's: every key of the schema with its default and range.
    assert "powered by Hydra" not in result.stdout
    assert "  regulator.penalty = 0.01  (a number in [0, 1])  fine as a share" in result.stdout
    assert "  network.kind = watts_strogatz  (one of watts_strogatz, " in result.stdout
    assert "  scenario.cross_border.tie_share = null  (a number in [0, 1], or null)" in (
        result.stdout
    )
    from omegaconf import OmegaConf

    from sim.config import Config

    def leaves(node, prefix=""):
        for key, value in node.items():
            if isinstance(value, dict) and value and key not in ("strategies", "mix"):
                yield from leaves(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    tree = OmegaConf.to_container(OmegaConf.structured(Config))
    missing = [k for k in leaves(tree) if f"  {k} = " not in result.stdout]
    assert not missing, missing


def test_multirun_writes_one_folder_per_job(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "seed=0,1", "population.n_users=200", "ticks=5", "output.plot=false"]
    result = run_cli([*args, f"hydra.sweep.dir={sweep}"], tmp_path)
    assert result.returncode == 0, describe(result)
    summaries = sorted(sweep.glob("*/summary.json"))
    assert len(summaries) == 2, sorted(p.relative_to(sweep) for p in sweep.rglob("*"))
    seeds = sorted(json.loads(p.read_text())["seed"] for p in summaries)
    assert seeds == [0, 1]
    for path in summaries:
        assert (path.parent / "timeseries.parquet").is_file()
        assert len(pd.read_parquet(path.parent / "timeseries.parquet")) == 6
