"""Scenario events: what a scenario's timeline schedules at the start of a tick (step 1).

An event is a small dataclass with the tick it fires and one ``apply(model)`` method.
Event types register under the name a scenario file uses in its ``type:`` field; the
scenario loader (:func:`build_schedule`) maps YAML entries to these classes and rejects
what does not fit before the run starts. The types live by theme in ``market``,
``information``, ``policy`` and ``rumour``.
"""

import abc
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from sim.config import ConfigError

EVENT_TYPES: dict[str, type["Event"]] = {}


@dataclasses.dataclass
class Event(abc.ABC):
    """One scheduled happening; subclasses add their parameters as fields."""

    tick: int
    type_name: ClassVar[str] = ""

    @abc.abstractmethod
    def apply(self, model: Any) -> None:
        """Change the model's world at the start of ``self.tick``."""

    def check(self, key: str) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Validate parameters beyond their types; raise :class:`ConfigError` naming ``key``."""

    def record(self) -> dict[str, Any]:
        """What ``events.jsonl`` says about this event when it fires (type ``scheduled``)."""
        return {"event": self.type_name, **dataclasses.asdict(self)}


def register_event[E: type[Event]](cls: E) -> E:
    """Class decorator: make an event type available to scenario files by its name."""
    if not cls.type_name:
        raise ValueError(f"{cls.__name__} needs a type_name")
    EVENT_TYPES[cls.type_name] = cls
    return cls


def _allowed_types() -> str:
    return "one of " + ", ".join(sorted(EVENT_TYPES)) if EVENT_TYPES else "(no event types)"


def _build_event(spec: Any, index: int, ticks: int) -> Event:
    key = f"scenario.events[{index}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(key, spec, "a mapping with tick, type and parameters")
    params = dict(spec)
    type_name = params.pop("type", None)
    if type_name not in EVENT_TYPES:
        raise ConfigError(f"{key}.type", type_name, _allowed_types())
    cls = EVENT_TYPES[type_name]
    tick = params.get("tick")
    if not isinstance(tick, int) or isinstance(tick, bool) or not 1 <= tick <= ticks:
        raise ConfigError(f"{key}.tick", tick, f"a whole tick in [1, {ticks}] (ticks={ticks})")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise ConfigError(
            f"{key}.{unknown[0]}",
            params[unknown[0]],
            f"a parameter of {type_name}: " + ", ".join(sorted(names)),
        )
    try:
        event = cls(**params)
    except TypeError as err:  # a required parameter is missing
        raise ConfigError(key, dict(spec), f"{type_name} with {err}") from None
    event.check(key)
    return event


def build_schedule(
    specs: Iterable[Any], ticks: int, n_platforms: int | None = None
) -> dict[int, list[Event]]:
    """Turn a scenario's event list into ``{tick: [events in file order]}``.

    Args:
        specs: Event mappings as written in a scenario file.
        ticks: The run's horizon; an event past it is an error.
        n_platforms: Platforms at tick 0; a ``platform`` index must be below it.

    Returns:
        The schedule; ticks with no events are absent.
    """
    schedule: dict[int, list[Event]] = defaultdict(list)
    for index, spec in enumerate(specs):
        event = _build_event(spec, index, ticks)
        target = getattr(event, "platform", None)
        if target is not None:
            check_target(f"scenario.events[{index}].platform", target, n_platforms)
        schedule[event.tick].append(event)
    return dict(schedule)


TARGETS = ("largest", "largest_sound", "smallest", "newest", "fraud", "random")


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


def resolve_target(model: Any, target: int | str, rng: Any) -> Any:
    """The platform an event aims at, chosen when it fires (``None`` if none qualifies).

    ``largest``/``smallest`` compare liabilities among open platforms;
    ``largest_sound`` is the largest honest one whose equity ratio is at least the
    median of the open platforms';
    ``newest`` is the last to enter; ``fraud`` an open fraudulent platform; ``random``
    any open platform.
    """
    if isinstance(target, int):
        return model.platforms[target]
    candidates = [p for p in model.platforms if p.is_open]
    if target == "fraud":
        candidates = [p for p in candidates if p.fraudulent]
    if target == "largest_sound":
        ratio = {p.index: p.assets / max(model.liabilities[p.index], 1e-12) for p in candidates}
        median = float(np.median(list(ratio.values()))) if ratio else 0.0
        candidates = [p for p in candidates if not p.fraudulent and ratio[p.index] >= median]
        target = "largest"
    if not candidates:
        return None
    if target == "largest":
        return max(candidates, key=lambda p: model.liabilities[p.index])
    if target == "smallest":
        return min(candidates, key=lambda p: model.liabilities[p.index])
    if target == "newest":
        return candidates[-1]
    return candidates[int(rng.integers(len(candidates)))]


def check_range(key: str, value: Any, lo: float, hi: float | None = None) -> None:
    """Raise :class:`ConfigError` unless ``lo <= value (<= hi)``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= lo
    ok = ok and (hi is None or value <= hi)
    if not ok:
        allowed = f"a number in [{lo}, {hi}]" if hi is not None else f"a number >= {lo}"
        raise ConfigError(key, value, allowed)


# Register the event types (imports for their side effect).
from sim.events import information, market, policy, rumour  # noqa: E402, F401
