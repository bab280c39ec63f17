"""The report's ``index.html``: one static page, figures linked as files next to it."""

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.report.discovery import MIN_COVERAGE
from sim.report.discovery import Discovery as Found
from sim.report.robust import Robustness

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
td { font-variant-numeric: tabular-nums; }
.scroll { overflow: auto; max-height: 70vh; border: 1px solid #eee; }
.counts td, .counts th { font-size: 1.1em; padding: 4px 12px; }
.failed { color: #a00; } .note { color: #666; font-size: 0.9em; }
td.error, .errors td:last-child { text-align: left; white-space: pre-wrap; max-width: 60em; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
code { background: #f5f5f5; padding: 0 3px; }
"""


@dataclass
class Figure:
    """A figure file of the report and where it goes on the page."""

    section: str
    caption: str
    file: str


@dataclass
class Discovery:
    """One scenario discovery's section: what was found and its figure files."""

    found: Found
    stem: str
    figures: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    """Everything :func:`render` shows."""

    sweep_dir: Path
    runs: pd.DataFrame
    swept: list[str]
    command: list[str] = field(default_factory=list)
    expected: int | None = None
    ranking: pd.DataFrame | None = None
    figures: list[Figure] = field(default_factory=list)
    sensitivity: pd.DataFrame | None = None
    ranking_note: str = "No complete runs to rank yet."
    notes: list[str] = field(default_factory=list)
    discoveries: list[Discovery] = field(default_factory=list)
    robust: Robustness | None = None
    pareto: pd.DataFrame | None = None


def _e(text: object) -> str:
    return html.escape(str(text))


def table_html(frame: pd.DataFrame, classes: str = "") -> str:
    """A DataFrame as an escaped HTML table, numbers to 4 significant digits."""
    return frame.to_html(
        index=False,
        escape=True,
        na_rep="",
        float_format=lambda x: f"{x:.4g}",
        classes=classes or None,
        border=0,
    )


def _counts(page: Page) -> str:
    counts = page.runs["status"].value_counts()
    cells = [("complete", counts.get("complete", 0)), ("failed", counts.get("failed", 0))]
    cells.append(("incomplete", counts.get("incomplete", 0)))
    cells.append(("run folders", len(page.runs)))
    if page.expected is not None:
        cells.append(("jobs in the sweep", page.expected))
        cells.append(("not started", max(page.expected - len(page.runs), 0)))
    head = "".join(f"<th>{_e(name)}</th>" for name, _ in cells)
    body = "".join(f"<td>{int(n)}</td>" for _, n in cells)
    return f'<table class="counts"><tr>{head}</tr><tr>{body}</tr></table>'


def _runs_of(page: Page, status: str, extra: list[str]) -> pd.DataFrame:
    rows = page.runs[page.runs["status"] == status]
    columns = ["run_id", *page.swept, *extra]
    return rows[[c for c in dict.fromkeys(columns) if c in rows.columns]]


def _figures(page: Page, section: str) -> str:
    return "".join(
        f'<figure><img src="{_e(f.file)}" alt="{_e(f.caption)}" loading="lazy">'
        f"<figcaption>{_e(f.caption)}</figcaption></figure>"
        for f in page.figures
        if f.section == section
    )


def _img(file: str, caption: str) -> str:
    return (
        f'<figure><img src="{_e(file)}" alt="{_e(caption)}" loading="lazy">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _discovery(section: Discovery) -> str:
    """Scenario discovery: the PRIM box, its trajectory, CART and the feature scores."""
    found, stem = section.found, section.stem
    parts = [
        f"<h2>Scenario discovery: <code>{_e(found.expression)}</code></h2>",
        f"<p>{found.cases} of {found.runs} complete runs satisfy the condition (cases of "
        "interest). The inputs are the swept keys but the seed and the design row.</p>",
    ]
    if found.note:
        return "\n".join([*parts, f'<p class="note">{_e(found.note)}</p>'])
    row = found.trajectory.loc[found.chosen]
    parts.append(
        f"<p><b>PRIM</b>: the chosen box (number {found.chosen} of the peeling trajectory, the "
        f"densest that keeps at least {MIN_COVERAGE:.0%} of the cases) holds "
        f"{row['coverage']:.0%} of the cases (coverage) in {row['mass']:.0%} of the runs; "
        f"{row['density']:.0%} of the runs in it are cases (density). Its restricted inputs "
        "(a small quasi-p-value: a limit this tight is unlikely by chance):</p>"
    )
    parts.append(
        table_html(found.box) if len(found.box) else "<p>None: no input restricts the box.</p>"
    )
    parts.append(_img(section.figures["prim_tradeoff"], "PRIM's coverage against density"))
    parts.append(
        "<p><b>CART</b>, a second view: each leaf of the tree is a box; its coverage and "
        "density are of the cases of interest.</p>"
    )
    parts.append(f'<div class="scroll">{table_html(found.cart)}</div>')
    parts.append(_img(section.figures["cart_tree"], "CART's classification tree"))
    parts.append(
        "<p><b>Feature scores</b> (extra trees): how much each input tells the cases apart.</p>"
    )
    parts.append(_img(section.figures["feature_scores"], "Feature scores of the inputs"))
    parts.append(
        f'<p class="note">Tables in <code>{_e(stem)}_box.csv</code>, '
        f"<code>{_e(stem)}_trajectory.csv</code>, <code>{_e(stem)}_cart.csv</code> and "
        f"<code>{_e(stem)}_scores.csv</code>.</p>"
    )
    return "\n".join(parts)


def _robust(page: Page) -> str:
    """Robust policies: regret and satisficing across the sampled worlds."""
    found = page.robust
    assert found is not None
    outcomes = ", ".join(
        f"<code>{_e(c.removeprefix('final_'))}</code> ({'higher' if d == 'max' else 'lower'} "
        "is better)"
        for c, d in found.outcomes
    )
    parts = [
        "<h2>Robust policies</h2>",
        f"<p>Each policy ran in the same {found.worlds} sampled worlds (design rows, with the "
        f"same seeds); its outcome in a world is its mean over the seeds. Outcomes: {outcomes}. "
        "A policy's <b>regret</b> in a world is its shortfall from the best policy there "
        "(0 for the best); a robust policy keeps its largest regret small.",
    ]
    if found.thresholds:
        joined = " and ".join(f"<code>{_e(t)}</code>" for t in found.thresholds)
        parts.append(
            f" The <b>satisficing share</b> is the share of worlds where it meets {joined}."
        )
    parts.append(
        " Also in <code>robust.csv</code>; each policy and world in "
        "<code>robust_worlds.csv</code>.</p>"
    )
    parts.append(f'<div class="scroll">{table_html(found.table)}</div>')
    parts.append(_figures(page, "robust"))
    return "\n".join(parts)


def render(page: Page) -> str:
    """The whole page."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>trustsim sweep report: {_e(page.sweep_dir.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>trustsim sweep report</h1>",
        f"<p>Sweep folder: <code>{_e(page.sweep_dir)}</code><br>",
        f"Generated {_e(now)} by trustsim {_e(__version__)}",
    ]
    if page.command:
        parts.append(f"<br>Sweep: <code>{_e(' '.join(page.command))}</code>")
    swept = ", ".join(page.swept) or "none"
    parts.append(f"<br>Swept keys: <code>{_e(swept)}</code></p>")
    parts += ["<h2>Runs</h2>", _counts(page)]
    if (page.runs["status"] == "incomplete").any():
        parts.append(
            '<p class="note">Incomplete runs have no <code>summary.json</code> yet: still '
            "running, killed, or waiting. Their files are not read; make the report again "
            "to include them once they finish.</p>"
        )
    parts += [f'<p class="note">{_e(note)}</p>' for note in page.notes]

    parts.append("<h2>Failed runs</h2>")
    failed = _runs_of(page, "failed", ["error"])
    if len(failed):
        parts.append(f'<div class="scroll">{table_html(failed, "errors")}</div>')
        parts.append(
            '<p class="note">Each has a <code>status.json</code> with its traceback; run the '
            "same sweep again into the same folder to redo them.</p>"
        )
    else:
        parts.append("<p>None.</p>")
    incomplete = _runs_of(page, "incomplete", [])
    if len(incomplete):
        parts += ["<h2>Incomplete runs</h2>", f'<div class="scroll">{table_html(incomplete)}</div>']

    parts.append("<h2>Ranking</h2>")
    if page.ranking is not None and len(page.ranking):
        attrs = page.ranking.attrs
        order = "lowest" if attrs.get("ascending") else "highest"
        parts.append(
            f"<p>Groups ranked by the mean of <code>{_e(attrs.get('metric'))}</code> over "
            f"their complete runs ({order} first), with {attrs.get('confidence', 0.95):.0%} "
            f"Student-t confidence intervals over {_e(attrs.get('across', 'seeds'))}"
            + (" (clipped to [0, 1], where the indicator lies)" if attrs.get("bounded") else "")
            + ". Also in <code>ranking.csv</code> and <code>ranking.parquet</code>.</p>"
        )
        parts.append(f'<div class="scroll">{table_html(page.ranking)}</div>')
        parts.append(_figures(page, "ranking"))
    else:
        parts.append(f"<p>{_e(page.ranking_note)}</p>")

    heatmaps = _figures(page, "heatmap")
    if heatmaps:
        parts += ["<h2>Heatmaps</h2>", heatmaps]
    fans = _figures(page, "fan")
    parts.append("<h2>Indicators over time</h2>")
    parts.append(
        fans
        or "<p>No fan charts: no complete runs, or none of the indicators in their timeseries.</p>"
    )
    calibration = _figures(page, "calibration")
    if calibration:
        parts += [
            "<h2>Calibration</h2>",
            '<p class="note">The near-optimal trials\' runs (bands across runs) against the '
            "record; the fitted values and their spread are in <code>calibration.json</code>, "
            "every trial in <code>trials.parquet</code>.</p>",
            calibration,
        ]
    parts += [_discovery(d) for d in page.discoveries]
    if page.robust is not None:
        parts.append(_robust(page))
    if page.pareto is not None:
        objectives = page.pareto.attrs.get("objectives", {})
        named = ", ".join(
            f"<code>{_e(k)}</code> ({'higher' if v == 'maximize' else 'lower'} is better)"
            for k, v in objectives.items()
        )
        parts += [
            "<h2>Pareto front</h2>",
            f"<p>{len(page.pareto)} of the search's {page.pareto.attrs.get('trials', 0)} complete "
            f"trials are on the front: no other trial is as good in every objective ({named}) "
            "and better in one. Each objective is a trial's mean over its replicates (the same "
            "seeds for every trial), with its standard error. Also in <code>pareto.csv</code> "
            "in the sweep folder; every trial in <code>trials.parquet</code>.</p>",
            f'<div class="scroll">{table_html(page.pareto)}</div>',
            _figures(page, "pareto"),
        ]
    sensitivity = _figures(page, "sensitivity")
    if page.sensitivity is not None or sensitivity:
        parts.append("<h2>Sensitivity</h2>")
        if page.sensitivity is not None:
            parts.append(f'<div class="scroll">{table_html(page.sensitivity)}</div>')
        parts.append(sensitivity)

    parts += [
        "<h2>All runs</h2>",
        '<p class="note">Also in <code>runs.parquet</code>; every complete run\'s timeseries '
        "is in <code>timeseries.parquet</code>.</p>",
        f'<div class="scroll">{table_html(page.runs)}</div>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
