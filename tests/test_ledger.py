"""Money is conserved every tick: stocks move exactly by the tick's flows (``TickFlows``)."""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.compose import SCENARIO_DIR
from sim.ledger import TickFlows
from sim.model import TrustModel

REL = 1e-9


@dataclass
class Stocks:
    """The money stocks the ledger identities speak about."""

    balances: float
    user_wealth: float
    platform_assets: float

    @classmethod
    def of(cls, model: TrustModel) -> Stocks:
        pop = model.population
        balances = float(pop.balance.sum())
        return cls(
            balances=balances,
            user_wealth=float(pop.cash.sum()) + balances,
            platform_assets=float(sum(p.cash + p.loans for p in model.platforms)),
        )


def assert_close(change: float, flow: float, scale: float, what: str, tick: int) -> None:
    assert abs(change - flow) <= REL * max(scale, 1.0), (
        f"tick {tick}: {what} changed by {change!r} but flows say {flow!r} "
        f"(gap {change - flow!r}, scale {scale!r})"
    )


def check_every_tick(model: TrustModel, ticks: int) -> collections.Counter:
    """Step ``ticks`` times, checking all three identities and signs after each tick."""
    for _ in range(ticks):
        before = Stocks.of(model)
        model.step()
        after = Stocks.of(model)
        flows = model.market.this_tick.flows
        tick = model.tick
        scale_b = max(before.balances, after.balances)
        scale_w = max(before.user_wealth, after.user_wealth)
        scale_p = max(before.platform_assets, after.platform_assets)
        assert_close(
            after.balances - before.balances, flows.aum_change(), scale_b, "sum(balance)", tick
        )
        assert_close(
            after.user_wealth - before.user_wealth,
            flows.user_wealth_change(),
            scale_w,
            "sum(cash + balance)",
            tick,
        )
        assert_close(
            after.platform_assets - before.platform_assets,
            flows.platform_assets_change(),
            scale_p,
            "sum(platform cash + loans)",
            tick,
        )
        pop = model.population
        assert (pop.balance >= 0).all(), f"tick {tick}: negative balance"
        assert (pop.cash >= 0).all(), f"tick {tick}: negative user cash"
        for p in model.platforms:
            assert p.cash >= 0, f"tick {tick}: platform {p.index} cash {p.cash}"
            assert p.loans >= 0, f"tick {tick}: platform {p.index} loans {p.loans}"
        # Every flow is a non-negative amount.
        for name, value in flows.as_dict().items():
            assert value >= 0, f"tick {tick}: flow {name} = {value}"
    return collections.Counter(e["type"] for e in model.event_log)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    penalty=st.sampled_from([0.0, 0.01, 0.2]),
    custody=st.sampled_from([0.0, 0.5, 1.0]),
    fraud_share=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
    income_share=st.sampled_from([0.0, 0.001, 0.02]),
    preset=st.sampled_from(["mixed", "laggard", "balanced"]),
    regulator=st.sampled_from(["rules_based", "laissez_faire"]),
)
def test_money_is_conserved_every_tick(
    build_model, seed, penalty, custody, fraud_share, income_share, preset, regulator
):
    model = build_model(
        f"platforms={preset}",
        f"regulator={regulator}",
        f"regulator.penalty={penalty}",
        f"regulator.custody_requirement={custody}",
        f"platforms.fraud_share={fraud_share}",
        f"population.income_share={income_share}",
        n_users=300,
        ticks=30,
        seed=seed,
    )
    check_every_tick(model, 30)


@pytest.mark.parametrize("scenario", sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
def test_money_is_conserved_in_every_library_scenario(build_model, scenario):
    """Entrants bring capital, rumours and shocks move money: every tick still balances."""
    events = OmegaConf.to_container(OmegaConf.load(SCENARIO_DIR / f"{scenario}.yaml"))["events"]
    ticks = max(200, *(e["tick"] for e in events or [{"tick": 0}]))
    model = build_model(f"scenario={scenario}", n_users=400, ticks=ticks, seed=2)
    check_every_tick(model, ticks)


def test_money_is_conserved_with_endogenous_entry_and_exit(build_model):
    """The China P2P experiment: entrants' capital, exits, absconding frauds, an exit drive."""
    model = build_model("+experiment=china_p2p", n_users=400, ticks=416, seed=3)
    kinds = check_every_tick(model, 416)
    assert kinds["entry"] > 0 and kinds["exited"] > 0, kinds


@pytest.mark.parametrize("early_warning", [0.0, 1.0])
@pytest.mark.parametrize("custody", [0.0, 0.9])
def test_money_is_conserved_through_collapses_and_wind_downs(build_model, early_warning, custody):
    """A world engineered to fail: every platform a fraud, lax supervision."""
    model = build_model(
        "platforms=laggard",
        "platforms.fraud_share=1.0",
        "platforms.fraud_drawdown=0.05",
        f"regulator.custody_requirement={custody}",
        f"regulator.early_warning={early_warning}",
        "regulator.detection_accuracy=1.0",
        n_users=400,
        ticks=40,
        seed=1,
    )
    kinds = check_every_tick(model, 40)
    assert kinds["collapsed"] + kinds["wound_down"] > 0, kinds


def test_initial_state_matches_liabilities(build_model):
    """At tick 0 the platforms owe exactly the users' balances, and hold them plus capital."""
    model = build_model(n_users=300)
    pop = model.population
    liabilities = np.bincount(pop.platform[pop.held], pop.balance[pop.held], minlength=20)
    np.testing.assert_allclose(model.market.liabilities, liabilities, rtol=1e-12)
    capital = sum(
        model.cfg.platforms.capital_share
        * pop.wealth.sum()
        * model.cfg.population.investable_share
        * model.cfg.population.initial_investor_share
        * model.cfg.population.deposit_share
        / model.cfg.platforms.count
        for _ in model.platforms
    )
    assets = sum(p.cash + p.loans for p in model.platforms)
    assert assets == pytest.approx(pop.balance.sum() + capital, rel=1e-9)


def test_tick_flows_identities():
    """The identities themselves, on hand-made flows."""
    f = TickFlows(
        income=10.0,
        deposits=100.0,
        withdrawals=40.0,
        interest_credited=3.0,
        fees=1.0,
        user_losses=7.0,
        loan_interest=5.0,
        default_losses=2.0,
        lever_costs=0.5,
        penalties=0.25,
        fraud_diverted=1.5,
        misconduct_losses=0.75,
        violation_harm=0.125,
        fire_sale_losses=4.0,
        liquidation_losses=0.375,
        equity_distributed=0.5,
        default_passthrough=0.0625,
        capital_injected=8.0,
    )
    assert f.user_wealth_change() == pytest.approx(10.0 + 3.0 - 1.0 - 0.0625 - 7.0)
    assert f.aum_change() == pytest.approx(100.0 - 40.0 - 7.0 + 3.0 - 1.0 - 0.0625)
    assert f.platform_assets_change() == pytest.approx(
        100 - 40 + 5 - 2 - 0.5 - 0.25 - 1.5 - 0.75 - 0.125 - 4 - 0.375 - 0.5 + 8
    )
    assert set(f.as_dict()) >= {"income", "deposits", "withdrawals", "user_losses"}
