"""Populations for the tests of the users' phases: drawn, and with accounts at random."""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.population import Population, init_population

N_PLAT = 6


def with_accounts(
    cfg, n: int, seed: int, n_plat: int = N_PLAT, fill: float = 0.6
) -> tuple[Population, np.random.Generator]:
    """A population whose slots are filled at random with distinct platforms and evidence."""
    rng = np.random.default_rng(seed)
    pop = init_population(dataclasses.replace(cfg, n_users=n), rng)
    k = pop.platform.shape[1]
    for i in range(n):
        plats = rng.permutation(n_plat)[:k]
        use = rng.random(k) < fill
        pop.platform[i] = np.where(use, plats, -1)
    held = pop.held
    pop.balance[held] = rng.uniform(0.0, 1000.0, held.sum())
    pop.balance[held & (rng.random(held.shape) < 0.05)] = 0.0  # some emptied accounts
    pop.a[held] = rng.uniform(0.0, 10.0, held.sum()).astype(np.float32)
    pop.b[held] = rng.uniform(0.0, 10.0, held.sum()).astype(np.float32)
    pop.institutional_trust[:] = rng.uniform(0.0, 1.0, n).astype(np.float32)
    return pop, rng


def closed_form_trust(pop: Population, k: float) -> np.ndarray:
    a, b = pop.a.astype(np.float64), pop.b.astype(np.float64)
    g = pop.institutional_trust.astype(np.float64)[:, None]
    return (a + k * g) / (a + b + k)
