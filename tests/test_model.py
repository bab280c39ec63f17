"""The assembled TrustModel: agents, determinism, bounds, metrics and policy directions."""

from __future__ import annotations

import collections
import dataclasses
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.agents import Platform, Regulator, User
from sim.config import ScenarioConfig
from sim.deterrence import violation_probability
from sim.events import EVENT_TYPES, Event, register_event
from sim.metrics import CORE_COLUMNS
from sim.model import TrustModel

REQUIRED_COLUMNS = set(CORE_COLUMNS)

SEEDS = range(6)

# A world engineered to fail: every platform a Ponzi-like laggard, no inspections, so
# platforms fail through runs unless RegTech flags them first.
FAILING_WORLD = (
    "platforms=laggard",
    "platforms.fraud_share=1.0",
    "platforms.fraud_drawdown=0.05",
    "regulator.inspection_rate=0",
    "regulator.complaint_response=0",
)


def step_counting_violations(model: TrustModel) -> tuple[int, float, float]:
    """One tick; return violations by platforms operating at its start (open or suspended),
    their expectation and variance."""
    was_open = [p for p in model.platforms if p.is_operating]
    compliance = np.array([p.lever("compliance") for p in was_open])
    cfg = model.cfg.platforms
    p = violation_probability(
        compliance,
        model.regulator.expected_penalty(),
        cfg.violation_temptation,
        cfg.deterrence_scale,
    )
    model.step()
    observed = sum(q.violated for q in was_open)
    return observed, float(p.sum()), float((p * (1 - p)).sum())


def event_counts(model: TrustModel) -> collections.Counter:
    return collections.Counter(e["type"] for e in model.event_log)


# --- construction ----------------------------------------------------------------------------


def test_agents_are_users_platforms_and_one_regulator(small_model):
    cfg = small_model.cfg
    by_type = small_model.agents_by_type
    assert len(by_type[User]) == cfg.population.n_users
    assert len(by_type[Platform]) == cfg.platforms.count
    assert len(by_type[Regulator]) == 1
    assert len(small_model.agents) == cfg.population.n_users + cfg.platforms.count + 1
    assert sorted(u.index for u in by_type[User]) == list(range(cfg.population.n_users))
    assert sorted(p.index for p in by_type[Platform]) == list(range(cfg.platforms.count))
    assert small_model.platforms == sorted(by_type[Platform], key=lambda p: p.index)
    assert next(iter(by_type[Regulator])) is small_model.regulator


def test_user_properties_read_their_row(finished_model):
    model = finished_model
    pop = model.population
    k = model.cfg.trust.prior_weight
    users = {u.index: u for u in model.agents_by_type[User]}
    for i in (0, 1, 17, 123, pop.n - 1):
        user = users[i]
        assert user.literacy == pytest.approx(float(pop.literacy[i]))
        assert user.institutional_trust == pytest.approx(float(pop.institutional_trust[i]))
        assert user.satisfaction == pytest.approx(float(pop.satisfaction[i]))
        assert user.cash == pop.cash[i]
        assert user.withdraw_threshold == pytest.approx(float(pop.withdraw_threshold[i]))
        held = np.flatnonzero(pop.platform[i] >= 0)
        assert [a["platform"] for a in user.accounts] == pop.platform[i, held].tolist()
        assert [a["balance"] for a in user.accounts] == pop.balance[i, held].tolist()
        g = float(pop.institutional_trust[i])
        expected_trust = [(pop.a[i, s] + k * g) / (pop.a[i, s] + pop.b[i, s] + k) for s in held]
        np.testing.assert_allclose([a["trust"] for a in user.accounts], expected_trust, rtol=1e-5)
        row = model.network.adjacency.indices[
            model.network.adjacency.indptr[i] : model.network.adjacency.indptr[i + 1]
        ]
        assert user.neighbours == row.tolist()
        total = pop.balance[i, held].sum()
        weighted = float(np.dot(pop.balance[i, held], expected_trust) / max(total, 1e-300))
        expected = weighted if total > 0 else g
        assert user.trust == pytest.approx(expected, rel=1e-5)


def test_model_rng_comes_from_the_seed(build_model):
    a, b, c = build_model(seed=11), build_model(seed=11), build_model(seed=12)
    for m in (a, b, c):
        assert isinstance(m.rng, np.random.Generator)
    draws = [m.rng.random(5) for m in (a, b, c)]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_same_run(run_model):
    overrides = ("platforms.fraud_share=0.2",)
    a = run_model(*overrides, seed=21, ticks=40)
    b = run_model(*overrides, seed=21, ticks=40)
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)
    pd.testing.assert_frame_equal(a.platform_table(), b.platform_table(), check_exact=True)
    assert len(a.event_log) > 0
    assert repr(a.event_log) == repr(b.event_log)
    np.testing.assert_array_equal(a.population.balance, b.population.balance)


def test_different_seeds_differ(run_model):
    a = run_model(seed=1, ticks=20).timeseries()
    b = run_model(seed=2, ticks=20).timeseries()
    assert a.shape == b.shape
    assert not a.equals(b)
    assert not np.allclose(a["aum_total"], b["aum_total"])


# --- bounds and metrics ----------------------------------------------------------------------


@settings(max_examples=5, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    preset=st.sampled_from(["mixed", "laggard"]),
    fraud_share=st.sampled_from([0.05, 0.5]),
)
def test_bounded_state_over_a_run(build_model, seed, preset, fraud_share):
    model = build_model(
        f"platforms={preset}",
        f"platforms.fraud_share={fraud_share}",
        "regulator.education_rate=0.01",
        seed=seed,
    )
    pop = model.population
    k = model.cfg.trust.prior_weight
    for _ in range(model.cfg.ticks):
        model.step()
        trust = pop.trust(k)[pop.held]
        for name, values in (
            ("trust", trust),
            ("institutional_trust", pop.institutional_trust),
            ("satisfaction", pop.satisfaction),
            ("literacy", pop.literacy),
        ):
            assert np.all((values >= 0) & (values <= 1)), (model.tick, name)
    ts = model.timeseries()
    for col in (
        "trust_mean",
        "trust_balance_weighted",
        "institutional_trust_mean",
        "satisfaction_mean",
        "retention_rate",
        "literacy_mean",
        "violation_rate",
        "detection_rate",
    ):
        values = ts[col].dropna()
        assert ((values >= 0) & (values <= 1)).all(), col
    assert ((ts["wom_net"] >= -1) & (ts["wom_net"] <= 1)).all()


def test_timeseries_shape_and_columns(finished_model):
    ts = finished_model.timeseries()
    ticks = finished_model.cfg.ticks
    assert set(ts.columns) >= REQUIRED_COLUMNS, REQUIRED_COLUMNS - set(ts.columns)
    assert len(ts) == ticks + 1
    np.testing.assert_array_equal(ts["tick"].to_numpy(), np.arange(ticks + 1))
    table = finished_model.platform_table()
    assert len(table) == (ticks + 1) * finished_model.cfg.platforms.count


def test_timeseries_matches_state(finished_model):
    """The last row reports the final state, computed here independently."""
    model = finished_model
    pop = model.population
    last = model.timeseries().iloc[-1]
    held = pop.held
    trust = pop.trust(model.cfg.trust.prior_weight)[held]
    balance = pop.balance[held]
    assert last["aum_total"] == pytest.approx(pop.balance.sum(), rel=1e-12)
    assert last["trust_mean"] == pytest.approx(trust.mean(), rel=1e-5)
    assert last["trust_balance_weighted"] == pytest.approx(
        (trust * balance).sum() / balance.sum(), rel=1e-5
    )
    assert last["institutional_trust_mean"] == pytest.approx(
        pop.institutional_trust.mean(), rel=1e-5
    )
    assert last["retention_rate"] == pytest.approx(held.any(axis=1).sum() / pop.ever_invested.sum())
    assert last["platforms_active"] == sum(p.is_open for p in model.platforms)
    assert last["user_losses_cum"] == pytest.approx(model.market.user_losses_cum)
    assert last["transaction_volume"] == pytest.approx(
        model.market.this_tick.flows.deposits + model.market.this_tick.flows.withdrawals
    )


def test_user_losses_cum_is_the_sum_of_event_losses(run_model):
    model = run_model(*FAILING_WORLD, "regulator.custody_requirement=0", seed=4, ticks=60)
    ts = model.timeseries()
    losses = sum(
        e["user_losses"] for e in model.event_log if e["type"] in ("collapsed", "wound_down")
    )
    assert losses > 0
    assert ts["user_losses_cum"].iloc[-1] == pytest.approx(losses, rel=1e-12)
    assert (np.diff(ts["user_losses_cum"]) >= 0).all()


# --- invariants across ticks -----------------------------------------------------------------


@pytest.mark.parametrize("early_warning", [0.0, 1.0])
def test_empty_account_slots_carry_no_evidence(run_model, build_model, early_warning):
    """A closed slot forgets its evidence (``Population.close_accounts``), so a new account
    opened in it starts from the prior g. Checked after every tick of a world with runs,
    failed withdrawals and collapses.
    """
    model = build_model(
        *FAILING_WORLD,
        "regulator.custody_requirement=0",
        f"regulator.early_warning={early_warning}",
        seed=2,
        ticks=60,
    )
    pop = model.population
    k = model.cfg.trust.prior_weight
    for _ in range(60):
        model.step()
        empty = ~pop.held
        stale = empty & ((pop.a != 0) | (pop.b != 0))
        assert not stale.any(), (
            f"tick {model.tick}: {int(stale.sum())} empty slots hold evidence "
            f"(max b {float(pop.b[stale].max()):.3g})"
        )
        prior = np.broadcast_to(pop.institutional_trust[:, None], pop.a.shape)
        np.testing.assert_allclose(pop.trust(k)[empty], prior[empty], rtol=1e-6)


def test_closed_platforms_stop_violating(build_model):
    """Per-tick flags (violation, incidents) of a closed platform do not outlive it, and
    ``violations_total`` counts only violations of platforms that operated that tick.
    """
    model = build_model(
        "platforms=laggard",
        "platforms.violation_temptation=0.5",
        "regulator.penalty=0.0",
        "regulator.inspection_rate=0.3",
        n_users=300,
        ticks=60,
        seed=0,
    )
    counted = 0
    closed_before: list[Platform] = []
    for _ in range(60):
        before_total = model.market.violations_total
        observed, _, _ = step_counting_violations(model)
        counted += observed
        assert model.market.violations_total - before_total == observed, model.tick
        for p in closed_before:
            assert not (p.violated or p.outage or p.breach or p.misconduct), (model.tick, p.index)
        closed_before = [p for p in model.platforms if not p.is_operating]
    assert closed_before, "the test world should close some platforms"
    assert model.market.violations_total == counted


# --- policy directions -----------------------------------------------------------------------


def test_violations_follow_becker_in_the_model(build_model):
    """Violations of operating platforms match sum_j p_j from the deterrence kernel."""
    for penalty in (0.0, 0.02):
        observed = expected = var = 0.0
        for seed in range(4):
            model = build_model(
                "platforms.violation_temptation=0.2",
                f"regulator.penalty={penalty}",
                seed=seed,
                ticks=60,
            )
            for _ in range(60):
                o, e, v = step_counting_violations(model)
                observed, expected, var = observed + o, expected + e, var + v
        assert expected > 50
        assert abs(observed - expected) < 4 * np.sqrt(var) + 1, (penalty, observed, expected)


def test_higher_penalty_fewer_violations(build_model):
    totals = {}
    for penalty in (0.0, 0.05):
        total = 0
        for seed in SEEDS:
            model = build_model(
                f"regulator.penalty={penalty}", "regulator.inspection_rate=0.1", seed=seed, ticks=40
            )
            for _ in range(40):
                total += step_counting_violations(model)[0]
        totals[penalty] = total
    assert totals[0.0] > 30, totals
    assert totals[0.05] < 0.5 * totals[0.0], totals


def test_custody_lowers_user_losses_in_collapses(run_model):
    losses, loss_rates = {}, {}
    for custody in (0.0, 0.9):
        total, rates = 0.0, []
        for seed in SEEDS:
            model = run_model(
                *FAILING_WORLD,
                "regulator.early_warning=0",
                f"regulator.custody_requirement={custody}",
                seed=seed,
                ticks=60,
            )
            total += model.market.user_losses_cum
            rates += [1 - e["recovery"] for e in model.event_log if e["type"] == "collapsed"]
        losses[custody], loss_rates[custody] = total, rates
    assert len(loss_rates[0.0]) >= 3, "the failing world should collapse"
    assert losses[0.9] < 0.25 * losses[0.0], losses
    if loss_rates[0.9]:
        assert np.mean(loss_rates[0.9]) < 0.5 * np.mean(loss_rates[0.0]), loss_rates


def test_early_warning_turns_collapses_into_wind_downs(run_model):
    """Seed 2.4: flagged platforms are wound down in order, and users lose far less.

    A run that starts and breaks a platform within one tick outpaces the flag (runs are
    settled at step 4, the regulator looks at step 5), so not every collapse is avoided.
    """
    kinds, losses = {}, {}
    for early_warning in (0.0, 1.0):
        counts: collections.Counter = collections.Counter()
        lost = 0.0
        for seed in SEEDS:
            model = run_model(
                *FAILING_WORLD,
                "regulator.custody_requirement=0",
                "regulator.detection_accuracy=1.0",
                f"regulator.early_warning={early_warning}",
                seed=seed,
                ticks=60,
            )
            counts += event_counts(model)
            lost += model.market.user_losses_cum
        kinds[early_warning], losses[early_warning] = counts, lost
    off, on = kinds[0.0], kinds[1.0]
    assert off["collapsed"] >= 3 and off["wound_down"] == 0, off
    assert on["early_warning"] > 0 and on["wound_down"] > 0
    assert on["collapsed"] < 0.7 * off["collapsed"], (off, on)
    assert losses[1.0] < 0.5 * losses[0.0], losses


def test_education_raises_literacy(run_model):
    ticks, rate = 40, 0.01
    for seed in range(3):
        none = run_model("regulator.education_rate=0", seed=seed, ticks=ticks)
        some = run_model(f"regulator.education_rate={rate}", seed=seed, ticks=ticks)
        lit_none = none.timeseries()["literacy_mean"].to_numpy()
        lit_some = some.timeseries()["literacy_mean"].to_numpy()
        # Without education literacy never moves; with it, closed form per user:
        # l_t = 1 - (1 - l_0)(1 - r)^t, so the mean follows the same law.
        np.testing.assert_array_equal(lit_none, lit_none[0])
        assert lit_some[0] == lit_none[0]
        t = np.arange(ticks + 1)
        expected = 1 - (1 - lit_none[0]) * (1 - rate) ** t
        np.testing.assert_allclose(lit_some, expected, rtol=1e-5)
        assert lit_some[-1] > lit_none[-1] + 0.1


# --- hooks -----------------------------------------------------------------------------------


@pytest.fixture
def marker_event():
    """A test event type, registered for one test and removed afterwards."""

    @dataclasses.dataclass
    class Marker(Event):
        type_name: ClassVar[str] = "test_marker"
        label: str = "x"
        fired: ClassVar[list] = []

        def apply(self, ctx):
            # What the world looks like when the event fires.
            Marker.fired.append(
                {
                    "tick": ctx.tick,
                    "label": self.label,
                    "income": ctx.market.this_tick.flows.income,
                    "deposits": ctx.market.this_tick.flows.deposits,
                    "log_len": len(ctx.market.event_log),
                }
            )
            ctx.policy.penalty = 0.5

    assert "test_marker" not in EVENT_TYPES
    register_event(Marker)
    try:
        yield Marker
    finally:
        EVENT_TYPES.pop("test_marker", None)


def test_scheduled_event_fires_at_start_of_its_tick(compose_cfg, marker_event):
    cfg = compose_cfg(n_users=300, ticks=10)
    cfg = dataclasses.replace(
        cfg,
        scenario=ScenarioConfig(
            name="test", events=[{"tick": 4, "type": "test_marker", "label": "hello"}]
        ),
    )
    model = TrustModel(cfg)
    for _ in range(3):
        model.step()
    assert marker_event.fired == []
    assert model.regulator.policy.penalty == cfg.regulator.penalty
    model.step()
    # It fired once, in tick 4, before the platforms operated (no income credited yet).
    assert len(marker_event.fired) == 1
    fired = marker_event.fired[0]
    assert fired["tick"] == 4 and fired["label"] == "hello"
    assert fired["income"] == 0.0 and fired["deposits"] == 0.0
    assert model.regulator.policy.penalty == 0.5
    model.run()
    assert len(marker_event.fired) == 1
    logged = [e for e in model.event_log if e.get("label") == "hello"]
    assert len(logged) == 1
    entry = logged[0]
    assert entry["tick"] == 4
    assert entry["type"] == "scheduled", entry
    assert "test_marker" in entry.values(), entry


@pytest.mark.parametrize("enabled", [True, False])
def test_adaptation_hook_runs_every_k_ticks(build_model, enabled):
    model = build_model(
        f"adaptation.enabled={str(enabled).lower()}", "adaptation.every=5", n_users=300, ticks=23
    )
    calls = []

    def adapter(market, rng):
        assert market is model.market
        assert rng is model.rngs["adaptation"]
        calls.append(market.tick)

    model.adapters.append(adapter)
    model.run()
    assert calls == ([5, 10, 15, 20] if enabled else [])
