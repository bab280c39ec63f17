"""Benchmark: ``write_report`` on a synthetic sweep of 1,000 runs x 261 ticks.

Informational (no target): a fresh child process writes 1,000 run folders with the layout
of a real sweep (``sim.report.synthetic``: random numbers in the real timeseries
columns, 40 seeds x 5 penalties x 5 disclosure floors, like
``+experiment=penalty_disclosure_grid``) into a temporary folder, then times
``sim.report.write_report`` on it (wall and CPU time), then its two reading phases and
its fan charts on their own.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import log, quiet, run_child

NAME = "report_speed"
TITLE = "Sweep report of 1,000 runs (informational)"
PENALTIES = [0.0, 0.01, 0.02, 0.05, 0.1]
DISCLOSURE = [0.0, 0.25, 0.5, 0.75, 1.0]
FULL = {"seeds": 40, "ticks": 260, "timed": 2}
QUICK = {"seeds": 4, "ticks": 260, "timed": 2}


def measure(seeds: int, ticks: int, timed: int) -> dict[str, Any]:
    """Child process: synthesise the sweep, then time the report and its phases."""
    quiet()
    from sim.plotting import figure_png
    from sim.report import collect_runs, collect_timeseries, fan_chart, group_keys, write_report
    from sim.report.figures import DEFAULT_INDICATORS
    from sim.report.synthetic import make_sweep

    with tempfile.TemporaryDirectory(prefix="trustsim-report-bench-") as tmp:
        sweep = Path(tmp) / "sweep"
        params = {
            "seed": range(seeds),
            "regulator.penalty": PENALTIES,
            "regulator.disclosure_mandate": DISCLOSURE,
        }
        t0 = time.perf_counter()
        jobs = make_sweep(sweep, params, ticks=ticks)
        synth_s = time.perf_counter() - t0
        runs = len(jobs)
        log(f"  {runs} synthetic runs written in {synth_s:.0f} s; timing write_report")
        report_s, report_cpu_s = [], []
        for i in range(timed):
            c0, t0 = time.process_time(), time.perf_counter()
            out = write_report(sweep)
            report_s.append(time.perf_counter() - t0)
            report_cpu_s.append(time.process_time() - c0)
            log(f"  write_report #{i + 1}: {report_s[-1]:.1f} s (CPU {report_cpu_s[-1]:.1f} s)")
        t0 = time.perf_counter()
        table = collect_runs(sweep)
        runs_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        timeseries = collect_timeseries(sweep, table)
        timeseries_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for indicator in DEFAULT_INDICATORS:
            figure_png(fan_chart(timeseries, indicator, group_keys(table)))
        fans_s = time.perf_counter() - t0
        sizes = {p.name: p.stat().st_size for p in out.iterdir()}
        one_run = (sweep / "0" / "timeseries.parquet").stat().st_size
    return {
        "runs": runs,
        "ticks": ticks,
        "columns": timeseries.shape[1],
        "timeseries_rows": len(timeseries),
        "synth_s": synth_s,
        "report_s": report_s,
        "report_cpu_s": report_cpu_s,
        "fan_charts_s": fans_s,
        "indicators": list(DEFAULT_INDICATORS),
        "collect_runs_s": runs_s,
        "collect_timeseries_s": timeseries_s,
        "report_files": sizes,
        "run_timeseries_bytes": one_run,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Time the report in a fresh child; record seconds and runs per second."""
    p = QUICK if quick else FULL
    n = p["seeds"] * len(PENALTIES) * len(DISCLOSURE)
    log(f"{NAME}: {n} runs x {p['ticks'] + 1} ticks")
    raw = run_child(NAME, "measure", **p)
    seconds = statistics.median(raw["report_s"])
    cpu_seconds = statistics.median(raw["report_cpu_s"])
    rate = raw["runs"] / seconds
    log(
        f"{NAME}: write_report on {raw['runs']} runs: {seconds:.1f} s ({rate:.0f} runs/s; "
        f"CPU {cpu_seconds:.1f} s)"
    )
    total_mb = sum(raw["report_files"].values()) / 1e6
    rows = [
        ["**write_report (whole report)**", f"**{seconds:.2f}**", f"**{rate:.0f}**"],
        ["write_report, CPU time", f"{cpu_seconds:.2f}", f"{raw['runs'] / cpu_seconds:.0f}"],
        [
            "collect_runs (summary.json + overrides of every folder)",
            f"{raw['collect_runs_s']:.2f}",
            f"{raw['runs'] / raw['collect_runs_s']:.0f}",
        ],
        [
            f"collect_timeseries ({raw['timeseries_rows']:,} rows x {raw['columns']} columns)",
            f"{raw['collect_timeseries_s']:.2f}",
            f"{raw['runs'] / raw['collect_timeseries_s']:.0f}",
        ],
        [
            f"of which: {len(raw['indicators'])} fan charts, drawn and rendered to PNG",
            f"{raw['fan_charts_s']:.2f}",
            "-",
        ],
    ]
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"Child process: `sim.report.synthetic.make_sweep` writes {raw['runs']} run "
            f"folders ({p['seeds']} seeds x {len(PENALTIES)} `regulator.penalty` x "
            f"{len(DISCLOSURE)} `regulator.disclosure_mandate`), each with a "
            f"{raw['ticks'] + 1}-row `timeseries.parquet` of random numbers in the real "
            f"columns ({raw['run_timeseries_bytes'] / 1e3:.0f} kB each), `summary.json` and "
            f"`.hydra/`; that took {raw['synth_s']:.0f} s and is not timed.",
            f"`write_report(sweep)` is timed {len(raw['report_s'])} times (median shown; "
            "all: " + ", ".join(f"{s:.2f}" for s in raw["report_s"]) + " s): runs and "
            "timeseries tables, 6 fan charts of 25 panels, one heatmap, the ranking and "
            f"index.html ({total_mb:.0f} MB of files; random numbers compress worse than "
            "real runs).",
            "The two reading phases and the fan charts are then timed on their own (warm "
            "page cache). On a shared machine, compare wall and CPU seconds.",
        ],
        "tables": [{"columns": ["phase", "seconds", "runs/s"], "rows": rows}],
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "runs_per_s": rate,
        "raw": raw,
    }
