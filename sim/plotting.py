"""Figures of a run's main indicators (plain matplotlib, no display needed)."""

import io

import matplotlib

matplotlib.use("Agg")  # files only: runs on clusters and in CI without a display

import matplotlib.pyplot as plt
import pandas as pd

PANELS = (
    ("Trust", ("trust_mean", "trust_balance_weighted", "institutional_trust_mean")),
    ("Users", ("satisfaction_mean", "retention_rate", "invested_share")),
    ("Platforms", ("platforms_active", "platforms_collapsed", "platforms_wound_down")),
    ("Regulation", ("violation_rate", "detection_rate")),
    ("Money", ("aum_total", "user_losses_cum")),
    ("Word of mouth", ("wom_net",)),
)


def indicators_figure(timeseries: pd.DataFrame, title: str = "") -> plt.Figure:
    """A 3x2 grid of the main indicators against ticks (weeks)."""
    fig, axes = plt.subplots(3, 2, figsize=(11, 9), sharex=True, layout="constrained")
    for ax, (name, columns) in zip(axes.flat, PANELS, strict=True):
        for column in columns:
            if column in timeseries:
                ax.plot(timeseries["tick"], timeseries[column], label=column, lw=1.4)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("tick (week)")
    if title:
        fig.suptitle(title)
    return fig


def figure_png(fig: plt.Figure) -> bytes:
    """Render a figure to PNG bytes (no timestamp metadata, so reruns are identical)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
