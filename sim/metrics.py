"""The seed's indicators (ch. 4.1) as functions of model state, one per column.

Each metric is registered under the ``timeseries.parquet`` column it fills, so a column
and the code that makes it can be found from each other. Metrics read the state at the
end of a tick (step 10); tick 0 is the initial state.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import accounts
from sim.agents import OPEN_STATUSES, Status
from sim.config import LEVERS

if TYPE_CHECKING:
    from sim.model import TrustModel

Metric = Callable[["TrustModel"], float]

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
METRICS: dict[str, Metric] = {}


def metric(name: str) -> Callable[[Metric], Metric]:
    """Register a function of the model as the ``timeseries.parquet`` column ``name``."""

    def register(fn: Metric) -> Metric:
        METRICS[name] = fn
        return fn

    return register


def reporters() -> dict[str, Metric]:
    """Model reporters for Mesa's DataCollector, in column order."""
    return dict(METRICS)


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

    def quantile(self, q: float) -> float:
        """Quantile of account trust from the histogram (bin midpoint)."""
        if self.count == 0:
            return float("nan")
        k = int(np.searchsorted(np.cumsum(self.histogram), q * self.count))
        return (k + 0.5) / self.histogram.size


def summary(model: "TrustModel") -> AccountSummary:
    """The tick's :class:`AccountSummary`, cached until the next tick."""
    cache = getattr(model, "_metric_cache", None)
    if cache is not None and cache[0] is model.flows:
        return cache[1]
    pop = model.population
    result = AccountSummary(
        *accounts.account_summary(
            pop.platform,
            pop.a,
            pop.b,
            pop.balance,
            pop.institutional_trust,
            np.float32(model.cfg.trust.prior_weight),
            QUANTILE_BINS,
            len(model.platforms),
            pop.satisfaction,
            pop.ever_invested,
        )
    )
    model._metric_cache = (model.flows, result)
    return result


@metric("tick")
def _tick(model: "TrustModel") -> float:
    return model.tick


@metric("trust_mean")
def trust_mean(model: "TrustModel") -> float:
    """Mean trust over open accounts (user-platform pairs)."""
    s = summary(model)
    return s.trust_sum / s.count if s.count else float("nan")


@metric("trust_balance_weighted")
def trust_balance_weighted(model: "TrustModel") -> float:
    """Mean trust over open accounts weighted by balance."""
    s = summary(model)
    return s.trust_balance_sum / s.balance_sum if s.balance_sum > 0 else float("nan")


for _q in (10, 50, 90):

    def _make(q: int) -> Metric:
        def trust_quantile(model: "TrustModel") -> float:
            return summary(model).quantile(q / 100)

        return trust_quantile

    metric(f"trust_p{_q}")(_make(_q))


@metric("institutional_trust_mean")
def institutional_trust_mean(model: "TrustModel") -> float:
    """Mean system trust over all users."""
    return float(model.population.institutional_trust.mean(dtype=np.float64))


@metric("satisfaction_mean")
def satisfaction_mean(model: "TrustModel") -> float:
    """Mean satisfaction of users who have ever invested."""
    s = summary(model)
    return s.satisfaction_sum / s.ever_invested_users if s.ever_invested_users else float("nan")


@metric("invested_share")
def invested_share(model: "TrustModel") -> float:
    """Share of users holding at least one account."""
    return summary(model).invested_users / model.population.n


@metric("retention_rate")
def retention_rate(model: "TrustModel") -> float:
    """Share of users who ever invested that are still invested."""
    s = summary(model)
    return s.invested_users / s.ever_invested_users if s.ever_invested_users else float("nan")


@metric("wom_net")
def wom_net(model: "TrustModel") -> float:
    """Word-of-mouth net score: promoters minus detractors among what was said."""
    return model.wom_net


@metric("literacy_mean")
def literacy_mean(model: "TrustModel") -> float:
    """Mean financial literacy."""
    return float(model.population.literacy.mean(dtype=np.float64))


@metric("aum_total")
def aum_total(model: "TrustModel") -> float:
    """Assets under management: the sum of user balances."""
    return summary(model).balance_sum


@metric("transaction_volume")
def transaction_volume(model: "TrustModel") -> float:
    """Deposits plus withdrawals paid this tick."""
    return model.flows.deposits + model.flows.withdrawals


@metric("deposits")
def deposits(model: "TrustModel") -> float:
    """Deposits this tick."""
    return model.flows.deposits


@metric("withdrawals")
def withdrawals(model: "TrustModel") -> float:
    """Withdrawals paid this tick (including payouts of closed platforms)."""
    return model.flows.withdrawals


@metric("failed_withdrawals")
def failed_withdrawals(model: "TrustModel") -> float:
    """Number of withdrawal requests that failed this tick."""
    return model.failed_count


@metric("default_rate")
def default_rate(model: "TrustModel") -> float:
    """Annualised loan losses this tick over the loan book."""
    loans = sum(p.loans for p in model.platforms)
    lost = model.flows.default_losses
    return 52.0 * lost / (loans + lost) if loans + lost > 0 else 0.0


def _count_status(*statuses: Status) -> Metric:
    return lambda model: sum(p.status in statuses for p in model.platforms)


metric("platforms_active")(_count_status(*OPEN_STATUSES))
metric("platforms_suspended")(_count_status(Status.SUSPENDED))
metric("platforms_collapsed")(_count_status(Status.COLLAPSED))
metric("platforms_wound_down")(_count_status(Status.WOUND_DOWN))
metric("platforms_exited")(_count_status(Status.EXITED))


@metric("violation_rate")
def violation_rate(model: "TrustModel") -> float:
    """Share of the platforms that operated this tick that violated the rules."""
    return model.violation_rate()


@metric("detection_rate")
def detection_rate(model: "TrustModel") -> float:
    """Violations detected so far over violations committed so far."""
    total = model.violations_total
    return model.regulator.detected_total / total if total else 0.0


@metric("enforcement_actions")
def enforcement_actions(model: "TrustModel") -> float:
    """Penalties and fraud shutdowns this tick."""
    return len(model.regulator.enforced)


@metric("inspections")
def inspections(model: "TrustModel") -> float:
    """Inspections this tick."""
    return model.regulator.inspections


@metric("user_losses_cum")
def user_losses_cum(model: "TrustModel") -> float:
    """Money users have lost in collapses and wind-downs so far."""
    return model.user_losses_cum


@metric("complaints")
def complaints(model: "TrustModel") -> float:
    """Complaints filed this tick."""
    return float(model.complaints.sum())


@metric("rumour_reach")
def rumour_reach(model: "TrustModel") -> float:
    """Share of users who have heard a rumour that has started (union over rumours)."""
    if not model.rumours:
        return 0.0
    heard = np.zeros(model.population.n, dtype=bool)
    for rumour in model.rumours:
        heard |= rumour.heard()
    return float(heard.mean())


@metric("rumour_spreaders")
def rumour_spreaders(model: "TrustModel") -> float:
    """Share of users spreading a rumour now."""
    from sim.rumour import SPREADER

    if not model.rumours:
        return 0.0
    spreading = np.zeros(model.population.n, dtype=bool)
    for rumour in model.rumours:
        spreading |= rumour.status == SPREADER
    return float(spreading.mean())


@metric("rumour_withdrawals")
def rumour_withdrawals(model: "TrustModel") -> float:
    """Money believers of a live rumour asked back from its target this tick."""
    return model.rumour_withdrawals


@metric("sandbox_admissions")
def sandbox_admissions(model: "TrustModel") -> float:
    """Platforms admitted to a sandbox so far."""
    return model.sandbox_admissions


@metric("sandbox_graduations")
def sandbox_graduations(model: "TrustModel") -> float:
    """Sandbox platforms that passed their review so far."""
    return model.sandbox_graduations


@metric("regulator_tightening")
def regulator_tightening(model: "TrustModel") -> float:
    """The adaptive regulator's multiplier on inspections and penalties (1 = none)."""
    return model.regulator.tightening


def platform_rows(model: "TrustModel") -> list[dict[str, Any]]:
    """One ``platforms.parquet`` row per platform for this tick."""
    s = summary(model)
    holders, trust_sum = s.platform_holders, s.platform_trust_sum
    rows = []
    for p in model.platforms:
        j = p.index
        levers = p.effective_levers()
        row = {
            "tick": model.tick,
            "platform": j,
            "strategy": p.strategy,
            "status": str(p.status),
            "fraudulent": p.fraudulent,
            "assets": p.assets,
            "liabilities": float(model.liabilities[j]),
            "cash": p.cash,
            "custody_share": p.custody_share,
            "loans": p.loans,
            "users": int(holders[j]),
            "trust_mean": float(trust_sum[j] / holders[j]) if holders[j] else float("nan"),
            "rating": float(model.rating[j]),
            "complaints": int(model.complaints[j]),
            "advertised_yield": p.advertised_yield,
            "violations_detected": p.violations_detected,
            "flagged": p.flagged,
            "blacklisted": p.blacklisted,
            "in_sandbox": p.sandbox is not None,
            "unregulated_product": p.unregulated(model.tick),
        }
        row.update(zip(LEVERS, map(float, levers), strict=True))
        rows.append(row)
    return rows
