"""Dijkstra kernels: binary heap, reused buffers, touched-list reset, parallel over sources.

The heap is a lazy-deletion binary heap of packed ``int64`` keys ``distance << 32 | node``
(one comparison per sift step). Each worker owns one set of buffers for all its sources;
after a search only the nodes it touched are reset, so a short cut-off search costs what it
visits, not O(n).

Distances are integer ticks (see :mod:`fietsstad.engine._units`; written into matrices as
seconds); ``UNREACHABLE_I32 = 2**31 - 1`` marks unreached nodes and sums saturate at
``2**31 - 2`` (never overflow). The secondary variant is a lexicographic Dijkstra
on ``(time, secondary)``: among the fastest paths it keeps the one with the least secondary
cost, so "metres along the fastest route" is well defined even with ties.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine._dijkstra import single_source
>>> single_source(np.array([0, 1, 2, 2], np.int32), np.array([1, 2], np.int32),
...               np.array([4, 5], np.int32), 0).tolist()
[0, 4, 9]
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from fietsstad.engine._heap import heap_pop, heap_push
from fietsstad.engine._units import put_time
from fietsstad.engine.config import MAX_I32, NJIT, NJIT_PAR, UNREACHABLE_I32

INF = np.int32(UNREACHABLE_I32)
MAXD = MAX_I32
#: Dial's bucket queue is used while the largest edge weight is below this.
DIAL_MAX_WEIGHT = 1 << 16
_LOW = np.int64(0xFFFFFFFF)


@numba.njit(**NJIT)
def _sssp(indptr, indices, weights, src, cutoff, dist, touched, hk, tmark, n_tgt):
    """One search from ``src``; fills ``dist`` (touched entries), returns how many were touched.

    Stops early once ``n_tgt`` distinct marked targets are settled (``n_tgt < 0``: never).
    """
    nt = 0
    dist[src] = 0
    touched[0] = src
    nt = 1
    size = heap_push(hk, hk, 0, np.int64(src), np.int64(src))
    left = n_tgt
    while size > 0:
        key = hk[0]
        size = heap_pop(hk, hk, size)
        u = np.int32(key & _LOW)
        d = key >> 32
        if d != dist[u]:
            continue
        if left > 0 and tmark[u]:
            left -= 1
            if left == 0:
                break
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd > MAXD:
                nd = MAXD
            if nd <= cutoff and nd < dist[v]:
                if dist[v] == INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                nk = (nd << 32) | v
                size = heap_push(hk, hk, size, nk, nk)
    return nt


@numba.njit(**NJIT)
def _sssp_dial(
    indptr, indices, weights, src, cutoff, dist, touched, head, enode, enext, tmark, n_tgt
):
    """:func:`_sssp` with Dial's bucket queue instead of a heap (small integer weights).

    ``head`` holds ``C = max weight + 1`` circular buckets (all -1 on entry and on return);
    live labels lie in ``[cur, cur + C - 1]`` so each bucket holds one distance at a time.
    ``enode``/``enext`` (size m + 1) form the buckets' linked stacks.
    """
    C = head.size
    dist[src] = 0
    touched[0] = src
    nt = 1
    enode[0] = src
    enext[0] = -1
    head[0] = 0
    ne = 1
    cnt = 1
    cur = np.int64(0)
    left = n_tgt
    while cnt > 0:
        b = cur % C
        e = head[b]
        if e < 0:
            cur += 1
            continue
        head[b] = enext[e]
        cnt -= 1
        u = enode[e]
        if dist[u] != cur:
            continue
        if left > 0 and tmark[u]:
            left -= 1
            if left == 0:
                break
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = cur + weights[k]
            if nd > MAXD:  # saturate, as _sssp does (never report a reachable node unreachable)
                nd = MAXD
            if nd <= cutoff and nd < dist[v]:
                if dist[v] == INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                bb = nd % C
                enode[ne] = v
                enext[ne] = head[bb]
                head[bb] = ne
                ne += 1
                cnt += 1
    if cnt > 0:
        head[:] = -1
    return nt


@numba.njit(**NJIT)
def _sssp_sec(
    indptr, indices, weights, sec_w, src, cutoff, dist, sec, touched, hk, hn, tmark, n_tgt
):
    """Lexicographic ``(time, secondary)`` search; like :func:`_sssp` plus ``sec`` labels."""
    dist[src] = 0
    sec[src] = 0
    touched[0] = src
    nt = 1
    hk[0] = 0
    hn[0] = src
    size = 1
    left = n_tgt
    while size > 0:
        key = hk[0]
        u = hn[0]
        size = heap_pop(hk, hn, size)
        d = key >> 32
        s = key & _LOW
        if d != dist[u] or s != sec[u]:
            continue
        if left > 0 and tmark[u]:
            left -= 1
            if left == 0:
                break
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + weights[e]
            if nd > MAXD:
                nd = MAXD
            if nd > cutoff:
                continue
            ns = s + sec_w[e]
            if ns > MAXD:
                ns = MAXD
            if nd < dist[v] or (nd == dist[v] and ns < sec[v]):
                if dist[v] == INF:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                sec[v] = ns
                size = heap_push(hk, hn, size, (nd << 32) | ns, v)
    return nt


@numba.njit(**NJIT)
def _write_row(dist, targets, out, i, unreach, cap, tps, exact):
    """``out[i, j] = dist[targets[j]]`` in seconds (``tps`` ticks each; exact for float
    ``out``, else rounded half up) with sentinel and saturation; returns #clipped values."""
    over = 0
    for j in range(targets.size):
        over += put_time(out, i, j, dist[targets[j]], MAXD, unreach, cap, tps, exact)
    return over


@numba.njit(**NJIT_PAR)
def dijkstra_matrix(
    indptr,
    indices,
    weights,
    sources,
    targets,
    tmark,
    n_tgt,
    cutoff,
    out,
    unreach,
    cap,
    tps,
    exact,
    nthr,
    nbuckets,
):
    """Fill ``out[i, j]`` = time from ``sources[i]`` to ``targets[j]``; returns #clipped values.

    ``cutoff`` in ticks; ``out`` in seconds (``tps`` ticks per second, ``exact``: float ``out``).

    ``nbuckets > 0``: Dial's bucket queue with that many buckets (max weight + 1), else a heap.
    """
    n = indptr.size - 1
    m = indices.size
    ns = sources.size
    nch = max(1, min(ns, 4 * nthr))
    over = np.zeros(nch, np.int64)
    for c in prange(nch):
        dist = np.full(n, INF, np.int64)
        touched = np.empty(n, np.int32)
        hk = np.empty(m + 1, np.int64)
        head = np.full(max(nbuckets, 1), -1, np.int32)
        enode = np.empty(m + 1 if nbuckets > 0 else 1, np.int32)
        enext = np.empty(m + 1 if nbuckets > 0 else 1, np.int32)
        for i in range(c * ns // nch, (c + 1) * ns // nch):
            if nbuckets > 0:
                nt = _sssp_dial(
                    indptr,
                    indices,
                    weights,
                    sources[i],
                    cutoff,
                    dist,
                    touched,
                    head,
                    enode,
                    enext,
                    tmark,
                    n_tgt,
                )
            else:
                nt = _sssp(
                    indptr, indices, weights, sources[i], cutoff, dist, touched, hk, tmark, n_tgt
                )
            over[c] += _write_row(dist, targets, out, i, unreach, cap, tps, exact)
            for t in range(nt):
                dist[touched[t]] = INF
    return over.sum()


def n_buckets(weights: np.ndarray) -> int:
    """Buckets for Dial's queue (max weight + 1), or 0 to use the heap (large weights)."""
    if weights.size == 0:
        return 1
    w = int(weights.max())
    return w + 1 if w < DIAL_MAX_WEIGHT else 0


@numba.njit(**NJIT_PAR)
def dijkstra_matrix_sec(
    indptr,
    indices,
    weights,
    sec_w,
    sources,
    targets,
    tmark,
    n_tgt,
    cutoff,
    out,
    out_sec,
    unreach,
    cap,
    tps,
    exact,
    nthr,
):
    """:func:`dijkstra_matrix` plus ``out_sec`` (int32) = secondary cost along the fastest path."""
    n = indptr.size - 1
    m = indices.size
    ns = sources.size
    nch = max(1, min(ns, 4 * nthr))
    over = np.zeros(nch, np.int64)
    for c in prange(nch):
        dist = np.full(n, INF, np.int64)
        sec = np.full(n, INF, np.int64)
        touched = np.empty(n, np.int32)
        hk = np.empty(m + 1, np.int64)
        hn = np.empty(m + 1, np.int32)
        for i in range(c * ns // nch, (c + 1) * ns // nch):
            nt = _sssp_sec(
                indptr,
                indices,
                weights,
                sec_w,
                sources[i],
                cutoff,
                dist,
                sec,
                touched,
                hk,
                hn,
                tmark,
                n_tgt,
            )
            over[c] += _write_row(dist, targets, out, i, unreach, cap, tps, exact)
            _write_row(sec, targets, out_sec, i, INF, MAXD, np.int64(1), False)
            for t in range(nt):
                dist[touched[t]] = INF
                sec[touched[t]] = INF
    return over.sum()


def single_source(indptr, indices, weights, src: int, cutoff: int = MAXD) -> np.ndarray:
    """Int64 distances in ticks from one source (``2**31 - 1`` = unreached); serial."""
    n = len(indptr) - 1
    dist = np.full(n, INF, np.int64)
    touched = np.empty(max(n, 1), np.int32)
    hk = np.empty(len(indices) + 1, np.int64)
    tmark = np.zeros(max(n, 1), np.bool_)
    _sssp(indptr, indices, weights, np.int32(src), np.int64(cutoff), dist, touched, hk, tmark, -1)
    return dist
