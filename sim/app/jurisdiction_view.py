"""The jurisdictions side by side: each one's indicators as a line of its own colour.

Shown on the page when the scenario declares several jurisdictions (seed 5.3, 7.5, 9.8):
its residents' trust in their platforms and in the system, the platforms licensed there
and the money its residents lost, from the model's per-jurisdiction table
(``jurisdictions.parquet``). The scenario's events are marked as on the main charts.
"""

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib import colormaps

from sim.app.indicators import IndicatorChart

if TYPE_CHECKING:
    from sim.model import TrustModel

# (panel title, y-axis label, column of the jurisdictions' table, fixed y-limits, or the
# least top of an open-ended axis), laid out as the main charts' (counts top right, money
# bottom right).
JURISDICTION_PANELS = (
    ("Trust in own platforms", "trust (0-1)", "trust_mean", (0.0, 1.0)),
    ("Platforms licensed", "open platforms", "platforms_active", 5.0),
    ("Trust in the system", "trust (0-1)", "institutional_trust_mean", (0.0, 1.0)),
    ("Money residents lost", "cumulative", "user_losses_cum", 1000.0),
)


def jurisdiction_names(model: "TrustModel") -> list[str]:
    """The jurisdictions' names, in order (one, ``home``, when none is declared)."""
    return list(model.recorder.jurisdictions)


def jurisdiction_series(model: "TrustModel") -> pd.DataFrame:
    """One row per tick so far; a column ``COLUMN@NAME`` per panel and jurisdiction."""
    names = jurisdiction_names(model)
    table = model.jurisdiction_table()
    columns = [f"{column}@{name}" for _, _, column, _ in JURISDICTION_PANELS for name in names]
    if table.empty:
        return pd.DataFrame({"tick": [], **{c: [] for c in columns}}, dtype=float)
    wide = table.pivot(index="tick", columns="jurisdiction")
    wide.columns = [f"{column}@{name}" for column, name in wide.columns]
    return wide.reindex(columns=columns).reset_index()


class JurisdictionChart(IndicatorChart):
    """Each jurisdiction's indicators against weeks, a colour per jurisdiction."""

    title = "Jurisdictions side by side"
    one_legend = True

    def make_panels(self, model: "TrustModel") -> tuple:
        """One line per jurisdiction in each of :data:`JURISDICTION_PANELS`."""
        names = jurisdiction_names(model)
        colours = colormaps["tab10"].colors
        return tuple(
            (
                title,
                ylabel,
                [
                    (f"{column}@{name}", name, colours[k % len(colours)])
                    for k, name in enumerate(names)
                ],
                ylim,
            )
            for title, ylabel, column, ylim in JURISDICTION_PANELS
        )

    def series(self, model: "TrustModel"):  # noqa: D102
        return jurisdiction_series(model)
