r"""A Hydra sweeper for a multi-objective policy search with Optuna: ``hydra/sweeper=pareto``.

Each Optuna trial is a candidate set of regulator tools (``hydra.sweeper.params``: ``key:
[lo, hi]``, checked against the trustsim schema). As in the ``calibrate`` sweeper it
extends, a trial runs as ``replicates`` jobs with the same seeds for every candidate
(common random numbers), through whatever launcher is configured, and a killed search
started again with the same command resumes from its study (``SWEEP_DIR/study.db``).
A trial's values are the means over its replicates of the runs' final indicators named
in ``objectives`` (``{indicator: maximize | minimize}``, read from each run's
``summary.json``); Optuna's NSGA-II (Deb et al. 2002) by default, or its multi-objective
TPE or random sampler, searches for the trade-offs. After every batch the sweeper writes
``trials.parquet`` and ``pareto.csv`` (the non-dominated trials: the Pareto front), and
at the end ``pareto.png`` (:mod:`sim.report.pareto`).

    trustsim -m +experiment=pareto_regulator [hydra/launcher=local|slurm|ray_cluster]

Why not Hydra's own Optuna sweeper: see ``docs/model.md`` (calibration). See
``conf/hydra/sweeper/pareto.yaml`` for every option.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from hydra_plugins.trustsim_sweepers.calibrate_sweeper import (
    CalibrateSweeper,
    _folder,
    _standard_error,
)

SCHEMA_NAME = "pareto_schema"
DIRECTIONS = ("maximize", "minimize")


def _default_objectives() -> dict[str, str]:
    return {
        "trust_mean": "maximize",
        "user_losses_cum": "minimize",
        "supervision_cost": "minimize",
    }


@dataclass
class ParetoSweeperConf:
    """Options of the ``pareto`` sweeper (see ``conf/hydra/sweeper/pareto.yaml``)."""

    _target_: str = "hydra_plugins.trustsim_sweepers.pareto_sweeper.ParetoSweeper"
    objectives: Any = None  # {indicator: maximize | minimize}; null: _default_objectives()
    n_trials: int = 40
    batch: int = 8
    replicates: int = 3
    seed_base: int = 0
    sampler: str = "nsga2"
    seed: int = 0
    population_size: int = 16
    n_startup_trials: int = 10
    near: float = 0.0  # unused here (the calibrate sweeper's near-optimal set)
    params: Any = None
    log: Any = None
    fixed: Any = None
    storage: Any = None
    study_name: str = "pareto"


ConfigStore.instance().store(
    group="hydra/sweeper", name=SCHEMA_NAME, node=ParetoSweeperConf, provider="trustsim"
)


class ParetoSweeper(CalibrateSweeper):
    """Search the trade-offs between final indicators over the regulator's tools."""

    name = "pareto"
    samplers = ("nsga2", "tpe", "random")

    options_class = ParetoSweeperConf

    def _check_options(self) -> list[Any]:
        from sim.config import ConfigError
        from sim.metrics import METRICS

        o = self.options
        if o.objectives is None:
            o.objectives = _default_objectives()
        objectives = o.objectives
        if not isinstance(objectives, dict) or not objectives:
            raise ConfigError(
                "hydra.sweeper.objectives", objectives, "a mapping {indicator: maximize|minimize}"
            )
        for name, direction in objectives.items():
            if name not in METRICS:
                raise ConfigError(
                    "hydra.sweeper.objectives", name, "an indicator: " + ", ".join(METRICS)
                )
            if direction not in DIRECTIONS:
                raise ConfigError(
                    f"hydra.sweeper.objectives.{name}", direction, "maximize or minimize"
                )
        size = o.population_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise ConfigError("hydra.sweeper.population_size", size, "a whole number >= 2")
        return super()._check_options()

    def _check_job(self, overrides: list[str]) -> None:
        """Compose one job: a bad override fails before any run."""
        from sim.compose import to_config

        assert self.hydra_context is not None and self.config is not None
        composed = self.hydra_context.config_loader.load_sweep_config(
            master_config=self.config, sweep_overrides=list(overrides)
        )
        to_config(OmegaConf.masked_copy(composed, [k for k in composed if k != "hydra"]))

    def _study(self, sweep_dir: Path, params: list[Any]) -> Any:
        import optuna

        from sim.config import ConfigError
        from sim.files import STUDY

        o = self.options
        storage = o.storage or f"sqlite:///{(sweep_dir / STUDY).resolve()}"
        study = optuna.create_study(
            study_name=o.study_name,
            storage=storage,
            directions=list(o.objectives.values()),
            load_if_exists=True,
        )
        space = {
            "params": {p.name: [p.lo, p.hi] for p in params},
            "log": sorted(o.log or []),
            "replicates": o.replicates,
            "seed_base": o.seed_base,
            "objectives": dict(o.objectives),
        }
        old = study.user_attrs.get("space")
        if old is None:
            study.set_user_attr("space", space)
        elif old != space:
            raise ConfigError(
                "hydra.sweep.dir",
                str(sweep_dir),
                "a folder of this search's space, objectives and replicates; it holds another "
                f"({old}); choose a new hydra.sweep.dir, or the same options to resume",
            )
        seed = o.seed + len(study.trials)  # a resumed study does not repeat its points
        if o.sampler == "nsga2":
            study.sampler = optuna.samplers.NSGAIISampler(
                population_size=o.population_size, seed=seed
            )
        elif o.sampler == "tpe":
            study.sampler = optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=o.n_startup_trials
            )
        else:
            study.sampler = optuna.samplers.RandomSampler(seed=seed)
        return study

    def _evaluate(self, study: Any, trials: list[Any], base: list[str], sweep_dir: Path) -> None:
        """Launch the trials' jobs and tell the study each trial's mean objectives."""
        import optuna

        assert self.launcher is not None
        reps = self.options.replicates
        names = list(self.options.objectives)
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
                finals = [
                    _finals(r, sweep_dir, f, names) for r, f in zip(returns, folders, strict=True)
                ]
                ok = [f for f in finals if f is not None]
                means = [sum(f[n] for f in ok) / len(ok) for n in names] if ok else None
                attrs = {
                    "seeds": [self.options.seed_base + r for r in range(reps)],
                    "folders": folders,
                    "replicates_ok": len(ok),
                    **{f"se_{n}": _standard_error([f[n] for f in ok]) for n in names},
                    **{f"runs_{n}": [None if f is None else f[n] for f in finals] for n in names},
                }
                for key, value in attrs.items():
                    study._storage.set_trial_user_attr(trial._trial_id, key, value)
                if means is None:
                    study.tell(number, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(number, means)

    def _progress(self, study: Any) -> str:
        import optuna

        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        return f"{len(study.best_trials) if done else 0} on the Pareto front"

    def _write(self, study: Any, params: list[Any], sweep_dir: Path, final: bool = False) -> None:
        from sim.report.pareto import write_results

        write_results(study, dict(self.options.objectives), sweep_dir, figure=final)


def _finals(
    ret: JobReturn, sweep_dir: Path, folder: str, names: list[str]
) -> dict[str, float] | None:
    """The run's final indicators named (``summary.json``), or ``None`` if it failed."""
    from sim.files import SUMMARY

    _ = ret.return_value  # raises if the job raised
    try:
        summary = json.loads((sweep_dir / folder / SUMMARY).read_text())
        values = {n: float(summary["final"][n]) for n in names}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return values if all(math.isfinite(v) for v in values.values()) else None
