"""The refactor of issue 8 changed no behaviour: fingerprints recorded before it still match.

``tests/data/behaviour_fingerprints.json`` holds, for the default run and every library
scenario (plus the regimes, a preset and strategy adaptation), the content hashes of
``timeseries.parquet``, ``platforms.parquet`` and ``events.jsonl`` at 3,000 users. They
were recorded from commit 0c72c3a, before the model's code was reorganised, and every run
here must reproduce them. Float columns are hashed at 33 significant bits (about 10
digits): the old and new code sum one output-only column (``default_rate``'s loan book)
in a different order, which moves it by an ulp; any change of behaviour moves far more.
The tables' content is hashed, not the files' bytes, so a pyarrow version writing other
metadata does not count. Re-record with ``python tests/test_behaviour_unchanged.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.compose import SCENARIO_DIR, compose_config
from sim.files import EVENTS, PLATFORMS, TIMESERIES
from sim.runner import run_simulation

DATA = Path(__file__).with_name("data") / "behaviour_fingerprints.json"
CASES = [f"scenario={p.stem}" for p in sorted(SCENARIO_DIR.glob("*.yaml"))] + [
    "regulator=adaptive",
    "regulator=self_regulation",
    "regulator=laissez_faire",
    "regulator=sandbox_regtech scenario=sandbox_pilot",
    "platforms=laggard",
    "adaptation.enabled=true adaptation.every=13 scenario=p2p_boom_bust",
    "adaptation.enabled=true adaptation.performance=profit",
]


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype.kind == "f":
            mantissa, exponent = np.frexp(frame[name].to_numpy())
            frame[name] = np.ldexp(np.round(mantissa * 2.0**33) / 2.0**33, exponent)
    return frame


def frame_hash(frame: pd.DataFrame) -> str:
    """A hash of a table's columns, dtypes and values (floats at 33 significant bits)."""
    frame = _rounded(frame)
    h = hashlib.sha256()
    h.update(json.dumps([list(frame.columns), [str(t) for t in frame.dtypes]]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return h.hexdigest()[:24]


def fingerprint(case: str) -> dict[str, str]:
    """The hashes of one run of ``case`` (Hydra overrides) at 3,000 users."""
    overrides = [*case.split(), "population.n_users=3000", "output.plot=false"]
    cfg = compose_config([*overrides, "output.progress=false"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        run_simulation(cfg, out)
        return {
            EVENTS: hashlib.sha256((out / EVENTS).read_bytes()).hexdigest()[:24],
            PLATFORMS: frame_hash(pd.read_parquet(out / PLATFORMS)),
            TIMESERIES: frame_hash(pd.read_parquet(out / TIMESERIES)),
        }


RECORDED = json.loads(DATA.read_text())


def test_every_library_scenario_has_a_fingerprint():
    assert sorted(RECORDED) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_outputs_match_the_fingerprints_recorded_before_the_refactor(case):
    assert fingerprint(case) == RECORDED[case]


if __name__ == "__main__":  # re-record (only when a change of behaviour is intended)
    DATA.write_text(json.dumps({c: fingerprint(c) for c in CASES}, indent=1, sort_keys=True))
    print(f"recorded {len(CASES)} fingerprints in {DATA}", file=sys.stderr)
