"""Snelfietspad (fast cycle route) scenarios: define a route, upgrade it, evaluate before/after.

A :class:`Snelfietspad` is defined by waypoints (lon/lat), by OSM way ids, or by a GeoJSON
LineString. :meth:`Snelfietspad.resolve` lays it onto a :class:`~fietsstad.network.BikeNetwork`:
waypoints are snapped to nodes and joined by the fastest network path; where a pair of waypoints
has no link, or the network detour is much longer than the line (``> max_detour_ratio`` times the
straight line *and* more than ``min_detour_m`` longer), a NEW two-way link is added along the given
line (a new bridge or path: infra ``FAST_ROUTE``, ``way_id`` -1). The route's edges (both
directions) are then upgraded as :class:`Upgrade` says. The input network is never modified.

Upgrade defaults follow Dutch snelfietsroute guidance (CROW design manual for bicycle traffic;
Fietsberaad / provincial snelfietsroute quality requirements):

* design speed 30 km/h; the cruising speed on the route is ``min(profile FAST_ROUTE speed,
  design_speed_kmh)``, so a normal cyclist rides at the profile's fast-route speed (20 km/h for
  ``bike``), a speed pedelec at most at the design speed;
* signals kept (``remove_signals=False``; "as few as possible" is a per-junction decision) but
  with a green wave that halves the wait (``green_wave=0.5``);
* priority at side roads (``priority=True``: crossing delays 0);
* smooth asphalt (``surface=True``: the unpaved speed factor is removed);
* width 3-4 m two-way and lighting are design requirements that do not change travel time and
  are therefore not modelled.

Routes that reach beyond the network (the shipped Zwolle routes end in Kampen, Dalfsen, Meppel,
outside the municipality's box) are clipped to the network area when ``clip=True`` (default):
the line is cut to the convex hull of the nodes, and the ends of each remaining part are cut back
to where the line comes within :data:`fietsstad.settings.snap_max_distance_m` of a node. Only
the parts inside are resolved (no warning is issued), and
:attr:`RouteOnNetwork.clipped` plus ``requested_km`` say how much was cut. With ``clip=False``
a waypoint far from the network raises :class:`~fietsstad.errors.SnappingError`.

Example
-------
>>> import fietsstad
>>> from fietsstad.scenario.route import Snelfietspad
>>> net = fietsstad.generate_network(n_nodes=900, seed=3)
>>> route = Snelfietspad.from_waypoints([(6.05, 52.48), (6.15, 52.55)], name="demo")
>>> r = route.resolve(net)
>>> bool((r.network.infra[r.changed_edges] == 7).all()), r.network is not net
(True, True)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fietsstad._geo import haversine_m
from fietsstad.errors import InputFileError, SnappingError, ValidationError
from fietsstad.network import BikeNetwork, Infra, get_profile, travel_time_seconds
from fietsstad.zwolle import zwolle_route_table

#: Dutch design target for directness (route length / straight line), Fietsersbond / Utrecht.
DIRECTNESS_TARGET = 1.2


# --------------------------------------------------------------------------------- upgrade
@dataclass(frozen=True)
class Upgrade:
    """What a snelfietspad does to the edges it uses (defaults: Dutch snelfietsroute guidance).

    Parameters
    ----------
    design_speed_kmh
        Design speed of the route (CROW: 30 km/h). Cruising speed on the route is
        ``min(profile speed on Infra.FAST_ROUTE, design_speed_kmh)``.
    remove_signals
        Remove the signal wait at signalised junctions on the route (delay 0).
    green_wave
        Where signals remain, the fraction of the signal wait removed by a green wave (0..1).
    priority
        Priority at side roads: crossing delays on the route become 0.
    surface
        Smooth asphalt: the unpaved speed factor no longer applies.

    Example
    -------
    >>> Upgrade(green_wave=1.0).green_wave
    1.0
    """

    design_speed_kmh: float = 30.0
    remove_signals: bool = False
    green_wave: float = 0.5
    priority: bool = True
    surface: bool = True

    def __post_init__(self) -> None:
        v = self.design_speed_kmh
        if not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise ValidationError(f"design_speed_kmh must be a positive number, got {v!r}")
        g = self.green_wave
        if not isinstance(g, (int, float)) or not (0.0 <= g <= 1.0):
            raise ValidationError(f"green_wave must be a fraction in [0, 1], got {g!r}")


# --------------------------------------------------------------------------------- result of resolve
@dataclass(frozen=True)
class RouteOnNetwork:
    """A snelfietspad laid onto a network and applied (returned by :meth:`Snelfietspad.resolve`).

    Attributes
    ----------
    network : BikeNetwork
        The upgraded network (a new object; the input is unchanged).
    changed_edges : int64 array
        Edges of ``network`` that were upgraded or added (both directions): the corridor.
    added_edges : int64 array
        The subset of ``changed_edges`` that are new links.
    path_edges : int64 array
        Corridor edges of ``network`` in riding order, one direction (first waypoint to last).
    geometry : float64 (k, 2)
        Lon/lat line of the route on the network.
    length_km, straight_km, directness : float
        Route length, straight line between its ends, and their ratio.
    clipped : bool ; requested_km : float
        Whether the route was cut to the network area, and the length of the line as defined.
    before_to_after : int64 array
        Index in ``network`` of every edge of the input network.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=400, seed=1)  # GENERATED network
    >>> r = Snelfietspad.from_waypoints([(6.05, 52.48), (6.15, 52.55)]).resolve(net)
    >>> set(r.path_edges.tolist()) <= set(r.changed_edges.tolist())
    True
    >>> bool(r.directness >= 1.0), r.network.n_edges == net.n_edges + len(r.added_edges)
    (True, True)
    """

    network: BikeNetwork
    changed_edges: np.ndarray
    added_edges: np.ndarray
    path_edges: np.ndarray
    geometry: np.ndarray
    length_km: float
    straight_km: float
    directness: float
    clipped: bool
    requested_km: float
    before_to_after: np.ndarray


# --------------------------------------------------------------------------------- definition
@dataclass
class Snelfietspad:
    """A fast cycle route, by waypoints (lon/lat) or by OSM way ids, plus its upgrade.

    Build with :meth:`from_waypoints`, :meth:`from_way_ids` or :meth:`from_geojson`.

    Attributes
    ----------
    name : str
    waypoints : float64 (k, 2) or None
        Lon/lat points in riding order.
    way_ids : int64 array or None
        OSM way ids of existing edges (``BikeNetwork.way_id``).
    upgrade : Upgrade
    max_detour_ratio, min_detour_m : float
        A waypoint pair gets a NEW link when the network path is longer than
        ``max_detour_ratio`` times the straight line and more than ``min_detour_m`` longer,
        or when there is no path at all.
    approximate : bool ; note : str ; source : str
        Provenance (the shipped Zwolle routes are approximate sketches).

    Example
    -------
    >>> r = Snelfietspad.from_waypoints([(6.09, 52.50), (6.06, 52.47)], name="Zwolle-Hattem")
    >>> r.waypoints.shape
    (2, 2)
    """

    name: str = "snelfietspad"
    waypoints: np.ndarray | None = None
    way_ids: np.ndarray | None = None
    upgrade: Upgrade = field(default_factory=Upgrade)
    max_detour_ratio: float = 1.5
    min_detour_m: float = 300.0
    approximate: bool = False
    note: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if (self.waypoints is None) == (self.way_ids is None):
            raise ValidationError("a Snelfietspad needs exactly one of waypoints or way_ids")
        if self.waypoints is not None:
            self.waypoints = _check_waypoints(self.waypoints)
        else:
            ids = np.atleast_1d(np.asarray(self.way_ids))
            if ids.size == 0 or ids.dtype.kind not in "iu":
                raise ValidationError("way_ids must be a non-empty list of integer OSM way ids")
            self.way_ids = ids.astype(np.int64)
        if not isinstance(self.upgrade, Upgrade):
            raise ValidationError(f"upgrade must be an Upgrade, got {type(self.upgrade).__name__}")
        if not (np.isfinite(self.max_detour_ratio) and self.max_detour_ratio >= 1.0):
            raise ValidationError("max_detour_ratio must be a number >= 1")
        if not (np.isfinite(self.min_detour_m) and self.min_detour_m >= 0):
            raise ValidationError("min_detour_m must be a number >= 0")

    # ---------------------------------------------------------------- constructors
    @classmethod
    def from_waypoints(
        cls, waypoints: Any, name: str = "snelfietspad", **kwargs: Any
    ) -> Snelfietspad:
        """A route through lon/lat waypoints (a list of ``(lon, lat)`` or a ``(k, 2)`` array).

        Example
        -------
        >>> Snelfietspad.from_waypoints([(6.09, 52.50), (6.06, 52.47)]).name
        'snelfietspad'
        """
        return cls(name=name, waypoints=waypoints, **kwargs)

    @classmethod
    def from_way_ids(cls, way_ids: Any, name: str = "snelfietspad", **kwargs: Any) -> Snelfietspad:
        """A route made of existing OSM ways (``BikeNetwork.way_id`` values), upgraded in place.

        Example
        -------
        >>> Snelfietspad.from_way_ids([1234, 5678]).way_ids.tolist()
        [1234, 5678]
        """
        return cls(name=name, way_ids=way_ids, **kwargs)

    @classmethod
    def from_geojson(
        cls,
        obj: dict[str, Any] | str | os.PathLike[str],
        name: str | None = None,
        **kwargs: Any,
    ) -> Snelfietspad:
        """A route along a GeoJSON LineString (a dict, a Feature, a one-feature collection, or a file).

        The line's vertices become the waypoints. Coordinates must be lon/lat (EPSG:4326).

        Example
        -------
        >>> line = {"type": "LineString", "coordinates": [[6.09, 52.50], [6.06, 52.47]]}
        >>> Snelfietspad.from_geojson(line, name="x").waypoints.tolist()
        [[6.09, 52.5], [6.06, 52.47]]
        """
        props: dict[str, Any] = {}
        geo: Any = obj
        what = "obj"
        if not isinstance(obj, dict):
            path = Path(obj)
            try:
                geo = json.loads(path.read_text(encoding="utf-8"))
            except OSError as err:
                raise InputFileError(f"cannot read GeoJSON file {path}: {err}") from err
            except ValueError as err:
                raise InputFileError(f"{path} is not valid JSON: {err}") from err
            what = f"the content of {path}"
        geo = _geojson_object(geo, what)
        if geo.get("type") == "FeatureCollection":
            feats = geo.get("features") or []
            if len(feats) != 1:
                raise ValidationError(
                    "a FeatureCollection must hold exactly one LineString feature"
                )
            geo = _geojson_object(feats[0], "the feature of the FeatureCollection")
        if geo.get("type") == "Feature":
            props = _geojson_object(geo.get("properties") or {}, "the feature's properties")
            geo = _geojson_object(geo.get("geometry") or {}, "the feature's geometry")
        if geo.get("type") != "LineString":
            raise ValidationError(f"expected a GeoJSON LineString, got type {geo.get('type')!r}")
        nm = name if name is not None else str(props.get("name", "snelfietspad"))
        return cls(name=nm, waypoints=geo.get("coordinates"), **kwargs)

    # ---------------------------------------------------------------- resolution
    def resolve(self, net: BikeNetwork, *, clip: bool = True) -> RouteOnNetwork:
        """Lay the route onto ``net`` and apply the upgrade; returns a :class:`RouteOnNetwork`.

        Parameters
        ----------
        net
            The network before the scenario (not modified).
        clip
            Cut waypoint routes to the network area (convex hull of the nodes) first; with
            ``False``, waypoints far from the network raise :class:`SnappingError`.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=400, seed=1)
        >>> r = Snelfietspad.from_waypoints([(6.05, 52.48), (6.15, 52.55)]).resolve(net)
        >>> r.length_km > 0
        True
        """
        if not isinstance(net, BikeNetwork):
            raise ValidationError(f"net must be a BikeNetwork, got {type(net).__name__}")
        if self.way_ids is not None:
            return _resolve_way_ids(self, self.way_ids, net)
        if self.waypoints is None:  # both set to None after construction
            raise ValidationError("a Snelfietspad needs exactly one of waypoints or way_ids")
        return _resolve_waypoints(self, self.waypoints, net, clip)

    def apply(self, net: BikeNetwork, *, clip: bool = True) -> tuple[BikeNetwork, np.ndarray]:
        """The upgraded network (new object) and the indices of its changed or added edges.

        Example
        -------
        >>> import fietsstad
        >>> net = fietsstad.generate_network(n_nodes=400, seed=1)
        >>> after, changed = Snelfietspad.from_waypoints([(6.05, 52.48), (6.15, 52.55)]).apply(net)
        >>> after.n_edges >= net.n_edges and len(changed) > 0
        True
        """
        r = self.resolve(net, clip=clip)
        return r.network, r.changed_edges


# --------------------------------------------------------------------------------- helpers
def _geojson_object(obj: Any, what: str) -> dict[str, Any]:
    """``obj`` if it is a GeoJSON object (a JSON object, i.e. a dict), else a ValidationError."""
    if not isinstance(obj, dict):
        raise ValidationError(f"{what} must be a GeoJSON object (a dict), got {type(obj).__name__}")
    return obj


def _check_waypoints(wp: Any) -> np.ndarray:
    try:
        a = np.asarray(wp, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"waypoints must be (lon, lat) number pairs: {err}") from err
    if a.ndim != 2 or a.shape[1] not in (2, 3) or a.shape[0] < 2:
        raise ValidationError(
            f"waypoints must be at least two (lon, lat) pairs, got shape {a.shape}"
        )
    a = np.ascontiguousarray(a[:, :2])
    if not np.all(np.isfinite(a)):
        raise ValidationError("waypoints must be finite numbers")
    if np.any(np.abs(a[:, 0]) > 180) or np.any(np.abs(a[:, 1]) > 90):
        raise ValidationError("waypoints must be lon/lat (EPSG:4326); these look projected")
    return a


def _line_length_m(xy: np.ndarray) -> float:
    if len(xy) < 2:
        return 0.0
    return float(haversine_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]).sum())


def _clip_parts(net: BikeNetwork, wp: np.ndarray) -> list[np.ndarray]:
    """Parts of the waypoint line inside the network's convex hull (in riding order)."""
    import shapely
    from shapely.geometry import LineString, MultiPoint

    hull = MultiPoint(np.column_stack([net.x, net.y])).convex_hull
    line = LineString(wp)
    if hull.covers(line):
        return [wp]
    inter = line.intersection(hull)
    parts = [
        g for g in getattr(inter, "geoms", [inter]) if g.geom_type == "LineString" and g.length > 0
    ]
    if not parts:
        return []
    # order parts along the line, and keep their direction the same as the line's
    out = []
    for g in parts:
        c = np.asarray(g.coords)
        p0, p1 = line.project(shapely.Point(c[0])), line.project(shapely.Point(c[-1]))
        out.append((min(p0, p1), c if p0 <= p1 else c[::-1]))
    out.sort(key=lambda t: t[0])
    return [c for _, c in out]


def _trim_ends(net: BikeNetwork, part: np.ndarray, limit_m: float) -> np.ndarray | None:
    """Cut the ends of a clipped part back to where the line comes within ``limit_m`` of a node.

    The convex hull of a network can reach far from any node (a hull edge across an empty
    corner); the part of a route there cannot be snapped, so it is cut like the part outside.
    Returns None if no point of the part is close enough to the network.
    """
    from shapely.geometry import LineString
    from shapely.ops import substring

    line = LineString(part)
    k = max(2, int(_line_length_m(part) / 25.0) + 1)
    frac = np.linspace(0.0, 1.0, k)
    pts = np.array([line.interpolate(f, normalized=True).coords[0] for f in frac])
    _, dist = net.snap(pts[:, 0], pts[:, 1], max_distance_m=1e9, return_distance=True)
    ok = np.flatnonzero(dist <= limit_m)
    if len(ok) == 0:
        return None
    f0, f1 = frac[ok[0]], frac[ok[-1]]
    if f0 == 0.0 and f1 == 1.0:
        return part
    if f1 <= f0:
        return None
    return np.asarray(substring(line, f0, f1, normalized=True).coords)


def _best_edge(net: BikeNetwork, a: int, b: int) -> int:
    """The fastest edge a -> b (-1 if none)."""
    lo, hi = int(net.indptr[a]), int(net.indptr[a + 1])
    hits = np.flatnonzero(net.indices[lo:hi] == b)
    if len(hits) == 0:
        return -1
    return lo + int(hits[np.argmin(net.travel_time[lo + hits])])


def _fastest_path_trees(net: BikeNetwork, origins: np.ndarray) -> np.ndarray:
    """Predecessor rows of fastest-path trees from ``origins`` (negative = none)."""
    from fietsstad.engine import predecessors

    g = net.engine_graph()
    return np.vstack([np.asarray(predecessors(g, int(o)), dtype=np.int64) for o in origins])


def _resolve_waypoints(
    route: Snelfietspad, wp: np.ndarray, net: BikeNetwork, clip: bool
) -> RouteOnNetwork:
    requested_m = _line_length_m(wp)
    parts = _clip_parts(net, wp) if clip else [wp]
    if not parts:
        raise ValidationError(
            f"route {route.name!r} does not cross the network area (the convex hull of its nodes); "
            "load a network that covers the route, or check the waypoints are lon/lat"
        )
    if clip:
        from fietsstad import settings

        trimmed = [_trim_ends(net, p, settings.snap_max_distance_m) for p in parts]
        parts = [p for p in trimmed if p is not None and len(p) >= 2]
        if not parts:
            raise ValidationError(
                f"route {route.name!r} does not come within snapping distance of "
                "the network; check the waypoints are lon/lat"
            )
    clipped = clip and (
        len(parts) > 1 or sum((_line_length_m(p) for p in parts), 0.0) < requested_m - 1.0
    )
    segs: list[tuple[int, int, np.ndarray]] = []  # (node a, node b, given line between them)
    for part in parts:
        try:
            nodes = net.snap(part[:, 0], part[:, 1])
        except SnappingError as err:
            raise SnappingError(f"route {route.name!r}: {err}") from None
        k0 = 0
        for k in range(1, len(nodes)):
            if nodes[k] == nodes[k0]:
                continue
            a, b = int(nodes[k0]), int(nodes[k])
            line = (
                np.vstack([[net.x[a], net.y[a]], part[k0 + 1 : k], [net.x[b], net.y[b]]])
                if k > k0 + 1
                else np.array([[net.x[a], net.y[a]], [net.x[b], net.y[b]]])
            )
            segs.append((a, b, line))
            k0 = k
    if not segs:
        raise ValidationError(
            f"route {route.name!r} snaps to a single node of this network; it is "
            "too short for the network's resolution"
        )
    origins = np.unique([a for a, _, _ in segs]).astype(np.int32)
    pred = _fastest_path_trees(net, origins)
    row_of = {int(o): i for i, o in enumerate(origins)}
    path_steps: list[tuple[str, Any]] = []  # ("edge", e) or ("new", (a, b, line))
    for a, b, line in segs:
        pr = pred[row_of[a]]
        nodes_path = [b]
        while nodes_path[-1] != a and pr[nodes_path[-1]] >= 0:
            nodes_path.append(int(pr[nodes_path[-1]]))
        edges: list[int] = []
        if nodes_path[-1] == a:
            nodes_path.reverse()
            edges = [_best_edge(net, p, q) for p, q in zip(nodes_path[:-1], nodes_path[1:])]
        straight = float(haversine_m(net.x[a], net.y[a], net.x[b], net.y[b]))
        plen = float(net.length[edges].sum()) if edges else np.inf
        if not edges or (
            plen > route.max_detour_ratio * straight and plen - straight > route.min_detour_m
        ):
            path_steps.append(("new", (a, b, line)))
        else:
            path_steps.extend(("edge", e) for e in edges)
    return _build(route, net, path_steps, clipped, requested_m)


def _resolve_way_ids(route: Snelfietspad, way_ids: np.ndarray, net: BikeNetwork) -> RouteOnNetwork:
    import networkx as nx

    sel = np.flatnonzero(np.isin(net.way_id, way_ids))
    if len(sel) == 0:
        raise ValidationError(
            f"route {route.name!r}: none of the way ids is in this network (a "
            "generated network has way_id -1 everywhere; use waypoints instead)"
        )
    src = net.edge_sources()
    G = nx.Graph()
    for e in sel:
        a, b = int(src[e]), int(net.indices[e])
        if not G.has_edge(a, b) or net.length[e] < G[a][b]["length"]:
            G.add_edge(a, b, length=float(net.length[e]), e=int(e))
    comp = max(nx.connected_components(G), key=len)
    H = G.subgraph(comp)
    ends = [v for v in H.nodes if H.degree(v) == 1] or list(H.nodes)
    ends_arr = np.array(ends)
    d = haversine_m(
        net.x[ends_arr][:, None],
        net.y[ends_arr][:, None],
        net.x[ends_arr][None, :],
        net.y[ends_arr][None, :],
    )
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    nodes_path = nx.shortest_path(H, int(ends_arr[i]), int(ends_arr[j]), weight="length")
    steps: list[tuple[str, Any]] = []
    for p, q in zip(nodes_path[:-1], nodes_path[1:]):
        best = _best_edge(net, p, q)
        steps.append(("edge", best if best >= 0 else int(H[p][q]["e"])))
    return _build(route, net, steps, False, 0.0, extra_edges=sel)


def _reverse_edge(net: BikeNetwork, e: int, src: np.ndarray) -> int:
    return _best_edge(net, int(net.indices[e]), int(src[e]))


def _build(
    route: Snelfietspad,
    net: BikeNetwork,
    steps: list[tuple[str, Any]],
    clipped: bool,
    requested_m: float,
    extra_edges: np.ndarray | None = None,
) -> RouteOnNetwork:
    """Apply the upgrade to the path edges (+ reverse twins) and add the new links."""
    src = net.edge_sources()
    m = net.n_edges
    upgraded: set[int] = set() if extra_edges is None else {int(e) for e in extra_edges}
    new_links: list[tuple[int, int, np.ndarray]] = []
    for kind, val in steps:
        if kind == "edge":
            upgraded.add(int(val))
            r = _reverse_edge(net, int(val), src)
            if r >= 0:
                upgraded.add(r)
        else:
            a, b, line = val
            new_links.append((a, b, line))
            new_links.append((b, a, line[::-1]))
    up = np.array(sorted(upgraded), dtype=np.int64)
    prof = get_profile(net.profile)
    upg = route.upgrade
    v_route = min(prof.speed(Infra.FAST_ROUTE), float(upg.design_speed_kmh))

    # new edge arrays: old edges (copied, upgraded) followed by the new links, then a stable
    # sort by tail keeps old edges in their order within each node's row
    k = len(new_links)
    nu = np.array([a for a, _, _ in new_links], dtype=np.int64)
    nv = np.array([b for _, b, _ in new_links], dtype=np.int64)
    nlen = np.array([_line_length_m(g) for _, _, g in new_links], dtype=np.float32)
    tails = np.concatenate([src.astype(np.int64), nu])
    order = np.argsort(tails, kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(a), np.asarray(b, dtype=np.asarray(a).dtype)])[order]

    infra = net.infra.copy()
    unpaved = net.unpaved.copy()
    delay = net.delay.copy()
    speed = net.speed_kmh.copy()
    if len(up):
        infra[up] = int(Infra.FAST_ROUTE)
        if upg.surface:
            unpaved[up] = False
        speed[up] = np.where(unpaved[up], v_route * prof.unpaved_factor, v_route)
        delay[up] = _upgraded_delay(net.delay[up], net.node_signal[net.indices[up]], upg)
    n_sig = net.node_signal[nv] if k else np.zeros(0, bool)
    new_delay = _upgraded_delay(
        np.where(n_sig, np.rint(prof.signal_delay_s), 0).astype(np.int32), n_sig, upg
    )
    new_speed = np.full(k, v_route, dtype=np.float32)
    length = cat(net.length, nlen)
    speed_all = cat(speed, new_speed).astype(np.float32)
    delay_all = cat(delay, new_delay).astype(np.int32)
    geom_offsets = geom_xy = None
    if k or net.geom_offsets is not None:
        geoms = _all_geometries(net, src) + [g for _, _, g in new_links]
        geoms = [geoms[i] for i in order]
        sizes = np.array([len(g) for g in geoms], dtype=np.int64)
        geom_offsets = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(sizes, out=geom_offsets[1:])
        geom_xy = np.concatenate(geoms).astype(np.float64)
    counts = np.bincount(tails, minlength=net.n_nodes)
    indptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    meta = dict(net.meta)
    meta.setdefault("scenarios", [])
    meta["scenarios"] = [*meta["scenarios"], route.name]
    after = replace(
        net,
        indptr=indptr.astype(np.int32),
        indices=cat(net.indices, nv).astype(np.int32),
        length=length.astype(np.float32),
        speed_kmh=speed_all,
        delay=delay_all,
        travel_time=travel_time_seconds(length, speed_all, delay_all),
        infra=cat(infra, np.full(k, int(Infra.FAST_ROUTE), np.int8)).astype(np.int8),
        unpaved=cat(unpaved, np.zeros(k, bool)).astype(bool),
        contraflow=cat(net.contraflow, np.zeros(k, bool)).astype(bool),
        way_id=cat(net.way_id, np.full(k, -1, np.int64)).astype(np.int64),
        name=np.concatenate([net.name.astype(object), np.full(k, route.name, dtype=object)])[
            order
        ].astype(str),
        node_signal=net.node_signal.copy(),
        geom_offsets=geom_offsets,
        geom_xy=geom_xy,
        meta=meta,
    )
    before_to_after = inv[:m].astype(np.int64)
    added = np.sort(inv[m:]).astype(np.int64)
    changed = np.sort(np.concatenate([before_to_after[up], added])).astype(np.int64)
    # riding-order path edges in `after`, and the route line
    path_edges: list[int] = []
    new_iter = iter(range(0, k, 2))
    for kind, _val in steps:
        path_edges.append(
            int(before_to_after[int(_val)]) if kind == "edge" else int(inv[m + next(new_iter)])
        )
    geometry = _path_geometry(after, path_edges)
    length_m = float(after.length[path_edges].sum())
    straight_m = float(
        haversine_m(geometry[0, 0], geometry[0, 1], geometry[-1, 0], geometry[-1, 1])
    )
    return RouteOnNetwork(
        network=after,
        changed_edges=changed,
        added_edges=added,
        path_edges=np.asarray(path_edges, dtype=np.int64),
        geometry=geometry,
        length_km=length_m / 1000.0,
        straight_km=straight_m / 1000.0,
        directness=length_m / straight_m if straight_m > 0 else float("inf"),
        clipped=bool(clipped),
        requested_km=(requested_m or length_m) / 1000.0,
        before_to_after=before_to_after,
    )


def _upgraded_delay(delay: np.ndarray, at_signal: np.ndarray, upg: Upgrade) -> np.ndarray:
    delay = np.asarray(delay, dtype=np.float64)
    if upg.remove_signals:
        sig = np.zeros_like(delay)
    else:
        sig = np.rint(delay * (1.0 - upg.green_wave))
    cross = np.zeros_like(delay) if upg.priority else delay
    return np.where(at_signal, sig, cross).astype(np.int32)


def _all_geometries(net: BikeNetwork, src: np.ndarray) -> list[np.ndarray]:
    if net.geom_offsets is not None:
        return [net.edge_geometry(e) for e in range(net.n_edges)]
    xy = np.empty((net.n_edges, 2, 2))
    xy[:, 0, 0], xy[:, 0, 1] = net.x[src], net.y[src]
    xy[:, 1, 0], xy[:, 1, 1] = net.x[net.indices], net.y[net.indices]
    return list(xy)


def _path_geometry(net: BikeNetwork, edges: list[int]) -> np.ndarray:
    runs = [net.edge_geometry(e) for e in edges]
    out = [runs[0]] + [r[1:] for r in runs[1:]]
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float64)


# --------------------------------------------------------------------------------- Zwolle routes
def zwolle_routes(upgrade: Upgrade | None = None) -> dict[str, Snelfietspad]:
    """The shipped snelfietspaden around Zwolle (approximate sketches, see ``data/snelfietspaden.json``).

    Zwolle-Kampen, Dalfsen-Zwolle (F340, along the Vecht), Zwolle-Staphorst-Meppel and
    Zwolle-Hattem as waypoint lists of real places. They are **approximate**: sketches of the
    planned or existing routes through real landmarks, not surveyed alignments. Most reach beyond
    the municipality, so on a network of Zwolle only they are clipped (see the module docs).

    Example
    -------
    >>> routes = zwolle_routes()
    >>> sorted(routes)[:2]
    ['Dalfsen-Zwolle', 'Zwolle-Hattem']
    >>> routes["Zwolle-Hattem"].approximate
    True
    """
    return {
        r["name"]: Snelfietspad.from_waypoints(
            r["waypoints"],
            name=r["name"],
            upgrade=upgrade or Upgrade(),
            approximate=r["approximate"],
            note=r["note"],
            source=r["source"],
        )
        for r in zwolle_route_table()
    }


__all__ = [
    "DIRECTNESS_TARGET",
    "RouteOnNetwork",
    "Snelfietspad",
    "Upgrade",
    "haversine_m",
    "zwolle_routes",
]
