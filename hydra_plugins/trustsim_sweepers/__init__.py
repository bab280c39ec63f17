"""trustsim's Hydra sweepers: ``hydra/sweeper=salib`` samples a design with SALib.

Hydra finds this package in its ``hydra_plugins`` namespace (which has no ``__init__.py``)
and imports :mod:`.salib_sweeper`, which registers the sweeper's config.
"""

__version__ = "0.1.0"
