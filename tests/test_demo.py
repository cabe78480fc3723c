"""End-to-end tests of ``fietsstad demo`` (small generated networks, OSM files) and its atomic output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from fietsstad import demo as demo_mod
from fietsstad.cli import main
from fietsstad.errors import PlaceNotFoundError, ValidationError
from fietsstad.network import generate_network

#: the city alone (a small generated network over the study area); the region: test_demo_region.py
SMALL = ["--area", "zwolle", "--nodes", "1500", "--hubs", "3", "--seed", "2"]


def _offline(*args, **kwargs):
    raise PlaceNotFoundError("could not download OpenStreetMap data (test: offline)")


def _leftovers(parent):
    return [p.name for p in parent.iterdir() if ".partial-" in p.name]


def test_demo_end_to_end_generated(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--network", "generated", *SMALL]) == 0
    stdout = capsys.readouterr().out
    assert "GENERATED NETWORK" in stdout and str(out.resolve()) in stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hubs.html", "manifest.json", "report.md", "snelfietspad.html"]
    report = (out / "report.md").read_text()
    assert "GENERATED" in report
    for key in (
        "route length",
        "directness",
        "minutes saved",
        "bike share change",
        "extra bike trips",
        "car trips replaced",
        "greedy / exact",
    ):
        assert key in report
    # every figure of the scenario table is filled in (no placeholder dashes)
    table = report.split("## Snelfietspad")[1].split("## Mobility hubs")[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and "figure" not in r]
    assert len(rows) >= 10 and not [r for r in rows if "| –" in r or "– %" in r]
    for html in ("snelfietspad.html", "hubs.html"):
        assert "GENERATED network" in (out / html).read_text()
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] is True
    for name, entry in man["files"].items():
        data = (out / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert _leftovers(tmp_path) == []


def test_demo_auto_falls_back_to_generated_loudly(tmp_path, capsys, monkeypatch):
    import fietsstad.network.osm

    monkeypatch.setattr(fietsstad.network.osm, "load_network", _offline)
    out = tmp_path / "auto"
    assert main(["demo", "--out", str(out), "--network", "auto", *SMALL]) == 0
    stdout = capsys.readouterr().out
    assert "GENERATED NETWORK: OpenStreetMap data for Zwolle could not be loaded" in stdout
    assert "GENERATED" in (out / "report.md").read_text()


def test_demo_osm_offline_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import fietsstad.network.osm

    monkeypatch.setattr(fietsstad.network.osm, "load_network", _offline)
    out = tmp_path / "osm"
    assert main(["demo", "--out", str(out), "--network", "osm", *SMALL]) == 1
    assert "could not download" in capsys.readouterr().err
    assert not (out / "manifest.json").exists()
    assert _leftovers(tmp_path) == []


def test_demo_interrupted_leaves_previous_complete_output(tmp_path, capsys, monkeypatch):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--network", "generated", *SMALL]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import fietsstad.maps.draw

    monkeypatch.setattr(fietsstad.maps, "hubs_map", interrupted)
    assert main(["demo", "--out", str(out), "--network", "generated", *SMALL, "--seed", "3"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _leftovers(tmp_path) == []
    # a first run interrupted leaves no output that looks complete
    fresh = tmp_path / "fresh"
    assert main(["demo", "--out", str(fresh), "--network", "generated", *SMALL]) == 130
    assert not (fresh / "manifest.json").exists()
    assert _leftovers(tmp_path) == []


def test_demo_bad_arguments(tmp_path, capsys):
    assert (
        main(
            [
                "demo",
                "--out",
                str(tmp_path / "x"),
                "--route",
                "Nowhere-Zwolle",
                "--network",
                "generated",
                *SMALL,
            ]
        )
        == 1
    )
    assert "unknown route" in capsys.readouterr().err
    assert (
        main(["demo", "--out", str(tmp_path / "x"), "--network", "generated", "--nodes", "5"]) == 1
    )
    with pytest.raises(SystemExit):
        main(["demo", "--network", "bogus"])


def test_build_demo_network_generated_is_marked():
    net = demo_mod.build_demo_network("generated", nodes=400, seed=1, echo=None, area="zwolle")
    assert net.is_generated and net.meta["source"] == "generated"
    assert "Zwolle study area" in net.meta["description"]


def test_demo_keeps_greedy_when_the_milp_times_out(tmp_path, capsys, monkeypatch):
    import fietsstad.hubs.catchments
    from fietsstad.errors import ConvergenceError

    real = fietsstad.hubs.place_hubs

    def slow_exact(*args, **kwargs):
        if kwargs.get("method") == "exact":
            raise ConvergenceError("time limit reached (test)")
        return real(*args, **kwargs)

    monkeypatch.setattr(fietsstad.hubs, "place_hubs", slow_exact)
    out = tmp_path / "d"
    assert main(["demo", "--out", str(out), "--network", "generated", *SMALL]) == 0
    assert "showing the greedy solution" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "not solved within the time limit" in report and "greedy solution" in report
    assert (out / "manifest.json").exists()


# ------------------------------------------------------------------------------ any network
JUNCTIONS = Path(__file__).parent / "fixtures" / "osm" / "junctions.osm"
#: a box in Liechtenstein: far from Zwolle
ELSEWHERE = (9.50, 47.10, 9.56, 47.16)


def _assert_not_zwolle_demo(out, label):
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hubs.html", "manifest.json", "report.md"]  # no snelfietspad map
    report = (out / "report.md").read_text()
    assert report.startswith(f"# fietsstad demo: {label}")
    assert "## Snelfietspad: not evaluated" in report and "does not touch this network" in report
    assert "every one of the" in report and "network nodes weighs 1" in report
    assert "best-connected junctions" in report and "Zwolle Centraal" not in report
    hubs_html = (out / "hubs.html").read_text()
    assert "network nodes" in hubs_html and "junction 1" in report + hubs_html
    man = json.loads((out / "manifest.json").read_text())
    assert sorted(man["files"]) == ["hubs.html", "report.md"]
    for text in (report, hubs_html):
        assert "osm-file:" not in text
    return report, hubs_html


def test_demo_on_an_osm_file(tmp_path, capsys):
    out = tmp_path / "file"
    assert main(["demo", "--file", str(JUNCTIONS), "--out", str(out), "--hubs", "2"]) == 0
    stdout = capsys.readouterr().out
    assert "does not touch this network" in stdout and "GENERATED" not in stdout
    report, hubs_html = _assert_not_zwolle_demo(out, "OpenStreetMap extract junctions.osm")
    assert "OpenStreetMap extract junctions.osm" in hubs_html
    assert "GENERATED" not in report + hubs_html
    assert _leftovers(tmp_path) == []


def test_demo_file_and_network_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--file", str(JUNCTIONS), "--network", "generated"])


def test_run_demo_on_a_caller_network_in_zwolle(tmp_path):
    net = generate_network(1500, seed=2)
    paths = demo_mod.run_demo(tmp_path / "z", net=net, k=2, echo=None)
    assert sorted(paths) == ["hubs.html", "manifest.json", "report.md", "snelfietspad.html"]
    report = paths["report.md"].read_text()
    assert report.startswith("# fietsstad demo: Zwolle") and "GENERATED" in report
    assert "Zwolle Centraal" in report and "not evaluated" not in report


def test_run_demo_on_a_caller_network_elsewhere_replaces_the_old_map(tmp_path):
    out = tmp_path / "d"
    demo_mod.run_demo(out, net=generate_network(1200, seed=1), k=2, echo=None)
    assert (out / "snelfietspad.html").exists()
    net = generate_network(800, seed=1, bbox=ELSEWHERE)
    paths = demo_mod.run_demo(out, net=net, k=3, echo=None)
    assert "snelfietspad.html" not in paths
    # the previous run's snelfietspad map is removed: it does not belong to this network
    report, _ = _assert_not_zwolle_demo(out, "GENERATED network")
    assert "GENERATED network (synthetic" in report


def test_run_demo_rejects_bad_networks(tmp_path):
    with pytest.raises(ValidationError):
        demo_mod.run_demo(tmp_path / "x", net="not a network", echo=None)
    with pytest.raises(ValidationError):
        demo_mod.run_demo(tmp_path / "x", net=generate_network(300), file=JUNCTIONS, echo=None)


def test_network_hub_candidates_are_well_connected_and_spread():
    net = generate_network(2000, seed=3, bbox=ELSEWHERE)
    c = demo_mod.network_hub_candidates(net, n=12)
    assert len(c) == 12 and set(c["kind"]) == {"junction"}
    nodes = [int(n.split("node ")[1].rstrip(")")) for n in c["name"]]
    idx = np.searchsorted(np.sort(net.node_id), nodes)
    idx = np.argsort(net.node_id)[idx]
    assert len(set(idx.tolist())) == 12
    deg = np.bincount(net.edge_sources(), minlength=net.n_nodes) + np.bincount(
        net.indices, minlength=net.n_nodes
    )
    assert deg[idx[0]] == deg.max()  # the best-connected junction comes first
    # spread out: no two candidates within 200 m
    lat0 = np.deg2rad(net.y.mean())
    xm, ym = net.x[idx] * 111_320 * np.cos(lat0), net.y[idx] * 110_574
    d = np.hypot(xm[:, None] - xm[None, :], ym[:, None] - ym[None, :])
    assert d[~np.eye(12, dtype=bool)].min() > 200
    assert not demo_mod.zwolle_applies(net)
    assert demo_mod.zwolle_applies(generate_network(300, seed=3))


def test_demo_on_the_liechtenstein_extract(tmp_path, liechtenstein_pbf):
    out = tmp_path / "li"
    paths = demo_mod.run_demo(out, file=liechtenstein_pbf, k=3, echo=None)
    assert "snelfietspad.html" not in paths
    report, hubs_html = _assert_not_zwolle_demo(
        out, "OpenStreetMap extract liechtenstein-latest.osm.pbf"
    )
    assert "OpenStreetMap extract liechtenstein-latest.osm.pbf" in hubs_html
    assert "GENERATED" not in report + hubs_html
