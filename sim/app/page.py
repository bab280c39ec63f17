"""The page: Mesa's SolaraViz controls around :class:`ClassroomModel`, and trustsim's views.

``solara run sim.app.page`` serves :data:`Page`; ``trustsim-app`` does that for you. Each
browser tab gets a model of its own. Step, play/pause, Reset and the parameters are
SolaraViz's own (the parameters take effect on Reset, as in every Mesa page).

The views are laid out here in a fixed arrangement, not through SolaraViz's
``components``: those go into a draggable grid that needs a Vue 2 library, which fails
to load under ipyvuetify 3 ("GlobalVue.use is not a function") and leaves the page blank.
SolaraViz is given the model as a reactive value, so the views follow its Reset.
"""

import html

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.app.factory import RUMOUR_TICK, SANDBOX_TICK, ClassroomModel, model_params
from sim.app.indicators import IndicatorChart
from sim.app.jurisdiction_view import JurisdictionChart
from sim.app.live import live_chart
from sim.app.network_view import NetworkChart
from sim.app.table import platform_table_html

NAME = "trustsim: trust in internet-finance platforms"
PLAY_INTERVAL_MS = 50


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
        + e(cfg.scenario.description or "no scheduled events."),
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
    """Running totals that the charts do not show."""
    closed = sum(not p.is_open for p in model.platforms)
    return (
        f"So far: {model.market.violations_total} rule violations, "
        f"{model.regulator.detected_total} detected; {closed} platforms closed; users lost "
        f"{model.market.user_losses_cum:,.0f}."
    )


@solara.component
def Views(model: ClassroomModel):
    """The scenario, the network, the indicators and the platforms of ``model``."""
    counter = update_counter.get()  # SolaraViz bumps it after each step
    refused = model.refusal is not None
    tick = None if refused else model.tick

    def draw():
        if refused:
            return None, None, None
        network = live_chart(model, "network", NetworkChart).png(model)
        charts = live_chart(model, "indicators", IndicatorChart).png(model)
        several = len(model.regulators) > 1
        side = live_chart(model, "jurisdictions", JurisdictionChart).png(model) if several else None
        return network, charts, side

    network_png, charts_png, jurisdictions_png = solara.use_memo(draw, [model, tick, counter])
    with solara.Column(style={"padding": "8px 12px", "gap": "12px"}):
        if refused:
            solara.Error(
                f"Not built: {model.refusal}. Correct the value and press Reset.",
                classes=["trustsim-refusal"],
                icon=True,
            )
            return
        with solara.Card(classes=["trustsim-overview"], margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=overview_html(model))
            with solara.Row(style={"align-items": "baseline", "gap": "24px"}):
                solara.Text(
                    f"Week {model.tick} of {model.cfg.ticks}",
                    classes=["trustsim-week"],
                    style={"font-size": "18px", "font-weight": "bold"},
                )
                solara.Text(so_far_text(model), classes=["trustsim-so-far"])
        with solara.Columns([5, 6], gutters_dense=True):
            with solara.Card(classes=["trustsim-network"], margin=0):
                solara.Image(network_png, width="100%")
            with solara.Card(classes=["trustsim-charts"], margin=0):
                solara.Image(charts_png, width="100%")
        if jurisdictions_png is not None:
            with solara.Columns([6, 5], gutters_dense=True):
                with solara.Card(classes=["trustsim-jurisdictions"], margin=0):
                    solara.Image(jurisdictions_png, width="100%")
                with solara.Card("Reading the jurisdictions", margin=0):
                    solara.HTML(tag="div", unsafe_innerHTML=JURISDICTIONS_HELP)
        title = f"Platforms in week {model.tick}"
        with solara.Card(title, classes=["trustsim-platforms"], margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=platform_table_html(model))


@solara.component
def Page():
    """The page, with a model of its own for each browser tab."""
    first = solara.use_memo(ClassroomModel, [])
    model = solara.use_reactive(first)
    params = solara.use_memo(model_params, [])
    SolaraViz(model, components=[], model_params=params, name=NAME, play_interval=PLAY_INTERVAL_MS)
    Views(model.value)


page = Page
