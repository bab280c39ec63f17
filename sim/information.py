"""Step 6: what users learn this tick, as good and bad evidence per account.

Sources (MODEL.md step 6): the user's own outcome (a payout as promised is good evidence,
a failed withdrawal strong bad evidence), incidents at the platform, the platform's
disclosure (a noisy reading of its health; noise falls with the disclosure lever and
with the user's literacy), published ratings, enforcement news (believed in proportion
to institutional trust) and word of mouth from one random neighbour.
"""

from typing import TYPE_CHECKING

import numpy as np

from sim.network import random_neighbours
from sim.population import F32, pad
from sim.trust import beta_trust, nudge
from sim.wom import degroot_step, net_promoter

if TYPE_CHECKING:
    from sim.model import TrustModel


def gather_evidence(model: "TrustModel", rng: np.random.Generator) -> tuple:
    """Good and bad evidence ``(n, K)`` from outcomes, incidents, disclosure, ratings, news."""
    pop, t = model.population, model.cfg.trust
    plat = pop.platform
    platforms = model.platforms
    is_open = model.open_mask()
    levers = model.lever_matrix()
    liabilities = model.liabilities
    # Own outcome: an open platform that paid as promised; a failed withdrawal.
    paying = pad(is_open, False)[plat] & ~model.failed
    good = paying.astype(F32) * F32(t.own_outcome_evidence)
    bad = model.failed.astype(F32) * F32(t.failed_withdrawal_evidence)
    # Incidents: outages and breaches are felt by users; misconduct only if disclosed.
    disclosure = levers[:, 0] * is_open
    incident = np.array(
        [(p.outage or p.breach) + p.misconduct * disclosure[p.index] for p in platforms],
        dtype=np.float64,
    )
    if incident.any():
        bad += pad(incident * t.incident_evidence).astype(F32)[plat]
    # Disclosure: a reading of health = assets / liabilities, common and personal noise.
    health = np.array([p.health(liabilities[p.index]) for p in platforms])
    common = rng.standard_normal(len(platforms)) * t.disclosure_noise * (1.0 - disclosure)
    reading = rng.standard_normal(pop.n, dtype=F32)
    reading *= F32(t.literacy_noise) * (F32(1.0) - pop.literacy)
    signal = pad(health + common).astype(F32)[plat]
    signal += reading[:, None]
    np.clip(signal, 0.0, 1.0, out=signal)
    weight = pad(t.disclosure_evidence * disclosure).astype(F32)[plat]
    good += weight * signal
    bad += weight * (F32(1.0) - signal)
    # Published ratings, where the platform opens them.
    rated = pad(t.rating_evidence * levers[:, 4] * is_open)
    rating = pad(model.rating)
    good += (rated * rating).astype(F32)[plat]
    bad += (rated * (1.0 - rating)).astype(F32)[plat]
    # Enforcement news: bad news about the penalised platform, believed as far as the
    # user trusts the system.
    enforced = model.regulator.enforced
    model.news_reached = None
    if enforced:
        news = np.zeros(len(platforms) + 1, dtype=F32)
        news[enforced] = t.news_evidence
        reached = rng.random(pop.n, dtype=F32) < model.regulator.news_reach
        model.news_reached = reached
        bad += (news[plat] * reached[:, None]) * pop.institutional_trust[:, None]
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
    neighbour = random_neighbours(model.network, rng)
    listeners = np.flatnonzero(talks & (neighbour >= 0))
    speakers = neighbour[listeners]
    main = pop.balance[speakers].argmax(axis=1)
    said_platform = pop.platform[speakers, main]
    speaks = said_platform >= 0
    listeners, speakers, main, said_platform = (
        listeners[speaks],
        speakers[speaks],
        main[speaks],
        said_platform[speaks],
    )
    said = beta_trust(
        pop.a[speakers, main],
        pop.b[speakers, main],
        pop.institutional_trust[speakers],
        F32(t.prior_weight),
    )
    match = pop.platform[listeners] == said_platform[:, None]
    rows, slots = np.nonzero(match)
    w = F32(t.wom_evidence)
    good[listeners[rows], slots] += w * said[rows]
    bad[listeners[rows], slots] += w * (F32(1.0) - said[rows])
    tipped = ~match.any(axis=1)
    pop.tip_platform[listeners[tipped]] = said_platform[tipped]
    pop.tip_trust[listeners[tipped]] = said[tipped]
    score, _ = net_promoter(said, t.promoter_threshold, t.detractor_threshold)
    return score


def update_institutional_trust(model: "TrustModel", rng: np.random.Generator) -> None:
    """Move system trust: losses and collapses lower it, enforcement news raises it.

    Then users average it with their neighbours (one DeGroot step).
    """
    pop, t = model.population, model.cfg.trust
    g = pop.institutional_trust
    down = np.zeros(pop.n, dtype=F32)
    if model.user_loss.any():
        at_stake = model.user_loss + pop.balance.sum(axis=1)
        share = np.divide(model.user_loss, at_stake, out=np.zeros(pop.n), where=at_stake > 0)
        down += (t.own_loss_shock * share).astype(F32)
    breaches = sum(p.breach for p in model.platforms)
    down += F32(min(1.0, model.sector_shock + t.breach_shock * breaches))
    np.clip(down, 0.0, 1.0, out=down)
    up = np.zeros(pop.n, dtype=F32)
    if model.news_reached is not None:
        actions = len(model.regulator.enforced)
        gain = 1.0 - (1.0 - t.enforcement_gain) ** actions
        up[model.news_reached] = gain
    up *= F32(1.0) - down
    nudge(g, up, down)
    degroot_step(model.wom_weights, g, t.institutional_mixing, model.has_neighbours)
