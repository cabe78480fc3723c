"""Tests of fietsstad.hubs against independent oracles (networkx, scipy, brute force, by hand)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from conftest import grid_network
from fietsstad import hubs
from fietsstad.errors import CRSError, SnappingError, ValidationError
from fietsstad.network import BikeNetwork


def _times_to(net: BikeNetwork, targets) -> np.ndarray:
    """Oracle: full scipy Dijkstra on the forward graph; column t = time from every node to t.

    Exact seconds: integer deciseconds (the engine's ticks) summed, then divided by 10.
    """
    indptr, indices, w = net.csr("travel_time_ticks")
    A = csr_matrix((w.astype(float), indices, indptr), shape=(net.n_nodes, net.n_nodes))
    D = dijkstra(A, directed=True)
    return D[:, np.asarray(targets)] / 10


def _nx_times_to(net: BikeNetwork, target: int, cutoff: float) -> dict[int, float]:
    """Oracle 2: networkx on the reversed graph, in integer deciseconds (the engine's ticks)."""
    G = nx.DiGraph()
    src = net.edge_sources()
    ticks = net.travel_time_ticks()
    for e in range(net.n_edges):
        G.add_edge(int(src[e]), int(net.indices[e]), w=int(ticks[e]))
    d = nx.single_source_dijkstra_path_length(G.reverse(), target, cutoff=cutoff * 10, weight="w")
    return {k: v / 10 for k, v in d.items()}


# ------------------------------------------------------------------------------ candidates
def test_candidates_from_arrays_and_gdf():
    c = hubs.hub_candidates([6.09, 6.1], [52.5, 52.51], names=["<b>A</b>", "B"])
    assert c.crs.to_epsg() == 4326 and c["name"].tolist() == ["<b>A</b>", "B"]
    c2 = hubs.hub_candidates(c.to_crs(28992))
    np.testing.assert_allclose(c2.geometry.x, [6.09, 6.1], atol=1e-7)
    assert c2["name"].tolist() == ["<b>A</b>", "B"]


def test_candidates_bad_input():
    with pytest.raises(CRSError):
        hubs.hub_candidates([600000.0], [6800000.0])
    with pytest.raises(ValidationError):
        hubs.hub_candidates([6.0, 6.1], [52.0])
    with pytest.raises(ValidationError):
        hubs.hub_candidates([], [])
    import geopandas as gpd
    from shapely.geometry import Point

    with pytest.raises(CRSError):
        hubs.hub_candidates(gpd.GeoDataFrame(geometry=[Point(6, 52)]))


def test_zwolle_candidates_marked_approximate():
    c = hubs.zwolle_hub_candidates(include_districts=False)
    assert c["approximate"].all()
    assert {"Zwolle Centraal (station)", "P+R Meeuwenplas"} <= set(c["name"])
    # all within the municipality's bounding box
    assert c.geometry.x.between(5.95, 6.25).all() and c.geometry.y.between(52.43, 52.60).all()


# ------------------------------------------------------------------------------ population
def test_node_population_snap_and_nearest():
    net = grid_network()
    p = hubs.node_population(net, (net.x[[3, 3, 10]], net.y[[3, 3, 10]], [10.0, 5.0, 7.0]))
    assert p[3] == 15 and p[10] == 7 and p.sum() == 22
    q = hubs.node_population(
        net, (net.x[[0, 47]], net.y[[0, 47]], [100.0, 50.0]), distribute="nearest"
    )
    assert q.sum() == pytest.approx(150)
    # nodes nearer to zone 0 share 100 equally (Voronoi split), computed by hand here
    d0 = np.hypot(net.x - net.x[0], (net.y - net.y[0]) * 1.6)
    d1 = np.hypot(net.x - net.x[47], (net.y - net.y[47]) * 1.6)
    near0 = d0 < d1
    np.testing.assert_allclose(q[near0], 100 / near0.sum())


def test_node_population_polygons():
    import geopandas as gpd
    from shapely.geometry import box

    net = grid_network()
    poly = box(net.x.min() - 1e-4, net.y.min() - 1e-4, np.median(net.x), net.y.max() + 1e-4)
    gdf = gpd.GeoDataFrame({"aantal_inwoners": [1000.0]}, geometry=[poly], crs=4326)
    p = hubs.node_population(net, gdf)
    inside = net.x <= np.median(net.x)
    assert p.sum() == pytest.approx(1000)
    np.testing.assert_allclose(p[inside], 1000 / inside.sum())
    assert np.all(p[~inside] == 0)


def test_node_population_bad_input():
    net = grid_network()
    with pytest.raises(ValidationError):
        hubs.node_population(net, np.ones(3))
    with pytest.raises(ValidationError):
        hubs.node_population(net, -np.ones(net.n_nodes))
    with pytest.raises(SnappingError):
        hubs.node_population(net, ([4.0], [52.0], [1.0]))


# ------------------------------------------------------------------------------ catchments
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_catchment_population_matches_scipy_and_networkx(seed):
    net = grid_network(seed=seed, oneway_share=0.4)
    rng = np.random.default_rng(seed)
    pop = rng.integers(0, 100, net.n_nodes).astype(float)
    hub_nodes = np.array([0, 17, 40])
    cands = hubs.hub_candidates(net.x[hub_nodes], net.y[hub_nodes])
    minutes = (2, 4, 6)
    c = hubs.hub_catchments(net, cands, bands_min=minutes, population=pop)
    assert len(c) == 9 and c.crs.to_epsg() == 4326
    T = _times_to(net, hub_nodes)
    for _, row in c.iterrows():
        h = row["hub_index"]
        reach = T[:, h] <= row["minutes"] * 60
        assert row["position"] == hub_nodes[h]
        assert row["node_id"] == net.node_id[hub_nodes[h]] and row["snap_distance_m"] == 0.0
        assert row["nodes"] == reach.sum()
        assert row["population"] == pytest.approx(pop[reach].sum())
        nxd = _nx_times_to(net, int(hub_nodes[h]), row["minutes"] * 60)
        assert set(np.flatnonzero(reach)) == set(nxd)
        # every reached node lies inside its polygon (buffered union)
        import shapely

        assert shapely.contains_xy(row.geometry.buffer(1e-6), net.x[reach], net.y[reach]).all()


def test_catchment_direction_differs_on_one_way_streets():
    net = grid_network(seed=3, oneway_share=0.6)
    cands = hubs.hub_candidates(net.x[[20]], net.y[[20]])
    to = hubs.hub_catchments(net, cands, bands_min=(3,), population=np.ones(net.n_nodes))
    fr = hubs.hub_catchments(
        net, cands, bands_min=(3,), population=np.ones(net.n_nodes), direction="from_hub"
    )
    T = _times_to(net, [20])[:, 0]
    indptr, indices, w = net.csr("travel_time_ticks")
    A = csr_matrix((w.astype(float), indices, indptr), shape=(net.n_nodes,) * 2)
    F = dijkstra(A, directed=True, indices=[20])[0] / 10
    assert to["nodes"].iloc[0] == (T <= 180).sum()
    assert fr["nodes"].iloc[0] == (F <= 180).sum()
    assert (T <= 180).sum() != (F <= 180).sum()


def test_catchment_bands_nested_and_shapes():
    net = grid_network(seed=4)
    cands = hubs.hub_candidates(net.x[[10]], net.y[[10]])
    for shape in ("buffer", "concave", "convex"):
        c = hubs.hub_catchments(net, cands, bands_min=(2, 5, 10), shape=shape)
        assert c["population"].isna().all()
        assert c["nodes"].is_monotonic_increasing
        if shape != "concave":  # concave hulls of nested point sets need not nest
            a, b = c.geometry.iloc[0], c.geometry.iloc[2]
            # nested up to the 10 m simplification tolerance (3e-4 degrees is about 20 m)
            assert b.buffer(3e-4).contains(a)
        assert (c["area_km2"] >= 0).all()
    conv = hubs.hub_catchments(net, cands, bands_min=(10,), shape="convex")
    buf = hubs.hub_catchments(net, cands, bands_min=(10,), shape="buffer", buffer_m=50)
    assert conv["area_km2"].iloc[0] > 0 and buf["area_km2"].iloc[0] > 0


def test_catchment_area_of_a_single_node_is_a_disc():
    # hub on an isolated pair of nodes 10 km apart: the 1-minute catchment is one node's disc
    net = BikeNetwork.from_edges(
        x=np.array([6.0, 6.15]),
        y=np.array([52.5, 52.5]),
        node_id=np.array([1, 2]),
        u=np.array([0, 1]),
        v=np.array([1, 0]),
        length=np.array([10_000.0, 10_000.0]),
        infra=np.array([0, 0]),
    )
    c = hubs.hub_catchments(net, hubs.hub_candidates([6.0], [52.5]), bands_min=(1,), buffer_m=100)
    # a buffered point (4 segments per quarter, then simplified by 10 m) has area close to pi r^2
    assert c["nodes"].iloc[0] == 1
    assert c["area_km2"].iloc[0] == pytest.approx(np.pi * 0.1**2, rel=0.12)


def test_catchment_bad_input():
    net = grid_network()
    cands = hubs.hub_candidates(net.x[[0]], net.y[[0]])
    with pytest.raises(ValidationError):
        hubs.hub_catchments(net, cands, bands_min=(0,))
    with pytest.raises(ValidationError):
        hubs.hub_catchments(net, cands, shape="star")
    with pytest.raises(ValidationError):
        hubs.hub_catchments(net, cands, direction="sideways")
    with pytest.raises(ValidationError):
        hubs.hub_catchments(net, "not hubs")


# ------------------------------------------------------------------------------ placement
def _brute_force(sets, w, k, fixed=()):
    """Oracle: best coverage over every k-subset of the free candidates."""
    fixed = list(fixed)
    free = [j for j in range(len(sets)) if j not in fixed]
    best = 0.0
    for combo in itertools.combinations(free, k):
        cov = np.zeros(len(w), bool)
        for j in fixed + list(combo):
            cov[sets[j]] = True
        best = max(best, float(w[cov].sum()))
    return best


def _instance(seed, n_cand=9):
    net = grid_network(seed=seed, oneway_share=0.3)
    rng = np.random.default_rng(100 + seed)
    pop = rng.integers(0, 50, net.n_nodes).astype(float) * (rng.uniform(size=net.n_nodes) < 0.7)
    cnodes = rng.choice(net.n_nodes, n_cand, replace=False)
    return net, pop, hubs.hub_candidates(net.x[cnodes], net.y[cnodes]), cnodes


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_brute_force_and_bounds_greedy(seed):
    net, pop, cands, cnodes = _instance(seed)
    minutes = 3.0
    demand = np.flatnonzero(pop > 0)
    # coverage sets from the scipy oracle, independent of the module's bounded searches
    T = _times_to(net, cnodes)
    sets = [np.flatnonzero(T[demand, j] <= minutes * 60) for j in range(len(cnodes))]
    w = pop[demand]
    for k in (1, 2, 3):
        g = hubs.place_hubs(net, cands, pop, k=k, cutoff_min=minutes)
        e = hubs.place_hubs(net, cands, pop, k=k, cutoff_min=minutes, method="exact")
        best = _brute_force(sets, w, k)
        assert e.covered_population == pytest.approx(best)
        assert best >= g.covered_population - 1e-9
        assert g.covered_population >= (1 - 1 / np.e) * best - 1e-9
        # exact curve = brute force for every p <= k
        for p in range(1, k + 1):
            assert e.coverage_curve.loc[p, "optimal"] == pytest.approx(_brute_force(sets, w, p))
        # reported coverage equals the coverage of the reported hubs (recomputed by the oracle)
        cov = np.zeros(len(w), bool)
        for j in e.hubs["candidate"]:
            cov[sets[j]] = True
        assert w[cov].sum() == pytest.approx(e.covered_population)


def test_greedy_gains_are_marginal_and_decreasing():
    net, pop, cands, cnodes = _instance(7, n_cand=12)
    pl = hubs.place_hubs(net, cands, pop, k=6, cutoff_min=3)
    gains = pl.hubs["marginal_gain"].to_numpy()
    assert np.all(np.diff(gains) <= 1e-9)  # submodular coverage: greedy gains never increase
    assert pl.hubs["covered_after"].iloc[-1] == pytest.approx(pl.covered_population)
    curve = pl.coverage_curve["covered"].to_numpy()
    assert curve[0] == 0 and np.all(np.diff(curve) >= 0)
    np.testing.assert_allclose(np.diff(curve), gains)
    assert pl.coverage_curve["share"].iloc[-1] == pytest.approx(pl.share_covered)
    # first pick is the best single candidate
    assert gains[0] == pytest.approx(pl.candidates["alone"].max())
    # node_covered agrees with the oracle
    T = _times_to(net, cnodes[pl.hubs["candidate"].to_numpy()])
    assert np.array_equal(pl.node_covered, (T.min(axis=1) <= 180) & (pop > 0))


def test_fixed_hubs_are_kept():
    net, pop, cands, cnodes = _instance(8)
    demand = np.flatnonzero(pop > 0)
    T = _times_to(net, cnodes)
    sets = [np.flatnonzero(T[demand, j] <= 180) for j in range(len(cnodes))]
    for method in ("greedy", "exact"):
        pl = hubs.place_hubs(net, cands, pop, k=2, cutoff_min=3, fixed=[4], method=method)
        assert pl.hubs["candidate"].iloc[0] == 4 and pl.hubs["fixed"].tolist() == [
            True,
            False,
            False,
        ]
        assert pl.coverage_curve["covered"].iloc[0] == pytest.approx(pop[demand][sets[4]].sum())
        if method == "exact":
            assert pl.covered_population == pytest.approx(_brute_force(sets, pop[demand], 2, [4]))


def test_placement_bad_input():
    net, pop, cands, _ = _instance(0)
    with pytest.raises(ValidationError):
        hubs.place_hubs(net, cands, pop, k=20)
    with pytest.raises(ValidationError):
        hubs.place_hubs(net, cands, pop, k=1, fixed=[99])
    with pytest.raises(ValidationError):
        hubs.place_hubs(net, cands, pop, k=1, method="magic")
    with pytest.raises(ValidationError):
        hubs.place_hubs(net, cands, pop, k=-1)
    with pytest.raises(ValidationError):
        hubs.place_hubs(net, cands, pop, k=1, cutoff_min=-5)


def test_place_hubs_with_district_points_matches_oracle():
    """Population as zone points snapped to nodes; coverage checked against scipy."""
    import geopandas as gpd

    net = grid_network(seed=9)
    zones = gpd.GeoDataFrame(
        {"inhabitants_2024": [500.0, 300.0, 200.0, 1000.0]},
        geometry=gpd.points_from_xy(net.x[[1, 12, 30, 45]], net.y[[1, 12, 30, 45]]),
        crs=4326,
    )
    cnodes = np.array([0, 13, 29, 46, 22])
    cands = hubs.hub_candidates(net.x[cnodes], net.y[cnodes])
    pl = hubs.place_hubs(net, cands, zones, k=2, cutoff_min=2, method="exact")
    T = _times_to(net, cnodes)
    w = np.array([500.0, 300.0, 200.0, 1000.0])
    zn = np.array([1, 12, 30, 45])
    best = max(
        w[(T[zn][:, list(c)] <= 120).any(axis=1)].sum()
        for c in itertools.combinations(range(len(cnodes)), 2)
    )
    assert pl.covered_population == pytest.approx(best)
    assert pl.total_population == 2000.0


# ------------------------------------------------------------------------------ node ids, names
def test_hub_results_carry_osm_ids_and_snap_distances():
    import dataclasses

    base = grid_network(seed=4)
    net = dataclasses.replace(base, node_id=base.node_id * 7 + 10**9)  # ids != positions
    cnodes = np.array([3, 20])
    cands = hubs.hub_candidates(net.x[cnodes] + 1e-5, net.y[cnodes])
    pl = hubs.place_hubs(net, cands, np.ones(net.n_nodes), k=1, cutoff_min=2)
    assert pl.candidates["node_id"].tolist() == net.node_id[cnodes].tolist()
    assert pl.candidates["position"].tolist() == cnodes.tolist()
    d = pl.candidates["snap_distance_m"].to_numpy()  # 1e-5 degree of longitude at ~52 N
    np.testing.assert_allclose(d, 1e-5 * np.pi / 180 * 6_371_008.8 * np.cos(np.radians(net.y.mean())),
                               rtol=0.01)  # fmt: skip
    c = hubs.hub_catchments(net, pl.hubs, bands_min=(2,))
    assert c["node_id"].tolist() == pl.hubs["node_id"].tolist()
    # coverage_sets takes OSM ids (positions only when named)
    T = _times_to(net, cnodes)
    by_id = hubs.coverage_sets(net, cands, 2, net.node_id)
    by_pos = hubs.coverage_sets(net, cands, 2, np.arange(net.n_nodes), positions=True)
    for j in range(2):
        assert set(by_id[j]) == set(np.flatnonzero(T[:, j] <= 120)) == set(by_pos[j])
    with pytest.raises(ValidationError, match="demand_nodes.*not node ids"):
        hubs.coverage_sets(net, cands, 2, np.arange(net.n_nodes))


def test_old_keywords_warn_and_agree():
    net, pop, cands, _ = _instance(2)
    new = hubs.place_hubs(net, cands, pop, k=2, cutoff_min=3, method="exact", time_limit_s=30)
    with pytest.warns(DeprecationWarning, match="minutes= is renamed cutoff_min="):
        old = hubs.place_hubs(net, cands, pop, k=2, minutes=3, method="exact", time_limit=30)
    assert old.hubs["name"].tolist() == new.hubs["name"].tolist()
    assert old.covered_population == new.covered_population
    with pytest.warns(DeprecationWarning, match="bands_min"):
        c_old = hubs.hub_catchments(net, cands, minutes=(2,))
    assert (
        c_old["nodes"].tolist() == hubs.hub_catchments(net, cands, bands_min=(2,))["nodes"].tolist()
    )
    with pytest.raises(ValidationError, match="pass cutoff_min= only"):
        hubs.place_hubs(net, cands, pop, k=1, minutes=3, cutoff_min=3)


def test_snapping_limit_is_a_parameter_and_networkx_is_refused():
    net = grid_network(seed=5)
    far = hubs.hub_candidates([float(net.x.max()) + 0.02], [float(net.y.mean())])
    with pytest.raises(SnappingError, match="max_distance_m"):
        hubs.place_hubs(net, far, np.ones(net.n_nodes), k=1)
    pl = hubs.place_hubs(net, far, np.ones(net.n_nodes), k=1, max_distance_m=5_000)
    assert pl.candidates["snap_distance_m"].iloc[0] > 1_000
    with pytest.raises(SnappingError):
        hubs.place_hubs(net, far, np.ones(net.n_nodes), k=1, max_distance_m=100)
    with pytest.raises(ValidationError, match="expected a BikeNetwork"):
        hubs.place_hubs(net.to_networkx(), far, np.ones(net.n_nodes), k=1)
    with pytest.raises(ValidationError, match="expected a BikeNetwork"):
        hubs.node_population(net.to_networkx(), np.ones(net.n_nodes))
