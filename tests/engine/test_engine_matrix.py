"""Many-to-many travel times against scipy.sparse.csgraph.dijkstra, pair by pair."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fietsstad.engine import (
    UNREACHABLE_I32,
    UNREACHABLE_U16,
    CSRGraph,
    check_memory,
    estimate_matrix_bytes,
    iter_blocks,
    travel_times,
)
from fietsstad.errors import GraphError, MemoryBudgetError
from naive import perturbed_grid, random_graph, scipy_lexicographic, scipy_times, to_dtype

METHODS = ["dijkstra", "phast"]
HSET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def graphs(draw, max_n=14):
    n = draw(st.integers(0, max_n))
    m = draw(st.integers(0, 4 * max(n, 1)))
    seed = draw(st.integers(0, 2**32 - 1))
    zero = draw(st.sampled_from([0.0, 0.1, 0.5]))
    return random_graph(
        np.random.default_rng(seed), n, m, wmax=draw(st.integers(1, 30)), zero_share=zero
    )


@pytest.mark.parametrize("method", METHODS)
@HSET
@given(arrs=graphs())
def test_full_matrix_equals_scipy(arrs, method):
    ref = scipy_times(*arrs)
    got = travel_times(CSRGraph.from_arrays(*arrs), dtype=np.int32, method=method)
    assert got.shape == ref.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got, to_dtype(ref, dtype=np.int32))


@pytest.mark.parametrize("method", METHODS)
@HSET
@given(arrs=graphs(), cutoff=st.integers(0, 60), data=st.data())
def test_subsets_and_cutoff(arrs, method, cutoff, data):
    n = len(arrs[0]) - 1
    if n == 0:
        return
    src = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=20)), dtype=np.int64)
    tgt = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20)))
    ref = scipy_times(*arrs)[np.ix_(src, tgt)] if len(src) else np.zeros((0, len(tgt)))
    got = travel_times(arrs, src, tgt, cutoff=cutoff, dtype=np.uint16, method=method)
    np.testing.assert_array_equal(got, to_dtype(ref, cutoff=cutoff, dtype=np.uint16))


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
@pytest.mark.parametrize("method", METHODS)
def test_dtypes_and_sentinels(dtype, method):
    arrs = perturbed_grid(9, 11, seed=3, oneway_share=0.3, drop_share=0.2)
    ref = scipy_times(*arrs)
    assert np.isinf(ref).any() and np.isfinite(ref).any()  # the case really has unreachable pairs
    got = travel_times(arrs, dtype=dtype, method=method)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, to_dtype(ref, dtype=dtype))
    sentinel = {np.uint16: UNREACHABLE_U16, np.int32: UNREACHABLE_I32, np.float32: np.inf}[dtype]
    assert np.all(got[np.isinf(ref)] == sentinel)


@pytest.mark.parametrize("method", METHODS)
def test_street_grid_with_cutoffs(method):
    arrs = perturbed_grid(30, 40, seed=11)
    ref = scipy_times(*arrs)
    for cutoff in (0, 45, 300, 900, None):
        got = travel_times(arrs, cutoff=cutoff, dtype=np.int32, method=method)
        np.testing.assert_array_equal(got, to_dtype(ref, cutoff=cutoff, dtype=np.int32))


def test_uint16_overflow_raises_or_saturates():
    # a 3-node chain of 40,000 s edges: 80,000 s does not fit uint16
    g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40_000, 40_000])
    with pytest.raises(GraphError, match="int32"):
        travel_times(g)
    got = travel_times(g, saturate=True)
    assert got[0].tolist() == [0, 40_000, 65534]
    assert got[2].tolist() == [UNREACHABLE_U16, UNREACHABLE_U16, 0]
    assert travel_times(g, dtype="int32")[0, 2] == 80_000


def test_int32_sums_saturate_instead_of_overflowing():
    big = 2**31 - 2
    g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [big, big])
    got = travel_times(g, dtype="int32", method="dijkstra")
    assert got[0].tolist() == [0, big, big]  # "at least" 2**31 - 2, never negative
    with pytest.raises(GraphError):
        travel_times(g, method="phast")


@pytest.mark.parametrize("method", METHODS)
def test_secondary_matches_lexicographic_oracle(method):
    rng = np.random.default_rng(5)
    for _ in range(20):
        n = int(rng.integers(1, 15))
        arrs = random_graph(rng, n, int(rng.integers(0, 4 * n)), wmax=6, zero_share=0.2)
        sec = rng.integers(0, 50, size=len(arrs[1]))
        t_ref, s_ref = scipy_lexicographic(*arrs, sec)
        t, s = travel_times(arrs, dtype="int32", method=method, secondary=sec)
        np.testing.assert_array_equal(t, to_dtype(t_ref, dtype=np.int32))
        np.testing.assert_array_equal(s, to_dtype(s_ref, dtype=np.int32))


@pytest.mark.parametrize("method", METHODS)
def test_secondary_is_length_of_the_networkx_fastest_path(method):
    nx = importlib.import_module("networkx")
    rng = np.random.default_rng(8)
    arrs = perturbed_grid(12, 12, seed=2, wmin=1000, wmax=1_000_000)  # tie-free in practice
    u = np.repeat(np.arange(144), np.diff(arrs[0]))
    length = rng.integers(10, 500, size=len(u))
    G = nx.DiGraph()
    for a, b, w, ln in zip(u.tolist(), arrs[1].tolist(), arrs[2].tolist(), length.tolist()):
        G.add_edge(a, b, w=w, length=ln)
    src = [0, 17, 77, 143]
    t, d = travel_times(arrs, src, dtype="int32", method=method, secondary=length, cutoff=None)
    for i, s in enumerate(src):
        paths = nx.single_source_dijkstra_path(G, s, weight="w")
        for v, path in paths.items():
            assert d[i, v] == sum(G[a][b]["length"] for a, b in zip(path[:-1], path[1:]))
            assert t[i, v] == sum(G[a][b]["w"] for a, b in zip(path[:-1], path[1:]))


@pytest.mark.parametrize("method", METHODS)
def test_iter_blocks_reassemble_the_matrix(method):
    arrs = perturbed_grid(10, 10, seed=1)
    full = travel_times(arrs, method=method)
    src = np.arange(0, 100, 3)
    blocks = list(iter_blocks(arrs, src, block_size=7, method=method))
    assert [len(ids) for ids, _ in blocks] == [7, 7, 7, 7, 6]
    np.testing.assert_array_equal(np.concatenate([ids for ids, _ in blocks]), src)
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), full[src])
    sec = np.arange(len(arrs[1])) % 7
    for ids, b, s in iter_blocks(arrs, src, block_size=10, method=method, secondary=sec):
        t_ref, s_ref = travel_times(arrs, ids, method="dijkstra", secondary=sec)
        np.testing.assert_array_equal(b, t_ref)
        np.testing.assert_array_equal(s, s_ref)


def test_one_node_and_empty_graphs():
    for method in METHODS:
        assert travel_times(CSRGraph.from_arrays([0, 0], [], []), method=method).tolist() == [[0]]
        assert travel_times(CSRGraph.from_arrays([0], [], []), method=method).shape == (0, 0)
        assert travel_times(([0, 1], [0], [5]), method=method).tolist() == [[0]]  # self-loop
    assert travel_times(([0, 0, 0], [], []), [], [1]).shape == (0, 1)


def test_million_node_matrix_is_refused_before_allocation():
    n = 1_000_000
    g = CSRGraph(np.zeros(n + 1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32))
    with pytest.raises(MemoryBudgetError) as err:
        travel_times(g)
    msg = str(err.value)
    for alt in ("cut-off", "subset", "iter_blocks", "distributed"):
        assert alt in msg
    assert estimate_matrix_bytes(n, n, np.uint16) == 2 * 10**12
    with pytest.raises(MemoryBudgetError):
        check_memory(estimate_matrix_bytes(n, n, np.float32))
    check_memory(1024)  # small requests pass


def test_bad_arguments():
    g = CSRGraph.from_arrays([0, 1, 1], [1], [3])
    with pytest.raises(GraphError, match="sources"):
        travel_times(g, [2])
    with pytest.raises(GraphError, match="targets"):
        travel_times(g, None, [-1])
    with pytest.raises(GraphError, match="dtype"):
        travel_times(g, dtype=np.int8)
    with pytest.raises(GraphError, match="method"):
        travel_times(g, method="bfs")
    with pytest.raises(GraphError, match="cutoff"):
        travel_times(g, cutoff=-1)
    with pytest.raises(GraphError, match="secondary"):
        travel_times(g, secondary=[1, 2])
    with pytest.raises(GraphError, match="block_size"):
        next(iter_blocks(g, block_size=0))
