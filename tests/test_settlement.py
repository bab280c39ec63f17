"""Settling withdrawals against liquidity (sim.settlement), and resolution of a failed platform."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.settlement import settle_withdrawals


def achievable_paid_sets(amounts: list[float], cap: float) -> set[frozenset[int]]:
    """Every paid set a first-come-first-served queue can produce, over all orders."""
    sets = set()
    for order in itertools.permutations(range(len(amounts))):
        paid, total = [], 0.0
        for i in order:
            if total + amounts[i] > cap:
                break  # the queue stops at the first request that does not fit
            total += amounts[i]
            paid.append(i)
        sets.add(frozenset(paid))
    return sets


requests = st.lists(st.tuples(st.integers(0, 3), st.floats(0.01, 100.0)), min_size=0, max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    reqs=requests,
    liquidity=st.lists(st.floats(-10.0, 300.0), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_never_pays_more_than_liquidity(reqs, liquidity, seed):
    platform = np.array([p for p, _ in reqs], dtype=np.int64)
    amount = np.array([a for _, a in reqs], dtype=np.float64)
    liquidity = np.array(liquidity)
    paid = settle_withdrawals(platform, amount, liquidity, np.random.default_rng(seed))
    assert paid.shape == platform.shape and paid.dtype == bool
    paid_per = np.bincount(platform[paid], amount[paid], minlength=4)
    cap = np.maximum(liquidity, 0.0)
    assert np.all(paid_per <= cap * (1 + 1e-12) + 1e-9)
    # And nobody is refused while every request of the platform would have fitted.
    demand = np.bincount(platform, amount, minlength=4)
    for j in range(4):
        if demand[j] <= cap[j]:
            assert paid[platform == j].all()


@pytest.mark.parametrize(
    ("amounts", "cap"),
    [
        ([3.0, 1.0, 2.0, 5.0, 1.5], 4.0),
        ([1.0, 1.0, 1.0, 1.0, 1.0], 2.0),
        ([10.0, 1.0, 2.0, 3.0], 6.0),
        ([2.5, 2.5, 4.0, 0.5, 1.0, 3.0], 5.0),
    ],
)
def test_paid_set_is_a_prefix_of_some_order(amounts, cap):
    """Brute force: the paid set must be one a queue in some order could produce."""
    allowed = achievable_paid_sets(amounts, cap)
    # A second platform with its own queue interleaved in the request list.
    other_amounts, other_cap = [2.0, 2.0, 2.0], 3.0
    other_allowed = achievable_paid_sets(other_amounts, other_cap)
    platform = np.array([0] * len(amounts) + [1] * len(other_amounts))
    amount = np.array(amounts + other_amounts)
    shuffle = np.random.default_rng(0).permutation(platform.size)
    platform, amount = platform[shuffle], amount[shuffle]
    index_in_platform = np.empty(platform.size, dtype=int)
    for j in (0, 1):
        where = np.flatnonzero(platform == j)
        index_in_platform[where] = np.argsort(np.argsort(shuffle[where]))
    seen = set()
    for seed in range(200):
        paid = settle_withdrawals(
            platform, amount, np.array([cap, other_cap]), np.random.default_rng(seed)
        )
        got = frozenset(index_in_platform[paid & (platform == 0)].tolist())
        got_other = frozenset(index_in_platform[paid & (platform == 1)].tolist())
        assert got in allowed, (sorted(got), amounts, cap)
        assert got_other in other_allowed
        seen.add(got)
    # Random order: many different achievable outcomes show up.
    assert len(seen) >= min(3, len(allowed))


def paid_set_distribution(amounts: list[float], cap: float) -> dict[frozenset[int], float]:
    """Exact law of the paid set when the queue order is a uniform random permutation."""
    counts: dict[frozenset[int], int] = {}
    perms = list(itertools.permutations(range(len(amounts))))
    for order in perms:
        paid, total = [], 0.0
        for i in order:
            if total + amounts[i] > cap:
                break
            total += amounts[i]
            paid.append(i)
        key = frozenset(paid)
        counts[key] = counts.get(key, 0) + 1
    return {key: c / len(perms) for key, c in counts.items()}


@pytest.mark.parametrize(
    ("amounts", "cap"),
    [([10.0, 1.0, 2.0, 3.0], 6.0), ([3.0, 1.0, 2.0, 5.0, 1.5], 4.0)],
)
def test_paid_set_law_is_that_of_a_uniform_queue(amounts, cap):
    """The queue stops at the first request that does not fit (no skipping ahead).

    E.g. with [10, 1, 2, 3] and liquidity 6, the big request comes first in a quarter
    of the orders and then nobody is paid; a queue that skipped it would never pay
    nobody. The paid set's frequencies must match the exact law (chi-square).
    """
    law = paid_set_distribution(amounts, cap)
    draws = 4000
    platform = np.zeros(len(amounts), dtype=np.int64)
    amount = np.array(amounts)
    observed: dict[frozenset[int], int] = dict.fromkeys(law, 0)
    for seed in range(draws):
        paid = settle_withdrawals(platform, amount, np.array([cap]), rng_of(seed))
        key = frozenset(np.flatnonzero(paid).tolist())
        assert key in law, sorted(key)
        observed[key] += 1
    keys = sorted(law, key=sorted)
    expected = np.array([law[k] * draws for k in keys])
    counts = np.array([observed[k] for k in keys])
    _, p = stats.chisquare(counts, expected)
    assert p > 1e-4, dict(zip(map(sorted, keys), zip(counts, expected, strict=True), strict=True))


def test_everything_paid_when_liquidity_suffices():
    rng = np.random.default_rng(1)
    platform = rng.integers(0, 5, 300)
    amount = rng.uniform(0.0, 10.0, 300)
    liquidity = np.bincount(platform, amount, minlength=5)  # exactly the total
    assert settle_withdrawals(platform, amount, liquidity, rng).all()
    assert settle_withdrawals(platform, amount, liquidity * 2, rng).all()


@pytest.mark.parametrize("liquidity", [0.0, -5.0])
def test_nothing_paid_without_liquidity(liquidity):
    rng = np.random.default_rng(2)
    platform = rng.integers(0, 3, 100)
    amount = rng.uniform(0.01, 10.0, 100)
    paid = settle_withdrawals(platform, amount, np.full(3, liquidity), rng)
    assert not paid.any()


def test_only_the_dry_platform_refuses():
    platform = np.array([0, 1, 0, 1, 2, 2])
    amount = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    paid = settle_withdrawals(platform, amount, np.array([5.0, 0.0, 2.0]), np.random.default_rng(0))
    np.testing.assert_array_equal(paid, [True, False, True, False, True, True])


def test_empty_request_list():
    out = settle_withdrawals(
        np.empty(0, np.int64), np.empty(0), np.ones(3), np.random.default_rng(0)
    )
    assert out.shape == (0,) and out.dtype == bool


def test_order_is_random_and_uniform():
    """Equal requests, liquidity for half: each is paid with probability 1/2."""
    n_req, draws = 6, 4000
    platform = np.zeros(n_req, dtype=np.int64)
    amount = np.ones(n_req)
    liquidity = np.array([3.0])
    paid_sets = set()
    paid_count = np.zeros(n_req)
    for seed in range(draws):
        paid = settle_withdrawals(platform, amount, liquidity, np.random.default_rng(seed))
        assert paid.sum() == 3
        paid_sets.add(tuple(np.flatnonzero(paid)))
        paid_count += paid
    assert len(paid_sets) == 20  # all C(6, 3) subsets occur
    freq = paid_count / draws
    sd = np.sqrt(0.25 / draws)
    assert np.all(np.abs(freq - 0.5) < 5 * sd), freq
    # Different generators give different paid sets.
    a = settle_withdrawals(np.zeros(40, np.int64), np.ones(40), np.array([20.0]), rng_of(1))
    b = settle_withdrawals(np.zeros(40, np.int64), np.ones(40), np.array([20.0]), rng_of(2))
    assert a.sum() == b.sum() == 20
    assert not np.array_equal(a, b)


def rng_of(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)
