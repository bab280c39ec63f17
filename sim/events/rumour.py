"""Rumours in the model (seed 7.3): a Maki-Thompson rumour about one platform.

The spreading itself is the kernel in :mod:`sim.rumour`; this module wires it in. Each
tick of step 6 a live rumour spreads one tick on the social network; users who believe
it and hold the target platform take ``evidence`` of bad news; for a false rumour the
regulator's rebuttal (after a delay, with a reach) and the platform's own disclosure
(as strong as its disclosure lever, read as well as the user's literacy allows) turn
spreaders into stiflers and believers into sceptics.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim import rumour as mt
from sim.events.base import Event, EventContext, check_range, resolve_target
from sim.market import Market
from sim.network import SocialNetwork
from sim.population import F32, Population

MAX_SUBSTEPS = 100  # kernel steps a week: more is no longer "talking more than once a week"


@dataclass
class Rumour(Event):
    """An insolvency rumour about a platform starts with some seed spreaders.

    Parameters:

    * ``platform``: the target; ``is_true``: whether the claim is true.
    * ``seed_spreaders``: a share of users if < 1, else a count.
    * ``contact_prob``, ``stifle_prob``: Maki-Thompson rates per kernel step, with
      ``substeps`` kernel steps a week.
    * ``belief``: chance an illiterate user believes what they hear; literacy lowers it
      by a factor ``1 - literacy_effect * literacy``.
    * ``evidence``: bad evidence per tick for a believer holding the target.
    * ``rebuttal``, ``rebuttal_delay``, ``rebuttal_reach``: does the regulator debunk a
      false rumour, when and how widely (default: the regulator's policy).
    * ``disclosure_response``: the platform publishes its accounts from
      ``response_delay`` ticks on.
    """

    type_name: ClassVar[str] = "rumour"
    platform: int | str = "largest"
    is_true: bool = False
    seed_spreaders: float = 0.002
    contact_prob: float = 0.6
    stifle_prob: float = 0.5
    substeps: int = 5
    belief: float = 0.9
    literacy_effect: float = 0.8
    evidence: float = 1.5
    rebuttal: bool | None = None
    rebuttal_delay: int | None = None
    rebuttal_reach: float | None = None
    disclosure_response: bool = False
    response_delay: int = 2

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.seed_spreaders", self.seed_spreaders, 0.0)
        for name in ("contact_prob", "stifle_prob", "belief", "literacy_effect"):
            check_range(f"{key}.{name}", getattr(self, name), 0.0, 1.0)
        check_range(f"{key}.evidence", self.evidence, 0.0)
        check_range(f"{key}.substeps", self.substeps, 1, MAX_SUBSTEPS)
        if self.rebuttal_delay is not None:
            check_range(f"{key}.rebuttal_delay", self.rebuttal_delay, 0)
        if self.rebuttal_reach is not None:
            check_range(f"{key}.rebuttal_reach", self.rebuttal_reach, 0.0, 1.0)
        check_range(f"{key}.response_delay", self.response_delay, 0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        target = resolve_target(ctx.market, self.platform, ctx.rng)
        if target is None:
            return
        ctx.market.rumours.append(LiveRumour(self, target, ctx))


class LiveRumour:
    """The state of one rumour: who is ignorant, spreading or stifled, and who believes."""

    def __init__(self, spec: Rumour, platform: int, ctx: EventContext):
        reg, rng = ctx.policy, ctx.rng
        n = ctx.population.n
        self.spec = spec
        self.platform = platform
        self.start = spec.tick
        self.status = np.full(n, mt.IGNORANT, dtype=np.int8)
        self.believes = np.zeros(n, dtype=bool)
        self.forewarned = np.zeros(n, dtype=bool)
        seeds = spec.seed_spreaders if spec.seed_spreaders >= 1 else spec.seed_spreaders * n
        chosen = rng.choice(n, size=min(n, max(1, round(seeds))), replace=False)
        self.status[chosen] = mt.SPREADER
        self.believes[chosen] = True
        rebut = reg.rebuttal if spec.rebuttal is None else spec.rebuttal
        self.rebuttal_tick = None
        if rebut and not spec.is_true:
            delay = reg.rebuttal_delay if spec.rebuttal_delay is None else spec.rebuttal_delay
            self.rebuttal_tick = spec.tick + delay
        self.rebuttal_reach = (
            reg.rebuttal_reach if spec.rebuttal_reach is None else spec.rebuttal_reach
        )
        self.peak_spreaders = int(chosen.size)
        ctx.log("rumour_start", platform=platform, true=spec.is_true, seeds=int(chosen.size))

    @property
    def live(self) -> bool:
        """Still spreading."""
        return bool((self.status == mt.SPREADER).any())

    def advance(
        self,
        market: Market,
        pop: Population,
        network: SocialNetwork,
        w_minus: float,
        rng: np.random.Generator,
    ) -> None:
        """One tick: corrections, spreading, and bad evidence for believing holders.

        The evidence is learned at once (``w_minus`` times it onto the accounts' ``b``),
        before step 6's pass over the accounts, which then forgets it with the rest.
        """
        spec, tick, j = self.spec, market.tick, self.platform
        if self.rebuttal_tick is not None and tick >= self.rebuttal_tick:
            self._correct(rng.random(pop.n) < self.rebuttal_reach, everyone=True)
            if tick == self.rebuttal_tick:
                market.log("rebuttal", platform=j)
        target_open = bool(market.is_open[j])
        if (
            spec.disclosure_response
            and not spec.is_true
            and tick >= spec.tick + spec.response_delay
            and target_open
        ):
            disclosure = float(market.effective_disclosure()[j])
            persuaded = rng.random(pop.n) < disclosure * pop.literacy
            self._correct(persuaded, everyone=False)
        belief = (spec.belief * (1.0 - spec.literacy_effect * pop.literacy)).astype(F32)
        for _ in range(spec.substeps):  # people talk more than once a week
            mt.spread_tick(
                self.status,
                self.believes,
                network.adjacency.indptr,
                network.adjacency.indices,
                belief,
                spec.contact_prob,
                spec.stifle_prob,
                rng,
            )
        spreaders = int(np.count_nonzero(self.status == mt.SPREADER))
        self.peak_spreaders = max(self.peak_spreaders, spreaders)
        if spec.evidence > 0 and target_open:
            holds = pop.platform == j
            pop.b += (holds & self.believes[:, None]) * F32(w_minus * spec.evidence)
        if spreaders == 0:
            market.log("rumour_end", platform=j, peak_spreaders=self.peak_spreaders)

    def _correct(self, reached: np.ndarray, *, everyone: bool) -> None:
        """Reached spreaders stop spreading and reached believers stop believing.

        An official rebuttal (``everyone``) also forewarns ignorants, who will not pass
        the rumour on; a platform's disclosure reaches only those who heard the rumour.
        """
        self.believes &= ~reached
        spreading = self.status == mt.SPREADER
        self.status[spreading & reached] = mt.STIFLER
        if everyone:
            warned = (self.status == mt.IGNORANT) & reached
            self.forewarned |= warned
            self.status[warned] = mt.STIFLER  # they know; they will not pass it on

    def heard(self) -> np.ndarray:
        """Users who have heard the rumour itself (not only its rebuttal)."""
        return (self.status != mt.IGNORANT) & ~self.forewarned
