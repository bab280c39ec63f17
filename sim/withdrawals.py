"""Step 4: platforms pay withdrawals up to their liquidity; runs close them.

Requests are served in a random queue order until a platform's liquidity runs out (the
kernel :func:`sim.settlement.settle_withdrawals`): its cash, then what its loans fetch
when sold early, at most ``liquidation_capacity`` of them a tick at
``liquidation_discount`` (liquidating long assets early is costly: Diamond & Dybvig 1983).
A failed request keeps its balance and becomes strong bad evidence (step 6) and a zero
delivery (step 8). The share of asked withdrawals a platform could not pay is public
(``run_pressure``, bad evidence for every holder at step 6): one user's run becomes
others' reason to run (strategic complementarity). Requests at a suspended platform are
stayed. Then the collapse rule of
:mod:`sim.resolution` closes the platforms that runs have broken, and the others lend out
cash above their reserve.
"""

import numpy as np

from sim.config import PlatformsConfig
from sim.market import Market
from sim.operations import lend_excess
from sim.population import Population
from sim.resolution import Resolver
from sim.settlement import settle_withdrawals


def settle(
    population: Population,
    market: Market,
    requests: tuple[np.ndarray, np.ndarray, np.ndarray],
    resolver: Resolver,
    pcfg: PlatformsConfig,
    rng: np.random.Generator,
) -> None:
    """MODEL.md step 4: pay what liquidity allows, record failures, close broken platforms.

    Args:
        population: The users (paid balances move to cash; emptied accounts close).
        market: The platforms; writes the tick's failures and rumour withdrawals.
        requests: ``(users, slots, amounts)`` from step 3.
        resolver: Closes platforms a run has broken.
        pcfg: How much of its loans a platform can sell in a tick, and at what loss.
        rng: The settlement generator (queue order).
    """
    now = market.this_tick
    users, slots, amounts = requests
    plat = population.platform[users, slots]
    stayed = market.is_frozen[plat]  # a suspension stays withdrawals
    users, slots, amounts, plat = users[~stayed], slots[~stayed], amounts[~stayed], plat[~stayed]
    n_plat = len(market)
    liabilities = market.liabilities
    exits = amounts >= population.balance[users, slots]  # whole balances, not routine needs
    now.panic_withdrawals = int(exits.sum())
    # Who is seen leaving: the share of each platform's holders asking for everything.
    leaving = np.bincount(plat[exits], minlength=n_plat)
    market.exit_share = np.divide(
        leaving, market.holders, out=np.zeros(n_plat), where=market.holders > 0
    )
    # Liquidity: cash, and what loans can be sold at a discount this tick.
    keep = 1.0 - pcfg.liquidation_discount
    saleable = pcfg.liquidation_capacity * market.loans * keep
    paid = settle_withdrawals(plat, amounts, market.cash + saleable, rng)
    pu, ps, pa = users[paid], slots[paid], amounts[paid]
    population.balance[pu, ps] -= pa
    np.add.at(population.cash, pu, pa)
    population.close_accounts(pu, ps)
    paid_per = np.bincount(plat[paid], pa, minlength=n_plat)
    # Pay from cash first, then sell loans; the discount is lost.
    short = np.maximum(paid_per - market.cash, 0.0)
    sold = np.minimum(short / keep, market.loans)
    market.loans -= sold
    market.cash = np.where(short > 0, 0.0, market.cash - paid_per)
    now.flows.liquidation_losses += float((sold - short).sum())
    for rumour in market.rumours:
        if rumour.live:
            caused = exits & rumour.believes[users] & (plat == rumour.platform)
            now.rumour_withdrawals += float(amounts[caused].sum())
    failed = ~paid
    now.failed[users[failed], slots[failed]] = True
    now.failed_requests = (users[failed], slots[failed])
    now.failed_count = int(failed.sum())
    failed_per = np.bincount(plat[failed], amounts[failed], minlength=n_plat)
    # What users see of a run: the share of the withdrawals asked that the platform
    # could not pay (withdrawal difficulties).
    asked = np.bincount(plat, amounts, minlength=n_plat)
    market.run_pressure = np.divide(failed_per, asked, out=np.zeros(n_plat), where=asked > 0)
    now.flows.withdrawals += float(pa.sum())
    now.flows.failed_withdrawals += float(failed_per.sum())
    market.liabilities = liabilities - paid_per
    resolver.close_runs(failed_per, asked)
    lend_excess(market)
