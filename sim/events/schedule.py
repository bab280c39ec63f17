"""The scenario's timeline: event types by name, validation of a scenario, and step 1.

:data:`EVENT_TYPES` maps the ``type:`` of a scenario entry to its class (the library's
types are listed here; :func:`register_event` adds one of your own). :func:`parse_events`
turns a scenario's entries into events, rejecting what does not fit before anything is
built; :class:`Timeline` fires them at their ticks and runs the effects they start.
"""

import dataclasses
import math
import types
import typing
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sim.config import ConfigError
from sim.events.base import Event, EventContext, check_target
from sim.events.information import DataBreach, EducationCampaign, Outage
from sim.events.market import (
    FraudCollapse,
    MacroShock,
    OrderlyExit,
    PlatformEntry,
    RegistrationDeadline,
    Sandbox,
    StrategyChange,
)
from sim.events.policy import LegalLag, PolicyShift, SelfRegulation
from sim.events.rumour import Rumour

EVENT_TYPES: dict[str, type[Event]] = {}


def register_event[E: type[Event]](cls: E) -> E:
    """Class decorator: make an event type available to scenario files by its name."""
    if not cls.type_name:
        raise ValueError(f"{cls.__name__} needs a type_name")
    EVENT_TYPES[cls.type_name] = cls
    return cls


for _cls in (
    Rumour,
    PolicyShift,
    RegistrationDeadline,
    Sandbox,
    PlatformEntry,
    EducationCampaign,
    Outage,
    DataBreach,
    FraudCollapse,
    SelfRegulation,
    LegalLag,
    MacroShock,
    StrategyChange,
    OrderlyExit,
):
    register_event(_cls)


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
    hints = typing.get_type_hints(cls)
    for name, value in params.items():
        if name != "tick":
            check_kind(f"{key}.{name}", value, hints[name])
    try:
        event = cls(**params)
    except TypeError as err:  # a required parameter is missing
        raise ConfigError(key, dict(spec), f"{type_name} with {err}") from None
    event.check(key)
    return event


def check_kind(key: str, value: Any, kind: Any) -> None:
    """``value`` is of the annotated ``kind`` (the same rules as config keys).

    Whole numbers must be ints (not bools or floats), numbers finite, booleans booleans,
    lists lists and mappings mappings; ``X | None`` also takes null; ``int | str`` (a
    platform target) is checked by :func:`sim.events.base.check_target`.

    Raises:
        ConfigError: Naming the key, the value and what is allowed.
    """
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        options = [a for a in args if a is not type(None)]
        if len(options) > 1:
            return  # a target (int or a name): check_target says what is allowed
        kind = options[0]
    origin = typing.get_origin(kind) or kind
    if origin is bool:
        ok, allowed = isinstance(value, bool), "true or false"
    elif origin is int:
        ok, allowed = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif origin is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        allowed = "a finite number"
    elif origin is str:
        ok, allowed = isinstance(value, str), "a string"
    elif origin is list:
        ok, allowed = isinstance(value, list | tuple), "a list"
    elif origin is dict:
        ok, allowed = isinstance(value, Mapping), "a mapping {key: value}"
    else:
        return
    if not ok:
        raise ConfigError(key, value, allowed)


def parse_events(specs: Iterable[Any], ticks: int, n_platforms: int | None = None) -> list[Event]:
    """A scenario's event entries as events, in file order, each checked.

    Args:
        specs: Event mappings as written in a scenario file.
        ticks: The run's horizon; an event past it is an error.
        n_platforms: Platforms at tick 0; a ``platform`` index must be below it.

    Raises:
        ConfigError: Naming ``scenario.events[i].key``, the value and what is allowed.
    """
    events = []
    for index, spec in enumerate(specs):
        event = _build_event(spec, index, ticks)
        target = getattr(event, "platform", None)
        if target is not None:
            check_target(f"scenario.events[{index}].platform", target, n_platforms)
        events.append(event)
    return events


def build_schedule(events: Iterable[Event]) -> dict[int, list[Event]]:
    """``{tick: [events in file order]}``; ticks with no events are absent."""
    schedule: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        schedule[event.tick].append(event)
    return dict(schedule)


class Timeline:
    """Step 1 of every tick: the events due fire, then the effects they started go on.

    Args:
        events: The scenario's events (from :func:`parse_events`).
    """

    def __init__(self, events: Iterable[Event]):
        self.schedule = build_schedule(events)

    def advance(self, ctx: EventContext) -> None:
        """Fire the events due at ``ctx.tick`` (file order), then run the started effects."""
        for event in self.schedule.get(ctx.tick, ()):
            ctx.log("scheduled", **event.record())
            event.apply(ctx)
        ctx.advance_running()
