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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

from hydra_plugins.trustsim_sweepers.calibrate_sweeper import (
    CalibrateSweeper,
    CalibrateSweeperConf,
    _finish,
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
class ParetoSweeperConf(CalibrateSweeperConf):
    """Options of the ``pareto`` sweeper (see ``conf/hydra/sweeper/pareto.yaml``)."""

    _target_: str = "hydra_plugins.trustsim_sweepers.pareto_sweeper.ParetoSweeper"
    objectives: Any = None  # {indicator: maximize | minimize}; null: _default_objectives()
    batch: int = 8
    sampler: str = "nsga2"
    population_size: int = 16
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

    def _directions(self) -> list[str]:
        return list(self.options.objectives.values())

    def _space(self) -> dict[str, Any]:
        return {"objectives": dict(self.options.objectives)}

    def _sampler(self, seed: int) -> Any:
        import optuna

        o = self.options
        if o.sampler == "nsga2":
            return optuna.samplers.NSGAIISampler(population_size=o.population_size, seed=seed)
        if o.sampler == "tpe":
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=o.n_startup_trials)
        return optuna.samplers.RandomSampler(seed=seed)

    def _tell(
        self,
        study: Any,
        trial: Any,
        returns: Sequence[JobReturn],
        folders: list[str],
        sweep_dir: Path,
    ) -> None:
        """Tell the study a trial's values: each objective's mean over its replicates."""
        names = list(self.options.objectives)
        finals = [_finals(r, sweep_dir, f, names) for r, f in zip(returns, folders, strict=True)]
        ok = [f for f in finals if f is not None]
        attrs = {
            "folders": folders,
            "replicates_ok": len(ok),
            **{f"se_{n}": _standard_error([f[n] for f in ok]) for n in names},
            **{f"runs_{n}": [None if f is None else f[n] for f in finals] for n in names},
        }
        means = [sum(f[n] for f in ok) / len(ok) for n in names] if ok else None
        _finish(study, trial, self._seeds(len(returns)), attrs, means)

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
