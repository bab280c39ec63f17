"""Word of mouth on the social network (MODEL.md step 6).

Two channels: users average their system trust with their neighbours' (DeGroot), and a
share of users each tick hears one random neighbour's opinion of the platform that
neighbour uses most.
"""

import numpy as np
import scipy.sparse as sp


def degroot_step(
    weights: sp.csr_array, x: np.ndarray, mixing: float, has_neighbours: np.ndarray
) -> np.ndarray:
    """One averaging step ``x <- (1 - mu) x + mu W x`` for users with neighbours.

    With ``W`` row-stochastic and the graph connected, repeated steps converge to the
    DeGroot consensus ``pi . x0``, ``pi`` the stationary distribution of ``W``
    (proportional to degree on an undirected graph).

    Args:
        weights: Row-normalised adjacency ``D^-1 A``.
        x: Opinions in [0, 1], updated in place and returned.
        mixing: ``mu``, the weight given to the neighbours' mean.
        has_neighbours: Boolean mask; isolated users keep their opinion.
    """
    if mixing == 0.0:
        return x
    neighbour_mean = weights @ x
    np.subtract(neighbour_mean, x, out=neighbour_mean)
    neighbour_mean *= mixing
    neighbour_mean[~has_neighbours] = 0.0
    x += neighbour_mean.astype(x.dtype, copy=False)
    return x


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
