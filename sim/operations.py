"""Step 2: users earn income; platforms run their books; balances earn yield (MODEL.md step 2).

Every operating platform (open, or suspended while it runs off) runs its loan book, a
fraud diverts what is outside custody, levers cost money, incidents happen (seed 7.2,
7.4) and violations are drawn against deterrence (Becker). Balances at open platforms are
then credited the promised yield, less fees and less the share of this tick's loan losses
written off users' balances (``default_passthrough``; the crediting itself is done by
step 3's first pass over the accounts): what a platform delivers of its promise is
``paid_share``, the own outcome users see (steps 6 and 8). The platforms are
processed as arrays; MODEL.md's random order within the phase is the order in which the
random draws are dealt. :func:`lend_excess` is the platforms' treasury: after settlement,
cash above the reserve is lent out.
"""

import numpy as np

from sim.config import LEVER_INDEX, LEVERS, WEEKS_PER_YEAR, Config, PlatformsConfig
from sim.deterrence import violation_probability
from sim.market import CODE, Crediting, Market, Status
from sim.population import Population

_SUSPENDED = CODE[Status.SUSPENDED]
RISK = LEVER_INDEX["risk_management"]
COMPLIANCE = LEVER_INDEX["compliance"]


def operate(
    market: Market,
    population: Population,
    cfg: Config,
    expected_penalty: float | np.ndarray,
    rng: np.random.Generator,
) -> None:
    """MODEL.md step 2: income; loan books, fraud, costs, incidents, violations; yield.

    Args:
        market: The platforms (their books, incidents and violations are written).
        population: The users (income and yield are credited).
        cfg: The run's config.
        expected_penalty: The expected fine per violation now: a number, or one per
            platform (its licensing regulator's) with several jurisdictions.
        rng: The platforms' generator: the operating order, then four uniforms per
            operating platform in that order (outage, breach, misconduct, violation).
    """
    flows = market.this_tick.flows
    pcfg = cfg.platforms
    population.cash += population.income
    flows.income += population.income_total
    operating = np.flatnonzero(market.is_operating)
    market.violated[:] = market.outage[:] = market.breach[:] = market.misconduct[:] = False
    market.operated[:] = False
    closed = ~market.is_operating  # an operating one uses an event's forced flags below
    market.forced_outage[closed] = market.forced_breach[closed] = False
    order = operating[rng.permutation(operating.size)]
    draws = rng.random((order.size, 4))
    passthrough = np.zeros(len(market))
    if order.size:
        penalty = expected_penalty[order] if np.ndim(expected_penalty) else expected_penalty
        compliance_cost = market.rule("compliance_cost", order)
        passthrough[order] = _run_books(market, order, draws, pcfg, penalty, compliance_cost)
    _credit(market, passthrough, pcfg)


def _run_books(
    market: Market,
    order: np.ndarray,
    draws: np.ndarray,
    pcfg: PlatformsConfig,
    expected_penalty: float | np.ndarray,
    compliance_cost: float | np.ndarray = 0.0,
) -> np.ndarray:
    """The books of the platforms ``order`` with their ``draws``; loan losses users bear.

    ``expected_penalty``, ``compliance_cost``: numbers, or one per platform of ``order``.
    """
    flows = market.this_tick.flows
    custody = market.rule("custody_requirement", order)
    market.operated[order] = True
    levers = market.effective_levers()[order]
    rm, comp = market.levers[order, RISK], market.levers[order, COMPLIANCE]
    liabilities = market.liabilities[order]
    cash, loans = market.cash[order], market.loans[order]
    # Loan book: interest, defaults (risk management avoids a share), maturities.
    interest = loans * pcfg.loan_rate / WEEKS_PER_YEAR
    base_default = market.base_default[order] + market.product_default[order]
    default_rate = base_default * (1.0 - pcfg.risk_management_effect * rm)
    default_rate *= market.default_multiplier
    defaulted = loans * np.minimum(1.0, default_rate / WEEKS_PER_YEAR)
    matured = (loans - defaulted) / pcfg.loan_maturity
    loans = loans - (defaulted + matured)
    cash = cash + interest + defaulted * pcfg.recovery_rate + matured
    lost = defaulted * (1.0 - pcfg.recovery_rate)
    flows.loan_interest += float(interest.sum())
    flows.default_losses += float(lost.sum())
    # A fraud diverts what is not in custody.
    free = 1.0 - custody
    cash, loans, taken = _take(cash, loans, market.fraudulent[order] * pcfg.fraud_drawdown * free)
    flows.fraud_diverted += taken
    # Lever costs are a share of liabilities; unpaid when cash runs out.
    annual_cost = sum(getattr(pcfg.lever_costs, n) * levers[:, i] for i, n in enumerate(LEVERS))
    cost = np.minimum(cash, annual_cost * liabilities / WEEKS_PER_YEAR)
    cash = cash - cost
    flows.lever_costs += float(cost.sum())
    # The fixed cost of meeting the rules (registration, custody bank, audits; seed 2.2),
    # a share of the owners' capital a year: it does not shrink with the business.
    if np.any(compliance_cost > 0):
        fixed = np.minimum(cash, compliance_cost * market.capital_in[order] / WEEKS_PER_YEAR)
        cash = cash - fixed
        flows.compliance_costs += float(fixed.sum())
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
    cash, loans, taken = _take(cash, loans, misconduct * pcfg.misconduct_loss * free)
    flows.misconduct_losses += taken
    # Violations: deterrence lowers the temptation (Becker). Outside the rules nothing
    # is expected to be punished, and the product's temptation is higher. A violation
    # takes money out of users' reach (self-dealing, misuse of funds; seed ch. 1).
    unregulated = market.unregulated()[order]
    temptation = pcfg.violation_temptation * np.where(
        unregulated, market.product_temptation[order], 1.0
    )
    penalty = np.where(unregulated, 0.0, expected_penalty)
    p_violate = violation_probability(comp, penalty, temptation, pcfg.deterrence_scale)
    violated = (draws[:, 3] < p_violate) & (market.status[order] != _SUSPENDED)
    market.violated[order] = violated
    for j in order[violated & ~unregulated]:  # rules are not retroactive
        market.violations_open[j].append(market.tick)
    assets = cash + loans
    harm = np.minimum(pcfg.violation_harm * liabilities, free * assets) * violated
    cash, loans, taken = _take(
        cash, loans, np.divide(harm, assets, out=harm * 0.0, where=assets > 0)
    )
    flows.violation_harm += taken
    market.violations_total += int(violated.sum())
    market.cash[order], market.loans[order] = cash, loans
    return pcfg.default_passthrough * lost


def _take(cash: np.ndarray, loans: np.ndarray, share: np.ndarray) -> tuple:
    """Remove ``share`` of each platform's cash and loans; and the sum removed."""
    taken_cash, taken_loans = cash * share, loans * share
    return cash - taken_cash, loans - taken_loans, float(taken_cash.sum() + taken_loans.sum())


def _credit(market: Market, passthrough: np.ndarray, pcfg: PlatformsConfig) -> None:
    """Yield less fees at open platforms, less the loan losses written off balances.

    ``paid_share`` is what a platform delivered of its promise this tick: the promised
    yield less the losses users bore, as a share of the promise (1 if it kept it, 0 if
    withdrawals are stayed). The balances are credited in step 3's first pass (see
    :class:`sim.market.Crediting`), which then calls :func:`book_credit`.
    """
    liabilities = market.liabilities
    is_open = market.is_open
    weekly_yield = np.where(is_open, market.advertised_yields(), 0.0) / WEEKS_PER_YEAR
    weekly_fee = np.where(is_open, pcfg.fee_rate, 0.0) / WEEKS_PER_YEAR
    # Losses borne are at most what users hold there.
    passthrough = np.minimum(passthrough, liabilities)
    loss_rate = np.divide(
        passthrough, liabilities, out=np.zeros_like(passthrough), where=liabilities > 0
    )
    market.this_tick.crediting = Crediting(weekly_yield, weekly_fee, loss_rate)
    promised = np.maximum(weekly_yield, 1e-12)
    market.paid_share = np.where(is_open, np.clip(1.0 - loss_rate / promised, 0.0, 1.0), 0.0)


def book_credit(market: Market, before: np.ndarray, after: np.ndarray) -> None:
    """Book the tick's crediting: balances per platform were ``before``, are ``after``.

    The sums of balances become the platforms' liabilities (re-synced with the accounts
    each tick); interest, fees and losses borne go to the tick's flows.
    """
    crediting = market.this_tick.crediting
    flows = market.this_tick.flows
    market.liabilities = after
    flows.interest_credited += float(crediting.weekly_yield @ before)
    flows.fees += float(crediting.weekly_fee @ before)
    flows.default_passthrough += float(crediting.loss_rate @ before)
    market.this_tick.crediting = None


def lend_excess(market: Market) -> None:
    """Open platforms lend out cash above the reserve they keep against liabilities."""
    excess = market.cash - market.reserve_ratio() * market.liabilities
    lend = (excess > 0) & market.is_open
    market.loans[lend] += excess[lend]
    market.cash[lend] -= excess[lend]
