"""Resolution of failing platforms: runs, collapse, wind-down, exit, recovery and haircuts.

Every closure goes through :meth:`Resolver.wind_down`: the platform's book is valued with
a haircut (:func:`haircut`), its users recover what that value covers
(:func:`recover`, the pure kernel) and the rest is their loss; the money lost, as a share
of the market, is news that lowers system trust and trust in every platform (MODEL.md
step 4, seed 2.4). :meth:`Resolver.close_runs` is the
collapse rule of step 4: a platform whose failed withdrawals exceed a bound is closed,
in order if the regulator had flagged it, otherwise in a disorderly collapse.
"""

from dataclasses import dataclass

import numpy as np

from sim.config import PlatformsConfig, TrustConfig
from sim.market import Market, Status
from sim.population import Population


@dataclass(frozen=True)
class Recovery:
    """What a closure pays: per account, and for the platform as a whole."""

    payout: np.ndarray
    losses: np.ndarray
    recovery: float
    value: float


def recover(balances: np.ndarray, cash: float, loans: float, haircut: float) -> Recovery:
    """Pay each balance the share of it the platform's assets recover.

    The book is worth ``V = cash + loans (1 - haircut)``; every balance recovers
    ``r = min(1, V / L)`` of itself, ``L`` the sum of balances (``r = 1`` if ``L = 0``).

    Args:
        balances: The balances the platform owes, one per account.
        cash: Its cash.
        loans: Its loan book at book value.
        haircut: Loss on the loans when they are sold or run off.

    Returns:
        Payouts and losses per account, the recovery rate and the book's value.

    Example:
        >>> r = recover(np.array([60.0, 40.0]), cash=20.0, loans=100.0, haircut=0.5)
        >>> r.recovery, r.payout.tolist()
        (0.7, [42.0, 28.0])
    """
    liabilities = float(balances.sum())
    value = cash + loans * (1.0 - haircut)
    rate = min(1.0, value / liabilities) if liabilities > 0 else 1.0
    payout = balances * rate
    return Recovery(payout, balances - payout, rate, value)


def haircut(
    cfg: PlatformsConfig, custody: float, *, orderly: bool, going_concern: bool = False
) -> float:
    """Loss on the loan book when a platform is closed.

    A going concern (solvent, closed in order: an exit, a sanction) runs its book off at
    the small exit haircut; an orderly wind-down of a distressed platform at the orderly
    haircut. Disorderly: the custodian still runs off its share ``custody`` in order; the
    rest is fire-sold.
    """
    if going_concern:
        return cfg.exit_haircut
    if orderly:
        return cfg.orderly_haircut
    return custody * cfg.orderly_haircut + (1.0 - custody) * cfg.fire_sale_haircut


class Resolver:
    """Closes platforms and pays their users (every closure of every phase and event).

    Args:
        market: The platforms.
        population: The users whose accounts are paid out and closed.
        platforms: Haircuts and the run bound.
        trust: The shock a closure gives system trust.
    """

    def __init__(
        self,
        market: Market,
        population: Population,
        platforms: PlatformsConfig,
        trust: TrustConfig,
    ):
        self.market = market
        self.population = population
        self.platforms = platforms
        self.trust = trust

    def wind_down(
        self,
        j: int,
        *,
        orderly: bool,
        reason: str,
        status: Status | None = None,
        going_concern: bool | None = None,
        slots: np.ndarray | None = None,
    ) -> None:
        """Close platform ``j`` and pay its users what its assets recover.

        Args:
            j: The platform.
            orderly: Run the book off in order (orderly haircut); else a fire sale outside
                custody.
            reason: Why, for the event log.
            status: The closed status; default ``wound_down`` if orderly, else
                ``collapsed``.
            going_concern: Value the book at the exit haircut (a solvent platform closed
                in order); default: if the status is ``exited``.
            slots: Its accounts as flat indices into the ``(n, K)`` account arrays, in
                row-major order (from :meth:`accounts_of`, when many platforms close at
                once); default: found by a scan of every account.
        """
        market, pop = self.market, self.population
        j = range(len(market))[j]  # a platform's row (IndexError if there is none)
        now = market.this_tick
        if slots is None:
            slots = np.flatnonzero(pop.platform == j)
        held = np.unravel_index(slots, pop.platform.shape)
        rows = held[0]
        balances = pop.balance[held]
        market_total = float(market.liabilities.sum())
        licence = int(market.jurisdiction[j])
        home_total = float(market.liabilities[market.jurisdiction == licence].sum())
        if going_concern is None:
            going_concern = status == Status.EXITED
        cut = haircut(
            self.platforms,
            market.rule("custody_requirement", j),
            orderly=orderly,
            going_concern=going_concern,
        )
        result = recover(balances, float(market.cash[j]), float(market.loans[j]), cut)
        liabilities = float(balances.sum())
        np.add.at(pop.cash, rows, result.payout)
        np.add.at(now.user_loss, rows, result.losses)
        pop.balance[held] = 0.0
        pop.platform[held] = -1
        pop.a[held] = 0.0
        pop.b[held] = 0.0
        paid_out = float(result.payout.sum())
        lost = float(result.losses.sum())
        now.flows.withdrawals += paid_out
        now.flows.user_losses += lost
        now.flows.fire_sale_losses += float(market.loans[j]) * cut
        now.flows.equity_distributed += max(result.value - paid_out, 0.0)
        market.user_losses_cum += lost
        market.cash[j] = market.loans[j] = 0.0
        closed = status or (Status.WOUND_DOWN if orderly else Status.COLLAPSED)
        market.set_status(j, closed)
        market.set_sandbox(j, None)
        market.suspended_until[j] = -1
        market.liabilities[j] = 0.0
        # The sector hears of the money lost: a closure that repays everyone is no scandal.
        share = liabilities / market_total if market_total > 0 else 0.0
        lost_share = share * (1.0 - result.recovery)
        scale = self.trust.orderly_shock_ratio if orderly else 1.0
        now.sector_shock += self.trust.collapse_shock * lost_share * scale
        home_share = liabilities / home_total if home_total > 0 else 0.0
        home_lost = home_share * (1.0 - result.recovery)
        now.closure_shocks.append((licence, self.trust.collapse_shock * home_lost * scale))
        now.failure_news += lost_share
        market.log(
            str(closed),
            platform=j,
            reason=reason,
            liabilities=liabilities,
            book_value=result.value,
            haircut=cut,
            recovery=result.recovery,
            user_losses=lost,
            market_share=share,
        )

    def accounts_of(self, platforms: np.ndarray) -> dict[int, np.ndarray]:
        """Each platform's accounts (flat, row-major), found in one pass over the accounts.

        Valid until accounts open or close at other platforms: use it for closures made
        together (a closure changes only its own platform's accounts).
        """
        flat = self.population.platform.ravel()
        wanted = np.asarray(platforms, dtype=flat.dtype)
        found = np.flatnonzero(np.isin(flat, wanted))
        found = found[np.argsort(flat[found], kind="stable")]  # by platform, row-major within
        owners = flat[found]
        starts = np.searchsorted(owners, wanted, side="left")
        ends = np.searchsorted(owners, wanted, side="right")
        return {int(j): found[a:b] for j, a, b in zip(wanted, starts, ends, strict=True)}

    def wind_down_all(self, platforms: np.ndarray, **kwargs) -> None:
        """:meth:`wind_down` each of ``platforms`` in order, finding their accounts at once.

        ``kwargs`` go to every closure, except a callable ``status`` or ``going_concern``,
        which is called with the platform (its solvency is judged when its turn comes).
        """
        if len(platforms) == 0:
            return
        slots = self.accounts_of(np.sort(np.asarray(platforms)))
        for j in platforms:
            args = {k: (v(int(j)) if callable(v) else v) for k, v in kwargs.items()}
            self.wind_down(int(j), slots=slots[int(j)], **args)

    def close_runs(self, failed: np.ndarray, asked: np.ndarray) -> None:
        """The collapse rule: a platform that cannot pay most of what is asked is broken.

        When more than ``collapse_failed_share`` of the withdrawals asked of an open
        platform this tick go unpaid (its cash and saleable loans are exhausted), the run
        closes it: in order if the regulator flagged it, else in a disorderly collapse. A
        suspended platform is already in official hands.

        Args:
            failed: Money in failed requests per platform this tick.
            asked: Money asked of each platform this tick.
        """
        market = self.market
        run = (failed > self.platforms.collapse_failed_share * asked) & market.is_open
        closing = np.flatnonzero(run)
        market.run_closures += int(closing.size)
        self.wind_down_all(closing, orderly=lambda j: bool(market.flagged[j]), reason="run")
