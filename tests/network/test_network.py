"""BikeNetwork: CSR construction, costs, components, conversions, snapping, persistence."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from conftest import square_network
from fietsstad import BikeNetwork, CacheError, GraphError, SnappingError
from fietsstad.network import get_profile


def test_csr_is_sorted_and_int32():
    net = square_network()
    assert net.indptr.dtype == np.int32 and net.indices.dtype == np.int32
    assert net.indptr.tolist() == [0, 1, 3, 5, 7]
    # edges of node 1 go to 0 and 2, sorted by head
    assert net.indices[1:3].tolist() == [0, 2]


def test_travel_time_is_length_over_speed_plus_delay_by_hand():
    net = square_network()
    bike = get_profile("bike")
    src = net.edge_sources()
    for e in range(net.n_edges):
        # deciseconds (issue #12): 0.1 s resolution per edge, rounded sums only at the output
        expected = round(float(net.length[e]) * 36.0 / bike.speed(int(net.infra[e])) + int(net.delay[e]) * 10.0)
        assert net.travel_time[e] == max(expected, 1) / 10, (src[e], net.indices[e])
    # 0->1: 100 m on a cycle path at 18 km/h = 20 s
    assert net.travel_time[0] == 20


def test_ebike_is_faster_than_bike():
    net = square_network()
    eb = net.with_profile("ebike")
    assert np.all(eb.travel_time <= net.travel_time)
    assert eb.profile == "ebike"


def test_bad_edges_raise_graph_error():
    with pytest.raises(GraphError):
        BikeNetwork.from_edges(x=np.zeros(2), y=np.zeros(2), node_id=np.arange(2), u=[0], v=[5],
                               length=[1.0], infra=[0])
    with pytest.raises(GraphError):
        BikeNetwork.from_edges(x=np.zeros(2), y=np.zeros(2), node_id=np.arange(2), u=[0], v=[1],
                               length=[np.nan], infra=[0])
    with pytest.raises(GraphError):
        BikeNetwork.from_edges(x=np.zeros(2), y=np.zeros(2), node_id=np.arange(2), u=[0], v=[1],
                               length=[-3.0], infra=[0])


def test_largest_scc_drops_and_reports():
    net = square_network()
    # add a dangling node 4 reachable only one way from 0
    x = np.append(net.x, 6.002)
    y = np.append(net.y, 52.502)
    src = net.edge_sources()
    big = BikeNetwork.from_edges(
        x=x, y=y, node_id=np.append(net.node_id, 99), u=np.append(src, 0),
        v=np.append(net.indices, 4), length=np.append(net.length, 500.0),
        infra=np.append(net.infra, 3), meta={"source": "test"},
    )
    kept = big.largest_scc()
    assert kept.n_nodes == 4
    assert kept.meta["dropped_nodes"] == 1
    assert kept.meta["dropped_km"] == pytest.approx(0.5)  # one directed 500 m edge


def test_networkx_conversion_matches_scipy_distances():
    net = square_network()
    G = net.to_networkx()
    assert G.number_of_nodes() == 4 and G.number_of_edges() == 7
    assert G.graph["crs"] == "EPSG:4326"
    A = csr_matrix((net.travel_time_ticks().astype(float), net.indices, net.indptr), shape=(4, 4))
    D = dijkstra(A)
    ids = net.node_id.tolist()
    for i, s in enumerate(ids):
        lengths = nx.single_source_dijkstra_path_length(G, s, weight="travel_time_ticks")
        for j, t in enumerate(ids):
            assert lengths[t] == D[i, j]


def test_geodataframes_have_crs_and_rows():
    net = square_network()
    n, e = net.nodes_gdf(), net.edges_gdf()
    assert n.crs.to_epsg() == 4326 and e.crs.to_epsg() == 4326
    assert len(n) == 4 and len(e) == 7
    assert set(e["infra"]) == {"cycle_path", "mixed", "main_road"}


def test_snap_nearest_and_far_point():
    net = square_network()
    assert net.snap([6.00099], [52.50099]).tolist() == [2]
    with pytest.raises(SnappingError):
        net.snap([6.2], [52.5], max_distance_m=100)
    with pytest.raises(SnappingError):
        net.snap([150000.0], [480000.0])  # projected metres, not lon/lat


def test_save_load_roundtrip_and_corruption(tmp_path):
    net = square_network()
    p = net.save(tmp_path / "n.fsn")
    back = BikeNetwork.load(p)
    for k in ("indptr", "indices", "travel_time", "length", "infra", "node_id", "name"):
        assert np.array_equal(getattr(back, k), getattr(net, k)), k
    assert back.meta["description"] == net.meta["description"]
    raw = p.read_bytes()
    (tmp_path / "trunc.fsn").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CacheError):
        BikeNetwork.load(tmp_path / "trunc.fsn")
    flipped = bytearray(raw)
    flipped[-10] ^= 0xFF
    (tmp_path / "flip.fsn").write_bytes(bytes(flipped))
    with pytest.raises(CacheError):
        BikeNetwork.load(tmp_path / "flip.fsn")


def test_summary_and_describe_say_generated():
    net = square_network()
    s = net.summary()
    assert s["nodes"] == 4 and s["edges"] == 7
    assert s["km_by_infra"]["cycle_path"] == pytest.approx(0.2)
    assert "GENERATED" in net.describe()
