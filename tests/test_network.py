"""Tests for sim.network: generators, edge-list loading and neighbour queries."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from sim import network as nw


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_simple_undirected(adj: sp.csr_array, n: int) -> None:
    """Shape, dtypes, symmetry, no self-loops, no duplicates, sorted indices, data all ones."""
    assert isinstance(adj, sp.csr_array)
    assert adj.shape == (n, n)
    assert adj.indices.dtype == np.int32
    assert adj.indptr.dtype == np.int32
    assert adj.data.dtype == np.float32
    assert np.all(adj.data == 1)
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    cols = adj.indices
    assert not np.any(rows == cols), "self-loop"
    # Strictly increasing columns within each row: sorted and no duplicate entries.
    same_row = rows[1:] == rows[:-1]
    assert np.all(cols[1:][same_row] > cols[:-1][same_row])
    assert (adj != adj.T).nnz == 0
    assert adj.has_canonical_format


def edge_set(adj: sp.csr_array) -> set[tuple[int, int]]:
    upper = sp.triu(adj, k=1).tocoo()
    return set(zip(upper.row.tolist(), upper.col.tolist(), strict=True))


GENERATORS = {
    "watts_strogatz": lambda n, d, r: nw.watts_strogatz(n, d, 0.1, r),
    "barabasi_albert": nw.barabasi_albert,
    "erdos_renyi": nw.erdos_renyi,
}


# --------------------------------------------------------------------------------------------
# Structure, mean degree, determinism (all generators)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "tolerance"),
    [("watts_strogatz", 0.01), ("barabasi_albert", 0.05), ("erdos_renyi", 0.03)],
)
def test_generator_structure_and_mean_degree(kind: str, tolerance: float) -> None:
    n, avg = 20_000, 10.0
    adj = GENERATORS[kind](n, avg, rng(1))
    assert_simple_undirected(adj, n)
    assert nw.mean_degree(adj) == pytest.approx(avg, rel=tolerance)


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generator_determinism(kind: str) -> None:
    make = GENERATORS[kind]
    a, b, c = make(5_000, 8, rng(7)), make(5_000, 8, rng(7)), make(5_000, 8, rng(8))
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices)), (
        "different seeds gave the same graph"
    )


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generator_uses_only_the_given_rng(kind: str) -> None:
    # Reseeding numpy's legacy global RNG must not change anything.
    np.random.seed(0)  # noqa: NPY002
    a = GENERATORS[kind](2_000, 6, rng(3))
    np.random.seed(12345)  # noqa: NPY002
    b = GENERATORS[kind](2_000, 6, rng(3))
    np.testing.assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize("kind", nw.KINDS[:3])
def test_build_network_dispatches(kind: str) -> None:
    direct = GENERATORS[kind](3_000, 6, rng(5))
    via = nw.build_network(kind, 3_000, 6, rng(5))
    np.testing.assert_array_equal(direct.indices, via.indices)
    np.testing.assert_array_equal(direct.indptr, via.indptr)


def test_build_network_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"unknown network kind.*watts_strogatz"):
        nw.build_network("small_world", 100, 4, rng())


def test_build_network_edge_list_requires_path() -> None:
    with pytest.raises(ValueError, match="requires a path"):
        nw.build_network("edge_list", 100, 4, rng())


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generator_tiny_and_empty(kind: str) -> None:
    assert GENERATORS[kind](0, 4, rng()).shape == (0, 0)
    adj = GENERATORS[kind](10, 2, rng())
    assert_simple_undirected(adj, 10)


# --------------------------------------------------------------------------------------------
# Watts-Strogatz
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(50, 4), (1_000, 10), (101, 2)])
def test_watts_strogatz_p0_is_ring_lattice(n: int, k: int) -> None:
    adj = nw.watts_strogatz(n, k, 0.0, rng())
    expected = {tuple(sorted(e)) for e in nx.watts_strogatz_graph(n, k, 0).edges()}
    assert edge_set(adj) == expected
    assert np.all(np.diff(adj.indptr) == k)


def test_watts_strogatz_rewiring_changes_a_fraction_of_edges() -> None:
    n, k, p = 20_000, 10, 0.2
    lattice = edge_set(nw.watts_strogatz(n, k, 0.0, rng()))
    rewired = edge_set(nw.watts_strogatz(n, k, p, rng(2)))
    kept = len(lattice & rewired) / len(lattice)
    # A rewired edge lands back on a lattice edge with probability ~k/n, so kept ~ 1 - p.
    assert kept == pytest.approx(1 - p, abs=0.01)


def test_watts_strogatz_even_degree_rounding() -> None:
    assert nw.mean_degree(nw.watts_strogatz(1_000, 7.2, 0.0, rng())) == 8
    assert nw.mean_degree(nw.watts_strogatz(1_000, 6.4, 0.0, rng())) == 6


def test_watts_strogatz_validation() -> None:
    with pytest.raises(ValueError, match="rewire_p"):
        nw.watts_strogatz(100, 4, 1.5, rng())
    with pytest.raises(ValueError, match="must be < n"):
        nw.watts_strogatz(10, 10, 0.1, rng())


# --------------------------------------------------------------------------------------------
# Erdos-Renyi
# --------------------------------------------------------------------------------------------


def test_erdos_renyi_edge_count_is_the_binomial_draw() -> None:
    n, avg = 5_000, 8.0
    adj = nw.erdos_renyi(n, avg, rng(11))
    # The first draw from the generator is the binomial edge count.
    expected = rng(11).binomial(n * (n - 1) // 2, avg / (n - 1))
    assert adj.nnz // 2 == expected


def test_erdos_renyi_edge_count_distribution() -> None:
    n, avg, seeds = 10_000, 6.0, 8
    p = avg / (n - 1)
    pairs = n * (n - 1) / 2
    counts = np.array([nw.erdos_renyi(n, avg, rng(s)).nnz // 2 for s in range(seeds)])
    mean, sd = pairs * p, math.sqrt(pairs * p * (1 - p))
    # The sample mean of `seeds` draws has standard deviation sd / sqrt(seeds).
    assert abs(counts.mean() - mean) < 4 * sd / math.sqrt(seeds)
    assert counts.std() < 3 * sd


def test_erdos_renyi_degrees_are_poisson_like() -> None:
    n, avg = 20_000, 10.0
    deg = np.diff(nw.erdos_renyi(n, avg, rng(4)).indptr)
    assert deg.var() == pytest.approx(avg, rel=0.1)
    assert deg.max() < 40


def test_erdos_renyi_dense_and_validation() -> None:
    full = nw.erdos_renyi(30, 29, rng())
    assert full.nnz == 30 * 29
    n, avg = 400, 200.0
    dense = nw.erdos_renyi(n, avg, rng(1))
    assert_simple_undirected(dense, n)
    assert dense.nnz // 2 == rng(1).binomial(n * (n - 1) // 2, avg / (n - 1))
    with pytest.raises(ValueError, match="exceeds"):
        nw.erdos_renyi(30, 30, rng())


# --------------------------------------------------------------------------------------------
# Barabasi-Albert
# --------------------------------------------------------------------------------------------


def test_barabasi_albert_heavy_tail_vs_watts_strogatz() -> None:
    n, avg = 100_000, 10.0
    ba = np.diff(nw.barabasi_albert(n, avg, rng(3)).indptr)
    ws = np.diff(nw.watts_strogatz(n, avg, 0.1, rng(3)).indptr)
    assert ba.max() > 20 * ba.mean()
    assert ws.max() < 3 * ws.mean()


def test_barabasi_albert_minimum_degree() -> None:
    n, m = 20_000, 5
    deg = np.diff(nw.barabasi_albert(n, 2 * m, rng(6)).indptr)
    assert deg.min() >= 1
    # Only dropped self-loops / repeated targets push a node below m; that is very rare.
    assert np.mean(deg[m + 1 :] < m) < 0.002


def test_barabasi_albert_m1_is_a_tree() -> None:
    n = 5_000
    adj = nw.barabasi_albert(n, 2, rng(9))
    assert adj.nnz // 2 == n - 1
    assert sp.csgraph.connected_components(adj, directed=False)[0] == 1


def test_barabasi_albert_matches_networkx_degree_distribution() -> None:
    n, m = 20_000, 5
    ours = np.diff(nw.barabasi_albert(n, 2 * m, rng(2)).indptr)
    theirs = np.array([d for _, d in nx.barabasi_albert_graph(n, m, seed=2).degree()])
    assert stats.ks_2samp(ours, theirs).statistic < 0.05
    assert np.mean(ours >= 3 * m) == pytest.approx(np.mean(theirs >= 3 * m), abs=0.01)
    # Power-law tail P(k) ~ k^-3: P(deg >= k) ~ (m / k)^2, so ~1/9 of nodes at 3m.
    assert 0.08 < np.mean(ours >= 3 * m) < 0.16


def test_barabasi_albert_validation() -> None:
    with pytest.raises(ValueError, match="n >= m \\+ 1"):
        nw.barabasi_albert(3, 10, rng())
    complete = nw.barabasi_albert(6, 10, rng())
    assert complete.nnz == 6 * 5


# --------------------------------------------------------------------------------------------
# random_neighbours / row_normalised / mean_degree
# --------------------------------------------------------------------------------------------


def graph_with_isolated_nodes() -> sp.csr_array:
    # Nodes 0..3 form a path, 4 is isolated, 5-6 an edge, 7 (last row) isolated.
    return nw._symmetric_csr(np.array([0, 1, 2, 5]), np.array([1, 2, 3, 6]), 8)


def test_random_neighbours_are_neighbours() -> None:
    adj = nw.watts_strogatz(5_000, 6, 0.3, rng())
    picks = nw.random_neighbours(adj, rng(1))
    assert picks.shape == (5_000,)
    assert picks.dtype == adj.indices.dtype
    assert np.all(adj[np.arange(5_000), picks] == 1)


def test_random_neighbours_isolated_nodes_get_minus_one() -> None:
    adj = graph_with_isolated_nodes()
    picks = nw.random_neighbours(adj, rng())
    assert picks[4] == -1
    assert picks[7] == -1
    assert picks[0] == 1
    assert picks[3] == 2
    assert (picks[5], picks[6]) == (6, 5)
    empty = nw.erdos_renyi(5, 0, rng())
    assert np.all(nw.random_neighbours(empty, rng()) == -1)


def test_random_neighbours_writes_into_out() -> None:
    adj = graph_with_isolated_nodes()
    out = np.full(8, 99, dtype=np.int64)
    result = nw.random_neighbours(adj, rng(), out=out)
    assert result is out
    assert out[4] == -1
    with pytest.raises(ValueError, match="out must be"):
        nw.random_neighbours(adj, rng(), out=np.empty(3, dtype=np.int64))


def test_random_neighbours_uniform_on_star() -> None:
    leaves = 9
    adj = nw._symmetric_csr(np.zeros(leaves, dtype=np.int64), np.arange(1, leaves + 1), leaves + 1)
    generator = rng(123)
    draws = np.array([nw.random_neighbours(adj, generator)[0] for _ in range(9_000)])
    counts = np.bincount(draws, minlength=leaves + 1)[1:]
    assert counts.sum() == 9_000
    assert stats.chisquare(counts).pvalue > 1e-3


def test_row_normalised_rows_sum_to_one_or_zero() -> None:
    adj = graph_with_isolated_nodes()
    w = nw.row_normalised(adj)
    assert w.dtype == np.float32
    sums = np.asarray(w.sum(axis=1)).ravel()
    deg = np.diff(adj.indptr)
    np.testing.assert_allclose(sums[deg > 0], 1.0, rtol=1e-6)
    assert np.all(sums[deg == 0] == 0)
    np.testing.assert_array_equal(w.indices, adj.indices)


def test_row_normalised_large_graph() -> None:
    adj = nw.barabasi_albert(10_000, 6, rng())
    w = nw.row_normalised(adj)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
    deg = np.diff(adj.indptr)
    np.testing.assert_allclose(w.data, np.repeat(1.0 / deg, deg), rtol=1e-6)


def test_mean_degree() -> None:
    adj = graph_with_isolated_nodes()
    assert nw.mean_degree(adj) == 8 / 8
    assert nw.mean_degree(adj.toarray()) == 1.0
    assert nw.mean_degree(sp.csr_array((0, 0))) == 0.0


# --------------------------------------------------------------------------------------------
# read_edge_list
# --------------------------------------------------------------------------------------------


def test_read_edge_list_round_trip(tmp_path) -> None:
    path = tmp_path / "edges.txt"
    path.write_text(
        "# social graph\n"
        "0 1\n"
        "1,2\n"
        "2\t3 0.75\n"
        "\n"
        "  3 , 4 , 1.0\n"
        "1 0\n"  # reverse duplicate
        "0 1\n"  # exact duplicate
        "4 4\n"  # self-loop, dropped
        "5 6  # trailing comment\n"
    )
    adj = nw.read_edge_list(path, 8)
    assert_simple_undirected(adj, 8)
    assert edge_set(adj) == {(0, 1), (1, 2), (2, 3), (3, 4), (5, 6)}
    assert np.diff(adj.indptr)[7] == 0
    via = nw.build_network("edge_list", 8, 0, rng(), path=str(path))
    np.testing.assert_array_equal(via.indices, adj.indices)


def test_read_edge_list_matches_generated_graph(tmp_path) -> None:
    adj = nw.erdos_renyi(2_000, 5, rng())
    upper = sp.triu(adj).tocoo()
    path = tmp_path / "er.csv"
    # Write each edge in a random direction, comma separated, with a weight column.
    flip = rng(1).random(upper.nnz) < 0.5
    u = np.where(flip, upper.col, upper.row)
    v = np.where(flip, upper.row, upper.col)
    np.savetxt(path, np.column_stack([u, v, np.ones_like(u)]), fmt="%d", delimiter=",")
    loaded = nw.read_edge_list(path, 2_000)
    np.testing.assert_array_equal(loaded.indptr, adj.indptr)
    np.testing.assert_array_equal(loaded.indices, adj.indices)


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("0 1\n1 12\n", r"line 2.*node id 12 is out of range \[0, 10\)"),
        ("0 1\n-1 2\n", r"line 2.*node id -1 is out of range"),
        ("# header\n0 1\n1 x\n", r"line 3.*node id 'x' is not an integer"),
        ("0 1\n1.5 2\n", r"line 2.*node id '1.5' is not an integer"),
        ("0 1\n7\n", r"line 2.*expected two node ids"),
        ("", r"edge list is empty"),
        ("# only a comment\n\n", r"edge list is empty"),
    ],
)
def test_read_edge_list_errors(tmp_path, content: str, pattern: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(ValueError, match=pattern) as info:
        nw.read_edge_list(path, 10)
    assert "bad.txt" in str(info.value)


# --------------------------------------------------------------------------------------------
# Scale
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", nw.KINDS[:3])
def test_one_million_nodes(kind: str) -> None:
    n = 1_000_000
    adj = nw.build_network(kind, n, 10.0, rng(42))
    assert adj.shape == (n, n)
    assert adj.indices.dtype == np.int32
    assert nw.mean_degree(adj) == pytest.approx(10.0, rel=0.01)
    assert (adj != adj.T).nnz == 0
