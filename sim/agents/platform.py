"""The platform agent: a Mesa view onto one row of the market's arrays.

Platform state lives in :class:`sim.market.Market` (one array per attribute) so the
phases treat platforms as arrays, by the thousand if need be; a ``Platform`` gives each
row an identity in Mesa (``model.agents``) and readable, writable attributes for
inspection, notebooks and tests.
"""

from typing import Any

import mesa
import numpy as np

from sim.market import Market, ProductLine, SandboxTerms, Status


class _Column:
    """An attribute that reads and writes the platform's entry of a market array."""

    def __init__(self, cast: type, doc: str):
        self.cast = cast
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, platform: Any, owner: type | None = None) -> Any:
        if platform is None:
            return self
        return self.cast(getattr(platform.market, self.name)[platform.index])

    def __set__(self, platform: Any, value: Any) -> None:
        getattr(platform.market, self.name)[platform.index] = value


class Platform(mesa.Agent):
    """An internet-finance platform: row ``index`` of ``market``.

    ``base_yield`` is its strategy's annual yield; ``advertised_yield`` adds a fraud's
    ``yield_premium`` and an unregulated product's extra. ``base_default`` is its hidden
    quality, the loan book's annual default rate before risk control. A ``fraudulent``
    platform lures with a premium and diverts the assets outside custody, so promised
    yields are paid from what others deposit. ``cash`` and ``loans`` are its balance
    sheet; a share of it, the regulator's custody requirement, is held through a
    custodian: out of reach of diversion and misconduct, and run off in order rather
    than fire-sold if the platform fails.
    """

    base_yield = _Column(float, "Annual yield of its strategy.")
    yield_premium = _Column(float, "Extra annual yield a fraud advertises.")
    base_default = _Column(float, "Annual default rate of the loan book before risk control.")
    fraudulent = _Column(bool, "A Ponzi-like platform.")
    cash = _Column(float, "Cash.")
    loans = _Column(float, "Loan book at book value.")
    flagged = _Column(bool, "Flagged by the regulator's early warning.")
    blacklisted = _Column(bool, "On the industry blacklist.")
    violations_detected = _Column(int, "Penalties so far.")
    violated = _Column(bool, "Violated the rules this tick.")
    outage = _Column(bool, "Service outage this tick.")
    breach = _Column(bool, "Data breach this tick.")
    misconduct = _Column(bool, "Staff misconduct this tick.")
    forced_outage = _Column(bool, "An event forces an outage at the next operation.")
    forced_breach = _Column(bool, "An event forces a breach at the next operation.")
    operated = _Column(bool, "Ran its book this tick.")

    def __init__(self, model: mesa.Model, market: Market, index: int):
        super().__init__(model)
        self.market = market
        self.index = index

    @property
    def strategy(self) -> str:
        """Name of the strategy it plays."""
        return self.market.strategy[self.index]

    @strategy.setter
    def strategy(self, name: str) -> None:
        self.market.strategy[self.index] = name

    @property
    def levers(self) -> np.ndarray:
        """The five levers it chooses (``sim.config.LEVERS`` order), a view of its row."""
        return self.market.levers[self.index]

    @levers.setter
    def levers(self, values: np.ndarray) -> None:
        self.market.levers[self.index] = values

    @property
    def status(self) -> Status:
        """Where it is in its life."""
        return self.market.status_of(self.index)

    @status.setter
    def status(self, status: Status) -> None:
        self.market.set_status(self.index, status)

    @property
    def sandbox(self) -> SandboxTerms | None:
        """Its sandbox terms, if it is in a sandbox."""
        return self.market.sandbox(self.index)

    @sandbox.setter
    def sandbox(self, terms: SandboxTerms | None) -> None:
        self.market.set_sandbox(self.index, terms)

    @property
    def product(self) -> ProductLine | None:
        """Its product line outside the rules (legal lag), if any."""
        return self.market.product(self.index)

    @product.setter
    def product(self, product: ProductLine | None) -> None:
        self.market.set_product(self.index, product)

    @property
    def suspended_until(self) -> int | None:
        """Tick its suspension ends in an orderly wind-down (``None`` if not suspended)."""
        until = int(self.market.suspended_until[self.index])
        return None if until < 0 else until

    @property
    def violations_open(self) -> list[int]:
        """Ticks of its undetected, still findable violations."""
        return self.market.violations_open[self.index]

    @violations_open.setter
    def violations_open(self, ticks: list[int]) -> None:
        self.market.violations_open[self.index] = list(ticks)

    @property
    def is_open(self) -> bool:
        """Operating and taking deposits (active or in a sandbox)."""
        return bool(self.market.is_open[self.index])

    @property
    def is_operating(self) -> bool:
        """Running its loan book: open, or suspended while it runs off."""
        return bool(self.market.is_operating[self.index])

    @property
    def assets(self) -> float:
        """Cash and the loan book at book value."""
        return self.cash + self.loans

    @property
    def liabilities(self) -> float:
        """What it owes its users."""
        return float(self.market.liabilities[self.index])

    @property
    def advertised_yield(self) -> float:
        """Annual yield promised: the strategy's, a fraud's premium, an unregulated product's."""
        return float(self.market.advertised_yields()[self.index])

    def lever(self, name: str) -> float:
        """The effective value of a lever, after the regulator's enforced minimums."""
        return float(self.market.lever(name)[self.index])

    def effective_levers(self) -> np.ndarray:
        """All five effective levers in ``LEVERS`` order."""
        return self.market.effective_levers()[self.index]

    def unregulated(self) -> bool:
        """Runs a product line the rules do not yet cover."""
        return bool(self.market.unregulated()[self.index])
