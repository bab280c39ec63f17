"""Reading a sweep folder: one row per run folder, and every complete run's timeseries.

A run folder is any folder under the sweep that holds Hydra's ``.hydra`` record. Its
state comes from the files :mod:`sim.runner` writes: ``summary.json`` (written last)
marks a complete run, ``status.json`` with ``status: failed`` a failed one; anything else
is incomplete (still running, killed, or not started). Only complete runs' data files are
read, so a report can be made while a sweep is still running.
"""

import functools
import math
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.files import STATUS, SUMMARY, TIMESERIES
from sim.files import SWEEP as SWEEP_FILE
from sim.output import read_json
from sim.sweep import run_folders

# Config groups: their choices are names, even when a name looks like a number.
GROUP_KEYS = frozenset({"platforms", "regulator", "scenario", "experiment"})
# Run facts taken from summary.json (or, for runs without one, from .hydra/config.yaml).
DESCRIPTIVE = ("seed", "scenario", "platforms", "regulator", "model", "ticks", "n_users")
RUN_FACTS = ("wall_seconds", "config_hash", "version")
STATUSES = ("complete", "failed", "incomplete")
# Replicates of one setting, not settings: the seed, and the design row of a SALib sweep
# (``sample=ROW``, whose parameter values are overrides of their own).
REPLICATE_KEYS = ("seed", "sample")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ReportError(ValueError):
    """A sweep that cannot be reported on (no such folder, no runs, an unknown column)."""


@functools.cache
def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


@functools.lru_cache(maxsize=65536)
def parse_override(text: str) -> tuple[str, Any] | None:
    """Key and typed value of one Hydra override (``None`` for a deletion ``~key``).

    Numbers come back as numbers, ``true``/``false`` as booleans, ``null`` as ``None``;
    choices of config groups (``platforms=...``) stay strings. Cached: a sweep repeats the
    same few override strings in every run folder, and Hydra's parser is slow.
    """
    try:
        (override,) = _parser().parse_overrides([text])
    except Exception:  # not Hydra syntax (hand-made folder): keep the text
        key, _, value = text.partition("=")
        return key.lstrip("+~"), value
    if override.is_delete():
        return None
    key = override.key_or_group
    if override.package:
        key = f"{key}@{override.package}"
    value = override.value()
    if not isinstance(value, str | int | float | bool | type(None)):
        value = override.get_value_element_as_str()  # lists, dicts, sweeps: as written
    if key in GROUP_KEYS and value is not None:
        value = str(value)
    return key, value


def read_overrides(folder: Path) -> dict[str, Any]:
    """A run's overrides (``.hydra/overrides.yaml``) as ``{key: typed value}``."""
    try:
        items = yaml.load((folder / ".hydra" / "overrides.yaml").read_text(), Loader=_LOADER)
    except (OSError, ValueError, yaml.YAMLError):  # unreadable, binary or not YAML
        return {}
    parsed = (parse_override(str(item)) for item in items or [])
    return dict(p for p in parsed if p is not None)


def sampled_keys(sweep_dir: Path) -> list[str]:
    """Keys a design or a search drew (``hydra.sweeper.params`` or ``uncertainties``).

    Those of trustsim's sweepers (a SALib design, a calibration, a Pareto search), whose
    params are ranges ``[lo, hi]`` drawn per run, not lists of values.
    """
    try:
        hydra = yaml.load((sweep_dir / "multirun.yaml").read_text(), Loader=_LOADER)["hydra"]
        sweeper = hydra.get("sweeper") or {}
        params = sweeper.get("params") or sweeper.get("uncertainties") or {}
    except Exception:
        return []
    if not isinstance(params, dict) or "trustsim_sweepers" not in str(sweeper.get("_target_")):
        return []
    return [str(k) for k in params]


def declared_sweep_keys(sweep_dir: Path) -> list[str]:
    """Keys the sweep command swept (``multirun.yaml``: sweep overrides, sweeper params).

    They count as swept even before a second value has finished, so a partial sweep
    groups the same way as the finished one.
    """
    try:
        hydra = yaml.load((sweep_dir / "multirun.yaml").read_text(), Loader=_LOADER)["hydra"]
        task = list((hydra.get("overrides") or {}).get("task") or [])
        params = (hydra.get("sweeper") or {}).get("params") or {}
        items = task + [f"{k}={v}" for k, v in params.items()]
        overrides = _parser().parse_overrides(items)
    except Exception:  # no multirun.yaml (hand-made folder) or a sweeper of another kind
        return []
    keys = [o.key_or_group for o in overrides if o.is_sweep_override()]
    return list(dict.fromkeys([*keys, *sampled_keys(sweep_dir)]))


def sweep_info(sweep_dir: Path) -> dict[str, Any]:
    """The sweep's ``sweep.json`` (``total`` jobs, ``started``), or ``{}``."""
    info = read_json(Path(sweep_dir) / SWEEP_FILE)
    return info if isinstance(info, dict) else {}


def task_overrides(sweep_dir: Path) -> list[str]:
    """The overrides of the sweep command (``multirun.yaml``), for display."""
    try:
        hydra = yaml.load((sweep_dir / "multirun.yaml").read_text(), Loader=_LOADER)["hydra"]
        task = [str(t) for t in (hydra.get("overrides") or {}).get("task") or []]
        params = (hydra.get("sweeper") or {}).get("params") or {}
    except Exception:
        return []
    return task + [f"{k}={v}" for k, v in params.items()]


def _natural(run_id: str) -> list[tuple[int, int | str]]:
    """Sort key that puts job 2 before job 10."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in run_id.split("/")]


def _config_facts(folder: Path) -> dict[str, Any]:
    """Run facts from ``.hydra/config.yaml``, for runs without a summary."""
    try:
        cfg = yaml.load((folder / ".hydra" / "config.yaml").read_text(), Loader=_LOADER) or {}
    except (OSError, ValueError, yaml.YAMLError):  # unreadable, binary or not YAML
        return {}

    def get(*path: str) -> Any:
        node: Any = cfg
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return None if isinstance(node, str) and "${" in node else node  # unresolved

    return {
        "seed": get("seed"),
        "scenario": get("scenario", "name"),
        "platforms": get("platforms", "preset"),
        "regulator": get("regulator", "regime"),
        "model": get("model"),
        "ticks": get("ticks"),
        "n_users": get("population", "n_users"),
    }


def _run_record(sweep_dir: Path, folder: Path) -> tuple[dict[str, Any], list[str]]:
    overrides = read_overrides(folder)
    record: dict[str, Any] = dict(overrides)
    record.update(run_id=folder.relative_to(sweep_dir).as_posix(), status="incomplete", error=None)
    summary = read_json(folder / SUMMARY)
    facts: dict[str, Any]
    if isinstance(summary, dict):
        record["status"] = "complete"
        facts = summary
    else:
        status = read_json(folder / STATUS)
        facts = _config_facts(folder)
        if isinstance(status, dict) and status.get("status") == "failed":
            record["status"] = "failed"
            record["error"] = status.get("error")
            facts.update(config_hash=status.get("config_hash"), version=status.get("version"))
    for column in (*DESCRIPTIVE, *RUN_FACTS):
        if record.get(column) is None:  # an override of the same key is the same value
            record[column] = facts.get(column)
    if isinstance(summary, dict):
        record.update({f"final_{k}": v for k, v in _numbers(summary.get("final")).items()})
        record.update({f"agg_{k}": v for k, v in _numbers(summary.get("aggregate")).items()})
    return record, list(overrides)


def _numbers(section: Any) -> dict[str, Any]:
    """The numeric entries of a summary section (a hand-edited or foreign file may hold others)."""
    if not isinstance(section, dict):
        return {}
    return {k: v for k, v in section.items() if v is None or isinstance(v, int | float)}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _typed(column: pd.Series) -> pd.Series:
    """One type per override column: numbers, booleans, or else strings."""
    if column.dtype != object:
        return column  # pandas already found one numeric or bool type
    values = [v for v in column if not _missing(v)]
    if values and all(isinstance(v, bool) for v in values):
        return column.astype("boolean")
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(column)
    return _strings(column)


def _strings(column: pd.Series) -> pd.Series:
    """Strings, missing values kept missing (``astype(str)`` would write "None")."""
    values = [None if _missing(v) else str(v) for v in column]
    return pd.Series(values, index=column.index, dtype="str")


def collect_runs(sweep_dir: str | os.PathLike) -> pd.DataFrame:
    """One row per run folder of a sweep: status, overrides, run facts, final indicators.

    Columns: ``run_id`` (folder relative to the sweep), ``status`` (complete / failed /
    incomplete), one column per override key (typed), ``error`` (failed runs), ``seed``,
    ``scenario``, ``platforms``, ``regulator``, ``model``, ``ticks``, ``n_users``,
    ``wall_seconds``, ``config_hash``, ``version``, ``final_<column>`` and ``agg_<key>``.
    ``attrs`` holds ``sweep_dir``, ``overrides`` (the override columns), ``swept`` (the
    keys that vary or that the sweep command swept) and ``sampled`` (those a sampling
    design drew).

    Raises:
        ReportError: The folder is missing or holds no run folders.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise ReportError(f"no such sweep folder: {sweep_dir}")
    folders = sorted(
        run_folders(sweep_dir), key=lambda f: _natural(f.relative_to(sweep_dir).as_posix())
    )
    if not folders:
        raise ReportError(f"no runs in {sweep_dir} (no run folder with a .hydra record)")
    records, override_keys = [], {}
    for folder in folders:
        record, keys = _run_record(sweep_dir, folder)
        records.append(record)
        override_keys.update(dict.fromkeys(keys))
    runs = pd.DataFrame.from_records(records)
    keys = [k for k in override_keys if k not in ("run_id", "status", "error")]
    for key in keys:
        runs[key] = _typed(runs[key])
    declared = declared_sweep_keys(sweep_dir)
    swept = [k for k in keys if k in declared or runs[k].nunique(dropna=False) > 1]
    finals = [c for c in runs.columns if c.startswith("final_")]
    aggs = [c for c in runs.columns if c.startswith("agg_")]
    # A fact that an override column already holds (n_users is population.n_users).
    same = {"n_users": "population.n_users"}
    facts = [c for c in (*DESCRIPTIVE, *RUN_FACTS) if c not in keys and same.get(c) not in keys]
    order = ["run_id", "status", *swept, *(k for k in keys if k not in swept), *facts, "error"]
    runs = runs[order + finals + aggs].copy()
    runs["error"] = _strings(runs["error"])  # a string column even with no failures
    runs.attrs = {
        "sweep_dir": str(sweep_dir.resolve()),
        "overrides": keys,
        "swept": swept,
        "sampled": [k for k in sampled_keys(sweep_dir) if k in swept],
    }
    return runs


def swept_keys(runs: pd.DataFrame) -> list[str]:
    """The swept keys of a runs table (``seed`` included)."""
    if "swept" in runs.attrs:
        return [k for k in runs.attrs["swept"] if k in runs.columns]
    # A table that lost its attrs: override columns are the ones collect_runs adds up front.
    known = {"run_id", "status", "error", *DESCRIPTIVE, *RUN_FACTS}
    candidates = [
        c for c in runs.columns if c not in known and not c.startswith(("final_", "agg_"))
    ]
    varying = [c for c in candidates if runs[c].nunique(dropna=False) > 1]
    return varying + (["seed"] if "seed" in runs and runs["seed"].nunique() > 1 else [])


def group_keys(runs: pd.DataFrame) -> list[str]:
    """Swept keys other than replicate ids: a combination of their values is a group."""
    return [k for k in swept_keys(runs) if k not in REPLICATE_KEYS]


def final_column(runs: pd.DataFrame, name: str) -> str | None:
    """The runs-table column ``name`` means: itself, or ``final_NAME`` (None: neither)."""
    if name in runs.columns:
        return name
    return f"final_{name}" if f"final_{name}" in runs.columns else None


def final_names(runs: pd.DataFrame) -> list[str]:
    """The final indicators of a runs table, by their short names (``trust_mean``)."""
    return [c.removeprefix("final_") for c in runs.columns if c.startswith("final_")]


def without_levers(runs: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """``keys`` less those a deep-uncertainty design's ``policy`` fixes (its levers).

    Each policy sets its levers to one value, so grouping by them as well as by the policy
    only repeats the policy's name.
    """
    keys = list(keys)
    if "policy" not in keys or "policy" not in runs.columns:
        return keys
    fixed = [
        k
        for k in keys
        if k != "policy" and k in runs.columns
        and runs.groupby("policy", dropna=False)[k].nunique(dropna=False).max() <= 1
    ]  # fmt: skip
    return [k for k in keys if k not in fixed]


def _read_table(path: Path, columns: list[str] | None) -> pa.Table | Exception:
    try:
        # ParquetFile.read skips read_table's dataset set-up (2-3x faster on small files);
        # one file per thread, and pyarrow decodes without the GIL, so files overlap.
        return pq.ParquetFile(path).read(columns=columns, use_threads=False)
    except (OSError, pa.ArrowException) as err:
        return err


def collect_timeseries(
    sweep_dir: str | os.PathLike,
    runs: pd.DataFrame,
    columns: list[str] | None = None,
    file: str = TIMESERIES,
) -> pd.DataFrame:
    """Every complete run's ``timeseries.parquet`` in one table, with ``run_id`` and swept keys.

    The files are read with pyarrow (a few threads) and concatenated once; the run
    columns are then repeated with numpy, so there is no Python loop over rows.

    Args:
        sweep_dir: The sweep folder.
        runs: The table from :func:`collect_runs`; only its complete runs are read.
        columns: Timeseries columns to read (default: all).
        file: Another per-run table to read the same way (``jurisdictions.parquet``,
            which only runs with several jurisdictions have: runs without it are left
            out quietly).

    Returns:
        ``run_id``, the swept keys, then the timeseries columns; one row per run and tick.
    """
    sweep_dir = Path(sweep_dir)
    keys = ["run_id", *swept_keys(runs)]
    complete = runs.loc[runs["status"] == "complete", keys].reset_index(drop=True)
    if file != TIMESERIES:
        having = [(sweep_dir / r / file).is_file() for r in complete["run_id"]]
        complete = complete[having].reset_index(drop=True)
    paths = [sweep_dir / run_id / file for run_id in complete["run_id"]]
    workers = min(4, os.cpu_count() or 1, max(1, len(paths)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda p: _read_table(p, columns), paths))
    tables, positions, unreadable = [], [], []
    for i, (path, result) in enumerate(zip(paths, results, strict=True)):
        if isinstance(result, Exception):
            unreadable.append(complete.at[i, "run_id"])
            warnings.warn(f"skipped unreadable {path}: {result}", stacklevel=2)
        else:
            tables.append(result)
            positions.append(i)
    if not tables:
        frame = pd.DataFrame({k: complete[k].iloc[:0] for k in keys})
        frame["tick"] = pd.Series(dtype="int64")
    else:
        # Runs of another version may lack or retype a column: nulls, widened types.
        table = pa.concat_tables(tables, promote_options="permissive")
        data = table.drop_columns([c for c in keys if c in table.column_names]).to_pandas()
        rows = np.repeat(np.asarray(positions), [t.num_rows for t in tables])
        front = complete.iloc[rows].reset_index(drop=True)
        frame = pd.concat([front, data], axis=1)
    frame.attrs = {"swept": keys[1:], "unreadable": unreadable}
    return frame
