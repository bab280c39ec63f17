"""trustsim: agent-based simulation of user trust in internet-finance platforms.

The package separates pure kernels (arrays and a ``numpy.random.Generator`` in, arrays
out) from the Mesa wiring in :mod:`sim.model`. Start from :func:`sim.compose.compose_config`
and :class:`sim.model.TrustModel`, or run ``trustsim`` on the command line.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trustsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
