"""Running the report's simulations, in parallel, and caching what the report reads.

An :class:`Arm` is one condition (Hydra overrides, optionally followed by direct
assignments of numeric leaf keys for design rows); it is run once per seed. Every run is
cached in the work folder under the hash of its whole config
(``sim.output.config_hash(sim.config.config_dict(cfg))``), inside a folder named for the
model's source code, so that a re-run simulates only configs that are new or whose model
code changed. A cached run is two files:

* ``HASH.parquet``: the run's whole ``timeseries.parquet`` (one row per tick);
* ``HASH.json`` (written second, the completion mark): the seed, the platform count, the
  closures and rumour starts of the event log, the trust series of each rumour's target
  (from the platform table), and the entrants' shortfall at the end (liabilities not
  covered by assets at entrants still operating: a loss incurred, not yet realised).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import io
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.compose import compose_config, validate_run
from sim.config import Config, ConfigError, config_dict
from sim.designs import schema_field
from sim.output import atomic_write_bytes, config_hash, read_json, write_json

# Bump when what a cached run holds changes, so that old cache entries are not read.
CACHE_FORMAT = 2
# Overrides every run gets: no figure, no progress bar (runs are many and short).
QUIET = ("output.plot=false", "output.progress=false")
# The event-log entries a closure writes (named by the resulting status) and the fields
# the report reads from each logged event.
CLOSURE_TYPES = ("collapsed", "wound_down", "exited")
_CLOSURE_FIELDS = ("tick", "type", "platform", "reason", "user_losses", "liabilities")
_RUMOUR_FIELDS = ("tick", "platform", "true")
# Where the model's code lives, for the cache's code fingerprint: the package minus the
# commands that only read results (a change there changes no simulated number).
_PACKAGE = Path(__file__).resolve().parents[1]
_NOT_MODEL = ("behaviour", "report", "app")


class BehaviourError(RuntimeError):
    """The report cannot be made as asked (a missing indicator column, a bad table entry)."""


@dataclasses.dataclass(frozen=True)
class Arm:
    """One condition of the report, run once per seed.

    Attributes:
        label: Unique name of the arm (``scenario/rumour``, ``lever/disclosure/high``).
        overrides: Hydra overrides (run size included; the seed is set per run).
        sets: Numeric leaf keys set directly after composing (``(key, value)`` pairs);
            used for the rows of a design, where composing each row with Hydra would
            cost more than the run itself.
    """

    label: str
    overrides: tuple[str, ...]
    sets: tuple[tuple[str, float], ...] = ()


@dataclasses.dataclass
class RunResult:
    """What the report keeps of one run."""

    timeseries: pd.DataFrame
    info: dict[str, Any]

    @property
    def closures(self) -> list[dict[str, Any]]:
        """Closure events: ``tick``, ``type`` (resulting status), ``platform``, ``reason``, ..."""
        return self.info["closures"]

    @property
    def rumours(self) -> list[dict[str, Any]]:
        """Rumour starts: ``tick``, ``platform`` (the target), ``true``."""
        return self.info["rumours"]

    @property
    def platform_count(self) -> int:
        """Platforms at tick 0 (``platforms.count``); entrants have indices from here on."""
        return int(self.info["platform_count"])

    def target_trust(self, platform: int) -> np.ndarray:
        """Mean trust of the holders of a rumour's target, one value per tick (NaN if none)."""
        series = self.info["target_trust"].get(str(platform))
        if series is None:
            return np.full(len(self.timeseries), np.nan)
        return np.array([np.nan if v is None else v for v in series], dtype=float)


# --- configs -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _composed(overrides: tuple[str, ...]) -> Config:
    return compose_config([*overrides, *QUIET])


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)")


def _leaf(override: str) -> tuple[str, float] | None:
    """``(key, value)`` if ``override`` sets a numeric schema leaf to a number, else None.

    Such overrides are applied to the composed config directly: Hydra would give the
    same typed value, but composing costs about 0.1 s, more than a small run.
    """
    key, sep, text = override.partition("=")
    if not sep or not _NUMBER.fullmatch(text) or not re.fullmatch(r"[A-Za-z_][\w.]*", key):
        return None
    try:
        kind = schema_field(key, text).type
    except ConfigError:
        return None
    if kind in (int, "int"):
        return (key, int(text)) if re.fullmatch(r"[+-]?\d+", text) else None
    return (key, float(text)) if kind in (float, "float") else None


def _set_leaf(cfg: Config, key: str, value: float) -> None:
    """Set a numeric dotted key (through ``dict`` entries such as strategies), typed."""
    kind = schema_field(key, value).type
    *path, last = key.split(".")
    node: Any = cfg
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    setattr(node, last, round(float(value)) if kind in (int, "int") else float(value))


def compose_arm(overrides: Sequence[str]) -> Config:
    """The composed config of ``overrides`` (a cached copy; numeric leaves set directly).

    Raises:
        ConfigError: The schema refuses the config.
    """
    rest, leaves = [], []
    for override in overrides:
        leaf = _leaf(override)
        if leaf is None:
            rest.append(override)
        else:
            leaves.append(leaf)
    try:
        cfg = copy.deepcopy(_composed(tuple(rest)))
        for key, value in leaves:
            _set_leaf(cfg, key, value)
    except (KeyError, AttributeError, ConfigError):
        # A dict entry the config lacks (let Hydra say so), or a config valid only with
        # the numeric leaves (a scenario longer than the default horizon): compose it all.
        cfg = copy.deepcopy(_composed(tuple(overrides)))
    return validate_run(cfg)


def build_config(arm: Arm, seed: int) -> Config:
    """The validated config of one run of ``arm``."""
    cfg = compose_arm(arm.overrides)
    cfg.seed = int(seed)
    for key, value in arm.sets:
        _set_leaf(cfg, key, value)
    return validate_run(cfg)


# --- one run -------------------------------------------------------------------------------


def _rumour_targets(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: e.get(k) for k in _RUMOUR_FIELDS} for e in events if e.get("type") == "rumour_start"
    ]


def simulate(cfg: Config) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run one config through the public model API and keep what the report reads.

    Returns:
        The timeseries and the run's info (see the module docstring).
    """
    from sim.model import TrustModel

    model = TrustModel(cfg)
    model.run()
    timeseries = model.timeseries()
    events = model.event_log
    rumours = _rumour_targets(events)
    target_trust: dict[str, list[float | None]] = {}
    if rumours:
        table = model.platform_table()
        for rumour in rumours:
            rows = table[table["platform"] == rumour["platform"]].sort_values("tick")
            series = rows.set_index("tick")["trust_mean"].reindex(timeseries["tick"])
            target_trust[str(rumour["platform"])] = [
                None if not np.isfinite(v) else float(v) for v in series.to_numpy(dtype=float)
            ]
    market = model.market
    late = (np.arange(len(market)) >= cfg.platforms.count) & market.is_operating
    shortfall = np.maximum(market.liabilities - market.assets, 0.0)[late]
    info = {
        "config_hash": config_hash(config_dict(cfg)),
        "seed": cfg.seed,
        "scenario": cfg.scenario.name,
        "platform_count": cfg.platforms.count,
        "closures": [
            {k: e.get(k) for k in _CLOSURE_FIELDS} for e in events if e["type"] in CLOSURE_TYPES
        ],
        "rumours": rumours,
        "target_trust": target_trust,
        "entrant_shortfall": float(shortfall.sum()),
    }
    return timeseries, info


def _simulate_into(cfg: Config, parquet: Path, done: Path) -> None:
    """Worker: simulate and write the cache entry (the JSON last, as the completion mark)."""
    timeseries, info = simulate(cfg)
    buffer = io.BytesIO()
    timeseries.to_parquet(buffer, engine="pyarrow", index=False)
    atomic_write_bytes(parquet, buffer.getvalue())
    write_json(done, info)


# --- the cache -----------------------------------------------------------------------------


def model_fingerprint() -> str:
    """A short hash of the model's source files (``sim/**/*.py`` but the report commands)."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT}\n".encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        relative = path.relative_to(_PACKAGE)
        if relative.parts[0] in _NOT_MODEL:
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


class Cache:
    """Cached runs in ``folder/<model fingerprint>/``, keyed by config hash.

    Args:
        folder: The work folder (created when needed).
    """

    def __init__(self, folder: str | Path):
        self.root = Path(folder)
        self.folder = self.root / model_fingerprint()

    def paths(self, key: str) -> tuple[Path, Path]:
        """(timeseries parquet, info JSON) of a config hash."""
        return self.folder / f"{key}.parquet", self.folder / f"{key}.json"

    def has(self, key: str) -> bool:
        """A complete entry exists (its JSON is the completion mark)."""
        parquet, done = self.paths(key)
        return done.is_file() and parquet.is_file()

    def load(self, key: str) -> RunResult:
        """The cached run of a config hash."""
        parquet, done = self.paths(key)
        info = read_json(done)
        if not isinstance(info, dict) or info.get("config_hash") != key:
            raise BehaviourError(f"cache entry {done} is damaged; delete it and run again")
        return RunResult(pd.read_parquet(parquet), info)


@dataclasses.dataclass
class RunStats:
    """How many distinct runs a call needed, and how many it had to simulate."""

    runs: int = 0
    simulated: int = 0


def run_arms(
    requests: Sequence[tuple[Arm, int]],
    cache: Cache,
    jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> tuple[dict[tuple[str, int], RunResult], RunStats]:
    """Run every (arm, seed) that is not cached, in parallel, and load all of them.

    Runs with the same config (a baseline that two studies share) are simulated once.

    Args:
        requests: (arm, seed) pairs; arm labels must be unique per arm.
        cache: Where runs are kept.
        jobs: Parallel worker processes (joblib, loky); 1 runs in this process.
        log: Called with one progress line (default: stderr).

    Returns:
        The results by ``(arm.label, seed)`` and the counts.
    """
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    keys: dict[tuple[str, int], str] = {}
    todo: dict[str, Config] = {}
    for arm, seed in requests:
        cfg = build_config(arm, seed)
        key = config_hash(config_dict(cfg))
        keys[(arm.label, seed)] = key
        if key not in todo and not cache.has(key):
            todo[key] = cfg
    distinct = len(set(keys.values()))
    log(f"trustsim-behaviour: {distinct} distinct runs, {len(todo)} to simulate")
    cache.folder.mkdir(parents=True, exist_ok=True)
    tasks = [(cfg, *cache.paths(key)) for key, cfg in todo.items()]
    if jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            _simulate_into(*task)
    elif tasks:
        from joblib import Parallel, delayed

        Parallel(n_jobs=jobs, backend="loky")(delayed(_simulate_into)(*task) for task in tasks)
    loaded: dict[str, RunResult] = {}
    results = {}
    for request, key in keys.items():
        if key not in loaded:
            loaded[key] = cache.load(key)
        results[request] = loaded[key]
    return results, RunStats(runs=distinct, simulated=len(todo))
