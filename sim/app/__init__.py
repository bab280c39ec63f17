"""The educators' interactive page: Mesa's SolaraViz around the trust model.

``trustsim-app`` (``make app``) serves it on ``http://127.0.0.1:$PORT``. The pieces:
:mod:`sim.app.factory` (the page's parameters and the model they build),
:mod:`sim.app.network_view`, :mod:`sim.app.indicators` and :mod:`sim.app.table`
(what is drawn), :mod:`sim.app.live` (fast redraws), :mod:`sim.app.page` (the
Solara page) and :mod:`sim.app.server` (the entry point).
"""

from sim.app.factory import ClassroomModel, build_model, model_params, page_config
from sim.app.server import main

__all__ = ["ClassroomModel", "build_model", "main", "model_params", "page_config"]
