"""Thousands of platforms: the tick at 5,000 platforms against the same world with 20.

Users weigh a small consideration set (held accounts, a tip, ``population.considered``
platforms noticed by presence), so a tick should cost about the same with 5,000 platforms
as with 20: only the per-platform phases (operations, supervision, entry and exit, the
platform rows of the metrics) grow with the number of platforms, and they are array
operations, with Python loops only over the platforms something happens to. The
benchmark times the same 100,000-user world with 20, 500 and 5,000 platforms at the
start, endogenous entry and exit on, and splits the tick by phase (the phase wrappers of
``tick_phases``). Target: the tick at 5,000 platforms within 2x the tick at 20.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from benchmarks._common import check_target, log, quiet, run_child, summary
from benchmarks.tick_phases import PHASES, _wrap

NAME = "platforms_5k"
TITLE = "Tick with thousands of platforms vs the same world with 20"
SEED = 20240605
N_USERS = 100_000
COUNTS = (20, 500, 5_000)
QUICK_COUNTS = (20, 5_000)
TARGET_RATIO = 2.0
EXTRA_PHASES = [
    ("structure.act", "1 entry and exit (sim.entry)"),
    ("structure.observe", "9 market signals (sim.entry)"),
]


def measure(n: int, platforms: int, warmup: int, timed: int, seed: int) -> dict[str, Any]:
    """Child process: build the world, time ``timed`` ticks after ``warmup``, by phase."""
    quiet()
    from sim.compose import compose_config
    from sim.model import TrustModel

    cfg = compose_config(
        [
            f"population.n_users={n}",
            f"platforms.count={platforms}",
            "entry.enabled=true",
            f"ticks={warmup + timed}",
            f"seed={seed}",
        ]
    )
    t0 = time.perf_counter()
    model = TrustModel(cfg)
    build_s = time.perf_counter() - t0
    for _ in range(warmup):
        model.step()
    sinks: dict[str, list[float]] = {}
    for path, label in [*PHASES, *EXTRA_PHASES]:
        sink: list[float] = []
        if _wrap(model, path, sink, []):
            sinks[label] = sink
    gc.collect()
    ticks = []
    for _ in range(timed):
        t0 = time.perf_counter()
        model.step()
        ticks.append(time.perf_counter() - t0)
    phases = {label: sum(s) / timed for label, s in sinks.items() if s}
    return {
        "n": n,
        "platforms": platforms,
        "rows_at_end": len(model.market),
        "open_at_end": int(model.market.is_open.sum()),
        "build_s": build_s,
        "ticks_s": ticks,
        "tick": summary(ticks),
        "phases_s": phases,
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Each platform count in its own child process."""
    counts = QUICK_COUNTS if quick else COUNTS
    warmup, timed = (2, 5) if quick else (3, 12)
    results = []
    for platforms in counts:
        log(f"{NAME}: {N_USERS:,} users, {platforms:,} platforms")
        results.append(
            run_child(
                NAME,
                "measure",
                n=N_USERS,
                platforms=platforms,
                warmup=warmup,
                timed=timed,
                seed=SEED,
            )
        )
    base, top = results[0], results[-1]
    ratio = top["tick"]["median"] / base["tick"]["median"]
    target = check_target(
        ratio,
        TARGET_RATIO,
        "<=",
        label=f"tick at {top['platforms']:,} platforms / tick at {base['platforms']}",
        unit="x",
        at=f"{N_USERS:,} users",
    )
    rows = [
        [
            f"{r['platforms']:,}",
            f"{r['open_at_end']:,} / {r['rows_at_end']:,}",
            f"{1e3 * r['tick']['median']:.1f}",
            f"{1e3 * r['tick']['min']:.1f} / {1e3 * r['tick']['max']:.1f}",
            f"{r['tick']['median'] / base['tick']['median']:.2f}x",
        ]
        for r in results
    ]
    labels = [label for label in top["phases_s"] if label in base["phases_s"]]
    phase_rows = [
        [
            label,
            *(f"{1e3 * r['phases_s'].get(label, 0.0):.2f}" for r in results),
        ]
        for label in labels
    ]
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"World: `compose_config(['population.n_users={N_USERS}', 'platforms.count=P', "
            "'entry.enabled=true'])`, all else default; the same seed for every P.",
            f"Timing: median over the timed ticks after {warmup} warm-up ticks, each P in a "
            "fresh child process; phases timed by the wrappers of `tick_phases` (mean ms per "
            "tick).",
        ],
        "tables": [
            {
                "columns": [
                    "platforms at start",
                    "open / rows at end",
                    "ms per tick (median)",
                    "min / max ms",
                    "vs 20 platforms",
                ],
                "rows": rows,
            },
            {
                "columns": ["phase", *(f"ms at {r['platforms']:,}" for r in results)],
                "rows": phase_rows,
            },
        ],
        "target": target,
        "raw": results,
    }
