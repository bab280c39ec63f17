"""Mesa agents: users (views onto arrays), platforms and the regulator."""

from sim.agents.platform import OPEN_STATUSES, OPERATING_STATUSES, Platform, Status
from sim.agents.regulator import Regulator
from sim.agents.user import User

__all__ = ["OPEN_STATUSES", "OPERATING_STATUSES", "Platform", "Regulator", "Status", "User"]
