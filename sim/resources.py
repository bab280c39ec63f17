"""What a run will ask of the machine, estimated before anything is built.

:func:`estimate_bytes` adds up the run's big arrays: per user, per account slot, per
directed edge of the network, per platform row recorded each tick, plus the interpreter
and its libraries. The constants are generous: at 1,000,000 users, 3 slots, mean degree 10,
20 platforms and 260 ticks they give 1.04 GB where ``benchmarks/memory_1m`` measures a peak
of 0.89 GB. :func:`check_memory` refuses a run whose estimate exceeds the machine's memory
(or ``memory_limit_gb``, for a run meant for a bigger machine), naming the key that
dominates the estimate.
"""

import os

from sim.config import Config, ConfigError

BASE = 300e6  # Python, numpy, numba, Mesa, Hydra
PER_USER = 400.0  # user arrays, the tick's scratch state and the kernels' temporaries
PER_SLOT = 60.0  # account arrays (platform, evidence, balance) and their scratch copies
PER_EDGE = 16.0  # one direction of a tie: CSR index and weight, plus the averaging buffers
PER_PLATFORM_TICK = 400.0  # a row of platforms.parquet (about 40 columns) kept in memory
PER_TICK = 1_000.0  # a row of timeseries.parquet and the event log


def machine_bytes() -> float:
    """Physical memory of this machine (bytes), or infinity if the OS will not say."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def estimate_parts(cfg: Config, edges: float | None = None) -> dict[str, float]:
    """The estimate's parts (bytes), keyed by the config key each grows with."""
    n = cfg.population.n_users
    if edges is None:  # generated networks: n x mean degree directed ties
        edges = n * cfg.network.avg_degree
    return {
        "population.n_users": n * PER_USER + edges * PER_EDGE,
        "population.max_accounts": n * cfg.population.max_accounts * PER_SLOT,
        "platforms.count": cfg.platforms.count * (cfg.ticks + 1) * PER_PLATFORM_TICK,
        "ticks": (cfg.ticks + 1) * PER_TICK,
    }


def estimate_bytes(cfg: Config, edges: float | None = None) -> float:
    """Peak memory the run is expected to need (bytes)."""
    return BASE + sum(estimate_parts(cfg, edges).values())


def check_memory(cfg: Config, edges: float | None = None) -> None:
    """Refuse a run that would not fit in memory, before anything is built.

    Raises:
        ConfigError: Naming the key that dominates the estimate, its value, and the
            estimate against the limit.
    """
    limit_gb = cfg.memory_limit_gb
    limit = machine_bytes() if limit_gb is None else limit_gb * 1e9
    need = estimate_bytes(cfg, edges)
    if need <= limit:
        return
    parts = estimate_parts(cfg, edges)
    key = max(parts, key=parts.get)
    value = {
        "population.n_users": cfg.population.n_users,
        "population.max_accounts": cfg.population.max_accounts,
        "platforms.count": cfg.platforms.count,
        "ticks": cfg.ticks,
    }[key]
    where = "this machine has" if limit_gb is None else "memory_limit_gb allows"
    raise ConfigError(
        key,
        value,
        f"a run that fits in memory: it needs about {need / 1e9:.1f} GB and {where} "
        f"{limit / 1e9:.1f} GB (set memory_limit_gb=N to run it on a machine with N GB)",
    )
