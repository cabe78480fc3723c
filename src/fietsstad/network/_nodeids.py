"""Node identity: OSM node ids (what users see) against node positions (what the engine uses).

Every public fietsstad function takes and returns **OSM node ids**, the index of
:meth:`BikeNetwork.nodes_gdf` and the ``u`` / ``v`` of :meth:`BikeNetwork.edges_gdf` (osmnx and
pandana use the same ids). Positions ``0..n_nodes-1`` (rows of ``net.x``, ``net.y``, engine
arrays) are accepted only when they say so: as a :class:`NodePositions` array (what
:meth:`BikeNetwork.positions` and :meth:`BikeNetwork.snap` return) or with ``positions=True``.

Example
-------
>>> import numpy as np
>>> p = NodePositions([3, 1])
>>> isinstance(p, np.ndarray), p.dtype.name, isinstance(p[:1], NodePositions)
(True, 'int32', True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fietsstad.errors import ParameterError


class NodePositions(np.ndarray):
    """An int32 array of node **positions** (``0..n_nodes-1``), marked as such.

    A plain integer array given to a fietsstad function means OSM node ids; this marker (or
    ``positions=True``) says the numbers are positions instead, so the two are never confused.
    It is a numpy array in every other respect (indexing ``net.x[p]`` works).

    Example
    -------
    >>> NodePositions([0, 2]).tolist()
    [0, 2]
    """

    def __new__(cls, values: Any) -> NodePositions:
        return np.asarray(values, dtype=np.int32).view(cls)


def lookup_positions(node_id: np.ndarray, cache: dict, ids: Any, name: str) -> np.ndarray:
    """int32 positions of ``ids`` in ``node_id``; an unknown id raises ValidationError naming it.

    ``cache`` keeps the sorted ids between calls (keyed by the ``node_id`` array object).

    Example
    -------
    >>> lookup_positions(np.array([30, 10, 20]), {}, [20, 30], "ids").tolist()
    [2, 0]
    """
    arr = np.asarray(ids)
    if arr.size and arr.dtype.kind not in "iu":
        raise ParameterError(f"{name} must be OSM node ids (integers), got a {arr.dtype} array")
    arr = arr.astype(np.int64)
    entry = cache.get("sorted")
    if entry is None or entry[0] is not node_id:
        order = np.argsort(node_id, kind="stable").astype(np.int32)
        entry = (node_id, node_id[order], order)
        cache["sorted"] = entry
    _, sorted_ids, order = entry
    flat = arr.ravel()
    if len(sorted_ids) == 0:
        found = np.zeros(len(flat), dtype=bool)
        at = np.zeros(len(flat), dtype=np.int64)
    else:
        at = np.searchsorted(sorted_ids, flat).clip(0, len(sorted_ids) - 1)
        found = sorted_ids[at] == flat
    if not found.all():
        bad = flat[~found]
        raise ParameterError(
            f"{name}: {len(bad)} id(s) are not node ids of this network (first: {int(bad[0])}); "
            "use the OSM ids of net.nodes_gdf().index, or pass node positions 0..n_nodes-1 "
            "explicitly (positions=True or net.positions(ids))"
        )
    return order[at].reshape(arr.shape)


def check_positions(values: Any, n: int, name: str) -> np.ndarray:
    """int32 positions, each in ``0..n-1`` (ValidationError naming ``name`` otherwise).

    Example
    -------
    >>> check_positions([0, 4], 5, "origins").tolist()
    [0, 4]
    """
    arr = np.asarray(values)
    if arr.size and arr.dtype.kind not in "iu":
        raise ParameterError(f"{name} must be node positions (integers), got {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = arr[(arr < 0) | (arr >= n)]
        raise ParameterError(
            f"{name}: node position {int(bad[0])} is outside 0..{n - 1} ({len(bad)} bad)"
        )
    return arr.astype(np.int32)


__all__ = ["NodePositions", "lookup_positions", "check_positions"]
