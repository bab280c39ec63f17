"""Tests for sim.rumour: the Maki-Thompson kernel against exact and large-population theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from sim import network as nw
from sim import rumour as rm
from sim.rumour import IGNORANT, SPREADER, STIFLER


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def csr(n: int, edges: list[tuple[int, int]], directed: bool = False) -> sp.csr_array:
    """CSR adjacency from an edge list (both directions unless ``directed``)."""
    u = [a for a, _ in edges] + ([] if directed else [b for _, b in edges])
    v = [b for _, b in edges] + ([] if directed else [a for a, _ in edges])
    adj = sp.csr_array((np.ones(len(u), np.float32), (u, v)), shape=(n, n))
    adj.sort_indices()
    return adj


def complete_graph(n: int) -> sp.csr_array:
    return csr(n, [(a, b) for a in range(n) for b in range(a + 1, n)])


def start_state(n: int, spreaders) -> tuple[np.ndarray, np.ndarray]:
    status = np.zeros(n, np.int8)
    status[spreaders] = SPREADER
    return status, status == SPREADER


def run_network(adj, status, believes, belief, generator, *, contact_prob=1.0, stifle_prob=1.0):
    """Ticks of spread_tick until no spreader is left; returns the number of ticks."""
    ticks = 0
    while np.any(status == SPREADER):
        rm.spread_tick(
            status, believes, adj.indptr, adj.indices, belief, contact_prob, stifle_prob, generator
        )
        ticks += 1
        assert ticks < 100_000
    return ticks


def run_well_mixed(status, believes, belief, generator, *, contact_prob=1.0, stifle_prob=1.0):
    """Ticks of spread_tick_well_mixed until no spreader is left; returns the ticks."""
    ticks = 0
    while np.any(status == SPREADER):
        rm.spread_tick_well_mixed(status, believes, belief, contact_prob, stifle_prob, generator)
        ticks += 1
        assert ticks < 100_000
    return ticks


def exact_moments(p: np.ndarray) -> tuple[float, float]:
    k = np.arange(p.size)
    mean = float(k @ p)
    return mean, float((k - mean) ** 2 @ p)


def assert_matches_exact(finals: np.ndarray, exact: np.ndarray, chi_square: bool) -> None:
    """Mean within 4 standard errors, no impossible outcome, and optionally a pooled chi2."""
    runs = finals.size
    mean, var = exact_moments(exact)
    se = math.sqrt(var / runs)
    assert abs(finals.mean() - mean) < 4 * se, (finals.mean(), mean, se)
    counts = np.bincount(finals, minlength=exact.size)
    assert counts.size == exact.size
    assert np.all(counts[exact == 0] == 0), "an outcome of probability 0 occurred"
    if not chi_square:
        return
    # Pool neighbouring bins until each expects at least 5 runs; a short tail joins the last.
    observed, expected = [], []
    obs_acc = exp_acc = 0.0
    for obs, prob in zip(counts, exact * runs, strict=True):
        obs_acc += obs
        exp_acc += prob
        if exp_acc >= 5:
            observed.append(obs_acc)
            expected.append(exp_acc)
            obs_acc = exp_acc = 0.0
    observed[-1] += obs_acc
    expected[-1] += exp_acc
    assert len(observed) >= 3
    pvalue = stats.chisquare(observed, expected).pvalue
    assert pvalue > 1e-3, (observed, expected)


# --------------------------------------------------------------------------------------------
# Theory: the exact DP and the large-population root
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5, 0.1])
@pytest.mark.parametrize(("n", "n_spreaders"), [(2, 1), (5, 1), (30, 3), (200, 1), (7, 7)])
def test_dp_is_a_distribution(n: int, n_spreaders: int, stifle_prob: float) -> None:
    p = rm.exact_final_ignorant_distribution(n, n_spreaders, stifle_prob)
    assert p.shape == (n + 1,)
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # At most n - n_spreaders ignorants, and never all of them: the first action always
    # reaches an ignorant when every other user is one.
    most = n - n_spreaders - (n_spreaders == 1)
    assert np.all(p[most + 1 :] == 0)


def test_dp_without_spreaders_keeps_everyone_ignorant() -> None:
    p = rm.exact_final_ignorant_distribution(4, 0)
    np.testing.assert_array_equal(p, [0, 0, 0, 0, 1])


@pytest.mark.parametrize("stifle_prob", [1.0, 0.3])
def test_dp_two_users(stifle_prob: float) -> None:
    # The spreader can only meet the other user, an ignorant, who then hears it.
    np.testing.assert_array_equal(
        rm.exact_final_ignorant_distribution(2, 1, stifle_prob), [1, 0, 0]
    )


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5, 0.2])
def test_dp_three_users_by_hand(stifle_prob: float) -> None:
    # (2, 1) -> (1, 2) surely. From i = 1 an event spreads with probability 1 / (1 + p) (one
    # ignorant, one non-ignorant besides the actor) and ends at 0 ignorants; one ignorant is
    # left only if two stiflings, (1, 2) -> (1, 1) -> (1, 0), come first.
    p = stifle_prob
    left = (p / (1 + p)) ** 2
    np.testing.assert_allclose(
        rm.exact_final_ignorant_distribution(3, 1, p), [1 - left, left, 0, 0], atol=1e-15
    )


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5])
def test_dp_large_n_approaches_theta(stifle_prob: float) -> None:
    n = 5000
    mean, _ = exact_moments(rm.exact_final_ignorant_distribution(n, 1, stifle_prob))
    assert mean / n == pytest.approx(rm.final_ignorant_share(stifle_prob), abs=2e-3)


def test_final_ignorant_share() -> None:
    assert rm.final_ignorant_share() == pytest.approx(0.2032, abs=1e-4)
    shares = [rm.final_ignorant_share(p) for p in (0.1, 0.3, 0.5, 0.8, 1.0)]
    assert np.all(np.diff(shares) > 0)  # stifling more easily leaves more ignorants
    for p, theta in zip((0.1, 0.3, 0.5, 0.8, 1.0), shares, strict=True):
        assert 0 < theta < 1
        assert theta == pytest.approx(math.exp(-(1 + 1 / p) * (1 - theta)), rel=1e-12)
    with pytest.raises(ValueError, match="stifle_prob"):
        rm.final_ignorant_share(0.0)


# --------------------------------------------------------------------------------------------
# The well-mixed kernel against theory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5])
@pytest.mark.parametrize(("n", "runs"), [(5, 4000), (10, 4000), (30, 2000)])
def test_well_mixed_matches_exact_small_population(n: int, runs: int, stifle_prob: float) -> None:
    generator = rng(n + int(10 * stifle_prob))
    finals = np.array(
        [rm.well_mixed(n - 1, 1, generator, stifle_prob=stifle_prob).ignorant for _ in range(runs)]
    )
    exact = rm.exact_final_ignorant_distribution(n, 1, stifle_prob)
    assert_matches_exact(finals, exact, chi_square=n <= 10)


def test_well_mixed_matches_exact_with_contact_prob_and_several_spreaders() -> None:
    # contact_prob < 1 only slows the chain down; it does not change where it ends.
    generator = rng(7)
    finals = np.array(
        [
            rm.well_mixed(8, 2, generator, contact_prob=0.4, stifle_prob=0.7).ignorant
            for _ in range(3000)
        ]
    )
    assert_matches_exact(finals, rm.exact_final_ignorant_distribution(10, 2, 0.7), chi_square=True)


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5])
def test_well_mixed_large_population_matches_theta(stifle_prob: float) -> None:
    # Finite-size bias is O(log n / n), far below the tolerance at n = 50,000.
    generator = rng(int(100 * stifle_prob))
    shares = np.array(
        [
            rm.well_mixed(50_000, 1, generator, stifle_prob=stifle_prob).ignorant_share
            for _ in range(10)
        ]
    )
    took_off = shares[shares < 0.9]
    assert took_off.size >= 8
    assert took_off.mean() == pytest.approx(rm.final_ignorant_share(stifle_prob), abs=0.01)


def test_outcome_fields() -> None:
    out = rm.well_mixed(999, 1, rng(3))
    assert out.population == 1000
    assert out.ignorant + out.stiflers == out.population  # nobody is left spreading
    assert out.ignorant_share == out.ignorant / 1000
    assert 1 < out.peak_spreaders < 1000 - out.ignorant
    assert out.ticks > 0
    none = rm.well_mixed(10, 0, rng(3))
    assert (none.ignorant, none.peak_spreaders, none.stiflers, none.ticks) == (10, 0, 0, 0)


def test_well_mixed_is_deterministic() -> None:
    a = [rm.well_mixed(3000, 2, rng(11), stifle_prob=0.6, belief=0.8) for _ in range(2)]
    assert a[0] == a[1]
    b = rm.well_mixed(3000, 2, rng(12), stifle_prob=0.6, belief=0.8)
    assert b != a[0]


# --------------------------------------------------------------------------------------------
# Guards against the usual slips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5])
def test_spreader_never_contacts_itself(stifle_prob: float) -> None:
    # With n = 2 the only other user is the ignorant; a self-contact would stifle the
    # spreader before it told anyone with positive probability.
    generator = rng(1)
    finals = [rm.well_mixed(1, 1, generator, stifle_prob=stifle_prob).ignorant for _ in range(300)]
    assert finals == [0] * 300
    # And in a larger population the first tick's only spreader always reaches somebody.
    for seed in range(50):
        status, believes = start_state(20, [seed % 20])
        heard = rm.spread_tick_well_mixed(
            status, believes, np.ones(20, np.float32), 1, 1, rng(seed)
        )
        assert heard == 1


def test_spreader_meeting_stifles_only_the_initiator() -> None:
    # Directed CSR: 0 can contact 1, 1 contacts nobody. 0 meets spreader 1 and stops; 1
    # stays a spreader (Daley-Kendall would stifle both).
    adj = csr(2, [(0, 1)], directed=True)
    for seed in range(20):
        status, believes = start_state(2, [0, 1])
        heard = rm.spread_tick(
            status, believes, adj.indptr, adj.indices, np.ones(2, np.float32), 1.0, 1.0, rng(seed)
        )
        assert heard == 0
        np.testing.assert_array_equal(status, [STIFLER, SPREADER])


def test_spreader_pair_stifler_count_is_binomial() -> None:
    # Two linked spreaders each act once per tick and each stops with probability p, so the
    # stiflers after one tick are Binomial(2, p). Stifling both parties of a meeting would
    # never leave exactly one stifler.
    p, runs = 0.5, 2000
    adj = csr(2, [(0, 1)])
    generator = rng(5)
    counts = np.zeros(3, int)
    for _ in range(runs):
        status, believes = start_state(2, [0, 1])
        rm.spread_tick(
            status, believes, adj.indptr, adj.indices, np.ones(2, np.float32), 1.0, p, generator
        )
        counts[np.count_nonzero(status == STIFLER)] += 1
    assert stats.chisquare(counts, runs * stats.binom.pmf(range(3), 2, p)).pvalue > 1e-3
    # With p = 1 the second to act meets a stifler, so both have stopped after the tick.
    status, believes = start_state(2, [0, 1])
    rm.spread_tick(status, believes, adj.indptr, adj.indices, np.ones(2, np.float32), 1, 1, rng())
    np.testing.assert_array_equal(status, [STIFLER, STIFLER])


def test_contacted_ignorant_becomes_spreader() -> None:
    adj = csr(2, [(0, 1)])
    status, believes = start_state(2, [0])
    heard = rm.spread_tick(
        status, believes, adj.indptr, adj.indices, np.ones(2, np.float32), 1.0, 1.0, rng()
    )
    assert heard == 1
    np.testing.assert_array_equal(status, [SPREADER, SPREADER])
    np.testing.assert_array_equal(believes, [True, True])


def test_new_spreaders_act_from_the_next_tick() -> None:
    adj = csr(3, [(0, 1), (1, 2)])
    belief = np.ones(3, np.float32)
    for seed in range(20):
        status, believes = start_state(3, [0])
        generator = rng(seed)
        assert rm.spread_tick(status, believes, adj.indptr, adj.indices, belief, 1, 1, generator)
        np.testing.assert_array_equal(status, [SPREADER, SPREADER, IGNORANT])
    # Well mixed: one spreader among ignorants tells exactly one user in the first tick.
    for seed in range(20):
        status, believes = start_state(1000, [0])
        heard = rm.spread_tick_well_mixed(
            status, believes, np.ones(1000, np.float32), 1, 1, rng(seed)
        )
        assert heard == 1
        assert np.count_nonzero(status == SPREADER) == 2


def test_isolated_spreader_contacts_nobody() -> None:
    adj = csr(3, [(1, 2)])
    status, believes = start_state(3, [0])
    heard = rm.spread_tick(
        status, believes, adj.indptr, adj.indices, np.ones(3, np.float32), 1.0, 1.0, rng()
    )
    assert heard == 0
    np.testing.assert_array_equal(status, [SPREADER, IGNORANT, IGNORANT])


def test_no_spreaders_is_a_no_op() -> None:
    adj = complete_graph(5)
    status = np.array([0, 2, 0, 2, 0], np.int8)
    believes = np.zeros(5, bool)
    generator = rng(4)
    before = generator.bit_generator.state
    assert (
        rm.spread_tick(
            status, believes, adj.indptr, adj.indices, np.ones(5, np.float32), 1, 1, generator
        )
        == 0
    )
    assert rm.spread_tick_well_mixed(status, believes, np.ones(5, np.float32), 1, 1, generator) == 0
    np.testing.assert_array_equal(status, [0, 2, 0, 2, 0])
    assert generator.bit_generator.state == before


# --------------------------------------------------------------------------------------------
# Belief
# --------------------------------------------------------------------------------------------


def test_belief_zero_only_the_seed_spreads() -> None:
    n = 200
    for seed in range(10):
        status, believes = start_state(n, [seed])
        run_well_mixed(status, believes, np.zeros(n, np.float32), rng(seed), stifle_prob=0.3)
        heard = np.flatnonzero(status != IGNORANT)
        assert heard.size > 1
        assert set(np.unique(status)) <= {IGNORANT, STIFLER}
        np.testing.assert_array_equal(np.flatnonzero(believes), [seed])
        out = rm.well_mixed(n - 1, 1, rng(seed), stifle_prob=0.3, belief=0.0)
        assert out.peak_spreaders == 1


def test_reach_falls_with_belief() -> None:
    n, seeds = 2000, 20
    low = np.full(n, 0.4, np.float32)
    some_low = np.ones(n, np.float32)
    some_low[: n // 2] = 0.4
    reach = []
    for belief in (np.ones(n, np.float32), some_low, low):
        heard = []
        for seed in range(seeds):
            status, believes = start_state(n, [n - 1])
            run_well_mixed(status, believes, belief, rng(seed), stifle_prob=0.5)
            assert not np.any(believes & (status == IGNORANT))
            heard.append(np.count_nonzero(status != IGNORANT) / n)
        reach.append(np.mean(heard))
    assert reach[0] > reach[1] + 0.05 > reach[2] + 0.1, reach


# --------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stifle_prob", [1.0, 0.5])
def test_complete_graph_matches_well_mixed_theory(stifle_prob: float) -> None:
    n, runs = 10, 2000
    adj = complete_graph(n)
    belief = np.ones(n, np.float32)
    generator = rng(21)
    finals = np.empty(runs, int)
    for r in range(runs):
        status, believes = start_state(n, [r % n])
        run_network(adj, status, believes, belief, generator, stifle_prob=stifle_prob)
        finals[r] = np.count_nonzero(status == IGNORANT)
    exact = rm.exact_final_ignorant_distribution(n, 1, stifle_prob)
    assert_matches_exact(finals, exact, chi_square=True)


def test_watts_strogatz_run() -> None:
    n = 20_000
    adj = nw.watts_strogatz(n, 10, 0.1, rng(0))
    belief = rng(1).uniform(0.5, 1.0, n).astype(np.float32)
    results = []
    for _ in range(2):
        status, believes = start_state(n, [0])
        ticks = run_network(adj, status, believes, belief, rng(2), stifle_prob=1.0)
        results.append((status, believes, ticks))
    (status, believes, ticks), (status2, believes2, ticks2) = results
    np.testing.assert_array_equal(status, status2)
    np.testing.assert_array_equal(believes, believes2)
    assert ticks == ticks2
    assert not np.any(believes & (status == IGNORANT))
    assert np.all(np.isin(status, [IGNORANT, STIFLER]))
    # Clustering wastes contacts on users who already know, so the rumour reaches fewer
    # people than in a well-mixed population (where 1 - theta ~ 0.80 hear it).
    ignorant = np.mean(status == IGNORANT)
    assert rm.final_ignorant_share(1.0) + 0.05 < ignorant < 0.9


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def test_validation() -> None:
    adj = complete_graph(3)
    belief = np.ones(3, np.float32)
    status, believes = start_state(3, [0])
    with pytest.raises(TypeError, match="int8"):
        rm.spread_tick(status.astype(int), believes, adj.indptr, adj.indices, belief, 1, 1, rng())
    with pytest.raises(TypeError, match="bool"):
        rm.spread_tick_well_mixed(status, believes.astype(int), belief, 1, 1, rng())
    with pytest.raises(ValueError, match="shape"):
        rm.spread_tick_well_mixed(status, believes, belief[:2], 1, 1, rng())
    with pytest.raises(ValueError, match="indptr"):
        rm.spread_tick(status, believes, adj.indptr[:-1], adj.indices, belief, 1, 1, rng())
    with pytest.raises(ValueError, match="stifle_prob"):
        rm.spread_tick_well_mixed(status, believes, belief, 1, 1.5, rng())
    with pytest.raises(ValueError, match="never stop"):
        rm.well_mixed(0, 1, rng())
    with pytest.raises(ValueError, match="never stop"):
        rm.well_mixed(5, 1, rng(), contact_prob=0.0)
    with pytest.raises(RuntimeError, match="max_ticks"):
        rm.well_mixed(1000, 1, rng(), max_ticks=2)
    with pytest.raises(ValueError, match="lone spreader"):
        rm.exact_final_ignorant_distribution(1, 1)
