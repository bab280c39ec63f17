"""Platform choice: a softmax over utilities, sampled with one uniform per chooser."""

import numpy as np


def softmax_choice(utility: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one column per row with probability ``exp(U/T) / sum exp(U/T)``.

    Columns with utility ``-inf`` are never chosen; a row whose utilities are all
    ``-inf`` gets ``-1``.

    Args:
        utility: ``(m, P)`` utilities; overwritten.
        temperature: Softmax temperature ``T > 0``; lower is greedier.
        rng: Generator for the ``m`` uniforms.

    Returns:
        ``(m,)`` chosen column indices (int64), ``-1`` where nothing is available.
    """
    m = utility.shape[0]
    if m == 0:
        return np.empty(0, dtype=np.int64)
    row_max = utility.max(axis=1, keepdims=True)
    none = ~np.isfinite(row_max[:, 0])
    row_max[none] = 0.0
    utility -= row_max
    utility /= temperature
    np.exp(utility, out=utility)
    np.cumsum(utility, axis=1, out=utility)
    total = utility[:, -1].copy()
    u = rng.random(m) * total
    chosen = (utility < u[:, None]).sum(axis=1)
    chosen = np.minimum(chosen, utility.shape[1] - 1)
    chosen[none] = -1
    return chosen
