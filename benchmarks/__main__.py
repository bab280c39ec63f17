"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only NAME ...]``.

A full run (no ``--quick``, no ``--only``) rewrites ``benchmarks/RESULTS.md`` and
``benchmarks/results.json``. Partial and quick runs print the report and leave those
files alone unless ``--md``/``--json`` name where to write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

from benchmarks._common import BENCH_DIR, ROOT, code_fingerprint, log, machine_info
from benchmarks.report import render

# Run order; the long memory run goes last.
BENCHMARKS = (
    "tick_vs_bare",
    "vs_mesa_virus",
    "tick_phases",
    "sweep_speedup",
    "report_speed",
    "platforms_5k",
    "china_p2p",
    "memory_1m",
)


def _write(path: Path, text: str) -> None:
    """Whole file or nothing: temporary name in the same folder, then replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (a smoke test in about a minute)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--md", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 2 if any target is missed"
    )
    args = parser.parse_args(argv)
    if args.list:
        for name in BENCHMARKS:
            mod = importlib.import_module(f"benchmarks.{name}")
            print(f"{name}: {mod.TITLE}")
        return 0

    os.chdir(ROOT)
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    full = not args.quick and not args.only
    md_path = args.md or (BENCH_DIR / "RESULTS.md" if full else None)
    json_path = args.json or (BENCH_DIR / "results.json" if full else None)
    shown = sys.argv[1:] if argv is None else argv
    run = {
        "command": shlex.join([".venv/bin/python", "-m", "benchmarks", *shown]),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine_info(),
        "code": code_fingerprint(),
        "benchmarks": [],
    }
    t_start = time.perf_counter()
    errors = 0
    for name in names:
        t0 = time.perf_counter()
        try:
            result = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick)
        except Exception:
            errors += 1
            result = {"name": name, "error": traceback.format_exc()}
            log(f"{name} FAILED:\n{result['error']}")
        result["wall_s"] = time.perf_counter() - t0
        run["benchmarks"].append(result)
        target = result.get("target")
        if target:
            log(f"{name}: {target['verdict']}")
        elif not result.get("error"):
            log(f"{name}: done in {result['wall_s']:.0f} s")
    run["wall_s"] = time.perf_counter() - t_start
    run["machine"]["load_avg_end"] = os.getloadavg()
    run["code_end"] = code_fingerprint()
    if run["code_end"]["sim_sha256"] != run["code"]["sim_sha256"]:
        log("warning: sim/ changed while the benchmarks ran; numbers mix two versions")
        run["code"]["changed_during_run"] = True

    report = render(run)
    if json_path:
        _write(json_path, json.dumps(run, indent=1) + "\n")
        log(f"raw results: {json_path}")
    if md_path:
        _write(md_path, report)
        log(f"report: {md_path}")
    print(report)
    if errors:
        return 1
    missed = any(b.get("target") and not b["target"]["passed"] for b in run["benchmarks"])
    return 2 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
