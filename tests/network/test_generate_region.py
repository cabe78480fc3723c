"""The GENERATED regional network of Regio Zwolle: labels, size, rivers, zones and corridors."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

import fietsstad
from fietsstad import ValidationError, settings
from fietsstad._geo import haversine_m
from fietsstad.network.generate import REGION_BRIDGES, REGION_RIVERS, generate_region_network
from fietsstad.scenario.route import Snelfietspad
from fietsstad.zwolle import zwolle_region_zones, zwolle_route_table


@pytest.fixture(scope="module")
def net():
    return generate_region_network(seed=0)


@pytest.fixture(scope="module")
def zones():
    return zwolle_region_zones()


def _segments(net):
    src, dst = net.edge_sources(), net.indices
    return shapely.linestrings(
        np.stack(
            [np.column_stack([net.x[src], net.y[src]]), np.column_stack([net.x[dst], net.y[dst]])],
            axis=1,
        )
    )


def test_labelled_generated_everywhere(net):
    assert net.meta["source"] == "generated" and net.meta["generated"] is True
    assert net.meta["region"] is True and net.is_generated
    assert net.meta["description"].startswith("GENERATED regional network")
    assert net.describe().splitlines()[0].startswith("GENERATED")
    assert "generated" in repr(net)
    assert net.summary()["generated"] is True
    assert "GENERATED" in net._repr_html_()
    assert fietsstad.generate_region_network is generate_region_network
    assert fietsstad.network.generate_region_network is generate_region_network


def test_default_size_and_strong_connectivity(net):
    assert 15_000 <= net.n_nodes <= 30_000
    a = csr_matrix(
        (np.ones(net.n_edges), net.indices, net.indptr), shape=(net.n_nodes, net.n_nodes)
    )
    ncomp, _ = connected_components(a, directed=True, connection="strong")
    assert ncomp == 1


def test_deterministic_by_seed():
    a = generate_region_network(4_000, seed=3)
    b = generate_region_network(4_000, seed=3)
    c = generate_region_network(4_000, seed=4)
    for name in ("x", "y", "indptr", "indices", "length", "travel_time", "infra", "delay"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.meta == b.meta
    assert not (a.n_nodes == c.n_nodes and np.array_equal(a.x, c.x))


def test_one_town_per_municipality_at_its_point(net, zones):
    towns = {t["code"]: t for t in net.meta["towns"]}
    assert set(towns) == set(zones["gemeente_code"]) and len(towns) == 22
    gem = zones[zones["kind"] == "gemeente"]
    for z in gem.itertuples():
        t = towns[z.zone_id]
        assert (t["lon"], t["lat"]) == (z.lon, z.lat)
        d = haversine_m(net.x, net.y, np.full(net.n_nodes, z.lon), np.full(net.n_nodes, z.lat))
        # a grid sized by inhabitants: more people, more street nodes within 1 km (sanity)
        assert (d < 1_000).sum() >= 20, z.name
    sizes = {t["name"]: t["grid_nodes"] for t in net.meta["towns"]}
    assert (
        sizes["Zwolle"] > sizes["Deventer"] > sizes["Kampen"] > sizes["Dalfsen"] > sizes["Hattem"]
    )


def test_every_zone_point_snaps(net, zones):
    nodes, dist = net.snap(zones["lon"].to_numpy(), zones["lat"].to_numpy(), return_distance=True)
    assert dist.max() <= settings.snap_max_distance_m
    assert dist.max() < 150.0  # measured 86 m with the default network
    # the GeoDataFrame itself (polygons, snapped at their representative point) snaps too; for a
    # municipality that point is the shipped lon/lat up to rounding (< 1 m), so both ways pick
    # the same node or one at most 2 m further (triangle inequality, twice the rounding)
    from_polygons = np.asarray(fietsstad.snap_zones(net, zones))
    gem = (zones["kind"] == "gemeente").to_numpy()
    rp = zones.geometry.representative_point()
    lon, lat = zones["lon"].to_numpy(), zones["lat"].to_numpy()
    assert haversine_m(rp.x.to_numpy(), rp.y.to_numpy(), lon, lat)[gem].max() < 1.0
    d_poly = haversine_m(net.x[from_polygons], net.y[from_polygons], lon, lat)
    assert np.all(d_poly[gem] <= dist[gem] + 2.0)
    assert (from_polygons[gem] == nodes[gem]).mean() > 0.9


def test_rivers_are_crossed_only_at_bridges(net):
    """Independent check with shapely: every edge that touches a river is at a listed bridge."""
    segs = _segments(net)
    bridges = {r: [(b[2], b[3]) for b in REGION_BRIDGES if b[0] == r] for r in REGION_RIVERS}
    for river, pts in REGION_RIVERS.items():
        line = shapely.LineString(pts)
        hit = np.flatnonzero(shapely.intersects(segs, line))
        assert len(hit) >= 2 * len(bridges[river])  # both directions of every bridge
        bx = np.array([p[0] for p in bridges[river]])
        by = np.array([p[1] for p in bridges[river]])
        near_bridge = np.zeros(len(bridges[river]), dtype=bool)
        for e in hit:
            p = shapely.intersection(segs[e], line)
            p = p if p.geom_type == "Point" else p.centroid
            d = haversine_m(np.full(len(bx), p.x), np.full(len(by), p.y), bx, by)
            assert d.min() < 500.0, (river, int(e), p.x, p.y)
            near_bridge[np.argmin(d)] = True
        assert near_bridge.all(), (river, np.array(bridges[river])[~near_bridge])
    assert len(net.meta["bridges"]) == len(REGION_BRIDGES)
    assert all(b["span_m"] is not None for b in net.meta["bridges"])


def test_corridors_reach_their_real_end_points(net):
    routes = zwolle_route_table()
    assert {r["name"] for r in routes} >= {
        "Zwolle-Kampen",
        "Dalfsen-Zwolle",
        "Zwolle-Staphorst-Meppel",
        "Zwolle-Hattem",
    }
    for r in routes:
        wp = np.array(r["waypoints"])
        _, dist = net.snap(wp[:, 0], wp[:, 1], return_distance=True)
        assert dist.max() < 150.0, r["name"]  # the corridor passes through every waypoint
        res = Snelfietspad.from_waypoints(r["waypoints"], name=r["name"]).resolve(net, clip=False)
        assert not res.clipped
        # the laid route follows the waypoints end to end (not cut at a network edge)
        assert 0.95 * res.requested_km <= res.length_km <= 1.3 * res.requested_km, r["name"]


def test_zone_travel_times_equal_scipy(net, zones):
    xy = zones[["lon", "lat"]].to_numpy()
    tt = fietsstad.travel_time_matrix(net, xy, xy, dtype="int32")
    nodes = net.snap(xy[:, 0], xy[:, 1])
    # the oracle sums the engine's integer deciseconds; the matrix rounds half up at the output
    a = csr_matrix(
        (net.travel_time_ticks().astype(np.float64), net.indices, net.indptr),
        shape=(net.n_nodes, net.n_nodes),
    )
    ref = dijkstra(a, directed=True, indices=nodes)[:, nodes].astype(np.int64)
    assert np.array_equal(tt, (ref + 5) // 10)
    names = list(zones["name"])
    # Dalfsen and Kampen to Zwolle's centre: plausible regional cycling times (30-75 min)
    for town in ("Dalfsen", "Kampen"):
        minutes = tt[names.index(town), names.index("Binnenstad")] / 60
        assert 30 < minutes < 75, (town, minutes)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValidationError, match="n_nodes"):
        generate_region_network(100)
    with pytest.raises(ValidationError, match="n_nodes"):
        generate_region_network(True)
    with pytest.raises(ValidationError, match="seed"):
        generate_region_network(3_000, seed=-1)


def test_profile_and_corridor_switches():
    bike = generate_region_network(3_000, seed=2)
    ebike = generate_region_network(3_000, seed=2, profile="ebike")
    assert ebike.profile == "ebike" and ebike.meta["parameters"]["profile"] == "ebike"
    # same streets, faster profile: no edge slower, the total clearly faster
    assert np.array_equal(bike.indices, ebike.indices)
    assert np.all(ebike.travel_time <= bike.travel_time)
    assert ebike.travel_time.sum() < 0.9 * bike.travel_time.sum()
    bare = generate_region_network(3_000, seed=2, corridors=False)
    assert bare.meta["parameters"]["corridors"] is False
    assert "snelfietspad" not in bare.meta["description"]
    assert bare.n_edges < bike.n_edges


def test_save_and_load_keep_the_generated_label(tmp_path):
    net = generate_region_network(3_000, seed=1)
    back = fietsstad.BikeNetwork.load(net.save(tmp_path / "region.npz"))
    assert back.is_generated and back.meta["region"] is True
    assert back.meta["bridges"] == net.meta["bridges"]
    assert np.array_equal(back.travel_time, net.travel_time)
    assert back.describe().splitlines()[0].startswith("GENERATED")
