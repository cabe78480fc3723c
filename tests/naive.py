"""Plain, obviously-correct reference implementations the engine is tested against (stumpy style).

Every function here is slow on purpose: dense matrices from ``scipy.sparse.csgraph.dijkstra``
and straightforward numpy sums. Nothing is shared with the engine's kernels. The test files
import their references from here (routing, accessibility, Furness/IPF, PCT uptake, the
incremental update).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.special import expit

U16 = 65535


def edges_of(indptr, indices, weights):
    """Edge list ``(u, v, w)`` of a CSR graph."""
    indptr = np.asarray(indptr)
    u = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return u, np.asarray(indices), np.asarray(weights)


def _dense_min_graph(n, u, v, w):
    """Sparse matrix with the cheapest parallel edge per pair and self-loops dropped."""
    keep = u != v
    u, v, w = u[keep], v[keep], np.asarray(w, dtype=np.float64)[keep]
    best = {}
    for a, b, c in zip(u.tolist(), v.tolist(), w.tolist()):
        if (a, b) not in best or c < best[(a, b)]:
            best[(a, b)] = c
    if not best:
        return csr_matrix((n, n))
    ab = np.array(list(best.keys()), dtype=np.int64)
    return csr_matrix((np.array(list(best.values())), (ab[:, 0], ab[:, 1])), shape=(n, n))


def scipy_times(indptr, indices, weights):
    """Exact all-pairs integer times (float64 with inf for unreachable).

    Zero-weight edges are made positive without changing any shortest path: every weight becomes
    ``w * B + 1`` with ``B = n`` (a simple path has fewer than n edges, so the ``+1`` terms never
    outweigh one unit of ``w``); the true time is ``d // B``.
    """
    n = len(indptr) - 1
    if n == 0:
        return np.zeros((0, 0))
    u, v, w = edges_of(indptr, indices, weights)
    B = float(n)
    G = _dense_min_graph(n, u, v, np.asarray(w, dtype=np.float64) * B + 1.0)
    d = dijkstra(G, directed=True)
    return np.where(np.isinf(d), np.inf, np.floor(d / B))


def scipy_lexicographic(indptr, indices, weights, secondary):
    """All-pairs (time, secondary) of the lexicographically least path, via one scalar weight.

    ``W = (w * K + s) * B + 1`` with ``K`` above any secondary path sum and ``B = n``.
    """
    n = len(indptr) - 1
    u, v, w = edges_of(indptr, indices, weights)
    s = np.asarray(secondary, dtype=np.float64)
    K = float(s.sum() + 1)
    B = float(n)
    G = _dense_min_graph(n, u, v, (np.asarray(w, np.float64) * K + s) * B + 1.0)
    d = dijkstra(G, directed=True)
    fin = np.isfinite(d)
    q = np.floor(np.where(fin, d, 0.0) / B)
    t = np.where(fin, np.floor(q / K), np.inf)
    sec = np.where(fin, q - np.floor(q / K) * K, np.inf)
    return t, sec


def random_graph(rng, n, m, wmax=20, zero_share=0.1):
    """Random directed multigraph with self-loops, parallel and zero-weight edges (CSR arrays)."""
    if n == 0:
        return np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32)
    u = rng.integers(0, n, size=m)
    v = rng.integers(0, n, size=m)
    w = rng.integers(1, wmax + 1, size=m)
    w[rng.random(m) < zero_share] = 0
    return to_csr(n, u, v, w)


def to_csr(n, u, v, w):
    """CSR arrays from an edge list (edges sorted by tail, stable)."""
    u = np.asarray(u, np.int64)
    order = np.argsort(u, kind="stable")
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    return (
        indptr.astype(np.int32),
        np.asarray(v)[order].astype(np.int32),
        np.asarray(w)[order].astype(np.int32),
    )


def perturbed_grid(rows, cols, seed=0, oneway_share=0.1, drop_share=0.08, wmin=5, wmax=60):
    """A street-like test graph: a grid with random weights, some one-way and missing links."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows * cols).reshape(rows, cols)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(len(a)) >= drop_share
    a, b = a[keep], b[keep]
    w = rng.integers(wmin, wmax + 1, size=len(a))
    w2 = w + rng.integers(0, 3, size=len(a))
    oneway = rng.random(len(a)) < oneway_share
    u = np.concatenate([a, b[~oneway]])
    v = np.concatenate([b, a[~oneway]])
    ww = np.concatenate([w, w2[~oneway]])
    return to_csr(rows * cols, u, v, ww)


def to_dtype(times, cutoff=None, dtype=np.uint16):
    """Reference conversion of float times (inf = unreachable) to the engine's output format."""
    t = np.array(times, dtype=np.float64)
    if cutoff is not None:
        t[t > cutoff] = np.inf
    dt = np.dtype(dtype)
    if dt == np.float32:
        return t.astype(np.float32)
    sentinel = 65535 if dt == np.uint16 else 2**31 - 1
    return np.where(np.isinf(t), sentinel, t).astype(dt)


def decay_weight(kind, p1, p2, t):
    """Decay functions written out directly (t in seconds, float array)."""
    t = np.asarray(t, dtype=np.float64)
    if kind == "cumulative":
        return (t <= p1).astype(float)
    if kind == "exponential":
        return np.exp(-p1 * t)
    if kind == "power":
        with np.errstate(divide="ignore"):
            return np.where(t <= p2, 1.0, (t / p2) ** (-p1))
    if kind == "logistic":
        return 1.0 / (1.0 + np.exp(p2 * (t - p1)))
    raise ValueError(kind)


def accessibility_ref(T, opp, decays, cutoff=None):
    """``A[i, c*nd + d] = sum_v opp[v, c] * f_d(T[i, v])`` over reachable v within the cut-off."""
    opp = np.asarray(opp, dtype=np.float64)
    if opp.ndim == 1:
        opp = opp[:, None]
    reach = np.isfinite(T)
    if cutoff is not None:
        reach &= T <= cutoff
    Tz = np.where(reach, T, 0.0)
    cols = []
    for c in range(opp.shape[1]):
        for dec in decays:
            W = np.where(reach, decay_weight(dec.kind, dec.p1, dec.p2, Tz), 0.0)
            cols.append(W @ opp[:, c])
    return np.column_stack(cols)


def two_step_fca_ref(T, supply_nodes, supply, demand_nodes, demand, catchment, decay=None):
    """2SFCA straight from the definition on a full matrix ``T`` (origin -> destination)."""
    sub = T[np.ix_(demand_nodes, supply_nodes)]  # demand point k -> supply site j
    inside = np.isfinite(sub) & (sub <= catchment)
    if decay is None:
        f = inside.astype(float)
    else:
        f = np.where(
            inside, decay_weight(decay.kind, decay.p1, decay.p2, np.where(inside, sub, 0.0)), 0.0
        )
    P = (np.asarray(demand, float)[:, None] * f).sum(axis=0)
    R = np.where(P > 0, np.asarray(supply, float) / np.where(P > 0, P, 1), 0.0)
    A = f @ R
    return A, np.where(P > 0, R, np.nan)


# ----------------------------------------------------------------------------- demand
def furness_numpy(P, A, F, n_iter):
    """Plain Furness on a dense deterrence matrix: a from b, then b from a, ``n_iter`` times."""
    b = (A > 0).astype(float)
    a = np.zeros(len(P))
    for _ in range(n_iter):
        rs = F @ b
        a = np.divide(P, rs, out=np.zeros_like(P), where=(P > 0) & (rs > 0))
        cs = a @ F
        b = np.divide(A, cs, out=np.zeros_like(A), where=(A > 0) & (cs > 0))
    return a, b


def dense_f(cost, beta_per_min):
    """Dense exponential deterrence ``exp(-beta * minutes)``, 0 on the uint16 sentinel."""
    F = np.exp(-beta_per_min * cost.astype(float) / 60.0)
    F[cost == U16] = 0.0
    return F


def pct(model, d):
    """The PCT uptake logit written out (distance ``d`` km, flat beyond ``model.tail_km``)."""
    d = np.minimum(d, model.tail_km)
    G = model.h2
    return expit(
        model.a
        + model.d1 * d
        + model.d2 * np.sqrt(d)
        + model.d3 * d * d
        + model.h1 * G
        + model.i1 * d * G
        + model.i2 * np.sqrt(d) * G
    )


# ----------------------------------------------------------------------------- incremental update
def network_times(net, sources=None, dtype=np.uint16):
    """scipy Dijkstra on the minimum weight per (u, v) pair, converted to the matrix convention.

    In engine ticks (deciseconds, ``net.travel_time_ticks()``): the unit of the incremental update.
    """
    src = net.edge_sources()
    best = {}
    for a, b, w in zip(src.tolist(), net.indices.tolist(), net.travel_time_ticks().tolist()):
        best[(a, b)] = min(w, best.get((a, b), w))
    n = net.n_nodes
    keys = list(best)
    A = csr_matrix(
        ([best[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])), shape=(n, n)
    )
    d = dijkstra(A, directed=True, indices=np.arange(n) if sources is None else sources)
    if np.dtype(dtype).kind == "f":
        return d.astype(dtype)
    sentinel = 65535 if np.dtype(dtype) == np.uint16 else 2**31 - 1
    return np.where(np.isfinite(d), np.minimum(d, sentinel), sentinel).astype(dtype)


def min_plus_pass(row, e, du, sentinel):
    """min(row, du + e) in int64/float64, saturated at the dtype's sentinel."""
    if row.dtype.kind == "f":
        return np.minimum(row, e + row.dtype.type(du))
    return np.minimum(row.astype(np.int64), np.minimum(e.astype(np.int64) + int(du), sentinel))


def graph_times(g, sources, limit=np.inf) -> np.ndarray:
    """scipy's Dijkstra on an engine ``CSRGraph`` without parallel edges (see
    :func:`min_duplicates`): float64 times, inf where unreachable or beyond ``limit``."""
    A = csr_matrix((g.weights.astype(np.float64), g.indices, g.indptr), shape=(g.n, g.n))
    return dijkstra(A, directed=True, indices=sources, limit=limit)


def min_duplicates(g):
    """CSR with parallel edges reduced to the cheapest (scipy would add them up)."""
    src = g.edge_sources()
    key = src.astype(np.int64) * g.n + g.indices
    order = np.lexsort((g.weights, key))
    keep = np.ones(len(order), bool)
    keep[1:] = key[order][1:] != key[order][:-1]
    e = order[keep]
    from fietsstad.engine import CSRGraph

    return CSRGraph.from_arrays(
        np.concatenate([[0], np.cumsum(np.bincount(src[e], minlength=g.n))]),
        g.indices[e],
        g.weights[e],
    )
