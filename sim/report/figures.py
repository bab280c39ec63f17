"""The report's statistics and figures: fan charts, heatmaps, strategy ranking.

Each figure has a data function (a tidy DataFrame, usable on its own in a notebook) and
a plotting function that draws exactly that data with matplotlib (Agg, no display).
"""

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: reports are made on clusters and in CI

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from sim.report.collect import group_keys

DEFAULT_INDICATORS = (
    "trust_mean",
    "institutional_trust_mean",
    "platforms_active",
    "user_losses_cum",
    "violation_rate",
    "rumour_reach",
)
BAND = (0.1, 0.9)
MAX_PANELS = 30  # more groups than this: panels by the first key, the rest as lines
MAX_RANKED_SHOWN = 50
MAX_ANNOTATED_CELLS = 12  # per side; larger heatmaps are unreadable with numbers in them


def label(keys: Sequence[str], values: Any) -> str:
    """``key=value, ...`` for a group; ``all runs`` when there are no keys."""
    if not keys:
        return "all runs"
    values = values if isinstance(values, tuple) else (values,)
    return ", ".join(f"{k}={_fmt(v)}" for k, v in zip(keys, values, strict=True))


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value)


def _groups(frame: pd.DataFrame, keys: Sequence[str]):
    """``(values tuple, part)`` per group, sorted; one group of everything without keys."""
    if not keys:
        return [((), frame)]
    return list(frame.groupby(list(keys), sort=True, dropna=False))


# ---------------------------------------------------------------------------------------
# Fan charts
# ---------------------------------------------------------------------------------------


def fan_data(
    timeseries: pd.DataFrame,
    indicator: str,
    by: Sequence[str] = (),
    band: tuple[float, float] = BAND,
) -> pd.DataFrame:
    """Median and quantile band of ``indicator`` across runs, per group and tick.

    Args:
        timeseries: The table from :func:`~sim.report.collect.collect_timeseries`.
        indicator: A timeseries column.
        by: Group keys (swept keys other than the seed).
        band: Lower and upper quantile of the band.

    Returns:
        Columns ``*by, tick, low, median, high, n`` (``n``: runs with a value there).
        Quantiles interpolate linearly and skip NaN.
    """
    keys = [*by, "tick"]
    grouped = timeseries.groupby(keys, sort=True, dropna=False)[indicator]
    table = grouped.quantile([band[0], 0.5, band[1]]).unstack()
    table.columns = ["low", "median", "high"]
    table["n"] = grouped.count()
    return table.reset_index()


def fan_chart(
    timeseries: pd.DataFrame,
    indicator: str,
    by: Sequence[str] = (),
    *,
    band: tuple[float, float] = BAND,
    max_panels: int = MAX_PANELS,
) -> plt.Figure:
    """One panel per group: the median across seeds over ticks and its quantile band.

    With more than ``max_panels`` groups, panels are the values of the first key and
    the other keys' combinations are coloured lines in each panel.
    """
    data = fan_data(timeseries, indicator, by, band)
    n_groups = len(data[list(by)].drop_duplicates()) if by else 1
    panel_by = list(by) if n_groups <= max_panels else list(by[:1])
    line_by = [k for k in by if k not in panel_by]
    panels = _groups(data, panel_by)
    ncols = math.ceil(math.sqrt(len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(min(3.6 * ncols + 1, 22), 2.6 * nrows + 1),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, (key, part) in zip(axes.flat, panels, strict=False):
        lines = _groups(part, line_by)
        colors = _colors(len(lines))
        for color, (line_key, line) in zip(colors, lines, strict=True):
            ax.fill_between(line["tick"], line["low"], line["high"], color=color, alpha=0.25, lw=0)
            ax.plot(
                line["tick"], line["median"], color=color, lw=1.4, label=label(line_by, line_key)
            )
        runs = int(part["n"].max()) if len(part) else 0
        ax.set_title(f"{label(panel_by, key)} (n={runs})", fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    if line_by:
        axes.flat[0].legend(fontsize=6, loc="best")
    fig.suptitle(f"{indicator}: median across seeds, {band[0]:.0%}-{band[1]:.0%} band", fontsize=11)
    fig.supxlabel("tick (week)", fontsize=9)
    return fig


def _colors(n: int) -> list:
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    return [plt.get_cmap("viridis")(x) for x in np.linspace(0, 0.95, n)]


# ---------------------------------------------------------------------------------------
# Heatmaps
# ---------------------------------------------------------------------------------------


def numeric_keys(runs: pd.DataFrame, keys: Sequence[str] | None = None) -> list[str]:
    """The group keys (default: swept non-seed keys) whose values are numbers."""
    keys = group_keys(runs) if keys is None else keys
    return [
        k
        for k in keys
        if pd.api.types.is_numeric_dtype(runs[k]) and not pd.api.types.is_bool_dtype(runs[k])
    ]


def heatmap_data(runs: pd.DataFrame, metric: str, x: str, y: str) -> pd.DataFrame:
    """Mean of ``metric`` over complete runs (seeds, other keys) in each ``(y, x)`` cell."""
    done = runs[runs["status"] == "complete"]
    return done.pivot_table(index=y, columns=x, values=metric, aggfunc="mean", dropna=False)


def heatmap(runs: pd.DataFrame, metric: str, x: str, y: str) -> plt.Figure:
    """A heatmap of :func:`heatmap_data`, cells annotated when the grid is small."""
    grid = heatmap_data(runs, metric, x, y)
    fig, ax = plt.subplots(
        figsize=(max(5, 0.6 * grid.shape[1] + 3), max(4, 0.45 * grid.shape[0] + 2)),
        layout="constrained",
    )
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns], fontsize=8)
    ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index], fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(image, ax=ax, label=metric)
    if max(grid.shape) <= MAX_ANNOTATED_CELLS and np.isfinite(values).any():
        middle = np.nanmean([np.nanmin(values), np.nanmax(values)])
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                color = "black" if value > middle else "white"  # readable on viridis
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=7, color=color)
    others = [k for k in group_keys(runs) if k not in (x, y)]
    over = "seeds" + (f" and {', '.join(others)}" if others else "")
    ax.set_title(f"{metric}: mean over {over}", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------


def ranking(
    runs: pd.DataFrame,
    metric: str,
    by: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    ascending: bool = False,
) -> pd.DataFrame:
    """Groups ranked by the mean of a final indicator over their complete runs.

    The interval is Student's t over runs (seeds): ``mean +- t(1 - a/2, n - 1) * s /
    sqrt(n)``; NaN for a group with fewer than two values. NaN values (say, trust when
    no platform is left) are left out and counted apart.

    Args:
        runs: The table from :func:`~sim.report.collect.collect_runs`.
        metric: A column of ``runs``, e.g. ``final_trust_mean``.
        by: Group keys (default: every swept non-seed key).
        confidence: Level of the interval.
        ascending: Rank the lowest mean first (for losses, violations).

    Returns:
        Columns ``rank, group, *by, metric, n, n_runs, mean, std, ci_low, ci_high,
        ci_half_width``, best first; groups with no value last, unranked.
    """
    by = group_keys(runs) if by is None else list(by)
    done = runs[runs["status"] == "complete"]
    rows = []
    for key, part in _groups(done, by):
        values = part[metric].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        n = values.size
        mean = values.mean() if n else np.nan
        std = values.std(ddof=1) if n > 1 else np.nan
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n) if n > 1 else np.nan
        rows.append(
            {
                "group": label(by, key),
                **dict(zip(by, key, strict=True)),
                "metric": metric,
                "n": n,
                "n_runs": len(part),
                "mean": mean,
                "std": std,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "ci_half_width": half,
            }
        )
    columns = ["group", *by, "metric", "n", "n_runs", "mean", "std", "ci_low", "ci_high"]
    table = pd.DataFrame(rows, columns=[*columns, "ci_half_width"])
    table = table.sort_values("mean", ascending=ascending, na_position="last", kind="stable")
    table = table.reset_index(drop=True)
    ranks = pd.Series(np.arange(1, len(table) + 1), dtype="Int64")
    table.insert(0, "rank", ranks.mask(table["mean"].isna()))
    table.attrs = {"metric": metric, "by": by, "confidence": confidence, "ascending": ascending}
    return table


def ranking_figure(table: pd.DataFrame, max_shown: int = MAX_RANKED_SHOWN) -> plt.Figure:
    """Dot-and-whisker plot of a :func:`ranking` table, best at the top."""
    metric = table.attrs.get("metric", "mean")
    confidence = table.attrs.get("confidence", 0.95)
    shown = table.head(max_shown)
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(shown) + 1.6), layout="constrained")
    y = np.arange(len(shown))[::-1]
    ax.errorbar(
        shown["mean"],
        y,
        xerr=shown["ci_half_width"].fillna(0),
        fmt="o",
        color="tab:blue",
        ecolor="tab:gray",
        capsize=3,
        ms=5,
    )
    labels = [
        f"{'' if pd.isna(rank) else f'{rank}. '}{group} (n={n})"
        for rank, group, n in zip(shown["rank"], shown["group"], shown["n"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"{metric}: mean across seeds, {confidence:.0%} t-interval")
    ax.grid(axis="x", alpha=0.3)
    more = f" (top {max_shown} of {len(table)})" if len(table) > max_shown else ""
    ax.set_title(f"Ranking by {metric}{more}", fontsize=10)
    return fig
