"""Beta-reputation trust with a sector prior, forgetting and asymmetry (MODEL.md steps 6-7).

A user's trust in a platform is the mean of a beta posterior whose prior is their
institutional ("system") trust ``g`` with weight ``k``:

    t = (a + k g) / (a + b + k)

Evidence decays and accumulates each tick. Bad evidence weighs more than good (trust is
lost faster than it is won; Slovic 1993) and is forgotten more slowly (a betrayal is
remembered longer than a kept promise; Baumeister et al. 2001), so trust falls fast and
recovers slowly:

    a <- lam+ a + w_plus good,     b <- lam- b + w_minus bad,     lam- >= lam+

Under constant evidence ``good, bad`` per tick the counts converge to
``a* = w_plus good / (1 - lam+)`` and ``b* = w_minus bad / (1 - lam-)``.
"""

import numpy as np
from numba import float32, float64, njit, vectorize


def _beta_mean(a, b, g, k):  # pragma: no cover - compiled twice below
    return (a + k * g) / (a + b + k)


# The one place the formula is written, compiled twice: inlined into the fused account
# passes of sim.accounts (a call per slot would cost a tenth of those passes) ...
beta_mean = njit(inline="always", cache=True)(_beta_mean)
# ... and as a ufunc for arrays (broadcasts, takes ``out=``).
beta_trust = vectorize(
    [float32(float32, float32, float32, float32), float64(float64, float64, float64, float64)],
    cache=True,
)(_beta_mean)
beta_trust.__doc__ = """Trust ``(a + k g) / (a + b + k)`` of arrays (a numpy ufunc).

Example:
    >>> float(beta_trust(np.array([3.0]), np.array([1.0]), np.array([0.5]), 2.0)[0])
    0.6666666666666666
"""


def update_evidence(
    a: np.ndarray,
    b: np.ndarray,
    good: np.ndarray,
    bad: np.ndarray,
    forgetting_good: float,
    forgetting_bad: float,
    w_plus: float,
    w_minus: float,
) -> None:
    """In place: ``a <- lam+ a + w_plus good`` and ``b <- lam- b + w_minus bad``."""
    a *= forgetting_good
    a += w_plus * good
    b *= forgetting_bad
    b += w_minus * bad


def steady_state(
    good: float,
    bad: float,
    g: float,
    k: float,
    forgetting_good: float,
    forgetting_bad: float,
    w_plus: float,
    w_minus: float,
) -> float:
    """Closed-form trust that constant evidence converges to (both forgetting rates < 1)."""
    a = w_plus * good / (1.0 - forgetting_good)
    b = w_minus * bad / (1.0 - forgetting_bad)
    return (a + k * g) / (a + b + k)


def nudge(x: np.ndarray, up: np.ndarray | float, down: np.ndarray | float) -> None:
    """In place, keep ``x`` in [0, 1]: move a share ``up`` toward 1 and ``down`` toward 0.

    ``x <- x + up (1 - x) - down x`` with ``up, down`` in [0, 1] and ``up + down <= 1``
    stays inside [0, 1]. Institutional trust moves this way (the reference form of the
    fused pass :func:`sim.accounts.move_system_trust`).
    """
    x += up * (1.0 - x) - down * x
    np.clip(x, 0.0, 1.0, out=x)
