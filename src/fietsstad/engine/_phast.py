"""PHAST sweeps over a contraction hierarchy: 32 sources per sweep, in uint16 or int32 lanes.

Time matrices (:func:`phast_matrix`): for a group of up to :data:`LANES` sources, one upward
Dijkstra per source in the forward upward graph; its labels go on per-node lists; then one
linear sweep over the sweep positions (highest rank first) computes, for every node ``v``,
``L[v, :] = min(upward labels of v, min over incoming downward edges (u, v) of L[u, :] + w)``
with the lanes in the innermost loop so LLVM vectorises it. Every label is written before it
is read, so nothing is reset between groups.

The labels are **uint16 ticks with saturating adds** whenever that is exact or checkable
(:func:`lane_mode`): a label is then ``min(true time, 65535)``, 32 lanes are one 64-byte line
per node (half the memory of int32 lanes, twice the lanes per SIMD operation). A label below
65535 is exact. 65535 means "unreached or >= 65535 ticks"; it is harmless when the cut-off is
below 65535 ticks or :func:`lane_bound` proves every time below it; otherwise a group showing
65535 at a target is swept again in int32 lanes (and a graph that is not strongly connected
goes to int32 lanes at once). int32 labels use ``PHAST_INF = 2**30``; the caller guarantees the
sum of all weights is below 2**30 ticks, so ``label + w`` never overflows (with deciseconds:
below about 1.2 days of summed edge time; larger graphs are refused by ``method="phast"`` and
answered by Dijkstra under ``"auto"``). For a uint16 matrix the labels become seconds in place
(round half up, vectorised) and are copied into the caller's rows tile by tile; other dtypes
convert per entry (:func:`~fietsstad.engine._units.put_time`). The groups run on threads as
chunks of serial kernels (:func:`in_chunks`), one kernel per lane type and output path, so a
first call compiles only what it runs; the groups that need the int32 re-sweep are collected
and swept again after the uint16 pass.

The secondary-cost variant (:func:`phast_matrix_sec`) and the accessibility kernels keep the
dense upward matrix ``U`` and int32 lanes (``K`` from :func:`lanes_for`).

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, travel_times
>>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
>>> travel_times(g, method="phast").tolist()
[[0, 5, 11], [13, 0, 6], [7, 12, 0]]
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from fietsstad.engine._heap import heap_pop, heap_push
from fietsstad.engine._units import put_time
from fietsstad.engine.config import NJIT, PHAST_INF, UNREACHABLE_I32
from fietsstad.errors import GraphError

PINF = np.int32(PHAST_INF)
#: Sources per sweep of the time matrices (:func:`phast_matrix`): 32 uint16 labels fill one
#: 64-byte cache line per node (one AVX-512 register; two AVX2 registers).
LANES = 32
#: uint16 label "65535 or more / unreached" (saturating lanes).
INF16 = np.uint16(65535)
_LITTLE = sys.byteorder == "little"
#: Targets per tile when rows are written out (:func:`_emit_rows`).
EMIT_TILE = 128
_LOW = np.int64(0xFFFFFFFF)


@numba.njit(**NJIT)
def _search(s, up_indptr, up_indices, up_t, cutoff, hk, dist, touched):
    """Dijkstra from position ``s`` in the upward graph on the dense scalar array ``dist``
    (PHAST_INF outside the search). The ``nt`` settled positions (returned) are left in
    ``touched[:nt]`` with their labels in ``dist``; the caller resets ``dist`` there."""
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
    return nt


@numba.njit(**NJIT)
def _upward(s, k, up_indptr, up_indices, up_t, cutoff, U, hk, dist, touched):
    """:func:`_search` from position ``s``; the results go to column ``k`` of ``U``.

    The search runs on the dense scalar array ``dist``: a column of ``U`` strides one cache
    line per node, which made the search memory-bound. Only the ~100-200 settled labels are
    then scattered into ``U``; their positions are left in ``touched[:nt]`` and ``nt`` is
    returned.
    """
    nt = _search(s, up_indptr, up_indices, up_t, cutoff, hk, dist, touched)
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


# ------------------------------------------------------ time matrices: uint16 / int32 lanes
@numba.njit(**NJIT)
def _collect(src_pos, s0, lanes, up_indptr, up_indices, up_t, cutoff, sat, hk, dist, touched,
             head, ek, ed, enx):  # fmt: skip
    """Upward searches of sources ``s0 .. s0 + lanes - 1``; their labels (clipped to ``sat``)
    go on per-position lists (``head[x]`` -> entry; entry ``i``: lane ``ek[i]``, label
    ``ed[i]``, next ``enx[i]``) that the sweep consumes: no dense upward matrix to fill and
    reset. Returns the number of entries, or -1 when they do not fit (``head`` is then reset;
    the caller retries with larger arrays)."""
    ne = 0
    for k in range(lanes):
        nt = _search(src_pos[s0 + k], up_indptr, up_indices, up_t, cutoff, hk, dist, touched)
        if ne + nt > ek.size:
            for t in range(nt):
                dist[touched[t]] = PINF
            head[:] = -1
            return -1
        for t in range(nt):
            x = touched[t]
            ek[ne] = k
            ed[ne] = min(dist[x], sat)
            enx[ne] = head[x]
            head[x] = ne
            ne += 1
            dist[x] = PINF
    return ne


@numba.njit(**NJIT)
def _grown(ek):
    """Three fresh entry arrays (lane, label, next) of twice ``ek.size``."""
    cap = 2 * ek.size
    return np.empty(cap, np.int32), np.empty(cap, np.int32), np.empty(cap, np.int32)


@numba.njit(**NJIT)
def _sweep16(dn_indptr, dn_src, dn_w16, L, head, ek, ed, enx):
    """The downward sweep on uint16 labels, :data:`LANES16` lanes = one 64-byte line per node.

    ``L[v] = min(upward labels of v, min over incoming (u, v) of L[u] + w)`` with saturating
    adds (``a + w`` wrapped below ``a`` means 65535): every label is exactly ``min(true
    distance, 65535)``, so any label below 65535 is exact. LLVM emits ``vpaddusw`` and
    ``vpminuw`` for the lane loop (the lane count is a compile-time constant). The upward labels
    come from the lists of :func:`_collect`, emptied on the way (``head`` is all -1 again on
    return), so nothing is reset between groups."""
    n = L.shape[0]
    for v in range(n):
        for k in range(LANES):
            L[v, k] = INF16
        i = head[v]
        head[v] = -1
        while i >= 0:
            L[v, ek[i]] = np.uint16(ed[i])
            i = enx[i]
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            u = dn_src[e]
            w = dn_w16[e]
            for k in range(LANES):
                a = L[u, k]
                x = np.uint16(a + w)
                x = x if x >= a else INF16
                L[v, k] = min(L[v, k], x)


@numba.njit(**NJIT)
def _sweep32(dn_indptr, dn_src, dn_t, L, head, ek, ed, enx):
    """:func:`_sweep16` on int32 labels (``PHAST_INF`` = unreached; the caller guarantees
    that the weights sum below 2**30, so ``label + w`` never overflows). The lane count is read
    at run time here: LLVM then vectorises the lane loop (``vpaddd``/``vpminsd``), which it did
    not for the constant count."""
    n, K = L.shape
    for v in range(n):
        for k in range(K):
            L[v, k] = PINF
        i = head[v]
        head[v] = -1
        while i >= 0:
            L[v, ek[i]] = ed[i]
            i = enx[i]
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            u = dn_src[e]
            w = dn_t[e]
            for k in range(K):
                L[v, k] = min(L[v, k], np.int32(L[u, k] + w))


@numba.njit(**NJIT)
def _emit_rows(L, tgt_pos, s0, lanes, lim, sat, out, unreach, cap, tps, exact):
    """Write lanes ``0..lanes-1`` of ``L`` as rows ``s0..`` of ``out`` (target order, output
    dtype, seconds: :func:`fietsstad.engine._units.put_time`), by tiles of
    :data:`EMIT_TILE` targets: every output row is written sequentially while the tile's
    label lines stay in L1. Labels above ``lim`` write ``unreach``; returns ``(#clipped,
    #labels >= sat)``, the latter being uint16 labels that may be saturated."""
    over = 0
    amb = 0
    nt = tgt_pos.size
    for j0 in range(0, nt, EMIT_TILE):
        j1 = min(nt, j0 + EMIT_TILE)
        for k in range(lanes):
            i = s0 + k
            for j in range(j0, j1):
                d = L[tgt_pos[j], k]
                if d >= sat:
                    amb += 1
                over += put_time(out, i, j, d, lim, unreach, cap, tps, exact)
    return over, amb


@numba.njit(**NJIT)
def _seconds16(L, lim, tps, unreach):
    """uint16 labels -> uint16 seconds in place (a uint16 matrix's values): ``round-half-up(d /
    tps)`` for ``d <= lim``, ``unreach`` above (the rule of :func:`~fietsstad.engine._units.
    put_time`; seconds never exceed 6,554, so nothing is clipped). Returns how many labels
    were 65535 (saturated or unreached). ``(x * 52429) >> 19 == x // 10`` for ``x < 2**16 + 6``.
    """
    n = L.shape[0]
    lim32 = np.uint32(lim)
    u = np.uint16(unreach)
    amb = 0
    if tps == 10:
        lim16 = np.uint16(min(lim, INF16))
        for p in range(n):
            row = L[p]
            for k in range(LANES):
                d = row[k]
                amb += np.int32(d == INF16)
                s = np.uint16((np.uint32(d) * np.uint32(52429) + np.uint32(5 * 52429)) >> 19)
                row[k] = s if d <= lim16 else u
    elif tps == 1:
        for p in range(n):
            for k in range(LANES):
                d = np.uint32(L[p, k])
                amb += d == np.uint32(INF16)
                L[p, k] = L[p, k] if d <= lim32 else u
    else:
        half = np.uint32(tps // 2)
        t = np.uint32(tps)
        for p in range(n):
            for k in range(LANES):
                d = np.uint32(L[p, k])
                amb += d == np.uint32(INF16)
                L[p, k] = np.uint16((d + half) // t) if d <= lim32 else u
    return amb


@numba.njit(**NJIT)
def _gather16(S, tgt_pos, s0, lanes, out):
    """``out[s0 + k, j] = S[tgt_pos[j], k]`` by tiles of :data:`EMIT_TILE` targets: every
    output row is written sequentially while the tile's lines of ``S`` stay in L1."""
    nt = tgt_pos.size
    for j0 in range(0, nt, EMIT_TILE):
        j1 = min(nt, j0 + EMIT_TILE)
        for k in range(lanes):
            row = out[s0 + k]
            for j in range(j0, j1):
                row[j] = S[tgt_pos[j], k]


@numba.njit(**NJIT)
def _gather16x4(S, tgt_pos, s0, out):
    """:func:`_gather16` for all :data:`LANES` lanes, reading four lanes at once as one
    uint64 (little-endian: lane ``4m`` in the low bits): a quarter of the loads, measured 2x
    faster than one load per entry."""
    S64 = S.view(np.uint64)
    nt = tgt_pos.size
    m16 = np.uint64(0xFFFF)
    for j0 in range(0, nt, EMIT_TILE):
        j1 = min(nt, j0 + EMIT_TILE)
        for m in range(LANES // 4):
            r0 = out[s0 + 4 * m]
            r1 = out[s0 + 4 * m + 1]
            r2 = out[s0 + 4 * m + 2]
            r3 = out[s0 + 4 * m + 3]
            for j in range(j0, j1):
                v = S64[tgt_pos[j], m]
                r0[j] = np.uint16(v & m16)
                r1[j] = np.uint16((v >> np.uint64(16)) & m16)
                r2[j] = np.uint16((v >> np.uint64(32)) & m16)
                r3[j] = np.uint16(v >> np.uint64(48))


@numba.njit(**NJIT)
def _count16(S, tgt_pos, lanes, u):
    """How many of the first ``lanes`` lanes at the targets hold ``u``."""
    c = 0
    for j in range(tgt_pos.size):
        p = tgt_pos[j]
        for k in range(lanes):
            c += S[p, k] == u
    return c


# No ``prange`` here: each way of filling a matrix is one serial chunk kernel (:func:`_chunk_u16`,
# :func:`_chunk_rows16`, :func:`_chunk_rows32`), chosen in Python and run on threads by
# :func:`in_chunks`. A first call then compiles only the lane type and output path it runs
# (numba compiles every branch of a kernel), and no parallel kernel, whose ``prange`` body numba
# types, lowers and optimises again with everything it calls. Measured: 12 s -> 4-6 s for the
# first uint16 matrix on an empty cache; the warm sweeps are the same code.
@numba.njit(**NJIT)
def _scratch(n, m_up):
    """A chunk's search scratch: ``head`` (all -1), the three entry arrays of :func:`_collect`,
    the heap keys, ``dist`` (all ``PHAST_INF``) and ``touched``."""
    ek, ed, enx = _grown(np.empty(128 * LANES, np.int32))
    hk = np.empty(m_up + 1, np.int64)
    return (
        np.full(n, -1, np.int32),
        ek,
        ed,
        enx,
        hk,
        np.full(n, PINF, np.int32),
        np.empty(n, np.int32),
    )


@numba.njit(**NJIT)
def _flag_rest(groups, i, nredo, redo):
    """After group ``groups[i]`` needed the int32 re-sweep (``nredo`` so far in this chunk): if
    most of the chunk did, flag every later group for it (no uint16 sweep) and return True."""
    if i >= 3 and 2 * nredo > i + 1:
        for r in range(i + 1, groups.size):
            redo[groups[r]] = True
        return True
    return False


@numba.njit(**NJIT)
def _swept16(src_pos, s0, lanes, up_indptr, up_indices, up_t, dn_indptr, dn_src, dn_w16, cut16,
             L, hk, dist, touched, head, ek, ed, enx):  # fmt: skip
    """The upward searches (:func:`_collect`) and the uint16 sweep (:func:`_sweep16`) of the
    group of sources ``s0 .. s0 + lanes - 1`` into ``L``; returns the entry arrays (grown when
    they were too small)."""
    while _collect(src_pos, s0, lanes, up_indptr, up_indices, up_t, cut16, np.int64(INF16),
                   hk, dist, touched, head, ek, ed, enx) < 0:  # fmt: skip
        ek, ed, enx = _grown(ek)
    _sweep16(dn_indptr, dn_src, dn_w16, L, head, ek, ed, enx)
    return ek, ed, enx


@numba.njit(**NJIT)
def _chunk_u16(groups, src_pos, tgt_pos, up_indptr, up_indices, up_t, dn_indptr, dn_src, dn_w16,
               cut16, lim16, tps, check, out, redo):  # fmt: skip
    """uint16 lanes into a uint16 matrix (sentinel 65535) for the sweep groups ``groups``:
    labels become seconds in place (:func:`_seconds16`) and are copied row by row. ``check``
    (lane mode 2): a group showing 65535 at a target is not written but flagged in ``redo``."""
    n = dn_indptr.size - 1
    ns = src_pos.size
    L = np.empty((n, LANES), np.uint16)
    head, ek, ed, enx, hk, dist, touched = _scratch(n, up_indices.size)
    nredo = 0
    for i in range(groups.size):
        s0 = groups[i] * LANES
        lanes = min(LANES, ns - s0)
        ek, ed, enx = _swept16(src_pos, s0, lanes, up_indptr, up_indices, up_t, dn_indptr, dn_src,
                               dn_w16, cut16, L, hk, dist, touched, head, ek, ed, enx)  # fmt: skip
        amb = _seconds16(L, lim16, tps, INF16)
        if check and amb > 0 and _count16(L, tgt_pos, lanes, INF16) > 0:
            redo[groups[i]] = True
            nredo += 1
            if _flag_rest(groups, i, nredo, redo):
                break
        elif lanes == LANES and _LITTLE:
            _gather16x4(L, tgt_pos, s0, out)
        else:
            _gather16(L, tgt_pos, s0, lanes, out)
    return 0


@numba.njit(**NJIT)
def _chunk_rows16(groups, src_pos, tgt_pos, up_indptr, up_indices, up_t, dn_indptr, dn_src,
                  dn_w16, cut16, lim16, sat16, out, unreach, cap, tps, exact, redo):  # fmt: skip
    """uint16 lanes written by :func:`_emit_rows` (any output dtype); returns #clipped. A group
    with a label ``>= sat16`` at a target (lane mode 2) is flagged in ``redo``."""
    n = dn_indptr.size - 1
    ns = src_pos.size
    L = np.empty((n, LANES), np.uint16)
    head, ek, ed, enx, hk, dist, touched = _scratch(n, up_indices.size)
    over = 0
    nredo = 0
    for i in range(groups.size):
        s0 = groups[i] * LANES
        lanes = min(LANES, ns - s0)
        ek, ed, enx = _swept16(src_pos, s0, lanes, up_indptr, up_indices, up_t, dn_indptr, dn_src,
                               dn_w16, cut16, L, hk, dist, touched, head, ek, ed, enx)  # fmt: skip
        o, amb = _emit_rows(L, tgt_pos, s0, lanes, lim16, sat16, out, unreach, cap, tps, exact)
        if amb == 0:
            over += o
            continue
        redo[groups[i]] = True
        nredo += 1
        if _flag_rest(groups, i, nredo, redo):
            break
    return over


@numba.njit(**NJIT)
def _chunk_rows32(groups, src_pos, tgt_pos, up_indptr, up_indices, up_t, dn_indptr, dn_src, dn_t,
                  cutoff, out, unreach, cap, tps, exact):  # fmt: skip
    """int32 lanes written by :func:`_emit_rows`; returns #clipped."""
    n = dn_indptr.size - 1
    ns = src_pos.size
    L = np.empty((n, LANES), np.int32)
    head, ek, ed, enx, hk, dist, touched = _scratch(n, up_indices.size)
    sat = np.int64(PHAST_INF) * 4
    over = 0
    for i in range(groups.size):
        s0 = groups[i] * LANES
        lanes = min(LANES, ns - s0)
        while _collect(src_pos, s0, lanes, up_indptr, up_indices, up_t, cutoff, np.int64(PINF),
                       hk, dist, touched, head, ek, ed, enx) < 0:  # fmt: skip
            ek, ed, enx = _grown(ek)
        _sweep32(dn_indptr, dn_src, dn_t, L, head, ek, ed, enx)
        o, _ = _emit_rows(L, tgt_pos, s0, lanes, cutoff, sat, out, unreach, cap, tps, exact)
        over += o
    return over


def in_chunks(kernel, groups: np.ndarray, nthr: int, *args) -> int:
    """Sum of ``kernel(groups[chunk], *args)`` over ``4 * nthr`` chunks of ``groups``, run on
    ``nthr`` Python threads (the kernels are ``nogil``; the chunks are picked up as threads
    free up). This is the engine's ``prange`` without a parallel kernel to compile: numba
    lowers and optimises a ``prange`` body with all it calls several times over, which cost
    about 3 s on a first call per kernel (``cache=True`` pays it once per install).

    Example
    -------
    >>> import numba
    >>> @numba.njit(nogil=True)
    ... def count(gs, k):
    ...     return gs.size * k
    >>> in_chunks(count, np.arange(10), 2, 3)
    30
    """
    ng = groups.size
    nch = max(1, min(ng, 4 * nthr))
    parts = [groups[c * ng // nch : (c + 1) * ng // nch] for c in range(nch)]
    if nthr <= 1 or nch == 1:
        return sum(int(kernel(p, *args)) for p in parts)
    with ThreadPoolExecutor(max_workers=min(nthr, nch)) as pool:
        return sum(int(r) for r in pool.map(lambda p: kernel(p, *args), parts))


def phast_matrix(ch, dn_w16, src_pos, tgt_pos, cutoff, out, unreach, cap, tps, exact, nthr,
                 mode) -> tuple[int, int]:  # fmt: skip
    """Rows of travel times for ``src_pos`` (sweep positions) to ``tgt_pos``; returns
    ``(#clipped, #groups swept again with int32 lanes)``.

    :data:`LANES` sources share one sweep; groups are spread over ``4 * nthr`` chunks.
    ``mode``: 0 = int32 lanes only; 1 = uint16 lanes, exact (no label can saturate, or every
    saturated label lies beyond the cut-off); 2 = uint16 lanes, and the groups whose targets
    show a saturated label (65535: maybe >= 6553.5 s at 10 ticks per second) are swept again
    with int32 lanes, which write their rows again (a chunk where most groups needed that goes
    on with int32 lanes only). A uint16 ``out`` with the sentinel 65535 gets the labels turned
    into seconds in place and copied row by row; other outputs go through :func:`_emit_rows`.
    """
    ns = src_pos.size
    groups = np.arange((ns + LANES - 1) // LANES, dtype=np.int64)
    up = (ch.up_indptr, ch.up_indices, ch.up_t, ch.dn_indptr, ch.dn_src)
    cutoff = np.int64(cutoff)
    if mode == 0:
        over = in_chunks(_chunk_rows32, groups, nthr, src_pos, tgt_pos, *up, ch.dn_t, cutoff, out, unreach,
                           cap, tps, exact)  # fmt: skip
        return int(over), 0
    cut16 = np.int64(min(int(cutoff), int(INF16)))
    lim16 = np.int64(min(int(cutoff), int(INF16) - 1))
    check = mode == 2
    redo = np.zeros(groups.size, np.bool_)
    if out.dtype == np.uint16 and int(unreach) == int(INF16):
        in_chunks(_chunk_u16, groups, nthr, src_pos, tgt_pos, *up, dn_w16, cut16, lim16, tps, check, out,
                 redo)  # fmt: skip
        over = 0
    else:
        sat16 = np.int64(INF16) if check else np.int64(PHAST_INF) * 4
        over = int(in_chunks(_chunk_rows16, groups, nthr, src_pos, tgt_pos, *up, dn_w16, cut16, lim16, sat16,
                               out, unreach, cap, tps, exact, redo))  # fmt: skip
    again = np.flatnonzero(redo).astype(np.int64)
    if again.size:
        over += int(in_chunks(_chunk_rows32, again, nthr, src_pos, tgt_pos, *up, ch.dn_t, cutoff, out,
                                unreach, cap, tps, exact))  # fmt: skip
    return over, int(again.size)


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


@numba.njit(**NJIT)
def phast_matrix_sec(
    groups,
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
    K,
):
    """The rows of the sweep groups ``groups`` (of ``K`` sources) as in the time matrices, plus
    the secondary cost along the (lexicographic) fastest path; :func:`in_chunks` runs chunks of
    groups on threads. Returns #clipped."""
    n = dn_indptr.size - 1
    ns = src_pos.size
    imax = np.int32(UNREACHABLE_I32)
    U = np.full((n, K), PINF, np.int32)
    US = np.zeros((n, K), np.int32)
    D = np.empty((n, K), np.int32)
    DS = np.empty((n, K), np.int32)
    hk = np.empty(up_indices.size + 1, np.int64)
    hn = np.empty(up_indices.size + 1, np.int32)
    dist = np.full(n, PINF, np.int32)
    sdist = np.zeros(n, np.int32)
    touched = np.empty(n, np.int32)
    over = 0
    for gi in groups:
        s0 = gi * K
        lanes = min(K, ns - s0)
        for k in range(lanes):
            _upward_sec(src_pos[s0 + k], k, up_indptr, up_indices, up_t, up_s, cutoff, U, US, hk,
                        hn, dist, sdist, touched)  # fmt: skip
        _sweep_sec(dn_indptr, dn_src, dn_t, dn_s, U, US, D, DS)
        over += _emit(
            D, order, tgt_pos, all_targets, s0, lanes, cutoff, out, unreach, cap, tps, exact
        )
        for j in range(tgt_pos.size):
            p = tgt_pos[j]
            for k in range(lanes):
                if D[p, k] >= PINF or D[p, k] > cutoff:
                    out_sec[s0 + k, j] = imax
                else:
                    out_sec[s0 + k, j] = DS[p, k]
    return over


#: Groups that the last :func:`phast_fill` swept again with int32 lanes (tests, benchmarks).
LAST_REDO = 0

_BOUNDS: dict[str, tuple[bool, int]] = {}  # "graph key:top node" -> lane_bound


@numba.njit(**NJIT)
def _top_bound(up_indptr, up_indices, up_t, dn_indptr, dn_src, dn_t):
    """``max d(s, c) + max d(c, t)`` over all nodes for the top node ``c`` of the hierarchy
    (sweep position 0), or -1 when some node does not reach ``c`` or is not reached from it.

    Exact in one pass over the positions: a shortest path to or from the top node has its peak
    there, so ``d(s, c)`` is the upward search's label (a pass over the upward DAG, every edge
    leading to an earlier position) and ``d(c, t)`` the downward sweep from ``c`` alone."""
    n = dn_indptr.size - 1
    inf = np.int64(1) << 62
    to_top = np.full(n, inf, np.int64)
    from_top = np.full(n, inf, np.int64)
    to_top[0] = 0
    from_top[0] = 0
    a = np.int64(0)
    b = np.int64(0)
    for v in range(1, n):  # (max by hand: numpy's max costs most of the compile time here)
        for e in range(up_indptr[v], up_indptr[v + 1]):
            to_top[v] = min(to_top[v], to_top[up_indices[e]] + up_t[e])
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            from_top[v] = min(from_top[v], from_top[dn_src[e]] + dn_t[e])
        a = max(a, to_top[v])
        b = max(b, from_top[v])
    return np.int64(-1) if a >= inf or b >= inf else a + b


def lane_bound(g, ch) -> tuple[bool, int]:
    """``(strongly_connected, bound)``: ``bound`` (ticks) is ``max d(s, c) + max d(c, t)`` for
    the top node ``c`` of the hierarchy, an upper bound of every travel time when the graph is
    strongly connected (one pass over the hierarchy: :func:`_top_bound`; memoised per graph).
    With ``bound <= 65534`` uint16 lanes can never saturate.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, build_ch
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
    >>> strong, bound = lane_bound(g, build_ch(g))  # the largest time is 1 -> 0: 13 ticks
    >>> strong, 13 <= bound <= 2 * 13
    (True, True)
    """
    c = int(ch.order[0])
    key = f"{ch.graph_key}:{c}"
    hit = _BOUNDS.get(key)
    if hit is not None:
        return hit
    b = int(_top_bound(ch.up_indptr, ch.up_indices, ch.up_t, ch.dn_indptr, ch.dn_src, ch.dn_t))
    if len(_BOUNDS) >= 16:
        _BOUNDS.pop(next(iter(_BOUNDS)))
    _BOUNDS[key] = (b >= 0, b)
    return b >= 0, b


def lane_mode(g, ch, cutoff: int) -> int:
    """How :func:`phast_matrix` sweeps (``cutoff`` in ticks): 1 = uint16 lanes, exact (the
    cut-off is below 65535 ticks, or :func:`lane_bound` proves every time below it); 2 = uint16
    lanes with a second int32 sweep for a group that saturates (strongly connected graph, no
    proof); 0 = int32 lanes (a graph that is not strongly connected: unreached and saturated
    labels would look alike). :data:`FORCE_MODE` overrides it (tests, benchmarks)."""
    if FORCE_MODE is not None:
        return int(FORCE_MODE)
    if cutoff < int(INF16):
        return 1
    strong, bound = lane_bound(g, ch)
    if not strong:
        return 0
    return 1 if bound < int(INF16) else 2


#: Tests and benchmarks: a :func:`lane_mode` to use instead of the chosen one (2 forces uint16
#: lanes with the int32 check, 0 int32 lanes only); ``None`` lets :func:`lane_mode` choose.
FORCE_MODE: int | None = None


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
    tps = np.int64(g.ticks_per_s)
    exact = out.dtype.kind == "f"
    if sec_w is None:
        global LAST_REDO
        mode = lane_mode(g, ch, int(c))
        w16 = np.minimum(ch.dn_t, int(INF16)).astype(np.uint16)
        over, LAST_REDO = phast_matrix(
            ch, w16, src_pos, tgt_pos, c, out, unreach, cap, tps, exact, nthr, mode
        )
        return int(over)
    K = lanes_for(len(sources), nthr)
    if not ch.has_secondary:
        raise GraphError(
            "this contraction hierarchy was built without secondary weights; "
            "build_ch(graph, secondary=...) first"
        )
    return in_chunks(
        phast_matrix_sec,
        np.arange((len(sources) + K - 1) // K, dtype=np.int64),
        nthr,
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
        np.int64(K),
    )
