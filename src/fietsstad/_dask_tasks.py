"""Worker side of :mod:`fietsstad.distributed`: the warm-up plugin and the pure block tasks.

Everything here runs inside Dask worker processes. Tasks read only their (scattered) inputs and
return arrays or write exactly their own Zarr region, so Dask may re-run any of them after a
worker is lost without changing the result.

Example
-------
>>> from fietsstad._dask_tasks import _warm_kernels
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
    from .engine import CSRGraph

    # a 4-cycle with a chord: enough to run every kernel once
    return CSRGraph.from_arrays([0, 2, 3, 4, 5], [1, 2, 2, 3, 0], [5, 9, 3, 4, 6])


def _warm_kernels() -> float:
    """Run every engine kernel once on a tiny graph (loads numba's cache); returns seconds."""
    from .engine import Decay, accessibility, travel_times

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
    return time.perf_counter() - t0


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

    from .engine import _access, _dijkstra, _phast

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
        from .engine import _ch

        _ch.remember(ch)


def _tt_rows(g, ch, sources, targets, cutoff, dtype, method, saturate, secondary=None):
    from .engine import travel_times

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
    from .engine import accessibility

    _apply_threads()
    _use_ch(g, ch)
    return accessibility(g, opp, decays, cutoff=cutoff, sources=sources, method=method)


def _evaluate_one(net, route, zones, kwargs):
    from .scenario import evaluate_snelfietspad

    _apply_threads()
    return evaluate_snelfietspad(net, route, zones, **kwargs)


def _uptake_block(g, ch, sources, targets, cutoff, method, metres, trips_rows, model, gradient):
    """Partial sums of one block of origins: the fastest routes, uptake, trip-weighted totals.

    Returns float64 ``[trips, reachable trips, trip_km, bike_trips, bike_km]`` of the block.
    """
    from .engine import UNREACHABLE_I32
    from .uptake import uptake

    t, m = _tt_rows(g, ch, sources, targets, cutoff, np.dtype(np.uint16), method, True, metres)
    reach = t != np.uint16(65535)
    w = np.ones(t.shape) if trips_rows is None else trips_rows
    m = np.where(reach, m, UNREACHABLE_I32).astype(np.int32)  # beyond the cut-off: unreachable
    p = uptake(m, gradient, model, distance_scale=0.001)
    km = np.where(reach, m, 0).astype(np.float64) * 0.001
    return np.array([w.sum(), (w * reach).sum(), (w * km).sum(), (w * p).sum(), (w * p * km).sum()])


def _add(a, b):
    return a + b
