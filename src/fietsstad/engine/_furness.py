"""numba kernels of the doubly constrained gravity model (private; see :mod:`fietsstad.demand`).

Trips are never stored: ``T[i, j] = a[i] * b[j] * f[c[i, j]]`` where ``c`` is an integer cost
matrix (``uint16`` or ``int32``) and ``f`` a deterrence lookup table indexed by cost. Costs at or
beyond ``len(f)`` (and the unreachable sentinels, whose table entry is 0) contribute nothing.

Every kernel works row by row over a C-ordered matrix, in ``n_chunks`` row ranges run in parallel;
column sums go to one accumulator row per chunk, summed afterwards (no races, no n x n floats).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from fietsstad.engine._uptake import _p
from fietsstad.engine.config import NJIT, NJIT_PAR


@nb.njit(**NJIT)
def _f(c, f: np.ndarray, L: int) -> float:
    k = np.int64(c)
    if k < 0 or k >= L:
        return 0.0
    return f[k]


@nb.njit(**NJIT)
def _furness_rows(cost, f, P, a_old, b, a_new, acc_row, rowsum, r0, r1, omega):
    """Rows ``r0 .. r1`` of one Furness pass (see :func:`_furness_pass`); returns their error."""
    m = cost.shape[1]
    L = f.shape[0]
    buf = np.empty(m)
    for j in range(m):
        acc_row[j] = 0.0
    e = 0.0
    for i in range(r0, r1):
        s = 0.0
        for j in range(m):
            c = np.int64(cost[i, j])
            fv = f[c] if 0 <= c < L else 0.0
            buf[j] = fv
            s += b[j] * fv
        rowsum[i] = s
        if P[i] > 0.0 and s > 0.0:
            e = max(e, abs(a_old[i] * s / P[i] - 1.0))
            ai = P[i] / s
            if omega != 1.0 and a_old[i] > 0.0:  # over-relaxed in log space
                ai = a_old[i] * (ai / a_old[i]) ** omega
            a_new[i] = ai
            for j in range(m):
                acc_row[j] += ai * buf[j]
        else:
            a_new[i] = 0.0
    return e


@nb.njit(**NJIT_PAR)
def _furness_pass(cost, f, P, a_old, b, a_new, acc, rowsum, n_chunks, omega=1.0):
    """One fused Furness iteration, ``n_chunks`` row ranges in parallel.

    For every row: ``rowsum[i] = sum_j b[j] f[c_ij]``; ``a_new[i] = P[i] / rowsum[i]`` (0 if
    ``P[i] == 0`` or the row reaches nothing), over-relaxed in log space when ``omega != 1``:
    ``a_new[i] = a_old[i] * (P[i] / rowsum[i] / a_old[i]) ** omega`` (where ``a_old[i] > 0``);
    then ``acc[chunk, j] += a_new[i] f[c_ij]``.
    Returns the largest relative row-margin error of the *previous* state ``(a_old, b)``,
    ``max_i |a_old[i] rowsum[i] / P[i] - 1|`` over rows with ``P[i] > 0``.
    """
    n = cost.shape[0]
    errs = np.zeros(n_chunks)
    for k in nb.prange(n_chunks):
        r0 = (n * k) // n_chunks
        r1 = (n * (k + 1)) // n_chunks
        errs[k] = _furness_rows(cost, f, P, a_old, b, a_new, acc[k], rowsum, r0, r1, omega)
    return errs.max()


@nb.njit(**NJIT)
def _furness_pass_serial(cost, f, P, a_old, b, a_new, acc, rowsum, omega=1.0):
    """:func:`_furness_pass` on one thread (one chunk): for small matrices, where waking the
    threads of a parallel pass costs far more than the pass itself."""
    return _furness_rows(cost, f, P, a_old, b, a_new, acc[0], rowsum, 0, cost.shape[0], omega)


@nb.njit(**NJIT)  # a min scan: serial (a parallel kernel costs ~2 s more to compile)
def _check_cost(cost, n_chunks):
    """Smallest cost value (to refuse negative int32 costs) without a copy."""
    n, m = cost.shape
    mins = np.zeros(n_chunks, dtype=np.int64)
    for k in nb.prange(n_chunks):
        lo = np.int64(0)
        for i in range((n * k) // n_chunks, (n * (k + 1)) // n_chunks):
            for j in range(m):
                v = np.int64(cost[i, j])
                if v < lo:
                    lo = v
        mins[k] = lo
    return mins.min()


@nb.njit(**NJIT_PAR)
def _trip_matrix(cost, f, a, b, out):
    """``out[i, j] = a[i] b[j] f[c_ij]`` (out is float32 or float64)."""
    n, m = cost.shape
    L = f.shape[0]
    for i in nb.prange(n):
        for j in range(m):
            out[i, j] = a[i] * b[j] * _f(cost[i, j], f, L)


@nb.njit(**NJIT_PAR)
def _modal_rows(
    cost,
    f,
    a,
    b,
    dist,
    scale,
    sentinel,
    udist,
    uscale,
    grad,
    coef_b,
    coef_e,
    tab_b,
    tab_e,
    direct,
    hist_w,
    intra,
    d0,
    rows,
    cols,
    hist,
    n_chunks,
):
    """Reduce trips, bike and e-bike uptake over the whole matrix without storing any of it.

    ``rows[i]``: trips, trip_km, bike, bike_km, ebike, ebike_km of origin i;
    ``cols[chunk, j]``: trips, bike, ebike attracted by j; ``hist[chunk, bin]``: trips, bike,
    ebike, trip-km by distance bin of width ``hist_w`` km (last bin open-ended). ``grad`` is 2-D: shape
    (1, 1) for one gradient for all pairs, or the matrix shape (then ``direct`` must be True).
    ``intra[i] >= 0`` replaces the distance (km) of the intrazonal pair (i, i + d0): ``d0`` is
    the column of row 0's own zone (0 for a whole matrix, the first row's zone for a block of
    rows). Uptake is
    evaluated at ``udist * uscale`` km (the route distance ``dist`` itself, or the travel time
    times a reference speed); km sums and the histogram use ``dist * scale``. Returns the number
    of reachable pairs with a missing (sentinel/NaN/negative) distance.
    """
    n, m = cost.shape
    L = f.shape[0]
    Lt = tab_b.shape[0]
    nb_bins = hist.shape[1]
    inv_w = 1.0 / hist_w
    one_g = grad.shape[0] == 1 and grad.shape[1] == 1
    bad = np.zeros(n_chunks, dtype=np.int64)
    for k in nb.prange(n_chunks):
        cols[k, :, :] = 0.0
        hist[k, :, :] = 0.0
        nbad = 0
        for i in range((n * k) // n_chunks, (n * (k + 1)) // n_chunks):
            t_s = 0.0
            tk_s = 0.0
            b_s = 0.0
            bk_s = 0.0
            e_s = 0.0
            ek_s = 0.0
            ai = a[i]
            if ai == 0.0:
                rows[i, :] = 0.0
                continue
            for j in range(m):
                c = np.int64(cost[i, j])
                if c < 0 or c >= L:
                    continue
                fv = f[c]
                if fv == 0.0:
                    continue
                t = ai * b[j] * fv
                dv = np.float64(dist[i, j])
                dkm = dv * scale
                if i + d0 == j and intra[i] >= 0.0:
                    dkm = intra[i]
                    g = grad[0, 0] if one_g else np.float64(grad[i, j])
                    pb = _p(dkm, g, coef_b)
                    pe = _p(dkm, g, coef_e)
                elif dv == sentinel or not (dkm >= 0.0) or dkm == math.inf:
                    nbad += 1
                    continue
                elif direct:
                    g = grad[0, 0] if one_g else np.float64(grad[i, j])
                    ukm = np.float64(udist[i, j]) * uscale
                    pb = _p(ukm, g, coef_b)
                    pe = _p(ukm, g, coef_e)
                else:  # integer uptake distance: lookup tables (flat beyond tail_km)
                    u = np.int64(udist[i, j])
                    if u >= Lt:
                        u = Lt - 1
                    pb = tab_b[u]
                    pe = tab_e[u]
                tb = t * pb
                te = t * pe
                t_s += t
                tk_s += t * dkm
                b_s += tb
                bk_s += tb * dkm
                e_s += te
                ek_s += te * dkm
                cols[k, j, 0] += t
                cols[k, j, 1] += tb
                cols[k, j, 2] += te
                q = int(dkm * inv_w)
                if q >= nb_bins:
                    q = nb_bins - 1
                hist[k, q, 0] += t
                hist[k, q, 1] += tb
                hist[k, q, 2] += te
                hist[k, q, 3] += t * dkm
            rows[i, 0] = t_s
            rows[i, 1] = tk_s
            rows[i, 2] = b_s
            rows[i, 3] = bk_s
            rows[i, 4] = e_s
            rows[i, 5] = ek_s
        bad[k] = nbad
    return bad.sum()


@nb.njit(**NJIT_PAR)
def _bike_block(
    cost, f, a, b, dist, scale, sentinel, udist, uscale, grad, coef, tab, direct, intra, d0, r0, out
):
    """Bike trips ``T_ij p_ij`` of rows ``r0 .. r0 + len(out)`` into ``out`` (float32 block).

    ``(i, i + d0)`` is the intrazonal pair of row ``i`` (see :func:`_modal_rows`).
    """
    m = cost.shape[1]
    L = f.shape[0]
    Lt = tab.shape[0]
    one_g = grad.shape[0] == 1 and grad.shape[1] == 1
    for r in nb.prange(out.shape[0]):
        i = r0 + r
        for j in range(m):
            out[r, j] = 0.0
            c = np.int64(cost[i, j])
            if c < 0 or c >= L or f[c] == 0.0:
                continue
            t = a[i] * b[j] * f[c]
            g = grad[0, 0] if one_g else np.float64(grad[i, j])
            if i + d0 == j and intra[i] >= 0.0:
                out[r, j] = t * _p(intra[i], g, coef)
                continue
            dv = np.float64(dist[i, j])
            dkm = dv * scale
            if dv == sentinel or not (dkm >= 0.0) or dkm == math.inf:
                continue
            if direct:
                out[r, j] = t * _p(np.float64(udist[i, j]) * uscale, g, coef)
            else:
                u = np.int64(udist[i, j])
                out[r, j] = t * tab[min(u, Lt - 1)]


@nb.njit(**NJIT)  # a max scan: serial, as _check_cost
def _max_below(cost, sentinel, n_chunks):
    n, m = cost.shape
    out = np.zeros(n_chunks, dtype=np.int64)
    for k in nb.prange(n_chunks):
        mx = np.int64(0)
        for i in range((n * k) // n_chunks, (n * (k + 1)) // n_chunks):
            for j in range(m):
                v = np.int64(cost[i, j])
                if v != sentinel and v > mx:
                    mx = v
        out[k] = mx
    return out.max()
