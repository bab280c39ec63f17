"""Tests for sim.config: defaults, presets, and rejection of bad input with a useful message."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from hydra.errors import HydraException
from omegaconf import OmegaConf

from sim import events as ev
from sim.compose import CONF_DIR, SCENARIO_DIR, compose_config
from sim.config import STRATEGY_NAMES, Config, ConfigError, validate

PLATFORM_PRESETS = sorted(p.stem for p in (CONF_DIR / "platforms").glob("*.yaml"))
REGULATOR_PRESETS = sorted(p.stem for p in (CONF_DIR / "regulator").glob("*.yaml"))
SINGLE_STRATEGY_PRESETS = [name for name in PLATFORM_PRESETS if name != "mixed"]
SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))

TEST_EVENT = "cfgtest_event"


@dataclasses.dataclass
class _CfgTestEvent(ev.Event):
    """A scenario event used only by these tests."""

    amount: float = 0.0
    type_name: ClassVar[str] = TEST_EVENT

    def apply(self, model: Any) -> None:  # pragma: no cover - never run here
        pass


@pytest.fixture
def test_event_type():
    """Register a test event type for the duration of one test, then restore the registry."""
    saved = dict(ev.EVENT_TYPES)
    ev.register_event(_CfgTestEvent)
    yield TEST_EVENT
    ev.EVENT_TYPES.clear()
    ev.EVENT_TYPES.update(saved)


def error_text(err: BaseException) -> str:
    """The message of an exception and of every exception it was raised from."""
    parts, seen = [], set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(str(current))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


# --- defaults and presets ------------------------------------------------------------


def test_defaults():
    cfg = compose_config([])
    assert isinstance(cfg, Config)
    assert cfg.seed == 0
    assert cfg.ticks == 260
    assert cfg.population.n_users == 10_000
    assert cfg.network.kind == "watts_strogatz"
    assert cfg.network.avg_degree == 10
    assert cfg.platforms.count == 20
    assert cfg.platforms.preset == "mixed"
    assert cfg.regulator.regime == "rules_based"
    assert cfg.scenario.name == "baseline"
    assert cfg.scenario.events == []
    # the mixed preset weights every strategy equally
    assert set(cfg.platforms.mix) == set(STRATEGY_NAMES)
    assert len(set(cfg.platforms.mix.values())) == 1
    assert all(w > 0 for w in cfg.platforms.mix.values())


def test_overrides_reach_the_typed_config():
    cfg = compose_config(["population.n_users=500", "ticks=12", "seed=7", "regulator.penalty=0.2"])
    assert (cfg.population.n_users, cfg.ticks, cfg.seed) == (500, 12, 7)
    assert cfg.regulator.penalty == pytest.approx(0.2)


def test_preset_lists_are_not_empty():
    assert "mixed" in PLATFORM_PRESETS
    assert len(SINGLE_STRATEGY_PRESETS) >= 1
    assert {"rules_based", "laissez_faire"} <= set(REGULATOR_PRESETS)


@pytest.mark.parametrize("preset", PLATFORM_PRESETS)
def test_platform_preset_composes_and_validates(preset):
    cfg = validate(compose_config([f"platforms={preset}"]))
    assert cfg.platforms.preset == preset
    assert set(cfg.platforms.mix) <= set(cfg.platforms.strategies)
    assert sum(cfg.platforms.mix.values()) > 0


@pytest.mark.parametrize("preset", SINGLE_STRATEGY_PRESETS)
def test_single_strategy_preset_has_exactly_one_positive_weight(preset):
    cfg = compose_config([f"platforms={preset}"])
    positive = [name for name, w in cfg.platforms.mix.items() if w > 0]
    assert positive == [preset]


@pytest.mark.parametrize("preset", REGULATOR_PRESETS)
def test_regulator_preset_composes_and_validates(preset):
    cfg = validate(compose_config([f"regulator={preset}"]))
    assert cfg.regulator.regime == preset


def test_regulator_presets_differ():
    lax = compose_config(["regulator=laissez_faire"]).regulator
    rules = compose_config(["regulator=rules_based"]).regulator
    assert lax.inspection_rate < rules.inspection_rate
    assert lax.penalty < rules.penalty


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_library_scenario_composes_and_validates(scenario):
    cfg = validate(compose_config([f"scenario={scenario}", f"ticks={horizon(scenario)}"]))
    assert cfg.scenario.name == scenario
    schedule = ev.build_schedule(
        ev.parse_events(cfg.scenario.events, cfg.ticks, cfg.platforms.count)
    )
    assert sum(len(events) for events in schedule.values()) == len(cfg.scenario.events)


def horizon(scenario: str) -> int:
    """The default horizon, or the scenario's last event's tick if that is later."""
    return max(260, max((e["tick"] for e in _scenario_events(scenario)), default=0))


def _scenario_events(scenario: str) -> list:
    return OmegaConf.to_container(OmegaConf.load(SCENARIO_DIR / f"{scenario}.yaml"))["events"]


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "baseline"])
def test_library_scenario_rejects_a_horizon_before_its_last_event(scenario):
    events = _scenario_events(scenario)
    if not events:
        pytest.skip("a world without events (its jurisdictions are the scenario)")
    last = max(event["tick"] for event in events)
    if last == 1:
        pytest.skip("no horizon is shorter than its only event")
    with pytest.raises(ConfigError) as info:
        compose_config([f"scenario={scenario}", f"ticks={last - 1}"])
    assert info.value.key.startswith("scenario.events[")
    assert info.value.key.endswith("].tick")
    assert f"[1, {last - 1}]" in str(info.value)


def test_valid_scenario_event_is_accepted(test_event_type):
    cfg = compose_config(["ticks=10", f"scenario.events=[{{tick:10,type:{test_event_type}}}]"])
    assert cfg.scenario.events == [{"tick": 10, "type": test_event_type}]


# --- bad input: ConfigError from validate --------------------------------------------

ALL_MIX_ZERO = [f"platforms.mix.{name}=0" for name in STRATEGY_NAMES]

# (overrides, key, text naming the value, text naming what is allowed)
CONFIG_ERRORS = [
    pytest.param(["population.n_users=-5"], "population.n_users", "-5", "in [1, ", id="n_users<0"),
    pytest.param(["population.n_users=0"], "population.n_users", "0", "in [1, ", id="n_users=0"),
    pytest.param(["ticks=0"], "ticks", "0", "in [1, 26000]", id="ticks=0"),
    pytest.param(["seed=-1"], "seed", "-1", "in [0, ", id="seed<0"),
    pytest.param(["platforms.count=0"], "platforms.count", "0", "in [1, ", id="count=0"),
    pytest.param(
        ["regulator.penalty=1.5"], "regulator.penalty", "1.5", "[0.0, 1.0]", id="probability>1"
    ),
    pytest.param(
        ["platforms.strategies.balanced.disclosure=-0.1"],
        "platforms.strategies.balanced.disclosure",
        "-0.1",
        "[0.0, 1.0]",
        id="lever<0",
    ),
    pytest.param(
        ["trust.forgetting_bad=1.5"], "trust.forgetting_bad", "1.5", "[0.0, 1.0]", id="forget>1"
    ),
    pytest.param(
        ["population.max_accounts=0"],
        "population.max_accounts",
        "0",
        "in [1, 100]",
        id="max_accounts=0",
    ),
    pytest.param(
        ["population.choice_temperature=0"],
        "population.choice_temperature",
        "0.0",
        "in [0.001, ",
        id="temperature=0",
    ),
    pytest.param(["trust.w_minus=nan"], "trust.w_minus", "nan", "finite", id="nan"),
    pytest.param(["trust.w_minus=inf"], "trust.w_minus", "inf", "finite", id="inf"),
    pytest.param(
        ["network.kind=unknown"],
        "network.kind",
        "'unknown'",
        "watts_strogatz, barabasi_albert, erdos_renyi, edge_list",
        id="network_kind",
    ),
    pytest.param(
        ["population.n_users=10", "network.avg_degree=10"],
        "network.avg_degree",
        "10",
        "10",  # the limit, n_users, in the allowed part of the message
        id="avg_degree>=n_users",
    ),
    pytest.param(["network.avg_degree=0"], "network.avg_degree", "0.0", "> 0", id="avg_degree=0"),
    pytest.param(
        ["network.kind=edge_list"], "network.path", "None", "edge-list file", id="edge_list_no_path"
    ),
    pytest.param(
        ["network.kind=edge_list", "network.path=/nonexistent/trustsim_edges.txt"],
        "network.path",
        "/nonexistent/trustsim_edges.txt",
        "existing file",
        id="edge_list_missing_file",
    ),
    pytest.param(
        ["population.threshold_low=0.8"],
        "population.threshold_low",
        "0.8",
        "threshold_high=0.7",
        id="threshold_low>high",
    ),
    pytest.param(
        ["platforms.default_rate_low=0.2"],
        "platforms.default_rate_low",
        "0.2",
        "default_rate_high=0.1",
        id="default_rate_low>high",
    ),
    pytest.param(
        ["trust.detractor_threshold=0.7"],
        "trust.detractor_threshold",
        "0.7",
        "promoter_threshold=0.65",
        id="detractor>promoter",
    ),
    pytest.param(
        ["+platforms.mix.foo=1"], "platforms.mix.foo", "1", "platforms.strategies", id="mix_unknown"
    ),
    pytest.param(
        ["platforms.mix.balanced=-1"], "platforms.mix.balanced", "-1", ">= 0", id="mix_negative"
    ),
    pytest.param(
        ["platforms.mix.balanced=nan"], "platforms.mix.balanced", "nan", ">= 0", id="mix_nan"
    ),
    pytest.param(ALL_MIX_ZERO, "platforms.mix", "0.0", "positive weight", id="mix_all_zero"),
    pytest.param(
        ["scenario.events=[5]"], "scenario.events[0]", "5", "mapping", id="event_not_mapping"
    ),
    pytest.param(
        ["scenario.events=[{tick:1,type:cfgtest_nosuch}]"],
        "scenario.events[0].type",
        "cfgtest_nosuch",
        TEST_EVENT,
        id="event_unknown_type",
    ),
    pytest.param(
        ["ticks=10", f"scenario.events=[{{tick:11,type:{TEST_EVENT}}}]"],
        "scenario.events[0].tick",
        "11",
        "[1, 10]",
        id="event_past_horizon",
    ),
    pytest.param(
        [f"scenario.events=[{{tick:1,type:{TEST_EVENT},amout:2}}]"],
        "scenario.events[0].amout",
        "2",
        "amount",
        id="event_unknown_parameter",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "value", "allowed"), CONFIG_ERRORS)
def test_bad_value_raises_config_error(test_event_type, overrides, key, value, allowed):
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    err = info.value
    message = str(err)
    assert err.key == key
    assert f"{key}=" in message, message
    shown_value = message.split(f"{key}=", 1)[1].split(": allowed", 1)[0]
    assert value in shown_value, message
    assert allowed in message, message
    assert allowed in err.allowed


def test_mix_unknown_strategy_without_plus_is_rejected_by_hydra():
    """Without '+', Hydra refuses to add a key to the mix; with '+', validate refuses it."""
    with pytest.raises((HydraException, ConfigError)) as info:
        compose_config(["platforms.mix.foo=1"])
    assert "platforms.mix.foo" in str(info.value)


def test_validate_checks_a_typed_config_directly():
    cfg = Config()
    cfg.regulator.penalty = 2.0
    with pytest.raises(ConfigError, match=r"regulator\.penalty=2\.0"):
        validate(cfg)


@pytest.mark.parametrize(
    ("kind", "n_users", "avg_degree"),
    [("watts_strogatz", 10, 9.5), ("erdos_renyi", 10, 9.5)],
)
def test_validate_rejects_avg_degree_the_network_cannot_build(kind, n_users, avg_degree):
    """An accepted config must be buildable: 9.5 < n_users passes the ``< n_users`` rule,
    but Watts-Strogatz rounds it to lattice degree 10 (not < n) and Erdos-Renyi needs
    avg_degree <= n - 1, so the run would crash with a ValueError after validation."""
    overrides = [
        f"network.kind={kind}",
        f"population.n_users={n_users}",
        f"network.avg_degree={avg_degree}",
    ]
    with pytest.raises(ConfigError) as info:
        compose_config(overrides)
    assert info.value.key == "network.avg_degree"
    assert str(avg_degree) in str(info.value)


# --- bad input: Hydra composition errors ---------------------------------------------

# (overrides, texts the composition error must contain)
COMPOSITION_ERRORS = [
    pytest.param(["seed=abc"], ["seed", "abc", "Integer"], id="seed=abc"),
    pytest.param(["ticks=abc"], ["ticks", "abc", "Integer"], id="ticks=abc"),
    pytest.param(["population.n_users=1.5"], ["population.n_users", "1.5"], id="n_users=1.5"),
    pytest.param(["output.plot=maybe"], ["output.plot", "maybe"], id="plot=maybe"),
    pytest.param(["foo=1"], ["foo"], id="unknown_key"),
    pytest.param(["population.typo=3"], ["population.typo"], id="unknown_nested_key"),
    pytest.param(["platforms.mix.foo=1"], ["platforms.mix.foo"], id="mix_key_without_plus"),
    pytest.param(["platforms=nonexistent"], ["platforms/nonexistent", "mixed"], id="platforms"),
    pytest.param(["regulator=nope"], ["regulator/nope", "rules_based"], id="regulator"),
    pytest.param(["scenario=nope"], ["scenario/nope", "baseline"], id="scenario"),
]


@pytest.mark.parametrize(("overrides", "texts"), COMPOSITION_ERRORS)
def test_composition_error_names_the_key(overrides, texts):
    with pytest.raises(HydraException) as info:
        compose_config(overrides)
    key = texts[0]
    assert key in str(info.value), str(info.value)
    full = error_text(info.value)
    for text in texts[1:]:
        assert text in full, full


@pytest.mark.parametrize(
    ("override", "key"),
    [
        pytest.param("+foo=1", "foo", id="+foo"),
        pytest.param("+population.typo=3", "population.typo", id="+population.typo"),
    ],
)
def test_unknown_key_added_with_plus_is_rejected(override, key):
    """Hydra's own hint for ``foo=1`` is "use +foo=1"; a typo added that way must not be
    silently ignored."""
    with pytest.raises((ConfigError, HydraException)) as info:
        compose_config([override])
    assert key in str(info.value)
