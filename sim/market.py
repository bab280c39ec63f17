"""The market: every platform's state as arrays, the views the phases read, and the log.

One :class:`Market` holds what the tick's phases share besides the users
(:class:`sim.population.Population`): the platforms as a structure of arrays (row ``j``
is platform ``j``; entrants get the next row), what they owe their users, their ratings
and complaints, the tick's scratch state (:class:`TickState`), running rumours, the
market's counters and the event log. The Mesa agents in :mod:`sim.agents` are views onto
its rows. Phases receive the market and write the arrays they own (documented on each
field); none leaves a value elsewhere for another phase to pick up.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from sim.config import LEVER_INDEX, LEVERS, PlatformsConfig, RegulatorConfig
from sim.ledger import TickFlows

RATING_SPLIT = LEVER_INDEX["rating_openness"]
DISCLOSURE = LEVER_INDEX["disclosure"]


class Status(StrEnum):
    """Where a platform is in its life; ``market.status`` holds the position in this list."""

    ACTIVE = "active"
    SANDBOX = "sandbox"
    SUSPENDED = "suspended"
    WOUND_DOWN = "wound_down"
    COLLAPSED = "collapsed"
    EXITED = "exited"


STATUSES = tuple(Status)
CODE = {status: i for i, status in enumerate(STATUSES)}
OPEN_STATUSES = frozenset({Status.ACTIVE, Status.SANDBOX})
# A suspended platform takes no deposits but still runs its book while users leave.
OPERATING_STATUSES = OPEN_STATUSES | {Status.SUSPENDED}
_LAST_OPEN = CODE[Status.SANDBOX]  # codes up to this one are open
_LAST_OPERATING = CODE[Status.SUSPENDED]  # and up to this one operating


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


@dataclass
class Crediting:
    """Step 2's weekly yield per platform, credited to balances by step 3's first pass.

    The pass that first reads every balance in a tick (:func:`sim.decisions.
    decide_withdrawals`) credits them on the way: the same result as a pass of its own,
    one pass over a million accounts cheaper. Nothing reads a balance in between.
    """

    weekly_yield: np.ndarray
    weekly_fee: np.ndarray
    loss_rate: np.ndarray

    @property
    def net_rate(self) -> np.ndarray:
        """What a balance earns this tick: yield less fees less the losses it bears."""
        return self.weekly_yield - self.weekly_fee - self.loss_rate


@dataclass
class TickState:
    """Scratch state of one tick, fresh at its start; each field names the phase writing it.

    Attributes:
        flows: The tick's money flows (every phase that moves money).
        failed: ``(n, K)`` slots whose withdrawal failed (step 4).
        failed_requests: ``(users, slots)`` of the failed requests (step 4).
        failed_count: Number of failed requests (step 4).
        user_loss: Per-user money lost in closures (resolution, any step).
        sector_shock: Fall of system trust owed to this tick's closures (resolution).
        closure_shocks: ``(jurisdiction of the licence, shock)`` of each of those closures,
            its share of the lost money measured in that jurisdiction's market (resolution).
        failure_news: Share of the market's money lost in this tick's closures (resolution).
        rumour_withdrawals: Money believers asked back from a rumour's target (step 4).
        panic_withdrawals: Whole-balance requests this tick (step 4).
        switches: Accounts users moved to a platform they prefer (step 3).
        wom_net: Word-of-mouth net score (step 6).
        crediting: The yield balances are owed (step 2), until step 3 credits it.
        unhappy: ``(users, platforms)`` of the dissatisfied and the platform of their worst
            account (found in step 6's pass; step 8 turns them into complaints).
        accounts: The account statistics of the indicators, tallied by step 8's pass
            (nothing changes users' accounts after it); ``None`` before step 8 runs.
    """

    flows: TickFlows
    failed: np.ndarray
    failed_requests: tuple[np.ndarray, np.ndarray]
    failed_count: int
    user_loss: np.ndarray
    sector_shock: float = 0.0
    closure_shocks: list[tuple[int, float]] = field(default_factory=list)
    failure_news: float = 0.0
    rumour_withdrawals: float = 0.0
    panic_withdrawals: int = 0
    switches: int = 0
    wom_net: float = 0.0
    crediting: Crediting | None = None
    unhappy: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0, np.int64))
    accounts: Any = None

    @classmethod
    def fresh(cls, n_users: int, slots: int) -> "TickState":
        """The state at the start of a tick: no flows, no failures, no losses."""
        return cls(
            flows=TickFlows(),
            failed=np.zeros((n_users, slots), dtype=bool),
            failed_requests=(np.empty(0, np.int64), np.empty(0, np.int64)),
            failed_count=0,
            user_loss=np.zeros(n_users),
        )


# Per-platform arrays: name -> (dtype, value of a new row). Levers are (P, 5); strategy
# names and open violations are lists. Who writes each: operations (step 2: cash, loans,
# incidents, violated, operated, violations_open, paid_share), settlement and resolution
# (step 4 and any closure: cash, loans, status, liabilities, run_pressure, exit_share),
# the regulator
# (step 5: flagged, blacklisted, violations_detected, status, suspended_until,
# sandbox_review, levers by remediation), events (step 1), information (step 6: the public
# record public_good/public_bad), satisfaction (step 8: rating, complaints, holders),
# adaptation (step 9: levers, base_yield, strategy, cash).
_ARRAYS: dict[str, tuple[Any, Any]] = {
    "base_yield": (np.float64, 0.0),
    "yield_premium": (np.float64, 0.0),
    "base_default": (np.float64, 0.0),
    "fraudulent": (bool, False),
    "status": (np.int8, CODE[Status.ACTIVE]),
    "cash": (np.float64, 0.0),
    "loans": (np.float64, 0.0),
    "flagged": (bool, False),
    "blacklisted": (bool, False),
    "violations_detected": (np.int64, 0),
    "violated": (bool, False),
    "outage": (bool, False),
    "breach": (bool, False),
    "misconduct": (bool, False),
    "forced_outage": (bool, False),
    "forced_breach": (bool, False),
    "operated": (bool, False),
    "suspended_until": (np.int64, -1),
    "sandbox_cap": (np.float64, 0.0),
    "sandbox_monitoring": (np.float64, 0.0),
    "sandbox_disclosure": (np.float64, 0.0),
    "sandbox_review": (np.int64, -1),
    "product_yield": (np.float64, 0.0),
    "product_default": (np.float64, 0.0),
    "product_temptation": (np.float64, 1.0),
    "product_until": (np.int64, -1),
    "liabilities": (np.float64, 0.0),
    "jurisdiction": (np.int64, 0),  # of its licence (sim.jurisdictions)
    "listed": (np.int64, 0),  # bit k: on jurisdiction k's blacklist (several jurisdictions)
    "paid_share": (np.float64, 1.0),
    "run_pressure": (np.float64, 0.0),
    "exit_share": (np.float64, 0.0),
    "public_good": (np.float64, 0.0),
    "public_bad": (np.float64, 0.0),
    "rating": (np.float64, 0.0),
    "complaints": (np.int64, 0),
    "holders": (np.int64, 0),
    # Market structure (step 9, sim.entry): the owners' capital, the tick of entry, the
    # smoothed annual profit on capital, last tick's equity and liabilities, and the change
    # of liabilities over last tick.
    "capital_in": (np.float64, 0.0),
    "entered": (np.int64, 0),
    "profit_rate": (np.float64, 0.0),
    "equity_mark": (np.float64, 0.0),
    "liability_mark": (np.float64, 0.0),
    "liability_change": (np.float64, 0.0),
}


class Market:
    """The platforms and what the phases share about them (see the module docstring).

    Args:
        cfg: The platforms' config (strategies and the economics entrants share).
        policy: The regulator's live policy: its disclosure floor and custody rule shape
            the effective levers and balance sheets (a policy shift changes it in place).
        capital: Starting equity of every platform, incumbents and entrants alike.
        n_users: Users, for the shape of the tick's scratch state.
        slots: Account slots per user.
    """

    def __init__(
        self,
        cfg: PlatformsConfig,
        policy: RegulatorConfig,
        capital: float,
        n_users: int,
        slots: int,
    ):
        self.cfg = cfg
        self.policy = policy
        # Every jurisdiction's live policy (sim.jurisdictions); the first is ``policy``.
        self.policies: list[RegulatorConfig] = [policy]
        self.capital = capital
        self._shape = (n_users, slots)
        for name, (dtype, _) in _ARRAYS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))
        self.levers = np.zeros((0, len(LEVERS)))
        self.strategy: list[str] = []
        self.violations_open: list[list[int]] = []
        self.tick = 0
        self.this_tick = TickState.fresh(n_users, slots)
        self.event_log: list[dict[str, Any]] = []
        self.rumours: list = []  # sim.events.rumour.LiveRumour, live and past
        self.default_multiplier = 1.0  # a macro shock raises default rates (events)
        self.run_closures = 0
        self.sandbox_admissions = 0
        self.sandbox_graduations = 0
        self.user_losses_cum = 0.0
        self.violations_total = 0

    def __len__(self) -> int:
        return len(self.strategy)

    # --- time and the log ---------------------------------------------------------------

    def start_tick(self) -> None:
        """Advance the clock and start the tick with fresh scratch state."""
        self.tick += 1
        self.this_tick = TickState.fresh(*self._shape)

    def log(self, kind: str, **fields: Any) -> None:
        """Append an emergent or scheduled event to ``events.jsonl``."""
        self.event_log.append({"tick": self.tick, "type": kind, **fields})

    # --- platforms entering -------------------------------------------------------------

    def add(
        self,
        strategy: str,
        fraudulent: bool,
        base_default: float,
        rng: np.random.Generator,
        status: Status = Status.ACTIVE,
        capital: float | None = None,
        jurisdiction: int = 0,
    ) -> int:
        """A platform playing ``strategy`` with its own jitter of the levers; its row.

        Its rating starts at the market's (users know nothing of it yet). Its owners bring
        ``capital`` (default: the market's standard capital). It is licensed in
        ``jurisdiction`` (by index; the first by default).
        """
        capital = self.capital if capital is None else capital
        spec = self.cfg.strategies[strategy]
        levers = np.array([getattr(spec, lever) for lever in LEVERS])
        levers = np.clip(levers + rng.normal(0.0, self.cfg.lever_jitter, len(LEVERS)), 0.0, 1.0)
        rating = self.market_rating() if len(self) else 0.0
        row = {name: default for name, (_, default) in _ARRAYS.items()}
        row.update(
            base_yield=spec.advertised_yield,
            yield_premium=self.cfg.fraud_yield_premium if fraudulent else 0.0,
            base_default=base_default,
            fraudulent=fraudulent,
            status=CODE[Status(status)],
            cash=capital,
            rating=rating,
            capital_in=capital,
            entered=self.tick,
            equity_mark=capital,
            jurisdiction=jurisdiction,
        )
        if self.tick > 0:  # an entrant's owners bring its capital into the market
            self.this_tick.flows.capital_injected += capital
        for name, value in row.items():
            setattr(self, name, np.append(getattr(self, name), value))
        self.levers = np.vstack([self.levers, levers[None, :]])
        self.strategy.append(strategy)
        self.violations_open.append([])
        return len(self) - 1

    # --- status -------------------------------------------------------------------------

    @property
    def is_open(self) -> np.ndarray:
        """Which platforms operate and take deposits (active or in a sandbox)."""
        return self.status <= _LAST_OPEN

    @property
    def is_frozen(self) -> np.ndarray:
        """Which platforms' withdrawals are stayed (suspended, awaiting resolution)."""
        return self.status == CODE[Status.SUSPENDED]

    @property
    def is_operating(self) -> np.ndarray:
        """Which run their loan book: open, or suspended while they run off."""
        return self.status <= _LAST_OPERATING

    def status_of(self, j: int) -> Status:
        """Platform ``j``'s status."""
        return STATUSES[self.status[j]]

    def set_status(self, j: int, status: Status) -> None:
        """Set platform ``j``'s status."""
        self.status[j] = CODE[Status(status)]

    def count(self, *statuses: Status) -> int:
        """Platforms in any of ``statuses`` now."""
        per_code = np.bincount(self.status, minlength=len(STATUSES))
        return int(sum(per_code[CODE[Status(s)]] for s in statuses))

    # --- sandbox terms and product lines --------------------------------------------------

    @property
    def in_sandbox(self) -> np.ndarray:
        """Which platforms are under sandbox terms."""
        return self.sandbox_review >= 0

    def sandbox(self, j: int) -> SandboxTerms | None:
        """Platform ``j``'s sandbox terms, if any."""
        if self.sandbox_review[j] < 0:
            return None
        return SandboxTerms(
            float(self.sandbox_cap[j]),
            float(self.sandbox_monitoring[j]),
            float(self.sandbox_disclosure[j]),
            int(self.sandbox_review[j]),
        )

    def set_sandbox(self, j: int, terms: SandboxTerms | None) -> None:
        """Put platform ``j`` under ``terms`` (``None``: out of the sandbox)."""
        if terms is None:
            self.sandbox_review[j] = -1
            return
        self.sandbox_cap[j] = terms.exposure_cap
        self.sandbox_monitoring[j] = terms.monitoring
        self.sandbox_disclosure[j] = terms.disclosure
        self.sandbox_review[j] = terms.review_tick

    @property
    def has_product(self) -> np.ndarray:
        """Which platforms run a legal-lag product line."""
        return self.product_until >= 0

    def product(self, j: int) -> ProductLine | None:
        """Platform ``j``'s product line outside the rules, if any."""
        if self.product_until[j] < 0:
            return None
        return ProductLine(
            float(self.product_yield[j]),
            float(self.product_default[j]),
            float(self.product_temptation[j]),
            int(self.product_until[j]),
        )

    def set_product(self, j: int, product: ProductLine | None) -> None:
        """Give platform ``j`` a product line (``None``: it is brought under the rules)."""
        if product is None:
            self.product_yield[j] = self.product_default[j] = 0.0
            self.product_temptation[j] = 1.0
            self.product_until[j] = -1
            return
        self.product_yield[j] = product.extra_yield
        self.product_default[j] = product.extra_default
        self.product_temptation[j] = product.temptation
        self.product_until[j] = product.regulated_from

    def unregulated(self) -> np.ndarray:
        """Which platforms run a product line the rules do not yet cover."""
        return self.has_product & (self.tick < self.product_until)

    # --- views the phases read ------------------------------------------------------------

    def effective_levers(self) -> np.ndarray:
        """``(P, 5)`` levers after the regulator's disclosure floor and any sandbox's."""
        levers = self.levers.copy()
        levers[:, DISCLOSURE] = self.effective_disclosure()
        return levers

    def rule(self, name: str, rows: Any = None) -> Any:
        """The rule ``name`` of each platform's licensing regulator (of ``rows`` if given).

        A number while there is one jurisdiction (so arithmetic is as it always was), else
        one value per platform.
        """
        if len(self.policies) == 1:
            return getattr(self.policies[0], name)
        values = np.array([getattr(p, name) for p in self.policies], dtype=np.float64)
        by_platform = values[self.jurisdiction]
        return by_platform if rows is None else by_platform[rows]

    def effective_disclosure(self) -> np.ndarray:
        """Disclosure: the platform's, raised to the regulator's floor and any sandbox's."""
        value = np.maximum(self.levers[:, DISCLOSURE], self.rule("disclosure_mandate"))
        return np.where(self.in_sandbox, np.maximum(value, self.sandbox_disclosure), value)

    def lever(self, name: str) -> np.ndarray:
        """One effective lever of every platform."""
        if name == "disclosure":
            return self.effective_disclosure()
        return self.levers[:, LEVER_INDEX[name]]

    @property
    def custody_share(self) -> Any:
        """Share of each balance sheet held through a custodian (the licensing rule)."""
        return self.rule("custody_requirement")

    @property
    def assets(self) -> np.ndarray:
        """Cash and the loan book at book value."""
        return self.cash + self.loans

    def is_solvent(self, j: int) -> bool:
        """Whether platform ``j``'s cash and loans at book value cover what it owes."""
        return bool(self.cash[j] + self.loans[j] >= self.liabilities[j])

    def advertised_yields(self) -> np.ndarray:
        """Annual yield promised: the strategy's, a fraud's premium, an unregulated product's."""
        return self.base_yield + self.yield_premium + self.product_yield

    def accepting(self) -> np.ndarray:
        """Which platforms take new deposits: open, and under any sandbox exposure cap."""
        market = float(self.liabilities.sum())
        under_cap = ~self.in_sandbox | (self.liabilities < self.sandbox_cap * market)
        return self.is_open & under_cap

    def market_rating(self) -> float:
        """Mean published rating of the open platforms (all, if none is open)."""
        is_open = self.is_open
        return float(self.rating[is_open].mean() if is_open.any() else self.rating.mean())

    def reputation(self, register: int | None = None) -> np.ndarray:
        """Public reputation: the published rating where ratings are open, else the mean.

        A blacklisted platform has none: on any blacklist, or with ``register`` (several
        jurisdictions) on that jurisdiction's, the one its residents see.
        """
        openness = self.levers[:, RATING_SPLIT]
        reputation = openness * self.rating + (1.0 - openness) * self.market_rating()
        listed = self.blacklisted if register is None else self.listed_in(register)
        return np.where(listed, 0.0, reputation)

    def listed_in(self, register: int) -> np.ndarray:
        """Which platforms are on jurisdiction ``register``'s blacklist."""
        return (self.listed >> register) & 1 == 1

    def health(self) -> np.ndarray:
        """What a full disclosure reveals: assets over liabilities, capped at 1."""
        liabilities = self.liabilities
        ratio = np.divide(self.assets, liabilities, out=np.ones(len(self)), where=liabilities > 0)
        return np.clip(ratio, 0.0, 1.0)

    def reserve_ratio(self) -> np.ndarray:
        """Share of liabilities each platform keeps as cash; rises with risk management."""
        return self.cfg.reserve_base + self.cfg.reserve_risk * self.lever("risk_management")

    def violation_rate(self, among: np.ndarray | None = None) -> float:
        """Share of the platforms that operated this tick (``among`` these) that violated."""
        operated = self.operated if among is None else self.operated & among
        count = int(operated.sum())
        return int(self.violated[operated].sum()) / count if count else 0.0


def largest_remainder(quotas: np.ndarray) -> np.ndarray:
    """Whole counts nearest ``quotas`` that add up to their (whole) sum (Hamilton's method).

    Each count is its quota rounded down; what is left goes one each to the largest
    remainders, ties broken by position (deterministic).
    """
    counts = np.floor(quotas).astype(np.int64)
    short = round(float(quotas.sum())) - int(counts.sum())
    for i in np.argsort(-(quotas - counts), kind="stable")[:short]:
        counts[i] += 1
    return counts


def create_market(
    cfg: PlatformsConfig,
    policy: RegulatorConfig,
    investable_cash: float,
    deposit_share: float,
    initial_rating: float,
    shape: tuple[int, int],
    rng: np.random.Generator,
) -> Market:
    """The platforms at tick 0, their strategies split by ``cfg.mix`` (seed ch. 3).

    Counts per strategy follow the largest-remainder rule over ``cfg.mix`` (ties in mix
    order), then are shuffled; ``round(fraud_share x count)`` are frauds. Each starts with
    equity ``capital_share`` of the deposits expected per platform.

    Args:
        cfg: The platforms' config.
        policy: The regulator's live policy.
        investable_cash: Idle money of the users expected to invest at tick 0.
        deposit_share: Share of it they deposit.
        initial_rating: Every platform's published rating at tick 0.
        shape: Users and account slots per user (for the tick state).
        rng: The ``platforms_init`` stream.
    """
    names = [name for name, w in cfg.mix.items() if w > 0]
    weights = np.array([cfg.mix[name] for name in names], dtype=np.float64)
    counts = largest_remainder(weights / weights.sum() * cfg.count)
    strategies = rng.permutation(np.repeat(names, counts))
    n_fraud = round(cfg.fraud_share * cfg.count)
    fraudulent = np.zeros(cfg.count, dtype=bool)
    fraudulent[rng.choice(cfg.count, size=n_fraud, replace=False)] = True
    expected_deposits = investable_cash * deposit_share / cfg.count
    market = Market(cfg, policy, cfg.capital_share * expected_deposits, *shape)
    for j, name in enumerate(strategies):
        base_default = rng.uniform(cfg.default_rate_low, cfg.default_rate_high)
        market.add(str(name), bool(fraudulent[j]), base_default, rng)
    market.rating[:] = initial_rating
    return market


__all__ = [
    "CODE",
    "OPEN_STATUSES",
    "OPERATING_STATUSES",
    "STATUSES",
    "Market",
    "ProductLine",
    "SandboxTerms",
    "Status",
    "TickState",
    "create_market",
]
