"""``write_report``: a sweep folder -> its report folder; ``main``: the console script."""

import argparse
import importlib
import itertools
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.files import CALIBRATION, JURISDICTIONS, TIMESERIES
from sim.output import atomic_write_bytes, read_json, write_parquet
from sim.plotting import figure_png
from sim.report import page as html_page
from sim.report.collect import (
    ReportError,
    collect_runs,
    collect_timeseries,
    final_column,
    group_keys,
    sweep_info,
    swept_keys,
    task_overrides,
    without_levers,
)
from sim.report.figures import (
    DEFAULT_INDICATORS,
    MAX_PANELS,
    fan_chart,
    heatmap,
    numeric_keys,
    ranking,
    ranking_figure,
    ranking_keys,
    replicates_of,
)

REPORT_DIR = "report"
MAX_HEATMAPS = 6  # pairs of numeric keys; beyond that the page is a wall of squares
# Files this module writes; ones not written again are removed so the page never shows
# a figure from an earlier state of the sweep next to a newer one.
OWN_FILES = (
    "fan_*.png",
    "jurisdiction_*.png",
    "heatmap_*.png",
    "ranking.*",
    "sensitivity.*",
    "calibration.png",
    "discover_*",
    "robust*",
    "pareto.png",
)
# Indicators of jurisdictions.parquet drawn side by side, when runs have several.
JURISDICTION_INDICATORS = (
    "trust_mean",
    "institutional_trust_mean",
    "user_losses_cum",
    "violation_rate",
    "platforms_active",
)


class SensitivityError(RuntimeError):
    """``--sensitivity`` was asked for but the analysis could not be made."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def default_metric(runs: pd.DataFrame) -> str | None:
    """``final_trust_mean`` or, for another model (Ishigami), its first final column."""
    finals = [c for c in runs.columns if c.startswith("final_") and c != "final_tick"]
    if "final_trust_mean" in finals or not finals:
        return "final_trust_mean" if finals else None
    return finals[0]


def _column(name: str, runs: pd.DataFrame, what: str) -> str:
    """A runs-table column by name; ``trust_mean`` is short for ``final_trust_mean``."""
    if name not in runs.columns and final_column(runs, name) is not None:
        return f"final_{name}"
    finals = [c for c in runs.columns if c.startswith(("final_", "agg_"))]
    _check([name], finals if what == "final indicator" else list(runs.columns), what)
    return name


def _check(names: Sequence[str], available: Sequence[str], what: str) -> None:
    unknown = [n for n in names if n not in available]
    if unknown:
        shown = ", ".join(available) if available else "none yet"
        raise ReportError(f"unknown {what} {', '.join(unknown)}; available: {shown}")


def _png(out: Path, name: str, fig) -> str:
    atomic_write_bytes(out / name, figure_png(fig))
    return name


def _sensitivity(
    sweep_dir: Path, runs: pd.DataFrame, outputs: list[str], out: Path
) -> tuple[pd.DataFrame, str]:
    """Run ``sim.report.sensitivity`` (imported only now: an optional, separate analysis)."""
    try:
        module = importlib.import_module("sim.report.sensitivity")
        # Complete runs only: a failed run's NaN outputs must not enter a design row's mean.
        indices = module.analyze(sweep_dir, runs[runs["status"] == "complete"], outputs)
        fig = module.sensitivity_figure(indices)
    except Exception as err:
        raise SensitivityError(f"{type(err).__name__}: {err}") from err
    atomic_write_bytes(out / "sensitivity.csv", indices.to_csv(index=False).encode())
    return indices, _png(out, "sensitivity.png", fig)


def _remove_stale(out: Path, written: set[str]) -> None:
    """Remove this module's files that this report did not write again."""
    for pattern in OWN_FILES:
        for stale in out.glob(pattern):
            if stale.name not in written:
                stale.unlink(missing_ok=True)


def _heatmaps(
    runs: pd.DataFrame, metric: str, by: list[str], out: Path, page: html_page.Page
) -> None:
    pairs = list(itertools.combinations(numeric_keys(runs, by), 2))
    for x, y in pairs[:MAX_HEATMAPS]:
        name = f"heatmap_{_slug(metric)}_{_slug(x)}_{_slug(y)}.png"
        caption = f"{metric} over {x} and {y}, mean over seeds"
        page.figures.append(
            html_page.Figure("heatmap", caption, _png(out, name, heatmap(runs, metric, x, y)))
        )
    if len(pairs) > MAX_HEATMAPS:
        page.notes.append(f"Heatmaps of the first {MAX_HEATMAPS} of {len(pairs)} key pairs only.")


def _ranking(
    runs: pd.DataFrame,
    metric: str,
    rank_by: Sequence[str] | None,
    ascending: bool,
    out: Path,
    page: html_page.Page,
) -> None:
    rank_by = list(rank_by) if rank_by is not None else ranking_keys(runs)
    by = group_keys(runs)
    if by and not rank_by:
        page.ranking_note = (
            f"No ranking: every swept key ({', '.join(by)}) is sampled, so each run has "
            "values of its own; see the heatmaps and --sensitivity, or name keys with --rank-by."
        )
        return
    table = ranking(runs, metric, rank_by, ascending=ascending)
    atomic_write_bytes(out / "ranking.csv", table.to_csv(index=False).encode())
    write_parquet(out / "ranking.parquet", table)
    page.ranking = table
    caption = f"Ranking by {metric} with 95% confidence intervals"
    page.figures.append(
        html_page.Figure("ranking", caption, _png(out, "ranking.png", ranking_figure(table)))
    )


def _jurisdictions(
    sweep_dir: Path,
    runs: pd.DataFrame,
    by: Sequence[str],
    out: Path,
    page: html_page.Page,
    max_panels: int,
) -> None:
    """Runs with several jurisdictions: their indicators side by side, a group each."""
    table = collect_timeseries(sweep_dir, runs, file=JURISDICTIONS)
    if not len(table):
        return
    across = replicates_of(runs[runs["status"] == "complete"])
    for indicator in (i for i in JURISDICTION_INDICATORS if i in table.columns):
        fig = fan_chart(
            table, indicator, [*by, "jurisdiction"], max_panels=max_panels, across=across
        )
        caption = f"{indicator} by jurisdiction: median and 10-90% band across {across}, per group"
        name = f"jurisdiction_{_slug(indicator)}.png"
        page.figures.append(html_page.Figure("fan", caption, _png(out, name, fig)))


def _discover(
    runs: pd.DataFrame, expressions: Sequence[str], out: Path, page: html_page.Page
) -> set[str]:
    """Scenario discovery for each expression: PRIM, CART and feature scores (files, page)."""
    from sim.report.discovery import discover

    written: set[str] = set()
    for k, expression in enumerate(expressions, 1):
        found = discover(runs, expression)
        stem = f"discover_{k}"
        section = html_page.Discovery(found, stem)
        if found.note:
            page.discoveries.append(section)
            continue
        tables = {
            "box": found.box,
            "trajectory": found.trajectory,
            "cart": found.cart,
            "scores": found.scores,
        }
        for name, table in tables.items():
            atomic_write_bytes(out / f"{stem}_{name}.csv", table.to_csv(index=False).encode())
            written.add(f"{stem}_{name}.csv")
        for name, fig in found.figures.items():
            section.figures[name] = _png(out, f"{stem}_{name}.png", fig)
            written.add(section.figures[name])
        page.discoveries.append(section)
    return written


def _robust(
    runs: pd.DataFrame,
    outcomes: Sequence[str] | None,
    satisfice: Sequence[str],
    out: Path,
    page: html_page.Page,
) -> set[str]:
    """Regret and satisficing of each policy of a deep-uncertainty design (files, page)."""
    from sim.report import robust

    if not robust.is_deep_uncertainty(runs):
        if outcomes or satisfice:
            robust.robustness(runs, [])  # raises, saying what the options need
        return set()
    found = robust.robustness(runs, robust.parse_outcomes(outcomes, runs), list(satisfice))
    atomic_write_bytes(out / "robust.csv", found.table.to_csv(index=False).encode())
    atomic_write_bytes(out / "robust_worlds.csv", found.regret.to_csv(index=False).encode())
    page.robust = found
    caption = "Regret of each policy across the sampled worlds (box: quartiles; triangle: mean)"
    page.figures.append(
        html_page.Figure("robust", caption, _png(out, "robust.png", robust.regret_figure(found)))
    )
    return {"robust.csv", "robust_worlds.csv"}


def _pareto(sweep_dir: Path, out: Path, page: html_page.Page) -> None:
    """A multi-objective search's Pareto front (table and figure), if the folder holds one."""
    from sim.report import pareto

    found = pareto.read_results(sweep_dir)
    if found is None:
        return
    trials, objectives = found
    front = trials[trials["pareto"]].drop(columns=["pareto", "state"])
    page.pareto = front.sort_values(next(iter(objectives))).reset_index(drop=True)
    page.pareto.attrs = {
        "objectives": objectives,
        "trials": int((trials.state == "complete").sum()),
    }
    if len(front):
        caption = "Pareto front of the search: every pair of objectives (red: non-dominated)"
        fig = pareto.pareto_figure(trials, objectives)
        page.figures.append(html_page.Figure("pareto", caption, _png(out, "pareto.png", fig)))


def _calibration(sweep_dir: Path, out: Path, page: html_page.Page) -> None:
    """A calibration's fan chart of the near-optimal runs against the record, if any."""
    result = read_json(sweep_dir / CALIBRATION)
    if not isinstance(result, dict) or not result.get("near_optimal"):
        return
    from sim.report.calibration import fan_chart as calibration_fan_chart

    fig = calibration_fan_chart(sweep_dir, result)
    best = result["best"]
    holdout = best.get("distance_holdout")
    caption = (
        f"Calibration to {result['target']} (fit to {result['fit_until']}): "
        f"{len(result['near_optimal']['trials'])} near-optimal trials of "
        f"{result['trials']['complete']}; best trial {best['trial']}, "
        f"{result['distance_kind']} {best['distance']:.3g}"
        + (f", hold-out {holdout:.3g}" if holdout is not None else "")
    )
    page.figures.append(html_page.Figure("calibration", caption, _png(out, "calibration.png", fig)))


def write_report(
    sweep_dir: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    indicators: Sequence[str] | None = None,
    metric: str | None = None,
    rank_by: Sequence[str] | None = None,
    ascending: bool = False,
    sensitivity: bool = False,
    outputs: Sequence[str] | None = None,
    max_panels: int = MAX_PANELS,
    discover: Sequence[str] = (),
    robust: Sequence[str] | None = None,
    satisfice: Sequence[str] = (),
) -> Path:
    """Write the report of a (complete, partial or failed) sweep; return its folder.

    Args:
        sweep_dir: The Hydra multirun folder.
        out: Report folder (default ``SWEEP_DIR/report``).
        indicators: Timeseries columns for fan charts (default: the main indicators
            present in the runs).
        metric: Final indicator for the heatmaps and the ranking (default
            ``final_trust_mean``).
        rank_by: Keys whose combinations are ranked (default: every swept key but the
            seed and sampled, continuous ones).
        ascending: Rank the lowest mean first.
        sensitivity: Also run ``sim.report.sensitivity.analyze`` and show its indices.
        outputs: Columns of the runs table to analyse (default: ``[final_trust_mean]``).
        max_panels: Most fan-chart panels before groups share panels.
        discover: Conditions on the final indicators (``user_losses_cum > 2e6``) to run
            scenario discovery for (:mod:`sim.report.discovery`).
        robust: Outcomes ``COL[:max|min]`` whose regret across a deep-uncertainty
            design's worlds is reported (default ``trust_mean:max user_losses_cum:min``;
            :mod:`sim.report.robust`).
        satisfice: Thresholds (``trust_mean >= 0.6``) for the satisficing share.

    Raises:
        ReportError: No such folder, no runs, or an unknown column or key.
        SensitivityError: The sensitivity analysis failed; everything else is written.
    """
    sweep_dir = Path(sweep_dir)
    runs = collect_runs(sweep_dir)
    out = Path(out) if out is not None else sweep_dir / REPORT_DIR
    swept, by = swept_keys(runs), group_keys(runs)
    complete = runs[runs["status"] == "complete"]
    if metric is not None and len(complete):
        metric = _column(metric, runs, "final indicator")
    metric = metric or default_metric(runs)
    if rank_by is not None:
        _check(rank_by, [c for c in runs.columns if c not in ("run_id", "status")], "key")
    if outputs and len(complete):
        outputs = [_column(o, runs, "output") for o in outputs]
    outputs = list(outputs or [default_metric(runs) or "final_trust_mean"])

    timeseries = collect_timeseries(sweep_dir, runs)
    present = [c for c in timeseries.columns if c not in ("run_id", *swept, "tick")]
    if indicators is None:
        indicators = [i for i in DEFAULT_INDICATORS if i in present]
    elif len(timeseries):
        _check(indicators, present, "indicator")
    else:
        indicators = []

    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / "runs.parquet", runs)
    write_parquet(out / TIMESERIES, timeseries)
    page = html_page.Page(
        sweep_dir=sweep_dir.resolve(),
        runs=runs,
        swept=swept,
        command=task_overrides(sweep_dir),
        expected=sweep_info(sweep_dir).get("total"),
    )
    if unreadable := timeseries.attrs.get("unreadable"):
        page.notes.append(f"Unreadable timeseries, left out: {', '.join(unreadable)}")
    across = replicates_of(complete)
    # A design's sampled keys vary run by run: the runs they differ in share a panel.
    fans_by = without_levers(runs, [k for k in by if k not in runs.attrs.get("sampled", ())])
    for indicator in indicators:
        fig = fan_chart(timeseries, indicator, fans_by, max_panels=max_panels, across=across)
        caption = f"{indicator}: median and 10-90% band across {across}, per group"
        page.figures.append(
            html_page.Figure("fan", caption, _png(out, f"fan_{_slug(indicator)}.png", fig))
        )
    if metric is not None and len(complete):
        _heatmaps(runs, metric, by, out, page)
        _ranking(runs, metric, rank_by, ascending, out, page)
    _jurisdictions(sweep_dir, runs, fans_by, out, page, max_panels)
    _calibration(sweep_dir, out, page)
    _pareto(sweep_dir, out, page)
    discovered = _discover(runs, discover, out, page) if len(complete) else set()
    discovered |= _robust(runs, robust, satisfice, out, page) if len(complete) else set()
    failure = None
    if sensitivity:
        try:
            page.sensitivity, name = _sensitivity(sweep_dir, runs, outputs, out)
            caption = f"Sensitivity indices of {', '.join(outputs)}"
            page.figures.append(html_page.Figure("sensitivity", caption, name))
        except SensitivityError as err:
            failure = err
            page.notes.append(f"Sensitivity analysis failed: {err}")
    written = {f.file for f in page.figures}
    written |= {"sensitivity.csv"} if page.sensitivity is not None else set()
    written |= {"ranking.csv", "ranking.parquet"} if page.ranking is not None else set()
    written |= discovered
    _remove_stale(out, written)
    atomic_write_bytes(out / "index.html", html_page.render(page).encode())
    if failure is not None:
        raise failure
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trustsim-report",
        description="Report on a trustsim sweep (a Hydra multirun folder): tables, fan "
        "charts, heatmaps, a ranking and index.html in SWEEP_DIR/report. Works on a "
        "partial, failed or still running sweep: it reads only finished runs.",
    )
    parser.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR", help="the sweep folder")
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="report folder (default SWEEP_DIR/report)"
    )
    parser.add_argument(
        "--indicator",
        nargs="+",
        action="extend",
        metavar="COL",
        help=f"timeseries columns for fan charts (default: {' '.join(DEFAULT_INDICATORS)})",
    )
    parser.add_argument(
        "--metric",
        metavar="COL",
        help="final indicator for heatmaps and the ranking (default final_trust_mean; "
        "trust_mean means the same)",
    )
    parser.add_argument(
        "--rank-by",
        nargs="+",
        action="extend",
        metavar="KEY",
        help="rank combinations of these keys (default: every swept key but the seed)",
    )
    parser.add_argument(
        "--ascending", action="store_true", help="rank the lowest mean first (losses)"
    )
    parser.add_argument(
        "--sensitivity",
        action="store_true",
        help="add sensitivity indices (sim.report.sensitivity)",
    )
    parser.add_argument(
        "--outputs",
        nargs="+",
        action="extend",
        metavar="COL",
        help="runs-table columns for --sensitivity (default final_trust_mean; a timeseries "
        "name such as user_losses_cum means its final value)",
    )
    parser.add_argument(
        "--discover",
        action="append",
        default=[],
        metavar="EXPR",
        help="scenario discovery (PRIM, CART, feature scores) of the runs where EXPR holds, "
        "e.g. 'user_losses_cum > 2e6' or 'trust_mean < 0.5 and platforms_active < 10'; "
        "may be given more than once",
    )
    parser.add_argument(
        "--robust",
        nargs="+",
        action="extend",
        metavar="COL[:max|min]",
        help="outcomes whose regret across a deep-uncertainty design's worlds is reported "
        "(default trust_mean:max user_losses_cum:min)",
    )
    parser.add_argument(
        "--satisfice",
        action="append",
        default=[],
        metavar="EXPR",
        help="a threshold a policy must meet in a world, e.g. 'trust_mean >= 0.6'; the "
        "report gives the share of worlds where each policy meets them all",
    )
    parser.add_argument(
        "--max-panels", type=int, default=MAX_PANELS, metavar="N", help="most panels per fan chart"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point (``trustsim-report``); returns the exit status.

    0: report written; 1: written, but ``--sensitivity`` failed; 2: bad input (no such
    folder, no runs, unknown column), with a one-line message.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.max_panels < 1:
        parser.error(f"--max-panels must be at least 1 (got {args.max_panels})")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file, not a folder")
    try:
        out = write_report(
            args.sweep_dir,
            args.out,
            indicators=args.indicator,
            metric=args.metric,
            rank_by=args.rank_by,
            ascending=args.ascending,
            sensitivity=args.sensitivity,
            outputs=args.outputs,
            max_panels=args.max_panels,
            discover=args.discover,
            robust=args.robust,
            satisfice=args.satisfice,
        )
    except ReportError as err:
        print(f"trustsim-report: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # an unwritable --out, a full disk: say where, no traceback
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        print(
            f"trustsim-report: error: cannot write the report{where}: {err.strerror or err}",
            file=sys.stderr,
        )
        return 2
    except SensitivityError as err:
        print(f"trustsim-report: sensitivity analysis failed: {err}", file=sys.stderr)
        out = args.out or args.sweep_dir / REPORT_DIR
        print(f"trustsim-report: the rest of the report is in {out}", file=sys.stderr)
        return 1
    runs = pd.read_parquet(out / "runs.parquet", columns=["status"])["status"].value_counts()
    counts = ", ".join(f"{runs.get(s, 0)} {s}" for s in ("complete", "failed", "incomplete"))
    print(f"trustsim-report: {counts}; report in {out / 'index.html'}")
    return 0
