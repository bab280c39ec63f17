"""Step 3 (sim.decisions): withdrawal requests, platform choice and deposits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from populations import N_PLAT, closed_form_trust, with_accounts
from scipy import stats

from sim import accounts
from sim.decisions import decide_withdrawals
from sim.population import Population, init_population

# --- decide_withdrawals -------------------------------------------------------------------------


def test_low_trust_withdraws_the_full_balance(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 3000, seed=1)
    k = 4.0
    balance_before = pop.balance.copy()
    forced = np.zeros(N_PLAT, dtype=bool)
    users, slots, amounts = decide_withdrawals(pop, k, 0.0, 0.3, forced, rng)
    expected_trust = closed_form_trust(pop, k)
    # The requests are exactly the held, funded slots with trust below the threshold.
    want = pop.held & (balance_before > 0) & (expected_trust < pop.withdraw_threshold[:, None])
    # Float32 rounding may flip a slot whose trust equals its threshold; none here.
    margin = np.abs(expected_trust - pop.withdraw_threshold[:, None]) > 1e-5
    got = np.zeros_like(want)
    got[users, slots] = True
    assert len(set(zip(users.tolist(), slots.tolist(), strict=True))) == users.size
    np.testing.assert_array_equal(got[margin], want[margin])
    assert want.sum() > 100
    np.testing.assert_array_equal(amounts, balance_before[users, slots])
    # Deciding changes no balances.
    np.testing.assert_array_equal(pop.balance, balance_before)


def test_routine_needs_take_a_share_of_the_rest(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 3000, seed=2)
    k, share = 4.0, 0.3
    forced = np.zeros(N_PLAT, dtype=bool)
    trust = closed_form_trust(pop, k)
    users, slots, amounts = decide_withdrawals(pop, k, 1.0, share, forced, rng)
    funded = pop.held & (pop.balance > 0)
    low = trust < pop.withdraw_threshold[:, None]
    got = np.zeros_like(funded)
    got[users, slots] = True
    np.testing.assert_array_equal(got, funded)  # everyone with money asks for some
    full = low[users, slots]
    np.testing.assert_allclose(amounts[full], pop.balance[users, slots][full], rtol=0)
    np.testing.assert_allclose(amounts[~full], share * pop.balance[users, slots][~full])


def test_routine_need_rate(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 20_000, seed=3)
    pop.a[:] = 100.0  # trust near 1: nobody exits for lack of trust
    pop.b[:] = 0.0
    forced = np.zeros(N_PLAT, dtype=bool)
    rate = 0.2
    users, _, _ = decide_withdrawals(pop, 4.0, rate, 0.3, forced, rng)
    eligible = (pop.held & (pop.balance > 0)).any(axis=1)
    share = np.isin(np.flatnonzero(eligible), users).mean()
    n = eligible.sum()
    assert abs(share - rate) < 4 * np.sqrt(rate * (1 - rate) / n)


def test_frozen_platform_is_asked_nothing(pop_cfg):
    """A suspension stays withdrawals: no request reaches a frozen platform."""
    pop, rng = with_accounts(pop_cfg, 2000, seed=4)
    pop.a[:] = 0.0
    pop.b[:] = 100.0  # trust near 0: everyone wants out
    frozen = np.zeros(N_PLAT, dtype=bool)
    frozen[2] = True
    users, slots, _ = decide_withdrawals(pop, 4.0, 0.0, 0.3, frozen, rng)
    want = pop.held & (pop.balance > 0) & (pop.platform != 2)
    got = np.zeros_like(want)
    got[users, slots] = True
    np.testing.assert_array_equal(got, want)


def test_opinions_name_the_largest_account_and_the_platform_fled(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 3000, seed=6)
    k = 4.0
    trust = closed_form_trust(pop, k)
    decide_withdrawals(pop, k, 0.0, 0.3, np.zeros(N_PLAT, dtype=bool), rng)
    funded = pop.held & (pop.balance > 0)
    for i in range(pop.n):
        if not funded[i].any():
            assert pop.opinion_platform[i] == -1 and pop.fled_platform[i] == -1
            continue
        biggest = int(np.argmax(np.where(funded[i], pop.balance[i], -1.0)))
        assert pop.opinion_platform[i] == pop.platform[i, biggest]
        assert pop.opinion_trust[i] == pytest.approx(trust[i, biggest])
        fled = funded[i] & (trust[i] < pop.withdraw_threshold[i])
        if fled.any():
            largest = int(np.argmax(np.where(fled, pop.balance[i], -1.0)))
            assert pop.fled_platform[i] == pop.platform[i, largest]
        else:
            assert pop.fled_platform[i] == -1


# --- choose_and_deposit (the kernel) --------------------------------------------------------


def choose(
    pop,
    *,
    accepting,
    base,
    public_good=None,
    public_bad=None,
    presence=None,
    considered=60,
    uniforms=None,
    rng=None,
    k=4.0,
    weight_trust=3.0,
    tip_weight=0.5,
    temperature=0.5,
    deposit_share=0.5,
    switch_threshold=np.inf,
    exit_share=None,
    run_sensitivity=0.0,
):
    """Every user reviews once; returns the kernel's outputs (arrays updated in place)."""
    n_plat = accepting.size
    users = np.arange(pop.n)
    rng = np.random.default_rng(0) if rng is None else rng
    if uniforms is None:
        uniforms = rng.random((pop.n, considered + 1))
    weight = accepting / accepting.sum() if presence is None else presence
    trust = closed_form_trust(pop, k).astype(np.float32)
    zero = np.zeros(n_plat, np.float32)
    return accounts.choose_and_deposit(
        users,
        pop.platform,
        pop.a,
        pop.b,
        pop.institutional_trust,
        pop.tip_platform,
        pop.tip_trust,
        np.asarray(base, np.float64),
        accepting,
        zero if public_good is None else np.asarray(public_good, np.float32),
        zero if public_bad is None else np.asarray(public_bad, np.float32),
        *accounts.alias_table(np.asarray(weight, np.float64)),
        considered,
        np.float32(k),
        weight_trust,
        tip_weight,
        temperature,
        pop.withdraw_threshold,
        pop.exposure,
        uniforms,
        pop.cash,
        pop.balance,
        pop.ever_invested,
        deposit_share,
        switch_threshold,
        np.zeros(n_plat, np.float32) if exit_share is None else np.asarray(exit_share, np.float32),
        np.float32(run_sensitivity),
    ), trust


def deposit_world(pop_cfg, seed, n=3000):
    pop, rng = with_accounts(pop_cfg, n, seed=seed)
    pop.cash[:] = rng.uniform(0.0, 500.0, n)
    pop.cash[rng.random(n) < 0.05] = 0.0
    tipped = rng.random(n) < 0.3  # some users have a neighbour's tip
    pop.tip_platform[tipped] = rng.integers(0, N_PLAT, tipped.sum())
    pop.tip_trust[tipped] = rng.random(tipped.sum()).astype(np.float32)
    accepting = np.array([True, False, True, True, False, True])
    return pop, rng, accepting, rng.random(N_PLAT)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deposits_respect_accounts_limits_and_conserve_money(pop_cfg, seed):
    pop, rng, accepting, base = deposit_world(pop_cfg, seed)
    public_good, public_bad = rng.uniform(0, 5, N_PLAT), rng.uniform(0, 5, N_PLAT)
    before = dataclasses.replace(
        pop, **{f.name: getattr(pop, f.name).copy() for f in dataclasses.fields(Population)}
    )
    (chosen, amounts, _, _), trust = choose(
        pop, accepting=accepting, base=base, public_good=public_good, public_bad=public_bad, rng=rng
    )
    users = np.flatnonzero(chosen >= 0)
    plat, amounts = chosen[users], amounts[users]
    assert users.size > 100
    assert accepting[plat].all()  # never into a platform that takes no deposits
    # Money: what left cash is what arrived in balances, user by user.
    cash_drop = before.cash - pop.cash
    balance_rise = pop.balance.sum(axis=1) - before.balance.sum(axis=1)
    np.testing.assert_allclose(cash_drop, balance_rise, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cash_drop[users], amounts, rtol=1e-12)
    # The amount: a share of idle money, up to the user's exposure of all their money.
    held_before = before.balance.sum(axis=1)[users]
    room = before.exposure[users] * (before.cash[users] + held_before) - held_before
    want = np.minimum(pop_cfg.deposit_share * before.cash[users], room)
    np.testing.assert_allclose(amounts, want, rtol=1e-6)
    assert (amounts > 0).all()
    # At most max_accounts accounts, each platform at most once per user.
    held = pop.platform >= 0
    assert (held.sum(axis=1) <= pop_cfg.max_accounts).all()
    for i in users:
        row = pop.platform[i][pop.platform[i] >= 0]
        assert np.unique(row).size == row.size, pop.platform[i]
    was_held = before.platform >= 0
    np.testing.assert_array_equal(pop.platform[was_held], before.platform[was_held])
    phi_k = 4.0
    for i, j in zip(users, plat, strict=True):
        s = np.flatnonzero(pop.platform[i] == j)[0]
        if j in before.platform[i]:
            own = trust[i, np.flatnonzero(before.platform[i] == j)[0]]
        else:
            # A new account starts from the public record, and the user read it so.
            assert pop.a[i, s] == np.float32(public_good[j])
            assert pop.b[i, s] == np.float32(public_bad[j])
            g = before.institutional_trust[i]
            public = (public_good[j] + phi_k * g) / (public_good[j] + public_bad[j] + phi_k)
            own = (
                0.5 * public + 0.5 * before.tip_trust[i] if before.tip_platform[i] == j else public
            )
        assert own >= before.withdraw_threshold[i] - 1e-5  # invests only where trusted enough
    assert pop.ever_invested[users].all()
    assert (pop.tip_platform == -1).all()  # a review uses up the tip


def test_nothing_accepting_no_deposit(pop_cfg):
    pop, _, _, base = deposit_world(pop_cfg, 5)
    cash = pop.cash.copy()
    (chosen, amounts, _, _), _ = choose(pop, accepting=np.zeros(N_PLAT, bool), base=base)
    assert (chosen == -1).all() and (amounts == 0).all()
    np.testing.assert_array_equal(pop.cash, cash)


def test_choice_frequencies_follow_the_softmax(pop_cfg):
    """Identical newcomers who notice every platform: the choice is exp(U_j / T)."""
    n = 30_000
    cfg = dataclasses.replace(pop_cfg, n_users=n)
    pop = init_population(cfg, np.random.default_rng(8))
    pop.institutional_trust[:] = 0.9
    pop.withdraw_threshold[:] = 0.1
    accepting = np.array([True, True, False, True, True, True])
    base = np.array([0.2, 0.5, 0.9, 0.4, 0.8, 0.6])
    public_good = np.array([3.0, 0.0, 0.0, 1.0, 6.0, 2.0])
    public_bad = np.array([1.0, 2.0, 0.0, 0.0, 1.0, 4.0])
    (chosen, _, _, _), _ = choose(
        pop, accepting=accepting, base=base, public_good=public_good, public_bad=public_bad
    )
    assert (chosen >= 0).all()
    public = (public_good + 4.0 * 0.9) / (public_good + public_bad + 4.0)
    util = (base + 3.0 * public) / 0.5
    w = np.where(accepting, np.exp(util - util.max()), 0.0)
    counts = np.bincount(chosen, minlength=N_PLAT)
    assert counts[2] == 0
    _, p = stats.chisquare(counts[accepting], (w / w.sum() * n)[accepting])
    assert p > 1e-4, counts


def test_noticing_follows_presence(pop_cfg):
    """With one platform noticed per review, the one chosen is drawn by presence."""
    n = 40_000
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(3))
    pop.institutional_trust[:] = 0.9
    pop.withdraw_threshold[:] = 0.1
    accepting = np.ones(4, dtype=bool)
    presence = np.array([0.1, 0.4, 0.2, 0.3])
    (chosen, _, _, _), _ = choose(
        pop, accepting=accepting, base=np.zeros(4), presence=presence, considered=1
    )
    counts = np.bincount(chosen[chosen >= 0], minlength=4)
    _, p = stats.chisquare(counts, presence * counts.sum())
    assert p > 1e-4, counts


def test_choice_weighs_own_trust_of_held_accounts(pop_cfg):
    """A user holding platform 0 with trust t0: P(j) ~ exp((base_j + w_trust tau_j) / T)."""
    n = 30_000
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(9))
    pop.institutional_trust[:] = 0.6
    pop.withdraw_threshold[:] = 0.1
    pop.exposure[:] = 1.0
    pop.platform[:, 0] = 0
    pop.balance[:, 0] = 100.0
    pop.a[:, 0] = 8.0  # trust (8 + 4 * 0.6) / (8 + 4) = 0.8667
    accepting = np.ones(4, dtype=bool)
    base = np.array([0.85, 0.9, 1.05, 0.75])
    (chosen, _, _, _), trust = choose(pop, accepting=accepting, base=base)
    assert (chosen >= 0).all()
    tau = np.array([float(trust[0, 0]), 0.6, 0.6, 0.6])
    util = (base + 3.0 * tau) / 0.5
    w = np.exp(util - util.max())
    counts = np.bincount(chosen, minlength=4)
    _, p = stats.chisquare(counts, w / w.sum() * n)
    assert p > 1e-4, (counts, w / w.sum() * n)
    # Top-ups land in the account already held; new platforms open the first free slot.
    np.testing.assert_array_equal(pop.platform[chosen == 0, 1], -1)
    np.testing.assert_array_equal(pop.platform[chosen != 0, 1], chosen[chosen != 0])


def test_full_slots_only_top_up_or_switch(pop_cfg):
    n = 2000
    cfg = dataclasses.replace(pop_cfg, n_users=n, max_accounts=2)
    pop = init_population(cfg, np.random.default_rng(10))
    pop.institutional_trust[:] = 0.9
    pop.withdraw_threshold[:] = 0.1
    pop.platform[:, 0], pop.platform[:, 1] = 1, 3
    pop.balance[:] = 10.0
    accepting = np.ones(5, dtype=bool)
    base = np.array([3.0, 0.0, 3.0, 0.0, 3.0])  # 0, 2 and 4 look far better
    (chosen, _, switch_users, switch_slots), _ = choose(
        pop, accepting=accepting, base=base, switch_threshold=1.0
    )
    assert set(np.unique(chosen[chosen >= 0]).tolist()) <= {1, 3}  # no free slot to open
    assert ((pop.platform == 1) | (pop.platform == 3)).all()
    # Those who chose a far better platform ask for a held account's balance to move it.
    better = np.flatnonzero(chosen == -1)
    assert better.size > n // 2
    assert set(switch_users.tolist()) == set(better.tolist())
    assert np.isin(switch_slots, [0, 1]).all()


def test_below_threshold_no_deposit(pop_cfg):
    n = 2000
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(11))
    pop.institutional_trust[:] = 0.1  # below every threshold
    cash = pop.cash.copy()
    (chosen, _, _, _), _ = choose(pop, accepting=np.ones(N_PLAT, bool), base=np.zeros(N_PLAT))
    assert (chosen == -1).all()
    np.testing.assert_array_equal(pop.cash, cash)
    assert (pop.platform == -1).all()


@pytest.mark.parametrize("value", [0.0, 1.0 - 2.0**-53])
def test_extreme_uniforms_never_choose_a_closed_platform(pop_cfg, value):
    """Uniforms are in [0, 1): neither 0 nor one just below 1 picks a closed platform."""
    n = 50
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(12))
    pop.institutional_trust[:] = 0.9
    pop.withdraw_threshold[:] = 0.1
    accepting = np.array([False, True, True, False])
    uniforms = np.full((n, 3), value)
    (chosen, _, _, _), _ = choose(
        pop, accepting=accepting, base=np.zeros(4), considered=2, uniforms=uniforms
    )
    assert (chosen >= 0).all() and accepting[chosen].all(), chosen


@settings(max_examples=200, deadline=None)
@given(
    weights=hnp.arrays(
        np.float64,
        st.integers(1, 40),
        elements=st.one_of(st.just(0.0), st.floats(1e-6, 1e3)),
    )
)
def test_alias_table_gives_each_index_its_weight(weights):
    """Walker's table: P(i) = (prob_i + sum of 1 - prob_j over columns j aliased to i) / n."""
    prob, alias = accounts.alias_table(weights)
    n = weights.size
    if weights.sum() == 0.0:
        assert (prob == 0).all() and (alias == -1).all()
        return
    mass = prob.copy()
    for j in range(n):
        if alias[j] >= 0:
            mass[alias[j]] += 1.0 - prob[j]
    np.testing.assert_allclose(mass / n, weights / weights.sum(), atol=1e-9)
    assert (mass[weights == 0] == 0).all()


def test_nobody_deposits_where_the_run_raise_would_take_it_out(pop_cfg):
    """The threshold a deposit must reach is raised by others leaving, as for withdrawals."""
    n = 2000
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(4))
    pop.institutional_trust[:] = 0.6  # trust in an unused platform without a record
    pop.withdraw_threshold[:] = 0.4
    accepting = np.array([True, False])
    common = {"accepting": accepting, "base": np.zeros(2), "considered": 1}
    (calm, _, _, _), _ = choose(pop, **common)
    assert (calm == 0).mean() > 0.9
    pop = init_population(dataclasses.replace(pop_cfg, n_users=n), np.random.default_rng(4))
    pop.institutional_trust[:] = 0.6
    pop.withdraw_threshold[:] = 0.4
    (running, _, _, _), _ = choose(pop, **common, exit_share=[0.8, 0.0], run_sensitivity=0.3)
    assert (running == -1).all()  # 0.4 + 0.3 x 0.8 = 0.64 > 0.6
