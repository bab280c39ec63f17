"""The house: layers that only import downwards, no import cycle, a model that only orchestrates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]

# What TrustModel itself holds: the state it owns and the objects that run the phases.
# Anything else on the model is a value one phase left for another (or a cache).
MODEL_ATTRIBUTES = {
    "cfg",
    "rngs",
    "network",
    "population",
    "regulator",
    "regulators",
    "sharing",
    "market",
    "platforms",
    "resolver",
    "timeline",
    "events",
    "adapters",
    "structure",
    "recorder",
    "datacollector",
}


def test_import_contracts_hold():
    """import-linter's layers and acyclic-siblings contracts (pyproject.toml) are kept."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_sim_has_no_import_cycle():
    """No module of sim/ reaches itself through imports (type-checking imports included)."""
    graph = grimp.build_graph("sim", exclude_type_checking_imports=False)
    edges = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    cycles = [c for c in nx.strongly_connected_components(edges) if len(c) > 1]
    assert cycles == [], cycles


def test_the_model_holds_only_its_state_and_phases(run_model):
    model = run_model("scenario=rumour_rebutted", n_users=300, ticks=60)
    own = {name for name in vars(model) if not name.startswith("_")}
    extra = own - MODEL_ATTRIBUTES - _mesa_attributes()
    assert extra == set(), f"values left on the model: {sorted(extra)}"
    private = {name for name in vars(model) if name.startswith("_")} - _mesa_attributes(True)
    assert private == set(), f"private values on the model: {sorted(private)}"


def _mesa_attributes(private: bool = False) -> set[str]:
    """The (public or private) attributes a bare mesa.Model sets on itself."""
    import mesa

    return {name for name in vars(mesa.Model(rng=0)) if name.startswith("_") == private}
