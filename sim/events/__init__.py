"""Scenario events: what a scenario's timeline schedules at the start of a tick (step 1).

An event is a small dataclass with the tick it fires and one ``apply(ctx)`` method that
acts through :class:`EventContext`, never on the model itself. The types live by theme in
``information``, ``market``, ``policy`` and ``rumour``; :mod:`sim.events.schedule` maps a
scenario file's ``type:`` names to them, validates a scenario (:func:`parse_events`) and
runs step 1 (:class:`Timeline`).
"""

from sim.events.base import (
    TARGETS,
    Event,
    EventContext,
    Process,
    check_range,
    check_target,
    resolve_target,
)
from sim.events.schedule import (
    EVENT_TYPES,
    Timeline,
    build_schedule,
    parse_events,
    register_event,
)

__all__ = [
    "EVENT_TYPES",
    "TARGETS",
    "Event",
    "EventContext",
    "Process",
    "Timeline",
    "build_schedule",
    "check_range",
    "check_target",
    "parse_events",
    "register_event",
    "resolve_target",
]
