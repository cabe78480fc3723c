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

from fietsstad.engine._dijkstra import INF, sssp_pred
from fietsstad.engine._graph import GraphLike, as_graph, check_nodes
from fietsstad.engine.config import NJIT
from fietsstad.errors import GraphError


def _tree(graph, source: int):
    g = as_graph(graph)
    s = int(check_nodes([source], g.n, "source")[0])
    dist, pred = sssp_pred(g.indptr, g.indices, g.weights, np.int32(s))
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
    if dist[t] == INF:
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
