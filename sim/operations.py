"""Step 2: users earn income and yield; platforms run their books (MODEL.md step 2).

Every operating platform (open, or suspended while it runs off) runs its loan book, a
fraud diverts what is outside custody, levers cost money, incidents happen (seed 7.2,
7.4) and violations are drawn against deterrence (Becker). The platforms are processed as
arrays; the order MODEL.md asks for (random within the phase) is kept where it matters,
in the random draws and in the order money flows are summed. :func:`lend_excess` is the
platforms' treasury: after settlement, cash above the reserve is lent out.
"""

import numpy as np

from sim import accounts
from sim.config import LEVER_INDEX, LEVERS, WEEKS_PER_YEAR, Config
from sim.deterrence import violation_probability
from sim.market import CODE, Market, Status
from sim.population import Population

_SUSPENDED = CODE[Status.SUSPENDED]


def ordered_sum(values: np.ndarray) -> float:
    """``((v0 + v1) + v2) + ...``: a running total in the given order, as a loop would add."""
    return float(np.add.accumulate(values)[-1]) if values.size else 0.0


def credit_yield(
    population: Population, weekly_yield: np.ndarray, weekly_fee: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Credit promised yield and charge fees on every balance.

    Args:
        population: The users.
        weekly_yield: Per-platform yield per tick (0 for closed platforms).
        weekly_fee: Per-platform fee per tick.

    Returns:
        ``(interest_credited, fees, liabilities)``: market totals and the per-platform
        liabilities after crediting.
    """
    net = (weekly_yield - weekly_fee).astype(np.float64)
    before, after = accounts.credit_yield(
        population.platform, population.balance, net, weekly_yield.size
    )
    return float(weekly_yield @ before), float(weekly_fee @ before), after


def operate(
    market: Market,
    population: Population,
    cfg: Config,
    expected_penalty: float,
    rng: np.random.Generator,
) -> None:
    """MODEL.md step 2: income, yield and fees; loan books, fraud, costs, incidents, violations.

    Args:
        market: The platforms (their books, incidents and violations are written).
        population: The users (income and yield are credited).
        cfg: The run's config.
        expected_penalty: The regulator's expected fine per violation now.
        rng: The platforms' generator: the operating order, then four uniforms per
            operating platform in that order (outage, breach, misconduct, violation).
    """
    flows = market.this_tick.flows
    pcfg = cfg.platforms
    population.cash += population.income
    flows.income += population.income_total
    is_open = market.is_open
    weekly_yield = np.where(is_open, market.advertised_yields(), 0.0) / WEEKS_PER_YEAR
    weekly_fee = np.where(is_open, pcfg.fee_rate, 0.0) / WEEKS_PER_YEAR
    interest_credited, fees, market.liabilities = credit_yield(population, weekly_yield, weekly_fee)
    flows.interest_credited += interest_credited
    flows.fees += fees

    operating = np.flatnonzero(market.is_operating)
    market.violated[:] = market.outage[:] = market.breach[:] = market.misconduct[:] = False
    market.operated[:] = False
    closed = ~market.is_operating  # an operating one uses an event's forced flags below
    market.forced_outage[closed] = market.forced_breach[closed] = False
    order = operating[rng.permutation(operating.size)]
    draws = rng.random((order.size, 4))
    if order.size:
        _run_books(market, order, draws, pcfg, expected_penalty)


def _run_books(market, order, draws, pcfg, expected_penalty) -> None:
    """The books of the platforms ``order`` (in operating order) with their ``draws``."""
    flows = market.this_tick.flows
    tick = market.tick
    custody = market.custody_share
    market.operated[order] = True
    levers = market.effective_levers()[order]
    rm = market.levers[order, LEVER_INDEX["risk_management"]]
    comp = market.levers[order, LEVER_INDEX["compliance"]]
    liabilities = market.liabilities[order]
    cash, loans = market.cash[order], market.loans[order]
    # Loan book: interest, defaults (risk management avoids a share), maturities.
    interest = loans * pcfg.loan_rate / WEEKS_PER_YEAR
    base_default = market.base_default[order] + market.product_default[order]
    default_rate = base_default * (1.0 - pcfg.risk_management_effect * rm)
    default_rate = default_rate * market.default_multiplier
    defaulted = loans * np.minimum(1.0, default_rate / WEEKS_PER_YEAR)
    matured = (loans - defaulted) / pcfg.loan_maturity
    loans = loans - (defaulted + matured)
    cash = cash + (interest + defaulted * pcfg.recovery_rate + matured)
    flows.loan_interest += ordered_sum(interest)
    flows.default_losses += ordered_sum(defaulted * (1.0 - pcfg.recovery_rate))
    # A fraud diverts what is not in custody.
    fraud = market.fraudulent[order]
    cash, loans, flows.fraud_diverted = _take_free_assets(
        cash, loans, fraud, pcfg.fraud_drawdown, custody, flows.fraud_diverted
    )
    # Lever costs are a share of liabilities; unpaid when cash runs out.
    annual_cost = 0
    for i, name in enumerate(LEVERS):
        annual_cost = annual_cost + getattr(pcfg.lever_costs, name) * levers[:, i]
    cost = np.minimum(cash, annual_cost * liabilities / WEEKS_PER_YEAR)
    cash = cash - cost
    flows.lever_costs += ordered_sum(cost)
    # Incidents (seed 7.2, 7.4): risk management prevents outages and breaches,
    # compliance prevents misconduct.
    market.outage[order] = market.forced_outage[order] | (
        draws[:, 0] < pcfg.outage_rate * (1.0 - pcfg.incident_effect * rm)
    )
    market.breach[order] = market.forced_breach[order] | (
        draws[:, 1] < pcfg.breach_rate * (1.0 - pcfg.incident_effect * rm)
    )
    market.forced_outage[order] = market.forced_breach[order] = False
    misconduct = draws[:, 2] < pcfg.misconduct_rate * (1.0 - pcfg.incident_effect * comp)
    market.misconduct[order] = misconduct
    cash, loans, flows.misconduct_losses = _take_free_assets(
        cash, loans, misconduct, pcfg.misconduct_loss, custody, flows.misconduct_losses
    )
    # Violations: deterrence lowers the temptation (Becker). Outside the rules nothing
    # is expected to be punished, and the product's temptation is higher.
    unregulated = market.unregulated()[order]
    deterrence = np.exp(-expected_penalty / pcfg.deterrence_scale)
    temptation = pcfg.violation_temptation * np.where(
        unregulated, market.product_temptation[order], 1.0
    )
    p_violate = violation_probability(comp, 0.0, temptation, pcfg.deterrence_scale)
    p_violate = np.where(unregulated, p_violate, temptation * (1.0 - comp) * deterrence)
    violated = (draws[:, 3] < p_violate) & (market.status[order] != _SUSPENDED)
    market.violated[order] = violated
    for j in order[violated & ~unregulated]:  # rules are not retroactive
        market.violations_open[j].append(tick)
    gain = np.where(violated, pcfg.violation_gain * liabilities, 0.0)
    cash = np.where(violated, cash + gain, cash)
    flows.violation_gains += ordered_sum(gain)
    market.violations_total += int(violated.sum())
    market.cash[order], market.loans[order] = cash, loans


def _take_free_assets(cash, loans, hit, share, custody, total):
    """Remove ``share`` of the assets outside custody where ``hit``; the flow's new total."""
    share = share * (1.0 - custody)
    taken_cash = np.where(hit, cash * share, 0.0)
    taken_loans = np.where(hit, loans * share, 0.0)
    # Added as a loop would: cash, then loans, platform by platform.
    total = ordered_sum(np.r_[total, np.column_stack([taken_cash, taken_loans]).ravel()])
    return cash - taken_cash, loans - taken_loans, total


def lend_excess(market: Market) -> None:
    """Open platforms lend out cash above the reserve they keep against liabilities."""
    excess = market.cash - market.reserve_ratio() * market.liabilities
    lend = (excess > 0) & market.is_open
    market.loans[lend] += excess[lend]
    market.cash[lend] -= excess[lend]
