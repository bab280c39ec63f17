"""TrustModel: builds the world from a config and runs MODEL.md's tick, one call per phase."""

from collections.abc import Callable, Sequence
from typing import Any

import mesa
import numpy as np
import scipy.sparse as sp

from sim import accounts, metrics
from sim.adaptation import fermi_imitation
from sim.agents import Platform, Regulator, Status, User
from sim.config import LEVERS, Config, validate
from sim.events import build_schedule
from sim.information import gather_evidence, update_institutional_trust, word_of_mouth
from sim.ledger import TickFlows
from sim.network import build_network, row_normalised
from sim.population import (
    F32,
    choose_and_deposit,
    credit_yield,
    decide_withdrawals,
    init_population,
)
from sim.rng import spawn_streams
from sim.satisfaction import update_satisfaction
from sim.settlement import settle_withdrawals

WEEKS_PER_YEAR = 52.0


class TrustModel(mesa.Model):
    """Users, platforms and a regulator interacting over a social network.

    Args:
        cfg: The run's config (defaults if omitted); validated here.
        network: A prebuilt adjacency matrix to reuse instead of generating one.

    Example:
        >>> from sim.config import compose_config
        >>> model = TrustModel(compose_config(["population.n_users=300", "ticks=5"]))
        >>> model.run()
        >>> model.tick
        5
    """

    def __init__(self, cfg: Config | None = None, *, network: sp.csr_array | None = None):
        cfg = validate(cfg if cfg is not None else Config())
        self.rngs = spawn_streams(cfg.seed)
        super().__init__(rng=self.rngs["mesa"])
        self.cfg = cfg
        self.tick = 0
        pop_cfg, net_cfg = cfg.population, cfg.network
        if network is None:
            network = build_network(
                net_cfg.kind,
                pop_cfg.n_users,
                net_cfg.avg_degree,
                self.rngs["network"],
                rewire_p=net_cfg.rewire_p,
                path=net_cfg.path,
            )
        self.network = network
        self.wom_weights = row_normalised(network)
        self.has_neighbours = np.diff(network.indptr) > 0
        self.population = init_population(pop_cfg, self.rngs["population"])
        self.regulator = Regulator(self, cfg.regulator)
        self.platforms: list[Platform] = self._create_platforms(self.rngs["platforms_init"])
        for i in range(pop_cfg.n_users):
            User(self, i)
        self.event_schedule = build_schedule(cfg.scenario.events, cfg.ticks, cfg.platforms.count)
        # Step 9: callables (model, rng) run every ``adaptation.every`` ticks when enabled;
        # Fermi imitation by default, and a hook for other adaptation rules.
        self.adapters: list[Callable[[TrustModel, np.random.Generator], None]] = [fermi_imitation]
        n_plat = len(self.platforms)
        self.complaints = np.zeros(n_plat, dtype=np.int64)
        self.rating = np.full(n_plat, cfg.population.initial_satisfaction)
        self.macro = 1.0
        self.macro_until = 0
        self.rumours: list = []  # live and past rumours (sim.events.rumour.LiveRumour)
        self.campaigns: list = []  # running education campaigns
        self.ramps: list = []  # regulator parameters moving over time (policy shifts)
        self.sandbox_admissions = 0
        self.sandbox_graduations = 0
        self.event_log: list[dict[str, Any]] = []
        self.platform_rows: list[dict[str, Any]] = []
        self.user_losses_cum = 0.0
        self.violations_total = 0
        self._income = self.population.wealth * cfg.population.income_share  # fixed per user
        self._income_total = float(self._income.sum())
        self._reset_tick_state()
        self._initial_deposits()
        self.adaptation_snapshot = {
            "share": self.liabilities / max(float(self.liabilities.sum()), 1e-12),
            "liabilities": self.liabilities.copy(),
            "equity": np.array([p.assets for p in self.platforms]) - self.liabilities,
        }
        self.datacollector = mesa.DataCollector(model_reporters=metrics.reporters())
        self.record()

    # --- construction ---------------------------------------------------------------

    def _create_platforms(self, rng: np.random.Generator) -> list[Platform]:
        cfg = self.cfg.platforms
        names = [name for name, w in cfg.mix.items() if w > 0]
        weights = np.array([cfg.mix[name] for name in names], dtype=np.float64)
        quotas = weights / weights.sum() * cfg.count
        counts = np.floor(quotas).astype(int)
        # Largest remainder, ties broken by the order of the mix: deterministic.
        for i in np.argsort(-(quotas - counts), kind="stable")[: cfg.count - counts.sum()]:
            counts[i] += 1
        strategies = rng.permutation(np.repeat(names, counts))
        n_fraud = round(cfg.fraud_share * cfg.count)
        fraudulent = np.zeros(cfg.count, dtype=bool)
        fraudulent[rng.choice(cfg.count, size=n_fraud, replace=False)] = True
        pop = self.population
        pcfg = self.cfg.population
        expected_deposits = (
            pop.cash.sum() * pcfg.initial_investor_share * pcfg.deposit_share / cfg.count
        )
        self._capital = cfg.capital_share * expected_deposits
        return [
            self._new_platform(
                j,
                str(name),
                bool(fraudulent[j]),
                rng.uniform(cfg.default_rate_low, cfg.default_rate_high),
                self._capital,
                rng,
            )
            for j, name in enumerate(strategies)
        ]

    def _new_platform(
        self,
        index: int,
        strategy: str,
        fraudulent: bool,
        base_default: float,
        capital: float,
        rng: np.random.Generator,
        status: Status = Status.ACTIVE,
    ) -> Platform:
        """A platform playing ``strategy`` with its own jitter of the levers."""
        cfg = self.cfg.platforms
        spec = cfg.strategies[strategy]
        levers = np.array([getattr(spec, lever) for lever in LEVERS])
        levers = np.clip(levers + rng.normal(0.0, cfg.lever_jitter, len(LEVERS)), 0.0, 1.0)
        platform = Platform(
            self,
            index=index,
            strategy=strategy,
            levers=levers,
            advertised_yield=spec.advertised_yield,
            base_default=base_default,
            fraudulent=fraudulent,
            capital=capital,
            yield_premium=cfg.fraud_yield_premium if fraudulent else 0.0,
        )
        platform.status = status
        return platform

    def add_platform(
        self, strategy: str, *, fraudulent: bool, base_default: float, status: Status
    ) -> Platform:
        """A platform enters the market now (scenario events: entry, sandbox)."""
        platform = self._new_platform(
            len(self.platforms),
            strategy,
            fraudulent,
            base_default,
            self._capital,
            self.rngs["events"],
            status,
        )
        self.platforms.append(platform)
        self.liabilities = np.append(self.liabilities, 0.0)
        self.complaints = np.append(self.complaints, 0)
        # Unknown to users, a newcomer's rating starts at the market's average.
        self.rating = np.append(self.rating, self.market_rating())
        self.platform_users = np.append(self.platform_users, 0)
        return platform

    def _initial_deposits(self) -> None:
        """Tick 0: a share of users already hold an account, chosen by the usual rule."""
        pop = self.population
        rng = self.rngs["population"]
        investors = rng.random(pop.n) < self.cfg.population.initial_investor_share
        trust = pop.trust(self.cfg.trust.prior_weight)
        _, plat, amounts = choose_and_deposit(
            pop,
            trust,
            self.open_mask(),
            self.reputation(),
            self.advertised_yields(),
            self.cfg.population,
            self.cfg.trust.wom_tip_weight,
            rng,
            candidates=investors,
        )
        self._receive_deposits(plat, amounts, count_flow=False)
        self.liabilities = pop.liabilities(len(self.platforms))
        for p in self.platforms:
            p.rebalance(self.liabilities[p.index])
        self.platform_users = pop.holders(len(self.platforms))

    # --- per-platform views ---------------------------------------------------------

    def open_mask(self) -> np.ndarray:
        """Which platforms operate and take deposits."""
        return np.array([p.is_open for p in self.platforms])

    def accepting_mask(self) -> np.ndarray:
        """Which platforms take new deposits: open, and under any sandbox exposure cap."""
        market = float(self.liabilities.sum())
        return np.array(
            [
                p.is_open
                and (
                    p.sandbox is None or self.liabilities[p.index] < p.sandbox.exposure_cap * market
                )
                for p in self.platforms
            ]
        )

    def advertised_yields(self) -> np.ndarray:
        """Annual yield each platform advertises."""
        return np.array([p.advertised_yield for p in self.platforms])

    def lever_matrix(self) -> np.ndarray:
        """``(P, 5)`` effective levers."""
        return np.array([p.effective_levers() for p in self.platforms])

    def market_rating(self) -> float:
        """Mean published rating of the open platforms (all, if none is open)."""
        is_open = self.open_mask()[: len(self.rating)]  # a just-added entrant has no rating
        return float(self.rating[is_open].mean() if is_open.any() else self.rating.mean())

    def reputation(self) -> np.ndarray:
        """Public reputation: the published rating where ratings are open, else the mean."""
        openness = np.array([p.lever("rating_openness") for p in self.platforms])
        reputation = openness * self.rating + (1.0 - openness) * self.market_rating()
        blacklisted = np.array([p.blacklisted for p in self.platforms])
        return np.where(blacklisted, 0.0, reputation)

    def random_order[T](self, items: Sequence[T], rng: np.random.Generator) -> list[T]:
        """``items`` in an order drawn from ``rng`` (MODEL.md: order within a phase is random)."""
        return [items[i] for i in rng.permutation(len(items))]

    def log_event(self, kind: str, **fields: Any) -> None:
        """Append an emergent or scheduled event to ``events.jsonl``."""
        self.event_log.append({"tick": self.tick, "type": kind, **fields})

    # --- the tick ---------------------------------------------------------------------

    def step(self) -> None:
        """One week, in MODEL.md's process order."""
        self.tick += 1
        self._reset_tick_state()
        self.apply_scheduled_events()  # 1
        self.operate_platforms()  # 2
        requests = self.users_decide()  # 3
        self.settle(requests)  # 4
        self.regulator.act(self.rngs["regulator"])  # 5
        self.inform_users()  # 6
        self.update_trust()  # 7
        self.update_satisfaction()  # 8
        self.adapt_strategies()  # 9
        self.record()  # 10

    def run(self, ticks: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Run ``ticks`` steps (default: up to ``cfg.ticks``), calling ``progress(tick)``."""
        end = self.cfg.ticks if ticks is None else self.tick + ticks
        while self.tick < end:
            self.step()
            if progress is not None:
                progress(self.tick)

    def _reset_tick_state(self) -> None:
        pop = self.population
        self.flows = TickFlows()
        self.failed = np.zeros(pop.platform.shape, dtype=bool)
        self.failed_requests = (np.empty(0, np.int64), np.empty(0, np.int64))
        self.user_loss = np.zeros(pop.n)
        self.sector_shock = 0.0
        self.rumour_withdrawals = 0.0
        self.wom_net = 0.0
        self.failed_count = 0

    def apply_scheduled_events(self) -> None:
        """Step 1: scenario events due this tick change the world; running ones go on."""
        for event in self.event_schedule.get(self.tick, ()):
            self.log_event("scheduled", **event.record())
            event.apply(self)
        for ramp in self.ramps:
            setattr(self.regulator, ramp.key, ramp.value(self.tick))
        self.ramps = [r for r in self.ramps if r.last_tick > self.tick]
        if self.macro != 1.0 and self.tick >= self.macro_until:
            self.macro = 1.0
        self.campaigns = [c for c in self.campaigns if c.until > self.tick]
        for campaign in self.campaigns:  # ticks tick0 .. tick0 + duration - 1
            self.population.educate(campaign.rate, campaign.reached)
        for p in self.platforms:
            if p.product is not None and self.tick >= p.product.regulated_from:
                p.product = None
                self.log_event("product_regulated", platform=p.index)

    def operate_platforms(self) -> None:
        """Step 2: users earn income; balances earn yield; platforms run their books."""
        pop, cfg = self.population, self.cfg.platforms
        pop.cash += self._income
        self.flows.income += self._income_total
        is_open = self.open_mask()
        weekly_yield = np.where(is_open, self.advertised_yields(), 0.0) / WEEKS_PER_YEAR
        weekly_fee = np.where(is_open, cfg.fee_rate, 0.0) / WEEKS_PER_YEAR
        interest, fees, self.liabilities = credit_yield(pop, weekly_yield, weekly_fee)
        self.flows.interest_credited += interest
        self.flows.fees += fees
        rng = self.rngs["platforms"]
        for p in self.platforms:
            p.reset_tick()
        for p in self.random_order([p for p in self.platforms if p.is_operating], rng):
            p.operate(self.liabilities[p.index], rng, self.flows, self.macro)

    def users_decide(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step 3: withdrawal requests, then platform choice and deposits."""
        pop, pcfg = self.population, self.cfg.population
        rng = self.rngs["users"]
        forced = np.array([p.status == Status.SUSPENDED for p in self.platforms])
        trust, *requests = decide_withdrawals(
            pop,
            self.cfg.trust.prior_weight,
            pcfg.liquidity_need_rate,
            pcfg.liquidity_need_share,
            forced,
            rng,
        )
        _, plat, amounts = choose_and_deposit(
            pop,
            trust,
            self.accepting_mask(),
            self.reputation(),
            self.advertised_yields(),
            pcfg,
            self.cfg.trust.wom_tip_weight,
            rng,
        )
        self._receive_deposits(plat, amounts)
        return tuple(requests)

    def _receive_deposits(self, plat: np.ndarray, amounts: np.ndarray, count_flow=True) -> None:
        per_platform = np.bincount(plat, amounts, minlength=len(self.platforms))
        for p in self.platforms:
            p.cash += per_platform[p.index]
        if count_flow:
            self.flows.deposits += float(per_platform.sum())
            self.liabilities = self.liabilities + per_platform

    def settle(self, requests: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Step 4: pay withdrawals up to liquidity; runs end in collapse or wind-down."""
        pop, cfg = self.population, self.cfg.platforms
        users, slots, amounts = requests
        plat = pop.platform[users, slots]
        n_plat = len(self.platforms)
        liabilities = self.liabilities
        cash = np.array([p.cash for p in self.platforms])
        exits = amounts >= pop.balance[users, slots]  # whole balances, not routine needs
        paid = settle_withdrawals(plat, amounts, cash, self.rngs["settlement"])
        pu, ps, pa = users[paid], slots[paid], amounts[paid]
        pop.balance[pu, ps] -= pa
        np.add.at(pop.cash, pu, pa)
        pop.close_accounts(pu, ps)
        paid_per = np.bincount(plat[paid], pa, minlength=n_plat)
        for p in self.platforms:
            p.cash -= paid_per[p.index]
        for rumour in self.rumours:
            if rumour.live:
                caused = exits & rumour.believes[users] & (plat == rumour.platform)
                self.rumour_withdrawals += float(amounts[caused].sum())
        failed = ~paid
        self.failed[users[failed], slots[failed]] = True
        self.failed_requests = (users[failed], slots[failed])
        self.failed_count = int(failed.sum())
        failed_per = np.bincount(plat[failed], amounts[failed], minlength=n_plat)
        self.flows.withdrawals += float(pa.sum())
        self.flows.failed_withdrawals += float(failed_per.sum())
        self.liabilities = liabilities - paid_per
        for p in self.platforms:
            run = failed_per[p.index] > cfg.collapse_failed_share * liabilities[p.index]
            if p.is_open and run:  # a suspended platform is already in official hands
                self.wind_down(p, orderly=p.flagged, reason="run")
        for p in self.platforms:
            if p.is_open:
                p.rebalance(self.liabilities[p.index])

    def violation_rate(self) -> float:
        """Share of the platforms that operated this tick that violated the rules."""
        operated = [p for p in self.platforms if p.operated]
        return sum(p.violated for p in operated) / len(operated) if operated else 0.0

    def wind_down(
        self, platform: Platform, *, orderly: bool, reason: str, status: Status | None = None
    ) -> None:
        """Close a platform and pay its users what its assets recover.

        Users recover ``min(1, value / liabilities)`` of their balances, where value is
        cash plus loans less a haircut: the orderly haircut when the regulator runs the
        book off, the fire-sale haircut in a disorderly collapse except on the share held
        in custody (see :meth:`Platform.resolution_haircut`).
        """
        pop = self.population
        j = platform.index
        held = pop.platform == j
        rows = np.nonzero(held)[0]
        balances = pop.balance[held]
        liabilities = float(balances.sum())
        market = float(self.liabilities.sum())
        haircut = platform.resolution_haircut(orderly, exit_=status == Status.EXITED)
        value = platform.cash + platform.loans * (1.0 - haircut)
        recovery = min(1.0, value / liabilities) if liabilities > 0 else 1.0
        payout = balances * recovery
        losses = balances - payout
        np.add.at(pop.cash, rows, payout)
        np.add.at(self.user_loss, rows, losses)
        pop.balance[held] = 0.0
        pop.platform[held] = -1
        pop.a[held] = 0.0
        pop.b[held] = 0.0
        paid_out = float(payout.sum())
        lost = float(losses.sum())
        self.flows.withdrawals += paid_out
        self.flows.user_losses += lost
        self.flows.fire_sale_losses += platform.loans * haircut
        self.flows.equity_distributed += max(value - paid_out, 0.0)
        self.user_losses_cum += lost
        platform.cash = platform.loans = 0.0
        platform.status = status or (Status.WOUND_DOWN if orderly else Status.COLLAPSED)
        platform.sandbox = None
        platform.suspended_until = None
        self.liabilities[j] = 0.0
        share = liabilities / market if market > 0 else 0.0
        scale = self.cfg.trust.orderly_shock_ratio if orderly else 1.0
        self.sector_shock += self.cfg.trust.collapse_shock * share * scale
        self.log_event(
            str(platform.status),
            platform=j,
            reason=reason,
            liabilities=liabilities,
            recovery=recovery,
            user_losses=lost,
            market_share=share,
        )

    def inform_users(self) -> None:
        """Step 6: evidence from outcomes, disclosure, ratings, news and word of mouth."""
        rng = self.rngs["information"]
        self.good, self.bad = gather_evidence(self, rng)
        for rumour in self.rumours:
            if rumour.live:
                rumour.advance(self, self.bad, self.rngs["rumours"])
        self.wom_net = word_of_mouth(self, self.good, self.bad, rng)
        update_institutional_trust(self, rng)

    def update_trust(self) -> None:
        """Step 7: beta evidence with forgetting and asymmetry."""
        t = self.cfg.trust
        accounts.update_evidence(
            self.population.a,
            self.population.b,
            self.good,
            self.bad,
            F32(t.forgetting),
            F32(t.w_plus),
            F32(t.w_minus),
        )

    def update_satisfaction(self) -> None:
        """Step 8: satisfaction, complaints and published ratings."""
        self.complaints, self.rating, self.platform_users = update_satisfaction(
            self, self.rngs["users"]
        )

    def adapt_strategies(self) -> None:
        """Step 9: every ``adaptation.every`` ticks, run the registered strategy adapters."""
        cfg = self.cfg.adaptation
        if cfg.enabled and self.tick % cfg.every == 0:
            for adapter in self.adapters:
                adapter(self, self.rngs["adaptation"])

    def record(self) -> None:
        """Step 10: the tick's metrics and platform rows."""
        self.violations_total += sum(p.violated for p in self.platforms)
        self.datacollector.collect(self)
        self.platform_rows.extend(metrics.platform_rows(self))

    # --- results ----------------------------------------------------------------------

    def timeseries(self):
        """One row per tick (tick 0 is the initial state), columns as in ``sim.metrics``."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def platform_table(self):
        """One row per tick and platform."""
        import pandas as pd

        return pd.DataFrame(self.platform_rows)
