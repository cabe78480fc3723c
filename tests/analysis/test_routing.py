"""BikeNetwork-level routing wrappers: matrices, blocks, routes, snapping, CH caching."""

from __future__ import annotations

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
    return fietsstad.generate_network(n_nodes=600, seed=3)


@pytest.fixture(scope="module")
def ref(net):
    # exact sums of the engine's deciseconds, rounded half up to seconds only at the end
    t = scipy_times(*net.csr("travel_time_ticks"))
    return np.where(np.isfinite(t), np.floor((t + 5) / 10), np.inf)


def test_matrix_matches_scipy_on_generated_network(net, ref):
    for method in ("dijkstra", "phast"):
        T = travel_time_matrix(net, method=method)
        np.testing.assert_array_equal(T, to_dtype(ref))
    T = travel_time_matrix(net, [5, 9], [1, 2, 3], cutoff_s=200, dtype="float32")
    np.testing.assert_array_equal(T, to_dtype(ref[np.ix_([5, 9], [1, 2, 3])], 200, np.float32))


def test_with_distance_is_the_route_length(net, ref):
    t, m = travel_time_matrix(net, [0, 17], dtype="int32", with_distance=True)
    np.testing.assert_array_equal(t, to_dtype(ref[[0, 17]], dtype=np.int32))
    for i, o in enumerate([0, 17]):
        for d in (3, 100, net.n_nodes - 1):
            r = shortest_route(net, o, d)
            assert r["travel_time_s"] == t[i, d]
            # metres are summed as rounded integers per edge in the engine
            assert abs(m[i, d] - r["length_m"]) <= 0.5 * len(r["edges"]) + 1e-6


def test_shortest_route_geometry_and_generated_flag(net):
    r = shortest_route(net, 0, 250)
    assert r["generated"] is True
    assert r["nodes"][0] == 0 and r["nodes"][-1] == 250
    np.testing.assert_allclose(r["geometry"][0], [net.x[0], net.y[0]])
    np.testing.assert_allclose(r["geometry"][-1], [net.x[250], net.y[250]])
    src = net.edge_sources()
    assert np.array_equal(src[r["edges"]], r["nodes"][:-1])
    assert np.array_equal(net.indices[r["edges"]], r["nodes"][1:])
    same = shortest_route(net, (net.x[0], net.y[0]), (net.x[250], net.y[250]))
    assert same["travel_time_s"] == r["travel_time_s"]
    with pytest.raises(ValidationError):
        shortest_route(net, "a", 1)


def test_lon_lat_points_are_snapped(net):
    pts = np.column_stack([net.x[[4, 8]], net.y[[4, 8]]]) + 1e-6
    np.testing.assert_array_equal(travel_time_matrix(net, pts), travel_time_matrix(net, [4, 8]))
    with pytest.raises(ValidationError):
        travel_time_matrix(net, np.array([[1.5, 2.5, 3.5]]))
    with pytest.raises(GraphError):
        travel_time_matrix(net, [net.n_nodes])


def test_blocks_and_ch_cached_on_network(net):
    full = travel_time_matrix(net, method="phast")
    entry = net._ch_cache[False]
    assert entry["ch"] is not None and entry["ch"].n == net.n_nodes
    _ch._MEMO.clear()  # the network keeps its hierarchy even if the engine memo is emptied
    rows = [b for _, b in iter_travel_time_blocks(net, block_size=128)]
    np.testing.assert_array_equal(np.vstack(rows), full)
    assert _ch.find_ch(entry["graph"]) is entry["ch"]


def test_top_level_names():
    assert fietsstad.travel_time_matrix is travel_time_matrix
    assert fietsstad.shortest_route is shortest_route
