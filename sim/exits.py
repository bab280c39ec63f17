"""Exit statuses of the commands, and the one way a command stops on bad input.

``trustsim``, ``trustsim-report`` and the sweepers end with :data:`BAD_INPUT` (2) when
what they were given cannot run, :data:`SWEEP_FAILED` (3) when a sweep finished with
failed runs, :data:`INTERNAL` (1) for a bug, and :data:`INTERRUPTED` (130) or
:data:`TERMINATED` (143) when stopped by SIGINT or SIGTERM. Hydra itself exits with 1 for override
and composition errors; the CLI turns those into 2 unless :data:`STARTED` says the run
had got past composition (the task started, or a sweep began launching jobs).
"""

import sys
from typing import NoReturn

INTERNAL = 1
BAD_INPUT = 2
SWEEP_FAILED = 3
INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
TERMINATED = 143  # 128 + SIGTERM


class _Started:
    """Whether input was accepted: an exit with status 1 after this is not a usage error."""

    def __init__(self) -> None:
        self.value = False

    def set(self, value: bool = True) -> None:
        """Mark the run as started (``False``: not yet)."""
        self.value = value


STARTED = _Started()


def bad_input(error: object, command: str = "trustsim") -> NoReturn:
    """Print ``command: error: ...`` on stderr and exit with :data:`BAD_INPUT`."""
    print(f"{command}: error: {error}", file=sys.stderr)
    raise SystemExit(BAD_INPUT)
