"""The regulator: inspection odds, adaptive tightening, peer audits, reviews, early warning."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim import operations
from sim.compose import CONF_DIR
from sim.config import Config
from sim.market import SandboxTerms, Status
from sim.model import TrustModel

REGIMES = sorted(path.stem for path in (CONF_DIR / "regulator").glob("*.yaml"))

# Only the state's random inspections, nothing else that inspects or closes platforms.
QUIET = (
    "regulator.complaint_response=0",
    "regulator.early_warning=0",
    "platforms.fraud_share=0",
)


def with_events(cfg: Config, *events: dict[str, Any]) -> TrustModel:
    scenario = dataclasses.replace(cfg.scenario, events=list(events))
    return TrustModel(dataclasses.replace(cfg, scenario=scenario))


def act(model: TrustModel) -> None:
    """Step 5 alone: the regulator supervises the model's market now."""
    model.regulator.act(
        model.market, model.population, model.cfg.platforms, model.resolver, model.rngs["regulator"]
    )


def open_account(model: TrustModel, j: int, amount: float) -> None:
    """A user with a free slot moves ``amount`` of idle cash into platform ``j`` (money kept)."""
    pop = model.population
    free = (pop.platform < 0).any(axis=1) & (pop.cash >= amount) & ~(pop.platform == j).any(axis=1)
    i = int(np.flatnonzero(free)[0])
    slot = int(np.flatnonzero(pop.platform[i] < 0)[0])
    pop.platform[i, slot], pop.balance[i, slot] = j, amount
    pop.cash[i] -= amount
    model.market.liabilities[j] += amount
    model.market.cash[j] += amount


def logged(model: TrustModel, kind: str) -> list[dict[str, Any]]:
    return [e for e in model.event_log if e["type"] == kind]


def closures(model: TrustModel, reason: str) -> list[dict[str, Any]]:
    """Logged closures (collapse, wind-down, exit) for ``reason``, whatever the type's name."""
    return [e for e in model.event_log if e.get("reason") == reason and "recovery" in e]


# --- inspection probability -----------------------------------------------------------------


@pytest.fixture(scope="module")
def unit_model(compose_cfg) -> TrustModel:
    return TrustModel(compose_cfg(n_users=300, ticks=5))


unit = st.floats(0.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(
    rate=unit,
    tightening=st.floats(1.0, 4.0),
    response=unit,
    saturation=st.floats(0.001, 1.0),
    complaint_rate=st.floats(0.0, 2.0),
    early_warning=unit,
    flagged=st.booleans(),
    monitoring=st.one_of(st.none(), unit),
)
def test_inspection_probability_closed_form(
    unit_model,
    rate,
    tightening,
    response,
    saturation,
    complaint_rate,
    early_warning,
    flagged,
    monitoring,
):
    reg = unit_model.regulator
    platform = unit_model.platforms[0]
    reg.policy.inspection_rate, reg.tightening = rate, tightening
    reg.policy.complaint_response, reg.policy.complaint_saturation = response, saturation
    reg.policy.early_warning = early_warning
    platform.flagged = flagged
    platform.sandbox = (
        None if monitoring is None else SandboxTerms(0.01, monitoring, 0.0, review_tick=99)
    )
    try:
        p = reg.inspection_probability(unit_model.market, platform.index, complaint_rate)
    finally:
        platform.flagged, platform.sandbox = False, None
    chances = [
        min(1.0, rate * tightening),
        response * min(1.0, complaint_rate / saturation),
        early_warning if flagged else 0.0,
        monitoring or 0.0,
    ]
    assert p == pytest.approx(1.0 - np.prod([1.0 - c for c in chances]), abs=1e-12)
    assert max(chances) - 1e-12 <= p <= 1.0 + 1e-12


def test_inspections_happen_at_the_random_rate(compose_cfg):
    cfg = compose_cfg(*QUIET, "regulator.inspection_rate=0.3", n_users=500, ticks=30)
    model = TrustModel(cfg)
    observed = expected = variance = 0.0
    while model.tick < cfg.ticks:
        open_now = sum(p.is_open for p in model.platforms)
        model.step()
        observed += model.regulator.inspections
        expected += 0.3 * open_now
        variance += 0.3 * 0.7 * open_now
    assert abs(observed - expected) < 4 * variance**0.5


def test_sandbox_monitoring_inspects_sandboxed_platforms(compose_cfg):
    # Clean entrants: a penalty could end in a run, and a closed platform is not inspected.
    cfg = compose_cfg(
        *QUIET,
        "regulator.inspection_rate=0",
        "platforms.violation_temptation=0",
        n_users=500,
        ticks=8,
    )
    sandbox = {"tick": 2, "type": "sandbox", "entrants": 3, "fraud_share": 0.0, "duration": 20}
    for monitoring, per_tick in ((1.0, 3), (0.0, 0)):
        model = with_events(cfg, {**sandbox, "monitoring": monitoring})
        model.run()
        inspections = model.timeseries()["inspections"].tolist()
        assert inspections[:2] == [0, 0]
        assert all(p.is_open for p in model.platforms[20:])
        assert inspections[2:] == [per_tick] * (cfg.ticks - 1)


# --- adaptive tightening ----------------------------------------------------------------------


@pytest.fixture
def adaptive_model(compose_cfg) -> TrustModel:
    return TrustModel(compose_cfg("regulator=adaptive", n_users=300, ticks=5))


def _set_violations(model: TrustModel, count: int) -> float:
    """Let every open platform operate this tick, ``count`` of them violating; the rate."""
    open_platforms = [p for p in model.platforms if p.is_open]
    for i, p in enumerate(open_platforms):
        p.operated = True
        p.violated = i < count
    return count / len(open_platforms)


@pytest.mark.parametrize(
    ("start", "count", "smoothing"),
    [
        (0.0, 0, 0.1),  # nothing: no tightening
        (0.0, 1, 1.0),  # exactly at the target (1/20 = 0.05): still none
        (0.04, 0, 0.1),  # below the target
        (0.06, 2, 0.5),  # above: 1 + gain * excess / target
        (0.1, 3, 0.2),
        (0.5, 20, 0.1),  # far above: capped
    ],
)
def test_tightening_rule(adaptive_model, start, count, smoothing):
    reg = adaptive_model.regulator
    reg.policy.adapt_target, reg.policy.adapt_gain, reg.policy.max_tightening = 0.05, 3.0, 4.0
    reg.policy.adapt_smoothing = smoothing
    reg.violation_average = start
    rate = _set_violations(adaptive_model, count)
    reg._adapt(adaptive_model.market)
    average = start + smoothing * (rate - start)
    assert reg.violation_average == pytest.approx(average, abs=1e-15)
    excess = max(0.0, average - 0.05) / 0.05  # zero at or below the target
    expected = min(4.0, 1.0 + 3.0 * excess)
    assert reg.tightening == pytest.approx(expected, abs=1e-12)
    assert 1.0 <= reg.tightening <= 4.0


def test_tightening_at_the_target_is_one(adaptive_model):
    reg = adaptive_model.regulator
    reg.policy.adapt_target, reg.policy.adapt_smoothing = 0.05, 1.0
    reg.violation_average = 0.0
    _set_violations(adaptive_model, 1)  # 1 of 20 open platforms
    reg._adapt(adaptive_model.market)
    assert reg.violation_average == 0.05
    assert reg.tightening == 1.0


def test_tightening_is_capped(adaptive_model):
    reg = adaptive_model.regulator
    reg.policy.adapt_smoothing, reg.policy.max_tightening = 1.0, 2.5
    _set_violations(adaptive_model, 20)
    reg._adapt(adaptive_model.market)
    assert reg.tightening == 2.5


def test_tightening_multiplies_inspections_and_penalty(adaptive_model):
    reg = adaptive_model.regulator
    reg.policy.inspection_rate, reg.policy.penalty, reg.policy.detection_accuracy = 0.05, 0.01, 0.6
    base = reg.expected_penalty()
    assert base == pytest.approx(0.05 * 0.6 * 0.01)
    reg.tightening = 3.0
    assert reg.effective_inspection_rate() == pytest.approx(0.15)
    assert reg.effective_penalty() == pytest.approx(0.03)
    assert reg.expected_penalty() == pytest.approx(9 * base)
    reg.policy.inspection_rate, reg.policy.penalty = 0.5, 0.4
    assert reg.effective_inspection_rate() == 1.0 and reg.effective_penalty() == 1.0


def test_non_adaptive_regulator_never_tightens(compose_cfg):
    model = TrustModel(compose_cfg("regulator=rules_based", n_users=300, ticks=5))
    reg = model.regulator
    assert not reg.policy.adaptive
    reg.policy.adapt_smoothing = 1.0
    _set_violations(model, 20)
    reg._adapt(model.market)
    assert reg.violation_average == 1.0  # still tracked
    assert reg.tightening == 1.0


CLOSED = {Status.WOUND_DOWN, Status.COLLAPSED, Status.EXITED}
HIGH_VIOLATION = ("platforms=laggard", "platforms.violation_temptation=0.5")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adaptive_regime_tightens_in_a_high_violation_world(compose_cfg, seed, monkeypatch):
    cfg = compose_cfg("regulator=adaptive", *HIGH_VIOLATION, n_users=500, ticks=20, seed=seed)
    model = TrustModel(cfg)
    reg = model.regulator
    act, operate = reg.act, operations.operate
    average = [0.0]
    tightening = []
    operating = []

    def recording_operate(*args):
        # Platforms not closed at step 2 run their books (and may violate) this tick.
        operating[:] = [p for p in model.platforms if p.status not in CLOSED]
        operate(*args)

    def checked_act(*args):
        # The violation rate of this tick, counted independently before the regulator acts.
        rate = sum(p.violated for p in operating) / len(operating) if operating else 0.0
        average[0] += reg.policy.adapt_smoothing * (rate - average[0])
        excess = max(0.0, average[0] - reg.policy.adapt_target) / reg.policy.adapt_target
        tightening.append(min(reg.policy.max_tightening, 1.0 + reg.policy.adapt_gain * excess))
        act(*args)
        assert reg.violation_average == pytest.approx(average[0], rel=1e-12)
        assert reg.tightening == pytest.approx(tightening[-1], rel=1e-12)

    reg.act = checked_act
    monkeypatch.setattr(operations, "operate", recording_operate)
    model.run()
    series = model.timeseries()["regulator_tightening"].to_numpy()
    np.testing.assert_allclose(series[1:], tightening, rtol=1e-12)
    assert series[0] == 1.0
    # Violations drive it up (a world this tempted may ruin itself before the end).
    assert series.max() > 1.5
    assert reg.effective_penalty() == pytest.approx(min(1.0, reg.policy.penalty * reg.tightening))


def test_rules_based_regime_in_the_same_world_stays_at_one(compose_cfg):
    cfg = compose_cfg("regulator=rules_based", *HIGH_VIOLATION, n_users=500, ticks=20)
    model = TrustModel(cfg)
    model.run()
    assert (model.timeseries()["regulator_tightening"] == 1.0).all()
    assert model.regulator.violation_average > model.regulator.policy.adapt_target


def test_adaptive_regime_deters_violations(compose_cfg):
    """Tightening lowers violations below those under the same rules held fixed."""
    totals = {}
    for adaptive in ("true", "false"):
        total = 0
        for seed in range(3):
            cfg = compose_cfg(
                "regulator=adaptive",
                f"regulator.adaptive={adaptive}",
                *HIGH_VIOLATION,
                n_users=500,
                ticks=30,
                seed=seed,
            )
            model = TrustModel(cfg)
            model.run()
            total += model.market.violations_total
        totals[adaptive] = total
    assert totals["true"] < 0.9 * totals["false"]


# --- peer audits and the blacklist -----------------------------------------------------------

PEER_WORLD = (
    "regulator=self_regulation",
    "regulator.inspection_rate=0",
    "regulator.peer_audit_rate=1.0",
    "regulator.peer_audit_accuracy=1.0",
    *QUIET,
    *HIGH_VIOLATION,
)


@pytest.mark.parametrize("blacklist", [True, False])
def test_peer_audits_name_and_blacklist(compose_cfg, blacklist):
    cfg = compose_cfg(*PEER_WORLD, f"regulator.blacklist={blacklist}", n_users=500, ticks=10)
    model = TrustModel(cfg)
    model.run()
    findings = {e["platform"] for e in logged(model, "peer_audit_finding")}
    assert findings
    assert logged(model, "penalty") == []  # the association names; it does not fine
    assert all(p.violations_detected == 0 for p in model.platforms)
    blacklisted = [e["platform"] for e in logged(model, "blacklisted")]
    reputation = model.market.reputation()
    if blacklist:
        assert len(blacklisted) == len(set(blacklisted))  # once each
        assert set(blacklisted) == findings
        for p in model.platforms:
            assert p.blacklisted is (p.index in findings)
        assert (reputation[list(findings)] == 0).all()
    else:
        assert blacklisted == []
        assert not any(p.blacklisted for p in model.platforms)
    # Everyone else: the published rating weighted by openness, the open market's mean
    # otherwise.
    is_open = model.market.is_open
    openness = np.array([p.lever("rating_openness") for p in model.platforms])
    mean = model.market.rating[is_open].mean()
    public = openness * model.market.rating + (1 - openness) * mean
    clean = np.array([not p.blacklisted for p in model.platforms]) & is_open
    np.testing.assert_allclose(reputation[clean], public[clean], rtol=1e-12)
    assert (reputation[clean] > 0).all()


def test_state_inspection_also_blacklists_when_the_list_is_on(compose_cfg):
    cfg = compose_cfg(
        *QUIET,
        *HIGH_VIOLATION,
        "regulator.inspection_rate=1.0",
        "regulator.detection_accuracy=1.0",
        "regulator.penalty=0.0005",
        "regulator.blacklist=true",
        "regulator.shutdown_after=100",
        n_users=500,
        ticks=8,
    )
    model = TrustModel(cfg)
    model.run()
    fined = {e["platform"] for e in logged(model, "penalty")}
    assert fined
    assert {e["platform"] for e in logged(model, "blacklisted")} == fined
    assert (model.market.reputation()[list(fined)] == 0).all()


# --- regimes -------------------------------------------------------------------------------


def test_the_five_regimes_exist():
    assert REGIMES == [
        "adaptive",
        "laissez_faire",
        "rules_based",
        "sandbox_regtech",
        "self_regulation",
    ]


@pytest.mark.parametrize("regime", REGIMES)
def test_every_regime_composes_and_runs(compose_cfg, regime):
    cfg = compose_cfg(f"regulator={regime}", n_users=300, ticks=5)
    assert cfg.regulator.regime == regime
    model = TrustModel(cfg)
    settings_file = OmegaConf.to_container(
        OmegaConf.load(CONF_DIR / "regulator" / f"{regime}.yaml")
    )
    for key, value in settings_file.items():
        assert getattr(model.regulator.policy, key) == value, key
    model.run()
    ts = model.timeseries()
    assert len(ts) == 6 and ts["tick"].tolist() == list(range(6))
    key = ["trust_mean", "institutional_trust_mean", "aum_total", "regulator_tightening"]
    assert ts[key].notna().all().all() and (ts["aum_total"] > 0).all()
    if not model.regulator.policy.adaptive:
        assert (ts["regulator_tightening"] == 1.0).all()


# --- sandbox review and early warning ---------------------------------------------------------


def test_sandbox_review_branches(compose_cfg):
    cfg = compose_cfg(*QUIET, "regulator.inspection_rate=0", n_users=500, ticks=10)
    model = with_events(
        cfg,
        # No close monitoring: the review, not an early warning, must find the insolvent one.
        dict(tick=2, type="sandbox", entrants=3, fraud_share=0.0, duration=30, monitoring=0.0),
    )
    while model.tick < 4:
        model.step()
    sound, insolvent, listed = model.platforms[20:]
    for p in (sound, insolvent, listed):
        assert p.status == Status.SANDBOX
        p.sandbox = dataclasses.replace(p.sandbox, review_tick=model.tick)  # review now
        open_account(model, p.index, 1000.0)  # every entrant owes someone
    owed = model.market.liabilities[insolvent.index]
    assert owed > 0
    insolvent.cash, insolvent.loans = 0.5 * owed, 0.0
    listed.blacklisted = True
    graduations = model.market.sandbox_graduations
    act(model)
    # Solvent and clean: graduates.
    assert sound.status == Status.ACTIVE and sound.sandbox is None
    assert model.market.sandbox_graduations == graduations + 1
    assert [e["platform"] for e in logged(model, "sandbox_graduation")] == [sound.index]
    # Solvent but blacklisted: exits as a going concern; insolvent: wound down in order.
    assert listed.status == Status.EXITED
    assert insolvent.status == Status.WOUND_DOWN
    assert listed.sandbox is None and insolvent.sandbox is None
    exits = {e["platform"]: e for e in closures(model, "sandbox_review")}
    assert set(exits) == {insolvent.index, listed.index}
    assert exits[insolvent.index]["recovery"] == pytest.approx(0.5)
    assert exits[listed.index]["recovery"] == 1.0


@pytest.mark.parametrize("early_warning", [1.0, 0.0])
def test_early_warning_flags_stress_and_winds_down_insolvency(compose_cfg, early_warning):
    cfg = compose_cfg(
        *QUIET,
        "regulator.inspection_rate=0",
        f"regulator.early_warning={early_warning}",
        "regulator.detection_accuracy=1.0",
        n_users=500,
        ticks=10,
    )
    model = TrustModel(cfg)
    for _ in range(3):
        model.step()
    stressed, insolvent = sorted(model.platforms, key=lambda p: -model.market.liabilities[p.index])[
        :2
    ]
    owed_s, owed_i = (
        model.market.liabilities[stressed.index],
        model.market.liabilities[insolvent.index],
    )
    stressed.cash, stressed.loans = 0.01 * owed_s, 1.5 * owed_s  # illiquid, solvent
    insolvent.cash, insolvent.loans = 0.01 * owed_i, 0.5 * owed_i  # insolvent
    act(model)
    warned = {e["platform"] for e in logged(model, "early_warning")}
    wound_down = {e["platform"] for e in closures(model, "early_warning")}
    if early_warning:
        assert {stressed.index, insolvent.index} <= warned
        assert stressed.flagged and stressed.is_open
        assert wound_down == {insolvent.index}
        assert insolvent.status == Status.WOUND_DOWN
        # A flagged platform draws inspections with the early-warning chance.
        assert model.regulator.inspection_probability(model.market, stressed.index, 0.0) == 1.0
    else:
        assert warned == set() and wound_down == set()
        assert stressed.is_open and insolvent.is_open
        assert not stressed.flagged
