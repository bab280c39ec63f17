"""Step 6: what users learn this tick, as good and bad evidence per account.

Sources (MODEL.md step 6): the user's own outcome (a payout as promised is good evidence,
a failed withdrawal strong bad evidence), incidents at the platform, the platform's
disclosure (a noisy reading of its health; noise falls with the disclosure lever and
with the user's literacy), published ratings, enforcement news (believed in proportion
to institutional trust) and word of mouth from one random neighbour.
"""

from typing import TYPE_CHECKING

import numpy as np

from sim import accounts
from sim.network import random_neighbours
from sim.population import F32
from sim.trust import nudge
from sim.wom import degroot_step, net_promoter

if TYPE_CHECKING:
    from sim.model import TrustModel


def gather_evidence(model: "TrustModel", rng: np.random.Generator) -> tuple:
    """Good and bad evidence ``(n, K)`` from outcomes, incidents, disclosure, ratings, news.

    Per-platform parts are assembled here, then one fused pass (``accounts.evidence``)
    spreads them over the accounts with each user's reading noise and news exposure.
    """
    pop, t = model.population, model.cfg.trust
    platforms = model.platforms
    n_plat = len(platforms)
    is_open = model.open_mask().astype(np.float64)
    levers = model.lever_matrix()
    disclosure = levers[:, 0] * is_open
    openness = levers[:, 4] * is_open
    # Own outcome: an open platform pays as promised (failed slots are corrected below).
    good_base = t.own_outcome_evidence * is_open
    # Incidents: outages and breaches are felt by users; misconduct only if disclosed.
    felt = np.array(
        [(p.outage or p.breach) + p.misconduct * disclosure[p.index] for p in platforms]
    )
    bad_base = t.incident_evidence * felt
    # Published ratings, where the platform opens them.
    good_base = good_base + t.rating_evidence * openness * model.rating
    bad_base = bad_base + t.rating_evidence * openness * (1.0 - model.rating)
    # Disclosure: a reading of health = assets / liabilities; the common noise of a
    # report falls with disclosure, the personal noise with literacy.
    health = np.array([p.health(model.liabilities[p.index]) for p in platforms])
    common = rng.standard_normal(n_plat) * t.disclosure_noise * (1.0 - disclosure)
    uniforms = rng.random(pop.n, dtype=F32)
    # Enforcement news: bad news about the penalised platform, believed as far as the
    # user trusts the system.
    news_bad = np.zeros(n_plat)
    news_bad[model.regulator.enforced] = t.news_evidence
    if model.regulator.enforced:
        reached = rng.random(pop.n, dtype=F32) < model.regulator.news_reach
    else:
        reached = np.zeros(pop.n, dtype=bool)
    model.news_reached = reached
    good = np.empty(pop.platform.shape, dtype=F32)
    bad = np.empty(pop.platform.shape, dtype=F32)
    accounts.evidence(
        pop.platform,
        uniforms,
        pop.literacy,
        F32(t.literacy_noise),
        good_base.astype(F32),
        bad_base.astype(F32),
        (t.disclosure_evidence * disclosure).astype(F32),
        (health + common).astype(F32),
        news_bad.astype(F32),
        reached,
        pop.institutional_trust,
        good,
        bad,
    )
    # A failed withdrawal is no payout and strong bad evidence.
    users, slots = model.failed_requests
    still_held = pop.platform[users, slots] >= 0
    users, slots = users[still_held], slots[still_held]
    good[users, slots] = np.maximum(good[users, slots] - F32(t.own_outcome_evidence), 0.0)
    bad[users, slots] += F32(t.failed_withdrawal_evidence)
    return good, bad


def word_of_mouth(
    model: "TrustModel", good: np.ndarray, bad: np.ndarray, rng: np.random.Generator
) -> float:
    """Some users hear one random neighbour on the platform that neighbour uses most.

    A listener holding that platform takes the neighbour's trust as evidence; one who
    does not keeps it as a tip for their next platform choice.

    Returns:
        The word-of-mouth net score of what was said this tick.
    """
    pop, t = model.population, model.cfg.trust
    talks = rng.random(pop.n, dtype=F32) < t.wom_contact_rate
    listeners = np.flatnonzero(talks & model.has_neighbours)
    speakers = random_neighbours(model.network, rng, nodes=listeners)
    said = accounts.word_of_mouth(
        listeners,
        speakers,
        pop.platform,
        pop.a,
        pop.b,
        pop.balance,
        pop.institutional_trust,
        F32(t.prior_weight),
        F32(t.wom_evidence),
        good,
        bad,
        pop.tip_platform,
        pop.tip_trust,
    )
    score, _ = net_promoter(said, t.promoter_threshold, t.detractor_threshold)
    return score


def update_institutional_trust(model: "TrustModel", rng: np.random.Generator) -> None:
    """Move system trust: losses and collapses lower it, enforcement news raises it.

    Then users average it with their neighbours (one DeGroot step).
    """
    pop, t = model.population, model.cfg.trust
    g = pop.institutional_trust
    breaches = sum(p.breach for p in model.platforms)
    shock = F32(min(1.0, model.sector_shock + t.breach_shock * breaches))
    lost = model.user_loss.any()
    if shock > 0 or lost or model.regulator.enforced:  # most ticks nothing moves it
        down = np.full(pop.n, shock, dtype=F32)
        if lost:
            at_stake = model.user_loss + pop.balance.sum(axis=1)
            share = np.divide(model.user_loss, at_stake, out=np.zeros(pop.n), where=at_stake > 0)
            down += (t.own_loss_shock * share).astype(F32)
            np.clip(down, 0.0, 1.0, out=down)
        up = np.zeros(pop.n, dtype=F32)
        if model.regulator.enforced:
            actions = len(model.regulator.enforced)
            up[model.news_reached] = 1.0 - (1.0 - t.enforcement_gain) ** actions
            up *= F32(1.0) - down
        nudge(g, up, down)
    degroot_step(model.wom_weights, g, t.institutional_mixing, model.has_neighbours)
