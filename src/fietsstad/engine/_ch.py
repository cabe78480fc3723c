"""Contraction hierarchy (CH) construction, once per graph and cost, in numba.

Nodes are contracted one by one in the order of a priority, ``2 * edge difference +
contracted neighbours`` (shortcuts added minus edges removed, plus how many neighbours are
already gone, which spreads contraction evenly), with lazy updates: a popped node's priority is
recomputed and the node re-queued if it is no longer the minimum; after a contraction the
neighbours' priorities are refreshed. Shortcuts ``u -> x`` replace ``u -> v -> x`` unless a
*witness* path of at most the same cost avoids ``v``; witness searches are bounded Dijkstras
that stop after ``settle_limit`` settled nodes (a missed witness only costs an extra shortcut,
never correctness).

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

import time
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from fietsstad.engine._graph import CSRGraph, GraphLike, as_graph, check_secondary
from fietsstad.engine._heap import heap_pop as _hpop
from fietsstad.engine._heap import heap_push as _hpush
from fietsstad.engine._units import phast_limit_message
from fietsstad.engine.config import INF64, NJIT, PHAST_INF
from fietsstad.errors import GraphError

_BIG = np.int64(INF64)
_LOW = np.int64(0xFFFFFFFF)

#: Settled-node limit of witness searches during construction.
WITNESS_SETTLE_LIMIT = 64

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
@numba.njit(**NJIT)
def _witness(u, skip, maxc, limit, head_out, e_to, e_w, nxt_out, contracted, dist, touched, hk, hn):
    """Bounded search from ``u`` avoiding ``skip`` and contracted nodes; returns #touched."""
    dist[u] = 0
    touched[0] = u
    nt = 1
    size = _hpush(hk, hn, 0, np.int64(0), u)
    settled = 0
    while size > 0:
        d = hk[0]
        x = hn[0]
        size = _hpop(hk, hn, size)
        if d != dist[x]:
            continue
        settled += 1
        if settled > limit or d > maxc:
            break
        e = head_out[x]
        while e >= 0:
            y = e_to[e]
            if y != skip and not contracted[y]:
                nd = d + e_w[e]
                if nd <= maxc and nd < dist[y]:
                    if dist[y] == _BIG:
                        touched[nt] = y
                        nt += 1
                    dist[y] = nd
                    size = _hpush(hk, hn, size, nd, y)
            e = nxt_out[e]
    return nt


@numba.njit(**NJIT)
def _add_edge(u, x, w, ne, pool):
    """Add ``u -> x`` (or lower an existing one); returns the new edge count (-1: pool full)."""
    head_out, head_in, e_from, e_to, e_w, nxt_out, nxt_in = pool
    e = head_out[u]
    while e >= 0:
        if e_to[e] == x:
            if w < e_w[e]:
                e_w[e] = w
            return ne
        e = nxt_out[e]
    if ne >= e_to.size:
        return -1
    e_from[ne] = u
    e_to[ne] = x
    e_w[ne] = w
    nxt_out[ne] = head_out[u]
    head_out[u] = ne
    nxt_in[ne] = head_in[x]
    head_in[x] = ne
    return ne + 1


@numba.njit(**NJIT)
def _contract(v, do_it, limit, ne, pool, scratch):
    """Count (and if ``do_it`` add) the shortcuts contracting ``v`` needs.

    ``pool`` is the edge pool ``(head_out, head_in, e_from, e_to, e_w, nxt_out, nxt_in)``,
    ``scratch`` the search state ``(contracted, dist, touched, hk, hn, in_u, in_w, out_x,
    out_w)`` (tuples of arrays: one argument each, the arrays are shared, not copied).
    Returns ``(shortcuts, n_in + n_out, new_edge_count)``; edge count -1 means the pool is full.
    """
    head_out, head_in, e_from, e_to, e_w, nxt_out, nxt_in = pool
    contracted, dist, touched, hk, hn, in_u, in_w, out_x, out_w = scratch
    nin = 0
    e = head_in[v]
    while e >= 0:
        u = e_from[e]
        if not contracted[u] and u != v:
            in_u[nin] = u
            in_w[nin] = e_w[e]
            nin += 1
        e = nxt_in[e]
    nout = 0
    maxout = np.int64(0)
    e = head_out[v]
    while e >= 0:
        x = e_to[e]
        if not contracted[x] and x != v:
            out_x[nout] = x
            out_w[nout] = e_w[e]
            if e_w[e] > maxout:
                maxout = e_w[e]
            nout += 1
        e = nxt_out[e]
    shortcuts = 0
    for i in range(nin):
        u = in_u[i]
        wu = in_w[i]
        if nout == 0:
            break
        nt = _witness(
            u,
            v,
            wu + maxout,
            limit,
            head_out,
            e_to,
            e_w,
            nxt_out,
            contracted,
            dist,
            touched,
            hk,
            hn,
        )
        for j in range(nout):
            x = out_x[j]
            if x == u:
                continue
            c = wu + out_w[j]
            if dist[x] > c:
                shortcuts += 1
                if do_it:
                    ne = _add_edge(u, x, c, ne, pool)
                    if ne < 0:
                        for t in range(nt):
                            dist[touched[t]] = _BIG
                        return shortcuts, nin + nout, -1
        for t in range(nt):
            dist[touched[t]] = _BIG
    return shortcuts, nin + nout, ne


@numba.njit(**NJIT)
def _order_and_contract(n, src, dst, w, cap, limit):
    """Contract every node; returns (rank, level, e_from, e_to, e_w, n_edges); -1 edges: full."""
    e_from = np.empty(cap, np.int32)
    e_to = np.empty(cap, np.int32)
    e_w = np.empty(cap, np.int64)
    nxt_out = np.empty(cap, np.int32)
    nxt_in = np.empty(cap, np.int32)
    head_out = np.full(n, -1, np.int32)
    head_in = np.full(n, -1, np.int32)
    pool = (head_out, head_in, e_from, e_to, e_w, nxt_out, nxt_in)
    ne = 0
    for i in range(src.size):
        ne = _add_edge(src[i], dst[i], w[i], ne, pool)
    contracted = np.zeros(n, np.bool_)
    cn = np.zeros(n, np.int64)
    pri = np.zeros(n, np.int64)
    dist = np.full(n, _BIG, np.int64)
    touched = np.empty(n, np.int32)
    wcap = cap + 1
    hk = np.empty(wcap, np.int64)
    hn = np.empty(wcap, np.int32)
    in_u = np.empty(n, np.int32)
    in_w = np.empty(n, np.int64)
    out_x = np.empty(n, np.int32)
    out_w = np.empty(n, np.int64)
    scratch = (contracted, dist, touched, hk, hn, in_u, in_w, out_x, out_w)
    qk = np.empty(4 * n + 4 * cap + 1, np.int64)
    qn = np.empty(4 * n + 4 * cap + 1, np.int32)
    qs = 0
    mark = np.full(n, -1, np.int32)
    nbuf = np.empty(n, np.int32)
    for v in range(n):
        sc, deg, _ = _contract(v, False, limit, ne, pool, scratch)
        pri[v] = 2 * (sc - deg)
        qs = _hpush(qk, qn, qs, pri[v], v)
    rank = np.full(n, -1, np.int32)
    level = np.zeros(n, np.int32)
    r = 0
    while qs > 0:
        p = qk[0]
        v = qn[0]
        qs = _hpop(qk, qn, qs)
        if contracted[v] or p != pri[v]:
            continue
        sc, deg, _ = _contract(v, False, limit, ne, pool, scratch)
        newp = 2 * (sc - deg) + cn[v]
        if qs > 0 and newp > qk[0]:
            pri[v] = newp
            qs = _hpush(qk, qn, qs, newp, v)
            continue
        sc, deg, ne = _contract(v, True, limit, ne, pool, scratch)
        if ne < 0:
            return rank, level, e_from, e_to, e_w, -1
        contracted[v] = True
        rank[v] = r
        r += 1
        lv = level[v] + 1
        # refresh the priorities of the (distinct, uncontracted) neighbours
        nb = 0
        e = head_in[v]
        while e >= 0:
            u = e_from[e]
            if not contracted[u] and mark[u] != v:
                mark[u] = v
                nbuf[nb] = u
                nb += 1
            e = nxt_in[e]
        e = head_out[v]
        while e >= 0:
            x = e_to[e]
            if not contracted[x] and mark[x] != v:
                mark[x] = v
                nbuf[nb] = x
                nb += 1
            e = nxt_out[e]
        for i in range(nb):
            u = nbuf[i]
            cn[u] += 1
            if level[u] < lv:
                level[u] = lv
            sc2, deg2, _ = _contract(u, False, limit, ne, pool, scratch)
            np2 = 2 * (sc2 - deg2) + cn[u]
            if np2 != pri[u]:
                pri[u] = np2
                if qs >= qk.size:
                    return rank, level, e_from, e_to, e_w, -1
                qs = _hpush(qk, qn, qs, np2, u)
    return rank, level, e_from, e_to, e_w, ne


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


def _csr(keys: np.ndarray, n: int, *cols):
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return (indptr.astype(np.int32), *[np.ascontiguousarray(c[order]) for c in cols])


def _sweep_order(rank: np.ndarray, level: np.ndarray):
    """Sweep positions: by decreasing level, then by node id (keeps the input's locality)."""
    n = len(rank)
    order = np.lexsort((np.arange(n), -level.astype(np.int64))).astype(np.int32)
    pos = np.empty(n, np.int32)
    pos[order] = np.arange(n, dtype=np.int32)
    return pos, order


def _assemble(n, rank, level, e_from, e_to, e_w, ne, key, graph_key, n_input, secs, has_sec):
    e_from, e_to, e_w = e_from[:ne], e_to[:ne], e_w[:ne]
    pos, order = _sweep_order(rank, level)
    t = (e_w >> 32).astype(np.int32)
    s = (e_w & 0xFFFFFFFF).astype(np.int32)
    pf, pt = pos[e_from], pos[e_to]
    up = rank[e_to] > rank[e_from]
    up_indptr, up_indices, up_t, up_s = _csr(pf[up], n, pt[up], t[up], s[up])
    dn = ~up
    dn_indptr, dn_src, dn_t, dn_s = _csr(pt[dn], n, pf[dn], t[dn], s[dn])
    return ContractionHierarchy(
        n=n,
        rank=rank.astype(np.int32),
        level=level.astype(np.int32),
        pos=pos,
        order=order,
        up_indptr=up_indptr,
        up_indices=up_indices.astype(np.int32),
        up_t=up_t,
        up_s=up_s,
        dn_indptr=dn_indptr,
        dn_src=dn_src.astype(np.int32),
        dn_t=dn_t,
        dn_s=dn_s,
        key=key,
        graph_key=graph_key,
        n_shortcuts=int(ne - n_input),
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
        n = g.n
        cap = 3 * len(src) + 2 * n + 16
        while True:
            rank, level, e_from, e_to, e_w, ne = _order_and_contract(
                n, src, dst, w, cap, int(settle_limit)
            )
            if ne >= 0:
                break
            cap *= 2
        ch = _assemble(
            n,
            rank,
            level,
            e_from,
            e_to,
            e_w,
            ne,
            key,
            g.content_hash(),
            len(src),
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
