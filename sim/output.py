"""Writing a run's files: each written whole or not at all.

Every writer puts its bytes in a temporary file in the destination folder, flushes and
fsyncs it, then ``os.replace``-s it onto the final name, so a reader (or a resumed
sweep) never sees half a file, even after a SIGKILL.
"""

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _file_mode() -> int:
    """The mode a plain ``open`` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; outputs are shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _default(value: Any) -> Any:
    """JSON for numpy scalars and other simple non-JSON types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any, **kwargs: Any) -> str:
    """JSON text that accepts numpy scalars; NaN becomes ``null``."""
    return json.dumps(_nan_to_none(data), default=_default, allow_nan=False, **kwargs)


def _nan_to_none(data: Any) -> Any:
    if isinstance(data, float | np.floating) and not np.isfinite(data):
        return None
    if isinstance(data, Mapping):
        return {k: _nan_to_none(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_nan_to_none(v) for v in data]
    return data


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return atomic_write_bytes(path, (to_json(data, indent=2, sort_keys=True) + "\n").encode())


def write_jsonl(path: str | os.PathLike, records: Iterable[Mapping[str, Any]]) -> Path:
    """Write one JSON object per line, atomically."""
    text = "".join(to_json(r, sort_keys=True) + "\n" for r in records)
    return atomic_write_bytes(path, text.encode())


def write_parquet(path: str | os.PathLike, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet (pyarrow, no index), atomically."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=False)
    return atomic_write_bytes(path, buffer.getvalue())


def config_hash(config: Mapping[str, Any]) -> str:
    """A stable short hash of a config: sha256 of its canonical JSON."""
    return hashlib.sha256(to_json(config, sort_keys=True).encode()).hexdigest()[:16]


def read_json(path: str | os.PathLike) -> Any:
    """The JSON in ``path``, or ``None`` if it is missing or not whole JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
