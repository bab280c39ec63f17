"""Benchmark 3: peak memory (and wall time) of a 1,000,000-user, 260-tick run.

A fresh child process composes the default config with ``population.n_users=1000000`` and
``ticks=260``, builds ``TrustModel`` (network included) and runs it to the end; its peak
resident set size comes from ``resource.getrusage``. The reference is the peak RSS of
another fresh child that only does ``import sim.model``. Target: peak <= 3 GB.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._common import (
    GB,
    check_target,
    fmt_bytes,
    log,
    max_rss_bytes,
    proc_status_bytes,
    quiet,
    run_child,
)

NAME = "memory_1m"
TITLE = "Peak memory of a 1M-user x 260-tick run"
TARGET_BYTES = 3 * GB
FULL = {"n": 1_000_000, "ticks": 260}
QUICK = {"n": 100_000, "ticks": 26}


def baseline() -> dict[str, Any]:
    """Child process: a bare ``import sim.model``."""
    t0 = time.perf_counter()
    import sim.model  # noqa: F401

    return {"import_s": time.perf_counter() - t0, "max_rss": max_rss_bytes()}


def full_run(n: int, ticks: int) -> dict[str, Any]:
    """Child process: build the model with defaults and run it to ``ticks``."""
    start = time.perf_counter()
    quiet()
    from sim.compose import compose_config
    from sim.model import TrustModel

    import_s = time.perf_counter() - start
    cfg = compose_config([f"population.n_users={n}", f"ticks={ticks}"])
    t0 = time.perf_counter()
    model = TrustModel(cfg)
    build_s = time.perf_counter() - t0
    after_build = {"rss": proc_status_bytes("VmRSS"), "peak": max_rss_bytes()}
    log(f"  built {n:,} users in {build_s:.1f} s; RSS {fmt_bytes(after_build['rss'])}")
    checkpoints = []
    every = max(1, ticks // 10)
    t_run = time.perf_counter()

    def progress(tick: int) -> None:
        if tick % every == 0 or tick == ticks:
            elapsed = time.perf_counter() - t_run
            rss = proc_status_bytes("VmRSS")
            checkpoints.append(
                {"tick": tick, "elapsed_s": elapsed, "rss": rss, "peak": max_rss_bytes()}
            )
            log(
                f"  tick {tick}/{ticks}: {elapsed:.0f} s, {elapsed / tick:.2f} s/tick, "
                f"RSS {fmt_bytes(rss)}"
            )

    model.run(progress=progress)
    run_s = time.perf_counter() - t_run
    return {
        "n": n,
        "ticks": ticks,
        "final_tick": model.tick,
        "import_s": import_s,
        "build_s": build_s,
        "run_s": run_s,
        "s_per_tick": run_s / ticks,
        "wall_s": time.perf_counter() - start,
        "after_build": after_build,
        "checkpoints": checkpoints,
        "max_rss": max_rss_bytes(),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Baseline child, then the full run in its own child."""
    p = QUICK if quick else FULL
    log(f"{NAME}: baseline (import sim.model)")
    base = run_child(NAME, "baseline")
    log(f"{NAME}: {p['n']:,} users x {p['ticks']} ticks (this is the long one)")
    full = run_child(NAME, "full_run", n=p["n"], ticks=p["ticks"])
    peak, ref = full["max_rss"], base["max_rss"]
    rows = [
        ["bare `import sim.model` (reference)", fmt_bytes(ref), "1.0x", "-", "-"],
        [
            f"after building {p['n']:,} users",
            fmt_bytes(full["after_build"]["peak"]),
            f"{full['after_build']['peak'] / ref:.1f}x",
            f"{full['build_s']:.1f} s build",
            f"RSS now {fmt_bytes(full['after_build']['rss'])}",
        ],
        [
            f"**whole run ({p['n']:,} x {p['ticks']} ticks)**",
            f"**{fmt_bytes(peak)}**",
            f"**{peak / ref:.1f}x**",
            f"{full['child_wall_s']:.0f} s wall (process)",
            f"{full['s_per_tick']:.3f} s/tick over {p['ticks']} ticks",
        ],
    ]
    growth = [
        [
            str(c["tick"]),
            f"{c['elapsed_s']:.0f}",
            f"{c['elapsed_s'] / c['tick']:.3f}",
            fmt_bytes(c["rss"]),
            fmt_bytes(c["peak"]),
        ]
        for c in full["checkpoints"]
    ]
    target = check_target(
        peak / GB,
        TARGET_BYTES / GB,
        "<=",
        label=f"peak RSS at {p['n']:,} x {p['ticks']}",
        unit=" GB",
        fmt="{:.2f}",
        at="1,000,000 users x 260 ticks",
        indicative=p != FULL,
    )
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"Child process: `compose_config(['population.n_users={p['n']}', "
            f"'ticks={p['ticks']}'])` (all else default: Watts-Strogatz degree 10 built by "
            "the model, 20 platforms, 3 account slots), `TrustModel(cfg)`, `model.run()`. "
            "Peak = `resource.getrusage(RUSAGE_SELF).ru_maxrss` at the end (whole process "
            "lifetime: imports, config, network, agents, all ticks, DataCollector).",
            "Reference: peak RSS of a fresh child that only runs `import sim.model` "
            f"({base['import_s']:.2f} s to import).",
            "GB = 10^9 bytes. Wall time is the child's, interpreter start to exit.",
        ],
        "tables": [
            {
                "columns": ["stage", "peak RSS", "x baseline", "time", "note"],
                "rows": rows,
            },
            {
                "title": "Progress through the run (RSS should stay flat)",
                "columns": ["tick", "elapsed s", "s/tick so far", "RSS", "peak so far"],
                "rows": growth,
            },
        ],
        "target": target,
        "raw": {"baseline": base, "run": full},
    }
