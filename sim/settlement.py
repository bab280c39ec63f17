"""Settling withdrawals against platforms' liquidity (MODEL.md step 4)."""

import numpy as np
from numba import njit


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
    paid = np.empty(m, dtype=bool)
    _serve(platform, amount, np.maximum(liquidity, 0.0), rng.permutation(m), paid)
    return paid


@njit(cache=True, nogil=True)
def _serve(platform, amount, cap, order, paid):  # pragma: no cover - numba
    """Serve requests in ``order``: each is paid while its platform's running total fits.

    Within a platform, requests are met in the order they appear in ``order`` (a random
    permutation: the queue of a run is luck); amounts are >= 0, so once one does not fit,
    no later one at that platform does.
    """
    running = np.zeros(cap.size)
    for r in order:
        p = platform[r]
        running[p] += amount[r]
        paid[r] = running[p] <= cap[p] * (1.0 + 1e-12) + 1e-9
