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
import sys
import time
import types
from typing import Any

from benchmarks._common import log, quiet, run_child, summary

NAME = "tick_phases"
TITLE = "Tick phase breakdown and hot spots (informational)"
SEED = 20240603
# (attribute path on the model, or "module:function" as sim.model calls it; label):
# the calls in TrustModel.step().
PHASES = [
    ("market.start_tick", "0 market.start_tick"),
    ("timeline.advance", "1 timeline.advance"),
    ("sim.operations:operate", "2 operations.operate"),
    ("sim.decisions:decide", "3 decisions.decide"),
    ("sim.withdrawals:settle", "4 withdrawals.settle"),
    ("regulator.act", "5 regulator.act"),
    ("sim.information:inform", "6-7 information.inform (evidence, learned)"),
    ("sim.satisfaction:update_satisfaction", "8 satisfaction.update_satisfaction"),
    ("adapters.0", "9 adapters (when enabled)"),
    ("recorder.record", "10 recorder.record"),
]
FULL = {"n": 1_000_000, "warmup": 5, "timed": 10}
QUICK = {"n": 100_000, "warmup": 3, "timed": 8}
TOP = 25
PROFILED = 5  # ticks under cProfile; figures are per tick


def _wrap(model, path: str, sink: list[float], cpu_sink: list[float]) -> bool:
    if ":" in path:  # a module function, looked up through its module at call time
        module, attr = path.split(":")
        owner = sys.modules.get(module)
    else:
        owner = model
        *parents, attr = path.split(".")
        for name in parents:
            owner = getattr(owner, name, None)
            if owner is None:
                return False
    if attr.isdigit() and isinstance(owner, list):  # an entry of a list (the adapters)
        index = int(attr)
        if index >= len(owner) or not callable(owner[index]):
            return False
        original = owner[index]
    else:
        original = getattr(owner, attr, None)
    if not callable(original):
        return False

    def timed(*args, **kwargs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - t0)
            cpu_sink.append(time.process_time() - c0)

    if attr.isdigit() and isinstance(owner, list):
        owner[int(attr)] = timed
    else:
        setattr(owner, attr, timed)
    return True


def _kernel_call(*args, **kwargs):  # template: ``kernel`` is bound in each copy's globals
    return kernel(*args, **kwargs)  # noqa: F821


def expose_numba_kernels() -> list[str]:
    """Wrap every numba dispatcher in ``sim.*`` so that cProfile sees it as a function.

    cProfile does not record calls into numba dispatchers (their time lands in the Python
    caller's own time). Each kernel gets a thin Python wrapper whose code object carries
    the kernel's file, line and name (suffixed ``[numba]``), so it gets its own profile row.
    """
    wrappers: dict[int, Any] = {}
    exposed = []
    for modname, module in list(sys.modules.items()):
        if module is None or not (modname == "sim" or modname.startswith("sim.")):
            continue
        for attr, obj in list(vars(module).items()):
            py_func = getattr(obj, "py_func", None)
            if py_func is None or not callable(obj):
                continue
            if id(obj) not in wrappers:
                code = _kernel_call.__code__.replace(
                    co_name=f"{py_func.__name__}[numba]",
                    co_qualname=f"{py_func.__name__}[numba]",
                    co_filename=py_func.__code__.co_filename,
                    co_firstlineno=py_func.__code__.co_firstlineno,
                )
                wrappers[id(obj)] = types.FunctionType(code, {"kernel": obj})
                exposed.append(f"{py_func.__module__}.{py_func.__name__}")
            setattr(module, attr, wrappers[id(obj)])
    return exposed


def _profile_rows(stats: pstats.Stats, key: str, limit: int) -> list[dict[str, Any]]:
    stats.sort_stats(key)
    rows = []
    for func in stats.fcn_list[:limit]:
        _cc, nc, tt, ct, _ = stats.stats[func]
        filename, line, name = func
        where = filename.split("site-packages/")[-1] if "site-packages/" in filename else filename
        if "/sim/" in where:
            where = "sim/" + where.split("/sim/", 1)[1]
        rows.append(
            {
                "function": f"{where}:{line}({name})",
                "ncalls": nc / PROFILED,
                "tottime": tt / PROFILED,
                "cumtime": ct / PROFILED,
            }
        )
    return rows


def measure(n: int, warmup: int, timed: int, seed: int) -> dict[str, Any]:
    """Child process: time each phase over ``timed`` ticks, then cProfile one more tick."""
    quiet()
    import numpy as np

    from sim.compose import compose_config
    from sim.model import TrustModel
    from sim.network import watts_strogatz

    cfg = compose_config([f"population.n_users={n}", f"ticks={warmup + timed + PROFILED}"])
    adj = watts_strogatz(
        n, cfg.network.avg_degree, cfg.network.rewire_p, np.random.default_rng(seed)
    )
    model = TrustModel(cfg, network=adj)
    gc.collect()
    for _ in range(warmup):
        model.step()
    sinks: dict[str, list[float]] = {}
    cpu_sinks: dict[str, list[float]] = {}
    missing = []
    for path, label in PHASES:
        sinks[label], cpu_sinks[label] = [], []
        if not _wrap(model, path, sinks[label], cpu_sinks[label]):
            missing.append(path)
    totals, cpu_totals = [], []
    for _ in range(timed):
        c0 = time.process_time()
        t0 = time.perf_counter()
        model.step()
        totals.append(time.perf_counter() - t0)
        cpu_totals.append(time.process_time() - c0)
    phases = {}
    phases_cpu = {}
    per_tick = {}
    for label, samples in sinks.items():
        if samples:
            per_tick[label] = _per_tick(samples, timed)
            phases[label] = summary(per_tick[label])
            phases_cpu[label] = summary(_per_tick(cpu_sinks[label], timed))
    # Time outside the wrapped phases, tick by tick (not a difference of medians).
    other = [total - sum(p[i] for p in per_tick.values()) for i, total in enumerate(totals)]
    log(f"  n={n:,}: profiling {PROFILED} ticks with cProfile")
    exposed = expose_numba_kernels()
    # CPU time, not wall time: other processes on a shared machine do not distort it.
    profiler = cProfile.Profile(time.process_time)
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(PROFILED):
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
        "tick_cpu": summary(cpu_totals),
        "phases_cpu": phases_cpu,
        "phases": phases,
        "phase_ticks_s": per_tick,
        "other": summary(other),
        "missing": missing,
        "numba_kernels": exposed,
        "profiled_ticks": PROFILED,
        "profiled_tick_s": profiled_s / PROFILED,
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
    total_cpu = r["tick_cpu"]["median"]
    rows = []
    for label, s in r["phases"].items():
        c = r["phases_cpu"][label]
        rows.append(
            [
                label,
                f"{1e3 * s['median']:.1f}",
                f"{100 * s['median'] / total:.1f}%",
                f"{1e3 * c['median']:.1f}",
                f"{100 * c['median'] / total_cpu:.1f}%",
                f"{1e3 * s['min']:.1f} / {1e3 * s['max']:.1f}",
            ]
        )
    o = r["other"]
    rows.append(
        [
            "other (outside the phases, wall)",
            f"{1e3 * o['median']:.1f}",
            f"{100 * o['median'] / total:.1f}%",
            "",
            "",
            f"{1e3 * o['min']:.1f} / {1e3 * o['max']:.1f}",
        ]
    )
    rows.append(
        [
            "**whole tick**",
            f"**{1e3 * total:.1f}**",
            "100%",
            f"**{1e3 * total_cpu:.1f}**",
            "100%",
            f"{1e3 * r['tick']['min']:.1f} / {1e3 * r['tick']['max']:.1f}",
        ]
    )
    hot = [
        [
            f"`{h['function']}`",
            f"{h['ncalls']:g}",
            f"{1e3 * h['tottime']:.1f}",
            f"{1e3 * h['cumtime']:.1f}",
        ]
        for h in r["profile_tottime"]
    ]
    cum = [
        [
            f"`{h['function']}`",
            f"{h['ncalls']:g}",
            f"{1e3 * h['tottime']:.1f}",
            f"{1e3 * h['cumtime']:.1f}",
        ]
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
            f"Then {r['profiled_ticks']} more ticks under cProfile ({r['profiled_tick_s']:.2f} s"
            " per tick with the profiler on; figures below are CPU ms per tick, from "
            "`cProfile.Profile(time.process_time)`): the top functions "
            "by own time and, for `sim/`, by cumulative time. "
            f"The {len(r['numba_kernels'])} numba kernels found in `sim` are wrapped so they "
            "get their own rows (marked `[numba]`); otherwise their time would be counted as "
            "their Python caller's own time.",
        ],
        "tables": [
            {
                "columns": [
                    "phase",
                    "wall ms/tick (median)",
                    "share",
                    "CPU ms/tick (median)",
                    "CPU share",
                    "wall min / max ms",
                ],
                "rows": rows,
            },
            {
                "title": f"cProfile at {p['n']:,} users: top {TOP} by own time",
                "columns": ["function", "calls/tick", "own CPU ms/tick", "cumulative CPU ms/tick"],
                "rows": hot,
            },
            {
                "title": "cProfile: `sim/` functions by cumulative time",
                "columns": ["function", "calls/tick", "own CPU ms/tick", "cumulative CPU ms/tick"],
                "rows": cum,
            },
        ],
        "target": None,
        "notes": notes,
        "raw": r,
    }
