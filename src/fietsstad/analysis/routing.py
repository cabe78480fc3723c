"""Travel-time matrices and routes on a :class:`~fietsstad.network.BikeNetwork`.

Thin wrappers over :mod:`fietsstad.engine`: they turn a network into engine arrays (cached on
the network object together with its contraction hierarchy, so repeated calls do not rebuild),
accept OSM node ids (the index of ``net.nodes_gdf()``), marked node positions or lon/lat points
(snapped with :meth:`BikeNetwork.snap`), and return numpy arrays (or DataFrames labelled by OSM
ids with ``labels=True``) or dicts.

Example
-------
>>> import fietsstad
>>> net = fietsstad.generate_network(n_nodes=300, seed=1)      # a GENERATED network
>>> T = fietsstad.travel_time_matrix(net, net.nodes_gdf().index[:3])  # OSM node ids
>>> T.shape == (3, net.n_nodes), T.dtype.name
(True, 'uint16')
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import numpy as np
import numpy.typing as npt

from fietsstad import engine, settings
from fietsstad._io import load_arrays, save_arrays
from fietsstad._validate import check_cutoff_s
from fietsstad.engine import _ch
from fietsstad.engine._memory import check_memory_budget
from fietsstad.errors import CacheError, MemoryBudgetError, ParameterError, ValidationError
from fietsstad.network import BikeNetwork, check_network
from fietsstad.network._nodeids import NodePositions
from fietsstad.settings import _log, _log_end, _log_start

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: What ``origins`` / ``destinations`` accept (see :func:`as_nodes`): OSM node ids, marked node
#: positions, a ``(k, 2)`` lon/lat array, a GeoDataFrame / GeoSeries, or ``None`` (all nodes).
NodesLike: TypeAlias = "npt.ArrayLike | pd.Index | gpd.GeoDataFrame | gpd.GeoSeries | None"
#: One node: an OSM node id (a position with ``positions=True``) or a ``(lon, lat)`` pair.
NodeLike: TypeAlias = "int | np.integer | tuple[float, float] | npt.ArrayLike"
#: What :func:`travel_time_matrix` returns: times, or ``(times, metres)`` with
#: ``with_distance=True``; DataFrames labelled by OSM ids with ``labels=True``.
MatrixResult: TypeAlias = (
    "np.ndarray | tuple[np.ndarray, np.ndarray] | pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]"
)

log = logging.getLogger("fietsstad.analysis")
_COMPILE_NOTED: list[bool] = []  # the first-run numba note, once per process


def _note_compile() -> None:
    """Log once per process that numba compiles (or loads) its kernels at the first call."""
    if _COMPILE_NOTED:
        return
    _COMPILE_NOTED.append(True)
    from fietsstad.engine._dijkstra import dijkstra_matrix

    if not dijkstra_matrix.signatures:  # nothing compiled in this process yet
        _log(log, logging.INFO, "compiling numba kernels (first run only, cached afterwards)")


def check_bike_network(net: Any, name: str = "net") -> BikeNetwork:
    """``net`` if it is a :class:`~fietsstad.network.BikeNetwork`, else a clear ValidationError.

    A networkx / osmnx graph is named as such, with the way to turn it into a BikeNetwork.

    Example
    -------
    >>> import networkx as nx
    >>> try:
    ...     check_bike_network(nx.MultiDiGraph())
    ... except ValidationError as err:
    ...     print(str(err)[:40])
    net: expected a BikeNetwork, got a netwo
    """
    mod = type(net).__module__ or ""
    if mod.split(".")[0] == "networkx":
        raise ValidationError(
            f"{name}: expected a BikeNetwork, got a networkx {type(net).__name__} (an osmnx "
            "graph?). fietsstad routes on its own cycling network: build one with "
            "fietsstad.load_network(place=... or file=...); an osmnx graph saved with "
            "osmnx.save_graphml(G, path) loads with fietsstad.load_network(file=path), which "
            "applies the cycling rules"
        )
    return check_network(net, name)


def _engine_inputs(net, with_distance: bool = False):
    """``(CSRGraph, metres or None, entry)`` for ``net``; ``entry`` keeps its hierarchy."""
    check_bike_network(net)
    _note_compile()
    graph = net.engine_graph()
    metres = net.csr("length")[2] if with_distance else None
    cache = net.__dict__.setdefault("_ch_cache", {})
    entry = cache.get(with_distance)
    if entry is None or entry["graph"] is not graph:
        entry = {"graph": graph, "metres": metres, "ch": None}
        cache[with_distance] = entry
    elif metres is not None and not np.array_equal(entry["metres"], metres):
        entry.update(metres=metres, ch=None)
    if entry["ch"] is not None:
        _ch.remember(entry["ch"])
    return entry["graph"], entry["metres"], entry


def _keep_ch(entry: dict) -> None:
    if entry["ch"] is None:
        entry["ch"] = _ch.find_ch(entry["graph"], entry["metres"])


def cached_ch(
    graph: engine.CSRGraph, *, secondary: np.ndarray | None = None
) -> _ch.ContractionHierarchy:
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


def as_nodes(
    net: BikeNetwork,
    points: Any,  # NodesLike; Any: the body tells the kinds apart by duck typing
    name: str = "nodes",
    *,
    return_distance: bool = False,
    positions: bool = False,
    max_distance_m: float | None = None,
):
    """Node positions (int32) of OSM node ids, lon/lat points or a GeoDataFrame.

    Plain integers are **OSM node ids** (the index of ``net.nodes_gdf()``); an id that is not
    a node of ``net`` raises :class:`~fietsstad.errors.ValidationError` naming ``name``.
    Integers are node positions ``0..n_nodes-1`` only when marked: a
    :class:`~fietsstad.network._nodeids.NodePositions` array (from :meth:`BikeNetwork.positions`
    or :meth:`BikeNetwork.snap`) or ``positions=True``. ``None`` stays ``None`` (all nodes).
    A ``(k, 2)`` lon/lat float array or a GeoDataFrame / GeoSeries is snapped by geometry with
    :meth:`BikeNetwork.snap` (beyond ``max_distance_m``, default
    :data:`fietsstad.settings.snap_max_distance_m`, it raises
    :class:`~fietsstad.errors.SnappingError`); another CRS is reprojected to EPSG:4326, a polygon
    or line stands for its representative point, missing or empty geometries are refused.
    With ``return_distance=True`` the result is ``(positions, metres)``, the snapping distance
    of every point (zeros for nodes given by id or position).

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
    >>> ids = net.nodes_gdf().index[[7, 8]]
    >>> as_nodes(net, [[net.x[3], net.y[3]]]).tolist(), as_nodes(net, ids).tolist()
    ([3], [7, 8])
    >>> as_nodes(net, [7, 8], positions=True).tolist()
    [7, 8]
    """
    from fietsstad.network._nodeids import check_positions

    if points is None:
        return (None, None) if return_distance else None
    if hasattr(points, "geometry"):
        gdf = points
        if getattr(gdf, "crs", None) is not None and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs(4326)
        geom = gdf.geometry if hasattr(gdf.geometry, "representative_point") else gdf
        bad = np.asarray(geom.isna() | geom.is_empty)
        if bad.any():
            raise ValidationError(
                f"{name}: {int(bad.sum())} row(s) have a missing or empty geometry (first: "
                f"{gdf.index[np.flatnonzero(bad)[0]]!r}); drop them or give them a location"
            )
        if len(geom) == 0:
            nodes, dist = np.zeros(0, dtype=np.int32), np.zeros(0)
        else:
            pts = geom.representative_point()
            nodes, dist = net.snap(
                pts.x.to_numpy(), pts.y.to_numpy(), max_distance_m=max_distance_m,
                return_distance=True,
            )  # fmt: skip
        return (nodes, dist) if return_distance else nodes
    marked = isinstance(points, NodePositions)
    arr = np.asarray(points)
    if arr.dtype.kind == "f" and arr.ndim == 2 and arr.shape[1] == 2:
        return net.snap(
            arr[:, 0], arr[:, 1], max_distance_m=max_distance_m, return_distance=return_distance
        )
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValidationError(
            f"{name} must be OSM node ids (int), a (k, 2) lon/lat float array or a "
            f"GeoDataFrame, got {arr.dtype} array of shape {arr.shape}"
        )
    if marked or positions:
        nodes = check_positions(arr, net.n_nodes, name)
    else:
        nodes = np.asarray(net.positions(arr, name=name))
    return (nodes, np.zeros(len(nodes))) if return_distance else nodes


def _ids_of(net, pos) -> np.ndarray:
    """OSM ids (int64) of positions, ``net.node_id`` itself (no copy) for all nodes."""
    return net.node_id if pos is None else net.node_id[np.asarray(pos)]


def _labelled(net, res, src, dst):
    """``res`` (array or tuple of arrays) as DataFrames indexed and columned by OSM ids.

    The arrays are wrapped, not copied (:class:`pandas.DataFrame` with ``copy=False``).
    """
    import pandas as pd

    rows = pd.Index(_ids_of(net, src), name="origin_id")
    cols = pd.Index(_ids_of(net, dst), name="destination_id")
    one = lambda a: pd.DataFrame(a, index=rows, columns=cols, copy=False)  # noqa: E731
    return tuple(one(a) for a in res) if isinstance(res, tuple) else one(res)


def _matrix_alternatives(cutoff_given: bool, dtype) -> list[str]:
    """What to do instead of one big matrix, in the public API's words (``cutoff_s``)."""
    alts = [
        "stream the rows with fietsstad.iter_travel_time_blocks(net, ...) and reduce each block"
        + ("" if cutoff_given else " (with cutoff_s=... keep only the near pairs of each block)"),
        "pass a smaller set of origins/destinations",
        "compute accessibility inside the search with fietsstad.accessibility (no matrix)",
        "write the matrix to disk block by block with "
        "fietsstad.distributed.travel_time_matrix_dask(..., store=...)",
    ]
    if np.dtype(dtype).itemsize > 2:
        alts.append("a smaller dtype ('uint16', with saturate=True for times above 65534 s)")
    return alts


def _check_matrix_memory(n_rows: int, n_cols: int, dtype, with_distance: bool, cutoff) -> None:
    """Refuse, before any work, a matrix that does not fit (public parameter names)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = np.dtype(np.uint16)  # the engine refuses the dtype itself, naming it
    if dt not in (np.dtype(np.uint16), np.dtype(np.int32), np.dtype(np.float32)):
        dt = np.dtype(np.uint16)
    extra = n_rows * n_cols * 4 if with_distance else 0
    what = f"a {n_rows:,} x {n_cols:,} travel-time matrix" + (
        " plus its int32 metres matrix" if with_distance else ""
    )
    check_memory_budget(
        (n_rows, n_cols),
        dt,
        what,
        alternatives=_matrix_alternatives(cutoff is not None, dt),
        extra_bytes=extra,
    )


def _n(net, nodes) -> int:
    return net.n_nodes if nodes is None else len(nodes)


# The overloads tell a type checker what comes back for each with_distance / labels.
# fmt: off
@overload
def travel_time_matrix(
    net: BikeNetwork, origins: NodesLike = ..., destinations: NodesLike = ..., *,
    cutoff_s: float | None = ..., dtype: str = ..., method: str = ..., with_distance: Literal[False] = ..., saturate: bool = ...,
    labels: Literal[False] = ..., positions: bool = ..., max_distance_m: float | None = ...,
    out: np.ndarray | None = ...,
) -> np.ndarray: ...
@overload
def travel_time_matrix(
    net: BikeNetwork, origins: NodesLike = ..., destinations: NodesLike = ..., *,
    cutoff_s: float | None = ..., dtype: str = ..., method: str = ..., with_distance: Literal[True], saturate: bool = ...,
    labels: Literal[False] = ..., positions: bool = ..., max_distance_m: float | None = ...,
    out: tuple[np.ndarray, np.ndarray] | None = ...,
) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def travel_time_matrix(
    net: BikeNetwork, origins: NodesLike = ..., destinations: NodesLike = ..., *,
    cutoff_s: float | None = ..., dtype: str = ..., method: str = ..., with_distance: Literal[False] = ..., saturate: bool = ...,
    labels: Literal[True], positions: bool = ..., max_distance_m: float | None = ...,
    out: np.ndarray | None = ...,
) -> pd.DataFrame: ...
@overload
def travel_time_matrix(
    net: BikeNetwork, origins: NodesLike = ..., destinations: NodesLike = ..., *,
    cutoff_s: float | None = ..., dtype: str = ..., method: str = ..., with_distance: Literal[True], saturate: bool = ...,
    labels: Literal[True], positions: bool = ..., max_distance_m: float | None = ...,
    out: tuple[np.ndarray, np.ndarray] | None = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...
@overload
def travel_time_matrix(
    net: BikeNetwork, origins: NodesLike = ..., destinations: NodesLike = ..., *,
    cutoff_s: float | None = ..., dtype: str = ..., method: str = ..., with_distance: bool = ..., saturate: bool = ...,
    labels: bool = ..., positions: bool = ..., max_distance_m: float | None = ...,
    out: np.ndarray | tuple[np.ndarray, np.ndarray] | None = ...,
) -> MatrixResult: ...
# fmt: on


def travel_time_matrix(
    net: BikeNetwork,
    origins: NodesLike = None,
    destinations: NodesLike = None,
    *,
    cutoff_s: float | None = None,
    dtype: str = "uint16",
    method: str = "auto",
    with_distance: bool = False,
    saturate: bool = False,
    labels: bool = False,
    positions: bool = False,
    max_distance_m: float | None = None,
    out: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
) -> MatrixResult:
    """Cycling travel times (s) from origins to destinations on ``net``.

    Parameters
    ----------
    net : BikeNetwork
    origins, destinations : OSM node ids, (k, 2) lon/lat array, GeoDataFrame, or None (all)
        Integers are OSM node ids (``net.nodes_gdf().index``); node positions only as
        ``net.positions(...)`` / ``net.snap(...)`` results or with ``positions=True``. Points
        are snapped to their nearest node (:class:`~fietsstad.errors.SnappingError` beyond
        ``max_distance_m``). ``None``: all nodes in position order (ids ``net.node_id``).
    cutoff_s : float, optional
        Pairs further apart than ``cutoff_s`` seconds are reported as unreachable. ``None``
        (default) or ``float("inf")``: no cut-off; otherwise a finite number ``>= 0`` (not a
        bool or a str; anything else raises :class:`~fietsstad.errors.ValidationError`).
    dtype : "uint16" (default, 65535 = unreachable), "int32" (2**31 - 1) or "float32" (inf)
    method : "auto", "phast" or "dijkstra"  (see :func:`fietsstad.engine.travel_times`)
    with_distance : bool
        Also return the route length in metres along the fastest route (int32, 2**31 - 1 for
        unreachable pairs), e.g. for the PCT uptake model.
    saturate : bool
        uint16 only: clip times above 65534 s instead of raising.
    labels : bool
        Return :class:`pandas.DataFrame` s indexed by the origins' OSM ids (``origin_id``) and
        columned by the destinations' (``destination_id``), wrapping the matrix without a copy.
        Default ``False``: the bare numpy array, whose rows and columns are the origins and
        destinations in the order given (all nodes: ``net.node_id``).
    positions : bool
        Read plain integer ``origins`` / ``destinations`` as node positions ``0..n_nodes-1``.
    max_distance_m : float, optional
        Snapping limit for points (default :data:`fietsstad.settings.snap_max_distance_m`).
    out : numpy.ndarray, optional
        Write the times into this C-contiguous, writeable array of shape ``(n_origins,
        n_destinations)`` and ``dtype`` and return it (a tuple ``(times, metres)`` of arrays
        with ``with_distance``, the metres int32): repeated evaluations then reuse one matrix.
        See :func:`fietsstad.engine.travel_times`.

    Returns
    -------
    numpy.ndarray (n_origins, n_destinations), or ``(times, metres)``; DataFrames with
    ``labels=True``. ``out`` itself when given.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> ids = net.nodes_gdf().index
    >>> t, m = travel_time_matrix(net, [ids[0]], [ids[0], ids[5]], dtype="int32",
    ...                           with_distance=True)
    >>> int(t[0, 0]), int(m[0, 0])
    (0, 0)
    >>> df = travel_time_matrix(net, ids[:2], ids[:3], labels=True)
    >>> df.index.name, df.columns.tolist() == ids[:3].tolist()
    ('origin_id', True)
    """
    cutoff = check_cutoff_s(cutoff_s)
    g, metres, entry = _engine_inputs(net, with_distance)
    src = as_nodes(net, origins, "origins", positions=positions, max_distance_m=max_distance_m)
    dst = as_nodes(
        net, destinations, "destinations", positions=positions, max_distance_m=max_distance_m
    )
    if out is None:
        _check_matrix_memory(_n(net, src), _n(net, dst), dtype, with_distance, cutoff)
    what = f"travel-time matrix {_n(net, src):,} x {_n(net, dst):,}"
    t0 = _log_start(log, what)
    kw = dict(cutoff=cutoff, dtype=dtype, ch=entry["ch"], secondary=metres, saturate=saturate,
              out=out)  # fmt: skip
    try:
        n_src, n_dst = _n(net, src), _n(net, dst)
        if (
            settings.progress
            and n_src > PROGRESS_MIN_SOURCES
            and n_src * n_dst >= PROGRESS_MIN_CELLS
        ):
            res = _matrix_with_bar(g, src, dst, method, kw)
        else:
            res = engine.travel_times(g, src, dst, method=method, **kw)
    except MemoryBudgetError as err:  # memory fell between the check above and the engine's
        head = str(err).split(" Alternatives:")[0]
        alts = "; ".join(_matrix_alternatives(cutoff is not None, dtype))
        raise MemoryBudgetError(f"{head} Alternatives: {alts}") from None
    _keep_ch(entry)
    _log_end(log, what, t0)
    return _labelled(net, res, src, dst) if labels else res


#: :func:`travel_time_matrix` shows a progress bar (``settings.progress``) from this many
#: sources, when the matrix also has at least ``PROGRESS_MIN_CELLS`` cells (about 10 s or more
#: of work on 2 cores: below it the blocks' overhead, 4-30 % measured at 7k-20k nodes, would cost
#: more than the bar is worth; the benchmarked 20k matrix stays one engine call).
PROGRESS_MIN_SOURCES = 5_000
PROGRESS_MIN_CELLS = 1_000_000_000
#: Fewest source rows per engine call under the bar (bounds the per-call overhead).
PROGRESS_MIN_BLOCK = 5_000


def _matrix_with_bar(g, src, dst, method: str, kw: dict):
    """:func:`engine.travel_times` by blocks of source rows under a tqdm bar, same values.

    The method is resolved once for all sources and every block runs the engine call of the
    whole matrix on its rows (as :mod:`fietsstad.distributed` does), so the result is the one
    matrix the engine returns in one call.
    """
    from tqdm.auto import tqdm

    all_src = np.arange(g.n, dtype=np.int32) if src is None else np.asarray(src)
    meth = engine.resolve_method(g, src, cutoff=kw["cutoff"], method=method,
                                 secondary=kw["secondary"])  # fmt: skip
    if meth == "phast" and kw["ch"] is None:
        kw = {**kw, "ch": engine.build_ch(g, secondary=kw["secondary"])}
    step = max(PROGRESS_MIN_BLOCK, -(-len(all_src) // 20))  # at most 20 engine calls
    given = kw.pop("out", None)
    if given is not None:  # the caller's matrix (checked once), filled by row slices
        engine.travel_times(g, all_src[:0], dst, method=meth, out=_rows(given, 0, 0), **kw)
        for a in given if isinstance(given, tuple) else (given,):
            if a.shape[0] != len(all_src):
                raise ParameterError(
                    f"out has {a.shape[0]} rows; this matrix needs {len(all_src)} (one per origin)"
                )
    out: list[np.ndarray] = []  # the whole matrix (and metres), filled block by block
    with tqdm(total=len(all_src), desc="travel-time matrix", unit="source", leave=False,
              file=sys.stderr) as bar:  # fmt: skip
        for i in range(0, len(all_src), step):
            blk = None if given is None else _rows(given, i, i + step)
            res = engine.travel_times(g, all_src[i : i + step], dst, method=meth, out=blk, **kw)
            if given is not None:
                bar.update(len(all_src[i : i + step]))
                continue
            blocks = res if isinstance(res, tuple) else (res,)
            if not out:
                out = [np.empty((len(all_src), b.shape[1]), dtype=b.dtype) for b in blocks]
            for whole, b in zip(out, blocks):
                whole[i : i + len(b)] = b
            bar.update(len(blocks[0]))
    if given is not None:
        return given
    return tuple(out) if kw["secondary"] is not None else out[0]


def _rows(out, i: int, j: int):
    """Rows ``i:j`` of an ``out`` array (or of both arrays of a tuple)."""
    if isinstance(out, tuple):
        return tuple(a[i:j] if isinstance(a, np.ndarray) else a for a in out)
    return out[i:j] if isinstance(out, np.ndarray) else out


def iter_travel_time_blocks(
    net: BikeNetwork,
    origins: NodesLike = None,
    destinations: NodesLike = None,
    *,
    block_size: int | None = None,
    cutoff_s: float | None = None,
    dtype: str = "uint16",
    method: str = "auto",
    with_distance: bool = False,
    saturate: bool = False,
    positions: bool = False,
    max_distance_m: float | None = None,
    out: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Stream :func:`travel_time_matrix` by blocks of origin rows.

    Yields ``(origin_ids, block)`` (plus a metres block with ``with_distance``): the OSM node
    ids (int64) of the block's rows, and a fresh array whose columns are the destinations in
    the order given (all nodes: ``net.node_id``). Arguments are checked when this is called
    (not at the first block); ``origins``, ``destinations``, ``cutoff_s``, ``positions`` and
    ``max_distance_m`` as in :func:`travel_time_matrix`. With ``method="auto"`` on a large
    network without a cached hierarchy the blocks come from bounded Dijkstra searches, so the
    first block arrives in seconds (see :func:`fietsstad.engine.iter_blocks` for the rule).
    ``out``: one ``(block_size, n_destinations)`` buffer every block is written into (the
    blocks are then views of it, overwritten by the next one; see
    :func:`fietsstad.engine.iter_blocks`).

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> sum(int((b < 600).sum()) for _, b in iter_travel_time_blocks(net, block_size=100)) > 0
    True
    >>> ids, block = next(iter_travel_time_blocks(net, net.nodes_gdf().index[[4, 2]]))
    >>> ids.tolist() == net.nodes_gdf().index[[4, 2]].tolist(), block.shape[1] == net.n_nodes
    (True, True)
    """
    cutoff = check_cutoff_s(cutoff_s)
    g, metres, entry = _engine_inputs(net, with_distance)
    src = as_nodes(net, origins, "origins", positions=positions, max_distance_m=max_distance_m)
    dst = as_nodes(
        net, destinations, "destinations", positions=positions, max_distance_m=max_distance_m
    )
    blocks = engine.iter_blocks(
        g,
        src,
        dst,
        block_size=block_size,
        cutoff=cutoff,
        dtype=dtype,
        method=method,
        ch=entry["ch"],
        secondary=metres,
        saturate=saturate,
        out=out,
    )
    return _stream(net, blocks, entry)


def _stream(net, blocks: Iterator[tuple], entry: dict) -> Iterator[tuple]:
    for rows, *arrays in blocks:
        yield (net.node_id[np.asarray(rows)], *arrays)
    _keep_ch(entry)


def shortest_route(
    net: BikeNetwork,
    origin: NodeLike,
    destination: NodeLike,
    *,
    positions: bool = False,
    max_distance_m: float | None = None,
) -> dict[str, Any]:
    """The fastest route between two nodes (OSM node ids) or two ``(lon, lat)`` points.

    ``origin`` and ``destination`` are OSM node ids (``net.nodes_gdf().index``), node
    positions with ``positions=True`` (or as a :class:`NodePositions` from
    ``net.positions(...)``), or ``(lon, lat)`` pairs snapped to their nearest node
    (:class:`~fietsstad.errors.SnappingError` beyond ``max_distance_m``).

    Returns
    -------
    dict with ``nodes`` (int64 OSM node ids along the route, as ``node_ids``), ``positions``
    (int32 node positions), ``edges`` (edge indices), ``travel_time_s`` (int), ``length_m``
    (float), ``geometry`` ((k, 2) lon/lat array), ``snap_distance_m`` (metres from each given
    point to its node, 0 for nodes) and ``generated`` (True when the network is GENERATED).

    Raises :class:`~fietsstad.errors.GraphError` if the destination is unreachable.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> ids = net.nodes_gdf().index
    >>> r = shortest_route(net, ids[0], ids[10])
    >>> bool(r["nodes"][0] == ids[0]), bool(r["nodes"][-1] == ids[10]), r["geometry"].shape[1]
    (True, True, 2)
    >>> int(shortest_route(net, 0, 10, positions=True)["positions"][-1])
    10
    """
    g, _, _ = _engine_inputs(net)
    (o, do), (d, dd) = (
        _one_node(net, p, n, positions, max_distance_m)
        for p, n in ((origin, "origin"), (destination, "destination"))
    )
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
    ids = net.node_id[path]
    return {
        "nodes": ids,
        "node_ids": ids,
        "positions": np.asarray(path, dtype=np.int32),
        "edges": edges,
        # tick-accurate sum, rounded half up to whole seconds as in every travel-time matrix
        "travel_time_s": (int(net.travel_time_ticks()[edges].sum()) + g.ticks_per_s // 2)
        // g.ticks_per_s,
        "length_m": float(net.length[edges].astype(np.float64).sum()),
        "geometry": geometry,
        "snap_distance_m": {"origin": do, "destination": dd},
        "generated": bool(net.is_generated),
    }


def _one_node(net, p, name: str, positions: bool, max_distance_m) -> tuple[int, float]:
    """``(position, snapping distance in metres)`` of one id, position or (lon, lat) pair."""
    arr = np.asarray(p)
    if arr.dtype.kind == "f" and arr.shape == (2,):
        pos, dist = net.snap([arr[0]], [arr[1]], max_distance_m=max_distance_m,
                             return_distance=True)  # fmt: skip
        return int(pos[0]), float(dist[0])
    if arr.size == 1 and arr.ndim <= 1 and arr.dtype.kind in "iu":
        marked = positions or isinstance(p, NodePositions)
        nodes = as_nodes(net, arr.reshape(1), name, positions=marked)
        return int(nodes[0]), 0.0
    raise ValidationError(f"{name} must be an OSM node id (int) or a (lon, lat) pair, got {p!r}")
