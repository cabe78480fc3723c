"""numba kernels of the incremental travel-time update (see :mod:`fietsstad.scenario.incremental`).

After a scenario makes some arcs faster, only sources whose fastest paths can use a changed arc
are repaired: :func:`_affected_sources` finds them, :func:`_repair` runs bounded repair searches,
and the ``hubs`` method applies min-plus passes through the corridor's entry points.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from fietsstad.engine._heap import heap_pop as _heap_pop
from fietsstad.engine._heap import heap_push as _heap_push
from fietsstad.engine.config import INF64, NJIT, NJIT_INLINE, NJIT_PAR

_INF = np.int64(INF64)


# ---------------------------------------------------------------------------------------- kernels
@nb.njit(**NJIT_INLINE)
def _val(x, unreach) -> np.int64:
    if x == unreach:
        return _INF
    return np.int64(x)


@nb.njit(**NJIT_PAR)
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


@nb.njit(**NJIT_PAR)
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


@nb.njit(**NJIT_INLINE)
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


@nb.njit(**NJIT_INLINE)
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


@nb.njit(**NJIT_INLINE)
def _pass_f(row, e, du):  # pragma: no cover - numba
    """``row = min(row, du + e)`` for floats (``inf`` + anything stays ``inf``)."""
    for t in range(row.shape[0]):
        x = e[t] + du
        o = row[t]
        row[t] = x if x < o else o


@nb.njit(**NJIT_INLINE)
def _pass(kind, row, e, du):  # pragma: no cover - numba
    if kind == 0:
        _pass_u16(row, e, du)
    elif kind == 1:
        _pass_i32(row, e, du)
    else:
        _pass_f(row, e, du)


@nb.njit(**NJIT_INLINE)
def _count_diff(a, b):  # pragma: no cover - numba
    cnt = 0
    for t in range(a.shape[0]):
        cnt += a[t] != b[t]
    return cnt


@nb.njit(**NJIT)
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


@nb.njit(**NJIT_PAR)
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


@nb.njit(**NJIT_PAR)
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


@nb.njit(**NJIT_PAR)
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
