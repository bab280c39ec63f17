"""TrustModel: builds the world from a config and runs MODEL.md's tick, one call per phase."""

from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
import pandas as pd
import scipy.sparse as sp

from sim import decisions, information, jurisdictions, operations, satisfaction, withdrawals
from sim.adaptation import Adapter, FermiImitation
from sim.agents import Platform, Regulator, User
from sim.config import Config, validate
from sim.entry import MarketStructure
from sim.events import EventContext, Timeline, parse_events
from sim.market import create_market
from sim.metrics import Recorder
from sim.network import SocialNetwork, build_network, with_cross_share
from sim.population import init_population
from sim.resolution import Resolver
from sim.rng import spawn_streams


class TrustModel(mesa.Model):
    """Users, platforms and a regulator interacting over a social network.

    The model owns the state (``population``, ``market``, the ``regulator``'s policy, the
    ``network``) and runs the phases in order; each phase lives in the module named in
    :meth:`step` and receives the state it reads.

    Args:
        cfg: The run's config (defaults if omitted); validated here.
        network: A prebuilt adjacency matrix to reuse instead of generating one.

    Example:
        >>> from sim.compose import compose_config
        >>> model = TrustModel(compose_config(["population.n_users=300", "ticks=5"]))
        >>> model.run()
        >>> model.tick
        5
    """

    def __init__(self, cfg: Config | None = None, *, network: sp.csr_array | None = None):
        cfg = validate(cfg if cfg is not None else Config())
        events = parse_events(cfg.scenario.events, cfg.ticks, cfg.platforms.count)
        self.rngs = spawn_streams(cfg.seed)
        super().__init__(rng=self.rngs["mesa"])
        self.cfg = cfg
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
        self.network = SocialNetwork.of(network)
        self.population = pop = init_population(pop_cfg, self.rngs["population"])
        # One regulator per jurisdiction; the first is ``regulator`` (the one events and
        # entry act through). With none declared there is one, of everything.
        policies = jurisdictions.policies(cfg)
        several = len(policies) > 1
        shared = cfg.scenario.cross_border.shared_blacklist
        everyone = (1 << len(policies)) - 1
        self.regulators = [
            Regulator(self, policy, index if several else None, everyone if shared else 1 << index)
            for index, policy in enumerate(policies)
        ]
        self.regulator = self.regulators[0]
        self.market = create_market(
            cfg.platforms,
            self.regulator.policy,
            float(pop.cash.sum()) * pop_cfg.initial_investor_share,
            pop_cfg.deposit_share,
            pop_cfg.initial_satisfaction,
            pop.platform.shape,
            self.rngs["platforms_init"],
        )
        self.market.policies = [r.policy for r in self.regulators]
        if several:
            shares = cfg.scenario.jurisdictions
            rng = self.rngs["jurisdictions"]
            pop.jurisdiction[:] = jurisdictions.assign(
                [j.user_share for j in shares], pop_cfg.n_users, rng
            )
            self.market.jurisdiction[:] = jurisdictions.assign(
                [j.platform_share for j in shares], len(self.market), rng
            )
            ties = cfg.scenario.cross_border.tie_share
            if ties is not None:  # a set share of the social ties across borders
                adjacency = with_cross_share(self.network.adjacency, pop.jurisdiction, ties, rng)
                self.network = SocialNetwork.of(adjacency)
        # Step 5's cooperation between regulators: flags passed on, joint inspections
        # (several jurisdictions, and only when either is on: neither then draws anything).
        border = cfg.scenario.cross_border
        cooperating = several and (border.info_sharing > 0 or border.joint_inspections > 0)
        self.sharing = (
            jurisdictions.FlagSharing(border.info_sharing, border.info_delay)
            if cooperating
            else None
        )
        self.platforms: list[Platform] = []
        self._add_platform_agents()
        for i in range(pop_cfg.n_users):
            User(self, i)
        self.resolver = Resolver(self.market, pop, cfg.platforms, cfg.trust)
        self.timeline = Timeline(events)
        self.events = EventContext(
            self.market, pop, self.regulator.policy, cfg, self.rngs["events"], self.resolver
        )
        if several:  # policy events may name the jurisdiction whose regulator they shift
            names = jurisdictions.names(cfg)
            self.events.jurisdictions = dict(zip(names, self.market.policies, strict=True))
            self.events.starting = dict(zip(names, policies, strict=True))
        information.initial_public_record(self.market, cfg.trust, cfg.platforms.recovery_rate)
        decisions.initial_deposits(pop, self.market, cfg, self.rngs["population"])
        # Step 9: callables (market, rng) run every ``adaptation.every`` ticks when
        # enabled; Fermi imitation by default, and a hook for other adaptation rules.
        self.adapters: list[Adapter] = [FermiImitation(cfg.adaptation, self.market)]
        self.structure = (
            MarketStructure(cfg, self.market, self.regulator.policy, self.resolver)
            if cfg.entry.enabled
            else None
        )
        self.recorder = Recorder(
            pop, self.market, self.regulators, cfg.trust.prior_weight, jurisdictions.names(cfg)
        )
        self.datacollector = self.recorder.datacollector
        self.recorder.record(self)

    def _add_platform_agents(self) -> None:
        """A Mesa agent (a view) for every market row that has none yet (entrants)."""
        for j in range(len(self.platforms), len(self.market)):
            self.platforms.append(Platform(self, self.market, j))

    @property
    def tick(self) -> int:
        """Weeks simulated so far (0 before the first step)."""
        return self.market.tick

    @property
    def event_log(self) -> list[dict[str, Any]]:
        """Emergent and scheduled events so far, as ``events.jsonl`` will hold them."""
        return self.market.event_log

    # --- the tick ---------------------------------------------------------------------

    def step(self) -> None:
        """One week, in MODEL.md's process order."""
        cfg, pop, market, rngs = self.cfg, self.population, self.market, self.rngs
        market.start_tick()
        self.timeline.advance(self.events)  # 1 scenario events (sim.events)
        if self.structure is not None:  # 1 entry and exit, from last tick's signals
            self.structure.act(rngs["entry"])
        self._add_platform_agents()
        operations.operate(  # 2
            market, pop, cfg, self._expected_penalty(), rngs["platforms"]
        )
        requests = decisions.decide(pop, market, cfg, rngs["users"])  # 3
        withdrawals.settle(  # 4
            pop, market, requests, self.resolver, cfg.platforms, rngs["settlement"]
        )
        if self.sharing is not None:  # 5: flags on foreign licensees cross borders first
            served = jurisdictions.residents_served(
                pop.platform, pop.balance, pop.jurisdiction, len(market), len(self.regulators)
            )
            self.sharing.exchange(
                market, served, market.policies, cfg.platforms.liquidity_stress,
                rngs["jurisdictions"],
            )  # fmt: skip
        for regulator in self.regulators:  # 5
            regulator.act(market, pop, cfg.platforms, self.resolver, rngs["regulator"])
        if self.sharing is not None:  # 5: then inspections of foreign licensees, jointly
            jurisdictions.joint_inspections(
                market, served, self.regulators, cfg.scenario.cross_border.joint_inspections,
                self.resolver, rngs["jurisdictions"],
            )  # fmt: skip
        for regulator in self.regulators:  # 5: what the tick's supervision cost
            regulator.account()
        information.inform(  # 6 and 7: evidence, learned as it is gathered; 8's tally
            pop,
            market,
            self.network,
            cfg.trust,
            [j for r in self.regulators for j in r.enforced],
            self._news_reach(),
            cfg.platforms.recovery_rate,
            satisfaction.outcomes(market, cfg.population),  # 8's outcomes, in 6's pass
            rngs["information"],
            rngs["rumours"],
            [len(r.enforced) for r in self.regulators] if len(self.regulators) > 1 else None,
            cfg.scenario.cross_border.foreign_news_weight,
        )
        satisfaction.update_satisfaction(pop, market, cfg.population, rngs["users"])  # 8
        if cfg.adaptation.enabled and market.tick % cfg.adaptation.every == 0:  # 9
            for adapter in self.adapters:
                adapter(market, rngs["adaptation"])
        if len(self.regulators) > 1:  # 9: platforms may move their licence (arbitrage)
            fines = np.array([r.expected_penalty() for r in self.regulators])
            jurisdictions.relocate(market, market.policies, fines, cfg, rngs["jurisdictions"])
        if self.structure is not None:  # 9: the signals entrants read next tick
            self.structure.observe()
        self.recorder.record(self)  # 10 (sim.metrics)

    def _expected_penalty(self) -> float | np.ndarray:
        """The expected fine per violation: a number, or by licence with several regulators."""
        if len(self.regulators) == 1:
            return self.regulator.expected_penalty()
        fines = np.array([r.expected_penalty() for r in self.regulators])
        return fines[self.market.jurisdiction]

    def _news_reach(self) -> float | np.ndarray:
        """Share of users enforcement news reaches: each user's own regulator's."""
        if len(self.regulators) == 1:
            return self.regulator.policy.news_reach
        reach = np.array([r.policy.news_reach for r in self.regulators], dtype=np.float32)
        return reach[self.population.jurisdiction]

    def run(self, ticks: int | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Run ``ticks`` steps (default: up to ``cfg.ticks``), calling ``progress(tick)``."""
        end = self.cfg.ticks if ticks is None else self.tick + ticks
        while self.tick < end:
            self.step()
            if progress is not None:
                progress(self.tick)

    # --- results ----------------------------------------------------------------------

    def timeseries(self) -> pd.DataFrame:
        """One row per tick (tick 0 is the initial state), columns as in ``sim.metrics``."""
        return self.recorder.timeseries()

    def platform_table(self) -> pd.DataFrame:
        """One row per tick and platform."""
        return self.recorder.platform_table()

    def jurisdiction_table(self) -> pd.DataFrame:
        """One row per tick and jurisdiction (empty when none is declared)."""
        return self.recorder.jurisdiction_table()
