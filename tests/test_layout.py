"""The package's shape (docs/ARCHITECTURE.md): layers, no import cycles, stable public names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import fietsstad

SRC = Path(fietsstad.__file__).parent


def test_no_import_cycles_and_layers_kept():
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter ([test] extra)")
    import networkx as nx

    graph = grimp.build_graph("fietsstad")
    g = nx.DiGraph()
    for m in graph.modules:
        g.add_node(m)
        for d in graph.find_modules_directly_imported_by(m):
            g.add_edge(m, d)
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"
    # the engine imports nothing of fietsstad but itself, errors and settings
    for m in graph.modules:
        if m.startswith("fietsstad.engine"):
            deps = {
                d
                for d in graph.find_modules_directly_imported_by(m)
                if d.startswith("fietsstad") and not d.startswith("fietsstad.engine")
            }
            assert deps <= {"fietsstad.errors", "fietsstad.settings"}, (m, deps)


def test_at_most_ten_modules_at_the_top():
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= 10, top


_FRESH = """
import importlib, json, pkgutil, types, warnings
warnings.simplefilter("ignore")
import fietsstad
for m in pkgutil.walk_packages(fietsstad.__path__, "fietsstad."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
bad = {}
for name in fietsstad.__all__:
    obj = getattr(fietsstad, name)
    if isinstance(obj, types.ModuleType) and name != "settings":
        bad[name] = obj.__name__
print(json.dumps({"bad": bad, "uptake": float(fietsstad.uptake(5, 0)),
                  "acc": callable(fietsstad.accessibility) and not isinstance(fietsstad.accessibility, types.ModuleType)}))
"""


def test_public_names_are_what_all_says_after_importing_everything():
    """In a fresh interpreter, import every subpackage first: names must not turn into modules."""
    out = subprocess.run(
        [sys.executable, "-c", _FRESH], capture_output=True, text=True, check=True, timeout=300
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["bad"] == {}
    assert res["acc"] is True
    assert 0 < res["uptake"] < 1


def test_moved_module_paths_still_import_with_a_warning():
    import importlib

    for old, new in fietsstad._MOVED.items():
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=new):
            mod = importlib.import_module(old)
        assert mod is importlib.import_module(new)
