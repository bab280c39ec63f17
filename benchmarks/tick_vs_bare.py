"""Benchmark 1: one model tick vs a bare numpy/scipy diffusion step on the same network.

The reference is what a minimal vectorised diffusion costs on the users' network: one
sparse mat-vec with the row-normalised float32 matrix, a few in-place elementwise passes
and one Bernoulli draw over all users. The model's tick does much more (MODEL.md's ten
phases, ``max_accounts`` slots per user, platforms, metrics), so the ratio says how many
"bare diffusion steps" one tick costs. Target: <= 10x at 1,000,000 users.

Each size runs in a fresh child process: the same Watts-Strogatz matrix (built once with a
seeded Generator) feeds both the bare kernel and ``TrustModel(cfg, network=adj)``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from benchmarks._common import (
    check_target,
    cross_check,
    log,
    quiet,
    run_child,
    summary,
    time_calls,
)

NAME = "tick_vs_bare"
TITLE = "Model tick vs bare numpy/scipy diffusion step"
AVG_DEGREE = 10
SEED = 20240601
TARGET_RATIO = 10.0
TARGET_N = 1_000_000

# (n_users, model warm-up ticks, model timed ticks, bare warm-up, bare timed per batch)
FULL = [
    (10_000, 5, 20, 10, 100),
    (100_000, 5, 20, 10, 50),
    (1_000_000, 5, 20, 5, 20),
]
QUICK = [
    (10_000, 3, 10, 5, 50),
    (100_000, 3, 8, 5, 20),
]


def bare_kernel(n: int, weights, rng) -> Any:
    """Return ``step()``: one minimal vectorised diffusion step over ``n`` float32 states.

    ``x <- (1 - mu) x + mu W x`` (sparse mat-vec), a hazard ``p = rate (1 - x)``, one
    Bernoulli draw ``rng.random(n) < p`` and a masked decay of the hit entries. Buffers are
    preallocated and updates are in place, as an optimised vectorised kernel would do.
    """
    import numpy as np

    f32 = np.float32
    x = rng.random(n, dtype=f32)
    p = np.empty(n, dtype=f32)
    u = np.empty(n, dtype=f32)
    mu, rate, decay, one = f32(0.05), f32(0.01), f32(0.9), f32(1.0)

    def step() -> None:
        y = weights @ x  # neighbour mean, float32
        y -= x
        y *= mu
        np.add(x, y, out=x)  # x = (1 - mu) x + mu W x
        np.subtract(one, x, out=p)
        np.multiply(p, rate, out=p)
        hit = rng.random(n, dtype=f32, out=u) < p  # one Bernoulli draw per user
        np.multiply(x, decay, out=x, where=hit)

    return step


def measure(
    n: int, warmup: int, timed: int, bare_warmup: int, bare_timed: int, seed: int
) -> dict[str, Any]:
    """Child process: build the network once, time the bare kernel and the model's tick."""
    quiet()
    import numpy as np

    from sim.compose import compose_config
    from sim.model import TrustModel
    from sim.network import row_normalised, watts_strogatz

    cfg = compose_config([f"population.n_users={n}", f"ticks={warmup + timed}"])
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    adj = watts_strogatz(n, AVG_DEGREE, cfg.network.rewire_p, rng)
    network_s = time.perf_counter() - t0
    weights = row_normalised(adj)
    assert weights.dtype == np.float32, weights.dtype

    step = bare_kernel(n, weights, np.random.default_rng(seed + 1))
    bare_cpu: list[float] = []
    model_cpu: list[float] = []
    bare_before = time_calls(step, bare_warmup, bare_timed, bare_cpu)

    t0 = time.perf_counter()
    model = TrustModel(cfg, network=adj)
    build_s = time.perf_counter() - t0
    assert model.network.adjacency is adj
    gc.collect()
    log(f"  n={n:,}: model built in {build_s:.1f} s; {warmup}+{timed} ticks")
    model_ticks = time_calls(model.step, warmup, timed, model_cpu)
    # A second bare batch after the model: the median over both batches is robust to
    # drifts in machine load during the run.
    bare_after = time_calls(step, 2, bare_timed, bare_cpu)
    bare_all = bare_before + bare_after
    return {
        "n": n,
        "edges": int(adj.nnz // 2),
        "mean_degree": adj.nnz / n,
        "network_build_s": network_s,
        "model_build_s": build_s,
        "model_ticks_s": model_ticks,
        "model": summary(model_ticks),
        "bare_ticks_s": bare_all,
        "bare": summary(bare_all),
        "bare_before_median_s": summary(bare_before)["median"],
        "bare_after_median_s": summary(bare_after)["median"],
        "ratio": summary(model_ticks)["median"] / summary(bare_all)["median"],
        "ratio_of_minima": min(model_ticks) / min(bare_all),
        "model_cpu_ticks_s": model_cpu,
        "bare_cpu_ticks_s": bare_cpu,
        "ratio_cpu": summary(model_cpu)["median"] / summary(bare_cpu)["median"],
        "warmup_ticks": warmup,
        "final_tick": model.tick,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Run every size in its own child process and assemble the result."""
    sizes = QUICK if quick else FULL
    per_size = []
    for n, warmup, timed, bare_warmup, bare_timed in sizes:
        log(f"{NAME}: n={n:,}")
        per_size.append(
            run_child(
                NAME,
                "measure",
                n=n,
                warmup=warmup,
                timed=timed,
                bare_warmup=bare_warmup,
                bare_timed=bare_timed,
                seed=SEED,
            )
        )
    rows = []
    for r in per_size:
        rows.append(
            [
                f"{r['n']:,}",
                f"{r['mean_degree']:.2f}",
                f"{1e3 * r['bare']['median']:.2f}",
                f"{1e3 * r['model']['median']:.1f}",
                f"{1e3 * r['model']['min']:.1f} / {1e3 * r['model']['max']:.1f}",
                f"**{r['ratio']:.1f}x**",
                f"{r['ratio_of_minima']:.1f}x / {r['ratio_cpu']:.1f}x",
                f"{r['n'] / r['model']['median'] / 1e6:.2f}",
                f"{r['model_build_s']:.1f}",
            ]
        )
    largest = per_size[-1]
    target = check_target(
        largest["ratio"],
        TARGET_RATIO,
        "<=",
        label=f"model/bare at {largest['n']:,} users",
        unit="x",
        at=f"{TARGET_N:,} users",
        indicative=largest["n"] != TARGET_N,
    )
    if not target["passed"]:
        budget = TARGET_RATIO * largest["bare"]["median"]
        target["verdict"] += (
            f"; model tick must fall from {1e3 * largest['model']['median']:.0f} ms to "
            f"<= {1e3 * budget:.0f} ms at this bare time"
        )
    cpu_m, cpu_b = (
        summary(largest[k])["median"] for k in ("model_cpu_ticks_s", "bare_cpu_ticks_s")
    )
    cross_check(
        target,
        largest["ratio_cpu"],
        f"wall/CPU {largest['model']['median'] / cpu_m:.2f} for the model tick, "
        f"{largest['bare']['median'] / cpu_b:.2f} for the bare step",
    )
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"Network: `sim.network.watts_strogatz(n, {AVG_DEGREE}, rewire_p=config default, "
            f"np.random.default_rng({SEED}))`, built once per size and passed to both sides "
            "(`TrustModel(cfg, network=adj)`; the bare kernel uses `row_normalised(adj)`, "
            "float32 CSR).",
            "Model: `compose_config(['population.n_users=N', 'ticks=W+T'])`, all other "
            "parameters default (platforms.count=20, max_accounts=3); time of "
            "`model.step()` per tick, median over T timed ticks after W warm-up ticks "
            "(construction is not timed).",
            "Bare step (the reference): `y = W @ x; x = (1-mu) x + mu y` in place, "
            "`p = rate (1 - x)`, `hit = rng.random(n, float32) < p`, masked decay "
            "`x[hit] *= 0.9` - all float32, preallocated buffers. Median over two batches "
            "(before and after the model's ticks).",
            "Each size runs in a fresh child process. Headline ratio = median/median of wall "
            "times. Checks against noise from other processes: the ratio of the fastest tick "
            "to the fastest bare step, and the ratio of median CPU times (`time.process_time`"
            ", which does not count time spent waiting for a core).",
        ],
        "tables": [
            {
                "columns": [
                    "users",
                    "mean degree",
                    "bare ms/step",
                    "model ms/tick (median)",
                    "model min / max ms",
                    "ratio model/bare",
                    "ratio of minima / of CPU times",
                    "model M user-ticks/s",
                    "model build s",
                ],
                "rows": rows,
            }
        ],
        "target": target,
        "raw": per_size,
    }
