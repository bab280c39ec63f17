"""Benchmark 2: TrustModel's user-ticks/s vs Mesa's own VirusOnNetwork agent-steps/s.

The reference is Mesa's bundled ``mesa.examples.basic.virus_on_network`` model, run
unchanged except for two things that would otherwise dominate or make it infeasible at
100,000 nodes, and neither of which is part of its step:

* its graph: the example calls ``nx.erdos_renyi_graph(n, p)``, which is O(n^2); here the
  same G(n, p) with ``p = avg_degree / (n - 1)`` comes from ``sim.network.erdos_renyi``
  (seeded) and is converted with ``nx.from_scipy_sparse_array``;
* its layout: ``mesa.discrete_space.Network`` defaults to ``layout=nx.spring_layout``
  (minutes at 10k nodes); it is built with ``layout=None`` (a purely topological network,
  no positions, no KD-tree). The child checks both.

Both models run in their own fresh child process (so neither's Python objects burden the
other's garbage collector) on the same seeded Erdos-Renyi graph. Target: ours/theirs >= 50.
"""

from __future__ import annotations

import gc
import time
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any
from unittest import mock

from benchmarks._common import (
    check_target,
    cross_check,
    log,
    quiet,
    run_child,
    summary,
    time_calls,
)

NAME = "vs_mesa_virus"
TITLE = "TrustModel vs Mesa's VirusOnNetwork (throughput)"
AVG_DEGREE = 10
SEED = 20240602
MESA_SEED = 42
TARGET_RATIO = 50.0
TARGET_N = 100_000

FULL = {"n": 100_000, "mesa_warmup": 2, "mesa_timed": 10, "our_warmup": 5, "our_timed": 20}
QUICK = {"n": 10_000, "mesa_warmup": 2, "mesa_timed": 5, "our_warmup": 3, "our_timed": 10}


def _graph(n: int, seed: int):
    import numpy as np

    from sim.network import erdos_renyi

    return erdos_renyi(n, AVG_DEGREE, np.random.default_rng(seed))


def measure_ours(n: int, seed: int, warmup: int, timed: int) -> dict[str, Any]:
    """Child process: TrustModel (defaults) on the Erdos-Renyi graph, seconds per tick."""
    quiet()
    from sim.compose import compose_config
    from sim.model import TrustModel

    adj = _graph(n, seed)
    cfg = compose_config([f"population.n_users={n}", f"ticks={warmup + timed}"])
    t0 = time.perf_counter()
    model = TrustModel(cfg, network=adj)
    build_s = time.perf_counter() - t0
    gc.collect()
    cpu: list[float] = []
    ticks = time_calls(model.step, warmup, timed, cpu)
    return {
        "n": n,
        "edges": int(adj.nnz // 2),
        "build_s": build_s,
        "ticks_s": ticks,
        "tick": summary(ticks),
        "user_ticks_per_s": n / summary(ticks)["median"],
        "cpu_s": cpu,
        "user_ticks_per_cpu_s": n / summary(cpu)["median"],
    }


def measure_mesa(n: int, seed: int, outbreak: int, warmup: int, timed: int) -> dict[str, Any]:
    """Child process: Mesa's VirusOnNetwork on the same graph, seconds per ``step()``."""
    quiet()
    import mesa.examples.basic.virus_on_network.model as virus
    import networkx as nx
    from mesa.discrete_space import Network

    adj = _graph(n, seed)
    t0 = time.perf_counter()
    graph = nx.from_scipy_sparse_array(adj)
    convert_s = time.perf_counter() - t0
    assert graph.number_of_nodes() == n and graph.number_of_edges() == adj.nnz // 2
    calls: dict[str, Any] = {}

    def erdos_renyi_graph(n, p, seed=None, directed=False):
        # The example's own call; its p = avg_node_degree / num_nodes.
        calls["er"] = {"n": n, "p": p}
        assert n == graph.number_of_nodes()
        return graph

    def network(G, capacity=None, random=None, **kwargs):
        calls["network"] = {"capacity": capacity, "layout_default": kwargs.get("layout")}
        return Network(G, capacity=capacity, random=random, layout=None)

    # Only ``erdos_renyi_graph`` of the example's ``nx`` is used by its __init__.
    fast_nx = SimpleNamespace(erdos_renyi_graph=erdos_renyi_graph)
    t0 = time.perf_counter()
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(virus, "nx", fast_nx))
        stack.enter_context(mock.patch.object(virus, "Network", network))
        model = virus.VirusOnNetwork(
            num_nodes=n,
            avg_node_degree=AVG_DEGREE,
            initial_outbreak_size=outbreak,
            rng=MESA_SEED,
        )
    build_s = time.perf_counter() - t0
    grid = model.grid
    assert "er" in calls and "network" in calls, calls
    assert grid._kdtree is None and not grid._kdtree_cells, "layout was computed"
    assert all(cell._position is None for cell in grid.all_cells), "cells have positions"
    assert len(model.agents) == n

    # Split each step into the agents' stepping and the example's own data collection.
    collect_times: list[float] = []
    collect = model.datacollector.collect

    def timed_collect(m):
        t = time.perf_counter()
        collect(m)
        collect_times.append(time.perf_counter() - t)

    model.datacollector.collect = timed_collect
    infected = []

    def step():
        model.step()
        infected.append(model.datacollector.model_vars["Infected"][-1])

    gc.collect()
    cpu: list[float] = []
    steps = time_calls(step, warmup, timed, cpu)
    collect_timed = collect_times[warmup:]
    agents_only = [s - c for s, c in zip(steps, collect_timed, strict=True)]
    return {
        "n": n,
        "outbreak": outbreak,
        "edges": graph.number_of_edges(),
        "graph_convert_s": convert_s,
        "build_s": build_s,
        "example_er_call": calls["er"],
        "network_call": {"capacity": calls["network"]["capacity"], "layout": None},
        "steps_s": steps,
        "step": summary(steps),
        "agents_only": summary(agents_only),
        "collect": summary(collect_timed),
        "infected_after_each_step": infected,
        "agent_steps_per_s": n / summary(steps)["median"],
        "agent_steps_per_s_agents_only": n / summary(agents_only)["median"],
        "agent_steps_per_s_best": n / summary(steps)["min"],
        "cpu_s": cpu,
        "agent_steps_per_cpu_s": n / summary(cpu)["median"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Run our model and two outbreak variants of Mesa's, each in its own child."""
    p = QUICK if quick else FULL
    n = p["n"]
    log(f"{NAME}: TrustModel at n={n:,}")
    ours = run_child(
        NAME, "measure_ours", n=n, seed=SEED, warmup=p["our_warmup"], timed=p["our_timed"]
    )
    variants = []
    for outbreak in (1, n // 10):
        log(f"{NAME}: Mesa VirusOnNetwork at n={n:,}, initial outbreak {outbreak:,}")
        variants.append(
            run_child(
                NAME,
                "measure_mesa",
                n=n,
                seed=SEED,
                outbreak=outbreak,
                warmup=p["mesa_warmup"],
                timed=p["mesa_timed"],
            )
        )
    ours_rate = ours["user_ticks_per_s"]
    rows = [
        [
            f"TrustModel ({n:,} users, defaults)",
            f"{1e3 * ours['tick']['median']:.1f}",
            f"{1e3 * ours['tick']['min']:.1f} / {1e3 * ours['tick']['max']:.1f}",
            f"{ours_rate:,.0f}",
            "1.0x",
            "-",
            "1.0x",
        ]
    ]
    for v in variants:
        rows.append(
            [
                f"VirusOnNetwork, outbreak {v['outbreak']:,}",
                f"{1e3 * v['step']['median']:.1f}",
                f"{1e3 * v['step']['min']:.1f} / {1e3 * v['step']['max']:.1f}",
                f"{v['agent_steps_per_s']:,.0f}",
                f"**{ours_rate / v['agent_steps_per_s']:.1f}x**",
                f"{ours_rate / v['agent_steps_per_s_best']:.1f}x",
                f"{ours['user_ticks_per_cpu_s'] / v['agent_steps_per_cpu_s']:.1f}x",
            ]
        )
    detail = [
        [
            f"{v['outbreak']:,}",
            f"{1e3 * v['agents_only']['median']:.1f}",
            f"{1e3 * v['collect']['median']:.1f}",
            f"{v['agent_steps_per_s_agents_only']:,.0f}",
            f"{ours_rate / v['agent_steps_per_s_agents_only']:.1f}x",
            ", ".join(f"{i:,}" for i in v["infected_after_each_step"]),
            f"{v['graph_convert_s']:.1f} + {v['build_s']:.1f}",
        ]
        for v in variants
    ]
    primary = variants[0]
    ratio = ours_rate / primary["agent_steps_per_s"]
    target = check_target(
        ratio,
        TARGET_RATIO,
        ">=",
        label=f"ours/theirs at {n:,} (example's default outbreak of 1)",
        unit="x",
        at=f"{TARGET_N:,} nodes",
        indicative=n != TARGET_N,
    )
    ours_cpu = summary(ours["cpu_s"])["median"]
    mesa_cpu = summary(primary["cpu_s"])["median"]
    cross_check(
        target,
        ours["user_ticks_per_cpu_s"] / primary["agent_steps_per_cpu_s"],
        f"wall/CPU {primary['step']['median'] / mesa_cpu:.2f} for Mesa's step, "
        f"{ours['tick']['median'] / ours_cpu:.2f} for our tick",
    )
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"Graph: one G(n, p) Erdos-Renyi graph, n={n:,}, mean degree {AVG_DEGREE}, from "
            f"`sim.network.erdos_renyi(n, {AVG_DEGREE}, np.random.default_rng({SEED}))` "
            f"({primary['edges']:,} edges), regenerated identically in each child.",
            "Mesa side: the bundled `mesa.examples.basic.virus_on_network.model."
            "VirusOnNetwork`, unmodified code, constructed with `num_nodes=n, "
            f"avg_node_degree={AVG_DEGREE}, rng={MESA_SEED}` and default epidemic "
            "parameters (spread 0.4, check 0.4, recovery 0.3, resistance 0.5). Only two "
            "names in its module are patched while it is constructed: `nx.erdos_renyi_graph`"
            " returns the graph above converted with `nx.from_scipy_sparse_array` (the "
            "example's own O(n^2) generator is infeasible at 100k), and `Network(...)` is "
            "built with `layout=None` (its default `nx.spring_layout` takes minutes); the "
            "child asserts no KD-tree and no cell positions exist.",
            "Initial outbreak: the example's default of 1 infected node (headline), and "
            "10% of nodes (the 1-in-10 share of the example's app defaults). Infected nodes "
            "were chosen by the example's own seeded `self.random.sample`.",
            f"Timing: `VirusOnNetwork.step()` (= `agents.shuffle_do('step')` + its "
            f"DataCollector), median over {p['mesa_timed']} steps after {p['mesa_warmup']} "
            f"warm-up steps; agent-steps/s = n / median s per step. TrustModel: "
            f"`TrustModel(cfg, network=same graph)` with defaults, median over "
            f"{p['our_timed']} ticks after {p['our_warmup']} warm-up; user-ticks/s = "
            "n / median s per tick. Both steps include their own data collection.",
            "The virus model's step cost depends on how many nodes are infected (an "
            "infected node loops over its neighbours), so the per-step infected counts are "
            "listed; the 'vs fastest Mesa step' column is a lower bound on our advantage.",
        ],
        "tables": [
            {
                "columns": [
                    "model",
                    "ms per step (median)",
                    "min / max ms",
                    "agent-steps/s (user-ticks/s)",
                    "ours/theirs",
                    "vs fastest Mesa step",
                    "ours/theirs in CPU time",
                ],
                "rows": rows,
            },
            {
                "title": "Mesa step split and epidemic state",
                "columns": [
                    "outbreak",
                    "agents' step ms",
                    "DataCollector ms",
                    "agent-steps/s w/o collection",
                    "ours/theirs w/o their collection",
                    "infected after each step (warm-up + timed)",
                    "graph convert + build s",
                ],
                "rows": detail,
            },
        ],
        "target": target,
        "raw": {"ours": ours, "mesa": variants},
    }
