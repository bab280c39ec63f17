"""Softmax platform choice (sim.choice) against exp(U/T) / sum exp(U/T)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from sim.choice import softmax_choice


def softmax(u: np.ndarray, temperature: float) -> np.ndarray:
    z = np.exp((u - u[np.isfinite(u)].max()) / temperature)
    return z / z.sum()


class ConstantRng:
    """A stand-in generator whose uniforms are all one value in [0, 1)."""

    def __init__(self, value: float):
        self.value = value

    def random(self, size):
        return np.full(size, self.value)


@pytest.mark.parametrize(
    ("u", "temperature"),
    [
        ([0.0, 0.5, 1.0, 1.5, -1.0], 0.5),
        ([2.0, 2.0, 2.0], 1.0),
        ([10.0, 9.0, 11.0, 10.5], 2.0),
        ([0.1, 0.4, 0.35, 0.9, 0.2, 0.6], 0.3),
    ],
)
def test_frequencies_match_softmax(u, temperature):
    m = 100_000
    u = np.asarray(u)
    utility = np.tile(u, (m, 1))
    chosen = softmax_choice(utility, temperature, np.random.default_rng(42))
    assert chosen.dtype == np.int64
    counts = np.bincount(chosen, minlength=u.size)
    expected = softmax(u, temperature) * m
    assert (expected >= 5).all()
    _, p = stats.chisquare(counts, expected)
    assert p > 1e-4, (counts, expected)


def test_frequencies_match_softmax_per_row():
    """Rows with different utilities each follow their own softmax."""
    rng = np.random.default_rng(7)
    base = rng.normal(0.0, 1.0, size=(4, 5))
    m_per = 40_000
    utility = np.repeat(base, m_per, axis=0)
    chosen = softmax_choice(utility, 0.8, rng).reshape(4, m_per)
    for r in range(4):
        counts = np.bincount(chosen[r], minlength=5)
        expected = softmax(base[r], 0.8) * m_per
        _, p = stats.chisquare(counts, expected)
        assert p > 1e-4, (r, counts, expected)


def test_minus_inf_columns_never_chosen_and_rest_renormalised():
    m, n_plat = 60_000, 6
    u = np.array([0.3, -np.inf, 0.8, -np.inf, 0.1, 0.5])
    utility = np.tile(u, (m, 1))
    chosen = softmax_choice(utility, 0.5, np.random.default_rng(1))
    counts = np.bincount(chosen, minlength=n_plat)
    assert counts[1] == 0 and counts[3] == 0
    finite = np.isfinite(u)
    expected = softmax(u[finite], 0.5) * m
    _, p = stats.chisquare(counts[finite], expected)
    assert p > 1e-4


@settings(max_examples=100, deadline=None)
@given(
    utility=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 40), st.integers(1, 8)),
        elements=st.one_of(st.floats(-50, 50), st.just(-np.inf)),
    ),
    temperature=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_choice_is_a_finite_column_or_minus_one(utility, temperature, seed):
    original = utility.copy()
    chosen = softmax_choice(utility, temperature, np.random.default_rng(seed))
    assert chosen.shape == (original.shape[0],)
    none = ~np.isfinite(original).any(axis=1)
    assert np.all(chosen[none] == -1)
    rows = np.flatnonzero(~none)
    assert np.all((chosen[rows] >= 0) & (chosen[rows] < original.shape[1]))
    assert np.all(np.isfinite(original[rows, chosen[rows]]))


def test_all_minus_inf_rows_give_minus_one():
    utility = np.array([[-np.inf, -np.inf], [0.0, 1.0], [-np.inf, -np.inf]])
    chosen = softmax_choice(utility, 0.5, np.random.default_rng(0))
    assert chosen[0] == -1 and chosen[2] == -1
    assert chosen[1] in (0, 1)
    assert softmax_choice(np.empty((0, 3)), 0.5, np.random.default_rng(0)).shape == (0,)


@pytest.mark.parametrize("temperature", [1e-3, 1e-6])
def test_low_temperature_picks_the_argmax(temperature):
    rng = np.random.default_rng(3)
    # Distinct utilities, gaps of at least 0.05: exp(-0.05 / 1e-3) ~ 2e-22.
    base = rng.permutation(np.arange(8) * 0.05)
    utility = np.array([rng.permutation(base) for _ in range(2000)])
    expected = utility.argmax(axis=1)
    chosen = softmax_choice(utility.copy(), temperature, rng)
    np.testing.assert_array_equal(chosen, expected)


@pytest.mark.parametrize("value", [0.0, 1.0 - 2.0**-53])
def test_extreme_uniforms_never_pick_an_unavailable_column(value):
    """``Generator.random`` draws from [0, 1): both ends must still give an open column.

    A uniform of exactly 0 must not select a leading ``-inf`` (closed) column, nor
    a uniform just below 1 a trailing one.
    """
    utility = np.array([[-np.inf, 0.0, 1.0, -np.inf], [-np.inf, -np.inf, 2.0, -np.inf]])
    chosen = softmax_choice(utility.copy(), 0.5, ConstantRng(value))
    assert np.all(np.isfinite(utility[np.arange(2), chosen])), chosen


def test_same_generator_state_same_choices():
    utility = np.random.default_rng(0).normal(size=(500, 5))
    a = softmax_choice(utility.copy(), 0.5, np.random.default_rng(9))
    b = softmax_choice(utility.copy(), 0.5, np.random.default_rng(9))
    c = softmax_choice(utility.copy(), 0.5, np.random.default_rng(10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
