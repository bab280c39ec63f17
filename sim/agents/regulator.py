"""The regulator agent: inspections, detection, penalties, early warning, education."""

import dataclasses
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.agents.platform import Platform
from sim.config import RegulatorConfig
from sim.deterrence import expected_penalty

if TYPE_CHECKING:
    from sim.model import TrustModel


class Regulator(mesa.Agent):
    """A supervisor whose policy is a copy of ``cfg.regulator`` that scenarios may change.

    Every field of :class:`sim.config.RegulatorConfig` is an attribute of the agent
    (``inspection_rate``, ``penalty``, ``disclosure_mandate``, ...), so a policy shift is
    ``setattr(model.regulator, key, value)``.
    """

    def __init__(self, model: "TrustModel", policy: RegulatorConfig):
        super().__init__(model)
        for f in dataclasses.fields(policy):
            setattr(self, f.name, getattr(policy, f.name))
        self.enforced: list[int] = []
        self.inspections = 0
        self.detected_total = 0

    def expected_penalty(self) -> float:
        """Expected fine per violation: inspection rate x detection accuracy x penalty."""
        return expected_penalty(self.inspection_rate, self.detection_accuracy, self.penalty)

    def inspection_probability(self, platform: Platform, complaint_rate: float) -> float:
        """Random, complaint-led and RegTech-flagged inspections, combined independently."""
        complaint_led = self.complaint_response * min(
            1.0, complaint_rate / self.complaint_saturation
        )
        flagged = self.early_warning if platform.flagged else 0.0
        return 1.0 - (1.0 - self.inspection_rate) * (1.0 - complaint_led) * (1.0 - flagged)

    def act(self, rng: np.random.Generator) -> None:
        """MODEL.md step 5: supervise every open platform, then educate users."""
        model = self.model
        self.enforced = []
        self.inspections = 0
        open_platforms = [p for p in model.platforms if p.is_open]
        for platform in model.random_order(open_platforms, rng):
            self._early_warning(platform, rng)
            if not platform.is_open:
                continue
            users = max(model.platform_users[platform.index], 1)
            complaint_rate = model.complaints[platform.index] / users
            if rng.random() < self.inspection_probability(platform, complaint_rate):
                self.inspections += 1
                self._inspect(platform, rng)
            memory_start = model.tick - self.violation_memory
            platform.violations_open = [t for t in platform.violations_open if t > memory_start]
        if self.education_rate > 0:
            model.population.educate(self.education_rate)

    def _inspect(self, platform: Platform, rng: np.random.Generator) -> None:
        model = self.model
        if platform.fraudulent and rng.random() < self.detection_accuracy:
            model.log_event("fraud_detected", platform=platform.index)
            model.wind_down(platform, orderly=True, reason="fraud_detected")
            self.enforced.append(platform.index)
            return
        if platform.violations_open and rng.random() < self.detection_accuracy:
            liabilities = model.liabilities[platform.index]
            fine = min(platform.cash, self.penalty * liabilities)
            platform.cash -= fine
            model.flows.penalties += fine
            platform.violations_detected += 1
            self.detected_total += len(platform.violations_open)
            platform.violations_open = []
            self.enforced.append(platform.index)
            model.log_event(
                "penalty",
                platform=platform.index,
                fine=fine,
                violations_detected=platform.violations_detected,
            )
            if platform.violations_detected >= self.shutdown_after:
                model.wind_down(platform, orderly=True, reason="repeated_violations")

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
