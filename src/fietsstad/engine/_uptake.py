"""numba kernels of the PCT uptake function (private; the public API is :mod:`fietsstad.uptake`).

Coefficients travel as one float64 array ``coef`` of length 9:
``[a, d1, d2, d3, h1, h2, i1, i2, tail_km]`` (see :meth:`fietsstad.uptake.UptakeModel.coef`).
Distances beyond ``tail_km`` are evaluated at ``tail_km`` so the curve never rises again.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from fietsstad.engine.config import NJIT, NJIT_PAR


@nb.njit(**NJIT)
def _p(d_km: float, g_pct: float, coef: np.ndarray) -> float:
    """Uptake probability of one OD pair (``inf`` distance = unreachable = 0)."""
    if d_km == math.inf:
        return 0.0
    d = min(d_km, coef[8])
    s = math.sqrt(d)
    G = g_pct + coef[5]
    lg = (
        coef[0]
        + coef[1] * d
        + coef[2] * s
        + coef[3] * d * d
        + coef[4] * G
        + coef[6] * d * G
        + coef[7] * s * G
    )
    return 1.0 / (1.0 + math.exp(-lg))


@nb.njit(**NJIT_PAR)
def _uptake_flat(
    dist: np.ndarray,
    scale: float,
    grad: np.ndarray,
    coef: np.ndarray,
    out: np.ndarray,
    sentinel: float,
) -> int:
    """``out[k] = p(dist[k] * scale, grad[k or 0])`` over 1-D views; returns the bad-entry count.

    ``dist[k] == sentinel`` (the unreachable marker of integer matrices; ``inf`` for floats)
    gives 0.

    ``grad`` has length 1 (one gradient for all) or ``len(dist)``. Bad entries (NaN or negative
    distance/gradient) get NaN and are counted so the caller can raise a clear error.
    """
    n = dist.shape[0]
    one = grad.shape[0] == 1
    bad = 0
    for k in nb.prange(n):
        raw = np.float64(dist[k])
        g = grad[0] if one else grad[k]
        if raw == sentinel:
            out[k] = 0.0
            continue
        d = raw * scale
        if not (d >= 0.0) or not (g == g):
            out[k] = np.nan
            bad += 1
        else:
            out[k] = _p(d, g, coef)
    return bad


def uptake_table(coef: np.ndarray, size: int, scale_km: float) -> np.ndarray:
    """Flat-terrain uptake for integer distances ``0 .. size-1`` in units of ``scale_km`` km."""
    out = np.empty(size, dtype=np.float64)
    _uptake_flat(
        np.arange(size, dtype=np.float64), float(scale_km), np.zeros(1), coef, out, math.inf
    )
    return out
