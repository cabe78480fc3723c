"""The examples run (small GENERATED networks, offline) and the notebook's code cells execute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

EXAMPLES = REPO / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FIETSSTAD_EXAMPLE_NODES"] = "1500"
    env["FIETSSTAD_CACHE_DIR"] = str(tmp_path / "cache")
    return env


def test_all_five_scripts_are_there():
    assert SCRIPTS == [
        "01_network.py",
        "02_accessibility.py",
        "03_modal_share.py",
        "04_snelfietspad.py",
        "05_hubs.py",
    ]


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_script_runs(script, tmp_path):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "GENERATED" in out.stdout  # offline runs say they are not on OSM data
    expected = {
        "01_network.py": "network.fsn",
        "04_snelfietspad.py": "snelfietspad.html",
        "05_hubs.py": "hubs.html",
    }.get(script)
    if expected:
        written = tmp_path / "examples-out" / expected
        assert written.stat().st_size > 1000
        if expected.endswith(".html"):
            assert "GENERATED network" in written.read_text()


@pytest.mark.parametrize("script", ["01_network.py", "04_snelfietspad.py"])
def test_example_scripts_take_the_osm_path_with_place(script, tmp_path):
    """``--place`` goes to OpenStreetMap; with the download refused it fails clearly and fast."""
    env = dict(
        os.environ,
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        FIETSSTAD_CACHE_DIR=str(tmp_path / "cache"),
    )
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / script),
            "--place",
            "Gemeente Zwolle, Overijssel, Nederland",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0
    assert "PlaceNotFoundError" in out.stderr and "generate_network" in out.stderr


def test_notebook_outputs_cleared_and_cells_execute(tmp_path):
    nb = json.loads((EXAMPLES / "students_walkthrough.ipynb").read_text())
    assert nb["nbformat"] == 4
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 8
    for c in code:
        assert c.get("outputs", []) == [] and c.get("execution_count") is None
    sources = ["".join(c["source"]) for c in code]
    text = " ".join(sources)
    for step in (
        "generate_network",
        "accessibility",
        "modal_share",
        "evaluate_snelfietspad",
        "place_hubs",
    ):
        assert step in text
    (tmp_path / "cells.json").write_text(json.dumps(sources))
    driver = (
        "import json, sys\n"
        "ns = {'__name__': '__main__'}\n"
        "for i, src in enumerate(json.load(open('cells.json'))):\n"
        "    print(f'--- cell {i}', flush=True)\n"
        "    exec(compile(src, f'<cell {i}>', 'exec'), ns)\n"
        "print('NOTEBOOK OK', ns['net'].is_generated)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", driver],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-1500:] + out.stderr[-3000:]
    assert "NOTEBOOK OK True" in out.stdout
    assert (tmp_path / "walkthrough-out" / "hubs.html").exists()
    assert (tmp_path / "walkthrough-out" / "snelfietspad.html").exists()
