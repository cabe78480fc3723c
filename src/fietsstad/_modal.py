"""Private helpers of :func:`fietsstad.demand.modal_share`: inputs, uptake tables, output frames."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ._ipf import _bike_block
from ._validate import check_array
from .errors import ValidationError
from .uptake import UptakeModel


def _zone_table(zones: Any) -> pd.DataFrame:
    if isinstance(zones, pd.DataFrame) and {"productions", "attractions"} <= set(zones.columns):
        return zones
    if isinstance(zones, pd.DataFrame):
        from .demand import trip_generation

        zt = trip_generation(zones)
        for col in ("lon", "lat", "node"):  # keep what snapping needs
            if col in zones.columns and col not in zt.columns:
                zt[col] = zones[col].to_numpy()
        return zt
    raise ValidationError(
        "zones must be a (Geo)DataFrame with productions/attractions or "
        f"population (and jobs) columns, got {type(zones).__name__}"
    )


def _matrices(net_or_cost: Any, zt: pd.DataFrame, distances: Any) -> tuple[np.ndarray, np.ndarray]:
    from .network import BikeNetwork

    if isinstance(net_or_cost, BikeNetwork):
        from .demand import snap_zones
        from .routing import travel_time_matrix

        net = net_or_cost
        nodes = zt["node"].to_numpy(np.int32) if "node" in zt.columns else snap_zones(net, zt)
        # uint16 seconds and int32 metres along the fastest routes (sentinel 2**31-1)
        cost, dist = travel_time_matrix(net, nodes, nodes, with_distance=True, saturate=True)
    else:
        cost = net_or_cost
        if distances is None:
            raise ValidationError(
                "modal_share needs distances=... (route distances of the "
                "fastest paths) when given a cost matrix instead of a network"
            )
        dist = distances
    if not isinstance(dist, np.ndarray):
        dist = np.asarray(dist)
    if dist.dtype.kind not in "iuf" or dist.ndim != 2:
        raise ValidationError(
            f"distances must be a numeric 2-D matrix, got {dist.dtype} {dist.shape}"
        )
    return cost, np.ascontiguousarray(dist)


def _uptake_setup(
    models: tuple[UptakeModel, UptakeModel], udist: np.ndarray, scale: float, gradient: Any
) -> tuple[np.ndarray, float, np.ndarray, list[np.ndarray], bool]:
    """``(udist, scale, gradient (2-D), [bike table, e-bike table], direct)`` for the kernels.

    Integer uptake distances with one gradient use lookup tables over ``0 .. tail_km``;
    float distances or a gradient matrix are evaluated directly.
    """
    if np.ndim(gradient) == 0:
        gv = float(gradient)
        if not math.isfinite(gv):
            raise ValidationError(f"gradient must be finite, got {gv}")
        g = np.full((1, 1), gv)
    else:
        g = check_array(gradient, "gradient", ndim=2)
        if g.shape != udist.shape or not np.all(np.isfinite(g)):
            raise ValidationError(
                "gradient must be a scalar or a finite matrix of the distances' shape"
            )
    direct = udist.dtype.kind == "f" or g.shape != (1, 1)
    tabs = [np.zeros(1), np.zeros(1)]
    if not direct:
        size = int(math.ceil(max(m.tail_km for m in models) / scale)) + 2
        if size > 2**22:
            direct = True
        else:
            tabs = []
            for m in models:
                t = np.empty(size)
                from ._uptake_kernels import _uptake_flat

                _uptake_flat(np.arange(size, dtype=np.float64), scale, g[0], m.coef(), t, math.inf)
                tabs.append(t)
    return udist, scale, g, tabs, direct


def _zone_frame(
    zt: pd.DataFrame, rows: np.ndarray, col: np.ndarray, car_share: float, co2: float
) -> pd.DataFrame:
    trips = rows[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        df = pd.DataFrame(
            {
                "productions": zt["productions"].to_numpy(float),
                "trips": trips,
                "trip_km": rows[:, 1],
                "bike_trips": rows[:, 2],
                "bike_share": np.where(trips > 0, rows[:, 2] / trips, 0.0),
                "bike_km": rows[:, 3],
                "ebike_trips": rows[:, 4],
                "ebike_share": np.where(trips > 0, rows[:, 4] / trips, 0.0),
                "ebike_km": rows[:, 5],
                "bike_trips_attracted": col[:, 1],
                "ebike_trips_attracted": col[:, 2],
            },
            index=zt.index,
        )
    _add_shift(df, car_share, co2)
    if "geometry" in zt.columns:
        import geopandas as gpd

        df = gpd.GeoDataFrame(df, geometry=zt.geometry.to_numpy(), crs=zt.crs)
    return df


def _add_shift(df: pd.DataFrame, car_share: float, co2: float) -> None:
    df["extra_ebike_trips"] = df["ebike_trips"] - df["bike_trips"]
    df["car_trips_replaced"] = car_share * df["extra_ebike_trips"]
    df["car_km_replaced"] = car_share * (df["ebike_km"] - df["bike_km"])
    df["co2_avoided_kg"] = co2 * df["car_km_replaced"]


def _city_frame(
    rows: np.ndarray, car_share: float, co2: float, m_b: UptakeModel, m_e: UptakeModel, grav: Any
) -> pd.DataFrame:
    t = rows.sum(axis=0)
    df = pd.DataFrame(
        {
            "trips": [t[0]],
            "trip_km": [t[1]],
            "mean_trip_km": [t[1] / t[0] if t[0] else 0.0],
            "bike_trips": [t[2]],
            "bike_share": [t[2] / t[0] if t[0] else 0.0],
            "bike_km": [t[3]],
            "mean_bike_trip_km": [t[3] / t[2] if t[2] else 0.0],
            "ebike_trips": [t[4]],
            "ebike_share": [t[4] / t[0] if t[0] else 0.0],
            "ebike_km": [t[5]],
        }
    )
    _add_shift(df, car_share, co2)
    df.attrs["assumptions"] = {
        "model": m_b.name,
        "ebike_model": m_e.name,
        "car_share_of_shifted": car_share,
        "co2_kg_per_car_km": co2,
        "ipf_iterations": grav.iterations,
        "ipf_max_error": grav.max_error,
    }
    return df


def _top_pairs(zt, cost, dist, dscale, sentinel, grav, U, models, intra, k):
    cols = [
        "origin",
        "destination",
        "time_s",
        "distance_km",
        "trips",
        "bike_share",
        "bike_trips",
        "ebike_share",
        "ebike_trips",
    ]
    if k == 0:
        return pd.DataFrame(columns=cols)
    udist, uscale, g, tabs, direct = U
    n, m = cost.shape
    # row blocks of at most 2**18 values (1 MB float32): never an n x n array
    block = max(1, min(n, (1 << 18) // max(m, 1)))
    thr = np.float32(-1.0)
    best_v = np.zeros(0, dtype=np.float32)
    best_i = np.zeros(0, dtype=np.int64)
    buf = np.empty((block, m), dtype=np.float32)
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        out = buf[: r1 - r0]
        _bike_block(
            cost,
            grav.table,
            grav.a,
            grav.b,
            dist,
            dscale,
            sentinel,
            udist,
            uscale,
            g,
            models[0].coef(),
            tabs[0],
            direct,
            intra,
            r0,
            out,
        )
        flat = out.ravel()
        if thr < 0 and flat.size > k:  # top k not filled yet
            idx = np.argpartition(flat, flat.size - k)[flat.size - k :]
        else:
            idx = np.flatnonzero(flat > thr)  # only values that can enter the current top k
        if len(idx) > k:
            idx = idx[np.argpartition(flat[idx], len(idx) - k)[len(idx) - k :]]
        cand_v = np.concatenate([best_v, flat[idx]])
        cand_i = np.concatenate([best_i, idx + r0 * m])
        if len(cand_v) > k:
            keep = np.argpartition(cand_v, len(cand_v) - k)[len(cand_v) - k :]
            cand_v, cand_i = cand_v[keep], cand_i[keep]
            thr = cand_v.min()
        best_v, best_i = cand_v, cand_i
    order = np.argsort(-best_v, kind="stable")
    best_i = best_i[order][best_v[order] > 0]
    oi, dj = best_i // m, best_i % m
    c = cost[oi, dj]
    dkm = dist[oi, dj].astype(np.float64) * dscale
    own = (oi == dj) & (intra[np.minimum(oi, len(intra) - 1)] >= 0)
    dkm[own] = intra[oi[own]]
    trips = (
        grav.a[oi] * grav.b[dj] * grav.table[np.minimum(c.astype(np.int64), len(grav.table) - 1)]
    )
    gg = g[0, 0] if g.shape == (1, 1) else g[oi, dj]
    from .uptake import uptake

    ukm = udist[oi, dj].astype(np.float64) * uscale
    ukm[own] = intra[oi[own]]
    pb = uptake(ukm, gg, models[0])
    pe = uptake(ukm, gg, models[1])
    return pd.DataFrame(
        {
            "origin": zt.index.to_numpy()[oi],
            "destination": zt.index.to_numpy()[dj],
            "time_s": c,
            "distance_km": dkm,
            "trips": trips,
            "bike_share": pb,
            "bike_trips": trips * pb,
            "ebike_share": pe,
            "ebike_trips": trips * pe,
        }
    )


def _intrazonal(intrazonal_km: Any, n: int, square: bool) -> np.ndarray:
    """Per-zone intrazonal distance (km), -1 where the matrix diagonal is used."""
    if intrazonal_km is None:
        return np.full(n, -1.0)
    if not square:
        raise ValidationError("intrazonal_km needs a square matrix (origins = destinations)")
    v = np.broadcast_to(check_array(np.atleast_1d(intrazonal_km), "intrazonal_km"), (n,))
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValidationError("intrazonal_km must be finite and >= 0")
    return np.ascontiguousarray(v, dtype=np.float64)


def _result_tables(zt, rows, col, hist, bad, car_share, co2, m_b, m_e, grav, hw, hmax):
    """Per-zone, city-wide and trip-length tables from the reduced sums (one place for both the
    single-machine and the Dask modal share); refuses pairs with no route distance."""
    if bad:
        raise ValidationError(
            f"{bad} reachable OD pair(s) have no route distance (NaN, negative "
            "or the unreachable sentinel): distances and times must come from "
            "the same routes"
        )
    zones = _zone_frame(zt, rows, col, car_share, co2)
    city = _city_frame(rows, car_share, co2, m_b, m_e, grav)
    lo = np.arange(hist.shape[0]) * hw
    distribution = pd.DataFrame(
        {
            "km_from": lo,
            "km_to": np.append(lo[1:], np.inf),
            "km_mid": np.append(lo[:-1] + hw / 2, hmax + hw / 2),
            "trips": hist[:, 0],
            "bike_trips": hist[:, 1],
            "ebike_trips": hist[:, 2],
            "km_mean": np.divide(hist[:, 3], hist[:, 0], out=lo + hw / 2, where=hist[:, 0] > 0),
        }
    )
    return zones, city, distribution
