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

from sim.report.collect import group_keys, without_levers

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
MAX_LINES = 10
MAX_LEVELS = 12  # a numeric key with more values (a sampled design) is binned in heatmaps
MAX_RANKED_SHOWN = 50
MAX_ANNOTATED_CELLS = 12  # per side; larger heatmaps are unreadable with numbers in them


def short_names(keys: Sequence[str]) -> dict[str, str]:
    """Keys without their dotted prefix (``regulator.penalty`` -> ``penalty``) if unambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: s if last.count(s) == 1 else k for k, s in zip(keys, last, strict=True)}


def label(keys: Sequence[str], values: Any, short: bool = False) -> str:
    """``key=value, ...`` for a group; ``all runs`` when there are no keys.

    Args:
        keys: Group keys.
        values: Their values (a tuple, or one value for one key).
        short: Drop the keys' dotted prefixes (figure titles have little room).
    """
    if not keys:
        return "all runs"
    values = values if isinstance(values, tuple) else (values,)
    names = short_names(keys) if short else {k: k for k in keys}
    return ", ".join(f"{names[k]}={_fmt(v)}" for k, v in zip(keys, values, strict=True))


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


def fan_layout(
    timeseries: pd.DataFrame, by: Sequence[str], max_panels: int = MAX_PANELS
) -> tuple[list[str], list[str]]:
    """Keys of the panels and of the lines within them.

    A panel per group if there are at most ``max_panels``; else panels by the first key
    and up to ``MAX_LINES`` lines for the other keys; else (a sampling design, where
    every run is its own group) one panel pooling all runs.
    """
    by = list(by)
    if not by or _count(timeseries, by) <= max_panels:
        return by, []
    if _count(timeseries, by[:1]) <= max_panels and _count(timeseries, by[1:]) <= MAX_LINES:
        return by[:1], by[1:]
    return [], []


def _count(frame: pd.DataFrame, keys: Sequence[str]) -> int:
    return len(frame[list(keys)].drop_duplicates()) if keys else 1


# Indicators that lie in [0, 1] (shares and trust): their intervals are clipped there.
UNIT_INTERVAL = frozenset({
    "trust_mean", "trust_balance_weighted", "trust_p10", "trust_p50", "trust_p90",
    "institutional_trust_mean", "satisfaction_mean", "invested_share", "retention_rate",
    "literacy_mean", "violation_rate", "detection_rate", "rumour_reach", "rumour_spreaders",
    "aware_share", "entrant_fraud_share",
})  # fmt: skip


def replicates_of(runs: pd.DataFrame) -> str:
    """What the runs of one group differ by: ``seeds``, ``design rows``, both, or ``runs``."""
    varies = [
        name
        for key, name in (("seed", "seeds"), ("sample", "design rows"))
        if key in runs.columns and runs[key].nunique(dropna=True) > 1
    ]
    return " and ".join(varies) or "runs"


def fan_chart(
    timeseries: pd.DataFrame,
    indicator: str,
    by: Sequence[str] = (),
    *,
    band: tuple[float, float] = BAND,
    max_panels: int = MAX_PANELS,
    across: str = "seeds",
) -> plt.Figure:
    """One panel per group: the median across runs over ticks and its quantile band.

    With more than ``max_panels`` groups, panels are the values of the first key and
    the other keys' combinations are coloured lines in each panel (see
    :func:`fan_layout`). ``across`` says what the runs of a group differ by
    (:func:`replicates_of`).
    """
    panel_by, line_by = fan_layout(timeseries, by, max_panels)
    data = fan_data(timeseries, indicator, [*panel_by, *line_by], band)
    panels = _groups(data, panel_by)
    ncols = math.ceil(math.sqrt(len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    # Limits and margins set by hand rather than sharex/sharey and constrained layout:
    # both cost O(panels^2) in matplotlib, together most of the time of a 25-panel chart.
    # At least as wide as the title, whatever the number of panels.
    width, height = max(min(3.0 * ncols + 1, 20), 6.5), 2.1 * nrows + 1.1
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(
        left=0.8 / width,
        right=1 - 0.2 / width,
        bottom=0.6 / height,
        top=1 - 0.65 / height,
        wspace=0.1,
        hspace=0.38,
    )
    ylim = _limits(data[["low", "median", "high"]].to_numpy(dtype=float))
    xlim = _limits(data["tick"].to_numpy(dtype=float), pad=0.0)
    for ax, (key, part) in zip(axes.flat, panels, strict=False):
        lines = _groups(part, line_by)
        for color, (line_key, line) in zip(_colors(len(lines)), lines, strict=True):
            ax.fill_between(line["tick"], line["low"], line["high"], color=color, alpha=0.25, lw=0)
            name = label(line_by, line_key, short=True)
            ax.plot(line["tick"], line["median"], color=color, lw=1.4, label=name)
        runs = int(part["n"].max()) if len(part) else 0
        ax.set_title(f"{label(panel_by, key, short=True)} (n={runs})", fontsize=8)
        ax.set(xlim=xlim, ylim=ylim)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        ax.label_outer()
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    if line_by:
        axes.flat[0].legend(fontsize=6, loc="best")
    title = f"{indicator}: median across {across}, {band[0]:.0%}-{band[1]:.0%} band"
    fig.suptitle(title, fontsize=11)
    fig.supxlabel("tick (week)", fontsize=9)
    return fig


def _limits(values: np.ndarray, pad: float = 0.05) -> tuple[float, float] | None:
    """Common axis limits of all panels (``None``: let matplotlib choose)."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return None
    low, high = float(finite.min()), float(finite.max())
    margin = pad * (high - low) if high > low else max(abs(high) * 0.05, 0.05)
    return low - margin, high + margin


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


def _levels(values: pd.Series, bins: int) -> tuple[pd.Series, list[float] | None]:
    """The values themselves for a grid; for a sampled (continuous) key, bin midpoints.

    Returns:
        The cell coordinate of each run, and every bin midpoint (``None`` for a grid).
    """
    if values.nunique() <= MAX_LEVELS:
        return values, None
    binned = pd.cut(values, bins)
    mids = [float(f"{b.mid:.4g}") for b in binned.cat.categories]
    return binned.cat.rename_categories(mids).astype(float), mids


def heatmap_data(runs: pd.DataFrame, metric: str, x: str, y: str, bins: int = 8) -> pd.DataFrame:
    """Mean of ``metric`` over complete runs (seeds, other keys) in each ``(y, x)`` cell.

    A key with more than ``MAX_LEVELS`` distinct values (a sampled design rather than a
    grid) is cut into ``bins`` equal-width bins, labelled by their midpoints; empty
    cells are NaN. ``attrs["binned"]`` lists the binned keys.
    """
    done = runs[runs["status"] == "complete"]
    (xs, x_bins), (ys, y_bins) = _levels(done[x], bins), _levels(done[y], bins)
    cells = pd.DataFrame({"x": xs, "y": ys, "v": done[metric]})
    grid = cells.pivot_table(index="y", columns="x", values="v", aggfunc="mean", dropna=False)
    grid = grid.reindex(index=y_bins or grid.index, columns=x_bins or grid.columns)
    grid = grid.rename_axis(index=y, columns=x)
    grid.attrs = {"binned": [k for k, b in ((x, x_bins), (y, y_bins)) if b]}
    return grid


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
    binned = grid.attrs.get("binned")
    note = f"\n({' and '.join(binned)} in equal-width bins)" if binned else ""
    ax.set_title(f"{metric}: mean over {over}{note}", fontsize=10)
    return fig


# ---------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------


def ranking_keys(runs: pd.DataFrame) -> list[str]:
    """Default keys to rank: the group keys, less sampled (continuous) ones.

    In a sampling design every run has its own values, so ranking them would rank noise;
    the keys the design drew are left out however few their values, and so are the levers
    a policy fixes (:func:`without_levers`).
    """
    sampled = set(runs.attrs.get("sampled", ()))
    keys = [
        k
        for k in group_keys(runs)
        if k not in sampled
        and (k not in numeric_keys(runs, [k]) or runs[k].nunique() <= MAX_LEVELS)
    ]
    return without_levers(runs, keys)


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
    sqrt(n)``; NaN for a group with fewer than two values. For an indicator that lies in
    [0, 1] (:data:`UNIT_INTERVAL`) it is clipped to [0, 1]. NaN values (say, trust when
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
    bounded = metric.removeprefix("final_") in UNIT_INTERVAL
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
                "group": label(by, key, short=True),
                **dict(zip(by, key, strict=True)),
                "metric": metric,
                "n": n,
                "n_runs": len(part),
                "mean": mean,
                "std": std,
                "ci_low": max(mean - half, 0.0) if bounded else mean - half,
                "ci_high": min(mean + half, 1.0) if bounded else mean + half,
                "ci_half_width": half,
            }
        )
    columns = ["group", *by, "metric", "n", "n_runs", "mean", "std", "ci_low", "ci_high"]
    table = pd.DataFrame(rows, columns=[*columns, "ci_half_width"])
    table = table.sort_values("mean", ascending=ascending, na_position="last", kind="stable")
    table = table.reset_index(drop=True)
    ranks = pd.Series(np.arange(1, len(table) + 1), dtype="Int64")
    table.insert(0, "rank", ranks.mask(table["mean"].isna()))
    table.attrs = {
        "metric": metric,
        "by": by,
        "confidence": confidence,
        "ascending": ascending,
        "bounded": bounded,
        "across": replicates_of(done),
    }
    return table


def ranking_figure(table: pd.DataFrame, max_shown: int = MAX_RANKED_SHOWN) -> plt.Figure:
    """Dot-and-whisker plot of a :func:`ranking` table, best at the top."""
    metric = table.attrs.get("metric", "mean")
    confidence = table.attrs.get("confidence", 0.95)
    shown = table.head(max_shown)
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(shown) + 1.6), layout="constrained")
    y = np.arange(len(shown))[::-1]
    low = (shown["mean"] - shown["ci_low"]).fillna(0).clip(lower=0)
    high = (shown["ci_high"] - shown["mean"]).fillna(0).clip(lower=0)
    ax.errorbar(
        shown["mean"],
        y,
        xerr=[low.to_numpy(), high.to_numpy()],
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
    clipped = ", clipped to [0, 1]" if table.attrs.get("bounded") else ""
    across = table.attrs.get("across", "seeds")
    ax.set_xlabel(f"{metric}: mean across {across}, {confidence:.0%} t-interval{clipped}")
    ax.grid(axis="x", alpha=0.3)
    more = f" (top {max_shown} of {len(table)})" if len(table) > max_shown else ""
    ax.set_title(f"Ranking by {metric}{more}", fontsize=10)
    return fig
