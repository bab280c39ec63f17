"""Morris screening of every numeric parameter of the schema around the baseline.

The parameters are discovered from the composed baseline config and the schema's
dataclasses (``dict`` entries such as ``platforms.strategies.<name>`` included); each is
varied over its schema range intersected with ``[default/2, default*1.5]``:

* a probability (range [0, 1]) above 0.5 varies its distance to 1 by the same +-50 %
  instead (0.97 -> [0.955, 0.985], not [0.485, 1]), which stays inside that interval;
* a default of 0 varies over ``[0, ZERO_SPAN]`` (per key in :data:`ZERO_SPANS`);
* whole numbers get whole-number ends (at least two values).

Pairs of keys that a cross-field rule orders (:data:`ORDERED_PAIRS`) are cut apart at the
midpoint of their defaults where their ranges would overlap, so no design row can break
the rule; :func:`sim.designs.check_rows` confirms it before anything runs.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.behaviour.measures import Indicator, value_at
from sim.behaviour.runs import Arm, BehaviourError, RunResult
from sim.behaviour.studies import INDICATORS
from sim.config import Config
from sim.designs import SweepParam, check_rows, make_design, schema_field

# Keys that are not model parameters (or fix the run's size), as fnmatch patterns.
SKIP: tuple[str, ...] = (
    "seed",
    "ticks",
    "population.n_users",
    "platforms.count",
    "sample",
    "ishigami.*",
    "output.*",
)
ZERO_SPAN = 0.1  # upper end of the range of a key whose default is 0
ZERO_SPANS: dict[str, float] = {}  # per key, where 0.1 is the wrong scale
# (lower, upper) keys of the schema's cross-field rules: lower <= upper must hold.
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (
    ("population.threshold_low", "population.threshold_high"),
    ("platforms.default_rate_low", "platforms.default_rate_high"),
    ("trust.detractor_threshold", "trust.promoter_threshold"),
)
# The outputs screened (names of studies.INDICATORS), read at the final week.
OUTPUTS: tuple[str, ...] = (
    "trust_mean",
    "invested_share",
    "institutional_trust_mean",
    "user_losses_cum",
    "platforms_failed",
)
SEED = 0  # every design row runs this seed: common random numbers along each trajectory
SAMPLER_SEED = 0


@dataclasses.dataclass(frozen=True)
class Parameter:
    """A screened key: its baseline value and the range sampled."""

    name: str
    default: float
    lo: float
    hi: float
    integer: bool

    def sweep(self) -> SweepParam:
        """As :class:`sim.designs.SweepParam` for the design."""
        return SweepParam(self.name, self.lo, self.hi, self.integer)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_keys(cfg: Config) -> list[tuple[str, float]]:
    """Every numeric leaf key of ``cfg`` that has a range in the schema, with its value.

    Dict entries of dataclasses (``platforms.strategies.balanced.disclosure``) are walked
    as the config holds them; plain dicts of numbers (``platforms.mix``) have no range and
    are left out, as are the keys matching :data:`SKIP`.
    """
    found: list[tuple[str, float]] = []

    def walk(node: Any, prefix: str) -> None:
        for f in dataclasses.fields(node):
            key, value = f"{prefix}{f.name}", getattr(node, f.name)
            if any(fnmatch.fnmatchcase(key, pattern) for pattern in SKIP):
                continue
            if dataclasses.is_dataclass(value):
                walk(value, key + ".")
            elif isinstance(value, dict):
                for name, item in value.items():
                    if dataclasses.is_dataclass(item):
                        walk(item, f"{key}.{name}.")
            elif _is_number(value):
                meta = schema_field(key, value).metadata
                if "lo" in meta or "hi" in meta:
                    found.append((key, float(value)))

    walk(cfg, "")
    return found


def morris_range(
    key: str, default: float, meta: Mapping[str, Any], integer: bool
) -> tuple[float, float] | None:
    """The range sampled for one key (see the module docstring); None if it cannot vary."""
    lo_s, hi_s = float(meta.get("lo", -math.inf)), float(meta.get("hi", math.inf))
    span = ZERO_SPANS.get(key, ZERO_SPAN)
    if lo_s == 0.0 and hi_s == 1.0 and default > 0.5:
        rest = 1.0 - default  # vary the distance to 1, not the value
        lo, hi = (1.0 - 1.5 * rest, 1.0 - 0.5 * rest) if rest > 0 else (1.0 - span, 1.0)
    elif default == 0:
        lo, hi = 0.0, span
    else:
        lo, hi = sorted((0.5 * default, 1.5 * default))
    lo, hi = max(lo, lo_s), min(hi, hi_s)
    if meta.get("open_lo") and lo <= lo_s:
        lo = (lo_s + default) / 2  # stay strictly above an open lower end
    if integer:
        lo, hi = math.ceil(lo), math.floor(hi)
        if lo >= hi:  # a range holding one whole number: take the next one up or down
            lo, hi = (lo, lo + 1) if lo + 1 <= hi_s else (hi - 1, hi)
    if not lo < hi or lo < lo_s or hi > hi_s:
        return None
    return float(lo), float(hi)


def _separate(params: dict[str, Parameter]) -> None:
    """Cut ordered pairs apart at the midpoint of their defaults where they overlap."""
    for low_key, high_key in ORDERED_PAIRS:
        low, high = params.get(low_key), params.get(high_key)
        if low is None or high is None or low.hi <= high.lo:
            continue
        cut = (low.default + high.default) / 2
        params[low_key] = dataclasses.replace(low, hi=min(low.hi, cut))
        params[high_key] = dataclasses.replace(high, lo=max(high.lo, cut))


def parameters(cfg: Config) -> tuple[list[Parameter], list[str]]:
    """The screened parameters of ``cfg`` and the keys that could not be varied."""
    params: dict[str, Parameter] = {}
    fixed = []
    for key, default in numeric_keys(cfg):
        f = schema_field(key, default)
        integer = f.type in (int, "int")
        found = morris_range(key, default, f.metadata, integer)
        if found is None:
            fixed.append(key)
            continue
        params[key] = Parameter(key, default, found[0], found[1], integer)
    _separate(params)
    return list(params.values()), fixed


@dataclasses.dataclass
class Screening:
    """A Morris design over the baseline config and the arms that run it."""

    params: list[Parameter]
    fixed: list[str]
    design: dict[str, Any]
    arms: list[Arm]
    base: tuple[str, ...]

    @property
    def seeds(self) -> list[int]:
        """The seed each row runs."""
        return [SEED]


def plan(cfg: Config, base: Sequence[str], trajectories: int, levels: int) -> Screening:
    """The design: ``trajectories`` Morris trajectories of ``len(params) + 1`` rows.

    Args:
        cfg: The composed baseline config at the screening's run size (for defaults and
            to check every row against the cross-field rules).
        base: Its overrides.
        trajectories: Morris ``r``.
        levels: Grid levels (even).

    Raises:
        BehaviourError: A row breaks a cross-field rule (naming the first one).
    """
    params, fixed = parameters(cfg)
    design = make_design(
        [p.sweep() for p in params],
        method="morris",
        n=trajectories,
        seed=SAMPLER_SEED,
        num_levels=levels,
    )
    bad = check_rows(cfg, design)
    if bad:
        row, err = bad[0]
        raise BehaviourError(
            f"{len(bad)} Morris design rows break a config rule, first row {row}: {err}; "
            "add the keys to ORDERED_PAIRS in sim/behaviour/morris.py"
        )
    names = [p.name for p in params]
    arms = [
        Arm(f"morris/{row}", tuple(base), tuple(zip(names, map(float, values), strict=True)))
        for row, values in enumerate(design["samples"])
    ]
    return Screening(params, fixed, design, arms, tuple(base))


def outputs() -> list[Indicator]:
    """The indicators of :data:`OUTPUTS`."""
    by_name = {i.name: i for i in INDICATORS}
    missing = [name for name in OUTPUTS if name not in by_name]
    if missing:
        raise BehaviourError(
            f"Morris OUTPUTS {', '.join(missing)} are not in studies.INDICATORS "
            f"({', '.join(by_name)})"
        )
    return [by_name[name] for name in OUTPUTS]


def analyse(
    screening: Screening, results: Mapping[tuple[str, int], RunResult]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Morris indices of each output (SALib ``morris.analyze``).

    An output can be undefined in a run (``trust_mean`` when no account is left, after a
    market-wide run); trajectories with such a row are left out of that output's
    analysis, since an elementary effect needs both ends.

    Returns:
        A table with ``output``, ``parameter``, ``mu_star``, ``mu_star_conf``, ``mu``,
        ``sigma``, ``trajectories`` (used; sorted by output, then ``mu_star``
        descending), and a note per output that lost trajectories or could not be
        analysed.
    """
    from SALib.analyze import morris

    design = screening.design
    problem = {k: design["problem"][k] for k in ("num_vars", "names", "bounds")}
    x = np.asarray(design["samples"], dtype=float)
    steps = problem["num_vars"] + 1  # rows per trajectory
    r = len(x) // steps
    frames, notes = [], {}
    for indicator in outputs():
        y = np.array(
            [value_at(results[(arm.label, SEED)], indicator) for arm in screening.arms],
            dtype=float,
        )
        whole = np.isfinite(y).reshape(r, steps).all(axis=1)
        if not whole.all():
            rows = int((~np.isfinite(y)).sum())
            notes[indicator.name] = (
                f"undefined (NaN) in {rows} runs (every platform had closed by the end, so no "
                f"account is left to trust; `invested_share` and `platforms_failed` show what "
                f"drives that); {int((~whole).sum())} of {r} trajectories left out"
            )
        if whole.sum() < 2:  # sigma needs two elementary effects per parameter
            notes[indicator.name] += ", fewer than 2 left: not analysed"
            continue
        keep = np.repeat(whole, steps)
        si = morris.analyze(
            problem,
            x[keep],
            y[keep],
            num_resamples=100,
            conf_level=0.95,
            num_levels=int(design["num_levels"]),
            seed=np.random.default_rng(SAMPLER_SEED),
        )
        frame = pd.DataFrame(
            {
                "output": indicator.name,
                "parameter": problem["names"],
                "mu_star": si["mu_star"],
                "mu_star_conf": si["mu_star_conf"],
                "mu": si["mu"],
                "sigma": si["sigma"],
                "trajectories": int(whole.sum()),
            }
        )
        frames.append(frame.sort_values(["mu_star", "parameter"], ascending=[False, True]))
    columns = ["output", "parameter", "mu_star", "mu_star_conf", "mu", "sigma", "trajectories"]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return table, notes
