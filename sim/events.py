"""Scenario events: what a scenario's timeline schedules at the start of a tick (step 1).

An event is a small dataclass with the tick it fires and one ``apply(model)`` method.
Event types register under the name a scenario file uses in its ``type:`` field; the
scenario loader (:func:`build_schedule`) maps YAML entries to these classes and rejects
what does not fit before the run starts.
"""

import abc
import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

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
        """What ``events.jsonl`` says about this event when it fires."""
        return {"type": self.type_name, **dataclasses.asdict(self)}


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


def build_schedule(specs: Iterable[Any], ticks: int) -> dict[int, list[Event]]:
    """Turn a scenario's event list into ``{tick: [events in file order]}``.

    Args:
        specs: Event mappings as written in a scenario file.
        ticks: The run's horizon; an event past it is an error.

    Returns:
        The schedule; ticks with no events are absent.
    """
    schedule: dict[int, list[Event]] = defaultdict(list)
    for index, spec in enumerate(specs):
        event = _build_event(spec, index, ticks)
        schedule[event.tick].append(event)
    return dict(schedule)
