"""One demand chain: evaluate_snelfietspad and modal_share agree; car-km from shifted trips only."""

import geopandas as gpd
import numpy as np
import pytest

import fietsstad
from fietsstad import Assumptions
from fietsstad.demand import compare_scenarios, modal_share
from fietsstad.network import BikeNetwork
from fietsstad.scenario import Snelfietspad, Upgrade, evaluate_snelfietspad
from fietsstad.zwolle import zwolle_districts

LAT_M = 111_195.0  # metres per degree of latitude (haversine, R = 6371.0088 km)


def _same_share(net, zones):
    ms = modal_share(net, zones, top_pairs=0)["city"]
    # any route: the bike share *before* does not depend on it
    lon, lat = net.x[np.argsort(net.x)[[5, -5]]], net.y[np.argsort(net.x)[[5, -5]]]
    ev = evaluate_snelfietspad(net, Snelfietspad.from_waypoints(list(zip(lon, lat))), zones)
    return 100 * float(ms["bike_share"].iloc[0]), ev.summary["bike_share_before_pct"], ms, ev


def test_modal_share_and_evaluator_agree_on_generated_zwolle():
    net = fietsstad.generate_network(n_nodes=3000, seed=5)  # GENERATED
    a, b, ms, ev = _same_share(net, zwolle_districts())
    assert abs(a - b) < 0.1
    # both carry the same assumptions; intrazonal trips have a positive distance
    assert ms.attrs["Assumptions"] == ev.assumptions == Assumptions()
    own = ev.od[ev.od["origin"] == ev.od["destination"]]
    assert np.all(own["distance_before_km"] > 0) and own["trips"].sum() > 0


def test_modal_share_and_evaluator_agree_on_liechtenstein(liechtenstein_pbf):
    from fietsstad.network import osm

    net = osm.load_network(file=str(liechtenstein_pbf))  # real OSM extract
    rng = np.random.default_rng(3)
    nodes = rng.choice(net.n_nodes, 12, replace=False)
    zones = gpd.GeoDataFrame(
        {"name": [f"z{i}" for i in range(12)], "population": rng.uniform(500, 5000, 12)},
        geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]),
        crs="EPSG:4326",
    )
    a, b, _, ev = _same_share(net, zones)
    assert abs(a - b) < 0.1 and 0 < a < 100
    assert ev.summary["generated"] is False


def _detour_network():
    """Zones A (node 0) and B (node 30), 3.0 km apart on a straight street (100 m segments);
    a detour A -> 0.75 km north -> 3 km east -> 0.75 km south -> B of 4.5 km. The direct street
    has 10 crossings of 20 s, so a snelfietspad on the detour makes the longer route faster."""
    dlat = 100.0 / LAT_M
    lon0, lat0 = 6.05, 52.50
    dlon = 100.0 / (LAT_M * np.cos(np.radians(lat0)))
    xs = [lon0 + i * dlon for i in range(31)]  # 0..30: the direct street
    ys = [lat0] * 31
    path = [0]
    for k in range(1, 8):  # north 0.75 km in 100 m steps (7 x 100 + 50)
        xs.append(lon0)
        ys.append(lat0 + min(k * dlat, 7.5 * dlat))
        path.append(len(xs) - 1)
    xs.append(lon0)
    ys.append(lat0 + 7.5 * dlat)
    path.append(len(xs) - 1)
    for i in range(1, 31):  # east 3 km
        xs.append(lon0 + i * dlon)
        ys.append(lat0 + 7.5 * dlat)
        path.append(len(xs) - 1)
    for k in (7, 6, 5, 4, 3, 2, 1):  # south
        xs.append(lon0 + 30 * dlon)
        ys.append(lat0 + k * dlat)
        path.append(len(xs) - 1)
    path.append(30)
    us, vs = [], []
    for a, b in list(zip(range(30), range(1, 31))) + list(zip(path[:-1], path[1:])):
        us += [a, b]
        vs += [b, a]
    from fietsstad._geo import haversine_m

    x, y = np.array(xs), np.array(ys)
    lens = haversine_m(x[us], y[us], x[vs], y[vs])
    m = len(us)
    delay = np.zeros(m, dtype=np.int32)
    delay[: 2 * 30][np.isin(np.array(vs[:60]), np.arange(3, 30, 3))] = 20  # direct street only
    net = BikeNetwork.from_edges(
        x=x, y=y, node_id=np.arange(len(x)), u=np.array(us), v=np.array(vs),
        length=np.asarray(lens), infra=np.full(m, 3), delay=delay,
        way_id=np.arange(m) // 2 + 1000, meta={"source": "test"},
    )  # fmt: skip
    corners = [path[0], path[8], path[38], path[-1]]
    return net, corners


def test_rerouting_never_adds_car_km():
    net, corners = _detour_network()
    zones = gpd.GeoDataFrame(
        {"name": ["A", "B"], "population": [4000.0, 4000.0]},
        geometry=gpd.points_from_xy(net.x[[0, 30]], net.y[[0, 30]]),
        crs="EPSG:4326",
    )
    route = Snelfietspad.from_waypoints(
        [(net.x[c], net.y[c]) for c in corners], upgrade=Upgrade(design_speed_kmh=40.0)
    )
    res = evaluate_snelfietspad(net, route, zones)
    od = res.od.set_index(["origin", "destination"])
    ab = od.loc[("A", "B")]
    # the upgraded route is faster and 1.5 km longer: cyclists reroute
    assert ab["time_after_s"] < ab["time_before_s"]
    assert ab["distance_after_km"] == pytest.approx(ab["distance_before_km"] + 1.5, abs=0.02)
    assert ab["distance_before_km"] == pytest.approx(3.0, abs=0.01)
    s = res.summary
    assert s["car_trips_replaced_per_day"] > 0
    # car-km per replaced trip: at most that trip's length, and no trip is longer than 4.5 km
    assert s["car_km_per_replaced_trip"] <= ab["distance_before_km"] + 1e-9
    assert s["car_km_per_replaced_trip"] <= 4.5
    # the rerouted cyclists ride 1.5 km further each: bike-km rise, car-km do not follow
    bike_km_change = (od["bike_trips_after"] * od["distance_after_km"]).sum() - (
        od["bike_trips_before"] * od["distance_before_km"]
    ).sum()
    assert bike_km_change > 1.4 * od.loc[("A", "B"), "bike_trips_before"]
    assert s["car_km_replaced_per_day"] == pytest.approx(
        0.14 * s["bike_trips_gained_per_day"] * ab["distance_before_km"], rel=1e-9
    )
    # the same through modal_share + compare_scenarios (uptake on time, all pairs in "od")
    kw = dict(top_pairs=4, uptake_on="time")
    before = modal_share(res.before, zones, **kw)
    after = modal_share(res.after, zones.assign(node=before_nodes(res)), **kw)
    c = compare_scenarios(before, after)["city"].iloc[0]
    assert c["car_trips_replaced"] > 0
    assert c["car_km_per_replaced_trip"] <= ab["distance_before_km"] + 1e-6
    assert c["car_km_replaced"] < 0.14 * c["bike_km_change"] or c["bike_km_change"] <= 0


def before_nodes(res):
    return res.zones["node"].to_numpy()


def test_compare_scenarios_needs_every_pair():
    net = fietsstad.generate_network(n_nodes=800, seed=1)
    z = zwolle_districts()
    r = modal_share(net, z, top_pairs=10)
    with pytest.raises(fietsstad.errors.ValidationError, match="top_pairs"):
        compare_scenarios(r, r)
