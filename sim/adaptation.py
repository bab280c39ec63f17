"""Strategy adaptation (MODEL.md step 9): platforms imitate better performers.

Every ``adaptation.every`` ticks each open platform compares itself with one other open
platform drawn at random and copies that platform's levers and advertised yield with the
pairwise-comparison (Fermi) probability

    p = 1 / (1 + exp(-beta (pi_other - pi_self)))

(Szabo & Toke 1998; Traulsen et al. 2006), where ``pi`` is performance since the last
round: growth of market share (``growth``) or change in equity per unit of liabilities
(``profit``). Switching costs ``switch_cost`` of liabilities and is skipped when the
platform cannot pay it. Then each lever mutates with a small chance.
"""

from collections.abc import Callable

import numpy as np

from sim.config import AdaptationConfig
from sim.market import Market

Adapter = Callable[[Market, np.random.Generator], None]  # step 9's hook for other rules


def fermi_probability(own: np.ndarray, other: np.ndarray, intensity: float) -> np.ndarray:
    """Chance of imitating ``other``: ``1 / (1 + exp(-intensity (other - own)))``."""
    return 0.5 * (1.0 + np.tanh(0.5 * intensity * (np.asarray(other) - np.asarray(own))))


class FermiImitation:
    """Pairwise imitation with mutation, remembering the market as it was at the last round.

    Args:
        cfg: The adaptation config.
        market: The market at tick 0 (the first round compares with it).
    """

    def __init__(self, cfg: AdaptationConfig, market: Market):
        self.cfg = cfg
        self.snapshot = self._state(market)

    @staticmethod
    def _state(market: Market) -> dict[str, np.ndarray]:
        liabilities = market.liabilities.copy()
        return {
            "share": liabilities / max(float(liabilities.sum()), 1e-12),
            "liabilities": liabilities,
            "equity": market.assets - liabilities,
        }

    def performance(self, market: Market, kind: str) -> np.ndarray:
        """Each platform's performance since the last round (NaN if not open); a new round."""
        now = self._state(market)
        n = now["share"].size
        last = self.snapshot
        n_old = last["share"].size
        prev_share = np.append(last["share"], now["share"][n_old:])
        prev_liab = np.append(last["liabilities"], now["liabilities"][n_old:])
        prev_equity = np.append(last["equity"], now["equity"][n_old:])
        if kind == "growth":  # a platform with no share to grow from has not grown
            ratio = np.divide(now["share"], prev_share, out=np.ones(n), where=prev_share > 0)
            result = ratio - 1.0
        else:
            result = (now["equity"] - prev_equity) / np.maximum(prev_liab, 1e-12)
        self.snapshot = now
        result[~market.is_open] = np.nan
        return result

    def __call__(self, market: Market, rng: np.random.Generator) -> None:
        """One round of pairwise imitation with mutation over the open platforms."""
        cfg = self.cfg
        scores = self.performance(market, cfg.performance)
        players = np.flatnonzero(market.is_open)
        if players.size < 2:
            return
        # Everyone decides on the strategies as they stood before this round.
        levers = market.levers.copy()
        yields = market.base_yield.copy()
        strategies = list(market.strategy)
        flows = market.this_tick.flows
        for p in players:
            other = players[int(rng.integers(players.size - 1))]
            if other == p:
                other = players[-1]
            prob = fermi_probability(scores[p], scores[other], cfg.selection_intensity)
            cost = cfg.switch_cost * market.liabilities[p]
            if (
                rng.random() < prob
                and market.cash[p] >= cost
                and not np.array_equal(market.levers[p], levers[other])
            ):
                market.levers[p] = levers[other]
                market.base_yield[p] = yields[other]
                market.strategy[p] = strategies[other]
                market.cash[p] -= cost
                flows.lever_costs += cost
                market.log("imitation", platform=int(p), copied=int(other))
            mutate = rng.random(len(market.levers[p])) < cfg.mutation_rate
            noise = rng.normal(0.0, cfg.mutation_sd, len(market.levers[p]))
            market.levers[p] = np.clip(market.levers[p] + mutate * noise, 0.0, 1.0)
