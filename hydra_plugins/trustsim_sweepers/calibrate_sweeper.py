r"""A Hydra sweeper that calibrates the model to a record with Optuna: ``hydra/sweeper=calibrate``.

Each Optuna trial is a candidate set of the free parameters (``hydra.sweeper.params``:
``key: [lo, hi]``, checked against the trustsim schema; keys in ``log`` are searched on a
log scale). A trial runs as ``replicates`` jobs with seeds ``seed_base + r`` (the same
seeds for every candidate: common random numbers, so candidates differ by their parameters,
not their luck) and ``sample=TRIAL``; each job returns its distance to the record
(``calibration.target``, see :mod:`sim.calibration`) and the trial's value is their mean.
Jobs go through whatever launcher is configured (basic, joblib, submitit, Ray), a batch of
``batch`` trials per launch, so a calibration runs wherever a sweep runs.

Resume: the study lives in ``storage`` (default ``SWEEP_DIR/study.db``, sqlite) and a
trial's jobs have fixed numbers (``trial x replicates + r``), so a killed calibration
started again with the same command reloads the study, re-launches the trials it left
running (their finished jobs are skipped by the CLI), and asks only for the trials still
missing. After every batch it writes ``trials.parquet`` and ``calibration.json`` (the best
trial, and the near-optimal set: trials within ``near`` standard errors of the best, with
the range of each parameter over them: the fitted values' uncertainty) and, at the end,
the fan chart ``calibration.png`` of the near-optimal runs against the record.

    trustsim -m +experiment=calibrate_china_p2p [hydra/launcher=local|slurm|ray_cluster]

See ``conf/hydra/sweeper/calibrate.yaml`` for every option.
"""

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from hydra_plugins.trustsim_sweepers.salib_sweeper import (
    LaunchingSweeper,
    _plain,
    bad_input_errors,
    fixed_overrides,
)

log = logging.getLogger(__name__)

SCHEMA_NAME = "calibrate_schema"
SAMPLERS = ("tpe", "random", "qmc")
RESERVED = ("seed", "sample")


@dataclass
class CalibrateSweeperConf:
    """Options of the ``calibrate`` sweeper (see ``conf/hydra/sweeper/calibrate.yaml``)."""

    _target_: str = "hydra_plugins.trustsim_sweepers.calibrate_sweeper.CalibrateSweeper"
    n_trials: int = 40
    batch: int = 4
    replicates: int = 3
    seed_base: int = 0
    sampler: str = "tpe"
    seed: int = 0
    n_startup_trials: int = 10
    near: float = 2.0
    params: Any = None
    log: Any = None
    fixed: Any = None
    storage: Any = None
    study_name: str = "calibration"


ConfigStore.instance().store(
    group="hydra/sweeper", name=SCHEMA_NAME, node=CalibrateSweeperConf, provider="trustsim"
)


class CalibrateSweeper(LaunchingSweeper):
    """Minimise the distance to a record over the free parameters, with replicates."""

    options_class: type = CalibrateSweeperConf

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = self.options_class(**{k: _plain(v) for k, v in options.items()})

    # -- checks ----------------------------------------------------------------------------

    def _check_options(self) -> list[Any]:
        from sim.config import ConfigError
        from sim.designs import resolve_params

        o = self.options
        for name, lo in (("n_trials", 1), ("batch", 1), ("replicates", 1), ("n_startup_trials", 0)):
            value = getattr(o, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < lo:
                raise ConfigError(f"hydra.sweeper.{name}", value, f"a whole number >= {lo}")
        if not isinstance(o.seed_base, int) or o.seed_base < 0:
            raise ConfigError("hydra.sweeper.seed_base", o.seed_base, "a whole number >= 0")
        if o.sampler not in self.samplers:
            allowed = "one of " + ", ".join(self.samplers)
            raise ConfigError("hydra.sweeper.sampler", o.sampler, allowed)
        if not (isinstance(o.near, int | float) and math.isfinite(o.near) and o.near >= 0):
            raise ConfigError("hydra.sweeper.near", o.near, "a number >= 0")
        params = resolve_params(o.params)
        names = {p.name for p in params}
        for key in o.log or []:
            if key not in names:
                raise ConfigError("hydra.sweeper.log", key, "a key of hydra.sweeper.params")
            if next(p for p in params if p.name == key).lo <= 0:
                raise ConfigError(f"hydra.sweeper.params.{key}", key, "lo > 0 on a log scale")
        return params

    def _base_overrides(self, arguments: Sequence[str], names: set[str]) -> list[str]:
        """``fixed`` then the command line; no sweeps (replicates are the sweeper's)."""
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from sim.config import ConfigError

        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        items = [*fixed_overrides(self.options.fixed), *arguments]
        for override in parser.parse_overrides(items):
            name = override.key_or_group
            if name in names or name in RESERVED:
                what = "searched by the calibration" if name in names else "set per job"
                raise ConfigError(name, override.input_line, f"no override: {name} is {what}")
            if override.is_sweep_override():
                raise ConfigError(
                    name,
                    override.input_line,
                    "a single value (the calibration runs hydra.sweeper.replicates seeds itself)",
                )
        return items

    def _check_job(self, overrides: list[str]) -> None:
        """Compose one job: a bad override, or no calibration target, fails before any run."""
        from sim.compose import to_config
        from sim.config import ConfigError

        assert self.hydra_context is not None and self.config is not None
        composed = self.hydra_context.config_loader.load_sweep_config(
            master_config=self.config, sweep_overrides=list(overrides)
        )
        task = OmegaConf.masked_copy(composed, [k for k in composed if k != "hydra"])
        cfg = to_config(task)
        if not cfg.calibration.target:
            raise ConfigError(
                "calibration.target", "", "a record to fit (e.g. china_p2p) with this sweeper"
            )

    # -- the study -------------------------------------------------------------------------

    def _study(self, sweep_dir: Path, params: list[Any]) -> Any:
        """The study in its storage (created, or loaded to resume), its sampler set."""
        import optuna

        from sim.config import ConfigError
        from sim.files import STUDY

        o = self.options
        storage = o.storage or f"sqlite:///{(sweep_dir / STUDY).resolve()}"
        study = optuna.create_study(
            study_name=o.study_name,
            storage=storage,
            directions=self._directions(),
            load_if_exists=True,
        )
        space = {
            "params": {p.name: [p.lo, p.hi] for p in params},
            "log": sorted(o.log or []),
            "replicates": o.replicates,
            "seed_base": o.seed_base,
            **self._space(),
        }
        old = study.user_attrs.get("space")
        if old is None:
            study.set_user_attr("space", space)
        elif old != space:
            raise ConfigError(
                "hydra.sweep.dir",
                str(sweep_dir),
                f"a folder of this {self.name} search's space and replicates; it holds another "
                f"({old}); choose a new hydra.sweep.dir, or the same options to resume",
            )
        # A sampler seeded by the trials so far: a resumed study does not repeat its points.
        study.sampler = self._sampler(o.seed + len(study.trials))
        return study

    def _directions(self) -> list[str]:
        return ["minimize"]  # the distance to the record

    def _space(self) -> dict[str, Any]:
        """What else a resumed study must have been started with."""
        return {}

    def _sampler(self, seed: int) -> Any:
        import optuna

        o = self.options
        if o.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=o.n_startup_trials)
        if o.sampler == "qmc":
            return optuna.samplers.QMCSampler(seed=o.seed, scramble=True)
        return optuna.samplers.RandomSampler(seed=seed)

    @staticmethod
    def distributions(params: list[Any], log: Sequence[str]) -> dict[str, Any]:
        """Optuna's search space of the free parameters."""
        import optuna

        out: dict[str, Any] = {}
        for p in params:
            if p.integer:
                out[p.name] = optuna.distributions.IntDistribution(
                    round(p.lo), round(p.hi), log=p.name in log
                )
            else:
                out[p.name] = optuna.distributions.FloatDistribution(p.lo, p.hi, log=p.name in log)
        return out

    def jobs(self, number: int, values: dict[str, Any], base: list[str]) -> list[list[str]]:
        """A trial's jobs: its parameters, then one seed per replicate."""
        from sim.designs import SweepParam

        sets = [SweepParam(k, 0.0, 1.0, isinstance(v, int)).override(v) for k, v in values.items()]
        return [
            [*sets, f"seed={self.options.seed_base + r}", f"sample={number}", *base]
            for r in range(self.options.replicates)
        ]

    def _evaluate(self, study: Any, trials: list[Any], base: list[str], sweep_dir: Path) -> None:
        """Launch the trials' jobs (consecutive numbers in one launch) and tell the study."""
        assert self.launcher is not None
        reps = self.options.replicates
        groups: list[list[Any]] = []
        for trial in trials:
            if groups and groups[-1][-1].number + 1 == trial.number:
                groups[-1].append(trial)
            else:
                groups.append([trial])
        for group in groups:
            jobs = [job for t in group for job in self.jobs(t.number, t.params, base)]
            results = self.launcher.launch(jobs, initial_job_idx=group[0].number * reps)
            for k, trial in enumerate(group):
                returns = results[k * reps : (k + 1) * reps]
                number = trial.number
                folders = [_folder(r, sweep_dir, number * reps + i) for i, r in enumerate(returns)]
                self._tell(study, trial, returns, folders, sweep_dir)

    def _tell(
        self, study: Any, trial: Any, returns: Sequence[JobReturn], folders: list[str], _: Path
    ) -> None:
        """Tell the study a trial's value: the mean distance of its replicates."""
        values = [_distance(r) for r in returns]
        ok = [v for v in values if v is not None]
        attrs = {"distances": values, "folders": folders, "se": _standard_error(ok)}
        _finish(study, trial, self._seeds(len(returns)), attrs, sum(ok) / len(ok) if ok else None)

    def _seeds(self, replicates: int) -> list[int]:
        return [self.options.seed_base + r for r in range(replicates)]

    # -- the sweep -------------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> Any:
        """Run the calibration to ``n_trials`` finished trials, resuming a study if there is one."""
        import optuna

        from sim.files import SWEEP
        from sim.output import read_json, write_json

        assert self.config is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        o = self.options
        try:
            params = self._check_options()
            base = self._base_overrides(arguments, {p.name for p in params})
            middle = {p.name: (p.lo + p.hi) / 2 for p in params}
            self._check_job(self.jobs(0, middle, base)[0])
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            study = self._study(sweep_dir, params)
        except bad_input_errors() as err:  # a bad option or override, before anything runs
            from sim.exits import bad_input

            bad_input(err)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        info = read_json(sweep_dir / SWEEP) or {}
        info["total"] = o.n_trials * o.replicates
        info.setdefault("started", time.time())
        write_json(sweep_dir / SWEEP, info)
        space = self.distributions(params, o.log or [])
        states = optuna.trial.TrialState
        running = [t for t in study.trials if t.state == states.RUNNING]
        if running:
            log.info(f"{self.name}: resuming {len(running)} trial(s) a killed run left running")
            self._evaluate(study, running, base, sweep_dir)
        log.info(
            f"{self.name}: {o.n_trials} trials x {o.replicates} replicates, {o.sampler} "
            f"sampler; study in {sweep_dir}"
        )
        while True:
            finished = [t for t in study.trials if t.state.is_finished()]
            left = o.n_trials - len(finished)
            if left <= 0:
                break
            trials = [study.ask(space) for _ in range(min(o.batch, left))]
            self._evaluate(study, trials, base, sweep_dir)
            self._write(study, params, sweep_dir)
            log.info(f"{self.name}: {len(finished) + len(trials)}/{o.n_trials} trials; "
                     + self._progress(study))  # fmt: skip
        self._write(study, params, sweep_dir, final=True)
        return []

    name = "calibrate"
    samplers = SAMPLERS

    def _progress(self, study: Any) -> str:
        """What the log says of the study after a batch."""
        best = _best(study)
        return "best " + (f"#{best.number} distance {best.value:.4g}" if best else "none yet")

    def _write(self, study: Any, params: list[Any], sweep_dir: Path, final: bool = False) -> None:
        from sim.report.calibration import write_results

        write_results(study, params, self.options, sweep_dir, figure=final)


def _finish(study: Any, trial: Any, seeds: list[int], attrs: dict[str, Any], value: Any) -> None:
    """Record a trial's runs (user attributes) and tell the study its value (None: failed)."""
    import optuna

    for key, item in {"seeds": seeds, **attrs}.items():
        # Trials a killed run left running are frozen: set through the storage.
        study._storage.set_trial_user_attr(trial._trial_id, key, item)
    if value is None:
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    else:
        study.tell(trial.number, value)


def _distance(ret: JobReturn) -> float | None:
    value = ret.return_value  # raises if the job raised
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _folder(ret: JobReturn, sweep_dir: Path, job: int) -> str:
    """The job's run folder, relative to the sweep folder."""
    try:
        out = Path(ret.hydra_cfg.hydra.runtime.output_dir)  # type: ignore[union-attr]
    except Exception:  # a launcher that does not return Hydra's config
        out = sweep_dir / str(job)
    try:
        return str(out.resolve().relative_to(sweep_dir.resolve()))
    except ValueError:
        return str(out)


def _standard_error(values: list[float]) -> float:
    n = len(values)
    if n < 2:
        return math.nan
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def _best(study: Any) -> Any:
    import optuna

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return min(done, key=lambda t: t.value) if done else None
