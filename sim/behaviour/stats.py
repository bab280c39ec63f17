"""Paired differences over common random numbers, and bands over seeds.

Every comparison of the report runs both arms with the same seeds, so seed ``i`` of one
arm and seed ``i`` of the other share their world up to the point where the arms differ
(the model's random streams are spawned per component from the seed). The effect is then
the mean of the per-seed differences, with a Student t interval on them: much narrower
than comparing two independent samples, since most seed-to-seed variation cancels.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as _stats

LEVEL = 0.95


@dataclasses.dataclass(frozen=True)
class Paired:
    """A paired comparison ``a - b`` over seeds.

    Attributes:
        mean_a: Mean of ``a`` over the seeds where both are finite.
        mean_b: Mean of ``b`` over the same seeds.
        diff: Mean of the differences ``a_i - b_i``.
        lo: Lower end of the t interval of ``diff`` (NaN with fewer than 2 pairs).
        hi: Upper end.
        n: Number of pairs used (seeds where either value is NaN are left out).
    """

    mean_a: float
    mean_b: float
    diff: float
    lo: float
    hi: float
    n: int

    @property
    def sign(self) -> int:
        """+1 if the interval is above 0, -1 if below, 0 if it holds 0 (or is undefined)."""
        if self.lo > 0:
            return 1
        if self.hi < 0:
            return -1
        return 0


def paired(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Paired:
    """The mean paired difference ``a - b`` with its t interval.

    Args:
        a: One value per seed (seed order).
        b: The other arm's values for the same seeds.
        level: Confidence level of the interval.

    Returns:
        The comparison; pairs where either value is NaN are dropped.

    Example:
        >>> p = paired([1.0, 2.0, 3.0], [0.0, 1.0, 2.5])
        >>> round(p.diff, 3), p.n
        (0.833, 3)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired values need the same seeds: {x.shape} vs {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n == 0:
        return Paired(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    d = x - y
    diff = float(d.mean())
    if n < 2:
        lo = hi = math.nan
    else:
        half = float(_stats.t.ppf(0.5 + level / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
        lo, hi = diff - half, diff + half
    return Paired(float(x.mean()), float(y.mean()), diff, lo, hi, n)


def band(values: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and central ``level`` band over seeds, per tick.

    Args:
        values: ``(seeds, ticks)`` array (NaN where a seed has no value).
        level: Share of the seeds inside the band.

    Returns:
        ``(median, low, high)``, each of length ``ticks`` (NaN where no seed has a value).
    """
    values = np.asarray(values, dtype=float)
    out = np.full((3, values.shape[1]), np.nan)
    some = np.isfinite(values).any(axis=0)
    if some.any():
        tail = (1 - level) / 2
        out[:, some] = np.nanquantile(values[:, some], [0.5, tail, 1 - tail], axis=0)
    return out[0], out[1], out[2]
