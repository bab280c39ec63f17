"""The indicator charts: trust, platforms, rumour reach and losses against weeks.

:func:`indicator_figure` draws them for any :class:`~sim.model.TrustModel`; the page keeps
one :class:`IndicatorChart` per model and updates it in place each week (see
:mod:`sim.app.live`). The scenario's events are vertical lines: dotted while to come,
solid once past. Figures use matplotlib's object API, never ``pyplot``.
"""

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator

if TYPE_CHECKING:
    from sim.model import TrustModel

# (panel title, y-axis label, [(column, legend label, colour)], fixed y-limits, or the
# least top of an open-ended axis)
PANELS = (
    (
        "Trust",
        "trust (0-1)",
        [
            ("trust_mean", "in own platforms", "tab:blue"),
            ("institutional_trust_mean", "in the system", "tab:purple"),
        ],
        (0.0, 1.0),
    ),
    ("Platforms open", "platforms", [("platforms_active", "open", "tab:green")], 5.0),
    ("Rumour reach", "share of users", [("rumour_reach", "heard a rumour", "tab:red")], (0, 1)),
    ("Money users lost", "cumulative", [("user_losses_cum", "lost", "tab:brown")], 1000.0),
)
EVENT_LABELS = {
    "policy_shift": "policy",
    "registration_deadline": "deadline",
    "platform_entry": "entry",
    "education_campaign": "education",
    "fraud_collapse": "fraud collapse",
    "self_regulation": "self-regulation",
    "strategy_change": "turnaround",
    "macro_shock": "downturn",
    "data_breach": "breach",
}


def scheduled_events(model: "TrustModel") -> list[tuple[int, str]]:
    """``(tick, label)`` of the scenario's events, merged per tick, in time order."""
    by_tick: dict[int, list[str]] = {}
    schedule = model.timeline.schedule
    for tick in sorted(schedule):
        for event in schedule[tick]:
            label = EVENT_LABELS.get(event.type_name, event.type_name.replace("_", " "))
            if label not in by_tick.setdefault(tick, []):
                by_tick[tick].append(label)
    return [(tick, " + ".join(labels)) for tick, labels in by_tick.items()]


def event_labels(events: list[tuple[int, str]], min_gap: float) -> list[tuple[int, str]]:
    """One label per run of events less than ``min_gap`` weeks apart, at its first tick.

    Labels that would overlap are merged, counting repeats: ``policy, entry ×6``.

    Example:
        >>> event_labels([(1, "policy"), (10, "entry"), (20, "entry"), (104, "policy")], 18)
        [(1, 'policy, entry ×2'), (104, 'policy')]
    """
    groups: list[tuple[int, int, dict[str, int]]] = []  # (first tick, last tick, counts)
    for tick, label in events:
        if groups and tick - groups[-1][1] < min_gap:
            first, _, counts = groups[-1]
            groups[-1] = (first, tick, counts)
        else:
            counts = {}
            groups.append((tick, tick, counts))
        for part in label.split(" + "):
            counts[part] = counts.get(part, 0) + 1
    return [
        (first, ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counts.items()))
        for first, _, counts in groups
    ]


def indicator_series(model: "TrustModel") -> pd.DataFrame:
    """The page's indicators per tick so far (from the DataCollector, read defensively).

    Reads the collector's lists directly and cuts them to a common length, so that a
    redraw while a step is being recorded does not fail.
    """
    data = model.datacollector.model_vars
    columns = ["tick"] + [col for _, _, lines, _ in PANELS for col, *_ in lines]
    length = min(len(data[col]) for col in columns)
    return pd.DataFrame({col: list(data[col][:length]) for col in columns})


def nice_top(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7.5 times a power of ten that is >= ``value``."""
    if not value > 0 or not np.isfinite(value):
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return next(m * power for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * power >= value * 0.9999)


class IndicatorChart:
    """The main indicators against weeks, the scenario's events as vertical lines.

    The x-axis spans the whole run, so events to come show as dotted grey lines and
    those that have happened as solid dark ones, labelled on the top panels. A subclass
    may draw other panels (:meth:`make_panels`) from other series (:meth:`series`).
    """

    title = "Indicators"
    one_legend = False  # a legend on every panel with several lines, or on the first only
    legend_size = 10

    def __init__(self, model: "TrustModel", figsize=(5.6, 4.6)):
        self.panels = self.make_panels(model)
        self.horizon = model.cfg.ticks
        self.events = scheduled_events(model)
        # A fixed layout (no layout engine): a full redraw then matches a blitted frame.
        self.figure = fig = Figure(figsize=figsize, dpi=100)
        margins = {"left": 0.1, "right": 0.98, "bottom": 0.1, "top": 0.87, "wspace": 0.36}
        axes = fig.subplots(2, 2, sharex=True, gridspec_kw={**margins, "hspace": 0.32})
        self.axes = list(axes.flat)
        self.lines: dict[str, Line2D] = {}
        self.event_lines: list[list[Line2D]] = [[] for _ in self.events]
        self.event_texts = []
        for ax, (title, ylabel, lines, ylim) in zip(self.axes, self.panels, strict=True):
            for column, label, colour, *style in lines:  # an optional 4th: the line style
                (self.lines[column],) = ax.plot(
                    [], [], color=colour, lw=2.2, label=label, marker="o", ms=5, markevery=[],
                    ls=style[0] if style else "-",
                )  # fmt: skip
            for i, (tick, _) in enumerate(self.events):
                self.event_lines[i].append(ax.axvline(tick, lw=1.0))
            ax.set_title(title, fontsize=12, loc="left", fontweight="bold")
            ax.set_ylabel(ylabel, fontsize=10.5)
            ax.set_xlim(0, self.horizon)
            ax.set_ylim(*(ylim if isinstance(ylim, tuple) else (0.0, nice_top(ylim))))
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=10)
            if len(lines) > 1 and (ax is self.axes[0] or not self.one_legend):
                ax.legend(fontsize=self.legend_size, loc="lower right", handlelength=3)
        self.axes[3].yaxis.set_major_formatter(EngFormatter())
        self.axes[1].yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        for ax in self.axes[2:]:
            ax.set_xlabel("week", fontsize=10.5)
        self.labels = event_labels(self.events, min_gap=0.07 * self.horizon)
        for tick, label in self.labels:
            for ax in self.axes[:2]:
                self.event_texts.append(
                    ax.text(tick, 0.98, label, transform=ax.get_xaxis_transform(), rotation=90,
                            va="top", ha="left" if tick < 0.08 * self.horizon else "right",
                            fontsize=9,
                            bbox={"fc": "white", "ec": "none", "alpha": 0.75, "pad": 1})
                )  # fmt: skip
        self.week = fig.suptitle("", fontsize=13)
        self.passed = -1

    def make_panels(self, model: "TrustModel") -> tuple:
        """The panels, as in :data:`PANELS`."""
        return PANELS

    def series(self, model: "TrustModel") -> pd.DataFrame:
        """A ``tick`` column and one per line of the panels, up to this week."""
        return indicator_series(model)

    def update(self, model: "TrustModel") -> None:
        """Draw the indicators up to this week; rescale the open-ended panels."""
        series = self.series(model)
        for column, line in self.lines.items():
            line.set_data(series["tick"].to_numpy(), series[column].to_numpy())
            line.set_markevery([len(series) - 1] if len(series) else [])  # a dot at "now"
        for ax, (_, _, lines, ylim) in zip(self.axes, self.panels, strict=True):
            if not isinstance(ylim, tuple):
                peak = max(float(np.nanmax(series[c].to_numpy(), initial=0.0)) for c, *_ in lines)
                top = nice_top(max(peak * 1.1, ylim))
                if ax.get_ylim()[1] != top:
                    ax.set_ylim(0.0, top)
        passed = sum(tick <= model.tick for tick, _ in self.events)
        if passed != self.passed:
            self.passed = passed
            for i, lines in enumerate(self.event_lines):
                for line in lines:
                    line.set(color="0.25" if i < passed else "0.65", ls="-" if i < passed else ":")
            for j, text in enumerate(self.event_texts):
                text.set_color("0.1" if self.labels[j // 2][0] <= model.tick else "0.55")
        self.week.set_text(f"{self.title}, week {model.tick} of {self.horizon}")

    def dynamic(self) -> list[Artist]:
        """Artists that change every week."""
        return [*self.lines.values(), self.week]

    def background_key(self) -> Any:
        """What, when it changes, needs the static part redrawn."""
        return (self.passed, *(ax.get_ylim() for ax in self.axes))


def indicator_figure(model: "TrustModel") -> Figure:
    """The indicator charts of ``model`` up to this week, as a standalone figure."""
    chart = IndicatorChart(model)
    chart.update(model)
    return chart.figure
