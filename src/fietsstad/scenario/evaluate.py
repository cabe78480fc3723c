"""Before/after evaluation of a snelfietspad (used through :mod:`fietsstad.scenario`).

The evaluation chain, per pair of zones ``(i, j)``, ``i != j``:

1. fastest travel times from every zone to every node, before (engine) and after (the
   incremental update of :mod:`fietsstad._incremental`); after the upgrade, distances and
   corridor use by tracing the fastest paths back through the travel-time rows;
2. all-mode trips per day, intrazonal trips included: the demand chain of
   :func:`fietsstad.demand.modal_share` itself (:func:`fietsstad.demand.modal.modal_chain`: its
   zone table, zone matrices in whole seconds and metres along the fastest routes, intrazonal
   distances and gravity model), all from one :class:`fietsstad.Assumptions` (or ``demand``);
   the bike share before any change is that chain's own, so it equals ``modal_share``'s on the
   same zones and network bit for bit;
3. bike share from the uptake model (PCT family) on a *time-equivalent distance*: the before
   distance, scaled by ``time_after / time_before`` after the upgrade. PCT is a distance model
   fitted on fastest routes; a snelfietspad changes time far more than distance, so a route that
   is 20 % faster counts as one that is 20 % shorter;
4. bike trips = trips x share; per OD pair the bike trips gained and lost; car trips replaced
   = gained trips x ``car_share_of_shifted`` / ``car_occupancy`` (default 0.14: 14 % of new
   users of Copenhagen's cycle superhighways commuted by car before; anchors.md section 3);
   car-km replaced counts each replaced car trip at its own distance (the pair's route distance
   before the upgrade): cyclists who only switch to a longer, faster route add bike-km, never
   car-km; CO2 avoided = car-km replaced x ``co2_kg_per_car_km``;
5. minutes saved per day = (bike trips before + half the extra trips, the rule of a half) x time
   saved;
6. bike flow per edge: all-or-nothing assignment of bike trips to the fastest paths, before and
   after; "% more cyclists on the corridor" compares bike trips whose fastest path uses the
   corridor (the same streets before the upgrade) before and after (anchors.md: +20 % on average,
   +40 % in the opening year for Dutch routes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fietsstad._validate import ensure_crs_4326, renamed_parameters
from fietsstad.engine._paths import trace_paths
from fietsstad.engine.config import UNREACHABLE_I32
from fietsstad.errors import ValidationError
from fietsstad.network import BikeNetwork
from fietsstad.network.bikenetwork import TICKS_PER_S, html_table
from fietsstad.scenario.incremental import UpdateStats, full_travel_times, update_travel_times
from fietsstad.scenario.route import RouteOnNetwork, Snelfietspad, zwolle_routes
from fietsstad.settings import _log_end, _log_start
from fietsstad.zwolle import zwolle_default_zones

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

#: Default threshold (minutes) of the cumulative accessibility per zone.
ACCESS_MINUTES = 15.0

log = logging.getLogger("fietsstad.scenario")
_GENERATED_NOTE = (
    "GENERATED network (synthetic, not OpenStreetMap): the numbers show how the "
    "method works, not what this route would do in reality"
)


@dataclass
class ScenarioResult:
    """Before/after evaluation of a snelfietspad (see :func:`evaluate_snelfietspad`).

    Attributes
    ----------
    before, after : BikeNetwork
        The network without and with the route.
    route_edges : int64 array
        Corridor edges of ``after`` (upgraded or added, both directions).
    route_geometry : float64 (k, 2)
        Lon/lat line of the route on the network.
    zones : GeoDataFrame (EPSG:4326)
        Per zone: ``name``, ``population``, ``jobs`` (when the zones have them), ``node``,
        ``snap_distance_m`` (metres from the zone
        to its node), ``access_before``, ``access_after``,
        ``access_change`` (inhabitants reachable within ``access_minutes``), ``bike_share_before``,
        ``bike_share_after``, ``bike_share_change_pp``, ``bike_trips_before``,
        ``bike_trips_after``, ``extra_bike_trips`` (per day, by origin), ``minutes_saved``.
    od : DataFrame
        Per ordered zone pair (intrazonal pairs included, at their documented distance):
        ``origin``, ``destination``, ``time_before_s``, ``time_after_s``,
        ``time_change_s``, ``distance_before_km``, ``distance_after_km``, ``trips``,
        ``bike_share_before``, ``bike_share_after``, ``bike_trips_before``, ``bike_trips_after``,
        ``corridor_before``, ``corridor_after`` (share of the pair's bike trips whose route uses
        the corridor: 0 or 1 under ``route_choice="aon"``).
    edge_flow_change : float64 array (after.n_edges,)
        Expected bike trips per day on each edge, after minus before.
    edge_flow_before, edge_flow_after : float64 arrays (after.n_edges,)
    summary : dict
        Headline numbers (see :func:`evaluate_snelfietspad`); ``generated`` is True on a
        generated network, and ``note`` then says so.
    update : UpdateStats
        What the incremental travel-time update touched.
    route : RouteOnNetwork
    assumptions : Assumptions
        The :class:`fietsstad.Assumptions` the evaluation used.

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad
    >>> net = fietsstad.generate_network(n_nodes=600, seed=2)          # a GENERATED network
    >>> route = Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)])
    >>> res = evaluate_snelfietspad(net, route)
    >>> res.summary["generated"], res.edge_flow_change.shape == (res.after.n_edges,)
    (True, True)
    >>> bool((res.zones["access_after"] >= res.zones["access_before"]).all())
    True
    """

    before: BikeNetwork
    after: BikeNetwork
    route_edges: np.ndarray
    route_geometry: np.ndarray
    zones: Any
    od: Any
    edge_flow_change: np.ndarray
    summary: dict[str, Any]
    edge_flow_before: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    edge_flow_after: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    update: UpdateStats | None = None
    route: Any = field(repr=False, default=None)
    assumptions: Any = field(repr=False, default=None)

    def report(self) -> str:
        """A short plain-text report of the headline numbers (says GENERATED when it is).

        Example
        -------
        >>> import fietsstad
        >>> from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad
        >>> net = fietsstad.generate_network(n_nodes=600, seed=2)          # a GENERATED network
        >>> route = Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)])
        >>> res = evaluate_snelfietspad(net, route)
        >>> print(res.report())
        *** GENERATED network (synthetic, not OpenStreetMap): ... ***
        Snelfietspad 'snelfietspad' on a GENERATED network, profile bike
        ...
        """
        s = self.summary
        lines = []
        if s["generated"]:
            lines.append("*** " + _GENERATED_NOTE + " ***")
        lines += [
            f"Snelfietspad {s['route_name']!r} on a {s['network_source']} network, profile {s['profile']}"
            + (
                " (route: an approximate sketch, not a surveyed alignment)"
                if s["route_approximate"]
                else ""
            ),
            f"  route {s['route_length_km']:.2f} km, directness {s['directness']:.2f} "
            f"({'meets' if s['directness_ok'] else 'misses'} the Dutch target <= {s['directness_target']})"
            + (
                f"; clipped to the network area from {s['route_requested_km']:.1f} km"
                if s["route_clipped"]
                else ""
            ),
            f"  {s['edges_upgraded']} edges upgraded, {s['edges_added']} new edges",
            f"  OD pairs faster: {100 * s['od_pairs_improved_share']:.1f} %, mean change "
            f"{s['mean_time_change_s']:.1f} s",
            f"  cyclists on the corridor: {s['corridor_cyclists_before']:.0f} -> "
            f"{s['corridor_cyclists_after']:.0f} per day ({_pct(s['corridor_cyclists_change_pct'])})",
            f"  bike share {s['bike_share_before_pct']:.2f} % -> {s['bike_share_after_pct']:.2f} % "
            f"({s['bike_share_change_pp']:+.2f} percentage points)",
            f"  extra bike trips {s['extra_bike_trips_per_day']:.0f}/day, car trips replaced "
            f"{s['car_trips_replaced_per_day']:.0f}/day ({s['car_km_replaced_per_day']:.0f} car-km, "
            f"{s['car_km_per_replaced_trip']:.1f} km each), "
            f"CO2 avoided {s['co2_avoided_kg_per_day']:.0f} kg/day",
            f"  time saved {s['minutes_saved_per_day']:.0f} minutes/day",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        s = self.summary
        tag = " GENERATED" if s["generated"] else ""
        return (
            f"<ScenarioResult{tag} {s['route_name']!r}: "
            f"{s['extra_bike_trips_per_day']:,.0f} extra bike trips/day>"
        )

    def _repr_html_(self) -> str:
        """The headline numbers as a small HTML table (Jupyter), rounded for people; escaped.

        Example
        -------
        >>> import fietsstad
        >>> from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad
        >>> net = fietsstad.generate_network(n_nodes=600, seed=2)          # a GENERATED network
        >>> route = Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)])
        >>> res = evaluate_snelfietspad(net, route)
        >>> html = res._repr_html_()                # what a notebook shows for ``res``
        >>> html.startswith('<div class="fietsstad-repr">'), "GENERATED NETWORK" in html
        (True, True)
        """
        s = self.summary
        rows = [
            ("route", s["route_name"]),
            ("network", f"{s['network_source']}, profile {s['profile']}"),
            ("route length", f"{s['route_length_km']:.1f} km"),
            ("directness", f"{s['directness']:.2f} (target <= {s['directness_target']})"),
            ("edges upgraded / new", f"{s['edges_upgraded']:,} / {s['edges_added']:,}"),
            ("OD pairs faster", f"{100 * s['od_pairs_improved_share']:.0f} %"),
            ("cyclists on the corridor per day",
             f"{s['corridor_cyclists_before']:,.0f} -> {s['corridor_cyclists_after']:,.0f}"),
            ("bike share",
             f"{s['bike_share_before_pct']:.1f} % -> {s['bike_share_after_pct']:.1f} % "
             f"({s['bike_share_change_pp']:+.1f} pp)"),
            ("extra bike trips per day", f"{s['extra_bike_trips_per_day']:,.0f}"),
            ("car trips replaced per day", f"{s['car_trips_replaced_per_day']:,.0f}"),
            ("CO2 avoided per day", f"{s['co2_avoided_kg_per_day']:,.0f} kg"),
            ("time saved per day", f"{s['minutes_saved_per_day']:,.0f} minutes"),
        ]  # fmt: skip
        if s["route_approximate"]:
            rows.append(("note", "route: an approximate sketch, not a surveyed alignment"))
        warning = _GENERATED_NOTE.upper() if s["generated"] else None
        return html_table("Snelfietspad scenario", rows, warning=warning)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1f} %"


# ------------------------------------------------------------------------------- path tracing
def _reverse_csr(net: BikeNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    src = net.edge_sources()
    order = np.argsort(net.indices, kind="stable").astype(np.int32)
    rptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(net.indices, minlength=net.n_nodes), out=rptr[1:])
    return rptr, order, src[order].astype(np.int32)


def _paths(
    net: BikeNetwork,
    rows: np.ndarray,
    zone_nodes: np.ndarray,
    trips: np.ndarray,
    corridor: np.ndarray,
    route_choice: str = "aon",
):
    """Fastest-path km per zone pair, corridor use per pair and trips per edge.

    ``route_choice="aon"``: each pair's trips on its fastest path (traced back through ``rows``);
    ``uses`` is then 0 or 1. ``"logit"``: trips spread over alternatives by path-size logit
    (:func:`fietsstad.demand.assignment.assign`); ``uses`` is the share of the pair's trips whose
    route uses the corridor. Distances are always those of the fastest path (PCT is fitted on
    fastest routes).
    """
    if route_choice not in ("aon", "logit"):
        raise ValidationError(f"route_choice must be 'logit' or 'aon', got {route_choice!r}")
    rptr, redge, rtail = _reverse_csr(net)
    dist_m, uses, flow, bad = trace_paths(
        rows,
        zone_nodes,
        zone_nodes,
        trips,
        rptr,
        redge,
        rtail,
        net.travel_time_ticks().astype(np.int64),
        net.length.astype(np.float64),
        corridor,
        rows.dtype.type(UNREACHABLE_I32),
    )
    if bad:  # pragma: no cover - would mean the travel-time rows do not belong to this network
        raise ValidationError("travel times do not match the network (path tracing failed)")
    share = uses.astype(np.float64)
    if route_choice == "logit":
        from fietsstad.demand.assignment import assign

        ii, jj = np.nonzero((trips > 0) & np.isfinite(dist_m))
        res = assign(
            net,
            zone_nodes[ii],
            zone_nodes[jj],
            trips[ii, jj],
            route_choice="logit",
            corridor=corridor,
        )
        flow = res.edge_flow
        share[ii, jj] = res.corridor_share
    return dist_m / 1000.0, share, flow


# ------------------------------------------------------------------------------- demand
def _zone_table(zones, population_column: str | None):
    import geopandas as gpd

    if not isinstance(zones, gpd.GeoDataFrame):
        raise ValidationError(
            f"zones must be a GeoDataFrame of points or polygons, got {type(zones).__name__}"
        )
    if len(zones) < 2:
        raise ValidationError("zones must hold at least two zones")
    zones = ensure_crs_4326(zones, "zones")
    from fietsstad.demand.gravity import _POP_COLS  # the candidates of trip generation

    cols = [population_column] if population_column else list(_POP_COLS)
    col = next((c for c in cols if c in zones.columns), None)
    if col is None:
        raise ValidationError(
            f"zones need a population column (one of {cols}); pass population_column="
        )
    pop = np.asarray(zones[col], dtype=np.float64)
    if not np.all(np.isfinite(pop)) or np.any(pop < 0):
        raise ValidationError(f"zone population {col!r} must be finite and >= 0")
    if not pop.sum() > 0:
        raise ValidationError(
            f"zone population {col!r} sums to zero: the zones have nobody to make trips, so shares "
            "and averages are undefined; check the column"
        )
    names = (
        zones["name"].astype(str).to_numpy()
        if "name" in zones.columns
        else np.asarray([str(i) for i in zones.index])
    )
    pts = zones.geometry.representative_point()
    return zones, names, pop, pts.x.to_numpy(), pts.y.to_numpy(), col


# ------------------------------------------------------------------------------- evaluator
@renamed_parameters({"car_share_of_new_cyclists": "car_share_of_shifted"})
def evaluate_snelfietspad(
    net: BikeNetwork,
    route: Snelfietspad | str,
    zones: gpd.GeoDataFrame | None = None,
    *,
    profile: Any = None,
    model: Any = "zwolle_2024",
    demand: np.ndarray | None = None,
    population_column: str | None = None,
    trips_per_person: float | None = None,
    gradient_pct: float = 0.0,
    access_minutes: float = ACCESS_MINUTES,
    car_share_of_shifted: float | None = None,
    co2_kg_per_car_km: float | None = None,
    clip: bool = True,
    route_choice: str = "logit",
    assumptions: Any = None,
) -> ScenarioResult:
    """Evaluate a snelfietspad before against after, in the units of the evaluation literature.

    Parameters
    ----------
    net
        The network before the route (OSM or generated; not modified).
    route
        A :class:`~fietsstad.scenario.Snelfietspad`, or the name of a shipped Zwolle route
        (:func:`~fietsstad.scenario.zwolle_routes`).
    zones
        Zones as a GeoDataFrame of points or polygons with a population column; default
        :func:`fietsstad.zwolle.zwolle_default_zones`: the 37 zones of Regio Zwolle when the
        network covers the region, else Zwolle's 16 districts. Each zone is snapped to its
        nearest node (within :data:`fietsstad.settings.snap_max_distance_m`).
    profile
        Cyclist profile to cost the network with (default: the network's own).
    model
        Uptake model or preset name (default ``"zwolle_2024"``, PCT Go Dutch 2020 recalibrated to
        Zwolle; see :mod:`fietsstad.uptake`).
    demand
        All-mode trips per day between zones, ``(n_zones, n_zones)``, diagonal = trips within a
        zone; default: the chain of :func:`fietsstad.demand.modal_share`, run by the same code
        (:func:`fietsstad.demand.modal.modal_chain`: trip generation from population and, where
        the zones have them, jobs; doubly constrained gravity on the before travel times with
        ``assumptions.deterrence``), whose bike share ``bike_share_before_pct`` reports.
    population_column
        Column of ``zones`` with inhabitants (default: ``population``, ``inhabitants_2024``, ...).
    gradient_pct
        Average route gradient for the uptake model (Zwolle is flat: 0).
    access_minutes
        Threshold of the cumulative accessibility per zone (inhabitants of all zones reachable
        within this many minutes; default 15).
    trips_per_person, car_share_of_shifted, co2_kg_per_car_km
        Overrides of ``assumptions.trips_per_person``, ``.car_share_of_shifted`` and
        ``.co2_kg_per_car_km`` (defaults 2.7, 0.14, 0.17; see :class:`fietsstad.Assumptions`).
    clip
        Clip the route to the network area (see :meth:`Snelfietspad.resolve`).
    route_choice
        Assignment of bike trips to routes for the edge flows and the corridor counts:
        ``"logit"`` (default, path-size logit over a few alternatives per zone pair; see
        :mod:`fietsstad.demand.assignment`) or
        ``"aon"`` (all-or-nothing on the fastest path). Distances, shares and trips do not depend
        on it.
    assumptions
        The :class:`fietsstad.Assumptions` of the demand chain (default: the documented
        defaults, the same as :func:`fietsstad.demand.modal_share`'s); the result carries them.

    Returns
    -------
    ScenarioResult
        ``summary`` holds: ``generated``, ``note``, ``network_source``, ``route_name``, ``profile``,
        ``route_length_km``, ``route_straight_km``, ``directness``, ``directness_target`` (1.2),
        ``directness_ok``, ``route_clipped``, ``route_requested_km``, ``edges_upgraded``,
        ``edges_added``, ``od_pairs``, ``od_pairs_improved_share``, ``mean_time_change_s``,
        ``median_time_change_s``, ``max_time_saving_s``, ``corridor_cyclists_before`` /
        ``_after`` (bike trips/day whose fastest path uses the corridor) and
        ``corridor_cyclists_change_pct`` (% more cyclists on the corridor; None if none before),
        ``bike_share_before_pct``, ``bike_share_after_pct``, ``bike_share_change_pp``
        (percentage points), ``bike_trips_before``, ``bike_trips_after``,
        ``extra_bike_trips_per_day`` (net), ``bike_trips_gained_per_day``,
        ``bike_trips_lost_per_day``, ``car_trips_replaced_per_day``, ``car_km_replaced_per_day``,
        ``car_km_per_replaced_trip``, ``co2_avoided_kg_per_day``, ``assumptions`` (dict),
        ``minutes_saved_per_day``, ``access_minutes``, ``sources_touched``, ``pairs_changed``,
        ``full_recompute``.

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad
    >>> net = fietsstad.generate_network(n_nodes=2000, seed=2)
    >>> res = evaluate_snelfietspad(net, Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)]))
    >>> res.summary["generated"], res.summary["extra_bike_trips_per_day"] >= 0
    (True, True)
    """
    t0 = _log_start(log, "scenario evaluation")
    # lazy: geopandas, pandas and the demand layer (which imports pandas) are only needed here,
    # so ``import fietsstad.scenario`` stays free of them
    import geopandas as gpd
    import pandas as pd

    from fietsstad.demand import uptake
    from fietsstad.demand.modal import (
        _assumptions,
        modal_chain,
        modal_matrices,
        resolve_intrazonal,
        route_km,
        zone_table,
    )

    if not isinstance(net, BikeNetwork):
        raise ValidationError(f"net must be a BikeNetwork, got {type(net).__name__}")
    if isinstance(route, str):
        routes = zwolle_routes()
        if route not in routes:
            raise ValidationError(f"unknown route {route!r}; shipped routes: {sorted(routes)}")
        route = routes[route]
    if not isinstance(route, Snelfietspad):
        raise ValidationError(
            f"route must be a Snelfietspad or a route name, got {type(route).__name__}"
        )
    for val, nm, lo, hi in (
        (trips_per_person, "trips_per_person", 0, np.inf),
        (access_minutes, "access_minutes", 0, np.inf),
        (car_share_of_shifted, "car_share_of_shifted", 0, 1),
        (co2_kg_per_car_km, "co2_kg_per_car_km", 0, np.inf),
        (gradient_pct, "gradient_pct", -100, 100),
    ):
        if val is None and nm not in ("access_minutes", "gradient_pct"):
            continue
        if not isinstance(val, (int, float)) or not (lo <= val <= hi) or not np.isfinite(val):
            raise ValidationError(f"{nm} must be a number in [{lo}, {hi}], got {val!r}")
    asm = _assumptions(assumptions, car_share_of_shifted, co2_kg_per_car_km)
    if trips_per_person is not None:
        if trips_per_person <= 0:
            raise ValidationError(f"trips_per_person must be > 0, got {trips_per_person!r}")
        asm = asm.replace(trips_per_person=float(trips_per_person))

    before = net if profile is None else net.with_profile(profile)
    r: RouteOnNetwork = route.resolve(before, clip=clip)
    after = r.network
    if zones is None:  # the region's 37 zones on a regional network, else Zwolle's 16 districts
        zones = zwolle_default_zones(before.x, before.y)
    zones_gdf, names, pop, zx, zy, pcol = _zone_table(zones, population_column)
    zone_nodes, zone_snap_m = before.snap(zx, zy, return_distance=True)
    nz = len(zone_nodes)
    # the zone table of modal_share (trip generation from population and, where the zones have
    # them, jobs), on the nodes snapped here
    zt = zone_table(zones_gdf, asm, population_column=pcol).copy()
    zt["node"] = np.asarray(zone_nodes, dtype=np.int32)

    # 1. travel times zone -> every node, before (engine) and after (incremental)
    rows_b = full_travel_times(before, zone_nodes, dtype=np.int32)
    rows_a, stats = update_travel_times(rows_b, before, after, r.changed_edges, sources=zone_nodes)
    tb = rows_b[:, zone_nodes] / TICKS_PER_S  # ticks (deciseconds) -> seconds
    ta = rows_a[:, zone_nodes] / TICKS_PER_S
    tb[rows_b[:, zone_nodes] == UNREACHABLE_I32] = np.inf
    ta[rows_a[:, zone_nodes] == UNREACHABLE_I32] = np.inf

    corridor_after = np.zeros(after.n_edges, dtype=bool)
    corridor_after[r.changed_edges] = True
    corridor_before = corridor_after[r.before_to_after]
    own = np.eye(nz, dtype=bool)

    # 2. before the change: modal_share's own chain (one code path): its zone matrices (whole
    # seconds and metres along the fastest routes), intrazonal distances, trip generation and
    # gravity model, and its bike share; with ``demand`` given, its matrices and distances only
    if demand is None:
        chain = modal_chain(before, zt, model, gradient=gradient_pct, top_pairs=0, assumptions=asm)
        city = chain.tables()["city"].iloc[0]
        trips = chain.trips()
        db = chain.distance_km()
    else:
        _, dist = modal_matrices(before, zt)
        db = route_km(dist, resolve_intrazonal("auto", zt, asm, dist))
        trips = np.asarray(demand, dtype=np.float64)
        if trips.shape != (nz, nz) or not np.all(np.isfinite(trips)) or np.any(trips < 0):
            raise ValidationError(
                f"demand must be a finite, non-negative ({nz}, {nz}) matrix of trips/day"
            )
        trips = trips.copy()
        city = None
    off = ~own
    reach = np.isfinite(tb) & np.isfinite(ta)
    trips[~reach] = 0.0

    # 3. bike share on time-equivalent distance
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(reach & (tb > 0), ta / tb, 1.0)
    d_eq_b = np.where(reach, db, np.inf)
    d_eq_a = np.where(reach, db * ratio, np.inf)
    share_b = uptake(d_eq_b, gradient_pct, model)
    share_a = uptake(d_eq_a, gradient_pct, model)
    bike_b = trips * share_b
    bike_a = trips * share_a

    # 4. flows and corridor use (route choice: path-size logit, or all-or-nothing)
    _, use_b, flow_b_before_idx = _paths(
        before, rows_b, zone_nodes, bike_b, corridor_before, route_choice
    )
    da, use_a, flow_a = _paths(after, rows_a, zone_nodes, bike_a, corridor_after, route_choice)
    da[own] = db[own]
    flow_b = np.zeros(after.n_edges)
    flow_b[r.before_to_after] = flow_b_before_idx

    saved_s = np.where(reach, tb - ta, 0.0)
    minutes = (bike_b + 0.5 * (bike_a - bike_b)) * saved_s / 60.0
    extra = bike_a - bike_b
    gained = np.maximum(extra, 0.0)
    # car trips and car-km from the gained trips only, each at its own (before) distance
    car_replaced = asm.car_trips(gained)
    car_km = car_replaced * np.where(reach, db, 0.0)
    co2 = car_km * asm.co2_kg_per_car_km
    n_car = float(car_replaced.sum())

    # 5. zones
    lim = access_minutes * 60.0
    acc_b = ((tb <= lim) * pop[None, :]).sum(axis=1)
    acc_a = ((ta <= lim) * pop[None, :]).sum(axis=1)
    trips_o = trips.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        zs_b = np.where(trips_o > 0, bike_b.sum(axis=1) / trips_o, 0.0)
        zs_a = np.where(trips_o > 0, bike_a.sum(axis=1) / trips_o, 0.0)
    zt = gpd.GeoDataFrame(
        {
            "name": names,
            "population": pop,
            **({"jobs": zt["jobs"].to_numpy()} if "jobs" in zt.columns else {}),
            "node": zone_nodes,
            "snap_distance_m": zone_snap_m,
            "access_before": acc_b,
            "access_after": acc_a,
            "access_change": acc_a - acc_b,
            "bike_share_before": zs_b,
            "bike_share_after": zs_a,
            "bike_share_change_pp": 100.0 * (zs_a - zs_b),
            "bike_trips_before": bike_b.sum(axis=1),
            "bike_trips_after": bike_a.sum(axis=1),
            "extra_bike_trips": extra.sum(axis=1),
            "minutes_saved": minutes.sum(axis=1),
        },
        geometry=zones_gdf.geometry.to_numpy(),
        crs="EPSG:4326",
        index=zones_gdf.index,
    )

    # 6. OD table: every ordered pair, the intrazonal ones (origin == destination) included
    ii, jj = np.nonzero(np.ones((nz, nz), dtype=bool))
    od = pd.DataFrame(
        {
            "origin": names[ii],
            "destination": names[jj],
            "time_before_s": tb[ii, jj],
            "time_after_s": ta[ii, jj],
            "time_change_s": (ta - tb)[ii, jj],
            "distance_before_km": db[ii, jj],
            "distance_after_km": da[ii, jj],
            "trips": trips[ii, jj],
            "bike_share_before": share_b[ii, jj],
            "bike_share_after": share_a[ii, jj],
            "bike_trips_before": bike_b[ii, jj],
            "bike_trips_after": bike_a[ii, jj],
            "corridor_before": use_b[ii, jj],
            "corridor_after": use_a[ii, jj],
        }
    )

    # 7. summary: before, the modal share's own totals; after, before plus the change
    tot_trips = float(trips.sum()) if city is None else float(city["trips"])
    bike_before = float(bike_b.sum()) if city is None else float(city["bike_trips"])
    bike_after = bike_before + float(extra.sum())
    cb = float((bike_b * use_b).sum())
    ca = float((bike_a * use_a).sum())
    oi, oj = np.nonzero(off)
    ch = (ta - tb)[oi, oj]
    ch = ch[np.isfinite(ch)]
    summary: dict[str, Any] = {
        "generated": before.is_generated,
        "note": _GENERATED_NOTE if before.is_generated else "",
        "network_source": "GENERATED"
        if before.is_generated
        else str(before.meta.get("source", "unknown")),
        "route_name": route.name,
        "route_approximate": bool(route.approximate),
        "profile": before.profile,
        "route_length_km": r.length_km,
        "route_straight_km": r.straight_km,
        "directness": r.directness,
        "directness_target": 1.2,
        "directness_ok": bool(r.directness <= 1.2),
        "route_clipped": r.clipped,
        "route_requested_km": r.requested_km,
        "edges_upgraded": int(len(r.changed_edges) - len(r.added_edges)),
        "edges_added": int(len(r.added_edges)),
        "od_pairs": int(len(oi)),
        "od_pairs_improved_share": float(np.mean(ch < 0)) if len(ch) else 0.0,
        "mean_time_change_s": float(ch.mean()) if len(ch) else 0.0,
        "median_time_change_s": float(np.median(ch)) if len(ch) else 0.0,
        "max_time_saving_s": float(-ch.min()) if len(ch) else 0.0,
        "corridor_cyclists_before": cb,
        "corridor_cyclists_after": ca,
        "corridor_cyclists_change_pct": (100.0 * (ca / cb - 1.0)) if cb > 0 else None,
        "bike_share_before_pct": (
            100.0 * float(city["bike_share"])  # modal_share's own figure, to the bit
            if city is not None
            else (100.0 * bike_before / tot_trips if tot_trips else 0.0)
        ),
        "bike_share_after_pct": 100.0 * bike_after / tot_trips if tot_trips else 0.0,
        "bike_share_change_pp": 100.0 * float(extra.sum()) / tot_trips if tot_trips else 0.0,
        "bike_trips_before": bike_before,
        "bike_trips_after": bike_after,
        "extra_bike_trips_per_day": float(extra.sum()),
        "bike_trips_gained_per_day": float(gained.sum()),
        "bike_trips_lost_per_day": float(np.maximum(-extra, 0.0).sum()),
        "car_trips_replaced_per_day": n_car,
        "car_km_replaced_per_day": float(car_km.sum()),
        "car_km_per_replaced_trip": float(car_km.sum()) / n_car if n_car > 0 else 0.0,
        "co2_avoided_kg_per_day": float(co2.sum()),
        "assumptions": asm.to_dict(),
        "minutes_saved_per_day": float(minutes.sum()),
        "access_minutes": float(access_minutes),
        "sources_touched": stats.sources_touched,
        "pairs_changed": stats.pairs_changed,
        "full_recompute": stats.full_recompute,
    }
    _log_end(log, "scenario evaluation", t0)
    return ScenarioResult(
        before=before,
        after=after,
        route_edges=r.changed_edges,
        route_geometry=r.geometry,
        zones=zt,
        od=od,
        edge_flow_change=flow_a - flow_b,
        summary=summary,
        edge_flow_before=flow_b,
        edge_flow_after=flow_a,
        update=stats,
        route=r,
        assumptions=asm,
    )
