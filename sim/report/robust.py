"""Robust policies across sampled worlds: regret and satisficing (deep uncertainty).

A deep-uncertainty design (``hydra.sweeper.policies`` with sampled ``uncertainties``, see
``conf/hydra/sweeper/salib.yaml``) runs every policy in every sampled world (a design row,
``sample``), with the same seeds. Each policy's outcome in a world is its mean over the
seeds; the report then asks which policy holds up across everything the sweep does not
know (Lempert, Popper and Bankes 2003; McPhail et al. 2018):

* **regret** of a policy in a world: how far its outcome falls short of the best policy's
  in that world (Savage 1951), in the outcome's units, so ``0`` for the best; the table
  gives each policy's largest (minimax regret), mean and 90th-percentile regret;
* **satisficing**: the share of worlds where the policy meets every threshold given
  (``--satisfice 'trust_mean >= 0.6'``; Simon 1956, Starr's domain criterion);
* the outcome's mean and worst value across worlds, for reference.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.report.collect import ReportError, final_column, final_names
from sim.report.discovery import condition

# Outcomes compared by default, and which way is better.
DEFAULT_OUTCOMES = (("trust_mean", "max"), ("user_losses_cum", "min"))
DIRECTIONS = ("max", "min")


@dataclass
class Robustness:
    """What :func:`robustness` found.

    Attributes:
        table: One row per policy: per outcome its mean and worst value across worlds,
            and its largest, mean and 90th-percentile regret; with thresholds, the share
            of worlds that satisfice.
        regret: One row per policy and world: each outcome's value and regret.
        outcomes: ``(column, direction)`` of each outcome.
        thresholds: The satisficing conditions.
        worlds: How many worlds every policy ran in.
    """

    table: pd.DataFrame
    regret: pd.DataFrame
    outcomes: list[tuple[str, str]]
    thresholds: list[str] = field(default_factory=list)
    worlds: int = 0


def parse_outcomes(items: list[str] | None, runs: pd.DataFrame) -> list[tuple[str, str]]:
    """``COL[:max|min]`` items as ``(final column, direction)`` (default: max)."""
    found = []
    for item in items or [f"{c}:{d}" for c, d in DEFAULT_OUTCOMES]:
        name, _, direction = item.partition(":")
        direction = direction or "max"
        if direction not in DIRECTIONS:
            raise ReportError(f"--robust {item}: the direction must be max or min")
        column = final_column(runs, name)
        if column is None:
            available = ", ".join(final_names(runs))
            raise ReportError(f"--robust {item}: unknown outcome; available: {available}")
        found.append((column, direction))
    return found


def is_deep_uncertainty(runs: pd.DataFrame) -> bool:
    """Whether the runs are a deep-uncertainty design: several policies, sampled worlds."""
    return (
        "policy" in runs.columns
        and "sample" in runs.columns
        and runs["policy"].nunique(dropna=True) > 1
    )


def robustness(
    runs: pd.DataFrame,
    outcomes: list[tuple[str, str]],
    thresholds: list[str] | None = None,
) -> Robustness:
    """Regret and satisficing of each policy across the worlds (see the module docstring).

    Only worlds in which every policy has a complete run count, so that every policy is
    judged on the same worlds.

    Raises:
        ReportError: Not a deep-uncertainty design, or a bad threshold.
    """
    if not is_deep_uncertainty(runs):
        raise ReportError(
            "--robust needs a deep-uncertainty design: runs with several policy=NAME and "
            "sampled worlds (sample=ROW); see hydra.sweeper.policies in "
            "conf/hydra/sweeper/salib.yaml"
        )
    complete = runs[runs["status"] == "complete"]
    columns = [c for c, _ in outcomes]
    means = complete.groupby(["policy", "sample"])[columns].mean().reset_index()
    policies = sorted(means["policy"].unique())
    counts = means.groupby("sample")["policy"].nunique()
    shared = counts[counts == len(policies)].index
    means = means[means["sample"].isin(shared)].reset_index(drop=True)
    for column, direction in outcomes:
        best = means.groupby("sample")[column].transform("max" if direction == "max" else "min")
        gap = best - means[column] if direction == "max" else means[column] - best
        means[f"regret_{column}"] = gap
    thresholds = list(thresholds or [])
    if thresholds:
        met = np.ones(len(means), dtype=bool)
        for text in thresholds:
            met &= condition(text, means)
        means["satisfices"] = met
    rows = []
    for policy, part in means.groupby("policy"):
        row: dict[str, object] = {"policy": policy, "worlds": len(part)}
        for column, direction in outcomes:
            name = column.removeprefix("final_")
            values, regret = part[column], part[f"regret_{column}"]
            row[f"{name} mean"] = values.mean()
            row[f"{name} worst"] = values.min() if direction == "max" else values.max()
            row[f"{name} max regret"] = regret.max()
            row[f"{name} mean regret"] = regret.mean()
            row[f"{name} regret p90"] = regret.quantile(0.9)
        if thresholds:
            row["satisficing share"] = part["satisfices"].mean()
        rows.append(row)
    table = pd.DataFrame(rows)
    return Robustness(table, means, outcomes, thresholds, len(shared))


def regret_figure(found: Robustness) -> Figure:
    """Each policy's regret across the worlds, one panel per outcome."""
    outcomes = found.outcomes
    fig = Figure(figsize=(4.2 * len(outcomes), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes)))
    policies = sorted(found.regret["policy"].unique())
    for ax, (column, direction) in zip(axes, outcomes, strict=True):
        data = [
            found.regret.loc[found.regret["policy"] == p, f"regret_{column}"].to_numpy()
            for p in policies
        ]
        ax.boxplot(data, tick_labels=policies, orientation="horizontal", showmeans=True)
        best = "highest" if direction == "max" else "lowest"
        ax.set_title(f"regret on {column.removeprefix('final_')} ({best} is best)", fontsize=10)
        ax.set_xlabel(f"shortfall from the best policy in the world ({found.worlds} worlds)")
        ax.grid(axis="x", alpha=0.3)
    return fig
