"""Incremental re-evaluation of travel-time matrices after a network edit (decrease-only).

When a scenario only makes edges faster (or adds edges), a travel time ``d(s, t)`` can only change
if the new best path from ``s`` to ``t`` uses a changed edge. Two observations make the update cheap:

1. *Which sources can improve.* Let ``(u, v)`` be a changed arc with new weight ``w'``. Take the
   last node ``z`` on a new shortest path whose distance did not improve; the arc after it must be
   a changed arc (an unchanged arc could not create an improvement), so the source improves somewhere
   iff ``d(s, u) + w'(u, v) < d(s, v)`` for some changed arc. This is tested for every source at
   once from the old matrix columns ``u`` and ``v``.
2. *Which targets can improve.* For an affected source, a Dijkstra search seeded with
   ``d(s, u) + w'(u, v)`` on the changed arcs that only ever expands a node whose label beats its
   current distance (decrease-only dynamic SSSP) finds exactly the improved targets, and touches
   nothing else.

Both kernels are numba, parallel over sources, with int32 ids and no Python objects inside.
If any arc got *slower* or disappeared, distances may grow and neither observation holds: the
update then falls back to a full recomputation (``stats.full_recompute`` says so).

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
    """

    sources_total: int
    sources_touched: int
    pairs_changed: int
    changed_arcs: int
    full_recompute: bool


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


@nb.njit(cache=True, inline="always")
def _heap_push(hk, hv, size, key, val):  # pragma: no cover - numba
    i = size
    hk[i] = key
    hv[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return size + 1


@nb.njit(cache=True, inline="always")
def _heap_pop(hk, hv, size):  # pragma: no cover - numba
    size -= 1
    hk[0] = hk[size]
    hv[0] = hv[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        c = left
        if left + 1 < size and hk[left + 1] < hk[left]:
            c = left + 1
        if hk[i] <= hk[c]:
            break
        hk[c], hk[i] = hk[i], hk[c]
        hv[c], hv[i] = hv[i], hv[c]
        i = c
    return size


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
def _min_plus_row(row, dv, other):  # pragma: no cover - numba
    """``row = min(row, dv + other)`` elementwise; written branch-free so LLVM vectorises it."""
    for t in range(row.shape[0]):
        x = dv + other[t]
        o = row[t]
        row[t] = x if x < o else o


@nb.njit(cache=True, inline="always")
def _min_plus_into(row, src, dv, other):  # pragma: no cover - numba
    """``row = min(src, dv + other)`` elementwise (first pass into a fresh row)."""
    for t in range(row.shape[0]):
        x = dv + other[t]
        o = src[t]
        row[t] = x if x < o else o


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
def _hub_update(out, t_nodes, h_nodes, dkw, oh, inf, n_chunks):  # pragma: no cover - numba
    """Rows of ``out`` updated as ``min(old, D'(s, v) + old(v, t))`` over improved corridor heads v.

    ``dkw[i, j]`` is the new distance from tail ``t_nodes[i]`` to head ``h_nodes[j]``; ``oh`` holds
    the old rows of the heads, widened so that sums cannot overflow.
    """
    ns, n = out.shape
    nt = t_nodes.shape[0]
    nh = h_nodes.shape[0]
    changed = np.zeros(ns, dtype=np.int64)
    touched = np.zeros(ns, dtype=np.bool_)
    for c in nb.prange(n_chunks):
        d = np.empty(nh, dtype=dkw.dtype)
        d_old = np.empty(nh, dtype=dkw.dtype)
        imp = np.empty(nh, dtype=np.int32)
        orig = np.empty(n, dtype=out.dtype)
        lo = (ns * c) // n_chunks
        hi = (ns * (c + 1)) // n_chunks
        for r in range(lo, hi):
            for h in range(nh):
                d_old[h] = out[r, h_nodes[h]]
                d[h] = d_old[h]
            for i in range(nt):
                du = dkw.dtype.type(out[r, t_nodes[i]])
                if du >= inf:
                    continue
                for h in range(nh):
                    x = du + dkw[i, h]
                    if x < d[h]:
                        d[h] = x
            m = 0
            for h in range(nh):
                if d[h] < d_old[h]:
                    imp[m] = h
                    m += 1
            if m == 0:
                continue
            touched[r] = True
            row = out[r]
            orig[:] = row
            for q in range(m):
                _min_plus_row(row, d[imp[q]], oh[imp[q]])
            changed[r] = _count_diff(row, orig)
    return changed, touched


@nb.njit(cache=True, parallel=True)
def _entry_update(
    out, old, same, t_nodes, h_nodes, dtt, dth, e_rows, inf, n_chunks
):  # pragma: no cover
    """Rows of ``out`` set to ``min(old, d(s, u) + d'(u, t))`` over the *entry* tails u of s.

    ``out`` may be ``old`` itself (``same``: in place) or a fresh array (then every row is
    written, fused with the first pass, so the input is never copied separately).

    A tail ``u`` is skipped when another tail ``u'`` reaches it at least as fast
    (``d(s, u') + d'(u', u) <= d(s, u)``: entering at ``u'`` is never worse), or when entering at
    ``u`` improves no head. Along a corridor only a few entries per source survive, so each row
    costs a few vectorised passes. ``dtt``/``dth``: new distances tail->tail / tail->head;
    ``e_rows``: new rows of the tails (widened).
    """
    ns, n = out.shape
    nt = t_nodes.shape[0]
    nh = h_nodes.shape[0]
    changed = np.zeros(ns, dtype=np.int64)
    touched = np.zeros(ns, dtype=np.bool_)
    for c in nb.prange(n_chunks):
        du = np.empty(nt, dtype=dtt.dtype)
        dh = np.empty(nh, dtype=dtt.dtype)
        nd = np.empty(nt, dtype=np.int32)
        use = np.empty(nt, dtype=np.int32)
        orig = np.empty(n, dtype=out.dtype)
        lo = (ns * c) // n_chunks
        hi = (ns * (c + 1)) // n_chunks
        for r in range(lo, hi):
            for i in range(nt):
                du[i] = old[r, t_nodes[i]]
                if du[i] >= inf:
                    du[i] = inf
            for h in range(nh):
                dh[h] = old[r, h_nodes[h]]
            order = np.argsort(du)
            n_nd = 0
            n_use = 0
            for q in range(nt):
                i = order[q]
                if du[i] >= inf:
                    break
                dominated = False
                for k in range(n_nd):
                    j = nd[k]
                    if du[j] + dtt[j, i] <= du[i]:
                        dominated = True
                        break
                if dominated:
                    continue
                nd[n_nd] = i
                n_nd += 1
                for h in range(nh):
                    if du[i] + dth[i, h] < dh[h]:
                        use[n_use] = i
                        n_use += 1
                        break
            row = out[r]
            src = old[r]
            if n_use == 0:
                if not same:
                    row[:] = src
                continue
            touched[r] = True
            if same:
                orig[:] = src
                _min_plus_row(row, du[use[0]], e_rows[use[0]])
            else:
                _min_plus_into(row, src, du[use[0]], e_rows[use[0]])
            for q in range(1, n_use):
                _min_plus_row(row, du[use[q]], e_rows[use[q]])
            changed[r] = _count_diff(row, orig) if same else _count_diff(row, src)
    return changed, touched


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


def _try_hubs(old, out, rows_nodes, n, cu, cv, cw, unreach):
    """Run the hub update (``old`` -> ``out``, which may be ``old``); None if it cannot be used."""
    knodes = np.unique(np.concatenate([cu, cv])).astype(np.int32)
    if len(knodes) > HUB_MAX_NODES:
        return None
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows_nodes[::-1]] = np.arange(len(rows_nodes) - 1, -1, -1)
    krows = row_of[knodes]
    if np.any(krows < 0):
        return None
    kind = old.dtype
    if kind == np.uint16:
        wide, inf = np.int32, np.int32(2**30)
    elif kind.kind == "f":
        wide, inf = kind.type, kind.type(np.inf)
    else:
        wide, inf = np.int64, np.int64(2**62)
    dk = old[np.ix_(krows, knodes)].astype(np.int64)
    dk[old[np.ix_(krows, knodes)] == unreach] = _INF
    pos = np.searchsorted(knodes, np.concatenate([cu, cv]))
    dk = _overlay_apsp(dk, pos[: len(cu)], pos[len(cu) :], cw.astype(np.int64), _INF)
    t_nodes = np.unique(cu).astype(np.int32)
    h_nodes = np.unique(cv).astype(np.int32)
    dsub = dk[np.ix_(np.searchsorted(knodes, t_nodes), np.searchsorted(knodes, h_nodes))]
    if kind.kind == "f":
        dkw = np.where(dsub >= _INF, np.inf, dsub).astype(wide)
    else:
        dkw = np.minimum(dsub, int(inf)).astype(wide)
    oh = old[row_of[h_nodes]].astype(wide)  # old rows of the heads (a copy: `old` may change)
    # 1. new rows of the tails: min over their improved heads of d'(u, v) + d(v, t)
    e_rows = old[row_of[t_nodes]].copy()
    nthr = nb.get_num_threads()
    _hub_update(e_rows, t_nodes, h_nodes, dkw, oh, inf, max(1, min(len(t_nodes), nthr * 8)))
    e_rows = e_rows.astype(wide)
    if kind == np.uint16:
        e_rows[e_rows == int(unreach)] = int(inf)
    # 2. every row: min over its entry tails of d(s, u) + d'(u, t)
    tpos = np.searchsorted(knodes, t_nodes)
    dtt_sub = dk[np.ix_(tpos, tpos)]
    dtt = (
        np.where(dtt_sub >= _INF, np.inf, dtt_sub)
        if kind.kind == "f"
        else np.minimum(dtt_sub, int(inf))
    ).astype(wide)
    n_chunks = max(1, min(out.shape[0], nthr * 8))
    return _entry_update(out, old, out is old, t_nodes, h_nodes, dtt, dkw, e_rows, inf, n_chunks)


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
    With ``K`` the corridor nodes (ends of the changed arcs), ``T``/``H`` their tails/heads:
    the new distances among ``K`` come from Floyd-Warshall on an overlay of old distances between
    corridor nodes plus the new arcs; then for each source ``s``,
    ``d'(s, v) = min(d(s, v), min_u d(s, u) + d'(u, v))`` for heads ``v`` (``u`` in ``T``: the
    first changed arc on a new path is entered at its old distance), and
    ``d'(s, t) = min(d(s, t), min_v d'(s, v) + d(v, t))`` over the heads whose distance improved
    (``v``: the last changed arc on the path; after it the path is old). The last step is a
    vectorised min-plus over whole rows, so its cost is rows x improved heads x nodes with no
    heap; the repair method costs a heap operation per improved pair instead.

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
            changed, touched = hub
            return out, UpdateStats(ns, int(touched.sum()), int(changed.sum()), int(len(cu)), False)
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
