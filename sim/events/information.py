"""Information events: education campaigns, outages and data breaches."""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.events.base import Event, EventContext, check_range, resolve_target


@dataclass(eq=False)
class Campaign:
    """A running education campaign: who it reaches, how fast, until when."""

    reached: np.ndarray
    rate: float
    until: int

    def advance(self, ctx: EventContext) -> bool:
        """Raise the reached users' literacy this tick; done at ``until``."""
        if self.until <= ctx.tick:  # ticks tick0 .. tick0 + duration - 1
            return False
        ctx.population.educate(self.rate, self.reached)
        return True


@dataclass
class EducationCampaign(Event):
    """Financial education (seed 5.4): literacy of the reached users rises each tick.

    Each tick until ``tick + duration``, a reached user's literacy moves ``rate`` of the
    way to 1; ``reach`` is the share of users the campaign reaches, drawn once.
    """

    type_name: ClassVar[str] = "education_campaign"
    duration: int = 26
    rate: float = 0.03
    reach: float = 0.6

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.duration", self.duration, 1)
        check_range(f"{key}.rate", self.rate, 0.0, 1.0)
        check_range(f"{key}.reach", self.reach, 0.0, 1.0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        reached = ctx.rng.random(ctx.population.n) < self.reach
        campaign = Campaign(reached, self.rate, self.tick + self.duration)
        ctx.start(campaign, campaign)


@dataclass
class Outage(Event):
    """A platform's service goes down this tick (seed 7.2)."""

    type_name: ClassVar[str] = "outage"
    platform: int | str = "largest"

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        target = resolve_target(ctx.market, self.platform, ctx.rng)
        if target is not None:
            ctx.market.forced_outage[target] = True


@dataclass
class DataBreach(Event):
    """A platform leaks its users' data this tick (seed 7.2); the sector hears of it."""

    type_name: ClassVar[str] = "data_breach"
    platform: int | str = "largest"

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        target = resolve_target(ctx.market, self.platform, ctx.rng)
        if target is not None:
            ctx.market.forced_breach[target] = True
