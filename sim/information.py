"""Step 6: what users learn this tick, as good and bad evidence per account.

Sources (MODEL.md step 6): the user's own outcome (a payout as promised is good evidence,
a failed withdrawal strong bad evidence), incidents at the platform, the platform's
disclosure (a noisy reading of its health; noise falls with the disclosure lever and
with the user's literacy), published ratings, enforcement news (believed in proportion
to institutional trust) and word of mouth from one random neighbour.
"""

import numpy as np

from sim import accounts
from sim.config import LEVER_INDEX, TrustConfig
from sim.market import Market
from sim.network import SocialNetwork, random_neighbours
from sim.population import F32, Population
from sim.trust import nudge
from sim.wom import degroot_step, net_promoter


def inform(
    population: Population,
    market: Market,
    network: SocialNetwork,
    trust: TrustConfig,
    enforced: list[int],
    news_reach: float,
    rng: np.random.Generator,
    rumour_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """MODEL.md step 6: this tick's evidence, rumours, word of mouth, system trust.

    Args:
        population: The users (tips and institutional trust change).
        market: The platforms and the tick's outcomes; writes the word-of-mouth score.
        network: The users' contacts.
        trust: The evidence weights.
        enforced: Platforms penalised or shut for fraud this tick (enforcement news).
        news_reach: Share of users the news reaches.
        rng: The information generator.
        rumour_rng: The rumours' generator.

    Returns:
        ``(good, bad)``: ``(n, K)`` evidence for step 7.
    """
    good, bad, reached = gather_evidence(population, market, trust, enforced, news_reach, rng)
    for rumour in market.rumours:
        if rumour.live:
            rumour.advance(market, population, network, bad, rumour_rng)
    market.this_tick.wom_net = word_of_mouth(population, network, trust, good, bad, rng)
    update_institutional_trust(population, market, network, trust, enforced, reached)
    return good, bad


def gather_evidence(
    pop: Population,
    market: Market,
    t: TrustConfig,
    enforced: list[int],
    news_reach: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Good and bad evidence ``(n, K)`` from outcomes, incidents, disclosure, ratings, news.

    Per-platform parts are assembled here, then one fused pass (``accounts.evidence``)
    spreads them over the accounts with each user's reading noise and news exposure.

    Returns:
        ``(good, bad, reached)``: the evidence, and who heard enforcement news.
    """
    n_plat = len(market)
    is_open = market.is_open.astype(np.float64)
    levers = market.effective_levers()
    disclosure = levers[:, LEVER_INDEX["disclosure"]] * is_open
    openness = levers[:, LEVER_INDEX["rating_openness"]] * is_open
    # Own outcome: an open platform pays as promised (failed slots are corrected below).
    good_base = t.own_outcome_evidence * is_open
    # Incidents: outages and breaches are felt by users; misconduct only if disclosed.
    felt = (market.outage | market.breach) + market.misconduct * disclosure
    bad_base = t.incident_evidence * felt
    # Published ratings, where the platform opens them.
    good_base = good_base + t.rating_evidence * openness * market.rating
    bad_base = bad_base + t.rating_evidence * openness * (1.0 - market.rating)
    # Disclosure: a reading of health = assets / liabilities; the common noise of a
    # report falls with disclosure, the personal noise with literacy.
    health = market.health()
    common = rng.standard_normal(n_plat) * t.disclosure_noise * (1.0 - disclosure)
    uniforms = rng.random(pop.n, dtype=F32)
    # Enforcement news: bad news about the penalised platform, believed as far as the
    # user trusts the system.
    news_bad = np.zeros(n_plat)
    news_bad[enforced] = t.news_evidence
    no_news = np.zeros(pop.n, dtype=bool)
    reached = rng.random(pop.n, dtype=F32) < news_reach if enforced else no_news
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
    users, slots = market.this_tick.failed_requests
    still_held = pop.platform[users, slots] >= 0
    users, slots = users[still_held], slots[still_held]
    good[users, slots] = np.maximum(good[users, slots] - F32(t.own_outcome_evidence), 0.0)
    bad[users, slots] += F32(t.failed_withdrawal_evidence)
    return good, bad, reached


def word_of_mouth(
    pop: Population,
    network: SocialNetwork,
    t: TrustConfig,
    good: np.ndarray,
    bad: np.ndarray,
    rng: np.random.Generator,
) -> float:
    """Some users hear one random neighbour on the platform that neighbour uses most.

    A listener holding that platform takes the neighbour's trust as evidence; one who
    does not keeps it as a tip for their next platform choice.

    Returns:
        The word-of-mouth net score of what was said this tick.
    """
    talks = rng.random(pop.n, dtype=F32) < t.wom_contact_rate
    listeners = np.flatnonzero(talks & network.has_neighbours)
    speakers = random_neighbours(network.adjacency, rng, nodes=listeners)
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


def update_institutional_trust(
    pop: Population,
    market: Market,
    network: SocialNetwork,
    t: TrustConfig,
    enforced: list[int],
    reached: np.ndarray,
) -> None:
    """Move system trust: losses and collapses lower it, enforcement news raises it.

    Then users average it with their neighbours (one DeGroot step).
    """
    g = pop.institutional_trust
    now = market.this_tick
    breaches = int(market.breach.sum())
    shock = F32(min(1.0, now.sector_shock + t.breach_shock * breaches))
    lost = now.user_loss.any()
    if shock > 0 or lost or enforced:  # most ticks nothing moves it
        down = np.full(pop.n, shock, dtype=F32)
        if lost:
            at_stake = now.user_loss + pop.balance.sum(axis=1)
            share = np.divide(now.user_loss, at_stake, out=np.zeros(pop.n), where=at_stake > 0)
            down += (t.own_loss_shock * share).astype(F32)
            np.clip(down, 0.0, 1.0, out=down)
        up = np.zeros(pop.n, dtype=F32)
        if enforced:
            actions = len(enforced)
            up[reached] = 1.0 - (1.0 - t.enforcement_gain) ** actions
            up *= F32(1.0) - down
        nudge(g, up, down)
    degroot_step(network.weights, g, t.institutional_mixing, network.has_neighbours)
