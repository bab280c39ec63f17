r"""A Hydra sweeper that runs a SALib sampling design: ``hydra/sweeper=salib``.

The sweeper samples the config keys in ``hydra.sweeper.params`` (``key: [lo, hi]``,
checked against the trustsim schema) with SALib's Latin hypercube, Saltelli/Sobol' or
Morris sampler, seeded, writes the design to ``SWEEP_DIR/design.json`` and launches one
job per design row, with ``key=value`` for each parameter and ``sample=ROW``. The other
command-line overrides go to every job; sweeps among them (``seed=range(3)``) multiply the
design: every row runs once per combination. Jobs run replicate by replicate, each in
design order, so their numbers (and run folders) are the same each time the same sweep
is started: a sweep started again into its folder resumes (the CLI skips finished runs).

    trustsim -m hydra/sweeper=sobol hydra.sweeper.n=256 \
        'hydra.sweeper.params={regulator.penalty:[0,0.05],regulator.inspection_rate:[0,0.2]}'

See ``conf/hydra/sweeper/salib.yaml`` for every option, :mod:`sim.designs` for the designs
and :mod:`sim.report.sensitivity` for the analysis.
"""

import itertools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn
from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
)
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, ListConfig, OmegaConf

log = logging.getLogger(__name__)

SCHEMA_NAME = "salib_schema"


@dataclass
class SALibSweeperConf:
    """Options of the ``salib`` sweeper (documented in ``conf/hydra/sweeper/salib.yaml``)."""

    _target_: str = "hydra_plugins.trustsim_sweepers.salib_sweeper.SALibSweeper"
    method: str = "latin"
    n: int = 64
    seed: int = 0
    calc_second_order: bool = False
    num_levels: int = 4
    params: Any = None  # {key: [lo, hi]}; Any: a dict override replaces null
    fixed: Any = None
    max_batch_size: int | None = None
    uncertainties: Any = None  # the same as params, named for a deep-uncertainty design
    policies: Any = None  # {name: {lever key: value}}


ConfigStore.instance().store(
    group="hydra/sweeper", name=SCHEMA_NAME, node=SALibSweeperConf, provider="trustsim"
)


def _override_value(value: Any, top: bool = True) -> str:
    """A plain value as Hydra override text (strings at top level are left as written)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if top:
            return value  # a group option, a number as text, or a sweep: range(3), a,b
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, dict):
        items = ",".join(f"{k}:{_override_value(v, False)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_override_value(v, False) for v in value) + "]"
    raise TypeError(f"hydra.sweeper.fixed: cannot write {value!r} as an override")


def fixed_overrides(fixed: Any) -> list[str]:
    """``fixed`` as override strings: a mapping ``{key: value}`` or a list of overrides."""
    if fixed is None:
        return []
    if isinstance(fixed, dict):
        return [f"{k}={_override_value(v)}" for k, v in fixed.items()]
    if isinstance(fixed, list | tuple):
        return [str(item) for item in fixed]
    if isinstance(fixed, str):
        return [fixed]
    from sim.config import ConfigError

    raise ConfigError("hydra.sweeper.fixed", fixed, "a mapping {key: value} or a list of overrides")


def policy_levers(policies: Any, uncertain: set[str]) -> dict[str, dict[str, Any]]:
    """``hydra.sweeper.policies`` checked: named policies, each ``{lever key: value}``.

    A lever is any key or config group of the schema (its value is checked when the
    first job of each policy is composed); no lever may be an uncertainty.
    """
    from sim.config import ConfigError

    key = "hydra.sweeper.policies"
    if not isinstance(policies, dict) or not policies:
        raise ConfigError(key, policies, "a mapping {policy name: {lever key: value}}")
    found: dict[str, dict[str, Any]] = {}
    for name, levers in policies.items():
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(key, name, "policy names of letters, digits, _ and -")
        if not isinstance(levers, dict):
            raise ConfigError(f"{key}.{name}", levers, "a mapping {lever key: value}")
        both = sorted(set(levers) & uncertain)
        if both:
            raise ConfigError(
                f"{key}.{name}.{both[0]}", levers[both[0]], "a lever that is not an uncertainty"
            )
        found[name] = dict(levers)
    return found


def _policy_of(overrides: Sequence[str], design: dict[str, Any]) -> str | None:
    """The policy a job's overrides name (``policy=NAME``), if the design has policies."""
    if not design.get("policies"):
        return None
    return next((o.split("=", 1)[1] for o in overrides if o.startswith("policy=")), None)


def bad_input_errors() -> tuple[type[Exception], ...]:
    """What a sweeper's options and overrides raise when they are bad input (exit 2)."""
    from sim.config import ConfigError

    return (
        ConfigError,
        ConfigCompositionException,
        MissingConfigException,
        OverrideParseException,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


class LaunchingSweeper(Sweeper):
    """What trustsim's sweepers share: they hold Hydra's context and launch through its launcher.

    Going through whatever launcher is configured (basic, joblib, submitit, Ray) is what
    makes a design or a calibration run wherever a plain sweep runs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(
        self,
        *,
        hydra_context: HydraContext,
        task_function: TaskFunction,
        config: DictConfig,
    ) -> None:
        """Keep the context and make the launcher (any: basic, joblib, submitit, ...)."""
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )


class SALibSweeper(LaunchingSweeper):
    """Launch one job per row of a SALib design (times each replicate combination)."""

    def __init__(
        self,
        method: str = "latin",
        n: int = 64,
        seed: int = 0,
        calc_second_order: bool = False,
        num_levels: int = 4,
        params: Any = None,
        fixed: Any = None,
        max_batch_size: int | None = None,
        uncertainties: Any = None,
        policies: Any = None,
    ) -> None:
        super().__init__()
        self.method = method
        self.n = n
        self.seed = seed
        self.calc_second_order = calc_second_order
        self.num_levels = num_levels
        self.params = _plain(params) or {}
        self.fixed = _plain(fixed)
        self.max_batch_size = max_batch_size
        self.uncertainties = _plain(uncertainties)
        self.policies = _plain(policies)
        self.design: dict[str, Any] | None = None

    # -- the jobs --------------------------------------------------------------------------

    def make_design(self) -> dict[str, Any]:
        """Check the options and sample the design (SALib, seeded)."""
        from sim.config import ConfigError
        from sim.designs import make_design

        if self.max_batch_size is not None and (
            not isinstance(self.max_batch_size, int)
            or (self.max_batch_size < 1 and self.max_batch_size != -1)
        ):
            raise ConfigError(
                "hydra.sweeper.max_batch_size", self.max_batch_size, "null, -1 or a number >= 1"
            )
        params = self.params
        if self.uncertainties:
            if params:
                raise ConfigError(
                    "hydra.sweeper.uncertainties",
                    self.uncertainties,
                    "either uncertainties or params (the same thing), not both",
                )
            params = self.uncertainties
        design = make_design(
            params,
            method=self.method,
            n=self.n,
            seed=self.seed,
            calc_second_order=self.calc_second_order,
            num_levels=self.num_levels,
        )
        if self.policies is not None:
            design["policies"] = policy_levers(self.policies, set(design["problem"]["names"]))
        return design

    def replicates(self, arguments: Sequence[str], design: dict[str, Any]) -> list[list[str]]:
        """Every combination of the non-design overrides (``fixed``, then the command line).

        A key given in both takes the command line's value; a sweep multiplies the design.
        """
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from sim.config import ConfigError

        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        sampled = set(design["problem"]["names"])
        levers = {key for levers in (design.get("policies") or {}).values() for key in levers}
        by_key: dict[str, list[str]] = {}
        for source, items in (
            ("hydra.sweeper.fixed", fixed_overrides(self.fixed)),
            ("the command line", list(arguments)),
        ):
            for override in parser.parse_overrides(list(items)):
                name = override.key_or_group
                if name in levers or (name == "policy" and levers):
                    raise ConfigError(
                        name,
                        override.input_line,
                        f"no override in {source}: {name} is set by hydra.sweeper.policies",
                    )
                if name in sampled or name == "sample":
                    what = "sampled by the design" if name in sampled else "set per design row"
                    raise ConfigError(
                        name,
                        override.input_line,
                        f"no override in {source}: {name} is {what}",
                    )
                key = override.get_key_element()
                if override.is_sweep_override():
                    if not override.is_discrete_sweep():
                        raise ConfigError(
                            name,
                            override.input_line,
                            "a list or range sweep (interval sweeps are not discrete)",
                        )
                    by_key[key] = [f"{key}={v}" for v in override.sweep_string_iterator()]
                else:
                    by_key[key] = [f"{key}={override.get_value_element_as_str()}"]
        combos = [list(combo) for combo in itertools.product(*by_key.values())]
        policies = design.get("policies")
        if not policies:
            return combos
        # Each policy crosses every world (design row) and every replicate combination.
        return [
            [*(f"{k}={_override_value(v)}" for k, v in levers.items()), f"policy={name}", *combo]
            for name, levers in policies.items()
            for combo in combos
        ]

    @staticmethod
    def jobs(design: dict[str, Any], replicates: list[list[str]]) -> list[list[str]]:
        """The jobs' overrides: for each replicate combination, each design row in order."""
        from sim.designs import row_overrides

        rows = [row_overrides(design, i) for i in range(len(design["samples"]))]
        return [row + combo for combo in replicates for row in rows]

    def check_jobs(self, firsts: list[list[str]], design: dict[str, Any]) -> None:
        """Compose the first job of each replicate combination and check every row on it.

        A bad override fails here, before anything runs; so do design rows that break a
        rule tying keys together (``population.threshold_low <= threshold_high``).
        """
        from sim.config import Config, ConfigError
        from sim.designs import check_rows, row_ranges

        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        for overrides in firsts:
            composed = loader.load_sweep_config(
                master_config=self.config, sweep_overrides=list(overrides)
            )
            task = OmegaConf.masked_copy(composed, [k for k in composed if k != "hydra"])
            try:
                typed = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), task))
            except Exception:  # an unknown or mistyped key: each run reports it
                continue
            policy = _policy_of(overrides, design)
            if policy is not None:  # a policy's levers must be valid whatever the world
                try:
                    from sim.compose import validate_run

                    validate_run(typed)
                except ConfigError as err:
                    if err.key in design["policies"][policy]:
                        key = f"hydra.sweeper.policies.{policy}.{err.key}"
                        raise ConfigError(key, err.value, err.allowed) from None
            bad = check_rows(typed, design)
            if bad:
                row, err = bad[0]
                raise ConfigError(
                    err.key,
                    err.value,
                    f"{err.allowed} (design row {row}; {len(bad)} of {len(design['samples'])} "
                    f"rows break the config's rules: {row_ranges([r for r, _ in bad])}; narrow "
                    "hydra.sweeper.params)",
                )

    def _write_records(self, sweep_dir: Path, design: dict[str, Any], total: int) -> None:
        from sim.config import ConfigError
        from sim.designs import DESIGN_FILE, write_design
        from sim.output import read_json, to_json, write_json
        from sim.sweep import SWEEP_FILE

        keys = (
            "method", "problem", "seed", "n", "calc_second_order", "num_levels", "samples",
            "policies",
        )  # fmt: skip
        old = read_json(sweep_dir / DESIGN_FILE)
        new = json.loads(to_json(design))
        info = read_json(sweep_dir / SWEEP_FILE) or {}
        if isinstance(old, dict) and any(old.get(k) != new.get(k) for k in keys):
            rows = len(old.get("samples") or [])
            # The sweep callback has just rewritten sweep.json: give back the folder's total.
            info["total"] = rows * max(1, len(old.get("replicates") or []))
            write_json(sweep_dir / SWEEP_FILE, info)
            raise ConfigError(
                "hydra.sweep.dir",
                str(sweep_dir),
                f"a folder of this design: its {DESIGN_FILE} holds another "
                f"({old.get('method')}, n={old.get('n')}, {rows} rows); choose a new "
                "hydra.sweep.dir, or start that design again to resume it",
            )
        write_design(sweep_dir, design)
        info["total"] = total
        info.setdefault("started", time.time())
        write_json(sweep_dir / SWEEP_FILE, info)

    # -- the sweep -------------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> list[Sequence[JobReturn]]:
        """Sample the design, record it, and launch its jobs in (deterministic) order."""
        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        try:
            design = self.make_design()
            replicates = self.replicates(arguments, design)
            design["replicates"] = replicates
            jobs = self.jobs(design, replicates)
            rows = len(design["samples"])
            self.check_jobs([jobs[k * rows] for k in range(len(replicates))], design)
            self._write_records(sweep_dir, design, len(jobs))
        except bad_input_errors() as err:  # a bad option or override, before anything runs
            from sim.exits import bad_input

            bad_input(err)
        self.design = design
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        log.info(
            f"SALib {design['method']} design: {rows} rows x {len(replicates)} "
            f"replicate combination(s) = {len(jobs)} jobs; design in {sweep_dir / 'design.json'}"
        )
        size = self.max_batch_size
        size = len(jobs) if size is None or size == -1 else size
        returns: list[Sequence[JobReturn]] = []
        for start in range(0, len(jobs), size):
            results = self.launcher.launch(jobs[start : start + size], initial_job_idx=start)
            for result in results:
                _ = result.return_value  # raises if a job raised
            returns.append(results)
        return returns
