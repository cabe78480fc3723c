"""Dask scale-out: the heavy operations on a cluster, with the same results.

Every ``X_dask(client, ...)`` here takes exactly the parameters of its single-machine function
``X``, in the same order and with the same defaults, with a Dask :class:`distributed.Client`
first (the stumpy ``stump(T, m)`` / ``stumped(client, T, m)`` pattern); Dask-only options
(``block_size``, ``store``, ...) are keyword-only and come last. A test checks this with
:func:`inspect.signature`. Each runs the single-machine code on blocks of rows:

==============================================  ============================================
single machine                                  Dask cluster
==============================================  ============================================
``analysis.travel_time_matrix(net, ...)``       :func:`travel_time_matrix_dask` (Zarr or numpy)
``engine.accessibility(g, ...)``                :func:`accessibility_matrix_dask`
``analysis.accessibility(net, ...)``            :func:`accessibility_dask`
``demand.gravity_distribution(P, A, cost)``     :func:`gravity_distribution_dask`
``demand.modal_share(net_or_cost, zones, ...)`` :func:`modal_share_dask`
``scenario.evaluate_snelfietspad`` per route    :func:`evaluate_scenarios_dask`
(none: uptake summed over an OD set)            :func:`uptake_totals_dask` (tree reduction)
==============================================  ============================================

Inputs are scattered once per call, ``method`` is resolved once on the client
(:func:`fietsstad.engine.resolve_method`), each task runs the single-machine step on a block of
rows, matrices go to Zarr chunk by chunk, small results are tree-reduced on the cluster, and
every call holds its futures in one scaffold (``_cluster._Run``) that releases them at the end.
Tasks are pure, so a killed worker only makes Dask re-run its blocks. See docs/distributed.md.

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
from collections.abc import Sequence
from concurrent.futures import CancelledError
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from fietsstad import engine
from fietsstad._validate import check_finite_nonneg, check_node_ids, renamed_parameters
from fietsstad.analysis.access import DEFAULT_DECAYS
from fietsstad.demand.gravity import (
    DEFAULT_DETERRENCE,
    MAX_ITER,
    furness_balance,
)
from fietsstad.demand.pct import ZWOLLE_2024, ZWOLLE_2024_EBIKE
from fietsstad.errors import GraphError, ValidationError
from fietsstad.scenario import evaluate as _ev

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import numpy.typing as npt
    import pandas as pd
    import zarr

    from distributed import Client
    from fietsstad.analysis.access import OpportunitiesLike
    from fietsstad.analysis.routing import NodesLike
    from fietsstad.demand.gravity import GravityModel
    from fietsstad.network import BikeNetwork
    from fietsstad.scenario.evaluate import ScenarioResult
    from fietsstad.scenario.route import Snelfietspad

try:
    import distributed  # noqa: F401
except ImportError as _err:  # pragma: no cover - optional dependency
    raise ImportError(
        "fietsstad.distributed needs Dask: pip install 'fietsstad[dask]' "
        "(dask[distributed] and zarr)"
    ) from _err

from fietsstad.distributed._cluster import (  # noqa: F401 - public names re-exported
    DEFAULT_BLOCK_BYTES,
    PLUGIN_NAME,
    NumbaWarmup,
    _block_arg,
    _blocks,
    _check_blocks,
    _cost_blocks,
    _create_store,
    _key,
    _release,
    _Run,
    _total_threads,
    choose_block_size,
    prepare_workers,
    tree_reduce,
    tree_sum,
    worker_state,
)
from fietsstad.distributed._tasks import (
    _DTYPES,
    _access_rows,
    _evaluate_one,
    _furness_block,
    _furness_combine,
    _item,
    _modal_block,
    _partial,
    _tt_rows,
    _tt_to_zarr,
    _uptake_block,
)

#: What the ``net`` of a ``*_dask`` function may be: a network, an engine graph, or the
#: ``(indptr, indices, weights)`` arrays of one.
NetLike: TypeAlias = (
    "BikeNetwork | engine.CSRGraph | tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike]"
)


def _as_graph(net):
    """A validated engine graph and the BikeNetwork (or None) it came from."""
    from fietsstad.network import BikeNetwork

    if isinstance(net, BikeNetwork):
        return net.engine_graph(), net
    if isinstance(net, engine.CSRGraph):
        return net, None
    if isinstance(net, tuple) and len(net) == 3:
        return engine.CSRGraph.from_arrays(*net), None
    raise GraphError(
        "net must be a BikeNetwork, an engine CSRGraph or an "
        f"(indptr, indices, weights) tuple, not {type(net).__name__}"
    )


def _network(net, what: str):
    from fietsstad.network import BikeNetwork

    if not isinstance(net, BikeNetwork):
        raise ValidationError(f"{what} needs a BikeNetwork, not {type(net).__name__}")
    return net


def _nodes(nodes, n: int, name: str) -> np.ndarray | None:
    return None if nodes is None else check_node_ids(nodes, n, name, allow_empty=True)


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


def _plan(run: _Run, g, src, cutoff, method, secondary=None):
    """Resolve the method once for all sources; scatter the graph (and the hierarchy for PHAST)."""
    meth = engine.resolve_method(g, src, cutoff=cutoff, method=method, secondary=secondary)
    ch = engine.build_ch(g, secondary=secondary) if meth == "phast" else None
    all_src = np.arange(g.n, dtype=np.int32) if src is None else src
    return meth, run.scatter(g), run.scatter(ch), all_src


def travel_time_matrix_dask(
    client: Client,
    net: NetLike,
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
    block_size: int | None = None,
    store: str | os.PathLike | None = None,
    overwrite: bool = False,
    gather: bool = False,
) -> zarr.Array | np.ndarray | tuple[zarr.Array, zarr.Array] | tuple[np.ndarray, np.ndarray]:
    """Many-to-many travel times on a Dask cluster, written chunked to Zarr.

    Mirrors :func:`fietsstad.analysis.travel_time_matrix` (same parameters, plus ``client`` first;
    ``net`` may also be an engine graph, as for :func:`fietsstad.engine.travel_times`), with
    identical values: every block runs the engine call that function runs. Each task computes
    ``block_size`` source rows with the engine's numba kernel and writes them into its own chunk
    row of the Zarr array; the matrix is never gathered into one process (unless ``gather=True``).

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork, engine.CSRGraph or (indptr, indices, weights)
        The network (edge weights: travel time in seconds).
    origins, destinations : node ids, (k, 2) lon/lat array, GeoDataFrame, or None (all)
        Rows and columns. On a BikeNetwork, integers are OSM node ids (``net.positions(...)``
        for positions) and points are snapped, as in ``travel_time_matrix``; on engine arrays,
        node positions.
    cutoff_s, dtype, method, with_distance, saturate
        As in :func:`fietsstad.analysis.travel_time_matrix` (``with_distance`` needs a
        BikeNetwork). ``method`` is resolved once on the client; with PHAST the contraction
        hierarchy is built once and scattered with the graph.
    block_size, store, overwrite, gather
        Dask only (keyword-only, after the mirrored parameters):
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
    out
        With ``gather=True`` only: the array (with ``with_distance``: the tuple ``(times,
        metres)``) the gathered blocks are written into, numpy's ``out=`` convention as in
        :func:`fietsstad.analysis.travel_time_matrix`.

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
    run = _Run(client)
    g, bike = _as_graph(net)
    if bike is not None:
        from fietsstad.analysis.routing import as_nodes

        origins = as_nodes(
            bike, origins, "origins", positions=positions, max_distance_m=max_distance_m
        )
        destinations = as_nodes(
            bike, destinations, "destinations", positions=positions, max_distance_m=max_distance_m
        )
    elif with_distance:
        raise ValidationError("with_distance=True needs a BikeNetwork (edge lengths)")
    src = _nodes(origins, g.n, "origins")
    tgt = _nodes(destinations, g.n, "destinations")
    dt = _check_dtype(dtype)
    cutoff_s = _check_cutoff(cutoff_s)
    if (store is None) == (not gather):
        raise ValidationError(
            "pass store= (a Zarr path or URL every worker can reach) to write the matrix "
            "chunked, or gather=True (small matrices only), not both"
        )
    if out is not None and not gather:
        raise ValidationError("out= needs gather=True; a Zarr store is written by the workers")
    if labels and (not gather or bike is None):
        raise ValidationError(
            "labels=True (rows and columns labelled by OSM node ids) needs gather=True and a "
            "BikeNetwork; a Zarr store holds the matrix in the order of the origins given"
        )
    if store is not None:
        # workers may run elsewhere: hand them an absolute path (URLs stay as they are)
        store = str(store) if "://" in str(store) else str(Path(store).expanduser().resolve())
    ns = g.n if src is None else len(src)
    nt = g.n if tgt is None else len(tgt)
    sec = bike.csr("length")[2] if with_distance else None  # as analysis.travel_time_matrix
    row_bytes = nt * (dt.itemsize + (4 if with_distance else 0))
    if gather:
        engine.check_memory(
            ns * row_bytes,
            f"gathering a {ns:,} x {nt:,} travel-time matrix into this process "
            "(write it to Zarr with store= instead)",
        )
    with run:
        bs = _block_arg(block_size) or choose_block_size(ns, row_bytes, _total_threads(client))
        meth, g_f, ch_f, all_src = _plan(run, g, src, cutoff_s, method, sec)
        if not gather:
            _create_store(
                store, overwrite, ns, nt, bs, dt, src, tgt, g, bike, cutoff_s, meth, with_distance
            )
        t_f, s_f = run.scatter(tgt), run.scatter(sec)
        task, extra = (_tt_rows, ()) if gather else (_tt_to_zarr, (str(store),))
        futures = run.blocks(
            task, ns, bs,
            lambda a, b: (g_f, ch_f, all_src[a:b], t_f, cutoff_s, dt, meth, saturate, s_f, *extra,
                          *(() if gather else (a,))),
            "tt" if gather else "ttz",
        )  # fmt: skip
        if gather:
            times, dist = _gather_outs(out, (ns, nt), dt, with_distance)
            for (a, b), block in zip(_blocks(ns, bs), client.gather(futures)):
                if with_distance:
                    times[a:b], dist[a:b] = block
                else:
                    times[a:b] = block
            res: Any = (times, dist) if with_distance else times
            if labels:
                from fietsstad.analysis.routing import _labelled

                return _labelled(bike, res, src, tgt)
            return res
        written = sum(client.gather(futures))
    if written != ns:  # pragma: no cover - would be a Dask bug
        raise GraphError(f"only {written} of {ns} rows were written to {store}")
    import zarr

    zarr.open_group(store=str(store), mode="r+").attrs["complete"] = True
    z_times = zarr.open_array(store=str(store), path="travel_time", mode="r")
    if with_distance:
        return z_times, zarr.open_array(store=str(store), path="distance_m", mode="r")
    return z_times


def _gather_outs(out, shape, dt, with_distance: bool) -> tuple[np.ndarray, np.ndarray]:
    """The arrays a gathered matrix goes into: the caller's ``out`` (validated) or fresh ones."""
    from fietsstad.engine._memory import check_out

    if out is None:
        return np.empty(shape, dtype=dt), np.empty(shape if with_distance else (0, 0), np.int32)
    if not with_distance:
        if isinstance(out, tuple):
            raise ValidationError("out must be one array here (a tuple only with with_distance)")
        return check_out(out, shape, dt, "out"), np.empty((0, 0), np.int32)
    if not isinstance(out, tuple) or len(out) != 2:
        raise ValidationError("with with_distance=True, out must be a tuple (times, metres)")
    t = check_out(out[0], shape, dt, "out[0]")
    d = check_out(out[1], shape, np.int32, "out[1]")
    if np.may_share_memory(t, d):
        raise ValidationError("out[0] and out[1] overlap; pass two separate arrays")
    return t, d


def accessibility_matrix_dask(
    client: Client,
    graph: NetLike,
    opportunities: npt.ArrayLike,
    decays: Sequence[engine.Decay],
    *,
    cutoff: float | None = None,
    sources: npt.ArrayLike | None = None,
    method: str = "auto",
    block_size: int | None = None,
) -> np.ndarray:
    """:func:`fietsstad.engine.accessibility` on a Dask cluster: identical float64 array.

    Mirrors :func:`fietsstad.engine.accessibility` (the engine function; the network-level
    twin is :func:`accessibility_dask`). The graph and the opportunities are scattered once; each task computes the indicators of a
    block of sources in one traversal per source; the small ``(sources, k * decays)`` table is
    assembled on the client.

    Parameters
    ----------
    client : distributed.Client
    graph : engine.CSRGraph, BikeNetwork or (indptr, indices, weights)
    opportunities, decays, cutoff, sources, method
        As in :func:`fietsstad.engine.accessibility`.
    block_size : int, optional
        Dask only: sources per task (default: at least 4 blocks per worker thread, multiples of 16).

    Returns
    -------
    numpy.ndarray float64 (len(sources), k * len(decays))

    Example
    -------
    >>> from fietsstad.engine import Decay
    >>> A = accessibility_matrix_dask(client, g, np.ones(g.n), [Decay.cumulative(900)],
    ...                               cutoff=900)                     # doctest: +SKIP
    """
    run = _Run(client)
    g, _ = _as_graph(graph)
    src = _nodes(sources, g.n, "sources")
    cutoff = _check_cutoff(cutoff, "cutoff")
    if isinstance(decays, Sequence) and not isinstance(decays, str):
        decays = list(decays)
    opp = np.asarray(opportunities, dtype=np.float64) if np.ndim(opportunities) else opportunities
    # validates graph, opportunities, decays and cut-off as the single-machine call does
    empty = engine.accessibility(g, opp, decays, cutoff=cutoff, sources=[], method="dijkstra")
    ns = g.n if src is None else len(src)
    if ns == 0:
        return empty
    with run:
        ncols = empty.shape[1]
        bs = _block_arg(block_size) or choose_block_size(ns, 8 * ncols, _total_threads(client))
        meth, g_f, ch_f, all_src = _plan(run, g, src, cutoff, method)
        o_f = run.scatter(opp)
        futures = run.blocks(
            _access_rows, ns, bs,
            lambda a, b: (g_f, ch_f, o_f, decays, cutoff, all_src[a:b], meth), "acc",
        )  # fmt: skip
        return np.concatenate(client.gather(futures), axis=0)


@renamed_parameters({"sources": "origins"})
def accessibility_dask(
    client: Client,
    net: BikeNetwork,
    opportunities: OpportunitiesLike,
    decays: Sequence[engine.Decay | float] | engine.Decay | float = DEFAULT_DECAYS,
    cutoff_s: float | None = None,
    *,
    origins: NodesLike = None,
    method: str = "auto",
    positions: bool = False,
    max_distance_m: float | None = None,
    block_size: int | None = None,
) -> pd.DataFrame:
    """:func:`fietsstad.analysis.accessibility` on a Dask cluster: the identical DataFrame.

    Mirrors :func:`fietsstad.analysis.accessibility` (same parameters, plus ``client`` first):
    the same inputs-to-table code (``analysis.access._to_frame``), with the indicators computed
    by :func:`accessibility_matrix_dask` (blocks of origins on the workers).

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
    opportunities, decays, cutoff_s, origins, method, positions, max_distance_m
        As in :func:`fietsstad.analysis.accessibility` (``sources=`` is the old name of
        ``origins``, accepted with a DeprecationWarning).
    block_size : int, optional
        Dask only: origins per task.

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
    from fietsstad.analysis import access

    _Run(client)  # a client, before anything else
    return access._to_frame(
        _network(net, "accessibility_dask (for engine arrays use accessibility_matrix_dask)"),
        opportunities,
        decays,
        origins,
        lambda g, opp, dec, cutoff, src: accessibility_matrix_dask(
            client, g, opp, dec, cutoff=cutoff, sources=src, method=method, block_size=block_size
        ),
        cutoff_s,
        positions=positions,
        max_distance_m=max_distance_m,
    )


#: Times one Furness pass is submitted before a cancellation (a worker lost under load) is final.
_PASS_ATTEMPTS = 3


def _balance(run: _Run, P, A, blocks: list, rows: list[int], size: int, deterrence, tol,
             max_iter, scale, cutoff, normalise, accelerate=True):  # fmt: skip
    """:func:`fietsstad.demand.gravity.furness_balance` with every pass run on the row blocks' workers.

    The client holds everything a pass needs besides the cost blocks: ``a`` and ``b`` (numpy,
    gathered after each pass: ``n + m`` floats) and the productions travel inside the task specs,
    and the deterrence table is scattered by ``run``. So a pass depends on no earlier pass, its
    futures are released when it ends, and a worker's death costs at most the pass under way:
    Dask recomputes its lost blocks, and if it cannot (a scattered input died with the worker,
    the scheduler cancels with "lost dependencies" or "already forgotten"), the cost blocks and
    the table are made again under fresh keys (:meth:`_Run.renew`) and the pass is submitted
    again, from the same client-held vectors, so the result is the same. ``blocks`` is updated
    in place.
    """
    bounds = np.cumsum([0] + rows)
    p_s = [P[bounds[i] : bounds[i + 1]] for i in range(len(blocks))]
    client = run.client

    def start(table):
        f_f = run.scatter(table)
        it = [0]

        def submit_pass(a_s, b, omega, attempt: int, keep: list):
            res = [
                client.submit(_furness_block, blk, f_f, p_s[i], a_s[i], b, int(bounds[i]), omega,
                              key=_key("furness", run.token, it[0], i, attempt))
                for i, blk in enumerate(blocks)
            ]  # fmt: skip
            keep.extend(res)
            total = tree_reduce(
                client, res, _furness_combine, _key("fsum", run.token, it[0], attempt), hold=keep
            )
            a_f = [
                client.submit(_item, r, 0, key=_key("fa", run.token, it[0], i, attempt))
                for i, r in enumerate(res)
            ]
            keep += [total, *a_f]
            return _partial(total.result()), client.gather(a_f)

        def run_pass(a, b, omega):
            nonlocal f_f
            it[0] += 1
            # the blocks' rows of ``a`` of the previous pass (None: first pass), held here
            a_s = [None if a is None else a[bounds[i] : bounds[i + 1]] for i in range(len(blocks))]
            for attempt in range(_PASS_ATTEMPTS):
                keep: list = []
                try:
                    partial, a_new = submit_pass(a_s, b, omega, attempt, keep)
                    break
                except CancelledError:
                    if attempt == _PASS_ATTEMPTS - 1:
                        raise
                    fresh = run.renew([*blocks, f_f])
                    blocks[:], f_f = fresh[:-1], fresh[-1]
                finally:
                    _release(keep)
            return partial, np.concatenate(a_new)

        return run_pass

    return furness_balance(
        P, A, size, start, deterrence, tol, max_iter, scale=scale, cutoff=cutoff,
        normalise=normalise, accelerate=accelerate,
    )  # fmt: skip


def gravity_distribution_dask(
    client: Client,
    productions: npt.ArrayLike,
    attractions: npt.ArrayLike,
    cost: Any,  # futures, a Zarr array / group / path or a numpy matrix: told apart at run time
    deterrence: Any = DEFAULT_DETERRENCE,
    tol: float = 1e-6,
    max_iter: int = MAX_ITER,
    *,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    normalise: bool = False,
    accelerate: bool = True,
    block_size: int | None = None,
) -> GravityModel:
    """:func:`fietsstad.demand.gravity_distribution` with the cost matrix in row blocks on a cluster.

    Furness balancing of ``T_ij = a_i b_j f(c_ij)`` where the cost matrix is never gathered:
    the Furness loop is the single-machine one (:func:`fietsstad.demand.gravity.furness_balance`), and
    every pass runs :func:`fietsstad.demand.gravity.furness_block` on each row block on the workers
    (with ``a`` and ``b`` sent by the client); the partial column sums and row errors are combined
    pairwise on the cluster (:func:`tree_reduce`), so only a length-``m`` vector and the new
    ``a`` (``n`` floats) reach the client. A pass depends on no earlier pass: a worker killed
    mid-run costs at most the pass under way (run again, from blocks made again if their data
    died with the worker). Same parameters (plus ``client`` first), same convergence test and
    errors, and the same ``a``, ``b`` up to float summation order of the column sums.

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
    deterrence, tol, max_iter, scale, cutoff, normalise, accelerate
        As in :func:`~fietsstad.demand.gravity_distribution` (the same over-relaxation
        decisions, made on the client from the same error and ``b``).
    block_size : int, optional
        Dask only: rows per block for Zarr (default: its chunk rows) or numpy input.

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
    run = _Run(client)
    P = check_finite_nonneg(productions, "productions").ravel()
    A = check_finite_nonneg(attractions, "attractions").ravel()
    with run:
        futs = _cost_blocks(run, cost, block_size)
        rows, size = _check_blocks(client, futs, len(P), len(A))
        return _balance(
            run, P, A, futs, rows, size, deterrence, tol, max_iter, scale, cutoff, normalise,
            accelerate,
        )  # fmt: skip


# fmt: off
@renamed_parameters({"car_share": "car_share_of_shifted", "co2_kg_per_km": "co2_kg_per_car_km"})
def modal_share_dask(
    client: Client, net_or_cost: Any, zones: Any = None, model: Any = ZWOLLE_2024,
    ebike_model: Any = ZWOLLE_2024_EBIKE, *, distances: Any = None,
    distance_scale: float = 0.001, gradient: Any = 0.0, deterrence: Any = None,
    scale: float = 1.0 / 60.0, cutoff: float | None = None, tol: float = 1e-6,
    max_iter: int = MAX_ITER, normalise: bool = True, car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None, top_pairs: int = 1000,
    hist_width_km: float = 0.1, hist_max_km: float = 40.0, intrazonal_km: Any = "auto",
    uptake_on: str = "distance", reference_speed_kmh: float = 16.0, assumptions: Any = None,
    block_size: int | None = None,  # Dask only
) -> dict[str, pd.DataFrame]:
    # fmt: on
    """:func:`fietsstad.demand.modal_share` run on a Dask cluster, block by block.

    Mirrors :func:`fietsstad.demand.modal_share` (same parameters, plus ``client`` first) and
    runs its steps (:mod:`fietsstad.demand.modal`):

    1. Matrices: for a network, the fastest routes between all zone pairs (uint16 seconds, int32
       metres along them) are computed on the workers in blocks of origin zones (the network
       scattered once) and stay there; a cost matrix (with ``distances``) is validated as in
       ``modal_share`` and scattered in row blocks.
    2. Balancing: the Furness loop of ``gravity_distribution`` on those blocks (as
       :func:`gravity_distribution_dask`).
    3. Reduction: each block runs :func:`fietsstad.demand.modal.modal_block` (its rows, its
       additive sums, its top pairs); the sums are tree-summed on the cluster and
       :func:`fietsstad.demand.modal.modal_tables` builds the tables.

    The zone matrices are never gathered; a worker's death makes Dask recompute the lost blocks.
    Tables equal ``modal_share(net_or_cost, zones, ...)`` up to float summation order of the
    column sums across blocks (tested to 1e-9).

    Parameters
    ----------
    client : distributed.Client
    net_or_cost, zones, model, ebike_model, distances, distance_scale, gradient, deterrence,
    scale, cutoff, tol, max_iter, normalise, car_share_of_shifted, co2_kg_per_car_km, top_pairs, hist_width_km,
    hist_max_km, intrazonal_km, uptake_on, reference_speed_kmh, assumptions
        As in :func:`fietsstad.demand.modal_share` (the same trip generation, deterrence,
        intrazonal distances and shift accounting, from the same :class:`fietsstad.Assumptions`).
    block_size : int, optional
        Dask only: origin zones per task.

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
    from fietsstad.demand import modal as md
    from fietsstad.demand import snap_zones
    from fietsstad.network import BikeNetwork

    run = _Run(client)
    asm = md._assumptions(assumptions, car_share_of_shifted, co2_kg_per_car_km)
    deterrence = asm.deterrence if deterrence is None else deterrence
    zt = md.zone_table(md.zones_or_default(net_or_cost, zones), asm)
    P = check_finite_nonneg(zt["productions"].to_numpy(), "productions")
    A = check_finite_nonneg(zt["attractions"].to_numpy(), "attractions")
    n = len(P)
    if isinstance(net_or_cost, BikeNetwork):
        net = net_or_cost
        nodes = zt["node"].to_numpy(np.int32) if "node" in zt.columns else snap_zones(net, zt)
        nodes = check_node_ids(nodes, net.n_nodes, "zone nodes")
        if len(nodes) != n:
            raise ValidationError(f"{len(nodes)} zone nodes for {n} zones")
        cost: Any = None
        dist: Any = None
    elif isinstance(net_or_cost, np.ndarray):
        cost, dist = md.modal_matrices(net_or_cost, zt, distances)
    else:
        raise ValidationError(
            "net_or_cost must be a BikeNetwork or a (zones x zones) cost matrix, not "
            f"{type(net_or_cost).__name__}"
        )
    intra = md.resolve_intrazonal(intrazonal_km, zt, asm, dist, distance_scale)
    setup = md.modal_setup(
        (n, len(A)), model, ebike_model, distance_scale=distance_scale, gradient=gradient,
        top_pairs=top_pairs, hist_width_km=hist_width_km, hist_max_km=hist_max_km,
        intrazonal_km=intra, uptake_on=uptake_on, reference_speed_kmh=reference_speed_kmh,
        assumptions=asm,
    )  # fmt: skip
    with run:
        bs = _block_arg(block_size) or choose_block_size(n, n * 6, _total_threads(client))
        spans = _blocks(n, bs)
        if cost is None:  # routing blocks: uint16 s, int32 m, saturated (modal_share's call)
            sec = net.csr("length")[2]
            meth, g_f, ch_f, _ = _plan(run, net.engine_graph(), nodes, None, "auto", sec)
            t_f, s_f = run.scatter(nodes), run.scatter(sec)
            u16 = np.dtype(np.uint16)
            blocks = run.blocks(
                _tt_rows, n, bs,
                lambda a, b: (g_f, ch_f, nodes[a:b], t_f, None, u16, meth, True, s_f), "zone-tt",
            )  # fmt: skip
            size = 65536
        else:
            assert dist is not None  # modal_matrices returns both matrices
            blocks = [run.scatter((cost[a:b], dist[a:b]), broadcast=False) for a, b in spans]
            size = _check_blocks(client, blocks, n, len(A))[1]
        rows = [b - a for a, b in spans]
        grav = _balance(
            run, P, A, blocks, rows, size, deterrence, tol, max_iter, scale, cutoff, normalise
        )
        b_f, f_f, s_f = run.scatter(grav.b), run.scatter(grav.table), run.scatter(setup)
        mod = [
            run.submit(_modal_block, blk, grav.a[a:b], b_f, f_f, s_f, a, key=("modal", i))
            for i, (blk, (a, b)) in enumerate(zip(blocks, spans))
        ]
        packed = [run.submit(_item, f, 1, key=("mpack", i)) for i, f in enumerate(mod)]
        total = tree_sum(client, packed, hold=run.held)
        run.held.append(total)
        rows_ = np.concatenate(client.gather([client.submit(_item, f, 0) for f in mod]))
        ods = client.gather([client.submit(_item, f, 2) for f in mod])
        out = md.modal_tables(zt, setup, grav, rows_, total.result(), ods)
        md.add_snap_distances(out, net_or_cost, zt)
        return out


def uptake_totals_dask(
    client: Client,
    net: BikeNetwork,
    origins: NodesLike = None,
    destinations: NodesLike = None,
    trips: npt.ArrayLike | None = None,
    model: Any = "zwolle_2024",
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

    Has no single-machine twin (no one-process function sums uptake over an OD set); the
    single-machine equivalent, equal up to float summation order, is::

        t, m = travel_time_matrix(net, origins, destinations, cutoff_s=cutoff_s,
                                  with_distance=True, saturate=True)
        reach = t != 65535
        p = uptake(np.where(reach, m, 2**31 - 1), gradient_pct, model, distance_scale=0.001)
        bike_trips = (trips * p).sum()                   # and so on

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
    origins, destinations : OSM node ids, lon/lat points, GeoDataFrame or None (all nodes)
    trips : float array (n_origins, n_destinations), optional
        All-mode trips per pair (default 1 per pair: totals become pair counts).
    model : UptakeModel or preset name
        Default ``"zwolle_2024"`` (see :mod:`fietsstad.uptake`).
    gradient_pct : float
        Average route gradient (Zwolle: flat).
    cutoff_s : float, optional
        Pairs further apart count as unreachable (uptake 0, no km).
    block_size : int, optional
        Dask only: origins per task.

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

    run = _Run(client)
    net = _network(net, "uptake_totals_dask")
    m = get_model(model)
    gradient = float(gradient_pct)
    if not math.isfinite(gradient):
        raise ValidationError(f"gradient_pct must be finite, got {gradient_pct!r}")
    g = net.engine_graph()
    src = _nodes(as_nodes(net, origins, "origins"), g.n, "origins")
    tgt = _nodes(as_nodes(net, destinations, "destinations"), g.n, "destinations")
    cutoff_s = _check_cutoff(cutoff_s)
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
    metres = net.csr("length")[2]
    with run:
        bs = _block_arg(block_size) or choose_block_size(ns, nt * 30, _total_threads(client))
        meth, g_f, ch_f, all_src = _plan(run, g, src, cutoff_s, "auto", metres)
        t_f, s_f = run.scatter(tgt), run.scatter(metres)
        futures = run.blocks(
            _uptake_block, ns, bs,
            lambda a, b: (g_f, ch_f, all_src[a:b], t_f, cutoff_s, meth, s_f,
                          None if trips is None else trips[a:b], m, gradient),
            "uptake",
        )  # fmt: skip
        total = tree_sum(client, futures, hold=run.held)
        run.held.append(total)
        tr, reach, km, bike, bike_km = (float(v) for v in total.result())
    return {
        "trips": tr,
        "reachable_trips": reach,
        "trip_km": km,
        "bike_trips": bike,
        "bike_share": bike / tr if tr else 0.0,
        "bike_km": bike_km,
        "mean_bike_trip_km": bike_km / bike if bike else 0.0,
    }


@renamed_parameters({"car_share_of_new_cyclists": "car_share_of_shifted"})
def evaluate_scenarios_dask(
    client: Client,
    net: BikeNetwork,
    routes: Sequence[Snelfietspad | str],
    zones: gpd.GeoDataFrame | None = None,
    *,
    profile: Any = None,
    model: Any = "zwolle_2024",
    demand: np.ndarray | None = None,
    population_column: str | None = None,
    trips_per_person: float | None = None,
    gradient_pct: float = 0.0,
    access_minutes: float = _ev.ACCESS_MINUTES,
    car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None,
    clip: bool = True,
    route_choice: str = "logit",
    assumptions: Any = None,
) -> list[ScenarioResult]:
    """:func:`fietsstad.scenario.evaluate_snelfietspad` over many routes on a Dask cluster.

    Mirrors what it maps over: the parameters of ``evaluate_snelfietspad``, in order and with
    its defaults, with ``client`` first and ``routes`` (a sequence) for ``route``. The network
    (and the zones) are scattered to every worker once; each task evaluates one route exactly
    as the single-machine function does, so result ``i`` equals
    ``evaluate_snelfietspad(net, routes[i], zones, ...)``.

    Parameters
    ----------
    client : distributed.Client
    net : BikeNetwork
        The network before any route (not modified).
    routes : sequence of Snelfietspad or shipped route names
    zones, profile, model, demand, population_column, trips_per_person, gradient_pct,
    access_minutes, car_share_of_shifted, co2_kg_per_car_km, clip, route_choice,
    assumptions
        As in :func:`fietsstad.scenario.evaluate_snelfietspad`.

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
    kwargs = {k: v for k, v in locals().items() if k not in ("client", "net", "routes", "zones")}
    run = _Run(client)
    net = _network(net, "evaluate_scenarios_dask")
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence):
        raise ValidationError("routes must be a list of Snelfietspad objects or route names")
    if not routes:
        return []
    with run:
        n_f, z_f = run.scatter(net), run.scatter(zones)
        futures = [
            run.submit(_evaluate_one, n_f, route, z_f, kwargs, key=("scenario", i))
            for i, route in enumerate(routes)
        ]
        return client.gather(futures)
