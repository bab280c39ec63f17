"""User state as arrays, and the vectorised user phase of a tick.

One array per attribute, index = user; accounts are ``(n, max_accounts)`` arrays whose
empty slots hold platform ``-1``. Per-platform arrays passed in here carry one extra
trailing entry (see :func:`pad`) so that ``values[platform]`` reads a neutral value for
empty slots without a mask. Money is float64; trust, literacy and evidence are float32.
"""

from dataclasses import dataclass

import numpy as np

from sim.choice import softmax_choice
from sim.config import PopulationConfig
from sim.trust import beta_trust

F32 = np.float32


def pad(values: np.ndarray, neutral: float = 0.0) -> np.ndarray:
    """Append ``neutral`` so that index ``-1`` (an empty account slot) reads it."""
    return np.append(values, np.asarray(neutral, dtype=values.dtype))


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

    def close_empty(self) -> None:
        """Free slots whose balance is gone; their evidence is forgotten with them."""
        empty = self.held & (self.balance <= 0.0)
        if empty.any():
            self.platform[empty] = -1
            self.a[empty] = 0.0
            self.b[empty] = 0.0

    def educate(self, rate: float) -> None:
        """Education raises literacy a share ``rate`` of the way to 1."""
        self.literacy += F32(rate) * (F32(1.0) - self.literacy)


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
        satisfaction=np.full(n, 0.5, dtype=F32),
        ever_invested=np.zeros(n, dtype=bool),
        platform=np.full((n, k), -1, dtype=np.int32),
        a=np.zeros((n, k), dtype=F32),
        b=np.zeros((n, k), dtype=F32),
        balance=np.zeros((n, k), dtype=np.float64),
        tip_platform=np.full(n, -1, dtype=np.int32),
        tip_trust=np.zeros(n, dtype=F32),
    )


def credit_yield(pop: Population, weekly_yield: np.ndarray, weekly_fee: np.ndarray) -> tuple:
    """Credit promised yield and charge fees on every balance.

    Args:
        pop: The users.
        weekly_yield: Padded per-platform yield per tick (0 for closed platforms).
        weekly_fee: Padded per-platform fee per tick.

    Returns:
        ``(interest_credited, fees)`` market totals.
    """
    interest = pop.balance * weekly_yield[pop.platform]
    fees = pop.balance * weekly_fee[pop.platform]
    pop.balance += interest
    pop.balance -= fees
    return float(interest.sum()), float(fees.sum())


def withdrawal_requests(
    pop: Population,
    trust: np.ndarray,
    routine_rate: float,
    routine_share: float,
    forced: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MODEL.md step 3: who asks for money back, from which slot, and how much.

    A user withdraws the whole balance where trust is below their threshold (or the
    platform is being closed, ``forced``), and a share of it on a routine liquidity need.

    Returns:
        ``(users, slots, amounts)`` of the requests.
    """
    held = pop.held & (pop.balance > 0)
    exit_all = held & ((trust < pop.withdraw_threshold[:, None]) | forced[pop.platform])
    need = rng.random(pop.n, dtype=F32) < routine_rate
    routine = held & need[:, None] & ~exit_all
    users, slots = np.nonzero(exit_all | routine)
    amounts = pop.balance[users, slots]
    amounts = np.where(exit_all[users, slots], amounts, amounts * routine_share)
    return users, slots, amounts


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
    user deposits only if their trust in the chosen platform reaches their threshold,
    and cannot open more than ``max_accounts`` accounts. ``candidates`` (a mask) replaces
    the per-tick ``deposit_rate`` draw, e.g. for the initial investors.

    Returns:
        ``(users, platforms, amounts)`` of the deposits made (balances already updated).
    """
    n_plat = open_platforms.size
    if not open_platforms.any():
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    if candidates is None:
        candidates = rng.random(pop.n, dtype=F32) < cfg.deposit_rate
    invests = candidates & (pop.cash > 0)
    users = np.flatnonzero(invests)
    m = users.size
    g = pop.institutional_trust[users]
    own = np.repeat(g[:, None], n_plat, axis=1)
    tip = pop.tip_platform[users]
    tipped = np.flatnonzero(tip >= 0)
    own[tipped, tip[tipped]] = (1 - tip_weight) * g[tipped] + tip_weight * pop.tip_trust[
        users[tipped]
    ]
    slots_platform = pop.platform[users]
    held = slots_platform >= 0
    rows = np.broadcast_to(np.arange(m)[:, None], held.shape)
    own[rows[held], slots_platform[held]] = trust[users][held]
    utility = (
        cfg.weight_reputation * reputation[None, :]
        + cfg.weight_yield * advertised_yield[None, :]
        + cfg.weight_trust * own
    ).astype(np.float64)
    utility[:, ~open_platforms] = -np.inf
    full = held.all(axis=1)
    if full.any():
        holds = np.zeros((m, n_plat), dtype=bool)
        holds[rows[held], slots_platform[held]] = True
        utility[full[:, None] & ~holds] = -np.inf
    choice = softmax_choice(utility, cfg.choice_temperature, rng)
    chosen = choice >= 0
    chosen_trust = np.where(chosen, own[np.arange(m), np.maximum(choice, 0)], 0.0)
    go = chosen & (chosen_trust >= pop.withdraw_threshold[users])
    users, choice, slots_platform = users[go], choice[go], slots_platform[go]
    # The slot: the account already held at that platform, else the first free one.
    match = slots_platform == choice[:, None]
    slot = np.where(match.any(axis=1), match.argmax(axis=1), (slots_platform < 0).argmax(axis=1))
    amounts = pop.cash[users] * cfg.deposit_share
    pop.cash[users] -= amounts
    pop.balance[users, slot] += amounts
    pop.platform[users, slot] = choice
    pop.ever_invested[users] = True
    pop.tip_platform[users] = -1
    return users, choice, amounts
