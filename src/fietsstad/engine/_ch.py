"""Contraction hierarchy (CH) construction, once per graph and cost, in numba, on all cores.

Nodes are contracted in *rounds* (Vetter 2009, "parallel CH"). Every uncontracted node has a
priority, ``2 * edge difference + contracted neighbours`` (shortcuts its contraction adds minus
the arcs it removes, plus how many neighbours are already gone, which spreads contraction
evenly), estimated by simulating its contraction. A round contracts every node whose priority
(ties broken by a scramble of the node id) is the least in its 2-hop neighbourhood: such nodes
share no neighbour, so one thread per node can contract them at the same time and hand its
shortcuts to its own neighbours without locks; then the priorities of their neighbours are
recomputed, again in parallel. Every step reads only the state left by the previous step, so
the hierarchy is the same whatever the number of threads (``numba.set_num_threads``), and
whether a step runs on one thread or on all is decided by measured costs (a parallel launch
costs microseconds on an idle machine but a scheduler time slice when other processes keep the
cores busy, more than the small late rounds are worth; see :func:`_run`).

A shortcut ``u -> x`` replaces ``u -> v -> x`` unless a *witness* path of at most the same cost
avoids ``v`` (and the other nodes of the round); witness searches are Dijkstras that stop when
all of ``v``'s out-neighbours are settled or after ``settle_limit`` settled nodes
(:data:`SIMULATION_SETTLE_LIMIT` when only estimating a priority). A missed witness only costs
an extra shortcut, never correctness. The graph being contracted is kept in flat per-node
adjacency segments (no Python objects); a node's segments, once it is contracted, are its arcs
in the hierarchy.

Costs are compared as packed ``int64`` keys ``time << 32 | secondary``: with secondary weights
the hierarchy preserves the lexicographically least (time, secondary) paths, so the PHAST sweep
returns the same "metres along the fastest route" as the lexicographic Dijkstra.

The result is stored for the PHAST sweep in *sweep positions*: nodes sorted by decreasing CH
level (a node's level exceeds those of all lower-ranked neighbours, so every downward edge goes
from an earlier to a later position) and, within a level, by node id, which keeps the input's
spatial locality: the sweep walks memory sequentially and its reads of higher levels stay close
together (the PHAST reordering). ``up_*`` is the forward
upward graph (edges to higher rank, i.e. lower position); ``dn_*`` holds, for each node, its
incoming edges from higher-ranked nodes.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, build_ch
>>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [1, 1, 1])
>>> ch = build_ch(g)
>>> ch.n, sorted(ch.rank.tolist())
(3, [0, 1, 2])
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir  # type: ignore[import-untyped]
from numba import prange
from numba.core import cgutils, types
from numba.extending import intrinsic

from fietsstad.engine._graph import CSRGraph, GraphLike, as_graph, check_secondary
from fietsstad.engine._heap import heap_pop as _hpop
from fietsstad.engine._heap import heap_push as _hpush
from fietsstad.engine._units import phast_limit_message
from fietsstad.engine.config import INF64, NJIT, NJIT_INLINE, NJIT_PAR, PHAST_INF
from fietsstad.errors import GraphError

_BIG = np.int64(INF64)
_LOW = np.int64(0xFFFFFFFF)

#: Settled-node limit of the witness searches that decide which shortcuts a contraction adds.
WITNESS_SETTLE_LIMIT = 64

#: Settled-node limit of the witness searches that estimate a node's priority.
SIMULATION_SETTLE_LIMIT = 16

#: Weights of (level, shortcuts per removed arc, shortcut hops per removed hop, edge difference,
#: contracted neighbours) in a node's priority (see :func:`_priority`).
_PRIORITY_COEF = (0, 0, 0, 2, 1)

_MEMO: dict[str, ContractionHierarchy] = {}
_MEMO_MAX = 8


@dataclass(frozen=True, eq=False)
class ContractionHierarchy:
    """A contraction hierarchy in sweep order (see module docs).

    Attributes
    ----------
    n : int
    rank : int32 (n,)  contraction order of every node (0 = contracted first).
    level : int32 (n,)  1 + the highest level of the neighbours contracted before the node.
    pos : int32 (n,)  sweep position: by decreasing level, then node id.
    order : int32 (n,)  node at every sweep position (inverse of ``pos``).
    up_indptr, up_indices, up_t, up_s : forward upward graph in positions (times, secondary).
    dn_indptr, dn_src, dn_t, dn_s : per position, incoming edges from higher-ranked positions.
    key : str  content hash of the graph (and secondary weights) it was built for.
    graph_key : str  content hash of the graph alone (checked before every query).
    n_shortcuts : int ; build_seconds : float ; has_secondary : bool

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, build_ch, travel_times
    >>> g = CSRGraph.from_arrays([0, 2, 3, 3], [1, 2, 2], [60, 150, 30])  # 0->1, 0->2, 1->2
    >>> ch = build_ch(g)
    >>> ch.n, sorted(ch.rank.tolist()), ch.has_secondary
    (3, [0, 1, 2], False)
    >>> travel_times(g, [0], method="phast", ch=ch).tolist()  # 0 -> 2 via 1: 90 s, not 150 s
    [[0, 60, 90]]
    """

    n: int
    rank: np.ndarray
    level: np.ndarray
    pos: np.ndarray
    order: np.ndarray
    up_indptr: np.ndarray
    up_indices: np.ndarray
    up_t: np.ndarray
    up_s: np.ndarray
    dn_indptr: np.ndarray
    dn_src: np.ndarray
    dn_t: np.ndarray
    dn_s: np.ndarray
    key: str
    graph_key: str
    n_shortcuts: int
    build_seconds: float
    has_secondary: bool


# ---------------------------------------------------------------------------- kernels
# The graph being contracted lives in flat arrays: every node has an out-list and an in-list,
# a segment ``[st[v], st[v] + ln[v])`` of capacity ``cp[v]`` in a shared pool of (neighbour,
# packed weight, hop count) entries; a list that outgrows its segment moves to the pool's end.
# A node's lists only ever hold uncontracted neighbours, so once a node is contracted its lists
# are exactly its upward (out) and downward (in) arcs in the hierarchy.

_KEY_OFF = np.int64(1 << 30)
_TIE_MUL = np.int64(2654435761)

#: What one step of :func:`_run` computes for each item.
_PRIORITY, _LOCAL_MIN, _SELECT, _CONTRACT, _APPLY = 0, 1, 2, 3, 4

#: Items below which a step runs on one thread when the machine has no cycle counter.
_PAR_MIN = 24

#: Slots of the ``tune`` array of :func:`_run`: per-mode cycles per item (0-4), launch overhead
#: in cycles (the median of the last three launches, kept in 8-10), steps declined since the
#: last launch, declined steps before the next probing launch, 1 once the cycle counter has
#: worked (0 before; -1 launches every step of more than one item in parallel, for tests).
_OVER, _DECLINED, _PROBE, _TIMED, _RING = 5, 6, 7, 11, 8

_HAS_TSC = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


@intrinsic
def _cycles(typingctx):
    """The processor's cycle counter (x86 ``rdtsc``); always 0 on other machines."""

    def codegen(context, builder, signature, args):
        if _HAS_TSC:
            fnty = ir.FunctionType(ir.IntType(64), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
            return builder.call(fn, [])
        return ir.Constant(ir.IntType(64), 0)

    return types.int64(), codegen


@numba.njit(**NJIT_INLINE)
def _witness(u, v, maxc, limit, ntgt, o_st, o_ln, o_to, o_w, state, dist, touched, tmark, hk, hn):
    """Bounded Dijkstra from ``u`` avoiding ``v`` and nodes not active (``state != 0``).

    Stops once the ``ntgt`` nodes marked ``tmark == v`` are settled, after ``limit`` settled
    nodes, beyond ``maxc``, or when the heap is full: every label left in ``dist`` is then the
    length of a real path avoiding ``v`` (a witness), so stopping early only adds shortcuts.
    Returns the number of touched nodes (``touched[:nt]``; the caller resets their labels).
    """
    dist[u] = 0
    touched[0] = u
    nt = 1
    size = _hpush(hk, hn, 0, np.int64(0), u)
    settled = 0
    found = 0
    cap = hk.size
    while size > 0:
        d = hk[0]
        x = hn[0]
        size = _hpop(hk, hn, size)
        if d != dist[x]:
            continue
        if tmark[x] == v:
            found += 1
            if found >= ntgt:
                break
        settled += 1
        if settled > limit:
            break
        b = o_st[x]
        for e in range(b, b + o_ln[x]):
            y = o_to[e]
            if y == v or state[y] != 0:
                continue
            nd = d + o_w[e]
            if nd <= maxc and nd < dist[y]:
                if dist[y] == _BIG:
                    touched[nt] = y
                    nt += 1
                dist[y] = nd
                if size == cap:
                    return nt
                size = _hpush(hk, hn, size, nd, y)
    return nt


@numba.njit(**NJIT)
def _contract_node(v, limit, g, dist, touched, tmark, hk, hn, k0, bu, bx, bw, bh):
    """The shortcuts contracting ``v`` needs; written to ``b*[k0:]`` unless ``k0 < 0``.

    Returns ``(shortcuts, their summed hop counts)``.
    """
    o_st, o_ln, o_to, o_w, o_h, i_st, i_ln, i_fr, i_w, i_h, state = g
    ob = o_st[v]
    nout = o_ln[v]
    ib = i_st[v]
    nin = i_ln[v]
    if nout == 0 or nin == 0:
        return 0, 0
    for j in range(ob, ob + nout):
        tmark[o_to[j]] = v
    added = 0
    hops = 0
    k = k0
    for i in range(ib, ib + nin):
        u = i_fr[i]
        wu = i_w[i]
        maxout = np.int64(-1)
        for j in range(ob, ob + nout):
            if o_to[j] != u and o_w[j] > maxout:
                maxout = o_w[j]
        if maxout < 0:
            continue
        nt = _witness(
            u,
            v,
            wu + maxout,
            limit,
            nout,
            o_st,
            o_ln,
            o_to,
            o_w,
            state,
            dist,
            touched,
            tmark,
            hk,
            hn,
        )
        for j in range(ob, ob + nout):
            x = o_to[j]
            if x == u:
                continue
            c = wu + o_w[j]
            if dist[x] > c:
                added += 1
                h = i_h[i] + o_h[j]
                hops += h
                if k0 >= 0:
                    bu[k] = u
                    bx[k] = x
                    bw[k] = c
                    bh[k] = h
                    k += 1
        for t in range(nt):
            dist[touched[t]] = _BIG
    for j in range(ob, ob + nout):
        tmark[o_to[j]] = -1
    return added, hops


@numba.njit(**NJIT_INLINE)
def _priority(v, limit, g, dist, touched, tmark, hk, hn, level, cn, coef):
    """Key of ``v``: its priority (low: contract early) above a scramble of its id (ties)."""
    o_st, o_ln, o_to, o_w, o_h, i_st, i_ln, i_fr, i_w, i_h, state = g
    added, hops = _contract_node(
        v, limit, g, dist, touched, tmark, hk, hn, np.int64(-1), o_to, o_to, o_w, o_h
    )
    removed = o_ln[v] + i_ln[v]
    rhops = 1
    for e in range(o_st[v], o_st[v] + o_ln[v]):
        rhops += o_h[e]
    for e in range(i_st[v], i_st[v] + i_ln[v]):
        rhops += i_h[e]
    p = (
        coef[0] * level[v]
        + (coef[1] * added) // (removed + 1)
        + (coef[2] * hops) // rhops
        + coef[3] * (added - removed)
        + coef[4] * cn[v]
    )
    p = min(max(p, -_KEY_OFF), _KEY_OFF - 1)
    return ((p + _KEY_OFF) << 32) | ((np.int64(v) * _TIE_MUL) & _LOW)


@numba.njit(**NJIT)
def _drop(st, ln, nb, w, h, a, b):
    """Remove ``b`` from the list of ``a`` (swap with the last entry)."""
    s = st[a]
    last = s + ln[a] - 1
    for e in range(s, last + 1):
        if nb[e] == b:
            nb[e] = nb[last]
            w[e] = w[last]
            h[e] = h[last]
            ln[a] -= 1
            return


@numba.njit(**NJIT)
def _put(st, ln, nb, w, h, a, b, c, hop):
    """Add ``b`` with cost ``c`` to the list of ``a``, or lower the cost of the entry there."""
    s = st[a]
    for e in range(s, s + ln[a]):
        if nb[e] == b:
            if c < w[e]:
                w[e] = c
                h[e] = hop
            return
    e = s + ln[a]
    nb[e] = b
    w[e] = c
    h[e] = hop
    ln[a] += 1


@numba.njit(**NJIT)
def _step(mode, lo, hi, items, g, t, S, rs, buf):
    """Items ``lo..hi-1`` of one step of a contraction round (``_PRIORITY`` ... ``_APPLY``).

    ``g`` is the graph being contracted, ``S`` the per-thread search scratch (row ``t``),
    ``rs`` the round state, ``buf`` the shortcuts of the round (see :func:`_contract_all`).
    """
    o_st, o_ln, o_to, o_w, o_h, i_st, i_ln, i_fr, i_w, i_h, state = g
    key, m1, sel, off, cnt, level, cn, limits, coef = rs
    if mode == _LOCAL_MIN:
        for i in range(lo, hi):
            v = items[i]
            m = key[v]
            for e in range(o_st[v], o_st[v] + o_ln[v]):
                m = min(m, key[o_to[e]])
            for e in range(i_st[v], i_st[v] + i_ln[v]):
                m = min(m, key[i_fr[e]])
            m1[v] = m
    elif mode == _SELECT:
        # a node is contracted in this round if its key is the least in its 2-hop neighbourhood
        for i in range(lo, hi):
            v = items[i]
            kv = key[v]
            ok = m1[v] == kv
            for e in range(o_st[v], o_st[v] + o_ln[v]):
                ok = ok and m1[o_to[e]] == kv
            for e in range(i_st[v], i_st[v] + i_ln[v]):
                ok = ok and m1[i_fr[e]] == kv
            sel[i] = ok
    elif mode == _APPLY:
        # the neighbours of v forget it and get its shortcuts (they are no other node's
        # neighbours in this round: nodes of one round are more than 2 hops apart)
        bu, bx, bw, bh = buf
        for i in range(lo, hi):
            v = items[i]
            lv = level[v] + 1
            for e in range(i_st[v], i_st[v] + i_ln[v]):
                u = i_fr[e]
                _drop(o_st, o_ln, o_to, o_w, o_h, u, v)
                level[u] = max(level[u], lv)
                cn[u] += 1
            for e in range(o_st[v], o_st[v] + o_ln[v]):
                x = o_to[e]
                _drop(i_st, i_ln, i_fr, i_w, i_h, x, v)
                level[x] = max(level[x], lv)
                both = False
                for f in range(i_st[v], i_st[v] + i_ln[v]):
                    both = both or i_fr[f] == x
                if not both:
                    cn[x] += 1
            for k in range(off[i], off[i] + cnt[i]):
                _put(o_st, o_ln, o_to, o_w, o_h, bu[k], bx[k], bw[k], bh[k])
                _put(i_st, i_ln, i_fr, i_w, i_h, bx[k], bu[k], bw[k], bh[k])
    else:
        bu, bx, bw, bh = buf
        dist, touched, tmark, hk, hn = S[0][t], S[1][t], S[2][t], S[3][t], S[4][t]
        for i in range(lo, hi):
            v = items[i]
            if mode == _PRIORITY:
                key[v] = _priority(v, limits[0], g, dist, touched, tmark, hk, hn, level, cn, coef)
            else:  # _CONTRACT
                cnt[i] = _contract_node(
                    v, limits[1], g, dist, touched, tmark, hk, hn, off[i], bu, bx, bw, bh
                )[0]


@numba.njit(**NJIT)
def _choose(mode, count, threads, tune):
    """0: run a step over ``count`` items on one thread, 1: on ``threads``, 2: a probing launch.

    See :func:`_run`.
    """
    if threads < 2 or count < 2:
        return 0
    if tune[_TIMED] < 0:  # every step in parallel (tests)
        return 1
    if tune[_TIMED] == 0:
        return 1 if (mode == _PRIORITY or mode == _CONTRACT) and count >= _PAR_MIN else 0
    gain = tune[mode] * count * (1.0 - 1.0 / threads)
    if gain > tune[_OVER]:
        return 1
    if 8.0 * gain > tune[_OVER]:
        tune[_DECLINED] += 1.0
        if tune[_DECLINED] >= tune[_PROBE]:
            return 2
    return 0


@numba.njit(**NJIT)
def _account(par, mode, count, threads, took, tune, cyc):
    """Update ``tune`` with a step that took ``took`` cycles (see :func:`_run`)."""
    work = took
    if par > 0:
        tune[_DECLINED] = 0.0
        # probing launches grow rarer while launches stay dear
        tune[_PROBE] = min(2.0 * tune[_PROBE], 1024.0) if par == 2 else 16.0
        # the least busy thread was the least disturbed: its cycles estimate the step's work
        least = np.int64(-1)
        nch = min(count, 8 * threads)
        for t in range(threads):
            busy = np.int64(0)
            for c in range(nch):
                if cyc[1, c] == t:
                    busy += cyc[0, c]
            if least < 0 or busy < least:
                least = busy
        work = float(least) * threads
        # the overhead is the median of the last three launches: one slow or lucky launch
        # does not decide, two do
        tune[_RING + 2] = tune[_RING + 1]
        tune[_RING + 1] = tune[_RING]
        tune[_RING] = max(took - float(least), 0.0)
        a, b, c = tune[_RING], tune[_RING + 1], tune[_RING + 2]
        tune[_OVER] = max(min(a, b), min(max(a, b), c))
    if work > 0:
        if tune[_TIMED] == 0:
            tune[_TIMED] = 1.0
        tune[mode] = 0.5 * (tune[mode] + work / count)


@numba.njit(**NJIT_PAR)
def _run(mode, items, count, g, S, rs, buf, tune, cyc):
    """One step over ``items[:count]``: in parallel when that is expected to be faster.

    The result never depends on the choice. A parallel launch costs from microseconds on an
    idle machine to a scheduler time slice (milliseconds) when other processes keep the cores
    busy, so the choice is measured: ``tune`` holds the cycles per item of every step (from the
    chunks' own cycle counts, ``cyc[0, c]`` and their threads ``cyc[1, c]``) and the overhead
    of the last launches; a step goes parallel when the cycles it would save exceed that
    overhead. A step declined many times is launched anyway now and then to notice when the
    machine becomes free again. Without a cycle counter only the steps that search
    (priorities, contractions) go parallel, from ``_PAR_MIN`` items. Every thread searches
    with its own row of ``S``.
    """
    threads = S[0].shape[0]
    par = _choose(mode, count, threads, tune)
    c0 = _cycles()
    if par > 0:
        nch = min(count, 8 * threads)
        for c in prange(nch):
            c1 = _cycles()
            t = np.int64(numba.get_thread_id())
            lo = c * count // nch
            hi = (c + 1) * count // nch
            _step(mode, lo, hi, items, g, t, S, rs, buf)
            cyc[0, c] = _cycles() - c1
            cyc[1, c] = t
    else:
        z = np.int64(0)
        _step(mode, z, count, items, g, z, S, rs, buf)
    _account(par, mode, count, threads, float(_cycles() - c0), tune, cyc)


@numba.njit(**NJIT)
def _grown(a, size):
    """``a`` with room for at least ``size`` entries (a copy twice as large if needed)."""
    if size <= a.size:
        return a
    b = np.empty(max(size, 2 * a.size), a.dtype)
    for i in range(a.size):
        b[i] = a[i]
    return b


@numba.njit(**NJIT)
def _make_room(nc, off, cnt, heads, need, st, ln, cp, nb, w, h, end):
    """Move every list that this round's shortcuts could overflow to the end of its pool.

    Shortcut ``k`` of the round goes into the list of ``heads[k]``. Returns the pool arrays
    (grown if needed) and the pool's new end.
    """
    for c in range(nc):
        for k in range(off[c], off[c] + cnt[c]):
            need[heads[k]] += 1
    grow = end
    for c in range(nc):
        for k in range(off[c], off[c] + cnt[c]):
            a = heads[k]
            if need[a] > 0:
                if ln[a] + need[a] > cp[a]:
                    grow += 2 * (ln[a] + need[a])
                need[a] = -need[a]
    nb = _grown(nb, grow)
    w = _grown(w, grow)
    h = _grown(h, grow)
    for c in range(nc):
        for k in range(off[c], off[c] + cnt[c]):
            a = heads[k]
            if need[a] < 0:
                want = ln[a] - need[a]
                if want > cp[a]:
                    s = st[a]
                    for j in range(ln[a]):
                        nb[end + j] = nb[s + j]
                        w[end + j] = w[s + j]
                        h[end + j] = h[s + j]
                    st[a] = end
                    cp[a] = 2 * want
                    end += 2 * want
                need[a] = 0
    return nb, w, h, end


@numba.njit(**NJIT)
def _contract_all(n, src, dst, w, pools, S, rs, buf, aux, tune):
    """Contract every node in rounds of independent sets; returns the final lists (see above).

    ``src``/``dst``/``w``: deduplicated edges sorted by ``(src, dst)``. Every array comes
    allocated by :func:`_contract` (numpy's allocators would each be one more numba function
    to compile on an empty cache): ``pools`` the empty adjacency pools with their segments,
    ``S`` the per-thread search scratch, ``rs`` the round state, ``buf`` the round's
    shortcuts, ``aux`` per-node bookkeeping.
    """
    o_st, o_ln, o_cp, o_to, o_w, o_h, i_st, i_ln, i_cp, i_fr, i_w, i_h = pools
    o_end = np.int64(o_to.size // 2)
    i_end = np.int64(i_fr.size // 2)
    for e in range(src.size):
        a = src[e]
        b = dst[e]
        k = o_st[a] + o_ln[a]
        o_to[k] = b
        o_w[k] = w[e]
        o_h[k] = 1
        o_ln[a] += 1
        k = i_st[b] + i_ln[b]
        i_fr[k] = a
        i_w[k] = w[e]
        i_h[k] = 1
        i_ln[b] += 1
    key, m1, sel, off, cnt, level, cn, limits, coef = rs
    bu, bx, bw, bh = buf
    state, rank, need_o, need_i, mark, active, chosen, touched_nb, modes, cyc = aux
    na = n
    g = (o_st, o_ln, o_to, o_w, o_h, i_st, i_ln, i_fr, i_w, i_h, state)
    _run(modes[_PRIORITY], active, na, g, S, rs, buf, tune, cyc)
    r = 0
    rounds = 0
    while na > 0:
        rounds += 1
        _run(modes[_LOCAL_MIN], active, na, g, S, rs, buf, tune, cyc)
        _run(modes[_SELECT], active, na, g, S, rs, buf, tune, cyc)
        nc = np.int64(0)
        tot = np.int64(0)
        for a in range(na):
            if sel[a]:
                v = active[a]
                chosen[nc] = v
                off[nc] = tot
                tot += np.int64(o_ln[v]) * i_ln[v]
                state[v] = 1
                rank[v] = r
                r += 1
                nc += 1
        if tot > bu.size:
            bu = _grown(bu, tot)
            bx = _grown(bx, tot)
            bw = _grown(bw, tot)
            bh = _grown(bh, tot)
            buf = (bu, bx, bw, bh)
        _run(modes[_CONTRACT], chosen, nc, g, S, rs, buf, tune, cyc)
        # room for the shortcuts: lists that could overflow move to the end of their pool
        o_to, o_w, o_h, o_end = _make_room(
            nc, off, cnt, bu, need_o, o_st, o_ln, o_cp, o_to, o_w, o_h, o_end
        )
        i_fr, i_w, i_h, i_end = _make_room(
            nc, off, cnt, bx, need_i, i_st, i_ln, i_cp, i_fr, i_w, i_h, i_end
        )
        g = (o_st, o_ln, o_to, o_w, o_h, i_st, i_ln, i_fr, i_w, i_h, state)
        _run(modes[_APPLY], chosen, nc, g, S, rs, buf, tune, cyc)
        # the neighbours of the contracted nodes get new priorities
        nf = np.int64(0)
        for c in range(nc):
            v = chosen[c]
            state[v] = 2
            for e in range(o_st[v], o_st[v] + o_ln[v]):
                x = o_to[e]
                if mark[x] != v:
                    mark[x] = v
                    touched_nb[nf] = x
                    nf += 1
            for e in range(i_st[v], i_st[v] + i_ln[v]):
                x = i_fr[e]
                if mark[x] != v:
                    mark[x] = v
                    touched_nb[nf] = x
                    nf += 1
        _run(modes[_PRIORITY], touched_nb, nf, g, S, rs, buf, tune, cyc)
        k = 0
        for a in range(na):
            v = active[a]
            if state[v] == 0:
                active[k] = v
                k += 1
        na = k
    return rank, level, g, rounds


@numba.njit(**NJIT)
def _hierarchy_csr(pos, order, st, ln, nb, w):
    """One side of the hierarchy in sweep positions: CSR rows sorted by neighbour position."""
    n = pos.size
    indptr = np.zeros(n + 1, np.int32)
    for p in range(n):
        indptr[p + 1] = indptr[p] + ln[order[p]]
    m = indptr[n]
    idx = np.empty(m, np.int32)
    tt = np.empty(m, np.int32)
    ss = np.empty(m, np.int32)
    for p in range(n):
        v = order[p]
        k0 = indptr[p]
        s = st[v]
        for j in range(ln[v]):
            # insertion sort by position: rows are short
            q = pos[nb[s + j]]
            c = w[s + j]
            k = k0 + j
            while k > k0 and idx[k - 1] > q:
                idx[k] = idx[k - 1]
                tt[k] = tt[k - 1]
                ss[k] = ss[k - 1]
                k -= 1
            idx[k] = q
            tt[k] = np.int32(c >> 32)
            ss[k] = np.int32(c & _LOW)
    return indptr, idx, tt, ss


def _dedupe(g: CSRGraph, w64: np.ndarray):
    src = g.edge_sources()
    dst = g.indices
    keep = src != dst
    src, dst, w64 = src[keep], dst[keep], w64[keep]
    order = np.lexsort((w64, dst, src))
    src, dst, w64 = src[order], dst[order], w64[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return (
        np.ascontiguousarray(src[first], np.int32),
        np.ascontiguousarray(dst[first], np.int32),
        np.ascontiguousarray(w64[first], np.int64),
    )


def _contract(n, src, dst, w, settle_limit, coef=None, sim_limit=None, all_parallel=False):
    # prior cycles per item of every step and launch overhead, refined as it runs (see _run)
    tune = np.array([5000.0, 100.0, 100.0, 5000.0, 200.0, 1e5, 0.0, 16.0, 1e5, 1e5, 1e5, 0.0])
    tune[_TIMED] = -1.0 if all_parallel else 0.0
    limits = np.array(
        [SIMULATION_SETTLE_LIMIT if sim_limit is None else sim_limit, settle_limit], np.int64
    )
    coef = np.array(_PRIORITY_COEF if coef is None else coef, np.int64)
    rows = max(1, numba.get_num_threads())
    heap_cap = 16 * int(max(limits)) + 1024
    pools = []
    for ends in (src, dst):
        ln = np.bincount(ends, minlength=n).astype(np.int32)
        cp = ln + (ln >> 1) + 2  # room to grow before a list moves to the pool's end
        st = np.zeros(n, np.int64)
        np.cumsum(cp[:-1], out=st[1:])
        size = 2 * int(cp.sum(dtype=np.int64))
        ln[:] = 0
        pools += [st, ln, cp, np.empty(size, np.int32), np.empty(size, np.int64)]
        pools += [np.empty(size, np.int32)]
    S = (
        np.full((rows, n), _BIG, np.int64),
        np.empty((rows, n), np.int32),
        np.full((rows, n), -1, np.int32),
        np.empty((rows, heap_cap), np.int64),
        np.empty((rows, heap_cap), np.int32),
    )
    i64, i32 = np.empty(n, np.int64), np.empty(n, np.int32)
    rs = (i64, i64.copy(), np.zeros(n, np.bool_), np.zeros(n + 1, np.int64))
    rs += (np.zeros(n, np.int64), np.zeros(n, np.int32), np.zeros(n, np.int32), limits, coef)
    m = max(16, len(src))
    buf = (np.empty(m, np.int32), np.empty(m, np.int32), np.empty(m, np.int64))
    buf += (np.empty(m, np.int32),)
    aux = (np.zeros(n, np.int8), np.full(n, -1, np.int32), np.zeros(n, np.int32))
    aux += (np.zeros(n, np.int32), np.full(n, -1, np.int32), np.arange(n, dtype=np.int32))
    aux += (i32, i32.copy(), np.arange(5, dtype=np.int64), np.zeros((2, 8 * rows), np.int64))
    return _contract_all(n, src, dst, w, tuple(pools), S, rs, buf, aux, tune)


def _sweep_order(rank: np.ndarray, level: np.ndarray):
    """Sweep positions: by decreasing level, then by node id (keeps the input's locality)."""
    n = len(rank)
    order = np.lexsort((np.arange(n), -level.astype(np.int64))).astype(np.int32)
    pos = np.empty(n, np.int32)
    pos[order] = np.arange(n, dtype=np.int32)
    return pos, order


def _assemble(n, rank, level, g, n_input, key, graph_key, secs, has_sec):
    o_st, o_ln, o_to, o_w, _, i_st, i_ln, i_fr, i_w, _, _ = g
    pos, order = _sweep_order(rank, level)
    up_indptr, up_indices, up_t, up_s = _hierarchy_csr(pos, order, o_st, o_ln, o_to, o_w)
    dn_indptr, dn_src, dn_t, dn_s = _hierarchy_csr(pos, order, i_st, i_ln, i_fr, i_w)
    return ContractionHierarchy(
        n=n,
        rank=rank,
        level=level,
        pos=pos,
        order=order,
        up_indptr=up_indptr,
        up_indices=up_indices,
        up_t=up_t,
        up_s=up_s,
        dn_indptr=dn_indptr,
        dn_src=dn_src,
        dn_t=dn_t,
        dn_s=dn_s,
        key=key,
        graph_key=graph_key,
        n_shortcuts=int(len(up_indices) + len(dn_src) - n_input),
        build_seconds=secs,
        has_secondary=has_sec,
    )


def ch_to_arrays(ch: ContractionHierarchy) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and metadata that describe ``ch`` (for storing it; see :func:`ch_from_arrays`).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> ch = build_ch(CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30]))
    >>> arrays, meta = ch_to_arrays(ch)
    >>> ch_from_arrays(arrays, meta, ch.key).rank.tolist() == ch.rank.tolist()
    True
    """
    meta = {
        "n": ch.n,
        "key": ch.key,
        "graph_key": ch.graph_key,
        "n_shortcuts": ch.n_shortcuts,
        "build_seconds": ch.build_seconds,
        "has_secondary": ch.has_secondary,
    }
    return {k: getattr(ch, k) for k in _CH_ARRAYS}, meta


_CH_ARRAYS = (
    "rank",
    "level",
    "up_indptr",
    "up_indices",
    "up_t",
    "up_s",
    "dn_indptr",
    "dn_src",
    "dn_t",
    "dn_s",
)


def _valid_arrays(a: dict, n: int) -> bool:
    """Structure of a loaded hierarchy: int32 arrays, CSR offsets and node ids within bounds."""
    try:
        if any(a[k].dtype != np.int32 or a[k].ndim != 1 for k in _CH_ARRAYS):
            return False
        if len(a["rank"]) != n or len(a["level"]) != n:
            return False
        if not np.array_equal(np.sort(a["rank"]), np.arange(n)):
            return False
        for ip, ids, ws in (
            ("up_indptr", "up_indices", ("up_t", "up_s")),
            ("dn_indptr", "dn_src", ("dn_t", "dn_s")),
        ):
            p, j = a[ip], a[ids]
            if len(p) != n + 1 or p[0] != 0 or p[-1] != len(j) or np.any(np.diff(p) < 0):
                return False
            if len(j) and (j.min() < 0 or j.max() >= n):
                return False
            if any(len(a[w]) != len(j) for w in ws) or (len(j) and a[ws[0]].min() < 0):
                return False
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return True


def ch_from_arrays(a: dict, meta: dict, key: str) -> ContractionHierarchy | None:
    """The hierarchy stored by :func:`ch_to_arrays`, or None if it is not the one for ``key``.

    Arrays that do not form a valid hierarchy (a foreign or damaged file whose checksum happens to
    be valid) give None too: they must never reach a kernel.
    """
    try:
        if meta.get("key") != key:
            return None
        n = int(meta["n"])
        if not _valid_arrays(a, n):
            return None
        rank = a["rank"].astype(np.int32)
        level = a["level"].astype(np.int32)
        pos, order = _sweep_order(rank, level)
        return ContractionHierarchy(
            n=n,
            rank=rank,
            level=level,
            pos=pos,
            order=order,
            up_indptr=a["up_indptr"],
            up_indices=a["up_indices"],
            up_t=a["up_t"],
            up_s=a["up_s"],
            dn_indptr=a["dn_indptr"],
            dn_src=a["dn_src"],
            dn_t=a["dn_t"],
            dn_s=a["dn_s"],
            key=key,
            graph_key=str(meta["graph_key"]),
            n_shortcuts=int(meta["n_shortcuts"]),
            build_seconds=float(meta["build_seconds"]),
            has_secondary=bool(meta["has_secondary"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def ch_key(graph, secondary=None) -> str:
    """The key a hierarchy of ``graph`` (with ``secondary`` weights) is memoised under."""
    g = as_graph(graph)
    sec = None if secondary is None else check_secondary(secondary, g)
    return _memo_key(g, sec)


def _memo_key(g: CSRGraph, secondary) -> str:
    return g.content_hash(secondary)


def has_cached_ch(graph, secondary=None) -> bool:
    """True if a hierarchy for this graph (and secondary weights) is memoised in-process."""
    g = as_graph(graph)
    return _memo_key(g, secondary) in _MEMO


def build_ch(
    graph: GraphLike,
    *,
    secondary: npt.ArrayLike | None = None,
    settle_limit: int = WITNESS_SETTLE_LIMIT,
) -> ContractionHierarchy:
    """Build (or fetch the memoised) contraction hierarchy of ``graph``.

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
    secondary : int array (m,), optional
        Secondary edge costs (e.g. metres) carried along shortcuts; ties in time are broken by
        the least secondary cost. A hierarchy with secondary weights also answers plain queries.
    settle_limit : int
        Settled-node limit of witness searches.

    Returns
    -------
    ContractionHierarchy
        Memoised in-process by the graph's content hash.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> build_ch(g) is build_ch(g)
    True
    """
    g = as_graph(graph)
    sec = None if secondary is None else check_secondary(secondary, g)
    if g.total_weight() >= PHAST_INF:
        raise GraphError(phast_limit_message(g))
    if sec is not None and int(sec.sum(dtype=np.int64)) >= 2**31:
        raise GraphError("secondary weights must sum below 2**31 for a contraction hierarchy")
    key = _memo_key(g, sec)
    ch = _MEMO.get(key)
    if ch is None:
        t0 = time.perf_counter()
        w64 = g.weights.astype(np.int64) << 32
        if sec is not None:
            w64 |= sec.astype(np.int64)
        src, dst, w = _dedupe(g, w64)
        rank, level, pools, _ = _contract(g.n, src, dst, w, int(settle_limit))
        ch = _assemble(
            g.n,
            rank,
            level,
            pools,
            len(src),
            key,
            g.content_hash(),
            time.perf_counter() - t0,
            sec is not None,
        )
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = ch
    return ch


def find_ch(graph, secondary=None) -> ContractionHierarchy | None:
    """The memoised hierarchy for ``graph`` (with ``secondary``), or None."""
    g = as_graph(graph)
    return _MEMO.get(_memo_key(g, secondary))


def remember(ch: ContractionHierarchy) -> None:
    """Put ``ch`` (built in another process, or read from a file) into the in-process memo.

    Later :func:`build_ch` (and so :func:`~fietsstad.engine.travel_times` and
    :func:`~fietsstad.engine.accessibility`) calls for the same graph then use it instead of
    building a new one. Public as ``fietsstad.engine.remember_ch``.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> ch = build_ch(g)
    >>> remember(ch); build_ch(g) is ch
    True
    """
    if ch.key not in _MEMO:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[ch.key] = ch
