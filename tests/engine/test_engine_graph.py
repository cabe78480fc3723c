"""CSRGraph validation: bad input raises GraphError with a clear message, never a numba crash."""

from __future__ import annotations

import numpy as np
import pytest

from fietsstad.engine import CSRGraph, predecessors, shortest_path, travel_times
from fietsstad.errors import FietsstadError, GraphError
from naive import perturbed_grid, scipy_times


@pytest.mark.parametrize(
    ("indptr", "indices", "weights", "match"),
    [
        ([0, 1, 1], [1], [np.nan], "NaN"),
        ([0, 1, 1], [1], [np.inf], "inf"),
        ([0, 1, 1], [1], [-1], "negative"),
        ([0, 1, 1], [1], [1.5], "integers"),
        ([0, 1, 1], [2], [1], "indices"),
        ([0, 1, 1], [-1], [1], "indices"),
        ([0, 2, 1], [1, 0], [1, 1], "non-decreasing|end"),
        ([1, 1, 1], [1], [1], "start at 0"),
        ([0, 1, 1], [1], [1, 2], "length"),
        ([0, 1, 1], [1], [2**31], "2\\*\\*31"),
        ([[0, 1, 1]], [1], [1], "one-dimensional"),
        ([], [], [], "n \\+ 1"),
        ([0, 1, 1], ["a"], [1], "integer"),
    ],
)
def test_invalid_graphs_raise_graph_error(indptr, indices, weights, match):
    with pytest.raises(GraphError, match=match) as err:
        CSRGraph.from_arrays(indptr, indices, weights)
    assert isinstance(err.value, FietsstadError)


def test_casts_and_reverse():
    g = CSRGraph.from_arrays(
        np.array([0, 2, 3, 3], np.int64), np.array([1, 2, 2], np.uint8), np.array([4.0, 9.0, 3.0])
    )
    assert g.indptr.dtype == g.indices.dtype == g.weights.dtype == np.int32
    r = g.reverse()
    assert r.indptr.tolist() == [0, 0, 1, 3]
    assert sorted(zip(r.edge_sources().tolist(), r.indices.tolist(), r.weights.tolist())) == [
        (1, 0, 4),
        (2, 0, 9),
        (2, 1, 3),
    ]
    ref = scipy_times(g.indptr, g.indices, g.weights)
    np.testing.assert_array_equal(travel_times(r, dtype="float32"), ref.T.astype(np.float32))
    assert g.content_hash() != r.content_hash()


def test_shortest_path_and_predecessors_follow_real_edges():
    arrs = perturbed_grid(8, 9, seed=4)
    g = CSRGraph.from_arrays(*arrs)
    ref = scipy_times(*arrs)
    u = g.edge_sources()
    w = {}
    for a, b, c in zip(u.tolist(), g.indices.tolist(), g.weights.tolist()):
        w[(a, b)] = min(c, w.get((a, b), c))
    for s in (0, 13, 71):
        pred = predecessors(g, s)
        assert pred[s] == -1
        for t in (5, 40, 66):
            if np.isinf(ref[s, t]):
                with pytest.raises(GraphError, match="unreachable"):
                    shortest_path(g, s, t)
                continue
            p = shortest_path(g, s, t)
            assert p[0] == s and p[-1] == t and p.dtype == np.int32
            assert sum(w[(a, b)] for a, b in zip(p[:-1].tolist(), p[1:].tolist())) == ref[s, t]
            assert pred[t] == (p[-2] if len(p) > 1 else -1)
    with pytest.raises(GraphError):
        shortest_path(g, 0, 10**6)
