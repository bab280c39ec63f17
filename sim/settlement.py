"""Settling withdrawals against platforms' liquidity (MODEL.md step 4)."""

import numpy as np


def settle_withdrawals(
    platform: np.ndarray, amount: np.ndarray, liquidity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Serve requests first come, first served, in a random order, until liquidity runs out.

    Within each platform requests are shuffled (the order of a run is luck), then served
    while the running total fits in the platform's liquidity; once one request does not
    fit, no later one is served (liquidity is exhausted and the queue stops).

    Args:
        platform: ``(m,)`` platform index of each request.
        amount: ``(m,)`` what each request needs from the platform's liquidity (>= 0).
        liquidity: ``(P,)`` liquidity available per platform (negative counts as zero).
        rng: Generator for the queue order.

    Returns:
        ``(m,)`` boolean mask of requests paid in full.
    """
    m = platform.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((rng.random(m), platform))
    plat_sorted = platform[order]
    running = np.cumsum(amount[order])
    starts = np.flatnonzero(np.r_[True, plat_sorted[1:] != plat_sorted[:-1]])
    before = np.r_[0.0, running[starts[1:] - 1]]
    group_len = np.diff(np.r_[starts, m])
    running -= np.repeat(before, group_len)
    cap = np.maximum(liquidity, 0.0)[plat_sorted]
    paid_sorted = running <= cap * (1.0 + 1e-12) + 1e-9
    paid = np.empty(m, dtype=bool)
    paid[order] = paid_sorted
    return paid
