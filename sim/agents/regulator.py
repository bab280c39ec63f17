"""The regulator agent: inspections, detection, penalties, early warning, sandboxes, education."""

import dataclasses

import mesa
import numpy as np

from sim.config import LEVER_INDEX, PlatformsConfig, RegulatorConfig
from sim.deterrence import expected_penalty
from sim.market import Market, Status
from sim.population import Population
from sim.resolution import Resolver

COMPLIANCE = LEVER_INDEX["compliance"]


class Regulator(mesa.Agent):
    """A supervisor acting on its ``policy``, a copy of ``cfg.regulator`` that events change.

    Every field of :class:`sim.config.RegulatorConfig` is a field of ``policy``
    (``inspection_rate``, ``penalty``, ``disclosure_mandate``, ...), so a policy shift is
    ``setattr(regulator.policy, key, value)``. An adaptive regulator (seed 2.3) multiplies
    its inspection rate and penalty by ``tightening`` >= 1, which rises with the moving
    average of the violation rate above ``adapt_target``.

    Attributes:
        policy: The live policy.
        enforced: Platforms penalised or shut for fraud this tick (enforcement news).
        inspections: Inspections this tick.
        supervision_cost: What supervision has cost so far, in inspections (:meth:`account`).
        detected_total: Violations detected so far.
        violation_average: Smoothed violation rate (the adaptive regime's signal).
        tightening: The adaptive multiplier (1 = none).
    """

    def __init__(
        self,
        model: mesa.Model,
        policy: RegulatorConfig,
        jurisdiction: int | None = None,
        registers: int = 0,
    ):
        super().__init__(model)
        self.policy = dataclasses.replace(policy)
        # None: the only regulator, of every platform and user; else the index of the
        # jurisdiction whose licensed platforms and residents are its own, and the
        # blacklists (bits of ``market.listed``) a listing of its goes on: its own, or
        # every jurisdiction's when they share one.
        self.jurisdiction = jurisdiction
        self.registers = registers
        self.enforced: list[int] = []
        self.inspections = 0
        self.supervision_cost = 0.0
        self._monitored = 0  # open licensees this tick (early warning watches each)
        self._taught = 0.0  # literacy education added this tick, over the users reached
        self.detected_total = 0
        self.violation_average = 0.0
        self.tightening = 1.0

    def effective_inspection_rate(self) -> float:
        """Random-inspection chance per tick, after adaptive tightening."""
        return min(1.0, self.policy.inspection_rate * self.tightening)

    def effective_penalty(self) -> float:
        """Fine as a share of liabilities, after adaptive tightening."""
        return min(1.0, self.policy.penalty * self.tightening)

    def expected_penalty(self) -> float:
        """Expected fine per violation: inspection rate x detection accuracy x penalty."""
        return expected_penalty(
            self.effective_inspection_rate(),
            self.policy.detection_accuracy,
            self.effective_penalty(),
        )

    def inspection_probability(self, market: Market, j: int, complaint_rate: float) -> float:
        """Random, complaint-led, RegTech-flagged and sandbox inspections, independently."""
        rates = np.zeros(len(market))
        rates[j] = complaint_rate
        return float(self.inspection_probabilities(market, rates)[j])

    def inspection_probabilities(self, market: Market, complaint_rates: np.ndarray) -> np.ndarray:
        """:meth:`inspection_probability` of every platform at once."""
        policy = self.policy
        complaint_led = policy.complaint_response * np.minimum(
            1.0, complaint_rates / policy.complaint_saturation
        )
        flagged = np.where(market.flagged, policy.early_warning, 0.0)
        sandbox = np.where(market.in_sandbox, market.sandbox_monitoring, 0.0)
        miss = (1.0 - self.effective_inspection_rate()) * (1.0 - complaint_led)
        return 1.0 - miss * (1.0 - flagged) * (1.0 - sandbox)

    def act(
        self,
        market: Market,
        population: Population,
        platforms: PlatformsConfig,
        resolver: Resolver,
        rng: np.random.Generator,
    ) -> None:
        """MODEL.md step 5: supervise every open platform, review sandboxes, educate.

        With several jurisdictions, "every" is every platform licensed in this regulator's
        jurisdiction, and education reaches the users who live there.

        The open platforms are visited in a random order; each visit's chances are set by
        the state at the start of the step (a visit changes only its own platform), so they
        are drawn for all at once and only the platforms something happens to are handled
        one by one, in the visiting order: thousands of platforms cost array operations,
        not a Python loop each.

        Args:
            market: The platforms.
            population: The users (education raises their literacy).
            platforms: The liquidity-stress threshold of early warning.
            resolver: Closes the platforms supervision shuts.
            rng: The regulator's generator: the visiting order, then six uniforms per
                visited platform (flag, inspection, fraud found, violation found, peer
                audit, peer finding).
        """
        policy = self.policy
        self.enforced = []
        self.inspections = 0
        own = None if self.jurisdiction is None else market.jurisdiction == self.jurisdiction
        self._adapt(market, own)
        open_platforms = np.flatnonzero(market.is_open if own is None else market.is_open & own)
        self._monitored = open_platforms.size
        order = open_platforms[rng.permutation(open_platforms.size)]
        u = rng.random((order.size, 6))
        self._early_warning(market, order, u[:, 0], platforms.liquidity_stress, resolver)
        complaint_rate = market.complaints[order] / np.maximum(market.holders[order], 1)
        rates = np.zeros(len(market))
        rates[order] = complaint_rate
        p_inspect = self.inspection_probabilities(market, rates)[order]
        inspected = u[:, 1] < p_inspect
        audited = u[:, 4] < policy.peer_audit_rate
        for k in np.flatnonzero(inspected | audited):
            j = int(order[k])
            if inspected[k] and market.is_open[j]:
                self.inspections += 1
                found = (u[k, 2], u[k, 3])
                self._inspect(market, j, resolver, found, policy.detection_accuracy, "inspection")
            if audited[k] and market.is_open[j]:
                found = (u[k, 5], u[k, 5])
                self._inspect(market, j, resolver, found, policy.peer_audit_accuracy, "peer_audit")
        memory_start = market.tick - policy.violation_memory
        for j in order:
            if market.violations_open[j]:  # only platforms with violations to forget
                market.violations_open[j] = [
                    t for t in market.violations_open[j] if t > memory_start
                ]
        due_review = market.is_open[order] & market.in_sandbox[order]
        due_review &= market.tick >= market.sandbox_review[order]
        for j in order[due_review]:
            self._review(market, int(j), resolver)
        due = market.is_frozen & (market.tick >= market.suspended_until)
        if own is not None:
            due &= own
        for j in np.flatnonzero(due):
            # A sanction, not a failure: a solvent platform's book runs off at the exit
            # haircut, so its users lose little (seed 2.4: orderly exit).
            solvent = market.is_solvent(j)
            resolver.wind_down(
                int(j), orderly=True, reason="repeated_violations", going_concern=bool(solvent)
            )
        self._taught = 0.0
        if policy.education_rate > 0:
            residents = (
                None if self.jurisdiction is None else population.jurisdiction == self.jurisdiction
            )
            # Education moves literacy a share rate of the way to 1: it adds rate x (1 - l).
            taught = population.literacy if residents is None else population.literacy[residents]
            gap = taught.size - float(taught.sum(dtype=np.float64))
            self._taught = policy.education_rate * gap
            population.educate(policy.education_rate, residents)

    def account(self) -> float:
        """Add this tick's cost of supervision to ``supervision_cost``; return the tick's.

        One per inspection (its own and joint ones), ``monitoring_cost`` x
        ``early_warning`` per open licensee watched by RegTech, and ``education_cost`` per
        unit of literacy education added. Fines cost the regulator nothing: Becker's (1968)
        reason to deter with large fines rather than frequent inspections. Called after
        every inspection of the tick (step 5).
        """
        policy = self.policy
        cost = (
            self.inspections
            + policy.monitoring_cost * policy.early_warning * self._monitored
            + policy.education_cost * self._taught
        )
        self.supervision_cost += cost
        return cost

    def inspect_jointly(
        self,
        market: Market,
        j: int,
        resolver: Resolver,
        found: tuple[float, float],
        accuracy: float,
    ) -> None:
        """A joint inspection of licensee ``j`` with a foreign regulator (``sim.jurisdictions``).

        This regulator, the licensing one, acts on what is found (its fines, its suspension
        and blacklist rules); ``accuracy`` is the better of the two regulators' detection.
        Counted with this tick's inspections, so it runs after :meth:`act`.
        """
        if not market.is_open[j]:
            return
        self.inspections += 1
        self._inspect(market, j, resolver, found, accuracy, "joint_inspection")

    def _log(self, market: Market, kind: str, **fields: object) -> None:
        """Log an action; with several jurisdictions, say whose regulator took it."""
        if self.jurisdiction is not None:
            fields["regulator"] = self.jurisdiction
        market.log(kind, **fields)

    def _adapt(self, market: Market, own: np.ndarray | None = None) -> None:
        """Adaptive regime: tighten as the smoothed violation rate exceeds the target.

        The rate is over the platforms it supervises (``own``; all if None).
        """
        policy = self.policy
        rate = market.violation_rate(own)
        self.violation_average += policy.adapt_smoothing * (rate - self.violation_average)
        if not policy.adaptive:
            self.tightening = 1.0
            return
        excess = max(0.0, self.violation_average - policy.adapt_target) / max(
            policy.adapt_target, 1e-9
        )
        self.tightening = min(policy.max_tightening, 1.0 + policy.adapt_gain * excess)

    def _inspect(
        self,
        market: Market,
        j: int,
        resolver: Resolver,
        found: tuple[float, float],
        accuracy: float,
        by: str,
    ) -> None:
        """Look for fraud, then for open violations; each found with chance ``accuracy``.

        ``found`` are the visit's two uniforms (fraud, violations).
        """
        if market.fraudulent[j] and found[0] < accuracy:
            self._log(market, "fraud_detected", platform=j, by=by)
            self._blacklist(market, j)
            resolver.wind_down(j, orderly=True, reason="fraud_detected")
            self.enforced.append(j)
            return
        if market.violations_open[j] and found[1] < accuracy:
            self.detected_total += len(market.violations_open[j])
            market.violations_open[j] = []
            self._blacklist(market, j)
            if by == "peer_audit":  # the association names and shames; the state fines
                self._log(market, "peer_audit_finding", platform=j)
                return
            fine = min(market.cash[j], self.effective_penalty() * market.liabilities[j])
            market.cash[j] -= fine
            market.this_tick.flows.penalties += fine
            market.violations_detected[j] += 1
            self.enforced.append(j)
            detected = int(market.violations_detected[j])
            self._log(market, "penalty", platform=j, fine=float(fine), violations_detected=detected)
            # A corrective order: the platform must close part of its compliance gap.
            c = market.levers[j, COMPLIANCE]
            market.levers[j, COMPLIANCE] = c + self.policy.remediation * (1.0 - c)
            if detected >= self.policy.shutdown_after:
                self._suspend(market, j)

    def _suspend(self, market: Market, j: int) -> None:
        """Repeated violations: no new deposits, withdrawals stayed, then an orderly wind-down.

        The stay keeps a sanction from becoming a run: holders cannot all ask for their
        money at once while the platform still holds only its reserve in cash.
        """
        market.set_status(j, Status.SUSPENDED)
        market.set_sandbox(j, None)
        until = market.tick + self.policy.suspension_ticks
        market.suspended_until[j] = until
        self._log(market, "suspended", platform=j, until=until)

    def _listed(self, market: Market, j: int) -> bool:
        """On this regulator's blacklist (the only one, with one jurisdiction)."""
        if self.jurisdiction is None:
            return bool(market.blacklisted[j])
        return bool(market.listed_in(self.jurisdiction)[j])

    def _blacklist(self, market: Market, j: int) -> None:
        if self.policy.blacklist and not self._listed(market, j):
            market.blacklisted[j] = True
            market.listed[j] |= self.registers
            self._log(market, "blacklisted", platform=j)

    def _review(self, market: Market, j: int, resolver: Resolver) -> None:
        """Sandbox graduation review.

        Solvent and clean: graduates. Solvent with violations: exits as a going concern.
        Insolvent: wound down in order.
        """
        solvent = market.is_solvent(j)
        if solvent and market.violations_detected[j] == 0 and not self._listed(market, j):
            market.set_status(j, Status.ACTIVE)
            market.set_sandbox(j, None)
            market.sandbox_graduations += 1
            self._log(market, "sandbox_graduation", platform=j)
        elif solvent:
            resolver.wind_down(j, orderly=True, reason="sandbox_review", status=Status.EXITED)
        else:
            resolver.wind_down(j, orderly=True, reason="sandbox_review")

    def _early_warning(
        self,
        market: Market,
        order: np.ndarray,
        draws: np.ndarray,
        liquidity_stress: float,
        resolver: Resolver,
    ) -> None:
        """RegTech flags liquidity stress; a flagged insolvent platform is wound down in order.

        ``order`` are the open platforms in visiting order, ``draws`` one uniform each.
        """
        liabilities = market.liabilities[order]
        cash = market.cash[order]
        owing = liabilities > 0
        stressed = cash < liquidity_stress * liabilities
        insolvent = owing & (cash + market.loans[order] < liabilities)
        # RegTech flags stress with early_warning x accuracy; a sandbox's close monitoring
        # watches its entrants' books as well (seed 5.3).
        chance = np.full(order.size, self.policy.early_warning * self.policy.detection_accuracy)
        in_sandbox = market.in_sandbox[order]
        chance = np.where(
            in_sandbox, 1.0 - (1.0 - chance) * (1.0 - market.sandbox_monitoring[order]), chance
        )
        new = owing & ~market.flagged[order] & (stressed | insolvent) & (draws < chance)
        for j in order[new]:
            market.flagged[j] = True
            self._log(market, "early_warning", platform=int(j))
        for j in order[market.flagged[order] & insolvent]:
            resolver.wind_down(int(j), orderly=True, reason="early_warning")
