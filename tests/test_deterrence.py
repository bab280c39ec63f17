"""Deterrence (sim.deterrence): Becker's expected penalty lowers the violation rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.deterrence import expected_penalty, violation_probability

temptation_st = st.floats(1e-3, 1.0)
scale_st = st.floats(1e-4, 1e-2)
penalty_st = st.floats(0.0, 0.01)
compliance_st = st.floats(0.0, 0.999)


@settings(max_examples=300, deadline=None)
@given(
    c=compliance_st,
    e1=penalty_st,
    e2=penalty_st,
    temptation=temptation_st,
    scale=scale_st,
)
def test_strictly_decreasing_in_expected_penalty(c, e1, e2, temptation, scale):
    lo, hi = sorted((e1, e2))
    assume((hi - lo) / scale > 1e-6)
    p_lo = float(violation_probability(np.array(c), lo, temptation, scale))
    p_hi = float(violation_probability(np.array(c), hi, temptation, scale))
    assert p_hi < p_lo
    # Exactly the exponential law: the ratio depends only on the penalty difference.
    assert p_hi / p_lo == pytest.approx(math.exp(-(hi - lo) / scale), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    c1=compliance_st,
    c2=compliance_st,
    pen=penalty_st,
    temptation=temptation_st,
    scale=scale_st,
)
def test_strictly_decreasing_in_compliance(c1, c2, pen, temptation, scale):
    lo, hi = sorted((c1, c2))
    assume(hi - lo > 1e-9)
    p = violation_probability(np.array([lo, hi]), pen, temptation, scale)
    assert p[1] < p[0]
    assert p[0] * (1 - hi) == pytest.approx(p[1] * (1 - lo), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    c=st.floats(0.0, 1.0),
    pen=st.floats(0.0, 1.0),
    temptation=st.floats(0.0, 1.0),
    scale=scale_st,
)
def test_is_a_probability_at_most_the_temptation(c, pen, temptation, scale):
    p = float(violation_probability(np.array(c), pen, temptation, scale))
    assert 0.0 <= p <= temptation


@pytest.mark.parametrize("temptation", [0.0, 0.05, 0.3, 1.0])
def test_equals_temptation_without_compliance_or_penalty(temptation):
    assert float(violation_probability(np.array(0.0), 0.0, temptation, 5e-4)) == temptation
    # Full compliance: never.
    assert float(violation_probability(np.array(1.0), 0.0, temptation, 5e-4)) == 0.0


def test_vectorised_over_platforms():
    compliance = np.array([0.0, 0.25, 0.5, 0.9])
    pen, temptation, scale = 0.001, 0.05, 0.0005
    expected = [temptation * (1 - c) * math.exp(-pen / scale) for c in compliance]
    np.testing.assert_allclose(
        violation_probability(compliance, pen, temptation, scale), expected, rtol=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(
    rate=st.floats(0.0, 1.0),
    accuracy=st.floats(0.0, 1.0),
    penalty=st.floats(0.0, 1.0),
)
def test_expected_penalty_is_the_product(rate, accuracy, penalty):
    assert expected_penalty(rate, accuracy, penalty) == pytest.approx(rate * accuracy * penalty)


@pytest.mark.parametrize("field", ["inspection_rate", "detection_accuracy", "penalty"])
def test_each_tool_raises_the_deterrent(field):
    """Raising any one of the three tools never lowers the expected penalty."""
    base = {"inspection_rate": 0.05, "detection_accuracy": 0.6, "penalty": 0.01}
    values = []
    for x in (0.0, 0.1, 0.5, 1.0):
        args = {**base, field: x}
        values.append(expected_penalty(**args))
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)


def test_model_platforms_use_the_regulators_expected_penalty(build_model):
    """The regulator agent's expected penalty is Becker's product of its own settings."""
    model = build_model(
        "regulator.inspection_rate=0.2",
        "regulator.detection_accuracy=0.7",
        "regulator.penalty=0.03",
    )
    assert model.regulator.expected_penalty() == pytest.approx(0.2 * 0.7 * 0.03)


@pytest.mark.parametrize("f", [0.0, 0.0002, 0.001, 0.005])
def test_violation_surplus_is_the_expected_net_gain_of_exponential_gains(f):
    """E[(G - f)^+] for G ~ Exp(mean=scale), by numerical integration, times the chance."""
    from scipy import integrate

    from sim.deterrence import violation_surplus

    scale, temptation, c = 0.0005, 0.05, 0.3
    net, _ = integrate.quad(lambda g: (g - f) * np.exp(-g / scale) / scale, f, f + 60 * scale)
    expected = temptation * (1 - c) * net
    assert float(violation_surplus(np.array(c), f, temptation, scale)) == pytest.approx(expected)
    # It is what violating is worth: the chance of violating times the mean gain above f.
    p = float(violation_probability(np.array(c), f, temptation, scale))
    assert float(violation_surplus(np.array(c), f, temptation, scale)) == pytest.approx(p * scale)
