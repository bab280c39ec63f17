"""Tests for sim.events: the event registry and build_schedule's validation of scenario specs."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from sim import events as ev
from sim.config import ConfigError

HORIZON = 10


@dataclasses.dataclass
class _Bump(ev.Event):
    """Test event with one required parameter and a range check in its ``check`` hook."""

    amount: float
    type_name: ClassVar[str] = "test_bump"

    def apply(self, model: Any) -> None:
        model.bumped = getattr(model, "bumped", 0.0) + self.amount

    def check(self, key: str) -> None:
        if self.amount < 0:
            raise ConfigError(f"{key}.amount", self.amount, "a number >= 0")


@dataclasses.dataclass
class _Other(ev.Event):
    """A second test event type, without parameters."""

    type_name: ClassVar[str] = "test_other"

    def apply(self, model: Any) -> None:  # pragma: no cover - never applied here
        pass


@dataclasses.dataclass
class _Aimed(ev.Event):
    """A test event aimed at a platform (an index or a named target)."""

    platform: Any = "largest"
    type_name: ClassVar[str] = "test_aimed"

    def apply(self, model: Any) -> None:  # pragma: no cover - never applied here
        pass


@pytest.fixture
def registry():
    """Register the test event types; restore ``EVENT_TYPES`` exactly afterwards."""
    saved = dict(ev.EVENT_TYPES)
    assert ev.register_event(_Bump) is _Bump
    ev.register_event(_Other)
    ev.register_event(_Aimed)
    yield ev.EVENT_TYPES
    ev.EVENT_TYPES.clear()
    ev.EVENT_TYPES.update(saved)


def bump(tick: Any = 3, **extra: Any) -> dict[str, Any]:
    return {"tick": tick, "type": "test_bump", "amount": 0.25, **extra}


def test_empty_schedule():
    schedule = ev.build_schedule(ev.parse_events([], HORIZON))
    assert schedule == {}
    assert type(schedule) is dict


def test_registered_types_are_listed(registry):
    assert registry["test_bump"] is _Bump
    assert registry["test_other"] is _Other


def test_registry_is_restored_after_a_test():
    for name in ("test_bump", "test_other", "test_aimed"):
        assert name not in ev.EVENT_TYPES


def test_register_event_requires_a_type_name():
    @dataclasses.dataclass
    class Nameless(ev.Event):
        def apply(self, model: Any) -> None:  # pragma: no cover
            pass

    saved = dict(ev.EVENT_TYPES)
    with pytest.raises(ValueError, match="Nameless"):
        ev.register_event(Nameless)
    assert saved == ev.EVENT_TYPES


def test_valid_spec_lands_at_its_tick(registry):
    schedule = ev.build_schedule(ev.parse_events([bump(tick=4)], HORIZON))
    assert list(schedule) == [4]
    [event] = schedule[4]
    assert isinstance(event, _Bump)
    assert event == _Bump(tick=4, amount=0.25)
    record = event.record()  # what events.jsonl says when it fires: its type and fields
    assert {"tick": 4, "amount": 0.25}.items() <= record.items()
    assert "test_bump" in record.values()


def test_event_apply_changes_the_model(registry):
    [event] = ev.build_schedule(ev.parse_events([bump(tick=2)], HORIZON))[2]

    class Model:
        pass

    model = Model()
    event.apply(model)
    assert model.bumped == 0.25


def test_schedule_groups_by_tick_in_file_order(registry):
    specs = [
        bump(tick=5, amount=1.0),
        {"tick": 2, "type": "test_other"},
        bump(tick=5, amount=2.0),
        bump(tick=1),
        bump(tick=HORIZON),
    ]
    schedule = ev.build_schedule(ev.parse_events(specs, HORIZON))
    assert sorted(schedule) == [1, 2, 5, HORIZON]
    assert [e.amount for e in schedule[5]] == [1.0, 2.0]
    assert [type(e) for e in schedule[2]] == [_Other]
    assert sum(len(v) for v in schedule.values()) == len(specs)


def test_specs_are_not_mutated(registry):
    spec = bump()
    before = dict(spec)
    ev.build_schedule(ev.parse_events([spec], HORIZON))
    assert spec == before


def test_unknown_parameter_names_it_and_lists_the_allowed(registry):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([bump(), bump(size=9)], HORIZON))
    err = info.value
    assert err.key == "scenario.events[1].size"
    assert err.value == 9
    message = str(err)
    assert "scenario.events[1].size=9" in message
    assert "amount" in message
    assert "tick" in message


def test_missing_required_parameter(registry):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([{"tick": 3, "type": "test_bump"}], HORIZON))
    assert info.value.key == "scenario.events[0]"
    assert "amount" in str(info.value)


def test_check_hook_is_called_with_the_event_key(registry):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([bump(), bump(tick=2, amount=-1.0)], HORIZON))
    assert info.value.key == "scenario.events[1].amount"
    assert "-1.0" in str(info.value)


@pytest.mark.parametrize(
    "tick",
    [
        pytest.param(None, id="missing"),
        pytest.param(0, id="zero"),
        pytest.param(-1, id="negative"),
        pytest.param(HORIZON + 1, id="past_horizon"),
        pytest.param(2.5, id="float"),
        pytest.param(3.0, id="integral_float"),
        pytest.param("3", id="string"),
        pytest.param(True, id="bool"),
    ],
)
def test_bad_tick_names_the_tick(registry, tick):
    spec = bump(tick=tick)
    if tick is None:
        del spec["tick"]
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([bump(tick=1), spec], HORIZON))
    err = info.value
    assert err.key == "scenario.events[1].tick"
    assert err.value == tick
    assert type(err.value) is type(tick)
    message = str(err)
    assert f"scenario.events[1].tick={tick!r}" in message
    assert f"[1, {HORIZON}]" in message


def test_unknown_type_lists_the_registered_types(registry):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([{"tick": 1, "type": "no_such_event"}], HORIZON))
    err = info.value
    assert err.key == "scenario.events[0].type"
    message = str(err)
    assert "'no_such_event'" in message
    for name in registry:
        assert name in message


def test_missing_type_is_an_unknown_type(registry):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([{"tick": 1}], HORIZON))
    assert info.value.key == "scenario.events[0].type"
    assert "test_bump" in str(info.value)


@pytest.mark.parametrize("spec", [5, "test_bump", [1, "test_bump"], None])
def test_spec_that_is_not_a_mapping(registry, spec):
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([spec], HORIZON))
    assert info.value.key == "scenario.events[0]"
    assert "mapping" in str(info.value)


# --- events aimed at a platform --------------------------------------------------------


@pytest.mark.parametrize("target", [0, 4, *ev.TARGETS])
def test_platform_target_accepted(registry, target):
    spec = {"tick": 2, "type": "test_aimed", "platform": target}
    [event] = ev.build_schedule(ev.parse_events([spec], HORIZON, n_platforms=5))[2]
    assert event.platform == target


@pytest.mark.parametrize("target", [5, -1, "biggest", 1.0, True])
def test_platform_target_rejected(registry, target):
    spec = {"tick": 2, "type": "test_aimed", "platform": target}
    with pytest.raises(ConfigError) as info:
        ev.build_schedule(ev.parse_events([bump(), spec], HORIZON, n_platforms=5))
    assert info.value.key == "scenario.events[1].platform"
    message = str(info.value)
    assert "largest" in message
    if isinstance(target, int) and not isinstance(target, bool) and target >= 0:
        assert "< 5" in message
