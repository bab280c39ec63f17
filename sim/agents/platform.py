"""The platform agent: strategy levers, a balance sheet, incidents and violations."""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.config import LEVERS, PlatformsConfig
from sim.deterrence import violation_probability
from sim.ledger import TickFlows

if TYPE_CHECKING:
    from sim.model import TrustModel

WEEKS_PER_YEAR = 52.0


class Status(StrEnum):
    """Where a platform is in its life."""

    ACTIVE = "active"
    SANDBOX = "sandbox"
    SUSPENDED = "suspended"
    WOUND_DOWN = "wound_down"
    COLLAPSED = "collapsed"
    EXITED = "exited"


_LEVER_INDEX = {name: i for i, name in enumerate(LEVERS)}
_DISCLOSURE = _LEVER_INDEX["disclosure"]

OPEN_STATUSES = frozenset({Status.ACTIVE, Status.SANDBOX})
# A suspended platform takes no deposits but still runs its book while users leave.
OPERATING_STATUSES = OPEN_STATUSES | {Status.SUSPENDED}


@dataclass
class SandboxTerms:
    """Conditions of a sandbox admission (seed 5.3)."""

    exposure_cap: float
    monitoring: float
    disclosure: float
    review_tick: int


@dataclass
class ProductLine:
    """A new product outside the rules until ``regulated_from`` (seed 7.1)."""

    extra_yield: float
    extra_default: float
    temptation: float
    regulated_from: int


class Platform(mesa.Agent):
    """An internet-finance platform.

    Attributes:
        index: Row of this platform in the model's per-platform arrays.
        strategy: Name of the strategy it plays.
        levers: The five levers (``sim.config.LEVERS`` order) it chooses, in [0, 1].
        base_yield: Annual yield of its strategy; ``advertised_yield`` adds a fraud's
            ``yield_premium`` and an unregulated product's extra.
        base_default: Hidden quality: the loan book's annual default rate before risk control.
        fraudulent: A Ponzi-like platform: it lures with a premium and diverts the assets
            outside custody, so promised yields are paid from what others deposit.
        cash, loans: The balance sheet. A share of it, the regulator's custody requirement,
            is held through a custodian: out of reach of diversion and misconduct, and run
            off in order rather than fire-sold if the platform fails.
    """

    def __init__(
        self,
        model: "TrustModel",
        index: int,
        strategy: str,
        levers: np.ndarray,
        advertised_yield: float,
        base_default: float,
        fraudulent: bool,
        capital: float,
        yield_premium: float = 0.0,
    ):
        super().__init__(model)
        self.index = index
        self.strategy = strategy
        self.levers = np.asarray(levers, dtype=np.float64)
        self.base_yield = advertised_yield
        self.yield_premium = yield_premium
        self.base_default = base_default
        self.fraudulent = fraudulent
        self.status = Status.ACTIVE
        self.cash = capital
        self.loans = 0.0
        self.flagged = False
        self.violations_open: list[int] = []
        self.violations_detected = 0
        self.violated = False
        self.outage = self.breach = self.misconduct = False
        self.forced_outage = self.forced_breach = False
        self.sandbox: SandboxTerms | None = None
        self.product: ProductLine | None = None
        self.blacklisted = False
        self.suspended_until: int | None = None
        self.operated = False

    @property
    def is_open(self) -> bool:
        """Operating and taking deposits (active or in a sandbox)."""
        return self.status in OPEN_STATUSES

    @property
    def is_operating(self) -> bool:
        """Running its loan book: open, or suspended while it runs off."""
        return self.status in OPERATING_STATUSES

    def lever(self, name: str) -> float:
        """The effective value of a lever, after the regulator's enforced minimums."""
        if name == "disclosure":
            return self._disclosure(float(self.levers[_DISCLOSURE]))
        return float(self.levers[_LEVER_INDEX[name]])

    def _disclosure(self, chosen: float) -> float:
        """Disclosure after the regulator's floor and any sandbox's."""
        value = max(chosen, self.model.regulator.disclosure_mandate)
        if self.sandbox is not None:
            value = max(value, self.sandbox.disclosure)
        return value

    @property
    def advertised_yield(self) -> float:
        """Annual yield promised: the strategy's, a fraud's premium, an unregulated product's."""
        extra = self.product.extra_yield if self.product else 0.0
        return self.base_yield + self.yield_premium + extra

    def unregulated(self, tick: int) -> bool:
        """Runs a product line the rules do not yet cover."""
        return self.product is not None and tick < self.product.regulated_from

    def effective_levers(self) -> np.ndarray:
        """All five effective levers in ``LEVERS`` order."""
        levers = self.levers.astype(np.float64)  # a copy
        levers[_DISCLOSURE] = self._disclosure(float(levers[_DISCLOSURE]))
        return levers

    @property
    def assets(self) -> float:
        """Cash and the loan book at book value."""
        return self.cash + self.loans

    @property
    def custody_share(self) -> float:
        """Share of the balance sheet held through a custodian (the regulator's rule)."""
        return self.model.regulator.custody_requirement

    def reserve_ratio(self, cfg: PlatformsConfig) -> float:
        """Share of free liabilities kept as cash; rises with risk management."""
        return cfg.reserve_base + cfg.reserve_risk * self.lever("risk_management")

    def reset_tick(self) -> None:
        """Forget last tick's incidents and violation (closed platforms have none)."""
        self.violated = self.outage = self.breach = self.misconduct = False
        if not self.is_operating:  # an operating one uses an event's forced flags in operate()
            self.forced_outage = self.forced_breach = False
        self.operated = False

    def operate(
        self, liabilities: float, rng: np.random.Generator, flows: TickFlows, macro: float = 1.0
    ) -> None:
        """MODEL.md step 2: loan book, fraud drawdown, costs, incidents and violations.

        Args:
            liabilities: What the platform owes its users now.
            rng: The platforms' generator.
            flows: The tick's money flows, updated.
            macro: Multiplier on default rates (a macro shock raises it).
        """
        cfg = self.model.cfg.platforms
        self.operated = True
        rm, comp = self.lever("risk_management"), self.lever("compliance")
        # Loan book: interest, defaults (risk management avoids a share), maturities.
        interest = self.loans * cfg.loan_rate / WEEKS_PER_YEAR
        base_default = self.base_default + (self.product.extra_default if self.product else 0.0)
        default_rate = base_default * (1.0 - cfg.risk_management_effect * rm) * macro
        defaulted = self.loans * min(1.0, default_rate / WEEKS_PER_YEAR)
        matured = (self.loans - defaulted) / cfg.loan_maturity
        self.loans -= defaulted + matured
        self.cash += interest + defaulted * cfg.recovery_rate + matured
        flows.loan_interest += interest
        flows.default_losses += defaulted * (1.0 - cfg.recovery_rate)
        # A fraud diverts what is not in custody.
        if self.fraudulent:
            self._take_free_assets(cfg.fraud_drawdown, flows, "fraud_diverted")
        # Lever costs are a share of liabilities; unpaid when cash runs out.
        annual_cost = sum(
            getattr(cfg.lever_costs, name) * value
            for name, value in zip(LEVERS, self.effective_levers(), strict=True)
        )
        cost = min(self.cash, annual_cost * liabilities / WEEKS_PER_YEAR)
        self.cash -= cost
        flows.lever_costs += cost
        # Incidents (seed 7.2, 7.4): risk management prevents outages and breaches,
        # compliance prevents misconduct.
        draws = rng.random(4)
        self.outage = self.forced_outage or bool(
            draws[0] < cfg.outage_rate * (1.0 - cfg.incident_effect * rm)
        )
        self.breach = self.forced_breach or bool(
            draws[1] < cfg.breach_rate * (1.0 - cfg.incident_effect * rm)
        )
        self.forced_outage = self.forced_breach = False
        self.misconduct = bool(draws[2] < cfg.misconduct_rate * (1.0 - cfg.incident_effect * comp))
        if self.misconduct:
            self._take_free_assets(cfg.misconduct_loss, flows, "misconduct_losses")
        # Violations: deterrence lowers the temptation (Becker).
        # Outside the rules nothing is expected to be punished, and temptation is higher.
        unregulated = self.unregulated(self.model.tick)
        p_violate = violation_probability(
            comp,
            0.0 if unregulated else self.model.regulator.expected_penalty(),
            cfg.violation_temptation * (self.product.temptation if unregulated else 1.0),
            cfg.deterrence_scale,
        )
        if draws[3] < p_violate and self.status != Status.SUSPENDED:  # under close watch
            self.violated = True
            if not unregulated:  # rules are not retroactive
                self.violations_open.append(self.model.tick)
            gain = cfg.violation_gain * liabilities
            self.cash += gain
            flows.violation_gains += gain

    def _take_free_assets(self, share: float, flows: TickFlows, flow: str) -> None:
        """Remove ``share`` of the assets outside custody from the system."""
        share *= 1.0 - self.custody_share
        taken_cash, taken_loans = self.cash * share, self.loans * share
        self.cash -= taken_cash
        self.loans -= taken_loans
        setattr(flows, flow, getattr(flows, flow) + taken_cash + taken_loans)

    def rebalance(self, liabilities: float) -> None:
        """After settlement: lend out cash above the reserve the platform keeps."""
        excess = self.cash - self.reserve_ratio(self.model.cfg.platforms) * liabilities
        if excess > 0 and self.is_open:
            self.loans += excess
            self.cash -= excess

    def resolution_haircut(self, orderly: bool, exit_: bool = False) -> float:
        """Loss on the loan book when the platform is closed.

        A going concern that exits runs its book off at the small exit haircut; an
        orderly wind-down of a distressed platform at the orderly haircut. Disorderly:
        the custodian still runs off its share in order; the rest is fire-sold.
        """
        cfg = self.model.cfg.platforms
        if exit_:
            return cfg.exit_haircut
        if orderly:
            return cfg.orderly_haircut
        c = self.custody_share
        return c * cfg.orderly_haircut + (1.0 - c) * cfg.fire_sale_haircut

    def health(self, liabilities: float) -> float:
        """What a full disclosure reveals: assets over liabilities, capped at 1."""
        if liabilities <= 0:
            return 1.0
        return float(np.clip(self.assets / liabilities, 0.0, 1.0))
