"""Step 3 (sim.decisions): withdrawal requests, platform choice and deposits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sim.decisions import choose_and_deposit, decide_withdrawals
from sim.population import Population, init_population

N_PLAT = 6


@pytest.fixture(scope="module")
def pop_cfg():
    from sim.config import PopulationConfig

    return dataclasses.replace(PopulationConfig(), n_users=20_000)


@pytest.fixture(scope="module")
def drawn(pop_cfg) -> Population:
    return init_population(pop_cfg, np.random.default_rng(2024))


def with_accounts(
    cfg, n: int, seed: int, n_plat: int = N_PLAT, fill: float = 0.6
) -> tuple[Population, np.random.Generator]:
    """A population whose slots are filled at random with distinct platforms and evidence."""
    rng = np.random.default_rng(seed)
    pop = init_population(dataclasses.replace(cfg, n_users=n), rng)
    k = pop.platform.shape[1]
    for i in range(n):
        plats = rng.permutation(n_plat)[:k]
        use = rng.random(k) < fill
        pop.platform[i] = np.where(use, plats, -1)
    held = pop.held
    pop.balance[held] = rng.uniform(0.0, 1000.0, held.sum())
    pop.balance[held & (rng.random(held.shape) < 0.05)] = 0.0  # some emptied accounts
    pop.a[held] = rng.uniform(0.0, 10.0, held.sum()).astype(np.float32)
    pop.b[held] = rng.uniform(0.0, 10.0, held.sum()).astype(np.float32)
    pop.institutional_trust[:] = rng.uniform(0.0, 1.0, n).astype(np.float32)
    return pop, rng


def closed_form_trust(pop: Population, k: float) -> np.ndarray:
    a, b = pop.a.astype(np.float64), pop.b.astype(np.float64)
    g = pop.institutional_trust.astype(np.float64)[:, None]
    return (a + k * g) / (a + b + k)


# --- decide_withdrawals -------------------------------------------------------------------------


def test_low_trust_withdraws_the_full_balance(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 3000, seed=1)
    k = 4.0
    balance_before = pop.balance.copy()
    forced = np.zeros(N_PLAT, dtype=bool)
    trust, users, slots, amounts = decide_withdrawals(pop, k, 0.0, 0.3, forced, rng)
    expected_trust = closed_form_trust(pop, k)
    np.testing.assert_allclose(trust, expected_trust, rtol=1e-5)
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
    trust, users, slots, amounts = decide_withdrawals(pop, k, 1.0, share, forced, rng)
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
    _, users, _, _ = decide_withdrawals(pop, 4.0, rate, 0.3, forced, rng)
    eligible = (pop.held & (pop.balance > 0)).any(axis=1)
    share = np.isin(np.flatnonzero(eligible), users).mean()
    n = eligible.sum()
    assert abs(share - rate) < 4 * np.sqrt(rate * (1 - rate) / n)


def test_forced_platform_is_emptied(pop_cfg):
    pop, rng = with_accounts(pop_cfg, 2000, seed=4)
    pop.a[:] = 100.0
    pop.b[:] = 0.0
    forced = np.zeros(N_PLAT, dtype=bool)
    forced[2] = True
    _, users, slots, amounts = decide_withdrawals(pop, 4.0, 0.0, 0.3, forced, rng)
    want = (pop.platform == 2) & (pop.balance > 0)
    got = np.zeros_like(want)
    got[users, slots] = True
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(amounts, pop.balance[users, slots])


# --- choose_and_deposit -------------------------------------------------------------------------


def deposit_world(pop_cfg, seed, n=3000, open_mask=None):
    pop, rng = with_accounts(pop_cfg, n, seed=seed)
    pop.cash[:] = rng.uniform(0.0, 500.0, n)
    pop.cash[rng.random(n) < 0.05] = 0.0
    # Some users have a neighbour's tip.
    tipped = rng.random(n) < 0.3
    pop.tip_platform[tipped] = rng.integers(0, N_PLAT, tipped.sum())
    pop.tip_trust[tipped] = rng.random(tipped.sum()).astype(np.float32)
    if open_mask is None:
        open_mask = np.array([True, False, True, True, False, True])
    reputation = rng.random(N_PLAT)
    yields = rng.uniform(0.05, 0.12, N_PLAT)
    return pop, rng, open_mask, reputation, yields


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deposits_respect_accounts_open_platforms_and_conserve_money(pop_cfg, seed):
    pop, rng, open_mask, reputation, yields = deposit_world(pop_cfg, seed)
    k = 4.0
    trust = closed_form_trust(pop, k).astype(np.float32)
    before = dataclasses.replace(
        pop, **{f.name: getattr(pop, f.name).copy() for f in dataclasses.fields(Population)}
    )
    users, plat, amounts = choose_and_deposit(
        pop,
        trust,
        open_mask,
        reputation,
        yields,
        pop_cfg,
        0.5,
        rng,
        candidates=np.ones(pop.n, dtype=bool),
    )
    assert users.size > 100
    assert np.unique(users).size == users.size
    # Never into a closed platform.
    assert open_mask[plat].all()
    # Money: what left cash is what arrived in balances, user by user.
    cash_drop = before.cash - pop.cash
    balance_rise = pop.balance.sum(axis=1) - before.balance.sum(axis=1)
    np.testing.assert_allclose(cash_drop, balance_rise, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cash_drop[users], amounts, rtol=1e-12)
    np.testing.assert_allclose(amounts, pop_cfg.deposit_share * before.cash[users], rtol=1e-12)
    others = np.setdiff1d(np.arange(pop.n), users)
    np.testing.assert_array_equal(pop.cash[others], before.cash[others])
    assert (before.cash[users] > 0).all()
    # At most max_accounts accounts, each platform at most once per user.
    held = pop.platform >= 0
    assert (held.sum(axis=1) <= pop_cfg.max_accounts).all()
    for i in users:
        row = pop.platform[i][pop.platform[i] >= 0]
        assert np.unique(row).size == row.size, pop.platform[i]
    # Existing accounts keep their platform; the deposit sits on the chosen platform.
    was_held = before.platform >= 0
    np.testing.assert_array_equal(pop.platform[was_held], before.platform[was_held])
    for i, j in zip(users, plat, strict=True):
        slot = np.flatnonzero(pop.platform[i] == j)
        assert slot.size == 1
        s = slot[0]
        assert pop.balance[i, s] == pytest.approx(
            before.balance[i, s] + pop_cfg.deposit_share * before.cash[i]
        )
        # A user whose slots were all full could only top up an account they hold.
        if was_held[i].all():
            assert j in before.platform[i]
        # They only invest where their trust reaches their threshold.
        if j in before.platform[i]:
            own = trust[i, np.flatnonzero(before.platform[i] == j)[0]]
        elif before.tip_platform[i] == j:
            own = 0.5 * before.institutional_trust[i] + 0.5 * before.tip_trust[i]
        else:
            own = before.institutional_trust[i]
        assert own >= before.withdraw_threshold[i] - 1e-6
    assert pop.ever_invested[users].all()


def test_no_open_platform_no_deposit(pop_cfg):
    pop, rng, _, reputation, yields = deposit_world(pop_cfg, 5)
    cash = pop.cash.copy()
    users, plat, amounts = choose_and_deposit(
        pop,
        closed_form_trust(pop, 4.0).astype(np.float32),
        np.zeros(N_PLAT, dtype=bool),
        reputation,
        yields,
        pop_cfg,
        0.5,
        rng,
        candidates=np.ones(pop.n, dtype=bool),
    )
    assert users.size == plat.size == amounts.size == 0
    np.testing.assert_array_equal(pop.cash, cash)


def test_choice_frequencies_follow_the_softmax(pop_cfg):
    """Identical newcomers (no accounts, no tips, g above threshold): the chosen platform
    is distributed as exp(base_j / T) over open platforms, base = w_rep rep + w_yield y.
    """
    n = 30_000
    cfg = dataclasses.replace(pop_cfg, n_users=n, choice_temperature=0.4)
    rng = np.random.default_rng(8)
    pop = init_population(cfg, rng)
    pop.institutional_trust[:] = 0.9
    open_mask = np.array([True, True, False, True, True, True])
    reputation = np.array([0.2, 0.5, 0.9, 0.4, 0.8, 0.6])
    yields = np.array([0.06, 0.08, 0.12, 0.10, 0.05, 0.07])
    trust = np.broadcast_to(pop.institutional_trust[:, None], pop.a.shape).copy()
    users, plat, _ = choose_and_deposit(
        pop, trust, open_mask, reputation, yields, cfg, 0.5, rng, candidates=np.ones(n, bool)
    )
    assert users.size == n  # everyone's trust (0.9) clears any threshold (<= 0.5)
    base = cfg.weight_reputation * reputation + cfg.weight_yield * yields
    w = np.where(open_mask, np.exp((base - base.max()) / cfg.choice_temperature), 0.0)
    expected = w / w.sum() * n
    counts = np.bincount(plat, minlength=N_PLAT)
    assert counts[2] == 0
    _, p = stats.chisquare(counts[open_mask], expected[open_mask])
    assert p > 1e-4, (counts, expected)


def test_choice_weighs_own_trust_of_held_accounts(pop_cfg):
    """A user holding platform 0 with trust t0: P(j) ~ exp((base_j + w_trust own_j) / T)."""
    n = 30_000
    cfg = dataclasses.replace(pop_cfg, n_users=n, choice_temperature=0.5)
    rng = np.random.default_rng(9)
    pop = init_population(cfg, rng)
    pop.institutional_trust[:] = 0.6
    pop.platform[:, 0] = 0
    pop.balance[:, 0] = 100.0
    pop.a[:, 0] = 8.0  # trust (8 + 4 * 0.6) / (8 + 4) = 0.8667
    k = 4.0
    trust = closed_form_trust(pop, k).astype(np.float32)
    open_mask = np.ones(4, dtype=bool)
    reputation = np.array([0.5, 0.5, 0.7, 0.3])
    yields = np.array([0.07, 0.08, 0.07, 0.09])
    users, plat, _ = choose_and_deposit(
        pop, trust, open_mask, reputation, yields, cfg, 0.5, rng, candidates=np.ones(n, bool)
    )
    assert users.size == n
    own = np.array([float(trust[0, 0]), 0.6, 0.6, 0.6])
    util = cfg.weight_reputation * reputation + cfg.weight_yield * yields + cfg.weight_trust * own
    w = np.exp((util - util.max()) / cfg.choice_temperature)
    expected = w / w.sum() * n
    counts = np.bincount(plat, minlength=4)
    _, p = stats.chisquare(counts, expected)
    assert p > 1e-4, (counts, expected)
    # Top-ups land in the account already held; new platforms open the first free slot.
    np.testing.assert_array_equal(pop.platform[plat == 0, 1], -1)
    np.testing.assert_array_equal(pop.platform[plat != 0, 1], plat[plat != 0])


def test_full_slots_only_top_up(pop_cfg):
    n = 2000
    cfg = dataclasses.replace(pop_cfg, n_users=n, max_accounts=2)
    rng = np.random.default_rng(10)
    pop = init_population(cfg, rng)
    pop.institutional_trust[:] = 0.9
    pop.platform[:, 0], pop.platform[:, 1] = 1, 3
    pop.balance[:] = 10.0
    trust = closed_form_trust(pop, 4.0).astype(np.float32)
    open_mask = np.ones(5, dtype=bool)
    # Platforms 0, 2, 4 look far better, but the user has no free slot.
    reputation = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    users, plat, _ = choose_and_deposit(
        pop, trust, open_mask, reputation, np.zeros(5), cfg, 0.5, rng, candidates=np.ones(n, bool)
    )
    assert users.size == n
    assert set(np.unique(plat).tolist()) <= {1, 3}
    assert ((pop.platform == 1) | (pop.platform == 3)).all()


def test_below_threshold_no_deposit(pop_cfg):
    n = 2000
    cfg = dataclasses.replace(pop_cfg, n_users=n)
    rng = np.random.default_rng(11)
    pop = init_population(cfg, rng)
    pop.institutional_trust[:] = 0.1  # below every threshold in [0.3, 0.5]
    cash = pop.cash.copy()
    trust = closed_form_trust(pop, 4.0).astype(np.float32)
    users, _, _ = choose_and_deposit(
        pop,
        trust,
        np.ones(N_PLAT, dtype=bool),
        np.full(N_PLAT, 0.5),
        np.full(N_PLAT, 0.08),
        cfg,
        0.5,
        rng,
        candidates=np.ones(n, bool),
    )
    assert users.size == 0
    np.testing.assert_array_equal(pop.cash, cash)
    assert (pop.platform == -1).all()


class ConstantRng:
    """A stand-in generator whose uniforms are all one value in [0, 1)."""

    def __init__(self, value: float):
        self.value = value

    def random(self, size, dtype=np.float64):
        return np.full(size, self.value, dtype=dtype)


@pytest.mark.parametrize("value", [0.0, 1.0 - 2.0**-53])
def test_extreme_uniforms_never_choose_a_closed_platform(pop_cfg, value):
    """``Generator.random`` draws from [0, 1): a uniform of exactly 0 must not pick a
    leading closed platform, nor one just below 1 a trailing closed platform.
    """
    n = 50
    cfg = dataclasses.replace(pop_cfg, n_users=n)
    pop = init_population(cfg, np.random.default_rng(12))
    pop.institutional_trust[:] = 0.9
    open_mask = np.array([False, True, True, False])
    trust = closed_form_trust(pop, 4.0).astype(np.float32)
    users, plat, _ = choose_and_deposit(
        pop,
        trust,
        open_mask,
        np.full(4, 0.5),
        np.full(4, 0.08),
        cfg,
        0.5,
        ConstantRng(value),
        candidates=np.ones(n, bool),
    )
    assert users.size == n
    assert open_mask[plat].all(), plat
