"""Accessibility computed inside the traversal: no travel-time matrix is ever stored.

Direction convention: access **from** each origin (source) **to** the opportunities, i.e. the
travel time ``t(origin -> node)`` on the forward graph. (2SFCA's first step, which needs the
time from demand to a supply site, searches the reverse graph from each supply site.)

For every origin ``i``, opportunity column ``c`` and decay ``d``::

    A[i, c * n_decays + d] = sum over nodes v with t(i, v) <= cutoff of opp[v, c] * f_d(t(i, v))

All columns and decays are accumulated in one pass over the nodes each search reaches. Decay
weights come from a lookup table indexed by the tick-accurate time (exact same formula,
evaluated once per tick value, at ``ticks / ticks_per_s`` seconds), so no ``exp`` runs in the
hot loop.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import CSRGraph, Decay, accessibility
>>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
>>> accessibility(g, np.ones(3), [Decay.cumulative(60)]).ravel().tolist()
[2.0, 2.0, 1.0]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, overload

import numba
import numpy as np
import numpy.typing as npt

from fietsstad.engine import _dijkstra as dj
from fietsstad.engine._ch import build_ch
from fietsstad.engine._graph import CSRGraph, GraphLike, as_graph, check_nodes
from fietsstad.engine._matrix import _cutoff, choose_method
from fietsstad.engine._memory import check_memory, estimate_matrix_bytes
from fietsstad.engine._phast import PINF, _sweep, _upward, in_chunks, lanes_for
from fietsstad.engine.config import MAX_I32, NJIT, PHAST_INF
from fietsstad.errors import GraphError

#: Cut-off accessibility with PHAST uses the sweep restricted to the nodes within the cut-off
#: (:func:`_access_phast_pruned`); ``False`` falls back to the full fused sweep (benchmarks).
PRUNED_SWEEP = True

_KINDS = {"cumulative": 0, "exponential": 1, "power": 2, "logistic": 3}
_TABLE_MAX = 2**18


@dataclass(frozen=True)
class Decay:
    """A distance-decay function of travel time ``t`` (seconds).

    ============  =====================================  ====================================
    kind          f(t)                                   parameters
    ============  =====================================  ====================================
    cumulative    1 if t <= threshold_s else 0           ``threshold_s``
    exponential   exp(-rate * t)                         ``rate_per_s`` or ``half_life_s``
    power         min(1, (t / t0_s) ** -beta)            ``beta``, ``t0_s`` (default 60 s)
    logistic      1 / (1 + exp(slope * (t - midpoint)))  ``midpoint_s``, ``slope`` per second
    ============  =====================================  ====================================

    Build them with the class methods; every parameter is in seconds (or per second), e.g.
    ``Decay.exponential(half_life_s=600)``; the old ``Decay.exponential(beta)`` per minute
    still works for one release with a DeprecationWarning. Built directly,
    ``Decay(kind, p1, p2)`` takes the parameters in the units of this table, and the
    constructor refuses (:class:`~fietsstad.errors.ValidationError`, naming the parameter) what
    makes no sense for the kind: non-numbers, NaN/inf, a negative threshold, beta or midpoint, a
    ``t0_s`` or logistic slope ``<= 0``, and a non-zero ``p2`` for the one-parameter kinds.
    Without a ``name`` one is derived from the parameters (it suffixes accessibility columns).

    Example
    -------
    >>> Decay.exponential(rate_per_s=0.1 / 60).weight(600.0)  # 0.1 per minute, 10 minutes
    0.36787944117144233
    >>> Decay.cumulative(900).name
    'cum900s'
    >>> Decay("power", 1.5, 30.0).name
    'pow1.5from30s'
    """

    kind: str
    p1: float
    p2: float = 0.0
    name: str = ""

    def __post_init__(self):
        # Every way of building a Decay (the class methods and ``Decay(kind, p1, p2)``) is
        # checked here: a negative rate or a non-positive t0 gives NaN / inf / negative weights.
        from fietsstad.errors import ParameterError, _describe

        if not isinstance(self.kind, str) or self.kind not in _KINDS:
            raise ParameterError(
                f"decay kind must be one of {sorted(_KINDS)}, not {_describe(self.kind)}"
            )
        names = [f"{n} (p{i + 1})" for i, n in enumerate(self._PARAM_NAMES[self.kind])]
        for field, label in zip(("p1", "p2"), names):
            object.__setattr__(self, field, self._real(getattr(self, field), self.kind, label))
        p1, p2 = self.p1, self.p2
        if self.kind in ("cumulative", "exponential") and p2 != 0.0:
            raise ParameterError(
                f"{self.kind} decay takes one parameter, {names[0]}; p2 must be 0, got {p2:g}"
            )
        if self.kind == "cumulative" and p1 < 0:
            raise ParameterError(f"cumulative decay: {names[0]} must be >= 0, got {p1:g}")
        if self.kind == "exponential" and p1 < 0:
            raise ParameterError(
                f"exponential decay: {names[0]} must be >= 0 (a negative rate grows with "
                f"travel time without bound), got {p1:g} per second"
            )
        if self.kind == "power" and p1 < 0:
            raise ParameterError(f"power decay: {names[0]} must be >= 0, got {p1:g}")
        if self.kind == "power" and p2 <= 0:
            raise ParameterError(
                f"power decay: {names[1]} must be > 0 seconds, got {p2:g}; e.g. Decay.power(1.5)"
            )
        if self.kind == "logistic" and p1 < 0:
            raise ParameterError(f"logistic decay: {names[0]} must be >= 0, got {p1:g}")
        if self.kind == "logistic" and p2 <= 0:
            raise ParameterError(
                f"logistic decay: {names[1]} must be > 0 per second (otherwise the weight "
                f"does not decrease with travel time), got {p2:g}"
            )
        if not isinstance(self.name, str):
            raise ParameterError(f"decay name must be a str, got {_describe(self.name)}")
        if not self.name:  # the column suffix in accessibility tables: never empty
            object.__setattr__(self, "name", self._default_name(self.kind, p1, p2))

    @classmethod
    def cumulative(cls, threshold_s: float) -> Decay:
        """Count opportunities within ``threshold_s`` seconds (inclusive)."""
        t = cls._real(threshold_s, "cumulative", "threshold_s")
        return cls("cumulative", t, 0.0, f"cum{t:g}s")

    @classmethod
    def exponential(
        cls,
        beta: float | None = None,
        per: str | None = None,
        *,
        rate_per_s: float | None = None,
        half_life_s: float | None = None,
    ) -> Decay:
        """``exp(-rate_per_s * t)``: give ``half_life_s`` (the weight halves every so many
        seconds) or ``rate_per_s``, both in seconds like every other Decay parameter.

        The old ``exponential(beta, per="minute")`` (``beta`` per minute by default) keeps
        working for one release with a DeprecationWarning, with the same weights and name.

        Example
        -------
        >>> Decay.exponential(half_life_s=600).weight(600.0)
        0.5
        >>> Decay.exponential(rate_per_s=0.001).name
        'exp0.001persec'
        """
        from fietsstad.errors import ParameterError

        given = [k for k, v in (("beta", beta), ("rate_per_s", rate_per_s),
                                ("half_life_s", half_life_s)) if v is not None]  # fmt: skip
        if len(given) != 1:
            raise ParameterError(
                "exponential decay: give exactly one of half_life_s= or rate_per_s= (seconds), "
                f"got {', '.join(given) or 'none'}"
            )
        if half_life_s is not None:
            h = cls._real(half_life_s, "exponential", "half_life_s")
            if h <= 0:
                raise ParameterError(f"exponential decay: half_life_s must be > 0, got {h:g}")
            return cls("exponential", math.log(2.0) / h, 0.0, f"exphalf{h:g}s")
        if rate_per_s is not None:
            r = cls._real(rate_per_s, "exponential", "rate_per_s")
            return cls("exponential", r, 0.0, f"exp{r:g}persec")
        import warnings

        warnings.warn(
            "Decay.exponential(beta, per=...) is deprecated (beta was per minute by default, "
            "unlike every other Decay parameter): pass half_life_s= or rate_per_s= in seconds "
            "(rate_per_s = beta / 60 for beta per minute)",
            DeprecationWarning,
            stacklevel=2,
        )
        per = "minute" if per is None else per
        if per not in ("minute", "second"):
            raise ParameterError(
                f"exponential decay: per must be 'minute' or 'second', not {per!r}"
            )
        beta = cls._real(beta, "exponential", "beta")
        if beta < 0:
            raise ParameterError(f"exponential decay: beta must be >= 0, got {beta:g}")
        b = beta / 60.0 if per == "minute" else beta
        return cls("exponential", b, 0.0, f"exp{beta:g}per{per[:3]}")

    @classmethod
    def power(cls, beta: float, t0_s: float = 60.0) -> Decay:
        """``min(1, (t / t0_s) ** -beta)``: flat up to ``t0_s``, then a power law."""
        beta = cls._real(beta, "power", "beta")
        return cls("power", beta, cls._real(t0_s, "power", "t0_s"), f"pow{beta:g}")

    @classmethod
    def logistic(cls, midpoint_s: float, slope: float) -> Decay:
        """``1 / (1 + exp(slope * (t - midpoint_s)))``, ``slope`` per second (``> 0``)."""
        m = cls._real(midpoint_s, "logistic", "midpoint_s")
        return cls("logistic", m, cls._real(slope, "logistic", "slope"), f"logit{m:g}s")

    #: What ``p1`` and ``p2`` mean for each kind (for error messages).
    _PARAM_NAMES: ClassVar[dict[str, tuple[str, str]]] = {
        "cumulative": ("threshold_s", "p2"),
        "exponential": ("beta", "p2"),
        "power": ("beta", "t0_s"),
        "logistic": ("midpoint_s", "slope"),
    }

    @staticmethod
    def _real(value, kind: str, label: str) -> float:
        """A finite real number (not bool, not str) for a parameter, as a float."""
        from fietsstad.errors import ParameterError, _describe

        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ParameterError(f"{kind} decay: {label} must be a number, got {_describe(value)}")
        try:
            f = float(value)
        except OverflowError as err:
            raise ParameterError(f"{kind} decay: {label} is too large for a float") from err
        if not math.isfinite(f):
            raise ParameterError(f"{kind} decay: {label} must be finite, got {f}")
        return f

    @staticmethod
    def _default_name(kind: str, p1: float, p2: float) -> str:
        """The name of a Decay built directly (the class methods name theirs)."""
        if kind == "cumulative":
            return f"cum{p1:g}s"
        if kind == "exponential":
            return f"exp{p1:g}persec"
        if kind == "power":
            return f"pow{p1:g}" if p2 == 60.0 else f"pow{p1:g}from{p2:g}s"
        return f"logit{p1:g}s"

    @overload
    def weight(self, t: float) -> float: ...
    @overload
    def weight(self, t: npt.ArrayLike) -> float | np.ndarray: ...
    def weight(self, t: npt.ArrayLike) -> float | np.ndarray:
        """Evaluate the decay at ``t`` seconds (scalar or array), with numpy."""
        t = np.asarray(t, dtype=np.float64)
        return _weights_np(_KINDS[self.kind], self.p1, self.p2, t)


def _weights_np(kind: int, p1: float, p2: float, t: np.ndarray):
    if kind == 0:
        out = (t <= p1).astype(np.float64)
    elif kind == 1:
        out = np.exp(-p1 * t)
    elif kind == 2:
        with np.errstate(divide="ignore", over="ignore"):
            out = np.where(t <= p2, 1.0, (np.maximum(t, p2) / p2) ** -p1)
    else:
        with np.errstate(over="ignore"):
            out = 1.0 / (1.0 + np.exp(p2 * (t - p1)))
    return out if out.ndim else float(out)


@numba.njit(**NJIT)
def _weight_nb(kind, p1, p2, t):
    if kind == 0:
        return 1.0 if t <= p1 else 0.0
    if kind == 1:
        return math.exp(-p1 * t)
    if kind == 2:
        x = (t / p2) ** -p1 if t > 0 else 1.0
        return 1.0 if x > 1.0 else x
    z = p2 * (t - p1)
    if z > 700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(z))


@numba.njit(**NJIT)
def _add(acc, d, v, opp, kinds, params, table, tps):
    """``acc[c * nd + di] += f_di(d) * opp[v, c]`` for ``d`` ticks (table lookup; the formula at
    ``d / tps`` seconds beyond the table)."""
    ncol = opp.shape[1]
    nd = kinds.size
    T = table.shape[1] - 1  # the last column is the zero used beyond the cut-off
    for di in range(nd):
        if d < T:
            f = table[di, d]
        else:
            f = _weight_nb(kinds[di], params[di, 0], params[di, 1], d / tps)
        if f != 0.0:
            for c in range(ncol):
                acc[c * nd + di] += f * opp[v, c]


@numba.njit(**NJIT)
def _access_dijkstra(
    rows, indptr, indices, weights, sources, cutoff, opp, nz, kinds, params, table, tps, out, nbk
):
    """Rows ``rows`` of ``out`` by one bounded Dijkstra per source (bucket queue when ``nbk >
    0``); :func:`~fietsstad.engine._phast.in_chunks` runs chunks of rows on threads. Returns 0."""
    n = indptr.size - 1
    m = indices.size
    dist = np.full(n, dj.INF, np.int64)
    touched = np.empty(n, np.int32)
    hk = np.empty(m + 1, np.int64)
    head = np.full(max(nbk, 1), -1, np.int32)
    enode = np.empty(m + 1 if nbk > 0 else 1, np.int32)
    enext = np.empty(m + 1 if nbk > 0 else 1, np.int32)
    tmark = np.zeros(1, np.bool_)
    acc = np.zeros(out.shape[1], np.float64)
    for i in rows:
        if nbk > 0:
            nt = dj._sssp_dial(
                indptr, indices, weights, sources[i], cutoff, dist, touched, head, enode, enext,
                tmark, -1,
            )  # fmt: skip
        else:
            nt = dj._sssp(
                indptr, indices, weights, sources[i], cutoff, dist, touched, hk, tmark, -1
            )
        acc[:] = 0.0
        for t in range(nt):
            v = touched[t]
            if nz[v]:
                _add(acc, dist[v], v, opp, kinds, params, table, tps)
            dist[v] = dj.INF
        for q in range(acc.size):  # a loop: an array assignment compiles its error message
            out[i, q] = acc[q]
    return 0


@numba.njit(**NJIT)
def _sweep_accumulate(dn_indptr, dn_src, dn_t, U, D, opp_pos, nz_pos, table, cutoff, nd, acc):
    """The PHAST sweep fused with the accumulation: ``D[v]`` is used while still in L1.

    Branch-free over the lanes: labels beyond the cut-off index the table's trailing zero.
    """
    n, K = D.shape
    ncol = opp_pos.shape[1]
    zero = table.shape[1] - 1
    for v in range(n):
        for k in range(K):
            D[v, k] = U[v, k]
            U[v, k] = PINF
        for e in range(dn_indptr[v], dn_indptr[v + 1]):
            u = dn_src[e]
            w = dn_t[e]
            for k in range(K):
                D[v, k] = min(D[v, k], np.int32(D[u, k] + w))
        if nz_pos[v]:
            for di in range(nd):
                tab = table[di]
                for cc in range(ncol):
                    o = opp_pos[v, cc]
                    a = acc[cc * nd + di]
                    for k in range(K):
                        d = D[v, k]
                        a[k] += tab[d if d <= cutoff else zero] * o


@numba.njit(**NJIT)
def _access_phast(
    groups,
    up_indptr,
    up_indices,
    up_t,
    dn_indptr,
    dn_src,
    dn_t,
    src_pos,
    cutoff,
    opp_pos,
    nz_pos,
    kinds,
    params,
    table,
    tps,
    out,
    K,
):
    """PHAST sweeps accumulating ``acc[col, k] += f(D[v, k]) * opp[v]`` for the sweep groups
    ``groups`` of ``K`` sources (:func:`~fietsstad.engine._phast.in_chunks` runs chunks of them
    on threads). Returns 0.

    With a cut-off inside the decay table the accumulation is fused into the sweep and
    branch-free over the ``K`` lanes; otherwise a second pass evaluates the decays per label.
    """
    n = dn_indptr.size - 1
    ns = src_pos.size
    nd = kinds.size
    ncol = opp_pos.shape[1]
    zero = table.shape[1] - 1
    fast = cutoff < zero
    U = np.full((n, K), PINF, np.int32)
    D = np.empty((n, K), np.int32)
    hk = np.empty(up_indices.size + 1, np.int64)
    acc = np.zeros((ncol * nd, K), np.float64)
    row = np.zeros(ncol * nd, np.float64)
    dist = np.full(n, PINF, np.int32)
    touched = np.empty(n, np.int32)
    for gi in groups:
        s0 = gi * K
        lanes = min(K, ns - s0)
        for k in range(lanes):
            _upward(src_pos[s0 + k], k, up_indptr, up_indices, up_t, cutoff, U, hk, dist, touched)
        acc[:, :] = 0.0
        if fast:
            _sweep_accumulate(
                dn_indptr, dn_src, dn_t, U, D, opp_pos, nz_pos, table, cutoff, nd, acc
            )
        else:
            _sweep(dn_indptr, dn_src, dn_t, U, D)
            for v in range(n):
                if not nz_pos[v]:
                    continue
                for k in range(lanes):
                    d = D[v, k]
                    if d <= cutoff:
                        row[:] = 0.0
                        _add(row, d, v, opp_pos, kinds, params, table, tps)
                        for q in range(ncol * nd):
                            acc[q, k] += row[q]
        for k in range(lanes):
            for q in range(ncol * nd):
                out[s0 + k, q] = acc[q, k]
    return 0


@numba.njit(**NJIT)
def _pruned_sweep_accumulate(lo, po_indptr, po_dst, po_t, D, mark, opp_pos, nz_pos, table, acc):
    """A cut-off PHAST sweep restricted to the nodes reached within the cut-off (RPHAST-like).

    Labels live in ``[0, top]`` with ``top = cutoff + 1`` meaning "beyond the cut-off" (also
    the index of the decay table's trailing zero, so the accumulation indexes the table
    directly). Push form over the downward edges (``po_*``: out-edges from each position to
    later positions; weights clipped to ``top``). Only *marked* positions do any lane work: the
    upward search results, and heads of downward edges pushed from an *active* node (some lane
    ``<= cutoff``) with ``lane-min + w <= cutoff``. Exact: on a shortest up-down path to a node
    within the cut-off every prefix is within the cut-off too, so every node of its downward
    part is active. ``D`` is ``top`` everywhere except the upward labels on entry, and all
    ``top`` again on return. Sums stay below ``2 * top``, so uint16 lanes are safe for
    ``cutoff < 32767``.
    """
    n, K = D.shape
    ncol = opp_pos.shape[1]
    nd = table.shape[0]
    top = table.shape[1] - 1
    cutoff = top - 1
    for v in range(lo, n):
        if not mark[v]:
            continue
        mark[v] = False
        m = D[v, 0]
        for k in range(1, K):
            m = min(m, D[v, k])
        if m > cutoff:
            continue  # nothing within the cut-off: labels are already ``top``
        for e in range(po_indptr[v], po_indptr[v + 1]):
            w = po_t[e]
            if m + w > cutoff:
                continue
            x = po_dst[e]
            mark[x] = True
            for k in range(K):
                D[x, k] = min(D[x, k], D[v, k] + w)
        if nz_pos[v]:
            for di in range(nd):
                tab = table[di]
                for cc in range(ncol):
                    o = opp_pos[v, cc]
                    a = acc[cc * nd + di]
                    for k in range(K):
                        a[k] += tab[D[v, k]] * o
        for k in range(K):
            D[v, k] = top


@numba.njit(**NJIT)
def _upward_lanes(hi, up_indptr, up_indices, up_w, D, mark, cutoff):
    """The upward searches of all ``K`` lanes at once, as one pass over a DAG (RPHAST-like).

    Every upward edge goes from a later to an earlier sweep position, so visiting the marked
    positions from ``hi`` (the latest source) down to 0 relaxes each node after every node
    that can reach it: its labels are final when it is visited. Only marked nodes do lane
    work, and a node pushes along an edge only if some lane is within the cut-off there
    (``lane-min + w <= cutoff``), as in :func:`_pruned_sweep_accumulate`; the sources of a
    group are graph neighbours, so their upward search spaces overlap and are walked once
    rather than once per lane with a heap. Labels and weights are clipped to
    ``top = cutoff + 1`` as there. Marks are left set for the downward sweep; returns the
    earliest marked position.
    """
    K = D.shape[1]
    lo = hi
    for v in range(hi, -1, -1):
        if not mark[v]:
            continue
        lo = v
        m = D[v, 0]
        for k in range(1, K):
            m = min(m, D[v, k])
        if m > cutoff:
            continue
        for e in range(up_indptr[v], up_indptr[v + 1]):
            w = up_w[e]
            if m + w > cutoff:
                continue
            x = up_indices[e]
            mark[x] = True
            for k in range(K):
                D[x, k] = min(D[x, k], D[v, k] + w)
    return lo


@numba.njit(**NJIT)
def _access_phast_pruned(
    groups,
    up_indptr,
    up_indices,
    up_w,
    po_indptr,
    po_dst,
    po_t,
    src_pos,
    rows,
    opp_pos,
    nz_pos,
    table,
    out,
    K,
):
    """Cut-off accessibility by restricted PHAST sweeps for the sweep groups ``groups`` (of
    ``K`` sources; :func:`~fietsstad.engine._phast.in_chunks` runs chunks of them on threads);
    source ``src_pos[i]`` fills row ``rows[i]`` of ``out``. The cut-off is ``table.shape[1] -
    2``; the lane type is the dtype of ``po_t`` and ``up_w`` (uint16 or int32, weights clipped
    to the cut-off + 1). Sources should come in a local order (graph neighbours together), so
    the ``K`` lanes of a group reach overlapping node sets: the upward part
    (:func:`_upward_lanes`) and the downward part (:func:`_pruned_sweep_accumulate`) each walk
    their union once. Returns 0."""
    n = po_indptr.size - 1
    ns = src_pos.size
    nd = table.shape[0]
    ncol = opp_pos.shape[1]
    top = table.shape[1] - 1
    cutoff = np.int64(top - 1)
    D = np.full((n, K), top, po_t.dtype)
    mark = np.zeros(n, np.bool_)
    acc = np.zeros((ncol * nd, K), np.float64)
    for gi in groups:
        s0 = gi * K
        lanes = min(K, ns - s0)
        hi = np.int64(0)
        for k in range(lanes):
            s = src_pos[s0 + k]
            D[s, k] = 0
            mark[s] = True
            hi = max(hi, np.int64(s))
        lo = _upward_lanes(hi, up_indptr, up_indices, up_w, D, mark, cutoff)
        acc[:, :] = 0.0
        _pruned_sweep_accumulate(lo, po_indptr, po_dst, po_t, D, mark, opp_pos, nz_pos, table, acc)
        for k in range(lanes):
            for q in range(ncol * nd):
                out[rows[s0 + k], q] = acc[q, k]
    return 0


def _push_graph(ch, top: int):
    """The downward edges as out-edges per sweep position (``indptr, dst, t``), weights
    clipped to ``top`` and stored as uint16 when ``2 * top`` fits, else int32 (the lane type
    of :func:`_access_phast_pruned`; :func:`_lane_weights` clips the upward weights alike)."""
    n = ch.n
    dst = np.repeat(np.arange(n, dtype=np.int32), np.diff(ch.dn_indptr))
    perm = np.argsort(ch.dn_src, kind="stable")
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(ch.dn_src, minlength=n), out=indptr[1:])
    return indptr, np.ascontiguousarray(dst[perm]), _lane_weights(ch.dn_t[perm], top)


def _lane_weights(t: np.ndarray, top: int) -> np.ndarray:
    """Edge weights clipped to ``top``, in the lane type of :func:`_push_graph`."""
    lane = np.uint16 if 2 * top <= np.iinfo(np.uint16).max else np.int32
    return np.minimum(t, top).astype(lane)


def _local_order(g: CSRGraph, src: np.ndarray) -> np.ndarray:
    """Indices into ``src`` that put graph neighbours next to each other (reverse
    Cuthill-McKee rank of the symmetrised graph): a sweep's lanes then reach similar nodes."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    a = csr_matrix((np.ones(g.m, np.int8), g.indices, g.indptr), shape=(g.n, g.n), dtype=np.int8)
    perm = reverse_cuthill_mckee(a, symmetric_mode=False)
    rank = np.empty(g.n, np.int64)
    rank[perm] = np.arange(g.n)
    return np.argsort(rank[src], kind="stable")


def _decay_arrays(decays: Sequence[Decay], tmax: int, ticks_per_s: int = 1):
    """Kinds, parameters and the lookup table ``table[d, t]`` = decay ``d`` at ``t`` ticks
    (``t / ticks_per_s`` seconds) for ``t <= tmax`` ticks, plus a trailing zero column."""
    if isinstance(decays, Decay):
        decays = [decays]
    decays = list(decays)
    if not decays or not all(isinstance(d, Decay) for d in decays):
        raise GraphError("decays must be a non-empty sequence of Decay objects")
    kinds = np.array([_KINDS[d.kind] for d in decays], dtype=np.int64)
    params = np.array([[d.p1, d.p2] for d in decays], dtype=np.float64).reshape(-1, 2)
    T = int(min(max(tmax, 0), _TABLE_MAX)) + 1
    ts = np.arange(T, dtype=np.float64) / ticks_per_s
    table = np.zeros((len(decays), T + 1), dtype=np.float64)  # trailing zero: beyond cut-off
    for i, d in enumerate(decays):
        table[i, :T] = d.weight(ts)
    return kinds, params, table


def _opportunities(opportunities, n: int) -> np.ndarray:
    try:
        opp = np.asarray(opportunities, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise GraphError(
            f"opportunities must be numbers (an array of shape (n,) or (n, k)): {err}"
        ) from err
    if opp.ndim == 1:
        opp = opp[:, None]
    if opp.ndim != 2 or opp.shape[0] != n:
        raise GraphError(
            f"opportunities must have shape (n,) or (n, k) with n = {n}, "
            f"got {np.shape(opportunities)}"
        )
    if not np.all(np.isfinite(opp)):
        raise GraphError("opportunities contain NaN or inf")
    if np.any(opp < 0):
        raise GraphError(f"opportunities must be >= 0 ({int((opp < 0).sum())} negative values)")
    return np.ascontiguousarray(opp)


def accessibility(
    graph: GraphLike,
    opportunities: npt.ArrayLike,
    decays: Sequence[Decay],
    *,
    cutoff: float | None = None,
    sources: npt.ArrayLike | None = None,
    method: str = "auto",
) -> np.ndarray:
    """Accessibility of every source to weighted opportunities, in one traversal per source.

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
    opportunities : float array (n,) or (n, k)
        Opportunities at each node (jobs, inhabitants, shops ...), one column per kind.
    decays : sequence of Decay
        Decay functions; all are evaluated in the same pass.
    cutoff : float, optional
        Only nodes within ``cutoff`` seconds count (always set it for local measures: it bounds
        the search).
    sources : int array, optional
        Origins (node positions); default all nodes.
    method : "auto", "phast" or "dijkstra"
        As in :func:`travel_times`; identical results.

    Returns
    -------
    float64 array (len(sources), k * len(decays)); column ``c * len(decays) + d`` is opportunity
    column ``c`` under decay ``d``.

    Example
    -------
    >>> g = CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
    >>> accessibility(g, np.array([0.0, 10.0, 5.0]), [Decay.cumulative(60),
    ...               Decay.cumulative(90)], sources=[0]).tolist()
    [[10.0, 15.0]]
    """
    g = as_graph(graph)
    opp = _opportunities(opportunities, g.n)
    src = check_nodes(sources, g.n, "sources")
    c = _cutoff(cutoff, g.ticks_per_s)
    tmax = c if c < MAX_I32 else min(g.total_weight(), MAX_I32)
    kinds, params, table = _decay_arrays(decays, tmax, g.ticks_per_s)
    tps = float(g.ticks_per_s)
    ncols = opp.shape[1] * len(kinds)
    check_memory(estimate_matrix_bytes(len(src), ncols, np.float64), "the accessibility table")
    out = np.zeros((len(src), ncols), dtype=np.float64)
    if len(src) == 0 or g.n == 0:
        return out
    nz = np.any(opp != 0, axis=1)
    meth = choose_method(g, src, c, method)
    nthr = numba.get_num_threads()
    if meth == "phast":
        ch = build_ch(g)
        cp = np.int64(min(c, PHAST_INF - 1))
        if PRUNED_SWEEP and cp < table.shape[1] - 1:
            top = table.shape[1] - 1  # == cp + 1: the table ends at the cut-off
            po_indptr, po_dst, po_t = _push_graph(ch, top)
            rows = _local_order(g, src)
            K = lanes_for(len(src), nthr)
            in_chunks(
                _access_phast_pruned,
                np.arange((len(src) + K - 1) // K, dtype=np.int64),
                nthr,
                ch.up_indptr,
                ch.up_indices,
                _lane_weights(ch.up_t, top),
                po_indptr,
                po_dst,
                po_t,
                np.ascontiguousarray(ch.pos[src[rows]]),
                rows.astype(np.int64),
                np.ascontiguousarray(opp[ch.order]),
                np.ascontiguousarray(nz[ch.order]),
                table,
                out,
                np.int64(K),
            )
            return out
        K = lanes_for(len(src), nthr)
        in_chunks(
            _access_phast,
            np.arange((len(src) + K - 1) // K, dtype=np.int64),
            nthr,
            ch.up_indptr,
            ch.up_indices,
            ch.up_t,
            ch.dn_indptr,
            ch.dn_src,
            ch.dn_t,
            np.ascontiguousarray(ch.pos[src]),
            cp,
            np.ascontiguousarray(opp[ch.order]),
            np.ascontiguousarray(nz[ch.order]),
            kinds,
            params,
            table,
            tps,
            out,
            np.int64(K),
        )
    else:
        in_chunks(
            _access_dijkstra,
            np.arange(len(src), dtype=np.int64),
            nthr,
            g.indptr,
            g.indices,
            g.weights,
            src,
            np.int64(c),
            opp,
            nz,
            kinds,
            params,
            table,
            tps,
            out,
            np.int64(dj.n_buckets(g.weights)),
        )
    return out


def two_step_fca(
    graph: GraphLike,
    supply_nodes: npt.ArrayLike,
    supply: npt.ArrayLike,
    demand_nodes: npt.ArrayLike,
    demand: npt.ArrayLike,
    catchment_s: float,
    decay: Decay | None = None,
    *,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area (2SFCA), or enhanced 2SFCA with a ``decay``.

    Step 1, per supply site ``j``: ``R_j = S_j / sum_k D_k f(t(k -> j))`` over demand points
    ``k`` with ``t(k -> j) <= catchment_s`` (a reverse-graph search from ``j``). Step 2, per demand
    point ``k``: ``A_k = sum_j R_j f(t(k -> j))`` over sites within the catchment (a forward
    search from ``k``). ``f`` is 1 (classic 2SFCA) or ``decay`` (enhanced, E2SFCA).

    Parameters
    ----------
    graph : CSRGraph or (indptr, indices, weights)
    supply_nodes, supply : node positions and capacities (e.g. hub bike stands)
    demand_nodes, demand : node positions and demand (e.g. inhabitants)
    catchment_s : float  catchment in seconds
    decay : Decay, optional  distance decay inside the catchment (enhanced 2SFCA)

    Returns
    -------
    (A, R) : float64 arrays, ``A`` per demand point, ``R`` per supply site (supply per unit of
    demand; NaN where no demand reaches the site, which then contributes nothing to ``A``).

    Example
    -------
    >>> g = CSRGraph.from_arrays([0, 1, 2, 3], [1, 2, 0], [60, 60, 60])
    >>> A, R = two_step_fca(g, [0], [10.0], [1, 2], [5.0, 15.0], catchment_s=120)
    >>> R.tolist(), A.tolist()
    ([0.5], [0.5, 0.5])
    """
    g: CSRGraph = as_graph(graph)
    sn = check_nodes(supply_nodes, g.n, "supply_nodes")
    dn = check_nodes(demand_nodes, g.n, "demand_nodes")
    S = np.asarray(supply, dtype=np.float64).ravel()
    Dm = np.asarray(demand, dtype=np.float64).ravel()
    if len(S) != len(sn) or len(Dm) != len(dn):
        raise GraphError("supply / demand values must match their node arrays in length")
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(Dm))) or np.any(S < 0) or np.any(Dm < 0):
        raise GraphError("supply and demand must be finite and >= 0")
    if catchment_s is None or not np.isfinite(catchment_s) or catchment_s < 0:
        raise GraphError("catchment_s must be a finite number of seconds >= 0")
    f = Decay.cumulative(catchment_s) if decay is None else decay
    dem_at = np.bincount(dn, weights=Dm, minlength=g.n)
    usn, inv = np.unique(sn, return_inverse=True)
    P = accessibility(g.reverse(), dem_at, [f], cutoff=catchment_s, sources=usn, method=method)
    P = P[:, 0][inv]
    R = np.divide(S, P, out=np.zeros_like(S), where=P > 0)
    r_at = np.bincount(sn, weights=R, minlength=g.n)
    A = accessibility(g, r_at, [f], cutoff=catchment_s, sources=dn, method=method)[:, 0]
    return A, np.where(P > 0, R, np.nan)
