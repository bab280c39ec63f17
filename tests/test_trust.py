"""Beta-reputation trust (sim.trust) against its closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.trust import beta_trust, nudge, steady_state, update_evidence

unit = st.floats(0.0, 1.0, allow_nan=False)
nonneg = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)
weight = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)


def iterate(a0, b0, good, bad, lam, w_plus, w_minus, ticks, lam_bad=None):
    """Run ``update_evidence`` ``ticks`` times on float64 copies; return the trajectory."""
    lam_bad = lam if lam_bad is None else lam_bad
    a = np.array([a0], dtype=np.float64)
    b = np.array([b0], dtype=np.float64)
    good_arr, bad_arr = np.array([good]), np.array([bad])
    traj = []
    for _ in range(ticks):
        update_evidence(a, b, good_arr, bad_arr, lam, lam_bad, w_plus, w_minus)
        traj.append((a[0], b[0]))
    return np.array(traj)


def closed_trust(a, b, g, k):
    return (a + k * g) / (a + b + k)


# --- beta_trust ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    ab=hnp.arrays(np.float64, (2, 7), elements=nonneg),
    g=hnp.arrays(np.float64, 7, elements=unit),
    k=weight,
)
def test_beta_trust_matches_formula(ab, g, k):
    a, b = ab
    expected = [(a[i] + k * g[i]) / (a[i] + b[i] + k) for i in range(a.size)]
    np.testing.assert_allclose(beta_trust(a, b, g, k), expected, rtol=1e-12)
    # Inputs are not modified.
    np.testing.assert_array_equal(ab, np.vstack([a, b]))


def test_beta_trust_broadcasts_prior_per_row_and_writes_out():
    a = np.array([[0.0, 2.0], [1.0, 0.0]])
    b = np.array([[0.0, 1.0], [3.0, 0.0]])
    g = np.array([0.2, 0.9])
    k = 2.0
    expected = np.array(
        [
            [(0 + 2 * 0.2) / 2, (2 + 2 * 0.2) / (3 + 2)],
            [(1 + 2 * 0.9) / (4 + 2), (0 + 2 * 0.9) / 2],
        ]
    )
    np.testing.assert_allclose(beta_trust(a, b, g[:, None], k), expected, rtol=1e-14)
    out = np.empty_like(a)
    res = beta_trust(a, b, g[:, None], k, out=out)
    assert res is out
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    # No evidence: trust is the prior g.
    zero = np.zeros(2)
    np.testing.assert_allclose(beta_trust(zero, zero, g, k), g)


@settings(max_examples=300, deadline=None)
@given(
    ab=hnp.arrays(np.float64, (2, 5), elements=nonneg),
    g=hnp.arrays(np.float64, 5, elements=unit),
    k=weight,
)
def test_beta_trust_in_unit_interval(ab, g, k):
    t = beta_trust(ab[0], ab[1], g, k)
    assert np.all(t >= 0.0)
    assert np.all(t <= 1.0)


@settings(max_examples=200, deadline=None)
@given(
    ab=hnp.arrays(np.float32, (2, 5), elements=st.floats(0.0, 1e4, width=32)),
    g=hnp.arrays(np.float32, 5, elements=st.floats(0.0, 1.0, width=32)),
    k=st.floats(0.125, 128.0, width=32),
)
def test_beta_trust_in_unit_interval_float32(ab, g, k):
    """The model stores evidence in float32; rounding must not leave [0, 1]."""
    t = beta_trust(ab[0], ab[1], g, np.float32(k))
    assert np.all((t >= 0.0) & (t <= 1.0))


# --- update_evidence: steady state, evidence ratio, asymmetry, forgetting -------------------


@pytest.mark.parametrize(
    ("good", "bad", "g", "k", "lam", "w_plus", "w_minus"),
    [
        (1.0, 0.0, 0.5, 4.0, 0.9, 1.0, 2.5),
        (0.3, 0.7, 0.2, 2.0, 0.8, 1.0, 1.0),
        (0.25, 0.05, 0.55, 4.0, 0.97, 1.0, 2.5),
        (0.0, 0.0, 0.7, 4.0, 0.95, 1.0, 2.5),
        (2.0, 1.0, 0.0, 1.0, 0.5, 0.5, 3.0),
    ],
)
def test_constant_evidence_converges_to_steady_state(good, bad, g, k, lam, w_plus, w_minus):
    a0, b0 = 7.0, 3.0
    ticks = int(np.ceil(np.log(1e-13) / np.log(lam)))
    traj = iterate(a0, b0, good, bad, lam, w_plus, w_minus, ticks)
    a_star = w_plus * good / (1.0 - lam)
    b_star = w_minus * bad / (1.0 - lam)
    # The whole trajectory is the closed form a_t = lam^t a0 + a* (1 - lam^t).
    t = np.arange(1, ticks + 1)
    np.testing.assert_allclose(traj[:, 0], lam**t * a0 + a_star * (1 - lam**t), rtol=1e-10)
    np.testing.assert_allclose(traj[:, 1], lam**t * b0 + b_star * (1 - lam**t), rtol=1e-10)
    expected = steady_state(good, bad, g, k, lam, lam, w_plus, w_minus)
    assert expected == pytest.approx(closed_trust(a_star, b_star, g, k), rel=1e-12)
    got = beta_trust(traj[-1:, 0], traj[-1:, 1], g, k)[0]
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("good", "bad"), [(0.8, 0.2), (0.1, 0.9), (3.0, 1.0), (0.5, 0.5)])
@pytest.mark.parametrize("g", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("w", [1.0, 2.0])
def test_no_forgetting_tends_to_evidence_ratio(good, bad, g, w):
    k = 4.0
    ratio = good / (good + bad)
    n_ticks = 2000
    traj = iterate(0.0, 0.0, good, bad, 1.0, w, w, n_ticks)
    trust = beta_trust(traj[:, 0], traj[:, 1], g, k)
    n = np.arange(1, n_ticks + 1)
    # Exact: a_n = w n good, b_n = w n bad.
    np.testing.assert_allclose(traj[:, 0], w * n * good, rtol=1e-12)
    np.testing.assert_allclose(traj[:, 1], w * n * bad, rtol=1e-12)
    # |t_n - ratio| = k |g - ratio| / (w n (good + bad) + k) <= k / (n (good + bad) + k).
    err = np.abs(trust - ratio)
    bound = k / (w * n * (good + bad) + k)
    assert np.all(err <= bound + 1e-12)
    assert np.all(err <= k / (n * (good + bad) + k) + 1e-12)
    np.testing.assert_allclose(err, k * abs(g - ratio) / (w * n * (good + bad) + k), atol=1e-12)
    assert err[-1] < 0.01


@pytest.mark.parametrize("lam", [1.0, 0.97, 0.8])
@pytest.mark.parametrize("a0", [0.0, 3.0])
def test_asymmetry_bad_evidence_moves_trust_further(lam, a0):
    """From the symmetric point (a = b, g = 1/2) bad evidence pulls further than good."""
    k, g, w_plus, w_minus, n_ticks = 4.0, 0.5, 1.0, 2.5, 40
    up = iterate(a0, a0, 1.0, 0.0, lam, w_plus, w_minus, n_ticks)
    down = iterate(a0, a0, 0.0, 1.0, lam, w_plus, w_minus, n_ticks)
    t_up = beta_trust(up[:, 0], up[:, 1], g, k)
    t_down = beta_trust(down[:, 0], down[:, 1], g, k)
    # Closed-form trajectories: S_n = sum_{i<n} lam^i, c = lam^n a0.
    n = np.arange(1, n_ticks + 1)
    s = n.astype(float) if lam == 1.0 else (1 - lam**n) / (1 - lam)
    c = lam**n * a0
    np.testing.assert_allclose(t_up, (c + w_plus * s + k * g) / (2 * c + w_plus * s + k), 1e-12)
    np.testing.assert_allclose(t_down, (c + k * g) / (2 * c + w_minus * s + k), rtol=1e-12)
    rise, drop = t_up - 0.5, 0.5 - t_down
    assert np.all(rise > 0)
    assert np.all(drop > rise)


@pytest.mark.parametrize(
    ("good", "bad", "lam", "lam_bad"), [(0.3, 0.05, 0.97, 0.995), (1.0, 0.4, 0.9, 0.99)]
)
def test_steady_state_with_two_forgetting_rates(good, bad, lam, lam_bad):
    """a* = w+ good / (1 - lam+), b* = w- bad / (1 - lam-), whatever the start."""
    g, k, wp, wm = 0.5, 4.0, 1.0, 2.5
    ticks = int(np.ceil(np.log(1e-13) / np.log(max(lam, lam_bad))))
    traj = iterate(9.0, 0.5, good, bad, lam, wp, wm, ticks, lam_bad=lam_bad)
    a_star, b_star = wp * good / (1 - lam), wm * bad / (1 - lam_bad)
    t = np.arange(1, ticks + 1)
    np.testing.assert_allclose(traj[:, 1], lam_bad**t * 0.5 + b_star * (1 - lam_bad**t), 1e-10)
    expected = steady_state(good, bad, g, k, lam, lam_bad, wp, wm)
    assert expected == pytest.approx(closed_trust(a_star, b_star, g, k), rel=1e-12)
    assert beta_trust(traj[-1:, 0], traj[-1:, 1], g, k)[0] == pytest.approx(expected, abs=1e-9)


def test_trust_falls_fast_and_recovers_slowly():
    """A burst of bad news after a calm record: a fall in a few ticks, a slow recovery.

    With calm good evidence at its steady state ``A``, the burst leaves ``b_peak`` bad
    evidence that then decays as ``lam-**tau``; trust is back halfway once ``b`` is down to
    ``b_half``, so the recovery takes ``ln(b_half / b_peak) / ln(lam-)`` ticks: about six
    times longer with ``lam- = 0.995`` than with ``lam- = lam+ = 0.97``.
    """
    g, k, wp, wm, calm, lam = 0.5, 4.0, 1.0, 2.5, 0.2, 0.97
    big_a = calm / (1 - lam)
    recovery = {}
    for lam_bad in (0.995, 0.97):
        a, b = np.array([big_a]), np.array([0.0])
        path = []
        for tick in range(600):
            bad = np.array([1.0 if 10 <= tick < 14 else 0.0])
            update_evidence(a, b, np.array([calm]), bad, lam, lam_bad, wp, wm)
            path.append(beta_trust(a, b, g, k)[0])
        t = np.array(path)
        before, low = t[9], t[13]
        assert before - low > 0.3 and np.argmin(t) == 13  # fell within the burst
        b_peak = wm * sum(lam_bad**i for i in range(4))
        half = (before + low) / 2
        b_half = (big_a + k * g) / half - big_a - k
        expected = np.log(b_half / b_peak) / np.log(lam_bad)
        got = int(np.flatnonzero(t[14:] >= half)[0]) + 1
        assert abs(got - expected) <= 1.5, (lam_bad, got, expected)
        recovery[lam_bad] = got
    assert recovery[0.995] > 5 * recovery[0.97]
    assert recovery[0.97] > 4 * 4  # even then: recovering takes longer than the 4-tick fall


def test_symmetric_weights_move_trust_equally():
    """Control for the asymmetry test: with w_minus == w_plus rise and drop are equal."""
    k, g = 4.0, 0.5
    up = iterate(1.0, 1.0, 1.0, 0.0, 0.9, 1.5, 1.5, 30)
    down = iterate(1.0, 1.0, 0.0, 1.0, 0.9, 1.5, 1.5, 30)
    rise = beta_trust(up[:, 0], up[:, 1], g, k) - 0.5
    drop = 0.5 - beta_trust(down[:, 0], down[:, 1], g, k)
    np.testing.assert_allclose(rise, drop, rtol=1e-12)


@pytest.mark.parametrize("lam", [0.97, 0.8, 0.5])
def test_forgetting_without_evidence_is_geometric(lam):
    a0 = np.array([5.0, 0.0, 12.0, 1.0])
    b0 = np.array([1.0, 8.0, 12.0, 0.0])
    g = np.array([0.3, 0.6, 0.9, 0.1])
    k = 4.0
    a, b = a0.copy(), b0.copy()
    zero = np.zeros_like(a)
    prev_gap = np.abs(beta_trust(a, b, g, k) - g)
    for t in range(1, 201):
        update_evidence(a, b, zero, zero, lam, lam, 1.0, 2.5)
        np.testing.assert_allclose(a, a0 * lam**t, rtol=1e-12)
        np.testing.assert_allclose(b, b0 * lam**t, rtol=1e-12)
        trust = beta_trust(a, b, g, k)
        gap = np.abs(trust - g)
        expected_gap = np.abs(lam**t * (a0 - g * (a0 + b0))) / (lam**t * (a0 + b0) + k)
        np.testing.assert_allclose(gap, expected_gap, rtol=1e-9, atol=1e-15)
        assert np.all(gap <= prev_gap + 1e-15)
        prev_gap = gap
    # The prior takes over: after 200 ticks at most lam^200 * max(a0, b0) / k of the gap is left.
    assert np.all(prev_gap <= lam**200 * np.maximum(a0, b0) / k + 1e-15)


def test_update_evidence_is_in_place_and_elementwise():
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b = np.array([0.5, 0.0, 4.0], dtype=np.float32)
    good = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    bad = np.array([0.0, 2.0, 0.5], dtype=np.float32)
    a_id, b_id = id(a), id(b)
    update_evidence(
        a, b, good, bad, np.float32(0.9), np.float32(0.95), np.float32(1.0), np.float32(2.5)
    )
    assert id(a) == a_id and id(b) == b_id
    assert a.dtype == np.float32 and b.dtype == np.float32
    np.testing.assert_allclose(a, [0.9 + 1.0, 1.8, 2.7 + 0.5], rtol=1e-6)
    np.testing.assert_allclose(b, [0.475, 5.0, 3.8 + 1.25], rtol=1e-6)


# --- nudge ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    x=hnp.arrays(np.float64, 6, elements=unit),
    up=hnp.arrays(np.float64, 6, elements=unit),
    split=hnp.arrays(np.float64, 6, elements=unit),
)
def test_nudge_closed_form_and_bounds(x, up, split):
    down = (1.0 - up) * split  # up + down <= 1
    expected = x + up * (1.0 - x) - down * x
    y = x.copy()
    nudge(y, up, down)
    np.testing.assert_allclose(y, expected, atol=1e-15)
    assert np.all((y >= 0.0) & (y <= 1.0))


@settings(max_examples=200, deadline=None)
@given(
    x=hnp.arrays(np.float32, 6, elements=st.floats(0.0, 1.0, width=32)),
    up=st.floats(0.0, 1.0),
    down=st.floats(0.0, 1.0),
)
def test_nudge_stays_in_unit_interval_for_any_shares(x, up, down):
    y = x.copy()
    nudge(y, up, down)
    assert y.dtype == np.float32
    assert np.all((y >= 0.0) & (y <= 1.0))


def test_nudge_directions():
    x = np.array([0.2, 0.5, 0.8])
    up_only = x.copy()
    nudge(up_only, 0.5, 0.0)
    np.testing.assert_allclose(up_only, [0.6, 0.75, 0.9])
    down_only = x.copy()
    nudge(down_only, 0.0, 0.5)
    np.testing.assert_allclose(down_only, [0.1, 0.25, 0.4])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_evidence_pass_is_the_documented_evidence_then_update_evidence(seed):
    """sim.accounts.evidence = its docstring's evidence, learned by update_evidence, and
    step 8's outcomes: satisfaction, the dissatisfied with their worst platform, and the
    same tally as ``account_summary`` run afterwards."""
    from sim import accounts
    from sim.accounts import SQRT12

    rng = np.random.default_rng(seed)
    n, k, n_plat = 400, 3, 7
    f32 = np.float32
    platform = np.where(rng.random((n, k)) < 0.7, rng.integers(0, n_plat, (n, k)), -1)
    platform = platform.astype(np.int32)
    uniforms, literacy, g = (rng.random(n, dtype=f32) for _ in range(3))
    good_base, bad_base, weight, signal, news = (rng.random(n_plat, dtype=f32) for _ in range(5))
    reached = rng.random(n) < 0.5
    failed = rng.random((n, k)) < 0.2
    # Empty slots hold no evidence (closing an account clears it).
    a, b = (rng.random((n, k), dtype=f32) * 5 * (platform >= 0) for _ in range(2))
    noise, own, fail_ev = f32(0.3), f32(0.8), f32(2.0)
    lam, lam_bad, wp, wm = f32(0.97), f32(0.995), f32(1.0), f32(2.5)
    # The evidence as documented, in numpy.
    held = platform >= 0
    p = np.where(held, platform, 0)
    reading = (uniforms - 0.5) * SQRT12 * noise * (1.0 - literacy)
    s = np.clip(signal[p] + reading[:, None], 0.0, 1.0)
    good = good_base[p] + weight[p] * s
    bad = bad_base[p] + weight[p] * (1.0 - s) + (reached * g)[:, None] * news[p]
    good = np.where(failed, np.maximum(good - own, 0.0), good)
    bad = np.where(failed, bad + fail_ev, bad)
    good, bad = np.where(held, good, 0.0), np.where(held, bad, 0.0)
    expected_a, expected_b = a.astype(np.float64), b.astype(np.float64)
    update_evidence(expected_a, expected_b, good, bad, lam, lam_bad, wp, wm)
    # Step 8's outcomes, done in the same pass, also in numpy.
    balance = rng.random((n, k)) * 100.0 * held
    user_loss = np.where(rng.random(n) < 0.1, 5.0, 0.0)
    value = rng.random(n_plat)
    satisfaction = rng.random(n, dtype=f32)
    smoothing, threshold = f32(0.3), f32(0.5)
    out = np.where(failed, 0.0, value[p])
    held_money = np.where(held, balance + failed, 0.0)
    total = held_money.sum(axis=1)
    moved = (total > 0) | (user_loss > 0)
    outcome = np.where(
        user_loss > 0,
        0.0,
        np.divide((held_money * out).sum(axis=1), total, out=np.zeros(n), where=total > 0),
    )
    expected_sat = np.where(
        moved, satisfaction + smoothing * (outcome - satisfaction), satisfaction
    )
    worst = np.where(held, out, np.inf).argmin(axis=1)
    unhappy = np.flatnonzero(moved & (outcome < threshold) & held.any(axis=1))
    ever_invested = rng.random(n) < 0.8
    prior = f32(2.0)
    users, platforms, summary = accounts.evidence(
        platform, uniforms, literacy, noise, good_base, bad_base, weight, signal, news,
        reached, g, failed, own, fail_ev, a, b, lam, lam_bad, wp, wm,
        balance, user_loss, value, smoothing, threshold, satisfaction, prior, 50,
        ever_invested,
    )  # fmt: skip
    after = accounts.account_summary(
        platform, a, b, balance, g, prior, 50, n_plat, satisfaction, ever_invested
    )
    for fused, separate in zip(summary, after, strict=True):
        np.testing.assert_array_equal(fused, separate)
    np.testing.assert_allclose(a, expected_a, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b, expected_b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(satisfaction, expected_sat, atol=1e-5)
    np.testing.assert_array_equal(users, unhappy)
    np.testing.assert_array_equal(platforms, platform[unhappy, worst[unhappy]])


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shock=st.floats(0.0, 1.0),
    calm=st.sampled_from([0.0, 0.002, 0.3]),
    own=st.floats(0.0, 2.0),
    reassurance=st.floats(0.0, 0.5),
    alarm=st.floats(0.0, 0.5),
)
def test_system_trust_pass_is_nudge_with_the_documented_shares(
    seed, shock, calm, own, reassurance, alarm
):
    """sim.accounts.move_system_trust is ``nudge`` with U and D built as documented.

    Two jurisdictions: the second's shares are the first's halved, and each user reads
    their own jurisdiction's.
    """
    from sim import accounts

    rng = np.random.default_rng(seed)
    n = 300
    g = rng.random(n, dtype=np.float32)
    propensity = rng.random(n, dtype=np.float32)
    balance = rng.random((n, 3)) * (rng.random((n, 3)) < 0.6)
    user_loss = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    reached = rng.random(n) < 0.4
    home = (rng.random(n) < 0.5).astype(np.int16)
    per = {name: np.array([v, v / 2]) for name, v in
           dict(shock=shock, calm=calm, reassurance=reassurance, alarm=alarm).items()}  # fmt: skip
    # The shares, built independently with numpy.
    lost = user_loss > 0
    at_stake = user_loss + balance.sum(axis=1)
    scar = own * np.divide(user_loss, at_stake, out=np.zeros(n), where=lost)
    mine = {name: values[home] for name, values in per.items()}
    down = np.clip(mine["shock"] + scar + mine["alarm"] * reached, 0.0, 1.0)
    up = np.where(lost, 0.0, mine["calm"]) + mine["reassurance"] * reached
    up = np.clip(up, 0.0, 1.0) * (1.0 - down)
    expected = g.astype(np.float64)
    nudge(expected, up, down)
    expected_propensity = propensity * (1.0 - np.minimum(scar, 1.0))
    accounts.move_system_trust(
        g, propensity, user_loss, balance, reached, home, per["shock"], per["calm"], own,
        per["reassurance"], per["alarm"],
    )  # fmt: skip
    np.testing.assert_allclose(g, expected, atol=1e-6)
    np.testing.assert_allclose(propensity, expected_propensity, atol=1e-6)
    assert np.all((g >= 0.0) & (g <= 1.0))
