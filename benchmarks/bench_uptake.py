"""Uptake plus trip distribution over a 20,000-zone case: fietsstad against plain numpy.

Case (built once per session): 20,000 zones at random points in Zwolle's box; travel time
(uint16 s) and route distance (uint16 m) from the straight-line distance times a detour factor
1.3 at 16 km/h plus 20 s: a GENERATED planar cost matrix (synthetic, not OpenStreetMap), 0.8 GB
per matrix. ``FIETSSTAD_BENCH_UPTAKE_ZONES`` changes the size (default 20,000).

Work measured, identical for both: a doubly constrained gravity model with
``exp(-0.1 * minutes)`` balanced by Furness to a relative margin error of 1e-4, then per origin
zone: trips, trip-km, Go Dutch 2020 bike trips and bike-km, e-bike trips and e-bike-km.

* fietsstad: :func:`fietsstad.demand.modal_share` (``top_pairs=0``): numba, one fused pass per
  Furness iteration and one reduction pass, deterrence and uptake as lookup tables, no
  ``n x n`` float arrays.
* peer: the same algorithm in plain numpy (``f[cost]`` gather, BLAS mat-vec products, the uptake
  formula vectorised). A full-matrix numpy version would need about 3.2 GB per float64
  ``n x n`` temporary and four or more of them (> 10 GB), so it runs on row blocks of 500 rows
  (80 MB float64 temporaries), which is also its fastest setting here.

Both run in one process, one after the other, on the same matrices; the results are asserted
equal (rtol 1e-6) and the ratio numpy time / fietsstad time and both tracemalloc peaks are
printed and stored in ``extra_info``. Run with::

    python -m pytest benchmarks/bench_uptake.py --benchmark-only -s
"""

from __future__ import annotations

import os
import time
import tracemalloc

import numba as nb
import numpy as np
import pandas as pd
import pytest

from fietsstad.demand import EBIKE_2020, GODUTCH_2020, modal_share

N = int(os.environ.get("FIETSSTAD_BENCH_UPTAKE_ZONES", "20000"))
BETA_PER_MIN = 0.1
TOL = 1e-4
BLOCK = 500
RESULTS: dict[str, dict] = {}


@nb.njit(parallel=True, cache=True)
def _planar(x, y, t_out, d_out):
    n = x.shape[0]
    for i in nb.prange(n):
        for j in range(n):
            m = 1.3 * np.hypot(x[i] - x[j], y[i] - y[j])
            d_out[i, j] = min(65534, int(m + 0.5))
            t_out[i, j] = min(65534, int(m / (16.0 / 3.6) + 20.5))


@pytest.fixture(scope="session")
def case():
    rng = np.random.default_rng(2024)
    # Zwolle's box is about 14 km x 16 km
    x = rng.uniform(0, 14_000, N)
    y = rng.uniform(0, 16_000, N)
    t = np.empty((N, N), dtype=np.uint16)
    d = np.empty((N, N), dtype=np.uint16)
    _planar(x, y, t, d)
    P = rng.uniform(10, 400, N)
    A = rng.uniform(10, 400, N)
    A *= P.sum() / A.sum()
    zones = pd.DataFrame({"productions": P, "attractions": A})
    # compile fietsstad's kernels for these dtypes outside the measurement
    modal_share(
        t[:50, :50], zones.iloc[:50], GODUTCH_2020, EBIKE_2020, distances=d[:50, :50], top_pairs=0
    )
    return t, d, zones


def _p_numpy(m, km):
    """PCT uptake, flat terrain, plain numpy (distances capped at the model's tail_km)."""
    km = np.minimum(km, m.tail_km)
    s = np.sqrt(km)
    G = m.h2
    lg = m.a + m.d1 * km + m.d2 * s + m.d3 * km * km + m.h1 * G + m.i1 * km * G + m.i2 * s * G
    return 1.0 / (1.0 + np.exp(-lg))


def numpy_modal_share(cost, dist, P, A):
    """Gravity + Furness + uptake reductions in plain numpy, on row blocks."""
    n, m = cost.shape
    f = np.exp(-BETA_PER_MIN * np.arange(65536) / 60.0)
    f[65535] = 0.0
    b = (A > 0).astype(float)
    a_old = np.zeros(n)
    for it in range(1, 1000):
        a = np.empty(n)
        col = np.zeros(m)
        err = 0.0
        for r0 in range(0, n, BLOCK):
            F = f[cost[r0 : r0 + BLOCK]]
            rs = F @ b
            if it > 1:
                err = max(
                    err,
                    float(np.max(np.abs(a_old[r0 : r0 + BLOCK] * rs / P[r0 : r0 + BLOCK] - 1.0))),
                )
            a[r0 : r0 + BLOCK] = P[r0 : r0 + BLOCK] / rs
            col += a[r0 : r0 + BLOCK] @ F
        if it > 1 and err <= TOL:
            break
        b = A / col
        a_old = a
    a = a_old
    out = np.zeros((n, 6))
    for r0 in range(0, n, BLOCK):
        T = a[r0 : r0 + BLOCK, None] * b[None, :] * f[cost[r0 : r0 + BLOCK]]
        km = dist[r0 : r0 + BLOCK] * 0.001
        pb = _p_numpy(GODUTCH_2020, km)
        pe = _p_numpy(EBIKE_2020, km)
        out[r0 : r0 + BLOCK] = np.column_stack(
            [
                T.sum(1),
                (T * km).sum(1),
                (T * pb).sum(1),
                (T * pb * km).sum(1),
                (T * pe).sum(1),
                (T * pe * km).sum(1),
            ]
        )
    return out, it - 1


def _run(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    res = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return res, dt, peak


def test_modal_share_vs_numpy(benchmark, case):
    cost, dist, zones = case
    P, A = zones["productions"].to_numpy(), zones["attractions"].to_numpy()

    def ours():
        return modal_share(
            cost,
            zones,
            GODUTCH_2020,
            EBIKE_2020,
            distances=dist,
            top_pairs=0,
            tol=TOL,
            deterrence=("exponential", BETA_PER_MIN),
        )

    res, t_ours, peak_ours = _run(lambda: benchmark.pedantic(ours, rounds=1, iterations=1))
    (ref, iters), t_np, peak_np = _run(lambda: numpy_modal_share(cost, dist, P, A))
    z = res["zones"]
    ours_arr = z[
        ["trips", "trip_km", "bike_trips", "bike_km", "ebike_trips", "ebike_km"]
    ].to_numpy()
    np.testing.assert_allclose(ours_arr, ref, rtol=1e-6)
    assert res["city"].attrs["assumptions"]["ipf_iterations"] == iters
    f64 = N * N * 8
    info = {
        "zones": N,
        "ipf_iterations": iters,
        "fietsstad_s": round(t_ours, 2),
        "numpy_blocks_s": round(t_np, 2),
        "speedup": round(t_np / t_ours, 2),
        "fietsstad_peak_MB": round(peak_ours / 1e6, 1),
        "numpy_peak_MB": round(peak_np / 1e6, 1),
        "nxn_float64_MB": round(f64 / 1e6, 1),
        "bike_share": round(float(res["city"]["bike_share"].iloc[0]), 4),
    }
    benchmark.extra_info.update(info)
    RESULTS["modal_share"] = info
    print("\nuptake + distribution:", info)
    # no n x n float64 temporaries (nor anything close) on fietsstad's path
    assert peak_ours < f64 / 20
