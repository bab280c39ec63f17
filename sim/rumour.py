"""Maki-Thompson rumour spreading: ignorants, spreaders and stiflers.

Time advances in ticks. In a tick the users who are spreaders at its start act one at a time
in a random order (random-sequential update), so every action is one transition of the
Maki-Thompson (MT) jump chain. An acting spreader makes a contact with probability
``contact_prob``: a uniformly random neighbour on a network (none if it has no neighbours),
or a uniformly random *other* user in a well-mixed population. An ignorant contact hears the
rumour and believes it (becoming a spreader) with probability ``belief[contact]``, otherwise
becomes a stifler (heard, not believed). If the contact already knows the rumour, only the
*initiating* spreader becomes a stifler, with probability ``stifle_prob`` (in the
Daley-Kendall variant both parties of a spreader-spreader meeting would be stifled; not here).
A spreader created during a tick first acts in the next one. With ``belief = 1`` and
``stifle_prob = 1`` this is classic MT; the ratio of spreading to stifling rate is
``lambda / alpha = 1 / stifle_prob``.

Both the network and the well-mixed tick draw all randomness from the run's Generator with
numpy (order, contacts, uniforms) and hand the arrays to one compiled loop that applies the
actions in order, so the two settings share one kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import brentq

__all__ = [
    "IGNORANT",
    "SPREADER",
    "STIFLER",
    "RumourOutcome",
    "exact_final_ignorant_distribution",
    "final_ignorant_share",
    "spread_tick",
    "spread_tick_well_mixed",
    "well_mixed",
]

IGNORANT, SPREADER, STIFLER = 0, 1, 2


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _act(
    status, believes, order, contact, belief, uniforms, contact_prob, stifle_prob
):  # pragma: no cover - numba
    """Apply the actions of one tick in order.

    Spreader ``v = order[r]`` with drawn contact ``w = contact[r]`` (``-1``: nobody to
    contact) acts if ``u_0 < contact_prob``: an ignorant ``w`` hears the rumour and becomes a
    spreader if ``u_1 < belief[w]`` (``believes[w] = True``), else a stifler; a ``w`` who
    knows it stifles ``v`` if ``u_2 < stifle_prob``. ``uniforms`` is ``(3, len(order))``.

    Returns:
        ``(heard, spreaders)``: users who heard the rumour for the first time, and the
        number of spreaders after the tick.
    """
    heard = 0
    converted = 0
    stifled = 0
    for r in range(order.size):
        v = order[r]
        # Only the acting spreader can be stifled, so everyone in ``order`` is still a
        # spreader at its turn; the check keeps the rule explicit should that change.
        if status[v] != SPREADER:
            continue
        w = contact[r]
        if w < 0 or uniforms[0, r] >= contact_prob:
            continue
        if status[w] == IGNORANT:
            heard += 1
            if uniforms[1, r] < belief[w]:
                status[w] = SPREADER
                believes[w] = True
                converted += 1
            else:
                status[w] = STIFLER
        elif uniforms[2, r] < stifle_prob:
            status[v] = STIFLER
            stifled += 1
    return heard, order.size + converted - stifled


@njit(cache=True, nogil=True)
def _final_ignorant_dp(n, n_spreaders, stifle_prob):  # pragma: no cover - numba
    """Distribution of the final number of ignorants of the MT jump chain.

    From ``(i, s > 0)`` the next effective event spreads, ``(i, s) -> (i - 1, s + 1)``, with
    probability ``r_i = i / (i + stifle_prob (n - 1 - i))``, else stifles,
    ``(i, s) -> (i, s - 1)``. ``2 i + s`` falls by one per event, so each state is visited at
    most once and its visit probability obeys ``P(i, s) = r_{i+1} P(i + 1, s - 1) + (1 - r_i)
    P(i, s + 1)``; the chain ends with ``k`` ignorants with probability ``(1 - r_k) P(k, 1)``.
    Rows of ``i`` are swept downwards, each in ``O(n)`` memory.

    Returns:
        ``p`` of length ``n + 1``: ``p[k] = P(final ignorants = k)``.
    """
    final = np.zeros(n + 1)
    inflow = np.zeros(n + 2)  # r_{i+1} P(i + 1, s - 1): mass entering row i at s
    row = np.zeros(n + 2)
    inflow[n_spreaders] = 1.0
    for i in range(n - n_spreaders, -1, -1):
        spread = i / (i + stifle_prob * (n - 1 - i))
        stifle = 1.0 - spread
        top = n - i  # s <= n - i: spreaders are among the non-ignorants
        acc = 0.0
        for s in range(top, 0, -1):
            acc = inflow[s] + stifle * acc
            row[s] = acc
        final[i] = stifle * row[1]
        inflow[:] = 0.0
        for s in range(1, top + 1):
            inflow[s + 1] = spread * row[s]
    return final


# --------------------------------------------------------------------------------------------
# One tick
# --------------------------------------------------------------------------------------------


def _check_state(status: np.ndarray, believes: np.ndarray, belief: np.ndarray) -> np.ndarray:
    # The arrays are updated in place, so a silently converted copy would lose the update.
    if not isinstance(status, np.ndarray) or status.dtype != np.int8 or status.ndim != 1:
        raise TypeError("status must be a 1-D int8 numpy array")
    if not isinstance(believes, np.ndarray) or believes.dtype != np.bool_:
        raise TypeError("believes must be a bool numpy array")
    belief = np.asarray(belief, dtype=np.float32)
    if believes.shape != status.shape or belief.shape != status.shape:
        raise ValueError(
            f"status, believes and belief must have one shape, got {status.shape}, "
            f"{believes.shape} and {belief.shape}"
        )
    return belief


def _check_prob(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def _tick_network(status, believes, indptr, indices, belief, contact_prob, stifle_prob, rng):
    spreaders = np.flatnonzero(status == SPREADER)
    if spreaders.size == 0:
        return 0, 0
    order = rng.permutation(spreaders)
    start = indptr[order].astype(np.int64)
    degree = indptr[order + 1] - start
    # integers() needs high > 0; an isolated spreader's pick is drawn but not used.
    pick = rng.integers(0, np.maximum(degree, 1), dtype=np.int64)
    uniforms = rng.random((3, order.size))
    contact = np.full(order.size, -1, dtype=np.int64)
    has = degree > 0
    contact[has] = indices[start[has] + pick[has]]
    return _act(status, believes, order, contact, belief, uniforms, contact_prob, stifle_prob)


def _tick_well_mixed(status, believes, belief, contact_prob, stifle_prob, rng):
    spreaders = np.flatnonzero(status == SPREADER)
    if spreaders.size == 0:
        return 0, 0
    n = status.size
    order = rng.permutation(spreaders)
    if n < 2:
        contact = np.full(order.size, -1, dtype=np.int64)
    else:
        # Uniform over the n - 1 others: draw from n - 1 values and skip the spreader itself.
        contact = rng.integers(0, n - 1, size=order.size, dtype=np.int64)
        contact += contact >= order
    uniforms = rng.random((3, order.size))
    return _act(status, believes, order, contact, belief, uniforms, contact_prob, stifle_prob)


def spread_tick(
    status: np.ndarray,
    believes: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    belief: np.ndarray,
    contact_prob: float,
    stifle_prob: float,
    rng: np.random.Generator,
) -> int:
    """One tick on a network given as CSR ``indptr`` / ``indices``.

    Row ``v`` lists the users ``v`` may contact (a symmetric adjacency for an undirected
    network); a spreader contacts one of them uniformly at random.

    Args:
        status: ``int8`` state per user (``IGNORANT``, ``SPREADER``, ``STIFLER``); updated in
            place.
        believes: ``bool`` per user; updated in place (a newly convinced spreader gets
            ``True``).
        indptr: CSR row pointers, length ``n + 1``.
        indices: CSR column indices.
        belief: ``float32`` probability that each user believes what they hear.
        contact_prob: Probability that an acting spreader makes a contact.
        stifle_prob: Probability that a spreader meeting someone who knows the rumour stops.
        rng: Source of randomness.

    Returns:
        Number of users who heard the rumour for the first time this tick.
    """
    belief = _check_state(status, believes, belief)
    if len(indptr) != status.size + 1:
        raise ValueError(f"indptr must have length n + 1 = {status.size + 1}, got {len(indptr)}")
    contact_prob = _check_prob("contact_prob", contact_prob)
    stifle_prob = _check_prob("stifle_prob", stifle_prob)
    heard, _ = _tick_network(
        status, believes, indptr, indices, belief, contact_prob, stifle_prob, rng
    )
    return heard


def spread_tick_well_mixed(
    status: np.ndarray,
    believes: np.ndarray,
    belief: np.ndarray,
    contact_prob: float,
    stifle_prob: float,
    rng: np.random.Generator,
) -> int:
    """One tick with contacts drawn uniformly from everyone else.

    Same kernel and arguments as :func:`spread_tick`, without the network.

    Returns:
        Number of users who heard the rumour for the first time this tick.
    """
    belief = _check_state(status, believes, belief)
    contact_prob = _check_prob("contact_prob", contact_prob)
    stifle_prob = _check_prob("stifle_prob", stifle_prob)
    heard, _ = _tick_well_mixed(status, believes, belief, contact_prob, stifle_prob, rng)
    return heard


# --------------------------------------------------------------------------------------------
# Whole runs and theory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RumourOutcome:
    """End state of a rumour run.

    Attributes:
        ignorant: Users who never heard the rumour.
        peak_spreaders: Most spreaders at once (at the start and after every tick).
        stiflers: Stiflers at the end.
        ticks: Ticks until no spreader was left.
        population: Number of users.
    """

    ignorant: int
    peak_spreaders: int
    stiflers: int
    ticks: int
    population: int

    @property
    def ignorant_share(self) -> float:
        """Share of the population that never heard the rumour."""
        return self.ignorant / self.population


def well_mixed(
    n_ignorant: int,
    n_spreaders: int,
    rng: np.random.Generator,
    *,
    contact_prob: float = 1.0,
    stifle_prob: float = 1.0,
    belief: float = 1.0,
    max_ticks: int = 1_000_000,
) -> RumourOutcome:
    """Run the kernel in a well-mixed population until no spreaders are left.

    Args:
        n_ignorant: Initial ignorants.
        n_spreaders: Initial spreaders (who believe the rumour); no stiflers at the start.
        rng: Source of randomness.
        contact_prob: Probability that an acting spreader makes a contact, in ``(0, 1]``.
        stifle_prob: Probability that a spreader meeting someone who knows the rumour stops,
            in ``(0, 1]``.
        belief: Probability that a user believes what they hear, the same for everyone.
        max_ticks: Safety limit on the number of ticks.

    Returns:
        The final counts.

    Raises:
        ValueError: On invalid arguments, including a lone spreader with nobody to tell.
        RuntimeError: If spreaders are still left after ``max_ticks`` ticks.
    """
    n_ignorant, n_spreaders = int(n_ignorant), int(n_spreaders)
    n = n_ignorant + n_spreaders
    if n_ignorant < 0 or n_spreaders < 0 or n < 1:
        raise ValueError(f"need counts >= 0 and a population >= 1, got {n_ignorant}, {n_spreaders}")
    contact_prob = _check_prob("contact_prob", contact_prob)
    stifle_prob = _check_prob("stifle_prob", stifle_prob)
    belief = _check_prob("belief", belief)
    # Each of these would leave a spreader that never stops.
    if n_spreaders > 0 and (n < 2 or contact_prob == 0.0 or stifle_prob == 0.0):
        raise ValueError("spreaders never stop with n < 2, contact_prob == 0 or stifle_prob == 0")
    status = np.zeros(n, dtype=np.int8)
    status[:n_spreaders] = SPREADER
    believes = status == SPREADER
    beliefs = np.full(n, belief, dtype=np.float32)
    spreaders = peak = n_spreaders
    ticks = 0
    while spreaders > 0:
        if ticks >= max_ticks:
            raise RuntimeError(f"{spreaders} spreaders left after max_ticks={max_ticks} ticks")
        _, spreaders = _tick_well_mixed(status, believes, beliefs, contact_prob, stifle_prob, rng)
        ticks += 1
        peak = max(peak, spreaders)
    ignorant = int(np.count_nonzero(status == IGNORANT))
    return RumourOutcome(
        ignorant=ignorant,
        peak_spreaders=int(peak),
        stiflers=n - ignorant,
        ticks=ticks,
        population=n,
    )


def final_ignorant_share(stifle_prob: float = 1.0) -> float:
    """Large-population share ``theta`` that never hears the rumour (one initial spreader).

    ``theta`` is the root in ``(0, 1)`` of ``theta = exp(-(1 + 1/stifle_prob) (1 - theta))``
    (``theta ~ 0.2032`` for classic MT). ``f(x) = x - exp(-c (1 - x))``, ``c = 1 + 1/p``, is
    concave with roots ``theta`` and 1, and ``f(1 - 1/c) = 1 - 1/c - 1/e > 0`` for ``c >= 2``,
    so ``[0, 1 - 1/c]`` brackets ``theta`` alone.

    Args:
        stifle_prob: Probability ``p`` in ``(0, 1]`` that a spreader meeting someone who
            knows the rumour stops.

    Returns:
        ``theta``.
    """
    stifle_prob = float(stifle_prob)
    if not 0.0 < stifle_prob <= 1.0:
        raise ValueError(f"stifle_prob must be in (0, 1], got {stifle_prob}")
    c = 1.0 + 1.0 / stifle_prob
    # A tiny absolute tolerance leaves brentq's relative one in charge: theta is as small
    # as exp(-c), e.g. 1e-44 at p = 0.01, and an absolute 1e-12 would round it to zero.
    root = brentq(lambda x: x - math.exp(-c * (1.0 - x)), 0.0, 1.0 - 1.0 / c, xtol=1e-300)
    return float(root)


def exact_final_ignorant_distribution(
    n: int, n_spreaders: int = 1, stifle_prob: float = 1.0
) -> np.ndarray:
    """Exact distribution of the final number of ignorants in a well-mixed population.

    Starts with ``n - n_spreaders`` ignorants and no stiflers. Only effective events of the
    MT jump chain matter: from ``(i, s > 0)`` the next one spreads,
    ``(i - 1, s + 1)``, with probability ``i / (i + stifle_prob (n - 1 - i))``, else stifles,
    ``(i, s - 1)``. Dynamic programming over the states in ``O(n^2)`` time.

    Args:
        n: Population size.
        n_spreaders: Initial spreaders.
        stifle_prob: Probability in ``(0, 1]`` that a spreader meeting someone who knows the
            rumour stops.

    Returns:
        ``p`` of length ``n + 1`` with ``p[k] = P(final ignorants = k)``.
    """
    n, n_spreaders = int(n), int(n_spreaders)
    stifle_prob = float(stifle_prob)
    if n < 1 or not 0 <= n_spreaders <= n:
        raise ValueError(f"need n >= 1 and 0 <= n_spreaders <= n, got {n}, {n_spreaders}")
    if not 0.0 < stifle_prob <= 1.0:
        raise ValueError(f"stifle_prob must be in (0, 1], got {stifle_prob}")
    if n_spreaders == 0:
        p = np.zeros(n + 1)
        p[n] = 1.0
        return p
    if n < 2:
        raise ValueError("a lone spreader has nobody to tell and never stops")
    return _final_ignorant_dp(n, n_spreaders, stifle_prob)
