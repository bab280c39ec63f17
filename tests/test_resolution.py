"""Resolution (sim.resolution): the recovery kernel, haircuts, wind-downs and the run rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market import Status
from sim.resolution import haircut, recover

money = st.floats(0.0, 1e7, allow_nan=False, allow_subnormal=False)


# --- the recovery kernel ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    balances=st.lists(money, min_size=1, max_size=30),
    cash=money,
    loans=money,
    cut=st.floats(0.0, 1.0),
)
def test_recovery_pays_the_value_of_the_book_pro_rata(balances, cash, loans, cut):
    owed = np.array(balances)
    result = recover(owed, cash, loans, cut)
    total = owed.sum()
    value = cash + loans * (1 - cut)
    assert result.value == pytest.approx(value)
    with np.errstate(over="ignore"):  # a tiny balance against a big book: recovers 1
        rate = min(1.0, value / total) if total > 0 else 1.0
    assert result.recovery == pytest.approx(rate, rel=1e-12)
    # Pro rata: every account gets the same share; nobody gets more than they are owed.
    np.testing.assert_allclose(result.payout, owed * rate, rtol=1e-12)
    assert (result.payout <= owed * (1 + 1e-12)).all() and (result.losses >= -1e-9).all()
    np.testing.assert_allclose(result.payout + result.losses, owed, rtol=1e-12, atol=1e-9)
    # Paid out: all of the book's value when it falls short, else every balance in full.
    assert result.payout.sum() == pytest.approx(min(value, total), rel=1e-9, abs=1e-6)


def test_recovery_of_a_platform_owing_nothing_is_whole():
    result = recover(np.zeros(0), 5.0, 10.0, 0.5)
    assert result.recovery == 1.0 and result.payout.size == 0 and result.value == 10.0


def test_solvent_book_repays_in_full_insolvent_one_pro_rata():
    owed = np.array([60.0, 40.0])
    whole = recover(owed, cash=50.0, loans=100.0, haircut=0.4)  # worth 110 > 100
    np.testing.assert_array_equal(whole.payout, owed)
    assert whole.recovery == 1.0
    short = recover(owed, cash=20.0, loans=100.0, haircut=0.5)  # worth 70
    np.testing.assert_allclose(short.payout, [42.0, 28.0])
    np.testing.assert_allclose(short.losses, [18.0, 12.0])


def test_haircuts_by_kind_of_closure(compose_cfg):
    pcfg = compose_cfg().platforms
    assert haircut(pcfg, 0.3, orderly=True, going_concern=True) == pcfg.exit_haircut
    assert haircut(pcfg, 0.3, orderly=False, going_concern=True) == pcfg.exit_haircut
    assert haircut(pcfg, 0.3, orderly=True) == pcfg.orderly_haircut
    mixed = 0.3 * pcfg.orderly_haircut + 0.7 * pcfg.fire_sale_haircut
    assert haircut(pcfg, 0.3, orderly=False) == pytest.approx(mixed)
    assert haircut(pcfg, 1.0, orderly=False) == pytest.approx(pcfg.orderly_haircut)


# --- winding a platform down (Resolver.wind_down) -----------------------------------------


@pytest.mark.parametrize("orderly", [False, True])
@pytest.mark.parametrize("custody", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("asset_share", [0.3, 2.0])
def test_wind_down_recovery_closed_form(build_model, orderly, custody, asset_share):
    """Users recover min(1, (cash + loans (1 - h)) / liabilities) of their balances.

    h is the orderly haircut in an orderly wind-down; in a disorderly collapse the
    custodian's share runs off at the orderly haircut and the rest is fire-sold:
    h = c h_orderly + (1 - c) h_fire.
    """
    model = build_model(
        f"regulator.custody_requirement={custody}", "platforms.fraud_share=0", seed=5
    )
    pcfg = model.cfg.platforms
    pop = model.population
    liab = pop.liabilities(len(model.platforms))
    j = int(np.argmax(liab))
    platform = model.platforms[j]
    held = pop.platform == j
    balances = pop.balance[held].copy()
    liabilities = balances.sum()
    assert liabilities > 0
    # Give it a balance sheet worth ``asset_share`` of its liabilities at book value.
    platform.cash = 0.2 * asset_share * liabilities
    platform.loans = 0.8 * asset_share * liabilities
    h = (
        pcfg.orderly_haircut
        if orderly
        else custody * pcfg.orderly_haircut + (1 - custody) * pcfg.fire_sale_haircut
    )
    value = platform.cash + platform.loans * (1 - h)
    recovery = min(1.0, value / liabilities)
    users = np.nonzero(held)[0]
    cash_before = pop.cash.copy()
    wealth_before = pop.cash.sum() + pop.balance.sum()
    model.resolver.wind_down(platform.index, orderly=orderly, reason="test")
    assert platform.status == (Status.WOUND_DOWN if orderly else Status.COLLAPSED)
    assert not (pop.platform == j).any()
    assert platform.cash == platform.loans == 0.0
    assert model.market.liabilities[j] == 0.0
    expected_cash = cash_before.copy()
    np.add.at(expected_cash, users, balances * recovery)
    np.testing.assert_allclose(pop.cash, expected_cash, rtol=1e-12)
    lost = liabilities * (1 - recovery)
    assert model.market.this_tick.flows.user_losses == pytest.approx(lost, rel=1e-9, abs=1e-6)
    assert model.market.user_losses_cum == pytest.approx(lost, rel=1e-9, abs=1e-6)
    assert pop.cash.sum() + pop.balance.sum() == pytest.approx(wealth_before - lost, rel=1e-12)
    event = model.event_log[-1]
    assert event["type"] == ("wound_down" if orderly else "collapsed")
    assert event["platform"] == j
    assert event["recovery"] == pytest.approx(recovery, rel=1e-12)
    assert event["liabilities"] == pytest.approx(liabilities, rel=1e-12)
    # Slots freed with the platform carry no evidence any more.
    assert (pop.a[held] == 0).all() and (pop.b[held] == 0).all()


def test_custody_lowers_the_collapse_haircut(build_model):
    """Disorderly haircut falls linearly with custody; orderly is custody-independent."""
    haircuts = []
    for custody in (0.0, 0.25, 0.5, 0.9):
        model = build_model(f"regulator.custody_requirement={custody}", n_users=300)
        pcfg, c = model.cfg.platforms, model.market.custody_share
        haircuts.append(haircut(pcfg, c, orderly=False))
        assert haircut(pcfg, c, orderly=True) == model.cfg.platforms.orderly_haircut
    assert np.all(np.diff(haircuts) < 0)


def test_run_rule_closes_open_platforms_above_the_bound(build_model):
    """More than collapse_failed_share of the withdrawals asked left unpaid: a collapse."""
    model = build_model("platforms.collapse_failed_share=0.4", n_users=500)
    market = model.market
    asked = np.full(len(market), 1000.0)
    failed = np.zeros(len(market))
    failed[0] = 410.0  # above the bound: a run
    failed[1] = 390.0  # below: withdrawal difficulties, but it survives
    failed[2] = 900.0  # above, but the platform is suspended already
    market.set_status(2, Status.SUSPENDED)
    market.flagged[0] = True  # flagged by early warning: wound down in order
    model.resolver.close_runs(failed, asked)
    assert model.platforms[0].status == Status.WOUND_DOWN
    assert model.platforms[1].status == Status.ACTIVE
    assert model.platforms[2].status == Status.SUSPENDED
    runs = [e for e in model.event_log if e.get("reason") == "run"]
    assert [e["platform"] for e in runs] == [0]
    market.flagged[3] = False
    failed = np.zeros(len(market))
    failed[3] = asked[3]
    model.resolver.close_runs(failed, asked)
    assert model.platforms[3].status == Status.COLLAPSED  # not flagged: disorderly


def test_closing_many_at_once_is_closing_each_in_turn(build_model):
    """wind_down_all finds every account in one pass; the same result as a scan per closure."""
    one, many = (build_model(n_users=600, ticks=10, seed=4) for _ in range(2))
    for model in (one, many):
        for _ in range(3):
            model.step()
    closing = np.array([2, 5, 11, 17])
    for j in closing:
        one.resolver.wind_down(int(j), orderly=bool(j % 2), reason="test")
    many.resolver.wind_down_all(closing, orderly=lambda j: bool(j % 2), reason="test")
    for name in ("cash", "balance", "platform", "a", "b"):
        np.testing.assert_array_equal(getattr(one.population, name), getattr(many.population, name))
    np.testing.assert_array_equal(one.market.this_tick.user_loss, many.market.this_tick.user_loss)
    assert one.market.event_log == many.market.event_log
    slots = many.resolver.accounts_of(np.array([0, 1]))
    for j, found in slots.items():
        np.testing.assert_array_equal(found, np.flatnonzero(many.population.platform == j))
