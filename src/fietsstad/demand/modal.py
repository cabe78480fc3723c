"""Modal share: bike trips, bike-km, the e-bike scenario, car trips replaced and CO2 avoided.

:func:`modal_share` runs the chain zones -> trip generation -> gravity distribution -> PCT uptake on
integer cost matrices, reducing on the fly (no ``n x n`` float array); :func:`compare_scenarios`
compares two networks. The gravity model and trip generation live in :mod:`fietsstad.demand.gravity`.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from fietsstad import settings
from fietsstad._validate import (
    check_array,
    check_finite_nonneg,
    check_in_range,
    check_int,
    renamed_parameters,
)
from fietsstad.analysis import travel_time_matrix
from fietsstad.demand.assumptions import Assumptions, get_assumptions, intrazonal_distances
from fietsstad.demand.gravity import (
    MAX_ITER,
    GravityModel,
    _check_cost,
    _n_chunks,
    gravity_distribution,
    snap_zones,
    trip_generation,
)
from fietsstad.demand.pct import (
    ZWOLLE_2024,
    ZWOLLE_2024_EBIKE,
    UptakeModel,
    _sentinel_for,
    get_model,
    uptake,
)
from fietsstad.engine._furness import _bike_block, _modal_rows
from fietsstad.engine._uptake import _uptake_flat
from fietsstad.errors import ValidationError
from fietsstad.network import BikeNetwork
from fietsstad.zwolle import zwolle_default_zones

log = logging.getLogger("fietsstad.demand")


def zones_or_default(net_or_cost: Any, zones: Any) -> Any:
    """``zones``, or for ``None`` the default zones of the network (one rule for every caller).

    The default is :func:`fietsstad.zwolle.zwolle_default_zones`: the 37 zones of Regio Zwolle
    when the network covers the region, else Zwolle's 16 districts. A cost matrix has no
    coordinates, so it needs its zones.

    Example
    -------
    >>> import fietsstad
    >>> len(zones_or_default(fietsstad.generate_network(300, seed=1), None))
    16
    """
    if zones is not None:
        return zones
    if not isinstance(net_or_cost, BikeNetwork):
        raise ValidationError("zones=... is needed with a cost matrix (it has no coordinates)")
    return zwolle_default_zones(net_or_cost.x, net_or_cost.y)


def zone_table(
    zones: Any, assumptions: Assumptions | None = None, population_column: str | None = None
) -> pd.DataFrame:
    """Zones with ``productions`` and ``attractions``: as given, or from :func:`trip_generation`.

    Trip generation uses the rates of ``assumptions`` (default
    :data:`~fietsstad.demand.assumptions.DEFAULT_ASSUMPTIONS`) and the population column
    ``population_column`` (default: the first of trip_generation's candidates); zones without a
    jobs column get attractions from population only. The one zone rule of :func:`modal_share`,
    its Dask version and :func:`fietsstad.scenario.evaluate_snelfietspad`.

    Example
    -------
    >>> z = pd.DataFrame({"population": [100.0, 300.0], "jobs": [50.0, 0.0]})
    >>> zone_table(z)["productions"].tolist()
    [270.0, 810.0]
    """
    if isinstance(zones, pd.DataFrame) and {"productions", "attractions"} <= set(zones.columns):
        return zones
    if isinstance(zones, pd.DataFrame):
        a = get_assumptions(assumptions)
        has_jobs = any(c in zones.columns for c in ("jobs", "banen", "employment"))
        zt = trip_generation(
            zones,
            a.trips_per_person,
            a.attraction_per_job,
            a.attraction_per_inhabitant,
            population_column=population_column,
            jobs_column=None if has_jobs else False,
        )
        for col in ("lon", "lat", "node"):  # keep what snapping needs
            if col in zones.columns and col not in zt.columns:
                zt[col] = zones[col].to_numpy()
        return zt
    raise ValidationError(
        "zones must be a (Geo)DataFrame with productions/attractions or "
        f"population (and jobs) columns, got {type(zones).__name__}"
    )


def _matrices(net_or_cost: Any, zt: pd.DataFrame, distances: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(net_or_cost, BikeNetwork):
        net = net_or_cost
        nodes = zt["node"].to_numpy(np.int32) if "node" in zt.columns else snap_zones(net, zt)
        # uint16 seconds and int32 metres along the fastest routes (sentinel 2**31-1)
        cost, dist = travel_time_matrix(
            net, nodes, nodes, with_distance=True, saturate=True, positions=True
        )
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
                _uptake_flat(np.arange(size, dtype=np.float64), scale, g[0], m.coef(), t, math.inf)
                tabs.append(t)
    return udist, scale, g, tabs, direct


def _zone_frame(zt: pd.DataFrame, rows: np.ndarray, col: np.ndarray) -> pd.DataFrame:
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
    # net change only: gains and losses (and the car trips of the gains) are city-wide columns
    df["extra_ebike_trips"] = df["ebike_trips"] - df["bike_trips"]
    if "geometry" in zt.columns:
        import geopandas as gpd

        df = gpd.GeoDataFrame(df, geometry=zt.geometry.to_numpy(), crs=zt.crs)
    return df


def _ebike_shift(hist: np.ndarray, assumptions: Assumptions) -> dict[str, float]:
    """E-bike scenario gains and losses from the trip-length histogram (bins of ``hw`` km).

    Per bin, ``ebike - bike`` trips is a gain where the e-bike curve lies above the bike curve
    and a loss below it (the PCT e-bike curve is lower under about 2.5 km). Car trips and car-km
    come from the gains only, each at its own distance (the bin's trip-weighted mean). Exact up
    to the one bin where the curves cross (the difference there is close to 0).
    """
    delta = hist[:, 2] - hist[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        km = np.where(hist[:, 0] > 0, hist[:, 3] / hist[:, 0], 0.0)
    gain = np.maximum(delta, 0.0)
    car = float(assumptions.car_trips(gain.sum()))
    car_km = float(assumptions.car_trips((gain * km).sum()))
    return {
        "ebike_trips_gained": float(gain.sum()),
        "ebike_trips_lost": float(np.maximum(-delta, 0.0).sum()),
        "extra_ebike_trips": float(delta.sum()),
        "car_trips_replaced": car,
        "car_km_replaced": car_km,
        "car_km_per_replaced_trip": car_km / car if car > 0 else 0.0,
        "co2_avoided_kg": assumptions.co2_kg_per_car_km * car_km,
    }


def _city_frame(
    rows: np.ndarray, hist: np.ndarray, assumptions: Assumptions, m_b: UptakeModel,
    m_e: UptakeModel, grav: Any,
) -> pd.DataFrame:  # fmt: skip
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
    for k, v in _ebike_shift(hist, assumptions).items():
        df[k] = [v]
    df.attrs["assumptions"] = {
        "model": m_b.name,
        "ebike_model": m_e.name,
        **assumptions.to_dict(),
        "car_share_of_shifted": assumptions.car_share_of_shifted,
        "co2_kg_per_car_km": assumptions.co2_kg_per_car_km,
        "ipf_iterations": grav.iterations,
        "ipf_max_error": grav.max_error,
    }
    return df


def _top_pairs(cost, dist, dscale, sentinel, grav, U, models, intra, k, d0):
    """The ``k`` pairs with most bike trips; ``origin`` is ``d0`` + the row (a position)."""
    if k == 0:
        return pd.DataFrame(columns=_OD_COLUMNS)
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
            d0,
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
    own = (oi + d0 == dj) & (intra[oi] >= 0)
    dkm[own] = intra[oi[own]]
    trips = (
        grav.a[oi] * grav.b[dj] * grav.table[np.minimum(c.astype(np.int64), len(grav.table) - 1)]
    )
    gg = g[0, 0] if g.shape == (1, 1) else g[oi, dj]
    ukm = udist[oi, dj].astype(np.float64) * uscale
    ukm[own] = intra[oi[own]]
    pb = uptake(ukm, gg, models[0])
    pe = uptake(ukm, gg, models[1])
    return pd.DataFrame(
        {
            "origin": oi + d0,
            "destination": dj,
            "time_s": c,
            "distance_km": dkm,
            "trips": trips,
            "bike_share": pb,
            "bike_trips": trips * pb,
            "ebike_share": pe,
            "ebike_trips": trips * pe,
        }
    )


_OD_COLUMNS = [
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


def _intrazonal(intrazonal_km: Any, n: int, square: bool) -> np.ndarray:
    """Per-zone intrazonal distance (km), -1 where the matrix diagonal is used."""
    if intrazonal_km is None or (isinstance(intrazonal_km, str) and intrazonal_km == "diagonal"):
        return np.full(n, -1.0)
    if isinstance(intrazonal_km, str):
        raise ValidationError(
            f"intrazonal_km must be 'auto', 'diagonal', a number or one per zone, "
            f"not {intrazonal_km!r}"
        )
    if not square:
        raise ValidationError("intrazonal_km needs a square matrix (origins = destinations)")
    v = np.broadcast_to(check_array(np.atleast_1d(intrazonal_km), "intrazonal_km"), (n,))
    if not np.all(np.isfinite(v)) or np.any((v < 0) & (v != -1.0)):
        raise ValidationError("intrazonal_km must be finite and >= 0 (or -1: the diagonal)")
    return np.ascontiguousarray(v, dtype=np.float64)


def resolve_intrazonal(
    intrazonal_km: Any,
    zones: pd.DataFrame,
    assumptions: Assumptions | None = None,
    dist: np.ndarray | None = None,
    distance_scale: float = 0.001,
) -> Any:
    """The intrazonal distances :func:`modal_share` uses: ``"auto"`` -> the documented rule.

    ``"auto"`` (the default) applies
    :func:`~fietsstad.demand.assumptions.intrazonal_distances` (zone area, else distance to the
    nearest zone, else a positive matrix diagonal, else the default); ``"diagonal"`` keeps the
    distance matrix's diagonal; a number or one number per zone is used as given (-1 for a
    zone: its diagonal). Zones that take a positive diagonal get -1, so that the diagonal's
    time is used as well where uptake is computed on time.

    Example
    -------
    >>> z = pd.DataFrame({"productions": [1.0, 1.0], "attractions": [1.0, 1.0]})
    >>> resolve_intrazonal("auto", z, dist=np.array([[250, 4000], [4000, 0]])).tolist()
    [-1.0, 1.0]
    """
    if not (isinstance(intrazonal_km, str) and intrazonal_km == "auto"):
        return intrazonal_km
    diag = None
    if dist is not None and dist.ndim == 2 and dist.shape[0] == dist.shape[1]:
        diag = np.diagonal(dist).astype(np.float64) * distance_scale
        diag[np.diagonal(dist) == _sentinel_for(dist.dtype)] = np.nan
    v = intrazonal_distances(zones, assumptions, diag)
    v[v != intrazonal_distances(zones, assumptions, None)] = -1.0  # the (positive) diagonal
    return v


def _result_tables(zt, rows, col, hist, bad, assumptions, m_b, m_e, grav, hw, hmax):
    """Per-zone, city-wide and trip-length tables from the reduced sums (one place for both the
    single-machine and the Dask modal share); refuses pairs with no route distance."""
    if bad:
        raise ValidationError(
            f"{bad} reachable OD pair(s) have no route distance (NaN, negative "
            "or the unreachable sentinel): distances and times must come from "
            "the same routes"
        )
    zones = _zone_frame(zt, rows, col)
    city = _city_frame(rows, hist, assumptions, m_b, m_e, grav)
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


# ------------------------------------------------------------------------- modal share
@renamed_parameters({"car_share": "car_share_of_shifted", "co2_kg_per_km": "co2_kg_per_car_km"})
def modal_share(
    net_or_cost: Any,
    zones: Any = None,
    model: str | UptakeModel = ZWOLLE_2024,
    ebike_model: str | UptakeModel = ZWOLLE_2024_EBIKE,
    *,
    distances: Any = None,
    distance_scale: float = 0.001,
    gradient: Any = 0.0,
    deterrence: Any = None,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    tol: float = 1e-6,
    max_iter: int = MAX_ITER,
    normalise: bool = True,
    car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None,
    top_pairs: int = 1000,
    hist_width_km: float = 0.1,
    hist_max_km: float = 40.0,
    intrazonal_km: Any = "auto",
    uptake_on: str = "distance",
    reference_speed_kmh: float = 16.0,
    assumptions: Assumptions | None = None,
) -> dict[str, pd.DataFrame]:
    """Trips, bike share, bike trips and bike-km per OD pair, zone and city, with an e-bike scenario.

    All trips are distributed with :func:`gravity_distribution` on the travel-time matrix; the
    share cycled of each OD pair is the uptake model at its route distance. Everything is
    reduced in one parallel numba pass over the integer matrices: no trip or share matrix is
    stored. The e-bike scenario evaluates ``ebike_model`` on the same trips; the trips it gains
    and the trips it loses (the PCT e-bike curve is lower under about 2.5 km) are reported
    separately, and only the gains are turned into car trips replaced (``car_share_of_shifted`` of them),
    car-km (each gained trip at its own route distance) and CO2 avoided.

    Parameters
    ----------
    net_or_cost
        A :class:`~fietsstad.network.BikeNetwork` (zones are snapped, or use their ``node``
        column; uint16 times and int32 metres along the fastest routes come from
        ``fietsstad.routing.travel_time_matrix(net, nodes, nodes, with_distance=True)``), or a
        ``(zones x zones)`` uint16/int32 travel-time matrix in seconds.
    zones
        Default (``None``, with a network): :func:`fietsstad.zwolle.zwolle_default_zones`, the
        37 zones of Regio Zwolle when the network covers the region, else Zwolle's 16 districts.
        Or a (Geo)DataFrame with ``productions`` and ``attractions`` (see :func:`trip_generation`), or
        with population (and jobs) columns, from which they are generated.
    model, ebike_model
        Uptake models (default: the Zwolle 2024 presets).
    distances
        Route distance matrix along the fastest paths (any numeric dtype; required with a matrix).
    distance_scale
        Factor to km (default 0.001: metres).
    gradient
        Average gradient in percent: a scalar (default flat) or a matrix of the same shape.
    deterrence, scale, cutoff, tol, max_iter, normalise
        Passed to :func:`gravity_distribution` (totals are normalised by default);
        ``deterrence`` defaults to ``assumptions.deterrence``.
    car_share_of_shifted, co2_kg_per_car_km
        Overrides of ``assumptions.car_share_of_shifted`` and ``assumptions.co2_kg_per_car_km``.
    top_pairs
        Number of OD pairs (largest bike trips) in the ``"od"`` table; 0 for none.
    hist_width_km, hist_max_km
        Bins of the trip length distribution (last bin open-ended).
    intrazonal_km
        Distance of the trips within a zone. ``"auto"`` (default): the documented rule of
        ``assumptions`` (:func:`~fietsstad.demand.assumptions.intrazonal_distances`: from the
        zone's area, else from the distance to the nearest zone, else a positive matrix
        diagonal, else 1 km), never the 0 km of a zone snapped to one node. ``"diagonal"``: the
        matrix diagonal as it is. A number (km) or one per zone: as given.
    uptake_on, reference_speed_kmh
        ``"distance"`` (default, as PCT): uptake of the route distance. ``"time"``: uptake of
        the travel time converted to an equivalent distance at ``reference_speed_kmh`` (default
        16 km/h, the Fietsberaad planning speed), so that faster routes (a snelfietspad) raise
        uptake even where they are not shorter; bike-km still use route distances. Calibrate
        with the same setting.
    assumptions
        The :class:`~fietsstad.Assumptions` of the chain (trip rates, deterrence, car share,
        occupancy, CO2, intrazonal rule); default the documented defaults. Every table's
        ``attrs["assumptions"]`` records them.

    Returns
    -------
    dict of pandas.DataFrame
        ``"zones"`` (per origin zone; a GeoDataFrame if ``zones`` is one), ``"city"`` (one row),
        ``"od"`` (top pairs), ``"distribution"`` (trips, bike and e-bike trips and the trip-weighted
        mean distance ``km_mean`` by distance bin:
        the input for :func:`fietsstad.uptake.calibrate_uptake`). Assumptions are in
        ``result["city"].attrs``.

    Raises
    ------
    ConvergenceError
        The gravity model cannot be balanced (see :func:`gravity_distribution`).
    ValidationError
        Bad inputs, or a reachable pair without a distance.

    Example
    -------
    >>> import numpy as np, pandas as pd
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)     # metres
    >>> z = pd.DataFrame({"productions": [100.0, 100.0], "attractions": [100.0, 100.0]})
    >>> r = modal_share(t, z, distances=d)
    >>> round(float(r["city"]["trips"].iloc[0]), 6)
    200.0
    """
    bar = _steps_bar("modal share", 4)
    try:
        chain = _chain(
            net_or_cost, zones, model, ebike_model, bar, distances=distances,
            distance_scale=distance_scale, gradient=gradient, deterrence=deterrence, scale=scale,
            cutoff=cutoff, tol=tol, max_iter=max_iter, normalise=normalise,
            car_share_of_shifted=car_share_of_shifted, co2_kg_per_car_km=co2_kg_per_car_km,
            top_pairs=top_pairs, hist_width_km=hist_width_km, hist_max_km=hist_max_km,
            intrazonal_km=intrazonal_km, uptake_on=uptake_on,
            reference_speed_kmh=reference_speed_kmh, assumptions=assumptions,
        )  # fmt: skip
        return chain.tables(bar)
    finally:
        bar.close()


def route_km(dist: np.ndarray, intra: np.ndarray, distance_scale: float = 0.001) -> np.ndarray:
    """Zone-to-zone trip distances in km as the modal share counts them: the route distances
    (``inf`` where missing), and on the diagonal the resolved intrazonal distance of every zone
    whose ``intra`` is ``>= 0`` (:func:`resolve_intrazonal`; -1 keeps the diagonal).

    Example
    -------
    >>> route_km(np.array([[0, 4000], [4000, 0]], np.int32), np.array([0.5, -1.0])).tolist()
    [[0.5, 4.0], [4.0, 0.0]]
    """
    d = np.asarray(dist)
    km = d.astype(np.float64) * distance_scale
    km[(d == _sentinel_for(d.dtype)) | ~(km >= 0)] = np.inf
    own = np.flatnonzero(np.asarray(intra) >= 0)
    km[own, own] = np.asarray(intra, dtype=np.float64)[own]
    return km


@dataclass(frozen=True)
class ModalChain:
    """The demand chain of one modal share, balanced but not yet reduced (see :func:`modal_chain`).

    Attributes
    ----------
    zones : DataFrame    the zone table (``productions``, ``attractions``; ``node`` if snapped)
    cost, dist : arrays  zone-to-zone travel times (uint16/int32 s) and route distances
    setup : dict         :func:`modal_setup` (uptake models, resolved intrazonal distances, ...)
    gravity : GravityModel
    source : BikeNetwork or matrix   what the matrices came from

    Example
    -------
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> z = pd.DataFrame({"productions": [1.0, 3.0], "attractions": [2.0, 2.0]})
    >>> ch = modal_chain(t, z, distances=np.array([[250, 4000], [4000, 250]]))
    >>> round(float(ch.trips().sum()), 9), float(ch.distance_km()[0, 1])
    (4.0, 4.0)
    """

    zones: pd.DataFrame
    cost: np.ndarray
    dist: np.ndarray
    setup: dict
    gravity: GravityModel
    source: Any

    def tables(self, bar: Any = None) -> dict[str, pd.DataFrame]:
        """The :func:`modal_share` tables (one reduction over the matrices).

        Example
        -------
        >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
        >>> z = pd.DataFrame({"productions": [1.0, 3.0], "attractions": [2.0, 2.0]})
        >>> ch = modal_chain(t, z, distances=np.array([[250, 4000], [4000, 250]]))
        >>> sorted(ch.tables())
        ['city', 'distribution', 'od', 'zones']
        """
        g = self.gravity
        rows, packed, od = modal_block(self.cost, self.dist, g.a, g.b, g.table, self.setup)
        if bar is not None:
            bar.update(1)
        out = modal_tables(self.zones, self.setup, g, rows, packed, [od])
        add_snap_distances(out, self.source, self.zones)
        if bar is not None:
            bar.update(1)
        return out

    def trips(self) -> np.ndarray:
        """All-mode trips per zone pair, ``(n, n)`` float64 (:func:`trip_matrix`).

        Example
        -------
        >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
        >>> z = pd.DataFrame({"productions": [1.0, 3.0], "attractions": [2.0, 2.0]})
        >>> modal_chain(t, z, distances=t.astype(np.int32)).trips().dtype
        dtype('float64')
        """
        return self.gravity.trips(self.cost, dtype=np.float64)

    def distance_km(self) -> np.ndarray:
        """Trip distances (km) per zone pair as counted: :func:`route_km`.

        Example
        -------
        >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
        >>> z = pd.DataFrame({"productions": [1.0, 3.0], "attractions": [2.0, 2.0]})
        >>> ch = modal_chain(t, z, distances=t.astype(np.int32), intrazonal_km=0.3)
        >>> float(ch.distance_km()[0, 0])
        0.3
        """
        return route_km(self.dist, self.setup["intra"], self.setup["dscale"])


def modal_chain(
    net_or_cost: Any,
    zones: Any = None,
    model: str | UptakeModel = ZWOLLE_2024,
    ebike_model: str | UptakeModel = ZWOLLE_2024_EBIKE,
    **options: Any,
) -> ModalChain:
    """The chain of :func:`modal_share` up to its reduction: zone table, matrices, balanced
    gravity model, uptake settings.

    ``modal_chain(...).tables()`` is ``modal_share(...)``, bit for bit; the chain also gives the
    trip and distance matrices (small zone systems), which is how
    :func:`fietsstad.scenario.evaluate_snelfietspad` gets its bike share before a scenario from
    this one code path. ``options`` are the keyword arguments of :func:`modal_share`.

    Example
    -------
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)
    >>> z = pd.DataFrame({"productions": [100.0, 100.0], "attractions": [100.0, 100.0]})
    >>> a = modal_chain(t, z, distances=d).tables()["city"]["bike_share"].iloc[0]
    >>> bool(a == modal_share(t, z, distances=d)["city"]["bike_share"].iloc[0])
    True
    """
    import inspect

    defaults = {
        k: p.default
        for k, p in inspect.signature(modal_share).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    return _chain(net_or_cost, zones, model, ebike_model, None, **{**defaults, **options})


def _chain(
    net_or_cost: Any,
    zones: Any,
    model: str | UptakeModel,
    ebike_model: str | UptakeModel,
    bar: Any,
    *,
    distances: Any,
    distance_scale: float,
    gradient: Any,
    deterrence: Any,
    scale: float,
    cutoff: float | None,
    tol: float,
    max_iter: int,
    normalise: bool,
    car_share_of_shifted: float | None,
    co2_kg_per_car_km: float | None,
    top_pairs: int,
    hist_width_km: float,
    hist_max_km: float,
    intrazonal_km: Any,
    uptake_on: str,
    reference_speed_kmh: float,
    assumptions: Assumptions | None,
) -> ModalChain:
    """:func:`modal_chain`, advancing ``bar`` per step."""
    asm = _assumptions(assumptions, car_share_of_shifted, co2_kg_per_car_km)
    zt = zone_table(zones_or_default(net_or_cost, zones), asm)
    P = check_finite_nonneg(zt["productions"].to_numpy(), "productions")
    A = check_finite_nonneg(zt["attractions"].to_numpy(), "attractions")
    what = f"modal share of {len(zt):,} zones"
    t0 = settings._log_start(log, what)
    cost, dist = modal_matrices(net_or_cost, zt, distances)
    if bar is not None:
        bar.update(1)
    intra = resolve_intrazonal(intrazonal_km, zt, asm, dist, distance_scale)
    setup = modal_setup(
        cost.shape, model, ebike_model, distance_scale=distance_scale, gradient=gradient,
        top_pairs=top_pairs, hist_width_km=hist_width_km, hist_max_km=hist_max_km,
        intrazonal_km=intra, uptake_on=uptake_on, reference_speed_kmh=reference_speed_kmh,
        assumptions=asm,
    )  # fmt: skip
    det = asm.deterrence if deterrence is None else deterrence
    grav = gravity_distribution(
        P, A, cost, det, tol, max_iter, scale=scale, cutoff=cutoff, normalise=normalise
    )
    if bar is not None:
        bar.update(1)
    settings._log_end(log, what, t0)
    return ModalChain(zt, cost, dist, setup, grav, net_or_cost)


def add_snap_distances(out: dict[str, pd.DataFrame], net_or_cost: Any, zt: pd.DataFrame) -> None:
    """Add ``snap_distance_m`` (metres from each zone to the node it was snapped to) to the
    zones table of a network's modal share; zones given by their ``node`` were not snapped (0).

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(300, seed=1)
    >>> z = pd.DataFrame({"lon": net.x[:2] + 1e-4, "lat": net.y[:2]})
    >>> out = {"zones": pd.DataFrame(index=z.index)}
    >>> add_snap_distances(out, net, z)
    >>> bool((out["zones"]["snap_distance_m"] > 0).all())
    True
    """
    if not isinstance(net_or_cost, BikeNetwork):
        return
    if "node" in zt.columns:
        dist = np.zeros(len(zt))
    else:
        dist = snap_zones(net_or_cost, zt, return_distance=True)[1]
    out["zones"]["snap_distance_m"] = dist


def _assumptions(
    assumptions: Assumptions | None,
    car_share_of_shifted: float | None,
    co2_kg_per_car_km: float | None,
) -> Assumptions:
    """``assumptions`` (default the documented ones) with the per-call overrides applied."""
    asm = get_assumptions(assumptions)
    if car_share_of_shifted is not None:
        check_in_range(car_share_of_shifted, "car_share_of_shifted", 0.0, 1.0)
        asm = asm.replace(car_share_of_shifted=float(car_share_of_shifted))
    if co2_kg_per_car_km is not None:
        check_in_range(co2_kg_per_car_km, "co2_kg_per_car_km", 0.0, math.inf, hi_open=True)
        asm = asm.replace(co2_kg_per_car_km=float(co2_kg_per_car_km))
    return asm


def _steps_bar(desc: str, total: int) -> Any:
    """A tqdm bar over the steps of a long call, silent unless ``settings.progress``."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="step",
        file=sys.stderr,
        leave=False,
        disable=not settings.progress,
    )


def modal_matrices(
    net_or_cost: Any, zones: pd.DataFrame, distances: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """The validated ``(cost, distances)`` zone matrices :func:`modal_share` works on.

    From a network: uint16 seconds and int32 metres along the fastest routes between the zones'
    nodes (``node`` column, or snapped). From a cost matrix: the matrix and ``distances``.

    Example
    -------
    >>> z = pd.DataFrame({"productions": [1.0, 1.0], "attractions": [1.0, 1.0]})
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> c, d = modal_matrices(t, z, np.array([[250, 4000], [4000, 250]]))
    >>> c.dtype.name, d.shape
    ('uint16', (2, 2))
    """
    cost, dist = _matrices(net_or_cost, zones, distances)
    cost = _check_cost(cost, len(zones), len(zones))
    if dist.shape != cost.shape:
        raise ValidationError(f"distances shape {dist.shape} differs from cost {cost.shape}")
    return cost, dist


@renamed_parameters({"car_share": "car_share_of_shifted", "co2_kg_per_km": "co2_kg_per_car_km"})
def modal_setup(
    shape: tuple[int, int],
    model: str | UptakeModel = ZWOLLE_2024,
    ebike_model: str | UptakeModel = ZWOLLE_2024_EBIKE,
    *,
    distance_scale: float = 0.001,
    gradient: Any = 0.0,
    car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None,
    top_pairs: int = 1000,
    hist_width_km: float = 0.1,
    hist_max_km: float = 40.0,
    intrazonal_km: Any = None,
    uptake_on: str = "distance",
    reference_speed_kmh: float = 16.0,
    assumptions: Assumptions | None = None,
) -> dict[str, Any]:
    """Validated settings of a modal-share reduction of an ``(origins, destinations)`` matrix.

    Everything :func:`modal_block` needs beside the matrices (a small, picklable dict: the Dask
    version sends it to its workers). Arguments as in :func:`modal_share`, except that
    ``intrazonal_km`` is already resolved (:func:`resolve_intrazonal`): ``None`` keeps the
    diagonal.

    Example
    -------
    >>> s = modal_setup((2, 2), hist_width_km=0.5, hist_max_km=10)
    >>> s["nbins"], s["intra"].tolist()
    (21, [-1.0, -1.0])
    """
    n, m = shape
    dscale = check_in_range(
        distance_scale, "distance_scale", 0, math.inf, lo_open=True, hi_open=True
    )
    asm = _assumptions(assumptions, car_share_of_shifted, co2_kg_per_car_km)
    top_pairs = check_int(top_pairs, "top_pairs", min_value=0)
    hw = check_in_range(hist_width_km, "hist_width_km", 0, math.inf, lo_open=True, hi_open=True)
    hmax = check_in_range(hist_max_km, "hist_max_km", hw, 1e6)
    intra = _intrazonal(intrazonal_km, n, n == m)
    if uptake_on == "distance":
        v = None
    elif uptake_on == "time":
        v = check_in_range(reference_speed_kmh, "reference_speed_kmh", 0, 100, lo_open=True)
        v = v / 3600.0
    else:
        raise ValidationError(f"uptake_on must be 'distance' or 'time', not {uptake_on!r}")
    if np.ndim(gradient) == 0:
        grad: Any = float(gradient)
        if not math.isfinite(grad):
            raise ValidationError(f"gradient must be finite, got {grad}")
    else:
        grad = check_array(gradient, "gradient", ndim=2)
        if grad.shape != (n, m) or not np.all(np.isfinite(grad)):
            raise ValidationError(
                "gradient must be a scalar or a finite matrix of the distances' shape"
            )
    return {
        "models": (get_model(model), get_model(ebike_model)), "dscale": dscale,
        "assumptions": asm, "top": top_pairs, "hw": hw, "hmax": hmax,
        "nbins": int(math.ceil(hmax / hw)) + 1, "intra": intra, "uptake_on": uptake_on,
        "v": v, "gradient": grad,
    }  # fmt: skip


def modal_block(
    cost: np.ndarray,
    dist: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    table: np.ndarray,
    setup: dict[str, Any],
    row0: int = 0,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The modal-share reduction of a block of rows (one parallel numba pass, no n x n floats).

    Run once on the whole matrix by :func:`modal_share` and on every row block by
    :func:`fietsstad.distributed.modal_share_dask`.

    Parameters
    ----------
    cost, dist
        The block's rows of the cost and distance matrices.
    a
        The block's rows of the gravity model's ``a``; ``b`` and ``table`` as in the model.
    setup
        :func:`modal_setup` of the whole matrix.
    row0
        Position of the block's first row in the whole matrix.

    Returns
    -------
    (rows, packed, od)
        Per-origin sums ``(n_block, 6)``; the block's additive sums ``[columns (m x 3),
        histogram (bins x 4), pairs without a distance]`` (add the blocks' ``packed``); its top
        pairs (``origin``/``destination`` are positions). :func:`modal_tables` makes the tables.

    Example
    -------
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)
    >>> g = gravity_distribution([1.0, 1.0], [1.0, 1.0], t)
    >>> rows, packed, od = modal_block(t, d, g.a, g.b, g.table, modal_setup((2, 2)))
    >>> rows.shape, round(float(rows[:, 0].sum()), 6), od["origin"].tolist()[:1]
    ((2, 6), 2.0, [0])
    """
    (m_b, m_e), dscale, intra = setup["models"], setup["dscale"], setup["intra"]
    n, m = cost.shape
    grad = setup["gradient"]
    if np.ndim(grad) == 2:
        grad = grad[row0 : row0 + n]
    if setup["uptake_on"] == "distance":
        U = _uptake_setup((m_b, m_e), dist, dscale, grad)
    else:
        U = _uptake_setup((m_b, m_e), cost, setup["v"], grad)
    udist, uscale, g, tabs, direct = U
    intra = intra[row0 : row0 + n]
    sentinel = _sentinel_for(dist.dtype)
    nc = _n_chunks(n)
    rows = np.zeros((n, 6))
    cols = np.zeros((nc, m, 3))
    hist = np.zeros((nc, setup["nbins"], 4))
    bad = _modal_rows(
        cost, table, a, b, dist, dscale, sentinel, udist, uscale, g, m_b.coef(), m_e.coef(),
        tabs[0], tabs[1], direct, setup["hw"], intra, row0, rows, cols, hist, nc,
    )  # fmt: skip
    packed = np.concatenate([cols.sum(axis=0).ravel(), hist.sum(axis=0).ravel(), [float(bad)]])
    grav = SimpleNamespace(a=a, b=b, table=table)
    od = _top_pairs(cost, dist, dscale, sentinel, grav, U, (m_b, m_e), intra, setup["top"], row0)
    return rows, packed, od


def modal_tables(
    zt: pd.DataFrame,
    setup: dict[str, Any],
    grav: Any,
    rows: np.ndarray,
    packed: np.ndarray,
    ods: list[pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """The :func:`modal_share` tables from the (summed) results of :func:`modal_block`.

    ``rows`` are all blocks' rows in order, ``packed`` the sum of their ``packed``, ``ods``
    their top pairs (merged into the overall top ``top_pairs``, labelled with ``zt.index``).

    Example
    -------
    >>> t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    >>> d = np.array([[250, 4000], [4000, 250]], dtype=np.int32)
    >>> z = pd.DataFrame({"productions": [1.0, 1.0], "attractions": [1.0, 1.0]}, index=["A", "B"])
    >>> g, s = gravity_distribution([1.0, 1.0], [1.0, 1.0], t), modal_setup((2, 2))
    >>> r = modal_tables(z, s, g, *modal_block(t, d, g.a, g.b, g.table, s)[:2], [])
    >>> sorted(r), r["zones"].index.tolist()
    (['city', 'distribution', 'od', 'zones'], ['A', 'B'])
    """
    m, nbins = len(grav.b), setup["nbins"]
    col = packed[: 3 * m].reshape(m, 3)
    hist = packed[3 * m : -1].reshape(nbins, 4)
    m_b, m_e = setup["models"]
    zones, city, distribution = _result_tables(
        zt, rows, col, hist, int(packed[-1]), setup["assumptions"], m_b, m_e, grav,
        setup["hw"], setup["hmax"],
    )  # fmt: skip
    od = _merge_top_pairs(zt.index.to_numpy(), ods, setup["top"])
    out = {"zones": zones, "city": city, "od": od, "distribution": distribution}
    for df in out.values():
        df.attrs["assumptions"] = dict(city.attrs["assumptions"])
        df.attrs["Assumptions"] = setup["assumptions"]
    # every pair with bike trips is in "od" (compare_scenarios needs that for per-pair car-km)
    od.attrs["all_pairs"] = bool(setup["top"] >= len(zt) * m)
    return out


def _merge_top_pairs(labels: np.ndarray, ods: list[pd.DataFrame], k: int) -> pd.DataFrame:
    """The top ``k`` pairs of all blocks (one block: already in order), positions -> labels."""
    if k == 0 or not ods:
        return pd.DataFrame(columns=_OD_COLUMNS)
    od = ods[0] if len(ods) == 1 else pd.concat(ods, ignore_index=True)
    if len(ods) > 1:
        key = od["bike_trips"].to_numpy().astype(np.float32)
        od = od.iloc[np.argsort(-key, kind="stable")[:k]].reset_index(drop=True)
    od["origin"] = labels[od["origin"].to_numpy(np.int64)]
    od["destination"] = labels[od["destination"].to_numpy(np.int64)]
    return od


def _pair_shift(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per OD pair: bike trips before and after and the pair's own distance (the before route,
    or the after route for a pair without bike trips before)."""
    for name, od in (("before", before), ("after", after)):
        if not od.attrs.get("all_pairs", False):
            raise ValidationError(
                f"compare_scenarios: the {name} result's 'od' table does not hold every OD pair, "
                "so car-km cannot be counted per shifted trip; run modal_share with "
                "top_pairs >= n_zones**2"
            )
    key = ["origin", "destination"]
    b = before[key + ["bike_trips", "distance_km"]]
    a = after[key + ["bike_trips", "distance_km"]]
    m = b.merge(a, on=key, how="outer", suffixes=("_before", "_after"))
    m["bike_trips_before"] = m["bike_trips_before"].fillna(0.0)
    m["bike_trips_after"] = m["bike_trips_after"].fillna(0.0)
    m["distance_km"] = m["distance_km_before"].fillna(m["distance_km_after"])
    m["change"] = m["bike_trips_after"] - m["bike_trips_before"]
    return m


@renamed_parameters({"car_share": "car_share_of_shifted", "co2_kg_per_km": "co2_kg_per_car_km"})
def compare_scenarios(
    before: dict[str, pd.DataFrame],
    after: dict[str, pd.DataFrame],
    car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None,
    assumptions: Assumptions | None = None,
) -> dict[str, pd.DataFrame]:
    """Change between two :func:`modal_share` results (e.g. before/after a snelfietspad).

    Per zone and city-wide: change in bike trips (absolute, percent, percentage points of bike
    share) and bike-km; per OD pair the bike trips gained and lost; car trips replaced
    (``car_share_of_shifted`` of the gained trips, divided by the car occupancy), car-km replaced (each
    gained trip at its own distance, the pair's route distance before the change) and CO2
    avoided. Rerouted cyclists change bike-km, never car-km.

    Parameters
    ----------
    before, after
        Two :func:`modal_share` results on the same zones, each with every OD pair in its
        ``"od"`` table (``top_pairs >= n_zones**2``).
    car_share_of_shifted, co2_kg_per_car_km
        Overrides of the assumptions' ``car_share_of_shifted`` and ``co2_kg_per_car_km``.
    assumptions
        Default: the :class:`~fietsstad.Assumptions` that ``before`` was computed with.

    Returns
    -------
    dict of pandas.DataFrame
        ``"zones"`` and ``"city"``: ``bike_trips_before``, ``bike_trips_after``,
        ``bike_trips_change``, ``bike_trips_change_pct``, ``bike_share_change_pp``,
        ``bike_km_change``, ``bike_trips_gained``, ``bike_trips_lost``, ``car_trips_replaced``,
        ``car_km_replaced``, ``car_km_per_replaced_trip``, ``co2_avoided_kg``; attrs hold the
        assumptions.

    Example
    -------
    >>> import numpy as np, pandas as pd
    >>> z = pd.DataFrame({"productions": [50.0, 50.0], "attractions": [50.0, 50.0]})
    >>> d = np.array([[300, 6000], [6000, 300]], dtype=np.int32)
    >>> slow = modal_share(np.array([[60, 1500], [1500, 60]], np.uint16), z, distances=d)
    >>> fast = modal_share(np.array([[60, 900], [900, 60]], np.uint16), z, distances=d)
    >>> c = compare_scenarios(slow, fast)["city"].iloc[0]
    >>> bool(c["bike_trips_change"] != 0), bool(c["car_km_per_replaced_trip"] <= 6.0)
    (True, True)
    """
    base = assumptions
    if base is None:
        base = before.get("city", pd.DataFrame()).attrs.get("Assumptions")
    asm = _assumptions(base, car_share_of_shifted, co2_kg_per_car_km)
    pairs = _pair_shift(before["od"], after["od"])
    gain = pairs["change"].clip(lower=0.0)
    pairs["gained"] = gain
    pairs["lost"] = (-pairs["change"]).clip(lower=0.0)
    pairs["gained_km"] = gain * pairs["distance_km"]
    by_zone = pairs.groupby("origin")[["gained", "lost", "gained_km"]].sum()
    res = {}
    for key in ("zones", "city"):
        b, a = before[key], after[key]
        if len(b) != len(a) or not b.index.equals(a.index):
            raise ValidationError(f"before and after {key} tables do not match")
        df = pd.DataFrame(index=b.index)
        df["bike_trips_before"] = b["bike_trips"].to_numpy()
        df["bike_trips_after"] = a["bike_trips"].to_numpy()
        df["bike_trips_change"] = df["bike_trips_after"] - df["bike_trips_before"]
        with np.errstate(divide="ignore", invalid="ignore"):
            df["bike_trips_change_pct"] = 100 * df["bike_trips_change"] / df["bike_trips_before"]
        df["bike_share_change_pp"] = 100 * (a["bike_share"].to_numpy() - b["bike_share"].to_numpy())
        df["bike_km_change"] = a["bike_km"].to_numpy() - b["bike_km"].to_numpy()
        if key == "zones":
            z = by_zone.reindex(b.index, fill_value=0.0)
            gained, lost, gkm = (z[c].to_numpy() for c in ("gained", "lost", "gained_km"))
        else:
            gained, lost = np.array([gain.sum()]), np.array([pairs["lost"].sum()])
            gkm = np.array([pairs["gained_km"].sum()])
        df["bike_trips_gained"] = gained
        df["bike_trips_lost"] = lost
        df["car_trips_replaced"] = asm.car_trips(gained)
        df["car_km_replaced"] = asm.car_trips(gkm)
        with np.errstate(divide="ignore", invalid="ignore"):
            df["car_km_per_replaced_trip"] = np.where(gained > 0, gkm / gained, 0.0)
        df["co2_avoided_kg"] = asm.co2_kg_per_car_km * df["car_km_replaced"]
        df.attrs["assumptions"] = asm.to_dict()
        df.attrs["Assumptions"] = asm
        res[key] = df
    return res


__all__ = [
    "modal_share",
    "modal_chain",
    "ModalChain",
    "route_km",
    "resolve_intrazonal",
    "compare_scenarios",
    "zone_table",
    "modal_matrices",
    "modal_setup",
    "modal_block",
    "modal_tables",
]
