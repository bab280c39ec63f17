"""The seed report's claims, each measured as paired comparisons with a plain verdict.

A claim is one or more *parts*, each a directional paired comparison (the claim says
``a - b`` is positive or negative). A part *supports* the claim when its 95 % interval
lies entirely on the claimed side of 0, *contradicts* it when it lies entirely on the
other side, and shows *no clear effect* otherwise. The claim's verdict is ``supported``
when every part supports it, ``not supported`` when none does, ``mixed`` otherwise
(``not measured`` when a scenario it needs could not run at the report's horizon).

Human-written explanations of the mechanism, where the model disagrees, are read from
``explanations.yaml`` beside this module (``{claim id: text}``) and shown verbatim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence, Set
from pathlib import Path

import yaml

from sim.behaviour.measures import (
    closed_by_run,
    entrant_losses,
    first_rumour,
    run_mean,
    value_at,
)
from sim.behaviour.runs import Arm, BehaviourError, RunResult
from sim.behaviour.stats import Paired, paired
from sim.behaviour.studies import (
    INDICATORS,
    WEEKS_AFTER,
    FactorResult,
    compare,
    rumour_outcomes,
    scenario_arm,
)

EXPLANATIONS = Path(__file__).with_name("explanations.yaml")

# Ch. 2: regimes compared (weak, strong) and a low/high supervision intensity: these
# regulator keys set together, everything else as in the baseline.
REGIMES = ("laissez_faire", "rules_based")
SUPERVISION_LEVELS: dict[str, tuple[float, float]] = {
    "inspection_rate": (0.01, 0.2),
    "detection_accuracy": (0.3, 0.9),
    "penalty": (0.002, 0.05),
}
# Ch. 5.4, 5.3, 7.3: the scenarios compared. The run claim uses the rumour that hits the
# least liquid platform and is never rebutted: a run needs a platform that cannot pay.
RUMOUR, EDUCATED_RUMOUR, RUMOUR_RUN = "rumour", "education_campaign", "rumour_run"
SANDBOX, NO_SANDBOX = "sandbox_pilot", "no_sandbox"
# The sandbox is also compared where entry is lax: without a disclosure floor or much
# supervision, weak entrants are not exposed and closed outside the sandbox.
LAX_ENTRY = "laissez_faire"
BASELINE = "baseline"

SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
NOT_MEASURED = "not measured"


@dataclasses.dataclass(frozen=True)
class Part:
    """One directional comparison of a claim: ``a - b``, expected to have ``direction``'s sign.

    Attributes:
        what: What is compared, for the report.
        a: Label of arm ``a``.
        b: Label of arm ``b``.
        direction: +1 if the claim expects ``a > b``, -1 if ``a < b``.
        paired: The measured comparison.
        detail: Extra text (counts of seeds and the like).
    """

    what: str
    a: str
    b: str
    direction: int
    paired: Paired
    detail: str = ""

    @property
    def reading(self) -> str:
        """``supports``, ``contradicts`` or ``no clear effect``."""
        if self.paired.sign == self.direction:
            return "supports"
        if self.paired.sign == -self.direction:
            return "contradicts"
        return "no clear effect"


@dataclasses.dataclass
class Claim:
    """A claim of the seed report and its measured parts."""

    id: str
    chapter: str
    statement: str
    how: str
    parts: list[Part]
    explanation: str | None = None

    @property
    def verdict(self) -> str:
        """``supported``, ``not supported`` or ``mixed`` (see the module docstring)."""
        if not self.parts:
            return NOT_MEASURED
        readings = [p.reading == "supports" for p in self.parts]
        if all(readings):
            return SUPPORTED
        if not any(readings):
            return NOT_SUPPORTED
        return MIXED


# --- the arms the claims need beyond sections 1-3 -------------------------------------------


def regime_arm(regime: str, size: Sequence[str]) -> Arm:
    """The baseline scenario under a regulator regime."""
    return Arm(f"claim/regime/{regime}", (*size, f"regulator={regime}"))


def supervision_arm(level: str, size: Sequence[str]) -> Arm:
    """The baseline with the supervision keys of :data:`SUPERVISION_LEVELS` low or high."""
    i = {"low": 0, "high": 1}[level]
    sets = [f"regulator.{key}={values[i]:g}" for key, values in SUPERVISION_LEVELS.items()]
    return Arm(f"claim/supervision/{level}", (*size, *sets))


def lax_entry_arm(scenario: str, size: Sequence[str]) -> Arm:
    """A scenario under the :data:`LAX_ENTRY` regime."""
    return Arm(
        f"claim/{LAX_ENTRY}/{scenario}", (*size, f"scenario={scenario}", f"regulator={LAX_ENTRY}")
    )


def claim_arms(size: Sequence[str]) -> list[Arm]:
    """Arms the claims need (the scenario arms are shared with section 1)."""
    scenarios = (BASELINE, RUMOUR, EDUCATED_RUMOUR, RUMOUR_RUN, SANDBOX, NO_SANDBOX)
    return [
        *(regime_arm(r, size) for r in REGIMES),
        supervision_arm("low", size),
        supervision_arm("high", size),
        *(scenario_arm(n, size) for n in scenarios),
        *(lax_entry_arm(n, size) for n in (SANDBOX, NO_SANDBOX)),
    ]


# --- explanations --------------------------------------------------------------------------


def load_explanations(path: Path = EXPLANATIONS) -> dict[str, str]:
    """``{claim id: text}`` from the explanations file (empty if it is missing or ``{}``)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise BehaviourError(f"{path}: expected a mapping of claim id to text")
    return data


# --- the claims ----------------------------------------------------------------------------

Results = Mapping[tuple[str, int], RunResult]


def _final(name: str):
    indicator = next(i for i in INDICATORS if i.name == name)
    return lambda r: value_at(r, indicator)


def levers_raise_trust(levers: Sequence[FactorResult]) -> Claim:
    """Ch. 3: each platform lever raises trust (section 2's effects on trust_mean)."""
    parts = []
    for result in levers:
        f = result.factor
        effect = next(e for e in result.effects if e.outcome == "trust_mean")
        parts.append(
            Part(
                f"{f.name} {f.high:g} vs {f.low:g}: final trust_mean",
                f.high_arm.label,
                f.low_arm.label,
                +1,
                effect.paired,
            )
        )
    return Claim(
        "ch3_levers_raise_trust",
        "3",
        "Each platform lever (disclosure, risk management, compliance, user experience, "
        "rating openness) raises users' trust.",
        "Section 2: each lever high vs low for every strategy at once; final `trust_mean`.",
        parts,
    )


def supervision_lowers_harm(results: Results, seeds: Sequence[int], size: Sequence[str]) -> Claim:
    """Ch. 2: supervision lowers violations and user losses."""
    weak, strong = (regime_arm(r, size) for r in REGIMES)
    low, high = supervision_arm("low", size), supervision_arm("high", size)
    losses = _final("user_losses_cum")
    parts = []
    for a, b, name in ((strong, weak, f"{REGIMES[1]} vs {REGIMES[0]}"), (high, low, "high vs low")):
        parts.append(
            Part(
                f"{name}: mean violation_rate over the run",
                a.label,
                b.label,
                -1,
                compare(results, a, b, seeds, lambda r: run_mean(r, "violation_rate")),
            )
        )
        parts.append(
            Part(
                f"{name}: final user_losses_cum",
                a.label,
                b.label,
                -1,
                compare(results, a, b, seeds, losses),
            )
        )
    levels = ", ".join(f"`{k}` {lo:g} / {hi:g}" for k, (lo, hi) in SUPERVISION_LEVELS.items())
    return Claim(
        "ch2_supervision_lowers_harm",
        "2",
        "Supervision lowers violations and users' losses.",
        f"Regime `{REGIMES[1]}` against `{REGIMES[0]}`, and a low/high supervision "
        f"intensity in the baseline ({levels}).",
        parts,
    )


def education_calms_panic(results: Results, seeds: Sequence[int], size: Sequence[str]) -> Claim:
    """Ch. 5.4: education makes users harder to panic (the same rumour after a campaign)."""
    a, b = scenario_arm(EDUCATED_RUMOUR, size), scenario_arm(RUMOUR, size)
    parts = [
        Part(o.name, a.label, b.label, -1, compare(results, a, b, seeds, o.read))
        for o in rumour_outcomes(WEEKS_AFTER)
    ]
    return Claim(
        "ch5_4_education_calms_panic",
        "5.4",
        "Financial education makes users harder to panic.",
        f"Scenario `{EDUCATED_RUMOUR}` (a campaign, then the rumour) against `{RUMOUR}`: the "
        f"rumour's reach, the withdrawals it causes and the fall in its target's trust within "
        f"{WEEKS_AFTER} weeks.",
        parts,
    )


def sandbox_lowers_entrant_losses(
    results: Results, seeds: Sequence[int], size: Sequence[str]
) -> Claim:
    """Ch. 5.3: a sandbox lowers the losses that risky entrants cause."""
    parts = []
    for arms, where in (
        ((scenario_arm(SANDBOX, size), scenario_arm(NO_SANDBOX, size)), "default regime"),
        ((lax_entry_arm(SANDBOX, size), lax_entry_arm(NO_SANDBOX, size)), f"`{LAX_ENTRY}`"),
    ):
        a, b = arms
        parts.append(
            Part(
                f"{where}: entrants' losses, realised and unrealised",
                a.label,
                b.label,
                -1,
                compare(results, a, b, seeds, entrant_losses),
            )
        )
    return Claim(
        "ch5_3_sandbox_lowers_entrant_losses",
        "5.3",
        "A regulatory sandbox lowers the losses caused by risky entrants.",
        f"Scenario `{SANDBOX}` against `{NO_SANDBOX}`, under the default regime and under "
        f"`{LAX_ENTRY}`: what the entrants (index >= `platforms.count`) cost users, the "
        "losses in their closures plus the shortfall of those still operating at the end.",
        parts,
    )


def rumour_starts_run(results: Results, seeds: Sequence[int], size: Sequence[str]) -> Claim:
    """Ch. 7.3: a rumour can start a run on its target."""
    a, b = scenario_arm(RUMOUR_RUN, size), scenario_arm(BASELINE, size)
    with_rumour, without = [], []
    for seed in seeds:
        rumoured = results[(a.label, seed)]
        found = first_rumour(rumoured)
        if found is None:  # the target found no open platform: nothing to measure
            with_rumour.append(float("nan"))
            without.append(float("nan"))
            continue
        start, target = found
        with_rumour.append(closed_by_run(rumoured, target, start, WEEKS_AFTER))
        # The same seed without the rumour shares the world up to its start, so the
        # platform the rumour would have hit is the same one.
        without.append(closed_by_run(results[(b.label, seed)], target, start, WEEKS_AFTER))
    comparison = paired(with_rumour, without)
    k_a = int(sum(v == 1.0 for v in with_rumour))
    k_b = int(sum(v == 1.0 for v in without))
    part = Part(
        f"target closed by a run within {WEEKS_AFTER} weeks (share of seeds)",
        a.label,
        b.label,
        +1,
        comparison,
        f"{k_a} of {comparison.n} seeds with the rumour, {k_b} of {comparison.n} without",
    )
    return Claim(
        "ch7_3_rumour_starts_run",
        "7.3",
        "A rumour can start a run on a platform.",
        f"Scenario `{RUMOUR_RUN}` (an unrebutted rumour about the least liquid platform) "
        f"against `{BASELINE}` with the same seeds: is the rumour's target closed with reason "
        f"`run` within {WEEKS_AFTER} weeks of the rumour's start?",
        [part],
    )


def _unmeasured(measure, missing: Sequence[str]) -> Claim:
    """The claim of ``measure`` without parts: its scenarios did not run."""
    claim = measure({}, [], ())  # over no seeds: only its wording is used
    claim.how += " Not measured: " + ", ".join(f"`{s}`" for s in missing) + " did not run."
    claim.parts = []
    return claim


def evaluate(
    levers: Sequence[FactorResult],
    results: Results,
    seeds: Sequence[int],
    size: Sequence[str],
    explanations: Mapping[str, str] | None = None,
    skipped: Set[str] = frozenset(),
) -> list[Claim]:
    """All claims, with their explanations attached.

    Args:
        levers: Section 2's lever effects.
        results: The runs by (arm label, seed).
        seeds: The seeds compared.
        size: The run-size overrides of the arms.
        explanations: ``{claim id: text}`` (default: read from ``explanations.yaml``).
        skipped: Scenarios not run (past the horizon); claims needing one are shown
            without measurements.

    Raises:
        BehaviourError: The explanations name a claim id that does not exist.
    """
    claims = [levers_raise_trust(levers), supervision_lowers_harm(results, seeds, size)]
    for scenarios, measure in (
        ((EDUCATED_RUMOUR, RUMOUR), education_calms_panic),
        ((SANDBOX, NO_SANDBOX), sandbox_lowers_entrant_losses),
        ((RUMOUR_RUN, BASELINE), rumour_starts_run),
    ):
        missing = [s for s in scenarios if s in skipped]
        if missing:
            claims.append(_unmeasured(measure, missing))
        else:
            claims.append(measure(results, seeds, size))
    explanations = load_explanations() if explanations is None else explanations
    unknown = sorted(set(explanations) - {c.id for c in claims})
    if unknown:
        raise BehaviourError(
            f"{EXPLANATIONS.name} names unknown claims {', '.join(unknown)}; claim ids: "
            + ", ".join(c.id for c in claims)
        )
    for claim in claims:
        claim.explanation = explanations.get(claim.id)
    return claims
