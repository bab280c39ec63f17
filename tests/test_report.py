"""The sweep report: tables, statistics, figures, page and command.

Synthetic sweeps (random numbers in the layout of a real sweep, written with the
``sim.output`` writers) give exact numeric checks; one real ``trustsim -m`` sweep with
tiny sizes checks the whole path end to end.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from sim.report import (
    ReportError,
    collect_runs,
    collect_timeseries,
    fan_chart,
    fan_data,
    fan_layout,
    group_keys,
    heatmap_data,
    main,
    numeric_keys,
    ranking,
    swept_keys,
    write_report,
)
from sim.report.build import SensitivityError
from sim.report.synthetic import make_sweep, timeseries_columns, write_run

TICKS = 12
PARAMS = {
    "seed": range(4),
    "platforms": ["balanced", "laggard"],
    "regulator.penalty": [0.0, 0.05],
}
FAILED_JOB, INCOMPLETE_JOB = 3, 6
ERROR = "ValueError: bad <penalty> & worse"
REPORT = [sys.executable, "-m", "sim.report"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """16 jobs (4 seeds x 2 presets x 2 penalties): one failed, one incomplete."""
    sweep = tmp_path_factory.mktemp("synth") / "sweep"
    make_sweep(
        sweep,
        PARAMS,
        ticks=TICKS,
        statuses={FAILED_JOB: "failed", INCOMPLETE_JOB: "incomplete"},
    )
    status = sweep / str(FAILED_JOB) / "status.json"
    status.write_text(status.read_text().replace("RuntimeError: synthetic failure", ERROR))
    # A killed run: data files half there, no summary.json. They must not be read.
    (sweep / str(INCOMPLETE_JOB) / "timeseries.parquet").write_bytes(b"PAR1 half a file")
    return sweep


@pytest.fixture(scope="module")
def synth_runs(synth) -> pd.DataFrame:
    return collect_runs(synth)


@pytest.fixture(scope="module")
def synth_ts(synth, synth_runs) -> pd.DataFrame:
    return collect_timeseries(synth, synth_runs)


@pytest.fixture(scope="module")
def synth_report(synth) -> Path:
    return write_report(synth)


# ------------------------------------------------------------------------------------
# runs.parquet
# ------------------------------------------------------------------------------------


def test_runs_table_has_one_row_per_folder_with_its_status(synth, synth_runs):
    runs = synth_runs
    assert runs["run_id"].tolist() == [str(i) for i in range(16)]  # job 10 after job 9
    expected = ["complete"] * 16
    expected[FAILED_JOB], expected[INCOMPLETE_JOB] = "failed", "incomplete"
    assert runs["status"].tolist() == expected
    failed = runs.iloc[FAILED_JOB]
    assert failed["error"] == ERROR
    assert pd.isna(failed["final_trust_mean"])
    # Runs without a summary still say what they were (from .hydra/config.yaml).
    incomplete = runs.iloc[INCOMPLETE_JOB]
    assert (incomplete["seed"], incomplete["platforms"]) == (1, "laggard")
    assert incomplete["regulator.penalty"] == 0.0
    assert pd.isna(incomplete["error"]) and pd.isna(incomplete["final_trust_mean"])
    done = runs.iloc[0]
    summary = pd.read_parquet(synth / "0" / "timeseries.parquet").iloc[-1]
    assert done["final_trust_mean"] == summary["trust_mean"]
    assert done["final_tick"] == TICKS
    assert not math.isnan(done["agg_trust_mean_min"])
    for column in ("wall_seconds", "config_hash", "scenario", "regulator", "version"):
        assert column in runs


def test_swept_columns_are_typed(synth_runs):
    runs = synth_runs
    assert swept_keys(runs) == ["seed", "platforms", "regulator.penalty"]
    assert group_keys(runs) == ["platforms", "regulator.penalty"]
    assert runs["seed"].dtype == np.int64
    assert runs["regulator.penalty"].dtype == np.float64
    assert pd.api.types.is_string_dtype(runs["platforms"])
    assert set(runs["platforms"]) == {"balanced", "laggard"}
    assert numeric_keys(runs) == ["regulator.penalty"]


def test_runs_parquet_keeps_types_and_swept_keys(synth_report, synth_runs):
    saved = pd.read_parquet(synth_report / "runs.parquet")
    assert len(saved) == 16
    assert saved.attrs["swept"] == ["seed", "platforms", "regulator.penalty"]
    assert swept_keys(saved) == swept_keys(synth_runs)
    assert saved["seed"].dtype == np.int64 and saved["regulator.penalty"].dtype == np.float64
    pd.testing.assert_series_equal(saved["status"], synth_runs["status"])


def test_override_values_are_typed():
    from sim.report.collect import parse_override

    assert parse_override("seed=3") == ("seed", 3)
    assert parse_override("regulator.penalty=0.02") == ("regulator.penalty", 0.02)
    assert parse_override("output.plot=false") == ("output.plot", False)
    assert parse_override("+experiment=grid") == ("experiment", "grid")
    assert parse_override("scenario=2020") == ("scenario", "2020")  # a group's choice is a name
    assert parse_override("~adaptation") is None


# ------------------------------------------------------------------------------------
# timeseries.parquet
# ------------------------------------------------------------------------------------


def test_timeseries_has_every_complete_run_with_run_id(synth, synth_runs, synth_ts):
    ts = synth_ts
    complete = synth_runs[synth_runs["status"] == "complete"]
    assert len(ts) == (TICKS + 1) * len(complete) == (TICKS + 1) * 14
    assert list(ts.columns[:4]) == ["run_id", "seed", "platforms", "regulator.penalty"]
    assert set(ts.columns[4:]) == set(timeseries_columns())
    assert set(ts["run_id"]) == set(complete["run_id"])
    one = ts[ts["run_id"] == "13"].reset_index(drop=True)
    on_disk = pd.read_parquet(synth / "13" / "timeseries.parquet")
    pd.testing.assert_frame_equal(one[on_disk.columns], on_disk)
    row = complete.set_index("run_id").loc["13"]
    assert (one["seed"] == row["seed"]).all() and (one["platforms"] == row["platforms"]).all()


def test_runs_without_summary_are_incomplete_and_their_files_unread(synth, monkeypatch):
    opened: list[str] = []
    real = pq.ParquetFile

    def spy(path, *args, **kwargs):
        opened.append(Path(path).parent.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", spy)
    runs = collect_runs(synth)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unreadable file would warn
        ts = collect_timeseries(synth, runs)
    assert runs.at[INCOMPLETE_JOB, "status"] == "incomplete"
    assert str(INCOMPLETE_JOB) not in opened and str(FAILED_JOB) not in opened
    assert len(opened) == 14
    assert ts.attrs["unreadable"] == []


def test_a_run_that_finishes_later_joins_the_next_report(tmp_path):
    sweep = tmp_path / "sw"
    make_sweep(sweep, {"seed": range(3)}, ticks=4, statuses={2: "incomplete"})
    assert collect_runs(sweep)["status"].tolist() == ["complete", "complete", "incomplete"]
    make_sweep(sweep, {"seed": range(3)}, ticks=4)  # the running job writes its summary
    runs = collect_runs(sweep)
    assert runs["status"].tolist() == ["complete"] * 3
    assert len(collect_timeseries(sweep, runs)) == 3 * 5


# ------------------------------------------------------------------------------------
# Fan charts, ranking, heatmap
# ------------------------------------------------------------------------------------


def test_fan_quantiles_equal_an_independent_computation(synth_ts):
    by = ["platforms", "regulator.penalty"]
    fan = fan_data(synth_ts, "trust_mean", by).set_index([*by, "tick"])
    assert len(fan) == 4 * (TICKS + 1)
    for (preset, penalty, tick), part in synth_ts.groupby([*by, "tick"]):
        values = part["trust_mean"].to_numpy()
        row = fan.loc[(preset, penalty, tick)]
        assert row["n"] == len(values)
        np.testing.assert_allclose(
            row[["low", "median", "high"]].to_numpy(dtype=float),
            np.quantile(values, [0.1, 0.5, 0.9]),
            rtol=1e-12,
        )
    # The figure draws exactly these medians, one panel per group.
    fig = fan_chart(synth_ts, "trust_mean", by)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 4
    first = fan.loc[("balanced", 0.0)]
    np.testing.assert_allclose(panels[0].lines[0].get_ydata(), first["median"])
    assert "platforms=balanced, penalty=0 (n=4)" in panels[0].get_title()


def test_fan_chart_folds_many_groups_into_lines(synth_ts):
    fig = fan_chart(synth_ts, "trust_mean", ["platforms", "regulator.penalty"], max_panels=3)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 2  # one per preset, a line per penalty
    assert [len(ax.lines) for ax in panels] == [2, 2]


def test_ranking_matches_scipy_t_intervals(synth_runs):
    table = ranking(synth_runs, "final_trust_mean")
    done = synth_runs[synth_runs["status"] == "complete"]
    expected = {}
    for key, part in done.groupby(["platforms", "regulator.penalty"]):
        values = part["final_trust_mean"].to_numpy()
        n = len(values)
        half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
        expected[key] = (values.mean(), half, n)
    assert len(table) == 4
    assert table["rank"].tolist() == [1, 2, 3, 4]
    assert table["mean"].is_monotonic_decreasing
    for _, row in table.iterrows():
        mean, half, n = expected[(row["platforms"], row["regulator.penalty"])]
        assert row["n"] == n
        assert row["mean"] == pytest.approx(mean, rel=1e-12)
        assert row["ci_half_width"] == pytest.approx(half, rel=1e-12)
        # Trust lies in [0, 1]: so does its interval.
        assert row["ci_low"] == pytest.approx(max(mean - half, 0.0), rel=1e-12)
        assert row["ci_high"] == pytest.approx(min(mean + half, 1.0), rel=1e-12)
    assert sorted(table["n"]) == [3, 3, 4, 4]  # the failed and the incomplete run
    assert table.attrs["bounded"] and table.attrs["across"] == "seeds"
    losses = ranking(synth_runs, "final_user_losses_cum")  # unbounded: the plain interval
    assert not losses.attrs["bounded"]
    np.testing.assert_allclose(losses["ci_low"], losses["mean"] - losses["ci_half_width"])
    by_preset = ranking(synth_runs, "final_trust_mean", ["platforms"], ascending=True)
    assert by_preset["platforms"].tolist() == sorted(
        ["balanced", "laggard"], key=lambda p: done[done.platforms == p].final_trust_mean.mean()
    )


def test_ranking_leaves_nan_out_and_unranks_empty_groups():
    runs = pd.DataFrame(
        {
            "status": ["complete"] * 5,
            "g": ["a", "a", "a", "b", "b"],
            "final_x": [1.0, 3.0, np.nan, np.nan, np.nan],
        }
    )
    table = ranking(runs, "final_x", ["g"])
    assert table["g"].tolist() == ["a", "b"]
    assert table["n"].tolist() == [2, 0] and table["n_runs"].tolist() == [3, 2]
    assert table["rank"].iloc[0] == 1 and pd.isna(table["rank"].iloc[1])
    assert table["ci_half_width"].iloc[0] == pytest.approx(
        stats.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2)
    )


def test_heatmap_only_with_two_numeric_swept_keys(tmp_path, synth_report):
    assert not list(synth_report.glob("heatmap_*.png"))  # one numeric key only
    sweep = tmp_path / "grid"
    make_sweep(
        sweep,
        {
            "regulator.penalty": [0.0, 0.1],
            "regulator.disclosure_mandate": [0.0, 0.5, 1.0],
            "seed": range(2),
        },
        ticks=3,
    )
    report = write_report(sweep, indicators=["trust_mean"])
    maps = list(report.glob("heatmap_*.png"))
    assert [p.name for p in maps] == [
        "heatmap_final_trust_mean_regulator.penalty_regulator.disclosure_mandate.png"
    ]
    runs = collect_runs(sweep)
    grid = heatmap_data(
        runs, "final_trust_mean", "regulator.penalty", "regulator.disclosure_mandate"
    )
    assert grid.shape == (3, 2)
    cell = runs[(runs["regulator.penalty"] == 0.1) & (runs["regulator.disclosure_mandate"] == 0.5)]
    assert len(cell) == 2
    assert grid.loc[0.5, 0.1] == pytest.approx(cell["final_trust_mean"].mean())
    assert "heatmap_final_trust_mean" in (report / "index.html").read_text()


# ------------------------------------------------------------------------------------
# The report folder and page
# ------------------------------------------------------------------------------------


def test_a_sampled_design_is_binned_and_pooled(tmp_path):
    """Latin-hypercube-like sweep: every run has its own parameter values."""
    sweep = tmp_path / "lhs"
    rng = np.random.default_rng(1)
    for job in range(40):
        overrides = {
            "regulator.penalty": rng.uniform(0, 0.1),
            "regulator.inspection_rate": rng.uniform(0, 0.2),
        }
        write_run(sweep / str(job), {**overrides, "sample": job}, ticks=3, rng=rng)
    runs = collect_runs(sweep)
    assert swept_keys(runs) == ["regulator.penalty", "regulator.inspection_rate", "sample"]
    assert group_keys(runs) == ["regulator.penalty", "regulator.inspection_rate"]
    grid = heatmap_data(
        runs, "final_trust_mean", "regulator.penalty", "regulator.inspection_rate", bins=4
    )
    assert grid.shape == (4, 4)
    assert grid.stack().notna().sum() <= 16
    binned = pd.cut(runs["regulator.penalty"], 4)
    assert list(grid.columns) == pytest.approx(list(binned.cat.categories.mid), rel=1e-3)
    assert grid.attrs["binned"] == ["regulator.penalty", "regulator.inspection_rate"]
    ts = collect_timeseries(sweep, runs)
    assert fan_layout(ts, group_keys(runs)) == ([], [])  # one panel of all 40 runs
    fig = fan_chart(ts, "trust_mean", group_keys(runs))
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["all runs (n=40)"]
    # Ranking 40 single-run "groups" would rank noise: left out, and the page says why.
    report = write_report(sweep, indicators=["trust_mean"])
    assert not (report / "ranking.csv").exists()
    assert "No ranking: every swept key" in (report / "index.html").read_text()
    assert len(list(report.glob("heatmap_*.png"))) == 1


def test_report_folder_and_page(synth, synth_report):
    assert synth_report == synth / "report"
    names = {p.name for p in synth_report.iterdir()}
    assert {
        "runs.parquet",
        "timeseries.parquet",
        "ranking.csv",
        "ranking.parquet",
        "ranking.png",
        "index.html",
        "fan_trust_mean.png",
        "fan_rumour_reach.png",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    page = (synth_report / "index.html").read_text()
    assert str(synth.resolve()) in page
    assert "ValueError: bad &lt;penalty&gt; &amp; worse" in page  # the error, escaped
    assert "<penalty>" not in page
    assert "<td>14</td><td>1</td><td>1</td>" in page  # complete, failed, incomplete
    for figure in ("fan_trust_mean.png", "ranking.png"):
        assert f'src="{figure}"' in page
    assert "<script" not in page
    csv = pd.read_csv(synth_report / "ranking.csv")
    assert len(csv) == 4 and csv["rank"].tolist() == [1, 2, 3, 4]
    ts = pd.read_parquet(synth_report / "timeseries.parquet")
    assert len(ts) == 14 * (TICKS + 1)


def test_report_options_and_out_folder(synth, tmp_path):
    out = write_report(
        synth,
        tmp_path / "elsewhere",
        indicators=["aum_total"],
        metric="final_user_losses_cum",
        rank_by=["platforms"],
        ascending=True,
    )
    assert out == tmp_path / "elsewhere"
    assert sorted(p.name for p in out.glob("fan_*.png")) == ["fan_aum_total.png"]
    table = pd.read_parquet(out / "ranking.parquet")
    assert table["platforms"].tolist() != [] and table["metric"].unique().tolist() == [
        "final_user_losses_cum"
    ]
    assert table["mean"].is_monotonic_increasing
    # A figure no longer asked for is removed, so the folder matches the page.
    write_report(synth, out, indicators=["trust_mean"])
    assert sorted(p.name for p in out.glob("fan_*.png")) == ["fan_trust_mean.png"]
    with pytest.raises(ReportError, match="unknown indicator no_such_column"):
        write_report(synth, out, indicators=["no_such_column"])
    with pytest.raises(ReportError, match="unknown final indicator nothing"):
        write_report(synth, out, metric="nothing")
    # A timeseries name stands for its final value.
    write_report(synth, out, indicators=["trust_mean"], metric="aum_total")
    assert pd.read_csv(out / "ranking.csv")["metric"].unique().tolist() == ["final_aum_total"]


def test_sensitivity_section_uses_the_analysis_interface(synth, tmp_path, monkeypatch):
    import types

    import matplotlib.pyplot as plt

    calls = {}

    def analyze(sweep_dir, runs, outputs):
        calls.update(sweep_dir=sweep_dir, runs=runs, outputs=outputs)
        return pd.DataFrame(
            {
                "output": outputs * 2,
                "parameter": ["regulator.penalty", "platforms"],
                "index": ["S1", "S1"],
                "value": [0.6, 0.2],
                "conf": [0.05, 0.04],
            }
        )

    def sensitivity_figure(indices):
        fig, ax = plt.subplots()
        ax.bar(indices["parameter"], indices["value"])
        return fig

    fake = types.ModuleType("sim.report.sensitivity")
    fake.analyze, fake.sensitivity_figure = analyze, sensitivity_figure
    monkeypatch.setitem(sys.modules, "sim.report.sensitivity", fake)
    out = write_report(synth, tmp_path / "r", indicators=["trust_mean"], sensitivity=True)
    assert calls["outputs"] == ["final_trust_mean"]
    assert Path(calls["sweep_dir"]) == synth
    assert len(calls["runs"]) == 14 and (calls["runs"]["status"] == "complete").all()
    table = pd.read_csv(out / "sensitivity.csv")
    assert table.columns.tolist() == ["output", "parameter", "index", "value", "conf"]
    assert (out / "sensitivity.png").stat().st_size > 0
    page = (out / "index.html").read_text()
    assert "Sensitivity" in page and 'src="sensitivity.png"' in page
    assert (
        main(
            [
                str(synth),
                "--out",
                str(tmp_path / "r2"),
                "--indicator",
                "trust_mean",
                "--sensitivity",
                "--outputs",
                "aum_total",
            ]
        )
        == 0
    )
    assert calls["outputs"] == ["final_aum_total"]

    def broken(sweep_dir, runs, outputs):
        raise ValueError("not a Saltelli design")

    fake.analyze = broken
    with pytest.raises(SensitivityError, match="not a Saltelli design"):
        write_report(synth, tmp_path / "r3", indicators=["trust_mean"], sensitivity=True)
    page = (tmp_path / "r3" / "index.html").read_text()
    assert "Sensitivity analysis failed: ValueError: not a Saltelli design" in page
    assert not (tmp_path / "r3" / "sensitivity.csv").exists()


# ------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------


def test_command_exits_2_with_one_line_on_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"trustsim-report: error: no such sweep folder: {tmp_path / 'missing'}"
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 2
    assert "no runs in" in capsys.readouterr().err
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    result = subprocess.run(
        [*REPORT, str(tmp_path / "missing")], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "no such sweep folder" in result.stderr


# ------------------------------------------------------------------------------------
# End to end: a real sweep
# ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_report_of_a_real_sweep(tmp_path, capsys):
    sweep = tmp_path / "sw"
    tiny = ["population.n_users=200", "ticks=20", "output.plot=false"]
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "-m",
            *tiny,
            "seed=0,1",
            "platforms=balanced,laggard",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    assert main([str(sweep)]) == 0  # in-process: the command itself is tested above
    assert "4 complete, 0 failed, 0 incomplete" in capsys.readouterr().out
    report = sweep / "report"
    runs = pd.read_parquet(report / "runs.parquet")
    assert runs["status"].tolist() == ["complete"] * 4
    assert swept_keys(runs) == ["seed", "platforms"]
    assert runs["population.n_users"].dtype == np.int64 and runs["output.plot"].dtype == bool
    assert "n_users" not in runs.columns  # the override column holds it: one column, not two
    assert (runs["population.n_users"] == 200).all() and (runs["ticks"] == 20).all()
    assert runs["final_tick"].tolist() == [20.0] * 4
    ts = pd.read_parquet(report / "timeseries.parquet")
    assert len(ts) == 4 * 21 and ts.groupby("run_id").size().tolist() == [21] * 4
    table = pd.read_csv(report / "ranking.csv")
    assert sorted(table["platforms"]) == ["balanced", "laggard"] and (table["n_runs"] == 2).all()
    for name in ("index.html", "ranking.png", "fan_trust_mean.png", "fan_platforms_active.png"):
        assert (report / name).stat().st_size > 0


def test_hostile_sweep_folders_and_options_end_in_one_line(tmp_path, capsys):
    """Regressions of the fuzzing pass (issue 11, class 8)."""
    import json

    sweep = tmp_path / "sw"
    make_sweep(sweep, {"seed": range(3)}, ticks=4)
    (sweep / "0" / ".hydra" / "overrides.yaml").write_bytes(bytes(range(256)))  # binary
    summary = json.loads((sweep / "1" / "summary.json").read_text())
    summary["final"]["trust_mean"] = "high"  # a string where a number belongs
    (sweep / "1" / "summary.json").write_text(json.dumps(summary))
    assert main([str(sweep), "--out", str(tmp_path / "r")]) == 0
    assert "3 complete" in capsys.readouterr().out
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as exit_:
        main([str(sweep), "--out", str(tmp_path / "file")])
    assert exit_.value.code == 2 and "is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main([str(sweep), "--max-panels", "0"])
    assert exit_.value.code == 2 and "--max-panels" in capsys.readouterr().err
    # A folder that cannot be made (its parent is a file): an OSError, said in one line.
    assert main([str(sweep), "--out", str(tmp_path / "file" / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trustsim-report: error: cannot write the report")
    assert err.count("\n") == 1


def test_a_one_group_fan_chart_shows_its_whole_title(synth_ts):
    one = synth_ts[synth_ts["platforms"] == synth_ts["platforms"].iloc[0]]
    fig = fan_chart(one, "institutional_trust_mean", [], across="design rows")
    fig.canvas.draw()
    title = fig._suptitle
    assert title.get_text().startswith("institutional_trust_mean: median across design rows")
    box = title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width


def test_replicates_are_named_by_what_the_runs_differ_in():
    from sim.report.figures import replicates_of

    seeds = pd.DataFrame({"seed": [0, 1, 0, 1], "sample": [0, 0, 0, 0]})
    rows = pd.DataFrame({"seed": [0, 0, 0], "sample": [0, 1, 2]})
    both = pd.DataFrame({"seed": [0, 1], "sample": [0, 1]})
    assert replicates_of(seeds) == "seeds"
    assert replicates_of(rows) == "design rows"
    assert replicates_of(both) == "seeds and design rows"
    assert replicates_of(pd.DataFrame({"x": [1]})) == "runs"
