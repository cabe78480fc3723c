"""Travel-time matrices and routes on a :class:`~fietsstad.network.BikeNetwork`.

Thin wrappers over :mod:`fietsstad.engine`: they turn a network into engine arrays (cached on
the network object together with its contraction hierarchy, so repeated calls do not rebuild),
accept node positions or lon/lat points (snapped with :meth:`BikeNetwork.snap`), and return plain
numpy arrays or dicts.

Example
-------
>>> import fietsstad
>>> net = fietsstad.generate_network(n_nodes=300, seed=1)      # a GENERATED network
>>> T = fietsstad.travel_time_matrix(net, [0, 1, 2])
>>> T.shape == (3, net.n_nodes), T.dtype.name
(True, 'uint16')
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from fietsstad import engine, settings
from fietsstad._io import load_arrays, save_arrays
from fietsstad.engine import _ch
from fietsstad.errors import CacheError, ValidationError
from fietsstad.network import check_network


def _engine_inputs(net, with_distance: bool = False):
    """``(CSRGraph, metres or None, entry)`` for ``net``; ``entry`` keeps its hierarchy."""
    check_network(net)
    graph = net.engine_graph()
    metres = net.csr("length")[2] if with_distance else None
    cache = net.__dict__.setdefault("_ch_cache", {})
    entry = cache.get(with_distance)
    if entry is None or entry["graph"] is not graph:
        entry = {"graph": graph, "metres": metres, "ch": None}
        cache[with_distance] = entry
    elif with_distance and not np.array_equal(entry["metres"], metres):
        entry.update(metres=metres, ch=None)
    if entry["ch"] is not None:
        _ch.remember(entry["ch"])
    return entry["graph"], entry["metres"], entry


def _keep_ch(entry: dict) -> None:
    if entry["ch"] is None:
        entry["ch"] = _ch.find_ch(entry["graph"], entry["metres"])


def cached_ch(graph, *, secondary=None) -> _ch.ContractionHierarchy:
    """:func:`fietsstad.engine.build_ch`, stored in and read from ``settings.cache_dir / "ch"``.

    The file is checksummed and pickle-free (:mod:`fietsstad._io`); one that is damaged, foreign
    or for another graph is rebuilt, never trusted. The engine itself never touches files.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
    >>> g = net.engine_graph()
    >>> cached_ch(g).n == g.n
    True
    """
    key = _ch.ch_key(graph, secondary)
    path = Path(settings.cache_dir) / "ch" / f"{key}.fch"
    ch = _ch.find_ch(graph, secondary)
    if ch is None and path.is_file():
        try:
            ch = _ch.ch_from_arrays(*load_arrays(path), key)
        except CacheError:
            ch = None
        if ch is not None:
            _ch.remember(ch)
    if ch is None:
        ch = _ch.build_ch(graph, secondary=secondary)
        arrays, meta = _ch.ch_to_arrays(ch)
        try:
            save_arrays(path, arrays, meta)
        except (OSError, CacheError) as err:  # the hierarchy is built: keep it, say why not stored
            warnings.warn(f"contraction hierarchy not cached at {path}: {err}", stacklevel=2)
    return ch


def as_nodes(net, points, name: str = "nodes") -> np.ndarray | None:
    """Node positions from positions, a ``(k, 2)`` lon/lat float array, or a GeoDataFrame.

    ``None`` stays ``None`` (all nodes). Points are snapped with :meth:`BikeNetwork.snap`.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
    >>> as_nodes(net, [[net.x[3], net.y[3]]]).tolist(), as_nodes(net, [7, 8]).tolist()
    ([3], [7, 8])
    """
    if points is None:
        return None
    if hasattr(points, "geometry"):
        gdf = points
        if getattr(gdf, "crs", None) is not None and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs(4326)
        geom = gdf.geometry if hasattr(gdf.geometry, "representative_point") else gdf
        pts = geom.representative_point()
        return net.snap(pts.x.to_numpy(), pts.y.to_numpy())
    arr = np.asarray(points)
    if arr.dtype.kind == "f" and arr.ndim == 2 and arr.shape[1] == 2:
        return net.snap(arr[:, 0], arr[:, 1])
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValidationError(
            f"{name} must be node positions (int), a (k, 2) lon/lat float array or a "
            f"GeoDataFrame, got {arr.dtype} array of shape {arr.shape}"
        )
    return arr.astype(np.int64)


def travel_time_matrix(
    net,
    origins=None,
    destinations=None,
    *,
    cutoff_s: float | None = None,
    dtype: str = "uint16",
    method: str = "auto",
    with_distance: bool = False,
    saturate: bool = False,
):
    """Cycling travel times (s) from origins to destinations on ``net``.

    Parameters
    ----------
    net : BikeNetwork
    origins, destinations : node positions, (k, 2) lon/lat array, GeoDataFrame, or None (all)
    cutoff_s : float, optional
        Pairs further apart are reported as unreachable.
    dtype : "uint16" (default, 65535 = unreachable), "int32" (2**31 - 1) or "float32" (inf)
    method : "auto", "phast" or "dijkstra"  (see :func:`fietsstad.engine.travel_times`)
    with_distance : bool
        Also return the route length in metres along the fastest route (int32, 2**31 - 1 for
        unreachable pairs), e.g. for the PCT uptake model.
    saturate : bool
        uint16 only: clip times above 65534 s instead of raising.

    Returns
    -------
    numpy.ndarray (n_origins, n_destinations), or ``(times, metres)``.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> t, m = travel_time_matrix(net, [0], [0, 5], dtype="int32", with_distance=True)
    >>> int(t[0, 0]), int(m[0, 0])
    (0, 0)
    """
    g, metres, entry = _engine_inputs(net, with_distance)
    res = engine.travel_times(
        g,
        as_nodes(net, origins, "origins"),
        as_nodes(net, destinations, "destinations"),
        cutoff=cutoff_s,
        dtype=dtype,
        method=method,
        ch=entry["ch"],
        secondary=metres,
        saturate=saturate,
    )
    _keep_ch(entry)
    return res


def iter_travel_time_blocks(
    net,
    origins=None,
    destinations=None,
    *,
    block_size: int | None = None,
    cutoff_s: float | None = None,
    dtype: str = "uint16",
    method: str = "auto",
    with_distance: bool = False,
    saturate: bool = False,
) -> Iterator[tuple]:
    """Stream :func:`travel_time_matrix` by blocks of origin rows.

    Yields ``(origin_positions, block)`` (plus a metres block with ``with_distance``); every
    block is a fresh array. See :func:`fietsstad.engine.iter_blocks`.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> sum(int((b < 600).sum()) for _, b in iter_travel_time_blocks(net, block_size=100)) > 0
    True
    """
    g, metres, entry = _engine_inputs(net, with_distance)
    yield from engine.iter_blocks(
        g,
        as_nodes(net, origins, "origins"),
        as_nodes(net, destinations, "destinations"),
        block_size=block_size,
        cutoff=cutoff_s,
        dtype=dtype,
        method=method,
        ch=entry["ch"],
        secondary=metres,
        saturate=saturate,
    )
    _keep_ch(entry)


def shortest_route(net, origin, destination) -> dict[str, Any]:
    """The fastest route between two nodes (positions) or two ``(lon, lat)`` points.

    Returns
    -------
    dict with ``nodes`` (int32 positions), ``node_ids`` (int64), ``edges`` (edge indices),
    ``travel_time_s`` (int), ``length_m`` (float), ``geometry`` ((k, 2) lon/lat array) and
    ``generated`` (True when the network is GENERATED, not OpenStreetMap).

    Raises :class:`~fietsstad.errors.GraphError` if the destination is unreachable.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> r = shortest_route(net, 0, 10)
    >>> int(r["nodes"][0]), int(r["nodes"][-1]), r["geometry"].shape[1]
    (0, 10, 2)
    """
    g, _, _ = _engine_inputs(net)
    o, d = (_one_node(net, p, n) for p, n in ((origin, "origin"), (destination, "destination")))
    path = engine.shortest_path(g, o, d)
    edges = np.empty(len(path) - 1, dtype=np.int64)
    for i, (a, b) in enumerate(zip(path[:-1].tolist(), path[1:].tolist())):
        lo, hi = int(net.indptr[a]), int(net.indptr[a + 1])
        cand = lo + np.flatnonzero(net.indices[lo:hi] == b)
        edges[i] = cand[np.argmin(net.travel_time[cand])]
    geoms = [net.edge_geometry(int(e)) for e in edges]
    if geoms:
        geometry = np.vstack([geoms[0]] + [gm[1:] for gm in geoms[1:]])
    else:
        geometry = np.array([[net.x[o], net.y[o]]])
    return {
        "nodes": path,
        "node_ids": net.node_id[path],
        "edges": edges,
        "travel_time_s": int(net.travel_time[edges].sum()),
        "length_m": float(net.length[edges].astype(np.float64).sum()),
        "geometry": geometry,
        "generated": bool(net.is_generated),
    }


def _one_node(net, p, name: str) -> int:
    arr = np.asarray(p)
    if arr.dtype.kind == "f" and arr.shape == (2,):
        return int(net.snap([arr[0]], [arr[1]])[0])
    if arr.ndim == 0 and arr.dtype.kind in "iu":
        return int(arr)
    raise ValidationError(f"{name} must be a node position (int) or a (lon, lat) pair, got {p!r}")
