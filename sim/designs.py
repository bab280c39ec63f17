"""Sampling designs over the config, for the ``salib`` sweeper.

A design is made by the ``salib`` sweeper (``trustsim -m hydra/sweeper=salib ...``,
see ``conf/hydra/sweeper/salib.yaml``) with SALib's own samplers, and written to
``SWEEP_DIR/design.json``::

    {"method": "sobol", "problem": {"num_vars": 2, "names": [...], "bounds": [[lo, hi], ...]},
     "seed": 0, "n": 256, "calc_second_order": false, "num_levels": 4,
     "integer": [...], "samples": [[...], ...]}

Each design row is one run per combination of the other sweeps on the command line
(typically ``seed=range(k)``, replicate seeds), and each run records its row in the
config key ``sample``. The analysis of the results is :mod:`sim.report.sensitivity`.
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

from sim.config import Config, ConfigError
from sim.files import DESIGN as DESIGN_FILE
from sim.output import read_json, write_json

METHODS = ("latin", "sobol", "morris")
_ALIASES = {"lhs": "latin", "latin_hypercube": "latin", "saltelli": "sobol"}
PARAMS_KEY = "hydra.sweeper.params"
RESERVED = ("sample",)  # set by the sweeper itself


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
    from sim.compose import validate_run

    params = design_params(design)
    bad = []
    for row, values in enumerate(design["samples"]):
        old = {}
        try:
            for p, v in zip(params, values, strict=True):
                old[p.name] = _set(cfg, p.name, round(float(v)) if p.integer else float(v))
            validate_run(cfg)
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
