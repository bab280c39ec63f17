"""The teaching notebooks: stored clean (fast), and each runs top to bottom (slow).

The slow tests execute every ``notebooks/*.ipynb`` with nbclient on the ``python3`` kernel,
in the notebooks folder, with ``MPLBACKEND=Agg``, and fail on the first cell that raises.
They also check that a notebook writes nothing into the repository (run folders belong in a
temporary directory). Run them alone with ``pytest -m notebook``.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell
KERNEL = "python3"


def _ids(path: Path) -> str:
    return path.stem


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if "__pycache__" not in p.parts}


def test_notebooks_present():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_tour.ipynb",
        "02_sandbox.ipynb",
        "03_rumour_literacy.ipynb",
        "04_policy_shift_boom_bust.ipynb",
        "05_sweep_report.ipynb",
        "06_p2p_rise_and_fall.ipynb",
        "07_jurisdictions.ipynb",
        "08_two_worlds.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_stored_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code cells"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"cell {i} has stored outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
        assert "ExecuteTime" not in cell.get("metadata", {}), f"cell {i} has timing metadata"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    before = _files(NOTEBOOK_DIR)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first cell that fails
    elapsed = time.perf_counter() - started
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, errors
    new = sorted(str(p.relative_to(NOTEBOOK_DIR)) for p in _files(NOTEBOOK_DIR) - before)
    assert not new, f"{path.name} wrote into the repository: {new}"
    print(f"{path.name}: executed in {elapsed:.1f} s")
