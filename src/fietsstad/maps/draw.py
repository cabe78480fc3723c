"""Folium maps of scenario and hub results: standalone HTML, offline apart from the tiles.

* :func:`snelfietspad_map` -- a snelfietspad scenario: the network coloured by the change in bike
  flow or in travel time, the corridor highlighted, before/after layers, districts shaded by the
  change in bike share or accessibility, legends, tooltips with the numbers, layer control.
* :func:`hubs_map` -- a hub placement: hub markers with their figures, catchment isochrones per
  band, covered and uncovered population, and the coverage curve (inline SVG and a table).
* :func:`save_map` -- write any folium map atomically.

Maps only *read* results. Every string that reaches the page is escaped (see
:func:`fietsstad.maps._style.esc`): a street called ``<script>`` is shown, never run. Large networks
are drawn as one GeoJSON layer, both directions of a street merged into one line, coordinates
rounded to about 1 m and at most ``max_edges`` lines (the largest changes first). Leaflet's JS and
CSS, shipped with fietsstad (``fietsstad/maps/_leaflet/``), are inlined: the maps open offline apart
from the background tiles. A map made from a GENERATED network says so in its title. Every map has
an HTML ``<title>``, a legend for every layer, labels for people (:data:`fietsstad.maps._style.LABELS`,
never raw column names) and rounded numbers; its panel sits above Leaflet's scale bar.

Example
-------
>>> import fietsstad
>>> from fietsstad.hubs import hub_candidates, hub_catchments, place_hubs
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)
>>> c = hub_candidates(net.x[::80], net.y[::80])
>>> pl = place_hubs(net, c, np.ones(net.n_nodes), k=2, cutoff_min=5)
>>> m = hubs_map(pl, hub_catchments(net, pl.hubs, bands_min=(5,)))
>>> "GENERATED" in m.get_root().render()
True
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fietsstad.errors import ValidationError
from fietsstad.maps import _style as st
from fietsstad.network import BikeNetwork

if TYPE_CHECKING:  # pragma: no cover
    import folium

#: Default cap on the number of (undirected) street lines drawn in one map.
MAX_EDGES = 12_000
#: Colours of the corridor's streets before the upgrade and of its new links.
BEFORE_COLOR = "#555555"
NEW_LINK_COLOR = "#e7298a"
#: Colours of the hubs map.
HUB_COLOR, FIXED_HUB_COLOR, CANDIDATE_COLOR = "#54278f", "#ff7f00", "#bbbbbb"
COVERED_COLOR, UNCOVERED_COLOR = "#2166ac", "#d6604d"


def save_map(m: Any, path: str | os.PathLike) -> None:
    """Write a folium map as standalone HTML, atomically (via :func:`fietsstad._io.atomic_write`).

    Example
    -------
    >>> import folium, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.html"
    >>> save_map(folium.Map(tiles=None), p)
    >>> p.read_text().startswith("<!DOCTYPE html>")
    True
    """
    from fietsstad._io import atomic_write

    text = _stable_ids(m.get_root().render())
    with atomic_write(path, "w") as fh:
        fh.write(text)


_FOLIUM_ID = re.compile(r"_([0-9a-f]{32})(?![0-9a-f])")
_HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _stable_ids(html: str) -> str:
    """Replace folium's random element ids by their order of first appearance.

    folium/branca name every element ``<kind>_<32 random hex digits>``; renumbering them makes the
    same map give byte-identical HTML on every run.

    Example
    -------
    >>> _stable_ids("var map_" + "ab" * 16 + " = L.map('map_" + "ab" * 16 + "');")
    "var map_00000000000000000000000000000000 = L.map('map_00000000000000000000000000000000');"
    """
    ids = set(_FOLIUM_ID.findall(html))
    seen: dict[str, str] = {}

    def sub(mt: re.Match) -> str:
        h = mt.group(0)
        if h not in ids:
            return h
        if h not in seen:
            seen[h] = f"{len(seen):032x}"
        return seen[h]

    return _HEX32.sub(sub, html)


# ---------------------------------------------------------------------------------------------
# network drawing
# ---------------------------------------------------------------------------------------------
def _bounds(net: BikeNetwork) -> tuple[float, float, float, float]:
    return (float(net.x.min()), float(net.y.min()), float(net.x.max()), float(net.y.max()))


#: Infrastructure drawn first when streets without change must be thinned out (the skeleton).
_SKELETON = (7, 0, 4, 1, 2)  # fast route, cycle path, main road, cycle lane, cycle street


def _undirected_pick(
    net: BikeNetwork, value: np.ndarray, max_edges: int, keep: np.ndarray | None = None
) -> np.ndarray:
    """One directed edge per street (the larger |value|), at most ``max_edges``.

    Streets are ranked by |value| (largest change first); ties (typically the many streets
    without change) go to the network's skeleton first (fast routes, cycle paths, main roads,
    lanes, cycle streets), then in a fixed pseudo-random order, so a thinned map still covers
    the whole area instead of the lowest node ids.
    """
    src = net.edge_sources().astype(np.int64)
    dst = net.indices.astype(np.int64)
    key = np.minimum(src, dst) * net.n_nodes + np.maximum(src, dst)
    mag = np.abs(np.nan_to_num(np.asarray(value, dtype=np.float64), nan=np.inf))
    rank = np.full(len(key), len(_SKELETON), dtype=np.int64)
    for r, code in enumerate(_SKELETON):
        rank[net.infra == code] = r
    shuffle = np.random.default_rng(0).permutation(len(key))
    order = np.lexsort((shuffle, rank, -mag))
    _, first = np.unique(key[order], return_index=True)
    picked = order[np.sort(first)]  # keeps the ranking order
    if len(picked) > max_edges:
        picked = picked[:max_edges]
    if keep is not None and len(keep):
        picked = np.union1d(picked, np.asarray(keep, dtype=np.int64))
    return picked


def _edge_coords(net: BikeNetwork, e: int) -> list[list[float]]:
    g = net.edge_geometry(int(e))
    if len(g) > 2:  # light simplification: keep ends, drop near-duplicate vertices (~1 m)
        r = np.round(g, 5)
        keepv = np.ones(len(r), dtype=bool)
        keepv[1:-1] = np.any(np.diff(r, axis=0)[:-1] != 0, axis=1)
        g = r[keepv]
    return np.round(g, 5).tolist()


def _network_layer(
    net: BikeNetwork,
    edges: np.ndarray,
    colors: list[str],
    tips: list[str],
    name: str,
    weight: float = 2.5,
    show: bool = True,
) -> Any:
    import folium

    feats = [
        {
            "type": "Feature",
            "id": i,
            "geometry": {"type": "LineString", "coordinates": _edge_coords(net, e)},
            "properties": {"c": colors[i], "tip": tips[i]},
        }
        for i, e in enumerate(edges)
    ]
    fg = folium.FeatureGroup(name=st.esc(name), show=show)
    if feats:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            style_function=lambda f: {
                "color": f["properties"]["c"],
                "weight": weight,
                "opacity": 0.85,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fg)
    return fg


def _edge_tip(net: BikeNetwork, e: int, extra: str) -> str:
    nm = str(net.name[e]) if len(net.name) else ""
    head = f"<b>{st.esc(nm)}</b><br>" if nm else ""
    return (
        f"{head}{st.fmt(net.length[e], 0)} m, {st.fmt(net.travel_time[e], 0)} s, "
        f"{st.fmt(net.speed_kmh[e])} km/h<br>{extra}"
    )


def _match_before(before: BikeNetwork, after: BikeNetwork) -> np.ndarray:
    """For each edge of ``after``, the before travel time of the same (u, v) node-id pair (NaN if new)."""
    import pandas as pd

    bsrc = before.node_id[before.edge_sources()]
    bdst = before.node_id[before.indices]
    b = pd.DataFrame({"u": bsrc, "v": bdst, "t": before.travel_time.astype(np.float64)})
    b = b.groupby(["u", "v"], sort=False)["t"].min()
    a = pd.MultiIndex.from_arrays(
        [after.node_id[after.edge_sources()], after.node_id[after.indices]]
    )
    return b.reindex(a).to_numpy(dtype=np.float64)


def _zone_value(zones: Any, column: str | None) -> tuple[np.ndarray, str]:
    if column is not None:
        if column not in zones.columns:
            raise ValidationError(
                f"zone column {column!r} not found; columns are {list(zones.columns)}"
            )
        return zones[column].to_numpy(dtype=np.float64), column
    cols = [str(c) for c in zones.columns]
    for stem in ("bike_share", "accessibility"):
        for c in cols:
            low = c.lower()
            if stem in low and any(t in low for t in ("change", "delta", "diff", "_pp", "gain")):
                return zones[c].to_numpy(dtype=np.float64), c
        b = next((c for c in cols if stem in c.lower() and c.lower().endswith("before")), None)
        a = next((c for c in cols if stem in c.lower() and c.lower().endswith("after")), None)
        if a and b:
            return (
                zones[a].to_numpy(dtype=np.float64) - zones[b].to_numpy(dtype=np.float64),
                f"{a} − {b}",
            )
    for c in cols:
        if "minutes_saved" in c.lower():
            return zones[c].to_numpy(dtype=np.float64), c
    raise ValidationError(
        "no zone column with a change in bike share or accessibility found; pass "
        f"zone_column= (columns are {cols})"
    )


#: Zone columns that are internal ids, not figures for people.
_ZONE_SKIP = ("geometry", "node")


def _zone_tip(row: Any, name_col: str | None, label: str, value: float, minutes: float = 15) -> str:
    head = f"<b>{st.esc(row[name_col])}</b><br>" if name_col else ""
    rows = [f"{st.esc(label)}: <b>{st.fmt(value, 3)}</b>"]
    for c, v in row.items():
        if (
            c in (*_ZONE_SKIP, name_col)
            or not isinstance(v, (int, float, np.number))
            or isinstance(v, bool)
        ):
            continue
        rows.append(f"{st.esc(st.label(c, minutes))}: {st.fmt(v, 3)}")
    return head + "<br>".join(rows[:12])


def _zones_layer(zones: Any, values: np.ndarray, label: str, name: str, minutes: float = 15) -> Any:
    import folium

    z = zones.to_crs(4326) if zones.crs is not None else zones
    cls, vmax = st.diverging_classes(-values)  # larger gains -> blue
    name_col = next((c for c in ("name", "zone", "wijk", "district") if c in z.columns), None)
    fg = folium.FeatureGroup(name=st.esc(name))
    points = all(z.geometry.geom_type == "Point")
    pop_col = next(
        (c for c in ("inhabitants_2024", "population", "inhabitants") if c in z.columns), None
    )
    popmax = float(z[pop_col].max()) if pop_col else 1.0
    for i, (_, row) in enumerate(z.iterrows()):
        color = st.DIVERGING[int(cls[i])]
        tip = _zone_tip(row.drop(labels=["geometry"]), name_col, label, values[i], minutes)
        if points:
            r = 8 + 14 * np.sqrt(float(row[pop_col]) / popmax) if pop_col and popmax > 0 else 10
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x],
                radius=float(r),
                color="#333",
                weight=1,
                fill=True,
                fill_color=color,
                fill_opacity=0.8,
                tooltip=folium.Tooltip(tip),
            ).add_to(fg)
        else:
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda f, c=color: {
                    "fillColor": c,
                    "color": "#555",
                    "weight": 1,
                    "fillOpacity": 0.55,
                },
                tooltip=folium.Tooltip(tip),
            ).add_to(fg)
    return fg, vmax


def _summary_table(summary: dict[str, Any], keys: list[str] | None = None, limit: int = 16) -> str:
    rows = []
    for k, v in summary.items():
        if keys is not None and k not in keys:
            continue
        if isinstance(v, (dict, list, tuple, np.ndarray)):
            continue
        val = (
            st.fmt(v, 3)
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
            else st.esc(v)
        )
        rows.append(
            f"<tr><td>{st.esc(st.label(k))}</td><td style='text-align:right'>{val}</td></tr>"
        )
        if len(rows) >= limit:
            break
    return "<table>" + "".join(rows) + "</table>"


#: Scenario figures shown in the map's panel: (summary key, decimals); labels from ``st.LABELS``.
KEY_NUMBERS: tuple[tuple[str, int], ...] = (
    ("network_source", 0),
    ("route_length_km", 2),
    ("directness", 2),
    ("minutes_saved_per_day", 0),
    ("bike_share_change_pp", 2),
    ("extra_bike_trips_per_day", 0),
    ("car_trips_replaced_per_day", 0),
    ("corridor_cyclists_before", 0),
    ("corridor_cyclists_after", 0),
    ("corridor_cyclists_change_pct", 1),
    ("co2_avoided_kg_per_day", 0),
    ("route_clipped", 0),
)


def _key_numbers(summary: dict[str, Any], network: str | None = None) -> str:
    """The key-numbers table; ``network`` (a label for people) replaces ``network_source``."""
    rows = []
    for key, digits in KEY_NUMBERS:
        if key not in summary:
            continue
        v = network if key == "network_source" and network else summary[key]
        if isinstance(v, (bool, np.bool_)):
            v = "yes" if v else "no"
        num = isinstance(v, (int, float, np.number))
        val = "–" if v is None else (st.fmt(v, digits) if num else st.esc(v))
        rows.append(
            f"<tr><td>{st.esc(st.label(key))}</td><td style='text-align:right'>{val}</td></tr>"
        )
    if not rows:  # a result with other keys: show its first scalar entries
        return _summary_table(summary, limit=12)
    return "<table>" + "".join(rows) + "</table>"


def snelfietspad_map(
    result: Any,
    path: str | os.PathLike | None = None,
    color_by: Literal["flow", "time"] = "flow",
    zone_column: str | None = None,
    max_edges: int = MAX_EDGES,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
) -> folium.Map:
    """Map of a snelfietspad scenario (a :class:`fietsstad.scenario.ScenarioResult`).

    Parameters
    ----------
    result
        The scenario result; read are ``before``, ``after`` (BikeNetworks), ``route_edges``,
        ``route_geometry``, ``zones``, ``edge_flow_change`` and ``summary``.
    path
        If given, the HTML is written there (atomically).
    color_by
        ``"flow"``: change in expected bike flow per street (``edge_flow_change``);
        ``"time"``: change in edge travel time, after minus before, seconds.
    zone_column
        Zone column to shade the districts by (default: a change in bike share, else in
        accessibility, found by name).
    max_edges
        Most streets drawn (both directions merged; largest changes first).
    tiles
        folium tiles name, or None for no background.
    title
        Title (default: the route name from ``summary`` if any).

    Returns
    -------
    folium.Map
        With ``fietsstad_offline`` (bool) telling whether Leaflet was inlined.

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.scenario import evaluate_snelfietspad, zwolle_routes
    >>> net = fietsstad.generate_network(n_nodes=2000, seed=1)           # doctest: +SKIP
    >>> res = evaluate_snelfietspad(net, zwolle_routes()["Dalfsen–Zwolle"])  # doctest: +SKIP
    >>> m = snelfietspad_map(res, "snelfietspad.html")                     # doctest: +SKIP
    """
    import folium

    if color_by not in ("flow", "time"):
        raise ValidationError(f"color_by must be 'flow' or 'time', not {color_by!r}")
    if not isinstance(max_edges, (int, np.integer)) or max_edges < 1:
        raise ValidationError("max_edges must be a positive integer")
    before, after = result.before, result.after
    if not isinstance(after, BikeNetwork) or not isinstance(before, BikeNetwork):
        raise ValidationError(
            "result.before and result.after must be BikeNetworks "
            "(pass the result of evaluate_snelfietspad)"
        )
    summary = dict(getattr(result, "summary", {}) or {})
    generated = bool(summary.get("generated", False) or after.is_generated or before.is_generated)
    route_edges = np.asarray(getattr(result, "route_edges", []), dtype=np.int64)
    t_before = _match_before(before, after)
    dt = after.travel_time.astype(np.float64) - t_before
    if color_by == "flow":
        value = np.asarray(result.edge_flow_change, dtype=np.float64)
        if value.shape != (after.n_edges,):
            raise ValidationError(
                "result.edge_flow_change must have one value per edge of result.after"
            )
        unit, lab_title = "trips/day", "Change in bike flow per street"
        cls, vmax = st.diverging_classes(-value)
        labels = [f"{'+' if c < 4 else ''}{st.fmt(-(c - 4) * vmax / 4)} {unit}" for c in range(9)]
        labels[0] += " (more cyclists)"
        labels[8] += " (fewer cyclists)"
    else:
        value = np.where(np.isnan(dt), 0.0, dt)
        unit, lab_title = "s", "Change in travel time per street (after − before)"
        cls, vmax = st.diverging_classes(value)
        labels = [f"{'+' if c > 4 else ''}{st.fmt((c - 4) * vmax / 4)} {unit}" for c in range(9)]
        labels[0] += " (faster)"
        labels[8] += " (slower)"
    edges = _undirected_pick(after, value, int(max_edges))
    colors = [st.DIVERGING[int(cls[e])] for e in edges]
    tips = []
    for e in edges:
        tb = "new link" if np.isnan(t_before[e]) else f"before {st.fmt_seconds(t_before[e])}"
        extra = f"{tb}; change in travel time {st.fmt(dt[e], 0)} s"
        if color_by == "flow":
            extra += f"<br>change in bike flow <b>{st.fmt(value[e])}</b> {unit}"
        tips.append(_edge_tip(after, e, extra))

    name = str(summary.get("route_name", summary.get("route", "snelfietspad")))
    ttl = title or f"Snelfietspad scenario: {name}"
    netlab = st.network_label(after.meta, generated)
    src = netlab if generated else f"network: {netlab}"
    m = st.base_map(_bounds(after), tiles=tiles, title=ttl)

    # before and after compare the SAME streets (those that existed before); new links apart
    old_e = route_edges[~np.isnan(t_before[route_edges])] if len(route_edges) else route_edges
    new_e = route_edges[np.isnan(t_before[route_edges])] if len(route_edges) else route_edges
    if len(old_e):
        btips = [_edge_tip(after, e, f"<b>before</b>: {st.fmt(t_before[e], 0)} s") for e in old_e]
        _network_layer(
            after,
            old_e,
            [BEFORE_COLOR] * len(old_e),
            btips,
            f"Before: corridor streets that exist today, "
            f"{st.fmt_seconds(np.nansum(t_before[old_e]))} summed",
            weight=5,
            show=False,
        ).add_to(m)
    _network_layer(after, edges, colors, tips, f"After: {lab_title.lower()}").add_to(m)

    corridor = folium.FeatureGroup(name="After: snelfietspad corridor")
    rg = np.asarray(getattr(result, "route_geometry", np.zeros((0, 2))), dtype=np.float64)
    keys = (
        "route_length_km",
        "directness",
        "minutes_saved_per_day",
        "bike_share_change_pp",
        "extra_bike_trips_per_day",
        "car_trips_replaced_per_day",
    )
    ctip = f"<b>{st.esc(name)}</b><br>" + _summary_table(
        summary, [k for k in keys if k in summary] or None, limit=8
    )
    if rg.ndim == 2 and len(rg) >= 2:
        folium.PolyLine(
            np.round(rg[:, ::-1], 6).tolist(),
            color=st.CORRIDOR_COLOR,
            weight=7,
            opacity=0.9,
            tooltip=folium.Tooltip(ctip),
        ).add_to(corridor)
    elif len(route_edges):
        for e in route_edges:
            folium.PolyLine(
                [c[::-1] for c in _edge_coords(after, int(e))],
                color=st.CORRIDOR_COLOR,
                weight=7,
                tooltip=folium.Tooltip(ctip),
            ).add_to(corridor)
    corridor.add_to(m)
    if len(old_e):
        rtips = [
            _edge_tip(after, e, f"<b>after</b>; before {st.fmt(t_before[e], 0)} s") for e in old_e
        ]
        _network_layer(
            after,
            old_e,
            [st.CORRIDOR_COLOR] * len(old_e),
            rtips,
            f"After: corridor streets that exist today, "
            f"{st.fmt_seconds(after.travel_time[old_e].sum())} summed",
            weight=5,
            show=False,
        ).add_to(m)
    if len(new_e):
        ntips = [_edge_tip(after, e, "<b>new link</b> (not in the network before)") for e in new_e]
        _network_layer(
            after,
            new_e,
            [NEW_LINK_COLOR] * len(new_e),
            ntips,
            f"After: new links of the corridor, {len(new_e)} edges, "
            f"{st.fmt_seconds(after.travel_time[new_e].sum())} summed",
            weight=5,
            show=False,
        ).add_to(m)

    zones = getattr(result, "zones", None)
    zlegend = ""
    if zones is not None and len(zones):
        minutes = float(summary.get("access_minutes", 15) or 15)
        zval, zcol = _zone_value(zones, zone_column)
        zlabel = st.label(zcol, minutes)
        zl, zvmax = _zones_layer(zones, zval, zlabel, f"Districts: {zlabel}", minutes)
        zl.add_to(m)
        zlabels = [f"{'+' if c < 4 else ''}{st.fmt(-(c - 4) * zvmax / 4, 3)}" for c in range(9)]
        zlegend = "<hr style='margin:4px 0'>" + st.legend(
            f"Districts: {zlabel}", st.DIVERGING, zlabels, "dot" if _is_points(zones) else "box"
        )
    corridor_rows = [(st.CORRIDOR_COLOR, "Snelfietspad corridor (after)")]
    if len(old_e):
        corridor_rows.append((BEFORE_COLOR, "Corridor streets before (existing streets only)"))
    if len(new_e):
        corridor_rows.append((NEW_LINK_COLOR, "New links (not in the network before)"))
    clegend = "<hr style='margin:4px 0'>" + st.legend(
        "Corridor", [c for c, _ in corridor_rows], [lab for _, lab in corridor_rows]
    )

    folium.LayerControl(collapsed=False).add_to(m)
    st.add_html(m, st.title_box(ttl, src, generated), "fietsstad_title")
    st.add_html(
        m,
        st.panel(
            st.legend(lab_title, st.DIVERGING, labels)
            + clegend
            + zlegend
            + "<hr style='margin:4px 0'><b>Key numbers</b>"
            + _key_numbers(summary, netlab),
            name="legend",
        ),
        "fietsstad_legend",
    )
    if path is not None:
        save_map(m, path)
    return m


def _is_points(zones: Any) -> bool:
    return bool(len(zones)) and bool(all(zones.geometry.geom_type == "Point"))


# ---------------------------------------------------------------------------------------------
# hubs
# ---------------------------------------------------------------------------------------------
def _population_cells(
    lon: np.ndarray, lat: np.ndarray, pop: np.ndarray, covered: np.ndarray, cell_m: float = 300.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aggregate node population into square cells: centroid, covered and uncovered totals."""
    lat0 = np.deg2rad(np.mean(lat)) if len(lat) else 0.0
    kx = cell_m / (111_320.0 * np.cos(lat0))
    ky = cell_m / 110_574.0
    ix = np.floor(lon / kx).astype(np.int64)
    iy = np.floor(lat / ky).astype(np.int64)
    key = ix * 10_000_019 + iy
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=pop, minlength=len(uniq))
    cx = np.bincount(inv, weights=pop * lon, minlength=len(uniq)) / np.where(w > 0, w, 1)
    cy = np.bincount(inv, weights=pop * lat, minlength=len(uniq)) / np.where(w > 0, w, 1)
    cov = np.bincount(inv, weights=pop * covered, minlength=len(uniq))
    return cx, cy, cov, w - cov


def _points_layer(
    lon: np.ndarray,
    lat: np.ndarray,
    values: np.ndarray,
    name: str,
    color: str,
    show: bool = True,
    max_points: int = 4000,
) -> Any:
    import folium

    order = np.argsort(-values)[:max_points]
    order = order[values[order] > 0]
    vmax = float(values[order].max()) if len(order) else 1.0
    feats = [
        {
            "type": "Feature",
            "id": int(i),
            "geometry": {
                "type": "Point",
                "coordinates": [round(float(lon[i]), 5), round(float(lat[i]), 5)],
            },
            "properties": {
                "r": float(2 + 6 * np.sqrt(values[i] / vmax)),
                "tip": f"{st.esc(name)}: {st.fmt(values[i], 0)}",
            },
        }
        for i in order
    ]
    fg = folium.FeatureGroup(name=st.esc(name), show=show)
    if feats:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": feats},
            marker=folium.CircleMarker(radius=3, fill=True, weight=0, fill_opacity=0.7),
            style_function=lambda f: {
                "radius": f["properties"]["r"],
                "fillColor": color,
                "color": color,
            },
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fg)
    return fg


def hubs_map(
    placement: Any,
    catchments: Any = None,
    path: str | os.PathLike | None = None,
    net: BikeNetwork | None = None,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    cell_m: float = 300.0,
    population_label: str = "population",
) -> folium.Map:
    """Map of a hub placement (:class:`fietsstad.hubs.HubPlacement`) and its catchments.

    Parameters
    ----------
    placement
        Result of :func:`fietsstad.hubs.place_hubs`.
    catchments
        Result of :func:`fietsstad.hubs.hub_catchments` (optional): drawn as one layer per band.
    path
        If given, the HTML is written there (atomically).
    net
        The network the placement was made on; needed to draw covered and uncovered population
        (aggregated into ``cell_m`` square cells).
    tiles, title
        Background tiles (None for none) and title.
    cell_m
        Cell size in metres for the population layers.
    population_label
        What the placement's demand counts, for the labels (e.g. ``"inhabitants"``, or
        ``"network nodes"`` when every node weighs 1).

    Returns
    -------
    folium.Map

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.hubs import hub_candidates, place_hubs
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> pl = place_hubs(net, hub_candidates(net.x[:4], net.y[:4]), np.ones(net.n_nodes), k=1)
    >>> type(hubs_map(pl, net=net)).__name__
    'Map'
    """
    import folium

    hubs = placement.hubs
    cands = placement.candidates
    generated = bool(
        placement.generated or (catchments is not None and catchments.attrs.get("generated", False))
    )
    pts = cands.geometry
    b = [float(pts.x.min()), float(pts.y.min()), float(pts.x.max()), float(pts.y.max())]
    if net is not None:
        b = [
            min(b[0], net.x.min()),
            min(b[1], net.y.min()),
            max(b[2], net.x.max()),
            max(b[3], net.y.max()),
        ]
    elif catchments is not None and len(catchments):
        cb = catchments.total_bounds
        b = [min(b[0], cb[0]), min(b[1], cb[1]), max(b[2], cb[2]), max(b[3], cb[3])]
    ttl = title or f"Mobility hubs: {placement.k} new hub(s), {placement.method} placement"
    m = st.base_map((float(b[0]), float(b[1]), float(b[2]), float(b[3])), tiles=tiles, title=ttl)
    popl = str(population_label)
    legends: list[str] = []

    if catchments is not None and len(catchments):
        bands = sorted(catchments["minutes"].unique(), reverse=True)
        band_cols = [
            st.BAND_COLORS[min(len(bands) - 1 - bi, len(st.BAND_COLORS) - 1)]
            for bi in range(len(bands))
        ]
        legends.append(
            st.legend(
                "Catchments (area reached from a hub)",
                band_cols[::-1],
                [f"within {st.fmt(band, 0)} min by bike" for band in bands[::-1]],
            )
        )
        for band, col in zip(bands, band_cols):
            fg = folium.FeatureGroup(name=f"Catchment: within {st.fmt(band, 0)} min by bike")
            for _, row in catchments[catchments["minutes"] == band].iterrows():
                if row.geometry is None or row.geometry.is_empty:
                    continue
                tip = (
                    f"<b>{st.esc(row['hub'])}</b><br>within {st.fmt(band, 0)} min by bike<br>"
                    f"{st.esc(popl)} {st.fmt(row['population'], 0)}<br>{int(row['nodes'])} nodes, "
                    f"{st.fmt(row['area_km2'], 2)} km²"
                )
                folium.GeoJson(
                    row.geometry.__geo_interface__,
                    style_function=lambda f, c=col: {
                        "fillColor": c,
                        "color": "#1b7837",
                        "weight": 1,
                        "fillOpacity": 0.35,
                    },
                    tooltip=folium.Tooltip(tip),
                ).add_to(fg)
            fg.add_to(m)

    if net is not None:
        lon, lat = net.x, net.y
        cx, cy, cov, unc = _population_cells(
            lon, lat, placement.node_population, placement.node_covered.astype(np.float64), cell_m
        )
        within = f"within {st.fmt(placement.minutes, 0)} min of a hub"
        _points_layer(cx, cy, cov, f"Population {within}", COVERED_COLOR).add_to(m)
        _points_layer(cx, cy, unc, "Population not covered", UNCOVERED_COLOR).add_to(m)
        legends.append(
            st.legend(
                f"Population ({popl}) per {st.fmt(cell_m, 0)} m cell; dot size ∝ count",
                [COVERED_COLOR, UNCOVERED_COLOR],
                [within, "not covered"],
                "dot",
            )
        )

    other = folium.FeatureGroup(name="Candidates not chosen", show=True)
    for _, row in cands[~cands["chosen"]].iterrows():
        tip = (
            f"<b>{st.esc(row['name'])}</b> ({st.esc(row['kind'])})<br>not chosen<br>"
            f"alone it covers {st.fmt(row['alone'], 0)}"
            + ("<br><i>position approximate</i>" if bool(row.get("approximate", False)) else "")
        )
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=5,
            color="#555",
            weight=1,
            fill=True,
            fill_color=CANDIDATE_COLOR,
            fill_opacity=0.9,
            tooltip=folium.Tooltip(tip),
        ).add_to(other)
    other.add_to(m)
    chosen = folium.FeatureGroup(name="Chosen hubs")
    for _, row in hubs.iterrows():
        tip = (
            f"<b>#{int(row['rank'])} {st.esc(row['name'])}</b> ({st.esc(row['kind'])})"
            + (" — existing (fixed)" if bool(row["fixed"]) else "")
            + f"<br>marginal gain {st.fmt(row['marginal_gain'], 0)}"
            f"<br>covered after this hub {st.fmt(row['covered_after'], 0)}"
            f"<br>alone {st.fmt(row['alone'], 0)}"
            + ("<br><i>position approximate</i>" if bool(row.get("approximate", False)) else "")
        )
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=10,
            color="#000",
            weight=2,
            fill=True,
            fill_color=HUB_COLOR if not row["fixed"] else FIXED_HUB_COLOR,
            fill_opacity=0.95,
            tooltip=folium.Tooltip(tip),
        ).add_to(chosen)
    chosen.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    site_rows = [(HUB_COLOR, "Chosen new hub")]
    if len(hubs) and bool(hubs["fixed"].any()):
        site_rows.append((FIXED_HUB_COLOR, "Existing hub (fixed)"))
    if bool((~cands["chosen"]).any()):
        site_rows.append((CANDIDATE_COLOR, "Candidate site not chosen"))
    legends.insert(
        0,
        st.legend("Hub sites", [c for c, _ in site_rows], [lab for _, lab in site_rows], "dot"),
    )

    curve = placement.coverage_curve
    n = [int(i) for i in curve.index]
    series = {
        "optimal (MILP)" if placement.method == "exact" else "greedy": curve["covered"]
        .astype(float)
        .tolist()
    }
    if placement.method == "exact":
        series["greedy"] = curve["greedy"].astype(float).tolist()
    total = float(placement.total_population)
    rows = "".join(
        f"<tr><td>{i}</td><td style='text-align:right'>{st.fmt(curve.loc[i, 'covered'], 0)}</td>"
        f"<td style='text-align:right'>{st.fmt(100 * curve.loc[i, 'share'])} %</td></tr>"
        for i in n
    )
    inner = (
        "<hr style='margin:4px 0'>".join(legends)
        + "<hr style='margin:4px 0'>"
        + f"<b>Coverage curve</b> ({st.esc(popl)} within {st.fmt(placement.minutes, 0)} min "
        f"by bike, of {st.fmt(total, 0)})<br>"
        + st.curve_svg(n, series, total)
        + "<table><tr><th>new hubs</th><th>covered</th><th>share</th></tr>"
        + rows
        + "</table>"
    )
    st.add_html(m, st.panel(inner, name="curve"), "fietsstad_curve")
    sub = (
        f"{st.fmt(100 * placement.share_covered)} % of the {popl} within "
        f"{st.fmt(placement.minutes, 0)} min by bike of a hub"
    )
    if net is not None and not generated:
        sub += f"; network: {st.network_label(net.meta)}"
    st.add_html(m, st.title_box(ttl, sub, generated), "fietsstad_title")
    if path is not None:
        save_map(m, path)
    return m


__all__ = ["snelfietspad_map", "hubs_map", "save_map", "MAX_EDGES"]
