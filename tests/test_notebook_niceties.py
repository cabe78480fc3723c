"""What osmnx/geopandas users expect in a notebook: HTML reprs, logging, progress bars."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import fietsstad
from fietsstad import settings
from fietsstad.analysis import routing

HOSTILE = "<script>alert(1)</script> {{ 7*7 }} & 'x\""


@pytest.fixture(scope="module")
def generated():
    return fietsstad.generate_network(n_nodes=600, seed=4)


def assert_escaped(html: str) -> None:
    assert "<script>" not in html and "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html  # shown as text, never evaluated by a template
    assert "&amp;" in html


# ------------------------------------------------------------------------------ BikeNetwork
def test_network_html_says_generated_in_red_capitals(generated):
    h = generated._repr_html_()
    assert "GENERATED NETWORK" in h and "color:#c00000" in h
    for fact in ("generated", "profile", "bike", "nodes", f"{generated.n_nodes:,}",
                 "directed edges", f"{generated.n_edges:,}", "km (directed edges)"):  # fmt: skip
        assert fact in h, fact
    s = generated.summary()
    for infra, km in s["km_by_infra"].items():
        assert f"km {infra}" in h and f"{km:,.1f}" in h


def test_osm_network_html_has_provenance_and_no_generated_warning():
    pyrosm = pytest.importorskip("pyrosm")
    net = fietsstad.load_network(file=pyrosm.get_data("test_pbf"))
    h = net._repr_html_()
    assert "GENERATED" not in h and "osm-file:test.osm.pbf" in h and "OpenStreetMap file" in h


def test_network_html_escapes_names_from_osm(generated):
    net = fietsstad.generate_network(n_nodes=100, seed=0)
    net.meta["description"] = HOSTILE
    net.meta["place"] = HOSTILE
    assert_escaped(net._repr_html_())


def test_plain_repr_stays_short(generated):
    r = repr(generated)
    assert "\n" not in r and len(r) < 120 and r.startswith("<BikeNetwork")


# ------------------------------------------------------------------------------ ScenarioResult
def test_scenario_html_headline_numbers_and_escaping(generated, caplog):
    from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad

    route = Snelfietspad.from_waypoints([(6.04, 52.46), (6.10, 52.51), (6.18, 52.57)], name=HOSTILE)
    with caplog.at_level(logging.INFO, logger="fietsstad"):
        res = evaluate_snelfietspad(generated, route)
    assert any(r.name == "fietsstad.scenario" and "scenario evaluation: done in" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    h = res._repr_html_()
    assert_escaped(h)
    s = res.summary
    assert "GENERATED NETWORK" in h  # the generated warning, in capitals
    assert f"{s['extra_bike_trips_per_day']:,.0f}" in h
    assert f"{s['co2_avoided_kg_per_day']:,.0f} kg" in h
    assert f"{s['route_length_km']:.1f} km" in h
    r = repr(res)
    assert "\n" not in r and len(r) < 200 and r.startswith("<ScenarioResult GENERATED")


# ------------------------------------------------------------------------------ HubPlacement
def test_hub_html_lists_hubs_escaped(generated):
    from fietsstad.hubs import hub_candidates, place_hubs

    cands = hub_candidates(generated.x[:3], generated.y[:3], names=[HOSTILE, "b", "c"])
    pl = place_hubs(generated, cands, np.ones(generated.n_nodes), k=3)
    h = pl._repr_html_()
    assert_escaped(h)
    for fact in ("k (new hubs)", "greedy", "covered population", "share covered",
                 f"{100 * pl.share_covered:.1f} %", "GENERATED NETWORK"):  # fmt: skip
        assert fact in h, fact
    assert h.count("hub ") >= len(pl.hubs)
    r = repr(pl)
    assert "\n" not in r and len(r) < 120 and r.startswith("<HubPlacement")


# ------------------------------------------------------------------------------ logging
@pytest.fixture
def console(monkeypatch):
    monkeypatch.setattr(settings, "log_console", True)
    monkeypatch.setattr(settings, "progress", False)
    return settings


def test_log_console_off_by_default_prints_nothing(generated, capsys, monkeypatch):
    assert settings.log_console is False
    monkeypatch.setattr(settings, "progress", False)
    fietsstad.travel_time_matrix(generated, [0, 1], [2, 3])
    assert capsys.readouterr().err == ""


def test_log_console_prints_start_and_end_with_seconds(generated, capsys, console):
    fietsstad.travel_time_matrix(generated, [0, 1], [2, 3])
    err = capsys.readouterr().err
    assert "fietsstad.analysis INFO travel-time matrix 2 x 2: started" in err
    assert "travel-time matrix 2 x 2: done in" in err and " s" in err


def test_log_console_handler_added_once(generated, capsys, console):
    for _ in range(3):
        fietsstad.travel_time_matrix(generated, [0], [1])
    handlers = [h for h in logging.getLogger("fietsstad").handlers
                if isinstance(h, settings._ConsoleHandler)]  # fmt: skip
    assert len(handlers) == 1
    assert capsys.readouterr().err.count("travel-time matrix 1 x 1: started") == 3


def test_records_go_through_standard_logging(generated, caplog, monkeypatch):
    monkeypatch.setattr(settings, "progress", False)
    with caplog.at_level(logging.INFO, logger="fietsstad"):
        fietsstad.accessibility(generated, np.ones(generated.n_nodes), cutoff_s=300)
    msgs = [(r.name, r.getMessage()) for r in caplog.records]
    assert any(n == "fietsstad.analysis" and "accessibility of" in m and "started" in m
               for n, m in msgs)  # fmt: skip
    assert any("accessibility of" in m and "done in" in m for _, m in msgs)


def test_modal_share_logs(generated, caplog, monkeypatch):
    from fietsstad.demand import modal_share

    monkeypatch.setattr(settings, "progress", False)
    t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)
    z = pd.DataFrame({"productions": [100.0, 100.0], "attractions": [100.0, 100.0]})
    with caplog.at_level(logging.INFO, logger="fietsstad"):
        modal_share(t, z, distances=d)
    assert any(r.name == "fietsstad.demand" and "modal share of 2 zones: done in" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_numba_note_once_per_process(generated, caplog, monkeypatch):
    from fietsstad.engine._dijkstra import dijkstra_matrix

    monkeypatch.setattr(routing, "_COMPILE_NOTED", [])
    compiled = bool(dijkstra_matrix.signatures)
    with caplog.at_level(logging.INFO, logger="fietsstad"):
        for _ in range(2):
            fietsstad.travel_time_matrix(generated, [0], [1])
    notes = [r for r in caplog.records if "compiling numba kernels" in r.getMessage()]
    assert len(notes) == (0 if compiled else 1)
    assert routing._COMPILE_NOTED == [True]


# ------------------------------------------------------------------------------ progress
@pytest.mark.parametrize("progress", [True, False])
def test_modal_share_bar_respects_settings_progress(capsys, monkeypatch, progress):
    from fietsstad.demand import modal_share

    monkeypatch.setattr(settings, "progress", progress)
    t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)
    z = pd.DataFrame({"productions": [1.0, 1.0], "attractions": [1.0, 1.0]})
    modal_share(t, z, distances=d)
    assert ("modal share" in capsys.readouterr().err) == progress


@pytest.mark.parametrize(
    ("kw", "origins", "destinations"),
    [
        ({}, None, None),
        ({"dtype": "int32", "with_distance": True}, None, None),
        ({"dtype": "float32", "cutoff_s": 300, "method": "dijkstra"}, np.arange(0, 590, 2), None),
        ({"with_distance": True, "method": "phast"}, np.arange(589, -1, -1), [5, 0, 5, 9]),
    ],
)
def test_matrix_bar_gives_the_one_call_matrix(generated, capsys, monkeypatch, kw, origins,
                                              destinations):  # fmt: skip
    monkeypatch.setattr(settings, "progress", False)
    one = fietsstad.travel_time_matrix(generated, origins, destinations, positions=True, **kw)
    assert capsys.readouterr().err == ""
    # the bar's thresholds, scaled down to this small network: several blocks of rows
    monkeypatch.setattr(routing, "PROGRESS_MIN_SOURCES", 10)
    monkeypatch.setattr(routing, "PROGRESS_MIN_CELLS", 0)
    monkeypatch.setattr(routing, "PROGRESS_MIN_BLOCK", 7)
    monkeypatch.setattr(settings, "progress", True)
    blocked = fietsstad.travel_time_matrix(generated, origins, destinations, positions=True, **kw)
    assert "travel-time matrix" in capsys.readouterr().err
    for a, b in zip(one if isinstance(one, tuple) else (one,),
                    blocked if isinstance(blocked, tuple) else (blocked,)):  # fmt: skip
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
