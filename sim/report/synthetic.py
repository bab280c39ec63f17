"""Synthetic sweep folders with the layout of a real one, for tests and benchmarks.

They hold random numbers, not simulations: ``.hydra/overrides.yaml`` and ``config.yaml``,
``timeseries.parquet`` (the real columns), ``summary.json`` for complete runs,
``status.json`` for failed ones, plus ``multirun.yaml`` and ``sweep.json`` at the top.
"""

import itertools
import os
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim import __version__
from sim.files import STATUS, SUMMARY, TIMESERIES
from sim.files import SWEEP as SWEEP_FILE
from sim.output import atomic_write_bytes, config_hash, write_json, write_parquet


def timeseries_columns() -> list[str]:
    """The columns of a real ``timeseries.parquet`` (the registered metrics)."""
    from sim.metrics import METRICS  # imported here: it compiles the model's kernels

    return list(METRICS)


def _text(value: Any) -> str:
    """A value as it appears in a Hydra override."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def random_timeseries(rng: np.random.Generator, ticks: int, columns: Sequence[str]) -> pd.DataFrame:
    """``ticks + 1`` rows of random values; counts (``platforms_*``) as integers."""
    data: dict[str, Any] = {"tick": np.arange(ticks + 1, dtype=np.int64)}
    for column in columns:
        if column == "tick":
            continue
        if column.startswith("platforms_"):
            data[column] = rng.integers(0, 21, ticks + 1)
        else:
            data[column] = rng.random(ticks + 1)
    return pd.DataFrame(data)


def write_run(
    folder: str | os.PathLike,
    overrides: Mapping[str, Any],
    *,
    status: str = "complete",
    ticks: int = 260,
    columns: Sequence[str] | None = None,
    rng: np.random.Generator | None = None,
    error: str = "RuntimeError: synthetic failure",
) -> pd.DataFrame | None:
    """Write one run folder; return its timeseries (``None`` unless complete).

    Args:
        folder: The run folder.
        overrides: The run's overrides, ``{key: value}``.
        status: ``complete`` (timeseries and summary), ``failed`` (``status.json``) or
            ``incomplete`` (only ``.hydra``, as a run that is running or was killed).
        ticks: Ticks of the timeseries (it has ``ticks + 1`` rows).
        columns: Timeseries columns (default: the real ones).
        rng: Random numbers (default: seeded from the folder name).
        error: The failed run's error message.
    """
    folder = Path(folder)
    rng = rng or np.random.default_rng(zlib.crc32(str(folder).encode()))
    seed = overrides.get("seed", 0)
    config = {
        "seed": seed,
        "ticks": ticks,
        "model": "trustsim",
        "population": {"n_users": overrides.get("population.n_users", 1000)},
        "platforms": {"preset": overrides.get("platforms", "mixed")},
        "regulator": {"regime": overrides.get("regulator", "rules_based")},
        "scenario": {"name": overrides.get("scenario", "baseline")},
    }
    lines = [f"{k}={_text(v)}" for k, v in overrides.items()]
    atomic_write_bytes(folder / ".hydra" / "overrides.yaml", yaml.safe_dump(lines).encode())
    atomic_write_bytes(folder / ".hydra" / "config.yaml", yaml.safe_dump(config).encode())
    if status == "failed":
        write_json(
            folder / STATUS,
            {"status": "failed", "error": error, "traceback": error, "config_hash": None},
        )
    if status != "complete":
        return None
    frame = random_timeseries(rng, ticks, columns or timeseries_columns())
    write_parquet(folder / TIMESERIES, frame)
    summary = {
        "status": "complete",
        "seed": seed,
        "config_hash": config_hash(config),
        "version": __version__,
        "model": "trustsim",
        "scenario": config["scenario"]["name"],
        "platforms": config["platforms"]["preset"],
        "regulator": config["regulator"]["regime"],
        "ticks": ticks,
        "n_users": config["population"]["n_users"],
        "wall_seconds": float(rng.random()),
        "final": frame.iloc[-1].to_dict(),
        "aggregate": {
            "trust_mean_min": float(frame["trust_mean"].min()) if "trust_mean" in frame else 0.0
        },
        "config": config,
    }
    write_json(folder / SUMMARY, summary)
    return frame


def make_sweep(
    sweep_dir: str | os.PathLike,
    params: Mapping[str, Sequence[Any]],
    *,
    ticks: int = 260,
    columns: Sequence[str] | None = None,
    seed: int = 0,
    statuses: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """A sweep over the product of ``params`` (first key outermost, like Hydra's).

    Args:
        sweep_dir: The sweep folder (jobs go in ``0``, ``1``, ...).
        params: Swept values per key, e.g. ``{"seed": range(5), "platforms": [...]}``.
        ticks: Ticks per run.
        columns: Timeseries columns (default: the real ones).
        seed: Seed of the random numbers.
        statuses: Job number -> ``failed`` or ``incomplete`` (others are complete).

    Returns:
        One dict per job: ``job``, ``overrides``, ``status``.
    """
    sweep_dir = Path(sweep_dir)
    columns = list(columns or timeseries_columns())
    rng = np.random.default_rng(seed)
    keys = list(params)
    task = [f"{k}={','.join(_text(v) for v in params[k])}" for k in keys]
    atomic_write_bytes(
        sweep_dir / "multirun.yaml",
        yaml.safe_dump(
            {"hydra": {"overrides": {"task": task}, "sweeper": {"params": None}}}
        ).encode(),
    )
    jobs = []
    for job, values in enumerate(itertools.product(*(params[k] for k in keys))):
        overrides = dict(zip(keys, values, strict=True))
        status = (statuses or {}).get(job, "complete")
        write_run(
            sweep_dir / str(job), overrides, status=status, ticks=ticks, columns=columns, rng=rng
        )
        jobs.append({"job": job, "overrides": overrides, "status": status})
    write_json(sweep_dir / SWEEP_FILE, {"total": len(jobs), "started": time.time()})
    return jobs
