"""PHAST time matrices on uint16 saturating lanes, int32 lanes and the int32 re-sweep of a
saturated group, each against scipy's Dijkstra (independent oracle) on generated networks and
on the real Liechtenstein extract."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fietsstad.engine import CSRGraph, build_ch, travel_times
from fietsstad.engine import _phast as P
from fietsstad.network import generate_network

#: lane modes of :func:`fietsstad.engine._phast.lane_mode`: None = chosen, 0 = int32 lanes,
#: 2 = uint16 lanes with the int32 re-sweep (mode 1 is exact only when proven, tested via None)
MODES = [None, 0, 2]


def scipy_ticks(g: CSRGraph, sources) -> np.ndarray:
    """Exact int tick distances (float64: exact below 2**53; inf = unreachable)."""
    a = csr_matrix((g.weights.astype(np.float64), g.indices, g.indptr), shape=(g.n, g.n))
    # duplicate edges: csr_matrix would sum them, so keep the cheapest explicitly
    u = np.repeat(np.arange(g.n), np.diff(g.indptr))
    order = np.lexsort((g.weights, g.indices, u))
    first = np.ones(order.size, bool)
    first[1:] = (u[order][1:] != u[order][:-1]) | (g.indices[order][1:] != g.indices[order][:-1])
    k = order[first]
    a = csr_matrix((g.weights[k].astype(np.float64) + 0.0, (u[k], g.indices[k])), shape=a.shape)
    # zero weights vanish from a sparse matrix: make every weight w*B + 1 (B = n), exact ticks
    # are then d // B (a simple path has fewer than n edges)
    a.data = a.data * g.n + 1.0
    d = dijkstra(a, directed=True, indices=np.asarray(sources))
    return np.where(np.isinf(d), np.inf, np.floor(d / g.n))


def expected(ticks: np.ndarray, tps: int, dtype, cutoff_ticks=None) -> np.ndarray:
    """Seconds as the engine writes them: round half up once; unreachable / beyond the cut-off
    as the dtype's sentinel."""
    t = ticks.copy()
    if cutoff_ticks is not None:
        t[t > cutoff_ticks] = np.inf
    fin = np.isfinite(t)
    dt = np.dtype(dtype)
    if dt == np.float32:
        return np.where(fin, t / tps, np.inf).astype(np.float32)
    s = np.floor((np.where(fin, t, 0) + tps // 2) / tps)
    sentinel = 65535 if dt == np.uint16 else 2**31 - 1
    return np.where(fin, s, sentinel).astype(dt)


def _scaled(g: CSRGraph, factor: int) -> CSRGraph:
    return CSRGraph.from_arrays(g.indptr, g.indices, g.weights * factor, ticks_per_s=10)


@pytest.fixture(scope="module")
def gen():
    g = generate_network(n_nodes=1500, seed=3).engine_graph()
    return g, build_ch(g)


@pytest.fixture(scope="module")
def gen_far():
    """The same topology with every time x6: distances well beyond 65535 ticks (6553.5 s)."""
    g = _scaled(generate_network(n_nodes=1500, seed=3).engine_graph(), 6)
    return g, build_ch(g)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
def test_lanes_equal_scipy_on_generated(gen, mode, dtype, monkeypatch):
    g, ch = gen
    monkeypatch.setattr(P, "FORCE_MODE", mode)
    src = np.arange(0, g.n, 5)
    ref = scipy_ticks(g, src)
    got = travel_times(g, src, dtype=dtype, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(ref, 10, dtype))
    assert P.LAST_REDO == 0  # nothing here reaches 65535 ticks


def test_bound_is_an_upper_bound(gen, gen_far):
    for g, ch in (gen, gen_far):
        strong, bound = P.lane_bound(g, ch)
        ref = scipy_ticks(g, np.arange(0, g.n, 11))
        assert strong and np.isfinite(ref).all()
        assert ref.max() <= bound


def _exact_top_bound(g: CSRGraph, ch) -> int:
    """max d(s, c) + max d(c, t) for the top node c by scipy (forward and reversed graph), or
    -1 when some distance is infinite: what :func:`fietsstad.engine._phast.lane_bound` must
    return."""
    c = int(ch.order[0])
    fwd = scipy_ticks(g, [c])[0]
    bwd = scipy_ticks(g.reverse(), [c])[0]
    if not (np.isfinite(fwd).all() and np.isfinite(bwd).all()):
        return -1
    return int(fwd.max() + bwd.max())


def test_bound_equals_scipy_through_the_top_node(gen, gen_far, li):
    sink = CSRGraph.from_arrays([0, 1, 2, 4, 4], [1, 2, 0, 3], [3, 3, 4, 7])
    one = CSRGraph.from_arrays([0, 0], [], [])
    for g, ch in (gen, gen_far, li, (sink, build_ch(sink)), (one, build_ch(one))):
        P._BOUNDS.clear()
        strong, bound = P.lane_bound(g, ch)
        exact = _exact_top_bound(g, ch)
        assert (strong, bound if strong else -1) == (exact >= 0, exact)


@pytest.mark.parametrize("mode", MODES)
def test_saturated_groups_are_swept_again_in_int32(gen_far, mode, monkeypatch):
    g, ch = gen_far
    monkeypatch.setattr(P, "FORCE_MODE", mode)
    src = np.arange(0, g.n, 3)
    ref = scipy_ticks(g, src)
    assert ref.max() > 65535  # the uint16 lanes must saturate somewhere
    got = travel_times(g, src, dtype=np.int32, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(ref, 10, np.int32))
    if mode != 0:  # the chosen mode is 2 here (the bound proves nothing)
        assert P.LAST_REDO > 0
    u16 = travel_times(g, src, dtype=np.uint16, method="phast", ch=ch)
    np.testing.assert_array_equal(u16, expected(ref, 10, np.uint16))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cutoff_s", [0.0, 654.3, 6553.4, 6553.5, 9000.0])
def test_cutoffs_around_the_uint16_label_range(gen_far, mode, cutoff_s, monkeypatch):
    g, ch = gen_far
    monkeypatch.setattr(P, "FORCE_MODE", mode)
    src = np.arange(1, g.n, 13)
    tgt = np.arange(g.n)[::-2]  # a subset, reversed
    ref = scipy_ticks(g, src)[:, tgt]
    got = travel_times(g, src, tgt, dtype=np.int32, cutoff=cutoff_s, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(ref, 10, np.int32, np.floor(cutoff_s * 10)))


def test_not_strongly_connected_uses_int32_lanes():
    # 0 -> 1 -> 2 -> 0 plus a sink 3 reached from 2 only: unreached pairs exist
    g = CSRGraph.from_arrays([0, 1, 2, 4, 4], [1, 2, 0, 3], [30000, 30000, 40000, 7],
                             ticks_per_s=10)  # fmt: skip
    ch = build_ch(g)
    assert P.lane_bound(g, ch)[0] is False
    assert P.lane_mode(g, ch, 2**30) == 0
    assert P.lane_mode(g, ch, 1000) == 1  # a cut-off below 65535 ticks: uint16 is exact
    got = travel_times(g, dtype=np.int32, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(scipy_ticks(g, range(4)), 10, np.int32))


def test_tick_rounding_half_up_at_every_remainder(monkeypatch):
    # a path 0 -> 1 -> ... with ticks 0..19 away: every remainder mod 10 occurs twice
    n = 21
    g = CSRGraph.from_arrays(np.r_[np.arange(n), n - 1], np.arange(1, n), np.ones(n - 1, int),
                             ticks_per_s=10)  # fmt: skip
    ch = build_ch(g)
    for mode in MODES:
        monkeypatch.setattr(P, "FORCE_MODE", mode)
        got = travel_times(g, [0], dtype=np.uint16, method="phast", ch=ch)[0]
        assert got.tolist() == [(t + 5) // 10 for t in range(n)]


@pytest.fixture(scope="module")
def li(liechtenstein_net):
    g = liechtenstein_net.engine_graph()
    return g, build_ch(g)


@pytest.mark.parametrize("mode", MODES)
def test_liechtenstein_lanes_equal_scipy(li, mode, monkeypatch):
    g, ch = li
    monkeypatch.setattr(P, "FORCE_MODE", mode)
    src = np.arange(0, g.n, max(1, g.n // 150))
    ref = scipy_ticks(g, src)
    got = travel_times(g, src, dtype=np.uint16, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(ref, 10, np.uint16))
    far = _scaled(g, 4)  # beyond 65535 ticks: the int32 re-sweep on the real topology
    got = travel_times(far, src, dtype=np.int32, method="phast", ch=build_ch(far))
    np.testing.assert_array_equal(got, expected(ref * 4, 10, np.int32))


@pytest.mark.parametrize("mode", MODES)
def test_dense_graph_grows_the_upward_label_lists(mode, monkeypatch):
    # a dense random graph: upward search spaces of ~240 of the 500 nodes, so a group's 32
    # searches need ~7,800 list entries on average, around the initial 8,192: groups above it
    # are collected again into larger lists (the result must not change)
    rng = np.random.default_rng(7)
    n, m = 500, 30_000
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    u, v = np.r_[u, np.arange(n)], np.r_[v, (np.arange(n) + 1) % n]  # a ring: strongly connected
    order = np.lexsort((v, u))
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))]
    g = CSRGraph.from_arrays(indptr, v[order], rng.integers(1, 400, u.size), ticks_per_s=10)
    ch = build_ch(g)
    monkeypatch.setattr(P, "FORCE_MODE", mode)
    src = np.arange(0, n, 3)
    got = travel_times(g, src, dtype=np.uint16, method="phast", ch=ch)
    np.testing.assert_array_equal(got, expected(scipy_ticks(g, src), 10, np.uint16))
