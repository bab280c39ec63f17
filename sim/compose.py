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

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, OmegaConfBaseException

from sim.config import (
    Config,
    ConfigError,
    CrossBorderConfig,
    JurisdictionConfig,
    ScenarioConfig,
    validate,
)
from sim.events import parse_events
from sim.network import load_edge_list
from sim.resources import check_memory

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


# Limits on a scenario file, read at start-up by every command: a hostile or huge file
# must not hang the others (a YAML "billion laughs" expands a few aliases into billions
# of nodes when loaded).
MAX_SCENARIO_BYTES = 1_000_000
MAX_SCENARIO_NODES = 100_000


def _expanded_nodes(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes of ``node`` once aliases are expanded, counted on the unexpanded graph."""
    if id(node) in memo:
        return memo[id(node)]
    count = 1
    if isinstance(node, yaml.SequenceNode):
        count += sum(_expanded_nodes(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        count += sum(_expanded_nodes(k, memo) + _expanded_nodes(v, memo) for k, v in node.value)
    memo[id(node)] = min(count, MAX_SCENARIO_NODES + 1)
    return memo[id(node)]


def _first_line(err: BaseException) -> str:
    """The first line of an error's message, or its type when it has none."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _read_scenario_text(path: Path, key: str) -> str:
    """A scenario file's text, refused if too big or if its aliases expand too far."""
    try:
        size = path.stat().st_size
        text = path.read_bytes().decode("utf-8") if size <= MAX_SCENARIO_BYTES else ""
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(key, _first_line(err), "a readable UTF-8 text file") from None
    if size > MAX_SCENARIO_BYTES:
        raise ConfigError(key, f"{size:,} bytes", f"a file of at most {MAX_SCENARIO_BYTES:,} bytes")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(key, "nested too deep", "YAML of a sensible depth") from None
    except yaml.YAMLError as err:
        raise ConfigError(key, _first_line(err), "valid YAML") from None
    if root is not None and _expanded_nodes(root, {}) > MAX_SCENARIO_NODES:
        raise ConfigError(
            key, "aliases expanding", f"at most {MAX_SCENARIO_NODES:,} YAML nodes once expanded"
        )
    return text


def _scenario_node(path: Path) -> ScenarioConfig:
    key = f"scenario file {path}"
    text = _read_scenario_text(path, key)  # the file is read once
    shape = "a mapping with name, description, events"
    try:
        data = yaml.safe_load(text)  # of a sensible size: _read_scenario_text says so
    except yaml.YAMLError as err:  # a tag safe YAML does not build, and the like
        raise ConfigError(key, _first_line(err), "valid YAML") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(key, type(data).__name__, shape)
    try:
        data = OmegaConf.to_container(OmegaConf.create(data or {}), resolve=True)
    except Exception as err:  # keys OmegaConf cannot hold, interpolations that do not resolve
        raise ConfigError(key, _first_line(err), shape) from None
    unknown = set(data) - SCENARIO_KEYS
    if unknown:
        raise ConfigError(key, sorted(unknown), "the keys " + ", ".join(sorted(SCENARIO_KEYS)))
    if data.get("name", path.stem) != path.stem:
        raise ConfigError(f"{key}: name", data["name"], f"the file's stem {path.stem!r}")
    if not isinstance(data.get("events") or [], list):
        raise ConfigError(f"{key}: events", data["events"], "a list of events")
    scenario = ScenarioConfig(
        name=path.stem,
        description=data.get("description", ""),
        events=list(data.get("events") or []),
        jurisdictions=_jurisdictions(data.get("jurisdictions") or [], f"{key}: jurisdictions"),
        cross_border=_section(CrossBorderConfig, data.get("cross_border") or {}, key),
    )
    try:  # the types Hydra will hold it to, checked now: a bad file fails only when chosen
        OmegaConf.structured(scenario)
    except OmegaConfBaseException as err:
        where = f"{key}: {getattr(err, 'full_key', '') or '?'}"
        raise ConfigError(where, _first_line(err), "a value of the schema's type") from None
    return scenario


SCENARIO_KEYS = frozenset({"name", "description", "events", "jurisdictions", "cross_border"})


def _section(schema: type, data: Any, key: str) -> Any:
    """A mapping of a scenario file as the dataclass ``schema`` (unknown keys refused)."""
    if not isinstance(data, dict):
        raise ConfigError(key, data, "a mapping")
    names = {f.name for f in dataclasses.fields(schema)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", data[unknown[0]], "one of " + ", ".join(names))
    return schema(**data)


def regime_values(regime: str) -> dict[str, Any]:
    """A regulator regime's preset (``conf/regulator/REGIME.yaml``) as keys and values."""
    data = yaml.safe_load((CONF_DIR / "regulator" / f"{regime}.yaml").read_text()) or {}
    data.pop("defaults", None)
    data.pop("regime", None)
    return data


def _jurisdictions(data: Any, key: str) -> list[JurisdictionConfig]:
    """A scenario file's jurisdictions; a named regime's values go under their own keys."""
    if not isinstance(data, list):
        raise ConfigError(key, data, "a list of jurisdictions")
    found = []
    for index, item in enumerate(data):
        where = f"{key}[{index}]"
        jurisdiction = _section(JurisdictionConfig, item, where)
        if not isinstance(jurisdiction.regulator, dict):
            raise ConfigError(f"{where}.regulator", jurisdiction.regulator, "a mapping")
        if jurisdiction.regime is not None:
            if jurisdiction.regime not in regime_names():
                allowed = "one of " + ", ".join(regime_names())
                raise ConfigError(f"{where}.regime", jurisdiction.regime, allowed)
            preset = regime_values(jurisdiction.regime)
            jurisdiction.regulator = {**preset, **jurisdiction.regulator}
        found.append(jurisdiction)
    return found


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
    _check_labels(cfg)
    events = parse_events(cfg.scenario.events, cfg.ticks, cfg.platforms.count)
    names = [j.name for j in cfg.scenario.jurisdictions]
    for index, event in enumerate(events):
        where = getattr(event, "jurisdiction", None)
        if where is not None and where not in names:
            allowed = "one of " + ", ".join(names) if names else "none: one jurisdiction"
            raise ConfigError(f"scenario.events[{index}].jurisdiction", where, allowed)
    if cfg.model == "trustsim":
        check_memory(cfg, _edge_estimate(cfg))
        if cfg.network.kind == "edge_list":  # parsed once: the model reuses it
            try:
                load_edge_list(cfg.network.path, cfg.population.n_users)
            except (ValueError, OSError) as err:
                raise ConfigError(
                    "network.path", cfg.network.path, f"an edge list the model can read: {err}"
                ) from None
    return cfg


def _check_labels(cfg: Config) -> None:
    """The summary's labels name a preset and a regime that exist.

    They are set by choosing the group (``platforms=``, ``regulator=``); a free string would
    only relabel the run. (A scenario's name may come from Hydra's own search path too.)
    """
    labels = (
        ("platforms.preset", cfg.platforms.preset, preset_names()),
        ("regulator.regime", cfg.regulator.regime, regime_names()),
    )
    for key, value, allowed in labels:
        if value not in allowed:
            raise ConfigError(key, value, f"one of {', '.join(allowed)} (choose it with the group)")


def _names(folders: list[Path]) -> list[str]:
    return sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yaml")})


def scenario_names() -> list[str]:
    """Scenarios of the library (and of ``$TRUSTSIM_SCENARIO_PATH``)."""
    return _names(scenario_dirs())


def preset_names() -> list[str]:
    """Platform strategy presets (``conf/platforms``)."""
    return _names([CONF_DIR / "platforms"])


def regime_names() -> list[str]:
    """Regulator regimes (``conf/regulator``)."""
    return _names([CONF_DIR / "regulator"])


def _edge_estimate(cfg: Config) -> float | None:
    """Directed ties of an edge-list network from its file's size (a line is >= 4 bytes)."""
    if cfg.network.kind != "edge_list":
        return None
    return 2 * os.path.getsize(cfg.network.path) / 4


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


def _schema_field(key: str) -> dataclasses.Field | None:
    """The schema field at a dotted ``key`` (None if the path leaves the schema)."""
    schema: Any = Config
    found = None
    for part in key.split("."):
        if not dataclasses.is_dataclass(schema):
            return None
        fields = {f.name: f for f in dataclasses.fields(schema)}
        if part not in fields:
            return None
        found = fields[part]
        schema = found.type
    return found


def check_overrides(overrides: list[str] | tuple[str, ...]) -> None:
    """What composition would hide; raise :class:`ConfigError`.

    Three things are gone by the time the config is composed: a switch given a number
    (``output.plot=2`` becomes ``true``), a deleted key or group (``~population`` puts
    back every default, also over an explicit ``population.n_users``), and a scenario
    renamed (``scenario.name=x`` only relabels the run; the events are the chosen
    scenario's).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key.startswith("scenario.jurisdictions") and key.endswith(".regime"):
            raise ConfigError(
                key, override.value(), "no override: a regime is set in the scenario file"
            )
        field = _schema_field(key.replace("/", "."))
        if field is None:
            continue
        if override.is_delete():
            raise ConfigError(
                f"~{key}", override.input_line, "no deletion of a key the model reads: set it"
            )
        if key == "scenario.name":
            names = ", ".join(scenario_names())
            raise ConfigError(
                key, override.value(), f"no renaming: choose one with scenario=NAME ({names})"
            )
        if field.type is bool and not override.is_sweep_override():
            value = override.value()
            if not isinstance(value, bool):
                raise ConfigError(key, value, "true or false")


def to_config(cfg: DictConfig | Config) -> Config:
    """Turn a composed Hydra config into the typed :class:`Config` and validate the run."""
    if isinstance(cfg, Config):
        return validate_run(cfg)
    try:
        _reject_unknown_keys(cfg, Config, "")
        typed = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))
    except InterpolationResolutionError as err:  # ${oc.env:NOPE}, ${population.nope}
        key = getattr(err, "full_key", None) or "?"
        raise ConfigError(
            str(key),
            _interpolation_text(cfg, str(key)),
            f"an interpolation that resolves ({err.msg})",
        ) from None
    assert isinstance(typed, Config)
    return validate_run(typed)


def _interpolation_text(cfg: DictConfig, key: str) -> str:
    """The unresolved text of ``key`` (what the user wrote), or ``?``."""
    node: Any = cfg
    try:
        for part in key.split("."):
            node = node._get_node(part)
        return str(node._value())
    except Exception:  # the key path is not a plain node path: say nothing more
        return "?"


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

    check_overrides(overrides)
    if GlobalHydra.instance().is_initialized():
        return to_config(compose(config_name="config", overrides=list(overrides)))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return to_config(compose(config_name="config", overrides=list(overrides)))


# Last: registration reads the scenario files with the helpers above.
register_configs()
