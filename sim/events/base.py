"""What every scenario event shares: its base class, what it may touch, and targets.

An event is a small dataclass with the tick it fires and one ``apply(ctx)`` method. It
sees the model only through :class:`EventContext`: the market and the users, the
regulator's live policy, the run's config (read only), the events' random stream, the
resolution of closures, and :meth:`EventContext.start` for effects that go on after the
tick it fires (a ramp, a campaign, a downturn): those are :class:`Process` objects, run
at step 1 of every later tick until they say they are done.
"""

import abc
import dataclasses
import math
from collections.abc import Hashable
from typing import Any, ClassVar, Protocol

import numpy as np

from sim.config import Config, ConfigError, RegulatorConfig
from sim.market import Market, Status
from sim.population import Population
from sim.resolution import Resolver


class Process(Protocol):
    """An effect an event started that goes on (a policy ramp, a campaign, a downturn)."""

    def advance(self, ctx: "EventContext") -> bool:
        """Step 1 of a tick: do this tick's part; return False once finished."""
        ...


@dataclasses.dataclass(eq=False)
class EventContext:
    """The narrow interface an event acts through (and all it may read or change).

    Attributes:
        market: The platforms, their state and the event log.
        population: The users.
        policy: The regulator's live policy (a policy shift changes it in place).
        cfg: The run's config, read only (strategies, entrants' economics, defaults).
        rng: The events' random stream.
        resolver: Closes platforms (registration deadlines, fraud collapses).
        jurisdictions: With several jurisdictions, their names and live policies, in order
            (``policy`` is the first's); empty with one.
        starting: The same jurisdictions' policies at tick 0 (what ``restore`` returns to).
    """

    market: Market
    population: Population
    policy: RegulatorConfig
    cfg: Config
    rng: np.random.Generator
    resolver: Resolver
    running: dict[Hashable, Process] = dataclasses.field(default_factory=dict)
    jurisdictions: dict[str, RegulatorConfig] = dataclasses.field(default_factory=dict)
    starting: dict[str, RegulatorConfig] = dataclasses.field(default_factory=dict)

    def policy_of(self, jurisdiction: str | None) -> RegulatorConfig:
        """The live policy of ``jurisdiction``'s regulator (None: the first's)."""
        return self.policy if jurisdiction is None else self.jurisdictions[jurisdiction]

    @property
    def tick(self) -> int:
        """The tick now."""
        return self.market.tick

    def log(self, kind: str, **fields: Any) -> None:
        """Record an event in ``events.jsonl``."""
        self.market.log(kind, **fields)

    def start(self, key: Hashable, process: Process) -> None:
        """Run ``process`` from this tick on; it replaces a running one under ``key``."""
        self.running.pop(key, None)
        self.running[key] = process

    def stop(self, key: Hashable) -> None:
        """End the process running under ``key``, if any."""
        self.running.pop(key, None)

    def advance_running(self) -> None:
        """Step 1: every running process does this tick's part, in the order started."""
        for key, process in list(self.running.items()):
            if not process.advance(self):
                del self.running[key]

    def close(self, j: int, *, orderly: bool, reason: str, status: Status | None = None) -> None:
        """Close platform ``j`` and pay its users (:meth:`sim.resolution.Resolver.wind_down`)."""
        self.resolver.wind_down(j, orderly=orderly, reason=reason, status=status)

    def enter(
        self,
        strategy: str,
        *,
        fraudulent: bool,
        base_default: float,
        status: Status,
        jurisdiction: str | None = None,
    ) -> int:
        """A platform playing ``strategy`` enters, licensed in ``jurisdiction``; its index."""
        where = 0 if jurisdiction is None else list(self.jurisdictions).index(jurisdiction)
        return self.market.add(
            strategy, fraudulent, base_default, self.rng, status, jurisdiction=where
        )


@dataclasses.dataclass
class Event(abc.ABC):
    """One scheduled happening; subclasses add their parameters as fields."""

    tick: int
    type_name: ClassVar[str] = ""

    @abc.abstractmethod
    def apply(self, ctx: EventContext) -> None:
        """Change the world at the start of ``self.tick``."""

    def check(self, key: str) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Validate parameters beyond their types; raise :class:`ConfigError` naming ``key``."""

    def record(self) -> dict[str, Any]:
        """What ``events.jsonl`` says about this event when it fires (type ``scheduled``).

        A ``jurisdiction`` left unset (one jurisdiction) is not written.
        """
        fields = dataclasses.asdict(self)
        if fields.get("jurisdiction", "") is None:
            del fields["jurisdiction"]
        return {"event": self.type_name, **fields}


def check_range(key: str, value: Any, lo: float, hi: float | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number, ``lo <= value (<= hi)``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and value >= lo and (hi is None or value <= hi)
    if not ok:
        allowed = f"a number in [{lo}, {hi}]" if hi is not None else f"a number >= {lo}"
        raise ConfigError(key, value, allowed)


TARGETS = ("largest", "largest_sound", "least_liquid", "smallest", "newest", "fraud", "random")


def check_target(key: str, target: Any, n_platforms: int | None) -> None:
    """A platform target is an incumbent's index or one of :data:`TARGETS`."""
    if isinstance(target, str) and target in TARGETS:
        return
    upper = f" < {n_platforms}" if n_platforms is not None else ""
    allowed = f"a platform index >= 0{upper} or one of {', '.join(TARGETS)}"
    if not isinstance(target, int) or isinstance(target, bool) or target < 0:
        raise ConfigError(key, target, allowed)
    if n_platforms is not None and target >= n_platforms:
        raise ConfigError(key, target, allowed)


def resolve_target(market: Market, target: int | str, rng: np.random.Generator) -> int | None:
    """The platform an event aims at, chosen when it fires (``None`` if none qualifies).

    ``largest``/``smallest`` compare liabilities among open platforms;
    ``largest_sound`` is the largest honest one whose equity ratio is at least the
    median of the open platforms'; ``least_liquid`` the one with the least cash for what
    it owes (among those that owe something);
    ``newest`` is the last to enter; ``fraud`` an open fraudulent platform; ``random``
    any open platform.
    """
    if isinstance(target, int):
        return target
    candidates = np.flatnonzero(market.is_open)
    if target == "fraud":
        candidates = candidates[market.fraudulent[candidates]]
    if target == "largest_sound":
        liabilities = market.liabilities[candidates]
        ratio = market.assets[candidates] / np.maximum(liabilities, 1e-12)
        median = float(np.median(ratio)) if ratio.size else 0.0
        candidates = candidates[~market.fraudulent[candidates] & (ratio >= median)]
        target = "largest"
    if target == "least_liquid":
        candidates = candidates[market.liabilities[candidates] > 0]
        if not candidates.size:
            return None
        cover = market.cash[candidates] / market.liabilities[candidates]
        return int(candidates[np.argmin(cover)])
    if not candidates.size:
        return None
    liabilities = market.liabilities[candidates]
    if target == "largest":
        return int(candidates[np.argmax(liabilities)])
    if target == "smallest":
        return int(candidates[np.argmin(liabilities)])
    if target == "newest":
        return int(candidates[-1])
    return int(candidates[int(rng.integers(candidates.size))])
