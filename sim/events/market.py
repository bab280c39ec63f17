"""Market events: entry, sandboxes, registration deadlines, collapses, shocks, strategy changes."""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from sim.config import LEVER_INDEX, LEVERS, STRATEGY_NAMES, ConfigError
from sim.events.base import Event, EventContext, check_range, resolve_target
from sim.market import SandboxTerms, Status

MAX_ENTRANTS = 10_000  # platforms one event brings in (the real market peaked near 3,000)


def _check_strategy(key: str, name: str) -> None:
    if name not in (*STRATEGY_NAMES, "mixed"):
        raise ConfigError(key, name, "one of " + ", ".join((*STRATEGY_NAMES, "mixed")))


def enter_platforms(
    ctx: EventContext,
    count: int,
    strategy: str,
    fraud_share: float,
    default_rate: tuple[float, float] | None,
    status: Status = Status.ACTIVE,
    advertised_yield: float | None = None,
    jurisdiction: str | None = None,
) -> list[int]:
    """Add ``count`` new platforms playing ``strategy`` (``mixed``: drawn from the mix).

    ``advertised_yield`` overrides the strategy's yield (frauds add their premium). They
    are licensed in ``jurisdiction`` (None: the first). Returns the entrants' indices.
    """
    rng = ctx.rng
    cfg = ctx.cfg.platforms
    names = [n for n, w in cfg.mix.items() if w > 0]
    weights = np.array([cfg.mix[n] for n in names]) / sum(cfg.mix[n] for n in names)
    low, high = default_rate or (cfg.default_rate_low, cfg.default_rate_high)
    entrants = []
    for _ in range(count):
        name = strategy if strategy != "mixed" else str(rng.choice(names, p=weights))
        fraudulent = bool(rng.random() < fraud_share)
        j = ctx.enter(
            name,
            fraudulent=fraudulent,
            base_default=float(rng.uniform(low, high)),
            status=status,
            jurisdiction=jurisdiction,
        )
        if advertised_yield is not None:
            ctx.market.base_yield[j] = advertised_yield
        entrants.append(j)
    return entrants


@dataclass
class PlatformEntry(Event):
    """New platforms enter the market (seed 5.5: entry rules, competition).

    With several jurisdictions, ``jurisdiction`` names where they are licensed (default:
    the first).
    """

    type_name: ClassVar[str] = "platform_entry"
    count: int = 1
    strategy: str = "mixed"
    fraud_share: float = 0.0
    default_rate: list[float] | None = None
    advertised_yield: float | None = None
    jurisdiction: str | None = None

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.count", self.count, 1, MAX_ENTRANTS)
        _check_entrants(key, self)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        rate = tuple(self.default_rate) if self.default_rate else None
        for j in enter_platforms(
            ctx,
            self.count,
            self.strategy,
            self.fraud_share,
            rate,
            advertised_yield=self.advertised_yield,
            jurisdiction=self.jurisdiction,
        ):
            ctx.log("entry", platform=j, strategy=ctx.market.strategy[j])


def _check_entrants(key: str, event: Any) -> None:
    """Parameters that every event bringing in new platforms shares."""
    _check_strategy(f"{key}.strategy", event.strategy)
    check_range(f"{key}.fraud_share", event.fraud_share, 0.0, 1.0)
    _check_rate_pair(f"{key}.default_rate", event.default_rate)
    if event.advertised_yield is not None:
        check_range(f"{key}.advertised_yield", event.advertised_yield, 0.0, 1.0)


def _check_rate_pair(key: str, pair: Any) -> None:
    if pair is None:
        return
    if not (isinstance(pair, list | tuple) and len(pair) == 2):
        raise ConfigError(key, pair, "[low, high] annual default rates")
    for value in pair:
        check_range(key, value, 0.0, 1.0)
    if pair[0] > pair[1]:
        raise ConfigError(key, pair, "[low, high] with low <= high")


@dataclass
class Sandbox(Event):
    """A regulatory sandbox cohort (seed 5.3).

    Innovative entrants are admitted under an exposure cap (their liabilities may not
    exceed ``exposure_cap`` of the market), close monitoring (an inspection chance of
    ``monitoring`` per tick) and mandatory disclosure; after ``duration`` ticks a review
    graduates those that are solvent with no detected violation and not blacklisted; a
    solvent one that fails exits as a going concern, an insolvent one is wound down in
    order. With ``supervised: false`` the same entrants enter as ordinary platforms
    with none of this (the counterfactual of ``no_sandbox``). With several jurisdictions,
    ``jurisdiction`` names whose sandbox it is (default: the first): the cohort is licensed
    there, under that regulator's terms and review, and serves only its residents unless
    ``cross_border.sandbox_recognition`` is on (:func:`sim.jurisdictions.serves`).
    """

    type_name: ClassVar[str] = "sandbox"
    entrants: int = 4
    strategy: str = "ux_first"
    fraud_share: float = 0.25
    default_rate: list[float] = field(default_factory=lambda: [0.06, 0.2])
    advertised_yield: float | None = 0.11
    # Terms left out are the regulator's (``regulator.sandbox_*``) when the cohort enters.
    duration: int | None = None
    exposure_cap: float | None = None
    monitoring: float | None = None
    disclosure: float | None = None
    supervised: bool = True
    jurisdiction: str | None = None

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.entrants", self.entrants, 1, MAX_ENTRANTS)
        _check_entrants(key, self)
        if self.duration is not None:
            check_range(f"{key}.duration", self.duration, 1)
        for name in ("exposure_cap", "monitoring", "disclosure"):
            if getattr(self, name) is not None:
                check_range(f"{key}.{name}", getattr(self, name), 0.0, 1.0)

    def terms(self, policy: Any) -> SandboxTerms:
        """The cohort's terms: its own, else the regulator's."""

        def own(name: str) -> Any:
            value = getattr(self, name)
            return getattr(policy, f"sandbox_{name}") if value is None else value

        return SandboxTerms(
            exposure_cap=own("exposure_cap"),
            monitoring=own("monitoring"),
            disclosure=own("disclosure"),
            review_tick=self.tick + own("duration"),
        )

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        status = Status.SANDBOX if self.supervised else Status.ACTIVE
        entrants = enter_platforms(
            ctx,
            self.entrants,
            self.strategy,
            self.fraud_share,
            tuple(self.default_rate),
            status=status,
            advertised_yield=self.advertised_yield,
            jurisdiction=self.jurisdiction,
        )
        for j in entrants:
            if self.supervised:
                ctx.market.set_sandbox(j, self.terms(ctx.policy_of(self.jurisdiction)))
                ctx.market.sandbox_admissions += 1
            ctx.log(
                "sandbox_admission" if self.supervised else "entry",
                platform=j,
                strategy=ctx.market.strategy[j],
            )


@dataclass
class RegistrationDeadline(Event):
    """Platforms below a compliance standard must leave (seed 2.2: entry and exit).

    ``orderly: true`` runs them off in order (status ``exited``); otherwise they collapse.
    """

    type_name: ClassVar[str] = "registration_deadline"
    min_compliance: float = 0.5
    orderly: bool = True

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.min_compliance", self.min_compliance, 0.0, 1.0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        market = ctx.market
        compliance = market.levers[:, LEVER_INDEX["compliance"]]
        for j in range(len(market)):
            if market.is_open[j] and compliance[j] < self.min_compliance:
                ctx.close(
                    j,
                    orderly=self.orderly,
                    reason="registration_deadline",
                    status=Status.EXITED if self.orderly else Status.COLLAPSED,
                )


@dataclass
class OrderlyExit(Event):
    """Exit becomes the policy: open platforms are run off in order (seed 2.2, 2.4).

    From ``tick`` on, each open platform is told to leave with chance ``rate`` a tick
    (default: the regulator's ``exit_rate`` when the drive starts), for ``duration`` ticks
    or, if omitted, to the end; ``all: true`` closes every open platform at once. A solvent
    one leaves as a going concern (status ``exited``), an insolvent one is wound down in
    order. China's 2019 policy making exit the main direction for P2P lenders is such a
    drive, and its regulator's "none left" of November 2020 the ``all`` case.
    """

    type_name: ClassVar[str] = "orderly_exit"
    rate: float | None = None
    duration: int | None = None
    all: bool = False

    def check(self, key: str) -> None:  # noqa: D102
        if self.rate is not None:
            check_range(f"{key}.rate", self.rate, 0.0, 1.0)
        if self.duration is not None:
            check_range(f"{key}.duration", self.duration, 1)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        until = None if self.duration is None else self.tick + self.duration - 1
        rate = 1.0 if self.all else (ctx.policy.exit_rate if self.rate is None else self.rate)
        # A new drive replaces a running one; the timeline runs it from this tick on.
        ctx.start("orderly_exit", ExitDrive(rate, until))


@dataclass
class ExitDrive:
    """A running exit drive: each tick, each open platform leaves with chance ``rate``."""

    rate: float
    until: int | None

    def advance(self, ctx: EventContext) -> bool:
        """This tick's exits, in a random order; done after ``until``."""
        if self.until is not None and ctx.tick > self.until:
            return False
        market = ctx.market
        is_open = np.flatnonzero(market.is_open)
        leave = is_open[ctx.rng.random(is_open.size) < self.rate]
        ctx.resolver.wind_down_all(
            leave[ctx.rng.permutation(leave.size)],
            orderly=True,
            reason="orderly_exit",
            status=lambda j: Status.EXITED if market.is_solvent(j) else Status.WOUND_DOWN,
        )
        return self.until is None or ctx.tick < self.until


@dataclass
class FraudCollapse(Event):
    """A platform turns out to be a fraud and collapses at once (seed ch. 1)."""

    type_name: ClassVar[str] = "fraud_collapse"
    platform: int | str = "fraud"

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        target = resolve_target(ctx.market, self.platform, ctx.rng)
        if target is None or not ctx.market.is_open[target]:
            return
        ctx.market.fraudulent[target] = True
        ctx.close(target, orderly=False, reason="fraud_collapse")


@dataclass
class MacroShock(Event):
    """Default rates rise by a factor for a while (a downturn)."""

    type_name: ClassVar[str] = "macro_shock"
    multiplier: float = 3.0
    duration: int = 26

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.multiplier", self.multiplier, 0.0)
        check_range(f"{key}.duration", self.duration, 1)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        ctx.market.default_multiplier = self.multiplier
        ctx.start("macro_shock", Downturn(self.tick + self.duration))  # a new one replaces it


@dataclass
class Downturn:
    """A running macro shock: default rates stay raised until ``until``."""

    until: int

    def advance(self, ctx: EventContext) -> bool:
        """At ``until``, default rates return to normal."""
        if ctx.tick >= self.until:
            ctx.market.default_multiplier = 1.0
            return False
        return True


@dataclass
class StrategyChange(Event):
    """A platform changes strategy: to a named one, or to given levers (seed ch. 6)."""

    type_name: ClassVar[str] = "strategy_change"
    platform: int | str = "largest"
    strategy: str | None = None
    levers: dict[str, float] | None = None
    advertised_yield: float | None = None

    def check(self, key: str) -> None:  # noqa: D102
        if self.strategy is None and self.levers is None and self.advertised_yield is None:
            raise ConfigError(key, "nothing to change", "strategy, levers or advertised_yield")
        if self.strategy is not None and self.strategy not in STRATEGY_NAMES:
            raise ConfigError(
                f"{key}.strategy", self.strategy, "one of " + ", ".join(STRATEGY_NAMES)
            )
        for name, value in (self.levers or {}).items():
            if name not in LEVERS:
                raise ConfigError(f"{key}.levers.{name}", value, "one of " + ", ".join(LEVERS))
            check_range(f"{key}.levers.{name}", value, 0.0, 1.0)
        if self.advertised_yield is not None:
            check_range(f"{key}.advertised_yield", self.advertised_yield, 0.0, 1.0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        market = ctx.market
        j = resolve_target(market, self.platform, ctx.rng)
        if j is None:
            return
        if self.strategy is not None:
            strategy = ctx.cfg.platforms.strategies[self.strategy]
            market.strategy[j] = self.strategy
            market.levers[j] = [getattr(strategy, name) for name in LEVERS]
            market.base_yield[j] = strategy.advertised_yield
        for name, value in (self.levers or {}).items():
            market.levers[j, LEVER_INDEX[name]] = value
        if self.advertised_yield is not None:
            market.base_yield[j] = self.advertised_yield
        ctx.log("strategy_change", platform=j, strategy=market.strategy[j])
