"""A run against a real record: China's online P2P platforms, 2013-2020 (``data/china_p2p``).

The record of a ``calibration.target`` is a list of dated counts of operating platforms
(:func:`record`). The model's side of each is ``platforms_active`` at the tick of its date
(tick 1 is the week of ``calibration.start``), times ``calibration.platform_scale`` (the
real platforms one model platform stands for). The declared distance is computed over the
record's dates up to ``calibration.fit_until`` (the fit) and, separately, over the later
ones (the hold-out, for validation out of sample):

* ``rmse_log``: the root mean square of ``log(1 + model) - log(1 + record)``, so that a
  miss by a factor counts the same at 800 platforms as at 30;
* ``nrmse``: the root mean square error over the mean of the record.

:func:`evaluate` gives both and the points; the runner writes them to ``summary.json``.
"""

from __future__ import annotations

import datetime
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import CalibrationConfig
from sim.files import SUMMARY
from sim.output import read_json

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """``data/``: beside the package in a checkout, inside it (``sim/_data``) in a wheel."""
    source = PACKAGE_DIR.parent / "data"
    return source if source.is_dir() else PACKAGE_DIR / "_data"


@cache
def platform_counts() -> pd.DataFrame:
    """``data/china_p2p/platforms.csv``: date, operating_platforms, series, source."""
    table = pd.read_csv(data_dir() / "china_p2p" / "platforms.csv")
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table


def record(target: str) -> pd.DataFrame:
    """The dated counts a target is compared with (columns ``date``, ``value``, ``series``).

    ``china_p2p``: WDZJ's first-vintage year-end counts 2013-2019, then the regulator's
    2020 milestones up to early November (the two series are never mixed on one date).
    The regulator's "none left" of mid-November 2020 is the calendar's end state, an input
    of the scenario, so it is not something to fit.
    """
    if target != "china_p2p":
        raise ValueError(f"no record for calibration target {target!r}")
    counts = platform_counts()
    year_end = counts["date"].map(lambda d: (d.month, d.day) == (12, 31))
    wdzj = counts[(counts["series"] == "wdzj_first_vintage") & year_end]
    regulator = counts[
        (counts["series"] == "regulator")
        & (counts["date"] >= datetime.date(2020, 1, 1))
        & (counts["operating_platforms"] > 0)
    ]
    chosen = pd.concat([wdzj, regulator]).sort_values("date")
    return chosen.rename(columns={"operating_platforms": "value"})[
        ["date", "value", "series"]
    ].reset_index(drop=True)


def tick_of(date: datetime.date, start: datetime.date) -> int:
    """The tick (a week; tick 1 starts on ``start``) whose end is nearest ``date``."""
    return round((date - start).days / 7)


def distance(model: np.ndarray, data: np.ndarray, kind: str) -> float:
    """The declared distance between the model's and the record's counts (NaN if none)."""
    model, data = np.asarray(model, dtype=float), np.asarray(data, dtype=float)
    if model.size == 0 or not np.isfinite(model).all():
        return math.nan
    if kind == "rmse_log":
        return float(np.sqrt(np.mean((np.log1p(model) - np.log1p(data)) ** 2)))
    if kind == "nrmse":
        return float(np.sqrt(np.mean((model - data) ** 2)) / np.mean(data))
    raise ValueError(f"unknown distance {kind!r}")


def evaluate(timeseries: pd.DataFrame, cfg: CalibrationConfig) -> dict[str, Any]:
    """The run against its target: the fit's and the hold-out's distance, and the points.

    A record date past the run's last tick has no model value and is left out.
    """
    start = datetime.date.fromisoformat(cfg.start)
    fit_until = datetime.date.fromisoformat(cfg.fit_until)
    active = timeseries.set_index("tick")["platforms_active"]
    points = []
    for row in record(cfg.target).itertuples():
        tick = tick_of(row.date, start)
        if tick not in active.index:
            continue
        points.append(
            {
                "date": row.date.isoformat(),
                "tick": int(tick),
                "record": float(row.value),
                "model": float(active.loc[tick]) * cfg.platform_scale,
                "series": row.series,
                "fit": row.date <= fit_until,
            }
        )
    fit = [p for p in points if p["fit"]]
    held = [p for p in points if not p["fit"]]

    def dist(ps: list[dict[str, Any]]) -> float | None:
        if not ps:
            return None
        return distance([p["model"] for p in ps], [p["record"] for p in ps], cfg.distance)

    return {
        "target": cfg.target,
        "distance_kind": cfg.distance,
        "distance": dist(fit),
        "distance_holdout": dist(held),
        "fit_until": cfg.fit_until,
        "points": points,
    }


def stored_distance(run_dir: str | Path) -> float | None:
    """The fit's distance a finished run recorded in its ``summary.json`` (None if none)."""
    summary = read_json(Path(run_dir) / SUMMARY) or {}
    value = (summary.get("calibration") or {}).get("distance")
    return None if value is None or not math.isfinite(value) else float(value)
