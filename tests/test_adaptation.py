"""Strategy adaptation (step 9): the Fermi rule, imitation, its cost, mutation, and output."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.adaptation import fermi_probability
from sim.config import LEVERS, Config
from sim.model import TrustModel
from sim.runner import run_simulation


def performance(model: TrustModel, kind: str) -> np.ndarray:
    """The Fermi adapter's performance measure (a new round's snapshot)."""
    return model.adapters[0].performance(model.market, kind)


def with_events(cfg: Config, *events: dict[str, Any]) -> TrustModel:
    scenario = dataclasses.replace(cfg.scenario, events=list(events))
    return TrustModel(dataclasses.replace(cfg, scenario=scenario))


def imitations(model: TrustModel) -> list[dict[str, Any]]:
    return [e for e in model.event_log if e["type"] == "imitation"]


def shares(liabilities: np.ndarray) -> np.ndarray:
    return liabilities / liabilities.sum()


class RoundRecorder:
    """Adapters around Fermi imitation that keep the state just before each round."""

    def __init__(self, model: TrustModel):
        self.model = model
        self.rounds: list[dict[str, Any]] = []
        self.prev_liabilities = model.market.liabilities.copy()  # the snapshot at tick 0
        model.adapters[:] = [self.before, model.adapters[0]]

    def before(self, market, rng: np.random.Generator) -> None:
        model = self.model
        liabilities = model.market.liabilities.copy()
        n_old = self.prev_liabilities.size
        share = shares(liabilities)
        prev = np.append(shares(self.prev_liabilities), share[n_old:])
        with np.errstate(divide="ignore", invalid="ignore"):  # closed: no growth to speak of
            growth = share / prev - 1.0
        self.rounds.append(
            {
                "tick": model.tick,
                "levers": {p.index: p.levers.copy() for p in model.platforms},
                "yield": {p.index: p.advertised_yield for p in model.platforms},
                "strategy": {p.index: p.strategy for p in model.platforms},
                "cash": {p.index: p.cash for p in model.platforms},
                "liabilities": liabilities,
                "lever_costs": model.market.this_tick.flows.lever_costs,
                "growth": growth,
                "open": {p.index for p in model.platforms if p.is_open},
            }
        )
        self.prev_liabilities = liabilities


# --- the Fermi rule --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    own=st.floats(-5, 5),
    other=st.floats(-5, 5),
    beta=st.floats(0, 50),
)
def test_fermi_probability_is_the_logistic_formula(own, other, beta):
    z = -beta * (other - own)
    expected = 1.0 / (1.0 + math.exp(z)) if z < 700 else 0.0
    assert float(fermi_probability(own, other, beta)) == pytest.approx(expected, abs=1e-12)


def test_fermi_probability_shape():
    beta = 20.0
    assert float(fermi_probability(0.3, 0.3, beta)) == 0.5
    assert float(fermi_probability(-2.0, 7.0, 0.0)) == 0.5  # no selection: a coin toss
    diffs = np.linspace(-1, 1, 201)
    p = fermi_probability(np.zeros_like(diffs), diffs, beta)
    assert p.shape == diffs.shape
    assert (np.diff(p) > 0).all()  # strictly increasing in other - own
    np.testing.assert_allclose(p + p[::-1], 1.0, atol=1e-12)  # p(d) + p(-d) = 1
    assert float(fermi_probability(0.0, 0.1, 40.0)) > float(fermi_probability(0.0, 0.1, 20.0))
    with np.errstate(all="raise"):  # no overflow at extreme selection
        assert float(fermi_probability(0.0, 1.0, 1e6)) == 1.0
        assert float(fermi_probability(1.0, 0.0, 1e6)) == 0.0


# --- performance ----------------------------------------------------------------------------


def test_growth_performance_is_share_ratio(compose_cfg):
    model = with_events(
        compose_cfg(n_users=500, ticks=10), {"tick": 3, "type": "platform_entry", "count": 2}
    )
    start = model.market.liabilities.copy()
    while model.tick < 6:
        model.step()
    now = model.market.liabilities.copy()
    share, prev = shares(now), shares(start)
    growth = performance(model, "growth")
    is_open = model.market.is_open
    incumbent = is_open[:20]
    expected = np.divide(share[:20], prev, out=np.ones(20), where=prev > 0) - 1.0
    np.testing.assert_allclose(growth[:20][incumbent], expected[incumbent], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(growth[20:][is_open[20:]], 0.0)  # entrants: no history yet
    assert np.abs(growth[:20][incumbent]).max() > 0.01
    # The call took a new snapshot: right away, no open platform has grown.
    np.testing.assert_allclose(performance(model, "growth")[is_open], 0.0, atol=1e-12)


@pytest.mark.parametrize("kind", ["growth", "profit"])
def test_performance_of_closed_platforms_is_nan(compose_cfg, kind):
    """As documented: "Each platform's performance ... (NaN if not open)"."""
    model = TrustModel(compose_cfg(n_users=300, ticks=5))
    model.step()
    model.resolver.wind_down(3, orderly=True, reason="test")
    model.step()
    result = performance(model, kind)
    assert np.isnan(result[3])
    is_open = model.market.is_open
    assert np.isnan(result[~is_open]).all() and np.isfinite(result[is_open]).all()


def test_profit_performance_is_equity_change_per_liability(compose_cfg):
    model = TrustModel(compose_cfg(n_users=500, ticks=10))
    liabilities = model.market.liabilities.copy()
    equity = np.array([p.assets for p in model.platforms]) - liabilities
    while model.tick < 5:
        model.step()
    equity_now = np.array([p.assets for p in model.platforms]) - model.market.liabilities
    profit = performance(model, "profit")
    is_open = model.market.is_open
    expected = (equity_now - equity) / liabilities
    np.testing.assert_allclose(profit[is_open], expected[is_open], rtol=1e-9)
    assert np.abs(profit[is_open]).max() > 0


# --- rounds and imitation -------------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_imitation_happens_only_at_multiples_of_every(compose_cfg, enabled):
    cfg = compose_cfg(
        f"adaptation.enabled={str(enabled).lower()}",
        "adaptation.every=4",
        "adaptation.selection_intensity=5",
        n_users=500,
        ticks=21,
    )
    model = TrustModel(cfg)
    model.run()
    ticks = [e["tick"] for e in imitations(model)]
    if enabled:
        assert ticks and all(t % 4 == 0 for t in ticks)
        assert set(ticks) == {4, 8, 12, 16, 20}
    else:
        assert ticks == []


@pytest.mark.parametrize("seed", [0, 1])
def test_imitator_copies_levers_and_pays_the_switch_cost(compose_cfg, seed):
    cfg = compose_cfg(
        "adaptation.enabled=true",
        "adaptation.every=3",
        "adaptation.mutation_rate=0",
        "adaptation.selection_intensity=10",
        "adaptation.switch_cost=0.01",
        "platforms.fraud_share=0",
        n_users=500,
        ticks=12,
        seed=seed,
    )
    model = TrustModel(cfg)
    recorder = RoundRecorder(model)
    copies = 0
    while model.tick < cfg.ticks:
        model.step()
        if model.tick % 3:
            continue
        before = recorder.rounds[-1]
        events = [e for e in imitations(model) if e["tick"] == model.tick]
        imitators = {e["platform"] for e in events}
        assert len(imitators) == len(events)  # one decision per platform per round
        cost_total = 0.0
        for e in events:
            p, j = model.platforms[e["platform"]], e["copied"]
            assert j != p.index and {p.index, j} <= before["open"]
            np.testing.assert_array_equal(p.levers, before["levers"][j])
            assert not np.array_equal(before["levers"][p.index], before["levers"][j])
            assert p.advertised_yield == before["yield"][j]
            assert p.strategy == before["strategy"][j]
            cost = 0.01 * before["liabilities"][p.index]
            assert p.cash == pytest.approx(before["cash"][p.index] - cost, rel=1e-12)
            cost_total += cost
        for p in model.platforms:
            if p.index not in imitators:
                np.testing.assert_array_equal(p.levers, before["levers"][p.index])
                assert p.cash == before["cash"][p.index]
        spent = model.market.this_tick.flows.lever_costs - before["lever_costs"]
        assert spent == pytest.approx(cost_total, rel=1e-9, abs=1e-9)
        copies += len(events)
    assert copies > 0


def test_two_platforms_the_worse_copies_the_better(compose_cfg):
    cfg = compose_cfg(
        "platforms.count=2",
        "platforms.fraud_share=0",
        "adaptation.enabled=true",
        "adaptation.every=3",
        "adaptation.selection_intensity=1e6",
        "adaptation.mutation_rate=1",
        "adaptation.mutation_sd=0.02",
        n_users=500,
        ticks=30,
    )
    model = TrustModel(cfg)
    recorder = RoundRecorder(model)
    model.run()
    assert len(recorder.rounds) == 10
    decided = 0
    for r in recorder.rounds:
        assert r["open"] == {0, 1}
        growth = r["growth"]
        pairs = [(e["platform"], e["copied"]) for e in imitations(model) if e["tick"] == r["tick"]]
        if abs(growth[0] - growth[1]) < 1e-4:
            continue  # too close to call
        worse, better = (0, 1) if growth[0] < growth[1] else (1, 0)
        assert pairs == [(worse, better)], r["tick"]
        decided += 1
    assert decided >= 8


def test_imitation_flows_from_better_to_worse_performers(compose_cfg):
    cfg = compose_cfg(
        "adaptation.enabled=true",
        "adaptation.every=2",
        "adaptation.selection_intensity=1e6",
        n_users=600,
        ticks=16,
    )
    model = TrustModel(cfg)
    recorder = RoundRecorder(model)
    model.run()
    events = imitations(model)
    assert len(events) >= 10
    for r in recorder.rounds:
        growth = r["growth"]
        for e in events:
            if e["tick"] == r["tick"]:
                assert growth[e["copied"]] > growth[e["platform"]] - 1e-6, e


def test_mutation_moves_levers_within_bounds(compose_cfg):
    cfg = compose_cfg(
        "adaptation.enabled=true",
        "adaptation.every=2",
        "adaptation.mutation_rate=1",
        "adaptation.mutation_sd=0.3",
        "adaptation.selection_intensity=0",
        "adaptation.switch_cost=1",  # nobody can afford to imitate: mutation only
        n_users=500,
        ticks=10,
    )
    model = TrustModel(cfg)
    recorder = RoundRecorder(model)
    at_bounds = 0
    while model.tick < cfg.ticks:
        model.step()
        if model.tick % 2:
            continue
        before = recorder.rounds[-1]["levers"]
        for p in model.platforms:
            if not p.is_open:
                continue
            old, new = before[p.index], p.levers
            assert ((new >= 0) & (new <= 1)).all()
            stuck = (new == old) & ((old == 0) | (old == 1))
            assert ((new != old) | stuck).all(), (p.index, old, new)
            at_bounds += int(((new == 0) | (new == 1)).sum())
    assert imitations(model) == []
    assert at_bounds > 0  # large mutations are clipped to [0, 1]


# --- levers over time in platforms.parquet ----------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_lever_distribution_in_platforms_parquet(compose_cfg, tmp_path, enabled):
    cfg = compose_cfg(
        f"adaptation.enabled={str(enabled).lower()}",
        "adaptation.every=3",
        "adaptation.mutation_rate=0.5",
        "output.plot=false",
        "output.progress=false",
        n_users=300,
        ticks=12,
    )
    run_simulation(cfg, tmp_path)
    table = pd.read_parquet(tmp_path / "platforms.parquet")
    assert set(LEVERS) <= set(table.columns)
    assert len(table) == 13 * 20
    assert table.groupby("tick").size().tolist() == [20] * 13
    levers = table.sort_values(["platform", "tick"]).set_index(["platform", "tick"])[list(LEVERS)]
    assert ((levers >= 0) & (levers <= 1)).all().all()
    steps = levers.groupby(level="platform").diff().fillna(0.0)
    others = [lever for lever in LEVERS if lever != "compliance"]
    moved = steps[others].abs().sum(axis=1)
    moved_ticks = set(moved[moved > 0].index.get_level_values("tick"))
    # Outside adaptation, only a penalty's remediation moves a lever: compliance, upward.
    ticks = steps.index.get_level_values("tick")
    between = ~ticks.isin([3, 6, 9, 12]) if enabled else np.ones(len(steps), dtype=bool)
    assert (steps.loc[between, "compliance"] >= 0.0).all()
    if enabled:
        assert moved_ticks and moved_ticks <= {3, 6, 9, 12}
        spread = levers.groupby(level="tick").std()
        assert not np.allclose(spread.loc[12], spread.loc[0])
    else:
        assert moved_ticks == set()
