"""Dask scale-out: the engine's heavy operations on a cluster, with the same results.

Every function here has the signature of its single-machine peer with a Dask
:class:`distributed.Client` first (the stumpy ``stump(T, m)`` / ``stumped(client, T, m)``
pattern), so a user changes one word to scale out:

==============================================  ============================================
single machine                                  Dask cluster
==============================================  ============================================
``routing.travel_time_matrix(net, ...)``        :func:`travel_time_matrix_dask` (Zarr or numpy)
``engine.accessibility(g, ...)``                :func:`accessibility_matrix_dask`
``accessibility.accessibility(net, ...)``       :func:`accessibility_dask`
``demand.modal_share(net, zones, ...)``         :func:`modal_share_dask`
``uptake.uptake`` summed over an OD set         :func:`uptake_totals_dask` (tree reduction)
``scenario.evaluate_snelfietspad`` per route    :func:`evaluate_scenarios_dask`
==============================================  ============================================

How the work is split
---------------------
* The network arrays (a validated :class:`~fietsstad.engine.CSRGraph`, and the contraction
  hierarchy when PHAST is used) are scattered to every worker **once** per call
  (``client.scatter(..., broadcast=True)``).
* Sources are split into blocks of rows; each task runs the same numba kernel as the
  single-machine path (:func:`fietsstad.engine.travel_times` /
  :func:`fietsstad.engine.accessibility`) on its block. The algorithm (``method``) is resolved once
  on the client for the whole source set, so every block uses the same one.
* Full matrices are written by the tasks straight into a chunked Zarr array, one chunk row per
  block: no process ever holds the whole matrix, and a re-run task overwrites exactly its own
  chunk (idempotent). Small results (accessibility tables, totals) are reduced on the cluster.
* Tasks are pure: a worker killed mid-run only makes Dask re-run its lost blocks, and the result
  does not change (tested by killing a real worker process).

Worker set-up
-------------
:func:`prepare_workers` registers a worker plugin that loads the numba kernels once per worker
(from numba's on-disk cache, ``cache=True``) and fixes how many numba threads each task may use,
so ``n_workers x threads_per_worker x numba threads`` does not oversubscribe the cores. It is
called automatically by every function here; restarted workers run it again by themselves.

Example
-------
>>> from dask.distributed import Client, LocalCluster            # doctest: +SKIP
>>> import fietsstad
>>> from fietsstad.distributed.drivers import travel_time_matrix_dask
>>> net = fietsstad.generate_network(2_000, seed=1)              # a GENERATED network
>>> with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
...                   dashboard_address=None) as cluster, Client(cluster) as client:
...     z = travel_time_matrix_dask(client, net, store="tt.zarr")  # doctest: +SKIP
>>> z.shape                                                      # doctest: +SKIP
(2004, 2004)
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fietsstad.errors import GraphError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

try:
    import distributed  # noqa: F401
except ImportError as _err:  # pragma: no cover - optional dependency
    raise ImportError(
        "fietsstad.distributed needs Dask: pip install 'fietsstad[dask]' "
        "(dask[distributed] and zarr)"
    ) from _err

from fietsstad.distributed._tasks import (
    _DTYPES,
    PLUGIN_NAME,
    NumbaWarmup,
    _a_of,
    _access_rows,
    _add,
    _block_info,
    _evaluate_one,
    _furness_block,
    _furness_combine,
    _item,
    _modal_block,
    _partial,
    _tt_rows,
    _tt_to_zarr,
    _uptake_block,
    _usable_cores,
    _warm_seconds,
    _worker_state,
    _zarr_rows,
)

#: Bytes one block of a travel-time matrix should take by default (128 MiB).
DEFAULT_BLOCK_BYTES: int = 128 * 2**20


def _total_threads(client: Client) -> int:
    info = (
        client.scheduler_info(n_workers=-1)
        if _accepts_n_workers(client)
        else client.scheduler_info()
    )
    return max(1, sum(int(w.get("nthreads", 1)) for w in info["workers"].values()))


def _accepts_n_workers(client: Client) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def _default_numba_threads(client: Client) -> dict[str, int]:
    """Numba threads per worker: the host's cores shared among the worker threads on that host."""
    info = (
        client.scheduler_info(n_workers=-1)
        if _accepts_n_workers(client)
        else client.scheduler_info()
    )
    workers = info["workers"]
    if not workers:
        raise ValidationError(
            "the Dask cluster has no workers; start some (or wait for them) "
            "before calling fietsstad.distributed"
        )
    cores = client.run(_usable_cores)
    per_host: dict[str, int] = {}
    for addr, w in workers.items():
        host = w.get("host", addr)
        per_host[host] = per_host.get(host, 0) + int(w.get("nthreads", 1))
    out = {}
    for addr, w in workers.items():
        host = w.get("host", addr)
        out[addr] = max(1, int(cores.get(addr) or 1) // per_host[host])
    return out


_PREPARED: dict[tuple[str, int | None], bool] = {}


def prepare_workers(
    client: Client, *, numba_threads: int | None = None, force: bool = False
) -> dict[str, float]:
    """Warm the numba kernels once on every worker and set their numba thread count.

    Registers a worker plugin (so workers that join or are restarted later are prepared too)
    that runs every engine kernel once on a tiny graph; with ``cache=True`` kernels this loads the
    compiled code from numba's on-disk cache instead of recompiling for every task.

    Parameters
    ----------
    client : distributed.Client
    numba_threads : int, optional
        Numba threads per task. Default: the host's cores divided by the worker threads running
        on that host (at least 1), e.g. 1 for two single-threaded workers on a 2-core machine.
    force : bool
        Register again even if this client's scheduler was prepared before in this process.

    Returns
    -------
    dict
        Worker address -> seconds the warm-up took there (0.0 when already prepared).

    Example
    -------
    >>> secs = prepare_workers(client)               # doctest: +SKIP
    >>> sorted(secs) == sorted(client.scheduler_info()["workers"])  # doctest: +SKIP
    True
    """
    if numba_threads is not None and (
        not isinstance(numba_threads, (int, np.integer)) or numba_threads < 1
    ):
        raise ValidationError(f"numba_threads must be a positive integer, not {numba_threads!r}")
    key = (client.scheduler.address, numba_threads)
    if _PREPARED.get(key) and not force:
        return {addr: 0.0 for addr in client.scheduler_info()["workers"]}
    if numba_threads is None:
        per_worker = _default_numba_threads(client)
        threads = min(per_worker.values())
    else:
        threads = int(numba_threads)
    client.register_plugin(NumbaWarmup(threads), name=PLUGIN_NAME)
    secs = client.run(_warm_seconds)
    _PREPARED[key] = True
    return {k: float(v) for k, v in secs.items()}


def worker_state(client: Client) -> dict[str, dict[str, Any]]:
    """Per worker: pid, numba threads, warm-up seconds and compiled signatures of the kernels.

    Useful to check that workers did not recompile (the signature counts stay at their warm-up
    values however many tasks ran).

    Example
    -------
    >>> worker_state(client)                         # doctest: +SKIP
    {'tcp://127.0.0.1:40113': {'pid': 7084, 'numba_threads': 1, ...}, ...}
    """
    return client.run(_worker_state)


def _as_graph(net_or_graph):
    """A validated CSRGraph and the BikeNetwork (or None) it came from."""
    from fietsstad.engine import CSRGraph
    from fietsstad.network import BikeNetwork

    if isinstance(net_or_graph, BikeNetwork):
        return net_or_graph.engine_graph(), net_or_graph
    if isinstance(net_or_graph, CSRGraph):
        return net_or_graph, None
    if isinstance(net_or_graph, tuple) and len(net_or_graph) == 3:
        return CSRGraph.from_arrays(*net_or_graph), None
    raise GraphError(
        "net_or_graph must be a BikeNetwork, an engine CSRGraph or an "
        f"(indptr, indices, weights) tuple, not {type(net_or_graph).__name__}"
    )


def _nodes(nodes, n: int, name: str) -> np.ndarray | None:
    from fietsstad.engine._graph import check_nodes

    return None if nodes is None else check_nodes(nodes, n, name)


def _check_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise GraphError(
            f"dtype {dtype!r} is not understood; use uint16, int32 or float32"
        ) from err
    if dt not in _DTYPES:
        raise GraphError(f"dtype must be uint16, int32 or float32, not {dt}")
    return dt


def _check_cutoff(cutoff, name: str = "cutoff_s") -> float | None:
    from fietsstad._validate import check_cutoff_s  # the one cut-off rule of the public API

    return check_cutoff_s(cutoff, name)


def _check_client(client: Any) -> None:
    if not hasattr(client, "scatter") or not hasattr(client, "submit"):
        raise ValidationError(
            f"client must be a dask.distributed.Client, not {type(client).__name__}"
        )


def choose_block_size(
    n_sources: int, row_bytes: int, n_threads: int, target_bytes: int = DEFAULT_BLOCK_BYTES
) -> int:
    """Source rows per task: about ``target_bytes`` per block, and at least 4 blocks per thread.

    Blocks are rounded to multiples of 16 rows (the PHAST lanes) when they hold 16 or more.

    Parameters
    ----------
    n_sources : int  number of source rows
    row_bytes : int  bytes of one result row (``n_targets * itemsize``)
    n_threads : int  worker threads in the cluster
    target_bytes : int  wanted bytes per block (default 128 MiB)

    Example
    -------
    >>> choose_block_size(200_000, 200_000 * 2, 2)   # 200k x 200k uint16: 320 rows = 122 MiB
    320
    >>> choose_block_size(100, 200, 2)               # small: 8 blocks of 13 rows
    13
    """
    if n_sources <= 0:
        return 1
    by_bytes = max(1, int(target_bytes) // max(1, int(row_bytes)))
    by_balance = max(1, math.ceil(n_sources / (4 * max(1, int(n_threads)))))
    bs = min(by_bytes, by_balance, n_sources)
    if bs >= 16:
        bs = (bs // 16) * 16
    return int(max(1, bs))


def _resolve_method(g, sources, cutoff, method, *, secondary=None, build: bool = True):
    """Resolve "auto" once for the whole source set; build the hierarchy on the client if PHAST."""
    from fietsstad.engine._matrix import _cutoff, choose_method

    src = np.arange(g.n, dtype=np.int32) if sources is None else sources
    meth = choose_method(g, src, _cutoff(cutoff), method, secondary)
    ch = None
    if meth == "phast" and build:
        from fietsstad.engine import build_ch

        ch = build_ch(g, secondary=secondary)
    return meth, ch


def _scatter(client: Client, obj, held: list):
    """Send ``obj`` to every worker once; the future is kept in ``held`` for the final release."""
    fut = client.scatter([obj], broadcast=True, hash=False)[0]
    held.append(fut)
    return fut


def _blocks(n: int, block_size: int) -> list[tuple[int, int]]:
    return [(s, min(n, s + block_size)) for s in range(0, n, block_size)]


def _release(futures) -> None:
    """Cancel what still runs (after an error or an interrupt) and drop our references."""
    pending = [f for f in futures if not f.done()]
    if pending:
        try:
            pending[0].client.cancel(pending)
        except Exception:  # pragma: no cover - client already closed
            pass
    for f in futures:
        try:
            f.release()
        except Exception:  # pragma: no cover - already released
            pass


def travel_time_matrix_dask(
    client: Client,
    net_or_graph,
    origins=None,
    destinations=None,
    *,
    cutoff_s: float | None = None,
    dtype="uint16",
    method: str = "auto",
    with_distance: bool = False,
    saturate: bool = False,
    block_size: int | None = None,
    store: str | os.PathLike | None = None,
    overwrite: bool = False,
    gather: bool = False,
):
    """Many-to-many travel times on a Dask cluster, written chunked to Zarr.

    The distributed peer of :func:`fietsstad.routing.travel_time_matrix` (and of
    :func:`fietsstad.engine.travel_times`), with identical values. Each task computes
    ``block_size`` source rows with the engine's numba kernel and writes them into its own chunk
    row of the Zarr array; the matrix is never gathered into one process (unless ``gather=True``).

    Parameters
    ----------
    client : distributed.Client
    net_or_graph : BikeNetwork, engine.CSRGraph or (indptr, indices, weights)
        The network (edge weights: travel time in seconds).
    origins, destinations : node positions, (k, 2) lon/lat array, GeoDataFrame, or None (all)
        Rows and columns; points (BikeNetwork only) are snapped as in ``travel_time_matrix``.
    cutoff_s : float, optional
        Seconds; pairs further apart are unreachable (inclusive bound).
    dtype : "uint16" (default), "int32" or "float32"
        Unreachable is 65535, 2**31 - 1 or inf (see docs/ARCHITECTURE.md).
    method : "auto", "phast" or "dijkstra"
        Resolved once on the client; with PHAST the contraction hierarchy is built once and
        scattered with the graph.
    with_distance : bool
        BikeNetwork only: also the route length in metres along the fastest route (int32,
        2**31 - 1 unreachable), as Zarr array ``distance_m`` (or a second returned array).
    saturate : bool
        For uint16: clip times above 65534 s instead of raising.
    block_size : int, optional
        Source rows per task (= Zarr chunk rows). Default from :func:`choose_block_size`
        (about 128 MiB per block, at least 4 blocks per worker thread).
    store : path or URL
        Where to write the Zarr group (every worker must reach it: a shared file system or an
        object store URL). It holds ``travel_time``, ``origins`` and ``destinations`` (and
        ``distance_m``); ``attrs["complete"]`` turns True only after every block was written.
    overwrite : bool
        Replace an existing store.
    gather : bool
        Return numpy arrays instead of writing Zarr (small matrices only; refused with
        :class:`~fietsstad.errors.MemoryBudgetError` if they would not fit in memory).

    Returns
    -------
    zarr.Array (read-only ``store/travel_time``), or a numpy.ndarray with ``gather=True``;
    with ``with_distance`` a tuple ``(times, metres)`` of the same kind.

    Raises
    ------
    GraphError
        Bad graph, node ids, dtype, cutoff or method; uint16 overflow without ``saturate``.
    ValidationError
        Neither ``store`` nor ``gather``, or both; an existing store without ``overwrite``;
        a bad ``block_size``; ``with_distance`` without a BikeNetwork.
    MemoryBudgetError
        ``gather=True`` for a matrix that does not fit.

    Example
    -------
    >>> z = travel_time_matrix_dask(client, net, store="tt.zarr")     # doctest: +SKIP
    >>> z[:2, :5]                                                     # doctest: +SKIP
    array([[  0,  41,  95, ...]], dtype=uint16)
    """
    _check_client(client)
    g, net = _as_graph(net_or_graph)
    if net is not None:
        from fietsstad.analysis.routing import as_nodes

        origins = as_nodes(net, origins, "origins")
        destinations = as_nodes(net, destinations, "destinations")
    elif with_distance:
        raise ValidationError("with_distance=True needs a BikeNetwork (edge lengths)")
    src = _nodes(origins, g.n, "origins")
    tgt = _nodes(destinations, g.n, "destinations")
    dt = _check_dtype(dtype)
    cutoff = _check_cutoff(cutoff_s)
    if (store is None) == (not gather):
        raise ValidationError(
            "pass store= (a Zarr path or URL every worker can reach) to write the matrix "
            "chunked, or gather=True (small matrices only), not both"
        )
    if store is not None:
        # workers may run elsewhere: hand them an absolute path (URLs stay as they are)
        store = str(store) if "://" in str(store) else str(Path(store).expanduser().resolve())
    ns = g.n if src is None else len(src)
    nt = g.n if tgt is None else len(tgt)
    sec = np.rint(net.length).astype(np.int32) if with_distance else None
    row_bytes = nt * (dt.itemsize + (4 if with_distance else 0))
    if gather:
        from fietsstad.engine import check_memory

        check_memory(
            ns * row_bytes,
            f"gathering a {ns:,} x {nt:,} travel-time matrix into this process "
            "(write it to Zarr with store= instead)",
        )
    prepare_workers(client)
    bs = _block_arg(block_size) or choose_block_size(ns, row_bytes, _total_threads(client))
    meth, ch = _resolve_method(g, src, cutoff, method, secondary=sec)
    if not gather:
        _create_store(
            store, overwrite, ns, nt, bs, dt, src, tgt, g, net, cutoff, meth, with_distance
        )
    all_src = np.arange(g.n, dtype=np.int32) if src is None else src
    futures: list = []
    held: list = []  # scattered inputs, released with the blocks
    try:
        g_f = _scatter(client, g, held)
        ch_f = _scatter(client, ch, held) if ch is not None else None
        t_f = _scatter(client, tgt, held) if tgt is not None else None
        s_f = _scatter(client, sec, held) if sec is not None else None
        token = uuid.uuid4().hex[:12]
        for i, (a, b) in enumerate(_blocks(ns, bs)):
            args = (g_f, ch_f, all_src[a:b], t_f, cutoff, dt, meth, saturate, s_f)
            if gather:
                fut = client.submit(_tt_rows, *args, key=f"fietsstad-tt-{token}-{i}")
            else:
                fut = client.submit(
                    _tt_to_zarr, *args, str(store), a, key=f"fietsstad-ttz-{token}-{i}"
                )
            futures.append(fut)
        if gather:
            out = np.empty((ns, nt), dtype=dt)
            dist = np.empty((ns, nt) if with_distance else (0, 0), dtype=np.int32)
            for (a, b), block in zip(_blocks(ns, bs), client.gather(futures)):
                if with_distance:
                    out[a:b], dist[a:b] = block
                else:
                    out[a:b] = block
            return (out, dist) if with_distance else out
        written = sum(client.gather(futures))
        if written != ns:  # pragma: no cover - would be a Dask bug
            raise GraphError(f"only {written} of {ns} rows were written to {store}")
        import zarr

        grp = zarr.open_group(store=str(store), mode="r+")
        grp.attrs["complete"] = True
        times = zarr.open_array(store=str(store), path="travel_time", mode="r")
        if with_distance:
            return times, zarr.open_array(store=str(store), path="distance_m", mode="r")
        return times
    finally:
        _release(futures + held)


def _block_arg(block_size) -> int | None:
    if block_size is None:
        return None
    if (
        not isinstance(block_size, (int, np.integer))
        or isinstance(block_size, bool)
        or block_size < 1
    ):
        raise ValidationError(f"block_size must be a positive integer, not {block_size!r}")
    return int(block_size)


def _create_store(
    store, overwrite, ns, nt, bs, dt, src, tgt, g, net, cutoff, meth, with_distance=False
):
    import zarr

    from fietsstad.engine import UNREACHABLE_I32, UNREACHABLE_U16

    path = str(store)
    if not overwrite and "://" not in path and Path(path).exists():
        raise ValidationError(f"{path} exists; pass overwrite=True to replace it")
    fill = {
        np.dtype(np.uint16): UNREACHABLE_U16,
        np.dtype(np.int32): UNREACHABLE_I32,
        np.dtype(np.float32): np.inf,
    }[dt]
    chunks = (max(1, min(bs, ns)), max(1, nt))
    grp = zarr.open_group(store=path, mode="w" if overwrite else "w-")
    arr = grp.create_array("travel_time", shape=(ns, nt), chunks=chunks, dtype=dt, fill_value=fill)
    if with_distance:
        grp.create_array(
            "distance_m", shape=(ns, nt), chunks=chunks, dtype=np.int32, fill_value=UNREACHABLE_I32
        )
    grp.create_array("origins", data=np.arange(g.n, dtype=np.int32) if src is None else src)
    grp.create_array("destinations", data=np.arange(g.n, dtype=np.int32) if tgt is None else tgt)
    generated = bool(net.is_generated) if net is not None else None
    grp.attrs.update(
        {
            "fietsstad": "travel_time_matrix_dask",
            "units": "seconds"
            + (" (distance_m: metres along the fastest route)" if with_distance else ""),
            "dtype": str(dt),
            "unreachable": None if dt == np.float32 else int(fill),
            "cutoff_s": cutoff,
            "method": meth,
            "block_size": int(bs),
            "source": None if net is None else str(net.meta.get("source", "unknown")),
            "generated": generated,
            "note": "GENERATED network (synthetic, not OpenStreetMap)" if generated else "",
            "complete": False,
        }
    )
    return arr


def accessibility_matrix_dask(
    client: Client,
    graph,
    opportunities,
    decays,
    *,
    cutoff: float | None = None,
    sources=None,
    method: str = "auto",
    block_size: int | None = None,
) -> np.ndarray:
    """:func:`fietsstad.engine.accessibility` on a Dask cluster: identical float64 array.

    The graph and the opportunities are scattered once; each task computes the indicators of a
    block of sources in one traversal per source; the small ``(sources, k * decays)`` table is
    assembled on the client.

    Parameters
    ----------
    client : distributed.Client
    graph : engine.CSRGraph, BikeNetwork or (indptr, indices, weights)
    opportunities, decays, cutoff, sources, method
        As in :func:`fietsstad.engine.accessibility`.
    block_size : int, optional
        Sources per task (default: at least 4 blocks per worker thread, multiples of 16).

    Returns
    -------
    numpy.ndarray float64 (len(sources), k * len(decays))

    Example
    -------
    >>> from fietsstad.engine import Decay
    >>> A = accessibility_matrix_dask(client, g, np.ones(g.n), [Decay.cumulative(900)],
    ...                               cutoff=900)                     # doctest: +SKIP
    """
    from fietsstad.engine._access import _decay_arrays, _opportunities

    _check_client(client)
    g, _ = _as_graph(graph)
    opp = _opportunities(opportunities, g.n)
    src = _nodes(sources, g.n, "sources")
    cutoff = _check_cutoff(cutoff, "cutoff")
    if isinstance(decays, Sequence) and not isinstance(decays, str):
        decays = list(decays)
    _decay_arrays(decays, 1)  # validates the decays on the client
    ns = g.n if src is None else len(src)
    ncols = opp.shape[1] * len(decays if isinstance(decays, list) else [decays])
    if ns == 0:
        return np.zeros((0, ncols), dtype=np.float64)
    prepare_workers(client)
    bs = _block_arg(block_size) or choose_block_size(ns, 8 * ncols, _total_threads(client))
    meth, ch = _resolve_method(g, src, cutoff, method)
    all_src = np.arange(g.n, dtype=np.int32) if src is None else src
    futures: list = []
    held: list = []  # scattered inputs, released with the blocks
    try:
        g_f = _scatter(client, g, held)
        ch_f = _scatter(client, ch, held) if ch is not None else None
        o_f = _scatter(client, opp, held)
        token = uuid.uuid4().hex[:12]
        for i, (a, b) in enumerate(_blocks(ns, bs)):
            futures.append(
                client.submit(
                    _access_rows,
                    g_f,
                    ch_f,
                    o_f,
                    decays,
                    cutoff,
                    all_src[a:b],
                    meth,
                    key=f"fietsstad-acc-{token}-{i}",
                )
            )
        return np.concatenate(client.gather(futures), axis=0)
    finally:
        _release(futures + held)


def accessibility_dask(
    client: Client,
    net,
    opportunities,
    decays=None,
    cutoff_s: float | None = None,
    *,
    sources=None,
    method: str = "auto",
    block_size: int | None = None,
):
    """``fietsstad.accessibility.accessibility`` on a Dask cluster: the identical DataFrame.

    The indicators are computed by :func:`accessibility_matrix_dask` (blocks of origins on the
    workers, the graph scattered once) and laid out exactly as the single-machine function does.

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
    opportunities, decays, cutoff_s, sources, method
        As in ``fietsstad.accessibility.accessibility``.
    block_size : int, optional
        Origins per task.

    Returns
    -------
    pandas.DataFrame
        One row per origin, one column per opportunity column and decay.

    Example
    -------
    >>> from fietsstad.engine import Decay
    >>> df = accessibility_dask(client, net, net_population, [Decay.cumulative(900)],
    ...                         cutoff_s=900)                      # doctest: +SKIP
    """
    from fietsstad.analysis import access as acc_mod
    from fietsstad.engine import Decay
    from fietsstad.network import BikeNetwork

    _check_client(client)
    if not isinstance(net, BikeNetwork):
        raise ValidationError(
            f"accessibility_dask needs a BikeNetwork, not {type(net).__name__} (for engine "
            "arrays or a CSRGraph use accessibility_matrix_dask)"
        )
    if decays is None:
        decays = (Decay.cumulative(900),)  # the default of accessibility.accessibility
    return acc_mod._to_frame(
        net,
        opportunities,
        decays,
        sources,
        lambda g, opp, dec, cutoff, src: accessibility_matrix_dask(
            client, g, opp, dec, cutoff=cutoff, sources=src, method=method, block_size=block_size
        ),
        cutoff_s,
    )


def _cost_blocks(client: Client, cost, block_size: int | None, held: list) -> list:
    """Row-block futures of a cost matrix: given futures, a Zarr array/store, or numpy."""
    from distributed import Future

    if isinstance(cost, (list, tuple)) and cost and all(isinstance(f, Future) for f in cost):
        return list(cost)
    if isinstance(cost, (str, os.PathLike)) or type(cost).__module__.startswith("zarr"):
        import zarr

        if isinstance(cost, (str, os.PathLike)):
            store = str(cost) if "://" in str(cost) else str(Path(cost).expanduser().resolve())
            node = zarr.open(store=store, mode="r")
            path = "travel_time" if isinstance(node, zarr.Group) else ""
            arr = node["travel_time"] if path else node
        else:
            arr, store, path = cost, str(cost.store.root), str(cost.path)
        if arr.ndim != 2:
            raise ValidationError(f"cost must be a 2-D matrix, got shape {arr.shape}")
        bs = _block_arg(block_size) or int(arr.chunks[0])
        token = uuid.uuid4().hex[:12]
        futs = [
            client.submit(_zarr_rows, store, path, a, b, key=f"fietsstad-zrows-{token}-{i}")
            for i, (a, b) in enumerate(_blocks(arr.shape[0], bs))
        ]
        held.extend(futs)
        return futs
    if isinstance(cost, np.ndarray):
        if cost.ndim != 2:
            raise ValidationError(f"cost must be a 2-D matrix, got shape {cost.shape}")
        bs = _block_arg(block_size) or choose_block_size(
            cost.shape[0], cost.shape[1] * cost.itemsize, _total_threads(client)
        )
        futs = client.scatter([cost[a:b] for a, b in _blocks(cost.shape[0], bs)], hash=False)
        held.extend(futs)
        return futs
    raise ValidationError(
        "cost must be a list of row-block futures (in row order), a Zarr array or store path, "
        f"or a numpy matrix, not {type(cost).__name__}"
    )


def _check_blocks(client: Client, blocks: list, n: int, m: int) -> tuple[list[int], np.dtype, int]:
    """Validate the blocks on the workers (shape, dtype, no negative int32 costs).

    Returns the rows per block, the dtype and the largest finite cost (for int32 tables).
    """
    from fietsstad.demand.gravity import UNREACHABLE_I32

    info = client.gather([client.submit(_block_info, f, pure=False) for f in blocks])
    dts = {d for _, d, _, _ in info}
    if any(len(s) != 2 for s, _, _, _ in info):
        raise ValidationError("cost must be a 2-D matrix (every block 2-D)")
    if not dts <= {"uint16", "int32"} or len(dts) != 1:
        raise ValidationError(
            f"cost must be a uint16 or int32 matrix of integer costs (seconds, or metres), got "
            f"{sorted(dts)}; round float costs first, e.g. np.rint(c).astype(np.int32), with inf "
            f"as {UNREACHABLE_I32}"
        )
    rows = [int(s[0]) for s, _, _, _ in info]
    cols = {int(s[1]) for s, _, _, _ in info}
    if sum(rows) != n or cols != {m}:
        raise ValidationError(f"cost has shape ({sum(rows)}, {sorted(cols)}), expected ({n}, {m})")
    if min(lo for _, _, lo, _ in info) < 0:
        raise ValidationError("cost has negative costs")
    return rows, np.dtype(dts.pop()), max(0, max(hi for _, _, _, hi in info))


def tree_reduce(client: Client, futures: list, func, key: str | None = None):
    """Combine futures pairwise on the cluster with ``func(x, y)`` (a binary tree of tasks).

    Only the final future's value needs to travel to the client.

    Example
    -------
    >>> tree_reduce(client, client.map(np.full, [2] * 3, range(3)), np.maximum)  # doctest: +SKIP
    <Future: pending, key: ...>
    """
    level = list(futures)
    if not level:
        raise ValidationError("nothing to reduce")
    depth = 0
    while len(level) > 1:
        nxt = [
            client.submit(
                func,
                level[i],
                level[i + 1],
                **({"key": f"{key}-r{depth}-{i}"} if key else {}),
            )
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        depth += 1
    return level[0]


def _balance(client, P, A, blocks, cost_dtype, max_cost, deterrence, tol, max_iter, opts, keep):
    """The Furness loop of ``demand.gravity_distribution`` with row blocks on the workers.

    Returns the GravityModel and the futures holding ``a`` of every block (for the modal step).
    Every pass's futures are appended to ``keep`` (the caller releases them when done): Dask can
    recompute a block lost with a worker only while the chain of passes behind it is still held.
    """
    from fietsstad.demand import GravityModel, deterrence_table
    from fietsstad.errors import ConvergenceError

    scale, cutoff, normalise = opts
    sp, sa = float(P.sum()), float(A.sum())
    if sp <= 0 or sa <= 0:
        raise ConvergenceError("productions and attractions must have positive totals")
    if abs(sp - sa) > tol * max(sp, sa):
        if not normalise:
            raise ConvergenceError(
                f"productions total {sp:.6g} and attractions total {sa:.6g} differ: a doubly "
                "constrained model cannot meet both; pass normalise=True to scale the "
                "attractions to the productions total"
            )
        A = A * (sp / sa)
    size = 65536 if cost_dtype == np.uint16 else int(max_cost) + 1
    f = deterrence_table(deterrence, size=size, scale=scale, cutoff=cutoff)
    m = len(A)
    held: list = []
    f_f = _scatter(client, f, held)
    bounds = np.cumsum([0] + [r for r, _ in blocks])
    # P slices and b travel inside the task specs (small vectors), so a lost block can always
    # be recomputed along its chain of passes back to the routing block
    p_s = [P[bounds[i] : bounds[i + 1]] for i in range(len(blocks))]
    token = uuid.uuid4().hex[:12]
    b = np.where(A > 0, 1.0, 0.0)
    prev: list = [None] * len(blocks)
    err = math.inf
    try:
        for it in range(1, max_iter + 2):
            res = [
                client.submit(
                    _furness_block,
                    blk,
                    f_f,
                    p_s[i],
                    prev[i],
                    b,
                    int(bounds[i]),
                    key=f"fietsstad-furness-{token}-{it}-{i}",
                )
                for i, (_, blk) in enumerate(blocks)
            ]
            keep.extend(res)
            total = tree_reduce(client, res, _furness_combine, f"fietsstad-fsum-{token}-{it}")
            vec = _partial(total.result())
            err = float(vec[m])
            if it == 1:
                if vec[m + 1] > 0:
                    raise ConvergenceError(
                        f"{int(vec[m + 1])} origin(s) with positive productions reach no "
                        "destination (all pairs unreachable, beyond the cutoff or to zero "
                        f"attractions), first: position {int(vec[m + 2])}; drop them or fix the "
                        "cost matrix"
                    )
            elif err <= tol:
                a = np.concatenate(client.gather([client.submit(_a_of, p) for p in prev]))
                return GravityModel(a, b.copy(), f, it - 1, err), prev
            col = vec[:m]
            if it == 1:
                dead = np.flatnonzero((A > 0) & (col <= 0))
                if len(dead):
                    raise ConvergenceError(
                        f"{len(dead)} destination(s) with positive attractions are reached by no "
                        f"origin with productions, first: position {int(dead[0])}"
                    )
            with np.errstate(divide="ignore", invalid="ignore"):
                b = np.where(A > 0, A / col, 0.0)
            prev = res
        raise ConvergenceError(
            f"Furness did not converge within {max_iter} iterations (largest relative row-margin "
            f"error {err:.3g} > tol {tol:g}); the margins may be incompatible with the reachable "
            "pairs (e.g. separate components with different totals); raise max_iter or tol"
        )
    finally:
        _release(held)


def _margins(productions, attractions, tol, max_iter):
    from fietsstad._validate import check_finite_nonneg, check_in_range, check_int

    P = check_finite_nonneg(productions, "productions").ravel()
    A = check_finite_nonneg(attractions, "attractions").ravel()
    tol = check_in_range(tol, "tol", 0.0, 1.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    return P, A, tol, max_iter


def gravity_distribution_dask(
    client: Client,
    productions,
    attractions,
    cost,
    deterrence: Any = ("exponential", 0.1),
    tol: float = 1e-6,
    max_iter: int = 500,
    *,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    normalise: bool = False,
    block_size: int | None = None,
):
    """:func:`fietsstad.demand.gravity_distribution` with the cost matrix in row blocks on a cluster.

    Furness balancing of ``T_ij = a_i b_j f(c_ij)`` where the cost matrix is never gathered:
    every pass, each worker runs the single-machine kernel (``_ipf._furness_pass``) on its row
    block with the broadcast ``b``, keeps its new ``a`` rows, and returns the partial column sums
    and its largest row error; these are combined pairwise on the cluster (:func:`tree_reduce`)
    and only a length-``m`` vector reaches the client, which updates ``b``. Same convergence
    test, same errors and (up to float summation order of the column sums) the same ``a``, ``b``.

    Parameters
    ----------
    client : distributed.Client
    productions, attractions : array-like
        As in :func:`~fietsstad.demand.gravity_distribution` (finite, ``>= 0``).
    cost : list of futures, Zarr array or store path, or numpy array
        The ``(origins, destinations)`` uint16/int32 costs as row blocks: futures in row order
        (each a 2-D block, or a ``(times, metres)`` tuple from routing), a Zarr array or group
        (``travel_time``) read block by block on the workers, or a numpy matrix (scattered in
        blocks; convenient for tests).
    deterrence, tol, max_iter, scale, cutoff, normalise
        As in :func:`~fietsstad.demand.gravity_distribution`.
    block_size : int, optional
        Rows per block for Zarr (default: its chunk rows) or numpy input.

    Returns
    -------
    fietsstad.demand.GravityModel

    Raises
    ------
    ConvergenceError
        The same cases, and the same messages, as the single-machine function.
    ValidationError
        Bad margins, shapes, dtypes or negative costs.

    Example
    -------
    >>> c = np.array([[60, 600], [600, 60]], dtype=np.uint16)
    >>> g = gravity_distribution_dask(client, [10.0, 30.0], [20.0, 20.0], c)  # doctest: +SKIP
    >>> g.iterations > 0                                                       # doctest: +SKIP
    True
    """
    _check_client(client)
    P, A, tol, max_iter = _margins(productions, attractions, tol, max_iter)
    prepare_workers(client)
    held: list = []
    try:
        futs = _cost_blocks(client, cost, block_size, held)
        rows, dt, mx = _check_blocks(client, futs, len(P), len(A))
        grav, _ = _balance(
            client, P, A, list(zip(rows, futs)), dt, mx, deterrence, tol, max_iter,
            (scale, cutoff, normalise), held,
        )  # fmt: skip
        return grav
    finally:
        _release(held)


def modal_share_dask(
    client: Client,
    net,
    zones,
    model: Any = "zwolle_2024",
    ebike_model: Any = "zwolle_2024_ebike",
    *,
    distance_scale: float = 0.001,
    gradient: Any = 0.0,
    deterrence: Any = ("exponential", 0.1),
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    tol: float = 1e-6,
    max_iter: int = 500,
    normalise: bool = True,
    car_share: float | None = None,
    co2_kg_per_km: float | None = None,
    top_pairs: int = 1000,
    hist_width_km: float = 0.1,
    hist_max_km: float = 40.0,
    uptake_on: str = "distance",
    reference_speed_kmh: float = 16.0,
    block_size: int | None = None,
) -> dict:
    """:func:`fietsstad.demand.modal_share` of a network, run entirely on a Dask cluster.

    1. Routing: the fastest routes between all zone pairs (uint16 seconds, int32 metres along
       them) are computed on the workers in blocks of origin zones, with the network scattered
       once. The blocks stay on the workers as futures.
    2. Balancing: :func:`gravity_distribution_dask` on those blocks (each Furness pass: per-block
       kernel, tree-reduced column sums, ``b`` updated on the client from a length-m vector).
    3. Reduction: each block runs the single-machine modal kernel (``_ipf._modal_rows``) and its
       top pairs; column sums, the trip-length histogram and the bad-pair count are tree-summed
       on the cluster; per-zone rows and per-block top pairs (O(zones) each) come back.

    The zone matrices are never gathered. Each routing block is a dependency of its Furness and
    modal tasks, so if a worker dies Dask recomputes the lost blocks from the scattered network.
    Tables equal ``modal_share(net, zones, ...)`` up to float summation order (tested to 1e-9).

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
    zones : (Geo)DataFrame
        As in :func:`fietsstad.demand.modal_share` (``node`` column, or snapped).
    model, ebike_model, distance_scale, gradient, deterrence, scale, cutoff, tol, max_iter,
    normalise, car_share, co2_kg_per_km, top_pairs, hist_width_km, hist_max_km, uptake_on,
    reference_speed_kmh
        As in :func:`fietsstad.demand.modal_share` (``car_share``/``co2_kg_per_km`` default to
        its documented assumptions). ``intrazonal_km`` is not available on the cluster yet.
    block_size : int, optional
        Origin zones per task.

    Returns
    -------
    dict of pandas.DataFrame
        ``"zones"``, ``"city"``, ``"od"``, ``"distribution"`` as :func:`modal_share`.

    Example
    -------
    >>> r = modal_share_dask(client, net, zones)                    # doctest: +SKIP
    >>> r["city"]["bike_share"].iloc[0]                            # doctest: +SKIP
    0.43
    """

    from fietsstad import demand
    from fietsstad._validate import check_in_range, check_int
    from fietsstad.demand.modal import _result_tables, _zone_table
    from fietsstad.demand.pct import _sentinel_for, get_model
    from fietsstad.network import BikeNetwork

    _check_client(client)
    if not isinstance(net, BikeNetwork):
        raise ValidationError(
            "modal_share_dask needs a BikeNetwork (for a ready cost matrix there is nothing to "
            "distribute: call fietsstad.demand.modal_share directly)"
        )
    m_b, m_e = get_model(model), get_model(ebike_model)
    zt = _zone_table(zones)
    P, A, tol, max_iter = _margins(zt["productions"].to_numpy(), zt["attractions"].to_numpy(),
                                   tol, max_iter)  # fmt: skip
    dscale = check_in_range(
        distance_scale, "distance_scale", 0, math.inf, lo_open=True, hi_open=True
    )
    car = demand.CAR_SHARE_OF_SHIFTED if car_share is None else car_share
    car = check_in_range(car, "car_share", 0.0, 1.0)
    co2 = demand.CO2_KG_PER_CAR_KM if co2_kg_per_km is None else co2_kg_per_km
    co2 = check_in_range(co2, "co2_kg_per_km", 0.0, math.inf, hi_open=True)
    top = check_int(top_pairs, "top_pairs", min_value=0)
    hw = check_in_range(hist_width_km, "hist_width_km", 0, math.inf, lo_open=True, hi_open=True)
    hmax = check_in_range(hist_max_km, "hist_max_km", hw, 1e6)
    if uptake_on == "time":
        v = check_in_range(reference_speed_kmh, "reference_speed_kmh", 0, 100, lo_open=True)
        v = v / 3600.0
    elif uptake_on == "distance":
        v = None
    else:
        raise ValidationError(f"uptake_on must be 'distance' or 'time', not {uptake_on!r}")
    n = len(P)
    if np.ndim(gradient) == 2 and np.shape(gradient) != (n, len(A)):
        raise ValidationError(
            "gradient must be a scalar or a finite matrix of the distances' shape"
        )
    nodes = zt["node"].to_numpy(np.int32) if "node" in zt.columns else demand.snap_zones(net, zt)
    nodes = _nodes(nodes, net.n_nodes, "zone nodes")
    if len(nodes) != n:
        raise ValidationError(f"{len(nodes)} zone nodes for {n} zones")
    nbins = int(math.ceil(hmax / hw)) + 1
    g = _as_graph(net)[0]
    sec = np.rint(net.length).astype(np.int32)
    prepare_workers(client)
    bs = _block_arg(block_size) or choose_block_size(n, n * 6, _total_threads(client))
    meth, ch = _resolve_method(g, nodes, None, "auto", secondary=sec)
    held: list = []
    futures: list = []
    try:
        g_f = _scatter(client, g, held)
        ch_f = _scatter(client, ch, held) if ch is not None else None
        t_f = _scatter(client, nodes, held)
        s_f = _scatter(client, sec, held)
        token = uuid.uuid4().hex[:12]
        spans = _blocks(n, bs)
        # 1. routing blocks (uint16 s, int32 m, saturated: modal_share's call), kept on workers
        tt = [
            client.submit(
                _tt_rows,
                g_f,
                ch_f,
                nodes[a:b],
                t_f,
                None,
                np.dtype(np.uint16),
                meth,
                True,
                s_f,
                key=f"fietsstad-zone-tt-{token}-{i}",
            )  # fmt: skip
            for i, (a, b) in enumerate(spans)
        ]
        held.extend(tt)
        # 2. balancing on the blocks
        grav, a_futs = _balance(
            client, P, A, [(b - a, f) for (a, b), f in zip(spans, tt)], np.dtype(np.uint16), 0,
            deterrence, tol, max_iter, (scale, cutoff, normalise), held,
        )  # fmt: skip
        futures.extend(a_futs)
        # 3. modal reduction per block; sums combined on the cluster
        ctx = {
            "models": (m_b, m_e), "dscale": dscale, "uptake_on": uptake_on, "v": v,
            "gradient": gradient, "intra": np.full(n, -1.0), "nbins": nbins, "hw": hw,
            "sentinel": _sentinel_for(np.dtype(np.int32)), "top": top,
        }  # fmt: skip
        c_f = _scatter(client, ctx, held)
        b_f = _scatter(client, grav.b, held)
        f_f = _scatter(client, grav.table, held)
        mod = [
            client.submit(
                _modal_block, tt[i], a_futs[i], b_f, f_f, c_f, a, key=f"fietsstad-modal-{token}-{i}"
            )  # fmt: skip
            for i, (a, _) in enumerate(spans)
        ]
        futures.extend(mod)
        packed = [client.submit(_item, f, 1, key=f"fietsstad-mpack-{token}-{i}")
                  for i, f in enumerate(mod)]  # fmt: skip
        futures.extend(packed)
        total = tree_sum(client, packed)
        futures.append(total)
        rows = np.concatenate(client.gather([client.submit(_item, f, 0) for f in mod]))
        ods = client.gather([client.submit(_item, f, 2) for f in mod])
        tot = total.result()
    finally:
        _release(futures + held)
    m = len(A)
    col = tot[: 3 * m].reshape(m, 3)
    hs = tot[3 * m : -1].reshape(nbins, 4)
    out, city, distribution = _result_tables(
        zt, rows, col, hs, int(tot[-1]), car, co2, m_b, m_e, grav, hw, hmax
    )
    return {
        "zones": out,
        "city": city,
        "od": _merge_top_pairs(zt, ods, [a for a, _ in spans], top),
        "distribution": distribution,
    }


def _merge_top_pairs(zt, ods: list, row0s: list[int], k: int):
    """The global top ``k`` pairs from each block's top ``k`` (positions -> zone labels)."""
    import pandas as pd

    parts = []
    for od, r0 in zip(ods, row0s):
        od = od.copy()
        od["origin"] = od["origin"].to_numpy(np.int64) + r0
        parts.append(od)
    od = pd.concat(parts, ignore_index=True)
    if k == 0 or od.empty:
        return ods[0].iloc[:0].astype(ods[0].dtypes.to_dict()) if ods else pd.DataFrame()
    key = od["bike_trips"].to_numpy().astype(np.float32)
    order = np.argsort(-key, kind="stable")[:k]
    od = od.iloc[order].reset_index(drop=True)
    labels = zt.index.to_numpy()
    od["origin"] = labels[od["origin"].to_numpy(np.int64)]
    od["destination"] = labels[od["destination"].to_numpy(np.int64)]
    return od


def tree_sum(client: Client, futures: list):
    """Sum futures pairwise on the cluster (a binary tree of ``client.submit`` additions).

    Only the final sum travels to the client; partial sums stay on the workers.

    Example
    -------
    >>> fs = client.map(lambda i: np.full(3, i), range(5))          # doctest: +SKIP
    >>> tree_sum(client, fs).result().tolist()                      # doctest: +SKIP
    [10, 10, 10]
    """
    if not futures:
        raise ValidationError("nothing to sum")
    return tree_reduce(client, futures, _add)


def uptake_totals_dask(
    client: Client,
    net,
    origins=None,
    destinations=None,
    trips=None,
    model="zwolle_2024",
    *,
    gradient_pct: float = 0.0,
    cutoff_s: float | None = None,
    block_size: int | None = None,
) -> dict[str, float]:
    """Trip-weighted cycling uptake totals over an OD set, reduced on the cluster.

    For every origin block a task computes the fastest routes (uint16 seconds and metres along
    them, the same engine call as ``routing.travel_time_matrix(..., with_distance=True,
    saturate=True)``), the PCT uptake ``p`` of every pair (:func:`fietsstad.uptake.uptake`, route
    distance in km) and five partial sums; the partial sums are added pairwise on the workers
    (:func:`tree_sum`). Neither the matrices nor the shares ever reach the client, so the OD set
    may be far larger than one machine's memory.

    Single-machine equivalent (equal up to float summation order)::

        t, m = travel_time_matrix(net, origins, destinations, cutoff_s=cutoff_s,
                                  with_distance=True, saturate=True)
        reach = t != 65535
        p = uptake(np.where(reach, m, 2**31 - 1), gradient_pct, model, distance_scale=0.001)
        bike_trips = (trips * p).sum()                   # and so on

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
    origins, destinations : node positions, lon/lat points, GeoDataFrame or None (all nodes)
    trips : float array (n_origins, n_destinations), optional
        All-mode trips per pair (default 1 per pair: totals become pair counts).
    model : UptakeModel or preset name
        Default ``"zwolle_2024"`` (see :mod:`fietsstad.uptake`).
    gradient_pct : float
        Average route gradient (Zwolle: flat).
    cutoff_s : float, optional
        Pairs further apart count as unreachable (uptake 0, no km).
    block_size : int, optional
        Origins per task.

    Returns
    -------
    dict
        ``trips``, ``reachable_trips``, ``trip_km`` (reachable pairs), ``bike_trips``,
        ``bike_share`` (of all trips), ``bike_km``, ``mean_bike_trip_km``.

    Example
    -------
    >>> tot = uptake_totals_dask(client, net, zones_nodes, zones_nodes, trips)  # doctest: +SKIP
    >>> round(tot["bike_share"], 3)                                           # doctest: +SKIP
    0.412
    """
    from fietsstad.analysis.routing import as_nodes
    from fietsstad.demand import get_model
    from fietsstad.network import BikeNetwork

    _check_client(client)
    if not isinstance(net, BikeNetwork):
        raise ValidationError(f"net must be a BikeNetwork, not {type(net).__name__}")
    m = get_model(model)
    gradient = float(gradient_pct)
    if not math.isfinite(gradient):
        raise ValidationError(f"gradient_pct must be finite, got {gradient_pct!r}")
    g = _as_graph(net)[0]
    src = _nodes(as_nodes(net, origins, "origins"), g.n, "origins")
    tgt = _nodes(as_nodes(net, destinations, "destinations"), g.n, "destinations")
    cutoff = _check_cutoff(cutoff_s)
    ns = g.n if src is None else len(src)
    nt = g.n if tgt is None else len(tgt)
    if trips is not None:
        trips = np.asarray(trips, dtype=np.float64)
        if trips.shape != (ns, nt):
            raise ValidationError(f"trips must have shape ({ns}, {nt}), got {trips.shape}")
        if not np.all(np.isfinite(trips)) or np.any(trips < 0):
            raise ValidationError("trips must be finite and >= 0")
    if ns == 0 or nt == 0:
        raise ValidationError("uptake totals need at least one origin and one destination")
    metres = np.rint(net.length).astype(np.int32)
    prepare_workers(client)
    bs = _block_arg(block_size) or choose_block_size(ns, nt * 30, _total_threads(client))
    meth, ch = _resolve_method(g, src, cutoff, "auto", secondary=metres)
    all_src = np.arange(g.n, dtype=np.int32) if src is None else src
    futures: list = []
    held: list = []  # scattered inputs, released with the blocks
    try:
        g_f = _scatter(client, g, held)
        ch_f = _scatter(client, ch, held) if ch is not None else None
        t_f = _scatter(client, tgt, held) if tgt is not None else None
        s_f = _scatter(client, metres, held)
        token = uuid.uuid4().hex[:12]
        for i, (a, b) in enumerate(_blocks(ns, bs)):
            futures.append(
                client.submit(
                    _uptake_block,
                    g_f,
                    ch_f,
                    all_src[a:b],
                    t_f,
                    cutoff,
                    meth,
                    s_f,
                    None if trips is None else trips[a:b],
                    m,
                    gradient,
                    key=f"fietsstad-uptake-{token}-{i}",
                )
            )
        total = tree_sum(client, futures)
        futures.append(total)
        tr, reach, km, bike, bike_km = (float(v) for v in total.result())
    finally:
        _release(futures + held)
    return {
        "trips": tr,
        "reachable_trips": reach,
        "trip_km": km,
        "bike_trips": bike,
        "bike_share": bike / tr if tr else 0.0,
        "bike_km": bike_km,
        "mean_bike_trip_km": bike_km / bike if bike else 0.0,
    }


def evaluate_scenarios_dask(
    client: Client, net, routes: Sequence, zones=None, **kwargs: Any
) -> list:
    """:func:`fietsstad.scenario.evaluate_snelfietspad` over many routes on a Dask cluster.

    The network (and the zones) are scattered to every worker once; each task evaluates one
    route (before against after) exactly as the single-machine function does, so result ``i``
    equals ``evaluate_snelfietspad(net, routes[i], zones, **kwargs)``.

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
        The network before any route (not modified).
    routes : sequence of Snelfietspad or shipped route names
    zones : GeoDataFrame, optional
        As in :func:`evaluate_snelfietspad` (default: Zwolle's 16 districts).
    **kwargs
        Passed on to :func:`evaluate_snelfietspad` (profile, model, demand, ...).

    Returns
    -------
    list of ScenarioResult, in the order of ``routes``.

    Example
    -------
    >>> from fietsstad.scenario import zwolle_routes
    >>> results = evaluate_scenarios_dask(client, net, list(zwolle_routes().values()))  # doctest: +SKIP
    >>> [r.summary["bike_share_change_pp"] for r in results]        # doctest: +SKIP
    [0.21, 0.08, ...]
    """
    from fietsstad.network import BikeNetwork

    _check_client(client)
    if not isinstance(net, BikeNetwork):
        raise ValidationError(f"net must be a BikeNetwork, not {type(net).__name__}")
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence):
        raise ValidationError("routes must be a list of Snelfietspad objects or route names")
    routes = list(routes)
    if not routes:
        return []
    prepare_workers(client)
    futures: list = []
    held: list = []  # scattered inputs, released with the blocks
    try:
        n_f = _scatter(client, net, held)
        z_f = _scatter(client, zones, held) if zones is not None else None
        token = uuid.uuid4().hex[:12]
        for i, route in enumerate(routes):
            futures.append(
                client.submit(
                    _evaluate_one,
                    n_f,
                    route,
                    z_f,
                    dict(kwargs),
                    key=f"fietsstad-scenario-{token}-{i}",
                )
            )
        return client.gather(futures)
    finally:
        _release(futures + held)
