"""Many-to-many travel times: the public matrix function, block streaming, method choice.

``method="dijkstra"`` runs one bounded Dijkstra per source (parallel over sources);
``method="phast"`` builds (or reuses) a contraction hierarchy and answers each group of
sources with one upward search per source and one linear sweep per group (PHAST);
``"auto"`` picks PHAST for large source sets without a tight cut-off and Dijkstra otherwise.

Output dtypes and sentinels
---------------------------
=========  ==========================  ========================================
dtype      unreachable (or > cutoff)   values above the dtype's range
=========  ==========================  ========================================
uint16     65535 (UNREACHABLE_U16)     GraphError, or 65534 ("at least") if saturate=True
int32      2**31 - 1 (UNREACHABLE_I32) sums saturate at 2**31 - 2
float32    inf                         exact up to 2**24 s
=========  ==========================  ========================================

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, travel_times
>>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
>>> travel_times(g).tolist()
[[0, 60, 90], [65535, 0, 30], [65535, 65535, 0]]
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import overload

import numba
import numpy as np
import numpy.typing as npt

from fietsstad.engine import _dijkstra as dj
from fietsstad.engine._ch import ContractionHierarchy, build_ch, has_cached_ch
from fietsstad.engine._graph import (
    CSRGraph,
    GraphLike,
    as_graph,
    check_nodes,
    check_secondary,
)
from fietsstad.engine._memory import (
    check_memory,
    check_memory_budget,
    check_out,
    empty_matrix,
    estimate_matrix_bytes,
)
from fietsstad.engine._phast import phast_fill
from fietsstad.engine._units import cutoff_ticks, phast_limit_message
from fietsstad.engine.config import (
    DEFAULT_BLOCK_ROWS,
    MAX_I32,
    PHAST_INF,
    UNREACHABLE_I32,
    UNREACHABLE_U16,
)
from fietsstad.errors import GraphError, ParameterError

_DTYPES = {
    np.dtype(np.uint16): (np.uint16(UNREACHABLE_U16), UNREACHABLE_U16 - 1),
    np.dtype(np.int32): (np.int32(UNREACHABLE_I32), MAX_I32),
    np.dtype(np.float32): (np.float32(np.inf), MAX_I32),
}

#: ``auto`` uses bounded Dijkstra when a sampled cut-off search touches less than this
#: fraction of the nodes: the measured crossover on the generated 20k network was 2-4 % for
#: matrices and accessibility alike (see benchmarks/README.md); above it the PHAST sweep,
#: whose cost does not depend on the cut-off, wins.
AUTO_DIJKSTRA_FRACTION = 0.03
#: ``auto`` builds a hierarchy (when none is cached) only for at least this many sources and
#: at least ``n / AUTO_BUILD_DIVISOR`` of them: the build costs about as much as a few thousand
#: one-to-all Dijkstras on a 20k-node network.
AUTO_MIN_SOURCES = 64
AUTO_BUILD_DIVISOR = 8
#: ``auto`` in :func:`iter_blocks` never *builds* a hierarchy for a network with more nodes
#: than this: the build runs before the first block and grows faster than linearly (3 s at
#: 20k nodes, 19 s at 60k, about 12 min at 300k), while a block of 512 bounded Dijkstra rows
#: takes 0.5 s at 20k and 2.3 s at 60k nodes (generated networks; docs/robustness.md).
#: A cached hierarchy is still used.
AUTO_STREAM_BUILD_MAX_NODES = 50_000


def _out_spec(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise GraphError(
            f"dtype {dtype!r} is not understood; use uint16, int32 or float32"
        ) from err
    if dt not in _DTYPES:
        raise GraphError(f"dtype must be uint16, int32 or float32, not {dt}")
    return dt, *_DTYPES[dt]


def _cutoff(cutoff, ticks_per_s: int = 1) -> int:
    """The engine's cut-off in whole ticks: ``None`` or ``+inf`` mean none; else seconds >= 0.

    The same rule as the public ``cutoff_s`` (:func:`fietsstad._validate.check_cutoff_s`):
    ``-inf``, NaN, strings and booleans are refused, never read as "no cut-off".
    """
    if cutoff is None:
        return MAX_I32
    if isinstance(cutoff, (bool, np.bool_, str, bytes)) or not isinstance(cutoff, numbers.Real):
        raise GraphError(f"cutoff must be None, inf or a number of seconds >= 0, not {cutoff!r}")
    try:
        c = float(cutoff)
    except (OverflowError, TypeError, ValueError) as err:
        raise GraphError(
            f"cutoff ({type(cutoff).__name__}) is not a usable number of seconds: too large"
        ) from err
    if np.isnan(c):
        raise GraphError("cutoff is NaN; pass None (or inf) for no cut-off")
    if c < 0:
        raise GraphError(f"cutoff must be >= 0, got {cutoff}")
    if not np.isfinite(c):
        return MAX_I32
    return cutoff_ticks(c, ticks_per_s)


def _target_marks(targets: np.ndarray, n: int, all_targets: bool):
    tmark = np.zeros(max(n, 1), np.bool_)
    if all_targets:
        return tmark, -1
    tmark[targets] = True
    return tmark, int(tmark.sum())


def _sampled_fraction(g: CSRGraph, sources: np.ndarray, cutoff: int, k: int = 8) -> float:
    """Mean fraction of nodes a cut-off search from a few sources touches."""
    rng = np.random.default_rng(0)
    pick = sources[rng.choice(len(sources), size=min(k, len(sources)), replace=False)]
    frac = 0.0
    for s in pick:
        d = dj.single_source(g.indptr, g.indices, g.weights, int(s), cutoff)
        frac += float(np.count_nonzero(d <= cutoff)) / g.n
    return frac / len(pick)


def choose_method(
    g: CSRGraph,
    sources: np.ndarray,
    cutoff: int,
    method: str,
    secondary=None,
    *,
    stream: bool = False,
    ch=None,
) -> str:
    """Resolve ``method`` ("auto" | "phast" | "dijkstra") for this query.

    ``cutoff`` is in ticks. ``auto`` picks, in this order: Dijkstra when PHAST cannot run
    (weights sum to 2**30 ticks or more), for no sources or a single node; when no hierarchy is at hand (``ch`` or memoised)
    and building one would delay the first result: ``stream=True`` (:func:`iter_blocks`) on a
    network above :data:`AUTO_STREAM_BUILD_MAX_NODES` nodes, or fewer sources than
    ``max(AUTO_MIN_SOURCES, n / AUTO_BUILD_DIVISOR)``; when a sampled cut-off search touches
    less than :data:`AUTO_DIJKSTRA_FRACTION` of the nodes. PHAST otherwise.
    """
    if method not in ("auto", "phast", "dijkstra"):
        raise GraphError(f"method must be 'auto', 'phast' or 'dijkstra', not {method!r}")
    phast_ok = g.total_weight() < PHAST_INF
    if method == "phast":
        if not phast_ok:
            raise GraphError(phast_limit_message(g))
        return "phast"
    if method == "dijkstra" or not phast_ok or len(sources) == 0 or g.n < 2:
        return "dijkstra"
    cached = ch is not None or has_cached_ch(g, secondary)
    if not cached and stream and g.n > AUTO_STREAM_BUILD_MAX_NODES:
        return "dijkstra"
    if not cached and len(sources) < max(AUTO_MIN_SOURCES, g.n // AUTO_BUILD_DIVISOR):
        return "dijkstra"
    if cutoff < MAX_I32 and _sampled_fraction(g, sources, cutoff) < AUTO_DIJKSTRA_FRACTION:
        return "dijkstra"
    return "phast"


def resolve_method(
    graph: GraphLike,
    sources: npt.ArrayLike | None = None,
    *,
    cutoff: float | None = None,
    method: str = "auto",
    secondary: npt.ArrayLike | None = None,
) -> str:
    """The algorithm :func:`travel_times` would run for this query: ``"phast"`` or ``"dijkstra"``.

    Resolving ``"auto"`` once for a whole source set lets a caller that splits the sources into
    blocks (e.g. :mod:`fietsstad.distributed`) run every block with the same algorithm.
    Arguments as in :func:`travel_times`; validates them the same way.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> resolve_method(g, method="dijkstra"), resolve_method(g, method="phast")
    ('dijkstra', 'phast')
    >>> resolve_method(g, [0]) in ("dijkstra", "phast")  # "auto": cheaper of the two
    True
    """
    g = as_graph(graph)
    src = check_nodes(sources, g.n, "sources")
    sec_w = None if secondary is None else check_secondary(secondary, g)
    return choose_method(g, src, _cutoff(cutoff, g.ticks_per_s), method, sec_w)


def _fill(g, sources, targets, all_targets, cutoff, method, out, out_sec, sec_w, unreach, cap, ch):
    """Compute rows for ``sources`` into ``out`` (and ``out_sec``); returns #clipped values.

    ``cutoff`` is in ticks; ``out`` gets seconds (:func:`fietsstad.engine._units.put_time`).
    """
    if len(sources) == 0 or len(targets) == 0:
        return 0
    tps = np.int64(g.ticks_per_s)
    exact = out.dtype.kind == "f"
    if method == "phast":
        return phast_fill(
            g, sources, targets, cutoff, out, out_sec, sec_w, unreach, cap, ch, all_targets
        )
    tmark, n_tgt = _target_marks(targets, g.n, all_targets)
    if sec_w is None:
        return int(
            dj.dijkstra_matrix(
                g.indptr,
                g.indices,
                g.weights,
                sources,
                targets,
                tmark,
                n_tgt,
                np.int64(cutoff),
                out,
                unreach,
                cap,
                tps,
                exact,
                numba.get_num_threads(),
                dj.n_buckets(g.weights),
            )
        )
    return int(
        dj.dijkstra_matrix_sec(
            g.indptr,
            g.indices,
            g.weights,
            sec_w,
            sources,
            targets,
            tmark,
            n_tgt,
            np.int64(cutoff),
            out,
            out_sec,
            unreach,
            cap,
            tps,
            exact,
            numba.get_num_threads(),
        )
    )


def _overflow_error(dt, cap) -> GraphError:
    return GraphError(
        f"travel times above {cap} s do not fit dtype {dt}; use dtype='int32' or "
        "'float32', or pass saturate=True to clip them to 65534 ('at least')"
    )


def _input_arrays(objs) -> list[np.ndarray]:
    """The arrays a result must not overlap: graph, hierarchy, ids and weights as passed."""
    arrs: list[np.ndarray] = []
    for o in objs:
        if isinstance(o, np.ndarray):
            arrs.append(o)
        elif isinstance(o, (tuple, list)):
            arrs.extend(a for a in o if isinstance(a, np.ndarray))
        elif o is not None and hasattr(o, "__dict__"):  # CSRGraph, ContractionHierarchy
            arrs.extend(a for a in vars(o).values() if isinstance(a, np.ndarray))
    return arrs


def _check_outs(out, shape, dt, sec_w, inputs):
    """``None`` without ``out``; else the validated ``(times, secondary or None)`` arrays."""
    if out is None:
        return None
    arrs = _input_arrays(inputs)
    if sec_w is None:
        if isinstance(out, tuple):
            raise ParameterError("out must be one array here (a tuple only with secondary=...)")
        return check_out(out, shape, dt, "out", arrs), None
    if not isinstance(out, tuple) or len(out) != 2:
        raise ParameterError(
            "with secondary=..., out must be a tuple (times, secondary_matrix) of two arrays"
        )
    t = check_out(out[0], shape, dt, "out[0]", arrs)
    s = check_out(out[1], shape, np.int32, "out[1]", arrs)
    if np.may_share_memory(t, s):
        raise ParameterError("out[0] and out[1] overlap; pass two separate arrays")
    return t, s


# fmt: off
@overload
def travel_times(
    graph: GraphLike, sources: npt.ArrayLike | None = ..., targets: npt.ArrayLike | None = ..., *,
    cutoff: float | None = ..., dtype: npt.DTypeLike = ..., method: str = ...,
    ch: ContractionHierarchy | None = ..., secondary: None = ..., saturate: bool = ...,
    out: np.ndarray | None = ...,
) -> np.ndarray: ...
@overload
def travel_times(
    graph: GraphLike, sources: npt.ArrayLike | None = ..., targets: npt.ArrayLike | None = ..., *,
    cutoff: float | None = ..., dtype: npt.DTypeLike = ..., method: str = ...,
    ch: ContractionHierarchy | None = ..., secondary: npt.ArrayLike, saturate: bool = ...,
    out: tuple[np.ndarray, np.ndarray] | None = ...,
) -> tuple[np.ndarray, np.ndarray]: ...
# fmt: on


def travel_times(
    graph: GraphLike,
    sources: npt.ArrayLike | None = None,
    targets: npt.ArrayLike | None = None,
    *,
    cutoff: float | None = None,
    dtype: npt.DTypeLike = np.uint16,
    method: str = "auto",
    ch: ContractionHierarchy | None = None,
    secondary: npt.ArrayLike | None = None,
    saturate: bool = False,
    out: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Travel times from every source to every target, as one C-ordered matrix.

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
        Directed graph with int32 weights in ticks (a tuple: whole seconds).
    sources, targets : array of int or None
        Node positions; ``None`` means all nodes. Repeats are allowed.
    cutoff : float, optional
        Pairs further than ``cutoff`` seconds are reported as unreachable (inclusive bound,
        compared with the tick-accurate time).
    dtype : uint16 (default), int32 or float32
        Output type; unreachable is 65535, 2**31 - 1 or inf respectively. Integer matrices hold
        the tick-accurate time rounded half up to whole seconds; float32 the fractional seconds.
    method : "auto", "phast" or "dijkstra"
        Algorithm (see module docs); results are identical.
    ch : ContractionHierarchy, optional
        A hierarchy from :func:`build_ch` to reuse (else one is built and memoised).
    secondary : int array (m,), optional
        A second per-edge cost (e.g. metres). If given, a tuple ``(times, secondary_matrix)`` is
        returned, where the int32 ``secondary_matrix`` holds the secondary cost summed along the
        fastest path (among equally fast paths, the least secondary cost); unreachable is
        2**31 - 1. Float secondary weights are rounded to integers.
    saturate : bool
        For uint16: clip times above 65534 s to 65534 instead of raising.
    out : numpy.ndarray, optional
        Write the result into this array and return it (numpy's convention): C-contiguous,
        writeable, of shape ``(len(sources), len(targets))`` and of ``dtype``; with
        ``secondary`` a tuple ``(times, secondary_matrix)`` (the second one int32). Reusing
        one array across repeated evaluations saves the allocation and its first touch; make
        it with :func:`fietsstad.engine.empty_matrix` (a plain ``np.empty`` buffer pays that
        first touch on its first use, in huge pages: measured up to 14 s for 20k x 20k on
        the 2-core benchmark VM). Without ``out`` a fresh matrix is allocated the same way.

    Returns
    -------
    numpy.ndarray (len(sources), len(targets)), or a tuple of two such arrays (``out`` itself
    when given).

    Raises
    ------
    GraphError
        Bad graph, ids, dtype, method, or uint16 overflow without ``saturate``.
    ParameterError
        ``out`` of the wrong type, shape or dtype, not C-contiguous, read-only, or overlapping
        an input (a :class:`~fietsstad.errors.ValidationError`).
    MemoryBudgetError
        The output would not fit in memory (raised before allocating).

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> t, d = travel_times(g, [0], [2], secondary=np.array([200, 100]), dtype="int32")
    >>> int(t[0, 0]), int(d[0, 0])
    (90, 300)
    >>> buf = np.empty((3, 3), np.uint16)
    >>> travel_times(g, out=buf) is buf
    True
    """
    g = as_graph(graph)
    dt, unreach, cap = _out_spec(dtype)
    src = check_nodes(sources, g.n, "sources")
    tgt = check_nodes(targets, g.n, "targets")
    sec_w = None if secondary is None else check_secondary(secondary, g)
    shape = (len(src), len(tgt))
    given = _check_outs(out, shape, dt, sec_w, (g, src, tgt, sources, targets, secondary, ch))
    if given is None:
        nbytes = estimate_matrix_bytes(len(src), len(tgt), dt)
        if sec_w is not None:
            nbytes += estimate_matrix_bytes(len(src), len(tgt), np.int32)
        check_memory(nbytes, f"a {len(src):,} x {len(tgt):,} {dt} travel-time matrix")
    c = _cutoff(cutoff, g.ticks_per_s)
    meth = choose_method(g, src, c, method, sec_w)
    if meth == "phast" and ch is None:
        ch = build_ch(g, secondary=sec_w)
    if given is None:
        res = empty_matrix(shape, dt)
        out_sec = None if sec_w is None else empty_matrix(shape, np.int32)
    else:
        res, out_sec = given
    over = _fill(g, src, tgt, targets is None, c, meth, res, out_sec, sec_w, unreach, cap, ch)
    if over and not saturate and dt == np.uint16:
        raise _overflow_error(dt, cap)
    return res if out_sec is None else (res, out_sec)


def iter_blocks(
    graph: GraphLike,
    sources: npt.ArrayLike | None = None,
    targets: npt.ArrayLike | None = None,
    *,
    block_size: int | None = None,
    cutoff: float | None = None,
    dtype: npt.DTypeLike = np.uint16,
    method: str = "auto",
    ch: ContractionHierarchy | None = None,
    secondary: npt.ArrayLike | None = None,
    saturate: bool = False,
    out: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None,
) -> Iterator[tuple]:
    """Stream the travel-time matrix by blocks of source rows.

    Yields ``(source_ids, block)`` (or ``(source_ids, block, secondary_block)`` when
    ``secondary`` is given) where ``block`` has shape ``(len(source_ids), len(targets))``. Every
    block is a **fresh** array (safe to keep); only one block is alive inside the iterator, so a
    reduction (sum, min, count) never holds the full matrix. Arguments as in
    :func:`travel_times`; the hierarchy (for PHAST) is built once before the first block.

    ``method="auto"`` favours a quick first block: on a network of more than
    :data:`AUTO_STREAM_BUILD_MAX_NODES` nodes (50,000) it uses bounded Dijkstra for every
    block unless a hierarchy is already at hand (passed as ``ch``, or memoised by an earlier
    :func:`build_ch` / :func:`travel_times`), because building one first delays the first block
    by minutes (about 12 min at 300k nodes against 12 s for a Dijkstra block). On smaller
    networks, and whenever a hierarchy is at hand, the rule of :func:`travel_times` applies
    (PHAST for many sources without a tight cut-off). To stream a whole large matrix as fast
    as possible overall, call :func:`build_ch` once first or pass ``method="phast"``. Every
    method gives the same values.

    Parameters
    ----------
    block_size : int, optional
        Source rows per block (default: 512, lowered so one block stays below ~256 MiB; with
        ``out``, its number of rows).
    out : numpy.ndarray, optional
        One buffer of shape ``(block_size, len(targets))`` (and ``dtype``; a tuple with the
        int32 secondary buffer when ``secondary`` is given) that every block is written into:
        the yielded blocks are then views of its first rows, **overwritten by the next block**
        (reduce or copy each before asking for the next). Checked as in :func:`travel_times`.

    Example
    -------
    >>> from fietsstad.engine import CSRGraph
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> [(ids.tolist(), b.shape) for ids, b in iter_blocks(g, block_size=2)]
    [([0, 1], (2, 3)), ([2], (1, 3))]
    >>> buf = np.empty((2, 3), np.uint16)
    >>> [int(b.sum()) for _, b in iter_blocks(g, out=buf)]  # blocks are views of buf
    [65715, 131070]
    """
    g = as_graph(graph)
    dt, unreach, cap = _out_spec(dtype)
    src = check_nodes(sources, g.n, "sources")
    tgt = check_nodes(targets, g.n, "targets")
    sec_w = None if secondary is None else check_secondary(secondary, g)
    c = _cutoff(cutoff, g.ticks_per_s)
    row_bytes = max(1, len(tgt) * (dt.itemsize + (4 if sec_w is not None else 0)))
    first = out[0] if isinstance(out, tuple) and out else out
    if block_size is None and isinstance(first, np.ndarray) and first.ndim == 2:
        block_size = first.shape[0]
    if block_size is None:
        block_size = int(max(1, min(DEFAULT_BLOCK_ROWS, (256 * 2**20) // row_bytes)))
    if int(block_size) < 1:
        raise GraphError("block_size must be >= 1")
    block_size = int(block_size)
    inputs = (g, src, tgt, sources, targets, secondary, ch)
    given = _check_outs(out, (block_size, len(tgt)), dt, sec_w, inputs)
    if given is None:
        _check_block_memory(block_size, len(tgt), dt, sec_w is not None)
    meth = choose_method(g, src, c, method, sec_w, stream=True, ch=ch)
    if meth == "phast" and ch is None:
        ch = build_ch(g, secondary=sec_w)
    yield from _blocks(g, src, tgt, targets is None, c, meth, sec_w, dt, unreach, cap, ch,
                       block_size, given, saturate)  # fmt: skip


def _check_block_memory(block_size: int, n_tgt: int, dt, with_sec: bool) -> None:
    check_memory_budget(
        (block_size, n_tgt),
        dt,
        f"a {block_size:,}-row block",
        alternatives=["pass a smaller block_size", "pass fewer targets"],
        extra_bytes=block_size * n_tgt * 4 if with_sec else 0,
    )


def _blocks(g, src, tgt, all_t, c, meth, sec_w, dt, unreach, cap, ch, block_size, given,
            saturate) -> Iterator[tuple]:  # fmt: skip
    """The generator behind :func:`iter_blocks` (arguments checked, hierarchy built)."""
    for start in range(0, len(src), block_size):
        ids = src[start : start + block_size]
        shape = (len(ids), len(tgt))
        if given is None:
            res = empty_matrix(shape, dt)
            out_sec = None if sec_w is None else empty_matrix(shape, np.int32)
        else:
            res = given[0][: len(ids)]
            out_sec = None if sec_w is None else given[1][: len(ids)]
        over = _fill(g, ids, tgt, all_t, c, meth, res, out_sec, sec_w, unreach, cap, ch)
        if over and not saturate and dt == np.uint16:
            raise _overflow_error(dt, cap)
        yield (ids, res) if sec_w is None else (ids, res, out_sec)
