"""``trustsim --help``: how to run it, the config groups, and every key with its range.

Hydra's own help lists the composed config's values; this one reads the schema
(:class:`sim.config.Config`) and gives each key its default, what it accepts and what it
means, so that a value can be chosen without reading ``sim/config.py``. ``--hydra-help``
still shows Hydra's flags.
"""

import dataclasses
import math
import typing
from typing import Any

from sim.config import Config

USAGE = """\
usage: trustsim [KEY=VALUE ...] [GROUP=OPTION ...]       one run
       trustsim -m KEY=A,B SEED=range(5) ...             a sweep (every combination)
       trustsim --cfg job [KEY=VALUE ...]                print the composed config
       trustsim --hydra-help                             Hydra's own flags

Examples:
  trustsim scenario=rumour regulator=laissez_faire seed=3
  trustsim population.n_users=100000 regulator.penalty=0.05 ticks=520
  trustsim -m scenario=sandbox_pilot,no_sandbox seed='range(10)' hydra/launcher=local
  trustsim -m +experiment=sandbox_vs_none          (a canned study: conf/experiment/)
Run from a checkout with .venv/bin/trustsim (or activate .venv first). A value outside its
range is refused before anything runs, naming the key, with exit status 2.
"""


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _number(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _allowed(f: dataclasses.Field) -> str:
    """What a field accepts, from its type and metadata."""
    meta = f.metadata
    if "choices" in meta:
        return "one of " + ", ".join(map(str, meta["choices"]))
    kind = f.type
    optional = typing.get_origin(kind) is typing.Union or isinstance(kind, type(int | None))
    if optional:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    name = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(
        kind, getattr(kind, "__name__", str(kind))
    )
    if "lo" in meta or "hi" in meta:
        lo, hi = meta.get("lo", -math.inf), meta.get("hi", math.inf)
        left = "(" if meta.get("open_lo") else "["
        bounds = f" in {left}{_number(lo)}, {_number(hi)}]"
        name += bounds if math.isfinite(hi) else f" >= {_number(lo)}"
    return name + (", or null" if optional else "")


def key_lines(node: type = Config, prefix: str = "") -> list[str]:
    """One line per key of the schema: ``key = default  (allowed)  meaning``."""
    lines = []
    for f in dataclasses.fields(node):
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(f.type):
            lines.append("")
            lines.append(f"{key}:  {(f.type.__doc__ or '').strip().splitlines()[0]}")
            lines += key_lines(f.type, key + ".")
            continue
        default = _default(f)
        if isinstance(default, dict | list) and default:
            shown = f"{{{len(default)} entries}}" if isinstance(default, dict) else "[...]"
        else:
            shown = "null" if default is None else str(default).lower() if isinstance(
                default, bool) else str(default)  # fmt: skip
        doc = f.metadata.get("doc", "")
        lines.append(f"  {key} = {shown}  ({_allowed(f)}){'  ' + doc if doc else ''}")
    return lines


def help_text(groups: dict[str, list[str]]) -> str:
    """The whole help: usage, the config groups' options, every key."""
    parts = [USAGE, "Config groups (GROUP=OPTION):"]
    parts += [f"  {group}: {', '.join(options)}" for group, options in groups.items()]
    parts += ["", "Keys (KEY=VALUE; default, allowed values, meaning):", *key_lines()]
    parts += ["", "The model and every mechanism: docs/model.md; the files a run writes: README."]
    return "\n".join(parts) + "\n"
