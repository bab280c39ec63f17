"""The page: Mesa's SolaraViz around :class:`ClassroomModel`, with trustsim's views.

``solara run sim.app.page`` serves :data:`Page`; ``trustsim-app`` does that for you. Each
browser tab gets a model of its own. Step, play/pause and Reset are SolaraViz's own
controls; the parameters take effect on Reset, as in every Mesa page.
"""

import html

import solara
from mesa.visualization import SolaraViz

from sim.app.factory import RUMOUR_TICK, SANDBOX_TICK, ClassroomModel, model_params
from sim.app.figures import indicator_figure, network_figure, platform_frame

PLAY_INTERVAL_MS = 50

TABLE_STYLE = """
<style>
.trustsim-platforms {border-collapse: collapse; font-size: 13px; width: 100%;}
.trustsim-platforms th, .trustsim-platforms td {padding: 2px 6px; text-align: right;
  border-bottom: 1px solid #ddd; white-space: nowrap;}
.trustsim-platforms th {position: sticky; top: 0; background: #f5f5f5;}
.trustsim-platforms td.text {text-align: left;}
.trustsim-platforms tr.closed td {color: #999;}
.trustsim-platforms td.collapsed {color: #c62828; font-weight: bold;}
.trustsim-platforms td.suspended {color: #ef6c00;}
.trustsim-platforms td.sandbox {color: #1565c0;}
</style>
"""


def _refused(model) -> bool:
    return getattr(model, "refusal", None) is not None


def Refusal(model):
    """The reason a model was not built, where the views would be."""
    with solara.Column(style={"padding": "12px"}) as main:
        solara.Error(
            f"Not built: {model.refusal}. Correct the value and press Reset.",
            classes=["trustsim-refusal"],
        )
    return main


def Overview(model):
    """The scenario, what the switches added, and where the run is."""
    if _refused(model):
        return Refusal(model)
    cfg = model.cfg
    added = []
    if model.params.get("rumour"):
        added.append(f"a false rumour in week {RUMOUR_TICK} (rebuttal: the regime's policy)")
    if model.params.get("sandbox"):
        added.append(f"a sandbox cohort in week {SANDBOX_TICK}")
    text = (
        f"**{cfg.scenario.name}**: {cfg.scenario.description or 'no scheduled events.'}"
        f" Platforms: {cfg.platforms.preset}; regulator: {cfg.regulator.regime};"
        f" {cfg.population.n_users:,} users; seed {cfg.seed}."
    )
    if added:
        text += " Added: " + "; ".join(added) + "."
    with solara.Column(style={"padding": "4px 12px"}) as main:
        solara.Markdown(text)
        solara.Text(f"Week {model.tick} of {cfg.ticks}", classes=["trustsim-week"])
    return main


def NetworkView(model):
    """The network sample coloured by trust."""
    if _refused(model):
        return solara.Text("")
    return solara.FigureMatplotlib(network_figure(model), format="png")


def IndicatorCharts(model):
    """The indicators so far, with the scenario's events."""
    if _refused(model):
        return solara.Text("")
    return solara.FigureMatplotlib(indicator_figure(model), format="png")


def _cell(column: str, value) -> str:
    if column == "status":
        return f'<td class="text {value}">{html.escape(str(value))}</td>'
    if column == "strategy":
        return f'<td class="text">{html.escape(str(value))}</td>'
    if column == "assets":
        return f"<td>{value:,.0f}</td>"
    if column in ("#", "users"):
        return f"<td>{int(value)}</td>"
    return "<td>–</td>" if value != value else f"<td>{value:.2f}</td>"  # NaN: no users


def PlatformTable(model):
    """This week's platforms."""
    if _refused(model):
        return solara.Text("")
    frame = platform_frame(model)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = dict(zip(frame.columns, row, strict=True))
        closed = cells["status"] not in ("active", "sandbox")
        tds = "".join(_cell(c, v) for c, v in cells.items())
        body.append(f'<tr class="{"closed" if closed else "open"}">{tds}</tr>')
    table = (
        f'{TABLE_STYLE}<div style="max-height: 100%; overflow: auto">'
        f'<table class="trustsim-platforms"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    with solara.Column(style={"padding": "4px 8px"}) as main:
        solara.Text(f"Platforms in week {model.tick}", style={"font-weight": "bold"})
        solara.HTML(tag="div", unsafe_innerHTML=table)
    return main


COMPONENTS = [Overview, NetworkView, IndicatorCharts, PlatformTable]


@solara.component
def Page():
    """The page, with a model of its own for each browser tab."""
    model = solara.use_memo(ClassroomModel, [])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(),
        name="trustsim: trust in internet-finance platforms",
        play_interval=PLAY_INTERVAL_MS,
    )


page = Page
