"""The report's figures: fans of scenarios against baseline, effect intervals, Morris.

Figures are built as ``matplotlib.figure.Figure`` objects on the Agg canvas, never through
pyplot's global figure manager, and rendered without timestamp metadata so that the
same numbers give the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.behaviour.measures import Indicator, series
from sim.behaviour.runs import Arm, RunResult
from sim.behaviour.stats import LEVEL, band
from sim.behaviour.studies import FactorResult, ScenarioPlan

DPI = 90
COLUMNS = 4  # panels per row in grids
SCENARIO_COLOUR, BASELINE_COLOUR = "tab:red", "0.35"
LABELLED_POINTS = 6  # Morris: parameters named in each panel


def png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes (Agg, no metadata that changes between runs)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _grid(n: int, width: float = 3.3, height: float = 2.4) -> tuple[Figure, list]:
    rows = max(1, math.ceil(n / COLUMNS))
    cols = min(COLUMNS, max(1, n))
    fig = Figure(figsize=(width * cols, height * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def _stack(
    results: Mapping[tuple[str, int], RunResult], arm: Arm, seeds: Sequence[int], ind: Indicator
) -> tuple[np.ndarray, np.ndarray]:
    runs = [results[(arm.label, s)] for s in seeds]
    ticks = runs[0].timeseries["tick"].to_numpy(dtype=float)
    values = np.vstack([series(r, ind.columns) for r in runs])
    return ticks, values


def scenario_figure(
    plan: ScenarioPlan,
    baseline: Arm,
    results: Mapping[tuple[str, int], RunResult],
    seeds: Sequence[int],
    indicators: Sequence[Indicator],
) -> Figure:
    """Median and 95 % band over seeds of each indicator, scenario against baseline.

    Dashed lines mark the scenario's events, a dotted line the week read after the first.
    """
    fig, axes = _grid(len(indicators))
    for ax, ind in zip(axes, indicators, strict=True):
        for arm, colour, name in (
            (baseline, BASELINE_COLOUR, "baseline"),
            (plan.arm, SCENARIO_COLOUR, plan.name),
        ):
            ticks, values = _stack(results, arm, seeds, ind)
            median, low, high = band(values)
            ax.fill_between(ticks, low, high, color=colour, alpha=0.2, lw=0)
            ax.plot(ticks, median, color=colour, lw=1.3, label=name)
        for tick in plan.event_ticks:
            ax.axvline(tick, color="black", lw=0.7, ls="--", alpha=0.6)
        if plan.point is not None:
            ax.axvline(plan.point, color="black", lw=0.7, ls=":", alpha=0.6)
        ax.set_title(ind.name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{plan.name} vs baseline: median and {LEVEL:.0%} band over {len(seeds)} seeds "
        "(dashed: events; dotted: 26 weeks after the first)",
        fontsize=10,
    )
    return fig


def effects_figure(
    factors: Sequence[FactorResult], indicators: Sequence[Indicator], title: str
) -> Figure:
    """Each factor's effect (high - low) with its 95 % interval, one panel per indicator."""
    fig, axes = _grid(len(indicators), width=3.6, height=0.32 * len(factors) + 1.2)
    names = [f"{r.factor.name}" for r in factors]
    y = np.arange(len(factors))[::-1]
    for ax, ind in zip(axes, indicators, strict=True):
        for yi, result in zip(y, factors, strict=True):
            effect = next((e for e in result.effects if e.outcome == ind.name), None)
            if effect is None or not math.isfinite(effect.paired.diff):
                continue
            p = effect.paired
            colour = {1: "tab:blue", -1: "tab:red", 0: "0.55"}[p.sign]
            lo = p.lo if math.isfinite(p.lo) else p.diff
            hi = p.hi if math.isfinite(p.hi) else p.diff
            ax.plot([lo, hi], [yi, yi], color=colour, lw=2)
            ax.plot([p.diff], [yi], "o", color=colour, ms=4)
        ax.axvline(0, color="black", lw=0.7)
        ax.xaxis.set_major_locator(MaxNLocator(4))  # money axes would crowd their labels
        ax.set_yticks(y, names, fontsize=7)
        ax.set_title(ind.name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return fig


def morris_figure(table: pd.DataFrame) -> Figure:
    """mu* against sigma per output; the parameters with the largest mu* are named."""
    outputs = list(dict.fromkeys(table["output"])) or ["(no output)"]
    fig, axes = _grid(len(outputs), width=4.6, height=3.8)
    for ax, output in zip(axes, outputs, strict=True):
        sub = table[table["output"] == output]
        ax.scatter(sub["mu_star"], sub["sigma"], s=10, color="tab:blue", alpha=0.7)
        for _, row in sub.nlargest(LABELLED_POINTS, "mu_star").iterrows():
            ax.annotate(
                row["parameter"].split(".", 1)[-1],
                (row["mu_star"], row["sigma"]),
                fontsize=6,
                xytext=(3, 2),
                textcoords="offset points",
            )
        top = float(max(sub["mu_star"].max(), sub["sigma"].max(), 0.0)) if len(sub) else 1.0
        ax.plot([0, top], [0, top], color="0.6", lw=0.7, ls="--")
        ax.set_xlabel("mu*", fontsize=8)
        ax.set_ylabel("sigma", fontsize=8)
        ax.set_title(output, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Morris screening: mu* (overall effect) vs sigma (interactions, non-linearity)")
    return fig
