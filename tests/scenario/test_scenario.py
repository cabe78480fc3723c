"""Snelfietspad scenarios: definition, resolution, upgrade, evaluation (fietsstad.scenario)."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import fietsstad
from fietsstad.errors import InputFileError, SnappingError, ValidationError
from fietsstad.network import BikeNetwork, Infra, get_profile
from fietsstad.scenario import (
    Snelfietspad,
    Upgrade,
    evaluate_snelfietspad,
    haversine_m,
    zwolle_routes,
)
from fietsstad.zwolle import ZWOLLE_BBOX

LAT_M = 111_194.93  # metres per degree of latitude on the fietsstad sphere (R = 6 371 008.8 m)


def _scipy_all_pairs(net: BikeNetwork, sources=None) -> np.ndarray:
    """Independent oracle: scipy Dijkstra on the minimum weight of each (u, v) pair.

    Summed in integer deciseconds (the engine's ticks), then divided by 10: seconds.
    """
    src = net.edge_sources()
    best: dict[tuple[int, int], int] = {}
    for a, b, w in zip(src.tolist(), net.indices.tolist(), net.travel_time_ticks().tolist()):
        best[(a, b)] = min(w, best.get((a, b), w))
    keys = list(best)
    A = csr_matrix(
        ([best[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
        shape=(net.n_nodes, net.n_nodes),
    )
    return dijkstra(A, directed=True, indices=sources) / 10


def _ladder(
    n_rows=2, n=11, dlat=0.0009, gap_lon=0.004, bridge=False, signal_at=None, crossing_at=None
):
    """Hand-made network: ``n_rows`` straight north-south streets of ``n`` nodes, 100 m apart.

    Consecutive streets are ``gap_lon`` apart and joined only at their northern ends (a long way
    round), or not at all for the last pair unless ``bridge``.
    """
    xs, ys, us, vs, lens = [], [], [], [], []
    for r in range(n_rows):
        for i in range(n):
            xs.append(6.05 + r * gap_lon)
            ys.append(52.50 + i * dlat)
    for r in range(n_rows):
        for i in range(n - 1):
            a, b = r * n + i, r * n + i + 1
            us += [a, b]
            vs += [b, a]
            lens += [dlat * LAT_M] * 2
    for r in range(n_rows - 1):
        if r < n_rows - 2 or bridge:
            a, b = r * n + n - 1, (r + 1) * n + n - 1
            d = float(haversine_m(xs[a], ys[a], xs[b], ys[b]))
            us += [a, b]
            vs += [b, a]
            lens += [d, d]
    m = len(us)
    delay = np.zeros(m, dtype=np.int32)
    sig = np.zeros(len(xs), dtype=bool)
    vs_a = np.array(vs)
    if signal_at is not None:
        sig[signal_at] = True
        delay[vs_a == signal_at] = 20
    if crossing_at is not None:
        delay[vs_a == crossing_at] = 6
    return BikeNetwork.from_edges(
        x=np.array(xs),
        y=np.array(ys),
        node_id=np.arange(len(xs)),
        u=np.array(us),
        v=vs_a,
        length=np.array(lens),
        infra=np.full(m, 3),
        delay=delay,
        node_signal=sig,
        way_id=np.arange(m) // 2 + 1000,
        meta={"source": "test"},
    )


def _zones_at(net: BikeNetwork, nodes, pops) -> gpd.GeoDataFrame:
    nodes = np.asarray(nodes)
    return gpd.GeoDataFrame(
        {"name": [f"z{i}" for i in range(len(nodes))], "population": pops},
        geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def gen():
    return fietsstad.generate_network(n_nodes=1500, seed=4)


@pytest.fixture(scope="module")
def gen_route():
    return Snelfietspad.from_waypoints(
        [(6.04, 52.46), (6.10, 52.51), (6.18, 52.57)], name="diagonal"
    )


# --------------------------------------------------------------------------------- upgrade
def test_upgrade_changes_only_route_edges(gen, gen_route):
    snapshot = {
        k: getattr(gen, k).copy() for k in ("travel_time", "infra", "delay", "speed_kmh", "indices")
    }
    r = gen_route.resolve(gen)
    after = r.network
    for k, v in snapshot.items():  # input untouched
        np.testing.assert_array_equal(getattr(gen, k), v)
    assert after is not gen and len(r.changed_edges) > 0 and len(r.added_edges) == 0
    assert after.n_edges == gen.n_edges
    b2a = r.before_to_after
    route_before = np.isin(b2a, r.changed_edges)
    # same topology
    np.testing.assert_array_equal(after.edge_sources()[b2a], gen.edge_sources())
    np.testing.assert_array_equal(after.indices[b2a], gen.indices)
    for k in ("travel_time", "infra", "delay", "speed_kmh", "unpaved", "length", "way_id"):
        np.testing.assert_array_equal(
            getattr(after, k)[b2a][~route_before], getattr(gen, k)[~route_before], err_msg=k
        )
    assert np.all(after.infra[r.changed_edges] == Infra.FAST_ROUTE)
    # travel time recomputed from the new speed / delay
    e = r.changed_edges
    length, speed = after.length[e].astype(np.float64), after.speed_kmh[e].astype(np.float64)
    expect = np.maximum(np.rint(length * 36 / speed + after.delay[e] * 10.0), 1) / 10  # 0.1 s
    np.testing.assert_array_equal(after.travel_time[e], expect)
    assert np.all(after.speed_kmh[e] == np.float32(get_profile("bike").speed(Infra.FAST_ROUTE)))
    # the path edges form a connected walk from the first to the last waypoint
    src = after.edge_sources()
    pe = r.path_edges
    np.testing.assert_array_equal(after.indices[pe[:-1]], src[pe[1:]])
    # two-way: every path edge's reverse is upgraded too (generated streets are two-way here)
    pairs = set(zip(src[e].tolist(), after.indices[e].tolist()))
    assert sum(
        (b, a) in pairs for a, b in zip(src[pe].tolist(), after.indices[pe].tolist())
    ) >= 0.9 * len(pe)


def test_travel_times_never_increase(gen, gen_route):
    r = gen_route.resolve(gen)
    before = _scipy_all_pairs(gen)
    after = _scipy_all_pairs(r.network)
    assert np.all(after <= before)
    assert np.any(after < before)


def test_new_link_where_there_is_no_link():
    net = _ladder(n_rows=2, bridge=False)  # two streets, no connection at all
    a, b = 3, 11 + 3
    route = Snelfietspad.from_waypoints(
        [(net.x[a], net.y[a]), (net.x[b], net.y[b])], name="new bridge"
    )
    before = _scipy_all_pairs(net)
    assert np.isinf(before[a, b])
    r = route.resolve(net)
    after = r.network
    assert len(r.added_edges) == 2 and len(r.changed_edges) == 2
    src = after.edge_sources()
    assert {(int(src[e]), int(after.indices[e])) for e in r.added_edges} == {(a, b), (b, a)}
    assert np.all(after.infra[r.added_edges] == Infra.FAST_ROUTE)
    assert np.all(after.way_id[r.added_edges] == -1)
    straight = float(haversine_m(net.x[a], net.y[a], net.x[b], net.y[b]))
    np.testing.assert_allclose(after.length[r.added_edges], straight, rtol=1e-6)
    g = after.edge_geometry(int(r.added_edges[0]))
    assert g.shape == (2, 2)
    assert np.isfinite(_scipy_all_pairs(after)[a, b])
    # old edges keep their geometry as straight lines between their end nodes
    e0 = int(r.before_to_after[0])
    np.testing.assert_allclose(after.edge_geometry(e0), net.edge_geometry(0))


def test_new_link_where_the_detour_is_too_long():
    net = _ladder(n_rows=2, bridge=True)  # joined only at the northern end: 2 km round for 270 m
    a, b = 0, 11
    route = Snelfietspad.from_waypoints([(net.x[a], net.y[a]), (net.x[b], net.y[b])])
    r = route.resolve(net)
    assert len(r.added_edges) == 2
    # a lenient detour rule follows the network instead
    lenient = Snelfietspad.from_waypoints(route.waypoints, max_detour_ratio=20.0)
    r2 = lenient.resolve(net)
    assert len(r2.added_edges) == 0 and len(r2.path_edges) == 10 + 1 + 10


def test_directness_of_a_straight_route_is_one():
    net = _ladder(n_rows=1, n=21)
    route = Snelfietspad.from_waypoints(
        [(net.x[0], net.y[0]), (net.x[10], net.y[10]), (net.x[20], net.y[20])]
    )
    r = route.resolve(net)
    assert r.directness == pytest.approx(1.0, abs=1e-5)
    assert r.length_km == pytest.approx(20 * 0.0009 * LAT_M / 1000, rel=1e-6)
    assert len(r.path_edges) == 20 and not r.clipped
    np.testing.assert_allclose(r.geometry[[0, -1]], [[net.x[0], net.y[0]], [net.x[20], net.y[20]]])


def test_upgrade_parameters():
    net = _ladder(n_rows=1, n=6, signal_at=2, crossing_at=4)
    wp = [(net.x[0], net.y[0]), (net.x[5], net.y[5])]
    sig_edge = lambda nt: np.flatnonzero(nt.indices == 2)  # noqa: E731
    cross_edge = lambda nt: np.flatnonzero(nt.indices == 4)  # noqa: E731
    default = Snelfietspad.from_waypoints(wp).resolve(net).network
    assert set(default.delay[sig_edge(default)].tolist()) == {10}  # green wave halves 20 s
    assert set(default.delay[cross_edge(default)].tolist()) == {0}  # priority
    keep = (
        Snelfietspad.from_waypoints(wp, upgrade=Upgrade(priority=False, green_wave=0.0))
        .resolve(net)
        .network
    )
    assert set(keep.delay[sig_edge(keep)].tolist()) == {20}
    assert set(keep.delay[cross_edge(keep)].tolist()) == {6}
    gone = (
        Snelfietspad.from_waypoints(wp, upgrade=Upgrade(remove_signals=True)).resolve(net).network
    )
    assert set(gone.delay[sig_edge(gone)].tolist()) == {0}
    # design speed caps the profile's fast-route speed
    slow = (
        Snelfietspad.from_waypoints(wp, upgrade=Upgrade(design_speed_kmh=15)).resolve(net).network
    )
    assert np.all(slow.speed_kmh == 15)
    sp = net.with_profile("speed_pedelec")
    fast = Snelfietspad.from_waypoints(wp).resolve(sp).network
    assert np.all(fast.speed_kmh == 30)  # min(35, 30)
    for bad in ({"design_speed_kmh": 0}, {"green_wave": 1.5}):
        with pytest.raises(ValidationError):
            Upgrade(**bad)


def test_surface_upgrade_removes_unpaved_factor():
    net = _ladder(n_rows=1, n=4)
    net.unpaved[:] = True
    wp = [(net.x[0], net.y[0]), (net.x[3], net.y[3])]
    paved = Snelfietspad.from_waypoints(wp).resolve(net).network
    assert not paved.unpaved.any() and np.all(paved.speed_kmh == 20)
    rough = Snelfietspad.from_waypoints(wp, upgrade=Upgrade(surface=False)).resolve(net).network
    assert rough.unpaved.all() and np.allclose(rough.speed_kmh, 20 * 0.75)


# --------------------------------------------------------------------------------- definitions
def test_from_way_ids():
    net = _ladder(n_rows=1, n=6)
    ids = np.unique(net.way_id)[:3]  # the three southern segments
    r = Snelfietspad.from_way_ids(ids.tolist()).resolve(net)
    upgraded = np.sort(r.before_to_after[np.isin(net.way_id, ids)])
    np.testing.assert_array_equal(np.sort(r.changed_edges), upgraded)
    assert len(r.changed_edges) == 6 and r.directness == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValidationError, match="none of the way ids"):
        Snelfietspad.from_way_ids([1]).resolve(net)


def test_from_geojson_variants(tmp_path):
    line = {"type": "LineString", "coordinates": [[6.09, 52.50], [6.06, 52.47]]}
    feat = {"type": "Feature", "properties": {"name": "F-test"}, "geometry": line}
    coll = {"type": "FeatureCollection", "features": [feat]}
    p = tmp_path / "route.geojson"
    p.write_text(json.dumps(coll))
    for obj in (line, feat, coll, p, str(p)):
        r = Snelfietspad.from_geojson(obj)
        assert r.waypoints.tolist() == [[6.09, 52.5], [6.06, 52.47]]
    assert Snelfietspad.from_geojson(p).name == "F-test"
    with pytest.raises(ValidationError, match="LineString"):
        Snelfietspad.from_geojson({"type": "Point", "coordinates": [6.0, 52.0]})
    with pytest.raises(InputFileError):
        Snelfietspad.from_geojson(tmp_path / "missing.geojson")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(InputFileError):
        Snelfietspad.from_geojson(tmp_path / "bad.json")


@pytest.mark.parametrize(
    "bad",
    [
        [(6.0, 52.0)],
        [[1, 2, 3, 4]],
        [(6.0, np.nan), (6.1, 52.0)],
        [(200000.0, 500000.0), (200100.0, 500000.0)],
        "abc",
    ],
)
def test_bad_waypoints(bad):
    with pytest.raises(ValidationError):
        Snelfietspad.from_waypoints(bad)


def test_needs_exactly_one_definition():
    with pytest.raises(ValidationError):
        Snelfietspad(name="x")
    with pytest.raises(ValidationError):
        Snelfietspad(waypoints=[(6, 52), (6.1, 52)], way_ids=[1])


# --------------------------------------------------------------------------------- clipping
def test_route_beyond_the_network_is_clipped(gen):
    # from inside the Zwolle box to Kampen, well outside it
    route = Snelfietspad.from_waypoints([(6.09, 52.505), (5.9222, 52.5581)], name="to Kampen")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = route.resolve(gen)
    assert r.clipped and r.requested_km > r.length_km > 0
    assert r.requested_km == pytest.approx(float(haversine_m(6.09, 52.505, 5.9222, 52.5581)) / 1000)
    # the resolved route stays inside the network's area
    assert r.geometry[:, 0].min() >= gen.x.min() - 1e-9
    with pytest.raises(SnappingError, match="to Kampen"):
        route.resolve(gen, clip=False)
    outside = Snelfietspad.from_waypoints([(5.5, 52.0), (5.6, 52.1)], name="far away")
    with pytest.raises(ValidationError, match="does not cross the network"):
        outside.resolve(gen)


def test_zwolle_routes_data(gen):
    routes = zwolle_routes()
    assert set(routes) == {
        "Zwolle-Kampen",
        "Dalfsen-Zwolle",
        "Zwolle-Staphorst-Meppel",
        "Zwolle-Hattem",
    }
    for name, r in routes.items():
        assert r.approximate and "approximate" in r.note.lower() and r.source
        wp = r.waypoints
        assert np.all(
            (wp[:, 0] > 5.8) & (wp[:, 0] < 6.4) & (wp[:, 1] > 52.4) & (wp[:, 1] < 52.75)
        ), name
        assert np.allclose(wp, np.round(wp, 4))
    # every route starts or ends at Zwolle Centraal
    zc = np.array([6.0906, 52.5050])
    assert all(
        np.allclose(r.waypoints[0], zc) or np.allclose(r.waypoints[-1], zc) for r in routes.values()
    )
    # Hattem lies inside the study box, Kampen / Dalfsen / Meppel outside
    mnx, mny, mxx, mxy = ZWOLLE_BBOX
    inside = lambda p: mnx <= p[0] <= mxx and mny <= p[1] <= mxy  # noqa: E731
    assert inside(routes["Zwolle-Hattem"].waypoints[-1])
    assert not inside(routes["Zwolle-Kampen"].waypoints[-1])
    for name, route in routes.items():
        res = route.resolve(gen)
        assert res.length_km > 1.0, name
        assert res.clipped == (name != "Zwolle-Hattem"), name


# --------------------------------------------------------------------------------- evaluation
@pytest.fixture(scope="module")
def result(gen, gen_route):
    return evaluate_snelfietspad(gen, gen_route)


def test_evaluator_od_matches_scipy(result):
    nodes = result.zones["node"].to_numpy()
    name_to_i = {n: i for i, n in enumerate(result.zones["name"])}
    oi = result.od["origin"].map(name_to_i).to_numpy()
    di = result.od["destination"].map(name_to_i).to_numpy()
    for net, col in ((result.before, "time_before_s"), (result.after, "time_after_s")):
        ref = _scipy_all_pairs(net, sources=nodes)[:, nodes]
        np.testing.assert_array_equal(result.od[col].to_numpy(), ref[oi, di])
    assert np.all(result.od["time_after_s"] <= result.od["time_before_s"])
    assert np.all(result.od["distance_before_km"] > 0)


def test_summary_is_consistent(result):
    s, z, od = result.summary, result.zones, result.od
    assert s["generated"] is True and "GENERATED" in s["note"] and "GENERATED" in result.report()
    assert s["network_source"] == "GENERATED"
    assert len(z) == 16 and z.crs.to_epsg() == 4326
    assert s["bike_trips_after"] - s["bike_trips_before"] == pytest.approx(
        s["extra_bike_trips_per_day"]
    )
    assert z["extra_bike_trips"].sum() == pytest.approx(s["extra_bike_trips_per_day"])
    assert z["bike_trips_after"].sum() - z["bike_trips_before"].sum() == pytest.approx(
        s["extra_bike_trips_per_day"]
    )
    assert od["bike_trips_before"].sum() == pytest.approx(s["bike_trips_before"])
    assert z["minutes_saved"].sum() == pytest.approx(s["minutes_saved_per_day"])
    # car trips from the gained trips only (0.14 of them), car-km at each pair's own distance
    gained = np.maximum(od["bike_trips_after"] - od["bike_trips_before"], 0.0)
    assert s["bike_trips_gained_per_day"] == pytest.approx(gained.sum())
    assert s["car_trips_replaced_per_day"] == pytest.approx(0.14 * gained.sum())
    assert s["car_km_replaced_per_day"] == pytest.approx(
        0.14 * (gained * od["distance_before_km"]).sum()
    )
    assert s["co2_avoided_kg_per_day"] == pytest.approx(0.17 * s["car_km_replaced_per_day"])
    assert s["car_km_per_replaced_trip"] <= od["distance_before_km"].max()
    assert result.assumptions == fietsstad.Assumptions()
    assert s["assumptions"]["car_share_of_shifted"] == 0.14
    tot = od["trips"].sum()
    assert s["bike_share_change_pp"] == pytest.approx(100 * s["extra_bike_trips_per_day"] / tot)
    assert s["bike_share_after_pct"] - s["bike_share_before_pct"] == pytest.approx(
        s["bike_share_change_pp"]
    )
    inter = od[od["origin"] != od["destination"]]  # time statistics: between zones
    assert len(od) == 16 * 16 and s["od_pairs"] == len(inter)
    improved = (inter["time_after_s"] < inter["time_before_s"]).mean()
    assert s["od_pairs_improved_share"] == pytest.approx(improved)
    assert s["mean_time_change_s"] == pytest.approx(
        (inter["time_after_s"] - inter["time_before_s"]).mean()
    )
    # corridor_before/_after: share of each pair's bike trips on the corridor (route choice)
    assert s["corridor_cyclists_after"] == pytest.approx(
        (od["corridor_after"] * od["bike_trips_after"]).sum()
    )
    cb = (od["corridor_before"] * od["bike_trips_before"]).sum()
    assert s["corridor_cyclists_change_pct"] == pytest.approx(
        100 * (s["corridor_cyclists_after"] / cb - 1)
    )
    assert s["directness_ok"] == (s["directness"] <= 1.2)
    assert s["route_length_km"] > 5 and s["edges_upgraded"] > 0
    # accessibility never decreases when nothing got slower, and counts at least the own zone
    assert np.all(z["access_after"] >= z["access_before"]) and np.all(
        z["access_before"] >= z["population"]
    )
    # edge flows: arrays over `after`, corridor flows rise
    assert result.edge_flow_change.shape == (result.after.n_edges,)
    np.testing.assert_allclose(
        result.edge_flow_change, result.edge_flow_after - result.edge_flow_before
    )
    assert (
        result.edge_flow_after[result.route_edges].sum()
        > result.edge_flow_before[result.route_edges].sum()
    )
    assert result.route_geometry.shape[1] == 2 and not s["full_recompute"]


def test_flows_on_a_line_by_hand():
    # one street 0..10; zones at nodes 0, 5, 10: every path is unique, so flows are sums by hand
    net = _ladder(n_rows=1, n=11)
    zones = _zones_at(net, [0, 5, 10], [1000, 2000, 3000])
    demand = np.array([[0, 10, 20], [30, 0, 40], [50, 60, 0]], dtype=float)
    route = Snelfietspad.from_waypoints([(net.x[5], net.y[5]), (net.x[10], net.y[10])])
    res = evaluate_snelfietspad(net, route, zones, demand=demand)
    od = res.od.set_index(["origin", "destination"])
    bike = od["bike_trips_after"]
    src = res.after.edge_sources()
    e_4_5 = int(np.flatnonzero((src == 4) & (res.after.indices == 5))[0])
    e_7_8 = int(np.flatnonzero((src == 7) & (res.after.indices == 8))[0])
    e_9_8 = int(np.flatnonzero((src == 9) & (res.after.indices == 8))[0])
    assert res.edge_flow_after[e_4_5] == pytest.approx(bike[("z0", "z1")] + bike[("z0", "z2")])
    assert res.edge_flow_after[e_7_8] == pytest.approx(bike[("z0", "z2")] + bike[("z1", "z2")])
    assert res.edge_flow_after[e_9_8] == pytest.approx(bike[("z2", "z0")] + bike[("z2", "z1")])
    inter = od[od.index.get_level_values(0) != od.index.get_level_values(1)]
    assert inter["trips"].tolist() == [10, 20, 30, 40, 50, 60]
    # pairs over the upgraded half get faster; z0 <-> z1 does not change
    assert od.loc[("z0", "z1"), "time_change_s"] == 0
    assert od.loc[("z1", "z2"), "time_change_s"] < 0
    # 5 segments of 100.08 m at 16 km/h (mixed, 22.5 s each; 23 s when edges were rounded to
    # whole seconds) -> 20 km/h (fast route, 18.0 s each)
    assert (
        od.loc[("z1", "z2"), "time_before_s"] == 5 * 22.5
        and od.loc[("z1", "z2"), "time_after_s"] == 5 * 18.0
    )
    assert res.summary["generated"] is False and "GENERATED" not in res.report()
    assert res.summary["directness"] == pytest.approx(1.0, abs=1e-5)
    # accessibility in 0.5 min: each zone reaches only itself
    tiny = evaluate_snelfietspad(net, route, zones, demand=demand, access_minutes=0.5)
    np.testing.assert_array_equal(tiny.zones["access_after"], [1000, 2000, 3000])


def test_slower_upgrade_uses_full_recompute(gen):
    wp = [(6.04, 52.46), (6.10, 52.51), (6.18, 52.57)]
    route = Snelfietspad.from_waypoints(wp, upgrade=Upgrade(design_speed_kmh=8.0))
    res = evaluate_snelfietspad(gen, route)
    assert res.summary["edges_added"] == 0
    assert res.summary["full_recompute"] is True
    nodes = res.zones["node"].to_numpy()
    ref = _scipy_all_pairs(res.after, sources=nodes)[:, nodes]
    name_to_i = {n: i for i, n in enumerate(res.zones["name"])}
    oi = res.od["origin"].map(name_to_i).to_numpy()
    di = res.od["destination"].map(name_to_i).to_numpy()
    np.testing.assert_array_equal(res.od["time_after_s"].to_numpy(), ref[oi, di])
    assert res.summary["mean_time_change_s"] > 0


def test_evaluate_by_route_name_and_bad_input(gen):
    res = evaluate_snelfietspad(gen, "Zwolle-Hattem")
    assert res.summary["route_name"] == "Zwolle-Hattem" and res.summary["route_approximate"]
    with pytest.raises(ValidationError, match="unknown route"):
        evaluate_snelfietspad(gen, "Zwolle-Amsterdam")
    with pytest.raises(ValidationError):
        evaluate_snelfietspad("not a network", "Zwolle-Hattem")
    with pytest.raises(ValidationError, match="car_share"):
        evaluate_snelfietspad(gen, "Zwolle-Hattem", car_share_of_shifted=2.0)
    with pytest.raises(ValidationError, match="demand"):
        evaluate_snelfietspad(gen, "Zwolle-Hattem", demand=np.ones((3, 3)))
    zones = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=gpd.points_from_xy([6.1, 6.12], [52.5, 52.5]),
        crs="EPSG:4326",
    )
    with pytest.raises(ValidationError, match="population"):
        evaluate_snelfietspad(gen, "Zwolle-Hattem", zones)
