"""Shortest-path trees and routes (for maps and route summaries).

Example
-------
>>> from fietsstad.engine import CSRGraph, shortest_path
>>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
>>> shortest_path(g, 0, 2).tolist()
[0, 1, 2]
"""

from __future__ import annotations

import numpy as np

from fietsstad.engine._dijkstra import INF, sssp_pred
from fietsstad.engine._graph import as_graph, check_nodes
from fietsstad.errors import GraphError


def _tree(graph, source: int):
    g = as_graph(graph)
    s = int(check_nodes([source], g.n, "source")[0])
    dist, pred = sssp_pred(g.indptr, g.indices, g.weights, np.int32(s))
    return g, s, dist, pred


def predecessors(graph, source: int) -> np.ndarray:
    """Predecessor of every node on a fastest path from ``source`` (int32; -1: none/source).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> predecessors(CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30]), 0).tolist()
    [-1, 0, 1]
    """
    return _tree(graph, source)[3]


def shortest_path(graph, source: int, target: int) -> np.ndarray:
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
