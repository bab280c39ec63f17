"""Step 8: satisfaction, complaints and published ratings.

Satisfaction is moved in step 6's pass over the accounts (the one that reads them first
after step 5; nothing it reads changes in between), with the per-platform outcome values
of :func:`outcomes`; this module's step 8 turns the dissatisfied into complaints and the
holders' satisfaction into ratings.

An account's outcome this tick is ``delivery (1 - ux_weight + ux_weight ux)``: delivery is
the share of the promise the platform kept (``paid_share``: 0 while withdrawals are
stayed), times ``incident_delivery`` under an outage or breach and ``violation_delivery``
in a tick the platform broke the rules (users bear misconduct: mis-selling, misuse of
funds), and 0 on a failed withdrawal; ``ux`` is the user-experience lever, which makes a
delivered outcome better but cannot make up for what was not delivered. A user's outcome
is the balance-weighted mean over accounts (0 for a user who lost money this tick), and
satisfaction is its exponential moving average. Dissatisfied users complain, more so
when literate (they know the channel), so complaints point at the platforms that harm
their users; ratings are the mean satisfaction of holders.
"""

from dataclasses import dataclass

import numpy as np

from sim.config import PopulationConfig
from sim.market import Market
from sim.population import F32, Population


def delivery(market: Market, cfg: PopulationConfig) -> np.ndarray:
    """Share of its promise each platform delivered to its users this tick."""
    incident = np.where(market.outage | market.breach, cfg.incident_delivery, 1.0)
    violation = np.where(market.violated, cfg.violation_delivery, 1.0)
    return market.paid_share * incident * violation


@dataclass(frozen=True)
class Outcomes:
    """What step 6's pass needs to do step 8's outcomes on the way (see ``accounts.evidence``).

    Attributes:
        value: Outcome of an account at each platform this tick (delivered, made better by
            user experience); 0 on a failed withdrawal.
        smoothing: Share of the way satisfaction moves to this tick's outcome.
        threshold: Outcome below which a user is dissatisfied.
    """

    value: np.ndarray
    smoothing: np.float32
    threshold: np.float32


def outcomes(market: Market, cfg: PopulationConfig) -> Outcomes:
    """This tick's outcome of an account at each platform: ``delivery (1 - u + u ux)``."""
    ux = market.lever("user_experience")
    value = delivery(market, cfg) * (1.0 - cfg.ux_weight + cfg.ux_weight * ux)
    return Outcomes(
        value.astype(np.float64), F32(cfg.satisfaction_smoothing), F32(cfg.complaint_threshold)
    )


def update_satisfaction(
    pop: Population,
    market: Market,
    cfg: PopulationConfig,
    rng: np.random.Generator,
) -> None:
    """Complaints, ratings and holders per platform, from this tick's outcomes.

    Satisfaction itself was moved in step 6's pass over the accounts, which also found the
    dissatisfied (``this_tick.unhappy``) and tallied the accounts (``this_tick.accounts``),
    holders' satisfaction per platform included, for the ratings.
    """
    now = market.this_tick
    unhappy, worst = now.unhappy
    # Of the dissatisfied, the literate complain more (they know the channel).
    complains = rng.random(unhappy.size) < cfg.complaint_prob * pop.literacy[unhappy]
    market.complaints = np.bincount(worst[complains], minlength=len(market))
    summary = now.accounts
    held = summary.platform_holders > 0
    market.rating = np.where(
        held,
        summary.platform_satisfaction_sum / np.maximum(summary.platform_holders, 1),
        market.rating,
    )
    market.holders = summary.platform_holders
