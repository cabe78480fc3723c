"""Worker side of :mod:`fietsstad.distributed`: the warm-up plugin and the pure block tasks.

Everything here runs inside Dask worker processes. Tasks read only their (scattered) inputs and
return arrays or write exactly their own Zarr region, so Dask may re-run any of them after a
worker is lost without changing the result.

Example
-------
>>> from fietsstad.distributed._tasks import _warm_kernels
>>> _warm_kernels() >= 0.0                               # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

#: Name of the worker plugin registered by :func:`fietsstad.distributed.prepare_workers`.
PLUGIN_NAME: str = "fietsstad-numba"

_DTYPES = (np.dtype(np.uint16), np.dtype(np.int32), np.dtype(np.float32))

# Per-worker-process state (set by the plugin on each worker).
_WORKER: dict[str, Any] = {"numba_threads": None, "warm_seconds": None}


# =============================================================================== worker side
def _tiny_graph():
    from fietsstad.engine import CSRGraph

    # a 4-cycle with a chord: enough to run every kernel once
    return CSRGraph.from_arrays([0, 2, 3, 4, 5], [1, 2, 2, 3, 0], [5, 9, 3, 4, 6])


def _warm_kernels() -> float:
    """Run every engine kernel once on a tiny graph (loads numba's cache); returns seconds."""
    from fietsstad.engine import Decay, accessibility, travel_times

    t0 = time.perf_counter()
    g = _tiny_graph()
    for method in ("dijkstra", "phast"):
        travel_times(g, [0, 1], dtype=np.uint16, method=method)
        travel_times(g, [0, 1], [2, 3], dtype=np.uint16, method=method)
        travel_times(
            g,
            [0],
            [2, 3],
            secondary=np.ones(g.m, np.int32),
            dtype=np.uint16,
            method=method,
            saturate=True,
        )
        accessibility(
            g,
            np.ones((g.n, 2)),
            [Decay.cumulative(10), Decay.exponential(0.1)],
            cutoff=20,
            method=method,
        )
    _warm_demand()
    return time.perf_counter() - t0


def _warm_demand() -> None:
    """Run the demand tasks once on a 2 x 2 matrix (loads the Furness/modal kernels)."""
    from fietsstad.demand import deterrence_table, get_model

    c = np.array([[0, 60], [60, 0]], dtype=np.uint16)
    d = np.array([[0, 300], [300, 0]], dtype=np.int32)
    f = deterrence_table()
    r = _furness_block(c, f, np.ones(2), None, np.ones(2), 0)
    _block_info(c)
    _block_info(d)
    ctx = {
        "models": (get_model("zwolle_2024"), get_model("zwolle_2024_ebike")),
        "dscale": 0.001, "uptake_on": "distance", "v": None, "gradient": 0.0,
        "intra": np.full(2, -1.0), "nbins": 4, "hw": 0.1, "sentinel": 2**31 - 1, "top": 1,
    }  # fmt: skip
    _modal_block((c, d), r, np.ones(2), f, ctx, 0)


def _max_numba_threads() -> int:
    import numba

    return int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))


def _apply_threads() -> None:
    n = _WORKER.get("numba_threads")
    if n:
        import numba

        numba.set_num_threads(int(min(n, _max_numba_threads())))


def _setup_worker(numba_threads: int | None) -> float:
    _WORKER["numba_threads"] = numba_threads
    _apply_threads()
    secs = _warm_kernels()
    _WORKER["warm_seconds"] = secs
    return secs


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _compiled_signatures() -> dict[str, int]:
    """Number of compiled signatures of every numba kernel of the engine (in this process)."""
    from numba.core.registry import CPUDispatcher

    from fietsstad.engine import _access, _dijkstra, _phast

    out = {}
    for mod in (_dijkstra, _phast, _access):
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher):
                out[f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"] = len(obj.signatures)
    return out


def _worker_state() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "numba_threads": _WORKER.get("numba_threads"),
        "warm_seconds": _WORKER.get("warm_seconds"),
        "signatures": _compiled_signatures(),
        "numba_max_threads": int(_max_numba_threads()),
    }


class NumbaWarmup(WorkerPlugin):
    """Worker plugin: warm the engine kernels and fix the numba threads of every task.

    Registered by :func:`prepare_workers`; Dask runs :meth:`setup` on every current worker and on
    every worker that joins later (including workers the nanny restarts after a crash).

    Example
    -------
    >>> client.register_plugin(NumbaWarmup(1), name=PLUGIN_NAME)   # doctest: +SKIP
    """

    idempotent = False  # registering again (other thread count) replaces it
    name = PLUGIN_NAME

    def __init__(self, numba_threads: int | None = None) -> None:
        self.numba_threads = numba_threads

    async def setup(self, worker) -> None:
        """Run on the worker: set the thread count and load every kernel once.

        The warm-up runs in a thread, so the worker's event loop keeps answering the scheduler
        (heartbeats) even when a cold numba cache makes it compile for a minute.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _setup_worker, self.numba_threads)


def _warm_seconds() -> float:
    return float(_WORKER.get("warm_seconds") or 0.0)


def _use_ch(g, ch) -> None:
    """Make a scattered contraction hierarchy the worker's memoised one (no rebuild per worker)."""
    if ch is not None:
        from fietsstad.engine import _ch

        _ch.remember(ch)


def _tt_rows(g, ch, sources, targets, cutoff, dtype, method, saturate, secondary=None):
    from fietsstad.engine import travel_times

    _apply_threads()
    _use_ch(g, ch)
    return travel_times(
        g,
        sources,
        targets,
        cutoff=cutoff,
        dtype=dtype,
        method=method,
        ch=ch,
        saturate=saturate,
        secondary=secondary,
    )


def _tt_to_zarr(
    g, ch, sources, targets, cutoff, dtype, method, saturate, secondary, store, row0
) -> int:
    """Compute one block of rows and overwrite its region of the Zarr arrays (idempotent)."""
    import zarr

    res = _tt_rows(g, ch, sources, targets, cutoff, dtype, method, saturate, secondary)
    blocks = (
        {"travel_time": res} if secondary is None else {"travel_time": res[0], "distance_m": res[1]}
    )
    for name, block in blocks.items():
        arr = zarr.open_array(store=str(store), path=name, mode="r+")
        arr[row0 : row0 + block.shape[0], :] = block
    return int(blocks["travel_time"].shape[0])


def _access_rows(g, ch, opp, decays, cutoff, sources, method) -> np.ndarray:
    from fietsstad.engine import accessibility

    _apply_threads()
    _use_ch(g, ch)
    return accessibility(g, opp, decays, cutoff=cutoff, sources=sources, method=method)


def _evaluate_one(net, route, zones, kwargs):
    from fietsstad.scenario import evaluate_snelfietspad

    _apply_threads()
    return evaluate_snelfietspad(net, route, zones, **kwargs)


def _uptake_block(g, ch, sources, targets, cutoff, method, metres, trips_rows, model, gradient):
    """Partial sums of one block of origins: the fastest routes, uptake, trip-weighted totals.

    Returns float64 ``[trips, reachable trips, trip_km, bike_trips, bike_km]`` of the block.
    """
    from fietsstad.demand import uptake
    from fietsstad.engine import UNREACHABLE_I32

    t, m = _tt_rows(g, ch, sources, targets, cutoff, np.dtype(np.uint16), method, True, metres)
    reach = t != np.uint16(65535)
    w = np.ones(t.shape) if trips_rows is None else trips_rows
    m = np.where(reach, m, UNREACHABLE_I32).astype(np.int32)  # beyond the cut-off: unreachable
    p = uptake(m, gradient, model, distance_scale=0.001)
    km = np.where(reach, m, 0).astype(np.float64) * 0.001
    return np.array([w.sum(), (w * reach).sum(), (w * km).sum(), (w * p).sum(), (w * p * km).sum()])


def _add(a, b):
    return a + b


# =============================================================================== demand tasks
def _cost_of(block):
    """The cost matrix of a routing block: ``(times, metres)`` tuples carry it first."""
    return block[0] if isinstance(block, tuple) else block


def _zarr_rows(store: str, path: str, r0: int, r1: int) -> np.ndarray:
    """Rows ``r0:r1`` of a Zarr matrix (one block of a store written by the workers)."""
    import zarr

    return np.ascontiguousarray(zarr.open_array(store=str(store), path=path, mode="r")[r0:r1])


def _block_info(block) -> tuple[tuple[int, int], str, int, int]:
    """Shape, dtype, smallest value and largest finite (non-sentinel) value of a cost block."""
    from fietsstad.demand.gravity import _max_below
    from fietsstad.demand.pct import UNREACHABLE_I32
    from fietsstad.engine._furness import _check_cost

    _apply_threads()
    c = _cost_of(block)
    if not isinstance(c, np.ndarray) or c.ndim != 2:
        return (tuple(np.shape(c)), str(getattr(c, "dtype", type(c).__name__)), 0, 0)
    if c.dtype not in (np.uint16, np.int32) or c.size == 0:
        return (c.shape, str(c.dtype), 0, 0)
    c = _w(c)
    nc = _chunks(c.shape[0])
    return (c.shape, str(c.dtype), int(_check_cost(c, nc)), int(_max_below(c, UNREACHABLE_I32, nc)))


def _w(x: np.ndarray) -> np.ndarray:
    """Writable, C-ordered: arrays unpickled on a worker are often read-only, and numba
    compiles (and caches) a separate signature per read-only combination otherwise."""
    x = np.asarray(x)
    return x if x.flags.writeable and x.flags.c_contiguous else np.array(x, order="C")


def _chunks(n: int) -> int:
    import numba

    return max(1, min(n, 4 * numba.get_num_threads()))


def _furness_block(block, f, P, prev, b, row0: int):
    """One Furness pass over a row block (the single-machine kernel ``_furness_pass``).

    ``prev`` is this block's result of the previous pass (its ``a``), or None on the first.
    Returns ``(a_new, partial)``; ``partial`` packs ``[column sums (m), max row error,
    dead origins, first dead origin (global position, or inf)]`` for :func:`_furness_combine`.
    """
    from fietsstad.engine._furness import _furness_pass

    _apply_threads()
    c = _w(_cost_of(block))
    f, P, b = _w(f), _w(np.asarray(P, dtype=np.float64)), _w(np.asarray(b, dtype=np.float64))
    n, m = c.shape
    nc = _chunks(n)
    a_old = np.zeros(n) if prev is None else _w(prev[0])
    a_new = np.zeros(n)
    acc = np.zeros((nc, m))
    rowsum = np.zeros(n)
    err = float(_furness_pass(c, f, P, a_old, b, a_new, acc, rowsum, nc)) if n else 0.0
    dead = np.flatnonzero((P > 0) & (rowsum <= 0))
    part = np.empty(m + 3)
    part[:m] = acc.sum(axis=0)
    part[m] = err
    part[m + 1] = len(dead)
    part[m + 2] = row0 + dead[0] if len(dead) else np.inf
    return a_new, part


def _partial(x):
    """The reducible part of a block result (``(a, partial)`` tuples give ``partial``)."""
    return x[1] if isinstance(x, tuple) else x


def _furness_combine(x, y) -> np.ndarray:
    """Combine two Furness partials: column sums add, errors max, dead counts add, first min."""
    x, y = _partial(x), _partial(y)
    out = x + y
    out[-3] = max(x[-3], y[-3])
    out[-1] = min(x[-1], y[-1])
    return out


def _a_of(x) -> np.ndarray:
    return x[0]


def _modal_block(block, a_res, b, f, ctx: dict, row0: int):
    """The modal-share reduction of one row block (the single-machine kernels).

    Returns ``(rows, packed, od)``: the block's per-zone rows (``(n_block, 6)``), the packed
    sums ``[cols (m x 3), hist (bins x 4), bad pairs]`` for :func:`fietsstad.distributed.tree_sum`
    and the block's top pairs (``origin`` as a position in the block, see ``_top_pairs``).
    """
    from types import SimpleNamespace

    import pandas as pd

    from fietsstad.demand.modal import _top_pairs, _uptake_setup
    from fietsstad.engine._furness import _modal_rows

    _apply_threads()
    cost, dist = (_w(v) for v in block)
    a, b, f = _w(a_res[0]), _w(b), _w(f)
    n, m = cost.shape
    grad = ctx["gradient"]
    if np.ndim(grad) == 2:
        grad = _w(grad[row0 : row0 + n])
    models = ctx["models"]
    udist, uscale = (dist, ctx["dscale"]) if ctx["uptake_on"] == "distance" else (cost, ctx["v"])
    U = _uptake_setup(models, udist, uscale, grad)
    ud, us, g, tabs, direct = U
    intra = _w(ctx["intra"][row0 : row0 + n])
    nc = _chunks(n)
    nbins = ctx["nbins"]
    rows = np.zeros((n, 6))
    cols = np.zeros((nc, m, 3))
    hist = np.zeros((nc, nbins, 4))
    bad = _modal_rows(
        cost, f, a, b, dist, ctx["dscale"], ctx["sentinel"], ud, us, g,
        models[0].coef(), models[1].coef(), tabs[0], tabs[1], direct, ctx["hw"], intra,
        rows, cols, hist, nc,
    )  # fmt: skip
    packed = np.concatenate([cols.sum(axis=0).ravel(), hist.sum(axis=0).ravel(), [float(bad)]])
    pos = pd.DataFrame(index=pd.RangeIndex(max(n, m)))  # positions stand in for zone labels
    grav = SimpleNamespace(a=a, b=b, table=f)
    od = _top_pairs(
        pos, cost, dist, ctx["dscale"], ctx["sentinel"], grav, U, models, intra, ctx["top"]
    )
    return rows, packed, od


def _item(x, i: int):
    return x[i]
