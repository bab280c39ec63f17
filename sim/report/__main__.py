"""``python -m sim.report SWEEP_DIR``: the same as ``trustsim-report SWEEP_DIR``."""

import sys

from sim.report import main

sys.exit(main())
