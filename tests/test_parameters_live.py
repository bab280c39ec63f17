"""Every reachable numeric parameter of the schema moves some output.

For each int, float and bool leaf of :class:`sim.config.Config` (the dict-valued
``platforms.strategies.<name>.<field>`` and ``platforms.mix.<name>`` included) the test
composes a small run in the context where the key acts (:data:`CONTEXTS`), changes the key
to another valid value (:func:`perturb`), runs both with the same seed and fails if neither
a timeseries column, nor the platforms' table, nor the event log moved. The reference run
of each context is computed once per process (:func:`reference` is cached).

Keys dead on the current code are listed in :data:`KNOWN_DEAD` with the reason and marked
``xfail(strict=True)``: the list fails as soon as one of them comes alive, so it can only
shrink. Each test records the relative change of the final ``trust_mean`` and
``user_losses_cum`` as a junit property (information, not a test).

The tests at the end check the scenario library against the event parameters that fall
back to a config value when unset (:data:`EVENT_FALLBACKS`): a scenario file that sets one
makes that config key dead in the scenario.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import math
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.compose import SCENARIO_DIR, compose_config
from sim.config import STRATEGY_NAMES, Config, RegulatorConfig
from sim.events import EVENT_TYPES
from sim.model import TrustModel

# Small and short enough for CI, large and long enough for the contexts' events: at 600
# users a rumour has one seed spreader; sandbox review and the end of legal lag are at 78.
BASE = ("population.n_users=600", "ticks=80", "seed=0")

# Not under test: the run's identity and size, the Ishigami stand-in, file output, and the
# comparison with a record (it moves the distance in summary.json, not the simulation:
# tests/test_calibration.py checks it).
EXCLUDED = (
    "calibration.*",
    "seed",
    "sample",
    "ticks",
    "population.n_users",
    "platforms.count",
    "ishigami.*",
    "output.*",
)

# A market where violations are frequent (laggards, strongly tempted).
TEMPTED = ("platforms=laggard", "platforms.violation_temptation=0.3")
# Rare events made common enough to be seen at this size: more platforms, longer.
MANY = ("platforms.count=60", "ticks=160")
# A market where platforms fail: laggards drained by frauds, nobody watching.
FAILING = (
    "platforms=laggard",
    "platforms.fraud_share=0.5",
    "platforms.fraud_drawdown=0.03",
    "regulator.inspection_rate=0",
    "regulator.early_warning=0",
)

ENTRY = ("entry.enabled=true",)

# Two jurisdictions, a strict one and one without fines, and licences that move.
ARBITRAGE = (
    "platforms=laggard",
    "scenario.jurisdictions=[{name:strict,user_share:0.5,platform_share:0.5,"
    "regulator:{penalty:0.05,inspection_rate:0.2}},"
    "{name:lax,user_share:0.5,platform_share:0.5,regulator:{penalty:0.0}}]",
    "scenario.cross_border.relocation_rate=0.2",
    "scenario.cross_border.relocation_cost=0.01",
)

# Extra overrides (after BASE) under which a key acts. The first matching pattern wins, so
# specific patterns come first; a key that matches none runs in BASE alone.
CONTEXTS: dict[str, list[str]] = {
    # A strategy's disclosure below the regulator's floor is lifted to it (dead by design).
    **{
        f"platforms.strategies.{s}.disclosure": [f"platforms={s}", "regulator.disclosure_mandate=0"]
        for s in STRATEGY_NAMES
    },
    # A strategy acts only where platforms play it.
    **{f"platforms.strategies.{s}.*": [f"platforms={s}"] for s in STRATEGY_NAMES},
    "scenario.cross_border.relocation*": list(ARBITRAGE),
    "scenario.cross_border.foreign_news_weight": list(ARBITRAGE),
    # Listings by either regulator, seen across the border only when shared.
    "scenario.cross_border.shared_blacklist": [
        "platforms=mixed",
        "platforms.violation_temptation=0.3",
        "scenario.jurisdictions=[{name:strict,user_share:0.5,platform_share:0.5,"
        "regulator:{penalty:0.0005,inspection_rate:0.3,blacklist:true}},"
        "{name:lax,user_share:0.5,platform_share:0.5,regulator:{penalty:0.0}}]",
    ],
    "scenario.cross_border.joint_inspections": [
        *ARBITRAGE,
        "platforms.violation_temptation=0.3",
        "scenario.cross_border.joint_inspections=0.3",
    ],
    # Flags passed on: a watchful strict regulator, frauds licensed on both sides.
    "scenario.cross_border.info*": [
        "platforms=mixed",
        "scenario.jurisdictions=[{name:strict,user_share:0.5,platform_share:0.5,"
        "regulator:{penalty:0.05,inspection_rate:0.2,early_warning:0.8}},"
        "{name:lax,user_share:0.5,platform_share:0.5,regulator:{penalty:0.0}}]",
        "scenario.cross_border.info_sharing=0.5",
        "scenario.cross_border.info_delay=2",
        "platforms.fraud_share=0.3",
        "platforms.fraud_drawdown=0.03",
    ],
    # A sandbox cohort in the first jurisdiction, open abroad only if recognised.
    "scenario.cross_border.sandbox_recognition": [
        "scenario.jurisdictions=[{name:one,user_share:0.5,platform_share:0.5},"
        "{name:two,user_share:0.5,platform_share:0.5}]",
        "scenario.events=[{tick:5,type:sandbox,entrants:4}]",
    ],
    # Rebuttals answer a false rumour; rumour_rebutted is the scenario that rebuts.
    "regulator.rebuttal*": ["scenario=rumour_rebutted"],
    "regulator.rule_lag": ["scenario=legal_lag"],
    # Peer audits act where there are violations to find.
    "regulator.peer_audit_accuracy": [
        "scenario=self_regulation",
        "platforms.violation_temptation=0.2",
    ],
    "regulator.peer_audit_rate": ["regulator=self_regulation"],
    "regulator.blacklist": ["regulator=self_regulation"],
    # Tightening needs violations above the target: a tempted, lax-compliance market.
    "regulator.max_tightening": ["regulator=adaptive", *TEMPTED, "regulator.adapt_target=0.005"],
    "regulator.adapt*": ["regulator=adaptive", *TEMPTED],
    "adaptation.*": ["adaptation.enabled=true", "adaptation.every=5"],
    # Penalties pile up (against remediation) only where violations are frequent.
    # Remediation (the default) keeps most platforms below the count; without it the count binds.
    "regulator.shutdown_after": ["regulator.remediation=0", "platforms.violation_temptation=0.2"],
    # Rare draws (incidents, violations): a longer run with more platforms to see them.
    "platforms.incident_effect": [*MANY],
    "platforms.breach_rate": [*MANY],
    "platforms.misconduct_rate": [*MANY],
    "platforms.deterrence_scale": [*MANY],
    "regulator.violation_memory": [*TEMPTED, "regulator.inspection_rate=0.01"],
    "regulator.remediation": [*TEMPTED],
    # Complaint-led inspections matter where there are violations to find.
    "regulator.complaint_saturation": ["platforms.violation_temptation=0.2"],
    "regulator.suspension_ticks": ["regulator.shutdown_after=1", *TEMPTED],
    # Orderly closures: platforms shut for their violations and wound down.
    "trust.orderly_shock_ratio": ["regulator.shutdown_after=1", *TEMPTED],
    # Withdrawals that fail: runs on platforms drained by fraud, unsupervised.
    "trust.failed_withdrawal_evidence": [*FAILING],
    "trust.run_evidence": [*FAILING],
    "platforms.liquidation_*": [*FAILING],
    # Early warning needs stressed platforms; laggards hold reserves near the threshold.
    "regulator.early_warning": ["platforms=laggard"],
    "platforms.liquidity_stress": ["platforms=laggard"],
    # A disorderly collapse (the only one that sells loans at a fire-sale haircut).
    "platforms.fire_sale_haircut": ["scenario=fraud_contagion"],
    "platforms.collapse_failed_share": [*FAILING],
    # Going-concern exits: sandbox reviews (the haircut shows in the closure's book value).
    "platforms.exit_haircut": ["scenario=sandbox_pilot", "platforms.violation_temptation=0.3"],
    # Endogenous entry and exit (sim.entry) act only when it is on; exits need losses
    # (a fixed cost of the rules) and frauds whose deposits shrink (lax, failing markets).
    "entry.exit_*": [*ENTRY, "regulator.compliance_cost=1.0", "ticks=120"],
    "entry.abscond": [*ENTRY, *FAILING],
    "entry.*": [*ENTRY],
    "regulator.entry_*": [*ENTRY],
    "regulator.capital_requirement": [*ENTRY],
    "regulator.registration_cost": [*ENTRY],
    # An exit drive reads the rate when it starts (the China calendar's Jan 2019 drive).
    "regulator.exit_rate": ["scenario.events=[{tick:10,type:orderly_exit}]"],
    # The sandbox's terms: the pilot's cohort takes them from the regulator. Its entrants
    # reach 0.7% of a 20-platform market at most, so the 1% cap binds in a small market.
    "regulator.sandbox_exposure_cap": ["scenario=sandbox_pilot", "platforms.count=5"],
    "regulator.sandbox_*": ["scenario=sandbox_pilot", "platforms.violation_temptation=0.3"],
    # A forced breach rather than a rare random one.
    "trust.breach_shock": ["scenario=data_breach"],
}

# Keys that move no output on the current code, with the reason; xfail(strict=True).
KNOWN_DEAD: dict[str, str] = {}

# Cross-field rules of sim.config._check_relations: low <= high.
RELATIONS = (
    ("population.threshold_low", "population.threshold_high"),
    ("population.exposure_low", "population.exposure_high"),
    ("platforms.default_rate_low", "platforms.default_rate_high"),
    ("trust.detractor_threshold", "trust.promoter_threshold"),
)


class Leaf(NamedTuple):
    """A numeric leaf of the schema and its range (the field's ``lo``/``hi``/``open_lo``)."""

    key: str
    kind: type
    lo: float
    hi: float
    open_lo: bool


def schema_leaves(node: Any = None, prefix: str = "") -> list[Leaf]:
    """Every int, float and bool leaf of the schema, through nested and dict-valued groups."""
    node = Config() if node is None else node
    leaves = []
    for f in dataclasses.fields(node):
        key, value = prefix + f.name, getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            leaves += schema_leaves(value, key + ".")
        elif isinstance(value, dict):
            for name, item in value.items():
                if dataclasses.is_dataclass(item):  # platforms.strategies.<name>.<field>
                    leaves += schema_leaves(item, f"{key}.{name}.")
                elif isinstance(item, int | float):  # platforms.mix.<name>: a weight >= 0
                    leaves.append(Leaf(f"{key}.{name}", float, 0.0, math.inf, False))
        elif f.type in (bool, int, float):
            meta = f.metadata
            lo, hi = meta.get("lo", -math.inf), meta.get("hi", math.inf)
            leaves.append(Leaf(key, f.type, lo, hi, bool(meta.get("open_lo", False))))
    return leaves


def perturb(value: Any, kind: type, lo: float, hi: float, open_lo: bool = False) -> Any:
    """Another valid value: a bool flips, else the first candidate inside the range.

    Ints: x2, +1, -1. Floats in a bounded range: x1.5, then a fifth of the range down or
    up (for values near a bound), then x0.5. Unbounded floats: x1.5, x0.5, +1, -1. Above
    ``lo`` strictly if ``open_lo``.
    """
    if kind is bool:
        return not value
    if kind is int:
        candidates = [value * 2, value + 1, value - 1]
    elif math.isfinite(hi):
        step = 0.2 * (hi - lo)
        candidates = [value * 1.5, value - step, value + step, value * 0.5]
    else:
        candidates = [value * 1.5, value * 0.5, value + 1.0, value - 1.0]
    for new in candidates:
        new = kind(round(new, 12))  # no float noise in the id (0.3 x 1.5 = 0.44999999999999996)
        if new != value and (new > lo if open_lo else new >= lo) and new <= hi:
            return new
    raise ValueError(f"no valid value other than {value!r} in [{lo}, {hi}]")


def context_of(key: str) -> tuple[str, ...]:
    """The overrides under which ``key`` acts: the first pattern of CONTEXTS matching it."""
    for pattern, overrides in CONTEXTS.items():
        if fnmatch.fnmatchcase(key, pattern):
            return tuple(overrides)
    return ()


@functools.cache
def composed(overrides: tuple[str, ...]) -> Config:
    """BASE plus ``overrides``, composed once (shared: read only)."""
    return compose_config([*BASE, *overrides])


def get_value(node: Any, key: str) -> Any:
    """The value of a dotted key, through dataclasses and dicts."""
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def bounds(leaf: Leaf, cfg: Config) -> tuple[float, float]:
    """The leaf's range, narrowed by a cross-field rule to the related key's value."""
    lo, hi = leaf.lo, leaf.hi
    for low, high in RELATIONS:
        if leaf.key == low:
            hi = min(hi, get_value(cfg, high))
        elif leaf.key == high:
            lo = max(lo, get_value(cfg, low))
    return lo, hi


def override(key: str, value: Any) -> str:
    """The Hydra override setting ``key`` to ``value`` (also the test's id)."""
    return f"{key}={str(value).lower() if isinstance(value, bool) else repr(value)}"


class Outputs(NamedTuple):
    """What a run produced, as compared."""

    timeseries: pd.DataFrame
    platforms: pd.DataFrame
    events: str  # the event log as canonical JSON


def run(overrides: tuple[str, ...]) -> Outputs:
    """Run BASE plus ``overrides``."""
    model = TrustModel(compose_config([*BASE, *overrides]))
    model.run()
    log = json.dumps(model.event_log, sort_keys=True, default=str)
    return Outputs(model.timeseries(), model.platform_table(), log)


@functools.cache
def reference(context: tuple[str, ...]) -> Outputs:
    """The unperturbed run of a context, once per process (perturbed runs are not kept)."""
    return run(context)


def moved(ref: Outputs, new: Outputs) -> list[str]:
    """What differs: the timeseries columns, then ``platforms`` and ``events``."""
    changed = [c for c in ref.timeseries if not ref.timeseries[c].equals(new.timeseries[c])]
    if not ref.platforms.equals(new.platforms):
        changed.append("platforms")
    if ref.events != new.events:
        changed.append("events")
    return changed


def relative_change(ref: Outputs, new: Outputs, column: str) -> float:
    """|final new - final ref| / |final ref| of a timeseries column (inf from 0 or NaN)."""
    a, b = float(ref.timeseries[column].iloc[-1]), float(new.timeseries[column].iloc[-1])
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(b - a) / abs(a) if a and math.isfinite(a) and math.isfinite(b) else math.inf


class Case(NamedTuple):
    """A key under test: its context, its value there and the value it is changed to."""

    key: str
    context: tuple[str, ...]
    old: Any
    new: Any


def cases() -> list[Case]:
    """Every key under test, the new value computed from its value in its context."""
    found = []
    for leaf in schema_leaves():
        if any(fnmatch.fnmatchcase(leaf.key, pattern) for pattern in EXCLUDED):
            continue
        context = context_of(leaf.key)
        cfg = composed(context)
        old = get_value(cfg, leaf.key)
        new = perturb(old, leaf.kind, *bounds(leaf, cfg), leaf.open_lo)
        found.append(Case(leaf.key, context, old, new))
    return found


CASES = cases()


def _param(case: Case) -> Any:
    marks = []
    if case.key in KNOWN_DEAD:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DEAD[case.key]))
    return pytest.param(case, id=override(case.key, case.new), marks=marks)


# A key that moves nothing at seed 0 is tried at this seed too: a rare event (a stress to
# warn of, a violation to find) can miss one seed by chance, a dead key moves in none.
SECOND_SEED = "seed=1"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_parameter_moves_an_output(case: Case, record_property) -> None:
    ref = reference(case.context)
    new = run((*case.context, override(case.key, case.new)))
    for column in ("trust_mean", "user_losses_cum"):  # information, in the junit XML
        record_property(f"rel_{column}", relative_change(ref, new, column))
    if not moved(ref, new):
        context = (*case.context, SECOND_SEED)
        ref, new = reference(context), run((*context, override(case.key, case.new)))
    assert moved(ref, new), (
        f"{case.key}: {case.old!r} -> {case.new!r} moved no output at seeds 0 and 1 "
        f"(context: {' '.join(case.context) or 'defaults'})"
    )


def test_tables_name_real_keys() -> None:
    # A typo in a pattern or in KNOWN_DEAD would silently test nothing or mark nothing.
    keys = [leaf.key for leaf in schema_leaves()]
    for pattern in CONTEXTS:
        assert fnmatch.filter(keys, pattern), f"{pattern} matches no key of the schema"
    assert set(KNOWN_DEAD) <= {case.key for case in CASES}


@pytest.mark.parametrize(
    ("value", "kind", "lo", "hi", "open_lo", "expected"),
    [
        (True, bool, -math.inf, math.inf, False, False),
        (3, int, 1, math.inf, False, 6),
        (0, int, 0, math.inf, False, 1),
        (0.3, float, 0.0, 1.0, False, 0.45),
        (0.97, float, 0.0, 1.0, False, 0.77),
        (0.0, float, 0.0, 1.0, False, 0.2),
        (0.3, float, 0.0, 0.35, False, 0.23),  # x1.5 above a related key's value
        (4.0, float, 1.0, math.inf, False, 6.0),
        (0.0, float, 0.0, math.inf, True, 1.0),
    ],
)
def test_perturb_stays_in_range(value, kind, lo, hi, open_lo, expected) -> None:
    assert perturb(value, kind, lo, hi, open_lo) == expected


# --- scenario files against event fallbacks ---------------------------------------------

# Event parameters that default to None and then read a config value: a scenario file
# that sets one makes the config key(s) dead in that scenario.
EVENT_FALLBACKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("rumour", "rebuttal"): ("regulator.rebuttal",),
    ("rumour", "rebuttal_delay"): ("regulator.rebuttal_delay",),
    ("rumour", "rebuttal_reach"): ("regulator.rebuttal_reach",),
    ("legal_lag", "lag"): ("regulator.rule_lag",),
    ("self_regulation", "peer_audit_accuracy"): ("regulator.peer_audit_accuracy",),
    ("platform_entry", "default_rate"): (
        "platforms.default_rate_low",
        "platforms.default_rate_high",
    ),
    ("platform_entry", "advertised_yield"): ("platforms.strategies.<strategy>.advertised_yield",),
    ("sandbox", "duration"): ("regulator.sandbox_duration",),
    ("orderly_exit", "rate"): ("regulator.exit_rate",),
    ("sandbox", "exposure_cap"): ("regulator.sandbox_exposure_cap",),
    ("sandbox", "monitoring"): ("regulator.sandbox_monitoring",),
    ("sandbox", "disclosure"): ("regulator.sandbox_disclosure",),
}
# None-default parameters that mean "leave unchanged", not "use the config's value".
NOT_FALLBACKS = {
    ("strategy_change", "strategy"),
    ("strategy_change", "levers"),
    ("strategy_change", "advertised_yield"),
    ("orderly_exit", "duration"),  # None: the drive lasts to the end of the run
    ("policy_shift", "jurisdiction"),  # None: the first jurisdiction's (the only) regulator
    ("platform_entry", "jurisdiction"),  # None: licensed in the first jurisdiction
    ("sandbox", "jurisdiction"),  # None: the first jurisdiction's sandbox
}

# Deliberate counterfactuals: the scenario's question needs the value (the unrebutted
# rumour of `rumour`, the same rumour after education). The config key stays live in
# another library scenario (test_each_fallback_key_is_live_in_some_scenario).
COUNTERFACTUALS = {
    ("rumour", "rumour", "rebuttal"),
    ("education_campaign", "rumour", "rebuttal"),
    ("rumour_run", "rumour", "rebuttal"),
}


def _none_defaults() -> set[tuple[str, str]]:
    return {
        (name, f.name)
        for name, cls in EVENT_TYPES.items()
        for f in dataclasses.fields(cls)
        if f.default is None
    }


def test_fallback_table_matches_the_event_types() -> None:
    # Every None default of an event type is classified, and the table names only those.
    assert set(EVENT_FALLBACKS) | NOT_FALLBACKS == _none_defaults()


def _fallbacks_set(path: Path) -> list[tuple[str, str]]:
    events = OmegaConf.to_container(OmegaConf.load(path)).get("events") or []
    return [
        (event["type"], name)
        for event in events
        for name, value in event.items()
        if (event["type"], name) in EVENT_FALLBACKS and value is not None
    ]


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_scenario_leaves_config_fallbacks_unset(path: Path) -> None:
    set_here = [
        f"{kind}.{name} (hides {', '.join(EVENT_FALLBACKS[kind, name])})"
        for kind, name in _fallbacks_set(path)
        if (path.stem, kind, name) not in COUNTERFACTUALS
    ]
    assert not set_here, f"{path.name} sets {'; '.join(set_here)}"


def test_each_fallback_key_is_live_in_some_scenario() -> None:
    """A counterfactual may set a fallback; another scenario with that event leaves it."""
    for _, kind, name in COUNTERFACTUALS:
        leaving = [
            p.stem
            for p in SCENARIO_DIR.glob("*.yaml")
            if any(e.get("type") == kind for e in _events(p))
            and (kind, name) not in _fallbacks_set(p)
        ]
        assert leaving, f"no library scenario leaves {kind}.{name} to the config"


def _events(path: Path) -> list[dict[str, Any]]:
    return OmegaConf.to_container(OmegaConf.load(path)).get("events") or []


# What an event sets on purpose: starting self-regulation means audits at a rate > 0
# and a blacklist, whatever the regime had (usually none).
INTERVENTIONS = {"self_regulation.peer_audit_rate", "self_regulation.blacklist"}


def test_event_parameters_named_like_regulator_keys_fall_back() -> None:
    # An event parameter named like a regulator key should read it when unset, not replace
    # it with a constant of its own.
    regulator = {f.name for f in dataclasses.fields(RegulatorConfig)}
    constant = sorted(
        f"{name}.{f.name}"
        for name, cls in EVENT_TYPES.items()
        for f in dataclasses.fields(cls)
        if f.name in regulator and f.default is not None
    )
    constant = [c for c in constant if c not in INTERVENTIONS]
    assert not constant, f"constant defaults replace regulator keys: {constant}"
