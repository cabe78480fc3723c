"""File input: every format gives the same network, junction delays, split ways, bad input."""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import osmium
import pytest

from conftest import FIXTURES_OSM
from fietsstad import (
    CRSError,
    InputFileError,
    NoRideableNetworkError,
    ValidationError,
    get_profile,
    load_network,
)
from fietsstad.network import travel_time_seconds
from fietsstad.network.osm import network_from_graph, osmnx_settings

FIX = FIXTURES_OSM


def convert(src: Path, dst: Path) -> Path:
    """Write ``src`` in the format of ``dst``'s extension with pyosmium's writer."""
    with osmium.SimpleWriter(str(dst), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return dst


def assert_same_network(a, b):
    assert a.n_nodes == b.n_nodes and a.n_edges == b.n_edges
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_allclose(a.x, b.x, atol=1e-7)
    np.testing.assert_allclose(a.y, b.y, atol=1e-7)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.length, b.length, rtol=1e-5)
    for k in ("travel_time", "delay", "infra", "contraflow", "unpaved", "way_id", "node_signal"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)


# ------------------------------------------------------------------ same tags, same network
@pytest.mark.parametrize("fixture", ["rules.osm", "junctions.osm"])
@pytest.mark.parametrize("suffix", [".osm.bz2", ".osm.pbf", ".osm.gz"])
@pytest.mark.parametrize("simplify", [False, True])
def test_xml_bz2_pbf_give_identical_networks(tmp_path, fixture, suffix, simplify):
    ref = load_network(file=FIX / fixture, simplify=simplify)
    other = convert(FIX / fixture, tmp_path / (Path(fixture).stem + suffix))
    net = load_network(file=other, simplify=simplify)
    assert_same_network(ref, net)
    assert net.meta["source"] == f"osm-file:{other.name}"


def test_pbf_really_is_binary(tmp_path):
    p = convert(FIX / "rules.osm", tmp_path / "r.osm.pbf")
    assert b"<osm" not in p.read_bytes()[:200]
    b = convert(FIX / "rules.osm", tmp_path / "r.osm.bz2")
    assert bz2.decompress(b.read_bytes()).lstrip().startswith(b"<?xml")


@pytest.mark.parametrize("fixture", ["rules.osm", "junctions.osm"])
def test_osmnx_graph_and_graphml_give_identical_networks(tmp_path, fixture):
    """An osmnx graph built with fietsstad's osmnx settings, directly or via .graphml."""
    import osmnx as ox

    ref = load_network(file=FIX / fixture)
    with osmnx_settings():
        G = ox.graph_from_xml(FIX / fixture, simplify=False, retain_all=True)
    assert_same_network(ref, network_from_graph(G))
    ox.save_graphml(G, tmp_path / "g.graphml")
    assert_same_network(ref, load_network(file=tmp_path / "g.graphml"))


def test_plain_osmnx_graph_keeps_oneway_directions(tmp_path):
    """A graph from osmnx's default settings (boolean oneway, osmnx-reversed oneway=-1)."""
    import osmnx as ox

    G = ox.graph_from_xml(FIX / "rules.osm", simplify=False, retain_all=True)
    net = network_from_graph(G, simplify=False)
    ref = load_network(file=FIX / "rules.osm", simplify=False)
    src = net.node_id[net.edge_sources()]
    dst = net.node_id[net.indices]
    for name_way, a in {"oneway=yes": 1034, "oneway=-1": 1035}.items():
        wid = 100 + int(a) - 1001  # test way k has middle node 1001+k
        sel = net.way_id == wid
        pairs = set(zip(src[sel].tolist(), dst[sel].tolist()))
        ref_sel = ref.way_id == wid
        ref_pairs = set(
            zip(
                ref.node_id[ref.edge_sources()][ref_sel].tolist(),
                ref.node_id[ref.indices][ref_sel].tolist(),
            )
        )
        assert pairs == ref_pairs and len(pairs) == 2, name_way


# ------------------------------------------------------------------ junction delays
@pytest.fixture(scope="module", params=[False, True], ids=["full", "simplified"])
def junctions(request):
    return load_network(file=FIX / "junctions.osm", simplify=request.param)


def _delays_into(net, node):
    i = int(np.flatnonzero(net.node_id == node)[0])
    src = net.edge_sources()
    sel = np.flatnonzero(net.indices == i)
    return {int(net.node_id[src[e]]): int(net.delay[e]) for e in sel}


def test_signal_delay_on_every_edge_into_signal(junctions):
    assert _delays_into(junctions, 2003) == {2002: 20, 2004: 20, 2301: 20, 2302: 20}
    # the mid-block signal stays a node even after simplification
    assert _delays_into(junctions, 2005) == {2004: 20, 2006: 20}
    assert set(junctions.node_id[junctions.node_signal].tolist()) == {2003, 2005}


def test_crossing_delay_only_from_minor_way(junctions):
    assert _delays_into(junctions, 2002) == {2001: 0, 2003: 0, 2101: 6, 2102: 6}
    assert _delays_into(junctions, 2004) == {2003: 0, 2005: 0, 2201: 6}
    # main road where cycling is forbidden still costs a crossing delay
    into_2502 = _delays_into(junctions, 2502)
    assert set(into_2502.values()) == {6} and 2503 in into_2502
    # minor meets minor: no delay
    assert set(_delays_into(junctions, 2102).values()) == {0}


def test_travel_time_is_length_over_speed_plus_delay(junctions):
    bike = get_profile("bike")
    speed = np.array([bike.speed(i, u) for i, u in zip(junctions.infra, junctions.unpaved)])
    expect = (
        np.maximum(
            np.rint(junctions.length.astype(np.float64) * 36.0 / speed + junctions.delay * 10.0), 1
        )
        / 10
    )  # 0.1 s per edge (issue #12)
    np.testing.assert_array_equal(junctions.travel_time, expect)
    gravel = junctions.way_id == 505
    assert gravel.any() and junctions.unpaved[gravel].all()
    assert np.allclose(junctions.speed_kmh[gravel], bike.speed(3) * bike.unpaved_factor)


def test_other_profile_changes_delays_and_speeds():
    spd = get_profile("speed_pedelec")
    net = load_network(file=FIX / "junctions.osm", profile="speed_pedelec")
    assert _delays_into(net, 2002)[2101] == round(spd.crossing_delay_s)
    assert _delays_into(net, 2003)[2002] == round(spd.signal_delay_s)
    bike = load_network(file=FIX / "junctions.osm")
    np.testing.assert_array_equal(bike.with_profile("speed_pedelec").travel_time, net.travel_time)
    np.testing.assert_array_equal(
        net.travel_time, travel_time_seconds(net.length, net.speed_kmh, net.delay)
    )


def test_simplified_lengths_are_sums_of_segments():
    """Haversine lengths: a merged edge is as long as the segments it replaced."""
    full = load_network(file=FIX / "junctions.osm", simplify=False)
    simp = load_network(file=FIX / "junctions.osm", simplify=True)
    assert simp.n_nodes == full.n_nodes - 1  # only node 2501 is interstitial
    assert np.isclose(simp.length.sum(), full.length.sum(), rtol=1e-6)
    # 2102 -> 2502 (via 2501): 0.004 degrees of latitude
    i, j = (int(np.flatnonzero(simp.node_id == n)[0]) for n in (2102, 2502))
    e = simp.indptr[i] + int(
        np.flatnonzero(simp.indices[simp.indptr[i] : simp.indptr[i + 1]] == j)[0]
    )
    assert simp.length[e] == pytest.approx(6371008.8 * np.deg2rad(0.004), rel=1e-5)
    assert simp.delay[e] == 6
    geom = simp.edge_geometry(int(e))
    assert len(geom) == 3 and np.allclose(geom[1], [6.083, 52.514])


def test_meta_says_osm_not_generated(junctions):
    m = junctions.meta
    assert m["generated"] is False and junctions.is_generated is False
    assert m["source"] == "osm-file:junctions.osm"
    assert "OpenStreetMap" in m["attribution"] and "ODbL" in m["attribution"]
    assert m["rules_version"]
    assert "GENERATED" not in junctions.describe()


# ------------------------------------------------------------------ split ways
def test_way_with_missing_node_is_split():
    net = load_network(file=FIX / "missing_nodes.osm", simplify=False)
    assert sorted(net.node_id.tolist()) == [1, 2, 3, 4]
    pairs = set(zip(net.node_id[net.edge_sources()].tolist(), net.node_id[net.indices].tolist()))
    assert (2, 3) not in pairs and (3, 2) not in pairs
    assert {(1, 2), (2, 1), (3, 4), (4, 3), (4, 1), (1, 4)} == pairs
    assert net.meta["missing_node_refs"] == 1


# ------------------------------------------------------------------ bad input
def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        load_network(file=tmp_path / "nope.osm.pbf")


@pytest.mark.parametrize("name", ["area.shp", "area.txt", "area.geojson", "area"])
def test_unknown_extension(tmp_path, name):
    p = tmp_path / name
    p.write_text("x")
    with pytest.raises(InputFileError, match="unknown file type"):
        load_network(file=p)


def test_directory_is_not_a_file(tmp_path):
    d = tmp_path / "dir.osm"
    d.mkdir()
    with pytest.raises(InputFileError, match="not a regular file"):
        load_network(file=d)


@pytest.mark.parametrize("name", ["empty.osm", "empty.osm.pbf", "empty.graphml"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        load_network(file=tmp_path / name)


def test_truncated_pbf(tmp_path):
    full = convert(FIX / "rules.osm", tmp_path / "full.osm.pbf").read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputFileError, match="truncated or corrupt"):
        load_network(file=cut)


def test_garbage_pbf(tmp_path):
    p = tmp_path / "junk.osm.pbf"
    p.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(InputFileError):
        load_network(file=p)


def test_corrupt_xml(tmp_path):
    text = (FIX / "rules.osm").read_text()
    p = tmp_path / "broken.osm"
    p.write_text(text[: len(text) // 2])
    with pytest.raises(InputFileError, match="truncated or corrupt"):
        load_network(file=p)


def test_corrupt_bz2(tmp_path):
    p = tmp_path / "broken.osm.bz2"
    p.write_bytes(bz2.compress(b"<osm version='0.6'><node id='1' lat='x")[:-10])
    with pytest.raises(InputFileError):
        load_network(file=p)


def test_corrupt_graphml(tmp_path):
    p = tmp_path / "broken.graphml"
    p.write_text("<?xml version='1.0'?><graphml><graph edgedefault='directed'><node id='1'>")
    with pytest.raises(InputFileError, match="graphml"):
        load_network(file=p)


def test_no_rideable_ways():
    with pytest.raises(NoRideableNetworkError, match="no way a cyclist may ride"):
        load_network(file=FIX / "no_rideable.osm")


def test_exactly_one_source(tmp_path):
    with pytest.raises(ValidationError, match="exactly one"):
        load_network()
    with pytest.raises(ValidationError, match="exactly one"):
        load_network("Zwolle", file=FIX / "rules.osm")


def test_unknown_profile():
    with pytest.raises(ValidationError, match="unknown profile"):
        load_network(file=FIX / "rules.osm", profile="unicycle")


def test_polygon_in_projected_coordinates_is_refused():
    from shapely.geometry import box

    with pytest.raises(CRSError, match="lon/lat"):
        load_network(polygon=box(200000, 500000, 205000, 505000))  # RD New metres, no CRS


def test_geodataframe_without_crs_is_refused():
    import geopandas as gpd
    from shapely.geometry import box

    with pytest.raises(CRSError, match="no CRS"):
        load_network(polygon=gpd.GeoDataFrame(geometry=[box(6.0, 52.4, 6.2, 52.6)]))


def test_simplified_osmnx_graph_is_read_approximately():
    """A graph osmnx already simplified: merged edges become ways through their geometry.

    Known loss: a signal on an interstitial node, removed by osmnx, cannot be recovered.
    """
    import osmnx as ox

    from fietsstad.network.rules import classify_way

    with osmnx_settings():
        G = ox.graph_from_xml(FIX / "junctions.osm", simplify=True, retain_all=True)
    net = network_from_graph(G, simplify=False)
    ref = load_network(file=FIX / "junctions.osm", simplify=False)
    tags = {
        int(d["osmid"] if not isinstance(d["osmid"], list) else d["osmid"][0]): {
            k: v for k, v in d.items() if isinstance(v, str)
        }
        for _, _, d in G.edges(data=True)
    }
    assert all(classify_way(tags[int(w)]).rideable for w in np.unique(net.way_id))
    assert net.length.sum() == pytest.approx(ref.length.sum(), rel=1e-3)
    # osmnx's own simplification removed the mid-block signal node 2005 (interstitial for
    # osmnx), so its two signal delays are lost: simplify with fietsstad, not before it
    assert 2005 not in net.node_id and 2005 in ref.node_id
    assert (net.delay > 0).sum() == (ref.delay > 0).sum() - 2
