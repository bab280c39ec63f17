"""Fast redraws for the page: the static part of a chart is drawn once, the rest per week.

A chart (:class:`~sim.app.network_view.NetworkChart`,
:class:`~sim.app.indicators.IndicatorChart`)
names the artists that change every week and a key for everything else. While the key
stays the same, a frame restores the saved background and draws only those artists
(matplotlib's blitting), about ten times faster than drawing the whole figure.
"""

import io
import threading
import weakref
from typing import Any, Protocol

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


class Chart(Protocol):
    """What :class:`LiveChart` needs of a chart."""

    figure: Figure

    def update(self, model: Any) -> None: ...  # noqa: D102

    def dynamic(self) -> list[Artist]: ...  # noqa: D102

    def background_key(self) -> Any: ...  # noqa: D102


class LiveChart:
    """A chart rendered to PNG bytes with blitting; safe to call from several threads."""

    def __init__(self, chart: Chart):
        self.chart = chart
        self.canvas = FigureCanvasAgg(chart.figure)
        for artist in chart.dynamic():
            artist.set_animated(True)  # left out of full draws: drawn per frame instead
        self._key: Any = object()
        self._background = None
        self._lock = threading.Lock()

    def png(self, model: Any) -> bytes:
        """The chart for the model's current week."""
        with self._lock:
            self.chart.update(model)
            key = self.chart.background_key()
            if key != self._key or self._background is None:
                self.canvas.draw()
                self._background = self.canvas.copy_from_bbox(self.chart.figure.bbox)
                self._key = key
            else:
                self.canvas.restore_region(self._background)
            for artist in self.chart.dynamic():
                self.chart.figure.draw_artist(artist)
            pixels = np.asarray(self.canvas.buffer_rgba())
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
            return buffer.getvalue()


_CHARTS_LOCK = threading.Lock()
# Each model's charts, kept by the page (not on the model) and gone with the model.
_CHARTS: weakref.WeakKeyDictionary[Any, dict[str, LiveChart]] = weakref.WeakKeyDictionary()


def live_chart(model: Any, name: str, make: type) -> LiveChart:
    """The model's live chart ``name``, built with ``make(model)`` on first use."""
    with _CHARTS_LOCK:
        charts = _CHARTS.setdefault(model, {})
        if name not in charts:
            charts[name] = LiveChart(make(model))
        return charts[name]
