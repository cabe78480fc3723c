"""Travel demand: trip generation, a doubly constrained gravity model (Furness/IPF), modal share.

The chain, one call each::

    zones (population, jobs) --trip_generation--> productions, attractions
    + cost matrix (uint16 s)  --gravity_distribution--> balancing factors a, b (numba Furness)
    + route distances         --modal_share--> trips, bike share, bike trips, bike-km, e-bike
                                               scenario, car trips replaced, CO2 avoided

The gravity model is ``T[i, j] = a[i] * b[j] * f(c[i, j])`` with row sums equal to the
productions and column sums equal to the attractions. ``f`` is a lookup table indexed by the
integer cost (65,536 entries for a ``uint16`` matrix), the unreachable sentinel counts as
``f = 0``, and no function here ever holds an ``n x n`` float64 array: margins, modal shares and
trip length distributions are reduced on the fly from the integer matrices. Only
:func:`trip_matrix` materialises trips, as float32, after a memory check.

Assumptions (module constants, every one adjustable per call)
-------------------------------------------------------------
* :data:`TRIPS_PER_INHABITANT` = 2.7 trips per person per day: Dutch residents make about
  2.6-2.9 trips a day in the national travel survey (OViN/ODiN, CBS); an assumption, not a Zwolle
  measurement.
* :data:`ATTRACTION_PER_JOB` = 1.5 and :data:`ATTRACTION_PER_INHABITANT` = 1.0: relative weights
  of jobs (work, business, shopping at workplaces) and homes (visits, return trips) as
  destinations. Only their ratio matters, because attractions are scaled to the productions total.
* :data:`CAR_SHARE_OF_SHIFTED` and :data:`CO2_KG_PER_CAR_KM`: the defaults of
  :class:`fietsstad.Assumptions` (:mod:`fietsstad.demand.assumptions`), where every assumption of
  the demand chain is documented with its source.

Example
-------
>>> import numpy as np
>>> from fietsstad.demand.gravity import gravity_distribution
>>> cost = np.array([[60, 600], [600, 60]], dtype=np.uint16)          # seconds
>>> g = gravity_distribution([10.0, 30.0], [20.0, 20.0], cost, ("exponential", 0.2))
>>> a, b = g
>>> T = g.trips(cost)
>>> np.allclose(T.sum(1), [10, 30]) and np.allclose(T.sum(0), [20, 20])
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import pandas as pd

from fietsstad._validate import (
    check_finite_nonneg,
    check_in_range,
    check_int,
    ensure_crs_4326,
    renamed_parameters,
)
from fietsstad.demand.assumptions import DEFAULT_ASSUMPTIONS
from fietsstad.demand.pct import (
    UNREACHABLE_I32,
    UNREACHABLE_U16,
)
from fietsstad.engine._furness import _check_cost as _cost_min_kernel
from fietsstad.engine._furness import (
    _furness_pass,
    _furness_pass_serial,
    _max_below,
    _trip_matrix,
)
from fietsstad.errors import ConvergenceError, ValidationError

#: Trips per inhabitant per day (:class:`fietsstad.Assumptions`, OViN/ODiN).
TRIPS_PER_INHABITANT: float = DEFAULT_ASSUMPTIONS.trips_per_person
#: Relative destination weight of one job (:class:`fietsstad.Assumptions`).
ATTRACTION_PER_JOB: float = DEFAULT_ASSUMPTIONS.attraction_per_job
#: Relative destination weight of one inhabitant (:class:`fietsstad.Assumptions`).
ATTRACTION_PER_INHABITANT: float = DEFAULT_ASSUMPTIONS.attraction_per_inhabitant
#: Share of trips shifted to the bike that were car trips (:class:`fietsstad.Assumptions`).
CAR_SHARE_OF_SHIFTED: float = DEFAULT_ASSUMPTIONS.car_share_of_shifted
#: kg CO2 per car-km avoided (:class:`fietsstad.Assumptions`).
CO2_KG_PER_CAR_KM: float = DEFAULT_ASSUMPTIONS.co2_kg_per_car_km
#: Default deterrence: exp(-0.1 * minutes) of bike travel time (:class:`fietsstad.Assumptions`).
DEFAULT_DETERRENCE: tuple[str, float] = DEFAULT_ASSUMPTIONS.deterrence

_POP_COLS = ("population", "aantal_inwoners", "inhabitants", "inhabitants_2024", "pop")
_JOB_COLS = ("jobs", "banen", "employment")


#: Default cap on Furness passes (the region's 37 zones need 70-340 over-relaxed passes, 270-4,000
#: plain ones, depending on the deterrence; see :func:`furness_balance`).
MAX_ITER: int = 2000
#: Matrices of at most this many cells run a Furness pass on one thread: waking the threads of a
#: parallel pass costs more than the pass (37 x 37 zones: 0.1 s for 900 passes on one thread,
#: 6 s in parallel on a loaded 2-core machine).
SERIAL_CELLS: int = 1 << 16


def _n_chunks(n: int) -> int:
    return max(1, min(n, 4 * nb.get_num_threads()))


# ------------------------------------------------------------------------- trip generation
def _pick_col(df: pd.DataFrame, col: str | None, candidates: tuple[str, ...], what: str) -> str:
    if col is not None:
        if col not in df.columns:
            raise ValidationError(
                f"zones lack the {what} column {col!r}; columns: {list(map(str, df.columns))[:20]}"
            )
        return col
    for c in candidates:
        if c in df.columns:
            return c
    raise ValidationError(
        f"zones need a {what} column (one of {list(candidates)}) or pass "
        f"{what}_col=...; columns: {list(map(str, df.columns))[:20]}"
    )


def snap_zones(net: Any, zones: Any, *, return_distance: bool = False) -> Any:
    """Nearest network node (int32 position) of every zone, and with ``return_distance=True``
    also the snapping distance of each zone in metres: ``(positions, metres)``.

    GeoDataFrames are snapped at a representative point of each geometry (inside polygons);
    plain DataFrames need ``lon``/``lat`` (or ``x``/``y``) columns in EPSG:4326. Uses
    :meth:`fietsstad.network.BikeNetwork.snap`, so zones further than
    ``settings.snap_max_distance_m`` from the network raise :class:`SnappingError`.

    Parameters
    ----------
    net
        A :class:`~fietsstad.network.BikeNetwork`.
    zones
        GeoDataFrame (any CRS; reprojected) or DataFrame with lon/lat columns.

    Returns
    -------
    numpy.ndarray
        int32 node positions, one per zone.

    Example
    -------
    >>> import fietsstad, pandas as pd
    >>> net = fietsstad.generate_network(n_nodes=100, seed=0)
    >>> snap_zones(net, pd.DataFrame({"lon": [net.x[3]], "lat": [net.y[3]]})).tolist()
    [3]
    >>> pos, metres = snap_zones(net, pd.DataFrame({"lon": [net.x[3]], "lat": [net.y[3]]}),
    ...                          return_distance=True)
    >>> float(metres[0])
    0.0
    """
    import geopandas as gpd

    from fietsstad.network import check_network

    check_network(net)
    if isinstance(zones, gpd.GeoDataFrame):
        g = ensure_crs_4326(zones, "zones")
        pts = g.geometry.representative_point()
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    elif isinstance(zones, pd.DataFrame):
        for cx, cy in (("lon", "lat"), ("x", "y")):
            if cx in zones.columns and cy in zones.columns:
                lon, lat = zones[cx].to_numpy(float), zones[cy].to_numpy(float)
                break
        else:
            raise ValidationError("zones need a geometry (GeoDataFrame) or lon/lat columns")
    else:
        raise ValidationError(f"zones must be a (Geo)DataFrame, got {type(zones).__name__}")
    if return_distance:
        pos, dist = net.snap(lon, lat, return_distance=True)
        return np.asarray(pos, dtype=np.int32), np.asarray(dist, dtype=np.float64)
    return np.asarray(net.snap(lon, lat), dtype=np.int32)


@renamed_parameters({"population_col": "population_column", "jobs_col": "jobs_column"})
def trip_generation(
    zones: pd.DataFrame,
    trips_per_inhabitant: float = TRIPS_PER_INHABITANT,
    attraction_per_job: float = ATTRACTION_PER_JOB,
    attraction_per_inhabitant: float = ATTRACTION_PER_INHABITANT,
    *,
    population_column: str | None = None,
    jobs_column: str | None | bool = None,
    net: Any = None,
) -> pd.DataFrame:
    """Daily trip productions and attractions per zone from population and jobs.

    ``productions = trips_per_inhabitant * population``; attraction weights
    ``attraction_per_job * jobs + attraction_per_inhabitant * population`` are scaled so that
    attractions sum to the productions (a doubly constrained model needs equal totals).

    Parameters
    ----------
    zones
        A DataFrame or GeoDataFrame, one row per zone (e.g. Zwolle's 16 wijken).
    trips_per_inhabitant, attraction_per_job, attraction_per_inhabitant
        Rates (defaults: the documented assumptions of this module).
    population_column
        Population column (default: the first of ``population``, ``aantal_inwoners``,
        ``inhabitants``, ``pop``).
    jobs_column
        Jobs column (default: ``jobs``/``banen``/``employment``); ``False`` for zones without jobs
        data (attractions then follow population only).
    net
        Optional :class:`~fietsstad.network.BikeNetwork`: adds a ``node`` column (snapped zones).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        Indexed like ``zones``: ``population``, ``jobs``, ``productions``, ``attractions``
        (and ``node``; geometry kept for GeoDataFrames).

    Example
    -------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"population": [1000, 3000], "jobs": [2000, 0]}, index=["A", "B"])
    >>> tg = trip_generation(z)
    >>> tg["productions"].round(6).tolist(), round(float(tg["attractions"].sum()), 6)
    ([2700.0, 8100.0], 10800.0)
    """
    if not isinstance(zones, pd.DataFrame) or len(zones) == 0:
        raise ValidationError("zones must be a non-empty (Geo)DataFrame")
    rate = check_in_range(
        trips_per_inhabitant, "trips_per_inhabitant", 0, math.inf, lo_open=True, hi_open=True
    )
    wj = check_in_range(attraction_per_job, "attraction_per_job", 0, math.inf, hi_open=True)
    wp = check_in_range(
        attraction_per_inhabitant, "attraction_per_inhabitant", 0, math.inf, hi_open=True
    )
    pcol = _pick_col(zones, population_column, _POP_COLS, "population")
    pop = check_finite_nonneg(zones[pcol].to_numpy(), f"zones[{pcol!r}]")
    if jobs_column is False:
        jobs = np.zeros(len(zones))
    else:
        jcol = _pick_col(
            zones, jobs_column if isinstance(jobs_column, str) else None, _JOB_COLS, "jobs"
        )
        jobs = check_finite_nonneg(zones[jcol].to_numpy(), f"zones[{jcol!r}]")
    prod = rate * pop
    weight = wj * jobs + wp * pop
    if prod.sum() <= 0 or weight.sum() <= 0:
        raise ValidationError(
            "zones have no population (or no attraction weight): no trips to generate"
        )
    attr = weight * (prod.sum() / weight.sum())
    out = pd.DataFrame(
        {"population": pop, "jobs": jobs, "productions": prod, "attractions": attr},
        index=zones.index,
    )
    if net is not None:
        out["node"] = snap_zones(net, zones)
    if hasattr(zones, "geometry") and "geometry" in zones.columns:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry=zones.geometry.to_numpy(), crs=zones.crs)
    out.attrs["assumptions"] = {
        "trips_per_inhabitant": rate,
        "attraction_per_job": wj,
        "attraction_per_inhabitant": wp,
    }
    return out


# ------------------------------------------------------------------------- deterrence
def deterrence_table(
    deterrence: Any = DEFAULT_DETERRENCE,
    size: int = 65536,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
) -> np.ndarray:
    """Deterrence ``f`` for every integer cost ``0 .. size-1``, as a float64 lookup table.

    The function is evaluated at ``x = cost * scale`` (default: seconds to minutes). The last
    entry of a 65,536 table (the uint16 "unreachable" sentinel 65535) is always 0.

    Parameters
    ----------
    deterrence
        ``("exponential", beta)``: ``exp(-beta x)``; ``("power", alpha)``:
        ``max(x, scale)^-alpha`` (costs below one unit are treated as one unit);
        ``("combined", alpha, beta)``: ``max(x, scale)^-alpha * exp(-beta x)`` (Tanner);
        a callable mapping an array of ``x`` to ``f``; or an array (the table itself).
    size
        Table length: 65,536 for uint16 costs, ``max cost + 1`` for int32 costs.
    scale
        Cost units to the deterrence's unit.
    cutoff
        Optional: ``f = 0`` for ``x > cutoff`` (same unit as ``x``).

    Returns
    -------
    numpy.ndarray
        float64, length ``size``, finite and ``>= 0``.

    Example
    -------
    >>> f = deterrence_table(("exponential", 0.1))
    >>> round(float(f[600]), 6), float(f[65535])
    (0.367879, 0.0)
    """
    size = check_int(size, "size", min_value=1, max_value=2**31)
    scale = check_in_range(scale, "scale", 0, math.inf, lo_open=True, hi_open=True)
    x = np.arange(size, dtype=np.float64) * scale
    if isinstance(deterrence, np.ndarray) or (
        isinstance(deterrence, (list, tuple)) and deterrence and not isinstance(deterrence[0], str)
    ):
        f = check_finite_nonneg(deterrence, "deterrence table").ravel()
        if len(f) < size:
            f = np.concatenate([f, np.zeros(size - len(f))])
        f = f[:size].copy()
    elif callable(deterrence):
        try:
            f = np.asarray(deterrence(x), dtype=np.float64)
        except Exception as err:  # noqa: BLE001 - user function
            raise ValidationError(
                f"deterrence function failed on an array of costs: {err}"
            ) from err
        if f.shape != x.shape:
            raise ValidationError(
                "a deterrence function must map an array of costs to an array of the same shape"
            )
        f = check_finite_nonneg(f, "deterrence(x)")
    elif isinstance(deterrence, (list, tuple)) and deterrence:
        kind, params = deterrence[0], deterrence[1:]
        nums = [_finite(p, f"{kind} parameter") for p in params]
        if kind == "exponential" and len(nums) == 1:
            f = np.exp(-nums[0] * x)
        elif kind == "power" and len(nums) == 1:
            f = np.maximum(x, scale) ** -nums[0]
        elif kind == "combined" and len(nums) == 2:
            f = np.maximum(x, scale) ** -nums[0] * np.exp(-nums[1] * x)
        else:
            raise ValidationError(
                f"unknown deterrence {deterrence!r}: use ('exponential', beta), "
                "('power', alpha), ('combined', alpha, beta), a callable or a table"
            )
        with np.errstate(over="ignore"):
            f = np.nan_to_num(f, nan=0.0, posinf=0.0)
        if not np.all(f >= 0):
            raise ValidationError(f"deterrence {deterrence!r} gives negative values")
    else:
        raise ValidationError(f"unknown deterrence {deterrence!r}")
    if cutoff is not None:
        f[x > check_in_range(cutoff, "cutoff", 0, math.inf)] = 0.0
    if size == 65536:
        f[UNREACHABLE_U16] = 0.0
    return np.ascontiguousarray(f, dtype=np.float64)


def _finite(v: Any, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValidationError(f"{name} must be a finite number, got {v!r}")
    return float(v)


# ------------------------------------------------------------------------- gravity + IPF
@dataclass(frozen=True)
class GravityModel:
    """Balancing factors of a doubly constrained gravity model.

    ``T[i, j] = a[i] * b[j] * table[cost[i, j]]``. Unpacks as ``a, b = model``.

    Attributes
    ----------
    a, b : float64 arrays (origins, destinations)
    table : float64 deterrence lookup table indexed by integer cost
    iterations : int   Furness passes used
    max_error : float  largest relative row-margin error (columns are met exactly)

    Example
    -------
    >>> import numpy as np
    >>> cost = np.array([[0, 600], [600, 0]], dtype=np.uint16)   # seconds, 2 zones
    >>> model = gravity_distribution([10.0, 20.0], [15.0, 15.0], cost)
    >>> a, b = model                                             # the balancing factors
    >>> T = model.trips(cost)
    >>> np.allclose(T.sum(axis=0), [15, 15]), np.allclose(T.sum(axis=1), [10, 20], rtol=1e-5)
    (True, True)
    >>> np.allclose(T, a[:, None] * b[None, :] * model.table[cost])
    True
    >>> model.max_error < 1e-6
    True
    """

    a: np.ndarray
    b: np.ndarray
    table: np.ndarray
    iterations: int
    max_error: float

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.a, self.b))

    def trips(self, cost: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
        """The trip matrix on request (see :func:`trip_matrix`).

        Example
        -------
        >>> import numpy as np
        >>> c = np.array([[0, 300], [300, 0]], dtype=np.uint16)
        >>> g = gravity_distribution([1.0, 1.0], [1.0, 1.0], c)
        >>> g.trips(c).dtype
        dtype('float32')
        """
        return trip_matrix(self, cost, dtype=dtype)


def _check_cost(
    cost: Any, n: int | None = None, m: int | None = None, name: str = "cost"
) -> np.ndarray:
    if not isinstance(cost, np.ndarray):
        cost = np.asarray(cost)
    if cost.ndim != 2:
        raise ValidationError(f"{name} must be a 2-D matrix, got shape {cost.shape}")
    if cost.dtype not in (np.uint16, np.int32):
        raise ValidationError(
            f"{name} must be a uint16 or int32 matrix of integer costs (seconds, or metres), got "
            f"{cost.dtype}; round float costs first, e.g. np.rint(c).astype(np.int32), with inf "
            f"as {UNREACHABLE_I32}"
        )
    if (n is not None and cost.shape[0] != n) or (m is not None and cost.shape[1] != m):
        raise ValidationError(f"{name} has shape {cost.shape}, expected ({n}, {m})")
    cost = np.ascontiguousarray(cost)
    if cost.dtype == np.int32 and cost.size and _check_cost_min(cost) < 0:
        raise ValidationError(f"{name} has negative costs")
    return cost


def _check_cost_min(cost: np.ndarray) -> int:
    return int(_cost_min_kernel(cost, _n_chunks(cost.shape[0])))


def gravity_distribution(
    productions: Any,
    attractions: Any,
    cost: np.ndarray,
    deterrence: Any = DEFAULT_DETERRENCE,
    tol: float = 1e-6,
    max_iter: int = MAX_ITER,
    *,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    normalise: bool = False,
    accelerate: bool = True,
) -> GravityModel:
    """Balance a doubly constrained gravity model by Furness / iterative proportional fitting.

    Finds ``a``, ``b`` with ``sum_j T_ij = productions_i`` and ``sum_i T_ij = attractions_j``
    for ``T_ij = a_i b_j f(c_ij)``. Each iteration is one parallel numba pass over the integer
    cost matrix (row sums, new ``a``, column sums fused); nothing ``n x n`` is allocated.
    Converged when the largest relative row-margin error is below ``tol`` (column margins are
    exact after every pass).

    Parameters
    ----------
    productions, attractions
        Trips leaving each origin / arriving at each destination (finite, ``>= 0``).
    cost
        ``(origins, destinations)`` ``uint16`` or ``int32`` integer costs (seconds by default);
        65535 (uint16) or 2**31-1 (int32) mark unreachable pairs and count as ``f = 0``.
    deterrence
        See :func:`deterrence_table` (default ``exp(-0.1 * minutes)``).
    tol, max_iter
        Relative margin tolerance and cap on passes (default :data:`MAX_ITER`).
    scale, cutoff
        Passed to :func:`deterrence_table` (default: costs in seconds, deterrence in minutes).
    normalise
        Scale attractions to the productions total when the totals differ.
    accelerate
        Over-relax the passes once their contraction rate is known (safeguarded; the same
        fixed point and the same convergence test: see :func:`furness_balance`). ``False``:
        plain Furness, pass for pass.

    Returns
    -------
    GravityModel
        ``a``, ``b``, the table, iterations and the reached error; unpacks as ``a, b``.

    Raises
    ------
    ConvergenceError
        Totals differ (relative difference > ``tol``) and ``normalise`` is False; an origin
        (destination) with positive margin reaches (is reached by) nothing with positive
        deterrence, e.g. only unreachable pairs; no convergence within ``max_iter``.
    ValidationError
        NaN/inf/negative margins, wrong shapes or dtypes.

    Example
    -------
    >>> import numpy as np
    >>> c = np.array([[0, 300, 900], [300, 0, 600], [900, 600, 0]], dtype=np.uint16)
    >>> g = gravity_distribution([5, 10, 15], [10, 10, 10], c, ("exponential", 0.1))
    >>> np.allclose(g.trips(c).sum(0), 10, rtol=1e-5)
    True
    """
    P = check_finite_nonneg(productions, "productions").ravel()
    A = check_finite_nonneg(attractions, "attractions").ravel()
    cost = _check_cost(cost, len(P), len(A))
    size = 65536 if cost.dtype == np.uint16 else int(_max_finite_int32(cost)) + 1

    def start(table: np.ndarray) -> Callable:
        def run_pass(a: np.ndarray | None, b: np.ndarray, omega: float) -> tuple:
            a_new, partial = furness_block(cost, table, P, a, b, omega=omega)
            return partial, a_new

        return run_pass

    return furness_balance(
        P, A, size, start, deterrence, tol, max_iter, scale=scale, cutoff=cutoff,
        normalise=normalise, accelerate=accelerate,
    )  # fmt: skip


def furness_block(
    cost: np.ndarray,
    table: np.ndarray,
    productions: np.ndarray,
    a_prev: np.ndarray | None,
    b: np.ndarray,
    row0: int = 0,
    omega: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One Furness pass over a block of rows of the cost matrix (one numba pass).

    The step :func:`furness_balance` runs on every row block each pass: the whole matrix on one
    machine (:func:`gravity_distribution`), row blocks on the workers of a Dask cluster
    (:func:`fietsstad.distributed.gravity_distribution_dask`).

    Parameters
    ----------
    cost
        ``(rows, destinations)`` uint16/int32 costs of the block (validated by the caller).
    table
        Deterrence lookup table (:func:`deterrence_table`).
    productions
        Productions of the block's rows.
    a_prev
        The block's ``a`` from the previous pass (None on the first pass).
    b
        Column factors of this pass.
    row0
        Position of the block's first row in the whole matrix (for the error message).
    omega
        Over-relaxation of ``a`` in log space (1: plain Furness; see :func:`furness_balance`).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The block's new ``a`` and its partial ``[column sums (m), largest relative row error of
        (a_prev, b), origins reaching nothing, first such origin (position, or inf)]``;
        combine the partials of several blocks with :func:`furness_combine`.

    Example
    -------
    >>> c = np.array([[60, 600], [600, 60]], dtype=np.uint16)
    >>> a, part = furness_block(c, deterrence_table(), np.array([1.0, 1.0]), None, np.ones(2))
    >>> a.shape, part.shape, part[-2:].tolist()
    ((2,), (5,), [0.0, inf])
    """
    P = np.ascontiguousarray(productions, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    n, m = cost.shape
    serial = n * m <= SERIAL_CELLS
    nc = 1 if serial else _n_chunks(n)
    a_old = np.zeros(n) if a_prev is None else np.ascontiguousarray(a_prev, dtype=np.float64)
    a_new = np.zeros(n)
    acc = np.zeros((nc, m))
    rowsum = np.zeros(n)
    w = float(omega)
    if not n:
        err = 0.0
    elif serial:
        err = float(_furness_pass_serial(cost, table, P, a_old, b, a_new, acc, rowsum, w))
    else:
        err = float(_furness_pass(cost, table, P, a_old, b, a_new, acc, rowsum, nc, w))
    dead = np.flatnonzero((P > 0) & (rowsum <= 0))
    partial = np.empty(m + 3)
    partial[:m] = acc.sum(axis=0)
    partial[m] = err
    partial[m + 1] = len(dead)
    partial[m + 2] = row0 + dead[0] if len(dead) else np.inf
    return a_new, partial


def furness_combine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Combine two :func:`furness_block` partials: column sums and dead counts add, the row
    errors take the maximum, the first dead origin the minimum.

    Example
    -------
    >>> furness_combine(np.array([1.0, 0.1, 0.0, np.inf]), np.array([2.0, 0.3, 1, 7])).tolist()
    [3.0, 0.3, 1.0, 7.0]
    """
    out = x + y
    out[-3] = max(x[-3], y[-3])
    out[-1] = min(x[-1], y[-1])
    return out


class _Relaxation:
    """Safeguarded over-relaxation of the Furness passes (SOR in log space).

    Plain Furness contracts linearly near its fixed point: each pass multiplies the error by
    ``rho = mu**2`` (``mu``: the second singular value of the scaled trip matrix); on the
    region's 37 zones ``rho`` is 0.97-0.995, so 300-4,000 passes. Over-relaxing both half steps
    in log space, ``log a' = log a + omega (log(P / F b) - log a)`` and likewise for ``b``, is
    SOR on a 2-cyclic system: with ``omega = 2 / (1 + sqrt(1 - mu**2))`` a pass contracts by
    ``omega - 1`` (0.73 for ``rho = 0.975``) instead of ``rho``. ``rho`` is estimated from the
    ratio of successive log-steps of ``b`` once ``1 - ratio`` is steady (Hageman and Young's adaptive SOR
    estimate, which also lets ``omega`` grow later). Safeguards: the state with the smallest
    error is kept; if the error does not improve on it for ``WINDOW`` passes or grows
    ``BLOWUP``-fold, the loop returns to it with half the over-relaxation, never to be raised
    again (plain Furness, which always converges on a feasible problem, in the end). Near the end (``FINISH * tol``) it
    switches back to plain passes, so the accepted state passes plain Furness's own test: exact
    column margins and row errors at most ``tol``. A fixed point of the relaxed passes is one of
    the plain passes (a step of zero is a step of zero for any ``omega``).
    """

    WARM = 10  # plain (or unchanged-omega) passes before a rate is trusted
    STABLE = 0.05  # successive step ratios: 1 - ratio within 5 %
    SPAN = 50  # at most this many ratios are compared
    CAP = 1.98
    WINDOW = 50
    BLOWUP = 100.0
    FINISH = 0.1

    def __init__(self, tol: float, enabled: bool) -> None:
        self.tol = tol
        self.omega = 1.0
        self.ceiling = self.CAP  # lowered by every return to the best state
        self.ceiling_err = 0.0
        self.final = not enabled
        self.ratios: list[float] = []
        self.last_change = 0
        self.best: tuple[float, Any, np.ndarray] = (math.inf, None, np.zeros(0))
        self.since = 0
        self.prev_norm = 0.0

    def check(self, it: int, err: float, a: np.ndarray, b: np.ndarray) -> tuple | None:
        """After the error of state ``(a, b)``: returns a state to go back to, or None."""
        if self.omega > 1.0:
            if err < self.best[0]:
                self.best, self.since = (err, a, b.copy()), 0
            else:
                self.since += 1
            if err <= self.FINISH * self.tol:
                self.omega, self.final = 1.0, True
            elif self.since > self.WINDOW or err > self.BLOWUP * self.best[0]:
                # no higher again until the error is 100 times smaller (no cycles)
                self.omega = self.ceiling = 1.0 + (self.omega - 1.0) / 2.0
                self.ceiling_err = self.best[0] * 1e-2
                self.ratios, self.last_change, self.since = [], it, 0
                if self.omega < 1.05:
                    self.omega, self.final = 1.0, True
                return self.best[1], self.best[2].copy()
        if err < self.ceiling_err:
            self.ceiling = self.CAP
        if self.final or len(self.ratios) < 3 or it - self.last_change < self.WARM:
            return None
        r3 = self.ratios[-1]
        w = self.omega
        if not w - 1.0 + 1e-3 < r3 < 1.0:
            return None
        # linear regime: 1 - ratio steady to 5 % over about one SOR period, 1 / sqrt(1 - ratio)
        # passes (far from balance the ratios sit near 1 and creep; omega needs sqrt(1 - rho))
        span = min(max(3, math.ceil(1.0 / math.sqrt(1.0 - r3))), self.SPAN)
        last = self.ratios[-span:]
        if len(last) == span and max(abs(r - r3) for r in last) < self.STABLE * (1.0 - r3):
            mu2 = (r3 + w - 1.0) ** 2 / (w * w * r3)
            new = min(2.0 / (1.0 + math.sqrt(1.0 - min(mu2, 0.9999))), self.ceiling)
            if new > w + 0.01:
                if w == 1.0:
                    self.best, self.since = (err, a, b.copy()), 0
                self.omega, self.last_change, self.ratios = new, it, []
        return None

    def step(self, b: np.ndarray, target: np.ndarray, omega: float, pos: np.ndarray) -> np.ndarray:
        """The new ``b`` (``target`` over-relaxed by ``omega``); records the log-step ratio."""
        if omega != 1.0:
            with np.errstate(divide="ignore", invalid="ignore"):
                new = np.where(pos & (b > 0), b * (target / b) ** omega, target)
        else:
            new = target
        if not self.final:
            ok = pos & (b > 0) & (new > 0)
            d = np.log(new[ok]) - np.log(b[ok])
            norm = float(np.sqrt(((d - d.mean()) ** 2).sum())) if d.size else 0.0
            if self.prev_norm > 0.0 and norm > 0.0:
                self.ratios = [*self.ratios[1 - self.SPAN :], norm / self.prev_norm]
            self.prev_norm = norm
        return new


def furness_balance(
    productions: Any,
    attractions: Any,
    table_size: int,
    start: Callable[[np.ndarray], Callable],
    deterrence: Any = DEFAULT_DETERRENCE,
    tol: float = 1e-6,
    max_iter: int = MAX_ITER,
    *,
    scale: float = 1.0 / 60.0,
    cutoff: float | None = None,
    normalise: bool = False,
    accelerate: bool = True,
) -> GravityModel:
    """The Furness loop of the doubly constrained gravity model, for any way of running a pass.

    The one loop behind :func:`gravity_distribution` (one block: the whole matrix) and
    :func:`fietsstad.distributed.gravity_distribution_dask` (row blocks on Dask workers): checks
    the totals (and normalises), builds the deterrence table, then runs passes until the largest
    relative row-margin error is at most ``tol`` with exact column margins, with the same errors
    for both.

    With ``accelerate`` (default) the passes are over-relaxed in log space once their
    contraction rate is steady (safeguarded SOR: the error is watched and the loop falls back to
    its best state with less over-relaxation when it stops improving), and the last passes are
    plain ones, so the accepted ``a``, ``b`` pass the same test as plain Furness and are a
    fixed point of it. On the region's 37 zones: 70-340 passes instead of 270-4,000.

    Parameters
    ----------
    productions, attractions
        Margins (finite, ``>= 0``).
    table_size
        Length of the deterrence table: 65,536 for uint16 costs, largest finite cost + 1 for int32.
    start
        ``start(table)`` returns ``run_pass``; ``run_pass(a, b, omega)`` runs
        :func:`furness_block` on every row block (each with its rows of ``a``, the previous
        pass's row factors, None on the first pass) and returns the combined partial
        (:func:`furness_combine`) and this pass's ``a`` (all rows, in order).
    deterrence, tol, max_iter, scale, cutoff, normalise, accelerate
        As in :func:`gravity_distribution`.

    Returns
    -------
    GravityModel

    Raises
    ------
    ConvergenceError
        As :func:`gravity_distribution`; after ``max_iter`` passes the message gives the error
        reached and the over-relaxation in use.

    Example
    -------
    >>> c = np.array([[60, 600], [600, 60]], dtype=np.uint16)
    >>> P = np.array([10.0, 30.0])
    >>> def start(table):
    ...     def run_pass(a, b, omega):
    ...         a_new, part = furness_block(c, table, P, a, b, omega=omega)
    ...         return part, a_new
    ...     return run_pass
    >>> g = furness_balance(P, [20.0, 20.0], 65536, start)
    >>> np.allclose(g.trips(c).sum(1), P)
    True
    """
    P = check_finite_nonneg(productions, "productions").ravel()
    A = check_finite_nonneg(attractions, "attractions").ravel()
    tol = check_in_range(tol, "tol", 0.0, 1.0, lo_open=True)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    sp, sa = float(P.sum()), float(A.sum())
    if sp <= 0 or sa <= 0:
        raise ConvergenceError("productions and attractions must have positive totals")
    if abs(sp - sa) > tol * max(sp, sa):
        if not normalise:
            raise ConvergenceError(
                f"productions total {sp:.6g} and attractions total {sa:.6g} differ: a doubly "
                "constrained model cannot meet both; pass normalise=True to scale the "
                "attractions to the productions total"
            )
        A = A * (sp / sa)
    f = deterrence_table(deterrence, size=table_size, scale=scale, cutoff=cutoff)
    m = len(A)
    run_pass = start(f)
    pos = A > 0
    b = np.where(pos, 1.0, 0.0)
    a: np.ndarray | None = None
    relax = _Relaxation(tol, bool(accelerate))
    b_exact = True  # b = A / column sums of a: the column margins of (a, b) are exact
    err = math.inf
    for it in range(1, max_iter + 2):
        omega = relax.omega
        partial, a_new = run_pass(a, b, omega)
        err = float(partial[m])
        if it == 1:
            if partial[m + 1] > 0:
                raise ConvergenceError(
                    f"{int(partial[m + 1])} origin(s) with positive productions reach no "
                    "destination (all pairs unreachable, beyond the cutoff or to zero "
                    f"attractions), first: position {int(partial[m + 2])}; drop them or fix the "
                    "cost matrix"
                )
        elif b_exact and err <= tol:
            assert a is not None
            return GravityModel(a, b.copy(), f, it - 1, err)
        else:
            assert a is not None
            back = relax.check(it, err, a, b)
            if back is not None:  # the safeguard: return to the best state, relax less
                a, b = back
                b_exact = False
                continue
        col = partial[:m]
        if it == 1:
            dead = np.flatnonzero(pos & (col <= 0))
            if len(dead):
                raise ConvergenceError(
                    f"{len(dead)} destination(s) with positive attractions are reached by no "
                    f"origin with productions, first: position {int(dead[0])}"
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            target = np.where(pos, A / col, 0.0)
        b = relax.step(b, target, omega, pos)
        b_exact = omega == 1.0
        a = a_new
    how = f", over-relaxed (omega {relax.omega:.2f})" if relax.omega > 1.0 else ""
    raise ConvergenceError(
        f"Furness did not converge within {max_iter} iterations (largest relative row-margin "
        f"error {err:.3g} > tol {tol:g}{how}); the margins may be incompatible with the "
        "reachable pairs (e.g. separate components with different totals); raise max_iter or tol"
    )


def _max_finite_int32(cost: np.ndarray) -> int:
    mx = int(_max_below(cost, UNREACHABLE_I32, _n_chunks(cost.shape[0])))
    return max(mx, 0)


def trip_matrix(gravity: GravityModel, cost: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Materialise ``T = a_i b_j f(c_ij)`` (float32 by default), after a memory check.

    Parameters
    ----------
    gravity
        The result of :func:`gravity_distribution`.
    cost
        The cost matrix it was balanced on.
    dtype
        ``float32`` (default) or ``float64``.

    Returns
    -------
    numpy.ndarray
        ``(origins, destinations)`` trips.

    Raises
    ------
    MemoryBudgetError
        The matrix would exceed ``settings.memory_fraction`` of the available memory; use
        :func:`modal_share`, which reduces without storing trips.

    Example
    -------
    >>> import numpy as np
    >>> c = np.array([[0, 60], [60, 0]], dtype=np.uint16)
    >>> T = trip_matrix(gravity_distribution([1, 3], [2, 2], c), c)
    >>> T.shape, T.dtype
    ((2, 2), dtype('float32'))
    """
    if not isinstance(gravity, GravityModel):
        raise ValidationError("gravity must be the result of gravity_distribution")
    cost = _check_cost(cost, len(gravity.a), len(gravity.b))
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValidationError(f"dtype must be float32 or float64, got {dt}")
    from fietsstad.engine import check_memory, estimate_matrix_bytes

    check_memory(
        estimate_matrix_bytes(cost.shape[0], cost.shape[1], dt),
        f"a {cost.shape[0]:,} x {cost.shape[1]:,} {dt.name} trip matrix (modal_share "
        "reduces without storing trips)",
    )
    out = np.empty(cost.shape, dtype=dt)
    _trip_matrix(cost, gravity.table, gravity.a, gravity.b, out)
    return out


__all__ = [
    "trip_generation",
    "snap_zones",
    "deterrence_table",
    "gravity_distribution",
    "GravityModel",
    "trip_matrix",
    "furness_balance",
    "furness_block",
    "furness_combine",
    "MAX_ITER",
    "TRIPS_PER_INHABITANT",
    "ATTRACTION_PER_JOB",
    "ATTRACTION_PER_INHABITANT",
    "CAR_SHARE_OF_SHIFTED",
    "CO2_KG_PER_CAR_KM",
    "DEFAULT_DETERRENCE",
]
