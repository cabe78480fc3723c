"""Incremental re-evaluation of travel-time matrices after a network edit (decrease-only).

When a scenario only makes edges faster (or adds edges), a travel time ``d(s, t)`` can only change
if the new best path from ``s`` to ``t`` uses a changed arc. Two exact methods exploit that.

``"hubs"`` (full matrices; output-sensitive, vectorised). Let ``T``/``H`` be the tails/heads of
the changed arcs (the corridor's *portals*). On a new shortest path that uses the corridor, the
part before the first changed arc ``(u, .)`` is old, so ``u`` is reached at its old distance
``d(s, u)``; the part after the last changed arc ``(., h)`` is old too. Hence, with ``d'`` the new
distances::

    d'(s, t) = min(d(s, t), min_{u in T} d(s, u) + d'(u, t))
    d'(u, t) = min(d(u, t), min_{h in H} d'(u, h) + d(h, t))

``d'`` among the corridor nodes comes from Floyd-Warshall on an overlay (old distances between
them plus the new arcs); ``d'(u, .)`` for the ~100 tails from their old rows and those of the
heads. Per source only a few tails matter: drop tails dominated by a closer one
(``d(s, u') + d'(u', u) <= d(s, u)``), then keep one tail per *improved* head that attains its new
distance (see :func:`_select_entries`). Each kept tail costs one branch-free min-plus pass over
the row (``vpaddusw``/``vpminuw`` for uint16: 16 targets per instruction), blocked over targets
so the tails' rows stay in L2 and the row in L1, parallel over row chunks, in place if asked.

``"repair"`` (any set of rows): a source improves iff ``d(s, u) + w'(u, v) < d(s, v)`` for some
changed arc; for those, a Dijkstra seeded on the changed arcs that only expands nodes whose
label beats the old distance (decrease-only dynamic SSSP) finds exactly the improved targets.

Units: the matrices of this module are in the network's engine **ticks** (deciseconds,
:meth:`BikeNetwork.travel_time_ticks`), not seconds: an update adds edge weights to old
distances, which is exact only on the unrounded sums (seconds rounded per entry would not be).
Divide by :data:`fietsstad.network.bikenetwork.TICKS_PER_S` for seconds.

Kernels are numba (``cache=True``, parallel over sources) with int32 ids and no Python objects
inside. If any arc got *slower* or disappeared, distances may grow and neither argument holds:
the update then falls back to a full recomputation (``stats.full_recompute`` says so).

Example
-------
>>> import numpy as np
>>> from fietsstad.network import BikeNetwork
>>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01, 6.02]), y=np.full(3, 52.5),
...     node_id=np.arange(3), u=np.array([0, 1, 1, 2]), v=np.array([1, 0, 2, 1]),
...     length=np.full(4, 500.0), infra=np.zeros(4))
>>> from fietsstad.scenario.incremental import full_travel_times, update_travel_times
>>> old = full_travel_times(net)
>>> faster = net.recompute_travel_time()
>>> faster.travel_time = faster.travel_time // 2
>>> new, stats = update_travel_times(old, net, faster, changed_edges=np.arange(4))
>>> int(new[0, 2]), stats.full_recompute  # deciseconds: 100 s
(1000, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from fietsstad.engine import CSRGraph, travel_times
from fietsstad.engine._incremental import (
    _INF,
    _affected_sources,
    _apply_entries,
    _overlay_apsp,
    _repair,
    _select_entries,
    _tail_rows,
)

# sentinels live in engine/config.py; re-exported as fietsstad.scenario.incremental.UNREACHABLE_U16
from fietsstad.engine.config import UNREACHABLE_I32 as UNREACHABLE_I32
from fietsstad.engine.config import UNREACHABLE_U16 as UNREACHABLE_U16
from fietsstad.engine.config import unreachable_for
from fietsstad.errors import GraphError, ValidationError
from fietsstad.network import BikeNetwork


@dataclass(frozen=True)
class UpdateStats:
    """What an incremental update touched.

    Attributes
    ----------
    sources_total : int
        Rows of the matrix.
    sources_touched : int
        Rows whose travel times could improve (repair searches run).
    pairs_changed : int
        Matrix entries whose value changed.
    changed_arcs : int
        Distinct ``(u, v)`` node pairs whose best edge weight changed or that are new.
    full_recompute : bool
        True when an arc got slower or disappeared, so the whole matrix was recomputed.
    entries_per_source : float
        ``method="hubs"``: mean number of corridor entry points per touched source (each one a
        vectorised min-plus pass over the row); 0.0 for the other methods.

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.full(2, 52.5),
    ...     node_id=np.arange(2), u=np.array([0, 1]), v=np.array([1, 0]),
    ...     length=np.full(2, 500.0), infra=np.zeros(2))
    >>> old = full_travel_times(net)
    >>> faster = net.recompute_travel_time()
    >>> faster.travel_time = faster.travel_time / 2
    >>> new, stats = update_travel_times(old, net, faster)
    >>> stats.sources_total, stats.pairs_changed, stats.changed_arcs, stats.full_recompute
    (2, 2, 2, False)
    """

    sources_total: int
    sources_touched: int
    pairs_changed: int
    changed_arcs: int
    full_recompute: bool
    entries_per_source: float = 0.0


# ---------------------------------------------------------------------------------------- helpers
def _arc_minima(net: BikeNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique arc keys ``u*n+v`` and the smallest edge weight of each."""
    n = np.int64(net.n_nodes)
    key = net.edge_sources().astype(np.int64) * n + net.indices.astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    ws = net.travel_time_ticks()[order].astype(np.int64)
    if len(ks) == 0:
        return ks, ws
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    return ks[starts], np.minimum.reduceat(ws, starts)


def changed_arcs(
    before: BikeNetwork, after: BikeNetwork
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Arcs ``(u, v)`` whose best weight differs between two networks on the same nodes.

    Returns ``(u, v, w_after, increased)``: the tails, heads and new weights (int64) of arcs that
    are new or faster, and whether any arc got slower or disappeared (then distances may grow).

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> a = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.full(2, 52.5), node_id=np.arange(2),
    ...     u=np.array([0]), v=np.array([1]), length=np.array([500.0]), infra=np.array([0]))
    >>> u, v, w, up = changed_arcs(a, a)
    >>> len(u), up
    (0, False)
    """
    if before.n_nodes != after.n_nodes:
        raise GraphError(
            f"before and after networks must share their nodes ({before.n_nodes} vs {after.n_nodes}); "
            "scenarios add edges between existing nodes, never nodes"
        )
    kb, wb = _arc_minima(before)
    ka, wa = _arc_minima(after)
    pos = np.searchsorted(kb, ka)
    pos_c = np.minimum(pos, max(len(kb) - 1, 0))
    present = (pos < len(kb)) & (kb[pos_c] == ka) if len(kb) else np.zeros(len(ka), bool)
    faster = ~present | (wa < np.where(present, wb[pos_c] if len(kb) else 0, 0))
    slower = present & (wa > (wb[pos_c] if len(kb) else 0))
    # arcs of `before` missing in `after`
    pos2 = np.searchsorted(ka, kb)
    pos2_c = np.minimum(pos2, max(len(ka) - 1, 0))
    kept = (pos2 < len(ka)) & (ka[pos2_c] == kb) if len(ka) else np.zeros(len(kb), bool)
    increased = bool(slower.any() or (~kept).any())
    n = np.int64(after.n_nodes)
    kf = ka[faster]
    return (
        (kf // n).astype(np.int32),
        (kf % n).astype(np.int32),
        wa[faster].astype(np.int64),
        increased,
    )


def full_travel_times(
    net: BikeNetwork, sources: np.ndarray | None = None, dtype: Any = np.uint16
) -> np.ndarray:
    """Travel times in engine ticks (deciseconds) from ``sources`` (default: every node) to every node.

    Uses the engine (:func:`fietsstad.engine.travel_times`) on the unrounded tick sums (the unit
    of :func:`update_travel_times`). Unreachable pairs hold the dtype's sentinel
    (65535 for uint16, ``2**31-1`` for int32, ``inf`` for floats). uint16 holds at most 6,553.4 s
    in deciseconds: a reachable pair beyond it raises :class:`~fietsstad.errors.ValidationError`
    (use ``dtype=np.int32``), so it is never read as unreachable.

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01]), y=np.full(2, 52.5), node_id=np.arange(2),
    ...     u=np.array([0]), v=np.array([1]), length=np.array([500.0]), infra=np.array([0]))
    >>> full_travel_times(net).tolist()  # 100 s
    [[0, 1000], [65535, 0]]
    """
    src = (
        np.arange(net.n_nodes, dtype=np.int32)
        if sources is None
        else np.asarray(sources, dtype=np.int32)
    )
    g = net.engine_graph()
    ticks = CSRGraph(g.indptr, g.indices, g.weights)  # the same arrays, read as 1 tick per unit
    if np.dtype(dtype) != np.uint16:
        return np.ascontiguousarray(travel_times(ticks, src, None, dtype=dtype), dtype=dtype)
    wide = travel_times(ticks, src, None, dtype=np.int32)
    far = (wide >= UNREACHABLE_U16) & (wide != UNREACHABLE_I32)
    if far.any():  # never let a reachable pair read as unreachable
        raise ValidationError(
            f"{int(far.sum()):,} reachable pair(s) take more than 6,553.4 s (the longest "
            f"{int(wide[far].max()) / 10:,.1f} s), beyond uint16 deciseconds; pass dtype=np.int32"
        )
    return np.where(wide == UNREACHABLE_I32, UNREACHABLE_U16, wide).astype(np.uint16)


#: Largest number of corridor nodes for ``method="hubs"`` (Floyd-Warshall on them is cubic).
HUB_MAX_NODES = 1500

#: Target columns per block of the min-plus kernel, in bytes of one row segment (L1-sized).
_BLOCK_BYTES = 4096


def _try_hubs(old, out, rows_nodes, n, cu, cv, cw, unreach):
    """Run the hub update (``old`` -> ``out``, which may be ``old``); None if it cannot be used.

    Returns ``(changed_per_row, touched_per_row)``.
    """
    knodes = np.unique(np.concatenate([cu, cv])).astype(np.int32)
    if len(knodes) > HUB_MAX_NODES:
        return None
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[rows_nodes[::-1]] = np.arange(len(rows_nodes) - 1, -1, -1)
    krows = row_of[knodes]
    if np.any(krows < 0):
        return None
    kind = 0 if old.dtype == np.uint16 else (1 if old.dtype == np.int32 else 2)
    lim = float(unreach)  # values >= lim are "unreachable" (inf for floats)
    # new distances among the corridor nodes: old ones + the new arcs, closed (Floyd-Warshall)
    sub = old[np.ix_(krows, knodes)]
    dk = sub.astype(np.float64)
    dk = np.where(dk >= lim, _INF, np.minimum(dk, float(_INF))).astype(np.int64)
    pos = np.searchsorted(knodes, np.concatenate([cu, cv]))
    dk = _overlay_apsp(dk, pos[: len(cu)], pos[len(cu) :], cw.astype(np.int64), _INF)
    dkf = np.where(dk >= _INF, np.inf, dk.astype(np.float64))
    t_nodes = np.unique(cu).astype(np.int32)
    h_nodes = np.unique(cv).astype(np.int32)
    tpos = np.searchsorted(knodes, t_nodes)
    hpos = np.searchsorted(knodes, h_nodes)
    dth = np.ascontiguousarray(dkf[np.ix_(tpos, hpos)])
    dtt = np.ascontiguousarray(dkf[np.ix_(tpos, tpos)])
    tb = max(64, _BLOCK_BYTES // old.dtype.itemsize)
    dthn = np.where(dth < lim, dth, 0).astype(old.dtype)  # only read where dth < lim
    e_rows, eblk = _tail_rows(old, row_of[t_nodes], row_of[h_nodes], dth, dthn, lim, kind, tb)
    # many small row chunks handed out one at a time: a thread slowed by other work on the machine
    # takes fewer of them (numba's default splits the chunks evenly up front)
    n_chunks = max(1, min(old.shape[0], nb.get_num_threads() * 32))
    prev = nb.set_parallel_chunksize(1)
    try:
        sel, seldu, nsel = _select_entries(old, t_nodes, h_nodes, dtt, dth, lim, n_chunks)
        changed = _apply_entries(
            out, old, out is old, sel, seldu, nsel, e_rows, eblk, kind, tb, n_chunks
        )
    finally:
        nb.set_parallel_chunksize(prev)
    return changed, nsel


# ---------------------------------------------------------------------------------------- public
def update_travel_times(
    old_matrix: np.ndarray,
    before_net: BikeNetwork,
    after_net: BikeNetwork,
    changed_edges: np.ndarray | None = None,
    *,
    sources: np.ndarray | None = None,
    inplace: bool = False,
    method: str = "auto",
) -> tuple[np.ndarray, UpdateStats]:
    """Update a travel-time matrix for an edited network without recomputing it all.

    Parameters
    ----------
    old_matrix
        Travel times in engine ticks (deciseconds, as :func:`full_travel_times` gives) on
        ``before_net``, shape ``(len(sources), n_nodes)``: every node as a
        target (the repair needs old distances to all nodes). uint16 (65535 = unreachable),
        int32 (``2**31-1``) or float32/64 (``inf``).
    before_net, after_net
        The networks before and after the edit; same nodes (edges may be added or changed).
    changed_edges
        Edge indices in ``after_net`` that the edit changed or added (as returned by
        :meth:`Snelfietspad.apply`). Optional: the arcs whose best weight changed are detected by
        comparing the networks anyway, so a missing index cannot make the result wrong.
    sources
        Node of each matrix row (default: row ``i`` is node ``i``; then the matrix must be square).
    inplace
        Update ``old_matrix`` itself instead of a copy (saves copying a large matrix).
    method
        ``"hubs"``: the corridor nodes act as hubs (see Notes); needs the old rows of every
        corridor node, i.e. a matrix whose sources include them (a full node-to-node matrix does),
        and at most :data:`HUB_MAX_NODES` corridor nodes. ``"repair"``: decrease-only Dijkstra
        repair per affected source; works for any set of rows. ``"auto"`` (default) uses
        ``"hubs"`` when it can, else ``"repair"``. Both are exact.

    Returns
    -------
    (new_matrix, stats)
        The updated matrix (same dtype and shape) and an :class:`UpdateStats`.

    Notes
    -----
    ``"hubs"``: with ``T``/``H`` the tails/heads of the changed arcs,
    ``d'(s, t) = min(d(s, t), min_u d(s, u) + d'(u, t))`` over a few *entry* tails ``u`` per
    source (non-dominated, and one per improved head; about 10 for a 10 km corridor across a
    city), each a vectorised min-plus pass over the row; ``d'(u, .)`` from the heads' old rows and
    a Floyd-Warshall overlay on the corridor nodes (see the module docstring for the proof).
    Cost: rows x entries x nodes saturating adds/mins, no heap. ``"repair"``: a heap operation
    per improved pair instead.

    Exact for decrease-only edits (faster or new edges). If any arc got slower or was removed,
    distances may increase anywhere, so the matrix is recomputed in full and
    ``stats.full_recompute`` is True.

    Example
    -------
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> net = BikeNetwork.from_edges(x=np.array([6.0, 6.01, 6.02]), y=np.full(3, 52.5),
    ...     node_id=np.arange(3), u=np.array([0, 1]), v=np.array([1, 2]),
    ...     length=np.full(2, 500.0), infra=np.zeros(2))
    >>> old = full_travel_times(net)
    >>> new_net = net.recompute_travel_time(); new_net.travel_time[:] = 10
    >>> new, stats = update_travel_times(old, net, new_net)
    >>> new[0].tolist(), stats.pairs_changed  # deciseconds
    ([0, 100, 200], 3)
    """
    if method not in ("auto", "hubs", "repair"):
        raise ValidationError(f"method must be 'auto', 'hubs' or 'repair', not {method!r}")
    mat = np.asarray(old_matrix)
    if mat.ndim != 2:
        raise ValidationError(f"old_matrix must be 2-D (sources, nodes), got shape {mat.shape}")
    unreach = unreachable_for(mat.dtype)
    n = after_net.n_nodes
    if before_net.n_nodes != n:
        raise GraphError(
            f"before and after networks must share their nodes ({before_net.n_nodes} vs {n}); "
            "scenarios add edges between existing nodes, never nodes"
        )
    if mat.shape[1] != n:
        raise ValidationError(
            f"old_matrix has {mat.shape[1]} columns but the network has {n} nodes: the incremental "
            "update needs old travel times to every node (compute rows with targets=all nodes)"
        )
    if sources is None:
        if mat.shape[0] != n:
            raise ValidationError("old_matrix is not square: pass `sources` (the node of each row)")
        rows_nodes = np.arange(n, dtype=np.int32)
    else:
        rows_nodes = np.asarray(sources, dtype=np.int32)
        if rows_nodes.shape != (mat.shape[0],):
            raise ValidationError("`sources` must give one node per matrix row")
        if len(rows_nodes) and (rows_nodes.min() < 0 or rows_nodes.max() >= n):
            raise ValidationError("`sources` must be node positions 0..n-1")
    if changed_edges is not None:
        ce = np.asarray(changed_edges)
        if ce.size and (ce.min() < 0 or ce.max() >= after_net.n_edges):
            raise ValidationError("changed_edges must be edge indices of after_net")

    cu, cv, cw, increased = changed_arcs(before_net, after_net)
    ns = mat.shape[0]
    if increased:
        new = full_travel_times(after_net, rows_nodes, mat.dtype)
        if inplace:
            mat[...] = new
            new = mat
        diff = int(np.count_nonzero(new != np.asarray(old_matrix))) if not inplace else -1
        return new, UpdateStats(ns, ns, diff, len(cu), True)

    usable_inplace = inplace and mat.flags.c_contiguous and mat.flags.writeable
    src = mat if mat.flags.c_contiguous else np.ascontiguousarray(mat)
    if len(cu) == 0 or ns == 0:
        out = mat if usable_inplace else src.copy()
        return out, UpdateStats(ns, 0, 0, 0, False)
    cap = _INF if mat.dtype.kind == "f" else np.int64(unreach)
    if method != "repair":
        out = mat if usable_inplace else np.empty_like(src, order="C")
        hub = _try_hubs(src, out, rows_nodes, n, cu, cv, cw, unreach)
        if hub is not None:
            changed, nsel = hub
            touched = int(np.count_nonzero(nsel))
            per = float(nsel.sum()) / touched if touched else 0.0
            return out, UpdateStats(
                ns, touched, int(changed.sum()), int(len(cu)), False, round(per, 3)
            )
        if method == "hubs":
            raise ValidationError(
                "method='hubs' needs old travel times *from* every corridor node (their rows) and at "
                f"most {HUB_MAX_NODES} corridor nodes; use method='repair' or 'auto'"
            )
    out = mat if usable_inplace else src.copy()
    affected = np.flatnonzero(_affected_sources(out, unreach, cap, cu, cv, cw)).astype(np.int32)
    indptr, indices, w = after_net.csr("travel_time_ticks")
    n_chunks = max(1, min(len(affected), nb.get_num_threads() * 8))
    changed = _repair(
        out,
        unreach,
        cap,
        affected,
        indptr.astype(np.int32),
        indices.astype(np.int32),
        w.astype(np.int64),
        cu,
        cv,
        cw,
        n_chunks,
    )
    return out, UpdateStats(ns, int(len(affected)), int(changed.sum()), int(len(cu)), False)
