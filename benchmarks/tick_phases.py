"""Where a tick's time goes at 1,000,000 users: per-phase timing plus a cProfile of one tick.

Informational (no target): it tells whoever optimises the tick which phase to attack.
Each phase method that ``TrustModel.step()`` calls is wrapped on the instance with a
timer, and ``step()`` itself runs unmodified, so reordering or renaming phases in
``sim/model.py`` cannot make this benchmark time a stale copy of the tick. Phases it does
not find are reported as missing; time outside the wrapped phases shows as "other".
"""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import time
from typing import Any

from benchmarks._common import log, quiet, run_child, summary

NAME = "tick_phases"
TITLE = "Tick phase breakdown and hot spots (informational)"
SEED = 20240603
# (attribute path on the model, label): the calls in TrustModel.step().
PHASES = [
    ("_reset_tick_state", "0 _reset_tick_state"),
    ("apply_scheduled_events", "1 apply_scheduled_events"),
    ("operate_platforms", "2 operate_platforms"),
    ("users_decide", "3 users_decide"),
    ("settle", "4 settle"),
    ("regulator.act", "5 regulator.act"),
    ("inform_users", "6 inform_users"),
    ("update_trust", "7 update_trust"),
    ("update_satisfaction", "8 update_satisfaction"),
    ("adapt_strategies", "9 adapt_strategies"),
    ("record", "10 record"),
]
FULL = {"n": 1_000_000, "warmup": 5, "timed": 10}
QUICK = {"n": 100_000, "warmup": 3, "timed": 8}
TOP = 25


def _wrap(model, path: str, sink: list[float]) -> bool:
    owner = model
    *parents, attr = path.split(".")
    for name in parents:
        owner = getattr(owner, name, None)
        if owner is None:
            return False
    original = getattr(owner, attr, None)
    if not callable(original):
        return False

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - t0)

    setattr(owner, attr, timed)
    return True


def _profile_rows(stats: pstats.Stats, key: str, limit: int) -> list[dict[str, Any]]:
    stats.sort_stats(key)
    rows = []
    for func in stats.fcn_list[:limit]:
        cc, nc, tt, ct, _ = stats.stats[func]
        filename, line, name = func
        where = filename.split("site-packages/")[-1] if "site-packages/" in filename else filename
        if "/sim/" in where:
            where = "sim/" + where.split("/sim/", 1)[1]
        rows.append(
            {"function": f"{where}:{line}({name})", "ncalls": nc, "tottime": tt, "cumtime": ct}
        )
    return rows


def measure(n: int, warmup: int, timed: int, seed: int) -> dict[str, Any]:
    """Child process: time each phase over ``timed`` ticks, then cProfile one more tick."""
    quiet()
    import numpy as np

    from sim.config import compose_config
    from sim.model import TrustModel
    from sim.network import watts_strogatz

    cfg = compose_config([f"population.n_users={n}", f"ticks={warmup + timed + 1}"])
    adj = watts_strogatz(n, cfg.network.avg_degree, cfg.network.rewire_p, np.random.default_rng(seed))
    model = TrustModel(cfg, network=adj)
    gc.collect()
    for _ in range(warmup):
        model.step()
    sinks: dict[str, list[float]] = {}
    missing = []
    for path, label in PHASES:
        sinks[label] = []
        if not _wrap(model, path, sinks[label]):
            missing.append(path)
    totals = []
    for _ in range(timed):
        t0 = time.perf_counter()
        model.step()
        totals.append(time.perf_counter() - t0)
    phases = {}
    for label, samples in sinks.items():
        if samples:
            phases[label] = summary(_per_tick(samples, timed))
    log(f"  n={n:,}: profiling one tick with cProfile")
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    model.step()
    profiler.disable()
    profiled_s = time.perf_counter() - t0
    stats = pstats.Stats(profiler, stream=io.StringIO())
    return {
        "n": n,
        "warmup": warmup,
        "timed": timed,
        "ticks_s": totals,
        "tick": summary(totals),
        "phases": phases,
        "missing": missing,
        "profiled_tick_s": profiled_s,
        "profile_tottime": _profile_rows(stats, "tottime", TOP),
        "profile_cumtime": _profile_rows(stats, "cumulative", TOP),
    }


def _per_tick(samples: list[float], ticks: int) -> list[float]:
    """Per-tick sums when a phase ran several times per tick (else the samples)."""
    if len(samples) == ticks:
        return samples
    k = len(samples) // ticks
    return [sum(samples[i * k : (i + 1) * k]) for i in range(ticks)]


def run(quick: bool = False) -> dict[str, Any]:
    """Run the breakdown in a child process."""
    p = QUICK if quick else FULL
    log(f"{NAME}: n={p['n']:,}")
    r = run_child(NAME, "measure", n=p["n"], warmup=p["warmup"], timed=p["timed"], seed=SEED)
    total = r["tick"]["median"]
    rows = []
    accounted = 0.0
    for label, s in r["phases"].items():
        accounted += s["median"]
        rows.append(
            [
                label,
                f"{1e3 * s['median']:.1f}",
                f"{100 * s['median'] / total:.1f}%",
                f"{1e3 * s['min']:.1f} / {1e3 * s['max']:.1f}",
            ]
        )
    rows.append(["other (outside the phases)", f"{1e3 * (total - accounted):.1f}", "", ""])
    rows.append(
        [
            "**whole tick**",
            f"**{1e3 * total:.1f}**",
            "100%",
            f"{1e3 * r['tick']['min']:.1f} / {1e3 * r['tick']['max']:.1f}",
        ]
    )
    hot = [
        [f"`{h['function']}`", str(h["ncalls"]), f"{1e3 * h['tottime']:.1f}", f"{1e3 * h['cumtime']:.1f}"]
        for h in r["profile_tottime"]
    ]
    cum = [
        [f"`{h['function']}`", str(h["ncalls"]), f"{1e3 * h['tottime']:.1f}", f"{1e3 * h['cumtime']:.1f}"]
        for h in r["profile_cumtime"]
        if h["function"].startswith("sim/")
    ]
    notes = []
    if r["missing"]:
        notes.append(f"Phases not found on the model (renamed?): {', '.join(r['missing'])}.")
    return {
        "name": NAME,
        "title": TITLE,
        "setup": [
            f"`TrustModel` with defaults at n={p['n']:,} (Watts-Strogatz degree 10, seeded), "
            f"{p['warmup']} warm-up ticks, then {p['timed']} ticks with every phase wrapped "
            "by a timer (medians; phase medians need not add up exactly to the tick median).",
            f"Then one more tick under cProfile (took {r['profiled_tick_s']:.2f} s with the "
            "profiler on): the top functions by own time and, for `sim/`, by cumulative time.",
        ],
        "tables": [
            {
                "columns": ["phase", "ms/tick (median)", "share", "min / max ms"],
                "rows": rows,
            },
            {
                "title": f"cProfile, one tick at {p['n']:,}: top {TOP} by own time",
                "columns": ["function", "calls", "own ms", "cumulative ms"],
                "rows": hot,
            },
            {
                "title": "cProfile: `sim/` functions by cumulative time",
                "columns": ["function", "calls", "own ms", "cumulative ms"],
                "rows": cum,
            },
        ],
        "target": None,
        "notes": notes,
        "raw": r,
    }
