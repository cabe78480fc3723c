"""``out=`` (numpy's convention) for travel_times, iter_blocks and travel_time_matrix, and
fresh matrices from empty_matrix."""

from __future__ import annotations

import numpy as np
import pytest

import fietsstad
from fietsstad.engine import build_ch, iter_blocks, travel_times
from fietsstad.engine._memory import TOUCH_MIN_BYTES, check_out, empty_matrix
from fietsstad.errors import FietsstadError, ParameterError, ValidationError


@pytest.fixture(scope="module")
def net():
    return fietsstad.generate_network(n_nodes=400, seed=5)


@pytest.fixture(scope="module")
def gch(net):
    g = net.engine_graph()
    return g, build_ch(g)


@pytest.mark.parametrize("method", ["phast", "dijkstra"])
@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
def test_out_gets_the_same_values_and_is_returned(gch, method, dtype):
    g, ch = gch
    src, tgt = np.arange(0, g.n, 3), np.arange(g.n)[::-1]
    ref = travel_times(g, src, tgt, dtype=dtype, method=method, ch=ch)
    buf = np.full(ref.shape, 7, dtype)  # garbage that must all be overwritten
    got = travel_times(g, src, tgt, dtype=dtype, method=method, ch=ch, out=buf)
    assert got is buf
    np.testing.assert_array_equal(buf, ref)
    again = travel_times(g, src, tgt, dtype=dtype, method=method, ch=ch, out=buf, cutoff=300)
    assert again is buf
    np.testing.assert_array_equal(buf, travel_times(g, src, tgt, dtype=dtype, cutoff=300))


def test_out_with_secondary_is_a_tuple(gch, net):
    g, ch = gch
    metres = np.rint(net.length).astype(np.int32)
    t_ref, m_ref = travel_times(g, [0, 5], secondary=metres, dtype=np.int32, method="dijkstra")
    t, m = np.empty_like(t_ref), np.empty_like(m_ref)
    got = travel_times(g, [0, 5], secondary=metres, dtype=np.int32, method="dijkstra", out=(t, m))
    assert got[0] is t and got[1] is m
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(m, m_ref)
    with pytest.raises(ParameterError, match="tuple"):
        travel_times(g, [0, 5], secondary=metres, dtype=np.int32, out=t)
    with pytest.raises(ParameterError, match="overlap"):
        travel_times(g, [0, 5], secondary=metres, dtype=np.int32, out=(t, t.view(np.int32)))


def test_bad_out_arrays_raise_clear_errors(gch):
    g, ch = gch
    n = g.n
    kw = dict(method="phast", ch=ch)
    cases = [
        (np.empty((2, n), np.uint16), "shape"),
        (np.empty((3, n), np.int32), "dtype"),
        (np.empty((n, 3), np.uint16).T, "C-contiguous"),
        (np.empty((3, 2 * n), np.uint16)[:, ::2], "C-contiguous"),
        ([[0] * n] * 3, "numpy array"),
        ((np.empty((3, n), np.uint16),), "one array"),
    ]
    ro = np.empty((3, n), np.uint16)
    ro.flags.writeable = False
    cases.append((ro, "read-only"))
    for bad, msg in cases:
        with pytest.raises(ParameterError, match=msg) as err:
            travel_times(g, [0, 1, 2], out=bad, **kw)
        assert isinstance(err.value, ValidationError) and isinstance(err.value, FietsstadError)


def test_out_overlapping_an_input_is_refused(gch):
    g, ch = gch
    ids = np.zeros(8, np.int32)  # the output would overwrite the source ids being read
    with pytest.raises(ParameterError, match="overlaps an input"):
        travel_times(g, ids[:4], [0], dtype=np.int32, out=ids[2:6].reshape(4, 1), ch=ch)
    w = g.weights  # the graph's own weights
    with pytest.raises(ParameterError, match="overlaps an input"):
        travel_times(g, [0], [0, 1], dtype=np.int32, out=w[:2].reshape(1, 2), ch=ch)


def test_iter_blocks_into_one_buffer(gch):
    g, ch = gch
    ref = travel_times(g, method="phast", ch=ch)
    buf = np.empty((64, g.n), np.uint16)
    rows = []
    for ids, b in iter_blocks(g, method="phast", ch=ch, out=buf):
        assert np.shares_memory(b, buf) and b.shape == (len(ids), g.n)
        np.testing.assert_array_equal(b, ref[ids])
        rows.extend(ids.tolist())
    assert rows == list(range(g.n))
    with pytest.raises(ParameterError, match="shape"):
        next(iter_blocks(g, block_size=32, ch=ch, out=buf))


def test_travel_time_matrix_passes_out_through(net):
    ids = net.nodes_gdf().index
    ref = fietsstad.travel_time_matrix(net, ids[:10], ids[:50])
    buf = np.empty((10, 50), np.uint16)
    got = fietsstad.travel_time_matrix(net, ids[:10], ids[:50], out=buf)
    assert got is buf
    np.testing.assert_array_equal(buf, ref)
    df = fietsstad.travel_time_matrix(net, ids[:10], ids[:50], out=buf, labels=True)
    assert np.shares_memory(df.to_numpy(), buf)
    with pytest.raises(ValidationError, match="shape"):
        fietsstad.travel_time_matrix(net, ids[:10], ids[:49], out=buf)
    blk = np.empty((4, 50), np.uint16)
    seen = [b.copy() for _, b in fietsstad.iter_travel_time_blocks(
        net, ids[:10], ids[:50], out=blk)]  # fmt: skip
    np.testing.assert_array_equal(np.vstack(seen), ref)


def test_travel_time_matrix_out_under_the_progress_bar(net, monkeypatch):
    from fietsstad.analysis import routing

    monkeypatch.setattr(fietsstad.settings, "progress", True)
    monkeypatch.setattr(routing, "PROGRESS_MIN_SOURCES", 10)
    monkeypatch.setattr(routing, "PROGRESS_MIN_CELLS", 1)
    monkeypatch.setattr(routing, "PROGRESS_MIN_BLOCK", 16)
    ref = fietsstad.travel_time_matrix(net, method="dijkstra")
    buf = np.empty_like(ref)
    assert fietsstad.travel_time_matrix(net, method="dijkstra", out=buf) is buf
    np.testing.assert_array_equal(buf, ref)
    with pytest.raises(ParameterError, match="rows"):
        fietsstad.travel_time_matrix(net, method="dijkstra", out=np.empty((2 * net.n_nodes,
                                     net.n_nodes), np.uint16)[: net.n_nodes + 1])  # fmt: skip


def test_empty_matrix_is_a_plain_writeable_array():
    rows = TOUCH_MIN_BYTES // 2000 + 3  # above the parallel-touch threshold
    a = empty_matrix((rows, 1000), np.uint16)
    assert a.shape == (rows, 1000) and a.dtype == np.uint16 and a.flags.c_contiguous
    a[:] = 9
    assert int(a.sum()) == 9 * a.size
    assert check_out(a, (rows, 1000), np.uint16) is a
    small = empty_matrix((2, 3), np.float32)
    assert small.shape == (2, 3) and small.flags.writeable


def test_travel_time_matrix_into_a_reused_buffer_on_liechtenstein(liechtenstein_net):
    """Real OSM: the public matrix written into one ``empty_matrix`` buffer twice (different
    origins, the second with a cut-off) equals scipy's Dijkstra each time (no stale entries)."""
    from test_phast_lanes import expected, scipy_ticks  # the oracle of the lanes tests

    net = liechtenstein_net
    g = net.engine_graph()
    buf = empty_matrix((40, net.n_nodes), np.uint16)
    for k, cutoff in ((0, None), (1, 600.0)):
        pos = np.arange(k, net.n_nodes, net.n_nodes // 40)[:40]
        got = fietsstad.travel_time_matrix(net, net.node_ids(pos), cutoff_s=cutoff, out=buf)
        assert got is buf
        ref = expected(scipy_ticks(g, pos), 10, np.uint16, None if cutoff is None else 6000)
        np.testing.assert_array_equal(buf, ref)
