"""What the report compares: library scenarios against baseline, levers and tools one at a time.

The three tables at the top say what is measured and how far each lever and tool is
moved; edit them as the model changes. Lever names come from :data:`sim.config.LEVERS`,
tool names must be numeric fields of :class:`sim.config.RegulatorConfig`, and scenarios
are the files in ``sim.compose.SCENARIO_DIR``; a table entry the model no longer has is a
clear error, not a crash.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from sim.behaviour.measures import (
    Indicator,
    minimum,
    rumour_reach_max,
    rumour_withdrawals_sum,
    target_trust_fall,
    value_at,
)
from sim.behaviour.runs import Arm, BehaviourError, RunResult, compose_arm
from sim.behaviour.stats import Paired, paired
from sim.compose import SCENARIO_DIR
from sim.config import LEVERS, MAX_TICKS, STRATEGY_NAMES, ConfigError, RegulatorConfig

# The main indicators of timeseries.parquet (model.md 9.1) the report reads.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("trust_mean", "mean trust over accounts"),
    Indicator("trust_balance_weighted", "balance-weighted mean trust over accounts"),
    Indicator("institutional_trust_mean", "mean institutional (system) trust g"),
    Indicator("invested_share", "share of users holding an account"),
    Indicator("retention_rate", "users invested / users who ever invested"),
    Indicator("satisfaction_mean", "mean satisfaction of users who ever invested"),
    Indicator("wom_net", "word-of-mouth net score (13-week mean)", window=13),
    Indicator("aum_total", "assets under management (sum of balances)"),
    Indicator("user_losses_cum", "cumulative user losses in closures"),
    Indicator("platforms_active", "platforms open (active or sandbox)"),
    Indicator(
        "platforms_failed",
        "platforms collapsed + wound down (cumulative)",
        sources=("platforms_collapsed", "platforms_wound_down"),
    ),
    Indicator("violation_rate", "share of operating platforms violating (13-week mean)", window=13),
)

# Lever values (low, high), set for every strategy at once; levers of sim.config.LEVERS
# missing here use DEFAULT_LEVER_LEVELS.
LEVER_LEVELS: dict[str, tuple[float, float]] = {
    "disclosure": (0.1, 0.9),
    "risk_management": (0.1, 0.9),
    "compliance": (0.1, 0.9),
    "user_experience": (0.1, 0.9),
    "rating_openness": (0.1, 0.9),
}
DEFAULT_LEVER_LEVELS = (0.1, 0.9)
# Extra overrides a lever needs to act: the regulator's disclosure floor would lift a low
# disclosure lever to the mandate.
LEVER_EXTRA: dict[str, tuple[str, ...]] = {"disclosure": ("regulator.disclosure_mandate=0",)}

# Regulator tools: regulator.<tool> low, high, and the context (a key of CONTEXTS) where
# the tool acts. Low and high are values, so for delays and thresholds (rebuttal_delay,
# shutdown_after) "high" is the more lenient setting.
TOOL_LEVELS: dict[str, tuple[float, float, str]] = {
    "inspection_rate": (0.01, 0.2, "baseline"),
    "detection_accuracy": (0.3, 0.9, "baseline"),
    "penalty": (0.002, 0.05, "baseline"),
    "shutdown_after": (1, 6, "tempted_unremedied"),
    "suspension_ticks": (1, 8, "tempted_strict"),
    "remediation": (0.0, 0.6, "tempted"),
    "violation_memory": (2, 16, "tempted"),
    "disclosure_mandate": (0.0, 0.8, "baseline"),
    "custody_requirement": (0.0, 0.9, "baseline"),
    "early_warning": (0.0, 0.8, "laggards"),
    "complaint_response": (0.1, 0.9, "baseline"),
    "complaint_saturation": (0.005, 0.05, "baseline"),
    "education_rate": (0.0, 0.005, "baseline"),
    "news_reach": (0.1, 0.9, "baseline"),
    "rule_lag": (13, 104, "legal_lag"),
    "rebuttal_delay": (1, 8, "rumour_rebutted_by_regulator"),
    "rebuttal_reach": (0.1, 0.9, "rumour_rebutted_by_regulator"),
    "peer_audit_rate": (0.0, 0.15, "self_regulation"),
    "peer_audit_accuracy": (0.2, 0.9, "self_regulation"),
    "adapt_target": (0.005, 0.05, "adaptive"),
    "adapt_gain": (0.5, 4.0, "adaptive_tempted"),
    "adapt_smoothing": (0.1, 0.9, "adaptive_tempted"),
    "max_tightening": (1.5, 6.0, "adaptive_tempted"),
}

# Weeks after an event at which the scenarios are read, and the rumours measured.
WEEKS_AFTER = 26
TRUST = "trust_mean"  # the column whose minimum (and its week) section 1 reports


@dataclasses.dataclass(frozen=True)
class Context:
    """Where a tool acts: overrides on top of the baseline, and extra outcomes to report.

    Attributes:
        doc: What the context is, for the report.
        overrides: Hydra overrides.
        rebut_rumours: Switch the scenario's rumours to the regulator's rebuttal (its own
            delay and reach), so that ``regulator.rebuttal_*`` act.
        rumour_outcomes: Also report the rumour measures.
    """

    doc: str
    overrides: tuple[str, ...] = ()
    rebut_rumours: bool = False
    rumour_outcomes: bool = False


# Platforms that break the rules often enough for sanctions to bind: the baseline's
# platforms with a strong temptation (a market of laggards collapses whole within the
# horizon, which leaves nothing to compare at the end).
TEMPTED = ("platforms.violation_temptation=0.3",)

CONTEXTS: dict[str, Context] = {
    "baseline": Context("the baseline config"),
    "tempted": Context("platforms tempted to break the rules (temptation 0.3)", TEMPTED),
    "tempted_unremedied": Context(
        "tempted platforms whose penalties order no remediation (penalties pile up)",
        (*TEMPTED, "regulator.remediation=0"),
    ),
    "tempted_strict": Context(
        "tempted platforms, suspended at the first penalty",
        (*TEMPTED, "regulator.shutdown_after=1"),
    ),
    "laggards": Context(
        "platforms=laggard (thin reserves: stress to warn of)", ("platforms=laggard",)
    ),
    "legal_lag": Context(
        "scenario `legal_lag` (a new product outside the rules)", ("scenario=legal_lag",)
    ),
    "rumour_rebutted_by_regulator": Context(
        "scenario `rumour` with the regulator's rebuttal switched on",
        ("scenario=rumour",),
        rebut_rumours=True,
        rumour_outcomes=True,
    ),
    "self_regulation": Context("regime `self_regulation`", ("regulator=self_regulation",)),
    "adaptive": Context("regime `adaptive`", ("regulator=adaptive",)),
    "adaptive_tempted": Context(
        "regime `adaptive` over tempted platforms (violations above its target)",
        ("regulator=adaptive", *TEMPTED),
    ),
}


# --- outcomes ----------------------------------------------------------------------------

Reader = Callable[[RunResult], float]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A number read from each run, compared between arms."""

    name: str
    read: Reader


def final_outcomes(
    indicators: Sequence[Indicator] = INDICATORS, week: int | None = None
) -> list[Outcome]:
    """Each indicator's value at the last week (or at ``week``)."""
    return [Outcome(i.name, lambda r, i=i: value_at(r, i, week)) for i in indicators]


def rumour_outcomes(weeks: int = WEEKS_AFTER) -> list[Outcome]:
    """Reach, withdrawals and the target's trust fall of a run's first rumour."""
    return [
        Outcome(f"rumour_reach (max, {weeks} wk)", lambda r: rumour_reach_max(r, weeks)),
        Outcome(
            f"rumour_withdrawals (sum, {weeks} wk)", lambda r: rumour_withdrawals_sum(r, weeks)
        ),
        Outcome(f"target trust fall ({weeks} wk)", lambda r: target_trust_fall(r, weeks)),
    ]


@dataclasses.dataclass(frozen=True)
class Effect:
    """One outcome compared between two arms: ``a - b`` paired over seeds."""

    outcome: str
    paired: Paired


def compare(
    results: Mapping[tuple[str, int], RunResult],
    a: Arm,
    b: Arm,
    seeds: Sequence[int],
    read: Reader,
) -> Paired:
    """``read(a) - read(b)`` paired over ``seeds``."""
    return paired(
        [read(results[(a.label, s)]) for s in seeds], [read(results[(b.label, s)]) for s in seeds]
    )


def effects(
    results: Mapping[tuple[str, int], RunResult],
    a: Arm,
    b: Arm,
    seeds: Sequence[int],
    outcomes: Sequence[Outcome],
) -> list[Effect]:
    """Every outcome compared between ``a`` and ``b``."""
    return [Effect(o.name, compare(results, a, b, seeds, o.read)) for o in outcomes]


# --- 1. scenarios against baseline -----------------------------------------------------------

BASELINE = "baseline"


def scenario_names() -> list[str]:
    """The library's scenarios (``SCENARIO_DIR/*.yaml``), baseline first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    if BASELINE not in names:
        raise BehaviourError(f"no {BASELINE}.yaml in {SCENARIO_DIR}")
    return [BASELINE] + [n for n in names if n != BASELINE]


def scenario_arm(name: str, size: Sequence[str]) -> Arm:
    """The arm of a library scenario at the report's run size."""
    return Arm(f"scenario/{name}", (*size, f"scenario={name}"))


@dataclasses.dataclass
class ScenarioPlan:
    """A scenario as composed: its description and event weeks, or why it cannot run."""

    name: str
    arm: Arm
    description: str = ""
    event_ticks: list[int] = dataclasses.field(default_factory=list)
    skipped: str | None = None

    @property
    def point(self) -> int | None:
        """The week read after the first event (None without events)."""
        return min(self.event_ticks) + WEEKS_AFTER if self.event_ticks else None


def plan_scenario(name: str, size: Sequence[str], ticks: int) -> ScenarioPlan:
    """Compose a scenario at the run size, or plan it as skipped.

    A scenario whose events fall past the horizon is skipped with the reason (the short
    runs of ``--quick`` cannot hold the long scenarios); any other config error is raised.
    """
    arm = scenario_arm(name, size)
    try:
        cfg = compose_arm(arm.overrides)
    except ConfigError as err:
        try:  # does it compose with a long enough horizon? then only the horizon is short
            long = compose_arm([*arm.overrides, f"ticks={MAX_TICKS}"])
        except ConfigError:
            raise err from None
        last = max(int(e["tick"]) for e in long.scenario.events)
        return ScenarioPlan(
            name,
            arm,
            long.scenario.description,
            sorted({int(e["tick"]) for e in long.scenario.events}),
            skipped=f"events up to week {last}, past the {ticks}-week horizon",
        )
    ticks_of = sorted({int(e["tick"]) for e in cfg.scenario.events})
    return ScenarioPlan(name, arm, cfg.scenario.description, ticks_of)


@dataclasses.dataclass
class ScenarioResult:
    """A scenario against baseline: final and post-event values, and the trust minimum."""

    plan: ScenarioPlan
    final: list[Effect]
    at_point: list[Effect]
    trust_min: Paired
    min_week: tuple[float, float]  # median week of the minimum: scenario, baseline


def analyse_scenario(
    plan: ScenarioPlan,
    baseline: Arm,
    results: Mapping[tuple[str, int], RunResult],
    seeds: Sequence[int],
    indicators: Sequence[Indicator] = INDICATORS,
) -> ScenarioResult:
    """Compare one planned scenario with the baseline over ``seeds``."""
    final = effects(results, plan.arm, baseline, seeds, final_outcomes(indicators))
    at_point = []
    if plan.point is not None:
        after = final_outcomes(indicators, plan.point)
        at_point = effects(results, plan.arm, baseline, seeds, after)
    trust_min = compare(results, plan.arm, baseline, seeds, lambda r: minimum(r, TRUST)[0])
    weeks = [
        float(np.nanmedian([minimum(results[(arm.label, s)], TRUST)[1] for s in seeds]))
        for arm in (plan.arm, baseline)
    ]
    return ScenarioResult(plan, final, at_point, trust_min, (weeks[0], weeks[1]))


# --- 2 and 3. one factor at a time ----------------------------------------------------------


@dataclasses.dataclass
class Factor:
    """A lever or tool moved from ``low`` to ``high`` (all else as in its context)."""

    kind: str  # "lever" or "tool"
    name: str
    low: float
    high: float
    context: str
    low_arm: Arm
    high_arm: Arm
    outcomes: list[Outcome]
    note: str = ""


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _lever_arm(lever: str, level: str, value: float, base: Sequence[str]) -> Arm:
    """``lever`` at ``value`` for every strategy of :data:`sim.config.STRATEGY_NAMES`."""
    sets = [f"platforms.strategies.{s}.{lever}={_number(value)}" for s in STRATEGY_NAMES]
    return Arm(f"lever/{lever}/{level}", (*base, *sets))


def _tool_arm(tool: str, level: str, value: float, whole: bool, base: Sequence[str]) -> Arm:
    """``regulator.<tool>`` at ``value`` (a whole number for integer fields)."""
    typed = round(value) if whole else float(value)
    return Arm(f"tool/{tool}/{level}", (*base, f"regulator.{tool}={_number(typed)}"))


def lever_factors(
    size: Sequence[str], indicators: Sequence[Indicator] = INDICATORS
) -> list[Factor]:
    """The five platform levers, each set low and high for every strategy at once."""
    unknown = sorted(set(LEVER_LEVELS) - set(LEVERS))
    if unknown:
        raise BehaviourError(
            f"LEVER_LEVELS names {', '.join(unknown)}, not levers of the model "
            f"(sim.config.LEVERS: {', '.join(LEVERS)})"
        )
    factors = []
    for lever in LEVERS:
        low, high = LEVER_LEVELS.get(lever, DEFAULT_LEVER_LEVELS)
        extra = LEVER_EXTRA.get(lever, ())
        note = ", ".join(f"with {o}" for o in extra)
        if lever not in LEVER_LEVELS:
            note = ", ".join(filter(None, [note, "default levels"]))
        factors.append(
            Factor(
                "lever",
                lever,
                low,
                high,
                "baseline",
                _lever_arm(lever, "low", low, [*size, *extra]),
                _lever_arm(lever, "high", high, [*size, *extra]),
                final_outcomes(indicators),
                note,
            )
        )
    return factors


def regulator_tools() -> dict[str, dict]:
    """The numeric fields of ``RegulatorConfig`` with their schema metadata and type."""
    return {
        f.name: {"type": f.type, **f.metadata}
        for f in dataclasses.fields(RegulatorConfig)
        if f.type in (int, float, "int", "float")
    }


def untested_tools() -> list[str]:
    """Numeric regulator fields that :data:`TOOL_LEVELS` does not vary."""
    return [name for name in regulator_tools() if name not in TOOL_LEVELS]


def _rebuttal_overrides(base: Sequence[str]) -> list[str]:
    """Overrides that hand every rumour of the composed scenario to the regulator's rebuttal."""
    cfg = compose_arm(base)
    overrides = []
    for i, event in enumerate(cfg.scenario.events):
        if event.get("type") != "rumour":
            continue
        overrides.append(f"scenario.events.{i}.rebuttal=true")
        for key in ("rebuttal_delay", "rebuttal_reach"):
            if event.get(key) is not None:
                overrides.append(f"scenario.events.{i}.{key}=null")
    if not overrides:
        raise BehaviourError(f"context {base}: the scenario has no rumour event to rebut")
    return overrides


def tool_factors(size: Sequence[str], indicators: Sequence[Indicator] = INDICATORS) -> list[Factor]:
    """The regulator's tools of :data:`TOOL_LEVELS`, each low and high in its context."""
    fields = regulator_tools()
    factors = []
    for tool, (low, high, context_name) in TOOL_LEVELS.items():
        key = f"regulator.{tool}"
        if tool not in fields:
            raise BehaviourError(
                f"TOOL_LEVELS names {key}, not a numeric field of RegulatorConfig "
                f"(fields: {', '.join(fields)})"
            )
        meta = fields[tool]
        lo_ok, hi_ok = meta.get("lo", -math.inf), meta.get("hi", math.inf)
        for value in (low, high):
            if not lo_ok <= value <= hi_ok:
                raise BehaviourError(
                    f"TOOL_LEVELS[{tool!r}] value {value} is outside {key}'s range "
                    f"[{lo_ok}, {hi_ok}]"
                )
        if context_name not in CONTEXTS:
            raise BehaviourError(
                f"TOOL_LEVELS[{tool!r}] context {context_name!r} is not one of "
                + ", ".join(CONTEXTS)
            )
        context = CONTEXTS[context_name]
        base = [*size, *context.overrides]
        if context.rebut_rumours:
            base += _rebuttal_overrides(base)
        whole = meta["type"] in (int, "int")
        outcomes = final_outcomes(indicators)
        if context.rumour_outcomes:
            outcomes += rumour_outcomes()

        factors.append(
            Factor(
                "tool",
                tool,
                low,
                high,
                context_name,
                _tool_arm(tool, "low", low, whole, base),
                _tool_arm(tool, "high", high, whole, base),
                outcomes,
            )
        )
    return factors


@dataclasses.dataclass
class FactorResult:
    """A factor's effect (high - low) on each of its outcomes."""

    factor: Factor
    effects: list[Effect]


def analyse_factor(
    factor: Factor, results: Mapping[tuple[str, int], RunResult], seeds: Sequence[int]
) -> FactorResult:
    """The paired effect of moving a factor from low to high."""
    return FactorResult(
        factor, effects(results, factor.high_arm, factor.low_arm, seeds, factor.outcomes)
    )
