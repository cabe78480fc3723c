"""The contraction hierarchy: structure invariants, exactness vs scipy, memo and disk cache."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from fietsstad import settings
from fietsstad.analysis.routing import cached_ch
from fietsstad.engine import CSRGraph, build_ch, travel_times
from fietsstad.engine import _ch as chmod
from fietsstad.errors import GraphError
from naive import perturbed_grid, scipy_times, to_dtype


def test_hierarchy_invariants():
    g = CSRGraph.from_arrays(*perturbed_grid(15, 15, seed=9))
    ch = build_ch(g)
    assert sorted(ch.rank.tolist()) == list(range(g.n))
    assert np.array_equal(ch.order[ch.pos], np.arange(g.n))
    # upward edges go to higher rank (lower sweep position); downward ones come from earlier
    # positions, and every downward edge joins nodes of different levels
    up_src = np.repeat(np.arange(g.n), np.diff(ch.up_indptr))
    assert np.all(ch.rank[ch.order[ch.up_indices]] > ch.rank[ch.order[up_src]])
    dn_head = np.repeat(np.arange(g.n), np.diff(ch.dn_indptr))
    assert np.all(ch.dn_src < dn_head)
    assert np.all(ch.level[ch.order[ch.dn_src]] > ch.level[ch.order[dn_head]])
    assert ch.n_shortcuts >= 0 and build_ch(g) is ch  # memoised by content


def test_generated_network_hierarchy_equals_dijkstra():
    gen = importlib.import_module("fietsstad.network.generate")
    net = gen.generate_network(1500, seed=4)
    arrs = net.csr()
    ref = scipy_times(*arrs)
    src = np.arange(0, net.n_nodes, 7)
    got = travel_times(arrs, src, dtype=np.int32, method="phast")
    np.testing.assert_array_equal(got, to_dtype(ref[src], dtype=np.int32))
    sec = net.csr("length")[2]
    t1, d1 = travel_times(arrs, src, dtype=np.int32, method="phast", secondary=sec)
    t2, d2 = travel_times(arrs, src, dtype=np.int32, method="dijkstra", secondary=sec)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(d1, d2)


def test_witness_limit_does_not_change_answers():
    arrs = perturbed_grid(12, 14, seed=5)
    ref = to_dtype(scipy_times(*arrs), dtype=np.int32)
    for limit in (1, 4, 1000):
        chmod._MEMO.clear()
        ch = build_ch(arrs, settle_limit=limit)
        np.testing.assert_array_equal(
            travel_times(arrs, dtype=np.int32, ch=ch, method="phast"), ref
        )


def test_persisted_hierarchy_round_trip_and_corruption(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "cache_dir", tmp_path)
    arrs = perturbed_grid(10, 10, seed=6)
    chmod._MEMO.clear()
    ch = cached_ch(arrs)
    files = list((tmp_path / "ch").glob("*.fch"))
    assert len(files) == 1
    chmod._MEMO.clear()
    loaded = cached_ch(arrs)
    assert loaded is not ch and np.array_equal(loaded.rank, ch.rank)
    assert np.array_equal(loaded.dn_src, ch.dn_src)
    ref = travel_times(arrs, dtype=np.int32, method="dijkstra")
    np.testing.assert_array_equal(
        travel_times(arrs, dtype=np.int32, ch=loaded, method="phast"), ref
    )
    files[0].write_bytes(files[0].read_bytes()[:-10])  # truncated file: rebuilt, not trusted
    chmod._MEMO.clear()
    rebuilt = cached_ch(arrs)
    np.testing.assert_array_equal(
        travel_times(arrs, dtype=np.int32, ch=rebuilt, method="phast"), ref
    )


def test_mismatched_hierarchy_is_refused():
    a = perturbed_grid(5, 5, seed=1)
    b = perturbed_grid(6, 6, seed=1)
    with pytest.raises(GraphError, match="hierarchy"):
        travel_times(b, ch=build_ch(a), method="phast")
    c = (a[0], a[1], a[2] + 1)  # same structure, other weights
    with pytest.raises(GraphError, match="hierarchy"):
        travel_times(c, ch=build_ch(a), method="phast")
    with pytest.raises(GraphError, match="secondary"):
        travel_times(a, ch=build_ch(a), method="phast", secondary=np.ones(len(a[1])))
