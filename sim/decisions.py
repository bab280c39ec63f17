"""Step 3: users decide: withdrawal requests, then platform choice and deposits.

A user asks for the whole balance where trust is below their threshold (or the platform
is being closed), a share of it on a routine liquidity need; users with idle money choose
a platform by a softmax over public reputation, advertised yield and their own trust
(MODEL.md step 3). The passes over accounts are the kernels of :mod:`sim.accounts`.
"""

import numpy as np

from sim import accounts
from sim.config import Config, PopulationConfig
from sim.market import CODE, Market, Status
from sim.operations import lend_excess
from sim.population import F32, Population

Requests = tuple[np.ndarray, np.ndarray, np.ndarray]  # users, slots, amounts


def decide_withdrawals(
    pop: Population,
    prior_weight: float,
    routine_rate: float,
    routine_share: float,
    forced: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every slot's trust, and who asks for money back.

    A user withdraws the whole balance where trust is below their threshold (or the
    platform is being closed, ``forced``), and a share of it on a routine liquidity need
    (chance ``routine_rate`` per tick).

    Returns:
        ``(trust, users, slots, amounts)``: ``(n, K)`` trust and the requests.
    """
    need = rng.random(pop.n, dtype=F32) < routine_rate
    trust = np.empty(pop.platform.shape, dtype=F32)
    users, slots, amounts = accounts.trust_and_requests(
        pop.platform,
        pop.a,
        pop.b,
        pop.balance,
        pop.institutional_trust,
        pop.withdraw_threshold,
        F32(prior_weight),
        forced,
        need,
        routine_share,
        trust,
    )
    return trust, users, slots, amounts


def choose_and_deposit(
    pop: Population,
    trust: np.ndarray,
    open_platforms: np.ndarray,
    reputation: np.ndarray,
    advertised_yield: np.ndarray,
    cfg: PopulationConfig,
    tip_weight: float,
    rng: np.random.Generator,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Users with idle money choose a platform and deposit.

    Utility of platform ``j`` for user ``i`` is
    ``w_rep reputation_j + w_yield yield_j + w_trust trust_ij``, where ``trust_ij`` is
    the account's trust if ``i`` holds ``j``, a mix of prior and a neighbour's tip if
    ``j`` was recommended, and the prior ``g_i`` otherwise. The choice is a softmax; the
    user deposits ``deposit_share`` of idle money only if their trust in the chosen
    platform reaches their threshold, and holds at most ``max_accounts`` accounts.
    ``candidates`` (a mask) replaces the per-tick ``deposit_rate`` draw, e.g. for the
    initial investors.

    Returns:
        ``(users, platforms, amounts)`` of the deposits made (balances already updated).
    """
    if candidates is None:
        candidates = rng.random(pop.n, dtype=F32) < cfg.deposit_rate
    users = np.flatnonzero(candidates & (pop.cash > 0))
    uniforms = rng.random(users.size)
    if not open_platforms.any() or users.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    base = cfg.weight_reputation * reputation + cfg.weight_yield * advertised_yield
    choice, amounts = accounts.choose_and_deposit(
        users,
        pop.platform,
        trust,
        pop.institutional_trust,
        pop.tip_platform,
        pop.tip_trust,
        base.astype(np.float64),
        open_platforms,
        cfg.weight_trust,
        tip_weight,
        cfg.choice_temperature,
        pop.withdraw_threshold,
        uniforms,
        pop.cash,
        pop.balance,
        pop.ever_invested,
        cfg.deposit_share,
    )
    go = choice >= 0
    return users[go], choice[go], amounts[go]


def _receive(market: Market, platforms: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Deposits reach the platforms' cash; returns the sum per platform."""
    per_platform = np.bincount(platforms, amounts, minlength=len(market))
    market.cash += per_platform
    return per_platform


def decide(
    population: Population, market: Market, cfg: Config, rng: np.random.Generator
) -> Requests:
    """MODEL.md step 3: withdrawal requests (returned for step 4), then deposits.

    Args:
        population: The users (balances and cash change with the deposits).
        market: The platforms (cash and liabilities grow with the deposits).
        cfg: The run's config.
        rng: The users' generator.
    """
    pcfg = cfg.population
    forced = market.status == CODE[Status.SUSPENDED]
    trust, *requests = decide_withdrawals(
        population,
        cfg.trust.prior_weight,
        pcfg.liquidity_need_rate,
        pcfg.liquidity_need_share,
        forced,
        rng,
    )
    _, platforms, amounts = choose_and_deposit(
        population,
        trust,
        market.accepting(),
        market.reputation(),
        market.advertised_yields(),
        pcfg,
        cfg.trust.wom_tip_weight,
        rng,
    )
    per_platform = _receive(market, platforms, amounts)
    market.this_tick.flows.deposits += float(per_platform.sum())
    market.liabilities = market.liabilities + per_platform
    users, slots, amounts = requests
    return users, slots, amounts


def initial_deposits(
    population: Population, market: Market, cfg: Config, rng: np.random.Generator
) -> None:
    """Tick 0: a share of users already hold an account, chosen by the usual rule.

    The deposits are not counted as a flow; platforms then lend out what they do not
    keep in reserve.
    """
    investors = rng.random(population.n) < cfg.population.initial_investor_share
    trust = population.trust(cfg.trust.prior_weight)
    _, platforms, amounts = choose_and_deposit(
        population,
        trust,
        market.is_open,
        market.reputation(),
        market.advertised_yields(),
        cfg.population,
        cfg.trust.wom_tip_weight,
        rng,
        candidates=investors,
    )
    _receive(market, platforms, amounts)
    market.liabilities = population.liabilities(len(market))
    lend_excess(market)
    market.holders = population.holders(len(market))
