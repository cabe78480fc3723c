"""CCH re-weighting: exact under many weightings, deterministic in the thread count, memoised.

Oracles: scipy's Dijkstra (:func:`naive.scipy_times`, all pairs) and the engine's Dijkstra.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from fietsstad.engine import CSRGraph, _cch, _ch, build_cch, build_ch, travel_times
from fietsstad.errors import GraphError
from fietsstad.network.generate import generate_network
from naive import scipy_times, to_dtype


def _scipy_i32(g: CSRGraph) -> np.ndarray:
    sp = scipy_times(g.indptr, g.indices, g.weights)  # ticks
    tps = g.ticks_per_s
    sp = np.where(np.isfinite(sp), np.floor((sp + tps // 2) / tps), sp)
    return to_dtype(sp, dtype=np.int32)


def _phast(g: CSRGraph, ch) -> np.ndarray:
    return travel_times(g, ch=ch, method="phast", dtype=np.int32)


def _arcs(ch) -> int:
    return len(ch.up_indices) + len(ch.dn_src)


@pytest.fixture(scope="module")
def net():
    return generate_network(n_nodes=500, seed=31)  # GENERATED


def _weightings(net, rng):
    g = net.engine_graph()
    m = g.m
    yield "bike", g.weights
    yield "ebike", net.with_profile("ebike").engine_graph().weights
    yield "random", rng.integers(1, 400, m)
    yield "few values (ties)", rng.integers(1, 4, m)
    yield "uniform", np.full(m, 7)
    yield "zeros and ties", rng.integers(0, 3, m)
    yield "one-way by weight", np.where(rng.random(m) < 0.2, 10**6, g.weights)


@pytest.mark.parametrize("order", ["nested dissection", "hybrid"])
def test_pruned_hierarchy_is_exact_for_many_weightings(net, order):
    """Arc removal (perfect customization) keeps every all-pairs distance, ties included."""
    g0 = net.engine_graph()
    if order == "hybrid":
        cch = build_cch(g0, order=_cch.hybrid_order(g0, build_ch(g0), net.x, net.y))
    else:
        cch = build_cch(g0, net.x, net.y)
    rng = np.random.default_rng(5)
    for name, w in _weightings(net, rng):
        g = CSRGraph.from_arrays(g0.indptr, g0.indices, w, ticks_per_s=g0.ticks_per_s)
        pruned, basic = cch.customize(g), cch.customize(g, perfect=False)
        assert _arcs(pruned) <= _arcs(basic), name
        np.testing.assert_array_equal(_phast(g, pruned), _scipy_i32(g), err_msg=name)


@pytest.mark.parametrize("seed", range(6))
def test_pruned_hierarchy_on_random_graphs_with_random_weights(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(30, 120))
    m = int(rng.integers(n, 4 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))]
    g1 = CSRGraph.from_arrays(indptr, v, rng.integers(1, 50, m))
    share = (0.0, 0.3, 1.0)[seed % 3]
    cchs = [
        build_cch(g1),
        build_cch(g1, order=_cch.hybrid_order(g1, build_ch(g1), core_share=share)),
    ]
    for w in (rng.integers(1, 1000, m), rng.integers(0, 5, m)):
        g = CSRGraph.from_arrays(indptr, v, w)
        for cch in cchs:
            np.testing.assert_array_equal(_phast(g, cch.customize(g)), _scipy_i32(g))


def test_customization_is_the_same_for_every_thread_count(net, monkeypatch):
    g = net.with_profile("ebike").engine_graph()
    cch = build_cch(net.engine_graph(), net.x, net.y)
    monkeypatch.setattr(_cch, "PAR_MIN_LEVEL_NODES", 1)  # every level through prange
    before = numba.get_num_threads()
    got = []
    try:
        for t in sorted({1, 2, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(t)
            got.append(cch.customize(g))
    finally:
        numba.set_num_threads(before)
    ref = got[0]
    for ch in got[1:]:
        for f in ("up_indptr", "up_indices", "up_t", "dn_indptr", "dn_src", "dn_t", "rank"):
            np.testing.assert_array_equal(getattr(ch, f), getattr(ref, f), err_msg=f)
    np.testing.assert_array_equal(_phast(g, ref), _scipy_i32(g))


def test_customized_ch_is_memoised_for_travel_times(net):
    _ch._MEMO.clear()
    _cch._TOPO.clear()
    try:
        g = net.with_profile("ebike").engine_graph()
        ch = _cch.customized_ch(g, net.x, net.y)
        assert _ch.find_ch(g) is ch and _cch.customized_ch(g, net.x, net.y) is ch
        assert _cch.cch_for(net.engine_graph(), net.x, net.y) is _cch.find_cch(g, net.x, net.y)
        np.testing.assert_array_equal(
            travel_times(g, method="phast", dtype=np.int32), _scipy_i32(g)
        )
    finally:
        _ch._MEMO.clear()
        _cch._TOPO.clear()


def test_a_stored_order_gives_the_same_hierarchy(net):
    g = net.engine_graph()
    cch = build_cch(g, net.x, net.y)
    again = build_cch(g, order=cch.order)
    a, b = cch.customize(g), again.customize(g)
    for f in ("rank", "up_indptr", "up_indices", "up_t", "dn_indptr", "dn_src", "dn_t"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    for bad in (cch.order[:-1], np.zeros(g.n, int), cch.order + 1):
        with pytest.raises(GraphError, match="permutation"):
            build_cch(g, order=bad)
    with pytest.raises(GraphError, match="core_share"):
        _cch.hybrid_order(g, build_ch(g), core_share=1.5)


def test_hybrid_order_falls_back_to_dissection_on_a_dense_core(net, monkeypatch):
    g = net.engine_graph()
    monkeypatch.setattr(_cch, "MAX_CORE_CLIQUE_EDGES", 0)
    order = _cch.hybrid_order(g, build_ch(g), net.x, net.y, core_share=0.3)
    np.testing.assert_array_equal(order, _cch.nested_dissection_order(g, net.x, net.y))
