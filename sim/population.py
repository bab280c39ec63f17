"""User state as arrays: one array per attribute, index = user.

Accounts are ``(n, max_accounts)`` arrays whose empty slots hold platform ``-1``. The
phases that change users (:mod:`sim.decisions`, :mod:`sim.information`, ...) run the
compiled passes of :mod:`sim.accounts` over these arrays. Money is float64; trust,
literacy and evidence are float32.
"""

from dataclasses import dataclass

import numpy as np

from sim.config import PopulationConfig
from sim.trust import beta_trust

F32 = np.float32


@dataclass(eq=False)
class Population:
    """The users, as a structure of arrays.

    Attributes:
        exposure: Most of their money (cash plus balances) each user puts on platforms.
        trust_propensity: A user's disposition to trust institutions (a stable trait), the
            initial institutional trust that experience moves it from.
        aware: Knows of the market (an initial investor, told by a neighbour, or reached
            by its advertising); only aware users review where their money is.
        opinion_platform, opinion_trust, fled_platform: What each user would tell a
            neighbour this tick: the platform holding most of their money and their trust
            in it, and a platform they asked all their money back from (``-1``: none).
            Rewritten at step 3 of every tick, read by word of mouth at step 6.
        jurisdiction: Where each user lives (:mod:`sim.jurisdictions`; all 0 with one).
    """

    literacy: np.ndarray
    wealth: np.ndarray
    income: np.ndarray
    cash: np.ndarray
    exposure: np.ndarray
    withdraw_threshold: np.ndarray
    trust_propensity: np.ndarray
    institutional_trust: np.ndarray
    satisfaction: np.ndarray
    ever_invested: np.ndarray
    aware: np.ndarray
    platform: np.ndarray
    a: np.ndarray
    b: np.ndarray
    balance: np.ndarray
    tip_platform: np.ndarray
    tip_trust: np.ndarray
    opinion_platform: np.ndarray
    opinion_trust: np.ndarray
    fled_platform: np.ndarray
    jurisdiction: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.income_total = float(self.income.sum())  # income is fixed per user
        if self.jurisdiction is None:
            self.jurisdiction = np.zeros(self.literacy.size, dtype=np.int16)

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
        if reached is None:  # everyone: lit (1 - rate) + rate, in place (no temporaries)
            self.literacy *= F32(1.0 - rate)
            self.literacy += F32(rate)
            return
        gain = F32(rate) * (F32(1.0) - self.literacy)
        gain *= reached
        self.literacy += gain


def init_population(cfg: PopulationConfig, rng: np.random.Generator) -> Population:
    """Draw the users at tick 0 (no accounts yet; see :func:`sim.decisions.initial_deposits`)."""
    n, k = cfg.n_users, cfg.max_accounts
    wealth = rng.lognormal(cfg.wealth_log_mean, cfg.wealth_log_sd, n)
    g_alpha = cfg.institutional_trust_mean * cfg.institutional_trust_concentration
    g_beta = (1.0 - cfg.institutional_trust_mean) * cfg.institutional_trust_concentration
    g = rng.beta(max(g_alpha, 1e-9), max(g_beta, 1e-9), n)
    return Population(
        literacy=rng.beta(cfg.literacy_alpha, cfg.literacy_beta, n).astype(F32),
        wealth=wealth,
        income=wealth * cfg.income_share,
        cash=wealth * cfg.investable_share,
        exposure=rng.uniform(cfg.exposure_low, cfg.exposure_high, n).astype(F32),
        withdraw_threshold=rng.uniform(cfg.threshold_low, cfg.threshold_high, n).astype(F32),
        trust_propensity=g.astype(F32),
        institutional_trust=g.astype(F32),
        satisfaction=np.full(n, cfg.initial_satisfaction, dtype=F32),
        ever_invested=np.zeros(n, dtype=bool),
        aware=np.zeros(n, dtype=bool),
        platform=np.full((n, k), -1, dtype=np.int32),
        a=np.zeros((n, k), dtype=F32),
        b=np.zeros((n, k), dtype=F32),
        balance=np.zeros((n, k), dtype=np.float64),
        tip_platform=np.full(n, -1, dtype=np.int32),
        tip_trust=np.zeros(n, dtype=F32),
        opinion_platform=np.full(n, -1, dtype=np.int32),
        opinion_trust=np.zeros(n, dtype=F32),
        fled_platform=np.full(n, -1, dtype=np.int32),
    )
