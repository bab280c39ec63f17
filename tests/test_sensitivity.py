"""Sampling designs (the ``salib`` sweeper) and sensitivity analysis, checked on Ishigami.

The Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` (a=7, b=0.1, x uniform on
[-pi, pi]^3) has known Sobol' indices; ``model=ishigami`` makes a run evaluate it, so the
whole pipeline (sweeper -> Hydra jobs -> summary.json -> analysis) can be compared with
them. In-process tests use large designs and tight tolerances on the same analysis code;
the subprocess tests run real sweeps through the CLI.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_process import finish as _finish
from cli_process import start

from sim.config import ConfigError
from sim.designs import (
    DESIGN_FILE,
    SweepParam,
    check_rows,
    make_design,
    read_design,
    resolve_params,
    row_overrides,
    write_design,
)
from sim.report.sensitivity import analyze, design_outputs, runs_table, sensitivity_figure
from sim.runner import ishigami

A, B = 7.0, 0.1
PI = math.pi
NAMES = ["ishigami.x1", "ishigami.x2", "ishigami.x3"]
FULL = {name: None for name in NAMES}  # null bounds: the key's whole range, [-pi, pi]


def _analytic() -> dict[str, dict[str, float]]:
    """Ishigami & Homma (1990): partial variances of the Ishigami function."""
    v1 = 0.5 * (1 + B * PI**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return {
        "S1": {"ishigami.x1": v1 / v, "ishigami.x2": v2 / v, "ishigami.x3": 0.0},
        "ST": {"ishigami.x1": (v1 + v13) / v, "ishigami.x2": v2 / v, "ishigami.x3": v13 / v},
        "S2": {
            "ishigami.x1:ishigami.x2": 0.0,
            "ishigami.x1:ishigami.x3": v13 / v,
            "ishigami.x2:ishigami.x3": 0.0,
        },
    }


ANALYTIC = _analytic()


def f(x: np.ndarray) -> np.ndarray:
    """Ishigami on design rows (vectorised)."""
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def synthetic(tmp_path: Path, method: str, n: int, **options) -> tuple[dict, pd.DataFrame]:
    """A design written to ``tmp_path`` and the runs table of Ishigami on its rows."""
    design = make_design(FULL, method=method, n=n, **options)
    write_design(tmp_path, design)
    x = np.asarray(design["samples"])
    runs = pd.DataFrame({"sample": np.arange(len(x)), "seed": 0, "final_ishigami": f(x)})
    return design, runs


def lookup(indices: pd.DataFrame, index: str) -> pd.DataFrame:
    return indices[indices["index"] == index].set_index("parameter")


def test_analytic_values():
    s1, st = ANALYTIC["S1"], ANALYTIC["ST"]
    assert [round(s1[k], 4) for k in NAMES] == [0.3139, 0.4424, 0.0]
    assert [round(st[k], 4) for k in NAMES] == [0.5576, 0.4424, 0.2437]


# --- analysis in process: the same code path as a sweep, with large designs ---------------


def test_sobol_matches_analytic_indices(tmp_path):
    _, runs = synthetic(tmp_path, "sobol", 4096, seed=3, calc_second_order=True)
    indices = analyze(tmp_path, runs, ["ishigami"])
    assert set(indices.columns) == {"output", "parameter", "index", "value", "conf"}
    assert set(indices["output"]) == {"ishigami"}
    for kind in ("S1", "ST", "S2"):
        table = lookup(indices, kind)
        assert sorted(table.index) == sorted(ANALYTIC[kind])
        for name, true in ANALYTIC[kind].items():
            est, conf = table.loc[name, "value"], table.loc[name, "conf"]
            assert 0 < conf < 0.06, (kind, name, conf)
            assert abs(est - true) < 0.03, (kind, name, est, true)
            assert abs(est - true) < 3 * conf, (kind, name, est, true, conf)


def _morris_on_grid(num_levels: int = 4) -> dict[str, float]:
    """Exact mean |elementary effect| of Ishigami on SALib's Morris grid.

    Levels are ``lo + (hi - lo) * k / (p - 1)``, the step is ``p / (2 (p - 1))`` of the
    range and SALib divides by the step in unit-cube terms; the other inputs are uniform
    on the levels.
    """
    p = num_levels
    levels = -PI + 2 * PI * np.arange(p) / (p - 1)
    jump = p // 2  # the step in levels
    step = p / (2 * (p - 1))
    out = {}
    for i, name in enumerate(NAMES):
        effects = []
        for others in itertools.product(range(p), repeat=2):
            for base in range(p - jump):
                lo = list(others)
                lo.insert(i, base)
                hi = list(lo)
                hi[i] = base + jump
                y = f(np.array([levels[lo], levels[hi]]))
                effects.append((y[1] - y[0]) / step)
        out[name] = float(np.mean(np.abs(effects)))
    return out


def test_morris_matches_the_exact_grid_effects(tmp_path):
    _, runs = synthetic(tmp_path, "morris", 500, seed=5, num_levels=4)
    indices = analyze(tmp_path, runs, ["final_ishigami"])
    mu_star, mu = lookup(indices, "mu_star"), lookup(indices, "mu")
    exact = _morris_on_grid(4)
    # On this grid x2 (7.875) edges out x1 (7.704); x3 (6.249) is clearly last.
    assert exact["ishigami.x2"] > exact["ishigami.x1"] > exact["ishigami.x3"]
    for name in NAMES:
        est, conf = mu_star.loc[name, "value"], mu_star.loc[name, "conf"]
        assert abs(est - exact[name]) < 3 * conf + 0.03 * exact[name], (name, est, conf)
    ranked = mu_star["value"].sort_values()
    assert ranked.index[0] == "ishigami.x3"
    # x1 only ever raises the output on this grid (mu = mu_star); x2 and x3 are symmetric.
    assert mu.loc["ishigami.x1", "value"] == pytest.approx(mu_star.loc["ishigami.x1", "value"])
    for name in ("ishigami.x2", "ishigami.x3"):
        assert abs(mu.loc[name, "value"]) < 0.1 * mu_star.loc[name, "value"]
    assert set(indices["index"]) == {"mu_star", "mu", "sigma"}


def test_latin_rbd_fast_first_order(tmp_path):
    _, runs = synthetic(tmp_path, "latin", 2000, seed=7)
    s1 = lookup(analyze(tmp_path, runs, ["ishigami"]), "S1")
    for name in NAMES:
        est, conf = s1.loc[name, "value"], s1.loc[name, "conf"]
        assert abs(est - ANALYTIC["S1"][name]) < 0.1, (name, est)
        assert 0 < conf < 0.1
    assert s1["value"].idxmax() == "ishigami.x2"


def test_replicate_seeds_are_averaged(tmp_path):
    _, runs = synthetic(tmp_path, "sobol", 64, seed=1)
    noise = np.random.default_rng(0).normal(size=len(runs))
    plus = runs.assign(seed=1, final_ishigami=runs["final_ishigami"] + noise)
    minus = runs.assign(seed=2, final_ishigami=runs["final_ishigami"] - noise)
    replicated = pd.concat([plus, minus]).sample(frac=1.0, random_state=0)  # any order
    _, means = design_outputs(tmp_path, replicated, ["ishigami"])
    assert (means["replicates"] == 2).all()
    np.testing.assert_allclose(means["ishigami"], runs["final_ishigami"], rtol=1e-12)
    pd.testing.assert_frame_equal(
        analyze(tmp_path, replicated, ["ishigami"]), analyze(tmp_path, runs, ["ishigami"])
    )
    # one noisy replicate alone gives other indices: the average is what is analysed
    assert not analyze(tmp_path, plus, ["ishigami"]).equals(analyze(tmp_path, runs, ["ishigami"]))


def test_outputs_with_or_without_final_prefix(tmp_path):
    _, runs = synthetic(tmp_path, "latin", 50)
    runs["final_double"] = 2 * runs["final_ishigami"]
    a = analyze(tmp_path, runs, ["ishigami", "final_double"])
    assert list(dict.fromkeys(a["output"])) == ["ishigami", "double"]
    b = analyze(tmp_path, runs.rename(columns={"final_ishigami": "ishigami"}), ["ishigami"])
    pd.testing.assert_frame_equal(a[a["output"] == "ishigami"], b)
    with pytest.raises(KeyError, match=r"'nope' is not in the runs table.*ishigami, double"):
        analyze(tmp_path, runs, ["nope"])


def test_a_missing_sample_names_the_rows(tmp_path):
    _, runs = synthetic(tmp_path, "sobol", 8)  # 40 rows
    gappy = runs[~runs["sample"].isin([3, 4, 5, 17])]
    with pytest.raises(ValueError, match=r"4 of 40 design rows .* samples 3-5, 17"):
        analyze(tmp_path, gappy, ["ishigami"])
    outside = pd.concat([runs, runs.head(1).assign(sample=40)])
    with pytest.raises(ValueError, match="outside the design's 40 rows: 40"):
        analyze(tmp_path, outside, ["ishigami"])
    with pytest.raises(FileNotFoundError, match="no sampling design"):
        analyze(tmp_path / "elsewhere", runs, ["ishigami"])


def test_runs_that_do_not_match_the_design_are_refused(tmp_path):
    design, runs = synthetic(tmp_path, "latin", 50)
    x = np.asarray(design["samples"])
    runs["ishigami.x1"] = x[:, 0]
    analyze(tmp_path, runs, ["ishigami"])  # the swept values, when present, are checked
    runs.loc[7, "ishigami.x1"] += 0.01
    with pytest.raises(ValueError, match=r"sample 7 ran ishigami\.x1=.*1 runs differ"):
        analyze(tmp_path, runs, ["ishigami"])


def test_sample_read_from_each_runs_summary(tmp_path):
    _, runs = synthetic(tmp_path, "latin", 10)
    for i in range(10):
        folder = tmp_path / str(i)
        folder.mkdir()
        summary = {"status": "complete", "config": {"sample": i}, "final": {}}
        (folder / "summary.json").write_text(json.dumps(summary))
    no_sample = runs.drop(columns="sample").assign(path=[str(i) for i in range(10)])
    pd.testing.assert_frame_equal(
        analyze(tmp_path, no_sample, ["ishigami"]), analyze(tmp_path, runs, ["ishigami"])
    )
    with pytest.raises(ValueError, match="no 'sample' column"):
        analyze(tmp_path, runs.drop(columns="sample"), ["ishigami"])


def test_sensitivity_figure(tmp_path):
    from matplotlib.figure import Figure

    _, runs = synthetic(tmp_path, "sobol", 64, calc_second_order=True)
    runs["final_other"] = runs["final_ishigami"] ** 2
    fig = sensitivity_figure(analyze(tmp_path, runs, ["ishigami", "other"]))
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["ishigami", "other"]
    assert len(axes[0].patches) == 2 * 3  # S1 and ST bars of three inputs (S2 only in the table)
    fig.savefig(tmp_path / "indices.png")
    assert (tmp_path / "indices.png").stat().st_size > 1000


# --- the design: parameters, sampling, determinism -----------------------------------------


def test_design_is_deterministic_per_seed(tmp_path):
    params = {"regulator.penalty": [0.0, 0.05], "regulator.inspection_rate": [0.0, 0.2]}
    for method in ("latin", "sobol", "morris"):
        a = make_design(params, method=method, n=16, seed=0)
        b = make_design(params, method=method, n=16, seed=0)
        c = make_design(params, method=method, n=16, seed=1)
        assert a == b
        assert a["samples"] != c["samples"]
        write_design(tmp_path / method, a)
        assert read_design(tmp_path / method) == json.loads(json.dumps(a))
    sizes = {
        "latin": make_design(params, "latin", 16)["samples"],
        "sobol": make_design(params, "sobol", 16)["samples"],
        "sobol2": make_design(params, "sobol", 16, calc_second_order=True)["samples"],
        "morris": make_design(params, "morris", 16, num_levels=6)["samples"],
    }
    assert {k: len(v) for k, v in sizes.items()} == {
        "latin": 16,
        "sobol": 16 * (2 + 2),
        "sobol2": 16 * (2 * 2 + 2),
        "morris": 16 * (2 + 1),
    }
    x = np.asarray(sizes["latin"])
    assert (x[:, 0] >= 0).all() and (x[:, 0] <= 0.05).all()
    assert (x[:, 1] >= 0).all() and (x[:, 1] <= 0.2).all()


def test_design_json_fields(tmp_path):
    design = make_design({"ishigami.x1": [-1, 1]}, method="morris", n=3, seed=4, num_levels=4)
    write_design(tmp_path, design)
    stored = json.loads((tmp_path / DESIGN_FILE).read_text())
    assert stored["method"] == "morris"
    assert stored["problem"] == {"num_vars": 1, "names": ["ishigami.x1"], "bounds": [[-1, 1]]}
    assert (stored["seed"], stored["n"], stored["num_levels"]) == (4, 3, 4)
    assert stored["calc_second_order"] is None
    assert len(stored["samples"]) == 6


def test_params_flat_or_nested_and_whole_range():
    flat = resolve_params({"regulator.penalty": [0, 0.05], "ishigami.x2": None})
    nested = resolve_params({"regulator": {"penalty": [0, 0.05]}, "ishigami": {"x2": None}})
    expected = [SweepParam("regulator.penalty", 0.0, 0.05), SweepParam("ishigami.x2", -PI, PI)]
    assert flat == nested == expected
    strategy = resolve_params({"platforms.strategies.balanced.disclosure": [0.2, 0.9]})
    assert strategy == [SweepParam("platforms.strategies.balanced.disclosure", 0.2, 0.9)]


def test_whole_number_keys_get_rounded_values():
    design = make_design({"regulator.shutdown_after": [1, 6], "regulator.penalty": [0, 0.1]}, n=8)
    assert design["integer"] == ["regulator.shutdown_after"]
    for row in range(8):
        overrides = row_overrides(design, row)
        value = design["samples"][row][0]
        assert overrides[0] == f"regulator.shutdown_after={round(value)}"
        assert overrides[1] == f"regulator.penalty={design['samples'][row][1]!r}"
        assert overrides[2] == f"sample={row}"


def test_rows_that_break_a_rule_tying_keys_are_found():
    from sim.compose import compose_config

    cfg = compose_config(["population.threshold_high=0.5"])
    design = make_design({"population.threshold_low": [0.3, 0.7]}, n=20, seed=2)
    lows = np.asarray(design["samples"])[:, 0]
    bad = check_rows(cfg, design)
    assert [row for row, _ in bad] == list(np.flatnonzero(lows > 0.5))
    assert all(err.key == "population.threshold_low" for _, err in bad)
    assert cfg.population.threshold_low == 0.3  # left as it was
    assert check_rows(cfg, make_design({"population.threshold_low": [0.3, 0.5]}, n=20)) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"regulator.penalti": [0, 0.1]}, r"a key of regulator \('penalti' is not one\)"),
        ({"nope": [0, 1]}, r"a key of the config \('nope' is not one\)"),
        ({"regulator.penalty": [0, 2]}, r"within regulator.penalty's range \[0.0, 1.0\]"),
        ({"regulator.penalty": [-0.1, 0.5]}, r"within regulator.penalty's range"),
        ({"population.choice_temperature": [0, 1]}, r"range \[0.001, 1000000.0\]"),
        ({"ishigami.x1": [-4, 0]}, r"within ishigami.x1's range"),
        ({"regulator.penalty": [0.5, 0.1]}, "lo < hi"),
        ({"regulator.penalty": [0.1]}, "two finite numbers"),
        ({"regulator.penalty": "0,1"}, "two finite numbers"),
        ({"regulator.regime": [0, 1]}, "regulator.regime is str"),
        ({"regulator.rebuttal": [0, 1]}, "regulator.rebuttal is bool"),
        ({"regulator": [0, 1]}, "regulator is RegulatorConfig"),
        ({"regulator.penalty.x": [0, 1]}, "regulator.penalty has no keys below it"),
        ({"network.path": [0, 1]}, "a numeric"),
        ({"platforms.mix.balanced": [0, 1]}, "a numeric"),
        ({"sample": [0, 3]}, "other than 'sample'"),
        ({"trust.w_plus": None}, "explicit bounds"),
        ({}, "at least one entry"),
        (["regulator.penalty"], "a mapping"),
    ],
)
def test_bad_params_are_clear_errors(params, message):
    with pytest.raises(ConfigError, match=message) as err:
        make_design(params, method="latin", n=4)
    assert "hydra.sweeper.params" in str(err.value)


def test_bad_options_are_clear_errors():
    params = {"regulator.penalty": [0, 0.1]}
    with pytest.raises(ConfigError, match=r"hydra\.sweeper\.method='fast'.*latin, sobol, morris"):
        make_design(params, method="fast")
    with pytest.raises(ConfigError, match=r"hydra\.sweeper\.n=0"):
        make_design(params, n=0)
    with pytest.raises(ConfigError, match=r"hydra\.sweeper\.num_levels=1"):
        make_design(params, method="morris", n=4, num_levels=1)
    assert make_design(params, method="lhs", n=4)["method"] == "latin"


# --- whole sweeps through the CLI (subprocesses) ----------------------------------------------

TIMEOUT = 900
PI_BOUNDS = f"[{-PI!r},{PI!r}]"
ISHIGAMI_PARAMS = "hydra.sweeper.params={" + ",".join(f"{k}:{PI_BOUNDS}" for k in NAMES) + "}"
PIPELINE_N = 32  # Saltelli base size: 32 * (3 + 2) = 160 Hydra jobs


def cli(args: list[str], cwd: Path) -> subprocess.Popen:
    return start(["-m", *args], cwd)


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    return _finish(proc, TIMEOUT)


def describe(result: subprocess.CompletedProcess) -> str:
    out, err = result.stdout[-3000:], result.stderr[-3000:]
    return f"exit {result.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


def summaries(sweep_dir: Path) -> dict[int, dict]:
    """Run folder number -> its summary.json (the test's own runs table source)."""
    return {int(p.parent.name): json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """The Ishigami pipeline sweep, a replicated sweep on joblib, and bad inputs, at once."""
    root = tmp_path_factory.mktemp("salib")
    jobs = {
        "ishigami": [
            "model=ishigami",
            "hydra/sweeper=sobol",
            f"hydra.sweeper.n={PIPELINE_N}",
            "hydra.sweeper.seed=11",
            ISHIGAMI_PARAMS,
            f"hydra.sweep.dir={root / 'ishigami'}",
        ],
        "replicated": [
            "model=ishigami",
            "hydra/sweeper=lhs",
            "hydra.sweeper.n=4",
            "+hydra.sweeper.params.ishigami.x1=[0,1]",
            "+hydra.sweeper.params.ishigami.x3=null",
            "seed=range(3)",
            "ishigami.x2=0.5",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={root / 'replicated'}",
        ],
        "bad_bounds": [
            "hydra/sweeper=salib",
            "hydra.sweeper.params={regulator.penalty:[0,2]}",
            f"hydra.sweep.dir={root / 'bad_bounds'}",
        ],
        "sampled_twice": [
            "hydra/sweeper=salib",
            "hydra.sweeper.params={regulator.penalty:[0,0.5]}",
            "regulator.penalty=0.1",
            f"hydra.sweep.dir={root / 'sampled_twice'}",
        ],
        "broken_rows": [
            "hydra/sweeper=lhs",
            "hydra.sweeper.n=8",
            "hydra.sweeper.params={population.threshold_low:[0.3,0.7]}",
            "population.threshold_high=0.5",
            f"hydra.sweep.dir={root / 'broken_rows'}",
        ],
    }
    procs = {name: cli(args, root / "cwd" / name) for name, args in jobs.items()}
    results = {name: finish(proc) for name, proc in procs.items()}
    return root, jobs, results


@pytest.mark.slow
def test_ishigami_pipeline_recovers_analytic_indices(sweeps):
    root, _, results = sweeps
    result = results["ishigami"]
    assert result.returncode == 0, describe(result)
    sweep_dir = root / "ishigami"
    design = read_design(sweep_dir)
    rows = PIPELINE_N * (3 + 2)
    assert design["method"] == "sobol" and design["n"] == PIPELINE_N and design["seed"] == 11
    assert design["calc_second_order"] is False
    assert design["problem"]["names"] == NAMES
    assert len(design["samples"]) == rows
    assert json.loads((sweep_dir / "sweep.json").read_text())["total"] == rows

    # The test's own runs table, straight from the runs' summary.json.
    found = summaries(sweep_dir)
    assert sorted(found) == list(range(rows))  # job k is design row k
    x = np.asarray(design["samples"])
    records = []
    for job, summary in found.items():
        config = summary["config"]
        assert config["sample"] == job
        ran = [config["ishigami"][k] for k in ("x1", "x2", "x3")]
        assert ran == list(x[job])  # exactly the design's values
        assert summary["final"]["ishigami"] == ishigami(*ran)
        records.append(
            {
                "sample": config["sample"],
                "seed": summary["seed"],
                **{f"final_{k}": v for k, v in summary["final"].items()},
            }
        )
    runs = pd.DataFrame(records)
    indices = analyze(sweep_dir, runs, ["ishigami"])
    pd.testing.assert_frame_equal(indices, analyze(sweep_dir, runs_table(sweep_dir), ["ishigami"]))

    # Same as analysing the design evaluated in process...
    direct = pd.DataFrame({"sample": np.arange(rows), "ishigami": f(x)})
    pd.testing.assert_frame_equal(indices, analyze(sweep_dir, direct, ["ishigami"]), rtol=1e-9)
    # ...and within the intervals of the analytic indices (n=32 is a small design).
    for kind in ("S1", "ST"):
        table = lookup(indices, kind)
        for name, true in ANALYTIC[kind].items():
            est, conf = table.loc[name, "value"], table.loc[name, "conf"]
            assert abs(est - true) < 3 * conf + 0.05, (kind, name, est, true, conf)


@pytest.mark.slow
def test_replicates_multiply_the_design_and_a_rerun_resumes(sweeps):
    root, jobs, results = sweeps
    result = results["replicated"]
    assert result.returncode == 0, describe(result)
    sweep_dir = root / "replicated"
    design = read_design(sweep_dir)
    assert design["method"] == "latin" and len(design["samples"]) == 4
    assert design["problem"]["bounds"] == [[0.0, 1.0], [-PI, PI]]
    assert design["replicates"] == [
        ["model=ishigami", f"seed={seed}", "ishigami.x2=0.5"] for seed in range(3)
    ]
    assert json.loads((sweep_dir / "sweep.json").read_text())["total"] == 12
    found = summaries(sweep_dir)
    assert sorted(found) == list(range(12))
    for job, summary in found.items():  # replicate by replicate, each in design order
        seed, row = divmod(job, 4)
        config = summary["config"]
        assert (config["seed"], config["sample"]) == (seed, row)
        assert config["ishigami"]["x1"] == design["samples"][row][0]
        assert config["ishigami"]["x3"] == design["samples"][row][1]
        assert config["ishigami"]["x2"] == 0.5
    table = runs_table(sweep_dir)
    _, means = design_outputs(sweep_dir, table, ["ishigami"])
    assert (means["replicates"] == 3).all()

    # The same sweep again into its folder: every run is found finished and skipped.
    before = {job: s["wall_seconds"] for job, s in found.items()}
    again = finish(cli(jobs["replicated"], root / "cwd" / "again"))
    assert again.returncode == 0, describe(again)
    assert again.stdout.count("already holds this run; skipped") == 12, describe(again)
    assert {job: s["wall_seconds"] for job, s in summaries(sweep_dir).items()} == before

    # Another design into the same folder is refused before anything runs.
    other = [a if a != "hydra.sweeper.n=4" else "hydra.sweeper.n=5" for a in jobs["replicated"]]
    refused = finish(cli(other, root / "cwd" / "other"))
    assert refused.returncode == 2, describe(refused)
    assert "design.json holds another" in refused.stderr
    assert len(read_design(sweep_dir)["samples"]) == 4
    assert json.loads((sweep_dir / "sweep.json").read_text())["total"] == 12


@pytest.mark.slow
def test_bad_sweeper_input_exits_2_with_a_clear_message(sweeps):
    root, _, results = sweeps
    bad = results["bad_bounds"]
    assert bad.returncode == 2, describe(bad)
    assert (
        "hydra.sweeper.params.regulator.penalty=[0, 2]: allowed bounds within "
        "regulator.penalty's range [0.0, 1.0]"
    ) in bad.stderr
    twice = results["sampled_twice"]
    assert twice.returncode == 2, describe(twice)
    assert "regulator.penalty is sampled by the design" in twice.stderr
    broken = results["broken_rows"]
    assert broken.returncode == 2, describe(broken)
    assert "allowed <= threshold_high=0.5 (design row" in broken.stderr
    assert "narrow hydra.sweeper.params" in broken.stderr
    for name in ("bad_bounds", "sampled_twice", "broken_rows"):
        assert not list((root / name).glob("*/summary.json"))
