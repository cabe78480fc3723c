"""Customizable contraction hierarchy (CCH): an order and fill-in per topology, cheap re-weighting.

Three phases (Dibbelt, Strasser, Wagner 2016):

1. **Order** (metric-independent, once per topology): recursive nested dissection. A part is
   split at the median of a projection, the endpoints of the cut edges on one side (the smaller
   set) form a vertex separator, which is ordered *last* (highest ranks); the two sides are
   ordered recursively first. With node coordinates the projections are four directions
   (0, 45, 90, 135 degrees, inertial style) at three split ratios, the smallest separator wins;
   without coordinates the projection is the BFS order from a pseudo-peripheral node.
   Disconnected parts are split into their components without a separator.
2. **Fill-in** (metric-independent): the elimination game on the undirected graph in rank
   order; the higher-ranked neighbours of every node form a clique. Computed in numba with the
   elimination tree (a node's upward set is its own higher neighbours plus its children's sets),
   giving sorted upward adjacency lists. Every arc ``a -> b`` of the directed input maps to the
   undirected edge ``{a, b}`` with a forward (lower -> higher rank) and a backward weight.
3. **Customization** (per metric, :meth:`CCH.customize`): start from the cheapest input arc of
   each direction, then for every node ``u`` in level order and every lower triangle
   ``w - u - v`` (``w`` below ``u`` and ``v``): ``u -> v <= u -> w -> v`` and
   ``v -> u <= v -> w -> u``. Nodes of one elimination-tree level are independent (each writes
   only its own upward edges, reads only lower levels), so a level runs in parallel (prange).

After the lower-triangle pass every edge weight is the shortest path between its endpoints
through lower-ranked nodes only (the *basic* metric), which is all the upward search and PHAST
sweep need. **Perfect customization** (default) then walks the levels top-down and lowers every
weight to the true distance through the intermediate and upper triangles, and drops each arc
whose distance is *strictly* below its basic weight: such an arc is on no canonical up-down
path. (For a shortest path ``P`` from ``s`` to its highest node ``h``, the canonical up path
jumps from each node to the next higher one on ``P``; the skipped part uses lower nodes only,
so the arc's basic weight is that part's length, which is the distance. Ties and zero weights
cannot remove a needed arc, since equality keeps it.) Arcs without any path are dropped too.
The result is a :class:`~fietsstad.engine.ContractionHierarchy` in sweep order (by decreasing
level, then node id), so the existing PHAST sweeps and :func:`~fietsstad.engine.travel_times`
run on it unchanged.

**Which order.** Perfect customization keeps every arc that is the only shortest path through
lower nodes, so the order decides how many arcs the sweeps read. Pure nested dissection
(:func:`nested_dissection_order`) needs no metric, but on a 20,000-node street network keeps
about 2.2x the arcs of a contraction hierarchy built with witness searches; the **hybrid
order** (:func:`hybrid_order`) keeps a contraction hierarchy's order for the lower 70 % of the
nodes and dissects the remaining core: about 1.4x the arcs, with a smaller fill-in. It is
derived once per topology from the first hierarchy built (any metric) and stays exact for
every other. :func:`cch_for` memoises a CCH per topology (:func:`topology_key`: the arcs and
the coordinates, not the weights); :func:`customized_ch` customizes it for a graph's weights
and memoises the result for :func:`~fietsstad.engine.travel_times`. (The network layer stores
the order in its cache folder: the engine touches no files.)

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, build_cch, travel_times
>>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
>>> cch = build_cch(g)
>>> travel_times(g, ch=cch.customize(g.weights), method="phast").tolist()
[[0, 5, 11], [13, 0, 6], [7, 12, 0]]
"""

from __future__ import annotations

import dataclasses
import hashlib
import time

import numba
import numpy as np
from numba import prange
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, maximum_bipartite_matching

from fietsstad.engine._ch import ContractionHierarchy, _sweep_order, find_ch, remember
from fietsstad.engine._graph import CSRGraph, as_graph
from fietsstad.engine._memory import available_memory_bytes
from fietsstad.engine.config import NJIT, NJIT_PAR, PHAST_INF
from fietsstad.errors import GraphError, MemoryBudgetError

_INF = np.int32(PHAST_INF)

#: Parts of at most this many nodes are not dissected further (ordered as they come).
LEAF_SIZE = 16

#: Bytes held per fill-in edge by the fill-in and the customization arrays (the estimate that
#: guards the allocation): upward ids, lower adjacency, two weights, sweep-order copies.
BYTES_PER_FILL_EDGE = 48

#: Levels of the elimination tree with fewer nodes are customized serially: every parallel
#: level ends in a barrier, which on a busy (oversubscribed) machine waits for a descheduled
#: thread; the narrow upper levels are cheap anyway.
PAR_MIN_LEVEL_NODES = 2048

#: Split ratios tried per projection (the separator is the smallest found).
_SPLITS = (0.4, 0.5, 0.6)


# ---------------------------------------------------------------------------- order
def _undirected_edges(g: CSRGraph) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges ``a < b`` of ``g`` (self-loops dropped)."""
    src = g.edge_sources().astype(np.int64)
    dst = g.indices.astype(np.int64)
    keep = src != dst
    lo = np.minimum(src[keep], dst[keep])
    hi = np.maximum(src[keep], dst[keep])
    key = np.unique(lo * g.n + hi)
    return (key // max(g.n, 1)).astype(np.int32), (key % max(g.n, 1)).astype(np.int32)


def _separator(side: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vertex separator of the cut ``side``: cut-edge endpoints on the side with fewer of them."""
    cut = side[a] != side[b]
    ca, cb = a[cut], b[cut]
    ends = np.concatenate([ca, cb])
    sides = side[ends]
    left = np.unique(ends[~sides])
    right = np.unique(ends[sides])
    return left if len(left) <= len(right) else right


def _min_cover(side: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Minimum vertex cover of the cut edges of ``side`` (Konig's theorem on a max matching)."""
    cut = side[a] != side[b]
    left = np.where(side[a[cut]], b[cut], a[cut])  # endpoint on the False side
    right = np.where(side[a[cut]], a[cut], b[cut])
    if len(left) == 0:
        return np.zeros(0, np.int64)
    lu, li = np.unique(left, return_inverse=True)
    ru, ri = np.unique(right, return_inverse=True)
    big = csr_matrix((np.ones(len(li), np.int8), (li, ri)), shape=(len(lu), len(ru)))
    match_l = maximum_bipartite_matching(big, perm_type="column")  # right partner of each left
    match_r = np.full(len(ru), -1, np.int64)
    ok = match_l >= 0
    match_r[match_l[ok]] = np.flatnonzero(ok)
    seen_l = ~ok  # alternating search from the unmatched left nodes
    seen_r = np.zeros(len(ru), bool)
    frontier = np.flatnonzero(seen_l)
    while len(frontier):
        nxt_r = np.unique(big[frontier].indices)
        nxt_r = nxt_r[~seen_r[nxt_r]]
        seen_r[nxt_r] = True
        nxt_l = match_r[nxt_r]
        nxt_l = nxt_l[(nxt_l >= 0)]
        nxt_l = nxt_l[~seen_l[nxt_l]]
        seen_l[nxt_l] = True
        frontier = nxt_l
    return np.concatenate([lu[~seen_l], ru[seen_r]]).astype(np.int64)


@numba.njit(**NJIT)
def _bfs(start, ptr, adj, order, seen, stamp):
    """BFS from ``start`` over nodes whose ``seen`` differs from ``stamp``; fills ``order``."""
    seen[start] = stamp
    order[0] = start
    head = 0
    tail = 1
    while head < tail:
        v = order[head]
        head += 1
        for e in range(ptr[v], ptr[v + 1]):
            x = adj[e]
            if seen[x] != stamp:
                seen[x] = stamp
                order[tail] = x
                tail += 1
    return tail


@numba.njit(**NJIT)
def _components_and_bfs(k, a, b):
    """Component labels of the local graph ``(k, a, b)``, their number, and (one component)
    the BFS order from a pseudo-peripheral node (the last node of a BFS from node 0)."""
    ptr = np.zeros(k + 1, np.int64)
    for i in range(a.size):
        ptr[a[i] + 1] += 1
        ptr[b[i] + 1] += 1
    for v in range(k):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    adj = np.empty(2 * a.size, np.int64)
    for i in range(a.size):
        adj[fill[a[i]]] = b[i]
        fill[a[i]] += 1
        adj[fill[b[i]]] = a[i]
        fill[b[i]] += 1
    comp = np.full(k, -1, np.int64)
    order = np.empty(k, np.int64)
    ncomp = 0
    for v in range(k):
        if comp[v] < 0:
            _bfs(v, ptr, adj, order, comp, ncomp)
            ncomp += 1
    if ncomp == 1:
        seen = np.full(k, -1, np.int64)
        _bfs(0, ptr, adj, order, seen, 0)
        _bfs(order[k - 1], ptr, adj, order, seen, 1)
    return comp, ncomp, order


def _projections(bfs_order: np.ndarray, xs, ys) -> list[np.ndarray]:
    """Node orders to split at: the BFS order from a pseudo-peripheral node, and with
    coordinates also four directions (0, 45, 90, 135 degrees)."""
    out = []
    if xs is not None:
        for ang in (0.0, 45.0, 90.0, 135.0):
            t = np.deg2rad(ang)
            out.append(np.argsort(xs * np.cos(t) + ys * np.sin(t), kind="stable"))
    out.append(bfs_order)
    return out


def _ruler(k: int) -> np.ndarray:
    """Positions ``0..k-1`` of a line in nested-dissection order: both halves, then the middle."""
    out: list[int] = []
    stack = [(0, k, False)]
    while stack:
        lo, hi, emit = stack.pop()
        if hi <= lo:
            continue
        mid = (lo + hi) // 2
        if emit:
            out.append(mid)
            continue
        stack.append((mid, mid + 1, True))  # popped last: after both halves
        stack.append((mid + 1, hi, False))
        stack.append((lo, mid, False))
    return np.asarray(out, dtype=np.int64)


def _line_order(idx: np.ndarray, xs, ys) -> np.ndarray:
    """Order (indices into ``idx``) of nodes that become a clique: along their principal axis,
    the middle ones last, so that far-apart nodes reach each other through a higher node in
    between and perfect customization prunes the arc between them."""
    k = len(idx)
    if xs is None or k <= 2:
        return np.arange(k)
    px, py = xs[idx] - xs[idx].mean(), ys[idx] - ys[idx].mean()
    cxx, cyy, cxy = float(px @ px), float(py @ py), float(px @ py)
    ang = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # principal axis of the points
    along = np.argsort(px * np.cos(ang) + py * np.sin(ang), kind="stable")
    return along[_ruler(k)]


def _dissect(nodes, a, b, xs, ys, out: list) -> None:
    """Append ``nodes`` (global ids; ``a, b``: local edges) to ``out`` in dissection order."""
    k = len(nodes)
    if k <= LEAF_SIZE or len(a) == 0:
        out.append(nodes[_line_order(np.arange(k), xs, ys)])
        return
    comp, ncomp, bfs_order = _components_and_bfs(k, a, b)
    if ncomp > 1:
        # components are independent: no separator; recurse on two balanced groups
        sizes = np.bincount(comp, minlength=ncomp)
        by_size = np.argsort(-sizes, kind="stable")
        grp = np.zeros(ncomp, bool)
        tot = [0, 0]
        for c in by_size:
            s = int(tot[1] < tot[0])
            grp[c] = bool(s)
            tot[s] += int(sizes[c])
        side = grp[comp]
        sep = np.zeros(0, np.int64)
    else:
        best = None
        for perm in _projections(bfs_order, xs, ys):
            for frac in _SPLITS:
                side_c = np.ones(k, bool)
                side_c[perm[: max(1, int(k * frac))]] = False
                sep_c = _separator(side_c, a, b)
                if best is None or len(sep_c) < len(best[1]):
                    best = (side_c, sep_c)
        assert best is not None
        side, sep = best
        cover = _min_cover(side, a, b)
        if len(cover) < len(sep):
            sep = cover
    in_sep = np.zeros(k, bool)
    in_sep[sep] = True
    for s in (False, True):
        part = np.flatnonzero((side == s) & ~in_sep)
        if len(part) == 0:
            continue
        loc = np.full(k, -1, np.int64)
        loc[part] = np.arange(len(part))
        keep = (loc[a] >= 0) & (loc[b] >= 0)
        _dissect(
            nodes[part],
            loc[a[keep]],
            loc[b[keep]],
            None if xs is None else xs[part],
            None if ys is None else ys[part],
            out,
        )
    if len(sep):
        out.append(nodes[sep[_line_order(sep, xs, ys)]])


def nested_dissection_order(
    graph: CSRGraph | tuple, x: np.ndarray | None = None, y: np.ndarray | None = None
) -> np.ndarray:
    """Node order of the CCH (``order[r]`` is the node of rank ``r``), metric-independent.

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
        Only the topology (edges in either direction) is used.
    x, y : float arrays (n,), optional
        Node coordinates for geometric bisection; BFS-based bisection without them.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [1, 1, 1])
    >>> sorted(nested_dissection_order(g).tolist())
    [0, 1, 2]
    """
    g = as_graph(graph)
    xs, ys = _check_xy(x, y, g.n)
    a, b = _undirected_edges(g)
    out: list[np.ndarray] = []
    if g.n:
        _dissect(
            np.arange(g.n, dtype=np.int64), a.astype(np.int64), b.astype(np.int64), xs, ys, out
        )
    order = np.concatenate(out).astype(np.int32) if out else np.zeros(0, np.int32)
    return order


#: Share of the nodes (the highest-ranked of a contraction hierarchy) ordered by nested
#: dissection in :func:`hybrid_order`; the rest keep the hierarchy's contraction order.
#: Measured at 20k nodes (arcs after pruning / fill-in edges / customization): 0.2: 185k /
#: 451k / 0.8 s; 0.3: 199k / 228k / 0.3 s; 0.4: 217k / 209k / 0.3 s (pure dissection: 320k /
#: 258k; the CH: 144k arcs), on a loaded machine.
CORE_SHARE = 0.3

#: :func:`hybrid_order` falls back to :func:`nested_dissection_order` when eliminating the lower
#: nodes would make more core edges than this (a guard against a quadratic clique blow-up).
MAX_CORE_CLIQUE_EDGES = 20_000_000


def hybrid_order(
    graph: CSRGraph | tuple,
    ch: ContractionHierarchy,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    core_share: float = CORE_SHARE,
) -> np.ndarray:
    """A CCH node order from a contraction hierarchy of one metric: its contraction order for
    the lower ``1 - core_share`` of the nodes, nested dissection for the core above them.

    The lower nodes (minor streets, contracted first) keep the hierarchy's order, so perfect
    customization prunes nearly as many arcs as the hierarchy's witness searches left out; the
    core (the main roads) is ordered by nested dissection of its graph *after* the lower nodes
    are eliminated (every connected group of them makes its core neighbours a clique), which
    keeps the fill-in, and so the customization, small. Exact for every metric, like any order;
    fastest for metrics near the one of ``ch`` (another cyclist profile, a scenario edit).

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
    ch : ContractionHierarchy
        A hierarchy of ``graph`` (any weights of this topology).
    x, y : float arrays (n,), optional
        Node coordinates for the dissection of the core.
    core_share : float
        Share of the nodes in the core (0..1).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, build_ch
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
    >>> sorted(hybrid_order(g, build_ch(g)).tolist())
    [0, 1, 2]
    """
    g = as_graph(graph)
    n = g.n
    if ch.n != n:
        raise GraphError(f"ch has {ch.n} nodes, the graph {n}")
    if not 0.0 <= float(core_share) <= 1.0:
        raise GraphError(f"core_share must be in [0, 1], not {core_share!r}")
    xs, ys = _check_xy(x, y, n)
    a, b = (v.astype(np.int64) for v in _undirected_edges(g))
    k = min(n, max(1, int(np.ceil(n * float(core_share))))) if n else 0
    core = ch.rank >= n - k
    low = np.flatnonzero(~core)
    low = low[np.argsort(ch.rank[low], kind="stable")]
    # the core graph after eliminating the lower nodes: core-core edges, plus a clique on the
    # core neighbours of every connected group of lower nodes
    both = ~core[a] & ~core[b]
    lab = np.arange(n, dtype=np.int64)
    if both.any():
        lowgraph = csr_matrix((np.ones(int(both.sum()), np.int8), (a[both], b[both])), (n, n))
        lab = connected_components(lowgraph, directed=False)[1].astype(np.int64)
    cross = core[a] != core[b]
    lo_end = np.where(core[a[cross]], b[cross], a[cross])
    co_end = np.where(core[a[cross]], a[cross], b[cross])
    pairs = np.unique(lab[lo_end] * n + co_end)
    grp, node = pairs // max(n, 1), pairs % max(n, 1)
    ea, eb = [a[core[a] & core[b]]], [b[core[a] & core[b]]]
    cuts = np.flatnonzero(np.diff(grp)) + 1
    sizes = np.diff(np.r_[0, cuts, len(node)]).astype(np.int64)
    if int((sizes * (sizes - 1) // 2).sum()) > MAX_CORE_CLIQUE_EDGES:
        return nested_dissection_order(g, x, y)  # a core this dense: the metric-free order
    for members in np.split(node, cuts):
        if len(members) > 1:
            i, j = np.triu_indices(len(members), 1)
            ea.append(members[i])
            eb.append(members[j])
    ca, cb = np.concatenate(ea), np.concatenate(eb)
    key = np.unique(np.minimum(ca, cb) * n + np.maximum(ca, cb))
    cid = np.flatnonzero(core)
    loc = np.full(n, -1, np.int64)
    loc[cid] = np.arange(len(cid))
    out: list[np.ndarray] = [low]
    if len(cid):
        _dissect(
            cid.astype(np.int64),
            loc[key // n],
            loc[key % n],
            None if xs is None else xs[cid],
            None if ys is None else ys[cid],
            out,
        )
    return np.concatenate(out).astype(np.int32)


def _check_xy(x, y, n: int):
    if x is None and y is None:
        return None, None
    if x is None or y is None:
        raise GraphError("build_cch: pass both x and y node coordinates, or neither")
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    for name, arr in (("x", xs), ("y", ys)):
        if arr.shape != (n,):
            raise GraphError(
                f"{name} must have one coordinate per node ({n}), got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise GraphError(f"{name} contains NaN or inf")
    if n and np.abs(ys).max() <= 90 and np.abs(xs).max() <= 180:
        xs = xs * np.cos(np.deg2rad(np.median(ys)))  # degrees: make the axes comparable
    return xs, ys


# ---------------------------------------------------------------------------- fill-in
@numba.njit(**NJIT)
def _fill_in(n, indptr, indices, start_cap, max_edges):
    """Chordal fill-in in rank space: sorted upward lists; ``ne = -1`` when over ``max_edges``.

    Returns ``(up_ptr, up_idx, level, ne)``.
    """
    up_ptr = np.zeros(n + 1, np.int64)
    cap = max(min(start_cap, max_edges), 1)
    out = np.empty(cap, np.int32)
    child_head = np.full(n, -1, np.int32)
    child_next = np.full(n, -1, np.int32)
    mark = np.full(n, -1, np.int32)
    buf = np.empty(n, np.int32)
    level = np.zeros(n, np.int32)
    ne = 0
    for v in range(n):
        cnt = 0
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if u > v and mark[u] != v:
                mark[u] = v
                buf[cnt] = u
                cnt += 1
        c = child_head[v]
        while c >= 0:
            for e in range(up_ptr[c], up_ptr[c + 1]):
                u = out[e]
                if u > v and mark[u] != v:
                    mark[u] = v
                    buf[cnt] = u
                    cnt += 1
            c = child_next[c]
        if ne + cnt > cap:
            if ne + cnt > max_edges:
                return up_ptr, out[:0], level, -1
            newcap = min(max(2 * cap, ne + cnt), max_edges)
            grown = np.empty(newcap, np.int32)
            grown[:ne] = out[:ne]
            out = grown
            cap = newcap
        lst = np.sort(buf[:cnt])
        out[ne : ne + cnt] = lst
        ne += cnt
        up_ptr[v + 1] = ne
        if cnt > 0:
            p = lst[0]
            child_next[v] = child_head[p]
            child_head[p] = v
            for i in range(cnt):
                u = lst[i]
                if level[u] < level[v] + 1:
                    level[u] = level[v] + 1
    return up_ptr, out[:ne].copy(), level, ne


@numba.njit(**NJIT)
def _arc_edges(src_r, dst_r, up_ptr, up_idx):
    """Fill-in edge of every arc (by binary search in the lower endpoint's list); -1: loop."""
    m = src_r.size
    eid = np.full(m, -1, np.int64)
    for i in range(m):
        a = src_r[i]
        b = dst_r[i]
        if a == b:
            continue
        lo = min(a, b)
        hi = max(a, b)
        left = up_ptr[lo]
        right = up_ptr[lo + 1]
        while left < right:
            mid = (left + right) // 2
            if up_idx[mid] < hi:
                left = mid + 1
            else:
                right = mid
        eid[i] = left
    return eid


# ---------------------------------------------------------------------------- customization
@numba.njit(**NJIT)
def _init_weights(ne, eid, is_up, w):
    wu = np.full(ne, _INF, np.int32)
    wd = np.full(ne, _INF, np.int32)
    for i in range(eid.size):
        e = eid[i]
        if e < 0:
            continue
        if is_up[i]:
            if w[i] < wu[e]:
                wu[e] = w[i]
        elif w[i] < wd[e]:
            wd[e] = w[i]
    return wu, wd


@numba.njit(**NJIT)
def _relax_node(u, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, wu, wd, slot):
    """Lower triangles of ``u``'s upward edges: only those edges are written."""
    for e in range(up_ptr[u], up_ptr[u + 1]):
        slot[up_idx[e]] = e
    for j in range(lo_ptr[u], lo_ptr[u + 1]):
        w = lo_src[j]
        ewu = lo_eid[j]
        d_uw = np.int64(wd[ewu])  # u -> w
        d_wu = np.int64(wu[ewu])  # w -> u
        if d_uw >= _INF and d_wu >= _INF:
            continue
        for f in range(ewu + 1, up_ptr[w + 1]):
            euv = slot[up_idx[f]]
            s = d_uw + wu[f]  # u -> w -> v
            if s < wu[euv]:
                wu[euv] = s
            s = wd[f] + d_wu  # v -> w -> u
            if s < wd[euv]:
                wd[euv] = s


@numba.njit(**NJIT)
def _perfect_node(u, up_ptr, up_idx, pu, pd):
    """Intermediate and upper triangles of ``u``'s upward edges (the other edges are perfect)."""
    for i in range(up_ptr[u], up_ptr[u + 1]):
        w = up_idx[i]
        f = up_ptr[w]
        for j in range(i + 1, up_ptr[u + 1]):
            v = up_idx[j]
            while up_idx[f] < v:  # v is in w's list: the upward neighbours of u are a clique
                f += 1
            wv = np.int64(pu[f])  # w -> v
            vw = np.int64(pd[f])  # v -> w
            s = pu[i] + wv  # u -> w -> v
            if s < pu[j]:
                pu[j] = s
            s = vw + pd[i]  # v -> w -> u
            if s < pd[j]:
                pd[j] = s
            s = pu[j] + vw  # u -> v -> w
            if s < pu[i]:
                pu[i] = s
            s = wv + pd[j]  # w -> v -> u
            if s < pd[i]:
                pd[i] = s


@numba.njit(**NJIT)
def _node(mode, u, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, wu, wd, slot):
    if mode == 0:
        _relax_node(u, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, wu, wd, slot)
    else:
        _perfect_node(u, up_ptr, up_idx, wu, wd)


@numba.njit(**NJIT_PAR)
def _customize(
    n, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, lvl_ptr, lvl_nodes, w, nthr, perfect, par_min
):
    """Customization of ``w = (wu, wd, pu, pd)``, level by level; levels of at least
    ``par_min`` nodes run in parallel.

    Pass 0, lowest level first: lower triangles on ``wu, wd`` (the basic metric). Pass 1 (if
    ``perfect``), highest level first: ``pu, pd`` start as copies and get the intermediate and
    upper triangles (the perfect metric: every weight is the distance in the graph).
    """
    slot = np.empty((nthr, max(n, 1)), np.int64)
    nlv = lvl_ptr.size - 1
    for mode in range(2 if perfect else 1):
        a_w = w[2 * mode]
        a_d = w[2 * mode + 1]
        if mode == 1:
            a_w[:] = w[0]
            a_d[:] = w[1]
        for step in range(nlv):
            lv = step if mode == 0 else nlv - 1 - step
            a = lvl_ptr[lv]
            cnt = lvl_ptr[lv + 1] - a
            if cnt < par_min or nthr < 2:
                for i in range(a, a + cnt):
                    u = lvl_nodes[i]
                    _node(mode, u, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, a_w, a_d, slot[0])
            else:
                for c in prange(nthr):
                    sl = slot[c]
                    for i in range(a + c * cnt // nthr, a + (c + 1) * cnt // nthr):
                        u = lvl_nodes[i]
                        _node(mode, u, up_ptr, up_idx, lo_ptr, lo_src, lo_eid, a_w, a_d, sl)


@dataclasses.dataclass(frozen=True, eq=False)
class CCH:
    """A customizable contraction hierarchy: order and fill-in of one topology.

    Built by :func:`build_cch`; :meth:`customize` turns arc weights into a
    :class:`~fietsstad.engine.ContractionHierarchy` for the PHAST sweeps.

    Attributes
    ----------
    n : int
    rank, order : int32 (n,)  elimination rank of every node, and the node of every rank.
    level : int32 (n,)  elimination-tree level (0 for leaves), by node.
    pos, sweep_order : int32 (n,)  sweep position of every node (by decreasing level, then id).
    n_edges : int  undirected edges of the chordal fill-in (input edges plus fill).
    n_input_edges : int  distinct undirected input edges.
    order_seconds, fill_seconds : float  time of the two metric-independent phases.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, build_cch
    >>> cch = build_cch(CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30]))
    >>> ch = cch.customize([6, 3])  # another metric, same order and fill-in
    >>> cch.n, cch.n_edges, sorted(ch.up_t.tolist()), ch.n_shortcuts
    (3, 2, [3, 6], 0)
    """

    n: int
    rank: np.ndarray
    order: np.ndarray
    level: np.ndarray
    pos: np.ndarray
    sweep_order: np.ndarray
    n_edges: int
    n_input_edges: int
    order_seconds: float
    fill_seconds: float
    _graph: CSRGraph
    _up_ptr: np.ndarray
    _up_idx: np.ndarray
    _lo_ptr: np.ndarray
    _lo_src: np.ndarray
    _lo_eid: np.ndarray
    _lvl_ptr: np.ndarray
    _lvl_nodes: np.ndarray
    _arc_eid: np.ndarray
    _arc_up: np.ndarray
    _perm: np.ndarray
    _up_from: np.ndarray
    _up_to: np.ndarray
    _dn_from: np.ndarray
    _dn_to: np.ndarray
    _n_arcs: int

    def _weights(self, weights) -> tuple[np.ndarray, CSRGraph]:
        g0 = self._graph
        if isinstance(weights, CSRGraph):
            if not (
                np.array_equal(weights.indptr, g0.indptr)
                and np.array_equal(weights.indices, g0.indices)
            ):
                raise GraphError(
                    "weights: this graph has another topology than the one the CCH was built "
                    "for; build_cch(graph) for it"
                )
            return weights.weights, weights
        checked = CSRGraph.from_arrays(g0.indptr, g0.indices, weights)
        g = dataclasses.replace(g0, weights=checked.weights, _cache={})
        return g.weights, g

    def customize(
        self, weights: np.ndarray | CSRGraph, *, perfect: bool = True
    ) -> ContractionHierarchy:
        """The hierarchy for arc ``weights`` (same topology), for the PHAST sweeps.

        Parameters
        ----------
        weights : int array (m,) or CSRGraph
            One weight per arc of the graph the CCH was built for (e.g. another profile's
            travel times), or a graph with the same ``indptr``/``indices``.
        perfect : bool
            Perfect customization and arc pruning (fewer arcs for the sweeps, same results);
            ``False`` keeps every arc of the fill-in with a path (the basic metric).

        Returns
        -------
        ContractionHierarchy
            Usable as ``travel_times(graph_with_these_weights, ch=..., method="phast")``.

        Example
        -------
        >>> from fietsstad.engine import CSRGraph, build_cch, travel_times
        >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
        >>> g2 = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40, 20])
        >>> travel_times(g2, ch=build_cch(g).customize(g2.weights), method="phast").tolist()
        [[0, 40, 60], [65535, 0, 20], [65535, 65535, 0]]
        """
        t0 = time.perf_counter()
        w, g = self._weights(weights)
        if g.total_weight() >= PHAST_INF:
            raise GraphError(
                "weights: a customizable contraction hierarchy needs the sum of all arc "
                "weights below 2**30"
            )
        ne = len(self._up_idx)
        wu, wd = _init_weights(ne, self._arc_eid, self._arc_up, w)
        pu = np.empty_like(wu) if perfect else wu[:0]
        pd = np.empty_like(wd) if perfect else wd[:0]
        _customize(
            self.n,
            self._up_ptr,
            self._up_idx,
            self._lo_ptr,
            self._lo_src,
            self._lo_eid,
            self._lvl_ptr,
            self._lvl_nodes,
            (wu, wd, pu, pd),
            numba.get_num_threads(),
            bool(perfect),
            PAR_MIN_LEVEL_NODES,
        )
        # an arc whose distance is shorter than its lower-triangle weight is on no canonical
        # up-down shortest path (see the module docs): dropped, as are arcs without any path
        need_u = wu < _INF
        need_d = wd < _INF
        if perfect:
            need_u &= pu == wu
            need_d &= pd == wd
        n = self.n
        ut = wu[self._perm]
        keep = need_u[self._perm]
        up_indptr = _indptr(self._up_from[keep], n)
        dt = wd[self._perm]
        keep_d = need_d[self._perm]
        dn_indptr = _indptr(self._dn_to[keep_d], n)
        n_up = int(keep.sum())
        n_dn = int(keep_d.sum())
        return ContractionHierarchy(
            n=n,
            rank=self.rank,
            level=self.level,
            pos=self.pos,
            order=self.sweep_order,
            up_indptr=up_indptr,
            up_indices=np.ascontiguousarray(self._up_to[keep]),
            up_t=np.ascontiguousarray(ut[keep]),
            up_s=np.zeros(n_up, np.int32),
            dn_indptr=dn_indptr,
            dn_src=np.ascontiguousarray(self._dn_from[keep_d]),
            dn_t=np.ascontiguousarray(dt[keep_d]),
            dn_s=np.zeros(n_dn, np.int32),
            key=g.content_hash(),
            graph_key=g.content_hash(),
            n_shortcuts=n_up + n_dn - self._n_arcs,
            build_seconds=time.perf_counter() - t0,
            has_secondary=False,
        )


def _indptr(keys: np.ndarray, n: int) -> np.ndarray:
    ip = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ip[1:])
    return ip.astype(np.int32)


def _max_fill_edges(max_fill_edges: int | None) -> int:
    if max_fill_edges is not None:
        if isinstance(max_fill_edges, bool) or int(max_fill_edges) < 0:
            raise GraphError(f"max_fill_edges must be an integer >= 0, not {max_fill_edges!r}")
        return int(max_fill_edges)
    return int(min(available_memory_bytes() // 2 // BYTES_PER_FILL_EDGE, 2**31 - 2))


def build_cch(
    graph: CSRGraph | tuple,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    max_fill_edges: int | None = None,
    order: np.ndarray | None = None,
) -> CCH:
    """Order and fill-in of a customizable contraction hierarchy for ``graph``'s topology.

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
        Directed graph; only its topology is used here (weights come with
        :meth:`CCH.customize`). One-way arcs, parallel arcs, self-loops and disconnected parts
        are fine.
    x, y : float arrays (n,), optional
        Node coordinates (e.g. ``net.x, net.y``): geometric nested dissection, usually a
        smaller fill-in than the BFS-based one used without them.
    max_fill_edges : int, optional
        Refuse fill-ins with more undirected edges than this (default: what half the available
        memory holds at :data:`BYTES_PER_FILL_EDGE` bytes per edge).
    order : int array (n,), optional
        A node order stored from an earlier build (``cch.order``, a permutation of the nodes):
        skips the nested dissection (the order is the expensive, metric-independent part).

    Returns
    -------
    CCH

    Raises
    ------
    GraphError
        Bad graph or coordinates.
    MemoryBudgetError
        The fill-in would exceed ``max_fill_edges`` (checked while it grows, before allocating).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, build_cch, travel_times
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
    >>> cch = build_cch(g, x=[0.0, 1.0, 2.0], y=[0.0, 0.0, 0.0])
    >>> cch.n, cch.n_edges
    (3, 3)
    >>> travel_times(g, [1], ch=cch.customize(g.weights), method="phast").tolist()
    [[13, 0, 6]]
    """
    g = as_graph(graph)
    limit = _max_fill_edges(max_fill_edges)
    n = g.n
    t0 = time.perf_counter()
    if order is None:
        order = nested_dissection_order(g, x, y)
    else:
        order = np.asarray(order)
        if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
            raise GraphError(f"order must be a permutation of the {n} nodes")
        order = order.astype(np.int32)
    rank = np.empty(n, np.int32)
    rank[order] = np.arange(n, dtype=np.int32)
    t1 = time.perf_counter()
    a, b = _undirected_edges(g)
    ra, rb = rank[a], rank[b]
    keys = np.r_[ra, rb]
    perm = np.argsort(keys, kind="stable")
    sym_ptr = _indptr(keys, n).astype(np.int64)
    sym_idx = np.ascontiguousarray(np.r_[rb, ra][perm], np.int32)
    start = max(4 * len(a) + 16, 1)
    up_ptr, up_idx, lvl_r, ne = _fill_in(n, sym_ptr, sym_idx, start, limit)
    if ne < 0:
        raise MemoryBudgetError(
            f"the CCH fill-in of this graph ({n:,} nodes) exceeds {limit:,} edges "
            f"(max_fill_edges, {BYTES_PER_FILL_EDGE} bytes each); pass coordinates (x, y) for "
            "a smaller fill-in, raise max_fill_edges, or use build_ch"
        )
    low = np.repeat(np.arange(n, dtype=np.int32), np.diff(up_ptr))
    # lower adjacency: for every node, its lower neighbours and the edge ids
    lperm = np.argsort(up_idx, kind="stable")
    lo_ptr = _indptr(up_idx, n).astype(np.int64)
    lo_src = np.ascontiguousarray(low[lperm])
    lo_eid = np.ascontiguousarray(lperm.astype(np.int64))
    # levels (rank space) and nodes grouped by level
    lvl_nodes = np.argsort(lvl_r, kind="stable").astype(np.int32)
    lvl_ptr = _indptr(lvl_r, int(lvl_r.max()) + 1 if n else 0).astype(np.int64)
    # input arcs -> fill-in edges and directions
    src_r = rank[g.edge_sources()]
    dst_r = rank[g.indices]
    arc_eid = _arc_edges(src_r, dst_r, up_ptr, up_idx)
    arc_up = src_r < dst_r
    # sweep order, by node
    level = np.empty(n, np.int32)
    level[order] = lvl_r
    pos, sweep_order = _sweep_order(rank, level)
    pos_lo = pos[order[low]]
    pos_hi = pos[order[up_idx]]
    perm_lo = np.argsort(pos_lo, kind="stable")  # both directions are keyed by the lower end
    arcs = np.unique(src_r[src_r != dst_r].astype(np.int64) * n + dst_r[src_r != dst_r])
    t2 = time.perf_counter()
    return CCH(
        n=n,
        rank=rank,
        order=order,
        level=level,
        pos=pos,
        sweep_order=sweep_order,
        n_edges=int(ne),
        n_input_edges=len(a),
        order_seconds=t1 - t0,
        fill_seconds=t2 - t1,
        _graph=g,
        _up_ptr=up_ptr,
        _up_idx=up_idx,
        _lo_ptr=lo_ptr,
        _lo_src=lo_src,
        _lo_eid=lo_eid,
        _lvl_ptr=lvl_ptr,
        _lvl_nodes=lvl_nodes,
        _arc_eid=arc_eid,
        _arc_up=arc_up,
        _perm=perm_lo,
        _up_from=np.ascontiguousarray(pos_lo[perm_lo], np.int32),
        _up_to=np.ascontiguousarray(pos_hi[perm_lo], np.int32),
        _dn_from=np.ascontiguousarray(pos_hi[perm_lo], np.int32),
        _dn_to=np.ascontiguousarray(pos_lo[perm_lo], np.int32),
        _n_arcs=len(arcs),
    )


# ---------------------------------------------------------------------------- per topology
#: Version of the nested-dissection order: part of :func:`topology_key`, so a stored order of
#: an older algorithm is never reused for a new one.
ORDER_VERSION = 3

_TOPO: dict[str, CCH] = {}
_TOPO_MAX = 4


def topology_key(
    graph: CSRGraph | tuple, x: np.ndarray | None = None, y: np.ndarray | None = None
) -> str:
    """The key a CCH of ``graph``'s topology (and node coordinates) is memoised under.

    Weights are not part of it: every profile and scenario of one street network shares it.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> a = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> b = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40, 20])  # other weights
    >>> topology_key(a) == topology_key(b), topology_key(a) == topology_key(a, [0, 1, 2], [0, 0, 0])
    (True, False)
    """
    g = as_graph(graph)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"cch-order-v{ORDER_VERSION}".encode())
    for a in (g.indptr, g.indices):
        h.update(np.ascontiguousarray(a).view(np.uint8).data)
    if x is not None and y is not None:
        h.update(b"xy")
        for a in (x, y):
            h.update(np.ascontiguousarray(np.asarray(a, np.float64)).view(np.uint8).data)
    return h.hexdigest()


def find_cch(
    graph: CSRGraph | tuple, x: np.ndarray | None = None, y: np.ndarray | None = None
) -> CCH | None:
    """The memoised CCH of ``graph``'s topology (with these coordinates), or None.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 2, 2, 2, 2], [1, 3], [7, 8])
    >>> find_cch(g) is None
    True
    >>> cch_for(g) is find_cch(g)
    True
    """
    return _TOPO.get(topology_key(graph, x, y))


def cch_for(
    graph: CSRGraph | tuple,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    order: np.ndarray | None = None,
) -> CCH:
    """The CCH of ``graph``'s topology: memoised in-process, built (:func:`build_cch`) once.

    Any graph of the same ``indptr``/``indices`` (another profile, a scenario that changes
    weights only) gets the same object; ``order`` is a stored order to build from (see
    :func:`build_cch`).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> a = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> b = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40, 20])
    >>> cch_for(a) is cch_for(b)
    True
    """
    key = topology_key(graph, x, y)
    cch = _TOPO.get(key)
    if cch is None:
        cch = build_cch(graph, x, y, order=order)
        if len(_TOPO) >= _TOPO_MAX:
            _TOPO.pop(next(iter(_TOPO)))
        _TOPO[key] = cch
    return cch


def customized_ch(
    graph: CSRGraph | tuple,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    order: np.ndarray | None = None,
) -> ContractionHierarchy:
    """The hierarchy of ``graph``'s weights, customized from the CCH of its topology.

    The CCH comes from :func:`cch_for` (built once per topology); the result is memoised with
    :func:`~fietsstad.engine.remember_ch`, so :func:`~fietsstad.engine.travel_times` and
    :func:`~fietsstad.engine.accessibility` on ``graph`` use it instead of building a
    contraction hierarchy. A hierarchy already memoised for ``graph`` is returned as it is.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph, travel_times
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [5, 6, 7])
    >>> ch = customized_ch(g)
    >>> travel_times(g, method="phast").tolist()  # finds ch: no hierarchy is built here
    [[0, 5, 11], [13, 0, 6], [7, 12, 0]]
    """
    g = as_graph(graph)
    ch = find_ch(g)
    if ch is None:
        ch = cch_for(g, x, y, order=order).customize(g)
        remember(ch)
    return ch
