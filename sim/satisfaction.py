"""Step 8: satisfaction, complaints and published ratings.

An account's outcome this tick is ``(1 - ux_weight) delivery + ux_weight ux``: delivery is
1 when the platform paid as promised, 1/2 under an outage or breach, 0 on a failed
withdrawal; ``ux`` is the platform's user-experience lever. A user's outcome is the
balance-weighted mean over accounts (0 for a user who lost money this tick), and
satisfaction is its exponential moving average. Dissatisfied users complain, more so
when literate (they know the channel); ratings are the mean satisfaction of holders.
"""

import numpy as np

from sim import accounts
from sim.config import PopulationConfig
from sim.market import Market
from sim.population import F32, Population


def update_satisfaction(
    pop: Population, market: Market, cfg: PopulationConfig, rng: np.random.Generator
) -> None:
    """Update satisfaction in place; write complaints, ratings and holders per platform."""
    now = market.this_tick
    market.complaints, market.rating, market.holders = accounts.satisfaction(
        pop.platform,
        pop.balance,
        now.failed,
        now.user_loss,
        market.outage | market.breach,
        market.lever("user_experience").astype(F32),
        F32(cfg.ux_weight),
        F32(cfg.incident_delivery),
        F32(cfg.satisfaction_smoothing),
        F32(cfg.complaint_threshold),
        F32(cfg.complaint_prob),
        pop.literacy,
        rng.random(pop.n, dtype=F32),
        pop.satisfaction,
        market.rating,
    )
