"""The config schema: every parameter of a run, its default, its range, and validation.

This is the lowest layer of the package: it imports nothing from ``sim``. The dataclasses
below are registered in Hydra's ConfigStore by :mod:`sim.compose` (as ``trustsim_schema``,
the first entry of ``conf/config.yaml``'s defaults list), so a wrong type or an unknown
key fails while Hydra composes. Ranges and allowed names sit beside each field (in its
``metadata``) and :func:`validate` checks them, plus the rules that tie fields together,
before anything is built. Time is in weekly ticks; rates called ``annual`` are per year
(:data:`WEEKS_PER_YEAR` ticks).
"""

import dataclasses
import datetime
import math
import os
from dataclasses import dataclass, field
from typing import Any

from hydra.errors import CompactHydraException

WEEKS_PER_YEAR = 52.0  # a tick is a week; annual rates are divided by this

# Upper bounds where a value has no meaning past them (issue 11: 1e308 gave inf and NaN).
# Evidence per tick above 1,000 decides trust alone either way; amounts, weights and scales
# beyond 1e6 of their unit are off any scale the model is written for; counts and ticks
# beyond 1e6 ask for more memory or time than any machine has (sim/resources.py checks
# the memory a run would need).
MAX_EVIDENCE = 1_000.0
MAX_AMOUNT = 1e6
MAX_COUNT = 1_000_000
MAX_TICKS = 52 * 500  # 500 years of weeks

LEVERS = ("disclosure", "risk_management", "compliance", "user_experience", "rating_openness")
LEVER_INDEX = {name: i for i, name in enumerate(LEVERS)}  # column of a lever in (P, 5) arrays
NETWORK_KINDS = ("watts_strogatz", "barabasi_albert", "erdos_renyi", "edge_list")
STRATEGY_NAMES = (
    "transparency_first",
    "risk_first",
    "compliance_first",
    "ux_first",
    "ratings_first",
    "balanced",
    "laggard",
)


class ConfigError(CompactHydraException):
    """A config value is out of range, of the wrong kind, or names something unknown."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid config value {key}={value!r}: allowed {allowed}")


def _p(default: float, lo: float = 0.0, hi: float = 1.0, doc: str = "") -> Any:
    """A float field with a closed range (a probability or lever by default)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})


def _pos(
    default: float, doc: str = "", lo: float = 0.0, open_lo: bool = True, hi: float = MAX_AMOUNT
) -> Any:
    """A float field above ``lo`` (strictly, unless ``open_lo`` is False), at most ``hi``."""
    return field(default=default, metadata={"lo": lo, "open_lo": open_lo, "hi": hi, "doc": doc})


def _count(default: int, lo: int = 1, doc: str = "", hi: int = MAX_COUNT) -> Any:
    """A whole-number field in ``[lo, hi]``."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})


def _ev(default: float, doc: str, hi: float = MAX_EVIDENCE) -> Any:
    """An evidence weight or other non-negative amount (0 switches its source off)."""
    return field(default=default, metadata={"lo": 0.0, "open_lo": False, "hi": hi, "doc": doc})


@dataclass
class PopulationConfig:
    """Users: who they are at tick 0 and how they behave."""

    n_users: int = _count(10_000, doc="number of users", hi=1_000_000_000)
    literacy_alpha: float = _pos(2.0, "Beta(alpha, beta) of literacy", lo=1e-3, open_lo=False)
    literacy_beta: float = _pos(3.0, "Beta(alpha, beta) of literacy", lo=1e-3, open_lo=False)
    wealth_log_mean: float = _pos(10.0, "mean of log wealth", lo=-50.0, open_lo=False, hi=50.0)
    wealth_log_sd: float = _pos(1.0, "sd of log wealth", open_lo=False, hi=5.0)
    investable_share: float = _p(0.3, doc="share of wealth that is idle investable money at tick 0")
    initial_investor_share: float = _p(0.5, doc="share of users holding an account at tick 0")
    income_share: float = _p(0.001, doc="new investable money per tick, as a share of wealth")
    exposure_low: float = _p(0.2, doc="most of their money users put on platforms is U(low, high)")
    exposure_high: float = _p(0.8, doc="most of their money users put on platforms is U(low, high)")
    threshold_low: float = _p(0.3, doc="withdraw thresholds are U(threshold_low, threshold_high)")
    threshold_high: float = _p(0.7, doc="withdraw thresholds are U(threshold_low, threshold_high)")
    run_sensitivity: float = _ev(0.3, "rise of a threshold per share of holders seen leaving")
    institutional_trust_mean: float = _p(
        0.45, doc="mean initial institutional trust (low, seed 1.1)"
    )
    institutional_trust_concentration: float = _pos(
        20.0, "Beta concentration of it", lo=1e-3, open_lo=False
    )
    max_accounts: int = _count(3, doc="accounts a user can hold at once", hi=100)
    awareness_rate: float = _p(
        0.005, doc="chance per tick a user not yet in the market hears of it"
    )
    deposit_rate: float = _p(0.15, doc="chance per tick that a user reviews where their money is")
    deposit_share: float = _p(0.5, doc="share of idle money invested when a user invests")
    considered: int = _count(2, lo=0, doc="platforms a reviewing user notices besides own and tips")
    size_visibility: float = _p(0.5, doc="share of noticing owed to market share, not advertising")
    switch_threshold: float = _ev(0.6, "utility gap at which a user moves an account elsewhere")
    liquidity_need_rate: float = _p(0.01, doc="chance per tick of a routine withdrawal")
    liquidity_need_share: float = _p(0.3, doc="share of a balance taken in a routine withdrawal")
    choice_temperature: float = _pos(
        0.5, "softmax temperature of platform choice", lo=1e-3, open_lo=False
    )
    weight_reputation: float = _pos(1.0, "utility weight of public reputation", open_lo=False)
    weight_yield: float = _pos(5.0, "utility weight of advertised annual yield", open_lo=False)
    weight_trust: float = _pos(3.0, "utility weight of own trust", open_lo=False)
    weight_user_experience: float = _ev(0.5, "utility weight of ease of use (less friction)")
    initial_satisfaction: float = _p(0.5, doc="satisfaction (and platform ratings) at tick 0")
    satisfaction_smoothing: float = _p(0.1, doc="weight of this tick's outcome in satisfaction")
    incident_delivery: float = _p(0.5, doc="delivery score of a tick with an outage or breach")
    violation_delivery: float = _p(0.5, doc="delivery score of a tick the platform violated in")
    ux_weight: float = _p(0.3, doc="share of a delivered outcome owed to user experience")
    complaint_threshold: float = _p(0.5, doc="outcome below which a user may complain")
    complaint_prob: float = _p(0.5, doc="chance a dissatisfied user complains (times literacy)")


@dataclass
class NetworkConfig:
    """The users' social network."""

    kind: str = field(default="watts_strogatz", metadata={"choices": NETWORK_KINDS})
    avg_degree: float = _pos(10.0, "mean number of contacts")
    rewire_p: float = _p(0.1, doc="Watts-Strogatz rewiring probability")
    path: str | None = field(default=None, metadata={"doc": "edge-list file for kind=edge_list"})


@dataclass
class TrustConfig:
    """Beta-reputation trust, its evidence sources, and institutional trust."""

    prior_weight: float = _pos(
        4.0, "k: weight of institutional trust as prior evidence", lo=1e-6, open_lo=False
    )
    forgetting_good: float = _p(0.97, doc="lambda+: good evidence kept per tick")
    forgetting_bad: float = _p(0.995, doc="lambda-: bad evidence kept per tick (remembered longer)")
    w_plus: float = _pos(1.0, "weight of good evidence")
    w_minus: float = _pos(2.5, "weight of bad evidence (> w_plus: trust is lost faster)")
    public_weight: float = _p(0.5, doc="phi: weight of the public record against own experience")
    own_outcome_evidence: float = _ev(0.1, "evidence per tick from what a platform delivered")
    failed_withdrawal_evidence: float = _ev(6.0, "bad evidence from a failed withdrawal")
    incident_evidence: float = _ev(0.4, "bad evidence from an outage or breach")
    disclosure_evidence: float = _ev(0.5, "evidence per tick from a full disclosure")
    disclosure_noise: float = _ev(0.05, "sd of a report's reliability reading at zero disclosure")
    literacy_noise: float = _ev(0.05, "extra reading noise at zero literacy")
    rating_evidence: float = _ev(1.0, "evidence from open ratings one unit above the market's")
    news_evidence: float = _ev(1.0, "bad evidence from enforcement news (times g)")
    run_evidence: float = _ev(3.0, "bad evidence when a platform pays none of its withdrawals")
    failure_evidence: float = _ev(5.0, "bad evidence per share of the market lost in a failure")
    wom_evidence: float = _ev(0.5, "evidence from a neighbour's opinion")
    panic_evidence: float = _ev(1.0, "bad evidence from a neighbour who fled the same platform")
    wom_contact_rate: float = _p(0.3, doc="chance per tick a user talks to a random neighbour")
    wom_tip_weight: float = _p(0.5, doc="weight of a neighbour's tip over the public record")
    promoter_threshold: float = _p(0.65, doc="trust at or above which a neighbour promotes")
    detractor_threshold: float = _p(0.35, doc="trust at or below which a neighbour detracts")
    institutional_mixing: float = _p(0.02, doc="DeGroot weight of neighbours' system trust")
    propensity_anchor: float = _p(0.01, doc="pull of system trust back to one's propensity")
    calm_gain: float = _p(0.002, doc="rise of system trust toward 1 per calm tick")
    enforcement_reassurance: float = _p(0.01, doc="rise of system trust per enforcement heard")
    enforcement_alarm: float = _p(0.02, doc="fall of system trust per enforcement heard")
    collapse_shock: float = _p(0.5, doc="fall of system trust per share of the market lost")
    orderly_shock_ratio: float = _p(0.3, doc="shock of an orderly wind-down relative to collapse")
    own_loss_shock: float = _p(0.5, doc="fall of system trust (and propensity) per share lost")
    breach_shock: float = _p(0.01, doc="fall of system trust on data-breach news")


@dataclass
class StrategyConfig:
    """A platform strategy: the five levers of seed ch. 3 and the yield it advertises."""

    disclosure: float = _p(0.5)
    risk_management: float = _p(0.5)
    compliance: float = _p(0.5)
    user_experience: float = _p(0.5)
    rating_openness: float = _p(0.5)
    advertised_yield: float = _p(0.08, doc="annual yield promised to users")


def _default_strategies() -> dict[str, StrategyConfig]:
    s = StrategyConfig
    return {
        "transparency_first": s(0.9, 0.5, 0.6, 0.5, 0.7, 0.07),
        "risk_first": s(0.5, 0.9, 0.6, 0.4, 0.4, 0.065),
        "compliance_first": s(0.6, 0.6, 0.9, 0.4, 0.4, 0.065),
        "ux_first": s(0.3, 0.4, 0.4, 0.9, 0.5, 0.08),
        "ratings_first": s(0.5, 0.4, 0.5, 0.6, 0.9, 0.075),
        "balanced": s(0.7, 0.7, 0.7, 0.7, 0.7, 0.07),
        "laggard": s(0.1, 0.1, 0.1, 0.3, 0.1, 0.12),
    }


def _default_mix() -> dict[str, float]:
    return {name: 1.0 for name in STRATEGY_NAMES}


@dataclass
class LeverCostConfig:
    """Annual cost of each lever at full strength, as a share of assets under management."""

    disclosure: float = _pos(0.004, lo=0.0, open_lo=False)
    risk_management: float = _pos(0.008, lo=0.0, open_lo=False)
    compliance: float = _pos(0.006, lo=0.0, open_lo=False)
    user_experience: float = _pos(0.005, lo=0.0, open_lo=False)
    rating_openness: float = _pos(0.002, lo=0.0, open_lo=False)


@dataclass
class PlatformsConfig:
    """Platforms: the strategy preset (``platforms=NAME``) and the economics they share."""

    count: int = _count(20, doc="platforms at tick 0")
    preset: str = "mixed"
    mix: dict[str, float] = field(default_factory=_default_mix)
    strategies: dict[str, StrategyConfig] = field(default_factory=_default_strategies)
    lever_jitter: float = _p(0.05, doc="sd of each platform's deviation from its strategy")
    lever_costs: LeverCostConfig = field(default_factory=LeverCostConfig)
    capital_share: float = _p(0.1, doc="starting equity as a share of expected deposits")
    loan_rate: float = _p(0.15, doc="annual interest on the loan book")
    default_rate_low: float = _p(0.02, doc="hidden quality: annual base default rates are")
    default_rate_high: float = _p(0.10, doc="U(default_rate_low, default_rate_high)")
    risk_management_effect: float = _p(0.7, doc="share of defaults avoided at full risk lever")
    recovery_rate: float = _p(0.4, doc="share of a defaulted loan recovered")
    loan_maturity: float = _pos(26.0, "mean loan life in ticks", lo=1.0, open_lo=False)
    reserve_base: float = _p(0.05, doc="reserve ratio at zero risk management")
    reserve_risk: float = _p(0.25, doc="extra reserve ratio at full risk management")
    fee_rate: float = _p(0.005, doc="annual fee on balances")
    fraud_share: float = _p(0.05, doc="share of platforms that are Ponzi-like frauds")
    fraud_drawdown: float = _p(0.01, doc="share of free assets a fraud diverts per tick")
    fraud_yield_premium: float = _p(0.05, doc="extra annual yield a fraud advertises")
    outage_rate: float = _p(0.02, doc="chance of an outage per tick at zero risk management")
    breach_rate: float = _p(0.004, doc="chance of a data breach per tick at zero risk management")
    misconduct_rate: float = _p(0.01, doc="chance of staff misconduct per tick at zero compliance")
    incident_effect: float = _p(0.8, doc="share of incidents avoided at a full lever")
    misconduct_loss: float = _p(0.01, doc="share of free assets lost to misconduct")
    violation_temptation: float = _p(0.05, doc="violation chance per tick, zero compliance/penalty")
    deterrence_scale: float = _pos(0.0005, "expected penalty that cuts temptation by a factor e")
    violation_harm: float = _p(0.001, doc="share of liabilities a violation takes out of reach")
    default_passthrough: float = _p(0.25, doc="share of loan losses written off users' balances")
    collapse_failed_share: float = _p(0.5, doc="share of asked withdrawals unpaid that collapses")
    liquidation_capacity: float = _p(0.1, doc="share of its loans a platform can sell in a tick")
    liquidation_discount: float = _p(0.1, doc="loss on loans sold to pay withdrawals")
    fire_sale_haircut: float = _p(0.6, doc="loss on loans sold in a disorderly collapse")
    orderly_haircut: float = _p(0.15, doc="loss on loans run off in an orderly wind-down")
    exit_haircut: float = _p(0.02, doc="loss on loans of a going concern that exits in order")
    liquidity_stress: float = _p(0.05, doc="cash / liabilities below which RegTech may flag")


@dataclass
class RegulatorConfig:
    """The regulator's regime (``regulator=NAME``): its tools and how hard it uses them."""

    regime: str = "rules_based"
    inspection_rate: float = _p(0.05, doc="chance per tick of a random inspection")
    detection_accuracy: float = _p(0.6, doc="chance an inspection finds what is there (RegTech)")
    penalty: float = _p(0.01, doc="fine as a share of the platform's liabilities")
    shutdown_after: int = _count(3, doc="penalties before suspension and orderly wind-down")
    remediation: float = _p(0.3, doc="share of the gap to full compliance a penalty orders closed")
    violation_memory: int = _count(8, doc="ticks an undetected violation stays findable")
    disclosure_mandate: float = _p(0.3, doc="enforced minimum disclosure lever")
    custody_requirement: float = _p(0.5, doc="share of user funds held by a custodian")
    early_warning: float = _p(0.3, doc="RegTech flag chance per tick (times detection accuracy)")
    suspension_ticks: int = _count(
        4, doc="ticks of a suspension (withdrawals stayed) before wind-down"
    )
    complaint_response: float = _p(0.5, doc="inspection odds per unit complaint intensity")
    complaint_saturation: float = _pos(
        0.05, "complaints / users at which response saturates", lo=1e-6, open_lo=False
    )
    education_rate: float = _p(0.0005, doc="literacy gain toward 1 per tick")
    # What supervision costs (supervision_cost), in inspections: a unit convention for
    # comparing regimes, not a calibrated budget.
    monitoring_cost: float = _pos(
        0.05, "cost of RegTech early warning per open licensee a week, at full strength",
        lo=0.0, open_lo=False,
    )  # fmt: skip
    education_cost: float = _pos(
        1.0, "cost of education per user brought all the way to full literacy", lo=0.0,
        open_lo=False,
    )  # fmt: skip
    news_reach: float = _p(0.5, doc="share of users who hear enforcement news")
    rebuttal: bool = True
    rebuttal_delay: int = _count(2, lo=0, doc="ticks before a false rumour is rebutted")
    rebuttal_reach: float = _p(0.6, doc="share of users a rebuttal reaches per tick")
    rule_lag: int = _count(52, doc="ticks before a new product line comes under the rules")
    peer_audit_rate: float = _p(0.0, doc="chance per tick of an industry peer audit")
    peer_audit_accuracy: float = _p(0.5, doc="chance a peer audit finds a violation")
    blacklist: bool = False
    adaptive: bool = False
    adapt_target: float = _p(0.02, doc="violation rate the adaptive regulator tolerates")
    adapt_gain: float = _pos(3.0, "tightening per unit of relative excess", open_lo=False)
    adapt_smoothing: float = _p(0.1, doc="weight of this tick in the violation-rate average")
    max_tightening: float = _pos(4.0, "cap on the adaptive multiplier", lo=1.0, open_lo=False)
    # Entry barriers (seed 2.2, 5.5), read by endogenous entry (``entry.enabled``).
    entry_open: bool = True
    exit_rate: float = _p(0.05, doc="weekly chance an open platform is told to leave (exit policy)")
    capital_requirement: float = _pos(
        1.0, "entrants' minimum capital, a multiple of the standard capital", lo=1.0, open_lo=False
    )
    registration_cost: float = _pos(
        0.0, "one-off cost of registering or licensing, share of capital", lo=0.0, open_lo=False
    )
    entry_screening: float = _p(0.0, doc="chance licensing refuses a fraudulent applicant")
    compliance_cost: float = _pos(
        0.0, "annual fixed cost of meeting the rules, share of capital", lo=0.0, open_lo=False
    )
    entry_sandbox: bool = False
    sandbox_exposure_cap: float = _p(0.01, doc="sandboxed platform's cap, share of the market")
    sandbox_monitoring: float = _p(0.3, doc="inspection chance per tick in the sandbox")
    sandbox_disclosure: float = _p(0.8, doc="disclosure lever enforced in the sandbox")
    sandbox_duration: int = _count(52, doc="ticks in the sandbox before the graduation review")


SERVICE_RULES = ("passport", "home_only")


@dataclass
class JurisdictionConfig:
    """One jurisdiction (seed 5.3, 7.5, 9.8): its users, its licensed platforms, its regulator.

    ``regime`` names a preset of ``conf/regulator`` (its values, resolved when the scenario
    file is read, are in ``regulator``); without one the jurisdiction's regulator starts
    from the run's ``regulator`` config. ``regulator`` holds keys of
    :class:`RegulatorConfig` that differ from that start.
    """

    name: str = "home"
    user_share: float = _p(1.0, doc="share of users who live here")
    platform_share: float = _p(1.0, doc="share of the initial platforms licensed here")
    regime: str | None = None
    regulator: dict[str, Any] = field(default_factory=dict)


@dataclass
class CrossBorderConfig:
    """How jurisdictions meet: who may serve whom, news from abroad, shared flags, moves."""

    service: str = field(
        default="passport",
        metadata={
            "choices": SERVICE_RULES,
            "doc": "passport: a licence serves users everywhere; home_only: only at home",
        },
    )
    tie_share: float | None = field(
        default=None,
        metadata={
            "lo": 0.0,
            "hi": 1.0,
            "doc": "share of social ties across borders (null: as drawn)",
        },
    )
    foreign_news_weight: float = _p(
        0.3, doc="weight of failures, breaches and enforcement abroad in system trust"
    )
    info_sharing: float = _p(
        0.0, doc="chance a regulator's early-warning flag on a foreign licensee is passed on"
    )
    info_delay: int = _count(4, lo=0, doc="ticks before a shared flag reaches the licensing one")
    shared_blacklist: bool = False
    # Recognition of each other's sandbox (GFIN's cross-border testing): a platform in one
    # jurisdiction's sandbox may also take its test to the others' residents.
    sandbox_recognition: bool = False
    joint_inspections: float = _p(
        0.0, doc="chance per tick a regulator inspects a foreign licensee with its own regulator"
    )
    relocation_rate: float = _p(0.0, doc="chance per tick an open platform reviews its licence")
    relocation_cost: float = _pos(
        0.1, "one-off cost of moving a licence, share of the owners' capital", lo=0.0,
        open_lo=False,
    )  # fmt: skip
    relocation_horizon: float = _pos(
        3.0, "years over which a move must pay for itself", lo=0.0, hi=100.0
    )


@dataclass
class ScenarioConfig:
    """A scenario: a named timeline of events (``scenario=NAME``), and its jurisdictions.

    No ``jurisdictions`` (the default) is one jurisdiction whose regulator is the run's
    ``regulator``: the model as it was before jurisdictions existed.
    """

    name: str = "baseline"
    description: str = ""
    events: list[Any] = field(default_factory=list)
    jurisdictions: list[JurisdictionConfig] = field(default_factory=list)
    cross_border: CrossBorderConfig = field(default_factory=CrossBorderConfig)


@dataclass
class AdaptationConfig:
    """Strategy adaptation (MODEL.md step 9): platforms imitate better performers."""

    enabled: bool = False
    every: int = _count(13, doc="ticks between adaptation rounds")
    performance: str = field(default="growth", metadata={"choices": ("growth", "profit")})
    selection_intensity: float = _pos(
        20.0, "Fermi rule beta on performance differences", lo=0.0, open_lo=False
    )
    mutation_rate: float = _p(0.1, doc="chance a lever mutates after a round")
    mutation_sd: float = _pos(0.05, "sd of a lever mutation", lo=0.0, open_lo=False)
    switch_cost: float = _p(0.002, doc="cost of switching strategy, share of liabilities")


@dataclass
class EntryConfig:
    """Endogenous entry and exit of platforms (MODEL.md: market entry and exit; step 9).

    Potential entrants arrive each tick; each enters if the return it expects on its
    capital beats its own hurdle. The regulator's barriers are in ``regulator``.
    """

    enabled: bool = False
    pool: float = _pos(1.0, "honest potential entrants per tick", lo=0.0, open_lo=False)
    fraud_pool: float = _pos(0.3, "fraudulent potential entrants per tick", lo=0.0, open_lo=False)
    hurdle: float = _pos(0.3, "median annual return on capital an entrant requires", lo=-10.0)
    spread: float = _pos(0.15, "spread of hurdles across potential entrants (logistic scale)")
    horizon: float = _pos(2.0, "years an entrant plans over", lo=0.0)
    memory: float = _p(0.05, doc="weight of this tick in the smoothed signals entrants read")
    exit_loss: float = _pos(0.1, "annual loss on capital at which a platform exits", lo=0.0)
    exit_min_age: int = _count(26, lo=1, doc="ticks before an entrant considers exit")
    abscond: float = _p(0.5, doc="chance per tick a fraud absconds once inflows fall short")


@dataclass
class CalibrationConfig:
    """Comparison of a run with a real record (``sim/calibration.py``; issue: calibration).

    With a ``target``, the run's ``summary.json`` gets the distance between the model and
    the record, and a sweep's task returns it (the ``calibrate`` sweeper minimises it).
    """

    target: str = field(default="", metadata={"choices": ("", "china_p2p")})
    start: str = field(default="2013-01-01", metadata={"doc": "date of tick 1 (ISO)"})
    platform_scale: float = _pos(10.0, "real platforms one model platform stands for")
    fit_until: str = field(
        default="2020-12-31", metadata={"doc": "last record date the distance uses (ISO)"}
    )
    distance: str = field(default="rmse_log", metadata={"choices": ("rmse_log", "nrmse")})


@dataclass
class OutputConfig:
    """What a run writes besides its tables."""

    plot: bool = True
    progress: bool = True


@dataclass
class IshigamiConfig:
    """Inputs of the Ishigami function, an analytic stand-in for validating sweeps.

    With ``model=ishigami`` a run evaluates ``sin x1 + a sin^2 x2 + b x3^4 sin x1``
    instead of simulating, so sampling designs and sensitivity indices can be checked
    against their known analytic values (Ishigami & Homma 1990).
    """

    x1: float = _p(0.0, lo=-math.pi, hi=math.pi)
    x2: float = _p(0.0, lo=-math.pi, hi=math.pi)
    x3: float = _p(0.0, lo=-math.pi, hi=math.pi)
    a: float = _pos(7.0, "Ishigami a", lo=-MAX_AMOUNT, open_lo=False)
    b: float = _pos(0.1, "Ishigami b", lo=-MAX_AMOUNT, open_lo=False)


@dataclass
class Config:
    """The whole config of one run."""

    seed: int = _count(0, lo=0, doc="the run's one seed", hi=2**63 - 1)
    ticks: int = _count(260, doc="weeks to simulate", hi=MAX_TICKS)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    platforms: PlatformsConfig = field(default_factory=PlatformsConfig)
    regulator: RegulatorConfig = field(default_factory=RegulatorConfig)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    entry: EntryConfig = field(default_factory=EntryConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    model: str = field(default="trustsim", metadata={"choices": ("trustsim", "ishigami")})
    ishigami: IshigamiConfig = field(default_factory=IshigamiConfig)
    sample: int | None = field(default=None, metadata={"doc": "row of a sampling design"})
    policy: str | None = field(
        default=None, metadata={"doc": "name of the policy (levers) of a deep-uncertainty design"}
    )
    memory_limit_gb: float | None = field(
        default=None, metadata={"doc": "memory a run may need (null: the machine's)"}
    )


# --- validation ------------------------------------------------------------------------


def check_field(key: str, value: Any, meta: dict[str, Any], kind: type | None = None) -> None:
    """Check one value against its field's type (if given) and metadata (range, choices)."""
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(key, value, "a whole number")
    if kind is float and (not isinstance(value, int | float) or isinstance(value, bool)):
        raise ConfigError(key, value, "a number")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(key, value, "one of " + ", ".join(meta["choices"]))
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, value, "a finite number")
    if meta.get("open_lo") and lo is not None and not value > lo:
        raise ConfigError(key, value, f"a number > {lo}")
    if lo is not None and hi is not None and not lo <= value <= hi:
        raise ConfigError(key, value, f"a number in [{lo}, {hi}]")
    if lo is not None and not value >= lo:
        raise ConfigError(key, value, f"a number >= {lo}")


def check_fields(obj: Any, prefix: str) -> None:
    """Check every field of a dataclass (and nested ones) against its metadata."""
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            check_fields(value, key + ".")
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            for index, item in enumerate(value):
                check_fields(item, f"{key}.{index}.")
        elif isinstance(value, dict):
            for name, item in value.items():
                if dataclasses.is_dataclass(item):
                    check_fields(item, f"{key}.{name}.")
        elif value is None:  # an optional setting left unset
            continue
        else:
            if f.type is bool and not isinstance(value, bool):
                raise ConfigError(key, value, "true or false")
            check_field(key, value, f.metadata)


def _check_degree(kind: str, avg_degree: float, n: int) -> None:
    """The mean degree each generator can build on ``n`` users (see ``sim.network``)."""
    half = round(avg_degree / 2)  # WS lattice degree is 2*half; BA adds max(1, half) edges
    if kind == "watts_strogatz" and not (half >= 1 and 2 * half < n):
        raise ConfigError(
            "network.avg_degree", avg_degree, f"rounding to an even lattice degree in [2, {n})"
        )
    if kind == "erdos_renyi" and avg_degree > n - 1:
        raise ConfigError("network.avg_degree", avg_degree, f"<= n_users - 1 = {n - 1}")
    if kind == "barabasi_albert" and max(1, half) + 1 > n:
        raise ConfigError("network.avg_degree", avg_degree, f"with round(avg_degree/2) < {n}")


def _check_relations(cfg: Config) -> None:
    pop, net, plat = cfg.population, cfg.network, cfg.platforms
    if pop.threshold_low > pop.threshold_high:
        raise ConfigError(
            "population.threshold_low", pop.threshold_low, f"<= threshold_high={pop.threshold_high}"
        )
    if pop.exposure_low > pop.exposure_high:
        raise ConfigError(
            "population.exposure_low", pop.exposure_low, f"<= exposure_high={pop.exposure_high}"
        )
    if plat.default_rate_low > plat.default_rate_high:
        raise ConfigError(
            "platforms.default_rate_low",
            plat.default_rate_low,
            f"<= default_rate_high={plat.default_rate_high}",
        )
    if cfg.trust.detractor_threshold > cfg.trust.promoter_threshold:
        raise ConfigError(
            "trust.detractor_threshold",
            cfg.trust.detractor_threshold,
            f"<= promoter_threshold={cfg.trust.promoter_threshold}",
        )
    if net.kind == "edge_list":
        if not net.path:
            raise ConfigError("network.path", net.path, "an edge-list file when kind=edge_list")
        if not os.path.isfile(net.path):
            raise ConfigError("network.path", net.path, "an existing file")
    else:
        _check_degree(net.kind, net.avg_degree, pop.n_users)
    unknown = sorted(set(plat.mix) - set(plat.strategies))
    if unknown:
        raise ConfigError(
            f"platforms.mix.{unknown[0]}", plat.mix[unknown[0]], "a key of platforms.strategies"
        )
    for name, weight in plat.mix.items():
        if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
            raise ConfigError(f"platforms.mix.{name}", weight, "a weight >= 0")
    if sum(plat.mix.values()) <= 0:
        raise ConfigError("platforms.mix", dict(plat.mix), "at least one positive weight")
    if plat.reserve_base + plat.reserve_risk > 1:
        raise ConfigError(
            "platforms.reserve_risk",
            plat.reserve_risk,
            f"<= 1 - reserve_base = {1 - plat.reserve_base:g} (a reserve ratio is at most 1)",
        )
    _check_jurisdictions(cfg.scenario.jurisdictions)
    limit = cfg.memory_limit_gb
    if limit is not None and not (
        isinstance(limit, int | float)
        and not isinstance(limit, bool)
        and math.isfinite(limit)
        and limit > 0
    ):
        raise ConfigError("memory_limit_gb", limit, "null or a number of GB > 0")
    for key in ("start", "fit_until"):
        value = getattr(cfg.calibration, key)
        try:
            datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ConfigError(f"calibration.{key}", value, "a date YYYY-MM-DD") from None


def _check_jurisdictions(jurisdictions: list[JurisdictionConfig]) -> None:
    """Names unique, shares that add up to 1, regulator keys and values of the schema."""
    if not jurisdictions:
        return
    key = "scenario.jurisdictions"
    names = [j.name for j in jurisdictions]
    if len(set(names)) < len(names) or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{key}.name", names, "distinct, non-empty names")
    for share in ("user_share", "platform_share"):
        total = sum(getattr(j, share) for j in jurisdictions)
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(f"{key}.*.{share}", total, "shares that add up to 1")
    fields = {f.name: f for f in dataclasses.fields(RegulatorConfig)}
    for index, j in enumerate(jurisdictions):
        for name, value in j.regulator.items():
            where = f"{key}.{index}.regulator.{name}"
            if name not in fields or name == "regime":
                allowed = "a key of regulator: " + ", ".join(n for n in fields if n != "regime")
                raise ConfigError(where, value, allowed)
            kind = fields[name].type
            if kind is bool and not isinstance(value, bool):
                raise ConfigError(where, value, "true or false")
            check_field(where, value, fields[name].metadata, kind if kind in (int, float) else None)


def validate(cfg: Config) -> Config:
    """Check every range, name, file and cross-field rule; raise :class:`ConfigError`.

    Scenario events are checked by :func:`sim.events.parse_events` (the event types know
    their parameters); :func:`sim.compose.validate_run` runs both.

    Args:
        cfg: The typed config.

    Returns:
        The same config, for chaining.
    """
    check_fields(cfg, "")
    _check_relations(cfg)
    return cfg


def config_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain data (for hashing and for ``summary.json``)."""
    return dataclasses.asdict(cfg)
