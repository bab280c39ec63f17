"""Two worlds side by side: the main indicators of both on shared axes.

The page's comparison (``compare``): the same parameters and seed in both worlds but for
one choice, so that the two lines differ only by what that choice does. World A is drawn
solid and world B dashed, in the colours of the main charts.
"""

from typing import TYPE_CHECKING

import pandas as pd

from sim.app.indicators import PANELS, IndicatorChart, indicator_series

if TYPE_CHECKING:
    from sim.app.factory import ClassroomModel


class CompareChart(IndicatorChart):
    """The main indicators of world A (solid) and world B (dashed) against weeks."""

    title = "A (solid) and B (dashed)"
    legend_size = 8

    def make_panels(self, model: "ClassroomModel") -> tuple:
        """Each panel of :data:`PANELS` with a line per world."""
        return tuple(
            (
                title,
                ylabel,
                [
                    (
                        f"{column}{suffix}",
                        f"{world}: {label}" if len(lines) > 1 else world,
                        colour,
                        style,
                    )
                    for column, label, colour in lines
                    for suffix, world, style in (("", "A", "-"), ("@B", "B", "--"))
                ],
                ylim,
            )
            for title, ylabel, lines, ylim in PANELS
        )

    def series(self, model: "ClassroomModel") -> pd.DataFrame:
        """Both worlds' indicators so far, B's columns suffixed ``@B``."""
        a = indicator_series(model)
        b = indicator_series(model.other).drop(columns="tick").add_suffix("@B")
        n = min(len(a), len(b))  # a redraw between the two worlds' steps
        return pd.concat([a.iloc[:n], b.iloc[:n]], axis=1)
