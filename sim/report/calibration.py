"""What a calibration leaves in its sweep folder, and its fan chart against the record.

The ``calibrate`` sweeper (``hydra_plugins/trustsim_sweepers/calibrate_sweeper.py``) calls
:func:`write_results` after every batch of trials:

* ``trials.parquet``: one row per trial (number, state, mean distance, its standard error
  over the replicates, each replicate's distance, the parameters);
* ``calibration.json``: the target, the search space, the best trial, and the near-optimal
  set, the trials whose mean distance is within ``near`` standard errors of the best's,
  with each parameter's range, median and spread over them (the fitted values and their
  uncertainty: a set of parameters the record cannot tell apart, not a Bayesian
  posterior), and the hold-out distance of the best and of the set's runs (validation);
* ``calibration.png`` (at the end): :func:`fan_chart`, the near-optimal set's runs as
  bands of operating platforms over time against the record, fitted points filled and
  held-out points hollow.

``trustsim-report SWEEP_DIR`` redraws the fan chart into its report when the folder holds
a ``calibration.json``.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration import record
from sim.config import CalibrationConfig
from sim.files import CALIBRATION, FAN_CHART, SUMMARY, TIMESERIES, TRIALS
from sim.output import atomic_write_bytes, read_json, write_json, write_parquet
from sim.plotting import figure_png

BANDS = ((0.05, 0.95), (0.25, 0.75))


def trials_table(study: Any) -> pd.DataFrame:
    """One row per trial of an Optuna study, with the replicates' distances."""
    rows = []
    for t in study.trials:
        distances = t.user_attrs.get("distances") or []
        row = {
            "trial": t.number,
            "state": t.state.name.lower(),
            "distance": t.value,
            "se": t.user_attrs.get("se"),
            "replicates_ok": sum(d is not None for d in distances),
        }
        row.update({f"distance_r{i}": d for i, d in enumerate(distances)})
        row.update(t.params)
        rows.append(row)
    return pd.DataFrame(rows)


def near_optimal(trials: pd.DataFrame, near: float) -> tuple[pd.DataFrame, float]:
    """The complete trials within ``near`` standard errors of the best; and the threshold.

    The best trial's standard error sets the width (the median of all trials' errors if
    the best has none, e.g. with one replicate).
    """
    done = trials[trials["state"] == "complete"].dropna(subset=["distance"])
    if done.empty:
        return done, math.nan
    best = done.loc[done["distance"].idxmin()]
    se = best["se"]
    if se is None or not math.isfinite(se):
        errors = done["se"].dropna()
        se = float(errors.median()) if not errors.empty else 0.0
    threshold = float(best["distance"] + near * se)
    return done[done["distance"] <= threshold].sort_values("distance"), threshold


def _summary_of(values: pd.Series) -> dict[str, float]:
    v = values.astype(float)
    return {
        "min": float(v.min()),
        "max": float(v.max()),
        "median": float(v.median()),
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
    }


def _folders(study: Any, numbers: Sequence[int]) -> list[str]:
    by_number = {t.number: t for t in study.trials}
    return [f for n in numbers for f in by_number[n].user_attrs.get("folders") or []]


def _holdout(sweep_dir: Path, folders: Sequence[str]) -> list[float]:
    values = []
    for folder in folders:
        fitted = (read_json(sweep_dir / folder / SUMMARY) or {}).get("calibration") or {}
        value = fitted.get("distance_holdout")
        if value is not None and math.isfinite(value):
            values.append(float(value))
    return values


def write_results(
    study: Any, params: Sequence[Any], options: Any, sweep_dir: Path, figure: bool = False
) -> dict[str, Any]:
    """Write ``trials.parquet`` and ``calibration.json`` (and the fan chart if ``figure``)."""
    trials = trials_table(study)
    write_parquet(sweep_dir / TRIALS, trials)
    chosen, threshold = near_optimal(trials, options.near)
    calibration = _calibration_config(sweep_dir, study)
    result: dict[str, Any] = {
        "target": calibration.get("target"),
        "distance_kind": calibration.get("distance"),
        "fit_until": calibration.get("fit_until"),
        "platform_scale": calibration.get("platform_scale"),
        "sampler": options.sampler,
        "n_trials": options.n_trials,
        "replicates": options.replicates,
        "seeds": [options.seed_base + r for r in range(options.replicates)],
        "params": {
            p.name: {"low": p.lo, "high": p.hi, "log": p.name in (options.log or [])}
            for p in params
        },
        "trials": {
            state: int((trials["state"] == state).sum()) if not trials.empty else 0
            for state in ("complete", "fail", "running")
        },
        "best": None,
        "near_optimal": None,
    }
    if not chosen.empty:
        best = chosen.iloc[0]
        names = [p.name for p in params]
        best_folders = _folders(study, [int(best["trial"])])
        set_folders = _folders(study, chosen["trial"].astype(int).tolist())
        best_holdout = _holdout(sweep_dir, best_folders)
        set_holdout = _holdout(sweep_dir, set_folders)
        result["best"] = {
            "trial": int(best["trial"]),
            "distance": float(best["distance"]),
            "se": None if pd.isna(best["se"]) else float(best["se"]),
            "params": {n: _plain(best[n]) for n in names},
            "distance_holdout": float(np.mean(best_holdout)) if best_holdout else None,
            "folders": best_folders,
        }
        result["near_optimal"] = {
            "rule": f"mean distance <= best + {options.near} x standard error",
            "threshold": threshold,
            "trials": chosen["trial"].astype(int).tolist(),
            "params": {n: _summary_of(chosen[n]) for n in names},
            "distance_holdout": _summary_of(pd.Series(set_holdout)) if set_holdout else None,
        }
    write_json(sweep_dir / CALIBRATION, result)
    if figure and result["near_optimal"] is not None:
        fig = fan_chart(sweep_dir, result)
        atomic_write_bytes(sweep_dir / FAN_CHART, figure_png(fig))
    return result


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _calibration_config(sweep_dir: Path, study: Any) -> dict[str, Any]:
    """The runs' ``calibration`` config, read from the first finished run."""
    for t in study.trials:
        for folder in t.user_attrs.get("folders") or []:
            summary = read_json(sweep_dir / folder / SUMMARY)
            if summary:
                return summary["config"]["calibration"]
    return {}


def predictive_runs(sweep_dir: Path, result: dict[str, Any]) -> list[pd.DataFrame]:
    """The timeseries of the near-optimal set's runs (every replicate of every trial)."""
    folders = []
    chosen = set((result.get("near_optimal") or {}).get("trials") or [])
    for folder in sorted(sweep_dir.iterdir()):
        summary = read_json(folder / SUMMARY) if folder.is_dir() else None
        if summary and summary["config"].get("sample") in chosen:
            folders.append(folder)
    return [pd.read_parquet(f / TIMESERIES, columns=["tick", "platforms_active"]) for f in folders]


def fan_chart(sweep_dir: Path, result: dict[str, Any]):
    """Operating platforms of the near-optimal runs (median, 50% and 90% bands) and the record."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = CalibrationConfig(
        target=result["target"],
        fit_until=result["fit_until"],
        platform_scale=result["platform_scale"],
    )
    runs = predictive_runs(sweep_dir, result)
    start = datetime.date.fromisoformat(cfg.start)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    if runs:
        matrix = np.vstack([r["platforms_active"].to_numpy() for r in runs]) * cfg.platform_scale
        ticks = runs[0]["tick"].to_numpy()
        dates = [start + datetime.timedelta(weeks=int(t)) for t in ticks]
        for (lo, hi), alpha in zip(BANDS, (0.2, 0.35), strict=True):
            ax.fill_between(
                dates,
                np.quantile(matrix, lo, axis=0),
                np.quantile(matrix, hi, axis=0),
                color="tab:blue",
                alpha=alpha,
                lw=0,
                label=f"model, {round(lo * 100)}-{round(hi * 100)}% of {len(runs)} runs",
            )
        ax.plot(dates, np.median(matrix, axis=0), color="tab:blue", lw=1.5, label="model, median")
    points = record(cfg.target)
    fit_until = datetime.date.fromisoformat(cfg.fit_until)
    fit = points[points["date"] <= fit_until]
    held = points[points["date"] > fit_until]
    ax.plot(fit["date"], fit["value"], "o", color="black", label="record, fitted")
    if not held.empty:
        ax.plot(
            held["date"], held["value"], "o", mfc="white", color="black", label="record, held out"
        )
        ax.axvline(fit_until, color="grey", ls="--", lw=1)
    ax.set_ylabel("operating platforms")
    best = result.get("best") or {}
    title = f"{cfg.target}: near-optimal set against the record (fit to {cfg.fit_until})"
    if best.get("distance_holdout") is not None:
        title += f"; best's hold-out {result['distance_kind']} {best['distance_holdout']:.3g}"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
