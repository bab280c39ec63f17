"""Benchmark: speed-up of a 40-run sweep on 2 cores with joblib against the basic launcher.

The same multirun (the ``trustsim`` command, 40 runs: 2 scenarios x 20 seeds at a size
where one run takes about a second) runs twice into fresh folders: with Hydra's basic
launcher (serial, the reference) and with ``hydra/launcher=joblib`` and 2 jobs. Both
wall times include Hydra's start-up. Target: speed-up >= 1.8x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, check_target, log

NAME = "sweep_speedup"
TITLE = "40-run sweep: joblib on 2 cores vs serial"
TARGET = 1.8
FULL = {"users": 5000, "ticks": 156, "seeds": 20}
QUICK = {"users": 1000, "ticks": 52, "seeds": 4}


def _sweep(launcher: list[str], folder: Path, p: dict[str, int]) -> float:
    """Wall seconds of one multirun (a fresh process, like a user's command)."""
    command = [
        sys.executable,
        "-m",
        "sim.cli",
        "-m",
        "scenario=baseline,rumour",
        f"seed=range({p['seeds']})",
        f"population.n_users={p['users']}",
        f"ticks={p['ticks']}",
        "output.plot=false",
        f"hydra.sweep.dir={folder}",
        *launcher,
    ]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    t0 = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def run(quick: bool = False) -> dict[str, Any]:
    """Serial sweep, then the same sweep with joblib and 2 jobs."""
    p = QUICK if quick else FULL
    runs = 2 * p["seeds"]
    with tempfile.TemporaryDirectory(prefix="trustsim-sweep-bench-") as tmp:
        # Warm numba's on-disk cache so neither side pays for compiling the kernels.
        _sweep([], Path(tmp) / "warm", {**p, "seeds": 1})
        log(f"{NAME}: {runs} runs, basic launcher (serial)")
        serial = _sweep([], Path(tmp) / "serial", p)
        log(f"{NAME}: {runs} runs, joblib with 2 jobs")
        parallel = _sweep(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], Path(tmp) / "jl", p)
    speedup = serial / parallel
    target = check_target(
        speedup,
        TARGET,
        ">=",
        label=f"speed-up of {runs} runs on 2 cores",
        unit="x",
        fmt="{:.2f}",
        at=f"40 runs, {os.cpu_count()} cores",
        indicative=p != FULL,
    )
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"`trustsim -m scenario=baseline,rumour seed=range({p['seeds']}) "
            f"population.n_users={p['users']} ticks={p['ticks']} output.plot=false` "
            f"({runs} runs), once with the basic launcher and once with "
            "`hydra/launcher=joblib hydra.launcher.n_jobs=2`; wall time of the whole "
            "command, Hydra start-up and writing every run's files included.",
            "A one-run sweep first warms numba's on-disk kernel cache.",
        ],
        "tables": [
            {
                "columns": ["launcher", "wall s", "runs/s", "speed-up"],
                "rows": [
                    ["basic (serial, reference)", f"{serial:.1f}", f"{runs / serial:.2f}", "1.00x"],
                    [
                        "joblib, 2 jobs",
                        f"{parallel:.1f}",
                        f"{runs / parallel:.2f}",
                        f"**{speedup:.2f}x**",
                    ],
                ],
            }
        ],
        "target": target,
        "raw": {"serial_s": serial, "joblib_s": parallel, "runs": runs, **p},
    }
