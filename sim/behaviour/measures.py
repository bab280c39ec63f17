"""Readings of one run: indicator values at a week, and the measures the claims need.

Indicator columns are read by name from the run's timeseries, so a renamed or removed
column is reported (:func:`require_columns`) rather than crashing the analysis.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

import numpy as np

from sim.behaviour.runs import BehaviourError, RunResult

# The closure reason of a run on a platform (``events.jsonl``, model.md 7.5).
RUN_REASON = "run"


@dataclasses.dataclass(frozen=True)
class Indicator:
    """A main indicator: one ``timeseries.parquet`` column or the sum of several.

    Attributes:
        name: Label in the report (the column name for a single column).
        sources: Columns summed to make it (default: ``(name,)``).
        window: Weeks averaged up to the reading week; per-tick rates of few platforms
            (``violation_rate``) are mostly 0 in any one week, so a single week says little.
        doc: What it is, for the report.
    """

    name: str
    doc: str = ""
    sources: tuple[str, ...] = ()
    window: int = 1

    @property
    def columns(self) -> tuple[str, ...]:
        """The timeseries columns it reads."""
        return self.sources or (self.name,)


def require_columns(results: Iterable[RunResult], needed: Mapping[str, Iterable[str]]) -> None:
    """Fail with one clear message if any run lacks a column the report reads.

    Args:
        results: The loaded runs.
        needed: ``{what reads it: columns}``, e.g. ``{"indicator platforms_failed":
            ("platforms_collapsed", "platforms_wound_down")}``.

    Raises:
        BehaviourError: Naming each missing column and what needs it.
    """
    present: set[str] | None = None
    for result in results:
        cols = set(result.timeseries.columns)
        present = cols if present is None else present & cols
    if present is None:
        return
    missing: dict[str, list[str]] = {}
    for user, columns in needed.items():
        for column in columns:
            if column not in present:
                missing.setdefault(column, []).append(user)
    if missing:
        lines = [f"  {col} (read by {', '.join(users)})" for col, users in sorted(missing.items())]
        raise BehaviourError(
            "indicator column(s) missing from the runs' timeseries:\n"
            + "\n".join(lines)
            + "\ncolumns present: "
            + ", ".join(sorted(present))
            + "\n(edit the tables in sim/behaviour/studies.py to match the model)"
        )


def series(result: RunResult, columns: Iterable[str]) -> np.ndarray:
    """The sum of ``columns`` per tick (row ``i`` is tick ``i``; tick 0 = initial state)."""
    frame = result.timeseries
    total = np.zeros(len(frame))
    for column in columns:
        total = total + frame[column].to_numpy(dtype=float)
    return total


def _row(result: RunResult, tick: int) -> int | None:
    ticks = result.timeseries["tick"].to_numpy()
    found = np.flatnonzero(ticks == tick)
    return int(found[0]) if found.size else None


def value_at(result: RunResult, indicator: Indicator, tick: int | None = None) -> float:
    """The indicator at ``tick`` (default: the last week), averaged over its window.

    Returns:
        NaN if the week is past the run's horizon or the value is undefined there.
    """
    values = series(result, indicator.columns)
    row = len(values) - 1 if tick is None else _row(result, tick)
    if row is None:
        return math.nan
    window = values[max(0, row - indicator.window + 1) : row + 1]
    window = window[np.isfinite(window)]
    return float(window.mean()) if window.size else math.nan


def minimum(result: RunResult, column: str) -> tuple[float, float]:
    """(minimum over the run, tick where it is first reached); NaNs ignored."""
    values = result.timeseries[column].to_numpy(dtype=float)
    if not np.isfinite(values).any():
        return math.nan, math.nan
    i = int(np.nanargmin(values))
    return float(values[i]), float(result.timeseries["tick"].iloc[i])


def run_mean(result: RunResult, column: str) -> float:
    """Mean of a per-tick column over ticks 1..T (tick 0 is the initial state)."""
    frame = result.timeseries
    values = frame.loc[frame["tick"] >= 1, column].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def first_rumour(result: RunResult) -> tuple[int, int] | None:
    """(start tick, target platform) of the run's first rumour, or None."""
    if not result.rumours:
        return None
    rumour = min(result.rumours, key=lambda r: r["tick"])
    return int(rumour["tick"]), int(rumour["platform"])


def _window(result: RunResult, column: str, start: int, weeks: int) -> np.ndarray:
    frame = result.timeseries
    inside = (frame["tick"] >= start) & (frame["tick"] <= start + weeks)
    return frame.loc[inside, column].to_numpy(dtype=float)


def rumour_reach_max(result: RunResult, weeks: int) -> float:
    """Largest share of users who heard the first rumour, within ``weeks`` of its start."""
    found = first_rumour(result)
    if found is None:
        return math.nan
    values = _window(result, "rumour_reach", found[0], weeks)
    return float(np.nanmax(values)) if np.isfinite(values).any() else math.nan


def rumour_withdrawals_sum(result: RunResult, weeks: int) -> float:
    """Money believers asked back from the target within ``weeks`` of the rumour's start."""
    found = first_rumour(result)
    if found is None:
        return math.nan
    return float(np.nansum(_window(result, "rumour_withdrawals", found[0], weeks)))


def target_trust_fall(result: RunResult, weeks: int) -> float:
    """Fall of the mean trust of the rumour target's holders.

    The value the week before the rumour starts minus the lowest value within ``weeks``
    of its start (while the target still has holders).
    """
    found = first_rumour(result)
    if found is None:
        return math.nan
    start, target = found
    trust = result.target_trust(target)
    ticks = result.timeseries["tick"].to_numpy()
    before = trust[ticks == start - 1]
    after = trust[(ticks >= start) & (ticks <= start + weeks)]
    if not before.size or not np.isfinite(before[0]) or not np.isfinite(after).any():
        return math.nan
    return float(before[0] - np.nanmin(after))


def entrant_losses(result: RunResult) -> float:
    """What entrants (platform index >= ``platforms.count``) cost their users.

    The losses realised in their closures plus the shortfall of those still operating at
    the end: a sandbox that keeps a weak entrant small, or a regime that lets one grow
    without closing it, shows in the second term, which closures alone would miss.
    """
    count = result.platform_count
    realised = sum(c.get("user_losses") or 0.0 for c in result.closures if c["platform"] >= count)
    return float(realised + result.info.get("entrant_shortfall", 0.0))


def closed_by_run(result: RunResult, platform: int, start: int, weeks: int) -> float:
    """1.0 if ``platform`` was closed by a run within ``weeks`` of ``start``, else 0.0."""
    return float(
        any(
            c["platform"] == platform
            and c.get("reason") == RUN_REASON
            and start <= c["tick"] <= start + weeks
            for c in result.closures
        )
    )
