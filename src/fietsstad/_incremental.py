"""Incremental re-evaluation of travel-time matrices after a network edit (decrease-only).

When a scenario only makes edges faster (or adds edges), a travel time ``d(s, t)`` can only change
if the new best path from ``s`` to ``t`` uses a changed arc. Two exact methods exploit that.

``"hubs"`` (full matrices; output-sensitive, vectorised). Let ``T``/``H`` be the tails/heads of
the changed arcs (the corridor's *portals*). On a new shortest path that uses the corridor, the
part before the first changed arc ``(u, .)`` is old, so ``u`` is reached at its old distance
``d(s, u)``; the part after the last changed arc ``(., h)`` is old too. Hence, with ``d'`` the new
distances::

    d'(s, t) = min(d(s, t), min_{u in T} d(s, u) + d'(u, t))
    d'(u, t) = min(d(u, t), min_{h in H} d'(u, h) + d(h, t))

``d'`` among the corridor nodes comes from Floyd-Warshall on an overlay (old distances between
them plus the new arcs); ``d'(u, .)`` for the ~100 tails from their old rows and those of the
heads. Per source only a few tails matter: drop tails dominated by a closer one
(``d(s, u') + d'(u', u) <= d(s, u)``), then keep one tail per *improved* head that attains its new
distance (see :func:`_select_entries`). Each kept tail costs one branch-free min-plus pass over
the row (``vpaddusw``/``vpminuw`` for uint16: 16 targets per instruction), blocked over targets
so the tails' rows stay in L2 and the row in L1, parallel over row chunks, in place if asked.

``"repair"`` (any set of rows): a source improves iff ``d(s, u) + w'(u, v) < d(s, v)`` for some
changed arc; for those, a Dijkstra seeded on the changed arcs that only expands nodes whose
label beats the old distance (decrease-only dynamic SSSP) finds exactly the improved targets.

Kernels are numba (``cache=True``, parallel over sources) with int32 ids and no Python objects
inside. If any arc got *slower* or disappeared, distances may grow and neither argument holds:
the update then falls back to a full recomputation (``stats.full_recompute`` says so).

Example
-------
>>> import numpy as np
>>> from fietsstad.network import BikeNetwork
>>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01, 6.02]), y=np.full(3, 52.5),
...     node_id=np.arange(3), u=np.array([0, 1, 1, 2]), v=np.array([1, 0, 2, 1]),
...     length=np.full(4, 500.0), infra=np.zeros(4))
>>> from fietsstad._incremental import full_travel_times, update_travel_times
>>> old = full_travel_times(net)
>>> faster = net.recompute_travel_time()
>>> faster.travel_time = faster.travel_time // 2
>>> new, stats = update_travel_times(old, net, faster, changed_edges=np.arange(4))
>>> int(new[0, 2]), stats.full_recompute
(100, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from .engine._heap import heap_pop as _heap_pop
from .engine._heap import heap_push as _heap_push
from .errors import GraphError, ValidationError
from .network import BikeNetwork

#: Unreachable sentinels per matrix dtype (the engine's conventions, see docs/ARCHITECTURE.md).
UNREACHABLE_U16 = np.uint16(65535)
UNREACHABLE_I32 = np.int32(2**31 - 1)
_INF = np.int64(2**62)


@dataclass(frozen=True)
class UpdateStats:
    """What an incremental update touched.

    Attributes
    ----------
    sources_total : int
        Rows of the matrix.
    sources_touched : int
        Rows whose travel times could improve (repair searches run).
    pairs_changed : int
        Matrix entries whose value changed.
    changed_arcs : int
        Distinct ``(u, v)`` node pairs whose best edge weight changed or that are new.
    full_recompute : bool
        True when an arc got slower or disappeared, so the whole matrix was recomputed.
    entries_per_source : float
        ``method="hubs"``: mean number of corridor entry points per touched source (each one a
        vectorised min-plus pass over the row); 0.0 for the other methods.
    """

    sources_total: int
    sources_touched: int
    pairs_changed: int
    changed_arcs: int
    full_recompute: bool
    entries_per_source: float = 0.0


def _unreachable_for(dtype: np.dtype):
    dtype = np.dtype(dtype)
    if dtype == np.uint16:
        return UNREACHABLE_U16
    if dtype == np.int32:
        return UNREACHABLE_I32
    if dtype == np.float32 or dtype == np.float64:
        return dtype.type(np.inf)
    raise ValidationError(f"travel-time matrices must be uint16, int32 or float32/64, not {dtype}")


# ---------------------------------------------------------------------------------------- kernels
@nb.njit(cache=True, inline="always")
def _val(x, unreach) -> np.int64:
    if x == unreach:
        return _INF
    return np.int64(x)


@nb.njit(cache=True, parallel=True)
def _affected_sources(mat, unreach, cap, cu, cv, cw):  # pragma: no cover - numba
    ns = mat.shape[0]
    out = np.zeros(ns, dtype=np.bool_)
    for i in nb.prange(ns):
        for k in range(cu.shape[0]):
            du = _val(mat[i, cu[k]], unreach)
            if du >= _INF:
                continue
            cand = du + cw[k]
            if cand < cap and cand < _val(mat[i, cv[k]], unreach):
                out[i] = True
                break
    return out


@nb.njit(cache=True, parallel=True)
def _repair(
    mat, unreach, cap, rows, indptr, indices, weights, cu, cv, cw, n_chunks
):  # pragma: no cover
    """Decrease-only repair of ``mat[rows[i], :]`` in place; returns changed entries per row."""
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    nr = rows.shape[0]
    changed = np.zeros(nr, dtype=np.int64)
    hcap = m + cu.shape[0] + 1
    for c in nb.prange(n_chunks):
        hk = np.empty(hcap, dtype=np.int64)
        hv = np.empty(hcap, dtype=np.int32)
        stamp = np.full(n, -1, dtype=np.int32)
        lo = (nr * c) // n_chunks
        hi = (nr * (c + 1)) // n_chunks
        for r in range(lo, hi):
            row = rows[r]
            size = 0
            cnt = 0
            for k in range(cu.shape[0]):
                du = _val(mat[row, cu[k]], unreach)
                if du >= _INF:
                    continue
                cand = du + cw[k]
                tgt = cv[k]
                if cand < cap and cand < _val(mat[row, tgt], unreach):
                    mat[row, tgt] = cand
                    if stamp[tgt] != r:
                        stamp[tgt] = r
                        cnt += 1
                    size = _heap_push(hk, hv, size, cand, tgt)
            while size > 0:
                d = hk[0]
                x = hv[0]
                size = _heap_pop(hk, hv, size)
                if d > _val(mat[row, x], unreach):
                    continue
                for e in range(indptr[x], indptr[x + 1]):
                    y = indices[e]
                    nd = d + weights[e]
                    if nd < cap and nd < _val(mat[row, y], unreach):
                        mat[row, y] = nd
                        if stamp[y] != r:
                            stamp[y] = r
                            cnt += 1
                        size = _heap_push(hk, hv, size, nd, y)
            changed[r] = cnt
    return changed


@nb.njit(cache=True, inline="always")
def _pass_u16(row, e, du):  # pragma: no cover - numba
    """``row = min(row, du + e)`` for uint16, saturating at 65535 (vpaddusw + vpminuw).

    ``min(e, 65535 - du) + du`` cannot wrap, so the loop is two 16-lane ops per 16 targets.
    """
    d = np.uint16(du)
    cap = np.uint16(65535 - d)
    for t in range(row.shape[0]):
        a = e[t]
        a = a if a < cap else cap
        x = np.uint16(a + d)
        o = row[t]
        row[t] = x if x < o else o


@nb.njit(cache=True, inline="always")
def _pass_i32(row, e, du):  # pragma: no cover - numba
    """``row = min(row, du + e)`` for int32, saturating at ``2**31 - 1`` (the sentinel)."""
    d = np.int32(du)
    cap = np.int32(2147483647 - d)
    for t in range(row.shape[0]):
        a = e[t]
        a = a if a < cap else cap
        x = np.int32(a + d)
        o = row[t]
        row[t] = x if x < o else o


@nb.njit(cache=True, inline="always")
def _pass_f(row, e, du):  # pragma: no cover - numba
    """``row = min(row, du + e)`` for floats (``inf`` + anything stays ``inf``)."""
    for t in range(row.shape[0]):
        x = e[t] + du
        o = row[t]
        row[t] = x if x < o else o


@nb.njit(cache=True, inline="always")
def _pass(kind, row, e, du):  # pragma: no cover - numba
    if kind == 0:
        _pass_u16(row, e, du)
    elif kind == 1:
        _pass_i32(row, e, du)
    else:
        _pass_f(row, e, du)


@nb.njit(cache=True, inline="always")
def _count_diff(a, b):  # pragma: no cover - numba
    cnt = 0
    for t in range(a.shape[0]):
        cnt += a[t] != b[t]
    return cnt


@nb.njit(cache=True)
def _overlay_apsp(dk, cu_i, cv_i, cw, inf):  # pragma: no cover - numba
    """Floyd-Warshall on the corridor overlay: old distances between corridor nodes + new arcs."""
    k = dk.shape[0]
    for e in range(cu_i.shape[0]):
        if cw[e] < dk[cu_i[e], cv_i[e]]:
            dk[cu_i[e], cv_i[e]] = cw[e]
    for m in range(k):
        for i in range(k):
            dim = dk[i, m]
            if dim >= inf:
                continue
            for j in range(k):
                c = dim + dk[m, j]
                if c < dk[i, j]:
                    dk[i, j] = c
    return dk


@nb.njit(cache=True, parallel=True)
def _tail_rows(mat, t_rows, h_rows, dth, dthn, lim, kind, tb):  # pragma: no cover - numba
    """New rows of the corridor tails and, per tail and target block, whether any entry improved.

    ``E[i] = min(d(u_i, .), min_h d'(u_i, h) + d(h, .))`` over the heads ``h`` that the new
    network brings closer to ``u_i`` (the last changed arc of a new path ends at such a head and
    the path is old after it). ``dth[i, h] = d'(u_i, h)`` (float64, ``inf`` = none), ``dthn`` the
    same in the matrix dtype; ``lim``: the dtype's sentinel, as float. ``mat`` is only read.
    """
    nt = t_rows.shape[0]
    nh = h_rows.shape[0]
    n = mat.shape[1]
    nblk = (n + tb - 1) // tb
    E = np.empty((nt, n), dtype=mat.dtype)
    eblk = np.zeros((nt, nblk), dtype=np.bool_)
    for i in nb.prange(nt):
        old = mat[t_rows[i]]
        row = E[i]
        row[:] = old
        for h in range(nh):
            dv = dth[i, h]
            if dv < lim and dv < np.float64(old[h_rows[h]]):
                _pass(kind, row, mat[h_rows[h]], dthn[i, h])
        for b in range(nblk):
            t0 = b * tb
            t1 = min(n, t0 + tb)
            eblk[i, b] = _count_diff(row[t0:t1], old[t0:t1]) > 0
    return E, eblk


@nb.njit(cache=True, parallel=True)
def _select_entries(mat, t_nodes, h_nodes, dtt, dth, lim, n_chunks):  # pragma: no cover
    """Per row ``s``: the corridor tails worth entering at, with ``d(s, u)``.

    A new shortest path that uses the corridor enters it by its first changed arc ``(u, v)`` at
    the old distance ``d(s, u)`` (nothing before it changed) and leaves it by the head ``h`` of
    its last changed arc (nothing after it changed), so with ``E[u] = d'(u, .)``::

        d'(s, t) = min(d(s, t), min_h min_u d(s, u) + d'(u, h) + d(h, t))

    and one tail per *improved* head ``h`` (``min_u d(s, u) + d'(u, h) < d(s, h)``) that attains
    the minimum is enough, because ``E[u, t] <= d'(u, h) + d(h, t)``. Tails dominated by a
    closer one (``d(s, u') + d'(u', u) <= d(s, u)``; the overlay distances obey the triangle
    inequality, so ``u'`` is then at least as good for every head) are dropped first, and ties
    go to the tail already picked for another head. Every selected tail improves some head, so
    ``nsel[r] > 0`` exactly when row ``r`` changes.

    Returns ``(sel, du, nsel)``: tail indices (row-major, ``nsel[r]`` of them) and their ``d(s, u)``.
    """
    ns = mat.shape[0]
    nt = t_nodes.shape[0]
    nh = h_nodes.shape[0]
    sel = np.empty((ns, max(nt, 1)), dtype=np.int32)
    seldu = np.empty((ns, max(nt, 1)), dtype=mat.dtype)
    nsel = np.zeros(ns, dtype=np.int32)
    for c in nb.prange(n_chunks):
        du = np.empty(nt, dtype=np.float64)
        best = np.empty(nh, dtype=np.float64)
        who = np.empty(nh, dtype=np.int32)
        nd = np.empty(nt, dtype=np.int32)
        picked = np.zeros(nt, dtype=np.bool_)
        lo = (ns * c) // n_chunks
        hi = (ns * (c + 1)) // n_chunks
        for r in range(lo, hi):
            for i in range(nt):
                x = np.float64(mat[r, t_nodes[i]])
                du[i] = x if x < lim else np.inf
            for h in range(nh):
                x = np.float64(mat[r, h_nodes[h]])
                best[h] = x if x < lim else np.inf
                who[h] = -1
            order = np.argsort(du)
            n_nd = 0
            for q in range(nt):
                i = order[q]
                if du[i] == np.inf:
                    break
                dominated = False
                for z in range(n_nd):
                    j = nd[z]
                    if du[j] + dtt[j, i] <= du[i]:
                        dominated = True
                        break
                if not dominated:
                    nd[n_nd] = i
                    n_nd += 1
            # best entry per head among the non-dominated tails (nearest first wins ties)
            for z in range(n_nd):
                i = nd[z]
                d = du[i]
                for h in range(nh):
                    x = d + dth[i, h]
                    if x < best[h]:
                        best[h] = x
                        who[h] = i
            k = 0
            for h in range(nh):
                i = who[h]
                if i < 0 or picked[i]:
                    continue
                # prefer a tail picked already that attains the same minimum
                dup = False
                for q in range(k):
                    j = sel[r, q]
                    if du[j] + dth[j, h] <= best[h]:
                        dup = True
                        break
                if dup:
                    continue
                picked[i] = True
                sel[r, k] = i
                seldu[r, k] = mat[r, t_nodes[i]]
                k += 1
            for q in range(k):
                picked[sel[r, q]] = False
            nsel[r] = k
    return sel, seldu, nsel


@nb.njit(cache=True, parallel=True)
def _apply_entries(
    out, src, same, sel, seldu, nsel, E, eblk, kind, tb, n_chunks
):  # pragma: no cover
    """``out[s, t] = min(src[s, t], min_q du_q + E[sel_q, t])`` over each row's selected tails.

    Blocked over targets (``tb`` columns: the tails' block of ``E`` stays in L2, the row's in
    L1) and over contiguous row chunks in parallel; a tail whose row did not improve anywhere in a
    block is skipped there. ``out`` may be ``src`` (``same``: in place); otherwise every block
    is copied first, in the same parallel pass (so fresh pages are first touched in parallel).
    Returns the number of changed entries per row.
    """
    ns, n = out.shape
    nblk = (n + tb - 1) // tb
    changed = np.zeros(ns, dtype=np.int64)
    for c in nb.prange(n_chunks):
        buf = np.empty(tb, dtype=out.dtype)
        lo = (ns * c) // n_chunks
        hi = (ns * (c + 1)) // n_chunks
        for b in range(nblk):
            t0 = b * tb
            t1 = min(n, t0 + tb)
            w = t1 - t0
            for r in range(lo, hi):
                row = out[r, t0:t1]
                if not same:
                    row[:] = src[r, t0:t1]
                first = True
                for q in range(nsel[r]):
                    i = sel[r, q]
                    if not eblk[i, b]:
                        continue
                    if first:
                        buf[:w] = row
                        first = False
                    _pass(kind, row, E[i, t0:t1], seldu[r, q])
                if not first:
                    changed[r] += _count_diff(row, buf[:w])
    return changed


# ---------------------------------------------------------------------------------------- helpers
def _arc_minima(net: BikeNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique arc keys ``u*n+v`` and the smallest edge weight of each."""
    n = np.int64(net.n_nodes)
    key = net.edge_sources().astype(np.int64) * n + net.indices.astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    ws = net.travel_time[order].astype(np.int64)
    if len(ks) == 0:
        return ks, ws
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    return ks[starts], np.minimum.reduceat(ws, starts)


def changed_arcs(
    before: BikeNetwork, after: BikeNetwork
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Arcs ``(u, v)`` whose best weight differs between two networks on the same nodes.

    Returns ``(u, v, w_after, increased)``: the tails, heads and new weights (int64) of arcs that
    are new or faster, and whether any arc got slower or disappeared (then distances may grow).

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> a = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.full(2, 52.5), node_id=np.arange(2),
    ...     u=np.array([0]), v=np.array([1]), length=np.array([500.0]), infra=np.array([0]))
    >>> u, v, w, up = changed_arcs(a, a)
    >>> len(u), up
    (0, False)
    """
    if before.n_nodes != after.n_nodes:
        raise GraphError(
            f"before and after networks must share their nodes ({before.n_nodes} vs {after.n_nodes}); "
            "scenarios add edges between existing nodes, never nodes"
        )
    kb, wb = _arc_minima(before)
    ka, wa = _arc_minima(after)
    pos = np.searchsorted(kb, ka)
    pos_c = np.minimum(pos, max(len(kb) - 1, 0))
    present = (pos < len(kb)) & (kb[pos_c] == ka) if len(kb) else np.zeros(len(ka), bool)
    faster = ~present | (wa < np.where(present, wb[pos_c] if len(kb) else 0, 0))
    slower = present & (wa > (wb[pos_c] if len(kb) else 0))
    # arcs of `before` missing in `after`
    pos2 = np.searchsorted(ka, kb)
    pos2_c = np.minimum(pos2, max(len(ka) - 1, 0))
    kept = (pos2 < len(ka)) & (ka[pos2_c] == kb) if len(ka) else np.zeros(len(kb), bool)
    increased = bool(slower.any() or (~kept).any())
    n = np.int64(after.n_nodes)
    kf = ka[faster]
    return (
        (kf // n).astype(np.int32),
        (kf % n).astype(np.int32),
        wa[faster].astype(np.int64),
        increased,
    )


def full_travel_times(
    net: BikeNetwork, sources: np.ndarray | None = None, dtype: type = np.uint16
) -> np.ndarray:
    """Travel times (s) from ``sources`` (default: every node) to every node.

    Uses the engine (:func:`fietsstad.engine.travel_times`) when it is installed, otherwise
    ``scipy.sparse.csgraph.dijkstra``. Unreachable pairs hold the dtype's sentinel
    (65535 for uint16, ``2**31-1`` for int32, ``inf`` for floats); uint16 sums saturate at 65535.

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.full(2, 52.5), node_id=np.arange(2),
    ...     u=np.array([0]), v=np.array([1]), length=np.array([500.0]), infra=np.array([0]))
    >>> full_travel_times(net).tolist()
    [[0, 100], [65535, 0]]
    """
    src = (
        np.arange(net.n_nodes, dtype=np.int32)
        if sources is None
        else np.asarray(sources, dtype=np.int32)
    )
    try:
        return _engine_travel_times(net, src, dtype)
    except ImportError:
        return _scipy_travel_times(net, src, dtype)


def _engine_travel_times(net: BikeNetwork, src: np.ndarray, dtype) -> np.ndarray:
    from .engine import CSRGraph, travel_times  # noqa: F401 - ImportError means "not there yet"

    indptr, indices, w = net.csr()
    graph = CSRGraph.from_arrays(indptr, indices, w)
    out = travel_times(graph, src, None, dtype=dtype)
    return np.ascontiguousarray(out, dtype=dtype)


def _scipy_travel_times(net: BikeNetwork, src: np.ndarray, dtype) -> np.ndarray:
    """Fallback full rows with scipy's Dijkstra (float64 inside, converted to ``dtype``)."""
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(_min_duplicates(net), directed=True, indices=src)
    return _to_dtype(d, dtype)


def _min_duplicates(net: BikeNetwork):
    """A scipy CSR matrix keeping the *smallest* weight of parallel edges (scipy would sum them)."""
    from scipy.sparse import csr_matrix

    keys, w = _arc_minima(net)
    n = np.int64(net.n_nodes)
    return csr_matrix(
        (w.astype(np.float64), ((keys // n), (keys % n))), shape=(net.n_nodes, net.n_nodes)
    )


#: Largest number of corridor nodes for ``method="hubs"`` (Floyd-Warshall on them is cubic).
HUB_MAX_NODES = 1500

#: Target columns per block of the min-plus kernel, in bytes of one row segment (L1-sized).
_BLOCK_BYTES = 4096


def _try_hubs(old, out, rows_nodes, n, cu, cv, cw, unreach):
    """Run the hub update (``old`` -> ``out``, which may be ``old``); None if it cannot be used.

    Returns ``(changed_per_row, touched_per_row)``.
    """
    knodes = np.unique(np.concatenate([cu, cv])).astype(np.int32)
    if len(knodes) > HUB_MAX_NODES:
        return None
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows_nodes[::-1]] = np.arange(len(rows_nodes) - 1, -1, -1)
    krows = row_of[knodes]
    if np.any(krows < 0):
        return None
    kind = 0 if old.dtype == np.uint16 else (1 if old.dtype == np.int32 else 2)
    lim = float(unreach)  # values >= lim are "unreachable" (inf for floats)
    # new distances among the corridor nodes: old ones + the new arcs, closed (Floyd-Warshall)
    sub = old[np.ix_(krows, knodes)]
    dk = sub.astype(np.float64)
    dk = np.where(dk >= lim, _INF, np.minimum(dk, float(_INF))).astype(np.int64)
    pos = np.searchsorted(knodes, np.concatenate([cu, cv]))
    dk = _overlay_apsp(dk, pos[: len(cu)], pos[len(cu) :], cw.astype(np.int64), _INF)
    dkf = np.where(dk >= _INF, np.inf, dk.astype(np.float64))
    t_nodes = np.unique(cu).astype(np.int32)
    h_nodes = np.unique(cv).astype(np.int32)
    tpos = np.searchsorted(knodes, t_nodes)
    hpos = np.searchsorted(knodes, h_nodes)
    dth = np.ascontiguousarray(dkf[np.ix_(tpos, hpos)])
    dtt = np.ascontiguousarray(dkf[np.ix_(tpos, tpos)])
    tb = max(64, _BLOCK_BYTES // old.dtype.itemsize)
    dthn = np.where(dth < lim, dth, 0).astype(old.dtype)  # only read where dth < lim
    e_rows, eblk = _tail_rows(old, row_of[t_nodes], row_of[h_nodes], dth, dthn, lim, kind, tb)
    # many small row chunks handed out one at a time: a thread slowed by other work on the machine
    # takes fewer of them (numba's default splits the chunks evenly up front)
    n_chunks = max(1, min(old.shape[0], nb.get_num_threads() * 32))
    prev = nb.set_parallel_chunksize(1)
    try:
        sel, seldu, nsel = _select_entries(old, t_nodes, h_nodes, dtt, dth, lim, n_chunks)
        changed = _apply_entries(
            out, old, out is old, sel, seldu, nsel, e_rows, eblk, kind, tb, n_chunks
        )
    finally:
        nb.set_parallel_chunksize(prev)
    return changed, nsel


def _to_dtype(d: np.ndarray, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    unreach = _unreachable_for(dtype)
    if dtype.kind == "f":
        return d.astype(dtype)
    fin = np.isfinite(d)
    out = np.where(fin, np.minimum(d, float(unreach)), float(unreach))
    return out.astype(dtype)


# ---------------------------------------------------------------------------------------- public
def update_travel_times(
    old_matrix: np.ndarray,
    before_net: BikeNetwork,
    after_net: BikeNetwork,
    changed_edges: np.ndarray | None = None,
    *,
    sources: np.ndarray | None = None,
    inplace: bool = False,
    method: str = "auto",
) -> tuple[np.ndarray, UpdateStats]:
    """Update a travel-time matrix for an edited network without recomputing it all.

    Parameters
    ----------
    old_matrix
        Travel times (s) on ``before_net``, shape ``(len(sources), n_nodes)``: every node as a
        target (the repair needs old distances to all nodes). uint16 (65535 = unreachable),
        int32 (``2**31-1``) or float32/64 (``inf``).
    before_net, after_net
        The networks before and after the edit; same nodes (edges may be added or changed).
    changed_edges
        Edge indices in ``after_net`` that the edit changed or added (as returned by
        :meth:`Snelfietspad.apply`). Optional: the arcs whose best weight changed are detected by
        comparing the networks anyway, so a missing index cannot make the result wrong.
    sources
        Node of each matrix row (default: row ``i`` is node ``i``; then the matrix must be square).
    inplace
        Update ``old_matrix`` itself instead of a copy (saves copying a large matrix).
    method
        ``"hubs"``: the corridor nodes act as hubs (see Notes); needs the old rows of every
        corridor node, i.e. a matrix whose sources include them (a full node-to-node matrix does),
        and at most :data:`HUB_MAX_NODES` corridor nodes. ``"repair"``: decrease-only Dijkstra
        repair per affected source; works for any set of rows. ``"auto"`` (default) uses
        ``"hubs"`` when it can, else ``"repair"``. Both are exact.

    Returns
    -------
    (new_matrix, stats)
        The updated matrix (same dtype and shape) and an :class:`UpdateStats`.

    Notes
    -----
    ``"hubs"``: with ``T``/``H`` the tails/heads of the changed arcs,
    ``d'(s, t) = min(d(s, t), min_u d(s, u) + d'(u, t))`` over a few *entry* tails ``u`` per
    source (non-dominated, and one per improved head; about 10 for a 10 km corridor across a
    city), each a vectorised min-plus pass over the row; ``d'(u, .)`` from the heads' old rows and
    a Floyd-Warshall overlay on the corridor nodes (see the module docstring for the proof).
    Cost: rows x entries x nodes saturating adds/mins, no heap. ``"repair"``: a heap operation
    per improved pair instead.

    Exact for decrease-only edits (faster or new edges). If any arc got slower or was removed,
    distances may increase anywhere, so the matrix is recomputed in full and
    ``stats.full_recompute`` is True.

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01, 6.02]), y=np.full(3, 52.5),
    ...     node_id=np.arange(3), u=np.array([0, 1]), v=np.array([1, 2]),
    ...     length=np.full(2, 500.0), infra=np.zeros(2))
    >>> old = full_travel_times(net)
    >>> new_net = net.recompute_travel_time(); new_net.travel_time[:] = 10
    >>> new, stats = update_travel_times(old, net, new_net)
    >>> new[0].tolist(), stats.pairs_changed
    ([0, 10, 20], 3)
    """
    if method not in ("auto", "hubs", "repair"):
        raise ValidationError(f"method must be 'auto', 'hubs' or 'repair', not {method!r}")
    mat = np.asarray(old_matrix)
    if mat.ndim != 2:
        raise ValidationError(f"old_matrix must be 2-D (sources, nodes), got shape {mat.shape}")
    unreach = _unreachable_for(mat.dtype)
    n = after_net.n_nodes
    if before_net.n_nodes != n:
        raise GraphError(
            f"before and after networks must share their nodes ({before_net.n_nodes} vs {n}); "
            "scenarios add edges between existing nodes, never nodes"
        )
    if mat.shape[1] != n:
        raise ValidationError(
            f"old_matrix has {mat.shape[1]} columns but the network has {n} nodes: the incremental "
            "update needs old travel times to every node (compute rows with targets=all nodes)"
        )
    if sources is None:
        if mat.shape[0] != n:
            raise ValidationError("old_matrix is not square: pass `sources` (the node of each row)")
        rows_nodes = np.arange(n, dtype=np.int32)
    else:
        rows_nodes = np.asarray(sources, dtype=np.int32)
        if rows_nodes.shape != (mat.shape[0],):
            raise ValidationError("`sources` must give one node per matrix row")
        if len(rows_nodes) and (rows_nodes.min() < 0 or rows_nodes.max() >= n):
            raise ValidationError("`sources` must be node positions 0..n-1")
    if changed_edges is not None:
        ce = np.asarray(changed_edges)
        if ce.size and (ce.min() < 0 or ce.max() >= after_net.n_edges):
            raise ValidationError("changed_edges must be edge indices of after_net")

    cu, cv, cw, increased = changed_arcs(before_net, after_net)
    ns = mat.shape[0]
    if increased:
        new = full_travel_times(after_net, rows_nodes, mat.dtype)
        if inplace:
            mat[...] = new
            new = mat
        diff = int(np.count_nonzero(new != np.asarray(old_matrix))) if not inplace else -1
        return new, UpdateStats(ns, ns, diff, len(cu), True)

    usable_inplace = inplace and mat.flags.c_contiguous and mat.flags.writeable
    src = mat if mat.flags.c_contiguous else np.ascontiguousarray(mat)
    if len(cu) == 0 or ns == 0:
        out = mat if usable_inplace else src.copy()
        return out, UpdateStats(ns, 0, 0, 0, False)
    cap = _INF if mat.dtype.kind == "f" else np.int64(unreach)
    if method != "repair":
        out = mat if usable_inplace else np.empty_like(src, order="C")
        hub = _try_hubs(src, out, rows_nodes, n, cu, cv, cw, unreach)
        if hub is not None:
            changed, nsel = hub
            touched = int(np.count_nonzero(nsel))
            per = float(nsel.sum()) / touched if touched else 0.0
            return out, UpdateStats(
                ns, touched, int(changed.sum()), int(len(cu)), False, round(per, 3)
            )
        if method == "hubs":
            raise ValidationError(
                "method='hubs' needs old travel times *from* every corridor node (their rows) and at "
                f"most {HUB_MAX_NODES} corridor nodes; use method='repair' or 'auto'"
            )
    out = mat if usable_inplace else src.copy()
    affected = np.flatnonzero(_affected_sources(out, unreach, cap, cu, cv, cw)).astype(np.int32)
    indptr, indices, w = after_net.csr()
    n_chunks = max(1, min(len(affected), nb.get_num_threads() * 8))
    changed = _repair(
        out,
        unreach,
        cap,
        affected,
        indptr.astype(np.int32),
        indices.astype(np.int32),
        w.astype(np.int64),
        cu,
        cv,
        cw,
        n_chunks,
    )
    return out, UpdateStats(ns, int(len(affected)), int(changed.sum()), int(len(cu)), False)
