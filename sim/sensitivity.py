"""Sampling designs over the config and global sensitivity analysis of a sweep's results.

A design is made by the ``salib`` sweeper (``trustsim -m hydra/sweeper=salib ...``,
see ``conf/hydra/sweeper/salib.yaml``) with SALib's own samplers, and written to
``SWEEP_DIR/design.json``::

    {"method": "sobol", "problem": {"num_vars": 2, "names": [...], "bounds": [[lo, hi], ...]},
     "seed": 0, "n": 256, "calc_second_order": false, "num_levels": 4,
     "integer": [...], "samples": [[...], ...]}

Each design row is one run per combination of the other sweeps on the command line
(typically ``seed=range(k)``, replicate seeds), and each run records its row in the
config key ``sample``. :func:`analyze` averages the replicates of each row, checks every
row has a result and computes the indices that fit the design:

* ``sobol`` (Saltelli/Sobol' sequence): ``S1``, ``ST`` and, with second order, ``S2``;
* ``morris`` (elementary effects): ``mu_star``, ``mu`` and ``sigma``;
* ``latin`` (Latin hypercube): first-order ``S1`` by RBD-FAST, which accepts any sample.

Confidence intervals (``conf``) are SALib's bootstrap half-widths at 95 %.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Config, ConfigError
from sim.output import read_json, write_json

DESIGN_FILE = "design.json"
METHODS = ("latin", "sobol", "morris")
_ALIASES = {"lhs": "latin", "latin_hypercube": "latin", "saltelli": "sobol"}
PARAMS_KEY = "hydra.sweeper.params"
RESERVED = ("sample",)  # set by the sweeper itself
# Columns of a runs table that may name a run's folder (to read its summary.json).
_PATH_COLUMNS = ("path", "run_dir", "folder", "dir", "run")
# The index each method draws in the figure (others stay in the table).
_FIGURE_INDICES = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma"), "latin": ("S1",)}


@dataclasses.dataclass(frozen=True)
class SweepParam:
    """One sampled config key: its dotted name, bounds and whether runs get whole numbers."""

    name: str
    lo: float
    hi: float
    integer: bool = False

    def override(self, value: float) -> str:
        """The Hydra override that sets this key to ``value`` (rounded for whole numbers)."""
        if self.integer:
            return f"{self.name}={round(float(value))}"
        return f"{self.name}={float(value)!r}"


# --- the parameters: schema lookup and validation ----------------------------------------


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{a: {b: [0, 1]}}`` and ``{a.b: [0, 1]}`` alike -> ``{"a.b": [0, 1]}``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not value:
                raise ConfigError(f"{PARAMS_KEY}.{name}", {}, "bounds [lo, hi] or null")
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def schema_field(key: str, value: Any = None) -> dataclasses.Field:
    """The schema field of a dotted config key (``regulator.penalty``).

    ``dict[str, Dataclass]`` fields (``platforms.strategies``) take any entry name in
    between: ``platforms.strategies.balanced.disclosure``.

    Raises:
        ConfigError: The key names nothing in the schema (``value`` goes in the message).
    """
    node: type = Config
    parts = key.split(".")
    i = 0
    while True:
        fields = {f.name: f for f in dataclasses.fields(node)}
        where = ".".join(parts[:i]) or "the config"
        name = parts[i]
        if name not in fields:
            raise ConfigError(
                f"{PARAMS_KEY}.{key}",
                value,
                f"a key of {where} ({name!r} is not one): " + ", ".join(fields),
            )
        f = fields[name]
        i += 1
        if i == len(parts):
            return f
        inner = f.type if dataclasses.is_dataclass(f.type) else None
        if inner is None and typing.get_origin(f.type) is dict:
            value_type = typing.get_args(f.type)[1]
            if dataclasses.is_dataclass(value_type) and i < len(parts):
                i += 1  # skip the entry name (a strategy name, ...)
                inner = value_type
                if i == len(parts):
                    raise ConfigError(
                        f"{PARAMS_KEY}.{key}", value, f"a numeric key inside {key}.<field>"
                    )
        if inner is None:
            raise ConfigError(
                f"{PARAMS_KEY}.{key}",
                value,
                f"a numeric config key ({'.'.join(parts[:i])} has no keys below it)",
            )
        node = inner


def _type_name(kind: Any) -> str:
    if isinstance(kind, type) and not isinstance(kind, types.GenericAlias):
        return kind.__name__
    return str(kind)


def _bound_text(meta: Mapping[str, Any]) -> str:
    lo, hi = meta.get("lo", -math.inf), meta.get("hi", math.inf)
    left = "(" if meta.get("open_lo") else "["
    right = "]" if math.isfinite(hi) else ")"
    return f"{left}{lo}, {hi}{right}"


def resolve_param(key: str, bounds: Any) -> SweepParam:
    """Check one ``key: [lo, hi]`` entry against the schema and return it.

    The key must be a numeric (``int`` or ``float``) field with range metadata, and
    ``lo < hi`` must lie within the field's range (strictly above an open lower end).
    ``bounds`` ``null`` (or ``[]``) takes the field's whole range when it is finite.

    Raises:
        ConfigError: Naming the key, the value and what is allowed.
    """
    full_key = f"{PARAMS_KEY}.{key}"
    if key in RESERVED:
        raise ConfigError(full_key, bounds, "a config key other than 'sample' (set per design row)")
    f = schema_field(key, bounds)
    if f.type not in (int, float):
        raise ConfigError(
            full_key, bounds, f"a numeric (int or float) key; {key} is {_type_name(f.type)}"
        )
    meta = f.metadata
    if "lo" not in meta and "hi" not in meta:
        raise ConfigError(full_key, bounds, f"a key with a range in the schema; {key} has none")
    lo_allowed = meta.get("lo", -math.inf)
    hi_allowed = meta.get("hi", math.inf)
    if bounds is None or (
        isinstance(bounds, Sequence) and not isinstance(bounds, str) and not bounds
    ):
        if not (math.isfinite(lo_allowed) and math.isfinite(hi_allowed)) or meta.get("open_lo"):
            raise ConfigError(
                full_key,
                bounds,
                f"explicit bounds [lo, hi]: the range of {key}, {_bound_text(meta)}, is not closed",
            )
        return SweepParam(key, float(lo_allowed), float(hi_allowed), f.type is int)
    ok = (
        isinstance(bounds, Sequence)
        and not isinstance(bounds, str)
        and len(bounds) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
        and all(math.isfinite(b) for b in bounds)
    )
    if not ok:
        raise ConfigError(full_key, bounds, "bounds [lo, hi]: two finite numbers")
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise ConfigError(full_key, list(bounds), "bounds [lo, hi] with lo < hi")
    below = lo <= lo_allowed if meta.get("open_lo") else lo < lo_allowed
    if below or hi > hi_allowed:
        raise ConfigError(
            full_key, list(bounds), f"bounds within {key}'s range {_bound_text(meta)}"
        )
    return SweepParam(key, lo, hi, f.type is int)


def resolve_params(params: Mapping[str, Any] | None) -> list[SweepParam]:
    """All entries of ``hydra.sweeper.params`` (flat dotted keys or nested), checked."""
    if params is not None and not isinstance(params, Mapping):
        raise ConfigError(PARAMS_KEY, params, "a mapping {key: [lo, hi], ...}")
    flat = _flatten(params or {})
    if not flat:
        raise ConfigError(
            PARAMS_KEY,
            params,
            "at least one entry key: [lo, hi], e.g. {regulator.penalty:[0,0.05]}",
        )
    return [resolve_param(key, bounds) for key, bounds in flat.items()]


# --- the design ----------------------------------------------------------------------------


def canonical_method(method: str) -> str:
    """``latin``, ``sobol`` or ``morris`` (``lhs`` and ``saltelli`` are accepted too)."""
    name = _ALIASES.get(str(method).lower(), str(method).lower())
    if name not in METHODS:
        raise ConfigError("hydra.sweeper.method", method, "one of " + ", ".join(METHODS))
    return name


def problem_of(params: Sequence[SweepParam]) -> dict[str, Any]:
    """The SALib problem: ``num_vars``, ``names`` and ``bounds``."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[p.lo, p.hi] for p in params],
    }


def make_design(
    params: Mapping[str, Any] | Sequence[SweepParam],
    method: str = "latin",
    n: int = 64,
    seed: int = 0,
    calc_second_order: bool = False,
    num_levels: int = 4,
) -> dict[str, Any]:
    """Sample a design with SALib (seeded) and return the content of ``design.json``.

    Args:
        params: ``{key: [lo, hi]}`` (checked against the schema) or checked parameters.
        method: ``latin`` (``n`` rows), ``sobol`` (Saltelli's scheme on a scrambled
            Sobol' sequence: ``n * (D + 2)`` rows, ``n * (2D + 2)`` with second order) or
            ``morris`` (``n`` trajectories of ``D + 1`` rows on a ``num_levels`` grid).
        n: Base sample size (``sobol``: a power of two), rows (``latin``) or
            trajectories (``morris``).
        seed: Seed of the sampler.
        calc_second_order: ``sobol`` only: also sample for second-order indices.
        num_levels: ``morris`` only: grid levels (even).

    Returns:
        ``{method, problem, seed, n, calc_second_order, num_levels, integer, samples}``.
    """
    from SALib.sample import latin, morris, sobol

    method = canonical_method(method)
    given = params if isinstance(params, Mapping) else list(params or [])
    if given and all(isinstance(p, SweepParam) for p in given):
        checked = list(given)
    else:
        checked = resolve_params(given)  # type: ignore[arg-type]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError("hydra.sweeper.n", n, "a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("hydra.sweeper.seed", seed, "a whole number >= 0")
    if method == "morris" and (
        isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 2
    ):
        raise ConfigError("hydra.sweeper.num_levels", num_levels, "a whole number >= 2")
    if method == "latin" and n < 2:
        raise ConfigError("hydra.sweeper.n", n, "at least 2 rows for a Latin hypercube")
    problem = problem_of(checked)
    salib_problem = dict(problem)  # SALib's samplers add keys (groups, ...) to the problem
    if method == "latin":
        samples = latin.sample(salib_problem, n, seed=seed)
    elif method == "sobol":
        samples = sobol.sample(
            salib_problem, n, calc_second_order=bool(calc_second_order), seed=seed
        )
    else:
        samples = morris.sample(salib_problem, n, num_levels=num_levels, seed=seed)
    return {
        "method": method,
        "problem": problem,
        "seed": seed,
        "n": n,
        "calc_second_order": bool(calc_second_order) if method == "sobol" else None,
        "num_levels": num_levels if method == "morris" else None,
        "integer": [p.name for p in checked if p.integer],
        "samples": np.asarray(samples, dtype=float).tolist(),
    }


def design_params(design: Mapping[str, Any]) -> list[SweepParam]:
    """The parameters of a design (names, bounds, whole-number keys)."""
    problem, integer = design["problem"], set(design.get("integer") or ())
    return [
        SweepParam(name, float(lo), float(hi), name in integer)
        for name, (lo, hi) in zip(problem["names"], problem["bounds"], strict=True)
    ]


def row_overrides(design: Mapping[str, Any], row: int) -> list[str]:
    """Hydra overrides of design row ``row``: each parameter, then ``sample=row``."""
    values = design["samples"][row]
    params = design_params(design)
    return [p.override(v) for p, v in zip(params, values, strict=True)] + [f"sample={row}"]


def _set(cfg: Any, dotted: str, value: Any) -> Any:
    """Set a dotted key on a typed config (through dict entries); return the old value."""
    *path, last = dotted.split(".")
    node = cfg
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    old = getattr(node, last)
    setattr(node, last, value)
    return old


def check_rows(cfg: Config, design: Mapping[str, Any]) -> list[tuple[int, ConfigError]]:
    """Validate ``cfg`` with each design row's values set: the rows that break a rule.

    Ranges are checked when the design is made; this catches the rules that tie keys
    together (``population.threshold_low <= threshold_high``, ...) before any run starts.
    ``cfg`` is left as it was.
    """
    from sim.config import validate

    params = design_params(design)
    bad = []
    for row, values in enumerate(design["samples"]):
        old = {}
        try:
            for p, v in zip(params, values, strict=True):
                old[p.name] = _set(cfg, p.name, round(float(v)) if p.integer else float(v))
            validate(cfg)
        except ConfigError as err:
            bad.append((row, err))
        finally:
            for name, value in old.items():
                _set(cfg, name, value)
    return bad


def write_design(sweep_dir: str | Path, design: Mapping[str, Any]) -> Path:
    """Write ``SWEEP_DIR/design.json`` atomically."""
    return write_json(Path(sweep_dir) / DESIGN_FILE, dict(design))


def read_design(sweep_dir: str | Path) -> dict[str, Any]:
    """The design of a sweep folder; a clear error when it is missing."""
    path = Path(sweep_dir) / DESIGN_FILE
    design = read_json(path)
    if not isinstance(design, dict) or "samples" not in design:
        raise FileNotFoundError(
            f"{path}: no sampling design (run the sweep with hydra/sweeper=salib)"
        )
    return design


# --- the results ---------------------------------------------------------------------------


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
    for path in sorted(sweep_dir.glob("**/summary.json")):
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
        summary = read_json(folder / "summary.json") or {}
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


def row_ranges(indices: Sequence[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2, 5, 7-8"``."""
    parts, start, prev = [], None, None
    for i in sorted(indices):
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            parts.append(f"{start}-{prev}" if prev != start else f"{start}")
            start = prev = i
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else f"{start}")
    return ", ".join(parts)


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
