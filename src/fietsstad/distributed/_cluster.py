"""Cluster plumbing of :mod:`fietsstad.distributed`: worker set-up, block sizes, reductions, row
blocks of cost matrices, the Zarr store, and the one scatter/submit/release scaffold
(:class:`_Run`) every ``*_dask`` function uses.

Example
-------
>>> from fietsstad.distributed._cluster import choose_block_size
>>> choose_block_size(100, 200, 2)
13
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fietsstad import engine
from fietsstad.distributed._tasks import (
    PLUGIN_NAME,
    NumbaWarmup,
    _add,
    _block_info,
    _usable_cores,
    _warm_seconds,
    _worker_state,
    _zarr_rows,
)
from fietsstad.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client, Future

#: Bytes one block of a travel-time matrix should take by default (128 MiB).
DEFAULT_BLOCK_BYTES: int = 128 * 2**20


def _workers(client: Client) -> dict[str, dict]:
    import inspect

    try:
        all_ = "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        all_ = False
    return (client.scheduler_info(n_workers=-1) if all_ else client.scheduler_info())["workers"]


def _total_threads(client: Client) -> int:
    return max(1, sum(int(w.get("nthreads", 1)) for w in _workers(client).values()))


def _default_numba_threads(client: Client) -> dict[str, int]:
    """Numba threads per worker: the host's cores shared among the worker threads on that host."""
    workers = _workers(client)
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


class _Run:
    """The one scatter/submit/release scaffold of every ``*_dask`` function.

    ``with _Run(client) as run:`` checks the client and prepares the workers; ``run.scatter``
    broadcasts an input once, ``run.submit`` runs a task under a readable key
    (``fietsstad-<name>-<token>-<i>...``), ``run.blocks`` submits one task per row block. Every
    future is held until the ``with`` ends (Dask can recompute a block lost with a worker only
    while the chain behind it is held), then cancelled if still running and released.

    Scattered data is *not* safe on the cluster: Dask's active memory manager (on by default,
    policy ``ReduceReplicas``) drops the extra copies of a broadcast input once no task waits
    for it, so its only copy may die with a worker, and Dask cannot recompute scattered data
    (the scheduler forgets it and cancels everything built on it: "lost dependencies",
    "already forgotten"). So ``run`` also keeps the recipe of every future it made (the
    scattered object, or the task and its arguments), and :meth:`renew` makes futures again
    under fresh keys from what the client holds.
    """

    def __init__(self, client: Client) -> None:
        if not hasattr(client, "scatter") or not hasattr(client, "submit"):
            raise ValidationError(
                f"client must be a dask.distributed.Client, not {type(client).__name__}"
            )
        self.client = client
        self.token = uuid.uuid4().hex[:12]
        self.held: list = []
        # key -> ("scatter", obj, broadcast) or ("submit", func, args, key parts): see renew()
        self._recipes: dict[Any, tuple] = {}
        self._renewals = 0

    def __enter__(self) -> _Run:
        prepare_workers(self.client)
        return self

    def __exit__(self, *exc) -> None:
        _release(self.held)

    def scatter(self, obj, broadcast: bool = True):
        """``obj`` on every worker once (one worker with ``broadcast=False``; None stays None)."""
        if obj is None:
            return None
        fut = self.client.scatter([obj], broadcast=broadcast, hash=False)[0]
        self.held.append(fut)
        self._recipes[fut.key] = ("scatter", obj, broadcast)
        return fut

    def submit(self, func, *args, key: tuple):
        fut = self.client.submit(func, *args, key=_key(key[0], self.token, *key[1:]))
        self.held.append(fut)
        self._recipes[fut.key] = ("submit", func, args, key)
        return fut

    def renew(self, futures: list) -> list:
        """The same futures made again, under fresh keys, from what the client holds.

        Scattered inputs are scattered again; tasks are submitted again on renewed arguments
        (an input shared by several futures is renewed once). Futures this ``run`` did not make
        (given by the caller) come back as they are. The replaced futures are released.
        """
        from distributed import Future

        self._renewals += 1
        made: dict[Any, Any] = {}

        def again(x):
            if isinstance(x, (list, tuple)):
                return type(x)(again(v) for v in x)
            if not isinstance(x, Future) or x.key not in self._recipes:
                return x
            if x.key not in made:
                kind, *recipe = self._recipes[x.key]
                if kind == "scatter":
                    made[x.key] = self.scatter(*recipe)
                else:
                    func, args, key = recipe
                    made[x.key] = self.submit(
                        func, *again(args), key=(*key, f"renew{self._renewals}")
                    )
            return made[x.key]

        out = [again(f) for f in futures]
        old = [f for f in self.held if f.key in made]
        self.held[:] = [f for f in self.held if f.key not in made]
        for key in made:
            del self._recipes[key]
        _release(old)
        return out

    def blocks(self, func, n: int, block_size: int, args, name: str) -> list:
        """``func(*args(a, b))`` for every row block ``a:b`` of ``n`` rows."""
        return [
            self.submit(func, *args(a, b), key=(name, i))
            for i, (a, b) in enumerate(_blocks(n, block_size))
        ]


def _key(name: str, token: str, *parts) -> str:
    return "-".join(["fietsstad", name, token, *map(str, parts)])


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


def tree_reduce(
    client: Client,
    futures: list[Future],
    func: Callable[[Any, Any], Any],
    key: str | None = None,
    hold: list[Future] | None = None,
) -> Future:
    """Combine futures pairwise on the cluster with ``func(x, y)`` (a binary tree of tasks).

    Only the final future's value needs to travel to the client. ``hold``, when given, receives
    every intermediate future: a caller that must survive the loss of a worker keeps them (Dask
    recomputes a lost result only from futures some client still holds; a forgotten intermediate
    sum cancels the whole tree with "already forgotten").

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
        if hold is not None:
            hold.extend(nxt)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        depth += 1
    return level[0]


def tree_sum(client: Client, futures: list[Future], hold: list[Future] | None = None) -> Future:
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
    return tree_reduce(client, futures, _add, hold=hold)


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


def _cost_blocks(run: _Run, cost, block_size: int | None) -> list:
    """Row-block futures of a cost matrix: given futures, a Zarr array/store, or numpy.

    Blocks made here (Zarr reads, scattered numpy rows) are made by ``run``, so
    :meth:`_Run.renew` can make them again after a worker died with them.
    """
    from distributed import Future

    client = run.client
    if isinstance(cost, (list, tuple)) and cost and all(isinstance(f, Future) for f in cost):
        return list(cost)
    if isinstance(cost, (str, os.PathLike)) or type(cost).__module__.startswith("zarr"):
        import zarr

        arr: Any  # a zarr.Array (zarr types its items as a union of scalars and arrays)
        if isinstance(cost, (str, os.PathLike)):
            store = str(cost) if "://" in str(cost) else str(Path(cost).expanduser().resolve())
            node: Any = zarr.open(store=store, mode="r")
            path = "travel_time" if isinstance(node, zarr.Group) else ""
            arr = node["travel_time"] if path else node
        else:
            arr, store, path = cost, str(cost.store.root), str(cost.path)
        if arr.ndim != 2:
            raise ValidationError(f"cost must be a 2-D matrix, got shape {arr.shape}")
        bs = _block_arg(block_size) or int(arr.chunks[0])
        return [
            run.submit(_zarr_rows, store, path, a, b, key=("zrows", i))
            for i, (a, b) in enumerate(_blocks(arr.shape[0], bs))
        ]
    if isinstance(cost, np.ndarray):
        if cost.ndim != 2:
            raise ValidationError(f"cost must be a 2-D matrix, got shape {cost.shape}")
        bs = _block_arg(block_size) or choose_block_size(
            cost.shape[0], cost.shape[1] * cost.itemsize, _total_threads(client)
        )
        return [run.scatter(cost[a:b], broadcast=False) for a, b in _blocks(cost.shape[0], bs)]
    raise ValidationError(
        "cost must be a list of row-block futures (in row order), a Zarr array or store path, "
        f"or a numpy matrix, not {type(cost).__name__}"
    )


def _check_blocks(client: Client, blocks: list, n: int, m: int) -> tuple[list[int], int]:
    """Validate the blocks on the workers (shape, dtype, no negative int32 costs).

    Returns the rows per block and the deterrence table size (65,536 for uint16, largest
    finite cost + 1 for int32), as ``gravity_distribution`` computes it.
    """
    info = client.gather([client.submit(_block_info, f, pure=False) for f in blocks])
    dts = {d for _, d, _, _ in info}
    if any(len(s) != 2 for s, _, _, _ in info):
        raise ValidationError("cost must be a 2-D matrix (every block 2-D)")
    if not dts <= {"uint16", "int32"} or len(dts) != 1:
        raise ValidationError(
            f"cost must be a uint16 or int32 matrix of integer costs (seconds, or metres), got "
            f"{sorted(dts)}; round float costs first, e.g. np.rint(c).astype(np.int32), with inf "
            f"as {engine.UNREACHABLE_I32}"
        )
    rows = [int(s[0]) for s, _, _, _ in info]
    cols = {int(s[1]) for s, _, _, _ in info}
    if sum(rows) != n or cols != {m}:
        raise ValidationError(f"cost has shape ({sum(rows)}, {sorted(cols)}), expected ({n}, {m})")
    if min(lo for _, _, lo, _ in info) < 0:
        raise ValidationError("cost has negative costs")
    return rows, 65536 if dts == {"uint16"} else max(0, max(hi for *_, hi in info)) + 1
