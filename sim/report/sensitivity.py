"""Global sensitivity analysis of a sampling sweep's results (``trustsim-report --sensitivity``).

Each design row (:mod:`sim.designs`) is one run per combination of the other sweeps on
the command line (typically replicate seeds); each run records its row in the config key
``sample``. :func:`analyze` averages the replicates of each row, checks every row has a
result and computes the indices that fit the design:

* ``sobol`` (Saltelli/Sobol' sequence): ``S1``, ``ST`` and, with second order, ``S2``;
* ``morris`` (elementary effects): ``mu_star``, ``mu`` and ``sigma``;
* ``latin`` (Latin hypercube): first-order ``S1`` by RBD-FAST, which accepts any sample.

Confidence intervals (``conf``) are SALib's bootstrap half-widths at 95 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.designs import DESIGN_FILE, design_params, read_design, row_ranges
from sim.files import SUMMARY
from sim.output import read_json

# Columns of a runs table that may name a run's folder (to read its summary.json).
_PATH_COLUMNS = ("path", "run_dir", "folder", "dir", "run")
# The index each method draws in the figure (others stay in the table).
_FIGURE_INDICES = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma"), "latin": ("S1",)}


def runs_table(sweep_dir: str | Path) -> pd.DataFrame:
    """One row per complete run of a sweep folder, from the runs' ``summary.json``.

    Columns: ``path`` (relative to ``sweep_dir``), ``sample``, ``seed``, each swept key of
    the design (as run, i.e. rounded where whole), and ``final_<indicator>``.
    """
    sweep_dir = Path(sweep_dir)
    try:
        names = read_design(sweep_dir)["problem"]["names"]
    except FileNotFoundError:
        names = []
    rows = []
    for path in sorted(sweep_dir.glob(f"**/{SUMMARY}")):
        summary = read_json(path)
        if not isinstance(summary, dict) or summary.get("status", "complete") != "complete":
            continue
        config = summary.get("config") or {}
        row: dict[str, Any] = {
            "path": str(path.parent.relative_to(sweep_dir)),
            "sample": config.get("sample"),
            "seed": summary.get("seed", config.get("seed")),
        }
        for name in names:
            row[name] = _lookup(config, name)
        row.update({f"final_{k}": v for k, v in (summary.get("final") or {}).items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    if "sample" in table:
        table["sample"] = table["sample"].astype("Int64")
    return table


def _lookup(config: Mapping[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _with_sample(runs: pd.DataFrame, sweep_dir: Path) -> pd.DataFrame:
    """``runs`` with its ``sample`` column, read from each run's summary.json if missing."""
    if "sample" in runs:
        return runs
    column = next((c for c in _PATH_COLUMNS if c in runs), None)
    if column is None:
        raise ValueError(
            "runs: no 'sample' column and no run folder column ("
            + ", ".join(_PATH_COLUMNS)
            + ") to read it from each run's summary.json"
        )
    samples = []
    for value in runs[column]:
        folder = Path(value)
        folder = folder if folder.is_absolute() else sweep_dir / folder
        summary = read_json(folder / SUMMARY) or {}
        samples.append((summary.get("config") or {}).get("sample"))
    return runs.assign(sample=pd.array(samples, dtype="Int64"))


def _output_column(runs: pd.DataFrame, name: str) -> tuple[str, str]:
    """(column in ``runs``, label) for an output given with or without ``final_``."""
    base = name.removeprefix("final_")
    for column in (f"final_{base}", name, base):
        if column in runs:
            return column, base
    finals = [c.removeprefix("final_") for c in runs.columns if str(c).startswith("final_")]
    raise KeyError(
        f"output {name!r} is not in the runs table; final indicators: "
        + (", ".join(finals) or "none")
    )


def _check_values(runs: pd.DataFrame, design: Mapping[str, Any]) -> None:
    """Runs whose swept keys are in the table must hold their design row's values."""
    samples = np.asarray(design["samples"], dtype=float)
    for j, param in enumerate(design_params(design)):
        if param.name not in runs:
            continue
        got = pd.to_numeric(runs[param.name], errors="coerce").to_numpy(dtype=float)
        want = samples[runs["sample"].to_numpy(dtype=int), j]
        if param.integer:
            want = np.round(want)
        bad = ~np.isclose(got, want, rtol=1e-9, atol=1e-12)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"runs do not match {DESIGN_FILE}: sample {int(runs['sample'].iloc[k])} ran "
                f"{param.name}={got[k]!r}, the design has {want[k]!r} ({int(bad.sum())} runs "
                "differ; was the folder reused for another design?)"
            )


def design_outputs(
    sweep_dir: str | Path, runs: pd.DataFrame, outputs: Sequence[str]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The design and the outputs per design row (mean over replicate runs), in row order.

    Raises:
        ValueError: A design row has no complete run (naming the rows), a run names a
            row outside the design, or the runs' swept values differ from the design.
        KeyError: An output is not in ``runs``.
    """
    sweep_dir = Path(sweep_dir)
    design = read_design(sweep_dir)
    n_rows = len(design["samples"])
    runs = _with_sample(runs, sweep_dir)
    runs = runs[runs["sample"].notna()].copy()
    runs["sample"] = runs["sample"].astype(int)
    outside = sorted(set(runs["sample"]) - set(range(n_rows)))
    if outside:
        raise ValueError(
            f"runs name samples outside the design's {n_rows} rows: {row_ranges(outside)}"
        )
    _check_values(runs, design)
    columns = [_output_column(runs, name) for name in outputs]
    if not columns:
        raise ValueError("outputs: name at least one output")
    means = pd.DataFrame(index=pd.RangeIndex(n_rows, name="sample"))
    grouped = runs.groupby("sample")
    for column, label in columns:
        values = pd.to_numeric(runs[column], errors="coerce")
        means[label] = values.groupby(runs["sample"]).mean().reindex(means.index)
    means["replicates"] = grouped.size().reindex(means.index).fillna(0).astype(int)
    missing = means.index[means["replicates"] == 0].tolist()
    if missing:
        raise ValueError(
            f"{len(missing)} of {n_rows} design rows have no complete run: samples "
            f"{row_ranges(missing)} (failed runs hold a status.json; unfinished ones finish when "
            "the same sweep is started again into its folder)"
        )
    for _, label in columns:
        nan = means.index[means[label].isna()].tolist()
        if nan:
            raise ValueError(f"output {label!r} is NaN for samples {row_ranges(nan)}")
    return design, means


def analyze(
    sweep_dir: str | Path,
    runs: pd.DataFrame,
    outputs: Sequence[str],
    *,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of ``outputs`` over the design in ``SWEEP_DIR/design.json``.

    Args:
        sweep_dir: The sweep folder (holds ``design.json``).
        runs: One row per complete run, with a ``sample`` column (or a ``path`` column
            naming each run's folder, to read ``sample`` from its ``summary.json``) and the
            output columns (``final_trust_mean`` or ``trust_mean``: either name works).
        outputs: Output names, with or without the ``final_`` prefix.
        num_resamples: Bootstrap resamples for the confidence intervals.
        conf_level: Confidence level of ``conf``.

    Returns:
        A tidy table: ``output``, ``parameter``, ``index`` (``S1``, ``ST``, ``S2`` for
        sobol, with ``a:b`` parameter pairs; ``mu_star``, ``mu``, ``sigma`` for morris;
        ``S1`` (RBD-FAST) for latin), ``value``, ``conf`` (half-width; NaN where SALib
        gives none).
    """
    from SALib.analyze import morris, rbd_fast, sobol

    design, means = design_outputs(sweep_dir, runs, outputs)
    problem = {k: design["problem"][k] for k in ("num_vars", "names", "bounds")}
    names = problem["names"]
    method = design["method"]
    x = np.asarray(design["samples"], dtype=float)
    seed = int(design.get("seed") or 0)
    rows: list[dict[str, Any]] = []
    for label in [c for c in means.columns if c != "replicates"]:
        y = means[label].to_numpy(dtype=float)
        # The bootstrap of each output from the design's seed, as a Generator: SALib's
        # sobol.analyze would ignore a seed of 0 (``if seed:``).
        rng = np.random.default_rng(seed)

        def add(index: str, values: Any, confs: Any, params: Sequence[str] = names) -> None:
            for param, value, conf in zip(params, values, confs, strict=True):
                rows.append(
                    {
                        "output": label,  # noqa: B023 - used at once, inside the loop
                        "parameter": param,
                        "index": index,
                        "value": float(value),
                        "conf": float(conf),
                    }
                )

        nan = [math.nan] * len(names)
        if method == "sobol":
            second = bool(design.get("calc_second_order"))
            si = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=rng,
            )
            add("S1", si["S1"], si["S1_conf"])
            add("ST", si["ST"], si["ST_conf"])
            if second:
                pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
                add(
                    "S2",
                    [si["S2"][i, j] for i, j in pairs],
                    [si["S2_conf"][i, j] for i, j in pairs],
                    [f"{names[i]}:{names[j]}" for i, j in pairs],
                )
        elif method == "morris":
            si = morris.analyze(
                problem,
                x,
                y,
                num_resamples=num_resamples,
                conf_level=conf_level,
                num_levels=int(design.get("num_levels") or 4),
                seed=rng,
            )
            add("mu_star", si["mu_star"], si["mu_star_conf"])
            add("mu", si["mu"], nan)
            add("sigma", si["sigma"], nan)
        elif method == "latin":
            # M harmonics need 2M < N, and the bootstrap runs on halves of the sample.
            harmonics = min(10, (len(y) // 2 - 1) // 2)
            if harmonics < 1:
                raise ValueError(f"a latin design of {len(y)} rows is too small for RBD-FAST")
            si = rbd_fast.analyze(
                problem,
                x,
                y,
                M=harmonics,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=rng,
            )
            add("S1", si["S1"], si["S1_conf"])
        else:
            raise ValueError(f"{DESIGN_FILE}: unknown method {method!r}")
    return pd.DataFrame(rows, columns=["output", "parameter", "index", "value", "conf"])


def sensitivity_figure(indices: pd.DataFrame):
    """Bar charts of sensitivity indices, one panel per output, with their intervals.

    Draws the main indices of the design's method (``S1``/``ST``, ``mu_star``/``sigma``
    or ``S1``); second-order pairs stay in the table.

    Args:
        indices: The table :func:`analyze` returns.

    Returns:
        A ``matplotlib.figure.Figure`` (no pyplot state; render with
        :func:`sim.plotting.figure_png` or ``fig.savefig``).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shown = {i for group in _FIGURE_INDICES.values() for i in group}
    table = indices[indices["index"].isin(shown)]
    outputs = list(dict.fromkeys(table["output"])) or ["(no indices)"]
    params = list(dict.fromkeys(table["parameter"]))
    fig = Figure(
        figsize=(max(5.0, 1.1 * len(params) + 3), 2.6 * len(outputs) + 0.6), layout="constrained"
    )
    axes = fig.subplots(len(outputs), 1, squeeze=False)[:, 0]
    for ax, output in zip(axes, outputs, strict=True):
        sub = table[table["output"] == output]
        kinds = list(dict.fromkeys(sub["index"]))
        width = 0.8 / max(1, len(kinds))
        x = np.arange(len(params))
        for k, kind in enumerate(kinds):
            part = sub[sub["index"] == kind].set_index("parameter").reindex(params)
            ax.bar(
                x + (k - (len(kinds) - 1) / 2) * width,
                part["value"].to_numpy(dtype=float),
                width,
                yerr=part["conf"].fillna(0.0).to_numpy(dtype=float),
                capsize=3,
                label=kind,
            )
        ax.set_xticks(x, params, rotation=20, ha="right", fontsize=8)
        ax.set_title(output, fontsize=10)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.grid(axis="y", alpha=0.3)
        if kinds:
            ax.legend(fontsize=8)
    fig.suptitle("Sensitivity indices (error bars: bootstrap confidence intervals)", fontsize=10)
    return fig
