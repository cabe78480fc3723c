"""Shortest-path trees and routes (for maps and route summaries), and tracing paths back.

Example
-------
>>> from fietsstad.engine import CSRGraph, shortest_path
>>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
>>> shortest_path(g, 0, 2).tolist()
[0, 1, 2]
"""

from __future__ import annotations

import numba
import numpy as np

from fietsstad.engine._graph import GraphLike, as_graph, check_nodes
from fietsstad.engine._heap import heap_pop, heap_push
from fietsstad.engine.config import INF64, MAX_I32, NJIT
from fietsstad.errors import GraphError

_LOW = np.int64(0xFFFFFFFF)


@numba.njit(**NJIT)
def search_edges(indptr, indices, w, s, t, dist, pred, hk, touched):  # pragma: no cover - numba
    """Dijkstra from ``s`` recording the edge id into each reached node; stops once ``t`` is settled.

    The one path-recording search of the package (:func:`predecessors`, :func:`shortest_path`,
    :func:`fastest_edges`; route alternatives of :mod:`fietsstad.demand.assignment`).
    ``t < 0`` builds the whole tree. ``dist`` (int64, all ``INF64`` on entry) and ``pred``
    (int32, all -1) are written for the reached nodes, listed in ``touched``; sums saturate at
    ``2**31 - 1`` ticks. Ties keep the first strict improvement. Returns how many nodes were
    touched.
    """
    nt = 1
    touched[0] = s
    dist[s] = 0
    size = heap_push(hk, hk, 0, np.int64(s), np.int64(s))
    while size > 0:
        key = hk[0]
        size = heap_pop(hk, hk, size)
        u = np.int32(key & _LOW)
        d = key >> 32
        if d != dist[u]:
            continue
        if u == t:
            break
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + w[e]
            if nd > MAX_I32:
                nd = MAX_I32
            if nd < dist[v]:
                if dist[v] == INF64:
                    touched[nt] = v
                    nt += 1
                dist[v] = nd
                pred[v] = e
                nk = (nd << 32) | v
                size = heap_push(hk, hk, size, nk, nk)
    return nt


@numba.njit(**NJIT)
def _tail(indptr, e):  # pragma: no cover - numba
    """The node whose edge range holds edge ``e`` (binary search in ``indptr``)."""
    lo = 0
    hi = indptr.size - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if indptr[mid] <= e:
            lo = mid
        else:
            hi = mid
    return lo


@numba.njit(**NJIT)
def fastest_edges(indptr, indices, w, s, t, out, dist, pred, hk, touched):  # pragma: no cover
    """Fastest path ``s -> t`` on weights ``w`` as edge ids written to ``out``, in travel order.

    :func:`search_edges` stopped at ``t``; ``dist`` (int64, ``INF64``) and ``pred`` (-1) are
    restored through ``touched`` before returning. Returns the number of edges (``-1``:
    unreachable).
    """
    nt = search_edges(indptr, indices, w, s, t, dist, pred, hk, touched)
    n = -1
    if dist[t] != INF64:
        n = 0
        x = t
        while x != s:
            e = pred[x]
            out[n] = e
            n += 1
            x = _tail(indptr, e)
        for a in range(n // 2):
            tmp = out[a]
            out[a] = out[n - 1 - a]
            out[n - 1 - a] = tmp
    for i in range(nt):
        dist[touched[i]] = INF64
        pred[touched[i]] = -1
    return n


@numba.njit(**NJIT)
def _tree_kernel(indptr, indices, w, s):  # pragma: no cover - numba
    n = indptr.size - 1
    dist = np.full(n, INF64, np.int64)
    pred = np.full(n, -1, np.int32)
    hk = np.empty(indices.size + 1, np.int64)
    touched = np.empty(n, np.int32)
    search_edges(indptr, indices, w, s, -1, dist, pred, hk, touched)
    node = np.full(n, -1, np.int32)
    for v in range(n):
        if pred[v] >= 0:
            node[v] = _tail(indptr, pred[v])
    return dist, node


def _tree(graph, source: int):
    g = as_graph(graph)
    s = int(check_nodes([source], g.n, "source")[0])
    dist, pred = _tree_kernel(g.indptr, g.indices, g.weights, np.int32(s))
    return g, s, dist, pred


def predecessors(graph: GraphLike, source: int) -> np.ndarray:
    """Predecessor of every node on a fastest path from ``source`` (int32; -1: none/source).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> predecessors(CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30]), 0).tolist()
    [-1, 0, 1]
    """
    return _tree(graph, source)[3]


def shortest_path(graph: GraphLike, source: int, target: int) -> np.ndarray:
    """Node positions of a fastest path ``source -> target`` (inclusive, int32).

    Raises :class:`~fietsstad.errors.GraphError` if ``target`` is unreachable.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> shortest_path(CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30]), 1, 2).tolist()
    [1, 2]
    """
    g, s, dist, pred = _tree(graph, source)
    t = int(check_nodes([target], g.n, "target")[0])
    if dist[t] == INF64:
        raise GraphError(f"node {t} is unreachable from node {s}")
    path = [t]
    while path[-1] != s:
        path.append(int(pred[path[-1]]))
    return np.asarray(path[::-1], dtype=np.int32)


@numba.njit(**NJIT)
def trace_paths(
    dist, src_nodes, tgt_nodes, trips, rptr, redge, rtail, w, length, corridor, unreach
):  # pragma: no cover - numba
    """Walk each fastest path back from its target; lengths, corridor use and edge flows.

    ``dist[i]`` is the row of travel times from ``src_nodes[i]`` to every node (``unreach``:
    not reached); ``rptr``/``redge``/``rtail`` the reversed CSR (incoming edge ids and their
    tails), ``w`` the edge weights the rows were computed with. From each target the walk takes
    the first incoming edge ``e = (p, x)`` with ``dist[i, p] + w[e] == dist[i, x]``. Returns
    ``(dist_m, uses, flow, bad)``: metres of each path (float64, ``inf`` unreached), whether it
    uses a ``corridor`` edge, ``trips[i, j]`` summed per edge, and how many walks found no
    such edge (0 unless the rows and weights disagree).

    Example
    -------
    >>> import numpy as np
    >>> dist = np.array([[0, 60, 90]], np.int32)  # 0 -> 1 -> 2, edges e0 = (0, 1), e1 = (1, 2)
    >>> dist_m, uses, flow, bad = trace_paths(
    ...     dist, np.array([0]), np.array([2]), np.ones((1, 1)),
    ...     np.array([0, 0, 1, 2]), np.array([0, 1]), np.array([0, 1], np.int32),
    ...     np.array([60, 30]), np.array([100.0, 50.0]), np.array([False, True]), 2**31 - 1)
    >>> dist_m.tolist(), uses.tolist(), flow.tolist(), bad
    ([[150.0]], [[True]], [1.0, 1.0], 0)
    """
    ns = src_nodes.shape[0]
    nt = tgt_nodes.shape[0]
    dist_m = np.full((ns, nt), np.inf)
    uses = np.zeros((ns, nt), dtype=np.bool_)
    flow = np.zeros(w.shape[0], dtype=np.float64)
    bad = 0
    for i in range(ns):
        s = src_nodes[i]
        for j in range(nt):
            t = tgt_nodes[j]
            if dist[i, t] == unreach:
                continue
            x = t
            total = 0.0
            used = False
            q = trips[i, j]
            while x != s:
                dx = np.int64(dist[i, x])
                found = -1
                p = -1
                for k in range(rptr[x], rptr[x + 1]):
                    e = redge[k]
                    p = rtail[k]
                    dp = dist[i, p]
                    if dp != unreach and np.int64(dp) + w[e] == dx:
                        found = e
                        break
                if found < 0:
                    bad += 1
                    break
                total += length[found]
                flow[found] += q
                if corridor[found]:
                    used = True
                x = p
            dist_m[i, j] = total
            uses[i, j] = used
    return dist_m, uses, flow, bad
