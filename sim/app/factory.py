"""The page's parameters and the model they build, validated like the CLI's overrides.

Mesa's model controller builds the model by calling its class with the page's parameters
as keywords (on Reset). :class:`ClassroomModel` is that class: a :class:`~sim.model.TrustModel`
whose keywords become Hydra overrides for :func:`~sim.compose.compose_config`, so a value
the CLI would refuse is refused here too, with the same :class:`~sim.config.ConfigError`
message. A refused model is not built: it keeps the message in ``refusal`` and does not step.
The page's controls are one table, :data:`PAGE_PARAMS`; ``compare`` adds a second world
that differs in one of them (:func:`other_world`).

Mesa 3.5 reserves the keyword ``scenario`` for its own ``Scenario`` object (its
controller replaces a ``scenario`` argument with one on Reset), so the scenario's keyword here is
``scenario_name``.
"""

import inspect
import math
from dataclasses import dataclass
from typing import Any

import mesa

from sim.compose import (
    compose_config,
    preset_names,
    regime_names,
    scenario_names,
    validate_run,
)
from sim.config import Config, ConfigError
from sim.model import TrustModel

MIN_USERS, MAX_USERS = 50, 20_000  # the page's range: fast enough to watch, big enough to see
DEFAULT_USERS = 2_000
RUMOUR_TICK = 40  # the "rumour" switch: a false insolvency rumour in week 40
SANDBOX_TICK = 20  # the "sandbox" switch: a sandbox cohort enters in week 20

# The events the two switches add. The rumour's rebuttal is left to the regulator regime
# (``rebuttal`` unset), so switching the regime changes what happens to it.
RUMOUR_EVENT = {"tick": RUMOUR_TICK, "type": "rumour", "platform": "largest_sound"}
SANDBOX_EVENT = {"tick": SANDBOX_TICK, "type": "sandbox", "supervised": True}


# The China P2P scenarios need the experiment's world (entry on, 416 weeks from 2013, the
# calibrated parameters): the page composes them with it.
CHINA_PREFIX = "china_p2p"
CHINA_EXPERIMENT = "china_p2p"


@dataclass(frozen=True)
class PageParam:
    """One control of the page: its keyword, widget, default and what it sets.

    Attributes:
        name: The keyword of :class:`ClassroomModel` (and of :func:`page_config`).
        widget: SolaraViz's input type: ``Select``, ``InputText`` or ``Checkbox``.
        default: The value the page starts with.
        label: What the page shows beside it.
        key: The config group (a ``Select``) or key (a number) it sets.
        options: The choices of a ``Select``.
        whole: A number that must be whole.
    """

    name: str
    widget: str
    default: Any
    label: str
    key: str | None = None
    options: Any = None
    whole: bool = False

    def control(self) -> dict[str, Any]:
        """SolaraViz's description of this control."""
        spec: dict[str, Any] = {"type": self.widget, "value": self.default, "label": self.label}
        if self.options is not None:
            spec["values"] = self.options()
        return spec


# The page's controls, in the order shown. Numbers are typed into text fields rather
# than picked on sliders, so that a value out of range can be typed and is then refused
# on the page, as the CLI would; a blank regulator number keeps the regime's value.
PAGE_PARAMS = (
    PageParam("scenario_name", "Select", "baseline", "Scenario", "scenario", scenario_names),
    PageParam("platforms", "Select", "mixed", "Platform strategies", "platforms", preset_names),
    PageParam("regulator", "Select", "rules_based", "Regulator regime", "regulator", regime_names),
    PageParam(
        "n_users",
        "InputText",
        str(DEFAULT_USERS),
        f"Users ({MIN_USERS}-{MAX_USERS:,})",
        "population.n_users",
        whole=True,
    ),
    PageParam("penalty", "InputText", "", "Penalty 0-1 (blank: regime's)", "regulator.penalty"),
    PageParam(
        "disclosure_mandate",
        "InputText",
        "",
        "Disclosure floor 0-1 (blank: regime's)",
        "regulator.disclosure_mandate",
    ),
    PageParam(
        "education_rate",
        "InputText",
        "",
        "Education 0-1 a week (blank: regime's)",
        "regulator.education_rate",
    ),
    PageParam("rumour", "Checkbox", False, f"Rumour in week {RUMOUR_TICK}"),
    PageParam("sandbox", "Checkbox", False, f"Sandbox cohort in week {SANDBOX_TICK}"),
    PageParam("seed", "InputText", "0", "Seed", "seed", whole=True),
    PageParam(
        "compare",
        "Select",
        "nothing",
        "Compare with a world that differs in",
        None,
        lambda: list(COMPARE_CHOICES),
    ),
    PageParam("compare_value", "InputText", "", "... whose value there is"),
)
PARAMS_BY_NAME = {p.name: p for p in PAGE_PARAMS}
# What the second world may differ in, as the page says it -> the control it changes (a
# switch is flipped; the others take "compare_value").
COMPARE_CHOICES = {
    "nothing": None,
    "scenario": "scenario_name",
    "regulator regime": "regulator",
    "platform strategies": "platforms",
    "penalty": "penalty",
    "disclosure floor": "disclosure_mandate",
    "education": "education_rate",
    "the rumour": "rumour",
    "the sandbox cohort": "sandbox",
}
SWITCH_EVENTS = {"rumour": RUMOUR_EVENT, "sandbox": SANDBOX_EVENT}


def model_params() -> dict[str, Any]:
    """SolaraViz's ``model_params``: the controls of the page, keyed by keyword."""
    return {p.name: p.control() for p in PAGE_PARAMS}


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


def _with_defaults(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - set(PARAMS_BY_NAME))
    if unknown:
        raise TypeError(
            f"unknown page parameter {unknown[0]!r}; known: {', '.join(PARAMS_BY_NAME)}"
        )
    return {p.name: params.get(p.name, p.default) for p in PAGE_PARAMS}


def page_config(**params: Any) -> Config:
    """The validated config of the page's parameters (:data:`PAGE_PARAMS`).

    Blank numbers keep the regime's values; the switches add their events.

    Raises:
        ConfigError: A value the schema (or the page's range of users) does not allow.
    """
    values = _with_defaults(params)
    overrides = []
    for p in PAGE_PARAMS:
        value = values[p.name]
        if p.key is None and p.widget != "Checkbox":  # the comparison's own controls
            continue
        if p.widget == "Select":
            allowed = p.options()
            if value not in allowed:  # Hydra would say so too, less plainly
                raise ConfigError(p.key, value, "one of " + ", ".join(allowed))
            overrides.append(f"{p.key}={value}")
        elif p.widget == "InputText":
            number = _number(p.key, value, whole=p.whole)
            if number is None and p.whole:  # a count or the seed: blank is the default
                number = _number(p.key, p.default, whole=True)
            if p.name == "n_users" and number >= 1 and not MIN_USERS <= number <= MAX_USERS:
                raise ConfigError(  # below 1 the schema says why
                    p.key, number, f"a whole number in [{MIN_USERS}, {MAX_USERS}] on this page"
                )
            if number is not None:
                overrides.append(f"{p.key}={number!r}")
    scenario = values["scenario_name"]
    if scenario.startswith(CHINA_PREFIX):  # runs with its experiment's world (416 weeks)
        overrides.insert(0, f"+experiment={CHINA_EXPERIMENT}")
    cfg = compose_config(overrides)
    for name, event in SWITCH_EVENTS.items():
        if values[name]:
            cfg.scenario.events.append(dict(event))
    return validate_run(cfg)


def other_world(params: dict[str, Any]) -> dict[str, Any] | None:
    """The second world's parameters: the same, but for the compared choice (None: none).

    Raises:
        ConfigError: No value for the compared choice, or the first world's value.
    """
    values = _with_defaults(params)
    choice = values["compare"]
    if choice not in COMPARE_CHOICES:
        raise ConfigError("compare", choice, "one of " + ", ".join(COMPARE_CHOICES))
    name = COMPARE_CHOICES[choice]
    if name is None:
        return None
    other = {**values, "compare": "nothing", "compare_value": ""}
    spec = PARAMS_BY_NAME[name]
    if spec.widget == "Checkbox":  # a switch: the other world has it the other way
        other[name] = not values[name]
        return other
    given = str(values["compare_value"]).strip()
    if not given:
        what = "one of " + ", ".join(spec.options()) if spec.options else "a number"
        raise ConfigError("compare_value", given, f"the second world's {choice}: {what}")
    if given == str(values[name]).strip():
        raise ConfigError("compare_value", given, f"another {choice} than the first world's")
    other[name] = given
    return other


def compared_value(params: dict[str, Any], choice: str) -> str:
    """How a world's parameters set ``choice`` (a key of :data:`COMPARE_CHOICES`), in words."""
    spec = PARAMS_BY_NAME[COMPARE_CHOICES[choice]]
    value = _with_defaults(params)[spec.name]
    if spec.widget == "Checkbox":
        return "on" if value else "off"
    return str(value).strip() or "the regime's"


def build_model(**params: Any) -> TrustModel:
    """A :class:`TrustModel` from the page's parameters; raises :class:`ConfigError`."""
    return TrustModel(page_config(**params))


class ClassroomModel(TrustModel):
    """The page's model: built from the page's keywords, or refused with the reason.

    Its keywords are :data:`PAGE_PARAMS` (the signature says so, for SolaraViz).

    With ``compare`` set, it also builds the second world, ``other``: the same parameters
    and seed but for the compared choice, stepped with it week by week.

    Attributes:
        refusal: ``None`` when built; else the :class:`ConfigError` message, and the
            model is an empty :class:`mesa.Model` that does not step.
        params: The keywords it was called with.
        other: The second world (a :class:`~sim.model.TrustModel`), or ``None``.
    """

    def __init__(self, **params: Any):
        self.params = _with_defaults(params)
        self.refusal: str | None = None
        self.other: TrustModel | None = None
        world = "A"
        try:
            cfg = page_config(**self.params)
            world = "B"
            second = other_world(self.params)
            other_cfg = page_config(**second) if second is not None else None
        except ConfigError as err:
            comparing = self.params["compare"] != "nothing"
            self.refusal = f"world {world}: {err}" if comparing else str(err)
            mesa.Model.__init__(self, rng=0)
            self.running = False
            return
        if other_cfg is not None and other_cfg.ticks != cfg.ticks:
            self.refusal = str(
                ConfigError("compare_value", self.params["compare_value"],
                            f"a world of the same length ({cfg.ticks} weeks)")
            )  # fmt: skip
            mesa.Model.__init__(self, rng=0)
            self.running = False
            return
        super().__init__(cfg)
        if other_cfg is not None:
            self.other = TrustModel(other_cfg)

    def step(self) -> None:
        """One week of each world; a refused model does nothing; both stop at the horizon."""
        if self.refusal is not None or self.tick >= self.cfg.ticks:
            self.running = False
            return
        super().step()
        if self.other is not None:
            self.other.step()
        if self.tick >= self.cfg.ticks:
            self.running = False


# SolaraViz reads the model's keywords from its signature: give it the page's.
ClassroomModel.__init__.__signature__ = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for p in PAGE_PARAMS
    ]
)
