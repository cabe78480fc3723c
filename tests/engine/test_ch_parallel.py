"""The parallel contraction: exact distances vs scipy, and the same hierarchy for any thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fietsstad import load_network
from fietsstad.engine import _ch as chmod
from fietsstad.engine import build_ch, travel_times
from fietsstad.network.generate import generate_network
from naive import scipy_times, to_dtype

_FIELDS = chmod._CH_ARRAYS + ("pos", "order")


def _build(graph, threads, **kw):
    """A fresh hierarchy of ``graph`` built on ``threads`` threads."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        chmod._MEMO.clear()
        return build_ch(graph, **kw)
    finally:
        numba.set_num_threads(before)


def _contracted(g, threads, all_parallel):
    """A fresh hierarchy of ``g``, optionally with every step of every round in parallel."""
    src, dst, w = chmod._dedupe(g, g.weights.astype(np.int64) << 32)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        rank, level, pools, _ = chmod._contract(g.n, src, dst, w, 64, all_parallel=all_parallel)
    finally:
        numba.set_num_threads(before)
    return chmod._assemble(g.n, rank, level, pools, len(src), "k", "k", 0.0, False)


def _same(a, b):
    for f in _FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.n_shortcuts == b.n_shortcuts


def test_generated_network_all_pairs_exact_and_thread_independent():
    arrs = generate_network(1500, seed=11).csr("travel_time_ticks")
    one = _build(arrs, 1)
    two = _build(arrs, 2)
    _same(one, two)
    ref = to_dtype(scipy_times(*arrs), dtype=np.int32)
    np.testing.assert_array_equal(travel_times(arrs, dtype=np.int32, ch=two, method="phast"), ref)


def test_secondary_weights_thread_independent():
    net = generate_network(800, seed=3)
    arrs = net.csr("travel_time_ticks")
    sec = net.csr("length")[2]
    _same(_build(arrs, 1, secondary=sec), _build(arrs, 2, secondary=sec))


@pytest.mark.parametrize("limit", [1, 1000])
def test_witness_limits_keep_exactness(limit):
    arrs = generate_network(600, seed=5).csr("travel_time_ticks")
    ref = to_dtype(scipy_times(*arrs), dtype=np.int32)
    ch = _build(arrs, 2, settle_limit=limit)
    np.testing.assert_array_equal(travel_times(arrs, dtype=np.int32, ch=ch, method="phast"), ref)


def test_liechtenstein_exact_and_thread_independent(liechtenstein_pbf):
    net = load_network(file=liechtenstein_pbf)
    g = net.engine_graph()
    one = _build(g, 1)
    two = _build(g, 2)
    _same(one, two)
    # every source against scipy's float64 Dijkstra on the same graph (cheapest parallel edge)
    src = np.repeat(np.arange(g.n), np.diff(g.indptr))
    keep = src != g.indices
    u, v, w = src[keep], g.indices[keep], g.weights[keep].astype(np.float64)
    order = np.lexsort((w, v, u))
    first = np.ones(len(order), bool)
    first[1:] = (u[order][1:] != u[order][:-1]) | (v[order][1:] != v[order][:-1])
    sel = order[first]
    m = csr_matrix((w[sel], (u[sel], v[sel])), shape=(g.n, g.n))
    ref = dijkstra(m, directed=True)  # all pairs (4,858 nodes)
    got = travel_times(g, dtype=np.float32, ch=two, method="phast")
    reach = np.isfinite(ref)
    np.testing.assert_array_equal(np.isfinite(got), reach)
    # float32 seconds of integer deciseconds: exact to float32 rounding of the tick count
    np.testing.assert_allclose(got[reach] * g.ticks_per_s, ref[reach], rtol=1e-6)


@pytest.mark.parametrize("which", ["generated", "liechtenstein"])
def test_every_step_in_parallel_equals_serial(which, request):
    """Priorities, local minima, selection, contraction and APPLY all launched in parallel give
    the hierarchy of one thread: the timed choice between serial and parallel steps cannot
    change a result."""
    if which == "generated":
        g = generate_network(1200, seed=7).engine_graph()
    else:
        g = load_network(file=request.getfixturevalue("liechtenstein_pbf")).engine_graph()
    one = _contracted(g, 1, False)
    _same(one, _contracted(g, 2, True))
    _same(one, _contracted(g, 2, False))


def test_step_dispatch_decisions():
    """The serial / parallel choice of a step: parallel when the cycles it saves exceed the
    launch overhead; declined steps probe now and then, less often while launches stay dear;
    the overhead is the median of the last three launches (hand-computed)."""
    tune = np.array([100.0, 1.0, 1.0, 100.0, 1.0, 1e5, 0.0, 16.0, 1e5, 1e5, 1e5, 1.0])
    cyc = np.zeros((2, 16), np.int64)
    assert chmod._choose(chmod._PRIORITY, 10_000, 1, tune) == 0  # one thread
    assert chmod._choose(chmod._PRIORITY, 10_000, 2, tune) == 1  # saves 5e5 > 1e5 cycles
    assert chmod._choose(chmod._LOCAL_MIN, 10_000, 2, tune) == 0  # saves 5e3: never probes
    assert tune[chmod._DECLINED] == 0
    # saves 2e4 > 1e5 / 8: declined, counted, and the 16th such step probes
    assert [chmod._choose(chmod._PRIORITY, 400, 2, tune) for _ in range(16)] == [0] * 15 + [2]
    # the probe (chunks of 1000 cycles on threads 0 and 1, took 1e6) finds launches dear
    cyc[0, :8], cyc[1, :8] = 1000, [0, 0, 0, 0, 1, 1, 1, 1]
    chmod._account(2, chmod._PRIORITY, 400, 2, 1e6, tune, cyc)
    assert tune[chmod._PROBE] == 32 and tune[chmod._DECLINED] == 0
    assert tune[chmod._OVER] == 1e5  # median of (1e6 - 4000, 1e5, 1e5)
    chmod._account(1, chmod._PRIORITY, 400, 2, 1e6, tune, cyc)
    assert tune[chmod._OVER] == 1e6 - 4000 and tune[chmod._PROBE] == 16
    # cycles per item: the mean of the old estimate and 2 threads x 4000 cycles / 400 items
    assert tune[chmod._PRIORITY] == pytest.approx(0.5 * (0.5 * (100 + 20) + 20))
    forced = tune.copy()
    forced[chmod._TIMED] = -1  # tests: every step of more than one item in parallel
    assert chmod._choose(chmod._LOCAL_MIN, 2, 2, forced) == 1
