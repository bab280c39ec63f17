"""Step 3: users decide: withdrawal requests, then platform choice, deposits and switches.

A user asks for the whole balance where trust is below their threshold, a share of it on
a routine liquidity need; withdrawals from a suspended platform are stayed. Users who
know of the market review where their money is now and then: they weigh the platforms
they hold, a neighbour's tip and a few they notice (market presence and advertising),
choose by a softmax over public reputation, yield, ease of use and trust, deposit up to
the share of their money they are prepared to put on platforms, and move an account they
like much less than their choice (MODEL.md step 3). The passes over accounts are the
kernels of :mod:`sim.accounts`.
"""

import numpy as np

from sim import accounts
from sim.config import LEVER_INDEX, Config
from sim.jurisdictions import serves
from sim.market import Market
from sim.operations import book_credit, lend_excess
from sim.population import F32, Population
from sim.rng import bernoulli_indices

Requests = tuple[np.ndarray, np.ndarray, np.ndarray]  # users, slots, amounts
UX = LEVER_INDEX["user_experience"]


def decide_withdrawals(
    pop: Population,
    prior_weight: float,
    routine_rate: float,
    routine_share: float,
    frozen: np.ndarray,
    rng: np.random.Generator,
    exit_share: np.ndarray | None = None,
    run_sensitivity: float = 0.0,
    market: Market | None = None,
) -> Requests:
    """Who asks for money back, and what each user would say.

    A user withdraws the whole balance where trust is below their threshold (raised by
    ``run_sensitivity`` x the share of a platform's holders who left it last tick,
    ``exit_share``: others running is a reason to run), and a share of it on a routine
    liquidity need (chance ``routine_rate`` per tick); nothing is asked of a platform
    whose withdrawals are ``frozen``. Writes ``pop.opinion_*`` and ``pop.fled_platform``
    for word of mouth. The same pass credits the yield step 2 left in ``market``'s
    ``this_tick.crediting`` and books it (:func:`sim.operations.book_credit`).

    Returns:
        ``(users, slots, amounts)``: the requests.
    """
    need = np.zeros(pop.n, dtype=bool)
    need[bernoulli_indices(rng, pop.n, routine_rate)] = True
    if exit_share is None:
        exit_share = np.zeros(frozen.size)
    crediting = market.this_tick.crediting if market is not None else None
    net_rate = np.zeros(frozen.size) if crediting is None else crediting.net_rate
    users, slots, amounts, before, after = accounts.trust_and_requests(
        pop.platform,
        pop.a,
        pop.b,
        pop.balance,
        pop.institutional_trust,
        pop.withdraw_threshold,
        F32(prior_weight),
        frozen,
        exit_share.astype(F32),
        F32(run_sensitivity),
        need,
        routine_share,
        pop.opinion_platform,
        pop.opinion_trust,
        pop.fled_platform,
        net_rate.astype(np.float64),
    )
    if crediting is not None:
        book_credit(market, before, after)
    return users, slots, amounts


def presence(market: Market, accepting: np.ndarray, size_visibility: float) -> np.ndarray:
    """Chance of noticing each platform: part market share, part advertising."""
    n_open = int(accepting.sum())
    if n_open == 0:
        return np.zeros(len(market))
    liabilities = np.where(accepting, market.liabilities, 0.0)
    total = float(liabilities.sum())
    share = liabilities / total if total > 0 else accepting / n_open
    return size_visibility * share + (1.0 - size_visibility) * accepting / n_open


def choose_and_deposit(
    pop: Population,
    market: Market,
    cfg: Config,
    rng: np.random.Generator,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Reviewing users choose among the platforms they know of and deposit; some switch.

    Candidates are users who know of the market, review this tick (chance
    ``deposit_rate``) and have idle money, or the ``candidates`` mask (the initial
    investors). See :func:`sim.accounts.choose_and_deposit` for the rule.

    Returns:
        ``(users, platforms, amounts, (switch_users, switch_slots))`` of the deposits
        made (balances already updated) and of the switches asked for.
    """
    pcfg = cfg.population
    if candidates is None:
        candidates = pop.aware & (rng.random(pop.n, dtype=F32) < pcfg.deposit_rate)
    users = np.flatnonzero(candidates & (pop.cash > 0))
    uniforms = rng.random((users.size, pcfg.considered + 1))
    accepting = market.accepting()
    n_jurisdictions = len(cfg.scenario.jurisdictions)
    if n_jurisdictions <= 1:
        return _choose(pop, market, cfg, users, uniforms, accepting)
    # Each jurisdiction's users choose among the platforms that serve it
    # (sim.jurisdictions.serves), and see its blacklist.
    border = cfg.scenario.cross_border
    served = serves(
        market.jurisdiction,
        n_jurisdictions,
        border.service,
        market.in_sandbox,
        border.sandbox_recognition,
    )
    home = pop.jurisdiction[users]
    parts = [
        _choose(pop, market, cfg, users[home == j], uniforms[home == j], accepting & served[j], j)
        for j in range(n_jurisdictions)
    ]
    chosen_users, platforms, amounts, switch_users, switch_slots = (
        np.concatenate(column)
        for column in zip(*((u, p, a, su, ss) for u, p, a, (su, ss) in parts), strict=True)
    )
    return chosen_users, platforms, amounts, (switch_users, switch_slots)


def _choose(
    pop: Population,
    market: Market,
    cfg: Config,
    users: np.ndarray,
    uniforms: np.ndarray,
    accepting: np.ndarray,
    register: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:func:`choose_and_deposit` for ``users`` among the ``accepting`` platforms.

    ``register``: the jurisdiction whose blacklist they see (several jurisdictions).
    """
    pcfg, tcfg = cfg.population, cfg.trust
    empty = np.empty(0, np.int64)
    if not accepting.any() or users.size == 0:
        return empty, empty, np.empty(0), (empty, empty)
    base = (
        pcfg.weight_reputation * market.reputation(register)
        + pcfg.weight_yield * market.advertised_yields()
        + pcfg.weight_user_experience * market.levers[:, UX]
    )
    phi = tcfg.public_weight
    chosen, amounts, switch_users, switch_slots = accounts.choose_and_deposit(
        users,
        pop.platform,
        pop.a,
        pop.b,
        pop.institutional_trust,
        pop.tip_platform,
        pop.tip_trust,
        base.astype(np.float64),
        accepting,
        (phi * market.public_good).astype(F32),
        (phi * market.public_bad).astype(F32),
        *accounts.alias_table(presence(market, accepting, pcfg.size_visibility)),
        pcfg.considered,
        F32(tcfg.prior_weight),
        pcfg.weight_trust,
        tcfg.wom_tip_weight,
        pcfg.choice_temperature,
        pop.withdraw_threshold,
        pop.exposure,
        uniforms,
        pop.cash,
        pop.balance,
        pop.ever_invested,
        pcfg.deposit_share,
        pcfg.switch_threshold,
        market.exit_share.astype(F32),
        F32(pcfg.run_sensitivity),
    )
    go = chosen >= 0
    return users[go], chosen[go], amounts[go], (switch_users, switch_slots)


def _receive(market: Market, platforms: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Deposits reach the platforms' cash; returns the sum per platform."""
    per_platform = np.bincount(platforms, amounts, minlength=len(market))
    market.cash += per_platform
    return per_platform


def decide(
    population: Population, market: Market, cfg: Config, rng: np.random.Generator
) -> Requests:
    """MODEL.md step 3: withdrawal requests and switches (returned for step 4), deposits.

    Args:
        population: The users (balances and cash change with the deposits).
        market: The platforms (cash and liabilities grow with the deposits).
        cfg: The run's config.
        rng: The users' generator.
    """
    pcfg = cfg.population
    users, slots, amounts = decide_withdrawals(
        population,
        cfg.trust.prior_weight,
        pcfg.liquidity_need_rate,
        pcfg.liquidity_need_share,
        market.is_frozen,
        rng,
        market.exit_share,
        pcfg.run_sensitivity,
        market,
    )
    unaware = np.flatnonzero(~population.aware)
    population.aware[unaware[bernoulli_indices(rng, unaware.size, pcfg.awareness_rate)]] = True
    _, platforms, deposits, (switch_users, switch_slots) = choose_and_deposit(
        population, market, cfg, rng
    )
    per_platform = _receive(market, platforms, deposits)
    market.this_tick.flows.deposits += float(per_platform.sum())
    market.liabilities = market.liabilities + per_platform
    # A switch asks for the whole balance, unless the account has a request already.
    asked = np.zeros(population.platform.shape, dtype=bool)
    asked[users, slots] = True
    new = ~asked[switch_users, switch_slots]
    switch_users, switch_slots = switch_users[new], switch_slots[new]
    market.this_tick.switches = int(switch_users.size)
    return (
        np.concatenate([users, switch_users]),
        np.concatenate([slots, switch_slots]),
        np.concatenate([amounts, population.balance[switch_users, switch_slots]]),
    )


def initial_deposits(
    population: Population, market: Market, cfg: Config, rng: np.random.Generator
) -> None:
    """Tick 0: a share of users already hold an account, chosen by the usual rule.

    They, and only they, know of the market. The deposits are not counted as a flow;
    platforms then lend out what they do not keep in reserve.
    """
    investors = rng.random(population.n) < cfg.population.initial_investor_share
    population.aware |= investors
    _, platforms, amounts, _ = choose_and_deposit(
        population, market, cfg, rng, candidates=investors
    )
    _receive(market, platforms, amounts)
    market.liabilities = population.liabilities(len(market))
    lend_excess(market)
    market.holders = population.holders(len(market))
