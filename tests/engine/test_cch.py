"""The customizable contraction hierarchy: structure, exactness vs Dijkstra and scipy, re-weighting.

Every matrix is compared in full (or for many sources on the real extract) with the engine's
Dijkstra and with scipy (:mod:`naive`); travel times are integers, so equality is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from fietsstad.engine import CCH, CSRGraph, build_cch, travel_times
from fietsstad.errors import GraphError, MemoryBudgetError
from fietsstad.network.generate import generate_network
from naive import perturbed_grid, random_graph, scipy_times, to_csr, to_dtype


def _phast(g: CSRGraph, ch, sources=None) -> np.ndarray:
    return travel_times(g, sources, ch=ch, method="phast", dtype=np.int32)


def _check_exact(g: CSRGraph, ch, sources=None, *, with_scipy: bool = True) -> None:
    got = _phast(g, ch, sources)
    ref = travel_times(g, sources, method="dijkstra", dtype=np.int32)
    np.testing.assert_array_equal(got, ref)
    if with_scipy:
        sp = scipy_times(g.indptr, g.indices, g.weights)  # sums of ticks
        tps = g.ticks_per_s  # the engine rounds them half up to seconds at the output
        sp = np.where(np.isfinite(sp), np.floor((sp + tps // 2) / tps), sp)
        rows = sp if sources is None else sp[sources]
        np.testing.assert_array_equal(got, to_dtype(rows, dtype=np.int32))


def test_structure_invariants():
    g = CSRGraph.from_arrays(*perturbed_grid(12, 12, seed=3))
    cch = build_cch(g)
    ch = cch.customize(g.weights)
    assert sorted(cch.rank.tolist()) == list(range(g.n))
    assert np.array_equal(cch.order[cch.rank], np.arange(g.n))
    assert np.array_equal(ch.order[ch.pos], np.arange(g.n))
    up_src = np.repeat(np.arange(g.n), np.diff(ch.up_indptr))
    assert np.all(ch.rank[ch.order[ch.up_indices]] > ch.rank[ch.order[up_src]])
    dn_head = np.repeat(np.arange(g.n), np.diff(ch.dn_indptr))
    assert np.all(ch.dn_src < dn_head)  # the sweep reads only finished positions
    assert np.all(ch.level[ch.order[ch.dn_src]] > ch.level[ch.order[dn_head]])
    assert cch.n_edges >= cch.n_input_edges
    assert ch.up_t.max() < 2**30 and ch.dn_t.max() < 2**30  # no infinite weight reaches PHAST


@pytest.mark.parametrize("coords", [True, False], ids=["geometric", "bfs"])
def test_generated_network_full_matrix(coords):
    net = generate_network(n_nodes=700, seed=5)  # GENERATED
    g = net.engine_graph()
    cch = build_cch(g, net.x, net.y) if coords else build_cch(g)
    _check_exact(g, cch.customize(g.weights))


def test_recustomized_for_ebike_equals_dijkstra_on_the_reweighted_graph():
    net = generate_network(n_nodes=700, seed=6)  # GENERATED
    g = net.engine_graph()
    e = net.with_profile("ebike").engine_graph()
    assert np.array_equal(e.indices, g.indices) and not np.array_equal(e.weights, g.weights)
    cch = build_cch(g, net.x, net.y)
    _check_exact(g, cch.customize(g.weights), with_scipy=False)
    _check_exact(e, cch.customize(e.weights))
    _check_exact(e, cch.customize(e), with_scipy=False)  # a graph of the same topology


@pytest.mark.parametrize("perfect", [True, False], ids=["perfect", "basic"])
@pytest.mark.parametrize("seed", range(8))
def test_random_directed_graphs(seed, perfect):
    """One-way arcs, parallel arcs of different weights, self-loops, many zero weights."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 90))
    g = CSRGraph.from_arrays(*random_graph(rng, n, int(rng.integers(n, 4 * n)), zero_share=0.3))
    cch = build_cch(g)
    _check_exact(g, cch.customize(g.weights, perfect=perfect))
    w2 = rng.integers(0, 3 if seed % 2 else 50, g.m)  # few distinct weights: many ties
    g2 = CSRGraph.from_arrays(g.indptr, g.indices, w2)
    _check_exact(g2, cch.customize(w2, perfect=perfect))


def test_perfect_customization_prunes_and_keeps_the_basic_arcs_it_needs():
    net = generate_network(n_nodes=700, seed=8)  # GENERATED
    g = net.engine_graph()
    cch = build_cch(g, net.x, net.y)
    basic, perfect = cch.customize(g.weights, perfect=False), cch.customize(g.weights)
    assert len(perfect.dn_src) + len(perfect.up_indices) < len(basic.dn_src) + len(basic.up_indices)
    np.testing.assert_array_equal(_phast(g, perfect), _phast(g, basic))


def test_parallel_arcs_loops_and_disconnected_parts():
    # 0 <-> 1 (parallel 9 and 4), 1 -> 2 one-way, loop at 2; 3 - 4 - 5 apart; 6 isolated
    u = np.array([0, 0, 1, 1, 2, 3, 4, 4, 5])
    v = np.array([1, 1, 0, 2, 2, 4, 3, 5, 4])
    w = np.array([9, 4, 3, 7, 1, 2, 2, 5, 6])
    g = CSRGraph.from_arrays(*to_csr(7, u, v, w))
    for x in (None, np.arange(7.0)):
        cch = build_cch(g, x, None if x is None else np.zeros(7))
        got = _phast(g, cch.customize(g.weights))
        _check_exact(g, cch.customize(g.weights))
        assert got[0, 2] == 11 and got[2, 0] == 2**31 - 1 and got[0, 3] == 2**31 - 1
        assert got[3, 5] == 7 and got[5, 3] == 8 and got[6, 6] == 0


def test_grid_with_coordinates_and_tiny_graphs():
    rows, cols = 20, 17
    g = CSRGraph.from_arrays(*perturbed_grid(rows, cols, seed=11, oneway_share=0.3))
    yy, xx = np.divmod(np.arange(rows * cols), cols)
    _check_exact(g, build_cch(g, xx, yy).customize(g.weights))
    for n in (0, 1):
        h = CSRGraph.from_arrays(np.zeros(n + 1, int), [], [])
        assert _phast(h, build_cch(h).customize(h.weights)).shape == (n, n)


@pytest.mark.slow
def test_liechtenstein_extract(liechtenstein_net):
    net = liechtenstein_net
    g = net.engine_graph()
    src = np.arange(0, g.n, max(1, g.n // 300))
    cch = build_cch(g, net.x, net.y)
    _check_exact(g, cch.customize(g.weights), src, with_scipy=False)
    e = net.with_profile("ebike").engine_graph()
    _check_exact(e, cch.customize(e.weights), src, with_scipy=False)
    # BFS-based order (no coordinates) on the real topology too
    _check_exact(g, build_cch(g).customize(g.weights), src[::3], with_scipy=False)


def test_bad_input_is_refused():
    g = CSRGraph.from_arrays(*perturbed_grid(6, 6, seed=1))
    with pytest.raises(MemoryBudgetError, match="max_fill_edges"):
        build_cch(g, max_fill_edges=3)
    with pytest.raises(GraphError, match="max_fill_edges"):
        build_cch(g, max_fill_edges=-1)
    with pytest.raises(GraphError, match="both x and y"):
        build_cch(g, x=np.zeros(g.n))
    with pytest.raises(GraphError, match="x must have one coordinate per node"):
        build_cch(g, x=np.zeros(3), y=np.zeros(3))
    with pytest.raises(GraphError, match="y contains NaN"):
        build_cch(g, x=np.zeros(g.n), y=np.full(g.n, np.nan))
    cch = build_cch(g)
    assert isinstance(cch, CCH)
    with pytest.raises(GraphError, match="weights has length"):
        cch.customize(np.ones(3))
    with pytest.raises(GraphError, match="weights must be >= 0"):
        cch.customize(-np.ones(g.m))
    with pytest.raises(GraphError, match="below 2\\*\\*30"):
        cch.customize(np.full(g.m, 2**28))
    other = CSRGraph.from_arrays(*perturbed_grid(6, 6, seed=2))
    with pytest.raises(GraphError, match="another topology"):
        cch.customize(other)
    with pytest.raises(GraphError, match="another graph"):  # the hierarchy knows its weights
        travel_times(g, ch=cch.customize(g.weights * 2), method="phast")


def test_separator_is_a_minimum_vertex_cover_of_the_cut():
    from fietsstad.engine._cch import _min_cover, _undirected_edges

    g = CSRGraph.from_arrays(*perturbed_grid(9, 9, seed=4))
    a, b = (x.astype(np.int64) for x in _undirected_edges(g))
    side = np.arange(g.n) % 9 >= 4  # columns 4.. on one side
    cover = _min_cover(side, a, b)
    cut = side[a] != side[b]
    assert np.all(np.isin(a[cut], cover) | np.isin(b[cut], cover))  # every cut edge covered
    # a cut between two columns of a grid is a matching: its cover has one node per edge
    assert len(cover) == int(cut.sum())
