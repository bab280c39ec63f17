"""Sweeps (Hydra multiruns): progress, and a summary of failures at the end.

:class:`SweepCallback` is registered in ``conf/config.yaml`` (``hydra.callbacks``). It
works through the sweep folder, so it behaves the same on every launcher (basic, joblib,
submitit, Ray) as long as the jobs share a file system:

* at the start it writes ``SWEEP_DIR/sweep.json`` with the number of jobs (a sampling
  sweeper that knows its design size writes it instead);
* after each job it prints ``jobs done/total`` with an estimate of the time left; with
  submitit (SLURM, or its local launcher) a job's prints go to its own log, so the
  submitting process watches the folder instead and prints the same line when the count
  changes (:class:`Watcher`);
* at the end it lists the failed runs (their ``status.json``) and exits with status 3,
  after every other run has finished and been kept.
"""

import math
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import exits
from sim.files import STATUS, SUMMARY, SWEEP
from sim.output import read_json, write_json

SWEEP_FILE = SWEEP

EXIT_SWEEP_FAILED = exits.SWEEP_FAILED


def count_jobs(overrides: list[str], params: dict[str, Any] | None = None) -> int:
    """Jobs in a basic-sweeper multirun: the product of the sweep lengths.

    As in Hydra's basic sweeper, a command-line override replaces ``hydra.sweeper.params``
    for the same key.
    """
    parser = OverridesParser.create()
    by_key = {
        o.key_or_group: o
        for o in parser.parse_overrides([f"{k}={v}" for k, v in (params or {}).items()])
    }
    by_key.update({o.key_or_group: o for o in parser.parse_overrides(list(overrides))})
    total = 1
    for override in by_key.values():
        if override.is_sweep_override():
            total *= len(list(override.sweep_string_iterator()))
    return total


def run_folders(sweep_dir: Path) -> list[Path]:
    """Run folders of a sweep: those that hold Hydra's ``.hydra`` record."""
    return sorted(p.parent for p in sweep_dir.glob("**/.hydra") if p.is_dir())


def sweep_state(sweep_dir: Path) -> dict[str, list[Path]]:
    """Run folders by state: ``complete``, ``failed`` and ``incomplete``."""
    state: dict[str, list[Path]] = {"complete": [], "failed": [], "incomplete": []}
    for folder in run_folders(sweep_dir):
        if read_json(folder / SUMMARY) is not None:
            state["complete"].append(folder)
        elif (read_json(folder / STATUS) or {}).get("status") == "failed":
            state["failed"].append(folder)
        else:
            state["incomplete"].append(folder)
    return state


def _format_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def progress_line(sweep_dir: Path) -> tuple[int, str]:
    """Jobs finished so far, and the progress line that says so."""
    info = read_json(sweep_dir / SWEEP_FILE) or {}
    # Cheap counts (one glob each), not a full scan: this runs after every job.
    complete = sum(1 for _ in sweep_dir.glob(f"*/{SUMMARY}"))
    failed = sum(1 for _ in sweep_dir.glob(f"*/{STATUS}"))
    done = complete + failed
    total = info.get("total") or done
    elapsed = time.time() - info.get("started", time.time())
    # Runs skipped on resume finish at once; estimate from the pace so far all the same.
    left = elapsed / done * (total - done) if done else math.inf
    note = f", {failed} failed" if failed else ""
    return (
        done,
        f"trustsim sweep: {done}/{total} jobs done{note}, about {_format_seconds(left)} left",
    )


class Watcher:
    """Prints the sweep's progress from the submitting process while its jobs run elsewhere.

    A thread looks at the sweep folder every ``every`` seconds and prints the progress line
    when the count of finished jobs has changed; :meth:`stop` looks a last time.
    """

    def __init__(self, sweep_dir: Path, every: float = 5.0):
        self.sweep_dir = sweep_dir
        self.every = every
        self._done = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="trustsim-sweep", daemon=True)
        self._thread.start()

    def _look(self) -> None:
        done, line = progress_line(self.sweep_dir)
        if done != self._done:
            self._done = done
            print(line, flush=True)

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            self._look()

    def stop(self) -> None:
        """Stop watching, after a last look."""
        self._stop.set()
        self._thread.join()
        self._look()


# The submitting process's watchers, by sweep folder; not on the callback, which submitit
# pickles into every job.
_WATCHERS: dict[str, Watcher] = {}


class SweepCallback(Callback):
    """Progress and failure summary of a multirun (see the module docstring)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:  # noqa: D102
        exits.STARTED.set()  # from here on, exit status 1 is not a usage error
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        params = config.hydra.sweeper.get("params")
        params = OmegaConf.to_container(params, resolve=True) if params else {}
        try:
            total = count_jobs(list(config.hydra.overrides.task), params)
        except Exception:  # a sweeper of another kind: it reports its own size
            total = None
        write_json(sweep_dir / SWEEP_FILE, {"total": total, "started": time.time()})
        if "submitit" in str(config.hydra.launcher.get("_target_", "")):
            _WATCHERS[str(sweep_dir)] = Watcher(sweep_dir)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:  # noqa: D102
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        print(progress_line(Path(config.hydra.sweep.dir))[1])

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:  # noqa: D102
        sweep_dir = Path(config.hydra.sweep.dir)
        if (watcher := _WATCHERS.pop(str(sweep_dir), None)) is not None:
            watcher.stop()
        state = sweep_state(sweep_dir)
        print(
            f"trustsim sweep: {len(state['complete'])} complete, {len(state['failed'])} failed "
            f"in {sweep_dir}"
        )
        if state["failed"]:
            print(
                f"trustsim sweep: {len(state['failed'])} runs failed (each has a status.json; "
                "run the same sweep again into the same folder to redo them):",
                file=sys.stderr,
            )
            for folder in state["failed"]:
                error = (read_json(folder / STATUS) or {}).get("error", "?")
                print(f"  {folder.relative_to(sweep_dir)}: {error}", file=sys.stderr)
            raise SystemExit(EXIT_SWEEP_FAILED)
