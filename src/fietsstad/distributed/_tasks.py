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
from typing import TYPE_CHECKING, Any

import numpy as np
from distributed.diagnostics.plugin import WorkerPlugin

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Worker

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
            [Decay.cumulative(10), Decay.exponential(rate_per_s=0.1 / 60)],
            cutoff=20,
            method=method,
        )
    _warm_demand()
    return time.perf_counter() - t0


def _warm_demand() -> None:
    """Run the demand tasks once on a 2 x 2 matrix (loads the Furness/modal kernels)."""
    from fietsstad.demand import deterrence_table
    from fietsstad.demand.modal import modal_setup

    c = np.array([[0, 60], [60, 0]], dtype=np.uint16)
    d = np.array([[0, 300], [300, 0]], dtype=np.int32)
    f = deterrence_table()
    a, _ = _furness_block(c, f, np.ones(2), None, np.ones(2), 0)
    _furness_block(c, f, np.ones(2), a, np.ones(2), 0, 1.5)
    from fietsstad.engine._furness import _furness_pass  # the parallel pass of large blocks

    acc, out = np.zeros((1, 2)), np.zeros(2)
    _furness_pass(c, f, np.ones(2), a, np.ones(2), out, acc, np.zeros(2), 1, 1.0)
    _block_info(c)
    _block_info(d)
    for intra in (None, 0.5):
        _modal_block((c, d), a, np.ones(2), f, modal_setup((2, 2), intrazonal_km=intra), 0)


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
    import sys

    from numba.core.registry import CPUDispatcher

    out = {}
    for modname, mod in list(sys.modules.items()):
        if modname.startswith("fietsstad.engine.") and mod is not None:
            for name, obj in vars(mod).items():
                if isinstance(obj, CPUDispatcher):
                    out[f"{modname.rsplit('.', 1)[-1]}.{name}"] = len(obj.signatures)
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

    async def setup(self, worker: Worker) -> None:
        """Run on the worker: set the thread count and load every kernel once.

        The warm-up runs in a thread, so the worker's event loop keeps answering the scheduler
        (heartbeats) even when a cold numba cache makes it compile for a minute.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _setup_worker, self.numba_threads)


def _warm_seconds() -> float:
    return float(_WORKER.get("warm_seconds") or 0.0)


def _tt_rows(g, ch, sources, targets, cutoff, dtype, method, saturate, secondary=None):
    """Rows of :func:`fietsstad.engine.travel_times` (what ``analysis.travel_time_matrix`` runs)."""
    from fietsstad.engine import travel_times

    _apply_threads()
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
    """Rows of :func:`fietsstad.engine.accessibility`, with the scattered hierarchy."""
    from fietsstad.engine import accessibility, remember_ch

    _apply_threads()
    if ch is not None:
        remember_ch(ch)  # the client's hierarchy: no worker builds its own
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
    from fietsstad.engine import UNREACHABLE_I32, UNREACHABLE_U16

    t, m = _tt_rows(g, ch, sources, targets, cutoff, np.dtype(np.uint16), method, True, metres)
    reach = t != UNREACHABLE_U16
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
    from fietsstad.engine import UNREACHABLE_I32

    c = _cost_of(block)
    if not isinstance(c, np.ndarray) or c.ndim != 2:
        return (tuple(np.shape(c)), str(getattr(c, "dtype", type(c).__name__)), 0, 0)
    if c.dtype != np.int32 or c.size == 0:  # uint16: never negative, a 65,536 table
        return (c.shape, str(c.dtype), 0, 0)
    hi = c.max(initial=0, where=c != UNREACHABLE_I32)
    return (c.shape, str(c.dtype), int(c.min()), int(hi))


def _w(x: np.ndarray) -> np.ndarray:
    """Writable, C-ordered: arrays unpickled on a worker are often read-only, and numba
    compiles (and caches) a separate signature per read-only combination otherwise."""
    x = np.asarray(x)
    return x if x.flags.writeable and x.flags.c_contiguous else np.array(x, order="C")


def _furness_block(block, f, P, a_prev, b, row0: int, omega: float = 1.0):
    """:func:`fietsstad.demand.gravity.furness_block` on a row block; ``a_prev`` is the block's
    ``a`` of the previous pass (sent by the client), or None on the first pass; ``omega`` the
    pass's over-relaxation."""
    from fietsstad.demand.gravity import furness_block

    _apply_threads()
    a_prev = None if a_prev is None else _w(a_prev)
    return furness_block(_w(_cost_of(block)), _w(f), _w(P), a_prev, _w(b), row0, omega)


def _partial(x):
    """The reducible part of a block result (``(a, partial)`` tuples give ``partial``)."""
    return x[1] if isinstance(x, tuple) else x


def _furness_combine(x, y) -> np.ndarray:
    from fietsstad.demand.gravity import furness_combine

    return furness_combine(_partial(x), _partial(y))


def _modal_block(block, a, b, f, setup: dict, row0: int):
    """:func:`fietsstad.demand.modal.modal_block` on a ``(times, metres)`` row block."""
    from fietsstad.demand.modal import modal_block

    _apply_threads()
    cost, dist = (_w(v) for v in block)
    return modal_block(cost, dist, _w(a), _w(b), _w(f), setup, row0)


def _item(x, i: int):
    return x[i]
