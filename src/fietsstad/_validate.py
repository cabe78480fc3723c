"""Shared input validation: one place that turns bad user input into clear fietsstad errors.

Every public function of fietsstad should check what it receives with these helpers before the
input reaches numba, scipy or folium, so a user sees *what* was wrong and *what to do* instead
of a traceback from deep inside a kernel. Each helper returns the cleaned value (a contiguous
array of the right dtype, a float, a reprojected GeoDataFrame) so it can be used inline::

    weights = check_finite_nonneg(weights, "weights")
    sources = check_node_ids(sources, net.n_nodes, "sources")

Errors raised (all subclasses of :class:`~fietsstad.errors.FietsstadError`):
:class:`~fietsstad.errors.ValidationError` for bad parameters and tables,
:class:`~fietsstad.errors.GraphError` for bad engine arrays and node ids,
:class:`~fietsstad.errors.CRSError` for coordinates and CRS,
:class:`~fietsstad.errors.MemoryBudgetError` for results that would not fit in memory.

Example
-------
>>> import numpy as np
>>> from fietsstad._validate import check_cutoff, check_node_ids
>>> check_node_ids([0, 2], n=3).dtype
dtype('int32')
>>> check_cutoff(900)
900.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any, TypedDict

import numpy as np

from fietsstad.errors import CRSError, GraphError, ParameterError, ValidationError, _describe

#: Largest cut-off (seconds) a uint16 travel-time matrix can represent (65535 is "unreachable").
MAX_CUTOFF_S: float = 65534.0

__all__ = [
    "MAX_CUTOFF_S",
    "check_array",
    "check_columns",
    "check_edge_table",
    "check_cutoff",
    "check_cutoff_s",
    "check_finite_nonneg",
    "check_in_range",
    "check_int",
    "check_lonlat",
    "check_node_ids",
    "check_population",
    "check_seed",
    "ensure_crs_4326",
    "ParameterError",
]


def check_array(
    values: Any,
    name: str,
    *,
    dtype: Any = np.float64,
    ndim: int | None = 1,
    length: int | None = None,
    allow_empty: bool = False,
    error: type[Exception] = ValidationError,
) -> np.ndarray:
    """Convert ``values`` to a contiguous numeric array of ``dtype``, checking shape.

    Parameters
    ----------
    values
        Anything numpy can turn into a numeric array (list, Series, array).
    name
        Name of the argument, used in the error message.
    dtype
        Target dtype; strings, objects and ``None`` entries are refused.
    ndim, length
        Required number of dimensions and first-axis length (``None`` = any).
    allow_empty
        Accept a zero-length array.
    error
        The FietsstadError subclass to raise.

    Returns
    -------
    numpy.ndarray

    Example
    -------
    >>> check_array([1, 2], "w", dtype=np.float32).dtype
    dtype('float32')
    """
    if values is None or isinstance(values, (str, bytes, dict, set)):
        raise error(f"{name} must be a numeric array-like, got {_describe(values)}")
    try:
        raw = np.asarray(values)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise error(f"{name} must be a rectangular numeric array: {err}") from err
    if raw.dtype.kind not in "biuf":
        raise error(
            f"{name} must be numeric, got dtype {raw.dtype} (strings, None or objects?); "
            "convert it with pandas.to_numeric or drop the bad entries"
        )
    if ndim is not None and raw.ndim != ndim:
        raise error(f"{name} must be {ndim}-dimensional, got shape {raw.shape}")
    if length is not None and raw.shape[0] != length:
        raise error(f"{name} must have length {length}, got {raw.shape[0]}")
    if not allow_empty and raw.size == 0:
        raise error(f"{name} is empty; pass at least one value")
    target = np.dtype(dtype)
    if target.kind in "iu" and raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or np.any(raw != np.rint(raw)):
            raise error(f"{name} must hold whole numbers, got non-integer or NaN/inf values")
    if target.kind in "iu" and raw.size:
        info = np.iinfo(target)
        lo, hi = raw.min(), raw.max()
        if lo < info.min or hi > info.max:
            raise error(f"{name} has values outside the {target} range [{info.min}, {info.max}]")
    return np.ascontiguousarray(raw, dtype=target)


def check_finite_nonneg(
    values: Any,
    name: str,
    *,
    dtype: Any = np.float64,
    strictly_positive: bool = False,
    allow_empty: bool = False,
    error: type[Exception] = ValidationError,
    labels: Any = None,
) -> np.ndarray:
    """Array of finite values ``>= 0`` (or ``> 0``): weights, speeds, lengths, populations.

    Parameters
    ----------
    values
        Numeric array-like.
    name
        Argument name for the message.
    dtype
        Result dtype.
    strictly_positive
        Refuse zeros too (speeds, impedance scales).
    allow_empty
        Accept a zero-length array.
    error
        The FietsstadError subclass to raise (``GraphError`` for engine weights).
    labels
        Optional labels of the (1-D) values, e.g. a DataFrame index: the message then names the
        label of the first offender (``at node 12``) instead of its position.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValidationError (or ``error``)
        NaN, inf, negative (or zero) values, with the position and value of the first offender.

    Example
    -------
    >>> check_finite_nonneg([0.0, 2.5], "speeds").tolist()
    [0.0, 2.5]
    """
    arr = check_array(
        values, name, dtype=np.float64, ndim=None, allow_empty=allow_empty, error=error
    )

    def where(i: int) -> str:
        if labels is not None and len(labels) == arr.size:
            lab = labels[i]
            return f"at index label {lab.item() if hasattr(lab, 'item') else lab!r}"
        return f"at position {i}"

    bad = ~np.isfinite(arr)
    if np.any(bad):
        i = int(np.flatnonzero(bad.ravel())[0])
        raise error(
            f"{name} must be finite: {int(bad.sum())} NaN/inf value(s), first {where(i)} "
            f"({arr.ravel()[i]}); fill or drop missing values first"
        )
    neg = arr <= 0 if strictly_positive else arr < 0
    if np.any(neg):
        i = int(np.flatnonzero(neg.ravel())[0])
        what = "> 0" if strictly_positive else ">= 0"
        raise error(
            f"{name} must be {what}: {int(neg.sum())} value(s) are not, first {where(i)} "
            f"({arr.ravel()[i]})"
        )
    return np.ascontiguousarray(arr, dtype=dtype)


def check_int(
    value: Any,
    name: str,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    """A whole number (not bool) within ``[min_value, max_value]``; returns a Python int.

    Example
    -------
    >>> check_int(np.int64(5), "n_nodes", min_value=2)
    5
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{name} must be a whole number, got {_describe(value)}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            value = math.trunc(value)
        else:
            raise ValidationError(f"{name} must be a whole number, got {_describe(value)}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValidationError(f"{name} must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValidationError(f"{name} must be <= {max_value}, got {value}")
    return value


def check_in_range(
    value: Any,
    name: str,
    lo: float,
    hi: float,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """A finite real number within ``[lo, hi]`` (ends optionally open); returns a float.

    Example
    -------
    >>> check_in_range(0.3, "share", 0, 1)
    0.3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(f"{name} must be a number, got {_describe(value)}")
    v = float(value)
    if not np.isfinite(v):
        raise ValidationError(f"{name} must be finite, got {v}")
    too_low = v <= lo if lo_open else v < lo
    too_high = v >= hi if hi_open else v > hi
    if too_low or too_high:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValidationError(f"{name} must be in {left}{lo}, {hi}{right}, got {v}")
    return v


def check_cutoff(
    seconds: Any,
    name: str = "cutoff",
    *,
    max_seconds: float = MAX_CUTOFF_S,
) -> float:
    """A travel-time cut-off in seconds: finite, ``> 0`` and at most ``max_seconds``.

    The default maximum is the largest value a ``uint16`` matrix can hold (65,534 s, about
    18 h); ask for a ``float32`` or ``int32`` matrix for longer searches.

    Example
    -------
    >>> check_cutoff(15 * 60)
    900.0
    """
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise ValidationError(
            f"{name} must be a number of seconds, got {_describe(seconds)} (e.g. 15 * 60 for 15 min)"
        )
    s = float(seconds)
    if not np.isfinite(s) or s <= 0:
        raise ValidationError(f"{name} must be a positive, finite number of seconds, got {s}")
    if s > max_seconds:
        raise ValidationError(
            f"{name}={s:g} s is beyond the largest supported cut-off {max_seconds:g} s; "
            "use a float32 or int32 matrix (dtype=...) or a smaller cut-off"
        )
    return s


def check_cutoff_s(
    seconds: Any, name: str = "cutoff_s", *, error: type[Exception] = ParameterError
) -> float | None:
    """The optional travel-time cut-off of the public functions; ``None`` means no cut-off.

    Accepted: ``None`` or ``float("inf")`` (no cut-off: returns ``None``), or a finite real
    number of seconds ``>= 0`` (returns it as a float; the engine rounds it down to whole
    seconds, and ``0`` keeps only the origin itself). Refused, with ``error`` (a
    :class:`~fietsstad.errors.ValidationError`) naming ``name``: ``bool``, strings and other
    non-numbers, NaN, ``-inf``, negative numbers, and integers too large for a float
    (``2**1024``). Unlike :func:`check_cutoff` there is no upper bound: results that do not fit
    the output dtype are handled by the matrix functions (``saturate``, ``dtype``).

    Example
    -------
    >>> check_cutoff_s(900), check_cutoff_s(None), check_cutoff_s(float("inf"))
    (900.0, None, None)
    >>> check_cutoff_s("600")
    Traceback (most recent call last):
    ...
    fietsstad.errors.ParameterError: cutoff_s must be None (no cut-off), inf (no cut-off) or a number of seconds >= 0, got str '600'
    """
    if seconds is None:
        return None
    hint = "None (no cut-off), inf (no cut-off) or a number of seconds >= 0"
    if isinstance(seconds, (bool, np.bool_)) or not isinstance(seconds, numbers.Real):
        raise error(f"{name} must be {hint}, got {_describe(seconds)}")
    try:
        s = float(seconds)
    except (OverflowError, ValueError, TypeError) as err:  # 2**1024, odd Real subclasses
        raise error(f"{name} must be {hint}; {_describe(seconds)} is not a usable number") from err
    if math.isnan(s):
        raise error(f"{name} is NaN; pass None (or inf) for no cut-off, or seconds >= 0")
    if s == math.inf:
        return None
    if s < 0:
        raise error(f"{name} must be {hint}, got {s:g} (negative)")
    return s


def check_node_ids(
    ids: Any, n: int, name: str = "node ids", *, allow_empty: bool = False
) -> np.ndarray:
    """Node positions as a contiguous int32 array, each in ``0 .. n-1``.

    Parameters
    ----------
    ids
        A scalar or array-like of node positions (not OSM ids: map those with
        ``BikeNetwork.node_id`` or snap coordinates with ``BikeNetwork.snap``).
    n
        Number of nodes in the network.
    name
        Argument name for the message.
    allow_empty
        Accept zero ids.

    Raises
    ------
    GraphError
        Non-integer, negative or too large ids, naming the first offender.

    Example
    -------
    >>> check_node_ids(np.array([3, 0]), n=4).tolist()
    [3, 0]
    """
    arr = np.atleast_1d(
        check_array(ids, name, dtype=np.int64, ndim=None, allow_empty=allow_empty, error=GraphError)
    )
    if arr.ndim != 1:
        raise GraphError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = (arr < 0) | (arr >= n)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise GraphError(
            f"{name}: {int(bad.sum())} id(s) are not nodes of this network of {n} nodes (first: "
            f"{int(arr[i])} at position {i}); ids are positions 0..{n - 1}, not OSM ids: map OSM "
            "ids with net.node_id or snap coordinates with net.snap(lon, lat)"
        )
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_lonlat(lon: Any, lat: Any, name: str = "points") -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude arrays (EPSG:4326): same shape, finite, within range.

    Raises
    ------
    CRSError
        Values outside lon [-180, 180] / lat [-90, 90] (projected metres, or lat/lon swapped).
    ValidationError
        Shapes differ, values are not numbers, NaN/inf.

    Example
    -------
    >>> lon, lat = check_lonlat([6.09], [52.51])
    >>> float(lat[0])
    52.51
    """
    lo = np.atleast_1d(check_array(lon, f"{name} longitude", ndim=None))
    la = np.atleast_1d(check_array(lat, f"{name} latitude", ndim=None))
    if lo.shape != la.shape:
        raise ValidationError(
            f"{name}: longitude and latitude shapes differ ({lo.shape} vs {la.shape})"
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(la))):
        raise ValidationError(
            f"{name}: longitude/latitude must be finite numbers (NaN or inf found)"
        )
    if np.any(np.abs(lo) > 180) or np.any(np.abs(la) > 90):
        raise CRSError(
            f"{name}: coordinates outside lon [-180, 180] / lat [-90, 90] (max |lon| "
            f"{np.abs(lo).max():.6g}, max |lat| {np.abs(la).max():.6g}); are they projected metres? "
            "Convert to EPSG:4326 (lon/lat) first, e.g. gdf.to_crs(4326)"
        )
    return lo, la


def ensure_crs_4326(gdf: Any, name: str = "gdf") -> Any:
    """Return ``gdf`` in EPSG:4326, reprojecting if needed; refuse missing CRS and bad bounds.

    Parameters
    ----------
    gdf
        A :class:`geopandas.GeoDataFrame` or ``GeoSeries``.
    name
        Argument name for the message.

    Raises
    ------
    ValidationError
        Not a GeoDataFrame/GeoSeries, or empty.
    CRSError
        No CRS set, reprojection failed, or coordinates outside the lon/lat range.

    Example
    -------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(200000, 500000)], crs=28992)  # RD New (metres)
    >>> round(float(ensure_crs_4326(g).geometry.x.iloc[0]), 2)
    6.05
    """
    import geopandas as gpd

    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise ValidationError(
            f"{name} must be a geopandas GeoDataFrame or GeoSeries, got {_describe(gdf)}"
        )
    if len(gdf) == 0:
        raise ValidationError(f"{name} is empty; pass at least one geometry")
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS; set the one its coordinates are in, e.g. "
            "gdf.set_crs(4326) for lon/lat or gdf.set_crs(28992) for Dutch RD metres"
        )
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geoms.isna().any() or geoms.is_empty.any():
        raise ValidationError(f"{name} has missing or empty geometries; drop them first")
    if not gdf.crs.equals("EPSG:4326"):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as err:  # noqa: BLE001 - pyproj raises many types
            raise CRSError(f"{name}: cannot reproject from {gdf.crs} to EPSG:4326: {err}") from err
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    b = np.asarray(geoms.total_bounds, dtype=np.float64)
    if not np.all(np.isfinite(b)) or b[0] < -180 or b[2] > 180 or b[1] < -90 or b[3] > 90:
        raise CRSError(
            f"{name}: coordinates {b.round(3).tolist()} are outside the lon/lat range although the "
            f"CRS says {gdf.crs}; the CRS is probably wrong (projected metres labelled EPSG:4326?)"
        )
    return gdf


def check_columns(df: Any, required: Iterable[str], name: str = "table") -> Any:
    """Check that a DataFrame has the required columns (and at least one row).

    Example
    -------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"pop": [1]}), ["pop"]).shape
    (1, 1)
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"{name} must be a pandas DataFrame, got {_describe(df)}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValidationError(
            f"{name} lacks column(s) {missing}; it has {list(map(str, df.columns))[:20]}"
        )
    if len(df) == 0:
        raise ValidationError(f"{name} is empty; pass at least one row")
    return df


def check_population(values: Any, name: str = "population") -> np.ndarray:
    """Zone populations / opportunities: finite, ``>= 0``, and not all zero.

    Raises
    ------
    ValidationError
        NaN/inf/negative values, or a total of zero (nothing to distribute or to weight by).

    Example
    -------
    >>> float(check_population([10, 0, 5]).sum())
    15.0
    """
    arr = check_finite_nonneg(values, name)
    if float(arr.sum()) <= 0:
        raise ValidationError(
            f"{name} sums to zero: the zones have no population/opportunities, so shares and "
            "averages are undefined; check the column and the join to the zones"
        )
    return arr


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """A random seed: ``None`` or a non-negative whole number below 2**63.

    Example
    -------
    >>> check_seed(42)
    42
    """
    if seed is None:
        return None
    return check_int(seed, name, min_value=0, max_value=2**63 - 1)


_INT32_MAX = 2**31 - 1


class EdgeTable(TypedDict):
    """The cleaned core arrays :func:`check_edge_table` returns."""

    x: np.ndarray
    y: np.ndarray
    node_id: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    infra: np.ndarray
    delay: np.ndarray | None


def check_edge_table(
    *,
    x: Any,
    y: Any,
    node_id: Any,
    u: Any,
    v: Any,
    length: Any,
    infra: Any,
    delay: Any = None,
    n_infra: int = 8,
    name: Any = None,
    node_signal: Any = None,
    geometries: Any = None,
    per_edge: dict[str, Any] | None = None,
) -> EdgeTable:
    """Validate the inputs of ``BikeNetwork.from_edges``; return cleaned core arrays.

    Node arrays (``x``, ``y``, ``node_id``, ``node_signal``) must share one length ``n``; edge
    arrays (``u``, ``v``, ``length``, ``infra``, ``delay``, ``name``, ``geometries`` and the
    optional ``per_edge`` ones) one length ``m``. Coordinates are finite lon/lat, endpoints whole
    numbers in ``0..n-1``, lengths finite ``>= 0``, infrastructure codes in ``0..n_infra-1``,
    delays finite whole seconds in ``0 .. 2**31-1``.

    Returns
    -------
    dict
        ``x, y`` float64, ``node_id`` int64, ``u, v`` int64, ``length`` float64, ``infra`` int8
        and ``delay`` int32 (or ``None``).

    Raises
    ------
    GraphError
        Shapes, ids, lengths, codes or delays are invalid.
    CRSError
        Coordinates outside the lon/lat range (projected metres?).

    Example
    -------
    >>> out = check_edge_table(x=[6.0, 6.01], y=[52.5, 52.5], node_id=[1, 2], u=[0], v=[1],
    ...                        length=[680.0], infra=[0])
    >>> out["u"].dtype, out["infra"].dtype
    (dtype('int64'), dtype('int8'))
    """
    xs = check_array(x, "x (longitude)", ndim=1, allow_empty=True, error=GraphError)
    n = len(xs)
    ys = check_array(y, "y (latitude)", ndim=1, length=n, allow_empty=True, error=GraphError)
    if n:
        check_lonlat(xs, ys, "node coordinates")
    nid = check_array(
        node_id, "node_id", dtype=np.int64, ndim=1, length=n, allow_empty=True, error=GraphError
    )
    if node_signal is not None and len(np.atleast_1d(node_signal)) != n:
        raise GraphError(f"node_signal must have one entry per node ({n}), got {len(node_signal)}")
    uu = check_array(u, "u", dtype=np.int64, ndim=1, allow_empty=True, error=GraphError)
    m = len(uu)
    vv = check_array(v, "v", dtype=np.int64, ndim=1, length=m, allow_empty=True, error=GraphError)
    if m and (min(uu.min(), vv.min()) < 0 or max(uu.max(), vv.max()) >= n):
        raise GraphError(f"edge endpoints u, v must be node positions 0..{n - 1}")
    ln = check_finite_nonneg(length, "length", allow_empty=True, error=GraphError)
    if ln.shape != (m,):
        raise GraphError(f"length must have one entry per edge ({m}), got shape {ln.shape}")
    inf = check_array(
        infra, "infra", dtype=np.int64, ndim=1, length=m, allow_empty=True, error=GraphError
    )
    if m and (inf.min() < 0 or inf.max() >= n_infra):
        raise GraphError(
            f"infra codes must be 0..{n_infra - 1} (fietsstad.profiles.Infra), got "
            f"{int(inf.min())}..{int(inf.max())}"
        )
    dl = None
    if delay is not None:
        dl = check_finite_nonneg(delay, "delay", allow_empty=True, error=GraphError)
        if dl.shape != (m,):
            raise GraphError(f"delay must have one entry per edge ({m}), got shape {dl.shape}")
        if m and dl.max() > _INT32_MAX:
            raise GraphError(f"delay must be at most {_INT32_MAX} s, got {dl.max():.6g}")
        dl = np.rint(dl).astype(np.int32)
    extra = dict(per_edge or {})
    extra["name"] = name
    extra["geometries"] = geometries
    for key, arr in extra.items():
        if arr is not None and len(arr) != m:
            raise GraphError(f"{key} must have one entry per edge ({m}), got {len(arr)}")
    return {
        "x": xs,
        "y": ys,
        "node_id": nid,
        "u": uu,
        "v": vv,
        "length": ln,
        "infra": inf.astype(np.int8),
        "delay": dl,
    }


def renamed_parameters(renames: dict[str, str], since: str = "0.3") -> Any:
    """Decorator: accept each old keyword of ``renames`` (old -> new) with a DeprecationWarning.

    The old name keeps working for one release; giving both the old and the new name raises
    :class:`~fietsstad.errors.ValidationError`. The list of renames is in docs/vocabulary.md.

    Example
    -------
    >>> import warnings
    >>> @renamed_parameters({"sources": "origins"})
    ... def f(origins=None):
    ...     return origins
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(sources=[1]), w[0].category.__name__
    ([1], 'DeprecationWarning')
    """
    import functools
    import warnings

    def wrap(func: Any) -> Any:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ValidationError(
                            f"{func.__name__}: pass {new}= only ({old}= is its old name)"
                        )
                    warnings.warn(
                        f"{func.__name__}: the parameter {old}= is renamed {new}= (since "
                        f"{since}); the old name will be removed in the next release",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner

    return wrap
