"""Accessibility indicators on a :class:`~fietsstad.network.BikeNetwork`, as DataFrames.

Cumulative opportunities and gravity (Hansen) measures with several decays and several
opportunity columns in one traversal per origin (:func:`accessibility`), and two-step floating
catchment (:func:`two_step_fca`) for supply against demand, e.g. mobility-hub capacity against
inhabitants. Direction: access **from** each origin node **to** the opportunities, by bike.
Computed by :mod:`fietsstad.engine` inside the search; no travel-time matrix is stored.

Example
-------
>>> import numpy as np, fietsstad
>>> from fietsstad.engine import Decay
>>> net = fietsstad.generate_network(n_nodes=300, seed=1)      # a GENERATED network
>>> df = fietsstad.accessibility(net, np.ones(net.n_nodes), [Decay.cumulative(300)],
...                              cutoff_s=300)
>>> df.columns.tolist(), df.attrs["generated"], df.index.name
(['position', 'opportunities_cum300s'], True, 'node_id')
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import numpy as np
import pandas as pd

from fietsstad import engine
from fietsstad._validate import (
    ParameterError,
    check_array,
    check_cutoff_s,
    check_finite_nonneg,
    check_in_range,
    renamed_parameters,
)
from fietsstad.analysis.routing import (
    NodesLike,
    _engine_inputs,
    _keep_ch,
    as_nodes,
    check_bike_network,
)
from fietsstad.engine import Decay
from fietsstad.engine._memory import check_memory_budget
from fietsstad.errors import ValidationError, _describe
from fietsstad.network import BikeNetwork
from fietsstad.settings import _log_end, _log_start

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy.typing as npt

__all__ = ["Decay", "accessibility", "two_step_fca", "DEFAULT_DECAYS"]

log = logging.getLogger("fietsstad.analysis")

#: Default decay of :func:`accessibility`: opportunities within 15 minutes.
DEFAULT_DECAYS: tuple[Decay, ...] = (Decay.cumulative(900),)

#: What :func:`accessibility` takes as ``opportunities``: a GeoDataFrame / GeoSeries (placed by
#: geometry), a DataFrame / Series / dict keyed by OSM node id, or an (n,) / (n, k) array.
OpportunitiesLike: TypeAlias = (
    "gpd.GeoDataFrame | gpd.GeoSeries | pd.DataFrame | pd.Series | dict[Any, Any] | npt.ArrayLike"
)
#: What :func:`two_step_fca` takes as ``supply`` / ``demand``: a ``(nodes or points, values)``
#: tuple, a GeoDataFrame of points, or a DataFrame with ``node_id`` / ``position``.
PointsLike: TypeAlias = "tuple[NodesLike, npt.ArrayLike] | gpd.GeoDataFrame | pd.DataFrame"


def _opportunity_frame_from_dict(opportunities: dict, node_id: np.ndarray):
    """A dict is ``{OSM node id: value}`` (scalars) or ``{column: values}`` (one value per
    node as a list/array in position order, or a Series indexed by OSM node id)."""
    if not opportunities:
        raise ValidationError("opportunities is an empty dict; pass at least one value")
    vals = list(opportunities.values())
    scalar = [np.ndim(v) == 0 and not isinstance(v, (str, bytes)) for v in vals]
    if all(scalar):
        return pd.Series(opportunities, name="opportunities")
    if any(scalar):
        raise ValidationError(
            "opportunities dict mixes scalars and sequences; pass {OSM node id: value} or "
            "{column: one value per node}"
        )
    n = len(node_id)
    cols = {}
    for k, v in opportunities.items():
        if isinstance(v, pd.Series):
            cols[k] = v
            continue
        arr = check_array(v, f"opportunities column {k!r}", dtype=np.float64)
        if arr.shape[0] != n:
            raise ValidationError(
                f"opportunities column {k!r} must have one value per node ({n}), got shape "
                f"{arr.shape}; or pass a Series indexed by OSM node id"
            )
        cols[k] = pd.Series(arr, index=node_id)
    return pd.DataFrame(cols)


def _is_geo(obj) -> bool:
    """A geopandas GeoDataFrame or GeoSeries (a plain DataFrame has no ``crs``)."""
    return (
        isinstance(obj, (pd.DataFrame, pd.Series))
        and hasattr(obj, "geometry")
        and hasattr(obj, "crs")
    )


def _snapped_opportunities(net, gdf, max_distance_m) -> tuple[np.ndarray, list[str], dict]:
    """Opportunities of a GeoDataFrame (or GeoSeries) placed on nodes by their geometry.

    Every feature (a point, or a polygon's / line's representative point) is snapped to its
    nearest node with :meth:`BikeNetwork.snap` (refused beyond ``max_distance_m``, default
    ``settings.snap_max_distance_m``);
    the numeric columns of features on one node add up. A GeoSeries counts one opportunity per
    feature. The index of ``gdf`` plays no part. Returns the table, the column names and the
    snapping distances for ``df.attrs``.
    """
    n = net.n_nodes
    if isinstance(gdf, pd.Series):
        name = gdf.name if gdf.name is not None else "opportunities"
        num = pd.DataFrame({name: np.ones(len(gdf))}, index=gdf.index)
    else:
        num = gdf.drop(columns=gdf.geometry.name).select_dtypes("number")
        if num.shape[1] == 0:
            raise ValidationError(
                "opportunities GeoDataFrame has no numeric column; add one with the opportunities "
                "of each feature (e.g. jobs, inhabitants)"
            )
    for c in num.columns:
        check_finite_nonneg(
            num[c].to_numpy(dtype=np.float64, na_value=np.nan),
            f"opportunities column {c!r}",
            allow_empty=True,
            error=ParameterError,
            labels=num.index,
        )
    nodes, dist = as_nodes(
        net, gdf, "opportunities", return_distance=True, max_distance_m=max_distance_m
    )
    table = np.column_stack(
        [np.bincount(nodes, weights=num[c].to_numpy(np.float64), minlength=n) for c in num.columns]
    )
    return table, [str(c) for c in num.columns], {"snap_distance_m": _snap_summary(dist)}


def _snap_summary(dist: np.ndarray) -> dict:
    """``points``, ``max`` and ``mean`` snapping distance (metres) for ``df.attrs``."""
    return {
        "points": int(len(dist)),
        "max": float(dist.max()) if len(dist) else 0.0,
        "mean": float(dist.mean()) if len(dist) else 0.0,
    }


def _opportunity_table(
    net, opportunities, max_distance_m=None
) -> tuple[np.ndarray, list[str], dict]:
    """``(n, k)`` float64 opportunities per node, the column names and extra ``df.attrs``.

    NaN, inf and negative values are refused with the same error whatever the container
    (array, list, Series, DataFrame, dict, GeoDataFrame), naming the column: a missing value
    must never count as zero opportunities. A GeoDataFrame / GeoSeries is placed on nodes by its
    geometry (:func:`_snapped_opportunities`), a DataFrame / Series / dict by OSM node id,
    an array by node position (one row per node, in the order of ``net.nodes_gdf()``).
    """
    n = net.n_nodes
    if _is_geo(opportunities):
        return _snapped_opportunities(net, opportunities, max_distance_m)
    if isinstance(opportunities, dict):
        opportunities = _opportunity_frame_from_dict(opportunities, net.node_id)
    if isinstance(opportunities, pd.Series):
        name = opportunities.name if opportunities.name is not None else "opportunities"
        opportunities = opportunities.to_frame(name)
    if isinstance(opportunities, pd.DataFrame):
        idx = opportunities.index
        if len(idx) and not pd.api.types.is_integer_dtype(idx):
            raise ValidationError(
                "opportunities must be indexed by OSM node id (as net.nodes_gdf()); place "
                f"points with net.nearest_nodes first, or pass a GeoDataFrame (index: {idx.dtype})"
            )
        pos = net.positions(idx.to_numpy(), name="opportunities index")
        num = opportunities.select_dtypes("number")  # text columns (labels) are ignored
        if num.shape[1] == 0:
            raise ValidationError("opportunities has no numeric column")
        for c in num.columns:
            check_finite_nonneg(
                num[c].to_numpy(dtype=np.float64, na_value=np.nan),
                f"opportunities column {c!r}",
                allow_empty=True,
                error=ParameterError,
                labels=idx,
            )
        full = np.column_stack(
            [np.bincount(pos, weights=num[c].to_numpy(np.float64), minlength=n) for c in num]
        )
        return full, [str(c) for c in num.columns], {}
    arr = check_array(opportunities, "opportunities", ndim=None)
    if arr.ndim == 1:
        check_finite_nonneg(arr, "opportunities", error=ParameterError)
        return arr, ["opportunities"], {}
    if arr.ndim == 2:
        for j in range(arr.shape[1]):
            check_finite_nonneg(arr[:, j], f"opportunities column {j}", error=ParameterError)
        return arr, [f"opportunities{i}" for i in range(arr.shape[1])], {}
    raise ValidationError(f"opportunities must be 1-D or 2-D, got shape {arr.shape}")


def _decay_list(decays) -> list[Decay]:
    """Decays as a list; a plain number is a cumulative cut-off in seconds."""
    if isinstance(decays, Decay):
        return [decays]
    if _is_number(decays):
        return [Decay.cumulative(decays)]
    try:
        out = [Decay.cumulative(d) if _is_number(d) else d for d in decays]
    except TypeError:
        out = []
    if not out or not all(isinstance(d, Decay) for d in out):
        raise ValidationError(
            "decays must be a Decay, a number (a cumulative cut-off in seconds) or a non-empty "
            f"sequence of them, got {_describe(decays)}"
        )
    return out


def _is_number(d) -> bool:
    return isinstance(d, numbers.Real) and not isinstance(d, (bool, np.bool_))


def _to_frame(
    net,
    opportunities,
    decays,
    sources,
    compute: Callable,
    cutoff_s,
    *,
    positions: bool = False,
    max_distance_m: float | None = None,
) -> pd.DataFrame:
    """Shared by :func:`accessibility` and the Dask backend: inputs -> ``compute`` -> DataFrame.

    ``sources`` are the origins (OSM ids, points, or positions with ``positions=True``).
    ``compute(graph, opp (n, k), decays, cutoff, positions)`` returns the engine's
    ``(len(origins), k * len(decays))`` array.
    """
    check_bike_network(net)
    cutoff = check_cutoff_s(cutoff_s)
    opp, cols, extra_attrs = _opportunity_table(net, opportunities, max_distance_m)
    decs = _decay_list(decays)
    src, src_dist = as_nodes(
        net, sources, "origins", positions=positions, max_distance_m=max_distance_m,
        return_distance=True,
    )  # fmt: skip
    if src is not None and hasattr(sources, "geometry"):
        extra_attrs["origin_snap_distance_m"] = _snap_summary(src_dist)
    g, _, entry = _engine_inputs(net)
    n_rows = net.n_nodes if src is None else len(src)
    n_cols = len(cols) * len(decs)
    check_memory_budget(  # the engine's table and the DataFrame's copy of it
        (n_rows, n_cols),
        np.float64,
        "the accessibility table",
        alternatives=[
            "pass a smaller set of origins (origins=...) and concatenate the tables",
            "fewer opportunity columns or decays per call",
            "fietsstad.distributed.accessibility_dask on a cluster",
        ],
        extra_bytes=n_rows * n_cols * 8,
    )
    what = f"accessibility of {n_rows:,} origins, {n_cols} columns"
    t0 = _log_start(log, what)
    values = compute(g, opp, decs, cutoff, src)
    _log_end(log, what, t0)
    _keep_ch(entry)
    names = [f"{c}_{d.name}" for c in cols for d in decs]
    pos = np.arange(net.n_nodes) if src is None else np.asarray(src)
    df = pd.DataFrame(values, columns=names, index=pd.Index(net.node_id[pos], name="node_id"))
    df.insert(0, "position", pos.astype(np.int32))
    df.attrs.update(
        source=net.meta.get("source", "unknown"),
        generated=bool(net.is_generated),
        cutoff_s=cutoff,
        profile=net.profile,
        **extra_attrs,
    )
    return df


@renamed_parameters({"sources": "origins"})
def accessibility(
    net: BikeNetwork,
    opportunities: OpportunitiesLike,
    decays: Sequence[Decay | float] | Decay | float = DEFAULT_DECAYS,
    cutoff_s: float | None = None,
    *,
    origins: NodesLike = None,
    method: str = "auto",
    positions: bool = False,
    max_distance_m: float | None = None,
) -> pd.DataFrame:
    """Accessibility of every origin node to opportunities, one column per (column, decay).

    Parameters
    ----------
    net : BikeNetwork
    opportunities : GeoDataFrame, DataFrame / Series / dict keyed by OSM node id, or array (n,) / (n, k)
        Opportunities per node (several numeric columns allowed). A DataFrame / Series is
        indexed by **OSM node id** (``net.nodes_gdf().index``; repeated ids add up, ids not in
        it have none, an id not in the network raises
        :class:`~fietsstad.errors.ValidationError`). A dict is ``{node id: value}`` or
        ``{column: one value per node}``. An array has one row per node in the order of
        ``net.nodes_gdf()``. A **GeoDataFrame** is placed by its geometry, not its
        index: each point (a polygon's representative point) goes to its nearest node
        (:meth:`~fietsstad.network.BikeNetwork.snap`, refused with
        :class:`~fietsstad.errors.SnappingError` beyond ``max_distance_m``), features on one
        node add up, and ``df.attrs["snap_distance_m"]`` reports the snapping distances
        (``points``, ``max``, ``mean`` in metres); a GeoSeries counts one opportunity per
        feature. Non-numeric DataFrame columns (labels) are ignored; NaN, inf and negative
        values are refused in every container (naming the column), never counted as 0.
    decays : Decay, number, or sequence of them
        e.g. ``[Decay.cumulative(900), Decay.exponential(half_life_s=600)]``; a plain number
        is a cumulative cut-off in seconds (``900`` is ``Decay.cumulative(900)``).
    cutoff_s : float, optional
        Search radius in seconds (set it for local measures; it bounds the work). ``None``
        (default) or ``float("inf")``: no cut-off; otherwise a finite number ``>= 0``.
    origins : OSM node ids, lon/lat points or GeoDataFrame, optional
        Origins (default: all nodes). Was ``sources`` (still accepted, with a
        DeprecationWarning). Points are snapped; ``df.attrs["origin_snap_distance_m"]``
        reports the distances for a GeoDataFrame.
    method : "auto", "phast" or "dijkstra"
    positions : bool
        Read plain integer ``origins`` as node positions ``0..n_nodes-1``.
    max_distance_m : float, optional
        Snapping limit in metres (default :data:`fietsstad.settings.snap_max_distance_m`).

    Returns
    -------
    pandas.DataFrame indexed by ``node_id`` (OSM ids of the origins) with a ``position``
    column (int32 node position) and columns ``f"{column}_{decay.name}"``; ``df.attrs``
    records source/generated/cutoff/profile.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> ids = net.nodes_gdf().index
    >>> pop = pd.DataFrame({"inhabitants": [100.0, 50.0]}, index=ids[:2])
    >>> df = accessibility(net, pop, [Decay.cumulative(600), Decay.exponential(half_life_s=300)],
    ...                    cutoff_s=1800)
    >>> list(df.columns)
    ['position', 'inhabitants_cum600s', 'inhabitants_exphalf300s']
    >>> import geopandas as gpd
    >>> shops = gpd.GeoDataFrame({"shops": [3.0, 2.0]}, crs=4326,
    ...                          geometry=gpd.points_from_xy(net.x[[5, 9]], net.y[[5, 9]]))
    >>> df = accessibility(net, shops, 600, cutoff_s=600)
    >>> df.attrs["snap_distance_m"]["max"], float(df.loc[ids[5], "shops_cum600s"]) >= 3
    (0.0, True)
    """
    return _to_frame(
        net,
        opportunities,
        decays,
        origins,
        lambda g, opp, dec, cutoff, src: engine.accessibility(
            g, opp, dec, cutoff=cutoff, sources=src, method=method
        ),
        cutoff_s,
        positions=positions,
        max_distance_m=max_distance_m,
    )


def _points(
    net, obj, column: str | None, what: str, max_distance_m
) -> tuple[np.ndarray, np.ndarray, pd.Index, np.ndarray]:
    """Node positions, values, an index and snapping distances (m) for supply/demand."""
    if isinstance(obj, tuple) and len(obj) == 2:
        nodes, dist = as_nodes(
            net, obj[0], what, return_distance=True, max_distance_m=max_distance_m
        )
        vals = np.asarray(obj[1], dtype=np.float64).ravel()
        return nodes, vals, pd.RangeIndex(len(nodes), name=what), dist
    if hasattr(obj, "geometry"):
        if column is None or column not in obj.columns:
            raise ValidationError(f"{what}: the GeoDataFrame needs a {column!r} column")
        nodes, dist = as_nodes(net, obj, what, return_distance=True, max_distance_m=max_distance_m)
        return nodes, obj[column].to_numpy(np.float64), obj.index, dist
    if isinstance(obj, pd.DataFrame):
        key = next((c for c in ("node_id", "position") if c in obj.columns), None)
        if key is None or column not in obj.columns:
            hint = " ('node' is ambiguous: rename it node_id for OSM ids)" if "node" in obj else ""
            raise ValidationError(
                f"{what}: a DataFrame needs a 'node_id' (OSM node ids) or 'position' column "
                f"and a {column!r} column{hint}"
            )
        nodes = as_nodes(net, obj[key].to_numpy(), f"{what} {key}", positions=key == "position")
        return nodes, obj[column].to_numpy(np.float64), obj.index, np.zeros(len(nodes))
    raise ValidationError(
        f"{what} must be a (node ids or (k, 2) lon/lat points, values) tuple, a GeoDataFrame of "
        f"points or a DataFrame with a 'node_id' column, got {type(obj).__name__}"
    )


# The overloads tell a type checker what comes back for each return_supply.
# fmt: off
@overload
def two_step_fca(
    net: BikeNetwork, supply: PointsLike, demand: PointsLike, catchment_s: float,
    decay: Decay | None = ..., *, supply_column: str = ..., demand_column: str = ...,
    method: str = ..., return_supply: Literal[False] = ..., max_distance_m: float | None = ...,
) -> pd.DataFrame: ...
@overload
def two_step_fca(
    net: BikeNetwork, supply: PointsLike, demand: PointsLike, catchment_s: float,
    decay: Decay | None = ..., *, supply_column: str = ..., demand_column: str = ...,
    method: str = ..., return_supply: Literal[True], max_distance_m: float | None = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...
@overload
def two_step_fca(
    net: BikeNetwork, supply: PointsLike, demand: PointsLike, catchment_s: float,
    decay: Decay | None = ..., *, supply_column: str = ..., demand_column: str = ...,
    method: str = ..., return_supply: bool = ..., max_distance_m: float | None = ...,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]: ...
# fmt: on


def two_step_fca(
    net: BikeNetwork,
    supply: PointsLike,
    demand: PointsLike,
    catchment_s: float,
    decay: Decay | None = None,
    *,
    supply_column: str = "capacity",
    demand_column: str = "population",
    method: str = "auto",
    return_supply: bool = False,
    max_distance_m: float | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Two-step floating catchment (2SFCA; enhanced 2SFCA with a ``decay``) on the network.

    Parameters
    ----------
    net : BikeNetwork
    supply : (OSM node ids or (k, 2) lon/lat points, capacities) tuple, GeoDataFrame of points
        with ``supply_column``, or DataFrame with ``node_id`` (OSM ids) or ``position`` and
        ``supply_column`` columns (e.g. hub stands). Points are snapped to their nearest node
        (:class:`~fietsstad.errors.SnappingError` beyond ``max_distance_m``).
    demand : the same forms with ``demand_column`` (e.g. inhabitants per zone centroid).
    catchment_s : float
        Catchment in seconds of cycling.
    decay : Decay, optional
        Distance decay inside the catchment (enhanced 2SFCA); default: none (classic).
    return_supply : bool
        Also return the supply table with the ratio ``R`` (supply per unit of demand reached).
    max_distance_m : float, optional
        Snapping limit in metres (default :data:`fietsstad.settings.snap_max_distance_m`).

    Returns
    -------
    DataFrame per demand point (index of ``demand``) with ``node_id`` (OSM id), ``position``,
    ``snap_distance_m``, ``demand`` and ``access`` (supply per unit of demand available within
    the catchment); with ``return_supply`` a tuple ``(demand_df, supply_df)`` where
    ``supply_df`` has ``node_id``, ``position``, ``snap_distance_m``, ``supply`` and ``ratio``.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> ids = net.nodes_gdf().index
    >>> df = two_step_fca(net, (ids[[0, 50]], [20.0, 10.0]), (ids, np.ones(len(ids))), 600)
    >>> bool((df["access"] >= 0).all()), bool((df["node_id"] == ids).all())
    (True, True)
    """
    check_bike_network(net)
    sn, S, sidx, sdist = _points(net, supply, supply_column, "supply", max_distance_m)
    dn, D, didx, ddist = _points(net, demand, demand_column, "demand", max_distance_m)
    g, _, entry = _engine_inputs(net)
    catchment_s = check_in_range(catchment_s, "catchment_s", 0, np.inf)
    A, R = engine.two_step_fca(g, sn, S, dn, D, catchment_s, decay, method=method)
    _keep_ch(entry)
    attrs = {
        "source": net.meta.get("source", "unknown"),
        "generated": bool(net.is_generated),
        "catchment_s": catchment_s,
        "decay": None if decay is None else decay.name,
    }
    ddf = pd.DataFrame(
        {"node_id": net.node_id[dn], "position": dn.astype(np.int32), "snap_distance_m": ddist,
         "demand": D, "access": A},
        index=didx,
    )  # fmt: skip
    ddf.attrs.update(attrs)
    if not return_supply:
        return ddf
    sdf = pd.DataFrame(
        {"node_id": net.node_id[sn], "position": sn.astype(np.int32), "snap_distance_m": sdist,
         "supply": S, "ratio": R},
        index=sidx,
    )  # fmt: skip
    sdf.attrs.update(attrs)
    return ddf, sdf
