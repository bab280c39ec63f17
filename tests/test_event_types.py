"""Each scenario event type: its parameter validation and what it does when it fires.

Behaviour is checked against closed forms (ramps, literacy, default losses, recoveries)
or against the same run without the event: events draw from their own random stream, so
until the event's effects spread the two runs are identical and differences are exact.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from sim import decisions
from sim import events as ev
from sim.config import LEVERS, Config, ConfigError
from sim.events import build_schedule, parse_events, resolve_target
from sim.market import SandboxTerms, Status
from sim.model import TrustModel

N_PLATFORMS = 20  # platforms.count by default


def with_events(cfg: Config, *events: dict[str, Any]) -> TrustModel:
    """A model of ``cfg`` whose scenario is exactly ``events``."""
    scenario = dataclasses.replace(cfg.scenario, events=list(events))
    return TrustModel(dataclasses.replace(cfg, scenario=scenario))


def step_to(model: TrustModel, tick: int) -> None:
    while model.tick < tick:
        model.step()


def logged(model: TrustModel, kind: str, **match: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in model.event_log
        if e["type"] == kind and all(e.get(k) == v for k, v in match.items())
    ]


def closures(model: TrustModel, reason: str) -> list[dict[str, Any]]:
    """Logged closures (collapse, wind-down, exit) for ``reason``, whatever the type's name."""
    return [e for e in model.event_log if e.get("reason") == reason and "recovery" in e]


def account_trust(model: TrustModel) -> np.ndarray:
    return model.population.trust(model.cfg.trust.prior_weight)


def biggest(model: TrustModel) -> int:
    return int(np.argmax(model.market.liabilities))


# --- validation: one bad value per type names scenario.events[i].<param> ----------------------

BAD_PARAMETERS = [
    ("orderly_exit", {"rate": 1.5}, "rate"),
    ("orderly_exit", {"duration": 0}, "duration"),
    ("platform_entry", {"count": 0}, "count"),
    ("platform_entry", {"strategy": "moonshot"}, "strategy"),
    ("platform_entry", {"fraud_share": 1.5}, "fraud_share"),
    ("platform_entry", {"default_rate": [0.2, 0.1]}, "default_rate"),
    ("platform_entry", {"advertised_yield": -0.1}, "advertised_yield"),
    ("sandbox", {"entrants": 0}, "entrants"),
    ("sandbox", {"exposure_cap": 1.5}, "exposure_cap"),
    ("sandbox", {"duration": 0}, "duration"),
    ("sandbox", {"monitoring": -0.1}, "monitoring"),
    ("sandbox", {"disclosure": 2.0}, "disclosure"),
    ("sandbox", {"default_rate": [0.1]}, "default_rate"),
    ("registration_deadline", {"min_compliance": 1.2}, "min_compliance"),
    ("fraud_collapse", {"platform": N_PLATFORMS}, "platform"),
    ("fraud_collapse", {"platform": "biggest"}, "platform"),
    ("macro_shock", {"multiplier": -1.0}, "multiplier"),
    ("macro_shock", {"duration": 0}, "duration"),
    ("strategy_change", {"strategy": "moonshot"}, "strategy"),
    ("strategy_change", {"levers": {"nope": 0.5}}, "levers.nope"),
    ("strategy_change", {"levers": {"compliance": 1.5}}, "levers.compliance"),
    ("strategy_change", {"advertised_yield": 2.0}, "advertised_yield"),
    ("education_campaign", {"rate": 1.5}, "rate"),
    ("education_campaign", {"reach": -0.1}, "reach"),
    ("education_campaign", {"duration": 0}, "duration"),
    ("outage", {"platform": -1}, "platform"),
    ("data_breach", {"platform": "everyone"}, "platform"),
    ("policy_shift", {"changes": {"penalty": 2}}, "changes.penalty"),
    ("policy_shift", {"changes": {"nope": 1}}, "changes.nope"),
    ("policy_shift", {"changes": {"regime": "strict"}}, "changes.regime"),
    ("policy_shift", {"changes": {"shutdown_after": 2.5}}, "changes.shutdown_after"),
    ("policy_shift", {"changes": {"blacklist": 1}}, "changes.blacklist"),
    ("policy_shift", {"changes": {"max_tightening": 0.5}}, "changes.max_tightening"),
    ("policy_shift", {"changes": {}}, "changes"),
    ("policy_shift", {"changes": {"penalty": 0.1}, "ramp": -1}, "ramp"),
    ("self_regulation", {"peer_audit_rate": 1.5}, "peer_audit_rate"),
    ("self_regulation", {"peer_audit_accuracy": -0.2}, "peer_audit_accuracy"),
    ("legal_lag", {"share": 1.1}, "share"),
    ("legal_lag", {"lag": 0}, "lag"),
    ("legal_lag", {"extra_yield": -0.01}, "extra_yield"),
    ("legal_lag", {"temptation": -1.0}, "temptation"),
    ("rumour", {"contact_prob": 1.5}, "contact_prob"),
    ("rumour", {"seed_spreaders": -1}, "seed_spreaders"),
    ("rumour", {"substeps": 0}, "substeps"),
    ("rumour", {"rebuttal_reach": 2.0}, "rebuttal_reach"),
    ("rumour", {"rebuttal_delay": -1}, "rebuttal_delay"),
    ("rumour", {"evidence": -0.5}, "evidence"),
    ("rumour", {"platform": 99}, "platform"),
]

# A valid spec of every type: the bad one is put after it, at index 1.
GOOD_SPECS = {
    "platform_entry": {},
    "sandbox": {},
    "registration_deadline": {},
    "fraud_collapse": {},
    "macro_shock": {},
    "strategy_change": {"strategy": "balanced"},
    "education_campaign": {},
    "outage": {},
    "data_breach": {},
    "policy_shift": {"changes": {"penalty": 0.02}},
    "self_regulation": {},
    "legal_lag": {},
    "rumour": {},
    "orderly_exit": {"rate": 0.1, "duration": 5},
}


def test_every_registered_type_is_covered():
    registered = {name for name in ev.EVENT_TYPES if not name.startswith("test_")}
    assert registered == set(GOOD_SPECS)
    assert {name for name, _, _ in BAD_PARAMETERS} == set(GOOD_SPECS)


@pytest.mark.parametrize("type_name", sorted(GOOD_SPECS))
def test_valid_spec_builds_and_records_its_type(type_name):
    spec = {"tick": 3, "type": type_name, **GOOD_SPECS[type_name]}
    schedule = build_schedule(parse_events([spec], 10, N_PLATFORMS))
    [event] = schedule[3]
    assert type(event) is ev.EVENT_TYPES[type_name]
    assert event.record()["event"] == type_name


@pytest.mark.parametrize(
    ("type_name", "params", "param"),
    BAD_PARAMETERS,
    ids=[f"{t}-{p}" for t, _, p in BAD_PARAMETERS],
)
def test_bad_parameter_is_named(type_name, params, param):
    good = {"tick": 2, "type": type_name, **GOOD_SPECS[type_name]}
    bad = {"tick": 3, "type": type_name, **params}
    with pytest.raises(ConfigError) as info:
        build_schedule(parse_events([good, bad], 10, N_PLATFORMS))
    assert info.value.key == f"scenario.events[1].{param}"


@pytest.mark.parametrize("type_name", sorted(GOOD_SPECS))
def test_unknown_parameter_is_named(type_name):
    spec = {"tick": 3, "type": type_name, **GOOD_SPECS[type_name], "bogus": 1}
    with pytest.raises(ConfigError) as info:
        build_schedule(parse_events([spec], 10, N_PLATFORMS))
    assert info.value.key == "scenario.events[0].bogus"


@pytest.mark.parametrize("type_name", ["strategy_change", "policy_shift"])
def test_event_that_changes_nothing_is_rejected(type_name):
    with pytest.raises(ConfigError) as info:
        build_schedule(parse_events([{"tick": 3, "type": type_name}], 10, N_PLATFORMS))
    assert info.value.key.startswith("scenario.events[0]")


def test_model_validates_its_scenario(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=10)
    with pytest.raises(ConfigError) as info:
        with_events(cfg, {"tick": 2, "type": "macro_shock", "multiplier": -2.0})
    assert info.value.key == "scenario.events[0].multiplier"


# --- targets --------------------------------------------------------------------------------

AIMED = ["fraud_collapse", "strategy_change", "outage", "data_breach", "rumour"]


@pytest.mark.parametrize("type_name", AIMED)
def test_target_index_must_be_an_incumbent(type_name):
    spec = {"tick": 2, "type": type_name, **GOOD_SPECS[type_name]}
    [event] = build_schedule(parse_events([{**spec, "platform": 4}], 10, n_platforms=5))[2]
    assert event.platform == 4
    for bad in (5, 7, -1, "biggest", "all"):
        with pytest.raises(ConfigError) as info:
            build_schedule(parse_events([{**spec, "platform": bad}], 10, n_platforms=5))
        assert info.value.key == "scenario.events[0].platform"


def test_target_index_checked_against_platforms_count(compose_cfg):
    cfg = compose_cfg("platforms.count=5", n_users=300, ticks=10)
    with_events(cfg, {"tick": 2, "type": "outage", "platform": 4})
    with pytest.raises(ConfigError) as info:
        with_events(cfg, {"tick": 2, "type": "outage", "platform": 5})
    assert info.value.key == "scenario.events[0].platform"


@pytest.fixture(scope="module")
def target_world(compose_cfg):
    """A world with frauds, entrants and closed platforms, stopped at tick 6."""
    cfg = compose_cfg("platforms.fraud_share=0.2", n_users=600, ticks=10, seed=4)
    model = with_events(cfg, {"tick": 2, "type": "platform_entry", "count": 3})
    step_to(model, 5)
    # Close the largest incumbent and the newest entrant so that targets skip them.
    model.resolver.wind_down(biggest(model), orderly=True, reason="test")
    model.resolver.wind_down(len(model.platforms) - 1, orderly=True, reason="test")
    model.step()
    return model


def _open(model):
    return [p for p in model.platforms if p.is_open]


def test_resolve_largest_and_smallest(target_world):
    m = target_world
    rng = np.random.default_rng(0)
    open_idx = [p.index for p in _open(m)]
    liab = m.market.liabilities
    assert len(open_idx) < len(m.platforms)
    largest = max(open_idx, key=lambda j: liab[j])
    smallest = min(open_idx, key=lambda j: liab[j])
    assert resolve_target(m.market, "largest", rng) == largest
    assert resolve_target(m.market, "smallest", rng) == smallest
    assert m.market.is_open[smallest]  # closed platforms (owing nothing) are not candidates


def test_resolve_largest_sound(target_world):
    m = target_world
    rng = np.random.default_rng(0)
    ratios = {p.index: p.assets / max(m.market.liabilities[p.index], 1e-12) for p in _open(m)}
    median = float(np.median(list(ratios.values())))
    sound = [j for j, r in ratios.items() if r >= median and not m.platforms[j].fraudulent]
    expected = max(sound, key=lambda j: m.market.liabilities[j])
    assert resolve_target(m.market, "largest_sound", rng) == expected
    # This world tells the rule apart from "largest" and from "largest honest".
    honest = [p.index for p in _open(m) if not p.fraudulent]
    assert expected != resolve_target(m.market, "largest", rng)
    assert expected != max(honest, key=lambda j: m.market.liabilities[j])


def test_resolve_newest_skips_closed_entrants(target_world):
    m = target_world
    assert not m.platforms[-1].is_open
    newest = resolve_target(m.market, "newest", np.random.default_rng(0))
    assert newest == max(p.index for p in _open(m)) and newest >= m.cfg.platforms.count


def test_resolve_fraud_and_random(target_world):
    m = target_world
    frauds = {p.index for p in _open(m) if p.fraudulent}
    assert frauds
    rng = np.random.default_rng(1)
    picked = {resolve_target(m.market, "fraud", rng) for _ in range(200)}
    assert picked == frauds
    anyone = {resolve_target(m.market, "random", rng) for _ in range(500)}
    assert anyone == {p.index for p in _open(m)}


def test_resolve_index_is_that_platform_even_when_closed(target_world):
    m = target_world
    closed = next(p for p in m.platforms if not p.is_open)
    assert resolve_target(m.market, closed.index, np.random.default_rng(0)) == closed.index


def test_resolve_fraud_without_frauds_is_none(compose_cfg):
    model = TrustModel(compose_cfg("platforms.fraud_share=0", n_users=300, ticks=5))
    assert resolve_target(model.market, "fraud", np.random.default_rng(0)) is None


# --- policy_shift --------------------------------------------------------------------------


def test_policy_shift_sets_values_from_its_tick(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=8)
    changes = {"penalty": 0.05, "disclosure_mandate": 0.6, "blacklist": True, "shutdown_after": 7}
    model = with_events(cfg, {"tick": 4, "type": "policy_shift", "changes": changes})
    reg = model.regulator
    for tick in range(1, 9):
        model.step()
        for name, value in changes.items():
            expected = value if tick >= 4 else getattr(cfg.regulator, name)
            assert getattr(reg.policy, name) == expected, (tick, name)
        disclosure = [p.lever("disclosure") for p in model.platforms if p.is_open]
        floor = 0.6 if tick >= 4 else cfg.regulator.disclosure_mandate
        assert min(disclosure) >= floor
    raw = [p.levers[LEVERS.index("disclosure")] for p in model.platforms]
    assert min(raw) < 0.6  # the mandate, not the platforms' own choice, lifts them
    [entry] = logged(model, "scheduled", event="policy_shift")
    assert entry["tick"] == 4 and entry["changes"] == changes


def test_policy_shift_restores_the_configured_value(compose_cfg):
    """A rule switched off early comes in at the run's configured strength (and a ramp of
    it that is still running stops)."""
    cfg = compose_cfg(
        "regulator.compliance_cost=0.3", "regulator.penalty=0.02", n_users=300, ticks=9
    )
    events = [
        {"tick": 1, "type": "policy_shift", "changes": {"compliance_cost": 0.0, "penalty": 0.0}},
        {"tick": 3, "type": "policy_shift", "changes": {"penalty": 0.1}, "ramp": 5},
        {"tick": 5, "type": "policy_shift", "restore": ["compliance_cost", "penalty"]},
    ]
    model = with_events(cfg, *events)
    seen = []
    for _ in range(9):
        model.step()
        seen.append((model.regulator.policy.compliance_cost, model.regulator.policy.penalty))
    assert seen[0] == (0.0, 0.0) and seen[3][0] == 0.0 and 0.0 < seen[3][1] < 0.1
    assert all(s == (0.3, 0.02) for s in seen[4:]), seen


def test_policy_shift_restore_names_regulator_keys():
    for restore, bad in ((["nope"], "nope"), (["penalty"], "penalty")):
        spec = {"tick": 2, "type": "policy_shift", "restore": restore}
        if bad == "penalty":
            spec["changes"] = {"penalty": 0.1}
        with pytest.raises(ConfigError) as info:
            parse_events([spec], 9)
        assert info.value.key == "scenario.events[0].restore" and info.value.value == bad


@pytest.mark.parametrize(
    ("name", "end", "ramp"), [("penalty", 0.05, 4), ("inspection_rate", 0.01, 3)]
)
def test_policy_shift_ramp_follows_the_linear_path(compose_cfg, name, end, ramp):
    t0 = 3
    cfg = compose_cfg(n_users=300, ticks=t0 + ramp + 3)
    start = getattr(cfg.regulator, name)
    model = with_events(
        cfg, {"tick": t0, "type": "policy_shift", "changes": {name: end}, "ramp": ramp}
    )
    seen = []
    for tick in range(1, cfg.ticks + 1):
        model.step()
        share = min(tick - t0 + 1, ramp) / ramp if tick >= t0 else 0.0
        expected = start + share * (end - start)
        assert getattr(model.regulator.policy, name) == pytest.approx(expected, rel=1e-12), tick
        seen.append(getattr(model.regulator.policy, name))
    assert seen[t0 + ramp - 2] == end  # reaches the end at t0 + R - 1 exactly
    assert seen[t0 + ramp - 3] != end
    assert not model.events.running  # the ramp is over


@pytest.mark.parametrize("later_ramp", [0, 2])
def test_a_later_policy_shift_supersedes_a_running_ramp(compose_cfg, later_ramp):
    """A shift of the same parameter while a ramp runs takes over from its tick on."""
    cfg = compose_cfg(n_users=300, ticks=12)
    model = with_events(
        cfg,
        {"tick": 3, "type": "policy_shift", "changes": {"penalty": 0.05}, "ramp": 6},
        {"tick": 5, "type": "policy_shift", "changes": {"penalty": 0.02}, "ramp": later_ramp},
    )
    step_to(model, 4)
    before = model.regulator.policy.penalty
    assert before == pytest.approx(0.01 + 2 / 6 * 0.04)
    path = []
    while model.tick < cfg.ticks:
        model.step()
        path.append(model.regulator.policy.penalty)
    if later_ramp:
        assert path[0] == pytest.approx(before + (0.02 - before) / 2)
        assert path[1:] == [0.02] * (cfg.ticks - 5)
    else:
        assert path == [0.02] * (cfg.ticks - 4)


def test_policy_shift_ramp_of_one_tick_is_immediate(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=5)
    model = with_events(
        cfg, {"tick": 2, "type": "policy_shift", "changes": {"penalty": 0.3}, "ramp": 1}
    )
    model.step()
    assert model.regulator.policy.penalty == cfg.regulator.penalty
    model.step()
    assert model.regulator.policy.penalty == 0.3


def test_policy_shift_ramp_of_a_whole_number_rounds_the_linear_path(compose_cfg):
    """Whole-number fields follow round(start + (t - t0 + 1)/R * (end - start))."""
    t0, ramp, start, end = 3, 4, 3, 10
    cfg = compose_cfg(f"regulator.shutdown_after={start}", n_users=300, ticks=9)
    model = with_events(
        cfg,
        {"tick": t0, "type": "policy_shift", "changes": {"shutdown_after": end}, "ramp": ramp},
    )
    path = []
    while model.tick < cfg.ticks:
        model.step()
        value = model.regulator.policy.shutdown_after
        assert isinstance(value, int)
        path.append(value)
    expected = [start] * (t0 - 1) + [
        round(start + min(t - t0 + 1, ramp) / ramp * (end - start)) for t in range(t0, 10)
    ]
    assert path == expected  # [3, 3, 5, 6, 8, 10, 10, 10, 10]


def test_policy_shift_ramp_sets_booleans_at_once(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=6)
    model = with_events(
        cfg,
        {
            "tick": 2,
            "type": "policy_shift",
            "changes": {"adaptive": True, "penalty": 0.05},
            "ramp": 4,
        },
    )
    step_to(model, 2)
    assert model.regulator.policy.adaptive is True
    assert model.regulator.policy.penalty == pytest.approx(0.01 + 0.04 / 4)


# --- registration_deadline -----------------------------------------------------------------


def _recovery(platform, balance: float, haircut: float) -> float:
    value = platform.cash + platform.loans * (1.0 - haircut)
    return min(1.0, value / balance)


@pytest.mark.parametrize("orderly", [True, False])
def test_registration_deadline_removes_exactly_the_non_compliant(compose_cfg, orderly):
    cfg = compose_cfg(n_users=500, ticks=6, seed=2)
    model = with_events(
        cfg,
        {"tick": 3, "type": "registration_deadline", "min_compliance": 0.5, "orderly": orderly},
    )
    step_to(model, 2)
    was_open = [p for p in model.platforms if p.is_open]
    expected = {p.index for p in was_open if p.lever("compliance") < 0.5}
    assert 0 < len(expected) < len(was_open)
    pcfg = model.cfg.platforms
    custody = model.regulator.policy.custody_requirement
    haircut = (
        pcfg.exit_haircut
        if orderly
        else custody * pcfg.orderly_haircut + (1 - custody) * pcfg.fire_sale_haircut
    )
    pop = model.population
    recoveries = {}
    for j in expected:
        balance = float(pop.balance[pop.platform == j].sum())
        recoveries[j] = _recovery(model.platforms[j], balance, haircut)
    model.step()
    status = "exited" if orderly else "collapsed"
    removed = closures(model, "registration_deadline")
    assert {e["platform"] for e in removed} == expected
    assert all(e["tick"] == 3 for e in removed)
    for e in removed:
        assert e["recovery"] == pytest.approx(recoveries[e["platform"]], rel=1e-9)
        assert str(model.platforms[e["platform"]].status) == status
        assert model.market.liabilities[e["platform"]] == 0.0
        assert not (pop.platform == e["platform"]).any()


# --- platform_entry -------------------------------------------------------------------------


@pytest.mark.parametrize(("jitter", "fraud_share"), [(0.0, 0.0), (0.05, 0.0), (0.05, 1.0)])
def test_platform_entry_adds_platforms_of_the_strategy(compose_cfg, jitter, fraud_share):
    cfg = compose_cfg(f"platforms.lever_jitter={jitter}", n_users=2000, ticks=8)
    model = with_events(
        cfg,
        {
            "tick": 2,
            "type": "platform_entry",
            "count": 3,
            "strategy": "risk_first",
            "fraud_share": fraud_share,
        },
    )
    model.step()
    assert len(model.platforms) == N_PLATFORMS
    model.step()
    n = N_PLATFORMS + 3
    assert len(model.platforms) == n
    spec = cfg.platforms.strategies["risk_first"]
    target = np.array([getattr(spec, lever) for lever in LEVERS])
    premium = cfg.platforms.fraud_yield_premium if fraud_share else 0.0
    entries = logged(model, "entry")
    assert [e["platform"] for e in entries] == [20, 21, 22]
    for p in model.platforms[N_PLATFORMS:]:
        assert p.strategy == "risk_first"
        assert p.index == model.platforms.index(p)
        assert p.fraudulent is bool(fraud_share)
        assert p.advertised_yield == pytest.approx(spec.advertised_yield + premium)
        assert p.status == Status.ACTIVE
        if jitter == 0:
            np.testing.assert_array_equal(p.levers, target)
        else:
            assert np.abs(p.levers - target).max() <= 5 * jitter
            assert not np.array_equal(p.levers, target)
    step_to(model, 8)
    for array in (
        model.market.liabilities,
        model.market.rating,
        model.market.complaints,
        model.market.holders,
    ):
        assert len(array) == n
    pop = model.population
    np.testing.assert_allclose(model.market.liabilities, pop.liabilities(n), rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(model.market.holders, pop.holders(n))
    assert model.market.liabilities[N_PLATFORMS:].sum() > 0  # entrants take deposits
    table = model.platform_table()
    assert table.groupby("tick").size().loc[1] == N_PLATFORMS
    assert (table.groupby("tick").size().loc[2:] == n).all()


def test_platform_entry_advertised_yield_override(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=3)
    model = with_events(
        cfg, {"tick": 1, "type": "platform_entry", "count": 2, "advertised_yield": 0.2}
    )
    model.step()
    assert [p.advertised_yield for p in model.platforms[N_PLATFORMS:]] == [0.2, 0.2]


# --- sandbox ---------------------------------------------------------------------------------

SANDBOX = {
    "tick": 2,
    "type": "sandbox",
    "entrants": 3,
    "strategy": "ux_first",
    "fraud_share": 0.0,
    "default_rate": [0.05, 0.1],
    "duration": 6,
    "exposure_cap": 0.002,
    "monitoring": 0.0,
    "disclosure": 0.8,
}


def test_sandbox_admits_entrants_under_its_terms(compose_cfg):
    cfg = compose_cfg(n_users=500, ticks=4)
    model = with_events(cfg, SANDBOX)
    step_to(model, 2)
    entrants = model.platforms[N_PLATFORMS:]
    assert len(entrants) == 3
    terms = SandboxTerms(exposure_cap=0.002, monitoring=0.0, disclosure=0.8, review_tick=8)
    for p in entrants:
        assert p.status == Status.SANDBOX and p.is_open
        assert p.sandbox == terms
        assert p.levers[LEVERS.index("disclosure")] < 0.8  # ux_first discloses little
        assert p.lever("disclosure") >= 0.8
        assert p.advertised_yield == pytest.approx(0.11)
    assert [e["platform"] for e in logged(model, "sandbox_admission")] == [20, 21, 22]
    assert model.market.sandbox_admissions == 3
    assert model.timeseries()["sandbox_admissions"].iloc[-1] == 3
    assert model.platform_table().query("tick == 2 and platform >= 20")["in_sandbox"].all()


def _deposits_by_accepting(model: TrustModel, ticks: int):
    """Run; per tick of step 3, the accepting mask and deposits each platform received."""
    seen = []
    original = decisions.choose_and_deposit

    def choose_and_deposit(*args, **kwargs):
        mask = model.market.accepting()
        market = float(model.market.liabilities.sum())
        expected = np.array(
            [
                p.is_open
                and (
                    p.sandbox is None
                    or model.market.liabilities[p.index] < p.sandbox.exposure_cap * market
                )
                for p in model.platforms
            ]
        )
        np.testing.assert_array_equal(mask, expected)
        result = original(*args, **kwargs)
        _, platforms, amounts, _ = result
        seen.append((mask, np.bincount(platforms, amounts, minlength=len(mask))))
        return result

    decisions.choose_and_deposit = choose_and_deposit
    try:
        step_to(model, ticks)
    finally:
        decisions.choose_and_deposit = original
    return seen


@pytest.mark.parametrize("seed", [0, 1])
def test_sandbox_exposure_cap_stops_deposits(compose_cfg, seed):
    cfg = compose_cfg(n_users=3000, ticks=8, seed=seed)
    spec = {**SANDBOX, "exposure_cap": 0.0003}  # binds within the first weeks
    capped = _deposits_by_accepting(with_events(cfg, spec), 7)
    blocked = received = 0
    for mask, deposits in capped[1:]:  # from tick 2, the sandbox exists
        sandboxed = np.arange(len(mask)) >= N_PLATFORMS
        assert (deposits[sandboxed & ~mask] == 0).all()
        blocked += int((sandboxed & ~mask).sum())
        received += int((deposits[sandboxed & mask] > 0).sum())
    assert blocked > 0 and received > 0
    uncapped = with_events(cfg, {**SANDBOX, "exposure_cap": 1.0})
    step_to(uncapped, 7)
    capped_model = with_events(cfg, spec)
    step_to(capped_model, 7)
    assert (
        uncapped.market.liabilities[N_PLATFORMS:].sum()
        > capped_model.market.liabilities[N_PLATFORMS:].sum()
    )


def test_sandbox_review_graduates_a_clean_cohort(compose_cfg):
    cfg = compose_cfg("platforms.violation_temptation=0", n_users=500, ticks=10)
    model = with_events(cfg, SANDBOX)
    step_to(model, 7)
    entrants = model.platforms[N_PLATFORMS:]
    assert all(p.status == Status.SANDBOX for p in entrants)
    assert model.market.sandbox_graduations == 0
    model.step()  # tick 8 = 2 + duration: the review
    assert all(p.status == Status.ACTIVE and p.sandbox is None for p in entrants)
    graduations = logged(model, "sandbox_graduation")
    assert {e["platform"] for e in graduations} == {20, 21, 22}
    assert {e["tick"] for e in graduations} == {8}
    assert model.market.sandbox_graduations == 3
    assert model.timeseries()["sandbox_graduations"].tolist()[-1] == 3
    assert all(p.lever("disclosure") < 0.8 for p in entrants)  # the sandbox floor is gone


def test_sandbox_review_exits_those_with_detected_violations(compose_cfg):
    cfg = compose_cfg(
        "platforms.violation_temptation=1.0",
        "regulator.detection_accuracy=1.0",
        "regulator.shutdown_after=100",
        n_users=500,
        ticks=10,
    )
    model = with_events(cfg, {**SANDBOX, "monitoring": 1.0, "entrants": 6})
    step_to(model, 8)
    entrants = model.platforms[N_PLATFORMS:]
    exits = {e["platform"] for e in closures(model, "sandbox_review")}
    grads = {e["platform"] for e in logged(model, "sandbox_graduation")}
    # A penalised entrant can also be run on before its review (enforcement news).
    earlier = {e["platform"] for e in model.event_log if "recovery" in e and e["tick"] < 8} & {
        p.index for p in entrants
    }
    assert exits and exits | grads | earlier == {p.index for p in entrants}
    assert not exits & earlier
    for p in entrants:
        if p.index in exits:
            assert p.status == Status.EXITED and p.violations_detected > 0
        elif p.index in grads:
            assert p.status == Status.ACTIVE and p.violations_detected == 0
        else:
            assert p.violations_detected > 0  # run on after its penalty
    assert model.market.sandbox_graduations == len(grads)


def test_unsupervised_sandbox_entrants_are_ordinary(compose_cfg):
    cfg = compose_cfg(n_users=500, ticks=4)
    model = with_events(cfg, {**SANDBOX, "supervised": False})
    step_to(model, 2)
    entrants = model.platforms[N_PLATFORMS:]
    assert len(entrants) == 3
    for p in entrants:
        assert p.status == Status.ACTIVE and p.sandbox is None
        raw = p.levers[LEVERS.index("disclosure")]
        assert p.lever("disclosure") == max(raw, model.regulator.policy.disclosure_mandate) < 0.8
    assert model.market.sandbox_admissions == 0
    assert logged(model, "sandbox_admission") == []
    assert [e["platform"] for e in logged(model, "entry")] == [20, 21, 22]
    assert model.market.accepting()[N_PLATFORMS:].all()
    step_to(model, 4)
    assert not logged(model, "sandbox_graduation")


# --- fraud_collapse --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fraud_collapse_is_disorderly_and_hurts(compose_cfg, seed):
    cfg = compose_cfg(n_users=600, ticks=5, seed=seed)
    control = TrustModel(cfg)
    step_to(control, 3)
    j = biggest(control)
    model = with_events(cfg, {"tick": 4, "type": "fraud_collapse", "platform": j})
    step_to(model, 3)
    target = model.platforms[j]
    pop = model.population
    balance = float(pop.balance[pop.platform == j].sum())
    assert balance > 0
    pcfg, c = cfg.platforms, model.regulator.policy.custody_requirement
    haircut = c * pcfg.orderly_haircut + (1 - c) * pcfg.fire_sale_haircut
    recovery = _recovery(target, balance, haircut)
    model.step()
    control.step()
    assert target.status == Status.COLLAPSED and target.fraudulent
    [event] = closures(model, "fraud_collapse")
    assert event["tick"] == 4 and event["platform"] == j
    assert event["recovery"] == pytest.approx(recovery, rel=1e-9)
    assert recovery < 1
    assert event["user_losses"] == pytest.approx(balance * (1 - recovery), rel=1e-9)
    assert event["user_losses"] > 0
    assert model.market.user_losses_cum >= event["user_losses"]
    g_with = model.timeseries()["institutional_trust_mean"].iloc[-1]
    g_without = control.timeseries()["institutional_trust_mean"].iloc[-1]
    assert g_with < g_without - 0.005


def test_fraud_collapse_targets_a_fraud(compose_cfg):
    cfg = compose_cfg("platforms.fraud_share=0.1", n_users=500, ticks=4)
    model = with_events(cfg, {"tick": 2, "type": "fraud_collapse", "platform": "fraud"})
    frauds = {p.index for p in model.platforms if p.fraudulent}
    step_to(model, 2)
    [event] = closures(model, "fraud_collapse")
    assert event["platform"] in frauds


def test_fraud_collapse_without_frauds_does_nothing(compose_cfg):
    cfg = compose_cfg("platforms.fraud_share=0", n_users=500, ticks=4)
    model = with_events(cfg, {"tick": 2, "type": "fraud_collapse", "platform": "fraud"})
    step_to(model, 4)
    assert closures(model, "fraud_collapse") == []
    assert not any(p.fraudulent for p in model.platforms)


# --- macro_shock ----------------------------------------------------------------------------


def _expected_default_losses(model: TrustModel, macro: float) -> float:
    """Step 2's default losses from the state at the end of the previous tick."""
    cfg = model.cfg.platforms
    total = 0.0
    for p in model.platforms:
        if not p.is_open:
            continue
        base = p.base_default + (p.product.extra_default if p.product else 0.0)
        rate = base * (1 - cfg.risk_management_effect * p.lever("risk_management")) * macro
        total += p.loans * min(1.0, rate / 52.0) * (1 - cfg.recovery_rate)
    return total


def test_macro_shock_multiplies_default_losses_then_reverts(compose_cfg):
    t0, duration, mult = 3, 4, 3.0
    cfg = compose_cfg(n_users=500, ticks=10)
    model = with_events(
        cfg, {"tick": t0, "type": "macro_shock", "multiplier": mult, "duration": duration}
    )
    control = TrustModel(cfg)
    step_to(model, t0 - 1)
    step_to(control, t0 - 1)
    for tick in range(t0, cfg.ticks + 1):
        shocked = t0 <= tick < t0 + duration
        expected = _expected_default_losses(model, mult if shocked else 1.0)
        model.step()
        assert model.market.default_multiplier == (mult if shocked else 1.0), tick
        assert model.market.this_tick.flows.default_losses == pytest.approx(expected, rel=1e-9), (
            tick
        )
        assert expected > 0
        if tick == t0:  # the same world until the shock: exactly m times the losses
            control.step()
            ratio = (
                model.market.this_tick.flows.default_losses
                / control.market.this_tick.flows.default_losses
            )
            assert ratio == pytest.approx(mult, rel=1e-9)


# --- strategy_change -------------------------------------------------------------------------


def test_strategy_change_to_a_named_strategy(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=3)
    model = with_events(
        cfg, {"tick": 2, "type": "strategy_change", "platform": 3, "strategy": "laggard"}
    )
    model.step()
    others = {p.index: (p.levers.copy(), p.base_yield) for p in model.platforms if p.index != 3}
    model.step()
    p = model.platforms[3]
    spec = cfg.platforms.strategies["laggard"]
    np.testing.assert_array_equal(p.levers, [getattr(spec, name) for name in LEVERS])
    assert p.strategy == "laggard" and p.base_yield == spec.advertised_yield
    for q in model.platforms:
        if q.index != 3:
            np.testing.assert_array_equal(q.levers, others[q.index][0])
            assert q.base_yield == others[q.index][1]
    [entry] = logged(model, "strategy_change")
    assert entry["platform"] == 3 and entry["strategy"] == "laggard"


def test_strategy_change_levers_and_yield(compose_cfg):
    cfg = compose_cfg(n_users=300, ticks=3)
    model = with_events(
        cfg,
        {
            "tick": 2,
            "type": "strategy_change",
            "platform": "largest_sound",
            "levers": {"compliance": 0.95, "rating_openness": 0.0},
            "advertised_yield": 0.2,
        },
    )
    model.step()
    j = resolve_target(model.market, "largest_sound", None)
    assert not model.platforms[j].fraudulent
    before = model.platforms[j].levers.copy()
    strategy = model.platforms[j].strategy
    model.step()
    p = model.platforms[j]
    expected = before.copy()
    expected[LEVERS.index("compliance")] = 0.95
    expected[LEVERS.index("rating_openness")] = 0.0
    np.testing.assert_array_equal(p.levers, expected)
    assert p.base_yield == 0.2 and p.advertised_yield == 0.2
    assert p.strategy == strategy


# --- education_campaign ----------------------------------------------------------------------


EDUCATION = {"tick": 3, "type": "education_campaign", "duration": 3, "rate": 0.1, "reach": 0.4}


def _literacy_path(compose_cfg, ticks: int):
    """Literacy at tick 0 and after each tick, with no other education going on."""
    cfg = compose_cfg("regulator.education_rate=0", n_users=2000, ticks=ticks)
    model = with_events(cfg, EDUCATION)
    path = [model.population.literacy.astype(np.float64)]
    while model.tick < ticks:
        model.step()
        path.append(model.population.literacy.astype(np.float64))
        assert model.timeseries()["literacy_mean"].iloc[-1] == pytest.approx(path[-1].mean())
    return path


def test_education_campaign_raises_reached_users_by_the_closed_form(compose_cfg):
    t0, duration, rate = EDUCATION["tick"], EDUCATION["duration"], EDUCATION["rate"]
    path = _literacy_path(compose_cfg, t0 + duration - 1)  # the campaign's own ticks
    l0 = path[0]
    for tick in range(1, t0):
        np.testing.assert_array_equal(path[tick], l0)
    reached = path[t0] != l0
    assert abs(reached.mean() - EDUCATION["reach"]) < 0.04
    for tick in range(t0, t0 + duration):
        lit = path[tick]
        expected = 1 - (1 - l0[reached]) * (1 - rate) ** (tick - t0 + 1)
        np.testing.assert_allclose(lit[reached], expected, rtol=1e-5, err_msg=f"tick {tick}")
        np.testing.assert_array_equal(lit[~reached], l0[~reached])


def test_education_campaign_lasts_duration_ticks(compose_cfg):
    """After ``duration`` ticks of the campaign literacy is 1 - (1 - l0)(1 - r)^duration."""
    t0, duration, rate = EDUCATION["tick"], EDUCATION["duration"], EDUCATION["rate"]
    path = _literacy_path(compose_cfg, t0 + duration + 2)
    l0 = path[0]
    reached = path[t0] != l0
    expected = 1 - (1 - l0[reached]) * (1 - rate) ** duration
    for tick in range(t0 + duration - 1, len(path)):
        lit = path[tick]
        np.testing.assert_allclose(lit[reached], expected, rtol=1e-5, err_msg=f"tick {tick}")
        np.testing.assert_array_equal(lit[~reached], l0[~reached])


# --- outage and data_breach ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["outage", "data_breach"])
def test_incident_event_flags_the_target_and_is_bad_evidence(compose_cfg, kind):
    cfg = compose_cfg("platforms.outage_rate=0", "platforms.breach_rate=0", n_users=600, ticks=5)
    control = TrustModel(cfg)
    step_to(control, 2)
    j = biggest(control)
    model = with_events(cfg, {"tick": 3, "type": kind, "platform": j})
    step_to(model, 2)
    flag = "outage" if kind == "outage" else "breach"
    model.step()
    control.step()
    for p in model.platforms:
        assert getattr(p, flag) is (p.index == j)
        assert not p.forced_outage and not p.forced_breach
    pop, t = model.population, cfg.trust
    held = pop.platform == j
    assert held.any()
    np.testing.assert_array_equal(pop.platform, control.population.platform)
    np.testing.assert_array_equal(pop.a, control.population.a)
    extra_bad = pop.b - control.population.b
    np.testing.assert_allclose(extra_bad[held], t.w_minus * t.incident_evidence, rtol=1e-5)
    np.testing.assert_array_equal(extra_bad[~held], 0.0)
    trust, trust0 = account_trust(model), account_trust(control)
    assert (trust[held] < trust0[held]).all()
    g, g0 = pop.institutional_trust, control.population.institutional_trust
    if kind == "outage":
        np.testing.assert_array_equal(g, g0)
    else:
        assert g.mean() < g0.mean()
    model.step()
    assert not getattr(model.platforms[j], flag)  # one tick only


# --- self_regulation -------------------------------------------------------------------------


def test_self_regulation_starts_peer_audits(compose_cfg):
    cfg = compose_cfg(
        "platforms=laggard", "platforms.violation_temptation=0.5", n_users=500, ticks=8
    )
    model = with_events(
        cfg,
        {
            "tick": 4,
            "type": "self_regulation",
            "peer_audit_rate": 1.0,
            "peer_audit_accuracy": 0.9,
            "blacklist": True,
        },
    )
    reg = model.regulator
    step_to(model, 3)
    assert (reg.policy.peer_audit_rate, reg.policy.peer_audit_accuracy, reg.policy.blacklist) == (
        cfg.regulator.peer_audit_rate,
        cfg.regulator.peer_audit_accuracy,
        cfg.regulator.blacklist,
    )
    assert logged(model, "peer_audit_finding") == []
    model.step()
    assert (reg.policy.peer_audit_rate, reg.policy.peer_audit_accuracy, reg.policy.blacklist) == (
        1.0,
        0.9,
        True,
    )
    step_to(model, 8)
    findings = logged(model, "peer_audit_finding")
    assert findings and min(e["tick"] for e in findings) >= 4


# --- legal_lag -------------------------------------------------------------------------------


def test_legal_lag_product_yield_until_regulated(compose_cfg):
    t0, lag, extra = 2, 4, 0.04
    cfg = compose_cfg(n_users=500, ticks=8)
    model = with_events(
        cfg, {"tick": t0, "type": "legal_lag", "share": 0.5, "extra_yield": extra, "lag": lag}
    )
    step_to(model, t0)
    launched = {e["platform"] for e in logged(model, "product_launch")}
    assert 0 < len(launched) < N_PLATFORMS
    assert {e["regulated_from"] for e in logged(model, "product_launch")} == {t0 + lag}
    step_to(model, cfg.ticks)
    table = model.platform_table()
    for p in model.platforms:
        rows = table[table.platform == p.index].set_index("tick")
        with_product = p.index in launched
        own = rows.loc[t0 - 1, "advertised_yield"]  # before the launch
        for tick in range(1, cfg.ticks + 1):
            live = with_product and t0 <= tick < t0 + lag
            expected = own + (extra if live else 0.0)
            assert rows.loc[tick, "advertised_yield"] == pytest.approx(expected), (p.index, tick)
            assert rows.loc[tick, "unregulated_product"] == live
        assert p.product is None
    regulated = logged(model, "product_regulated")
    assert {e["platform"] for e in regulated} == launched
    assert {e["tick"] for e in regulated} == {t0 + lag}


def test_legal_lag_violations_are_never_fined(compose_cfg):
    t0, lag = 1, 6
    # Laggard markets lose platforms fast, so an adopter may close before the lag ends in
    # one world: the "fined once the rules apply" half is read over a few seeds.
    violated_unregulated = 0
    fined_product = []
    for seed in range(3):
        cfg = compose_cfg(
            "platforms=laggard",
            "platforms.violation_temptation=0.3",
            "regulator.inspection_rate=1.0",
            "regulator.detection_accuracy=1.0",
            "regulator.penalty=0.0005",  # an expected penalty of one deterrence_scale
            "regulator.shutdown_after=100",
            n_users=500,
            ticks=12,
            seed=seed,
        )
        # No extra loan risk: the adopters must live long enough to be fined after the lag.
        lag_event = dict(tick=t0, type="legal_lag", share=0.5, lag=lag, extra_default=0.0)
        model = with_events(cfg, lag_event)
        step_to(model, t0)
        launched = {e["platform"] for e in logged(model, "product_launch")}
        assert launched
        while model.tick < cfg.ticks:
            model.step()
            for j in launched:
                p = model.platforms[j]
                violated_unregulated += p.violated and model.tick < t0 + lag
                assert all(t >= t0 + lag for t in p.violations_open)
        penalties = logged(model, "penalty")
        fined = [e for e in penalties if e["platform"] in launched]
        assert all(e["tick"] >= t0 + lag for e in fined)
        assert any(e["tick"] < t0 + lag for e in penalties if e["platform"] not in launched)
        fined_product += fined
    assert violated_unregulated > 0
    assert fined_product  # fined once the rules apply


# --- rumour ----------------------------------------------------------------------------------

RUMOUR = {
    "tick": 3,
    "type": "rumour",
    "seed_spreaders": 5,
    "stifle_prob": 0.3,
    "belief": 1.0,
    "literacy_effect": 0.0,
    "rebuttal": False,
}


def test_rumour_starts_with_its_seeds_and_spreads(compose_cfg):
    cfg = compose_cfg(n_users=1000, ticks=8)
    model = with_events(cfg, {**RUMOUR, "platform": 0})
    step_to(model, cfg.ticks)
    [start] = logged(model, "rumour_start")
    assert start["tick"] == 3 and start["seeds"] == 5 and start["platform"] == 0
    reach = model.timeseries()["rumour_reach"].to_numpy()
    assert (reach[:3] == 0).all()
    assert reach[3] >= 5 / 1000
    assert (np.diff(reach[3:]) >= 0).all()
    assert reach[-1] > reach[3] + 0.05
    assert logged(model, "rebuttal") == []


def test_rumour_seed_share(compose_cfg):
    cfg = compose_cfg(n_users=1000, ticks=4)
    model = with_events(cfg, {**RUMOUR, "seed_spreaders": 0.01, "contact_prob": 0.0})
    step_to(model, 2)
    largest = biggest(model)
    model.step()
    [start] = logged(model, "rumour_start")
    assert start["seeds"] == 10
    assert start["platform"] == largest  # the default target, chosen when it fires
    assert model.timeseries()["rumour_reach"].iloc[-1] == pytest.approx(0.01)


@pytest.mark.parametrize("is_true", [False, True])
def test_only_a_false_rumour_is_rebutted(compose_cfg, is_true):
    cfg = compose_cfg(n_users=1000, ticks=12)
    model = with_events(
        cfg,
        {**RUMOUR, "is_true": is_true, "rebuttal": True, "rebuttal_delay": 2, "stifle_prob": 0.2},
    )
    step_to(model, cfg.ticks)
    rebuttals = logged(model, "rebuttal")
    if is_true:
        assert rebuttals == []
    else:
        assert [e["tick"] for e in rebuttals] == [3 + 2]
    assert model.timeseries()["rumour_reach"].iloc[5] > 5 / 1000


def test_rebuttal_limits_reach(compose_cfg):
    reach = {}
    for rebut in (False, True):
        total = 0.0
        for seed in range(3):
            cfg = compose_cfg(n_users=1000, ticks=12, seed=seed)
            spec = {**RUMOUR, "rebuttal": rebut, "rebuttal_delay": 1, "rebuttal_reach": 0.8}
            model = with_events(cfg, spec)
            step_to(model, cfg.ticks)
            total += model.timeseries()["rumour_reach"].iloc[-1]
        reach[rebut] = total / 3
    assert reach[True] < reach[False] - 0.05


def test_rumour_is_bad_evidence_for_believing_holders(compose_cfg):
    t0, w = 3, None
    reached_holders = 0
    for seed in range(3):
        cfg = compose_cfg(n_users=1000, ticks=6, seed=seed)
        control = TrustModel(cfg)
        step_to(control, t0 - 1)
        j = biggest(control)
        model = with_events(cfg, {**RUMOUR, "platform": j, "evidence": 1.5})
        step_to(model, t0)
        control.step()
        w = cfg.trust.w_minus
        believes = model.market.rumours[0].believes
        pop = model.population
        holds = pop.platform == j
        # Learned before the tick's forgetting (step 6 hears rumours before its pass).
        expected = (holds & believes[:, None]) * (w * 1.5 * cfg.trust.forgetting_bad)
        np.testing.assert_allclose(pop.b - control.population.b, expected, rtol=1e-5, atol=1e-6)
        reached_holders += int((holds & believes[:, None]).sum())
        step_to(model, 6)
        step_to(control, 6)
        # Three weeks on, fewer hold the target, and those who still do trust it less.
        assert (model.population.platform == j).sum() < (control.population.platform == j).sum()
        held = (model.population.platform == j) & (control.population.platform == j)
        if held.any():  # else every holder fled
            mean_with = account_trust(model)[held].mean()
            mean_without = account_trust(control)[held].mean()
            assert mean_with < mean_without - 0.01, seed
    assert reached_holders > 0  # the rumour met holders of its target


@pytest.mark.parametrize(
    ("spec", "param", "allowed"),
    [
        ({"type": "rumour", "substeps": 2.5}, "substeps", "a whole number"),
        ({"type": "rumour", "substeps": 10**9}, "substeps", "[1, 100]"),
        ({"type": "platform_entry", "count": 2.5}, "count", "a whole number"),
        ({"type": "rumour", "is_true": "false"}, "is_true", "true or false"),
        ({"type": "rumour", "evidence": float("inf")}, "evidence", "a finite number"),
        ({"type": "macro_shock", "multiplier": float("nan")}, "multiplier", "a finite number"),
        ({"type": "policy_shift", "changes": [1, 2]}, "changes", "a mapping"),
        ({"type": "sandbox", "supervised": 1}, "supervised", "true or false"),
        (
            {"type": "policy_shift", "changes": {"penalty": 0.1}, "restore": "penalty"},
            "restore",
            "a list",
        ),
    ],
)
def test_event_parameters_are_typed_like_config_keys(spec, param, allowed):
    """Regressions of the fuzzing pass: whole numbers, booleans, finiteness, containers."""
    with pytest.raises(ConfigError) as info:
        parse_events([{"tick": 2, **spec}], 10, N_PLATFORMS)
    assert info.value.key == f"scenario.events[0].{param}"
    assert allowed in info.value.allowed
