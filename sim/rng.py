"""Independent random streams for a run's components, all from the run's one seed.

Each component draws from its own ``numpy.random.Generator`` spawned from one
``SeedSequence(seed)``, so adding draws to one component never shifts another's.
"""

import numpy as np

STREAMS = (
    "mesa",
    "network",
    "population",
    "platforms_init",
    "platforms",
    "users",
    "settlement",
    "regulator",
    "information",
    "events",
    "adaptation",
    "rumours",
    "entry",  # appended: the streams before it are unchanged (spawn keys by position)
    "jurisdictions",  # appended likewise: who lives and is licensed where
)


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per name in :data:`STREAMS`, spawned from ``SeedSequence(seed)``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }


def bernoulli_indices(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices where ``n`` independent Bernoulli(``p``) trials succeed.

    The law of ``np.flatnonzero(rng.random(n) < p)``, but for a rare event drawn in
    O(n p): the number of successes is binomial, then which trials is a uniform subset
    (numpy draws a small subset without touching all ``n``). A common event is drawn as
    the mask itself.
    """
    if p >= 0.02:
        return np.flatnonzero(rng.random(n) < p)
    hits = rng.choice(n, size=rng.binomial(n, max(p, 0.0)), replace=False)
    hits.sort()
    return hits
