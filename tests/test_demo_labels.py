"""The demo says GENERATED wherever it names a generated network: messages, progress bar, report."""

from __future__ import annotations

from fietsstad import demo as demo_mod
from fietsstad import settings
from fietsstad.network import generate_network

ELSEWHERE = (9.50, 47.10, 9.56, 47.16)  # not Zwolle: no snelfietspad, hubs on junctions (fast)


def test_a_caller_generated_network_is_named_generated_in_messages_bar_and_report(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(settings, "progress", True)
    said: list[str] = []
    net = generate_network(600, seed=3, bbox=ELSEWHERE)
    paths = demo_mod.run_demo(tmp_path / "d", net=net, k=2, echo=said.append)
    assert any(s.startswith("Network: GENERATED network, ") for s in said), said
    assert "fietsstad demo (GENERATED network)" in capsys.readouterr().err
    assert "GENERATED network (synthetic" in paths["report.md"].read_text()


def test_a_caller_osm_network_is_not_called_generated(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(settings, "progress", True)
    said: list[str] = []
    net = generate_network(600, seed=3, bbox=ELSEWHERE)
    net.meta.update(generated=False, source="osm-file:somewhere.osm.pbf", description="an extract")
    assert not net.is_generated
    paths = demo_mod.run_demo(tmp_path / "d", net=net, k=2, echo=said.append)
    assert any(s.startswith("Network: OpenStreetMap extract somewhere.osm.pbf") for s in said)
    assert "GENERATED" not in capsys.readouterr().err + paths["report.md"].read_text()
