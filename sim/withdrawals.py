"""Step 4: platforms pay withdrawals up to their liquidity; runs close them.

Requests are served in a random queue order until a platform's cash runs out (the kernel
:func:`sim.settlement.settle_withdrawals`); a failed request keeps its balance and becomes
strong bad evidence (step 6) and a zero delivery (step 8). Then the collapse rule of
:mod:`sim.resolution` closes the platforms that runs have broken, and the others lend out
cash above their reserve.
"""

import numpy as np

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
    rng: np.random.Generator,
) -> None:
    """MODEL.md step 4: pay what liquidity allows, record failures, close broken platforms.

    Args:
        population: The users (paid balances move to cash; emptied accounts close).
        market: The platforms; writes the tick's failures and rumour withdrawals.
        requests: ``(users, slots, amounts)`` from step 3.
        resolver: Closes platforms a run has broken.
        rng: The settlement generator (queue order).
    """
    now = market.this_tick
    users, slots, amounts = requests
    plat = population.platform[users, slots]
    n_plat = len(market)
    liabilities = market.liabilities
    exits = amounts >= population.balance[users, slots]  # whole balances, not routine needs
    paid = settle_withdrawals(plat, amounts, market.cash.copy(), rng)
    pu, ps, pa = users[paid], slots[paid], amounts[paid]
    population.balance[pu, ps] -= pa
    np.add.at(population.cash, pu, pa)
    population.close_accounts(pu, ps)
    paid_per = np.bincount(plat[paid], pa, minlength=n_plat)
    market.cash -= paid_per
    for rumour in market.rumours:
        if rumour.live:
            caused = exits & rumour.believes[users] & (plat == rumour.platform)
            now.rumour_withdrawals += float(amounts[caused].sum())
    failed = ~paid
    now.failed[users[failed], slots[failed]] = True
    now.failed_requests = (users[failed], slots[failed])
    now.failed_count = int(failed.sum())
    failed_per = np.bincount(plat[failed], amounts[failed], minlength=n_plat)
    now.flows.withdrawals += float(pa.sum())
    now.flows.failed_withdrawals += float(failed_per.sum())
    market.liabilities = liabilities - paid_per
    resolver.close_runs(failed_per, liabilities)
    lend_excess(market)
