"""The calibrated China P2P experiment: its tick against the bare step, and its memory.

``+experiment=china_p2p`` (endogenous entry and exit, 416 weekly ticks, 80 platforms at
the start and up to a few hundred open) at the scale the calibration ran at (2,000 users,
``conf/experiment/calibrate_china_p2p.yaml``), and at 1,000,000 users for the memory target
(the whole 416 weeks). The tick is timed over the run after a warm-up and set against the
bare diffusion step of ``tick_vs_bare`` on the run's own network (recorded; the 10x target
of the default world is shown for comparison). Target: peak RSS within 3 GB at 1M x 416.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._common import (
    check_target,
    fmt_bytes,
    log,
    max_rss_bytes,
    quiet,
    run_child,
    summary,
    time_calls,
)

NAME = "china_p2p"
TITLE = "The calibrated China P2P experiment: tick vs bare step, peak memory"
SIZES = (2_000, 1_000_000)
QUICK_SIZES = (2_000, 100_000)
TICKS = 416
TARGET_RATIO = 10.0
TARGET_BYTES = 3 * 1024**3


def measure(n: int, seed: int) -> dict[str, Any]:
    """Child process: the whole run at ``n`` users, every tick timed; then the bare step."""
    quiet()
    import numpy as np

    from benchmarks.tick_vs_bare import bare_kernel
    from sim.compose import compose_config
    from sim.model import TrustModel
    from sim.network import row_normalised

    cfg = compose_config(
        ["+experiment=china_p2p", f"population.n_users={n}", f"seed={seed}", "output.plot=false"]
    )
    t0 = time.perf_counter()
    model = TrustModel(cfg)
    build_s = time.perf_counter() - t0
    ticks = []
    most_open = 0
    while model.tick < cfg.ticks:
        t0 = time.perf_counter()
        model.step()
        ticks.append(time.perf_counter() - t0)
        most_open = max(most_open, int(model.market.is_open.sum()))
        if model.tick % 104 == 0:
            log(f"  n={n:,}: tick {model.tick}, {most_open} platforms open at most so far")
    weights = row_normalised(model.network.adjacency).astype(np.float32)
    step = bare_kernel(n, weights, np.random.default_rng(seed + 1))
    bare = time_calls(step, 5, 50 if n < 500_000 else 20)
    # The ticks before the 2019 exit policy (tick 314): a market still full of platforms.
    busy = ticks[20:314]
    return {
        "n": n,
        "build_s": build_s,
        "ticks": len(ticks),
        "platform_rows": len(model.market),
        "most_open": most_open,
        "tick": summary(busy),
        "run_s": sum(ticks),
        "bare": summary(bare),
        "ratio": summary(busy)["median"] / summary(bare)["median"],
        "max_rss": max_rss_bytes(),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Each size in its own child process."""
    results = []
    for n in QUICK_SIZES if quick else SIZES:
        log(f"{NAME}: {n:,} users x {TICKS} ticks")
        results.append(run_child(NAME, "measure", n=n, seed=0))
    largest = results[-1]
    speed = check_target(
        largest["ratio"],
        TARGET_RATIO,
        "<=",
        label=f"tick/bare at {largest['n']:,} users",
        unit="x",
        at="1,000,000 users",
        indicative=largest["n"] != 1_000_000,
    )
    target = check_target(
        largest["max_rss"] / 1024**3,
        TARGET_BYTES / 1024**3,
        "<=",
        label=f"peak RSS at {largest['n']:,} x {TICKS}",
        unit=" GB",
        fmt="{:.2f}",
        at=f"1,000,000 users x {TICKS} ticks",
        indicative=largest["n"] != 1_000_000,
    )
    target["verdict"] += f"; tick (recorded, the default world's target): {speed['verdict']}"
    rows = [
        [
            f"{r['n']:,}",
            f"80 / {r['most_open']:,} / {r['platform_rows']:,}",
            f"{r['run_s']:.1f}",
            f"{1e3 * r['tick']['median']:.2f}",
            f"{1e3 * r['bare']['median']:.3f}",
            f"**{r['ratio']:.1f}x**",
            fmt_bytes(r["max_rss"]),
        ]
        for r in results
    ]
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            "World: `compose_config(['+experiment=china_p2p', 'population.n_users=N'])` "
            "(the calibrated experiment; the calibration itself runs at 2,000 users), seed 0.",
            "Tick: median over ticks 21-314 (after a warm-up, before the 2019 exit policy "
            "empties the market); bare step: `tick_vs_bare.bare_kernel` on the run's own "
            "network; peak RSS of the child process (`resource.getrusage`).",
        ],
        "tables": [
            {
                "columns": [
                    "users",
                    "platforms: at start / most open / rows at end",
                    "run s (416 ticks)",
                    "ms per tick (median)",
                    "bare ms",
                    "tick / bare",
                    "peak RSS",
                ],
                "rows": rows,
            }
        ],
        "target": target,
        "raw": results,
    }
