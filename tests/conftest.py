"""Shared fixtures: small configs and models built the way the CLI builds them."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

import pytest

from sim.compose import compose_config
from sim.config import Config
from sim.model import TrustModel

SMALL_USERS = 500
SMALL_TICKS = 30


@functools.lru_cache(maxsize=256)
def _compose_cached(overrides: tuple[str, ...]) -> Config:
    return compose_config(list(overrides))


def compose(
    *overrides: str,
    n_users: int = SMALL_USERS,
    ticks: int = SMALL_TICKS,
    seed: int = 0,
) -> Config:
    """A validated small config: Hydra overrides on top of a small world.

    ``n_users``, ``ticks`` and ``seed`` come first so that an explicit override of the
    same key in ``overrides`` wins. Composition is cached; every call returns a fresh
    deep copy, so a test may mutate its config freely.
    """
    base = (f"population.n_users={n_users}", f"ticks={ticks}", f"seed={seed}")
    return copy.deepcopy(_compose_cached(base + tuple(overrides)))


def build(*overrides: str, **kwargs) -> TrustModel:
    """A fresh model from :func:`compose` (not yet run)."""
    return TrustModel(compose(*overrides, **kwargs))


def run(*overrides: str, **kwargs) -> TrustModel:
    """A model from :func:`compose`, run for its ``ticks``."""
    model = build(*overrides, **kwargs)
    model.run()
    return model


@pytest.fixture(scope="session")
def compose_cfg() -> Callable[..., Config]:
    """The :func:`compose` helper: ``compose_cfg("platforms=laggard", seed=2)``."""
    return compose


@pytest.fixture(scope="session")
def build_model() -> Callable[..., TrustModel]:
    """The :func:`build` helper: a fresh, unrun model."""
    return build


@pytest.fixture(scope="session")
def run_model() -> Callable[..., TrustModel]:
    """The :func:`run` helper: a model run for ``cfg.ticks``."""
    return run


@pytest.fixture
def small_cfg() -> Config:
    """A small default world (500 users, 30 ticks, seed 3); a fresh copy per test."""
    return compose(seed=3)


@pytest.fixture
def small_model(small_cfg: Config) -> TrustModel:
    """A fresh, unrun model of :func:`small_cfg`."""
    return TrustModel(small_cfg)


@pytest.fixture(scope="module")
def finished_model() -> TrustModel:
    """A small default world run to the end; shared by a module, so read it only."""
    return run(seed=3)


@pytest.fixture(scope="module")
def pop_cfg():
    """The default population config at 20,000 users."""
    import dataclasses

    from sim.config import PopulationConfig

    return dataclasses.replace(PopulationConfig(), n_users=20_000)


@pytest.fixture(scope="module")
def drawn(pop_cfg):
    """A drawn population (no accounts yet)."""
    import numpy as np

    from sim.population import init_population

    return init_population(pop_cfg, np.random.default_rng(2024))
