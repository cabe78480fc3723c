"""End-to-end tests of ``fietsstad demo`` (small generated networks) and its atomic output."""

from __future__ import annotations

import hashlib
import json

import pytest

from fietsstad import demo as demo_mod
from fietsstad.cli import main
from fietsstad.errors import PlaceNotFoundError

SMALL = ["--nodes", "1500", "--hubs", "3", "--seed", "2"]


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
    net = demo_mod.build_demo_network("generated", nodes=400, seed=1, echo=None)
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
