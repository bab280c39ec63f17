"""User state (sim.population): the initial draws."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from sim.population import Population, init_population

# --- init_population --------------------------------------------------------------------------


def test_literacy_is_beta(drawn, pop_cfg):
    lit = drawn.literacy.astype(np.float64)
    a, b = pop_cfg.literacy_alpha, pop_cfg.literacy_beta
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert abs(lit.mean() - mean) < 4 * sd / np.sqrt(lit.size)
    assert stats.kstest(lit, stats.beta(a, b).cdf).pvalue > 1e-3
    assert ((lit >= 0) & (lit <= 1)).all()


def test_thresholds_are_uniform_in_range(drawn, pop_cfg):
    th = drawn.withdraw_threshold.astype(np.float64)
    lo, hi = pop_cfg.threshold_low, pop_cfg.threshold_high
    assert th.min() >= np.float32(lo) and th.max() <= np.float32(hi)
    assert stats.kstest(th, stats.uniform(lo, hi - lo).cdf).pvalue > 1e-3


def test_institutional_trust_is_beta_with_mean_and_concentration(drawn, pop_cfg):
    m, c = pop_cfg.institutional_trust_mean, pop_cfg.institutional_trust_concentration
    g = drawn.institutional_trust.astype(np.float64)
    assert stats.kstest(g, stats.beta(m * c, (1 - m) * c).cdf).pvalue > 1e-3
    assert abs(g.mean() - m) < 4 * np.sqrt(m * (1 - m) / (c + 1) / g.size)


def test_wealth_is_lognormal_and_cash_its_investable_share(drawn, pop_cfg):
    log_w = np.log(drawn.wealth)
    mu, sigma = pop_cfg.wealth_log_mean, pop_cfg.wealth_log_sd
    assert abs(log_w.mean() - mu) < 4 * sigma / np.sqrt(log_w.size)
    assert stats.kstest(log_w, stats.norm(mu, sigma).cdf).pvalue > 1e-3
    np.testing.assert_allclose(drawn.cash, drawn.wealth * pop_cfg.investable_share, rtol=1e-15)


def test_initial_accounts_are_empty(drawn, pop_cfg):
    k = pop_cfg.max_accounts
    assert drawn.platform.shape == (pop_cfg.n_users, k)
    assert (drawn.platform == -1).all()
    assert (drawn.balance == 0).all() and (drawn.a == 0).all() and (drawn.b == 0).all()
    assert not drawn.ever_invested.any()
    assert (drawn.tip_platform == -1).all()
    np.testing.assert_allclose(drawn.satisfaction, pop_cfg.initial_satisfaction)


def test_same_generator_same_population(pop_cfg):
    cfg = dataclasses.replace(pop_cfg, n_users=500)
    a = init_population(cfg, np.random.default_rng(5))
    b = init_population(cfg, np.random.default_rng(5))
    for f in dataclasses.fields(Population):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))


def test_education_moves_literacy_a_share_of_the_way_to_one(drawn):
    pop = dataclasses.replace(drawn, literacy=drawn.literacy.copy())
    before = pop.literacy.astype(np.float64)
    pop.educate(0.2)
    np.testing.assert_allclose(pop.literacy, before + 0.2 * (1.0 - before), atol=1e-6)
    assert pop.literacy.dtype == np.float32 and (pop.literacy <= 1.0).all()
    reached = np.arange(pop.n) % 2 == 0
    before = pop.literacy.astype(np.float64)
    pop.educate(0.5, reached)
    expected = np.where(reached, before + 0.5 * (1.0 - before), before)
    np.testing.assert_allclose(pop.literacy, expected, atol=1e-6)
