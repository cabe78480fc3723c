"""BikeNetwork-level routing wrappers: matrices, blocks, routes, snapping, CH caching.

The network's node ids are relabelled far from its positions (``7 * id + 10**9``); integers
given to the public functions are OSM ids, positions only with ``positions=True``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fietsstad
from fietsstad.analysis import (
    iter_travel_time_blocks,
    shortest_route,
    travel_time_matrix,
)
from fietsstad.engine import _ch
from fietsstad.errors import GraphError, ValidationError
from naive import scipy_times, to_dtype


@pytest.fixture(scope="module")
def net():
    g = fietsstad.generate_network(n_nodes=600, seed=3)
    return dataclasses.replace(g, node_id=g.node_id * 7 + 10**9)


@pytest.fixture(scope="module")
def ref(net):
    # exact sums of the engine's deciseconds, rounded half up to seconds only at the end
    t = scipy_times(*net.csr("travel_time_ticks"))
    return np.where(np.isfinite(t), np.floor((t + 5) / 10), np.inf)


def test_matrix_matches_scipy_on_generated_network(net, ref):
    for method in ("dijkstra", "phast"):
        T = travel_time_matrix(net, method=method)
        np.testing.assert_array_equal(T, to_dtype(ref))
    ids = net.node_id
    T = travel_time_matrix(net, ids[[5, 9]], ids[[1, 2, 3]], cutoff_s=200, dtype="float32")
    np.testing.assert_array_equal(T, to_dtype(ref[np.ix_([5, 9], [1, 2, 3])], 200, np.float32))
    P = travel_time_matrix(net, [5, 9], [1, 2, 3], cutoff_s=200, dtype="float32", positions=True)
    np.testing.assert_array_equal(P, T)
    L = travel_time_matrix(net, ids[[5, 9]], ids[[1, 2, 3]], cutoff_s=200, labels=True)
    assert L.index.tolist() == ids[[5, 9]].tolist() and L.index.name == "origin_id"
    assert L.columns.tolist() == ids[[1, 2, 3]].tolist() and L.columns.name == "destination_id"
    np.testing.assert_array_equal(L.to_numpy(), to_dtype(ref[np.ix_([5, 9], [1, 2, 3])], 200))


def test_with_distance_is_the_route_length(net, ref):
    t, m = travel_time_matrix(net, net.node_id[[0, 17]], dtype="int32", with_distance=True)
    np.testing.assert_array_equal(t, to_dtype(ref[[0, 17]], dtype=np.int32))
    for i, o in enumerate([0, 17]):
        for d in (3, 100, net.n_nodes - 1):
            r = shortest_route(net, net.node_id[o], net.node_id[d])
            assert r["travel_time_s"] == t[i, d]
            # metres are summed as rounded integers per edge in the engine
            assert abs(m[i, d] - r["length_m"]) <= 0.5 * len(r["edges"]) + 1e-6


def test_shortest_route_geometry_and_generated_flag(net):
    r = shortest_route(net, net.node_id[0], net.node_id[250])
    assert r["generated"] is True
    assert r["nodes"][0] == net.node_id[0] and r["nodes"][-1] == net.node_id[250]
    assert np.array_equal(net.node_id[r["positions"]], r["nodes"])
    assert r["positions"][0] == 0 and r["positions"][-1] == 250
    np.testing.assert_allclose(r["geometry"][0], [net.x[0], net.y[0]])
    np.testing.assert_allclose(r["geometry"][-1], [net.x[250], net.y[250]])
    src = net.edge_sources()
    assert np.array_equal(src[r["edges"]], r["positions"][:-1])
    assert np.array_equal(net.indices[r["edges"]], r["positions"][1:])
    same = shortest_route(net, (net.x[0], net.y[0]), (net.x[250], net.y[250]))
    assert same["travel_time_s"] == r["travel_time_s"]
    assert same["snap_distance_m"] == {"origin": 0.0, "destination": 0.0}
    assert shortest_route(net, 0, 250, positions=True)["travel_time_s"] == r["travel_time_s"]
    with pytest.raises(ValidationError):
        shortest_route(net, "a", 1)
    with pytest.raises(ValidationError, match="origin: 1 id.*not node ids.*first: 0"):
        shortest_route(net, 0, 250)  # a position given as an id: refused, never misread


def test_lon_lat_points_are_snapped(net):
    pts = np.column_stack([net.x[[4, 8]], net.y[[4, 8]]]) + 1e-6
    by_id = travel_time_matrix(net, net.node_id[[4, 8]])
    np.testing.assert_array_equal(travel_time_matrix(net, pts), by_id)
    np.testing.assert_array_equal(travel_time_matrix(net, net.snap(pts[:, 0], pts[:, 1])), by_id)
    with pytest.raises(ValidationError):
        travel_time_matrix(net, np.array([[1.5, 2.5, 3.5]]))
    with pytest.raises(GraphError):  # a ParameterError: both a ValidationError and a GraphError
        travel_time_matrix(net, [net.n_nodes], positions=True)
    with pytest.raises(GraphError, match="origins: 1 id"):
        travel_time_matrix(net, [net.n_nodes])
    far = np.array([[net.x[4] + 0.05, net.y[4]]])
    with pytest.raises(fietsstad.errors.SnappingError, match="max_distance_m"):
        travel_time_matrix(net, far, max_distance_m=100)


def test_blocks_and_ch_cached_on_network(net):
    full = travel_time_matrix(net, method="phast")
    entry = net._ch_cache[False]
    assert entry["ch"] is not None and entry["ch"].n == net.n_nodes
    _ch._MEMO.clear()  # the network keeps its hierarchy even if the engine memo is emptied
    blocks = list(iter_travel_time_blocks(net, block_size=128))
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), full)
    np.testing.assert_array_equal(np.concatenate([i for i, _ in blocks]), net.node_id)
    assert _ch.find_ch(entry["graph"]) is entry["ch"]


def test_top_level_names():
    assert fietsstad.travel_time_matrix is travel_time_matrix
    assert fietsstad.shortest_route is shortest_route
