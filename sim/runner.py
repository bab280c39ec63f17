"""One run, start to finish: build the model, run it, write its files.

The files of a run (in ``out_dir``, named in :mod:`sim.files`): the timeseries and
platforms tables, the event log, the figure and, written last as the run's completion
mark, the summary. A run that fails writes a status file (status, error, traceback)
instead. Same config and seed give identical tables.
"""

import math
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__, calibration
from sim.config import Config, config_dict
from sim.files import EVENTS, FIGURE, JURISDICTIONS, PLATFORMS, STATUS, SUMMARY, TIMESERIES
from sim.output import (
    atomic_write_bytes,
    config_hash,
    read_json,
    write_json,
    write_jsonl,
    write_parquet,
)


def _progress_bar(cfg: Config):
    """A tick progress bar on a terminal; ``None`` when switched off or not on a terminal."""
    if not (cfg.output.progress and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=cfg.ticks, desc=f"{cfg.scenario.name} seed={cfg.seed}", unit="tick")


def is_complete(out_dir: str | Path, cfg: Config) -> bool:
    """The folder holds a finished run of exactly this config (its ``summary.json``)."""
    summary = read_json(Path(out_dir) / SUMMARY)
    return summary is not None and summary.get("config_hash") == config_hash(config_dict(cfg))


def _simulate(cfg: Config, out: Path) -> pd.DataFrame:
    from sim.model import TrustModel
    from sim.plotting import figure_png, indicators_figure

    model = TrustModel(cfg)
    bar = _progress_bar(cfg)
    try:
        model.run(progress=(lambda _tick: bar.update(1)) if bar else None)
    finally:
        if bar:
            bar.close()
    timeseries = model.timeseries()
    write_parquet(out / TIMESERIES, timeseries)
    write_parquet(out / PLATFORMS, model.platform_table())
    by_jurisdiction = model.jurisdiction_table()
    if not by_jurisdiction.empty:
        write_parquet(out / JURISDICTIONS, by_jurisdiction)
    write_jsonl(out / EVENTS, model.event_log)
    if cfg.output.plot:
        title = f"{cfg.scenario.name} | platforms={cfg.platforms.preset} | "
        title += f"regulator={cfg.regulator.regime} | seed={cfg.seed}"
        atomic_write_bytes(out / FIGURE, figure_png(indicators_figure(timeseries, title)))
    return timeseries


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    """The Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1``."""
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def _evaluate_ishigami(cfg: Config, out: Path) -> pd.DataFrame:
    i = cfg.ishigami
    frame = pd.DataFrame({"tick": [0], "ishigami": [ishigami(i.x1, i.x2, i.x3, i.a, i.b)]})
    write_parquet(out / TIMESERIES, frame)
    return frame


def run_simulation(cfg: Config, out_dir: str | Path) -> dict[str, Any]:
    """Run ``cfg`` and write its files to ``out_dir``.

    Args:
        cfg: A validated config.
        out_dir: Folder for the run's files (created if missing).

    Returns:
        The summary written to ``summary.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / STATUS).unlink(missing_ok=True)  # a retried run forgets its old failure
    started = time.perf_counter()
    evaluate = _evaluate_ishigami if cfg.model == "ishigami" else _simulate
    timeseries = evaluate(cfg, out)
    config = config_dict(cfg)
    summary = {
        "status": "complete",
        "seed": cfg.seed,
        "config_hash": config_hash(config),
        "version": __version__,
        "model": cfg.model,
        "scenario": cfg.scenario.name,
        "platforms": cfg.platforms.preset,
        "regulator": cfg.regulator.regime,
        "ticks": cfg.ticks,
        "n_users": cfg.population.n_users,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "final": timeseries.iloc[-1].to_dict(),
        "aggregate": _aggregates(timeseries) if cfg.model == "trustsim" else {},
        "config": config,
    }
    if cfg.calibration.target and cfg.model == "trustsim":
        summary["calibration"] = calibration.evaluate(timeseries, cfg.calibration)
    write_json(out / SUMMARY, summary)
    return summary


def _aggregates(timeseries: pd.DataFrame) -> dict[str, float]:
    return {
        "trust_mean_min": float(timeseries["trust_mean"].min()),
        "trust_mean_avg": float(timeseries["trust_mean"].mean()),
        "platforms_failed": int(
            timeseries["platforms_collapsed"].iloc[-1]
            + timeseries["platforms_wound_down"].iloc[-1]
            + timeseries["platforms_exited"].iloc[-1]
        ),
        "enforcement_actions_total": int(timeseries["enforcement_actions"].sum()),
        "rumour_reach_max": float(timeseries["rumour_reach"].max()),
    }


def record_failure(out_dir: str | Path, cfg: Config | None, error: BaseException) -> None:
    """Write ``status.json`` for a run that failed (and no ``summary.json``)."""
    out = Path(out_dir)
    (out / SUMMARY).unlink(missing_ok=True)
    write_json(
        out / STATUS,
        {
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "traceback": "".join(traceback.format_exception(error)),
            "config_hash": config_hash(config_dict(cfg)) if cfg is not None else None,
            "version": __version__,
        },
    )
