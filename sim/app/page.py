"""The page: Mesa's model controls around :class:`ClassroomModel`, and trustsim's views.

``solara run sim.app.page`` serves :data:`Page`; ``trustsim-app`` does that for you. Each
browser tab gets a model of its own. Step, play/pause, Reset and the parameters are Mesa's
own components (``ModelController``, ``ModelCreator``; the parameters take effect on
Reset, as in every Mesa page), in a sidebar of ours rather than ``SolaraViz``'s: its
sidebar adds controls a class does not need ("Use Threads") under a programmer's names.

The views are laid out here in a fixed arrangement: SolaraViz's ``components`` go into a
draggable grid that needs a Vue 2 library, which fails to load under ipyvuetify 3
("GlobalVue.use is not a function") and leaves the page blank.
"""

import html
import re

import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import update_counter

from sim.app.compare_view import CompareChart
from sim.app.factory import (
    RUMOUR_TICK,
    SANDBOX_TICK,
    ClassroomModel,
    compared_value,
    model_params,
    other_world,
)
from sim.app.indicators import IndicatorChart
from sim.app.jurisdiction_view import JurisdictionChart
from sim.app.live import live_chart
from sim.app.network_view import NetworkChart
from sim.app.table import platform_table_html

NAME = "trustsim: trust in internet-finance platforms"
PLAY_INTERVAL_MS = 50
# Long enough that a slow step does not pile up, short enough to watch a year in a minute.
MAX_INTERVAL_MS = 1000
MAX_WEEKS_PER_STEP = 52


def text_html(text: str) -> str:
    """Plain text with ``code`` spans, as HTML (scenario descriptions use them)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


JURISDICTIONS_HELP = (
    '<div style="font-size: 15px; line-height: 1.5">'
    "Each colour is one jurisdiction. Trust and losses are its <i>residents'</i>, wherever"
    " the platform they use is licensed; platforms are those <i>licensed</i> there, whoever"
    " they serve. Platforms that move their licence to cheaper rules show as one line"
    " falling and the other rising (a <i>relocation</i> in the event log). Compare the"
    " scenarios <b>cross_border_arbitrage</b> (licences move), <b>supervisory_cooperation</b>"
    " (flags and a blacklist shared) and <b>harmonisation</b> (the lax rules converge)."
    "</div>"
)


def overview_html(model: ClassroomModel) -> str:
    """What is being run: scenario, strategies, regime, size, and what the switches added."""
    cfg, reg = model.cfg, model.cfg.regulator
    e = html.escape
    regulator = (
        ""  # each jurisdiction's regulator is listed on a line of its own
        if cfg.scenario.jurisdictions
        else f"; regulator <b>{e(reg.regime)}</b>, starting with penalty {reg.penalty:g},"
        f" disclosure mandate {reg.disclosure_mandate:g}, education rate"
        f" {reg.education_rate:g} a week"
    )
    lines = [
        f"<b>Scenario {e(cfg.scenario.name)}</b>: "
        + text_html(cfg.scenario.description or "no scheduled events."),
        f"Platform strategies <b>{e(cfg.platforms.preset)}</b>{regulator};"
        f" {cfg.population.n_users:,} users; seed {cfg.seed}.",
    ]
    if cfg.scenario.jurisdictions:
        lines.append(jurisdictions_text(model))
    added = []
    if model.params.get("rumour"):
        added.append(f"a false rumour in week {RUMOUR_TICK} (rebutted if the regime rebuts)")
    if model.params.get("sandbox"):
        where = cfg.scenario.jurisdictions[0].name if cfg.scenario.jurisdictions else None
        cohort = f"a sandbox cohort in week {SANDBOX_TICK}"
        added.append(cohort + (f", in {where}'s sandbox" if where else ""))
    if added:
        lines.append("Added: " + e("; ".join(added)) + ".")
    choice = model.params.get("compare", "nothing")
    if model.other is not None:
        second = other_world(model.params) or {}
        lines.append(
            f"<b>Two worlds</b>, the same but for {e(choice)}: <b>A</b> (solid lines) with "
            f"{e(compared_value(model.params, choice))}, <b>B</b> (dashed) with "
            f"{e(compared_value(second, choice))}. Same seed: same users, network and platforms "
            "at the start."
        )
    return '<div style="font-size: 15px; line-height: 1.5">' + "<br>".join(lines) + "</div>"


def jurisdictions_text(model: ClassroomModel) -> str:
    """Each jurisdiction's regulator and shares, and the rules between them (HTML)."""
    e = html.escape
    border = model.cfg.scenario.cross_border
    parts = []
    for j, regulator in zip(model.cfg.scenario.jurisdictions, model.regulators, strict=True):
        policy = regulator.policy
        parts.append(
            f"<b>{e(j.name)}</b> ({e(policy.regime)}, penalty {policy.penalty:g},"
            f" inspections {policy.inspection_rate:g} a week; {j.user_share:.0%} of users,"
            f" {j.platform_share:.0%} of platforms)"
        )
    service = "licences serve everywhere" if border.service == "passport" else "home only"
    own = any(j.regime is not None for j in model.cfg.scenario.jurisdictions)
    note = (
        " Each jurisdiction has its own regime: the regulator controls on the left apply only"
        " where a jurisdiction names none."
        if own
        else ""
    )
    return e("Jurisdictions: ") + "; ".join(parts) + e(f"; {service}.{note}")


def so_far_text(model: ClassroomModel) -> str:
    """Running totals that the charts do not show (of both worlds when there are two)."""

    def totals(world) -> str:
        closed = sum(not p.is_open for p in world.platforms)
        return (
            f"{world.market.violations_total} rule violations, "
            f"{world.regulator.detected_total} detected; {closed} platforms closed; users lost "
            f"{world.market.user_losses_cum:,.0f}"
        )

    if model.other is None:
        return f"So far: {totals(model)}."
    return f"So far, world A: {totals(model)}. World B: {totals(model.other)}."


@solara.component
def Views(model: ClassroomModel):
    """The scenario, the network, the indicators and the platforms of ``model``."""
    counter = update_counter.get()  # the controller bumps it after each step
    refused = model.refusal is not None
    tick = None if refused else model.tick

    def draw():
        if refused:
            return {}
        pngs = {"network": live_chart(model, "network", NetworkChart).png(model)}
        if model.other is not None:
            pngs["compare"] = live_chart(model, "compare", CompareChart).png(model)
            pngs["network_b"] = live_chart(model.other, "network", NetworkChart).png(model.other)
        else:
            pngs["indicators"] = live_chart(model, "indicators", IndicatorChart).png(model)
        if len(model.regulators) > 1:
            pngs["jurisdictions"] = live_chart(model, "jurisdictions", JurisdictionChart).png(model)
        return pngs

    pngs = solara.use_memo(draw, [model, tick, counter])
    with solara.Column(style={"padding": "8px 12px", "gap": "12px", "min-width": "0"}):
        if refused:
            solara.Error(
                f"Not built: {model.refusal}. Correct the value and press Reset.",
                classes=["trustsim-refusal"],
                icon=True,
            )
            return
        with solara.Card(classes=["trustsim-overview"], margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=overview_html(model))
            with solara.Row(style={"align-items": "baseline", "gap": "24px", "flex-wrap": "wrap"}):
                solara.Text(
                    f"Week {model.tick} of {model.cfg.ticks}",
                    classes=["trustsim-week"],
                    style={"font-size": "18px", "font-weight": "bold"},
                )
                solara.Text(so_far_text(model), classes=["trustsim-so-far"])
        if model.other is not None:
            _two_worlds(model, pngs)
        else:
            with solara.Columns([5, 6], gutters_dense=True):
                with solara.Card(classes=["trustsim-network"], margin=0):
                    solara.Image(pngs["network"], width="100%")
                with solara.Card(classes=["trustsim-charts"], margin=0):
                    solara.Image(pngs["indicators"], width="100%")
        if "jurisdictions" in pngs:
            with solara.Columns([6, 5], gutters_dense=True):
                with solara.Card(classes=["trustsim-jurisdictions"], margin=0):
                    solara.Image(pngs["jurisdictions"], width="100%")
                with solara.Card("Reading the jurisdictions", margin=0):
                    solara.HTML(tag="div", unsafe_innerHTML=JURISDICTIONS_HELP)
        title = f"Platforms in week {model.tick}" + (" (world A)" if model.other else "")
        with solara.Card(title, classes=["trustsim-platforms"], margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=platform_table_html(model))
        if model.other is not None:
            with solara.Card("Platforms (world B)", classes=["trustsim-platforms-b"], margin=0):
                solara.HTML(tag="div", unsafe_innerHTML=platform_table_html(model.other))


def _two_worlds(model: ClassroomModel, pngs: dict[str, bytes]) -> None:
    """World A and world B: their indicators on shared axes, their networks side by side."""
    with solara.Columns([7, 5], gutters_dense=True):
        with solara.Card(classes=["trustsim-compare"], margin=0):
            solara.Image(pngs["compare"], width="100%")
        with solara.Column(gap="8px"):
            for world, png in (("A", pngs["network"]), ("B", pngs["network_b"])):
                with solara.Card(f"World {world}", classes=[f"trustsim-network-{world.lower()}"],
                                 margin=0):  # fmt: skip
                    solara.Image(png, width="100%")


@solara.component
def Controls(model: solara.Reactive[ClassroomModel], parameters: solara.Reactive[dict]):
    """Reset, play and step (Mesa's controller), how fast, and the parameters."""
    interval = solara.use_reactive(PLAY_INTERVAL_MS)
    weeks = solara.use_reactive(1)
    threads = solara.use_reactive(False)  # stepping and drawing in turn: no skipped frames
    params = solara.use_memo(model_params, [])
    with solara.Card("Run"):
        ModelController(
            model,
            model_parameters=parameters,
            play_interval=interval,
            render_interval=weeks,
            use_threads=threads,
        )
        solara.SliderInt("Pause, ms", value=interval, min=0, max=MAX_INTERVAL_MS, step=10)
        solara.SliderInt("Weeks a step", value=weeks, min=1, max=MAX_WEEKS_PER_STEP)
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<i>Pause</i>: between weeks while playing (▶). <i>Weeks a step</i>: how far "
                "<b>Step</b>, or each frame of ▶, goes: raise it to get through five years "
                "quickly."
            ),
            style={"font-size": "13px", "color": "#555"},
        )
    with solara.Card("Model parameters"):
        ModelCreator(model, params, model_parameters=parameters)
        # Not solara.Markdown: it loads a diagram library the page's files do not hold.
        solara.HTML(
            tag="div",
            unsafe_innerHTML="Parameters take effect when you press <b>Reset</b>.",
            style={"font-size": "14px", "color": "#555"},
        )


@solara.component
def Page():
    """The page, with a model of its own for each browser tab."""
    first = solara.use_memo(ClassroomModel, [])
    model = solara.use_reactive(first)
    parameters = solara.use_reactive({})
    with solara.AppBar():
        solara.AppBarTitle(NAME)
    with solara.Sidebar():
        Controls(model, parameters)
    Views(model.value)


page = Page
