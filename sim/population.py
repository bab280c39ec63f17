"""User state as arrays, and the vectorised user phase of a tick.

One array per attribute, index = user; accounts are ``(n, max_accounts)`` arrays whose
empty slots hold platform ``-1``. The passes over accounts are the compiled kernels of
:mod:`sim.accounts`. Money is float64; trust, literacy and evidence are float32.
"""

from dataclasses import dataclass

import numpy as np

from sim import accounts
from sim.config import PopulationConfig
from sim.trust import beta_trust

F32 = np.float32


@dataclass(eq=False)
class Population:
    """The users, as a structure of arrays."""

    literacy: np.ndarray
    wealth: np.ndarray
    cash: np.ndarray
    withdraw_threshold: np.ndarray
    institutional_trust: np.ndarray
    satisfaction: np.ndarray
    ever_invested: np.ndarray
    platform: np.ndarray
    a: np.ndarray
    b: np.ndarray
    balance: np.ndarray
    tip_platform: np.ndarray
    tip_trust: np.ndarray

    @property
    def n(self) -> int:
        """Number of users."""
        return self.literacy.size

    @property
    def held(self) -> np.ndarray:
        """``(n, K)`` mask of open account slots."""
        return self.platform >= 0

    def trust(self, prior_weight: float) -> np.ndarray:
        """``(n, K)`` beta trust of every slot (empty slots read the prior ``g``)."""
        return beta_trust(self.a, self.b, self.institutional_trust[:, None], F32(prior_weight))

    def trust_of(self, i: int, prior_weight: float) -> np.ndarray:
        """Trust of user ``i``'s slots."""
        return beta_trust(self.a[i], self.b[i], self.institutional_trust[i], prior_weight)

    def liabilities(self, n_platforms: int) -> np.ndarray:
        """What each platform owes its users (sum of balances)."""
        held = self.held
        return np.bincount(self.platform[held], self.balance[held], minlength=n_platforms)

    def holders(self, n_platforms: int) -> np.ndarray:
        """How many users hold an account at each platform."""
        return np.bincount(self.platform[self.held], minlength=n_platforms)

    def close_accounts(self, users: np.ndarray, slots: np.ndarray) -> None:
        """Free the given slots where the balance is gone; their evidence goes with them."""
        emptied = self.balance[users, slots] <= 0.0
        users, slots = users[emptied], slots[emptied]
        self.platform[users, slots] = -1
        self.a[users, slots] = 0.0
        self.b[users, slots] = 0.0

    def educate(self, rate: float, reached: np.ndarray | None = None) -> None:
        """Education raises literacy a share ``rate`` of the way to 1 (for ``reached`` users)."""
        gain = F32(rate) * (F32(1.0) - self.literacy)
        if reached is not None:
            gain *= reached
        self.literacy += gain


def init_population(cfg: PopulationConfig, rng: np.random.Generator) -> Population:
    """Draw the users at tick 0 (no accounts yet; see :func:`choose_and_deposit`)."""
    n, k = cfg.n_users, cfg.max_accounts
    wealth = rng.lognormal(cfg.wealth_log_mean, cfg.wealth_log_sd, n)
    g_alpha = cfg.institutional_trust_mean * cfg.institutional_trust_concentration
    g_beta = (1.0 - cfg.institutional_trust_mean) * cfg.institutional_trust_concentration
    g = rng.beta(max(g_alpha, 1e-9), max(g_beta, 1e-9), n)
    return Population(
        literacy=rng.beta(cfg.literacy_alpha, cfg.literacy_beta, n).astype(F32),
        wealth=wealth,
        cash=wealth * cfg.investable_share,
        withdraw_threshold=rng.uniform(cfg.threshold_low, cfg.threshold_high, n).astype(F32),
        institutional_trust=g.astype(F32),
        satisfaction=np.full(n, cfg.initial_satisfaction, dtype=F32),
        ever_invested=np.zeros(n, dtype=bool),
        platform=np.full((n, k), -1, dtype=np.int32),
        a=np.zeros((n, k), dtype=F32),
        b=np.zeros((n, k), dtype=F32),
        balance=np.zeros((n, k), dtype=np.float64),
        tip_platform=np.full(n, -1, dtype=np.int32),
        tip_trust=np.zeros(n, dtype=F32),
    )


def credit_yield(
    pop: Population, weekly_yield: np.ndarray, weekly_fee: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Credit promised yield and charge fees on every balance.

    Args:
        pop: The users.
        weekly_yield: Per-platform yield per tick (0 for closed platforms).
        weekly_fee: Per-platform fee per tick.

    Returns:
        ``(interest_credited, fees, liabilities)``: market totals and the per-platform
        liabilities after crediting.
    """
    net = (weekly_yield - weekly_fee).astype(np.float64)
    before, after = accounts.credit_yield(pop.platform, pop.balance, net, weekly_yield.size)
    return float(weekly_yield @ before), float(weekly_fee @ before), after


def decide_withdrawals(
    pop: Population,
    prior_weight: float,
    routine_rate: float,
    routine_share: float,
    forced: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MODEL.md step 3: every slot's trust, and who asks for money back.

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
    """MODEL.md step 3: users with idle money choose a platform and deposit.

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
