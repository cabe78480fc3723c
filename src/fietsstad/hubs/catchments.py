"""Mobility hubs: catchments by cycling time, and where to put k hubs.

Three steps a planner takes, one call each:

* :func:`hub_candidates` / :func:`zwolle_hub_candidates`: candidate hub sites as a GeoDataFrame
  (from lon/lat arrays, a user's GeoDataFrame, or the built-in, *approximate* Zwolle sites).
* :func:`hub_catchments`: for each hub and each band (5, 10, 15 minutes by default) the area from
  which a cyclist **can reach the hub** within that time on the network, as a polygon, and the
  population inside it.
* :func:`place_hubs`: choose ``k`` hubs that cover the most population within ``cutoff_min`` minutes
  (the maximal covering location problem, MCLP; Church & ReVelle 1974): greedy with each hub's
  marginal gain, or exact by mixed-integer programming (:func:`scipy.optimize.milp`) for small
  cases, with the coverage curve (population covered against number of hubs) and optional fixed
  (existing) hubs.

Catchment direction
-------------------
The catchment of a hub is the set of nodes ``i`` with ``travel_time(i -> hub) <= t``: the people
who can *ride to* the hub in ``t``. It is computed by one search from the hub, bounded by the
largest band, on the **reversed** network (the numba engine, :func:`fietsstad.engine.travel_times`
with a cut-off) (``direction="to_hub"``, the default). ``direction="from_hub"`` gives the
forward version (where one can ride *from* the hub). On networks with one-way streets and
contraflow rules the two differ.

Population
----------
Population (demand) lives on network nodes. :func:`node_population` turns what users have into a
per-node vector: an array per node, points with counts (zones, districts, address points) snapped to
their nearest node (``distribute="snap"``) or spread evenly over the nodes nearest to each point
(``distribute="nearest"``, a Voronoi split), or polygons whose count is spread over the nodes inside.

Example
-------
>>> import fietsstad
>>> from fietsstad.hubs import hub_candidates, place_hubs
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)             # GENERATED network
>>> cands = hub_candidates(net.x[::40], net.y[::40])
>>> pl = place_hubs(net, cands, population=np.ones(net.n_nodes), k=3, cutoff_min=5)
>>> len(pl.hubs), pl.coverage_curve["covered"].is_monotonic_increasing
(3, True)
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fietsstad._validate import renamed_parameters
from fietsstad.analysis.routing import check_bike_network
from fietsstad.engine import travel_times
from fietsstad.errors import CRSError, ValidationError
from fietsstad.network import BikeNetwork
from fietsstad.zwolle import ZWOLLE_HUB_SITES, zwolle_districts

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

_POP_COLUMNS = ("population", "inhabitants_2024", "aantal_inwoners", "inhabitants", "pop")


# ---------------------------------------------------------------------------------------------
# candidates
# ---------------------------------------------------------------------------------------------
def hub_candidates(
    lon: Any,
    lat: Any | None = None,
    names: Any | None = None,
    kind: str = "candidate",
) -> gpd.GeoDataFrame:
    """Candidate hub sites as a GeoDataFrame (EPSG:4326) with ``name``, ``kind``, ``approximate``.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes (equal-length sequences). Alternatively pass a GeoDataFrame of
        points as ``lon`` (any CRS; it is converted to EPSG:4326) and leave ``lat`` out; a ``name``
        column is kept if present.
    names
        Optional names (default ``"hub 0"``, ``"hub 1"``, ...).
    kind
        Value of the ``kind`` column for points given as arrays.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``kind``, ``approximate`` and point ``geometry``, CRS EPSG:4326.

    Example
    -------
    >>> hub_candidates([6.09, 6.10], [52.50, 52.51], names=["A", "B"])["name"].tolist()
    ['A', 'B']
    """
    import geopandas as gpd

    if isinstance(lon, gpd.GeoDataFrame):
        gdf = lon
        if gdf.crs is None:
            raise CRSError("the candidate GeoDataFrame has no CRS; set one (e.g. EPSG:4326)")
        gdf = gdf.to_crs(4326)
        if len(gdf) == 0:
            raise ValidationError("no candidate hubs given")
        if not all(gdf.geometry.geom_type == "Point"):
            gdf = gdf.assign(geometry=gdf.geometry.representative_point())
        out = gpd.GeoDataFrame(
            {
                "name": (
                    gdf["name"].astype(str).to_numpy()
                    if "name" in gdf
                    else [f"hub {i}" for i in range(len(gdf))]
                ),
                "kind": gdf["kind"].astype(str).to_numpy() if "kind" in gdf else kind,
                "approximate": (
                    gdf["approximate"].astype(bool).to_numpy() if "approximate" in gdf else False
                ),
            },
            geometry=gdf.geometry.to_numpy(),
            crs="EPSG:4326",
        )
        return out
    if lat is None:
        raise ValidationError("pass lon and lat arrays, or a GeoDataFrame of points")
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon_a.shape != lat_a.shape or lon_a.ndim != 1:
        raise ValidationError("lon and lat must be 1-D sequences of equal length")
    if len(lon_a) == 0:
        raise ValidationError("no candidate hubs given")
    if not (np.all(np.isfinite(lon_a)) and np.all(np.isfinite(lat_a))):
        raise ValidationError("candidate coordinates must be finite")
    if np.any(np.abs(lat_a) > 90) or np.any(np.abs(lon_a) > 180):
        raise CRSError("candidate coordinates are not lon/lat degrees (EPSG:4326)")
    if names is None:
        names = [f"hub {i}" for i in range(len(lon_a))]
    names = [str(s) for s in names]
    if len(names) != len(lon_a):
        raise ValidationError("names must have one entry per point")
    return gpd.GeoDataFrame(
        {"name": names, "kind": kind, "approximate": False},
        geometry=gpd.points_from_xy(lon_a, lat_a),
        crs="EPSG:4326",
    )


def zwolle_hub_candidates(include_districts: bool = True) -> gpd.GeoDataFrame:
    """Built-in Zwolle hub candidates: station, Stadshagen, Zwolle-Zuid, P+R Meeuwenplas, districts.

    All positions are marked ``approximate=True``: they were placed by hand and may be a few
    hundred metres off. District centres come from :func:`fietsstad.zwolle.zwolle_districts`
    (skipped if that table is unavailable).

    Example
    -------
    >>> c = zwolle_hub_candidates(include_districts=False)
    >>> c["name"].iloc[0], bool(c["approximate"].all())
    ('Zwolle Centraal (station)', True)
    """
    import geopandas as gpd

    names = [s[0] for s in ZWOLLE_HUB_SITES]
    kinds = [s[1] for s in ZWOLLE_HUB_SITES]
    lon = [s[2] for s in ZWOLLE_HUB_SITES]
    lat = [s[3] for s in ZWOLLE_HUB_SITES]
    if include_districts:
        try:
            d = zwolle_districts().to_crs(4326)
        except (ImportError, AttributeError, OSError) as err:  # pragma: no cover - file unreadable
            warnings.warn(
                f"Zwolle district centres unavailable ({err}); using the named sites only",
                stacklevel=2,
            )
        else:
            pts = d.geometry.representative_point()
            name_col = next((c for c in ("name", "wijk", "district", "wijknaam") if c in d), None)
            for i in range(len(d)):
                nm = str(d[name_col].iloc[i]) if name_col else f"district {i}"
                names.append(f"{nm} (wijkcentrum)")
                kinds.append("district centre")
                lon.append(float(pts.x.iloc[i]))
                lat.append(float(pts.y.iloc[i]))
    return gpd.GeoDataFrame(
        {"name": names, "kind": kinds, "approximate": True},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


# ---------------------------------------------------------------------------------------------
# population on nodes
# ---------------------------------------------------------------------------------------------
@renamed_parameters({"column": "population_column"})
def node_population(
    net: BikeNetwork,
    population: Any,
    population_column: str | None = None,
    distribute: Literal["snap", "nearest"] = "snap",
    max_distance_m: float | None = None,
) -> np.ndarray:
    """Population (or any count) per network node, float64 of length ``net.n_nodes``.

    Parameters
    ----------
    net
        The network.
    population
        One of: an array with one value per node; a ``(lon, lat, counts)`` tuple of arrays; a
        GeoDataFrame of points or polygons with a count column.
    population_column
        Count column of a GeoDataFrame (default: the first of ``population``,
        ``inhabitants_2024``, ``aantal_inwoners``, ``inhabitants``, ``pop`` present).
    distribute
        For points: ``"snap"`` puts each count on the point's nearest node; ``"nearest"`` spreads
        each count evenly over the nodes whose nearest point it is (a Voronoi split, good for
        district centroids). Polygons always spread their count over the nodes inside (their
        representative point's nearest node if none is inside).
    max_distance_m
        Snapping limit for ``"snap"`` (default :data:`fietsstad.settings.snap_max_distance_m`).

    Returns
    -------
    numpy.ndarray
        float64 ``(n_nodes,)`` in node-position order (the rows of ``net.nodes_gdf()``, whose
        index holds the OSM ids); its sum equals the sum of the counts.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=200, seed=0)
    >>> p = node_population(net, ([net.x[3]], [net.y[3]], [120.0]))
    >>> float(p[3]), float(p.sum())
    (120.0, 120.0)
    """
    import geopandas as gpd

    check_bike_network(net)
    n = net.n_nodes
    if isinstance(population, gpd.GeoDataFrame):
        gdf = population
        if gdf.crs is None:
            raise CRSError("the population GeoDataFrame has no CRS; set one (e.g. EPSG:4326)")
        gdf = gdf.to_crs(4326)
        col = population_column or next((c for c in _POP_COLUMNS if c in gdf.columns), None)
        if col is None or col not in gdf.columns:
            raise ValidationError(
                f"population column {population_column!r} not found; columns are {list(gdf.columns)}"
            )
        counts = _valid_counts(gdf[col].to_numpy())
        geom = gdf.geometry
        if not all(geom.geom_type == "Point"):
            return _polygon_population(net, gdf.assign(_c=counts))
        return _points_population(
            net, geom.x.to_numpy(), geom.y.to_numpy(), counts, distribute, max_distance_m
        )
    if isinstance(population, tuple) and len(population) == 3:
        lon, lat, counts = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in population)
        if not (lon.shape == lat.shape == counts.shape):
            raise ValidationError("lon, lat and counts must have the same length")
        return _points_population(net, lon, lat, _valid_counts(counts), distribute, max_distance_m)
    arr = np.asarray(population, dtype=np.float64)
    if arr.shape != (n,):
        raise ValidationError(
            f"a population array must have one value per node ({n}), got shape {arr.shape}; or pass "
            "a GeoDataFrame or a (lon, lat, counts) tuple"
        )
    return _valid_counts(arr).copy()


def _valid_counts(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValidationError("population counts must be finite and >= 0")
    return a


def _points_population(net, lon, lat, counts, distribute, max_distance_m) -> np.ndarray:
    n = net.n_nodes
    if distribute == "snap":
        idx = net.snap(lon, lat, max_distance_m=max_distance_m)
        return np.bincount(idx, weights=counts, minlength=n).astype(np.float64)
    if distribute == "nearest":
        from scipy.spatial import cKDTree

        tree = cKDTree(net._local_xy(lon, lat))
        _, owner = tree.query(net._local_xy(net.x, net.y))
        per_zone = np.bincount(owner, minlength=len(lon)).astype(np.float64)
        share = np.divide(counts, per_zone, out=np.zeros_like(counts), where=per_zone > 0)
        out = share[owner]
        # zones that own no node at all: put their count on their nearest node
        empty = np.flatnonzero((per_zone == 0) & (counts > 0))
        if len(empty):
            idx = net.snap(lon[empty], lat[empty], max_distance_m=max_distance_m)
            out += np.bincount(idx, weights=counts[empty], minlength=n)
        return out
    raise ValidationError(f"distribute must be 'snap' or 'nearest', not {distribute!r}")


def _polygon_population(net, gdf) -> np.ndarray:
    import geopandas as gpd

    n = net.n_nodes
    nodes = gpd.GeoDataFrame(
        {"node": np.arange(n)}, geometry=gpd.points_from_xy(net.x, net.y), crs="EPSG:4326"
    )
    joined = gpd.sjoin(
        nodes, gdf[["_c", "geometry"]].reset_index(drop=True), predicate="within", how="inner"
    )
    joined = joined[~joined.index.duplicated()]
    out = np.zeros(n, dtype=np.float64)
    zone = joined["index_right"].to_numpy()
    per_zone = np.bincount(zone, minlength=len(gdf))
    counts = gdf["_c"].to_numpy()
    np.add.at(out, joined["node"].to_numpy(), counts[zone] / per_zone[zone])
    empty = np.flatnonzero((per_zone == 0) & (counts > 0))
    if len(empty):
        rp = gdf.geometry.iloc[empty].representative_point()
        idx = net.snap(rp.x.to_numpy(), rp.y.to_numpy())
        out += np.bincount(idx, weights=counts[empty], minlength=n)
    return out


# ---------------------------------------------------------------------------------------------
# bounded searches
# ---------------------------------------------------------------------------------------------
def _graph(net: BikeNetwork, direction: str):
    """The engine graph to search: the network itself, or reversed for ``to_hub``."""
    if direction not in ("to_hub", "from_hub"):
        raise ValidationError(f"direction must be 'to_hub' or 'from_hub', not {direction!r}")
    return net.engine_graph(reverse=direction == "to_hub")


def _bounded_times(
    net: BikeNetwork, nodes: np.ndarray, cutoff_s: float, direction: str, block: int = 256
):
    """Yield ``(rows, times)`` blocks: float32 seconds (inf beyond ``cutoff_s``) per source node.

    Bounded searches by the numba engine (:func:`fietsstad.engine.travel_times` with a cut-off),
    in blocks of ``block`` sources so memory stays at ``block * n`` floats.
    """
    g = _graph(net, direction)
    nodes = np.asarray(nodes, dtype=np.int32)
    for start in range(0, len(nodes), block):
        sl = nodes[start : start + block]
        d = travel_times(g, sl, cutoff=float(cutoff_s), dtype=np.float32)
        yield slice(start, start + len(sl)), np.atleast_2d(d)


def _snap_candidates(
    net: BikeNetwork, candidates, max_distance_m: float | None = None
) -> tuple[Any, np.ndarray]:
    """Candidates as a GeoDataFrame with ``node_id``, ``position`` and ``snap_distance_m``
    (metres to the nearest node; SnappingError beyond ``max_distance_m``) and their positions."""
    import geopandas as gpd

    if not isinstance(candidates, gpd.GeoDataFrame):
        if isinstance(candidates, tuple) and len(candidates) == 2:
            candidates = hub_candidates(candidates[0], candidates[1])
        else:
            raise ValidationError(
                "hubs/candidates must be a GeoDataFrame of points or a (lon, lat) tuple"
                " (see hub_candidates)"
            )
    check_bike_network(net, "net")
    cands = hub_candidates(candidates)
    nodes, dist = net.snap(
        cands.geometry.x.to_numpy(), cands.geometry.y.to_numpy(), max_distance_m=max_distance_m,
        return_distance=True,
    )  # fmt: skip
    out = cands.assign(node_id=net.node_id[nodes], position=np.asarray(nodes, dtype=np.int32),
                       snap_distance_m=dist)  # fmt: skip
    return out, nodes


def _metric_crs(lon: np.ndarray, lat: np.ndarray):
    from pyproj import CRS

    # Dutch RD New inside the Netherlands (and a margin), else the local UTM zone
    if np.all((lon > 3.0) & (lon < 7.5) & (lat > 50.5) & (lat < 53.8)):
        return CRS.from_epsg(28992)
    zone = int((float(np.mean(lon)) + 180) // 6) + 1
    return CRS.from_epsg((32600 if float(np.mean(lat)) >= 0 else 32700) + zone)


# ---------------------------------------------------------------------------------------------
# catchments
# ---------------------------------------------------------------------------------------------
@renamed_parameters({"minutes": "bands_min"})
def hub_catchments(
    net: BikeNetwork,
    hubs: Any,
    bands_min: tuple[float, ...] | list[float] = (5, 10, 15),
    population: Any = None,
    population_column: str | None = None,
    distribute: Literal["snap", "nearest"] = "snap",
    direction: Literal["to_hub", "from_hub"] = "to_hub",
    shape: Literal["buffer", "concave", "convex"] = "buffer",
    buffer_m: float = 100.0,
    max_distance_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Catchment of each hub for each time band: polygon and population inside.

    The catchment for band ``t`` is every node from which the hub can be reached within ``t``
    minutes of cycling on the network (bounded Dijkstra on the reversed network; see the module
    docstring for ``direction``). Its polygon is the union of the reached edges (straight between
    their end nodes) and nodes buffered by about ``buffer_m``, computed on a raster of
    ``buffer_m / 2`` cells in a metric CRS (EPSG:28992 in the Netherlands, else the local UTM zone),
    or the concave / convex hull of the reached nodes; returned in EPSG:4326.

    Parameters
    ----------
    net
        The network (its travel times, seconds, are used).
    hubs
        GeoDataFrame of hub points (e.g. from :func:`hub_candidates`) or a ``(lon, lat)`` tuple.
    bands_min
        Time bands in minutes, each > 0 (was ``minutes``, still accepted with a
        DeprecationWarning).
    population
        Anything :func:`node_population` accepts, or None (then ``population`` is NaN).
    population_column, distribute
        Passed to :func:`node_population`.
    direction
        ``"to_hub"`` (default) or ``"from_hub"``.
    shape
        ``"buffer"`` (default), ``"concave"`` or ``"convex"``.
    buffer_m
        Buffer distance in metres for ``shape="buffer"``.
    max_distance_m
        Snapping limit for the hubs (default :data:`fietsstad.settings.snap_max_distance_m`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per hub and band: ``hub`` (name), ``hub_index``, ``node_id`` (OSM id of the
        hub's node), ``position``, ``snap_distance_m``, ``minutes`` (the band), ``nodes`` (nodes
        reached), ``population``, ``area_km2``, polygon ``geometry`` (EPSG:4326).
        ``attrs["generated"]`` says whether the network was generated.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=2)
    >>> c = hub_catchments(net, hub_candidates([net.x[0]], [net.y[0]]), bands_min=(2, 4),
    ...                    population=np.ones(net.n_nodes))
    >>> bool(c["population"].iloc[0] <= c["population"].iloc[1])
    True
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    bands = np.asarray(sorted(float(m) for m in bands_min), dtype=np.float64)
    if len(bands) == 0 or not np.all(np.isfinite(bands)) or np.any(bands <= 0):
        raise ValidationError(f"bands_min must be positive numbers, got {bands_min!r}")
    if shape not in ("buffer", "concave", "convex"):
        raise ValidationError(f"shape must be 'buffer', 'concave' or 'convex', not {shape!r}")
    if not (np.isfinite(buffer_m) and buffer_m > 0):
        raise ValidationError("buffer_m must be > 0")
    cands, nodes = _snap_candidates(net, hubs, max_distance_m)
    pop = (
        None
        if population is None
        else node_population(net, population, population_column, distribute)
    )
    crs_m = _metric_crs(net.x, net.y)
    fwd = Transformer.from_crs(4326, crs_m, always_xy=True)
    back = Transformer.from_crs(crs_m, 4326, always_xy=True)
    mx, my = fwd.transform(net.x, net.y)
    src = net.edge_sources()
    rows: list[dict[str, Any]] = []
    geoms = []
    for rows_sl, d in _bounded_times(net, nodes, bands[-1] * 60.0, direction):
        for r, h in enumerate(range(rows_sl.start, rows_sl.stop)):
            t = d[r]
            for band in bands:
                reached = t <= band * 60.0
                geom = _catchment_polygon(reached, src, net.indices, mx, my, shape, buffer_m)
                geom = shapely.transform(
                    geom, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1]))
                )
                rows.append(
                    {
                        "hub": str(cands["name"].iloc[h]),
                        "hub_index": h,
                        "node_id": int(net.node_id[nodes[h]]),
                        "position": int(nodes[h]),
                        "snap_distance_m": float(cands["snap_distance_m"].iloc[h]),
                        "minutes": float(band),
                        "nodes": int(reached.sum()),
                        "population": float(pop[reached].sum()) if pop is not None else np.nan,
                        "area_km2": float(_area_m2(geom, fwd)) / 1e6,
                    }
                )
                geoms.append(geom)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    out.attrs["generated"] = net.is_generated
    out.attrs["direction"] = direction
    return out


def _catchment_polygon(reached, src, dst, mx, my, shape, buffer_m):
    import shapely

    idx = np.flatnonzero(reached)
    if len(idx) == 0:
        return shapely.Polygon()
    if shape == "convex":
        return shapely.convex_hull(shapely.multipoints(np.column_stack([mx[idx], my[idx]])))
    if shape == "concave":
        return shapely.concave_hull(
            shapely.multipoints(np.column_stack([mx[idx], my[idx]])), ratio=0.3
        )
    # "buffer": the reached nodes and edges (both ends reached), rasterised on cells of
    # buffer_m / 2 and dilated by a disc of buffer_m, then the cells' union (fast and robust,
    # unlike unioning thousands of overlapping buffers)
    cell = buffer_m / 2.0
    e = np.flatnonzero(reached[src] & reached[dst])
    px, py = [mx[idx]], [my[idx]]
    if len(e):
        x0, y0, x1, y1 = mx[src[e]], my[src[e]], mx[dst[e]], my[dst[e]]
        k = np.ceil(np.hypot(x1 - x0, y1 - y0) / cell).astype(np.int64) + 1
        rep = np.repeat(np.arange(len(e)), k)
        frac = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k - 1, k).clip(1)
        px.append(x0[rep] + frac * (x1 - x0)[rep])
        py.append(y0[rep] + frac * (y1 - y0)[rep])
    gx = np.floor(np.concatenate(px) / cell).astype(np.int64)
    gy = np.floor(np.concatenate(py) / cell).astype(np.int64)
    gx0, gy0 = gx.min() - 2, gy.min() - 2
    width = int(gy.max() - gy0 + 3)
    occ = np.unique((gx - gx0) * width + (gy - gy0))
    off = np.array([(a, b) for a in range(-2, 3) for b in range(-2, 3) if a * a + b * b <= 4])
    keys = np.unique((occ[:, None] + (off[:, 0] * width + off[:, 1])[None, :]).ravel())
    cx, cy = keys // width + gx0, keys % width + gy0
    boxes = shapely.box(cx * cell, cy * cell, (cx + 1) * cell, (cy + 1) * cell)
    return shapely.coverage_union_all(boxes).simplify(cell / 2)


def _area_m2(geom_4326, fwd) -> float:
    import shapely

    if geom_4326.is_empty:
        return 0.0
    g = shapely.transform(geom_4326, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    return float(g.area)


# ---------------------------------------------------------------------------------------------
# placement
# ---------------------------------------------------------------------------------------------
__all__ = [
    "ZWOLLE_HUB_SITES",
    "hub_candidates",
    "zwolle_hub_candidates",
    "node_population",
    "hub_catchments",
]
