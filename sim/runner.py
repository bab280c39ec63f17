"""One run, start to finish: build the model, run it, write its files.

The files of a run (in ``out_dir``): ``timeseries.parquet``, ``platforms.parquet``,
``events.jsonl``, ``indicators.png`` and, written last as the run's completion mark,
``summary.json``. Same config and seed give identical tables.
"""

import sys
import time
from pathlib import Path
from typing import Any

from sim import __version__
from sim.config import Config, config_dict
from sim.model import TrustModel
from sim.output import atomic_write_bytes, config_hash, write_json, write_jsonl, write_parquet
from sim.plotting import figure_png, indicators_figure

SUMMARY = "summary.json"


def _progress_bar(cfg: Config):
    """A tick progress bar on a terminal; ``None`` when switched off or not on a terminal."""
    if not (cfg.output.progress and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=cfg.ticks, desc=f"{cfg.scenario.name} seed={cfg.seed}", unit="tick")


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
    started = time.perf_counter()
    model = TrustModel(cfg)
    bar = _progress_bar(cfg)
    try:
        model.run(progress=(lambda _tick: bar.update(1)) if bar else None)
    finally:
        if bar:
            bar.close()
    timeseries = model.timeseries()
    write_parquet(out / "timeseries.parquet", timeseries)
    write_parquet(out / "platforms.parquet", model.platform_table())
    write_jsonl(out / "events.jsonl", model.event_log)
    if cfg.output.plot:
        title = f"{cfg.scenario.name} | platforms={cfg.platforms.preset} | "
        title += f"regulator={cfg.regulator.regime} | seed={cfg.seed}"
        atomic_write_bytes(out / "indicators.png", figure_png(indicators_figure(timeseries, title)))
    config = config_dict(cfg)
    summary = {
        "seed": cfg.seed,
        "config_hash": config_hash(config),
        "version": __version__,
        "scenario": cfg.scenario.name,
        "platforms": cfg.platforms.preset,
        "regulator": cfg.regulator.regime,
        "ticks": cfg.ticks,
        "n_users": cfg.population.n_users,
        "wall_seconds": round(time.perf_counter() - started, 3),
        "final": timeseries.iloc[-1].to_dict(),
        "aggregate": {
            "trust_mean_min": float(timeseries["trust_mean"].min()),
            "trust_mean_avg": float(timeseries["trust_mean"].mean()),
            "platforms_failed": int(
                timeseries["platforms_collapsed"].iloc[-1]
                + timeseries["platforms_wound_down"].iloc[-1]
            ),
            "enforcement_actions_total": int(timeseries["enforcement_actions"].sum()),
        },
        "config": config,
    }
    write_json(out / SUMMARY, summary)
    return summary
