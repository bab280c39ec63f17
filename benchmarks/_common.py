"""Shared helpers: timing, subprocesses, memory readings, machine facts, targets.

Imports only the standard library, so that a child process measuring memory starts from
a bare interpreter; numpy and friends are imported inside the functions that need them.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
GB = 1e9  # targets in GB are decimal: 3 GB = 3e9 bytes
MB = 1e6


# --------------------------------------------------------------------------------------------
# Noise control and logging
# --------------------------------------------------------------------------------------------


def quiet() -> None:
    """Silence Mesa's logger and its warnings (call in every process that imports Mesa)."""
    logging.getLogger("MESA").setLevel(logging.ERROR)
    for category in (FutureWarning, DeprecationWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category, module=r"mesa(\.|$)")


def log(msg: str) -> None:
    """Progress line on stderr (stdout stays free for the report)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def time_calls(
    fn: Callable[[], Any], warmup: int, timed: int, cpu: list[float] | None = None
) -> list[float]:
    """Wall seconds per call of ``fn`` for ``timed`` calls after ``warmup`` untimed ones.

    If ``cpu`` is given, this process's CPU seconds per timed call are appended to it: on a
    machine shared with other work, wall time well above CPU time means the benchmark
    waited for a core.
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(timed):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return samples


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median, min, max, mean and count of timing samples (seconds)."""
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "mean": statistics.fmean(samples),
        "n": len(samples),
    }


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def proc_status_bytes(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in bytes, if available."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def run_child(module: str, func: str, timeout: float = 7200.0, **kwargs: Any) -> dict[str, Any]:
    """Run ``benchmarks.<module>.<func>(**kwargs)`` in a fresh interpreter; return its dict.

    The child's stderr (progress lines) passes through; its result travels in a temporary
    JSON file, so a library printing to stdout cannot corrupt it. The parent adds
    ``child_wall_s``, the child's wall time including interpreter start-up.
    """
    with tempfile.TemporaryDirectory(prefix="trustsim-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks._child",
            module,
            func,
            json.dumps(kwargs),
            str(out),
        ]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        tail: collections.deque[str] = collections.deque(maxlen=25)
        try:
            assert proc.stderr is not None
            for line in proc.stderr:  # relay progress, keep the end for error reports
                sys.stderr.write(line)
                tail.append(line)
            returncode = proc.wait()
        finally:
            killer.cancel()
        wall = time.perf_counter() - t0
        if returncode != 0 or not out.exists():
            raise RuntimeError(
                f"benchmark child {module}.{func}({kwargs}) failed with exit code "
                f"{returncode}; the end of its stderr:\n" + "".join(tail)
            )
        result = json.loads(out.read_text())
    result["child_wall_s"] = wall
    return result


# --------------------------------------------------------------------------------------------
# Machine and code facts
# --------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _physical_cores() -> int | None:
    try:
        with open("/proc/cpuinfo") as fh:
            pairs = set()
            phys = core = None
            for line in fh:
                if line.startswith("physical id"):
                    phys = line.split(":", 1)[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":", 1)[1].strip()
                elif not line.strip() and core is not None:
                    pairs.add((phys, core))
                    phys = core = None
            if core is not None:
                pairs.add((phys, core))
        return len(pairs) or None
    except OSError:
        return None


def _ram_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str | None:
    # Read-only queries; --no-optional-locks keeps `status` from refreshing the index.
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode == 0:
            return proc.stdout.rstrip("\n")
    return None


def code_fingerprint() -> dict[str, Any]:
    """Which code was measured: git commit, modified files, and a hash of ``sim/``'s sources.

    Other people edit ``sim/`` while benchmarks run, so the commit alone is not enough;
    the hash changes with any uncommitted edit.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    status = _git("status", "--porcelain", "--", "sim")
    return {
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "sim_modified_files": [line[3:] for line in status.splitlines() if line.strip()]
        if status
        else [],
        "sim_sha256": digest.hexdigest()[:16],
    }


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, OS, load and library versions of this machine."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": _physical_cores(),
        "cpus_available": affinity,
        "ram_bytes": _ram_bytes(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "mesa": _version("mesa"),
        "networkx": _version("networkx"),
        "load_avg": os.getloadavg(),
    }


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------


def check_target(
    value: float,
    threshold: float,
    direction: str,
    *,
    label: str,
    unit: str = "",
    fmt: str = "{:.1f}",
    at: str = "",
    indicative: bool = False,
) -> dict[str, Any]:
    """PASS/MISS of ``value`` against ``threshold`` and, for a miss, by how much.

    Args:
        value: The measured figure.
        threshold: The target.
        direction: ``"<="`` (lower is better) or ``">="`` (higher is better).
        label: What the value is, e.g. ``"model/bare ratio"``.
        unit: Unit shown after numbers (``"x"``, ``" GB"``).
        fmt: Number format.
        at: Where the target applies, e.g. ``"1,000,000 users"``.
        indicative: True when measured at other sizes than the target's (``--quick``).
    """
    if direction == "<=":
        passed = value <= threshold
        factor = value / threshold if threshold else float("inf")
        change = f"needs a {100 * (1 - threshold / value):.0f}% cut" if value > 0 else ""
    elif direction == ">=":
        passed = value >= threshold
        factor = threshold / value if value else float("inf")
        change = f"needs {factor:.2f}x more throughput"
    else:
        raise ValueError(f"direction must be '<=' or '>=', got {direction!r}")
    shown = (fmt + "{}").format(value, unit)
    goal = f"{direction} " + (fmt + "{}").format(threshold, unit)
    if passed:
        margin = (threshold / value if direction == "<=" else value / threshold) if value else 0
        verdict = f"PASS: {label} = {shown}, target {goal} (margin {margin:.2f}x)"
    else:
        verdict = f"MISS by {factor:.2f}x: {label} = {shown}, target {goal} ({change}"
        if unit.strip() != "x":
            verdict += ", " + (fmt + "{}").format(abs(value - threshold), unit) + " off"
        verdict += ")"
    if indicative:
        verdict += " [indicative only: --quick sizes]"
    return {
        "label": label,
        "value": value,
        "threshold": threshold,
        "direction": direction,
        "unit": unit,
        "at": at,
        "passed": passed,
        "status": "PASS" if passed else "MISS",
        "miss_factor": None if passed else factor,
        "verdict": verdict,
        "indicative": indicative,
    }


def cross_check(target: dict[str, Any], cpu_value: float, contention: str) -> dict[str, Any]:
    """Compare a wall-time verdict with the same figure computed from CPU times.

    On a machine shared with other work, long operations (a 2 s Mesa step, a 400 ms tick)
    are preempted more than short ones, so wall-time ratios can be biased; CPU time
    (``time.process_time``) does not count waiting for a core. When the two verdicts
    disagree the target is flagged as contended and the verdict says so.

    Args:
        target: The result of :func:`check_target` on wall times (updated in place).
        cpu_value: The same figure from CPU times.
        contention: A short note of wall/CPU ratios, e.g. ``"wall/CPU 2.1 (Mesa), 1.0 (ours)"``.
    """
    cpu = check_target(
        cpu_value,
        target["threshold"],
        target["direction"],
        label="CPU-time figure",
        unit=target.get("unit", ""),
    )
    target["cpu_value"] = cpu_value
    target["cpu_status"] = cpu["status"]
    target["contended"] = cpu["passed"] != target["passed"]
    target["verdict"] += (
        f". CPU-time cross-check: {cpu_value:.1f}{target.get('unit', '')} "
        f"({cpu['status']}; {contention})"
    )
    if target["contended"]:
        target["verdict"] += (
            ". **The wall-time and CPU-time verdicts disagree: other processes competed for the"
            " cores during this run; re-run on a quiet machine before trusting either.**"
        )
    return target


def fmt_bytes(n: float | None) -> str:
    """Bytes as ``1.23 GB`` or ``456 MB`` (decimal units)."""
    if n is None:
        return "n/a"
    return f"{n / GB:.2f} GB" if n >= GB else f"{n / MB:.0f} MB"
