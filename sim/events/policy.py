"""Policy events: shifts of the regulator's parameters, self-regulation, legal lag."""

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from sim.config import ConfigError, RegulatorConfig, check_field
from sim.events.base import Event, EventContext, check_range
from sim.market import ProductLine

_POLICY_FIELDS = {
    f.name: f for f in dataclasses.fields(RegulatorConfig) if f.type in (int, float, bool)
}


@dataclass
class Ramp:
    """A regulator parameter moving linearly from ``start`` to ``end`` over ticks."""

    key: str
    start: float
    end: float
    first_tick: int
    last_tick: int
    jurisdiction: str | None = None  # whose regulator (None: the first's)

    def value(self, tick: int) -> float:
        """The parameter's value at ``tick`` (rounded for whole-number parameters)."""
        if tick >= self.last_tick:
            value = self.end
        else:
            share = (tick - self.first_tick + 1) / (self.last_tick - self.first_tick + 1)
            value = self.start + share * (self.end - self.start)
        return round(value) if _POLICY_FIELDS[self.key].type is int else value

    def advance(self, ctx: EventContext) -> bool:
        """Set this tick's value; done after ``last_tick``."""
        setattr(ctx.policy_of(self.jurisdiction), self.key, self.value(ctx.tick))
        return self.last_tick > ctx.tick


@dataclass
class PolicyShift(Event):
    """Set regulator parameters from a tick, at once or ramped (seed 2.3, 7.3).

    ``changes`` maps any numeric :class:`sim.config.RegulatorConfig` field to its new
    value; with ``ramp: R`` each moves linearly to it over R ticks. ``restore`` lists
    fields that return at once to the run's configured value (``cfg.regulator``, or the
    jurisdiction's starting policy): a scenario can switch a rule off early and bring it
    in at a date while its strength stays a config key (a sweep or a calibration can set
    it). With several jurisdictions, ``jurisdiction`` names whose regulator shifts (default:
    the first's).
    """

    type_name: ClassVar[str] = "policy_shift"
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    ramp: int = 0
    restore: list[str] = dataclasses.field(default_factory=list)
    jurisdiction: str | None = None

    def check(self, key: str) -> None:  # noqa: D102
        if not isinstance(self.restore, list | tuple):
            raise ConfigError(f"{key}.restore", self.restore, "a list of regulator parameters")
        for name in self.restore:
            if name not in _POLICY_FIELDS:
                raise ConfigError(
                    f"{key}.restore",
                    name,
                    "regulator parameters: " + ", ".join(sorted(_POLICY_FIELDS)),
                )
            if name in self.changes:
                raise ConfigError(f"{key}.restore", name, "a parameter not also in changes")
        if not self.changes and not self.restore:
            raise ConfigError(f"{key}.changes", self.changes, "at least one regulator parameter")
        for name, value in self.changes.items():
            if name not in _POLICY_FIELDS:
                raise ConfigError(
                    f"{key}.changes.{name}", value, "one of " + ", ".join(sorted(_POLICY_FIELDS))
                )
            f = _POLICY_FIELDS[name]
            if f.type is bool and not isinstance(value, bool):
                raise ConfigError(f"{key}.changes.{name}", value, "true or false")
            if f.type is not bool:
                check_field(f"{key}.changes.{name}", value, f.metadata, f.type)
        check_range(f"{key}.ramp", self.ramp, 0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        where = self.jurisdiction
        policy = ctx.policy_of(where)

        def key(name: str) -> tuple:
            return ("ramp", name) if where is None else ("ramp", name, where)

        # A later shift of a parameter supersedes a ramp of it that is still running.
        for name in self.changes:
            ctx.stop(key(name))
        for name, value in self.changes.items():
            if self.ramp > 0 and _POLICY_FIELDS[name].type is not bool:
                start = float(getattr(policy, name))
                ramp = Ramp(name, start, value, self.tick, self.tick + self.ramp - 1, where)
                ctx.start(key(name), ramp)
                value = ramp.value(self.tick)
            setattr(policy, name, value)
        starting = ctx.cfg.regulator if where is None else ctx.starting[where]
        for name in self.restore:
            ctx.stop(key(name))
            setattr(policy, name, getattr(starting, name))


@dataclass
class SelfRegulation(Event):
    """An industry association starts peer audits and a shared blacklist (seed 5.1).

    ``peer_audit_accuracy`` defaults to the regulator config's (how good the industry's
    auditors are is a property of the world, not of the event).
    """

    type_name: ClassVar[str] = "self_regulation"
    peer_audit_rate: float = 0.05
    peer_audit_accuracy: float | None = None
    blacklist: bool = True

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.peer_audit_rate", self.peer_audit_rate, 0.0, 1.0)
        if self.peer_audit_accuracy is not None:
            check_range(f"{key}.peer_audit_accuracy", self.peer_audit_accuracy, 0.0, 1.0)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        ctx.policy.peer_audit_rate = self.peer_audit_rate
        if self.peer_audit_accuracy is not None:
            ctx.policy.peer_audit_accuracy = self.peer_audit_accuracy
        ctx.policy.blacklist = self.blacklist


@dataclass
class LegalLag(Event):
    """A new product line grows outside the rules for a while (seed 7.1).

    A ``share`` of open platforms launch a product that adds ``extra_yield`` to what they
    advertise and ``extra_default`` to their loan book's hidden default rate. For ``lag``
    ticks (default: the regulator's ``rule_lag``) the platform's violations cannot be
    sanctioned (the model does not tell product from platform) and its temptation is
    multiplied by ``temptation``; then the rules catch up: the product is brought under
    them and its extra yield and risk end.
    """

    type_name: ClassVar[str] = "legal_lag"
    share: float = 0.5
    extra_yield: float = 0.04
    extra_default: float = 0.06
    temptation: float = 3.0
    lag: int | None = None

    def check(self, key: str) -> None:  # noqa: D102
        check_range(f"{key}.share", self.share, 0.0, 1.0)
        check_range(f"{key}.extra_yield", self.extra_yield, 0.0, 1.0)
        check_range(f"{key}.extra_default", self.extra_default, 0.0, 1.0)
        check_range(f"{key}.temptation", self.temptation, 0.0)
        if self.lag is not None:
            check_range(f"{key}.lag", self.lag, 1)

    def apply(self, ctx: EventContext) -> None:  # noqa: D102
        lag = self.lag if self.lag is not None else ctx.policy.rule_lag
        market = ctx.market
        adopters = []
        for j in range(len(market)):
            if market.is_open[j] and ctx.rng.random() < self.share:
                regulated_from = self.tick + max(lag, 1)
                product = ProductLine(
                    extra_yield=self.extra_yield,
                    extra_default=self.extra_default,
                    temptation=self.temptation,
                    regulated_from=regulated_from,
                )
                market.set_product(j, product)
                adopters.append(j)
                ctx.log("product_launch", platform=j, regulated_from=regulated_from)
        rules = RulesCatchUp(adopters)
        ctx.start(rules, rules)


@dataclass(eq=False)
class RulesCatchUp:
    """A running legal lag: its adopters' products come under the rules when their lag ends."""

    adopters: list[int]

    def advance(self, ctx: EventContext) -> bool:
        """Bring the products whose lag has ended under the rules; done when none is left."""
        market = ctx.market
        for j in self.adopters:
            if market.has_product[j] and ctx.tick >= market.product_until[j]:
                market.set_product(j, None)
                ctx.log("product_regulated", platform=j)
        return bool(market.has_product[self.adopters].any())
