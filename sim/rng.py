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
)


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per name in :data:`STREAMS`, spawned from ``SeedSequence(seed)``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)
    }
