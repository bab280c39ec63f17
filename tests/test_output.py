"""Tests for sim.output: atomic writes, Parquet/JSON writers and the config hash."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import output
from sim.output import (
    atomic_write_bytes,
    config_hash,
    write_json,
    write_jsonl,
    write_parquet,
)


def listing(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic_write_bytes ----------------------------------------------------------------


def test_atomic_write_creates_file_and_parents(tmp_path):
    target = tmp_path / "a" / "b" / "data.bin"
    returned = atomic_write_bytes(target, b"hello")
    assert returned == target
    assert target.read_bytes() == b"hello"
    assert listing(target.parent) == ["data.bin"]


def test_atomic_write_replaces_existing_file_leaving_no_temp(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old contents that are longer")
    atomic_write_bytes(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert listing(tmp_path) == ["data.bin"]


def test_atomic_write_replaces_in_one_step(tmp_path, monkeypatch):
    """The only thing that touches the final name is a single os.replace of a complete file."""
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        # at the moment of the swap the destination is still the old file
        # and the source already holds all the new bytes
        calls.append((os.fspath(dst), Path(src).read_bytes(), target.read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", spy)
    atomic_write_bytes(target, b"new bytes")
    assert calls == [(os.fspath(target), b"new bytes", b"old")]
    assert target.read_bytes() == b"new bytes"


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, failing):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def boom(*_args, **_kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(output.os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["data.bin"]


def test_interrupted_write_of_new_file_leaves_nothing(tmp_path, monkeypatch):
    def interrupt(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "new.bin", b"data")
    assert listing(tmp_path) == []


def test_atomic_write_gives_normal_file_permissions(tmp_path):
    """An output file gets the mode a plain ``open(path, 'wb')`` would give (0o666 & ~umask).

    ``tempfile.mkstemp`` creates its file 0o600 and ``os.replace`` keeps that mode, so
    without a chmod every output of a run is readable by its owner only.
    """
    atomic_write_bytes(tmp_path / "atomic.bin", b"x")
    with open(tmp_path / "plain.bin", "wb") as handle:
        handle.write(b"x")
    mode = stat.S_IMODE((tmp_path / "atomic.bin").stat().st_mode)
    expected = stat.S_IMODE((tmp_path / "plain.bin").stat().st_mode)
    assert oct(mode) == oct(expected)


# --- write_parquet ---------------------------------------------------------------------


def test_write_parquet_round_trips_exactly(tmp_path):
    frame = pd.DataFrame(
        {
            "tick": np.arange(5, dtype=np.int64),
            "value": [0.1, 1 / 3, np.nan, -0.0, 1e300],
            "count": np.array([0, 1, 2, 3, 2**40], dtype=np.int64),
            "flag": [True, False, True, False, True],
            "status": ["active", "collapsed", "active", "wound_down", "exited"],
        }
    )
    path = write_parquet(tmp_path / "t.parquet", frame)
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert math.copysign(1.0, back["value"].iloc[3]) == -1.0  # -0.0 survives
    assert listing(tmp_path) == ["t.parquet"]


def test_write_parquet_drops_the_index(tmp_path):
    frame = pd.DataFrame({"x": [1, 2, 3]}, index=[10, 20, 30])
    back = pd.read_parquet(write_parquet(tmp_path / "t.parquet", frame))
    assert list(back.columns) == ["x"]
    assert list(back["x"]) == [1, 2, 3]


def test_write_parquet_is_byte_deterministic(tmp_path):
    frame = pd.DataFrame({"a": np.linspace(0, 1, 7), "b": list("abcdefg")})
    first = write_parquet(tmp_path / "1.parquet", frame).read_bytes()
    second = write_parquet(tmp_path / "2.parquet", frame).read_bytes()
    assert first == second


# --- write_json / write_jsonl ----------------------------------------------------------

ODD_VALUES = {
    "nan": float("nan"),
    "np_nan": np.float64("nan"),
    "np32_nan": np.float32("nan"),
    "inf": float("inf"),
    "neg_inf": np.float64("-inf"),
    "int64": np.int64(7),
    "int32": np.int32(-3),
    "float64": np.float64(0.25),
    "float32": np.float32(0.5),
    "bool": np.bool_(True),
    "nested": {"list": [1.0, float("nan"), np.int64(2)], "tuple": (np.float64("nan"), 3)},
}
EXPECTED = {
    "nan": None,
    "np_nan": None,
    "np32_nan": None,
    "inf": None,
    "neg_inf": None,
    "int64": 7,
    "int32": -3,
    "float64": 0.25,
    "float32": 0.5,
    "bool": True,
    "nested": {"list": [1.0, None, 2], "tuple": [None, 3]},
}


def assert_plain_types(parsed):
    assert parsed == EXPECTED
    assert type(parsed["int64"]) is int
    assert type(parsed["int32"]) is int
    assert type(parsed["float32"]) is float
    assert type(parsed["bool"]) is bool


def test_write_json_nan_as_null_numpy_as_numbers(tmp_path):
    path = write_json(tmp_path / "s.json", ODD_VALUES)
    text = path.read_text()
    assert "NaN" not in text
    assert "Infinity" not in text
    assert text.endswith("\n")
    assert_plain_types(json.loads(text))
    assert listing(tmp_path) == ["s.json"]


def test_write_jsonl_one_record_per_line(tmp_path):
    records = [ODD_VALUES, {"tick": np.int64(1), "fine": np.float64(951.5)}, {}]
    path = write_jsonl(tmp_path / "e.jsonl", records)
    text = path.read_text()
    assert "NaN" not in text
    lines = text.splitlines()
    assert len(lines) == 3
    assert text.endswith("\n")
    parsed = [json.loads(line) for line in lines]
    assert_plain_types(parsed[0])
    assert parsed[1] == {"tick": 1, "fine": 951.5}
    assert type(parsed[1]["tick"]) is int
    assert parsed[2] == {}


def test_write_jsonl_empty_is_empty_file(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", iter([]))
    assert path.read_bytes() == b""


def test_write_json_rejects_unknown_objects(tmp_path):
    with pytest.raises(TypeError):
        write_json(tmp_path / "s.json", {"x": object()})
    assert listing(tmp_path) == []


# --- config_hash -----------------------------------------------------------------------


def test_config_hash_is_stable_across_key_order():
    a = {"seed": 0, "ticks": 10, "population": {"n_users": 300, "deposit_rate": 0.15}}
    b = {"population": {"deposit_rate": 0.15, "n_users": 300}, "ticks": 10, "seed": 0}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) == config_hash(json.loads(json.dumps(a)))
    digest = config_hash(a)
    assert len(digest) == 16
    int(digest, 16)  # hex


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"ticks": 11},
        {"population": {"n_users": 300, "deposit_rate": 0.150001}},
        {"population": {"n_users": 301, "deposit_rate": 0.15}},
        {"extra": None},
    ],
)
def test_config_hash_changes_with_a_value(change):
    base = {"seed": 0, "ticks": 10, "population": {"n_users": 300, "deposit_rate": 0.15}}
    assert config_hash({**base, **change}) != config_hash(base)


def test_config_hash_of_composed_configs():
    from sim.compose import compose_config
    from sim.config import config_dict

    one = config_dict(compose_config(["ticks=10"]))
    two = config_dict(compose_config(["ticks=10"]))
    other = config_dict(compose_config(["ticks=10", "regulator.penalty=0.02"]))
    assert config_hash(one) == config_hash(two)
    assert config_hash(one) != config_hash(other)
