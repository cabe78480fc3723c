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
>>> df.columns.tolist(), df.attrs["generated"]
(['node', 'opportunities_cum300s'], True)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from fietsstad import engine
from fietsstad._validate import (
    ParameterError,
    check_array,
    check_cutoff_s,
    check_finite_nonneg,
    check_in_range,
)
from fietsstad.analysis.routing import _engine_inputs, _keep_ch, as_nodes
from fietsstad.engine import Decay
from fietsstad.engine._memory import check_memory_budget
from fietsstad.errors import ValidationError
from fietsstad.settings import _log_end, _log_start

__all__ = ["Decay", "accessibility", "two_step_fca", "DEFAULT_DECAYS"]

log = logging.getLogger("fietsstad.analysis")

#: Default decay of :func:`accessibility`: opportunities within 15 minutes.
DEFAULT_DECAYS: tuple[Decay, ...] = (Decay.cumulative(900),)


def _opportunity_frame_from_dict(opportunities: dict, n: int):
    """A dict is ``{node position: value}`` (scalars) or ``{column: values}`` (one value per
    node as a list/array, or a Series indexed by node position)."""
    if not opportunities:
        raise ValidationError("opportunities is an empty dict; pass at least one value")
    vals = list(opportunities.values())
    scalar = [np.ndim(v) == 0 and not isinstance(v, (str, bytes)) for v in vals]
    if all(scalar):
        return pd.Series(opportunities, name="opportunities")
    if any(scalar):
        raise ValidationError(
            "opportunities dict mixes scalars and sequences; pass {node position: value} or "
            "{column: one value per node}"
        )
    cols = {}
    for k, v in opportunities.items():
        if isinstance(v, pd.Series):
            cols[k] = v
            continue
        arr = check_array(v, f"opportunities column {k!r}", dtype=np.float64)
        if arr.shape[0] != n:
            raise ValidationError(
                f"opportunities column {k!r} must have one value per node ({n}), got shape "
                f"{arr.shape}; or pass a Series indexed by node position"
            )
        cols[k] = pd.Series(arr)
    return pd.DataFrame(cols)


def _is_geo(obj) -> bool:
    """A geopandas GeoDataFrame or GeoSeries (a plain DataFrame has no ``crs``)."""
    return (
        isinstance(obj, (pd.DataFrame, pd.Series))
        and hasattr(obj, "geometry")
        and hasattr(obj, "crs")
    )


def _snapped_opportunities(net, gdf) -> tuple[np.ndarray, list[str], dict]:
    """Opportunities of a GeoDataFrame (or GeoSeries) placed on nodes by their geometry.

    Every feature (a point, or a polygon's / line's representative point) is snapped to its
    nearest node with :meth:`BikeNetwork.snap` (refused beyond ``settings.snap_max_distance_m``);
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
    nodes, dist = as_nodes(net, gdf, "opportunities", return_distance=True)
    table = np.column_stack(
        [np.bincount(nodes, weights=num[c].to_numpy(np.float64), minlength=n) for c in num.columns]
    )
    snap = {
        "points": int(len(dist)),
        "max": float(dist.max()) if len(dist) else 0.0,
        "mean": float(dist.mean()) if len(dist) else 0.0,
    }
    return table, [str(c) for c in num.columns], {"snap_distance_m": snap}


def _opportunity_table(net, opportunities) -> tuple[np.ndarray, list[str], dict]:
    """``(n, k)`` float64 opportunities per node, the column names and extra ``df.attrs``.

    NaN, inf and negative values are refused with the same error whatever the container
    (array, list, Series, DataFrame, dict, GeoDataFrame), naming the column: a missing value
    must never count as zero opportunities. A GeoDataFrame / GeoSeries is placed on nodes by its
    geometry (:func:`_snapped_opportunities`), everything else by node position.
    """
    n = net.n_nodes
    if _is_geo(opportunities):
        return _snapped_opportunities(net, opportunities)
    if isinstance(opportunities, dict):
        opportunities = _opportunity_frame_from_dict(opportunities, n)
    if isinstance(opportunities, pd.Series):
        name = opportunities.name if opportunities.name is not None else "opportunities"
        opportunities = opportunities.to_frame(name)
    if isinstance(opportunities, pd.DataFrame):
        idx = opportunities.index
        if len(idx) and (not pd.api.types.is_integer_dtype(idx) or idx.min() < 0 or idx.max() >= n):
            raise ValidationError(
                "opportunities must be indexed by node position (0..n_nodes-1); snap points "
                "with net.snap first"
            )
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
        grouped = num.astype(np.float64).groupby(level=0).sum()
        full = grouped.reindex(range(n), fill_value=0.0)
        return full.to_numpy(np.float64), [str(c) for c in num.columns], {}
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
    if isinstance(decays, Decay):
        return [decays]
    out = list(decays)
    if not out or not all(isinstance(d, Decay) for d in out):
        raise ValidationError("decays must be a Decay or a non-empty sequence of Decay objects")
    return out


def _to_frame(net, opportunities, decays, sources, compute: Callable, cutoff_s) -> pd.DataFrame:
    """Shared by :func:`accessibility` and the Dask backend: inputs -> ``compute`` -> DataFrame.

    ``compute(graph, opp (n, k), decays, cutoff, sources)`` returns the engine's
    ``(len(sources), k * len(decays))`` array.
    """
    cutoff = check_cutoff_s(cutoff_s)
    opp, cols, extra_attrs = _opportunity_table(net, opportunities)
    decs = _decay_list(decays)
    src = as_nodes(net, sources, "sources")
    g, _, entry = _engine_inputs(net)
    n_rows = net.n_nodes if src is None else len(src)
    n_cols = len(cols) * len(decs)
    check_memory_budget(  # the engine's table and the DataFrame's copy of it
        (n_rows, n_cols),
        np.float64,
        "the accessibility table",
        alternatives=[
            "pass a smaller set of sources (sources=...) and concatenate the tables",
            "fewer opportunity columns or decays per call",
            "fietsstad.distributed.accessibility_dask on a cluster",
        ],
        extra_bytes=n_rows * n_cols * 8,
    )
    what = f"accessibility of {n_rows:,} sources, {n_cols} columns"
    t0 = _log_start(log, what)
    values = compute(g, opp, decs, cutoff, src)
    _log_end(log, what, t0)
    _keep_ch(entry)
    names = [f"{c}_{d.name}" for c in cols for d in decs]
    pos = np.arange(net.n_nodes) if src is None else np.asarray(src)
    df = pd.DataFrame(values, columns=names, index=pd.Index(net.node_id[pos], name="node_id"))
    df.insert(0, "node", pos.astype(np.int32))
    df.attrs.update(
        source=net.meta.get("source", "unknown"),
        generated=bool(net.is_generated),
        cutoff_s=cutoff,
        profile=net.profile,
        **extra_attrs,
    )
    return df


def accessibility(
    net,
    opportunities,
    decays: Sequence[Decay] | Decay = DEFAULT_DECAYS,
    cutoff_s: float | None = None,
    *,
    sources=None,
    method: str = "auto",
) -> pd.DataFrame:
    """Accessibility of every origin node to opportunities, one column per (column, decay).

    Parameters
    ----------
    net : BikeNetwork
    opportunities : GeoDataFrame, DataFrame / Series indexed by node position, array or list (n,) / (n, k), dict
        Opportunities per node (several numeric columns allowed; repeated positions add up;
        positions not in a DataFrame/Series have none). A dict is ``{position: value}`` or
        ``{column: one value per node}``. A **GeoDataFrame** is placed by its geometry, not its
        index: each point (a polygon's representative point) goes to its nearest node
        (:meth:`~fietsstad.network.BikeNetwork.snap`, refused with
        :class:`~fietsstad.errors.SnappingError` beyond ``settings.snap_max_distance_m``),
        features on one node add up, and ``df.attrs["snap_distance_m"]`` reports the snapping
        distances (``points``, ``max``, ``mean`` in metres); a GeoSeries counts one opportunity
        per feature. Non-numeric DataFrame columns (labels) are ignored;
        NaN, inf and negative values are refused in every container
        (:class:`~fietsstad.errors.ValidationError` naming the column), never counted as 0.
    decays : Decay or sequence of Decay
        e.g. ``[Decay.cumulative(900), Decay.exponential(0.1)]`` (beta per minute).
    cutoff_s : float, optional
        Search radius in seconds (set it for local measures; it bounds the work). ``None``
        (default) or ``float("inf")``: no cut-off; otherwise a finite number ``>= 0``.
    sources : node positions or lon/lat points, optional
        Origins (default: all nodes).
    method : "auto", "phast" or "dijkstra"

    Returns
    -------
    pandas.DataFrame indexed by ``node_id`` with a ``node`` (position) column and columns
    ``f"{column}_{decay.name}"``; ``df.attrs`` records source/generated/cutoff/profile.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> pop = pd.DataFrame({"inhabitants": [100.0, 50.0]}, index=[0, 1])
    >>> df = accessibility(net, pop, [Decay.cumulative(600), Decay.exponential(0.2)],
    ...                    cutoff_s=1800)
    >>> list(df.columns)
    ['node', 'inhabitants_cum600s', 'inhabitants_exp0.2permin']
    >>> import geopandas as gpd
    >>> shops = gpd.GeoDataFrame({"shops": [3.0, 2.0]}, crs=4326,
    ...                          geometry=gpd.points_from_xy(net.x[[5, 9]], net.y[[5, 9]]))
    >>> df = accessibility(net, shops, Decay.cumulative(600), cutoff_s=600)
    >>> df.attrs["snap_distance_m"]["max"], float(df.loc[df["node"] == 5, "shops_cum600s"].iloc[0]) >= 3
    (0.0, True)
    """
    return _to_frame(
        net,
        opportunities,
        decays,
        sources,
        lambda g, opp, dec, cutoff, src: engine.accessibility(
            g, opp, dec, cutoff=cutoff, sources=src, method=method
        ),
        cutoff_s,
    )


def _points(net, obj, column: str | None, what: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Node positions, values and an index for supply/demand given in any accepted form."""
    if isinstance(obj, tuple) and len(obj) == 2:
        nodes = as_nodes(net, obj[0], what)
        vals = np.asarray(obj[1], dtype=np.float64).ravel()
        return nodes, vals, pd.RangeIndex(len(nodes), name=what)
    if hasattr(obj, "geometry"):
        if column is None or column not in obj.columns:
            raise ValidationError(f"{what}: the GeoDataFrame needs a {column!r} column")
        return as_nodes(net, obj, what), obj[column].to_numpy(np.float64), obj.index
    if isinstance(obj, pd.DataFrame):
        if "node" not in obj.columns or column not in obj.columns:
            raise ValidationError(f"{what}: a DataFrame needs 'node' and {column!r} columns")
        return obj["node"].to_numpy(np.int64), obj[column].to_numpy(np.float64), obj.index
    raise ValidationError(
        f"{what} must be a (nodes, values) tuple, a GeoDataFrame of points or a DataFrame with "
        f"a 'node' column, got {type(obj).__name__}"
    )


def two_step_fca(
    net,
    supply,
    demand,
    catchment_s: float,
    decay: Decay | None = None,
    *,
    supply_column: str = "capacity",
    demand_column: str = "population",
    method: str = "auto",
    return_supply: bool = False,
):
    """Two-step floating catchment (2SFCA; enhanced 2SFCA with a ``decay``) on the network.

    Parameters
    ----------
    net : BikeNetwork
    supply : (node positions, capacities) tuple, GeoDataFrame of points with ``supply_column``,
        or DataFrame with ``node`` and ``supply_column`` columns (e.g. hub stands).
    demand : the same forms with ``demand_column`` (e.g. inhabitants per zone centroid).
    catchment_s : float
        Catchment in seconds of cycling.
    decay : Decay, optional
        Distance decay inside the catchment (enhanced 2SFCA); default: none (classic).
    return_supply : bool
        Also return the supply table with the ratio ``R`` (supply per unit of demand reached).

    Returns
    -------
    DataFrame per demand point (index of ``demand``) with ``node``, ``demand`` and ``access``
    (supply per unit of demand available within the catchment); with ``return_supply`` a tuple
    ``(demand_df, supply_df)`` where ``supply_df`` has ``node``, ``supply`` and ``ratio``.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> n = net.n_nodes
    >>> df = two_step_fca(net, ([0, 50], [20.0, 10.0]), (np.arange(n), np.ones(n)), 600)
    >>> bool((df["access"] >= 0).all())
    True
    """
    sn, S, sidx = _points(net, supply, supply_column, "supply")
    dn, D, didx = _points(net, demand, demand_column, "demand")
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
    ddf = pd.DataFrame({"node": dn.astype(np.int32), "demand": D, "access": A}, index=didx)
    ddf.attrs.update(attrs)
    if not return_supply:
        return ddf
    sdf = pd.DataFrame({"node": sn.astype(np.int32), "supply": S, "ratio": R}, index=sidx)
    sdf.attrs.update(attrs)
    return ddf, sdf
