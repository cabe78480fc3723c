"""Place and polygon loading: osmnx configuration, the network cache, offline failure."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURES_OSM
from fietsstad import BikeNetwork, PlaceNotFoundError, load_network, settings
from fietsstad.network import osm
from fietsstad.network.rules import NODE_TAGS, WAY_TAGS

FIX = FIXTURES_OSM


def _fixture_graph():
    """What osmnx would return for a download: the junctions fixture, read by osmnx."""
    import osmnx as ox

    with osm.osmnx_settings():
        return ox.graph_from_xml(FIX / "junctions.osm", simplify=False, retain_all=True)


def _fail(*args, **kwargs):
    raise AssertionError("the network was used although the cache should have served")


# ------------------------------------------------------------------ osmnx configuration
def test_download_configures_osmnx_and_restores_it(monkeypatch):
    import osmnx as ox

    seen = {}
    before = (list(ox.settings.useful_tags_way), ox.settings.all_oneway, ox.settings.cache_folder)

    def fake_graph_from_place(query, **kw):
        seen.update(
            kw,
            query=query,
            all_oneway=ox.settings.all_oneway,
            tags=set(ox.settings.useful_tags_way),
            node_tags=set(ox.settings.useful_tags_node),
            cache_folder=str(ox.settings.cache_folder),
            use_cache=ox.settings.use_cache,
            timeout=ox.settings.requests_timeout,
            rate=ox.settings.overpass_rate_limit,
        )
        return _fixture_graph()

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    net = load_network(place="Testdorp")
    assert seen["query"] == "Testdorp"
    assert seen["simplify"] is False and seen["retain_all"] is True
    assert seen["custom_filter"] == osm.CUSTOM_FILTER
    assert seen["all_oneway"] is True  # raw oneway tags reach the rules
    assert set(WAY_TAGS) <= seen["tags"] and set(NODE_TAGS) <= seen["node_tags"]
    assert seen["cache_folder"].startswith(str(settings.cache_dir)) and seen["use_cache"]
    assert seen["timeout"] == settings.download_timeout_s and seen["rate"] is False
    after = (list(ox.settings.useful_tags_way), ox.settings.all_oneway, ox.settings.cache_folder)
    assert after == before
    ref = load_network(file=FIX / "junctions.osm")
    np.testing.assert_array_equal(net.node_id, ref.node_id)
    np.testing.assert_array_equal(net.travel_time, ref.travel_time)
    assert net.meta["source"] == "osm" and net.meta["place"] == "Testdorp"
    assert net.meta["generated"] is False and "ODbL" in net.meta["attribution"]


def test_second_load_is_served_from_cache(monkeypatch):
    import osmnx as ox

    calls = []
    monkeypatch.setattr(ox, "graph_from_place", lambda q, **kw: calls.append(q) or _fixture_graph())
    first = load_network(place="Testdorp")
    assert network_cached("Testdorp")
    monkeypatch.setattr(ox, "graph_from_place", _fail)
    second = load_network(place="Testdorp")
    assert calls == ["Testdorp"]
    np.testing.assert_array_equal(first.travel_time, second.travel_time)
    assert second.meta["place"] == "Testdorp"


def network_cached(place, **kw) -> bool:
    return osm.network_cache_path(place, **kw).exists()


def test_prepopulated_cache_needs_no_network(monkeypatch):
    """A network saved under the computed key is served without any download."""
    net = load_network(file=FIX / "junctions.osm")
    path = osm.network_cache_path("Zwolle")
    net.save(path, key=path.stem)  # an entry records its key (issue #13)
    monkeypatch.setattr(osm, "_download_graph", _fail)
    got = load_network(place="Zwolle")
    np.testing.assert_array_equal(got.node_id, net.node_id)
    np.testing.assert_array_equal(got.travel_time, net.travel_time)


def test_cache_key_depends_on_place_profile_and_simplify():
    paths = {
        osm.network_cache_path("Zwolle"),
        osm.network_cache_path("Kampen"),
        osm.network_cache_path("Zwolle", profile="ebike"),
        osm.network_cache_path("Zwolle", simplify=False),
    }
    assert len(paths) == 4
    assert osm.network_cache_path("Zwolle") == osm.network_cache_path("Zwolle")
    assert all(str(p).startswith(str(settings.cache_dir)) for p in paths)


def test_truncated_cache_is_not_trusted(monkeypatch):
    net = load_network(file=FIX / "junctions.osm")
    path = osm.network_cache_path("Zwolle")
    net.save(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    # offline: the corrupt file must not be served; the rebuild fails with the offline error
    monkeypatch.setattr(osm, "_download_graph", _raise_offline)
    with pytest.warns(UserWarning, match="unusable"), pytest.raises(PlaceNotFoundError):
        load_network(place="Zwolle")
    # online again: rebuilt and re-cached
    monkeypatch.setattr(osm, "_download_graph", lambda **kw: _fixture_graph())
    path.write_bytes(raw[: len(raw) // 2])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        rebuilt = load_network(place="Zwolle")
    np.testing.assert_array_equal(rebuilt.travel_time, net.travel_time)
    np.testing.assert_array_equal(BikeNetwork.load(path).travel_time, net.travel_time)


def _raise_offline(**kw):
    raise PlaceNotFoundError("offline (simulated)")


def test_cache_false_always_downloads(monkeypatch):
    calls = []
    monkeypatch.setattr(osm, "_download_graph", lambda **kw: calls.append(kw) or _fixture_graph())
    load_network(place="Testdorp", cache=False)
    load_network(place="Testdorp", cache=False)
    assert len(calls) == 2 and not network_cached("Testdorp")


def test_polygon_in_rd_new_is_reprojected(monkeypatch):
    import geopandas as gpd
    import osmnx as ox
    from shapely.geometry import box

    seen = {}

    def fake(polygon, **kw):
        seen["bounds"] = polygon.bounds
        return _fixture_graph()

    monkeypatch.setattr(ox, "graph_from_polygon", fake)
    # Zwolle centre in Rijksdriehoek (EPSG:28992) metres
    gdf = gpd.GeoDataFrame(geometry=[box(201000, 500000, 205000, 504000)], crs=28992)
    net = load_network(polygon=gdf)
    x0, y0, x1, y1 = seen["bounds"]
    assert 6.0 < x0 < x1 < 6.2 and 52.4 < y0 < y1 < 52.6
    assert net.meta["polygon"].startswith("POLYGON")


def test_zwolle_study_area_polygon_is_accepted(monkeypatch):
    zwolle = importlib.import_module("fietsstad.zwolle")
    import osmnx as ox

    seen = {}
    monkeypatch.setattr(
        ox,
        "graph_from_polygon",
        lambda polygon, **kw: seen.setdefault("p", polygon) and _fixture_graph(),
    )
    load_network(polygon=zwolle.zwolle_study_area())
    assert seen["p"].contains(seen["p"].centroid)


# ------------------------------------------------------------------ offline, for real
_OFFLINE_SCRIPT = """
import sys, fietsstad
try:
    fietsstad.load_network({arg})
except fietsstad.PlaceNotFoundError as err:
    print("PlaceNotFoundError:", err)
    sys.exit(3)
"""


def _run_offline(arg: str, tmp_path: Path, force: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ, FIETSSTAD_CACHE_DIR=str(tmp_path / "cache"))
    if force:  # a proxy that refuses every connection: offline whatever the machine's network
        env.update(
            HTTP_PROXY="http://127.0.0.1:9",
            HTTPS_PROXY="http://127.0.0.1:9",
            http_proxy="http://127.0.0.1:9",
            https_proxy="http://127.0.0.1:9",
            NO_PROXY="",
            no_proxy="",
        )
    # a timeout, not a timing assertion: a hang fails the test instead of blocking the suite
    return subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT.format(arg=arg)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


_BOX = "__import__('shapely.geometry', fromlist=['box']).box(6.08, 52.50, 6.09, 52.51)"


@pytest.mark.parametrize("arg", ["place='Zwolle'", f"polygon={_BOX}"], ids=["place", "polygon"])
def test_offline_place_fails_fast_with_alternatives(tmp_path, arg):
    res = _run_offline(arg, tmp_path, force=True)
    assert res.returncode == 3, res.stderr[-2000:]
    assert "load_network(file=" in res.stdout and "generate_network(" in res.stdout


def _online() -> bool:
    try:
        socket.getaddrinfo("nominatim.openstreetmap.org", 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(_online(), reason="this machine resolves nominatim: not offline")
def test_really_offline_zwolle(tmp_path):
    res = _run_offline("place='Zwolle'", tmp_path, force=False)
    assert res.returncode == 3, res.stderr[-2000:]
    assert "GENERATED" in res.stdout or "generate_network(" in res.stdout


def test_busy_server_fails_instead_of_sleeping(monkeypatch):
    """A Nominatim answering 429 is not retried after osmnx's 55 s pause: one request, then
    PlaceNotFoundError (the hook fietsstad installs turns 429/504 into an error)."""
    import http.server
    import threading

    import osmnx as ox

    hits = []

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            hits.append(self.path)
            # busy once, then an empty answer: without the hook osmnx would sleep 55 s, retry
            # and fail differently (the test then fails instead of hanging)
            body = b"" if len(hits) == 1 else b"[]"
            self.send_response(429 if len(hits) == 1 else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setattr(
            ox.settings, "nominatim_url", f"http://127.0.0.1:{server.server_address[1]}/"
        )
        with pytest.raises(PlaceNotFoundError, match="429"):
            load_network(place="Drukdorp", cache=False)
    finally:
        server.shutdown()
        server.server_close()
    assert len(hits) == 1


def test_cache_path_ignores_surrounding_whitespace():
    assert osm.network_cache_path("  Zwolle ") == osm.network_cache_path("Zwolle")
