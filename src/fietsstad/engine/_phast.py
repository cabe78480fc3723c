"""PHAST sweeps over a contraction hierarchy, ``K`` sources per sweep (8, 16 or 32).

For a group of up to ``K`` sources (chosen by :func:`lanes_for`, 32 for large source sets): one upward Dijkstra per source in the forward
upward graph writes labels into column ``k`` of ``U`` (n, K); then one linear sweep over the
sweep positions (highest rank first) computes, for every node ``v``,
``D[v, :] = min(U[v, :], min over incoming downward edges (u, v) of D[u, :] + w)``
with the 16 lanes in the innermost loop so LLVM vectorises it, and resets ``U[v, :]`` on the
way (no O(n) re-initialisation per group). Labels are int32 ticks with ``PHAST_INF = 2**30``;
the caller guarantees the sum of all weights is below 2**30 ticks, so ``label + w`` never
overflows (with deciseconds: below about 1.2 days of summed edge time; larger graphs are
refused by ``method="phast"`` and answered by Dijkstra under ``"auto"``). Rows are written
straight into the caller's output (target order, requested dtype, seconds).

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, travel_times
>>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
>>> travel_times(g, method="phast").tolist()
[[0, 5, 11], [13, 0, 6], [7, 12, 0]]
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from fietsstad.engine._heap import heap_pop, heap_push
from fietsstad.engine._units import put_time
from fietsstad.engine.config import NJIT, NJIT_PAR, PHAST_INF, PHAST_LANES, UNREACHABLE_I32
from fietsstad.errors import GraphError

LANES = PHAST_LANES
PINF = np.int32(PHAST_INF)
_LOW = np.int64(0xFFFFFFFF)


@numba.njit(**NJIT)
def _upward(s, k, up_indptr, up_indices, up_t, cutoff, U, hk, dist, touched):
    """Dijkstra from position ``s`` in the upward graph; results go to column ``k`` of ``U``.

    The search runs on the dense scalar array ``dist`` (PHAST_INF outside the search, reset on
    return): a column of ``U`` strides one cache line per node, which made the search
    memory-bound. Only the ~100-200 settled labels are then scattered into ``U``; their
    positions are left in ``touched[:nt]`` and ``nt`` is returned.
    """
    dist[s] = 0
    touched[0] = s
    nt = 1
    size = heap_push(hk, hk, 0, np.int64(s), np.int64(s))
    while size > 0:
        key = hk[0]
        size = heap_pop(hk, hk, size)
        u = np.int32(key & _LOW)
        d = key >> 32
        if d != dist[u]:
            continue
        for e in range(up_indptr[u], up_indptr[u + 1]):
            x = up_indices[e]
            nd = d + up_t[e]
            if nd <= cutoff and nd < dist[x]:
                if dist[x] == PINF:
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                nk = (nd << 32) | x
                size = heap_push(hk, hk, size, nk, nk)
    for t in range(nt):
        x = touched[t]
        U[x, k] = dist[x]
        dist[x] = PINF
    return nt


@numba.njit(**NJIT)
def _sweep(dn_indptr, dn_src, dn_t, U, D):
    """The linear downward sweep, all lanes at once (``K`` is read at run time: LLVM then
    vectorises the lane loops into int32 SIMD min/add)."""
    n, K = D.shape
    for v in range(n):
        for k in range(K):
            D[v, k] = U[v, k]
            U[v, k] = PINF
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            u = dn_src[e]
            w = dn_t[e]
            for k in range(K):
                D[v, k] = min(D[v, k], np.int32(D[u, k] + w))


@numba.njit(**NJIT)
def _emit(D, order, tgt_pos, all_targets, s0, lanes, cutoff, out, unreach, cap, tps, exact):
    """Write lanes ``0..lanes-1`` as rows ``s0..`` of ``out`` (target order, output dtype,
    seconds of ``tps`` ticks: :func:`fietsstad.engine._units.put_time`).

    All targets: read ``D`` sequentially and scatter into the rows (stores do not stall);
    a target subset: gather ``D[tgt_pos[j]]``. Returns the number of clipped values.
    """
    lim = min(cutoff, PHAST_INF - 1)
    over = 0
    if all_targets:
        for p in range(D.shape[0]):
            j = order[p]
            for k in range(lanes):
                over += put_time(out, s0 + k, j, D[p, k], lim, unreach, cap, tps, exact)
        return over
    for j in range(tgt_pos.size):
        p = tgt_pos[j]
        for k in range(lanes):
            over += put_time(out, s0 + k, j, D[p, k], lim, unreach, cap, tps, exact)
    return over


@numba.njit(**NJIT_PAR)
def phast_matrix(
    up_indptr,
    up_indices,
    up_t,
    dn_indptr,
    dn_src,
    dn_t,
    order,
    src_pos,
    tgt_pos,
    all_targets,
    cutoff,
    out,
    unreach,
    cap,
    tps,
    exact,
    nthr,
    K,
):
    """Rows of travel times for ``src_pos`` (sweep positions) to the targets; returns #clipped.

    ``K`` sources share one sweep; groups of sources are spread over ``4 * nthr`` chunks.
    """
    n = dn_indptr.size - 1
    ns = src_pos.size
    ng = (ns + K - 1) // K
    nch = max(1, min(ng, 4 * nthr))
    over = np.zeros(nch, np.int64)
    for c in prange(nch):
        U = np.full((n, K), PINF, np.int32)
        D = np.empty((n, K), np.int32)
        hk = np.empty(up_indices.size + 1, np.int64)
        dist = np.full(n, PINF, np.int32)
        touched = np.empty(n, np.int32)
        for gi in range(c * ng // nch, (c + 1) * ng // nch):
            s0 = gi * K
            lanes = min(K, ns - s0)
            for k in range(lanes):
                _upward(
                    src_pos[s0 + k], k, up_indptr, up_indices, up_t, cutoff, U, hk, dist, touched
                )
            _sweep(dn_indptr, dn_src, dn_t, U, D)
            over[c] += _emit(
                D, order, tgt_pos, all_targets, s0, lanes, cutoff, out, unreach, cap, tps, exact
            )
    return over.sum()


def lanes_for(n_sources: int, nthr: int) -> int:
    """Sources per sweep: 32 when every thread gets several full groups, else 16 or 8."""
    if n_sources >= 32 * 4 * nthr:
        return 32
    if n_sources >= 16 * 2 * nthr:
        return 16
    return 8


# ---------------------------------------------------------------- with secondary labels
@numba.njit(**NJIT)
def _upward_sec(
    s, k, up_indptr, up_indices, up_t, up_s, cutoff, U, US, hk, hn, dist, sdist, touched
):
    """Lexicographic (time, secondary) upward search on dense scalar arrays, then scattered
    into column ``k`` of ``U`` / ``US`` (as :func:`_upward`)."""
    dist[s] = 0
    sdist[s] = 0
    touched[0] = s
    nt = 1
    hk[0] = 0
    hn[0] = s
    size = 1
    while size > 0:
        key = hk[0]
        u = hn[0]
        size = heap_pop(hk, hn, size)
        d = key >> 32
        sv = key & _LOW
        if d != dist[u] or sv != sdist[u]:
            continue
        for e in range(up_indptr[u], up_indptr[u + 1]):
            x = up_indices[e]
            nd = d + up_t[e]
            ns = sv + up_s[e]
            if nd <= cutoff and (nd < dist[x] or (nd == dist[x] and ns < sdist[x])):
                if dist[x] == PINF:
                    touched[nt] = x
                    nt += 1
                dist[x] = nd
                sdist[x] = ns
                size = heap_push(hk, hn, size, (nd << 32) | ns, x)
    for t in range(nt):
        x = touched[t]
        U[x, k] = dist[x]
        US[x, k] = sdist[x]
        dist[x] = PINF
        sdist[x] = 0


@numba.njit(**NJIT)
def _sweep_sec(dn_indptr, dn_src, dn_t, dn_s, U, US, D, DS):
    n, K = D.shape
    for v in range(n):
        for k in range(K):
            D[v, k] = U[v, k]
            DS[v, k] = US[v, k]
            U[v, k] = PINF
            US[v, k] = 0
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            u = dn_src[e]
            w = dn_t[e]
            ws = dn_s[e]
            for k in range(K):
                x = np.int32(D[u, k] + w)
                xs = np.int32(DS[u, k] + ws)
                dv = D[v, k]
                better = (x < dv) | ((x == dv) & (xs < DS[v, k]))
                D[v, k] = x if better else dv
                DS[v, k] = xs if better else DS[v, k]


@numba.njit(**NJIT_PAR)
def phast_matrix_sec(
    up_indptr,
    up_indices,
    up_t,
    up_s,
    dn_indptr,
    dn_src,
    dn_t,
    dn_s,
    order,
    src_pos,
    tgt_pos,
    all_targets,
    cutoff,
    out,
    out_sec,
    unreach,
    cap,
    tps,
    exact,
    nthr,
    K,
):
    """:func:`phast_matrix` plus the secondary cost along the (lexicographic) fastest path."""
    n = dn_indptr.size - 1
    ns = src_pos.size
    ng = (ns + K - 1) // K
    nch = max(1, min(ng, 4 * nthr))
    over = np.zeros(nch, np.int64)
    imax = np.int32(UNREACHABLE_I32)
    for c in prange(nch):
        U = np.full((n, K), PINF, np.int32)
        US = np.zeros((n, K), np.int32)
        D = np.empty((n, K), np.int32)
        DS = np.empty((n, K), np.int32)
        hk = np.empty(up_indices.size + 1, np.int64)
        hn = np.empty(up_indices.size + 1, np.int32)
        dist = np.full(n, PINF, np.int32)
        sdist = np.zeros(n, np.int32)
        touched = np.empty(n, np.int32)
        for gi in range(c * ng // nch, (c + 1) * ng // nch):
            s0 = gi * K
            lanes = min(K, ns - s0)
            for k in range(lanes):
                _upward_sec(
                    src_pos[s0 + k],
                    k,
                    up_indptr,
                    up_indices,
                    up_t,
                    up_s,
                    cutoff,
                    U,
                    US,
                    hk,
                    hn,
                    dist,
                    sdist,
                    touched,
                )
            _sweep_sec(dn_indptr, dn_src, dn_t, dn_s, U, US, D, DS)
            over[c] += _emit(
                D, order, tgt_pos, all_targets, s0, lanes, cutoff, out, unreach, cap, tps, exact
            )
            for j in range(tgt_pos.size):
                p = tgt_pos[j]
                for k in range(lanes):
                    if D[p, k] >= PINF or D[p, k] > cutoff:
                        out_sec[s0 + k, j] = imax
                    else:
                        out_sec[s0 + k, j] = DS[p, k]
    return over.sum()


def phast_fill(
    g, sources, targets, cutoff, out, out_sec, sec_w, unreach, cap, ch, all_targets=False
) -> int:
    """Fill ``out`` (and ``out_sec``) for node ids ``sources`` x ``targets`` with PHAST.

    ``cutoff`` in ticks of ``g``; ``out`` in seconds."""
    if ch.n != g.n or ch.graph_key != g.content_hash():
        raise GraphError(
            f"this contraction hierarchy was built for another graph ({ch.n} nodes; the graph has "
            f"{g.n}); build_ch(graph) for this one"
        )
    src_pos = np.ascontiguousarray(ch.pos[sources], dtype=np.int32)
    tgt_pos = np.ascontiguousarray(ch.pos[targets], dtype=np.int32)
    all_t = bool(all_targets) and len(targets) == g.n
    c = np.int64(min(int(cutoff), PHAST_INF - 1))
    nthr = numba.get_num_threads()
    K = lanes_for(len(sources), nthr)
    tps = np.int64(g.ticks_per_s)
    exact = out.dtype.kind == "f"
    if sec_w is None:
        return int(
            phast_matrix(
                ch.up_indptr,
                ch.up_indices,
                ch.up_t,
                ch.dn_indptr,
                ch.dn_src,
                ch.dn_t,
                ch.order,
                src_pos,
                tgt_pos,
                all_t,
                c,
                out,
                unreach,
                cap,
                tps,
                exact,
                nthr,
                K,
            )
        )
    if not ch.has_secondary:
        raise GraphError(
            "this contraction hierarchy was built without secondary weights; "
            "build_ch(graph, secondary=...) first"
        )
    return int(
        phast_matrix_sec(
            ch.up_indptr,
            ch.up_indices,
            ch.up_t,
            ch.up_s,
            ch.dn_indptr,
            ch.dn_src,
            ch.dn_t,
            ch.dn_s,
            ch.order,
            src_pos,
            tgt_pos,
            all_t,
            c,
            out,
            out_sec,
            unreach,
            cap,
            tps,
            exact,
            nthr,
            K,
        )
    )
