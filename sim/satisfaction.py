"""Step 8: satisfaction, complaints and published ratings.

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

import numpy as np

from sim import accounts
from sim.config import PopulationConfig
from sim.market import Market
from sim.metrics import QUANTILE_BINS, AccountSummary
from sim.population import F32, Population


def delivery(market: Market, cfg: PopulationConfig) -> np.ndarray:
    """Share of its promise each platform delivered to its users this tick."""
    incident = np.where(market.outage | market.breach, cfg.incident_delivery, 1.0)
    violation = np.where(market.violated, cfg.violation_delivery, 1.0)
    return market.paid_share * incident * violation


def update_satisfaction(
    pop: Population,
    market: Market,
    cfg: PopulationConfig,
    prior_weight: float,
    rng: np.random.Generator,
) -> None:
    """Update satisfaction in place; write complaints, ratings and holders per platform.

    The same pass tallies the account statistics of the indicators (``this_tick.accounts``).
    """
    now = market.this_tick
    unhappy, worst, market.rating, market.holders, summary = accounts.satisfaction(
        pop.platform,
        pop.balance,
        now.failed,
        now.user_loss,
        delivery(market, cfg),
        market.lever("user_experience").astype(F32),
        F32(cfg.ux_weight),
        F32(cfg.satisfaction_smoothing),
        F32(cfg.complaint_threshold),
        pop.satisfaction,
        market.rating,
        pop.a,
        pop.b,
        pop.institutional_trust,
        F32(prior_weight),
        QUANTILE_BINS,
        pop.ever_invested,
    )
    # Of the dissatisfied, the literate complain more (they know the channel).
    complains = rng.random(unhappy.size) < cfg.complaint_prob * pop.literacy[unhappy]
    market.complaints = np.bincount(worst[complains], minlength=len(market))
    now.accounts = AccountSummary.of(summary)
