"""The seed's indicators (ch. 4.1) as functions of the state, one per column (step 10).

Each metric is registered under the ``timeseries.parquet`` column it fills, so a column
and the code that makes it can be found from each other. A metric reads a
:class:`State`: the users, the market and the regulator at the end of a tick (tick 0 is
the initial state). :class:`Recorder` feeds them to Mesa's DataCollector once a tick and
keeps the per-platform rows of ``platforms.parquet``.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim import accounts
from sim.agents import Regulator
from sim.config import LEVERS, WEEKS_PER_YEAR
from sim.market import OPEN_STATUSES, STATUSES, Market, Status
from sim.population import Population
from sim.rumour import SPREADER
from sim.trust import beta_trust

# Columns every timeseries.parquet has (later work relies on these names).
CORE_COLUMNS = (
    "tick",
    "trust_mean",
    "trust_balance_weighted",
    "institutional_trust_mean",
    "satisfaction_mean",
    "retention_rate",
    "wom_net",
    "aum_total",
    "transaction_volume",
    "default_rate",
    "platforms_active",
    "platforms_collapsed",
    "violation_rate",
    "detection_rate",
    "enforcement_actions",
    "user_losses_cum",
    "complaints",
    "rumour_reach",
    "rumour_spreaders",
)
QUANTILE_BINS = 1000


@dataclass(frozen=True)
class AccountSummary:
    """Trust statistics over open accounts, computed in one pass per recorded tick."""

    count: int
    trust_sum: float
    trust_balance_sum: float
    balance_sum: float
    histogram: np.ndarray
    platform_trust_sum: np.ndarray
    platform_holders: np.ndarray
    invested_users: int
    satisfaction_sum: float
    ever_invested_users: int
    platform_satisfaction_sum: np.ndarray

    @classmethod
    def of(cls, stats: tuple) -> "AccountSummary":
        """From :func:`sim.accounts.account_summary`'s tuple."""
        count, trust_sum, trust_balance, balance_sum, hist, trust, holders, inv, sat, ever, by = (
            stats
        )
        return cls(
            int(count),
            float(trust_sum),
            float(trust_balance),
            float(balance_sum),
            hist,
            trust,
            holders,
            int(inv),
            float(sat),
            int(ever),
            by,
        )

    def quantile(self, q: float) -> float:
        """Quantile of account trust from the histogram (bin midpoint)."""
        if self.count == 0:
            return float("nan")
        k = int(np.searchsorted(np.cumsum(self.histogram), q * self.count))
        return (k + 0.5) / self.histogram.size


@dataclass(eq=False)
class State:
    """What the metrics read at the end of a tick."""

    population: Population
    market: Market
    regulators: list[Regulator]  # one per jurisdiction (one when none is declared)
    prior_weight: float

    @functools.cached_property
    def summary(self) -> AccountSummary:
        """The tick's :class:`AccountSummary`: step 8's tally, else one pass (tick 0)."""
        if self.market.this_tick.accounts is not None:
            return self.market.this_tick.accounts
        return tally_accounts(self.population, len(self.market), self.prior_weight)


def tally_accounts(pop: Population, n_platforms: int, prior_weight: float) -> AccountSummary:
    """One pass over the accounts: the indicators' statistics and the per-platform sums."""
    return AccountSummary.of(
        accounts.account_summary(
            pop.platform,
            pop.a,
            pop.b,
            pop.balance,
            pop.institutional_trust,
            np.float32(prior_weight),
            QUANTILE_BINS,
            n_platforms,
            pop.satisfaction,
            pop.ever_invested,
        )
    )


Metric = Callable[[State], float]
METRICS: dict[str, Metric] = {}


def metric(name: str) -> Callable[[Metric], Metric]:
    """Register a function of the :class:`State` as the ``timeseries.parquet`` column ``name``."""

    def register(fn: Metric) -> Metric:
        METRICS[name] = fn
        return fn

    return register


@metric("tick")
def _tick(s: State) -> float:
    return s.market.tick


@metric("trust_mean")
def trust_mean(s: State) -> float:
    """Mean trust over open accounts (user-platform pairs)."""
    a = s.summary
    return a.trust_sum / a.count if a.count else float("nan")


@metric("trust_balance_weighted")
def trust_balance_weighted(s: State) -> float:
    """Mean trust over open accounts weighted by balance."""
    a = s.summary
    return a.trust_balance_sum / a.balance_sum if a.balance_sum > 0 else float("nan")


for _q in (10, 50, 90):

    def _make(q: int) -> Metric:
        def trust_quantile(s: State) -> float:
            return s.summary.quantile(q / 100)

        return trust_quantile

    metric(f"trust_p{_q}")(_make(_q))


@metric("institutional_trust_mean")
def institutional_trust_mean(s: State) -> float:
    """Mean system trust over all users."""
    return float(s.population.institutional_trust.mean(dtype=np.float64))


@metric("satisfaction_mean")
def satisfaction_mean(s: State) -> float:
    """Mean satisfaction of users who have ever invested."""
    a = s.summary
    return a.satisfaction_sum / a.ever_invested_users if a.ever_invested_users else float("nan")


@metric("invested_share")
def invested_share(s: State) -> float:
    """Share of users holding at least one account."""
    return s.summary.invested_users / s.population.n


@metric("retention_rate")
def retention_rate(s: State) -> float:
    """Share of users who ever invested that are still invested."""
    a = s.summary
    return a.invested_users / a.ever_invested_users if a.ever_invested_users else float("nan")


@metric("wom_net")
def wom_net(s: State) -> float:
    """Word-of-mouth net score: promoters minus detractors among what was said."""
    return s.market.this_tick.wom_net


@metric("literacy_mean")
def literacy_mean(s: State) -> float:
    """Mean financial literacy."""
    return float(s.population.literacy.mean(dtype=np.float64))


@metric("aum_total")
def aum_total(s: State) -> float:
    """Assets under management: the sum of user balances."""
    return s.summary.balance_sum


@metric("transaction_volume")
def transaction_volume(s: State) -> float:
    """Deposits plus withdrawals paid this tick."""
    flows = s.market.this_tick.flows
    return flows.deposits + flows.withdrawals


@metric("deposits")
def deposits(s: State) -> float:
    """Deposits this tick."""
    return s.market.this_tick.flows.deposits


@metric("withdrawals")
def withdrawals(s: State) -> float:
    """Withdrawals paid this tick (including payouts of closed platforms)."""
    return s.market.this_tick.flows.withdrawals


@metric("failed_withdrawals")
def failed_withdrawals(s: State) -> float:
    """Number of withdrawal requests that failed this tick."""
    return s.market.this_tick.failed_count


@metric("default_rate")
def default_rate(s: State) -> float:
    """Annualised loan losses this tick over the loan book."""
    loans = sum(s.market.loans.tolist())
    lost = s.market.this_tick.flows.default_losses
    return WEEKS_PER_YEAR * lost / (loans + lost) if loans + lost > 0 else 0.0


def _count_status(*statuses: Status) -> Metric:
    return lambda s: s.market.count(*statuses)


metric("platforms_active")(_count_status(*OPEN_STATUSES))
metric("platforms_suspended")(_count_status(Status.SUSPENDED))
metric("platforms_collapsed")(_count_status(Status.COLLAPSED))
metric("platforms_wound_down")(_count_status(Status.WOUND_DOWN))
metric("platforms_exited")(_count_status(Status.EXITED))


@metric("platforms_entered")
def platforms_entered(s: State) -> float:
    """Platforms that have entered after tick 0 so far (scheduled and endogenous)."""
    return int((s.market.entered > 0).sum())


@metric("entrant_fraud_share")
def entrant_fraud_share(s: State) -> float:
    """Share of frauds among the platforms that entered after tick 0 (NaN before any)."""
    entrants = s.market.entered > 0
    n = int(entrants.sum())
    return float(s.market.fraudulent[entrants].sum()) / n if n else float("nan")


@metric("violation_rate")
def violation_rate(s: State) -> float:
    """Share of the platforms that operated this tick that violated the rules."""
    return s.market.violation_rate()


@metric("detection_rate")
def detection_rate(s: State) -> float:
    """Violations detected so far over violations committed so far."""
    total = s.market.violations_total
    return sum(r.detected_total for r in s.regulators) / total if total else 0.0


@metric("enforcement_actions")
def enforcement_actions(s: State) -> float:
    """Penalties and fraud shutdowns this tick."""
    return sum(len(r.enforced) for r in s.regulators)


@metric("inspections")
def inspections(s: State) -> float:
    """Inspections this tick."""
    return sum(r.inspections for r in s.regulators)


@metric("supervision_cost")
def supervision_cost(s: State) -> float:
    """What supervision has cost so far, in inspections (every regulator's)."""
    return sum(r.supervision_cost for r in s.regulators)


@metric("user_losses_cum")
def user_losses_cum(s: State) -> float:
    """Money users have lost in collapses and wind-downs so far."""
    return s.market.user_losses_cum


@metric("complaints")
def complaints(s: State) -> float:
    """Complaints filed this tick."""
    return float(s.market.complaints.sum())


@metric("rumour_reach")
def rumour_reach(s: State) -> float:
    """Share of users who have heard a rumour that has started (union over rumours)."""
    if not s.market.rumours:
        return 0.0
    heard = np.zeros(s.population.n, dtype=bool)
    for rumour in s.market.rumours:
        heard |= rumour.heard()
    return float(heard.mean())


@metric("rumour_spreaders")
def rumour_spreaders(s: State) -> float:
    """Share of users spreading a rumour now."""
    if not s.market.rumours:
        return 0.0
    spreading = np.zeros(s.population.n, dtype=bool)
    for rumour in s.market.rumours:
        spreading |= rumour.status == SPREADER
    return float(spreading.mean())


@metric("rumour_withdrawals")
def rumour_withdrawals(s: State) -> float:
    """Money believers of a live rumour asked back from its target this tick."""
    return s.market.this_tick.rumour_withdrawals


@metric("panic_withdrawals")
def panic_withdrawals(s: State) -> float:
    """Requests for a whole balance this tick (distrust, or a switch to another platform)."""
    return s.market.this_tick.panic_withdrawals


@metric("switches")
def switches(s: State) -> float:
    """Accounts users asked to move to a platform they prefer this tick."""
    return s.market.this_tick.switches


@metric("runs_cum")
def runs_cum(s: State) -> float:
    """Platforms closed by a run so far."""
    return s.market.run_closures


@metric("aware_share")
def aware_share(s: State) -> float:
    """Share of users who know of the market (its potential investors)."""
    return np.count_nonzero(s.population.aware) / s.population.n


@metric("sandbox_admissions")
def sandbox_admissions(s: State) -> float:
    """Platforms admitted to a sandbox so far."""
    return s.market.sandbox_admissions


@metric("sandbox_graduations")
def sandbox_graduations(s: State) -> float:
    """Sandbox platforms that passed their review so far."""
    return s.market.sandbox_graduations


@metric("regulator_tightening")
def regulator_tightening(s: State) -> float:
    """The adaptive regulator's multiplier on inspections and penalties (1 = none).

    With several jurisdictions, the largest.
    """
    return max(r.tightening for r in s.regulators)


def platform_columns(s: State) -> dict[str, np.ndarray]:
    """This tick's ``platforms.parquet`` rows, one per platform, as columns."""
    market = s.market
    a = s.summary
    n = len(market)
    holders, trust_sum = a.platform_holders, a.platform_trust_sum
    trust = np.divide(trust_sum, holders, out=np.full(n, np.nan), where=holders > 0)
    columns = {
        "tick": np.full(n, market.tick, dtype=np.int64),
        "platform": np.arange(n, dtype=np.int64),
        "strategy": np.array(market.strategy, dtype=object),
        "status": np.array([str(STATUSES[code]) for code in market.status], dtype=object),
        "fraudulent": market.fraudulent.copy(),
        "assets": market.assets,
        "liabilities": market.liabilities.astype(np.float64),
        "cash": market.cash.copy(),
        "custody_share": np.broadcast_to(market.custody_share, n).astype(np.float64),
        "loans": market.loans.copy(),
        "users": holders.astype(np.int64),
        "trust_mean": trust,
        "rating": market.rating.astype(np.float64),
        "complaints": market.complaints.astype(np.int64),
        "advertised_yield": market.advertised_yields(),
        "violations_detected": market.violations_detected.copy(),
        "flagged": market.flagged.copy(),
        "blacklisted": market.blacklisted.copy(),
        "in_sandbox": market.in_sandbox,
        "unregulated_product": market.unregulated(),
    }
    levers = market.effective_levers()
    columns.update({name: levers[:, i].copy() for i, name in enumerate(LEVERS)})
    if len(market.policies) > 1:  # several jurisdictions: where each is licensed now
        columns["jurisdiction"] = market.jurisdiction.copy()
    return columns


# Indicators that are undefined (NaN) when there is nothing to average: no account left,
# nobody ever invested, no entrant yet. Any other non-finite value is a failure.
UNDEFINED_WHEN_EMPTY = frozenset(
    {
        "trust_mean",
        "trust_balance_weighted",
        "trust_p10",
        "trust_p50",
        "trust_p90",
        "satisfaction_mean",
        "retention_rate",
        "entrant_fraud_share",
    }
)


class NonFiniteError(ArithmeticError):
    """An indicator came out infinite or NaN where it must be a number."""

    def __init__(self, indicator: str, tick: int, value: float):
        self.indicator, self.tick, self.value = indicator, tick, value
        super().__init__(
            f"indicator {indicator} is {value} at tick {tick}: the run stopped there (some "
            "parameter is far outside the range the model is written for)"
        )


class Recorder:
    """Step 10: the tick's ``timeseries.parquet`` row (Mesa's DataCollector) and platform rows.

    A tick whose row holds a non-finite value (other than an undefined average,
    :data:`UNDEFINED_WHEN_EMPTY`) raises :class:`NonFiniteError` naming the indicator.

    Args:
        population: The users.
        market: The platforms.
        regulators: The regulators, one per jurisdiction.
        prior_weight: ``trust.prior_weight``, for account trust.
        jurisdictions: The jurisdictions' names; with more than one, each tick also gets
            a row per jurisdiction (:func:`jurisdiction_columns`).
    """

    def __init__(
        self,
        population: Population,
        market: Market,
        regulators: list[Regulator],
        prior_weight: float,
        jurisdictions: list[str] | None = None,
    ):
        self._args = (population, market, regulators, prior_weight)
        self.state = State(*self._args)
        # Mesa calls each reporter with the model; ours read the tick's state instead.
        reporters = {name: (lambda _model, fn=fn: fn(self.state)) for name, fn in METRICS.items()}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self._platform_columns: list[dict[str, np.ndarray]] = []
        self.jurisdictions = list(jurisdictions or ["home"])
        self._jurisdiction_columns: list[dict[str, np.ndarray]] = []
        self._losses = np.zeros(len(self.jurisdictions))

    def record(self, model: mesa.Model) -> None:
        """Record the state at the end of this tick."""
        self.state = State(*self._args)
        self.datacollector.collect(model)
        for name, values in self.datacollector.model_vars.items():
            value = values[-1]
            if not math.isfinite(value) and not (
                name in UNDEFINED_WHEN_EMPTY and math.isnan(value)
            ):
                raise NonFiniteError(name, self.state.market.tick, value)
        self._platform_columns.append(platform_columns(self.state))
        if len(self.jurisdictions) > 1:
            self._losses += np.bincount(
                self.state.population.jurisdiction,
                self.state.market.this_tick.user_loss,
                minlength=len(self.jurisdictions),
            )
            self._jurisdiction_columns.append(
                jurisdiction_columns(self.state, self.jurisdictions, self._losses)
            )

    def jurisdiction_table(self) -> pd.DataFrame:
        """One row per tick and jurisdiction (empty with one jurisdiction)."""
        return _stack(list(self._jurisdiction_columns))  # a snapshot: the page reads mid-step

    def timeseries(self) -> pd.DataFrame:
        """One row per tick (tick 0 is the initial state), columns as in :data:`METRICS`."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def platform_table(self) -> pd.DataFrame:
        """One row per tick and platform."""
        return _stack(self._platform_columns)


def _stack(columns: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Per-tick column blocks, one under the other."""
    if not columns:
        return pd.DataFrame()
    names = list(columns[0])
    return pd.DataFrame({name: np.concatenate([c[name] for c in columns]) for name in names})


def jurisdiction_columns(
    s: State, names: list[str], losses_cum: np.ndarray
) -> dict[str, np.ndarray]:
    """This tick's ``jurisdictions.parquet`` rows: the indicators of each jurisdiction.

    Users' indicators are over its residents (their accounts, wherever the platform is
    licensed); platforms' over the platforms licensed there; the regulator's are its own.
    """
    pop, market = s.population, s.market
    n_j = len(names)
    home = pop.jurisdiction.astype(np.int64)
    held = pop.platform >= 0
    trust = beta_trust(pop.a, pop.b, pop.institutional_trust[:, None], np.float32(s.prior_weight))
    accounts = np.bincount(home, held.sum(axis=1), minlength=n_j)
    trust_sum = np.bincount(home, np.where(held, trust, 0.0).sum(axis=1), minlength=n_j)
    users = np.bincount(home, minlength=n_j)
    licence = market.jurisdiction
    operated = np.bincount(licence, market.operated, minlength=n_j)
    violated = np.bincount(licence, market.violated & market.operated, minlength=n_j)
    return {
        "tick": np.full(n_j, market.tick, dtype=np.int64),
        "jurisdiction": np.array(names, dtype=object),
        "users": users,
        "trust_mean": np.divide(trust_sum, accounts, out=np.full(n_j, np.nan), where=accounts > 0),
        "institutional_trust_mean": np.bincount(
            home, pop.institutional_trust.astype(np.float64), minlength=n_j
        )
        / np.maximum(users, 1),
        "invested_share": np.bincount(home, held.any(axis=1), minlength=n_j) / np.maximum(users, 1),
        "aum": np.bincount(home, pop.balance.sum(axis=1), minlength=n_j),
        "user_losses_cum": losses_cum.copy(),
        "platforms_active": np.bincount(licence, market.is_open, minlength=n_j).astype(np.int64),
        "violation_rate": np.divide(violated, operated, out=np.zeros(n_j), where=operated > 0),
        "enforcement_actions": np.array([len(r.enforced) for r in s.regulators], np.int64),
        "inspections": np.array([r.inspections for r in s.regulators], np.int64),
    }
