"""The ``trustsim`` command: one Hydra run -> its output folder; ``-m`` sweeps.

``trustsim`` runs the default scenario; Hydra overrides change anything in the config
(``trustsim population.n_users=50000 platforms=laggard regulator=laissez_faire``) and
``-m`` sweeps. Bad input stops before the simulation with exit status 2 and one message
naming the key, the value and what is allowed. In a sweep, a run that fails is recorded
in its folder (``status.json``) and the others go on; a run whose folder already holds a
finished run of the same config is skipped, so a sweep started again resumes.
"""

import contextlib
import os
import shutil
import signal
import sys
from pathlib import Path

import hydra
import psutil
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import InterpolationResolutionError

from sim import exits
from sim.calibration import stored_distance
from sim.compose import CONF_DIR, check_overrides, to_config
from sim.config import ConfigError
from sim.metrics import NonFiniteError
from sim.runner import is_complete, record_failure, run_simulation


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _run(cfg: DictConfig) -> float | None:
    """One run; returns its calibration distance, if it has a target (for the sweeper)."""
    hydra_cfg = HydraConfig.get()
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    out = Path(hydra_cfg.runtime.output_dir)
    config = None
    try:
        check_overrides(list(hydra_cfg.overrides.task))
        config = to_config(cfg)
        exits.STARTED.set()
        if sweeping and is_complete(out, config):
            print(f"trustsim: {out} already holds this run; skipped")
            return stored_distance(out)
        summary = run_simulation(config, out)
    except ConfigError as err:
        if sweeping:
            record_failure(out, config, err)  # the sweep goes on; its summary lists it
            return
        _remove_if_empty(out)
        exits.bad_input(err)
    except NonFiniteError as err:  # parameters validation let through: stop, say which
        record_failure(out, config, err)
        if sweeping:
            print(f"trustsim: run in {out} failed: {err}", file=sys.stderr)
            return None
        exits.bad_input(err)
    except OSError as err:  # a full disk, a folder taken away mid-run: say where, plainly
        # The disk that failed the run may not take its status either.
        with contextlib.suppress(OSError):
            record_failure(out, config, err)
        message = f"cannot write the run's files in {out}: {err.strerror or err}"
        if sweeping:
            print(f"trustsim: run in {out} failed: {message}", file=sys.stderr)
            return None
        print(f"trustsim: error: {message}", file=sys.stderr)
        raise SystemExit(exits.INTERNAL) from None
    except Exception as err:
        record_failure(out, config, err)
        if sweeping:
            print(f"trustsim: run in {out} failed: {type(err).__name__}: {err}", file=sys.stderr)
            return
        raise
    if config.model == "ishigami":
        print(f"trustsim: ishigami = {summary['final']['ishigami']:.6g}; outputs in {out}")
        return None
    final = summary["final"]
    what = f"{config.scenario.name} seed={config.seed}"
    if sweeping:  # which job: the other values it was given (not where its files go)
        skip = ("output.", "hydra.", "seed=", "scenario=")
        what = " ".join([what, *(o for o in hydra_cfg.overrides.task if not o.startswith(skip))])
    print(
        f"trustsim: {what}: {config.ticks} ticks in "
        f"{summary['wall_seconds']:.1f}s; final trust_mean={final['trust_mean']:.3f}, "
        f"platforms_active={final['platforms_active']:.0f}\n"
        f"trustsim: outputs written to {out}"
    )
    fitted = summary.get("calibration")
    if fitted is None:
        return None
    print(f"trustsim: distance to the {fitted['target']} record = {fitted['distance']}")
    return fitted["distance"]


def _remove_if_empty(folder: Path) -> None:
    """Remove a run folder that holds only Hydra's records (the run never started)."""
    entries = list(folder.iterdir()) if folder.is_dir() else []
    if all(e.name == ".hydra" or e.suffix == ".log" for e in entries):
        shutil.rmtree(folder, ignore_errors=True)


def _output_folders(argv: list[str]) -> list[tuple[str, str]]:
    """The run and sweep folders given on the command line (Hydra would trace back on them)."""
    keys = ("hydra.run.dir", "hydra.sweep.dir")
    found = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+~") in keys:
            found.append((key.lstrip("+~"), value))
    return found


def _folder_problem(folder: str) -> str | None:
    """Why ``folder`` cannot hold a run's files, or None if it can (or will be made)."""
    if not folder.strip():
        return "a folder name (empty would write into the current folder)"
    if "${" in folder:
        return None  # Hydra resolves it; a bad interpolation is reported as such
    path = Path(folder)
    if path.exists() and not path.is_dir():
        return "a folder, not an existing file"
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"a folder whose parents are folders ({parent} is a file)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"a folder this user can write in ({parent} is read-only)"
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where SIGINT would be, so every launcher's clean-up runs for it too."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


# How long the workers of a local launcher get to stop on SIGTERM before they are killed
# (submitit's local jobs ignore SIGTERM, as cluster jobs must, to be requeued).
WORKER_GRACE_S = 5.0


def _stop_workers() -> None:
    """Stop every process this one started (local launchers' workers), then kill the rest.

    Joblib stops its own workers on an interrupt; submitit's local jobs are children that
    would go on without a parent; a local Ray cluster is shut down with Ray's own call.
    Jobs on a cluster are not children and are left to the scheduler (a rerun skips what
    they finished).
    """
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():  # Ray's launcher: its own way to stop
        with contextlib.suppress(Exception):
            ray.shutdown()
    children = [c for c in psutil.Process().children(recursive=True) if not _tracker(c)]
    for child in children:  # SIGTERM, not SIGINT: a child's traceback would reach our stderr
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=WORKER_GRACE_S)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=WORKER_GRACE_S)


def _tracker(process: psutil.Process) -> bool:
    """A resource tracker (loky's, multiprocessing's): it ends with us, and cleans up then."""
    try:
        return any("resource_tracker" in part for part in process.cmdline())
    except psutil.Error:
        return False


def main() -> None:
    """Console entry point (``trustsim``).

    SIGINT and SIGTERM stop the run or the sweep: the signal is raised as an interrupt in
    the main thread, so Hydra stops launching jobs, and the local workers are stopped
    (:func:`_stop_workers`); files are written whole or not at all, so the same command
    started again resumes. Exit status 130 (SIGINT) or 143 (SIGTERM).
    """
    signal.signal(signal.SIGTERM, _on_sigterm)
    if any(arg in ("--help", "-h") for arg in sys.argv[1:]):  # ours: keys with their ranges
        from sim.compose import CONF_DIR, preset_names, regime_names, scenario_names
        from sim.usage import help_text

        experiments = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
        groups = {"scenario": scenario_names(), "platforms": preset_names(),
                  "regulator": regime_names(), "+experiment": experiments}  # fmt: skip
        sys.stdout.write(help_text(groups))
        return
    for key, folder in _output_folders(sys.argv[1:]):
        problem = _folder_problem(folder)
        if problem:
            exits.bad_input(f"invalid config value {key}={folder!r}: allowed {problem}")
    try:
        _run()
    except KeyboardInterrupt as stop:  # SIGINT, or SIGTERM as Terminated
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut this short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_workers()
        what = "terminated (SIGTERM)" if isinstance(stop, Terminated) else "interrupted"
        print(f"trustsim: {what}; run the same command again to resume", file=sys.stderr)
        code = exits.TERMINATED if isinstance(stop, Terminated) else exits.INTERRUPTED
        # Leave with this status even if the interrupt passed through code run by the C API
        # (CPython then re-raises SIGINT on itself at exit, whatever SystemExit says). Every
        # file is already whole: outputs are written atomically.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except InterpolationResolutionError as err:  # Hydra resolves the run folder first
        written = [a for a in sys.argv[1:] if "${" in a]
        exits.bad_input(
            f"invalid config value {', '.join(written) or err.full_key}: allowed an "
            f"interpolation that resolves ({(str(err.msg).splitlines() or ['?'])[0]})"
        )
    except SystemExit as exit_:
        # Hydra reports override and composition errors itself, then exits with 1.
        if exit_.code == exits.INTERNAL and not exits.STARTED.value:
            raise SystemExit(exits.BAD_INPUT) from None
        raise


if __name__ == "__main__":
    main()
