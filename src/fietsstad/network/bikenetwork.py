"""The bike network: one type for OSM-built and generated networks.

A :class:`BikeNetwork` is a directed graph in compressed sparse row (CSR) form, the compact
representation the engine works on, plus what users need around it: node coordinates (lon/lat,
EPSG:4326), a mapping back to OSM ids, per-edge length / speed / delay / travel time /
infrastructure category, street names and geometry, and metadata that says where it came from
(``meta["source"]`` is ``"osm"`` or ``"generated"``; a generated network always says so).

Conversions: :meth:`BikeNetwork.to_networkx` (an osmnx-compatible ``MultiDiGraph``),
:meth:`BikeNetwork.nodes_gdf` / :meth:`BikeNetwork.edges_gdf` (GeoDataFrames with a CRS),
:meth:`BikeNetwork.snap` (nearest node of lon/lat points), :meth:`BikeNetwork.save` /
:meth:`BikeNetwork.load` (checksummed, pickle-free, atomic), :meth:`BikeNetwork.to_file`
(GeoPackage, GraphML or GeoParquet, atomic; :meth:`BikeNetwork.read_graphml` reads a GraphML
written by it back exactly). In Jupyter a network shows as a small table
(:meth:`BikeNetwork._repr_html_`).

Example
-------
>>> import fietsstad
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)
>>> net.n_nodes > 0 and net.meta["generated"]
True
>>> G = net.to_networkx()
>>> G.graph["crs"]
'EPSG:4326'
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from fietsstad._geo import EARTH_RADIUS_M
from fietsstad._io import _why, check_interrupt, load_arrays, save_arrays
from fietsstad._validate import _describe
from fietsstad.errors import (
    CacheError,
    FietsstadError,
    GraphError,
    InputFileError,
    MemoryBudgetError,
    OutputError,
    SnappingError,
    ValidationError,
)
from fietsstad.network.profiles import INFRA_NAMES, Profile, get_profile

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    import numpy.typing as npt

    from fietsstad.engine import CCH, ContractionHierarchy, CSRGraph
    from fietsstad.network._nodeids import NodePositions

#: File formats of :meth:`BikeNetwork.to_file`, by file name ending.
FILE_FORMATS: dict[str, str] = {
    ".gpkg": "GeoPackage (layers 'nodes' and 'edges')",
    ".graphml": "GraphML (osmnx; read back with BikeNetwork.read_graphml)",
    ".parquet": "GeoParquet (edges; needs pyarrow: pip install 'fietsstad[io]')",
}

#: Graph attribute that marks a GraphML file written by :meth:`BikeNetwork.to_file`.
GRAPHML_MARK = "fietsstad_network"

#: Layout version of :meth:`BikeNetwork.save` files: 2 = float64 ``travel_time`` seconds at
#: 0.1 s resolution (1, implicit: int32 whole seconds; refused on load, rebuild).
NETWORK_FORMAT: int = 2

_EDGE_FIELDS = ("indices", "length", "speed_kmh", "delay", "travel_time", "infra", "unpaved",
                "contraflow", "way_id", "name")


#: Engine ticks per second of edge travel times: the engine adds int32 deciseconds, so
#: per-edge rounding no longer accumulates along a route (issue #12); matrices are rounded to
#: whole seconds only at the output.
TICKS_PER_S: int = 10


def travel_time_ticks(length_m: np.ndarray, speed_kmh: np.ndarray, delay_s: np.ndarray) -> np.ndarray:
    """Engine weight per edge: ``round(10 * (length / speed + delay))`` deciseconds, at least 1, int32.

    Example
    -------
    >>> travel_time_ticks(np.array([100.0, 13.0]), np.array([18.0, 45.0]), np.array([20, 0])).tolist()
    [400, 10]
    """
    t = np.asarray(length_m, np.float64) * (3.6 * TICKS_PER_S) / np.asarray(speed_kmh, np.float64)
    t = np.rint(t + np.asarray(delay_s, np.float64) * TICKS_PER_S)
    return np.clip(t, 1, 2**31 - 2).astype(np.int32)  # saturate: never wrap to negative


def travel_time_seconds(length_m: np.ndarray, speed_kmh: np.ndarray, delay_s: np.ndarray) -> np.ndarray:
    """Travel time per edge in seconds (float64): ``length / speed + delay`` to 0.1 s, at least 0.1 s.

    The :func:`travel_time_ticks` divided by :data:`TICKS_PER_S`, so the seconds a user reads and
    the engine's integer weights are the same numbers.

    Example
    -------
    >>> travel_time_seconds(np.array([100.0, 13.0]), np.array([18.0, 45.0]), np.array([20, 0])).tolist()
    [40.0, 1.0]
    >>> travel_time_seconds(np.array([5.2]), np.array([18.0]), np.array([0])).tolist()
    [1.0]
    """
    return travel_time_ticks(length_m, speed_kmh, delay_s) / TICKS_PER_S


@dataclass
class BikeNetwork:
    """A directed, costed bicycle network in CSR form.

    Node arrays have length ``n``; edge arrays have length ``m`` and are ordered by source node
    (edges of node ``i`` are ``indptr[i]:indptr[i+1]``).

    Attributes
    ----------
    x, y : float64 (n,)
        Longitude and latitude (EPSG:4326).
    node_id : int64 (n,)
        OSM node id (or generated id) of each node.
    indptr : int32 (n+1,) ; indices : int32 (m,)
        CSR structure; ``indices`` holds the head node of each edge.
    length : float32 (m,)   metres
    speed_kmh : float32 (m,)  cruising speed of the profile on this edge
    delay : int32 (m,)  seconds of junction delay at the head node (signals, crossings)
    travel_time : float64 (m,)  seconds, ``length/speed + delay`` to 0.1 s (see :func:`travel_time_seconds`);
        the engine uses :meth:`travel_time_ticks` (int32 deciseconds)
    infra : int8 (m,)  :class:`~fietsstad.profiles.Infra` code
    unpaved : bool (m,) ; contraflow : bool (m,)  (ridden against a one-way street)
    way_id : int64 (m,)  OSM way id (-1 for generated or scenario edges)
    name : str array (m,)  street name ('' if none)
    geom_offsets : int64 (m+1,) or None ; geom_xy : float64 (k, 2) or None
        Edge geometries as coordinate runs (edge e is ``geom_xy[geom_offsets[e]:geom_offsets[e+1]]``);
        ``None`` means straight lines between the end nodes.
    node_signal : bool (n,)  node has traffic signals
    profile : str
    meta : dict  ``source``, ``generated``, ``description``, ``dropped_nodes``, ``dropped_km``, ...

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=100, seed=0)  # GENERATED, not OSM
    >>> net.is_generated, len(net.x) == net.n_nodes, len(net.indptr) == net.n_nodes + 1
    (True, True, True)
    >>> int(net.indptr[-1]) == len(net.indices) == len(net.travel_time) == net.n_edges
    True
    """

    x: np.ndarray
    y: np.ndarray
    node_id: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    length: np.ndarray
    speed_kmh: np.ndarray
    delay: np.ndarray
    travel_time: np.ndarray
    infra: np.ndarray
    unpaved: np.ndarray
    contraflow: np.ndarray
    way_id: np.ndarray
    name: np.ndarray
    node_signal: np.ndarray
    geom_offsets: np.ndarray | None = None
    geom_xy: np.ndarray | None = None
    profile: str = "bike"
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        *,
        x: np.ndarray,
        y: np.ndarray,
        node_id: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        length: np.ndarray,
        infra: np.ndarray,
        delay: np.ndarray | None = None,
        unpaved: np.ndarray | None = None,
        contraflow: np.ndarray | None = None,
        way_id: np.ndarray | None = None,
        name: np.ndarray | None = None,
        node_signal: np.ndarray | None = None,
        geometries: list[np.ndarray] | None = None,
        profile: str | Profile = "bike",
        meta: dict[str, Any] | None = None,
    ) -> BikeNetwork:
        """Build a network from edge lists (node positions ``u -> v``), sorting into CSR.

        Speeds and travel times come from the ``profile``. ``geometries`` (one ``(k, 2)`` lon/lat
        array per edge) is optional.

        Example
        -------
        >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.array([52.5, 52.5]),
        ...     node_id=np.array([1, 2]), u=np.array([0, 1]), v=np.array([1, 0]),
        ...     length=np.array([680.0, 680.0]), infra=np.array([0, 0]))
        >>> net.travel_time.tolist()
        [136.0, 136.0]
        """
        from fietsstad._validate import check_edge_table

        chk = check_edge_table(x=x, y=y, node_id=node_id, u=u, v=v, length=length, infra=infra,
                               delay=delay, name=name, node_signal=node_signal, geometries=geometries,
                               per_edge={"unpaved": unpaved, "contraflow": contraflow, "way_id": way_id})
        x, y, node_id, length, infra = chk["x"], chk["y"], chk["node_id"], chk["length"], chk["infra"]
        delay = chk["delay"]
        name = None if name is None else np.asarray(name)
        n = len(x)
        u = np.asarray(chk["u"], dtype=np.int64)
        v = np.asarray(chk["v"], dtype=np.int64)
        m = len(u)
        if len(v) != m or len(length) != m or len(infra) != m:
            raise GraphError("u, v, length and infra must have equal lengths")
        if m and (u.min() < 0 or v.min() < 0 or u.max() >= n or v.max() >= n):
            raise GraphError("edge endpoints must index into the node arrays")
        length = np.asarray(length, dtype=np.float64)
        if not np.all(np.isfinite(length)) or np.any(length < 0):
            raise GraphError("edge lengths must be finite and >= 0")
        if n >= 2**31 - 1 or m >= 2**31 - 1:
            raise GraphError("networks are limited to 2**31-1 nodes and edges (int32 ids)")
        order = np.lexsort((v, u))
        counts = np.bincount(u, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])

        def pick(a, default, dtype):
            if a is None:
                return np.full(m, default, dtype=dtype)
            return np.asarray(a)[order].astype(dtype)

        prof = get_profile(profile)
        infra_s = pick(infra, 3, np.int8)
        unpaved_s = pick(unpaved, False, bool)
        speed = prof.speed_array(infra_s, unpaved_s)
        delay_s = pick(delay, 0, np.int32)
        if np.any(delay_s < 0):
            raise GraphError("delays must be >= 0")
        length_s = length[order]
        goff = gxy = None
        if geometries is not None:
            geoms = [np.asarray(geometries[i], dtype=np.float64).reshape(-1, 2) for i in order]
            sizes = np.array([len(g) for g in geoms], dtype=np.int64)
            goff = np.zeros(m + 1, dtype=np.int64)
            np.cumsum(sizes, out=goff[1:])
            gxy = np.concatenate(geoms) if geoms else np.zeros((0, 2))
        names = _names_array(name, order, m)
        return cls(
            x=np.asarray(x, dtype=np.float64),
            y=np.asarray(y, dtype=np.float64),
            node_id=np.asarray(node_id, dtype=np.int64),
            indptr=indptr.astype(np.int32),
            indices=v[order].astype(np.int32),
            length=length_s.astype(np.float32),
            speed_kmh=speed,
            delay=delay_s,
            travel_time=travel_time_seconds(length_s, speed, delay_s),
            infra=infra_s,
            unpaved=unpaved_s,
            contraflow=pick(contraflow, False, bool),
            way_id=pick(way_id, -1, np.int64),
            name=names,
            node_signal=(np.zeros(n, dtype=bool) if node_signal is None
                         else np.asarray(node_signal, dtype=bool)),
            geom_offsets=goff,
            geom_xy=gxy,
            profile=prof.name,
            meta=dict(meta or {}),
        )

    # ------------------------------------------------------------------ basic properties
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(len(self.x))

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(len(self.indices))

    @property
    def is_generated(self) -> bool:
        """True if the network was generated, not built from OpenStreetMap."""
        return bool(self.meta.get("generated", False))

    def edge_sources(self) -> np.ndarray:
        """Tail node of every edge (int32, length m)."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def csr(self, weight: str = "travel_time") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, indices, weights)`` arrays; ``weight`` is ``travel_time``, ``travel_time_ticks`` or ``length``.

        ``travel_time``: int32 whole seconds per edge (rounded half up from the deciseconds, at
        least 1), for tools that take plain arrays (a tuple carries no unit). Summing them
        re-introduces per-edge rounding: for sub-second accuracy use :meth:`engine_graph` (it
        carries its unit) or ``travel_time_ticks`` (int32 deciseconds, :meth:`travel_time_ticks`)
        with ``CSRGraph.from_arrays(..., ticks_per_s=10)``. ``length``: whole metres.

        Example
        -------
        >>> import fietsstad
        >>> indptr, indices, w = fietsstad.generate_network(n_nodes=100, seed=0).csr()
        >>> indptr.dtype, indices.dtype, w.dtype
        (dtype('int32'), dtype('int32'), dtype('int32'))
        """
        if weight == "travel_time":
            w = np.maximum((self.travel_time_ticks() + TICKS_PER_S // 2) // TICKS_PER_S, 1).astype(np.int32)
        elif weight == "travel_time_ticks":
            w = self.travel_time_ticks()
        elif weight == "length":
            w = np.rint(self.length).astype(np.int32)
        else:
            raise ValidationError(
                f"weight must be 'travel_time', 'travel_time_ticks' or 'length', not {weight!r}")
        return self.indptr, self.indices, w

    def travel_time_ticks(self) -> np.ndarray:
        """Edge travel times as the engine's int32 weights: deciseconds (``TICKS_PER_S = 10``).

        ``round(travel_time * 10)``; raises :class:`ValidationError` if ``travel_time`` holds a
        negative, NaN or infinite value (e.g. after an edit by hand).

        Example
        -------
        >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.array([52.5, 52.5]),
        ...     node_id=np.array([1, 2]), u=np.array([0]), v=np.array([1]),
        ...     length=np.array([13.0]), infra=np.array([0]))
        >>> net.travel_time.tolist(), net.travel_time_ticks().tolist()
        ([2.6], [26])
        """
        t = np.asarray(self.travel_time, dtype=np.float64)
        if t.size and (not np.all(np.isfinite(t)) or float(t.min()) < 0):
            raise ValidationError("travel_time must hold finite seconds >= 0 on every edge")
        return np.minimum(np.rint(t * TICKS_PER_S), 2**31 - 2).astype(np.int32)

    def engine_graph(self, *, reverse: bool = False) -> CSRGraph:
        """The network as the engine's :class:`~fietsstad.engine.CSRGraph` (int32 deciseconds).

        Its weights are :meth:`travel_time_ticks` with ``ticks_per_s = 10``: the engine sums
        deciseconds and reports seconds (rounded only at the output).

        The one adapter from a network to the engine: every layer above asks for it here. The
        graph is kept on the network object and rebuilt only when the edge arrays change
        (checked by content). ``reverse=True`` gives the transposed graph (every edge turned
        around), for searches *towards* a node (e.g. hub catchments).

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> g = net.engine_graph()
        >>> g.n == net.n_nodes, g is net.engine_graph(), net.engine_graph(reverse=True).n == g.n
        (True, True, True)
        >>> g.ticks_per_s
        10
        """
        from fietsstad.engine import CSRGraph  # numba loads on first use, not on import

        indptr, indices, w = self.csr("travel_time_ticks")
        key = (bool(reverse), _digest(indptr, indices, w))
        cache = self.__dict__.setdefault("_engine_graphs", {})
        g = cache.get(key[0])
        if g is None or g[0] != key[1]:
            if reverse:
                src = np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(indptr))
                order = np.lexsort((src, indices))  # by target, then source
                counts = np.bincount(indices, minlength=self.n_nodes)
                rptr = np.zeros(self.n_nodes + 1, dtype=np.int32)
                np.cumsum(counts, out=rptr[1:])
                graph = CSRGraph.from_arrays(rptr, src[order], w[order], ticks_per_s=TICKS_PER_S)
            else:
                graph = CSRGraph.from_arrays(indptr, indices, w, ticks_per_s=TICKS_PER_S)
            g = (key[1], graph)
            cache[key[0]] = g
        return g[1]

    def with_profile(self, profile: str | Profile) -> BikeNetwork:
        """The same network costed for another cyclist profile.

        If a hierarchy of this network is at hand (it was routed on), the new profile's
        hierarchy is customized here from the customizable contraction hierarchy of the street
        topology (see :meth:`hierarchy`): a profile switch costs a customization, not a rebuild.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> int(net.with_profile("ebike").travel_time.sum()) < int(net.travel_time.sum())
        True
        """
        prof = get_profile(profile)
        speed = prof.speed_array(self.infra, self.unpaved)
        sig = self.node_signal[self.indices]
        # an edge pays a junction's delay once, when it enters the junction (docs/cycling_rules.md):
        # the edges that pay are those with a delay now; a network costed with zero delays cannot
        # tell, so there every edge into a signal node pays (the rule before junctions)
        pays = self.delay > 0
        try:
            own = get_profile(self.profile)
            if own.signal_delay_s <= 0 or own.crossing_delay_s <= 0:
                pays = pays | sig
        except ValidationError:  # a custom profile that is not registered: keep the edges' delays
            pass
        delay = np.where(pays, np.where(sig, prof.signal_delay_s, prof.crossing_delay_s), 0)
        delay = np.rint(delay).astype(np.int32)
        out = replace(self, speed_kmh=speed, delay=delay,
                      travel_time=travel_time_seconds(self.length, speed, delay), profile=prof.name,
                      meta=dict(self.meta))
        if self._routed():  # re-customize the street topology's CCH: no hierarchy rebuild
            try:
                self._topology()
                out.hierarchy()
            except (GraphError, MemoryBudgetError, CacheError):  # e.g. weights too large for
                pass  # a hierarchy: routing decides later (Dijkstra), as without a switch
        return out

    def _routed(self) -> bool:
        """True if a hierarchy of this network is at hand (so its profile switches re-customize)."""
        got = self.__dict__.get("_engine_graphs", {}).get(False)
        if got is None:  # never routed on (e.g. a profile chosen while loading): stay lazy
            return False
        from fietsstad.engine import _cch, _ch

        g = got[1]
        return _ch.find_ch(g) is not None or _cch.find_cch(g, self.x, self.y) is not None

    def hierarchy(self) -> ContractionHierarchy:
        """The contraction hierarchy of this network's travel times, for routing and accessibility.

        Every profile and weight-only scenario of one street network shares a customizable
        contraction hierarchy (CCH) of its topology: a node order and its fill-in, computed
        once per topology, kept in memory and in the cache folder (``settings.cache_dir /
        "cch"``). The hierarchy of this network's weights is customized from it (a fraction of
        a second at 20,000 nodes) instead of being built. The first time a topology is seen,
        the contraction hierarchy of these weights is built (the cheapest to sweep) and the
        CCH order is derived from it (:func:`fietsstad.engine._cch.hybrid_order`). The result
        is memoised for :func:`fietsstad.engine.travel_times` and
        :func:`fietsstad.engine.accessibility` on :meth:`engine_graph`; after that,
        :meth:`with_profile` customizes the new profile's hierarchy by itself.

        Example
        -------
        >>> import fietsstad
        >>> from fietsstad.engine import travel_times
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> ch = net.hierarchy()
        >>> ebike = net.with_profile("ebike")  # customized from the same topology
        >>> t = travel_times(ebike.engine_graph(), [0], method="phast")  # uses it: no CH build
        >>> bool(t[0].max() <= travel_times(net.engine_graph(), [0], method="phast")[0].max())
        True
        """
        from fietsstad.engine import _cch, _ch

        self._topology()
        g = self.engine_graph()
        return _ch.find_ch(g) or _cch.customized_ch(g, self.x, self.y)

    def _topology(self) -> CCH:
        """The CCH of this street topology: in memory, from the cache folder, or built (and
        stored), its order derived from a contraction hierarchy of these weights."""
        from fietsstad import settings
        from fietsstad._cache import cache_path, cached_arrays
        from fietsstad.engine import _cch, _ch

        g = self.engine_graph()
        cch = _cch.find_cch(g, self.x, self.y)
        if cch is not None:
            return cch
        key = _cch.topology_key(g, self.x, self.y)

        def build() -> tuple[dict[str, np.ndarray], dict]:
            ch = _ch.find_ch(g) or _ch.build_ch(g)  # a topology's first hierarchy: the CH builder
            return {"order": _cch.hybrid_order(g, ch, self.x, self.y)}, {"n": g.n}

        path = None
        if settings.use_cache:
            with contextlib.suppress(CacheError):  # no cache folder: build in memory only
                path = cache_path("cch", key)
        order = (build() if path is None else cached_arrays(path, build, key=key))[0]["order"]
        return _cch.cch_for(g, self.x, self.y, order=order)

    def recompute_travel_time(self) -> BikeNetwork:
        """Return a copy whose ``travel_time`` is recomputed from length, speed and delay."""
        return replace(self, travel_time=travel_time_seconds(self.length, self.speed_kmh, self.delay),
                       meta=dict(self.meta))

    # ------------------------------------------------------------------ components
    def largest_scc(self) -> BikeNetwork:
        """Keep the largest strongly connected component; record what was dropped in ``meta``.

        ``meta["dropped_nodes"]`` and ``meta["dropped_km"]`` (length of directed edges removed, km)
        accumulate.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        n = self.n_nodes
        if n == 0:
            return self
        A = csr_matrix((np.ones(self.n_edges, dtype=np.int8), self.indices, self.indptr), shape=(n, n))
        A.sum_duplicates()  # scipy's strong components can hang on duplicate entries
        ncomp, labels = connected_components(A, directed=True, connection="strong")
        if ncomp == 1:
            self.meta.setdefault("dropped_nodes", 0)
            self.meta.setdefault("dropped_km", 0.0)
            return self
        big = np.bincount(labels).argmax()
        return self.subgraph(labels == big)

    def subgraph(self, keep: np.ndarray) -> BikeNetwork:
        """Network induced by a boolean node mask; dropped nodes/km are added to ``meta``."""
        keep = np.asarray(keep, dtype=bool)
        n = self.n_nodes
        if keep.shape != (n,):
            raise ValidationError(f"keep must be a boolean mask with one entry per node ({n}), got shape {keep.shape}")
        newid = np.full(n, -1, dtype=np.int64)
        newid[keep] = np.arange(int(keep.sum()))
        src = self.edge_sources()
        ekeep = keep[src] & keep[self.indices]
        geoms = None
        if self.geom_offsets is not None and self.geom_xy is not None:
            geoms = [self.geom_xy[self.geom_offsets[e]:self.geom_offsets[e + 1]] for e in np.flatnonzero(ekeep)]
        meta = dict(self.meta)
        meta["dropped_nodes"] = int(meta.get("dropped_nodes", 0)) + int(n - keep.sum())
        meta["dropped_km"] = float(meta.get("dropped_km", 0.0)) + float(self.length[~ekeep].sum()) / 1000.0
        out = BikeNetwork.from_edges(
            x=self.x[keep], y=self.y[keep], node_id=self.node_id[keep],
            u=newid[src[ekeep]], v=newid[self.indices[ekeep]], length=self.length[ekeep],
            infra=self.infra[ekeep], delay=self.delay[ekeep], unpaved=self.unpaved[ekeep],
            contraflow=self.contraflow[ekeep], way_id=self.way_id[ekeep], name=self.name[ekeep],
            node_signal=self.node_signal[keep], geometries=geoms, profile=self.profile, meta=meta,
        )
        # keep the speeds actually stored (scenarios may have changed them)
        order = np.lexsort((newid[self.indices[ekeep]], newid[src[ekeep]]))
        out.speed_kmh = self.speed_kmh[ekeep][order]
        out.travel_time = self.travel_time[ekeep][order]
        return out

    # ------------------------------------------------------------------ geometry helpers
    def edge_geometry(self, e: int) -> np.ndarray:
        """Lon/lat coordinates ``(k, 2)`` of edge ``e`` (straight line if none stored).

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> g = net.edge_geometry(0)
        >>> g.shape[1], bool((g[0] == [net.x[0], net.y[0]]).all())
        (2, True)
        """
        m = self.n_edges
        if not -m <= int(e) < m:
            raise ValidationError(f"edge {e} out of range: the network has {m} edges")
        e = int(e) % m
        if self.geom_offsets is not None and self.geom_xy is not None:
            g = self.geom_xy[self.geom_offsets[e]:self.geom_offsets[e + 1]]
            if len(g) >= 2:
                return g
        s = int(np.searchsorted(self.indptr, e, side="right") - 1)
        t = int(self.indices[e])
        return np.array([[self.x[s], self.y[s]], [self.x[t], self.y[t]]])

    def edge_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Every edge's lon/lat coordinates as one array and offsets, in edge order.

        Returns ``(coords, offsets)``: edge ``e`` is ``coords[offsets[e]:offsets[e + 1]]``, the
        stored geometry where it has two points or more (the course of merged OSM segments), the
        straight line between the end nodes otherwise (as :meth:`edge_geometry`). Vectorised:
        no Python loop over edges.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> coords, offsets = net.edge_coordinates()
        >>> len(offsets) == net.n_edges + 1, coords.shape[1]
        (True, 2)
        """
        m = self.n_edges
        src = self.edge_sources()
        straight = np.empty((2 * m, 2), dtype=np.float64)
        straight[0::2, 0], straight[0::2, 1] = self.x[src], self.y[src]
        straight[1::2, 0], straight[1::2, 1] = self.x[self.indices], self.y[self.indices]
        if self.geom_offsets is None or m == 0:
            return straight, np.arange(0, 2 * m + 1, 2, dtype=np.int64)
        goff = np.asarray(self.geom_offsets, dtype=np.int64)
        stored = np.diff(goff)
        own = stored >= 2
        sizes = np.where(own, stored, 2)
        offsets = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        # row of every output point in [geom_xy; straight]: a run from each edge's start
        n_xy = 0 if self.geom_xy is None else len(self.geom_xy)
        start = np.where(own, goff[:-1], n_xy + 2 * np.arange(m, dtype=np.int64))
        rows = np.repeat(start - offsets[:-1], sizes) + np.arange(offsets[-1], dtype=np.int64)
        both = np.concatenate([np.asarray(self.geom_xy, dtype=np.float64).reshape(-1, 2), straight])
        return both[rows], offsets

    def street_count(self) -> np.ndarray:
        """Streets at each node, counted as :func:`osmnx.stats.count_streets_per_node` does.

        On the undirected graph: a two-way street and a one-way street each count once at both
        ends, parallel edges count as often as the busier direction has them, and a node with
        self-loops counts 2 more. int64 array, one value per node.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> bool((net.street_count() >= 1).all())
        True
        """
        n = self.n_nodes
        src = self.edge_sources().astype(np.int64)
        dst = self.indices.astype(np.int64)
        loop = src == dst
        key, mult = np.unique(src[~loop] * n + dst[~loop], return_counts=True)
        a, b = key // n, key % n
        pair, inv = np.unique(np.minimum(a, b) * n + np.maximum(a, b), return_inverse=True)
        streets = np.zeros(len(pair), dtype=np.int64)
        np.maximum.at(streets, inv, mult)  # u->v and v->u share their keys in the undirected view
        count = np.bincount(pair // n, weights=streets, minlength=n)
        count += np.bincount(pair % n, weights=streets, minlength=n)
        has_loop = np.zeros(n, dtype=bool)
        has_loop[src[loop]] = True
        return count.astype(np.int64) + 2 * has_loop

    def _local_xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        lat0 = np.deg2rad(np.mean(self.y)) if self.n_nodes else 0.0
        return np.column_stack([
            np.deg2rad(lon) * EARTH_RADIUS_M * np.cos(lat0),
            np.deg2rad(lat) * EARTH_RADIUS_M,
        ])

    # fmt: off
    @overload
    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike, max_distance_m: float | None = ...,
             return_distance: Literal[False] = ...) -> NodePositions: ...
    @overload
    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike, max_distance_m: float | None = ..., *,
             return_distance: Literal[True]) -> tuple[NodePositions, np.ndarray]: ...
    @overload
    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike, max_distance_m: float | None,
             return_distance: Literal[True]) -> tuple[NodePositions, np.ndarray]: ...
    @overload
    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike, max_distance_m: float | None = ...,
             return_distance: bool = ...) -> NodePositions | tuple[NodePositions, np.ndarray]: ...
    # fmt: on
    def snap(
        self,
        lon: npt.ArrayLike,
        lat: npt.ArrayLike,
        max_distance_m: float | None = None,
        return_distance: bool = False,
    ) -> NodePositions | tuple[NodePositions, np.ndarray]:
        """Nearest network node (int32 position, marked :class:`NodePositions`) of each point.

        :meth:`nearest_nodes` gives OSM node ids instead.

        Raises :class:`~fietsstad.errors.SnappingError` if a point is further than
        ``max_distance_m`` (default :data:`fietsstad.settings.snap_max_distance_m`) from any node.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> int(net.snap([net.x[5]], [net.y[5]])[0])
        5
        """
        from scipy.spatial import cKDTree

        from fietsstad import settings
        from fietsstad._validate import check_array, check_in_range

        lon = np.atleast_1d(check_array(lon, "lon", ndim=None))
        lat = np.atleast_1d(check_array(lat, "lat", ndim=None))
        if max_distance_m is not None:
            max_distance_m = check_in_range(max_distance_m, "max_distance_m", 0, float("inf"), hi_open=True)
        if lon.shape != lat.shape:
            raise ValidationError("lon and lat must have the same shape")
        if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
            raise ValidationError("lon/lat must be finite numbers")
        if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
            raise SnappingError("coordinates outside lon [-180, 180] / lat [-90, 90]; are they projected "
                                "(metres)? Convert to EPSG:4326 first")
        if self.n_nodes == 0:
            raise SnappingError("cannot snap to an empty network")
        tree = getattr(self, "_kdtree", None)
        if tree is None:
            tree = cKDTree(self._local_xy(self.x, self.y))
            object.__setattr__(self, "_kdtree", tree)
        d, idx = tree.query(self._local_xy(lon, lat))
        limit = settings.snap_max_distance_m if max_distance_m is None else float(max_distance_m)
        far = d > limit
        if np.any(far):
            i = int(np.flatnonzero(far)[0])
            raise SnappingError(
                f"{int(far.sum())} point(s) lie more than {limit:.0f} m from the network (first: "
                f"lon={lon[i]:.6f}, lat={lat[i]:.6f}, {d[i]:.0f} m away). Check the study area, or raise "
                "max_distance_m"
            )
        from fietsstad.network._nodeids import NodePositions

        idx = NodePositions(idx)  # marked: fietsstad functions read it as positions, not ids
        return (idx, d) if return_distance else idx

    # ------------------------------------------------------------------ conversions
    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-compatible ``networkx.MultiDiGraph`` keyed by OSM/generated node id.

        Nodes carry ``x``, ``y``, ``street_count`` (as :meth:`street_count`, the attribute osmnx
        puts on every node) and ``highway='traffic_signals'`` where signalled; edges carry
        ``length`` (m), ``travel_time`` (float s), ``travel_time_ticks`` (the engine's int
        deciseconds), ``speed_kph``, ``infra``, ``contraflow``, ``osmid``
        and ``name``, and edges whose course is not a straight line (merged by simplification)
        their shapely ``geometry``, as osmnx stores it. Graph attributes: ``crs``
        (``"EPSG:4326"``), ``simplified``, ``source``, ``generated`` and ``profile``. So
        ``osmnx.stats.basic_stats``, ``osmnx.plot_graph`` and
        ``osmnx.io.save_graph_geopackage`` work on it.

        Example
        -------
        >>> import fietsstad
        >>> G = fietsstad.generate_network(n_nodes=100, seed=0).to_networkx()
        >>> G.graph["crs"], "street_count" in next(iter(G.nodes.values()))
        ('EPSG:4326', True)
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs="EPSG:4326", source=self.meta.get("source", "unknown"),
                            generated=self.is_generated, profile=self.profile,
                            simplified=bool(self.meta.get("simplified", False)))
        ids = self.node_id.tolist()
        xs, ys, streets, sig = self.x.tolist(), self.y.tolist(), self.street_count().tolist(), self.node_signal
        nodes = []
        for i, nid in enumerate(ids):
            attrs = {"x": xs[i], "y": ys[i], "street_count": streets[i]}
            if sig[i]:
                attrs["highway"] = "traffic_signals"
            nodes.append((nid, attrs))
        G.add_nodes_from(nodes)
        bent = np.flatnonzero(np.diff(self.edge_coordinates()[1]) > 2)
        geoms = dict(zip(bent.tolist(), self._linestrings(bent)))
        src = self.edge_sources().tolist()
        dst = self.indices.tolist()
        length, tt, speed = self.length.tolist(), self.travel_time.tolist(), self.speed_kmh.tolist()
        ticks = self.travel_time_ticks().tolist()
        infra = [INFRA_NAMES[c] for c in self.infra.tolist()]
        contra, way, name = self.contraflow.tolist(), self.way_id.tolist(), self.name.tolist()
        add = G.add_edge  # one call per edge: faster than add_edges_from's lookups
        for e in range(self.n_edges):
            attrs = {"length": length[e], "travel_time": tt[e], "travel_time_ticks": ticks[e],
                     "speed_kph": speed[e],
                     "infra": infra[e], "contraflow": contra[e], "osmid": way[e], "name": str(name[e])}
            if e in geoms:
                attrs["geometry"] = geoms[e]
            add(ids[src[e]], ids[dst[e]], **attrs)
        return G

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame (EPSG:4326) indexed by node id.

        Example
        -------
        >>> import fietsstad
        >>> gdf = fietsstad.generate_network(n_nodes=100, seed=0).nodes_gdf()
        >>> gdf.crs.to_string()
        'EPSG:4326'
        """
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"node": np.arange(self.n_nodes, dtype=np.int32), "x": self.x, "y": self.y,
             "signal": self.node_signal},
            geometry=gpd.points_from_xy(self.x, self.y),
            index=__import__("pandas").Index(self.node_id, name="osmid"),
            crs="EPSG:4326",
        )

    def _linestrings(self, edges: np.ndarray) -> np.ndarray:
        """Shapely LineStrings of the given edges (in that order), built in one vectorised call."""
        from shapely import linestrings

        edges = np.asarray(edges, dtype=np.int64)
        if len(edges) == 0:
            return np.empty(0, dtype=object)
        coords, offsets = self.edge_coordinates()
        sizes = np.diff(offsets)[edges]
        first = np.cumsum(sizes) - sizes  # where each edge's run starts in the output
        rows = np.repeat(offsets[edges] - first, sizes) + np.arange(int(sizes.sum()))
        return linestrings(coords[rows], indices=np.repeat(np.arange(len(edges)), sizes))

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (EPSG:4326), one row per directed edge, with ids ``u``, ``v``.

        The geometry is each edge's course (see :meth:`edge_coordinates`): merged OSM segments
        keep their bends, so the geodesic length of a geometry matches ``length``.

        Example
        -------
        >>> import fietsstad
        >>> e = fietsstad.generate_network(n_nodes=100, seed=0).edges_gdf()
        >>> e.crs.to_string(), e.geometry.geom_type.unique().tolist()
        ('EPSG:4326', ['LineString'])
        """
        import geopandas as gpd

        src = self.edge_sources()
        geoms = self._linestrings(np.arange(self.n_edges))
        codes, inv = np.unique(self.infra, return_inverse=True)
        names = np.array([INFRA_NAMES[int(c)] for c in codes], dtype=object)
        return gpd.GeoDataFrame(
            {
                "u": self.node_id[src], "v": self.node_id[self.indices],
                "length": self.length, "travel_time": self.travel_time, "speed_kmh": self.speed_kmh,
                "delay": self.delay,
                "infra": names[inv.reshape(-1)] if len(codes) else np.array([], dtype=object),
                "contraflow": self.contraflow, "unpaved": self.unpaved, "osmid": self.way_id,
                "name": self.name.astype(object),
            },
            geometry=geoms, crs="EPSG:4326",
        )

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict[str, Any]:
        """Counts and km by infrastructure type, contraflow share, dropped parts, provenance.

        Example
        -------
        >>> import fietsstad
        >>> s = fietsstad.generate_network(n_nodes=100, seed=0).summary()
        >>> s["source"]
        'generated'
        """
        km = {INFRA_NAMES[c]: round(float(self.length[self.infra == c].sum()) / 1000, 3)
              for c in sorted(INFRA_NAMES) if np.any(self.infra == c)}
        total = float(self.length.sum())
        return {
            "source": self.meta.get("source", "unknown"),
            "generated": self.is_generated,
            "description": self.meta.get("description", ""),
            "profile": self.profile,
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "km_directed": round(total / 1000, 3),
            "km_by_infra": km,
            "contraflow_share": round(float(self.length[self.contraflow].sum()) / total, 4) if total else 0.0,
            "signals": int(self.node_signal.sum()),
            "dropped_nodes": int(self.meta.get("dropped_nodes", 0)),
            "dropped_km": round(float(self.meta.get("dropped_km", 0.0)), 3),
        }

    def describe(self) -> str:
        """A human-readable multi-line summary (says GENERATED for generated networks)."""
        s = self.summary()
        head = ("GENERATED network (synthetic, not OpenStreetMap)" if s["generated"]
                else f"network from {s['source']}")
        lines = [head + (f": {s['description']}" if s["description"] else ""),
                 f"  profile {s['profile']}: {s['nodes']:,} nodes, {s['edges']:,} directed edges, "
                 f"{s['km_directed']:,.1f} km of directed edges",
                 f"  contraflow share {100 * s['contraflow_share']:.1f} %, {s['signals']} signalled nodes",
                 f"  dropped outside the largest strongly connected component: {s['dropped_nodes']} nodes, "
                 f"{s['dropped_km']:.2f} km"]
        lines += [f"  {k:<13} {v:10.2f} km" for k, v in s["km_by_infra"].items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        tag = "generated" if self.is_generated else self.meta.get("source", "?")
        return f"<BikeNetwork {tag} profile={self.profile} nodes={self.n_nodes} edges={self.n_edges}>"

    def _repr_html_(self) -> str:
        """The key facts as a small HTML table (Jupyter); every value is HTML-escaped.

        Example
        -------
        >>> import fietsstad
        >>> h = fietsstad.generate_network(n_nodes=100, seed=0)._repr_html_()
        >>> h.startswith("<div") and "GENERATED" in h
        True
        """
        s = self.summary()
        rows: list[tuple[str, Any]] = [("source", s["source"])]
        rows += [(k, self.meta[k]) for k in ("description", "place", "file") if self.meta.get(k)]
        rows += [
            ("profile", s["profile"]),
            ("nodes", f"{s['nodes']:,}"),
            ("directed edges", f"{s['edges']:,}"),
            ("km (directed edges)", f"{s['km_directed']:,.1f}"),
        ]
        rows += [(f"km {k}", f"{v:,.1f}") for k, v in s["km_by_infra"].items()]
        if s["dropped_nodes"]:
            dropped = f"{s['dropped_nodes']:,} nodes, {s['dropped_km']:,.2f} km"
            rows.append(("dropped (not in the largest SCC)", dropped))
        warning = "GENERATED NETWORK (SYNTHETIC, NOT OPENSTREETMAP)" if s["generated"] else None
        return html_table("BikeNetwork", rows, warning=warning)

    # ------------------------------------------------------------------ file formats
    def to_file(self, path: str | os.PathLike) -> Path:
        """Write the network as GeoPackage, GraphML or GeoParquet, chosen by the file ending.

        * ``.gpkg``: GeoPackage with layers ``nodes`` and ``edges`` (:meth:`nodes_gdf`,
          :meth:`edges_gdf`), for QGIS and ``geopandas.read_file(path, layer="edges")``;
        * ``.graphml``: osmnx GraphML of :meth:`to_networkx` (``osmnx.load_graphml`` reads it),
          plus what :meth:`read_graphml` needs to rebuild this network exactly;
        * ``.parquet``: GeoParquet of the edges (needs pyarrow: ``pip install 'fietsstad[io]'``).

        The file is written atomically (a temporary file in the same folder, renamed over
        ``path`` only when complete): an interrupted or failed write never leaves a
        half-written file, and an existing file stays as it was.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ValidationError
            An ending not in :data:`FILE_FORMATS` (the message lists them).
        OutputError
            The file cannot be written (disk full, read-only, a folder in the way).
        FietsstadError
            ``.parquet`` without pyarrow installed (the message names the ``io`` extra).

        Example
        -------
        >>> import fietsstad, tempfile, pathlib, geopandas as gpd
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> p = net.to_file(pathlib.Path(tempfile.mkdtemp()) / "net.gpkg")
        >>> len(gpd.read_file(p, layer="edges")) == net.n_edges
        True
        >>> q = net.to_file(p.with_suffix(".graphml"))
        >>> BikeNetwork.read_graphml(q).n_edges == net.n_edges
        True
        """
        path = Path(path)
        kind = path.suffix.lower()
        if kind not in FILE_FORMATS:
            known = "; ".join(f"{k} {v}" for k, v in FILE_FORMATS.items())
            raise ValidationError(
                f"cannot write {path.name!r}: unknown file ending {path.suffix or '(none)'!r}. "
                f"Supported: {known}"
            )
        if kind == ".parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError as err:
                raise FietsstadError(
                    "writing GeoParquet (.parquet) needs pyarrow, which is not installed: "
                    "pip install 'fietsstad[io]' (or write .gpkg / .graphml instead)"
                ) from err
        with _atomic_path(path) as tmp:
            if kind == ".gpkg":
                self.nodes_gdf().to_file(tmp, layer="nodes", driver="GPKG")
                self.edges_gdf().to_file(tmp, layer="edges", driver="GPKG", mode="a")
            elif kind == ".graphml":
                import osmnx as ox

                ox.save_graphml(self._graphml_graph(), tmp)
            else:
                self.edges_gdf().to_parquet(tmp)
        return path

    def _graphml_graph(self):
        """:meth:`to_networkx` plus the attributes :meth:`read_graphml` rebuilds from."""
        G = self.to_networkx()
        G.graph[GRAPHML_MARK] = "1"
        G.graph["fietsstad_meta"] = json.dumps(_jsonable(self.meta), sort_keys=True)
        G.graph["fietsstad_geometry"] = self.geom_offsets is not None
        for i, (_, d) in enumerate(G.nodes(data=True)):
            d["fietsstad_node"] = i
        delay, unpaved = self.delay.tolist(), self.unpaved.tolist()
        for e, (_, _, d) in enumerate(G.edges(data=True)):  # insertion (CSR) order
            d.update(fietsstad_edge=e, delay=delay[e], unpaved=unpaved[e])
        return G

    @classmethod
    def read_graphml(cls, path: str | os.PathLike) -> BikeNetwork:
        """Read a GraphML file written by :meth:`to_file` back into the same network.

        Node and edge order, lengths, speeds, delays, travel times, infrastructure, names,
        geometries, profile and ``meta`` are restored exactly. A GraphML file from osmnx
        itself (OSM tags, no fietsstad attributes) is read with
        ``fietsstad.load_network(file=...)`` instead, which applies the cycling rules.

        Raises
        ------
        InputFileError
            Missing or unreadable file, or a GraphML file not written by :meth:`to_file`.

        Example
        -------
        >>> import fietsstad, tempfile, pathlib
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> p = net.to_file(pathlib.Path(tempfile.mkdtemp()) / "net.graphml")
        >>> back = BikeNetwork.read_graphml(p)
        >>> bool(np.array_equal(back.travel_time, net.travel_time)), back.is_generated
        (True, True)
        """
        import networkx as nx

        try:
            G = nx.read_graphml(Path(path), node_type=str)
        except Exception as err:  # noqa: BLE001 - missing, truncated or not XML
            raise InputFileError(f"{path}: cannot read GraphML: {err}") from err
        if G.graph.get(GRAPHML_MARK) != "1":
            raise InputFileError(
                f"{path}: not a GraphML file written by BikeNetwork.to_file; read an osmnx "
                "GraphML with fietsstad.load_network(file=...)"
            )
        try:
            return _network_from_graphml(cls, G)
        except (KeyError, ValueError, TypeError) as err:
            raise InputFileError(f"{path}: damaged fietsstad GraphML ({err!r})") from err

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike, *, key: str | None = None) -> Path:
        """Save atomically to a checksummed, pickle-free file (see :mod:`fietsstad._io`).

        ``key`` records the cache key the file belongs to (``load(path, key=...)`` checks it).
        A failed write (disk full, read-only, a folder at ``path``) raises :class:`CacheError`
        and leaves no file behind.

        Example
        -------
        >>> import fietsstad, tempfile, pathlib
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> p = net.save(pathlib.Path(tempfile.mkdtemp()) / "net.fsn")
        >>> BikeNetwork.load(p).n_edges == net.n_edges
        True
        """
        arrays = {k: getattr(self, k) for k in ("x", "y", "node_id", "indptr", "node_signal", *_EDGE_FIELDS)}
        arrays["name"] = np.asarray(self.name, dtype=str)
        if self.geom_offsets is not None:
            arrays["geom_offsets"] = self.geom_offsets
            arrays["geom_xy"] = self.geom_xy
        arrays["travel_time"] = np.asarray(self.travel_time, dtype=np.float64)
        info = {"profile": self.profile, "meta": _jsonable(self.meta), "format": NETWORK_FORMAT}
        save_arrays(path, arrays, info, key=key)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, key: str | None = None) -> BikeNetwork:
        """Load a network saved with :meth:`save`; corrupt files raise :class:`CacheError`.

        Only a regular file is read, its sizes are checked before its payload is read, and with
        ``key`` a file saved for another key raises :class:`fietsstad.errors.ForeignCacheEntryError`
        (a :class:`CacheError`).
        """
        if not Path(path).exists():
            raise InputFileError(f"{path}: no such file (save a network there with net.save first)")
        arrays, meta = load_arrays(path, key=key)
        if meta.get("format", 1) != NETWORK_FORMAT:
            raise CacheError(
                f"{path}: a network saved by an older fietsstad (format {meta.get('format', 1)}, "
                f"whole-second edge times; this version reads format {NETWORK_FORMAT}, 0.1 s): "
                "rebuild it (load_network rebuilds cached networks by itself)"
            )
        try:
            net = cls(profile=meta["profile"], meta=meta.get("meta", {}),
                      geom_offsets=arrays.pop("geom_offsets", None), geom_xy=arrays.pop("geom_xy", None),
                      **arrays)
        except (KeyError, TypeError) as err:
            raise CacheError(f"{path}: missing fields in saved network: {err}") from err
        n, m = net.n_nodes, net.n_edges
        if len(net.indptr) != n + 1 or int(net.indptr[-1]) != m or any(
                len(getattr(net, k)) != m for k in _EDGE_FIELDS):
            raise CacheError(f"{path}: inconsistent array sizes")
        if (net.indptr.dtype != np.int32 or net.indices.dtype != np.int32
                or net.travel_time.dtype != np.float64 or int(net.indptr[0]) != 0
                or np.any(np.diff(net.indptr) < 0)
                or (m and (int(net.indices.min()) < 0 or int(net.indices.max()) >= n))
                or (m and not (float(net.travel_time.min()) > 0 and np.all(np.isfinite(net.travel_time))))
                or len(net.y) != n or len(net.node_id) != n or len(net.node_signal) != n):
            raise CacheError(f"{path}: invalid network structure (CSR, ids or travel times); rebuild it")
        return net

    # ------------------------------------------------------------------ node identity
    def node_ids(self, positions: Any) -> np.ndarray:
        """OSM node ids (int64) of node positions ``0..n_nodes-1`` (as ``nodes_gdf().index``).

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> int(net.node_ids([4])[0]) == int(net.nodes_gdf().index[4])
        True
        """
        from fietsstad.network._nodeids import check_positions

        return self.node_id[check_positions(positions, self.n_nodes, "positions")]

    def positions(self, ids: Any, *, name: str = "ids") -> Any:
        """Node positions (int32 :class:`~fietsstad.network._nodeids.NodePositions`) of OSM ids.

        An id that is not a node of this network raises
        :class:`~fietsstad.errors.ValidationError` naming it. The result is marked as positions,
        so fietsstad functions given it do not read it as ids.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> ids = net.nodes_gdf().index[[7, 2]]
        >>> net.positions(ids).tolist()
        [7, 2]
        """
        from fietsstad.network._nodeids import NodePositions, lookup_positions

        cache = self.__dict__.setdefault("_id_lookup", {})
        return NodePositions(lookup_positions(self.node_id, cache, ids, name))

    def nearest_nodes(
        self, lon: Any, lat: Any, max_distance_m: float | None = None, return_distance: bool = False
    ) -> Any:
        """OSM node id (int64) of the nearest node of each lon/lat point (like osmnx's).

        :meth:`snap` with ids instead of positions: ``return_distance=True`` also returns the
        distances in metres; beyond ``max_distance_m`` (default
        :data:`fietsstad.settings.snap_max_distance_m`) it raises
        :class:`~fietsstad.errors.SnappingError`.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
        >>> int(net.nearest_nodes([net.x[5]], [net.y[5]])[0]) == int(net.node_id[5])
        True
        """
        pos, dist = self.snap(lon, lat, max_distance_m=max_distance_m, return_distance=True)
        ids = self.node_id[np.asarray(pos)]
        return (ids, dist) if return_distance else ids


def _digest(*arrays: np.ndarray) -> str:
    """A content hash of arrays (to know when a cached derivative is stale)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(np.ascontiguousarray(a).view(np.uint8).data)
    return h.hexdigest()


def check_network(net: Any, name: str = "net", *, min_nodes: int = 1) -> Any:
    """A :class:`~fietsstad.network.BikeNetwork` with at least ``min_nodes`` nodes.

    Example
    -------
    >>> import numpy as np
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.array([52.5, 52.5]),
    ...     node_id=np.array([1, 2]), u=np.array([0, 1]), v=np.array([1, 0]),
    ...     length=np.array([680.0, 680.0]), infra=np.array([0, 0]))
    >>> check_network(net).n_nodes
    2
    """
    if not isinstance(net, BikeNetwork):
        raise ValidationError(
            f"{name} must be a fietsstad BikeNetwork (from fietsstad.load_network or "
            f"fietsstad.generate_network), got {_describe(net)}"
        )
    if net.n_nodes < min_nodes:
        raise GraphError(f"{name} has {net.n_nodes} nodes; at least {min_nodes} needed")
    return net


def _names_array(name, order: np.ndarray, m: int) -> np.ndarray:
    """Street names as a numpy unicode array (no object dtype), reordered to CSR order."""
    if name is None or m == 0:
        return np.full(m, "", dtype="<U1")
    arr = np.asarray(name)
    if arr.dtype.kind == "U":
        return arr[order]
    return np.array(["" if s is None or (isinstance(s, float) and s != s) else str(s)
                     for s in arr[order]], dtype=str)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


# ---------------------------------------------------------------------------------- helpers
def html_table(title: str, rows: list[tuple[str, Any]], *, warning: str | None = None) -> str:
    """A compact HTML table of ``(label, value)`` rows for ``_repr_html_``, all escaped.

    ``warning`` (e.g. that a network is GENERATED) is shown in bold red above the table.

    Example
    -------
    >>> html_table("T", [("name", "<script>")])
    '<div class="fietsstad-repr"><b>T</b><table><tr><th style="text-align:left">name</th><td style="text-align:left">&lt;script&gt;</td></tr></table></div>'
    """
    esc = html.escape
    warn = (
        f'<div style="color:#c00000;font-weight:bold">{esc(str(warning))}</div>' if warning else ""
    )
    body = "".join(
        f'<tr><th style="text-align:left">{esc(str(k))}</th>'
        f'<td style="text-align:left">{esc(str(v))}</td></tr>'
        for k, v in rows
    )
    return f'<div class="fietsstad-repr"><b>{esc(title)}</b>{warn}<table>{body}</table></div>'


@contextlib.contextmanager
def _atomic_path(path: Path):
    """A temporary path beside ``path`` for a library that writes by file name; it is renamed
    over ``path`` only when the block succeeds (as :func:`fietsstad._io.atomic_write`)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(21, "Is a directory", str(path))
        folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as err:
        raise OutputError(err.errno, f"cannot write {path}: {_why(err)}") from err
    tmp = folder / path.name
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        check_interrupt()  # a received signal never lets a file be published
        os.replace(tmp, path)
    except OSError as err:
        if isinstance(err, FietsstadError):
            raise
        raise OutputError(err.errno, f"cannot write {path}: {_why(err)}") from err
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _network_from_graphml(cls, G) -> BikeNetwork:
    """Rebuild a :class:`BikeNetwork` from the attributes :meth:`BikeNetwork.to_file` wrote."""
    from shapely import from_wkt, get_coordinates

    codes = {name: code for code, name in INFRA_NAMES.items()}
    nodes = sorted(G.nodes(data=True), key=lambda nd: int(nd[1]["fietsstad_node"]))
    pos = {key: i for i, (key, _) in enumerate(nodes)}
    n = len(nodes)
    x = np.array([float(d["x"]) for _, d in nodes], dtype=np.float64)
    y = np.array([float(d["y"]) for _, d in nodes], dtype=np.float64)
    node_id = np.array([int(k) for k, _ in nodes], dtype=np.int64)
    signal = np.array([d.get("highway") == "traffic_signals" for _, d in nodes], dtype=bool)
    edges = sorted(G.edges(data=True), key=lambda e: int(e[2]["fietsstad_edge"]))
    m = len(edges)
    u = np.array([pos[a] for a, _, _ in edges], dtype=np.int64)
    if m and np.any(np.diff(u) < 0):
        raise ValueError("edges are not in CSR order")

    def col(key, conv, dtype):
        return np.array([conv(d[key]) for _, _, d in edges], dtype=dtype).reshape(m)

    def flag(v) -> bool:
        return {"True": True, "False": False}[v]

    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    goff = gxy = None
    if G.graph.get("fietsstad_geometry") == "True":
        runs = []
        for a, b, d in edges:
            if "geometry" in d:
                runs.append(get_coordinates(from_wkt(d["geometry"])))
            else:
                runs.append(np.array([[x[pos[a]], y[pos[a]]], [x[pos[b]], y[pos[b]]]]))
        goff = np.zeros(m + 1, dtype=np.int64)
        np.cumsum([len(r) for r in runs], out=goff[1:])
        gxy = np.concatenate(runs) if runs else np.zeros((0, 2))
    return cls(
        x=x,
        y=y,
        node_id=node_id,
        indptr=indptr.astype(np.int32),
        indices=np.array([pos[b] for _, b, _ in edges], dtype=np.int32).reshape(m),
        length=col("length", float, np.float32),
        speed_kmh=col("speed_kph", float, np.float32),
        delay=col("delay", int, np.int32),
        travel_time=col("travel_time", float, np.float64),
        infra=col("infra", codes.__getitem__, np.int8),
        unpaved=col("unpaved", flag, bool),
        contraflow=col("contraflow", flag, bool),
        way_id=col("osmid", int, np.int64),
        name=np.array([d.get("name", "") for _, _, d in edges], dtype=str).reshape(m),
        node_signal=signal,
        geom_offsets=goff,
        geom_xy=gxy,
        profile=G.graph["profile"],
        meta=json.loads(G.graph["fietsstad_meta"]),
    )
