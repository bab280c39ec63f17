"""Bad input fails before the run; no run yields a non-finite indicator (issue 11)."""

import contextlib
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import metrics
from sim.compose import compose_config
from sim.config import ConfigError
from sim.model import TrustModel
from sim.resources import estimate_bytes, machine_bytes
from tests.test_parameters_live import schema_leaves

SMALL = ("population.n_users=200", "ticks=5")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("population.n_users=2000000000", "population.n_users"),
        ("platforms.count=1000000000", "platforms.count"),
        ("population.max_accounts=1000000000", "population.max_accounts"),
        ("ticks=1000000000000", "ticks"),
        ("trust.prior_weight=1e-308", "trust.prior_weight"),
        ("population.wealth_log_sd=1e308", "population.wealth_log_sd"),
        ("population.wealth_log_mean=1e12", "population.wealth_log_mean"),
        ("trust.w_minus=1e308", "trust.w_minus"),
        ("trust.wom_evidence=1e12", "trust.wom_evidence"),
        ("population.choice_temperature=1e-308", "population.choice_temperature"),
        ("platforms.lever_costs.disclosure=1e308", "platforms.lever_costs.disclosure"),
        ("memory_limit_gb=-1", "memory_limit_gb"),
    ],
)
def test_values_past_their_meaning_are_refused(override, key):
    """Regressions of the fuzzing pass: no upper bound, or a lower one that divides by 0."""
    with pytest.raises(ConfigError) as info:
        compose_config([*SMALL, override])
    assert info.value.key == key


def test_a_run_that_would_not_fit_in_memory_is_refused_naming_what_grows():
    big = ["population.n_users=100000000", "ticks=5"]
    with pytest.raises(ConfigError) as info:
        compose_config([*big, "memory_limit_gb=1"])
    assert info.value.key == "population.n_users" and info.value.value == 100_000_000
    assert "memory_limit_gb" in info.value.allowed
    # Meant for a bigger machine: allowed when the limit says so (nothing is built here).
    cfg = compose_config([*big, "memory_limit_gb=1000"])
    assert 30e9 < estimate_bytes(cfg) < 1000e9
    many = compose_config(["platforms.count=5000", "ticks=20000", "memory_limit_gb=1000"])
    with pytest.raises(ConfigError) as info:
        compose_config(["platforms.count=5000", "ticks=20000", "memory_limit_gb=10"])
    assert info.value.key == "platforms.count"
    assert estimate_bytes(many) > 10e9


def test_the_estimate_covers_the_measured_peak():
    """At the benchmark's size (1M users x 260 ticks) it exceeds the 0.89 GB measured."""
    cfg = compose_config(["population.n_users=1000000", "ticks=260"])
    assert 0.89e9 < estimate_bytes(cfg) < 1.5 * 0.89e9
    assert machine_bytes() > 1e9


def test_a_non_finite_indicator_stops_the_run_naming_it(monkeypatch):
    monkeypatch.setitem(
        metrics.METRICS, "aum_total", lambda s: math.inf if s.market.tick >= 3 else 1.0
    )
    model = TrustModel(compose_config(list(SMALL)))
    with pytest.raises(metrics.NonFiniteError) as info:
        model.run()
    assert (info.value.indicator, info.value.tick) == ("aum_total", 3)
    assert "aum_total" in str(info.value) and "tick 3" in str(info.value)


def test_undefined_averages_are_not_failures(monkeypatch):
    """trust_mean is NaN once no account is left (documented): the run goes on."""
    monkeypatch.setitem(metrics.METRICS, "trust_mean", lambda s: math.nan)
    model = TrustModel(compose_config(list(SMALL)))
    model.run()
    assert model.tick == 5


EDGE_LISTS = {
    "empty": (b"", "empty"),
    "comments only": (b"# nothing\n# here\n", "empty"),
    "binary": (bytes(range(256)) * 4, "line"),
    "words": (b"0 1\nalice bob\n", "'alice' is not an integer"),
    "header": (b"source target\n0 1\n", "'source' is not an integer"),
    "negative id": (b"0 1\n-3 2\n", "out of range"),
    "id at n_users": (b"0 1\n1 200\n", "out of range"),
    "huge id": (b"0 99999999999999999999999\n", "line 1"),
    "float id": (b"0 1\n1.0 2\n", "'1.0' is not an integer"),
    "one column": (b"0 1\n5\n", "expected two node ids"),
    "self-loops only": (b"1 1\n2 2\n", "only self-loops"),
}


@pytest.mark.parametrize("name", list(EDGE_LISTS))
def test_bad_edge_lists_fail_in_validation_naming_file_and_line(tmp_path, name):
    content, expected = EDGE_LISTS[name]
    path = tmp_path / "edges.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        compose_config([*SMALL, "network.kind=edge_list", f"network.path={path}"])
    assert info.value.key == "network.path"
    assert str(path) in str(info.value) and expected in str(info.value)


def test_an_edge_list_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_bytes(b"\xef\xbb\xbf0 1\n1 2\n")
    cfg = compose_config([*SMALL, "network.kind=edge_list", f"network.path={path}"])
    assert TrustModel(cfg).network.adjacency.nnz == 4


BOMB = """
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_a_yaml_alias_bomb_in_a_scenario_folder_hangs_nothing(tmp_path):
    """Every command reads the scenario folders at start-up: a bomb is refused unexpanded."""
    import subprocess
    import sys
    import time

    (tmp_path / "bomb.yaml").write_text(BOMB)
    (tmp_path / "huge.yaml").write_text("name: huge\n" + "#" * 2_000_000)
    env = {"TRUSTSIM_SCENARIO_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    other = subprocess.run(
        [sys.executable, "-m", "sim.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert other.returncode == 0, other.stderr
    chosen = subprocess.run(
        [sys.executable, "-m", "sim.cli", "scenario=bomb", "population.n_users=200", "ticks=2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert chosen.returncode == 2 and "aliases expanding" in chosen.stderr, chosen.stderr
    assert "Traceback" not in chosen.stderr
    huge = subprocess.run(
        [sys.executable, "-m", "sim.cli", "scenario=huge", "population.n_users=200", "ticks=2"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert huge.returncode == 2 and "1,000,000 bytes" in huge.stderr, huge.stderr
    assert time.perf_counter() - started < 100


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("platforms.preset=my_label", "platforms.preset"),
        ("regulator.regime=strictest", "regulator.regime"),
        ("platforms.reserve_risk=0.99", "platforms.reserve_risk"),
        ("output.plot=2", "output.plot"),
        ("output.plot=yes", "output.plot"),
        ("scenario.name=crackdown", "scenario.name"),
        ("~population", "~population"),
        ("~scenario", "~scenario"),
    ],
)
def test_silently_accepted_values_are_refused(override, key):
    with pytest.raises(ConfigError) as info:
        compose_config([*SMALL, override])
    assert info.value.key == key, info.value


def test_deleting_a_group_no_longer_drops_an_explicit_value():
    """``~population`` used to put back every default over ``population.n_users=500``."""
    with pytest.raises(ConfigError, match="no deletion"):
        compose_config(["population.n_users=500", "~population"])
    assert compose_config(["population.n_users=500", "output.plot=false"]).population.n_users == 500


def test_the_cli_refuses_what_composition_would_hide(tmp_path):
    import subprocess
    import sys

    for override in ("output.plot=2", "scenario.name=x", "~population"):
        result = subprocess.run(
            [sys.executable, "-m", "sim.cli", *SMALL, override, "hydra.run.dir=run"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert override.split("=")[0] in result.stderr
        assert not (tmp_path / "run").exists()


# --- fuzzing: every numeric leaf of the schema, hostile values -------------------------------


HOSTILE = [
    1e308,
    -1e308,
    1e12,
    -1e12,
    1e-308,
    -1e-308,
    0.0,
    -1.0,
    1.5,
    2**63,
    -(2**63),
    10**12,
    "nan",
    "inf",
    "-inf",
    "abc",
    "true",
    "[1,2]",
]
LEAVES = [leaf.key for leaf in schema_leaves() if not leaf.key.startswith(("ishigami.", "output."))]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(key=st.sampled_from(LEAVES), value=st.sampled_from(HOSTILE))
def test_hostile_values_fail_cleanly_or_run_finite(key, value):
    """The promise, for every leaf: refused with a message naming the key, or a finite run."""
    override = f"{key}={value}"
    try:
        cfg = compose_config([*SMALL, "ticks=4", override])
    except ConfigError as err:
        assert key in err.key or err.key in key or key.split(".")[-1] in str(err), (override, err)
        return
    except Exception as err:  # Hydra's own type errors: a message naming the key, no crash
        assert key.split(".")[-1] in str(err), (override, err)
        return
    model = TrustModel(cfg)
    model.run()  # NonFiniteError would fail the test: a value that reached a NaN


@pytest.mark.slow
def test_sigterm_stops_a_joblib_sweep_and_its_workers_and_a_rerun_resumes(tmp_path):
    import subprocess
    import sys
    import time

    import psutil

    args = [
        sys.executable, "-m", "sim.cli", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "population.n_users=20000", "ticks=150", "output.plot=false", "seed=range(6)",
        "hydra.sweep.dir=sw",
    ]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "sw").glob("*/timeseries.parquet")):
        time.sleep(0.2)  # until a worker has finished one run
    workers = parent.children(recursive=True)
    assert workers, "no joblib workers started"
    _stop(proc, workers, "SIGTERM")
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "sw").glob("*/summary.json"))) == 6


def _wait_for(condition, timeout: float = 120.0) -> None:
    import time

    deadline = time.time() + timeout
    while time.time() < deadline and not condition():
        time.sleep(0.2)


def _stop(proc, workers, signum: str, timeout: float = 90) -> None:
    """Signal ``proc``: it exits with its documented status, no traceback, no worker left."""
    import signal

    import psutil

    proc.send_signal(getattr(signal, signum))
    _, err = proc.communicate(timeout=timeout)
    expected = {"SIGTERM": 143, "SIGINT": 130}[signum]
    assert proc.returncode == expected and b"Traceback" not in err, err.decode()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"workers still running: {alive}"


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_single_run_leaving_whole_files_and_a_rerun_finishes(tmp_path, signum):
    import signal
    import subprocess
    import sys

    args = [
        sys.executable, "-m", "sim.cli", "population.n_users=20000", "ticks=3000",
        "output.plot=false", "hydra.run.dir=run",
    ]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: (tmp_path / "run" / ".hydra").is_dir())
    proc.send_signal(getattr(signal, signum))
    _, err = proc.communicate(timeout=60)
    expected = {"SIGTERM": 143, "SIGINT": 130}[signum]
    assert proc.returncode == expected and b"Traceback" not in err, err.decode()
    assert err.decode().count("trustsim:") == 1, err.decode()
    run = tmp_path / "run"
    assert not (run / "summary.json").exists()
    assert not [p for p in run.rglob("*") if ".tmp" in p.name]  # no half-written file
    again = subprocess.run(
        [*args[:4], "ticks=3", *args[5:]], cwd=tmp_path, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (run / "summary.json").exists()


@pytest.mark.slow
def test_sigterm_stops_a_submitit_local_sweep_and_its_jobs_and_a_rerun_resumes(tmp_path):
    import subprocess
    import sys

    import psutil

    args = [
        sys.executable, "-m", "sim.cli", "-m", "hydra/launcher=submitit_local",
        "population.n_users=20000", "ticks=400", "output.plot=false", "seed=0,1",
        "hydra.sweep.dir=sw",
    ]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    _wait_for(lambda: len(parent.children(recursive=True)) >= 2)
    jobs = parent.children(recursive=True)
    assert jobs, "no submitit jobs started"
    _stop(proc, jobs, "SIGTERM")
    assert not list((tmp_path / "sw").glob("*/summary.json"))  # none had finished
    quick = [a.replace("ticks=400", "ticks=3") for a in args]
    again = subprocess.run(quick, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "sw").glob("*/summary.json"))) == 2


@pytest.mark.slow
def test_sigint_stops_a_ray_sweep_and_its_workers(tmp_path):
    """Ray's launcher (the optional [ray] extra): its local cluster is shut down with it.

    SIGTERM is not tested here: ``ray.init`` installs its own handler for it (Ray stops
    its cluster and jobs, but with its own exit status).
    """
    pytest.importorskip("ray")
    import subprocess
    import sys

    import psutil

    def jobs():
        found = []
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if "_run_job" in " ".join(proc.info["cmdline"] or []):
                    found.append(proc)
        return found

    args = [
        sys.executable, "-m", "sim.cli", "-m", "hydra/launcher=ray", "population.n_users=200000",
        "ticks=3000", "output.plot=false", "seed=0,1", "hydra.sweep.dir=sw",
    ]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: len(jobs()) >= 2)
    running = jobs()
    assert running, "no Ray jobs started"
    _stop(proc, running, "SIGINT")
    assert not list((tmp_path / "sw").glob("*/summary.json"))


FULL_DISK = """
import errno, sys
import sim.runner
def full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")
sim.runner.write_parquet = full
from sim.cli import main
main()
"""


@pytest.mark.parametrize("case", ["file", "parent_file", "empty", "full_disk"])
def test_output_folder_problems_end_in_one_line(tmp_path, case):
    """Class 6: a run folder that is a file, under a file, empty, or a disk that fills up."""
    import subprocess
    import sys

    (tmp_path / "afile").write_text("x")
    folder = {"file": "afile", "parent_file": "afile/run", "empty": "", "full_disk": "run"}[case]
    command = [sys.executable, "-c", FULL_DISK] if case == "full_disk" else [
        sys.executable, "-m", "sim.cli",
    ]  # fmt: skip
    result = subprocess.run(
        [*command, f"hydra.run.dir={folder}", "population.n_users=200", "ticks=2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("trustsim")]
    assert len(lines) == 1, result.stderr
    if case == "full_disk":
        assert result.returncode == 1 and "No space left" in lines[0]
        assert not (tmp_path / "run" / "summary.json").exists()
    else:
        assert result.returncode == 2 and "hydra.run.dir" in lines[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# --- fuzzing: scenario documents, edge-list files and the page's fields ----------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 30), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-3, 3), max_size=2),
)


@st.composite
def event_specs(draw):
    """An event of a real type with some of its parameters given junk (or sane) values."""
    import dataclasses

    from sim.events.schedule import EVENT_TYPES

    kind = draw(st.sampled_from(sorted(EVENT_TYPES)))
    names = [f.name for f in dataclasses.fields(EVENT_TYPES[kind]) if f.init and f.name != "tick"]
    spec = {"type": kind, "tick": draw(st.one_of(st.integers(0, 5), JUNK))}
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)) if names else []:
        spec[name] = draw(st.one_of(JUNK, st.floats(0.0, 1.0), st.integers(0, 5)))
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.text(min_size=1, max_size=6))] = 1  # a key no event has
    return spec


JURISDICTION = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.sampled_from(["a", "b"]), JUNK),
        "user_share": st.one_of(st.sampled_from([0.5, 1.0]), JUNK),
        "platform_share": st.one_of(st.sampled_from([0.5, 1.0]), JUNK),
        "regime": st.one_of(st.sampled_from(["rules_based", "laissez_faire"]), JUNK),
        "regulator": st.one_of(
            st.dictionaries(st.sampled_from(["penalty", "nope", "rebuttal"]), JUNK, max_size=2),
            JUNK,
        ),
    },
)


DOCUMENTS = st.one_of(
    st.builds(
        lambda events: {"name": "fuzz", "events": events}, st.lists(event_specs(), max_size=3)
    ),
    st.builds(
        lambda j, service: {
            "name": "fuzz",
            "jurisdictions": j,
            "cross_border": {"service": service},
        },
        st.one_of(st.lists(JURISDICTION, max_size=3), JUNK),
        st.one_of(st.sampled_from(["passport", "home_only"]), JUNK),
    ),
    st.recursive(
        JUNK,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["name", "description", "events", "jurisdictions", "cross_border", "tick", "x"]
                ),
                inner,
                max_size=3,
            )
        ),
        max_leaves=8,
    ),
)


def _run_or_refuse(cfg, where: str) -> None:
    """The promise: a ConfigError naming ``where`` before anything is built, or a finite run."""
    from sim.compose import validate_run

    try:
        validate_run(cfg)
    except ConfigError as err:
        assert where in str(err) and "\n" not in str(err), err
        return
    TrustModel(cfg).run()  # any exception here, NonFiniteError included, fails the test


@settings(max_examples=120, deadline=None, derandomize=True)
@given(document=DOCUMENTS)
def test_fuzzed_scenario_documents_are_refused_or_run(tmp_path_factory, document):
    import dataclasses

    import yaml

    from sim.compose import _scenario_node

    path = tmp_path_factory.mktemp("scenarios") / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    try:
        node = _scenario_node(path)
    except ConfigError as err:
        assert str(path) in str(err), err
        return
    cfg = compose_config([*SMALL, "ticks=6"])
    _run_or_refuse(dataclasses.replace(cfg, scenario=node), "scenario.")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(text=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_fuzzed_scenario_files_are_refused_or_read(tmp_path_factory, text):
    from sim.compose import _scenario_node

    path = tmp_path_factory.mktemp("scenarios") / "fuzz.yaml"
    path.write_bytes(text)
    try:
        _scenario_node(path)
    except ConfigError as err:
        assert str(path) in str(err) and "\n" not in str(err), err


EDGE_TOKENS = st.sampled_from(
    ["0", "1", "2", "199", "200", "-1", "1.0", "1e3", "x", "#", "0x1", "", "99999999999999999999"]
)
EDGE_LINES = st.lists(
    st.lists(EDGE_TOKENS, max_size=4).map(" ".join)
    | st.lists(EDGE_TOKENS, max_size=3).map(",".join),
    max_size=12,
).map(lambda lines: "\n".join(lines).encode())


@settings(max_examples=80, deadline=None, derandomize=True)
@given(content=st.one_of(EDGE_LINES, st.binary(max_size=120)))
def test_fuzzed_edge_lists_are_refused_naming_the_file_or_run(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("edges") / "edges.txt"
    path.write_bytes(content)
    try:
        cfg = compose_config([*SMALL, "ticks=2", "network.kind=edge_list", f"network.path={path}"])
    except ConfigError as err:
        assert err.key == "network.path" and str(path) in str(err) and "\n" not in str(err), err
        return
    TrustModel(cfg).run()


PAGE_TEXT = st.one_of(
    st.sampled_from(
        ["", " ", "nan", "inf", "-inf", "1e308", "-1e308", "1e-308", "-1", "0", "1", "2.5",
         "1,2", "${oc.env:HOME}", "x=y", "0x10", "1_000", "5e4", "20000", "49", "1e20"]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.none(),
    st.booleans(),
)  # fmt: skip


@settings(max_examples=150, deadline=None, derandomize=True)
@given(name=st.sampled_from(["n_users", "penalty", "disclosure_mandate", "education_rate", "seed",
                             "scenario_name", "platforms", "regulator"]),
       value=PAGE_TEXT)  # fmt: skip
def test_hostile_page_fields_never_reach_the_model(name, value):
    """Each field of the page: refused naming its key, or a model whose config is in range."""
    import dataclasses

    from sim.app.factory import PARAMS_BY_NAME, ClassroomModel
    from sim.config import validate

    param = PARAMS_BY_NAME[name]
    others = {} if name == "n_users" else {"n_users": "50"}
    model = ClassroomModel(**others, **{name: value})
    if model.refusal is not None:
        assert param.key in model.refusal and "\n" not in model.refusal, model.refusal
        assert not model.running
        return
    validate(model.cfg)  # what reached the model is within the schema's ranges
    assert 50 <= model.cfg.population.n_users <= 20_000
    if param.widget == "InputText" and value is not None and str(value).strip():
        section, _, leaf = param.key.rpartition(".")
        holder = getattr(model.cfg, section) if section else model.cfg
        assert math.isfinite(getattr(holder, leaf))
    assert dataclasses.is_dataclass(model.cfg)
    model.step()


def test_the_page_server_refuses_a_port_in_use_in_one_line():
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", "from sim.app import main; raise SystemExit(main())"],
            env={**os.environ, "PORT": str(port)}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and f"PORT={port}" in result.stderr
    assert "is at http" not in result.stdout  # nothing claims the page is up
