"""Validated CSR graphs: the one input type of every engine kernel.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph
>>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [5, 7])
>>> g.n, g.m, g.reverse().indices.tolist(), g.ticks_per_s
(3, 2, [0, 1], 1)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from fietsstad.engine._units import check_ticks_per_s
from fietsstad.engine.config import MAX_I32
from fietsstad.errors import GraphError

#: What every engine function takes as ``graph``: a :class:`CSRGraph` or the
#: ``(indptr, indices, weights)`` arrays of one (weights in whole seconds).
GraphLike: TypeAlias = "CSRGraph | tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]"


def _as_int_array(a, name: str, *, allow_float_integral: bool = False) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise GraphError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == object:
        raise GraphError(f"{name} has dtype object; pass a numeric array")
    if arr.dtype.kind == "b" or (arr.size == 0 and arr.dtype.kind == "f"):
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise GraphError(f"{name} contains NaN or inf")
        if not allow_float_integral or np.any(arr != np.rint(arr)):
            what = "integral (scale to whole seconds or deciseconds first)"
            raise GraphError(f"{name} must be integers; got non-{what} floats")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise GraphError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return arr


@dataclass(frozen=True, eq=False)
class CSRGraph:
    """A directed graph in compressed sparse row form with int32 weights (ticks).

    Weights are integer *ticks* of ``1 / ticks_per_s`` seconds: whole seconds by default,
    deciseconds (``ticks_per_s=10``) for :meth:`fietsstad.network.BikeNetwork.engine_graph`.
    Kernels add ticks only; every entry point takes cut-offs in seconds and writes seconds
    (rounded half up in integer matrices, exact in float ones), see :mod:`._units`.

    Build it with :meth:`from_arrays`, which validates everything; the constructor itself trusts
    its input. Edges of node ``i`` are ``indices[indptr[i]:indptr[i+1]]`` with ``weights`` at the
    same positions. Parallel edges and self-loops are allowed (the cheapest parallel edge wins).

    Attributes
    ----------
    indptr : int32 (n + 1,)
    indices : int32 (m,)
        Head node of every edge.
    weights : int32 (m,)
        Non-negative edge costs in ticks.
    ticks_per_s : int
        Ticks per second (1 .. 1000; default 1: weights are whole seconds).

    Example
    -------
    >>> g = CSRGraph.from_arrays([0, 2, 3, 3], [1, 2, 2], [60, 150, 30])  # 0->1, 0->2, 1->2
    >>> g.n, g.m, g.indices[g.indptr[0] : g.indptr[1]].tolist()  # the heads of node 0's edges
    (3, 3, [1, 2])
    >>> from fietsstad.engine import travel_times
    >>> travel_times(g, [0]).tolist()  # 0 -> 2 via 1: 90 s, not 150 s
    [[0, 60, 90]]
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    ticks_per_s: int = 1
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_arrays(
        cls,
        indptr: npt.ArrayLike,
        indices: npt.ArrayLike,
        weights: npt.ArrayLike,
        *,
        ticks_per_s: int = 1,
    ) -> CSRGraph:
        """Validate and cast CSR arrays to int32; ``weights`` are ticks of ``1/ticks_per_s`` s.

        Raises :class:`~fietsstad.errors.GraphError` for bad shapes, non-monotone ``indptr``, ids
        out of range, or weights that are negative, NaN, infinite, fractional or above 2**31 - 1.

        Example
        -------
        >>> CSRGraph.from_arrays([0, 1, 1], [1], [3]).n
        2
        >>> CSRGraph.from_arrays([0, 1, 1], [1], [35], ticks_per_s=10).ticks_per_s
        10
        >>> CSRGraph.from_arrays([0, 1, 1], [1], [-3])
        Traceback (most recent call last):
        ...
        fietsstad.errors.GraphError: weights must be >= 0 (1 negative)
        """
        tps = check_ticks_per_s(ticks_per_s)
        ip = _as_int_array(indptr, "indptr")
        ix = _as_int_array(indices, "indices")
        wt = np.asarray(weights)
        if wt.ndim == 1 and wt.dtype.kind == "f" and np.any(np.isnan(wt)):
            raise GraphError(f"weights contain NaN ({int(np.isnan(wt).sum())} edges)")
        if wt.ndim == 1 and wt.dtype.kind == "f" and np.any(np.isinf(wt)):
            raise GraphError(
                "weights contain inf; drop the edge instead of giving it infinite cost"
            )
        wt = _as_int_array(wt, "weights", allow_float_integral=True)
        if len(ip) < 1:
            raise GraphError("indptr must have length n + 1 >= 1")
        n = len(ip) - 1
        m = len(ix)
        if n > MAX_I32 or m > MAX_I32:
            raise GraphError("graphs are limited to 2**31 - 2 nodes and edges (int32 ids)")
        if int(ip[0]) != 0 or int(ip[-1]) != m:
            raise GraphError(f"indptr must start at 0 and end at len(indices) = {m}")
        if np.any(np.diff(ip) < 0):
            raise GraphError("indptr must be non-decreasing")
        if len(wt) != m:
            raise GraphError(f"weights has length {len(wt)}, indices has {m}")
        if m and (int(ix.min()) < 0 or int(ix.max()) >= n):
            raise GraphError(
                f"indices must lie in [0, {n}); found {int(ix.min())}..{int(ix.max())}"
            )
        if m and int(wt.min()) < 0:
            raise GraphError(f"weights must be >= 0 ({int((wt < 0).sum())} negative)")
        if m and int(wt.max()) > MAX_I32:
            raise GraphError("weights must be <= 2**31 - 2 (int32 ticks)")
        return cls(
            np.ascontiguousarray(ip, dtype=np.int32),
            np.ascontiguousarray(ix, dtype=np.int32),
            np.ascontiguousarray(wt, dtype=np.int32),
            tps,
        )

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @property
    def m(self) -> int:
        """Number of directed edges."""
        return len(self.indices)

    def edge_sources(self) -> np.ndarray:
        """Tail node of every edge (int32, length m)."""
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.indptr))

    def reverse(self) -> CSRGraph:
        """The graph with every edge reversed (cached on the instance).

        Example
        -------
        >>> CSRGraph.from_arrays([0, 1, 1], [1], [3]).reverse().indptr.tolist()
        [0, 0, 1]
        """
        rev = self._cache.get("reverse")
        if rev is None:
            src = self.edge_sources()
            order = np.argsort(self.indices, kind="stable")
            counts = np.bincount(self.indices, minlength=self.n)
            indptr = np.zeros(self.n + 1, dtype=np.int64)
            np.cumsum(counts, out=indptr[1:])
            rev = CSRGraph(
                indptr.astype(np.int32),
                src[order].astype(np.int32),
                self.weights[order].astype(np.int32),
                self.ticks_per_s,
            )
            self._cache["reverse"] = rev
        return rev

    def content_hash(self, extra: np.ndarray | None = None) -> str:
        """Hex digest of the graph arrays (and ``extra``, e.g. secondary weights)."""
        key = "hash" if extra is None else None
        if key and key in self._cache:
            return self._cache[key]
        h = hashlib.blake2b(digest_size=16)
        for a in (self.indptr, self.indices, self.weights):
            h.update(np.ascontiguousarray(a).view(np.uint8).data)
        if extra is not None:
            h.update(b"secondary")
            h.update(np.ascontiguousarray(extra).view(np.uint8).data)
        d = h.hexdigest()
        if key:
            self._cache[key] = d
        return d

    def total_weight(self) -> int:
        """Sum of all edge weights in ticks (an upper bound of every shortest-path length)."""
        tw = self._cache.get("total_weight")
        if tw is None:
            tw = int(self.weights.sum(dtype=np.int64))
            self._cache["total_weight"] = tw
        return tw


def as_graph(graph) -> CSRGraph:
    """Accept a :class:`CSRGraph` or an ``(indptr, indices, weights)`` tuple."""
    if isinstance(graph, CSRGraph):
        return graph
    if isinstance(graph, tuple) and len(graph) == 3:
        return CSRGraph.from_arrays(*graph)
    raise GraphError("graph must be a CSRGraph or an (indptr, indices, weights) tuple")


def check_nodes(nodes, n: int, name: str) -> np.ndarray:
    """Validate node positions (None = all) and return them as contiguous int32."""
    if nodes is None:
        return np.arange(n, dtype=np.int32)
    arr = np.atleast_1d(np.asarray(nodes))
    if arr.ndim != 1:
        raise GraphError(f"{name} must be a 1-D array of node positions, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int32)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.rint(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise GraphError(f"{name} must be integer node positions, got dtype {arr.dtype}")
    if int(arr.min()) < 0 or int(arr.max()) >= n:
        raise GraphError(f"{name} must lie in [0, {n}); found {int(arr.min())}..{int(arr.max())}")
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_secondary(secondary, graph: CSRGraph) -> np.ndarray:
    """Validate per-edge secondary weights (e.g. metres) as non-negative int32."""
    wt = np.asarray(secondary)
    if wt.ndim == 1 and wt.dtype.kind == "f":
        if not np.all(np.isfinite(wt)):
            raise GraphError("secondary weights contain NaN or inf")
        wt = np.rint(wt)
    wt = _as_int_array(wt, "secondary", allow_float_integral=True)
    if len(wt) != graph.m:
        raise GraphError(f"secondary has length {len(wt)}, the graph has {graph.m} edges")
    if len(wt) and (int(wt.min()) < 0 or int(wt.max()) > MAX_I32):
        raise GraphError("secondary weights must lie in [0, 2**31 - 2]")
    return np.ascontiguousarray(wt, dtype=np.int32)
