"""Deterrence (Becker 1968): how the expected penalty lowers the violation rate."""

import numpy as np


def expected_penalty(inspection_rate: float, detection_accuracy: float, penalty: float) -> float:
    """Expected fine per tick of violating: inspection x detection x penalty size."""
    return inspection_rate * detection_accuracy * penalty


def violation_probability(
    compliance: np.ndarray, expected_pen: float, temptation: float, scale: float
) -> np.ndarray:
    """Chance per tick that a platform violates the rules.

    ``p = temptation (1 - compliance) exp(-E[penalty] / scale)``: a platform violates
    when its private gain beats the expected penalty, gains being exponentially spread
    with mean proportional to ``scale``, so ``p`` falls strictly and monotonically as the
    expected penalty rises and as compliance rises.
    """
    return temptation * (1.0 - np.asarray(compliance)) * np.exp(-expected_pen / scale)


def violation_surplus(
    compliance: np.ndarray, expected_pen: np.ndarray, temptation: float, scale: float
) -> np.ndarray:
    """Expected gain per tick, net of expected fines, from the violations a platform commits.

    With the gains of :func:`violation_probability` (an opportunity with chance
    ``temptation (1 - compliance)``, a gain ``G`` exponential with mean ``scale``, taken
    when ``G`` beats the expected penalty ``f``), the surplus is
    ``temptation (1 - compliance) E[(G - f)^+] = temptation (1 - compliance) scale
    exp(-f / scale)``: what lax rules are worth to a platform, in shares of liabilities.
    """
    return temptation * (1.0 - np.asarray(compliance)) * scale * np.exp(-expected_pen / scale)
