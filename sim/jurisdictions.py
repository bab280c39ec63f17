"""Jurisdictions (seed 5.3, 7.5, 9.8): who lives where, who is licensed where, whose rules.

A scenario may declare jurisdictions (``scenario.jurisdictions``). Each has its own
regulator (a :class:`sim.agents.Regulator` with its own policy), a share of the users,
who live there for the whole run, and a share of the initial platforms, licensed there.
A platform is supervised by the regulator of its licence and follows that regulator's
rules (disclosure floor, custody, compliance cost, penalties); ``cross_border.service``
says whom it may serve. With no jurisdictions declared there is one, whose regulator is
the run's ``regulator``: every array here is then zeros and every rule a number, so the
model runs exactly as it did before jurisdictions existed.
"""

import dataclasses

import numpy as np

from sim.config import Config, RegulatorConfig


def policies(cfg: Config) -> list[RegulatorConfig]:
    """Each jurisdiction's starting policy, in order (one, the run's, if none declared).

    A jurisdiction with a ``regime`` starts from the schema's defaults (its regime's values
    were put in ``regulator`` when the scenario file was read); one without starts from the
    run's ``regulator``. Its ``regulator`` keys then apply.
    """
    if not cfg.scenario.jurisdictions:
        return [cfg.regulator]
    found = []
    for j in cfg.scenario.jurisdictions:
        base = RegulatorConfig(regime=j.regime) if j.regime is not None else cfg.regulator
        found.append(dataclasses.replace(base, **dict(j.regulator)))
    return found


def names(cfg: Config) -> list[str]:
    """The jurisdictions' names (``["home"]`` when none is declared)."""
    return [j.name for j in cfg.scenario.jurisdictions] or ["home"]


def assign(shares: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Jurisdiction of each of ``n`` items: counts by largest remainder, places at random.

    The counts are the whole numbers nearest ``shares x n`` that add up to ``n`` (Hamilton's
    method), so a share is met to within one item whatever the seed.
    """
    quota = np.asarray(shares, dtype=float) * n
    counts = np.floor(quota).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(quota - counts), kind="stable")[:short]] += 1
    labels = np.repeat(np.arange(len(shares), dtype=np.int64), counts)
    return labels[rng.permutation(n)]


def serves(licence: np.ndarray, n_jurisdictions: int, rule: str) -> np.ndarray:
    """``(J, P)``: may platform ``p`` take deposits from users of jurisdiction ``j``.

    ``passport``: a licence anywhere serves everywhere; ``home_only``: only at home.
    """
    if rule == "passport":
        return np.ones((n_jurisdictions, licence.size), dtype=bool)
    return licence[None, :] == np.arange(n_jurisdictions)[:, None]
