"""Endogenous entry and exit of platforms (MODEL.md: market entry and exit; step 9).

Entry is free entry against barriers (seed 2.2, 5.5). Potential entrants arrive each
tick, honest ones at ``entry.pool`` and fraudulent ones at ``entry.fraud_pool``; each
enters if the annual return it expects on its capital beats its own hurdle, hurdles being
logistic across potential entrants (median ``entry.hurdle``, scale ``entry.spread``), so
that the entrants per tick are Poisson with mean ``pool x P(return > hurdle)``:

* an honest entrant expects the market's smoothed net margin on deposits times the
  deposits it expects (an equal share of the market among the open platforms and itself,
  grown at the market's smoothed growth rate over half its horizon), on its capital, less
  the registration cost spread over its horizon and the fixed cost of the rules;
* a fraud expects what it can divert (``fraud_drawdown`` of the assets outside custody
  each tick) for as long as it is not caught (inspection x detection, and sandbox
  monitoring), and to lose its capital if caught; licensing refuses it with chance
  ``entry_screening``.

So lax supervision and no custody raise the frauds' return and with it their share of
entrants (adverse selection), and entry stops by itself as entrants dilute each other's
share of a market that grows no more (the free-entry condition). Barriers are the
regulator's: ``capital_requirement``, ``registration_cost``, ``entry_screening``,
``compliance_cost``, ``entry_sandbox`` and ``entry_open``.

Exit: an honest platform whose smoothed profit on its capital falls below
``-entry.exit_loss`` leaves in order (a going concern if solvent), and a fraud whose
deposits shrink absconds with chance ``entry.abscond`` per tick (a disorderly collapse,
the Ponzi's end); runs (:mod:`sim.withdrawals`) and rules (events) close the others.
"""

import math

import numpy as np

from sim.config import WEEKS_PER_YEAR, Config, EntryConfig, RegulatorConfig
from sim.market import Market, SandboxTerms, Status
from sim.resolution import Resolver


def logistic(x: float) -> float:
    """``1 / (1 + exp(-x))``, safe for large ``|x|``."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def expected_deposits(total: float, n_open: int, growth: float, horizon: float) -> float:
    """Deposits an entrant expects: an equal share with the open platforms, grown.

    ``total / (n_open + 1)``, times ``1 + growth x horizon / 2`` (the mean over the
    horizon of linear growth at the annual rate ``growth``), never below zero.
    """
    return total / (n_open + 1) * max(0.0, 1.0 + growth * horizon / 2.0)


def weeks_uncaught(hazard: float, weeks: float) -> float:
    """Expected weeks a fraud operates within ``weeks``, found with chance ``hazard`` a week.

    ``E[min(T, weeks)]`` for ``T``, the week it is found (it still diverts that week: step
    2 comes before the regulator's step 5), geometric on 1, 2, ... with chance ``hazard``:
    ``(1 - (1 - h)^weeks) / h``, and ``weeks`` when ``h = 0``.
    """
    if hazard <= 0.0:
        return weeks
    return (1.0 - (1.0 - hazard) ** weeks) / hazard


def honest_return(
    margin: float, deposits: float, capital: float, policy: RegulatorConfig, horizon: float
) -> float:
    """Annual return on capital an honest entrant expects.

    ``margin x deposits / capital - registration_cost / horizon - compliance_cost``.
    """
    if capital <= 0:
        return -math.inf
    return margin * deposits / capital - policy.registration_cost / horizon - policy.compliance_cost


def detection_hazard(policy: RegulatorConfig, sandbox: bool) -> float:
    """Weekly chance a fraud is found: random inspection, and the sandbox's monitoring."""
    found = policy.inspection_rate * policy.detection_accuracy
    if sandbox:
        found = 1.0 - (1.0 - found) * (1.0 - policy.sandbox_monitoring * policy.detection_accuracy)
    return found


def fraud_return(
    deposits: float,
    capital: float,
    policy: RegulatorConfig,
    drawdown: float,
    custody: float,
    horizon: float,
    sandbox: bool,
) -> float:
    """Annual return on capital a fraudulent entrant expects.

    It diverts ``drawdown x (1 - custody) x deposits`` a week for the weeks it expects to
    go uncaught (:func:`weeks_uncaught`), pays the fixed cost of the rules while it
    operates (as every operating platform does, step 2), and loses its capital if caught
    within its horizon; less the registration cost, per year of the horizon.
    """
    if capital <= 0:
        return -math.inf
    weeks = horizon * WEEKS_PER_YEAR
    hazard = detection_hazard(policy, sandbox)
    caught = 1.0 - (1.0 - hazard) ** weeks
    alive = weeks_uncaught(hazard, weeks)
    take = drawdown * (1.0 - custody) * deposits * alive
    rules = policy.compliance_cost * capital * alive / WEEKS_PER_YEAR
    return (take - rules - capital * caught) / (capital * horizon) - (
        policy.registration_cost / horizon
    )


class MarketStructure:
    """Entry and exit at step 1, from the signals the market showed at the end of the last tick.

    Args:
        cfg: The run's config (``entry``, the platforms' economics).
        market: The platforms.
        policy: The regulator's live policy (its barriers).
        resolver: Closes the platforms that exit.
    """

    def __init__(self, cfg: Config, market: Market, policy: RegulatorConfig, resolver: Resolver):
        self.cfg = cfg
        self.entry: EntryConfig = cfg.entry
        self.market = market
        self.policy = policy
        self.resolver = resolver
        self.margin = math.nan  # smoothed annual net margin on deposits
        self.growth = 0.0  # smoothed annual growth of deposits
        self.deposits = float(market.liabilities.sum())
        market.equity_mark = market.assets - market.liabilities
        market.liability_mark = market.liabilities.copy()

    # --- signals ----------------------------------------------------------------------

    def observe(self) -> None:
        """Update the smoothed margin and growth, and each platform's profit rate."""
        market, w = self.market, self.entry.memory
        flows = market.this_tick.flows
        deposits = float(market.liabilities.sum())
        if deposits > 0:
            # What platforms earn on deposits, as their published accounts show it.
            net = (
                flows.loan_interest
                - flows.default_losses
                - flows.lever_costs
                - (flows.interest_credited - flows.fees - flows.default_passthrough)
            )
            margin = net * WEEKS_PER_YEAR / deposits
            self.margin = (
                margin if math.isnan(self.margin) else self.margin + w * (margin - self.margin)
            )
        if self.deposits > 0:
            growth = (deposits / self.deposits - 1.0) * WEEKS_PER_YEAR
            self.growth += w * (growth - self.growth)
        self.deposits = deposits
        equity = market.assets - market.liabilities
        profit = (equity - market.equity_mark) * WEEKS_PER_YEAR
        rate = np.divide(
            profit, market.capital_in, out=np.zeros_like(profit), where=market.capital_in > 0
        )
        market.profit_rate += w * (rate - market.profit_rate)
        market.equity_mark = equity
        market.liability_change = market.liabilities - market.liability_mark
        market.liability_mark = market.liabilities.copy()

    # --- the phase --------------------------------------------------------------------

    def act(self, rng: np.random.Generator) -> None:
        """Step 1: platforms that lose money or whose fraud is ending leave; entrants come in."""
        self._exit(rng)
        if self.policy.entry_open:
            self._enter(rng)

    def _exit(self, rng: np.random.Generator) -> None:
        market, entry = self.market, self.entry
        is_open = market.is_open & ~market.in_sandbox
        old = market.tick - market.entered >= entry.exit_min_age
        honest = ~market.fraudulent
        losing = is_open & old & honest & (market.profit_rate < -entry.exit_loss)
        shrinking = is_open & market.fraudulent & (market.liability_change < 0)
        draws = rng.random(len(market))
        abscond = shrinking & (draws < entry.abscond)
        self.resolver.wind_down_all(
            np.flatnonzero(losing),
            orderly=True,
            reason="unprofitable",
            status=lambda j: Status.EXITED if market.is_solvent(j) else Status.WOUND_DOWN,
        )
        self.resolver.wind_down_all(np.flatnonzero(abscond), orderly=False, reason="absconded")

    def expected_returns(self) -> tuple[float, float, float]:
        """What an honest and a fraudulent entrant expect now, and the deposits they expect."""
        market, policy, entry = self.market, self.policy, self.entry
        pcfg = self.cfg.platforms
        n_open = int(market.is_open.sum())
        deposits = expected_deposits(self.deposits, n_open, self.growth, entry.horizon)
        if policy.entry_sandbox:
            deposits = min(deposits, policy.sandbox_exposure_cap * self.deposits)
        capital = policy.capital_requirement * market.capital
        margin = 0.0 if math.isnan(self.margin) else self.margin
        honest = honest_return(margin, deposits, capital, policy, entry.horizon)
        fraud = fraud_return(
            deposits,
            capital,
            policy,
            pcfg.fraud_drawdown,
            policy.custody_requirement,  # entrants are licensed in the first jurisdiction
            entry.horizon,
            policy.entry_sandbox,
        )
        return honest, fraud, deposits

    def _enter(self, rng: np.random.Generator) -> None:
        market, policy, entry = self.market, self.policy, self.entry
        pcfg = self.cfg.platforms
        honest, fraud, _ = self.expected_returns()
        p_honest = logistic((honest - entry.hurdle) / entry.spread)
        p_fraud = (1.0 - policy.entry_screening) * logistic((fraud - entry.hurdle) / entry.spread)
        n_honest = int(rng.poisson(entry.pool * p_honest))
        n_fraud = int(rng.poisson(entry.fraud_pool * p_fraud))
        if n_honest + n_fraud == 0:
            return
        names = [n for n, w in pcfg.mix.items() if w > 0]
        weights = np.array([pcfg.mix[n] for n in names]) / sum(pcfg.mix[n] for n in names)
        capital = policy.capital_requirement * market.capital * (1.0 - policy.registration_cost)
        status = Status.SANDBOX if policy.entry_sandbox else Status.ACTIVE
        for fraudulent in [False] * n_honest + [True] * n_fraud:
            name = str(rng.choice(names, p=weights))
            j = market.add(
                name,
                fraudulent,
                float(rng.uniform(pcfg.default_rate_low, pcfg.default_rate_high)),
                rng,
                status,
                capital=max(capital, 0.0),
            )
            if policy.entry_sandbox:
                market.set_sandbox(
                    j,
                    SandboxTerms(
                        exposure_cap=policy.sandbox_exposure_cap,
                        monitoring=policy.sandbox_monitoring,
                        disclosure=policy.sandbox_disclosure,
                        review_tick=market.tick + policy.sandbox_duration,
                    ),
                )
                market.sandbox_admissions += 1
            market.log("entry", platform=j, strategy=name, endogenous=True)
