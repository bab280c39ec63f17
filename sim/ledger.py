"""Money flows of one tick, so that every unit of money can be accounted for.

Two identities hold every tick (tested in ``tests/test_ledger.py``):

* users: ``d(cash + balances) = income + interest_credited - fees - default_passthrough
  - user_losses``; for balances alone (assets under management)
  ``d(balances) = deposits - withdrawals - user_losses + interest_credited - fees
  - default_passthrough``.
* platforms: ``d(cash + loans) = deposits - withdrawals + loan_interest
  - default_losses - lever_costs - compliance_costs - penalties - fraud_diverted - misconduct_losses
  - violation_harm - fire_sale_losses - liquidation_losses - equity_distributed
  + capital_injected``.
"""

from dataclasses import asdict, dataclass


@dataclass
class TickFlows:
    """Sums over the whole market for one tick (currency units)."""

    income: float = 0.0
    deposits: float = 0.0
    withdrawals: float = 0.0
    failed_withdrawals: float = 0.0
    interest_credited: float = 0.0
    fees: float = 0.0
    user_losses: float = 0.0
    loan_interest: float = 0.0
    default_losses: float = 0.0
    lever_costs: float = 0.0
    compliance_costs: float = 0.0
    penalties: float = 0.0
    fraud_diverted: float = 0.0
    misconduct_losses: float = 0.0
    violation_harm: float = 0.0
    fire_sale_losses: float = 0.0
    liquidation_losses: float = 0.0
    equity_distributed: float = 0.0
    default_passthrough: float = 0.0
    capital_injected: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The flows as a plain dict."""
        return asdict(self)

    def user_wealth_change(self) -> float:
        """What the users' cash plus balances should have changed by."""
        return (
            self.income
            + self.interest_credited
            - self.fees
            - self.default_passthrough
            - self.user_losses
        )

    def aum_change(self) -> float:
        """What the users' balances (assets under management) should have changed by."""
        return (
            self.deposits
            - self.withdrawals
            - self.user_losses
            + self.interest_credited
            - self.fees
            - self.default_passthrough
        )

    def platform_assets_change(self) -> float:
        """What the platforms' cash and loans should have changed by."""
        return (
            self.deposits
            - self.withdrawals
            + self.loan_interest
            - self.default_losses
            - self.lever_costs
            - self.compliance_costs
            - self.penalties
            - self.fraud_diverted
            - self.misconduct_losses
            - self.violation_harm
            - self.fire_sale_losses
            - self.liquidation_losses
            - self.equity_distributed
            + self.capital_injected
        )
