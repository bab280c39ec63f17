"""Endogenous entry and exit (sim/entry.py): the kernels, and directions over seeds."""

import math

import numpy as np
import pytest

from sim import entry
from sim.config import RegulatorConfig
from sim.market import Status
from tests.test_event_types import step_to, with_events

SEEDS = range(10)
ENTRY = ("entry.enabled=true",)


def test_weeks_uncaught_is_the_mean_of_a_truncated_geometric():
    rng = np.random.default_rng(0)
    for hazard, weeks in ((0.02, 104.0), (0.2, 52.0), (0.001, 10.0)):
        # Weeks a fraud diverts: up to and including the week it is found (step 2 before 5).
        first = rng.geometric(hazard, size=400_000)
        simulated = np.minimum(first, weeks).mean()
        assert entry.weeks_uncaught(hazard, weeks) == pytest.approx(simulated, rel=0.01)
    assert entry.weeks_uncaught(0.0, 30.0) == 30.0


def test_expected_deposits_share_the_market_with_the_entrant_and_grow():
    assert entry.expected_deposits(900.0, 8, 0.0, 2.0) == pytest.approx(100.0)
    # Linear growth at 20% a year over 2 years averages 1.2 times today's deposits.
    assert entry.expected_deposits(900.0, 8, 0.2, 2.0) == pytest.approx(120.0)
    assert entry.expected_deposits(900.0, 8, -5.0, 2.0) == 0.0


def test_logistic_is_stable_and_symmetric():
    assert entry.logistic(0.0) == 0.5
    assert entry.logistic(3.0) + entry.logistic(-3.0) == pytest.approx(1.0)
    assert entry.logistic(-1000.0) == 0.0 and entry.logistic(1000.0) == 1.0


def test_barriers_lower_the_honest_return_by_their_cost():
    free = RegulatorConfig()
    costly = RegulatorConfig(registration_cost=0.4, compliance_cost=0.1)
    base = entry.honest_return(0.05, 200.0, 10.0, free, 2.0)
    assert base == pytest.approx(0.05 * 200.0 / 10.0)
    assert entry.honest_return(0.05, 200.0, 10.0, costly, 2.0) == pytest.approx(base - 0.2 - 0.1)
    # A capital requirement spreads the same profit over more capital.
    assert entry.honest_return(0.05, 200.0, 20.0, free, 2.0) == pytest.approx(base / 2)


def test_supervision_and_custody_lower_what_a_fraud_expects():
    lax = RegulatorConfig(inspection_rate=0.0)
    strict = RegulatorConfig(inspection_rate=0.2, detection_accuracy=0.9)
    args = (500.0, 10.0)
    assert entry.fraud_return(*args, lax, 0.01, 0.0, 2.0, False) > entry.fraud_return(
        *args, strict, 0.01, 0.0, 2.0, False
    )
    assert entry.fraud_return(*args, lax, 0.01, 0.0, 2.0, False) > entry.fraud_return(
        *args, lax, 0.01, 0.9, 2.0, False
    )
    # Unsupervised, a fraud takes drawdown x deposits for every week of its horizon.
    weeks = 2.0 * 52
    expected = 0.01 * 500.0 * weeks / (10.0 * 2.0)
    assert entry.fraud_return(*args, lax, 0.01, 0.0, 2.0, False) == pytest.approx(expected)
    # The fixed cost of the rules is paid while it operates.
    costly = RegulatorConfig(inspection_rate=0.0, compliance_cost=0.5)
    assert entry.fraud_return(*args, costly, 0.01, 0.0, 2.0, False) == pytest.approx(
        expected - 0.5 * weeks / 52 / 2.0
    )
    # A sandbox's monitoring finds frauds sooner.
    some = RegulatorConfig(inspection_rate=0.01)
    assert entry.fraud_return(*args, some, 0.01, 0.0, 2.0, True) < entry.fraud_return(
        *args, some, 0.01, 0.0, 2.0, False
    )


def _entrants(run_model, *overrides, ticks=40, n_users=400):
    """Per seed: endogenous entrants and how many of them were frauds."""
    counts = []
    for seed in SEEDS:
        model = run_model(*ENTRY, *overrides, n_users=n_users, ticks=ticks, seed=seed)
        entered = model.market.entered > 0
        counts.append((int(entered.sum()), int(model.market.fraudulent[entered].sum())))
    return np.array(counts)


def test_entry_follows_the_margin(run_model):
    """A richer loan book (higher margin on deposits) brings more entrants, seed by seed."""
    low = _entrants(run_model, "platforms.loan_rate=0.10")[:, 0]
    high = _entrants(run_model, "platforms.loan_rate=0.25")[:, 0]
    assert high.sum() > 1.5 * low.sum(), (low, high)
    assert (high >= low).mean() >= 0.8


def test_entry_barriers_keep_entrants_out(run_model):
    """Registration and fixed costs of the rules, and a closed register, lower entry."""
    free = _entrants(run_model)[:, 0]
    barred = _entrants(
        run_model, "regulator.registration_cost=0.8", "regulator.compliance_cost=0.4"
    )[:, 0]
    closed = _entrants(run_model, "regulator.entry_open=false")[:, 0]
    assert barred.sum() < 0.6 * free.sum(), (free, barred)
    assert closed.sum() == 0


def test_frauds_share_of_entrants_rises_when_supervision_is_lax(run_model):
    """Adverse selection: without inspections or custody, more of the entrants are frauds."""
    common = ("entry.fraud_pool=1.0",)
    lax = _entrants(
        run_model, *common, "regulator.inspection_rate=0.0", "regulator.custody_requirement=0.0"
    )
    strict = _entrants(
        run_model,
        *common,
        "regulator.inspection_rate=0.3",
        "regulator.detection_accuracy=0.9",
        "regulator.custody_requirement=0.9",
        "regulator.entry_screening=0.5",
    )
    share_lax = lax[:, 1].sum() / lax[:, 0].sum()
    share_strict = strict[:, 1].sum() / max(strict[:, 0].sum(), 1)
    assert share_lax > share_strict + 0.15, (share_lax, share_strict)


def test_unprofitable_platforms_exit_in_order(run_model):
    """A fixed cost of the rules far above the margin drives honest platforms out."""
    model = run_model(
        *ENTRY,
        "regulator.compliance_cost=3.0",
        "regulator.entry_open=false",
        "entry.exit_min_age=5",
        n_users=400,
        ticks=60,
        seed=1,
    )
    exits = [e for e in model.event_log if e.get("reason") == "unprofitable"]
    assert exits, "no platform left for want of profit"
    assert all(not model.market.fraudulent[e["platform"]] for e in exits)
    assert {e["type"] for e in exits} <= {str(Status.EXITED), str(Status.WOUND_DOWN)}


def test_without_entry_enabled_the_market_does_not_change(run_model):
    model = run_model(n_users=300, ticks=30, seed=0)
    assert model.structure is None
    assert (model.market.entered == 0).all()
    assert math.isnan(model.timeseries()["entrant_fraud_share"].iloc[-1])


def test_sandbox_route_admits_entrants_under_the_policy_terms(run_model):
    model = run_model(
        *ENTRY,
        "regulator.entry_sandbox=true",
        "regulator.sandbox_duration=10",
        "entry.pool=3.0",
        n_users=400,
        ticks=20,
        seed=0,
    )
    entrants = np.flatnonzero(model.market.entered > 0)
    assert entrants.size > 0
    admitted = [e for e in model.event_log if e["type"] == "entry" and e.get("endogenous")]
    assert len(admitted) == entrants.size == model.market.sandbox_admissions
    assert {e["type"] for e in model.event_log} & {"sandbox_graduation", "exited", "wound_down"}


def test_an_exit_drive_runs_platforms_off_in_order(compose_cfg):
    """``orderly_exit``: about ``rate`` of the open platforms leave each tick, in order; at
    rate 1 none is left."""
    cfg = compose_cfg("platforms.count=200", n_users=400, ticks=12, seed=0)
    events = [
        {"tick": 3, "type": "orderly_exit", "rate": 0.2, "duration": 2},
        {"tick": 10, "type": "orderly_exit", "all": True},
    ]
    model = with_events(cfg, *events)
    open_before = int(model.market.is_open.sum())
    step_to(model, 4)
    left = [e for e in model.event_log if e.get("reason") == "orderly_exit"]
    # Two ticks at 20% of what is open: 1 - 0.8^2 = 36% of the platforms, within 4 sd.
    expected = open_before * (1 - 0.8**2)
    assert abs(len(left) - expected) < 4 * math.sqrt(open_before * 0.36 * 0.64)
    assert all(e["type"] in (str(Status.EXITED), str(Status.WOUND_DOWN)) for e in left)
    step_to(model, 9)  # the first drive ended after its two ticks
    assert len([e for e in model.event_log if e.get("reason") == "orderly_exit"]) == len(left)
    step_to(model, 10)
    assert not model.market.is_open.any()
