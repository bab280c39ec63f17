"""Composing a run's config: Hydra's ConfigStore, the scenario folders, and full validation.

The schema and its checks are :mod:`sim.config`; this module puts them to work. Importing
it registers the schema and every scenario file with Hydra's ConfigStore (the CLI, the
page and :func:`compose_config` all import it). :func:`validate_run` is the one check of a
whole run, before anything is built: the scenario folders, the chosen scenario file, the
schema's ranges and rules, and every scenario event's parameters.
"""

import dataclasses
import os
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.config import Config, ConfigError, ScenarioConfig, validate
from sim.events import parse_events

SCHEMA_NAME = "trustsim_schema"
PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    """Find ``conf/`` or ``scenarios/``: beside the package in a checkout, inside it in a wheel."""
    source = PACKAGE_DIR.parent / name
    return source if source.is_dir() else PACKAGE_DIR / f"_{name}"


CONF_DIR = _resource_dir("conf")
SCENARIO_DIR = _resource_dir("scenarios")
SCENARIO_PATH_ENV = "TRUSTSIM_SCENARIO_PATH"

# Problems found while registering, reported by validate_run() where a command can exit
# cleanly (registration runs at import, before any command has parsed its arguments).
_SCENARIO_PATH_ERRORS: list[str] = []
_BROKEN_SCENARIOS: dict[str, ConfigError] = {}


def scenario_dirs() -> list[Path]:
    """The library's folder, then the folders in ``$TRUSTSIM_SCENARIO_PATH`` (os.pathsep)."""
    extra = [Path(p) for p in os.environ.get(SCENARIO_PATH_ENV, "").split(os.pathsep) if p]
    return [SCENARIO_DIR, *extra]


def register_configs() -> None:
    """Register the schema and the scenarios with Hydra's ConfigStore.

    Every ``NAME.yaml`` in :func:`scenario_dirs` becomes the option ``scenario=NAME``; a
    user's file of the same name as a library one replaces it.
    """
    cs = ConfigStore.instance()
    cs.store(name=SCHEMA_NAME, node=Config)
    for folder in scenario_dirs():
        if not folder.is_dir():
            _SCENARIO_PATH_ERRORS.append(str(folder))
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                node = _scenario_node(path)
            except ConfigError as err:  # reported if this scenario is chosen
                _BROKEN_SCENARIOS[path.stem] = err
                node = ScenarioConfig(name=path.stem)
            cs.store(group="scenario", name=path.stem, node=node)


def _scenario_node(path: Path) -> ScenarioConfig:
    key = f"scenario file {path}"
    try:
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=True) or {}
    except Exception as err:  # YAML syntax and the like: name the file and the problem
        raise ConfigError(key, str(err).splitlines()[0], "valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(key, type(data).__name__, "a mapping with name, description, events")
    unknown = set(data) - {"name", "description", "events"}
    if unknown:
        raise ConfigError(key, sorted(unknown), "the keys name, description, events")
    if data.get("name", path.stem) != path.stem:
        raise ConfigError(f"{key}: name", data["name"], f"the file's stem {path.stem!r}")
    if not isinstance(data.get("events") or [], list):
        raise ConfigError(f"{key}: events", data["events"], "a list of events")
    return ScenarioConfig(
        name=path.stem,
        description=data.get("description", ""),
        events=list(data.get("events") or []),
    )


register_configs()


def validate_run(cfg: Config) -> Config:
    """Everything a run will read, checked before it is built; raise :class:`ConfigError`.

    Args:
        cfg: The typed config.

    Returns:
        The same config, for chaining.
    """
    if _SCENARIO_PATH_ERRORS:
        raise ConfigError(SCENARIO_PATH_ENV, _SCENARIO_PATH_ERRORS[0], "existing folders")
    if cfg.scenario.name in _BROKEN_SCENARIOS:
        raise _BROKEN_SCENARIOS[cfg.scenario.name]
    validate(cfg)
    parse_events(cfg.scenario.events, cfg.ticks, cfg.platforms.count)
    return cfg


def _reject_unknown_keys(node: Any, schema: type, prefix: str) -> None:
    """Keys added with Hydra's ``+key=value`` bypass the schema; refuse those it lacks."""
    fields = {f.name: f for f in dataclasses.fields(schema)}
    for key in node:
        if key == "hydra" and not prefix:
            continue
        if key not in fields:
            raise ConfigError(
                f"{prefix}{key}",
                node[key],
                "a key of " + (prefix.rstrip(".") or "the config") + ": " + ", ".join(fields),
            )
        kind = fields[key].type
        if dataclasses.is_dataclass(kind) and isinstance(node[key], DictConfig):
            _reject_unknown_keys(node[key], kind, f"{prefix}{key}.")


def to_config(cfg: DictConfig | Config) -> Config:
    """Turn a composed Hydra config into the typed :class:`Config` and validate the run."""
    if isinstance(cfg, Config):
        return validate_run(cfg)
    _reject_unknown_keys(cfg, Config, "")
    typed = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))
    assert isinstance(typed, Config)
    return validate_run(typed)


def compose_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Compose the config as the CLI would, with Hydra overrides, outside a Hydra app.

    Args:
        overrides: Hydra overrides, e.g. ``["population.n_users=1000", "platforms=laggard"]``.

    Returns:
        The validated typed config.

    Example:
        >>> cfg = compose_config(["population.n_users=500", "ticks=10"])
        >>> cfg.population.n_users
        500
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return to_config(compose(config_name="config", overrides=list(overrides)))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return to_config(compose(config_name="config", overrides=list(overrides)))
