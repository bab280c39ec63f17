"""Sweep reports: ``trustsim-report SWEEP_DIR`` writes ``SWEEP_DIR/report/``.

The report of a Hydra multirun folder (complete, partial, failed or still running; only
runs with a ``summary.json`` are read):

* ``runs.parquet``: one row per run folder (status, typed overrides, final indicators);
* ``timeseries.parquet``: every complete run's timeseries with its run id and swept keys;
* ``fan_<indicator>.png``: median and 10-90% band across seeds, one panel per group
  (a combination of the swept keys other than the seed);
* ``heatmap_*.png``: a final indicator over each pair of swept numeric keys;
* ``ranking.csv/.parquet/.png``: groups ranked by a final indicator, 95% t-intervals;
* ``sensitivity.csv/.png`` with ``--sensitivity`` (:mod:`sim.report.sensitivity`);
* ``index.html``: all of it on one page.

From Python::

    from sim.report import collect_runs, collect_timeseries, fan_chart, ranking
    runs = collect_runs("multirun/penalty_disclosure_grid")
    ts = collect_timeseries("multirun/penalty_disclosure_grid", runs)
"""

from sim.report.build import main, write_report
from sim.report.collect import (
    ReportError,
    collect_runs,
    collect_timeseries,
    group_keys,
    swept_keys,
)
from sim.report.figures import (
    fan_chart,
    fan_data,
    fan_layout,
    heatmap,
    heatmap_data,
    numeric_keys,
    ranking,
    ranking_figure,
)

__all__ = [
    "ReportError",
    "collect_runs",
    "collect_timeseries",
    "fan_chart",
    "fan_data",
    "fan_layout",
    "group_keys",
    "heatmap",
    "heatmap_data",
    "main",
    "numeric_keys",
    "ranking",
    "ranking_figure",
    "swept_keys",
    "write_report",
]
