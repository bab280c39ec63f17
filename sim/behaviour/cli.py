"""``trustsim-behaviour``: simulate every study, then write ``OUT/behaviour.md`` and its figures.

Sections 1-3 and 5 run at ``--users`` x ``--ticks`` over seeds ``0 .. --seeds - 1``; the
Morris screening (section 4) runs one seed per design row at ``--morris-users``. Runs are
cached in ``--cache`` (see :mod:`sim.behaviour.runs`), so a second call with the same
arguments simulates nothing and writes the same numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sim.behaviour import claims as claim_studies
from sim.behaviour import figures, morris, page, studies
from sim.behaviour.measures import require_columns
from sim.behaviour.runs import Arm, BehaviourError, Cache, RunStats, compose_arm, run_arms
from sim.config import ConfigError
from sim.output import atomic_write_bytes

PAGE = "behaviour.md"
FIGURES = "behaviour"  # folder of the figures, beside the page
PROG = "trustsim-behaviour"


@dataclasses.dataclass(frozen=True)
class Options:
    """The run sizes and where things go (see ``trustsim-behaviour --help``)."""

    out: Path = Path("docs")
    seeds: int = 10
    users: int = 3000
    ticks: int = 260
    jobs: int = 2
    cache: Path = Path(".behaviour_cache")
    morris_r: int = 10
    morris_users: int = 1000
    morris_ticks: int | None = None  # None: --ticks
    morris_levels: int = 4
    command: str = PROG


QUICK = {"seeds": 3, "users": 800, "ticks": 80, "morris_r": 3, "morris_users": 400}


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Options from the command line; ``--quick`` changes the defaults, not given values."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Simulate the model's behaviour studies and write OUT/behaviour.md "
        "with its figures in OUT/behaviour/.",
    )
    d = Options()
    p.add_argument("--out", type=Path, help=f"folder of the page (default {d.out})")
    p.add_argument("--seeds", type=int, help=f"seeds per arm (default {d.seeds})")
    p.add_argument("--users", type=int, help=f"users per run (default {d.users})")
    p.add_argument("--ticks", type=int, help=f"weeks per run (default {d.ticks})")
    p.add_argument("--jobs", type=int, help=f"parallel worker processes (default {d.jobs})")
    p.add_argument("--cache", type=Path, help=f"work folder of cached runs (default {d.cache})")
    p.add_argument("--morris-r", type=int, help=f"Morris trajectories (default {d.morris_r})")
    p.add_argument(
        "--morris-users", type=int, help=f"users per Morris run (default {d.morris_users})"
    )
    p.add_argument("--morris-ticks", type=int, help="weeks per Morris run (default --ticks)")
    p.add_argument(
        "--morris-levels", type=int, help=f"Morris grid levels (default {d.morris_levels})"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small defaults for a smoke test: "
        + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in QUICK.items()),
    )
    args = p.parse_args(argv)
    given = {k: v for k, v in vars(args).items() if v is not None and k != "quick"}
    values = {**(QUICK if args.quick else {}), **given}
    argv_text = shlex.join(sys.argv[1:] if argv is None else list(argv))
    options = Options(**values, command=f"{PROG} {argv_text}".strip())
    for name in ("seeds", "users", "ticks", "jobs", "morris_r", "morris_users"):
        if getattr(options, name) < 1 or (name == "seeds" and options.seeds < 2):
            p.error(f"--{name.replace('_', '-')} must be at least {2 if name == 'seeds' else 1}")
    return options


def git_commit() -> str:
    """The short commit of the checkout holding the package, marked if it has changes."""
    where = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if dirty else head


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def generate(options: Options) -> RunStats:
    """Run every study (from the cache where possible) and write the page and figures.

    Returns:
        How many distinct runs the report needed and how many were simulated.

    Raises:
        BehaviourError: A table entry or indicator column the model does not have.
        ConfigError: A config the schema refuses.
    """
    started = time.perf_counter()
    commit = git_commit()  # before the page and figures it writes count as changes
    size = (f"population.n_users={options.users}", f"ticks={options.ticks}")
    seeds = list(range(options.seeds))
    indicators = studies.INDICATORS

    plans = [studies.plan_scenario(n, size, options.ticks) for n in studies.scenario_names()]
    baseline = plans[0].arm
    runnable = [p for p in plans if p.skipped is None]
    skipped = {p.name for p in plans if p.skipped is not None}
    levers = studies.lever_factors(size, indicators)
    tools = studies.tool_factors(size, indicators)
    claim_arms = [
        a for a in claim_studies.claim_arms(size) if a.label.split("/", 1)[1] not in skipped
    ]
    main_arms: dict[str, Arm] = {}
    for arm in [
        *(p.arm for p in runnable),
        *(a for f in [*levers, *tools] for a in (f.low_arm, f.high_arm)),
        *claim_arms,
    ]:
        main_arms.setdefault(arm.label, arm)

    morris_ticks = options.morris_ticks or options.ticks
    morris_base = (f"population.n_users={options.morris_users}", f"ticks={morris_ticks}")
    screening = morris.plan(
        compose_arm(morris_base),
        morris_base,
        options.morris_r,
        options.morris_levels,
    )
    requests = [(arm, s) for arm in main_arms.values() for s in seeds]
    requests += [(arm, s) for arm in screening.arms for s in screening.seeds]
    _log(f"{PROG}: planned in {time.perf_counter() - started:.1f} s")
    results, stats = run_arms(requests, Cache(options.cache), options.jobs, _log)
    _log(f"{PROG}: runs ready after {time.perf_counter() - started:.1f} s")

    needed = {f"indicator {i.name}": i.columns for i in indicators}
    needed["rumour measures"] = ("rumour_reach", "rumour_withdrawals")
    needed["claim ch. 2"] = ("violation_rate", "user_losses_cum")
    require_columns(results.values(), needed)

    scenario_results = [
        studies.analyse_scenario(p, baseline, results, seeds, indicators) for p in runnable[1:]
    ]
    lever_results = [studies.analyse_factor(f, results, seeds) for f in levers]
    tool_results = [studies.analyse_factor(f, results, seeds) for f in tools]
    morris_table, morris_notes = morris.analyse(screening, results)
    claims = claim_studies.evaluate(lever_results, results, seeds, size, skipped=skipped)

    figure_dir = options.out / FIGURES
    pngs: dict[str, bytes] = {}
    for p in runnable[1:]:
        fig = figures.scenario_figure(p, baseline, results, seeds, indicators)
        pngs[f"scenario/{p.name}"] = figures.png(fig)
    pngs["levers"] = figures.png(
        figures.effects_figure(lever_results, indicators, "Lever effects: high − low, 95 % CI")
    )
    pngs["tools"] = figures.png(
        figures.effects_figure(tool_results, indicators, "Regulator tools: high − low, 95 % CI")
    )
    if len(morris_table):
        pngs["morris"] = figures.png(figures.morris_figure(morris_table))
    written = {}
    for key, data in pngs.items():
        name = _slug(key.replace("/", "_")) + ".png"
        atomic_write_bytes(figure_dir / name, data)
        written[key] = f"{FIGURES}/{name}"
    for old in figure_dir.glob("*.png"):  # figures of scenarios no longer in the library
        if f"{FIGURES}/{old.name}" not in written.values():
            old.unlink()

    report = page.Report(
        command=options.command,
        date=datetime.date.today().isoformat(),
        commit=commit,
        users=options.users,
        ticks=options.ticks,
        seeds=seeds,
        runs=stats.runs,
        indicators=indicators,
        scenarios=scenario_results,
        skipped=[p for p in plans if p.skipped is not None],
        levers=lever_results,
        tools=tool_results,
        untested_tools=studies.untested_tools(),
        screening=screening,
        morris_size=(options.morris_users, morris_ticks),
        morris=morris_table,
        morris_notes=morris_notes,
        claims=claims,
        figures=written,
    )
    path = options.out / PAGE
    atomic_write_bytes(path, page.render(report).encode())
    _log(
        f"{PROG}: wrote {path} and {len(written)} figures in {figure_dir} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: exit 0 on success, 2 with one message on a bad table or config."""
    options = parse_args(argv)
    try:
        generate(options)
    except (BehaviourError, ConfigError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 0
