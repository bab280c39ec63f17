"""Word of mouth on the social network (MODEL.md step 6).

Two channels: users average their system trust with their neighbours' (DeGroot), and a
share of users each tick hears one random neighbour's opinion of the platform that
neighbour uses most.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit


@njit(cache=True, nogil=True)
def _opinion_step(indptr, indices, data, uniform, x, mixing, anchor, x0, out):  # pragma: no cover
    """``out = (1 - s) ((1 - mu) x + mu W x) + s x0`` row by row (empty rows: ``W x = x``).

    With ``uniform`` every row's weights are ``1 / degree``: the neighbours' mean is read
    without the weights (half the memory traffic of a sparse product).
    """
    for i in range(x.size):
        start, end = indptr[i], indptr[i + 1]
        total = 0.0
        if end == start:
            mean = x[i]
        elif uniform:
            for e in range(start, end):
                total += x[indices[e]]
            mean = total / (end - start)
        else:
            for e in range(start, end):
                total += data[e] * x[indices[e]]
            mean = total
        mixed = x[i] + mixing * (mean - x[i])
        out[i] = mixed + anchor * (x0[i] - mixed)


def friedkin_johnsen_step(
    weights: sp.csr_array,
    x: np.ndarray,
    mixing: float,
    anchor: float,
    x0: np.ndarray,
    uniform: bool = False,
) -> np.ndarray:
    """One step ``x <- (1 - s)((1 - mu) x + mu W x) + s x0`` (Friedkin & Johnsen 1990).

    Users move ``mu`` of the way to their neighbours' mean, then keep a pull ``s`` toward
    their own anchor ``x0``. With ``s > 0`` repeated steps converge to the unique fixed
    point ``x* = s (I - (1 - s) M)^{-1} x0``, ``M = (1 - mu) I + mu W``: persistent
    disagreement. Users without neighbours only feel the anchor.

    Args:
        weights: Row-normalised adjacency ``D^-1 A``.
        x: Opinions in [0, 1], updated in place and returned.
        mixing: ``mu``, the weight given to the neighbours' mean.
        anchor: ``s``, the pull toward ``x0``.
        x0: The anchors (same shape as ``x``).
        uniform: Every row of ``weights`` is ``1 / degree`` (an unweighted network).
    """
    if mixing == 0.0 and anchor == 0.0:
        return x
    out = np.empty_like(x)
    # Unsigned views of the (non-negative) index arrays: numba then skips the negative-
    # index wraparound test on every gather, which makes the pass ~1.7x faster.
    indptr, indices = (
        a.view(np.dtype(f"u{a.itemsize}")) for a in (weights.indptr, weights.indices)
    )
    _opinion_step(indptr, indices, weights.data, uniform, x, mixing, anchor, x0, out)
    x[:] = out
    return x


def degroot_step(
    weights: sp.csr_array,
    x: np.ndarray,
    mixing: float,
    uniform: bool = False,
) -> np.ndarray:
    """One averaging step ``x <- (1 - mu) x + mu W x`` (users without neighbours keep theirs).

    With ``W`` row-stochastic and the graph connected, repeated steps converge to the
    DeGroot consensus ``pi . x0``, ``pi`` the stationary distribution of ``W``
    (proportional to degree on an undirected graph). The Friedkin-Johnsen step without
    anchoring.

    Args:
        weights: Row-normalised adjacency ``D^-1 A``.
        x: Opinions in [0, 1], updated in place and returned.
        mixing: ``mu``, the weight given to the neighbours' mean.
        uniform: Every row of ``weights`` is ``1 / degree``.
    """
    return friedkin_johnsen_step(weights, x, mixing, 0.0, x, uniform)


def degroot_consensus(weights: sp.csr_array, x0: np.ndarray) -> float:
    """The DeGroot limit ``pi . x0`` for a connected undirected graph (pi ~ degree)."""
    degree = np.diff(weights.indptr).astype(np.float64)
    return float(degree @ x0 / degree.sum())


def net_promoter(opinions: np.ndarray, promoter: float, detractor: float) -> tuple[float, int]:
    """Word-of-mouth net score: share of promoters minus share of detractors.

    Returns:
        The score in [-1, 1] (0 when nobody spoke) and how many opinions were heard.
    """
    n = opinions.size
    if n == 0:
        return 0.0, 0
    pro = np.count_nonzero(opinions >= promoter)
    det = np.count_nonzero(opinions <= detractor)
    return (pro - det) / n, n
