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

from sim.population import F32, pad

if TYPE_CHECKING:
    from sim.model import TrustModel


def update_satisfaction(model: "TrustModel", rng: np.random.Generator) -> tuple:
    """Update satisfaction in place; return ``(complaints, rating)`` per platform."""
    pop, cfg = model.population, model.cfg.population
    n_plat = len(model.platforms)
    plat = pop.platform
    incident = pad(np.array([p.outage or p.breach for p in model.platforms]), False)
    ux = pad(model.lever_matrix()[:, 3])
    delivery = np.where(model.failed, F32(0.0), np.where(incident[plat], F32(0.5), F32(1.0)))
    outcome = (1.0 - cfg.ux_weight) * delivery + cfg.ux_weight * ux[plat]
    held = pop.held | model.failed
    weight = np.where(held, pop.balance + model.failed, 0.0)  # a failed slot counts even if empty
    total = weight.sum(axis=1)
    lost = model.user_loss > 0
    active = (total > 0) | lost
    user_outcome = np.divide(
        (weight * outcome).sum(axis=1), total, out=np.zeros(pop.n), where=total > 0
    )
    user_outcome[lost] = 0.0
    s = pop.satisfaction
    s[active] += (F32(cfg.satisfaction_smoothing) * (user_outcome[active] - s[active])).astype(F32)
    # Complaints go to the platform of the user's worst account.
    unhappy = active & (user_outcome < cfg.complaint_threshold)
    unhappy &= rng.random(pop.n, dtype=F32) < cfg.complaint_prob * pop.literacy
    worst = np.where(held, outcome, np.inf)[unhappy].argmin(axis=1)
    target = plat[np.flatnonzero(unhappy), worst]
    complaints = np.bincount(target[target >= 0], minlength=n_plat)
    # Ratings: mean satisfaction of current holders (unchanged where nobody holds).
    now_held = pop.held
    holders = np.bincount(plat[now_held], minlength=n_plat)
    sums = np.bincount(plat[now_held], np.broadcast_to(s[:, None], plat.shape)[now_held], n_plat)
    rating = np.where(holders > 0, sums / np.maximum(holders, 1), model.rating)
    return complaints, rating
