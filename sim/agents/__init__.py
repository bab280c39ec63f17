"""Mesa agents: users and platforms (views onto the state arrays) and the regulator."""

from sim.agents.platform import Platform
from sim.agents.regulator import Regulator
from sim.agents.user import User

__all__ = ["Platform", "Regulator", "User"]
