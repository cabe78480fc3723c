"""``fietsstad network``: summaries of OSM-file and GENERATED networks, JSON, saving, errors."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES_OSM
from fietsstad import BikeNetwork, load_network
from fietsstad.cli import main

FIX = FIXTURES_OSM


def test_file_summary_text(capsys):
    assert main(["network", "--file", str(FIX / "junctions.osm")]) == 0
    out = capsys.readouterr().out
    net = load_network(file=FIX / "junctions.osm")
    assert f"{net.n_nodes:,} nodes" in out and f"{net.n_edges:,} directed edges" in out
    assert "main_road" in out and "cycle_path" in out and "contraflow share" in out
    assert "dropped outside the largest strongly connected component" in out
    assert "OpenStreetMap contributors" in out
    assert "GENERATED" not in out


def test_file_summary_json_and_save(tmp_path, capsys):
    dst = tmp_path / "net.fsa"
    code = main(
        [
            "network",
            "--file",
            str(FIX / "rules.osm"),
            "--profile",
            "ebike",
            "--json",
            "--save",
            str(dst),
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    saved = BikeNetwork.load(dst)
    ref = load_network(file=FIX / "rules.osm", profile="ebike")
    assert summary["nodes"] == saved.n_nodes == ref.n_nodes
    assert summary["edges"] == saved.n_edges == ref.n_edges
    assert summary["profile"] == "ebike" and summary["generated"] is False
    assert summary["saved"] == str(dst)
    np.testing.assert_array_equal(saved.travel_time, ref.travel_time)
    # km by infra adds up to the directed total; contraflow share is length-weighted
    assert sum(summary["km_by_infra"].values()) == pytest.approx(summary["km_directed"], abs=0.01)
    share = ref.length[ref.contraflow].sum() / ref.length.sum()
    assert summary["contraflow_share"] == pytest.approx(share, abs=1e-4) and share > 0


def test_no_simplify_keeps_all_nodes(capsys):
    main(["network", "--file", str(FIX / "junctions.osm"), "--no-simplify", "--json"])
    assert json.loads(capsys.readouterr().out)["nodes"] == 15


def test_generated_says_generated(capsys):
    importlib.import_module("fietsstad.network.generate")
    assert main(["network", "--generated", "400", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "GENERATED" in out.splitlines()[0]
    assert main(["network", "--generated", "400", "--seed", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["generated"] is True and summary["source"] == "generated"
    assert summary["nodes"] > 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "does-not-exist.osm.pbf"], "no such file"),
        (["--file", str(FIX / "no_rideable.osm")], "no way a cyclist may ride"),
    ],
)
def test_errors_exit_1_with_clear_message(args, message, capsys):
    assert main(["network", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fietsstad: error:") and message in err


def test_sources_are_mutually_exclusive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["network", "--file", "a.osm", "--generated", "10"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["network"])


def test_console_script_runs(tmp_path):
    """The installed entry point, as a user runs it (progress bar on stderr, summary on stdout)."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "fietsstad.cli",
            "network",
            "--file",
            str(FIX / "junctions.osm"),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["source"] == "osm-file:junctions.osm"
