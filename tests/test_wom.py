"""Word of mouth (sim.wom): DeGroot averaging against its consensus, and the net score."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from sim.network import erdos_renyi, row_normalised, watts_strogatz
from sim.wom import degroot_consensus, degroot_step, friedkin_johnsen_step, net_promoter


def connected_graph(kind: str, n: int, seed: int) -> sp.csr_array:
    rng = np.random.default_rng(seed)
    ws = kind == "watts_strogatz"
    adj = watts_strogatz(n, 8, 0.3, rng) if ws else erdos_renyi(n, 8, rng)
    n_comp, _ = connected_components(adj, directed=False)
    assert n_comp == 1, "test graph must be connected; pick another seed"
    return adj


def stationary_distribution(weights: sp.csr_array) -> np.ndarray:
    """Left Perron vector of W computed independently: the eigenvector of W^T for 1."""
    dense = weights.toarray().astype(np.float64)
    dense /= dense.sum(axis=1, keepdims=True)  # exact row-stochastic in float64
    values, vectors = scipy.linalg.eig(dense.T)
    i = np.argmin(np.abs(values - 1.0))
    assert abs(values[i] - 1.0) < 1e-10
    pi = np.real(vectors[:, i])
    return pi / pi.sum()


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi"])
@pytest.mark.parametrize("seed", [1, 2])
def test_stationary_distribution_is_degree_share(kind, seed):
    adj = connected_graph(kind, 150, seed)
    weights = row_normalised(adj)
    pi = stationary_distribution(weights)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    np.testing.assert_allclose(pi, degree / degree.sum(), atol=1e-12)
    # ... and by power iteration of the lazy chain, without any eigen-solver.
    p = np.full(adj.shape[0], 1.0 / adj.shape[0])
    wt = sp.csr_array(weights.T.astype(np.float64))
    for _ in range(3000):
        p = 0.5 * p + 0.5 * (wt @ p)
        p /= p.sum()
    np.testing.assert_allclose(p, degree / degree.sum(), atol=1e-6)


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi"])
@pytest.mark.parametrize("mixing", [0.3, 1.0])
def test_degroot_converges_to_consensus(kind, mixing):
    n = 300
    adj = connected_graph(kind, n, seed=7)
    weights = row_normalised(adj)
    degree = np.diff(adj.indptr)
    # Opinions correlated with degree, so the consensus is far from the plain mean.
    x0 = 0.5 * np.random.default_rng(3).random(n) + 0.5 * (degree > np.median(degree))
    pi = stationary_distribution(weights)
    target = float(pi @ x0)
    assert degroot_consensus(weights, x0) == pytest.approx(target, abs=1e-12)
    assert abs(target - x0.mean()) > 1e-3
    x = x0.copy()
    for _ in range(4000):
        out = degroot_step(weights, x, mixing)
        assert out is x
        if np.ptp(x) < 1e-6:
            break
    # float32 weights leave a ~1e-8 spread at the fixed point.
    assert np.ptp(x) < 1e-6, "opinions did not reach consensus"
    # W is stored in float32 (row sums 1 +- 1e-7), so allow a small drift of the mean.
    np.testing.assert_allclose(x, target, atol=1e-5)


def test_degroot_step_matches_dense_formula():
    n = 60
    adj = connected_graph("erdos_renyi", n, seed=11)
    weights = row_normalised(adj)
    x0 = np.random.default_rng(5).random(n)
    dense = adj.toarray().astype(np.float64)
    dense /= dense.sum(axis=1, keepdims=True)
    mu = 0.4
    expected = (1 - mu) * x0 + mu * dense @ x0
    got = degroot_step(weights, x0.copy(), mu)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # mixing = 0 changes nothing.
    same = x0.copy()
    degroot_step(weights, same, 0.0)
    np.testing.assert_array_equal(same, x0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_isolated_nodes_keep_their_value(dtype):
    n_core, n_iso = 80, 5
    core = connected_graph("erdos_renyi", n_core, seed=4)
    # Append isolated nodes (rows and columns with no entries).
    adj = sp.csr_array(sp.block_diag([core, sp.csr_array((n_iso, n_iso))], format="csr"))
    adj.data = adj.data.astype(np.float32)
    weights = row_normalised(adj)
    has_neighbours = np.diff(adj.indptr) > 0
    assert has_neighbours.sum() == n_core
    x0 = np.random.default_rng(9).random(n_core + n_iso).astype(dtype)
    x = x0.copy()
    for _ in range(500):
        degroot_step(weights, x, 0.5)
    np.testing.assert_array_equal(x[n_core:], x0[n_core:])
    assert x.dtype == dtype
    # The connected core still reaches its own consensus.
    core_target = degroot_consensus(row_normalised(core), x0[:n_core].astype(np.float64))
    np.testing.assert_allclose(x[:n_core], core_target, atol=1e-4)


def test_degroot_keeps_opinions_in_unit_interval():
    adj = connected_graph("watts_strogatz", 200, seed=3)
    weights = row_normalised(adj)
    x = np.random.default_rng(1).random(200).astype(np.float32)
    lo, hi = x.min(), x.max()
    for _ in range(50):
        degroot_step(weights, x, 0.7)
        # Averaging never leaves the convex hull of the initial opinions (float32 slack).
        assert x.min() >= lo - 1e-6 and x.max() <= hi + 1e-6


@pytest.mark.parametrize(
    ("opinions", "expected"),
    [
        ([0.9, 0.7, 0.65, 0.5, 0.35, 0.1], (3 - 2) / 6),
        ([1.0, 1.0, 1.0], 1.0),
        ([0.0, 0.2, 0.35], -1.0),
        ([0.5, 0.4, 0.6], 0.0),
        ([0.66, 0.34], 0.0),
        ([0.2, 0.3, 0.8, 0.1], (1 - 3) / 4),
    ],
)
def test_net_promoter_hand_made(opinions, expected):
    score, n = net_promoter(np.array(opinions), 0.65, 0.35)
    assert n == len(opinions)
    assert score == pytest.approx(expected, abs=1e-15)


def test_net_promoter_empty_and_bounds():
    assert net_promoter(np.array([]), 0.65, 0.35) == (0.0, 0)
    values = np.random.default_rng(0).random(1000)
    score, n = net_promoter(values, 0.65, 0.35)
    independent = (np.sum(values >= 0.65) - np.sum(values <= 0.35)) / 1000
    assert n == 1000
    assert score == pytest.approx(independent)
    assert -1.0 <= score <= 1.0


# --- Friedkin-Johnsen ------------------------------------------------------------------------


def test_friedkin_johnsen_converges_to_its_closed_form_fixed_point():
    """x* = s (I - (1 - s) M)^-1 x0 with M = (1 - mu) I + mu W (Friedkin & Johnsen 1990)."""
    n, mu, s = 80, 0.3, 0.05
    adj = connected_graph("watts_strogatz", n, seed=2)
    weights = row_normalised(adj)
    dense = adj.toarray().astype(np.float64)
    dense /= dense.sum(axis=1, keepdims=True)
    x0 = np.random.default_rng(8).random(n)
    m = (1.0 - mu) * np.eye(n) + mu * dense
    expected = s * np.linalg.solve(np.eye(n) - (1.0 - s) * m, x0)
    x = np.random.default_rng(9).random(n)  # any start
    for _ in range(2000):
        friedkin_johnsen_step(weights, x, mu, s, x0)
    np.testing.assert_allclose(x, expected, atol=1e-6)
    assert np.ptp(x) > 0.05  # disagreement persists, unlike DeGroot


def test_unweighted_fast_path_equals_the_weighted_product():
    adj = connected_graph("erdos_renyi", 300, seed=11)
    weights = row_normalised(adj)
    x0 = np.random.default_rng(1).random(300).astype(np.float32)
    anchor = np.random.default_rng(2).random(300).astype(np.float32)
    a, b = x0.copy(), x0.copy()
    friedkin_johnsen_step(weights, a, 0.4, 0.1, anchor, uniform=False)
    friedkin_johnsen_step(weights, b, 0.4, 0.1, anchor, uniform=True)
    np.testing.assert_allclose(a, b, atol=1e-6)
    expected = 0.9 * (0.6 * x0 + 0.4 * (weights @ x0.astype(np.float64))) + 0.1 * anchor
    np.testing.assert_allclose(a, expected, atol=1e-6)


def test_isolated_users_feel_only_their_anchor():
    adj = sp.csr_array(
        sp.block_diag([connected_graph("erdos_renyi", 30, seed=1), sp.csr_array((2, 2))])
    )
    weights = row_normalised(adj)
    x = np.full(32, 0.8)
    anchor = np.full(32, 0.2)
    friedkin_johnsen_step(weights, x, 0.5, 0.25, anchor, uniform=True)
    np.testing.assert_allclose(x[30:], 0.8 + 0.25 * (0.2 - 0.8))


# --- word of mouth (the kernel of sim.accounts) ----------------------------------------------


def _wom(listeners, speakers, platform, opinion_platform, opinion_trust, fled, a, b):
    from sim import accounts

    n = platform.shape[0]
    tip_platform = np.full(n, -1, np.int64)
    tip_trust = np.zeros(n, np.float32)
    aware = np.zeros(n, bool)
    said = accounts.word_of_mouth(
        np.asarray(listeners, np.int64),
        np.asarray(speakers, np.int32),
        platform,
        opinion_platform,
        opinion_trust,
        fled,
        np.float32(2.0),  # weight
        np.float32(1.0),  # panic weight
        np.float32(1.0),  # w_plus
        np.float32(2.5),  # w_minus
        a,
        b,
        tip_platform,
        tip_trust,
        aware,
    )
    return said, tip_platform, tip_trust, aware


def test_word_of_mouth_is_evidence_for_holders_and_a_tip_for_others():
    platform = np.array([[5, -1], [5, 7], [-1, -1], [7, -1]], np.int32)
    opinion_platform = np.array([5, 5, -1, 7], np.int32)
    opinion_trust = np.array([0.8, 0.6, 0.0, 0.3], np.float32)
    fled = np.array([-1, -1, -1, 7], np.int32)  # user 3 asked all their money back from 7
    a, b = np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32)
    # 0 hears 1 (platform 5 at 0.6); 1 hears 2 (nothing to say); 2 hears 3 (fled 7).
    said, tip_p, tip_t, aware = _wom(
        [0, 1, 2], [1, 2, 3], platform, opinion_platform, opinion_trust, fled, a, b
    )
    np.testing.assert_allclose(said, [0.6, 0.0])  # speakers with nothing to say say nothing
    # A holder learns it at once: w+ x weight x t good, w- x weight x (1 - t) bad.
    np.testing.assert_allclose(a[0], [1.0 * 2.0 * 0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b[0], [2.5 * 2.0 * 0.4, 0.0], rtol=1e-6)
    assert not a[1].any() and not b[1].any()
    # A non-holder keeps it as a tip (trust 0 for a platform the speaker fled).
    assert tip_p[2] == 7 and tip_t[2] == 0.0
    assert aware.tolist() == [True, False, True, False]
    # A holder told that the speaker fled takes the panic evidence as well.
    platform[2] = [7, -1]
    a, b = np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32)
    _wom([2], [3], platform, opinion_platform, opinion_trust, fled, a, b)
    np.testing.assert_allclose(b[2], [2.5 * (2.0 * 1.0 + 1.0), 0.0], rtol=1e-6)
    np.testing.assert_allclose(a[2], [0.0, 0.0])
