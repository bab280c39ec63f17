"""What a multi-objective search leaves in its sweep folder: the trials and the Pareto front.

The ``pareto`` sweeper (``hydra_plugins/trustsim_sweepers/pareto_sweeper.py``) calls
:func:`write_results` after every batch of trials:

* ``trials.parquet``: one row per trial (number, state, each objective's mean over the
  replicates and its standard error, the parameters);
* ``pareto.csv``: the complete trials no other complete trial dominates (at least as good
  in every objective, better in one): the Pareto front Optuna keeps (``best_trials``);
* ``pareto.png`` (at the end): :func:`pareto_figure`, every pair of objectives, the front
  highlighted.

``trustsim-report SWEEP_DIR`` shows the front and redraws the figure into its report.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.files import TRIALS
from sim.output import atomic_write_bytes, read_json, write_json, write_parquet
from sim.plotting import figure_png

PARETO = "pareto.csv"
PARETO_FIGURE = "pareto.png"
PARETO_INFO = "pareto.json"


def trials_table(study: Any, objectives: dict[str, str]) -> pd.DataFrame:
    """One row per trial: state, objectives (means over replicates), their errors, params."""
    rows = []
    front = {t.number for t in _front(study)}
    for t in study.trials:
        values = t.values or [np.nan] * len(objectives)
        row: dict[str, Any] = {
            "trial": t.number,
            "state": t.state.name.lower(),
            "pareto": t.number in front,
        }
        row.update(dict(zip(objectives, values, strict=True)))
        row.update({f"se_{n}": t.user_attrs.get(f"se_{n}") for n in objectives})
        row["replicates_ok"] = t.user_attrs.get("replicates_ok")
        row.update(t.params)
        rows.append(row)
    return pd.DataFrame(rows)


def _front(study: Any) -> list[Any]:
    import optuna

    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        return []
    return study.best_trials


def dominated(values: np.ndarray, maximize: np.ndarray) -> np.ndarray:
    """Which rows of ``values`` another row dominates (better or equal in all, better in one).

    An independent check of Optuna's front, on the objectives oriented so that higher is
    better: ``O(n^2)`` comparisons, fine for the few hundred trials of a search.
    """
    v = np.where(maximize, values, -values)
    better_eq = (v[None, :, :] >= v[:, None, :]).all(axis=2)  # [i, j]: j >= i everywhere
    better = (v[None, :, :] > v[:, None, :]).any(axis=2)
    return (better_eq & better).any(axis=1)


def pareto_figure(trials: pd.DataFrame, objectives: dict[str, str]) -> Figure:
    """Every pair of objectives: all complete trials, the Pareto front highlighted."""
    done = trials[trials["state"] == "complete"]
    pairs = list(itertools.combinations(objectives, 2)) or [(next(iter(objectives)),) * 2]
    fig = Figure(figsize=(4.6 * len(pairs), 4.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(pairs)))
    for ax, (x, y) in zip(axes, pairs, strict=True):
        rest, front = done[~done["pareto"]], done[done["pareto"]].sort_values(x)
        ax.scatter(rest[x], rest[y], color="0.6", s=18, label="trials")
        ax.scatter(front[x], front[y], color="tab:red", s=30, label="Pareto front", zorder=3)
        ax.set_xlabel(f"{x} ({'higher' if objectives[x] == 'maximize' else 'lower'} is better)")
        ax.set_ylabel(f"{y} ({'higher' if objectives[y] == 'maximize' else 'lower'} is better)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9)
    fig.suptitle(f"{len(done)} trials, {int(done['pareto'].sum())} on the Pareto front")
    return fig


def write_results(
    study: Any, objectives: dict[str, str], sweep_dir: Path, *, figure: bool = False
) -> pd.DataFrame:
    """Write ``trials.parquet``, ``pareto.csv``, ``pareto.json`` and (at the end) the figure."""
    trials = trials_table(study, objectives)
    write_parquet(sweep_dir / TRIALS, trials)
    front = trials[trials["pareto"]].drop(columns=["pareto", "state"])
    atomic_write_bytes(sweep_dir / PARETO, front.to_csv(index=False).encode())
    write_json(sweep_dir / PARETO_INFO, {"objectives": objectives, "trials": len(trials),
                                         "front": len(front)})  # fmt: skip
    if figure and len(front):
        atomic_write_bytes(sweep_dir / PARETO_FIGURE, figure_png(pareto_figure(trials, objectives)))
    return trials


def read_results(sweep_dir: Path) -> tuple[pd.DataFrame, dict[str, str]] | None:
    """A search's trials and objectives, if the folder holds one."""
    info = read_json(Path(sweep_dir) / PARETO_INFO)
    path = Path(sweep_dir) / TRIALS
    if not isinstance(info, dict) or not path.is_file():
        return None
    return pd.read_parquet(path), dict(info["objectives"])
