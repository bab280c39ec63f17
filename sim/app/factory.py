"""The page's parameters and the model they build, validated like the CLI's overrides.

Mesa's SolaraViz builds the model by calling its class with the page's parameters as
keywords (on Reset). :class:`ClassroomModel` is that class: a :class:`~sim.model.TrustModel`
whose keywords become Hydra overrides for :func:`~sim.config.compose_config`, so a value
the CLI would refuse is refused here too, with the same :class:`~sim.config.ConfigError`
message. A refused model is not built: it keeps the message in ``refusal`` and does not step.

Mesa 3.5 reserves the keyword ``scenario`` for its own ``Scenario`` object (SolaraViz
replaces a ``scenario`` argument with one on Reset), so the scenario's keyword here is
``scenario_name``.
"""

import math
from pathlib import Path
from typing import Any

import mesa

from sim.config import CONF_DIR, Config, ConfigError, compose_config, scenario_dirs, validate
from sim.model import TrustModel

MIN_USERS, MAX_USERS = 50, 20_000  # the page's range: fast enough to watch, big enough to see
DEFAULT_USERS = 2_000
RUMOUR_TICK = 40  # the "rumour" switch: a false insolvency rumour in week 40
SANDBOX_TICK = 20  # the "sandbox" switch: a sandbox cohort enters in week 20

# The events the two switches add. The rumour's rebuttal is left to the regulator regime
# (``rebuttal`` unset), so switching the regime changes what happens to it.
RUMOUR_EVENT = {"tick": RUMOUR_TICK, "type": "rumour", "platform": "largest_sound"}
SANDBOX_EVENT = {"tick": SANDBOX_TICK, "type": "sandbox", "supervised": True}


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


def model_params() -> dict[str, Any]:
    """SolaraViz's ``model_params``: the controls of the page, keyed by keyword.

    Numbers are typed into text fields rather than picked on sliders, so that a value
    out of range can be typed and is then refused on the page, as the CLI would.
    """
    return {
        "scenario_name": {
            "type": "Select",
            "value": "baseline",
            "values": scenario_names(),
            "label": "Scenario",
        },
        "platforms": {
            "type": "Select",
            "value": "mixed",
            "values": preset_names(),
            "label": "Platform strategies",
        },
        "regulator": {
            "type": "Select",
            "value": "rules_based",
            "values": regime_names(),
            "label": "Regulator regime",
        },
        "n_users": {
            "type": "InputText",
            "value": str(DEFAULT_USERS),
            "label": f"Users ({MIN_USERS}-{MAX_USERS:,})",
        },
        "penalty": {
            "type": "InputText",
            "value": "",
            "label": "Penalty, share of liabilities 0-1 (blank: regime's)",
        },
        "disclosure_mandate": {
            "type": "InputText",
            "value": "",
            "label": "Disclosure mandate 0-1 (blank: regime's)",
        },
        "education_rate": {
            "type": "InputText",
            "value": "",
            "label": "Education rate per week 0-1 (blank: regime's)",
        },
        "rumour": {"type": "Checkbox", "value": False, "label": f"Rumour in week {RUMOUR_TICK}"},
        "sandbox": {
            "type": "Checkbox",
            "value": False,
            "label": f"Sandbox cohort in week {SANDBOX_TICK}",
        },
        "seed": {"type": "InputText", "value": "0", "label": "Seed"},
    }


def _number(key: str, value: Any, whole: bool) -> int | float | None:
    """A typed-in number (``None`` if blank); words and fractions for counts are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ConfigError(key, value, "a whole number" if whole else "a number")
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = float(value.strip())
        except ValueError:
            raise ConfigError(key, value, "a whole number" if whole else "a number") from None
    if whole:
        if not (math.isfinite(number) and float(number).is_integer()):
            raise ConfigError(key, value, "a whole number")
        return int(number)
    return float(number)


def page_config(
    scenario_name: str = "baseline",
    platforms: str = "mixed",
    regulator: str = "rules_based",
    n_users: int | str = DEFAULT_USERS,
    penalty: float | str | None = None,
    disclosure_mandate: float | str | None = None,
    education_rate: float | str | None = None,
    rumour: bool = False,
    sandbox: bool = False,
    seed: int | str = 0,
) -> Config:
    """The validated config of the page's parameters (blank numbers keep the regime's).

    Raises:
        ConfigError: A value the schema (or the page's range of users) does not allow.
    """
    users = _number("population.n_users", n_users, whole=True)
    users = DEFAULT_USERS if users is None else users
    if users >= 1 and not MIN_USERS <= users <= MAX_USERS:  # below 1 the schema says why
        raise ConfigError(
            "population.n_users",
            users,
            f"a whole number in [{MIN_USERS}, {MAX_USERS}] on this page",
        )
    run_seed = _number("seed", seed, whole=True)
    overrides = [
        f"scenario={scenario_name}",
        f"platforms={platforms}",
        f"regulator={regulator}",
        f"population.n_users={users}",
        f"seed={0 if run_seed is None else run_seed}",
    ]
    for key, value in (
        ("regulator.penalty", penalty),
        ("regulator.disclosure_mandate", disclosure_mandate),
        ("regulator.education_rate", education_rate),
    ):
        number = _number(key, value, whole=False)
        if number is not None:
            overrides.append(f"{key}={number!r}")
    for group, name, allowed in (
        ("scenario", scenario_name, scenario_names()),
        ("platforms", platforms, preset_names()),
        ("regulator", regulator, regime_names()),
    ):
        if name not in allowed:  # Hydra would say so too, less plainly
            raise ConfigError(group, name, "one of " + ", ".join(allowed))
    cfg = compose_config(overrides)
    if rumour:
        cfg.scenario.events.append(dict(RUMOUR_EVENT))
    if sandbox:
        cfg.scenario.events.append(dict(SANDBOX_EVENT))
    return validate(cfg)


def build_model(**params: Any) -> TrustModel:
    """A :class:`TrustModel` from the page's parameters; raises :class:`ConfigError`."""
    return TrustModel(page_config(**params))


class ClassroomModel(TrustModel):
    """The page's model: built from the page's keywords, or refused with the reason.

    Attributes:
        refusal: ``None`` when built; else the :class:`ConfigError` message, and the
            model is an empty :class:`mesa.Model` that does not step.
        params: The keywords it was called with.
    """

    def __init__(
        self,
        scenario_name: str = "baseline",
        platforms: str = "mixed",
        regulator: str = "rules_based",
        n_users: int | str = DEFAULT_USERS,
        penalty: float | str | None = None,
        disclosure_mandate: float | str | None = None,
        education_rate: float | str | None = None,
        rumour: bool = False,
        sandbox: bool = False,
        seed: int | str = 0,
    ):
        self.params = {
            "scenario_name": scenario_name,
            "platforms": platforms,
            "regulator": regulator,
            "n_users": n_users,
            "penalty": penalty,
            "disclosure_mandate": disclosure_mandate,
            "education_rate": education_rate,
            "rumour": rumour,
            "sandbox": sandbox,
            "seed": seed,
        }
        self.refusal: str | None = None
        try:
            cfg = page_config(**self.params)
        except ConfigError as err:
            self.refusal = str(err)
            mesa.Model.__init__(self, rng=0)
            self.running = False
            return
        super().__init__(cfg)

    def step(self) -> None:
        """One week; a refused model does nothing, and the run stops at the horizon."""
        if self.refusal is not None or self.tick >= self.cfg.ticks:
            self.running = False
            return
        super().step()
        if self.tick >= self.cfg.ticks:
            self.running = False
