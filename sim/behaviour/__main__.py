"""``python -m sim.behaviour``: the same as ``trustsim-behaviour``."""

import sys

from sim.behaviour.cli import main

sys.exit(main())
