"""Step 6: what users learn this tick, as good and bad evidence per account, and system trust.

Every source is read as evidence on one question, "will this platform keep its promise?"
(the beta-reputation of :mod:`sim.trust`), so a signal that a platform keeps 97% of its
promise is mostly good evidence and a little bad:

* personal: what the platform delivered of its promise this tick (``paid_share``; a stay
  on withdrawals delivers nothing), a failed withdrawal (strong bad evidence), a rumour one
  believes, a neighbour's opinion or news that the neighbour fled the platform;
* public (the platform's public record, which also shapes trust in platforms a user has
  never used): its disclosure, a reading of its reliability (cover of liabilities times
  the share of the loan book that does not go bad; a fraud reports full cover) whose noise
  falls with the disclosure lever and the user's literacy; its published rating against
  the market's, where ratings are open; incidents; enforcement news (believed as far as a
  user trusts the system); the queue of withdrawals against its cash; and the sector's
  failures (the money lost anywhere in the market is bad news for every platform).

System (institutional) trust falls with failures and losses, with exposed wrongdoing and
with one's own losses, rises slowly in calm ticks and with the regulator seen to act, and
is averaged with neighbours (DeGroot).
"""

import numpy as np

from sim import accounts
from sim.config import LEVER_INDEX, TrustConfig
from sim.market import Market
from sim.metrics import QUANTILE_BINS, AccountSummary
from sim.network import SocialNetwork, random_neighbours
from sim.population import F32, Population
from sim.satisfaction import Outcomes
from sim.wom import friedkin_johnsen_step, net_promoter

DISCLOSURE = LEVER_INDEX["disclosure"]
OPENNESS = LEVER_INDEX["rating_openness"]


def inform(
    population: Population,
    market: Market,
    network: SocialNetwork,
    trust: TrustConfig,
    enforced: list[int],
    news_reach: float | np.ndarray,
    recovery_rate: float,
    outcomes: Outcomes,
    rng: np.random.Generator,
    rumour_rng: np.random.Generator,
    actions_by: list[int] | None = None,
    foreign_weight: float = 0.0,
) -> None:
    """MODEL.md steps 6-7: rumours, word of mouth, system trust; this tick's evidence, learned.

    What users hear from others (rumours, word of mouth) and system trust come first; then
    one pass over the accounts forgets, adds the tick's evidence (step 7's update, fused
    into the pass of step 6; see :func:`sim.accounts.evidence`) and, with every account's
    evidence and system trust final for the tick, tallies the accounts for step 8 and the
    indicators (``this_tick.accounts``).

    Args:
        population: The users (tips, awareness and institutional trust change).
        market: The platforms and the tick's outcomes; writes the public record and the
            word-of-mouth score.
        network: The users' contacts.
        trust: The evidence weights.
        enforced: Platforms penalised or shut for fraud this tick (enforcement news).
        news_reach: Share of users the news reaches (per user: their own regulator's).
        recovery_rate: Share of a defaulted loan recovered (what a disclosure reports).
        outcomes: This tick's account outcomes (step 8's, done in the same pass).
        rng: The information generator.
        rumour_rng: The rumours' generator.
        actions_by: With several jurisdictions, each regulator's enforcement actions.
        foreign_weight: With several, the weight of news from abroad in system trust.
    """
    # Who hears of this tick's enforcement (drawn first: system trust and the evidence
    # pass both read it).
    if enforced:
        reached = rng.random(population.n, dtype=F32) < news_reach
    else:
        reached = np.zeros(population.n, dtype=bool)
    for rumour in market.rumours:
        if rumour.live:
            rumour.advance(market, population, network, trust.w_minus, rumour_rng)
    market.this_tick.wom_net = word_of_mouth(population, network, trust, rng)
    update_institutional_trust(
        population, market, network, trust, enforced, reached, actions_by, foreign_weight
    )
    gather_evidence(population, market, trust, enforced, reached, recovery_rate, outcomes, rng)


def reliability(market: Market, recovery_rate: float) -> np.ndarray:
    """What a full disclosure reveals: the share of its promise a platform can keep.

    ``cover x (1 - annual loss rate of the loan book)``, cover = assets / liabilities
    capped at 1. A fraud reports full cover (its loan book is what it is).
    """
    rm = market.levers[:, LEVER_INDEX["risk_management"]]
    cfg = market.cfg
    default_rate = (market.base_default + market.product_default) * (
        1.0 - cfg.risk_management_effect * rm
    )
    loss = np.clip(default_rate * market.default_multiplier * (1.0 - recovery_rate), 0.0, 1.0)
    cover = np.where(market.fraudulent, 1.0, market.health())
    return cover * (1.0 - loss)


def initial_public_record(market: Market, t: TrustConfig, recovery_rate: float) -> None:
    """Tick 0: each platform's public record as its disclosures would have built it.

    The record is the steady state of the tick-0 disclosure signal (read without noise),
    ``A* = w+ good / (1 - lam+)``, ``B* = w- bad / (1 - lam-)``: the market did not begin
    at tick 0, and the first investors chose knowing what the platforms had published.
    """
    weight = t.disclosure_evidence * market.effective_disclosure() * market.is_open
    read = np.clip(reliability(market, recovery_rate), 0.0, 1.0)
    market.public_good = t.w_plus * weight * read / max(1.0 - t.forgetting_good, 1e-9)
    market.public_bad = t.w_minus * weight * (1.0 - read) / max(1.0 - t.forgetting_bad, 1e-9)


def gather_evidence(
    pop: Population,
    market: Market,
    t: TrustConfig,
    enforced: list[int],
    reached: np.ndarray,
    recovery_rate: float,
    outcomes: Outcomes,
    rng: np.random.Generator,
) -> None:
    """Good and bad evidence from this tick's outcomes and the public record, learned.

    Per-platform parts are assembled here, then one fused pass (``accounts.evidence``)
    spreads them over the accounts with each user's reading noise and news exposure and
    adds them to the accounts' evidence (``a, b``, after forgetting; MODEL.md step 7).
    The public part also extends each platform's public record (``public_good``,
    ``public_bad``), with the forgetting and weights of account evidence. The same pass
    moves satisfaction by ``outcomes``, finds the dissatisfied (``this_tick.unhappy``,
    step 8) and tallies the accounts (``this_tick.accounts``); ``reached`` are the users
    enforcement news reached.
    """
    n_plat = len(market)
    now = market.this_tick
    is_open = market.is_open.astype(np.float64)
    operating = market.is_operating.astype(np.float64)
    levers = market.effective_levers()
    disclosure = levers[:, DISCLOSURE] * is_open
    openness = levers[:, OPENNESS] * is_open
    # Published ratings, read against the market's.
    above = market.rating - market.market_rating()
    rating_good = t.rating_evidence * openness * np.maximum(above, 0.0)
    rating_bad = t.rating_evidence * openness * np.maximum(-above, 0.0)
    # Incidents: outages and breaches are seen; misconduct only as far as disclosed.
    felt = (market.outage | market.breach) + market.misconduct * disclosure
    public_bad = (
        rating_bad
        + t.incident_evidence * felt
        + t.run_evidence * market.run_pressure * is_open
        + t.failure_evidence * now.failure_news * operating
    )
    # Own outcome: what was delivered of the promise (a stay delivers nothing).
    good_base = t.own_outcome_evidence * market.paid_share * operating + rating_good
    bad_base = t.own_outcome_evidence * (1.0 - market.paid_share) * operating + public_bad
    # Disclosure: a reading of reliability; the common noise of a report falls with
    # disclosure, the personal noise with literacy.
    common = rng.standard_normal(n_plat) * t.disclosure_noise * (1.0 - disclosure)
    signal = reliability(market, recovery_rate) + common
    uniforms = rng.random(pop.n, dtype=F32)
    # Enforcement news: bad news about the penalised platform, believed as far as the
    # user trusts the system.
    news_bad = np.zeros(n_plat)
    news_bad[enforced] = t.news_evidence
    weight = t.disclosure_evidence * disclosure
    unhappy, worst, summary = accounts.evidence(
        pop.platform,
        uniforms,
        pop.literacy,
        F32(t.literacy_noise),
        good_base.astype(F32),
        bad_base.astype(F32),
        weight.astype(F32),
        signal.astype(F32),
        news_bad.astype(F32),
        reached,
        pop.institutional_trust,
        now.failed,  # a failed withdrawal: no payout, and strong bad evidence
        F32(t.own_outcome_evidence),
        F32(t.failed_withdrawal_evidence),
        pop.a,
        pop.b,
        F32(t.forgetting_good),
        F32(t.forgetting_bad),
        F32(t.w_plus),
        F32(t.w_minus),
        pop.balance,
        now.user_loss,
        outcomes.value,
        outcomes.smoothing,
        outcomes.threshold,
        pop.satisfaction,
        F32(t.prior_weight),
        QUANTILE_BINS,
        pop.ever_invested,
    )
    now.unhappy = (unhappy, worst)
    now.accounts = AccountSummary.of(summary)
    # The public record: the same public signals, read without a user's own noise.
    read = np.clip(signal, 0.0, 1.0)
    public_good = weight * read + rating_good
    public_bad = public_bad + weight * (1.0 - read) + news_bad
    market.public_good = t.forgetting_good * market.public_good + t.w_plus * public_good
    market.public_bad = t.forgetting_bad * market.public_bad + t.w_minus * public_bad


def word_of_mouth(
    pop: Population,
    network: SocialNetwork,
    t: TrustConfig,
    rng: np.random.Generator,
) -> float:
    """Some users hear one random neighbour on the platform that neighbour uses most.

    A listener holding that platform takes the neighbour's trust as evidence (and more bad
    evidence if the neighbour fled it), learned at once into the account; one who does
    not keeps it as a tip for their next review, and has heard of the market.

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
        pop.opinion_platform,
        pop.opinion_trust,
        pop.fled_platform,
        F32(t.wom_evidence),
        F32(t.panic_evidence),
        F32(t.w_plus),
        F32(t.w_minus),
        pop.a,
        pop.b,
        pop.tip_platform,
        pop.tip_trust,
        pop.aware,
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
    actions_by: list[int] | None = None,
    foreign_weight: float = 0.0,
) -> None:
    """Move system trust, average it with neighbours, anchor it to one's propensity.

    ``g <- g + U (1 - g) - D g``. ``D`` gathers the sector's losses in closures (orderly
    ones count less), data breaches, the alarm of wrongdoing exposed by enforcement news
    and the share of one's own money lost (which also scars the user's propensity to
    trust). ``U`` is the slow rise of a calm tick (no money
    lost anywhere, no breach) and the reassurance of seeing the regulator act. Then one
    DeGroot step with the neighbours and a Friedkin-Johnsen pull ``s (g0 - g)`` toward the
    user's propensity to trust ``g0`` (Friedkin & Johnsen 1990).

    With several jurisdictions (``actions_by``: each regulator's enforcement actions), a
    user hears of their own sector and regulator in full and of the others' with
    ``foreign_weight`` (:func:`_sector_news`).
    """
    g = pop.institutional_trust
    now = market.this_tick
    shock, calm, actions = _sector_news(market, t, enforced, actions_by, foreign_weight)
    # Own losses are an experience effect: losing money lowers one's propensity to trust
    # for good (Malmendier & Nagel 2011), so neighbours and calm times bring it back only
    # so far.
    accounts.move_system_trust(
        g,
        pop.trust_propensity,
        now.user_loss,
        pop.balance,
        reached,
        pop.jurisdiction,
        np.minimum(1.0, shock),
        np.where(calm, t.calm_gain, 0.0),
        t.own_loss_shock,
        1.0 - (1.0 - t.enforcement_reassurance) ** actions,
        1.0 - (1.0 - t.enforcement_alarm) ** actions,
    )
    # DeGroot averaging with neighbours, and a Friedkin-Johnsen pull toward one's own
    # propensity to trust, so neighbours' views do not erase who they are.
    friedkin_johnsen_step(
        network.weights,
        g,
        t.institutional_mixing,
        t.propensity_anchor,
        pop.trust_propensity,
        network.uniform,
    )


def _sector_news(
    market: Market,
    t: TrustConfig,
    enforced: list[int],
    actions_by: list[int] | None,
    foreign_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per jurisdiction: the sector's shock to system trust, a calm tick, enforcement heard.

    One jurisdiction: the closures' shock plus ``breach_shock`` per data breach; calm when
    no money was lost in closures and no breach happened; the number of enforcement
    actions. Several: each jurisdiction's own (closures of its licensees, as a share of its
    licensees' money; breaches at them; its regulator's actions) plus ``foreign_weight``
    times the others' (seed 9.8: news from abroad reaches users, more faintly); calm when
    nothing of either is heard.
    """
    now = market.this_tick
    if actions_by is None:
        breaches = int(market.breach.sum())
        shock = np.array([now.sector_shock + t.breach_shock * breaches])
        calm = np.array([now.sector_shock == 0.0 and breaches == 0])
        return shock, calm, np.array([float(len(enforced))])
    n_j = len(actions_by)
    where = np.array([k for k, _ in now.closure_shocks], dtype=np.int64)
    size = np.array([v for _, v in now.closure_shocks], dtype=np.float64)
    closures = np.bincount(where, size, minlength=n_j)
    breaches = np.bincount(market.jurisdiction, market.breach, minlength=n_j)

    def heard(own: np.ndarray) -> np.ndarray:
        return own + foreign_weight * (own.sum() - own)

    shock = heard(closures + t.breach_shock * breaches)
    calm = (heard(closures) == 0.0) & (heard(breaches) == 0.0)
    return shock, calm, heard(np.asarray(actions_by, dtype=np.float64))
