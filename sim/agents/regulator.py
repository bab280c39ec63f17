"""The regulator agent: inspections, detection, penalties, early warning, sandboxes, education."""

import dataclasses
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.agents.platform import Platform, Status
from sim.config import RegulatorConfig
from sim.deterrence import expected_penalty

if TYPE_CHECKING:
    from sim.model import TrustModel


class Regulator(mesa.Agent):
    """A supervisor whose policy is a copy of ``cfg.regulator`` that scenarios may change.

    Every field of :class:`sim.config.RegulatorConfig` is an attribute of the agent
    (``inspection_rate``, ``penalty``, ``disclosure_mandate``, ...), so a policy shift is
    ``setattr(model.regulator, key, value)``. An adaptive regulator (seed 2.3) multiplies
    its inspection rate and penalty by ``tightening`` >= 1, which rises with the moving
    average of the violation rate above ``adapt_target``.
    """

    def __init__(self, model: "TrustModel", policy: RegulatorConfig):
        super().__init__(model)
        for f in dataclasses.fields(policy):
            setattr(self, f.name, getattr(policy, f.name))
        self.enforced: list[int] = []
        self.inspections = 0
        self.detected_total = 0
        self.violation_average = 0.0
        self.tightening = 1.0

    def effective_inspection_rate(self) -> float:
        """Random-inspection chance per tick, after adaptive tightening."""
        return min(1.0, self.inspection_rate * self.tightening)

    def effective_penalty(self) -> float:
        """Fine as a share of liabilities, after adaptive tightening."""
        return min(1.0, self.penalty * self.tightening)

    def expected_penalty(self) -> float:
        """Expected fine per violation: inspection rate x detection accuracy x penalty."""
        return expected_penalty(
            self.effective_inspection_rate(), self.detection_accuracy, self.effective_penalty()
        )

    def inspection_probability(self, platform: Platform, complaint_rate: float) -> float:
        """Random, complaint-led, RegTech-flagged and sandbox inspections, independently."""
        complaint_led = self.complaint_response * min(
            1.0, complaint_rate / self.complaint_saturation
        )
        flagged = self.early_warning if platform.flagged else 0.0
        sandbox = platform.sandbox.monitoring if platform.sandbox is not None else 0.0
        miss = (1.0 - self.effective_inspection_rate()) * (1.0 - complaint_led)
        return 1.0 - miss * (1.0 - flagged) * (1.0 - sandbox)

    def act(self, rng: np.random.Generator) -> None:
        """MODEL.md step 5: supervise every open platform, review sandboxes, educate."""
        model = self.model
        self.enforced = []
        self.inspections = 0
        self._adapt(model)
        open_platforms = [p for p in model.platforms if p.is_open]
        for platform in model.random_order(open_platforms, rng):
            self._early_warning(platform, rng)
            if not platform.is_open:
                continue
            users = max(model.platform_users[platform.index], 1)
            complaint_rate = model.complaints[platform.index] / users
            if rng.random() < self.inspection_probability(platform, complaint_rate):
                self.inspections += 1
                self._inspect(platform, rng, self.detection_accuracy, "inspection")
            if (
                platform.is_open
                and self.peer_audit_rate > 0
                and rng.random() < self.peer_audit_rate
            ):
                self._inspect(platform, rng, self.peer_audit_accuracy, "peer_audit")
            memory_start = model.tick - self.violation_memory
            platform.violations_open = [t for t in platform.violations_open if t > memory_start]
            if platform.sandbox is not None and model.tick >= platform.sandbox.review_tick:
                self._review(platform)
        for platform in model.platforms:
            if platform.status == Status.SUSPENDED and model.tick >= platform.suspended_until:
                model.wind_down(platform, orderly=True, reason="repeated_violations")
        if self.education_rate > 0:
            model.population.educate(self.education_rate)

    def _adapt(self, model: "TrustModel") -> None:
        """Adaptive regime: tighten as the smoothed violation rate exceeds the target."""
        rate = model.violation_rate()
        self.violation_average += self.adapt_smoothing * (rate - self.violation_average)
        if not self.adaptive:
            self.tightening = 1.0
            return
        excess = max(0.0, self.violation_average - self.adapt_target) / max(self.adapt_target, 1e-9)
        self.tightening = min(self.max_tightening, 1.0 + self.adapt_gain * excess)

    def _inspect(
        self, platform: Platform, rng: np.random.Generator, accuracy: float, by: str
    ) -> None:
        model = self.model
        if platform.fraudulent and rng.random() < accuracy:
            model.log_event("fraud_detected", platform=platform.index, by=by)
            self._blacklist(platform)
            model.wind_down(platform, orderly=True, reason="fraud_detected")
            self.enforced.append(platform.index)
            return
        if platform.violations_open and rng.random() < accuracy:
            self.detected_total += len(platform.violations_open)
            platform.violations_open = []
            self._blacklist(platform)
            if by == "peer_audit":  # the association names and shames; the state fines
                model.log_event("peer_audit_finding", platform=platform.index)
                return
            liabilities = model.liabilities[platform.index]
            fine = min(platform.cash, self.effective_penalty() * liabilities)
            platform.cash -= fine
            model.flows.penalties += fine
            platform.violations_detected += 1
            self.enforced.append(platform.index)
            model.log_event(
                "penalty",
                platform=platform.index,
                fine=fine,
                violations_detected=platform.violations_detected,
            )
            if platform.violations_detected >= self.shutdown_after:
                self._suspend(platform)

    def _suspend(self, platform: Platform) -> None:
        """Repeated violations: no new deposits; users may leave; then an orderly wind-down."""
        platform.status = Status.SUSPENDED
        platform.sandbox = None
        platform.suspended_until = self.model.tick + self.suspension_ticks
        self.model.log_event("suspended", platform=platform.index, until=platform.suspended_until)

    def _blacklist(self, platform: Platform) -> None:
        if self.blacklist and not platform.blacklisted:
            platform.blacklisted = True
            self.model.log_event("blacklisted", platform=platform.index)

    def _review(self, platform: Platform) -> None:
        """Sandbox graduation review.

        Solvent and clean: graduates. Solvent with violations: exits as a going concern.
        Insolvent: wound down in order.
        """
        model = self.model
        solvent = platform.assets >= model.liabilities[platform.index]
        if solvent and platform.violations_detected == 0 and not platform.blacklisted:
            platform.status = Status.ACTIVE
            platform.sandbox = None
            model.sandbox_graduations += 1
            model.log_event("sandbox_graduation", platform=platform.index)
        elif solvent:
            model.wind_down(platform, orderly=True, reason="sandbox_review", status=Status.EXITED)
        else:
            model.wind_down(platform, orderly=True, reason="sandbox_review")

    def _early_warning(self, platform: Platform, rng: np.random.Generator) -> None:
        """RegTech flags liquidity stress; a flagged insolvent platform is wound down in order."""
        model = self.model
        cfg = model.cfg.platforms
        liabilities = model.liabilities[platform.index]
        if liabilities <= 0:
            return
        stressed = platform.cash < cfg.liquidity_stress * liabilities
        insolvent = platform.assets < liabilities
        if (
            not platform.flagged
            and (stressed or insolvent)
            and rng.random() < self.early_warning * self.detection_accuracy
        ):
            platform.flagged = True
            model.log_event("early_warning", platform=platform.index)
        if platform.flagged and insolvent:
            model.wind_down(platform, orderly=True, reason="early_warning")
