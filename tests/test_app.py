"""The educators' page (sim.app): its model factory, its views, and the page in a browser.

The fast tests build models and render the page's components in-process. The browser
test (marked ``browser``) starts ``trustsim-app`` on a free port and drives it in
Debian's headless Chromium with Playwright; it skips where Chromium is missing, except in
CI (``CI=true``), where it fails. Its screenshot goes to ``$TRUSTSIM_ARTIFACTS/app.png``
(default: ``trustsim-artifacts/app.png`` in the system temp folder, outside the repo).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import numpy as np
import pytest
import solara
from mesa.visualization.solara_viz import _check_model_params
from PIL import Image

from sim.app import ClassroomModel, build_model, main, model_params, page_config
from sim.app.assets import frontend_packages, missing_packages
from sim.app.compare_view import CompareChart
from sim.app.factory import (
    MAX_USERS,
    PAGE_PARAMS,
    RUMOUR_EVENT,
    RUMOUR_TICK,
    SANDBOX_EVENT,
    SANDBOX_TICK,
    other_world,
)
from sim.app.indicators import (
    IndicatorChart,
    event_labels,
    indicator_figure,
    nice_top,
    scheduled_events,
)
from sim.app.jurisdiction_view import JurisdictionChart, jurisdiction_series
from sim.app.live import LiveChart
from sim.app.network_view import (
    NetworkChart,
    network_figure,
    network_sample,
    sample_network,
    user_trust,
)
from sim.app.page import Page, Views, overview_html
from sim.app.table import platform_frame, platform_table_html
from sim.compose import compose_config
from sim.config import ConfigError
from sim.model import TrustModel

SCENARIOS = (
    "baseline",
    "sandbox_pilot",
    "no_sandbox",
    "rumour",
    "rumour_rebutted",
    "policy_shift",
    "education_campaign",
    "disclosure_mandate",
    "p2p_boom_bust",
    "fraud_contagion",
)


def small(**params) -> ClassroomModel:
    return ClassroomModel(**{"n_users": "300", **params})


# --- the factory ----------------------------------------------------------------------


def test_page_controls_are_the_model_keywords():
    params = model_params()
    keywords = set(inspect.signature(ClassroomModel.__init__).parameters) - {"self"}
    assert set(params) == keywords
    assert set(SCENARIOS) <= set(params["scenario_name"]["values"])
    for name in ("scenario_name", "platforms", "regulator"):
        assert params[name]["value"] in params[name]["values"]
    assert {"mixed", "laggard", "balanced"} <= set(params["platforms"]["values"])
    assert {"rules_based", "laissez_faire", "sandbox_regtech"} <= set(params["regulator"]["values"])
    assert params["rumour"]["type"] == params["sandbox"]["type"] == "Checkbox"
    _check_model_params(ClassroomModel.__init__, params)  # Mesa's own check of the keywords


def test_factory_builds_the_cli_config():
    params = dict(
        scenario_name="rumour",
        platforms="balanced",
        regulator="laissez_faire",
        n_users="300",
        penalty="0.05",
        disclosure_mandate="0.6",
        education_rate="0.001",
        seed="7",
    )
    cli = compose_config(
        [
            "scenario=rumour",
            "platforms=balanced",
            "regulator=laissez_faire",
            "population.n_users=300",
            "seed=7",
            "regulator.penalty=0.05",
            "regulator.disclosure_mandate=0.6",
            "regulator.education_rate=0.001",
        ]
    )
    assert page_config(**params) == cli
    model = build_model(**params)
    assert type(model) is TrustModel
    assert model.population.n == 300 and model.cfg.seed == 7
    page_model = ClassroomModel(**params)
    assert isinstance(page_model, TrustModel) and page_model.refusal is None
    assert page_model.cfg == cli


def test_blank_numbers_keep_the_regimes_values():
    for regime in ("laissez_faire", "sandbox_regtech"):
        page = page_config(regulator=regime, n_users=300, penalty="", disclosure_mandate=" ")
        cli = compose_config([f"regulator={regime}", "population.n_users=300"])
        assert page.regulator == cli.regulator


@pytest.mark.parametrize(
    ("params", "cli_override"),
    [
        ({"n_users": "-1"}, "population.n_users=-1"),
        ({"n_users": -1}, "population.n_users=-1"),
        ({"penalty": "2"}, "regulator.penalty=2.0"),
        ({"disclosure_mandate": "-0.5"}, "regulator.disclosure_mandate=-0.5"),
        ({"education_rate": "1.5"}, "regulator.education_rate=1.5"),
        ({"seed": "-3"}, "seed=-3"),
    ],
)
def test_out_of_range_is_refused_with_the_cli_message(params, cli_override):
    with pytest.raises(ConfigError) as cli:
        compose_config([cli_override])
    with pytest.raises(ConfigError) as page:
        page_config(**params)
    assert str(page.value) == str(cli.value)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"n_users": "abc"}, "population.n_users"),
        ({"n_users": "2.5"}, "population.n_users"),
        ({"n_users": str(MAX_USERS + 1)}, "population.n_users"),
        ({"n_users": "10"}, "population.n_users"),
        ({"penalty": "a lot"}, "regulator.penalty"),
        ({"scenario_name": "no_such_scenario"}, "scenario"),
        ({"regulator": "martial_law"}, "regulator"),
    ],
)
def test_nonsense_is_refused_naming_the_key(params, key):
    with pytest.raises(ConfigError) as err:
        page_config(**params)
    assert err.value.key == key
    assert str(err.value).startswith(f"invalid config value {key}=")


def test_a_refused_model_is_not_built_and_does_not_step():
    model = ClassroomModel(n_users="-1", penalty="0.1")
    assert model.refusal == (
        "invalid config value population.n_users=-1: allowed a number in [1, 1000000000]"
    )
    assert not hasattr(model, "cfg") and not hasattr(model, "population")
    assert model.running is False
    model.step()
    assert model.time <= 1 and not hasattr(model, "market")


def test_the_page_shows_the_refusal_instead_of_the_views():
    _, rc = solara.render(Views(ClassroomModel(penalty="2")), handle_error=False)
    (text,) = rc.find(v.Alert).widget.children
    assert "regulator.penalty=2.0: allowed a number in [0.0, 1.0]" in text
    assert not rc.find(ipywidgets.Image).widgets


def test_the_page_refuses_on_reset_and_rebuilds_when_corrected():
    """The real path: the Users field, SolaraViz's Reset, the views; then Step."""
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    users = rc.find(v.TextField, label=model_params()["n_users"]["label"]).widget
    reset = rc.find(v.Btn, children=["Reset"]).widget
    users.v_model = "-1"
    users.fire_event("keyup.enter", None)
    reset.click()
    (text,) = rc.find(v.Alert).widget.children
    assert "population.n_users=-1: allowed a number in [1, 1000000000]" in text
    users.v_model = "300"
    users.fire_event("keyup.enter", None)
    reset.click()
    assert not rc.find(v.Alert).widgets
    rc.find(v.Html, children=["Week 0 of 260"]).assert_single()
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    step.click()
    rc.find(v.Html, children=["Week 2 of 260"]).assert_single()
    assert len(rc.find(ipywidgets.Image).widgets) == 2


def test_switches_add_a_rumour_and_a_sandbox_cohort():
    plain = page_config(n_users=300)
    assert plain.scenario.events == []
    cfg = page_config(n_users=300, rumour=True, sandbox=True)
    assert RUMOUR_EVENT in cfg.scenario.events and SANDBOX_EVENT in cfg.scenario.events
    rumour_only = page_config(scenario_name="policy_shift", n_users=300, rumour=True)
    scenario_events = compose_config(["scenario=policy_shift"]).scenario.events
    assert rumour_only.scenario.events == [*scenario_events, RUMOUR_EVENT]

    model = small(rumour=True, sandbox=True)
    for _ in range(RUMOUR_TICK + 3):
        model.step()
    fired = {(e["tick"], e["event"]) for e in model.event_log if e["type"] == "scheduled"}
    assert fired == {(SANDBOX_TICK, "sandbox"), (RUMOUR_TICK, "rumour")}
    assert model.market.sandbox_admissions > 0
    reach = model.timeseries()["rumour_reach"]
    assert reach.iloc[RUMOUR_TICK - 1] == 0 and reach.iloc[-1] > 0


def test_the_run_stops_at_the_horizon():
    model = small()
    model.cfg.ticks = 3
    for _ in range(5):
        model.step()
    assert model.tick == 3 and model.running is False


# --- the views ------------------------------------------------------------------------


def test_network_sample_is_seeded_and_fixed():
    model = small(n_users="1000", seed="4")
    first = sample_network(model.network.adjacency, 200, seed=4)
    again = sample_network(model.network.adjacency, 200, seed=4)
    other = sample_network(model.network.adjacency, 200, seed=5)
    assert first.users.size == 200 and np.unique(first.users).size == 200
    np.testing.assert_array_equal(first.users, again.users)
    np.testing.assert_array_equal(first.edges, again.edges)
    np.testing.assert_array_equal(first.positions, again.positions)
    assert not np.array_equal(first.users, other.users)
    adjacency = model.network.adjacency.tocsr()
    u, w = first.users[first.edges[:, 0]], first.users[first.edges[:, 1]]
    assert np.all(adjacency[u, w] != 0)
    # every link among the sampled users is drawn, once
    assert first.edges.shape[0] == (adjacency[first.users][:, first.users] != 0).sum() // 2
    # computed once per model: stepping does not move anyone
    sample = network_sample(model)
    model.step()
    assert network_sample(model) is sample
    tiny = small(n_users="60")
    assert network_sample(tiny).users.size == 60


def test_network_is_coloured_by_each_users_trust():
    model = small(seed="2")
    for _ in range(8):
        model.step()
    users = network_sample(model).users
    trust, holds = user_trust(model, users)
    pop = model.population
    account_trust = pop.trust(model.cfg.trust.prior_weight)[users]
    balance = np.where(pop.platform[users] >= 0, pop.balance[users], 0.0)
    expected = np.where(
        holds,
        (account_trust * balance).sum(axis=1) / np.maximum(balance.sum(axis=1), 1e-300),
        pop.institutional_trust[users],
    )
    np.testing.assert_allclose(trust, expected, rtol=1e-5)
    assert holds.any() and (~holds).any()
    np.testing.assert_array_equal(holds, (pop.platform[users] >= 0).any(axis=1))
    fig = network_figure(model)
    holders, others = (c for c in fig.axes[0].collections if c.get_array() is not None)
    np.testing.assert_allclose(holders.get_array(), trust[holds], rtol=1e-6)
    np.testing.assert_allclose(others.get_array(), trust[~holds], rtol=1e-6)
    assert "week 8" in " ".join(t.get_text() for t in fig.texts)


def _vertical_lines(ax) -> set[int]:
    xs = set()
    for line in ax.lines:
        x = np.asarray(line.get_xdata(), dtype=float)
        if x.size == 2 and x[0] == x[1]:
            xs.add(int(x[0]))
    return xs


def test_indicator_charts_mark_the_scheduled_events():
    model = small(scenario_name="policy_shift", rumour=True)
    events = scheduled_events(model)
    assert events == [(RUMOUR_TICK, "rumour"), (104, "policy"), (130, "deadline")]
    for _ in range(RUMOUR_TICK + 1):
        model.step()
    chart = IndicatorChart(model)
    chart.update(model)
    for ax in chart.axes:
        assert _vertical_lines(ax) == {tick for tick, _ in events}
    labels = [t.get_text() for ax in chart.axes[:2] for t in ax.texts]
    assert sorted(set(labels)) == ["deadline", "policy", "rumour"]
    styles = {int(lines[0].get_xdata()[0]): lines[0].get_linestyle() for lines in chart.event_lines}
    assert styles == {RUMOUR_TICK: "-", 104: ":", 130: ":"}  # passed: solid; to come: dotted
    trust = chart.lines["trust_mean"]
    assert len(trust.get_xdata()) == model.tick + 1
    np.testing.assert_allclose(trust.get_ydata(), model.timeseries()["trust_mean"])
    assert chart.axes[0].get_xlim() == (0, model.cfg.ticks)
    assert "week 41" in indicator_figure(model).texts[0].get_text()


def test_close_events_share_one_label():
    model = small(scenario_name="p2p_boom_bust", sandbox=True)
    chart = IndicatorChart(model)
    assert chart.labels[0] == (1, "policy, entry ×6, sandbox")
    assert [tick for tick, _ in chart.labels[1:]] == [104, 130, 156, 182]
    assert sum(len(ax.texts) for ax in chart.axes) == 2 * len(chart.labels)
    assert all(len(ax.lines) >= 11 for ax in chart.axes)  # but every event has its line
    assert event_labels([(5, "a"), (9, "b + a")], min_gap=5) == [(5, "a ×2, b")]


def test_nice_top():
    assert [nice_top(x) for x in (0, 0.9, 22, 31, 480, 1e6)] == [1.0, 1.0, 30, 50, 500, 1e6]


def test_platform_table_lists_this_weeks_platforms():
    model = small(scenario_name="fraud_contagion")
    for _ in range(53):  # past the fraud's collapse in week 52
        model.step()
    frame = platform_frame(model)
    assert len(frame) == len(model.platforms)
    assert list(frame.columns[:6]) == ["#", "strategy", "status", "assets", "users", "mean trust"]
    assert {"disclosure", "risk management", "compliance"} <= set(frame.columns)
    open_ = frame["status"].isin(["active", "sandbox"]).to_numpy()
    assert not open_.all() and not np.any(~open_[:-1] & open_[1:])  # open platforms first
    assert frame["assets"].iloc[0] == max(p.assets for p in model.platforms if p.is_open)
    table = platform_table_html(model)
    assert table.count("<tr class=") == len(frame)
    assert table.count('<tr class="closed">') == (~open_).sum()


# --- jurisdictions side by side ----------------------------------------------------------


def test_the_jurisdictions_chart_draws_each_jurisdictions_rows():
    model = small(scenario_name="cross_border_arbitrage")
    for _ in range(12):
        model.step()
    chart = JurisdictionChart(model)
    chart.update(model)
    table = model.jurisdiction_table()
    assert set(table.jurisdiction) == {"strict", "lax"}
    for _, _, lines, _ in chart.panels:
        assert [label for _, label, _ in lines] == ["strict", "lax"]
        for column, name, _ in lines:
            line = chart.lines[column]
            rows = table[table.jurisdiction == name]
            np.testing.assert_array_equal(line.get_xdata(), rows.tick.to_numpy())
            np.testing.assert_array_equal(line.get_ydata(), rows[column.split("@")[0]].to_numpy())
    legend = chart.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["strict", "lax"]
    assert all(ax.get_legend() is None for ax in chart.axes[1:])


def test_the_jurisdictions_chart_starts_empty_before_the_first_row():
    model = small(scenario_name="cross_border_arbitrage")
    model.recorder._jurisdiction_columns.clear()  # as if read before tick 0 was recorded
    assert jurisdiction_series(model).empty
    assert LiveChart(JurisdictionChart(model)).png(model).startswith(b"\x89PNG")


def test_the_page_shows_jurisdictions_side_by_side_only_when_there_are_several():
    several = small(scenario_name="supervisory_cooperation")
    several.step()
    _, rc = solara.render(Views(several), handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == 3
    overview = overview_html(several)
    assert "Jurisdictions: <b>strict</b> (rules_based, penalty 0.05" in overview
    assert "<b>lax</b> (laissez_faire" in overview and "regulator <b>" not in overview
    frame = platform_frame(several)
    assert list(frame.columns[:4]) == ["#", "strategy", "status", "licensed in"]
    licence = several.market.jurisdiction[frame["#"].to_numpy()]
    assert frame["licensed in"].tolist() == [["strict", "lax"][k] for k in licence]

    boxed = small(scenario_name="cross_border_arbitrage", sandbox=True)
    added = f"a sandbox cohort in week {SANDBOX_TICK}, in strict&#x27;s sandbox"
    assert added in overview_html(boxed)

    one = small()
    one.step()
    _, rc = solara.render(Views(one), handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == 2
    assert "Jurisdictions" not in overview_html(one) and "regulator <b>" in overview_html(one)
    assert "licensed in" not in platform_frame(one).columns


# --- two worlds side by side -----------------------------------------------------------


def test_the_second_world_differs_in_the_compared_choice_only():
    params = {"n_users": "300", "compare": "regulator regime", "compare_value": "laissez_faire"}
    second = other_world(params)
    assert second["regulator"] == "laissez_faire" and second["compare"] == "nothing"
    first_cfg, second_cfg = page_config(**params), page_config(**second)
    assert first_cfg.regulator.regime == "rules_based"
    assert second_cfg.regulator.regime == "laissez_faire"
    assert second_cfg.seed == first_cfg.seed and second_cfg.population == first_cfg.population
    flipped = other_world({"compare": "the rumour"})
    assert flipped["rumour"] is True
    assert other_world({"compare": "nothing"}) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"compare": "penalty"}, "world B: invalid config value compare_value='': allowed the"),
        (
            {"compare": "regulator regime", "compare_value": "rules_based"},
            "allowed another regulator regime than the first world's",
        ),
        (
            {"compare": "penalty", "compare_value": "7"},
            "world B: invalid config value regulator.pen",
        ),
        (
            {"compare": "regulator regime", "compare_value": "lax"},
            "world B: invalid config value regulator='lax'",
        ),
    ],
)
def test_a_bad_second_world_is_refused_with_the_key(params, message):
    model = small(**params)
    assert model.refusal is not None and message in model.refusal, model.refusal
    assert model.other is None


def test_two_worlds_step_together_and_world_a_is_the_world_alone():
    both = small(compare="regulator regime", compare_value="laissez_faire", rumour=True)
    alone = small(rumour=True)
    for _ in range(RUMOUR_TICK + 5):
        both.step()
        alone.step()
    assert both.other.tick == both.tick == RUMOUR_TICK + 5
    assert both.timeseries().equals(alone.timeseries())
    a, b = both.timeseries(), both.other.timeseries()
    assert not a["user_losses_cum"].equals(b["user_losses_cum"])
    chart = CompareChart(both)
    chart.update(both)
    for column, frame in (("trust_mean", a), ("trust_mean@B", b)):
        np.testing.assert_array_equal(
            chart.lines[column].get_ydata(), frame[column.split("@")[0]].to_numpy()
        )
    assert chart.lines["trust_mean@B"].get_linestyle() == "--"
    _, rc = solara.render(Views(both), handle_error=False)
    assert len(rc.find(ipywidgets.Image).widgets) == 3  # both worlds' indicators, two networks
    text = overview_html(both)
    assert "the same but for regulator regime" in text and "laissez_faire" in text


def test_the_page_says_what_its_controls_do_in_plain_words():
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    labels = {w.label for w in rc.find(v.Slider).widgets} | {
        w.label for w in rc.find(v.TextField).widgets
    }
    assert "Pause, ms" in labels and "Weeks a step" in labels
    for generic in ("Play Interval (ms)", "Render Interval (steps)", "Use Threads"):
        assert not rc.find(v.Checkbox, label=generic).widgets
        assert generic not in labels
    for p in PAGE_PARAMS:  # a label the sidebar's field shows whole
        assert len(p.label) <= 40, p.label


def test_a_description_shows_code_not_backticks():
    model = small(scenario_name="rumour_rebutted")
    text = overview_html(model)
    assert "<code>rumour</code>" in text and "`" not in text


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize(
    ("chart_class", "scenario"),
    [
        (NetworkChart, "rumour"),
        (IndicatorChart, "rumour"),
        (JurisdictionChart, "cross_border_arbitrage"),
    ],
)
def test_live_charts_redraw_only_what_changes_and_match_a_full_draw(chart_class, scenario):
    model = small(scenario_name=scenario)
    live = LiveChart(chart_class(model))
    week0 = live.png(model)
    assert week0.startswith(b"\x89PNG")
    model.step()
    key = live.chart.background_key()
    blitted = live.png(model)
    if live.chart.background_key() == key:  # only the dynamic artists were redrawn
        live._key = object()  # force a full draw of the same week
        np.testing.assert_array_equal(_pixels(live.png(model)), _pixels(blitted))
    assert not np.array_equal(_pixels(week0), _pixels(blitted))


def test_frontend_packages_and_their_cache(tmp_path):
    packages = dict(frontend_packages())
    assert "requirejs" in packages
    assert any("solara-vuetify" in name for name in packages)
    assert missing_packages(tmp_path) == sorted(packages.items())
    for name, version in packages.items():
        (tmp_path / f"{name}@{version}").mkdir(parents=True)
        (tmp_path / f"{name}@{version}" / "package.json").write_text("{}")
    assert missing_packages(tmp_path) == []


def test_main_refuses_a_bad_port(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "eighty")
    assert main() == 2
    assert "PORT='eighty'" in capsys.readouterr().err


# --- the page in a browser ------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _unavailable(reason: str):
    """Skip on a developer's machine; fail in CI, which must provide what the test needs."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must provide it (.ci/run installs Debian's chromium)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app_command() -> list[str]:
    script = Path(sys.executable).with_name("trustsim-app")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from sim.app import main; sys.exit(main())"]


@pytest.fixture
def app_url(tmp_path):
    """``trustsim-app`` on a free port, until the test ends (then killed, whatever happens)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    port = _free_port()
    log = tmp_path / "app.log"
    env = {**os.environ, "PORT": str(port)}
    with log.open("w") as out:
        proc = subprocess.Popen(
            _app_command(), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 150  # a first start may fetch the page's JS with npm
        while True:
            if proc.poll() is not None:
                pytest.fail(f"trustsim-app exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"trustsim-app did not serve {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, log
    finally:
        with contextlib.suppress(ProcessLookupError):  # its own session: the server alone
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _artifact(name: str) -> Path:
    default = Path(tempfile.gettempdir()) / "trustsim-artifacts"
    folder = Path(os.environ.get("TRUSTSIM_ARTIFACTS", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _week(page) -> int:
    match = re.fullmatch(r"Week (\d+) of \d+", page.locator(".trustsim-week").inner_text().strip())
    assert match, page.locator(".trustsim-week").inner_text()
    return int(match.group(1))


def _settled_week(page) -> int:
    week = _week(page)
    for _ in range(20):
        time.sleep(0.5)
        if (now := _week(page)) == week:
            return week
        week = now
    return week


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_page_in_a_browser(app_url):
    url, log = app_url
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable("playwright is not installed (the dev extra has it)")
    expect = sync_api.expect
    started = time.monotonic()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(url)
            try:
                expect(page.locator(".trustsim-week")).to_have_text("Week 0 of 260", timeout=60_000)
            except AssertionError:  # e.g. the page's JavaScript could not be loaded
                pytest.fail(
                    f"the page did not show; errors {errors}; server log:\n{log.read_text()}"
                )
            expect(page.locator(".trustsim-overview")).to_contain_text("Scenario baseline")

            # a control: the scenario
            page.locator(".v-select").filter(has_text="Scenario").locator(".v-field").click()
            page.locator(".v-overlay--active .v-list-item").filter(
                has_text=re.compile(r"^\s*rumour\s*$")
            ).click()
            # an out-of-range value is refused on the page, and nothing is built
            users = page.get_by_label(model_params()["n_users"]["label"])
            users.fill("-1")
            users.press("Enter")
            reset = page.get_by_role("button", name="Reset")
            reset.click()
            refusal = page.locator(".trustsim-refusal")
            expect(refusal).to_contain_text(
                "population.n_users=-1: allowed a number in [1, 1000000000]"
            )
            expect(page.locator(".trustsim-charts")).to_have_count(0)
            # corrected, with the rumour switch on
            users.fill("1500")
            users.press("Enter")
            page.get_by_label(f"Rumour in week {RUMOUR_TICK}").check()
            reset.click()
            expect(refusal).to_have_count(0)
            expect(page.locator(".trustsim-week")).to_have_text("Week 0 of 260")
            overview = page.locator(".trustsim-overview")
            expect(overview).to_contain_text("Scenario rumour")
            expect(overview).to_contain_text("1,500 users")
            expect(overview).to_contain_text(f"a false rumour in week {RUMOUR_TICK}")

            step = page.get_by_role("button", name="Step")
            for week in (1, 2, 3):
                step.click()
                expect(page.locator(".trustsim-week")).to_have_text(f"Week {week} of 260")
            charts = page.locator(".trustsim-charts img")
            network = page.locator(".trustsim-network img")
            before = charts.screenshot(), network.screenshot()

            page.get_by_role("button", name="▶").click()
            deadline = time.monotonic() + 40
            while _week(page) < RUMOUR_TICK + 4 and time.monotonic() < deadline:
                time.sleep(0.5)
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="Step")).to_be_enabled()
            reached = _settled_week(page)  # a step under way when paused still lands
            assert reached > 3
            after = charts.screenshot(), network.screenshot()
            assert before[0] != after[0], "the charts did not change"
            assert before[1] != after[1], "the network did not change"
            expect(page.locator(".trustsim-platforms")).to_contain_text("mean trust")
            table = page.locator(".trustsim-platforms")
            expect(table).to_contain_text(f"Platforms in week {reached}")
            shot = _artifact("app.png")
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the page at week {reached}: {shot}")
            assert not errors, errors
        finally:
            browser.close()
    print(f"browser part took {time.monotonic() - started:.1f} s")


@contextlib.contextmanager
def _browser_page(url: str, width: int):
    """A fresh page of the app in headless Chromium, at week 0; its page errors collected."""
    from playwright import sync_api

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(url)
            sync_api.expect(page.locator(".trustsim-week")).to_have_text(
                "Week 0 of 260", timeout=60_000
            )
            yield page, errors
            assert not errors, errors
        finally:
            browser.close()


def _choose(page, select: str, option: str) -> None:
    """Pick ``option`` in the sidebar's select labelled ``select``."""
    page.locator(".v-select").filter(has_text=select).locator(".v-field").click()
    page.locator(".v-overlay--active .v-list-item").filter(
        has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")
    ).click()


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_jurisdictions_side_by_side_in_a_browser(app_url):
    url, _ = app_url
    from playwright.sync_api import expect

    with _browser_page(url, 1440) as (page, _):
        expect(page.locator(".trustsim-jurisdictions")).to_have_count(0)
        _choose(page, "Scenario", "cross_border_arbitrage")
        page.get_by_role("button", name="Reset").click()
        overview = page.locator(".trustsim-overview")
        expect(overview).to_contain_text("Scenario cross_border_arbitrage")
        expect(overview).to_contain_text("Jurisdictions: strict (rules_based")
        side = page.locator(".trustsim-jurisdictions img")
        expect(side).to_be_visible()
        first = side.screenshot()
        step = page.get_by_role("button", name="Step")
        for week in (1, 2, 3, 4):
            step.click()
            expect(page.locator(".trustsim-week")).to_have_text(f"Week {week} of 260")
        assert side.screenshot() != first, "the jurisdictions' chart did not change"
        expect(page.locator(".trustsim-platforms")).to_contain_text("licensed in")
        page.screenshot(path=str(_artifact("app_jurisdictions.png")), full_page=True)


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_two_worlds_in_a_browser_fit_a_1400_pixel_window(app_url):
    """The comparison a teacher sets up: one choice differs; the page stays in the window."""
    url, _ = app_url
    from playwright.sync_api import expect

    with _browser_page(url, 1400) as (page, _):
        for generic in ("Play Interval", "Render Interval", "Use Threads"):
            expect(page.get_by_text(generic)).to_have_count(0)
        # Every field's label is shown whole (none is cut off by the sidebar).
        cut = page.evaluate(
            "() => [...document.querySelectorAll('.v-navigation-drawer label')]"
            ".filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.innerText)"
        )
        assert not cut, cut
        _choose(page, "Compare with", "regulator regime")
        value = page.get_by_label(model_params()["compare_value"]["label"])
        value.fill("laissez_faire")
        value.press("Enter")
        page.get_by_role("button", name="Reset").click()
        overview = page.locator(".trustsim-overview")
        expect(overview).to_contain_text("Two worlds, the same but for regulator regime")
        chart = page.locator(".trustsim-compare img")
        expect(chart).to_be_visible()
        expect(page.locator(".trustsim-network-b img")).to_be_visible()
        first = chart.screenshot()
        page.get_by_role("button", name="▶").click()
        deadline = time.monotonic() + 30
        while _week(page) < 30 and time.monotonic() < deadline:
            time.sleep(0.5)
        page.get_by_role("button", name="❚❚").click()
        _settled_week(page)
        assert chart.screenshot() != first, "the two worlds' chart did not change"
        expect(page.locator(".trustsim-platforms-b")).to_contain_text("mean trust")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1400, f"the page is {width} px wide in a 1400 px window"
        page.screenshot(path=str(_artifact("app_two_worlds.png")), full_page=True)


@pytest.mark.parametrize("scenario", ["china_p2p_2013_2020", "china_p2p_early_rules"])
def test_china_scenarios_run_on_the_page_with_their_experiment(scenario):
    """Picked on the page, a China P2P scenario gets its world: 416 weeks, entry on."""
    cfg = page_config(scenario_name=scenario, n_users=500)
    experiment = compose_config(["+experiment=china_p2p", f"scenario={scenario}"])
    assert cfg.ticks == experiment.ticks == 416
    assert cfg.entry == experiment.entry and cfg.entry.enabled
    assert cfg.population.n_users == 500  # the page's own number wins
