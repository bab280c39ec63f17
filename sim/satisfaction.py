"""Step 8: satisfaction, complaints and published ratings.

An account's outcome this tick is ``(1 - ux_weight) delivery + ux_weight ux``: delivery is
1 when the platform paid as promised, 1/2 under an outage or breach, 0 on a failed
withdrawal; ``ux`` is the platform's user-experience lever. A user's outcome is the
balance-weighted mean over accounts (0 for a user who lost money this tick), and
satisfaction is its exponential moving average. Dissatisfied users complain, more so
when literate (they know the channel); ratings are the mean satisfaction of holders.
"""

from typing import TYPE_CHECKING

import numpy as np

from sim import accounts
from sim.population import F32

if TYPE_CHECKING:
    from sim.model import TrustModel


def update_satisfaction(model: "TrustModel", rng: np.random.Generator) -> tuple:
    """Update satisfaction in place; return ``(complaints, rating, holders)`` per platform."""
    pop, cfg = model.population, model.cfg.population
    incident = np.array([p.outage or p.breach for p in model.platforms])
    return accounts.satisfaction(
        pop.platform,
        pop.balance,
        model.failed,
        model.user_loss,
        incident,
        model.lever_matrix()[:, 3].astype(F32),
        F32(cfg.ux_weight),
        F32(cfg.incident_delivery),
        F32(cfg.satisfaction_smoothing),
        F32(cfg.complaint_threshold),
        F32(cfg.complaint_prob),
        pop.literacy,
        rng.random(pop.n, dtype=F32),
        pop.satisfaction,
        model.rating,
    )
