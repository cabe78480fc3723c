"""Bike networks from OpenStreetMap: by place name, polygon (osmnx download) or local file.

:func:`load_network` is the one entry point. Whatever the input, the way/node tables
(:mod:`fietsstad._osm_read`) go through the same builder:

1. the cycling rules (:mod:`fietsstad.rules`) turn each way into directed segments
   (forward/backward along the node order, infrastructure, unpaved, contraflow);
2. node tags add junction delays on the edge *into* a node: the profile's ``signal_delay_s`` at
   traffic signals, its ``crossing_delay_s`` where a minor way enters a node of a main road;
   signal (crossing) nodes within ``rules.JUNCTION_RADIUS_M`` of each other form one junction
   (:func:`junction_labels`), and an edge between two nodes of one junction pays nothing, so a
   route pays each junction once;
3. the segments form an osmnx-style ``MultiDiGraph`` with haversine ``length``; with
   ``simplify=True`` :func:`osmnx.simplify_graph` removes interstitial nodes. Nodes with a delay
   are kept as nodes, so delays stay where they happen and :meth:`BikeNetwork.with_profile` can
   re-cost them; a chain is merged only where both directions keep infrastructure, surface and
   contraflow flag;
4. :meth:`BikeNetwork.from_edges` costs the edges for the profile and
   :meth:`BikeNetwork.largest_scc` keeps the largest strongly connected component (the dropped
   nodes and km are recorded in ``meta``).

Downloads use osmnx (Nominatim + Overpass) with its HTTP cache under
``settings.cache_dir / "osmnx"``; the built network is cached too, so a second run needs no
network. Offline, a place load fails within seconds with :class:`PlaceNotFoundError`.

Example
-------
>>> import fietsstad
>>> net = fietsstad.load_network(file="tests/fixtures/osm/rules.osm")  # doctest: +SKIP
>>> net.meta["source"]  # doctest: +SKIP
'osm-file:rules.osm'
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from fietsstad import settings
from fietsstad._cache import cache_key, cache_path, cached
from fietsstad._geo import haversine_m as _haversine
from fietsstad.errors import (
    CRSError,
    GraphError,
    NetworkWarning,
    NoRideableNetworkError,
    PlaceNotFoundError,
    ValidationError,
)
from fietsstad.network._osm_read import (
    OsmTables,
    graph_to_tables,
    input_kind,
    read_graphml,
    read_osm_file,
)
from fietsstad.network.bikenetwork import GRAPHML_MARK, BikeNetwork, travel_time_seconds
from fietsstad.network.profiles import Profile, get_profile
from fietsstad.network.rules import (
    JUNCTION_RADIUS_M,
    NODE_TAGS,
    RULES_VERSION,
    WAY_TAGS,
    WayRule,
    classify_way,
    node_has_signal,
)
from fietsstad.zwolle import ZWOLLE_PLACE

#: The municipality of Zwolle, as Nominatim knows it (:data:`fietsstad.zwolle.ZWOLLE_PLACE`).
ZWOLLE: str = ZWOLLE_PLACE
#: OSM attribution every OSM-built network carries in ``meta``.
ATTRIBUTION: str = "© OpenStreetMap contributors, ODbL"
#: Overpass way filter: every highway that might be rideable, plus the main roads that are not
#: (their nodes carry crossing delays). The cycling rules decide the rest.
CUSTOM_FILTER: str = (
    '["highway"]["area"!~"yes"]["highway"!~"motorway|motorway_link|construction|proposed|'
    "planned|abandoned|razed|platform|raceway|bus_guideway|elevator|escalator|corridor|"
    'rest_area|services|bus_stop"]'
)
_NETWORK_TYPE = "fietsstad"
_ALTERNATIVES = (
    "work offline with a local extract, load_network(file='area.osm.pbf') (or .osm, .osm.bz2, "
    ".graphml), or with a GENERATED network, fietsstad.generate_network(n_nodes=..., seed=...)"
)


def _no_step(label: str) -> None:
    return None


# ---------------------------------------------------------------------------------- public API
def load_network(
    place: str | None = None,
    *,
    file: str | os.PathLike | None = None,
    polygon: Any = None,
    profile: str | Profile = "bike",
    simplify: bool = True,
    cache: bool = True,
) -> BikeNetwork:
    """Build the bicycle network of a place, a polygon or an OSM file.

    Parameters
    ----------
    place
        A place name Nominatim can geocode to a polygon, e.g. :data:`ZWOLLE`.
    file
        A local ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf`` or osmnx ``.graphml`` file.
    polygon
        A shapely (Multi)Polygon in lon/lat, or a GeoDataFrame/GeoSeries in any CRS (reprojected
        to EPSG:4326), e.g. ``fietsstad.zwolle_study_area()``.
    profile
        Cyclist profile name (``"bike"``, ``"ebike"``, ``"speed_pedelec"``) or a Profile.
    simplify
        Merge interstitial nodes (osmnx topology simplification).
    cache
        Use (and fill) the on-disk cache of built networks for place/polygon loads
        (also governed by :data:`fietsstad.settings.use_cache`).

    Returns
    -------
    BikeNetwork
        The largest strongly connected component; ``meta`` says where it came from.

    Raises
    ------
    ValidationError
        Not exactly one of ``place``, ``file``, ``polygon``.
    InputFileError
        Missing, empty, unknown or corrupt file.
    NoRideableNetworkError
        No way a cyclist may ride.
    PlaceNotFoundError
        Geocoding or download failed (for example offline); the message names the alternatives.
    CRSError
        A polygon whose coordinates are not lon/lat.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.load_network(file="tests/fixtures/osm/rules.osm")  # doctest: +SKIP
    >>> net = fietsstad.load_network(fietsstad.osm.ZWOLLE, profile="ebike")  # doctest: +SKIP
    """
    given = [
        name
        for name, val in (("place", place), ("file", file), ("polygon", polygon))
        if val is not None
    ]
    if len(given) != 1:
        raise ValidationError(
            "pass exactly one of place=..., file=... or polygon=... (got "
            f"{', '.join(given) or 'none'}); e.g. load_network(fietsstad.osm.ZWOLLE)"
        )
    prof = get_profile(profile)
    if file is not None:
        if not isinstance(file, (str, os.PathLike)):
            raise ValidationError(
                f"file must be a path (str or pathlib.Path), got {type(file).__name__}"
            )
        name = Path(file).name
        if input_kind(file) == "graphml" and _is_fietsstad_graphml(file):
            net = BikeNetwork.read_graphml(file)  # written by BikeNetwork.to_file: exact
            return net if net.profile == prof.name else net.with_profile(prof)
        with _progress(f"network from {name}", 5) as step:
            kind = input_kind(file)
            tables = read_graphml(file) if kind == "graphml" else read_osm_file(file)
            step("applying the cycling rules")
            return network_from_tables(
                tables,
                profile=prof,
                simplify=simplify,
                meta={
                    "source": f"osm-file:{name}",
                    "file": str(file),
                    "description": f"OpenStreetMap file {name}",
                },
                _step=step,
            )
    if place is not None:
        if not isinstance(place, str) or not place.strip():
            raise ValidationError(f"place must be a non-empty string, got {place!r}")
        area: Any = place.strip()
        label = {"place": area}
    else:
        area = _clean_polygon(polygon)
        label = {"polygon": area.wkt if len(area.wkt) < 2000 else area.wkt[:2000] + "..."}
    path = network_cache_path(
        place=area if place is not None else None,
        polygon=area if polygon is not None else None,
        profile=prof,
        simplify=simplify,
    )

    def build() -> BikeNetwork:
        with _progress("OpenStreetMap download", 5) as step:
            G = _download_graph(
                place=area if place is not None else None,
                polygon=area if polygon is not None else None,
            )
            step("applying the cycling rules")
            return _graph_network(G, step)

    def _graph_network(G: Any, step: Any) -> BikeNetwork:
        desc = (
            f"OpenStreetMap download of {place}"
            if place is not None
            else ("OpenStreetMap download of a polygon")
        )
        tables = graph_to_tables(G)
        meta = {"source": "osm", "description": desc, **label}
        return network_from_tables(tables, profile=prof, simplify=simplify, meta=meta, _step=step)

    # the file name is the key, and the entry records it: a file of another place, polygon,
    # profile or version at this path is never returned (rebuilt, or a CacheError offline)
    return cached(
        path,
        build,
        load=BikeNetwork.load,
        save=lambda net, p, **kw: net.save(p, **kw),
        use_cache=cache and settings.use_cache,
        key=path.stem,
    )


def _is_fietsstad_graphml(path: str | os.PathLike) -> bool:
    """True if a .graphml file was written by :meth:`BikeNetwork.to_file` (its key is declared
    in the file's head); such a file is read back exactly instead of through the cycling rules."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return False
    return f'attr.name="{GRAPHML_MARK}"'.encode() in head


def network_cache_path(
    place: str | None = None,
    *,
    polygon: Any = None,
    profile: str | Profile = "bike",
    simplify: bool = True,
) -> Path:
    """Where :func:`load_network` caches the network built for a place or polygon.

    The key hashes the place (or the polygon's WKT), the profile, ``simplify``, the fietsstad
    version and :data:`fietsstad.rules.RULES_VERSION`, so a change to any of them rebuilds. The
    file name is the key, and the entry records it too: a file of another entry copied or
    renamed to this path is refused. The folder is not created here (the first write does), so
    this never fails on a read-only or missing cache folder.

    Example
    -------
    >>> network_cache_path("Zwolle").suffix
    '.fsa'
    """
    from fietsstad._data import VERSION as __version__

    prof = get_profile(profile)
    if place is not None and not isinstance(place, str):
        raise ValidationError(f"place must be a string, got {type(place).__name__}")
    area = place.strip() if place is not None else _clean_polygon(polygon).wkt
    key = cache_key(
        "osm-network",
        "place" if place is not None else "polygon",
        area,
        prof.name,
        repr(prof),
        bool(simplify),
        __version__,
        RULES_VERSION,
    )
    return cache_path("networks", key, create=False)


def network_from_graph(
    G: Any,
    *,
    profile: str | Profile = "bike",
    simplify: bool = True,
    meta: dict[str, Any] | None = None,
) -> BikeNetwork:
    """Build a network from an osmnx ``MultiDiGraph`` (download or ``ox.load_graphml``).

    The graph is turned back into ways (see :func:`fietsstad._osm_read.graph_to_tables`) and the
    cycling rules applied, exactly as for a file.

    Example
    -------
    >>> import osmnx as ox
    >>> G = ox.graph_from_xml("tests/fixtures/osm/rules.osm", simplify=False)  # doctest: +SKIP
    >>> network_from_graph(G).meta["source"]  # doctest: +SKIP
    'osm'
    """
    m = {"source": "osm", "description": "OpenStreetMap data from an osmnx graph"}
    m.update(meta or {})
    return network_from_tables(graph_to_tables(G), profile=profile, simplify=simplify, meta=m)


def network_from_tables(
    tables: OsmTables,
    *,
    profile: str | Profile = "bike",
    simplify: bool = True,
    meta: dict[str, Any] | None = None,
    _step: Any = _no_step,
) -> BikeNetwork:
    """Apply the cycling rules to way/node tables and build the costed network.

    Example
    -------
    >>> from fietsstad.network._osm_read import read_osm_file
    >>> net = network_from_tables(read_osm_file("tests/fixtures/osm/rules.osm"))  # doctest: +SKIP
    """
    prof = get_profile(profile)
    seg = _segments(tables, prof)
    _step("building the graph")
    G = _segment_graph(seg, tables)
    _step("simplifying (osmnx)" if simplify else "costing")
    if simplify:
        G = _simplify(G)
    _step("costing, largest strongly connected component")
    net = _graph_to_network(G, prof, tables)
    before = net.n_nodes
    km_before = float(net.length.astype(np.float64).sum()) / 1e3
    net = net.largest_scc()
    _warn_if_degenerate(net, before, km_before, seg, tables)
    _step("done")
    m = {
        "source": "osm",
        "generated": False,
        "attribution": ATTRIBUTION,
        "rules_version": RULES_VERSION,
        "simplified": bool(simplify),
        "osm_ways_read": len(tables.way_ids),
        "osm_ways_rideable": int(seg["n_ways"]),
        "nodes_before_scc": before,
        "missing_node_refs": int(tables.missing_refs),
    }
    m.update(meta or {})
    m["generated"] = False
    net.meta.update(m)
    return net


def _warn_if_degenerate(
    net: BikeNetwork, before: int, km_before: float, seg: dict[str, Any], tables: OsmTables
) -> None:
    """NetworkWarning when the largest strongly connected component keeps less than
    ``settings.min_scc_share`` of the nodes or of the length of the rideable network built."""
    share = float(settings.min_scc_share)
    km = float(net.length.astype(np.float64).sum()) / 1e3
    node_share = net.n_nodes / before if before else 1.0
    km_share = km / km_before if km_before > 0 else 1.0
    if node_share >= share and km_share >= share:
        return
    one_way = int(np.count_nonzero(~_has_reverse(seg["u"], seg["v"])))
    warnings.warn(
        f"{tables.source or 'the input'}: the network keeps only {net.n_nodes:,} of {before:,} "
        f"nodes ({node_share:.1%}) and {km:,.2f} of {km_before:,.2f} km ({km_share:.1%}) after "
        "keeping the largest strongly connected component (the part where every node can reach "
        f"every other): the rest was dropped because it cannot be ridden both ways round "
        f"({one_way:,} of {len(seg['u']):,} rideable segments are one-way for bikes, with no way "
        "back) or is not connected to it. Check the area (a clipped or fragmented extract?); "
        "meta['dropped_nodes'] / meta['dropped_km'] hold the numbers; threshold: "
        "fietsstad.settings.min_scc_share",
        NetworkWarning,
        stacklevel=3,
    )


def _has_reverse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each directed segment u -> v: is v -> u a segment too?"""
    present = set(zip(u.tolist(), v.tolist()))
    return np.fromiter(((b, a) in present for a, b in zip(u.tolist(), v.tolist())), bool, len(u))


@contextlib.contextmanager
def osmnx_settings() -> Iterator[None]:
    """Temporarily configure osmnx the way fietsstad downloads: every tag the rules read,
    raw ``oneway`` tags kept, HTTP cache under fietsstad's cache dir, short timeouts, no DoH,
    and no 55-second sleep-and-retry when a server answers 429/504 (it fails instead).

    ``ox.settings.all_oneway = True`` makes osmnx store each way once, in node order, with its
    raw ``oneway`` tag (a bidirectional network type would overwrite that tag with ``False``),
    so the cycling rules, not osmnx, decide the directions.

    Example
    -------
    >>> import osmnx as ox
    >>> with osmnx_settings():
    ...     "oneway:bicycle" in ox.settings.useful_tags_way
    True
    """
    import osmnx as ox

    names = (
        "requests_kwargs",
        "useful_tags_way",
        "useful_tags_node",
        "all_oneway",
        "use_cache",
        "cache_folder",
        "requests_timeout",
        "overpass_rate_limit",
        "doh_url_template",
        "log_console",
    )
    saved = {k: getattr(ox.settings, k) for k in names}
    try:
        ox.settings.useful_tags_way = sorted(set(ox.settings.useful_tags_way) | set(WAY_TAGS))
        ox.settings.useful_tags_node = sorted(set(ox.settings.useful_tags_node) | set(NODE_TAGS))
        ox.settings.all_oneway = True
        ox.settings.use_cache = True
        ox.settings.cache_folder = str(Path(settings.cache_dir) / "osmnx")
        ox.settings.requests_timeout = float(settings.download_timeout_s)
        ox.settings.overpass_rate_limit = False
        ox.settings.doh_url_template = None
        ox.settings.log_console = False
        kwargs = dict(saved["requests_kwargs"] or {})
        kwargs["hooks"] = {"response": [_refuse_busy_server]}
        ox.settings.requests_kwargs = kwargs
        yield
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)


# ---------------------------------------------------------------------------------- progress
@contextlib.contextmanager
def _progress(desc: str, total: int) -> Iterator[Any]:
    """A tqdm bar over the build steps (when ``settings.progress``); yields ``step(label)``."""
    bar = None
    if settings.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="step", leave=False, file=sys.stderr)

    def step(label: str) -> None:
        if bar is not None:
            bar.set_postfix_str(label)
            bar.update(1)

    try:
        yield step
    finally:
        if bar is not None:
            bar.close()


# ---------------------------------------------------------------------------------- download
def _refuse_busy_server(response: Any, *args: Any, **kwargs: Any) -> Any:
    """requests hook: fail on 429/504 instead of letting osmnx sleep 55 s and retry forever."""
    import requests

    if response.status_code in (429, 504):
        raise requests.HTTPError(
            f"{response.url.split('?')[0]} answered {response.status_code} (server busy); "
            "try again later",
            response=response,
        )
    return response


def _clean_polygon(polygon: Any) -> Any:
    """A shapely (Multi)Polygon in lon/lat from a shapely geometry or GeoDataFrame/GeoSeries."""
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, Polygon

    from fietsstad._validate import ensure_crs_4326

    if isinstance(polygon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geoms = ensure_crs_4326(polygon, "polygon")
        polygon = (geoms.geometry if isinstance(geoms, gpd.GeoDataFrame) else geoms).union_all()
    if not isinstance(polygon, (Polygon, MultiPolygon)):
        raise ValidationError(
            f"polygon must be a shapely Polygon/MultiPolygon or a GeoDataFrame, got "
            f"{type(polygon).__name__}"
        )
    if polygon.is_empty or not polygon.is_valid:
        raise ValidationError("polygon is empty or invalid (self-intersecting?); fix it first")
    x0, y0, x1, y1 = polygon.bounds
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise CRSError(
            f"polygon bounds {[round(v, 3) for v in polygon.bounds]} are not lon/lat (EPSG:4326); "
            "pass a GeoDataFrame with its CRS set (e.g. EPSG:28992) so it can be reprojected"
        )
    return polygon


def _download_graph(place: str | None = None, polygon: Any = None) -> Any:
    """Download the raw OSM ways of a place or polygon as an osmnx graph (all_oneway mode)."""
    import osmnx as ox
    import requests

    what = f"place {place!r}" if place is not None else "the polygon"
    try:
        with osmnx_settings():
            kw: dict[str, Any] = {
                "network_type": _NETWORK_TYPE,
                "custom_filter": CUSTOM_FILTER,
                "simplify": False,
                "retain_all": True,
                "truncate_by_edge": True,
            }
            if place is not None:
                return ox.graph_from_place(place, **kw)
            return ox.graph_from_polygon(polygon, **kw)
    except (requests.RequestException, OSError, ValueError, TypeError, LookupError) as err:
        # ValueError covers osmnx's InsufficientResponseError / ResponseStatusCodeError
        raise PlaceNotFoundError(
            f"could not download OpenStreetMap data for {what} ({type(err).__name__}: {err}). "
            f"Offline or unknown place? Alternatives: {_ALTERNATIVES}"
        ) from err


# ---------------------------------------------------------------------------------- building
@lru_cache(maxsize=8192)
def _rule(items: tuple[tuple[str, str], ...]) -> WayRule:
    return classify_way(dict(items))


def _segments(tables: OsmTables, prof: Profile) -> dict[str, Any]:
    """Directed segments (OSM node ids) of all rideable ways, with their attributes."""
    node_ids = tables.node_ids
    main_nodes: list[np.ndarray] = []
    parts: dict[str, list] = {
        k: [] for k in ("u", "v", "infra", "contra", "unpaved", "way", "main")
    }
    names: list[str] = []
    n_ways = 0
    for wid, tags, nodes in zip(tables.way_ids, tables.way_tags, tables.way_nodes):
        rule = _rule(tuple(sorted(tags.items())))
        if rule.main_road:
            main_nodes.append(nodes)
        if not rule.rideable or len(nodes) < 2:
            continue
        a, b = nodes[:-1], nodes[1:]
        pos_a = np.searchsorted(node_ids, a).clip(0, max(len(node_ids) - 1, 0))
        pos_b = np.searchsorted(node_ids, b).clip(0, max(len(node_ids) - 1, 0))
        ok = (a != b) & (node_ids[pos_a] == a) & (node_ids[pos_b] == b) if len(node_ids) else a < a
        if not ok.any():
            continue
        a, b = a[ok], b[ok]
        n_ways += 1
        for d, (s, t) in ((rule.forward, (a, b)), (rule.backward, (b, a))):
            if not d.rideable:
                continue
            k = len(s)
            parts["u"].append(s)
            parts["v"].append(t)
            parts["infra"].append(np.full(k, int(d.infra), np.int8))
            parts["contra"].append(np.full(k, d.contraflow, bool))
            parts["unpaved"].append(np.full(k, rule.unpaved, bool))
            parts["way"].append(np.full(k, wid, np.int64))
            parts["main"].append(np.full(k, rule.main_road, bool))
            names.extend([tags.get("name", "")] * k)
    if not parts["u"]:
        raise NoRideableNetworkError(
            f"{tables.source or 'the input'} holds no way a cyclist may ride under the fietsstad "
            f"cycling rules ({len(tables.way_ids)} highway ways read); see docs/cycling_rules.md"
        )
    seg: dict[str, Any] = {k: np.concatenate(v) for k, v in parts.items()}
    seg["name"] = np.asarray(names, dtype=object)
    seg["n_ways"] = n_ways
    # junction delays on the edge into the head node
    signal_ids = np.array(
        sorted(n for n, t in tables.node_tags.items() if node_has_signal(t)), dtype=np.int64
    )
    main_ids = np.unique(np.concatenate(main_nodes)) if main_nodes else np.zeros(0, np.int64)
    head_signal = np.isin(seg["v"], signal_ids)
    head_cross = np.isin(seg["v"], main_ids) & ~seg["main"] & ~head_signal
    # a junction's delay is paid once: a segment between two nodes of one junction pays none
    same_signal, same_cross = _within_junction(seg["u"], seg["v"], head_signal, head_cross, tables)
    seg["delay"] = np.where(
        head_signal & ~same_signal,
        round(prof.signal_delay_s),
        np.where(head_cross & ~same_cross, round(prof.crossing_delay_s), 0),
    ).astype(np.int32)
    seg["signal_ids"] = signal_ids
    seg["keep_ids"] = np.union1d(signal_ids, np.unique(seg["v"][head_cross]))
    return seg


def _within_junction(
    u: np.ndarray,
    v: np.ndarray,
    head_signal: np.ndarray,
    head_cross: np.ndarray,
    tables: OsmTables,
    radius_m: float = JUNCTION_RADIUS_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Which directed segments ``u -> v`` run inside one signalled junction / one crossing.

    Signal nodes (heads of ``head_signal`` segments) are grouped into junctions, and crossing
    nodes (heads of ``head_cross`` segments) separately into crossings, by
    :func:`junction_labels`. A segment whose head is a signal (crossing) node pays no delay when
    its tail belongs to the same junction (crossing): the route paid on entering it.

    Returns
    -------
    same_signal, same_cross : bool arrays, one value per segment
    """
    used, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    pu, pv = inv[: len(u)], inv[len(u) :]
    pos = np.searchsorted(tables.node_ids, used)
    lon, lat = tables.lon[pos], tables.lat[pos]
    out = []
    for head in (head_signal, head_cross):
        member = np.zeros(len(used), dtype=bool)
        member[pv[head]] = True
        label = junction_labels(lon, lat, member, pu, pv, radius_m)
        out.append(head & (label[pv] >= 0) & (label[pu] == label[pv]))
    return out[0], out[1]


def junction_labels(
    lon: np.ndarray,
    lat: np.ndarray,
    member: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    radius_m: float = JUNCTION_RADIUS_M,
) -> np.ndarray:
    """Group delay nodes into junctions: one label per node, -1 outside every junction.

    Member nodes closer than ``radius_m`` to each other form one junction (transitively, union-
    find) when they are also connected by segments through the junction's surroundings (nodes
    within ``radius_m`` of a member), so two signals on unrelated roads that merely lie close
    (a bridge over a street) stay apart. A node that is not a member but lies within
    ``radius_m`` of one joins a junction when every way out of its group of such nodes leads to
    that junction (the nodes of a short crossing between two signals, the median between two
    carriageways): it can only be reached through the junction. Distances
    are in metres on a local equirectangular projection (KD-tree, vectorised).

    Parameters
    ----------
    lon, lat
        Node coordinates, degrees.
    member
        Bool per node: a delay node (signal or crossing) to be grouped.
    u, v
        Segments as node positions (either direction; the grouping is undirected).
    radius_m
        Junction radius (:data:`fietsstad.network.rules.JUNCTION_RADIUS_M`).

    Returns
    -------
    numpy.ndarray
        int64 label per node: the junction (0, 1, ...) or -1.

    Example
    -------
    >>> import numpy as np
    >>> lat = np.full(4, 52.5)
    >>> lon = 6.0 + np.array([0.0, 0.0002, 0.0004, 0.0034])  # 0, 14, 27, 231 m east
    >>> member = np.array([True, False, True, True])
    >>> u, v = np.array([0, 1, 2]), np.array([1, 2, 3])
    >>> junction_labels(lon, lat, member, u, v).tolist()  # 0 and 2 are 27 m apart: too far
    [0, -1, 1, 2]
    >>> junction_labels(lon, lat, member, u, v, radius_m=30.0).tolist()  # now 1 lies inside
    [0, 0, 0, 1]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(lon)
    label = np.full(n, -1, dtype=np.int64)
    cand = np.flatnonzero(member)
    if len(cand) == 0:
        return label
    lon0 = float(np.mean(lon[cand]))
    r_earth = 6_371_008.8
    xy = np.column_stack(
        (r_earth * np.deg2rad(lon - lon0) * np.cos(np.deg2rad(lat)), r_earth * np.deg2rad(lat))
    )
    tree = cKDTree(xy[cand])
    pairs = tree.query_pairs(radius_m, output_type="ndarray").reshape(-1, 2)
    near = np.isfinite(tree.query(xy, distance_upper_bound=radius_m)[0])
    # connectivity through the junction's surroundings: segments between near nodes
    local = near[u] & near[v] & (u != v)

    def components(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
        m = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(size, size)).tocsr()
        return connected_components(m, directed=False)[1]

    comp = components(u[local], v[local], n)
    ok = comp[cand[pairs[:, 0]]] == comp[cand[pairs[:, 1]]]
    label[cand] = components(pairs[ok, 0], pairs[ok, 1], len(cand))
    # interior nodes: connected groups of non-member nodes near a member whose every link to
    # the rest of the network goes to one junction (the chain of nodes of a short crossing
    # between two signals, the median between two carriageways) belong to that junction
    inner = (label < 0) & near
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    a, b = a[a != b], b[a != b]
    links = inner[a] & inner[b]
    part = components(a[links], b[links], n)
    out = inner[a] & ~inner[b]
    big = np.iinfo(np.int64).max
    lo = np.full(n, big, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, part[a[out]], label[b[out]])
    np.maximum.at(hi, part[a[out]], label[b[out]])
    one = (lo == hi) & (hi >= 0)
    label[inner & one[part]] = hi[part][inner & one[part]]
    return label


def _segment_graph(seg: dict[str, Any], tables: OsmTables) -> Any:
    """An osmnx-style MultiDiGraph of the directed segments (nodes keyed by OSM id)."""
    import networkx as nx

    used = np.unique(np.concatenate([seg["u"], seg["v"]]))
    pos = np.searchsorted(tables.node_ids, used)
    lon, lat = tables.lon[pos], tables.lat[pos]
    pu, pv = np.searchsorted(used, seg["u"]), np.searchsorted(used, seg["v"])
    length = _haversine(lon[pu], lat[pu], lon[pv], lat[pv])
    keep = set(seg["keep_ids"].tolist())
    signals = set(seg["signal_ids"].tolist())
    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_nodes_from(
        (
            nid,
            {
                "x": float(x),
                "y": float(y),
                **({"_keep": True} if nid in keep else {}),
                **({"_signal": True} if nid in signals else {}),
            },
        )
        for nid, x, y in zip(used.tolist(), lon.tolist(), lat.tolist())
    )
    # a direction-free class per physical segment: both directions of a segment carry the same
    # value, so osmnx's edge_attrs_differ does not stop at every node of a contraflow street
    own = [f"{i}{int(c)}{int(p)}" for i, c, p in zip(seg["infra"], seg["contra"], seg["unpaved"])]
    index = {(a, b): k for k, (a, b) in enumerate(zip(seg["u"].tolist(), seg["v"].tolist()))}
    us, vs = seg["u"].tolist(), seg["v"].tolist()
    cls = [
        "|".join(sorted((own[k], own[index[(b, a)]] if (b, a) in index else "-")))
        for k, (a, b) in enumerate(zip(us, vs))
    ]
    G.add_edges_from(
        (
            a,
            b,
            {
                "length": float(ln),
                "delay": int(d),
                "infra": int(i),
                "contraflow": bool(c),
                "unpaved": bool(p),
                "osmid": int(w),
                "name": str(nm),
                "_cls": cl,
            },
        )
        for a, b, ln, d, i, c, p, w, nm, cl in zip(
            us,
            vs,
            length.tolist(),
            seg["delay"].tolist(),
            seg["infra"].tolist(),
            seg["contra"].tolist(),
            seg["unpaved"].tolist(),
            seg["way"].tolist(),
            seg["name"].tolist(),
            cls,
        )
    )
    return G


_DIRECTED_ATTRS = ("infra", "contraflow", "unpaved")


def _simplify(G: Any) -> Any:
    """osmnx topology simplification that never merges across a delay or an attribute change.

    Signal and crossing nodes are kept (``node_attrs_include``). A second pass keeps, as nodes,
    the interior nodes of merged edges that would be wrong or lossy (those edges are split there,
    in both directions, without a second osmnx pass): where the direction-free
    class hides a change of a directed attribute (a lane switching sides: osmnx would store a
    list), and one interior node of every merged edge that would become a self-loop or run
    parallel to another edge between the same two junctions (a cycle path beside a road between
    the same junctions keeps its own geometry, length and category).
    """
    S = _simplify_graph(G)
    # a ring split once leaves its two halves parallel (a -> c one way round and the other):
    # repeat until no merged edge is parallel to another (a few rounds at most)
    for _ in range(8):
        if not _split_lossy_edges(S, G):
            break
    return S


def _is_endpoint(G: Any, node: int) -> bool:
    """osmnx's endpoint rules 1-5 (``osmnx.simplification._is_endpoint``) for ``_keep``/``_cls``."""
    preds, succs = G._pred[node], G._succ[node]
    if node in succs or not preds or not succs:  # self-loop; no way in or no way out
        return True
    n = len(preds.keys() | succs.keys())
    d = sum(len(k) for k in preds.values()) + sum(len(k) for k in succs.values())
    if not (n == 2 and d in (2, 4)):
        return True
    if "_keep" in G.nodes[node]:
        return True
    vals = {e.get("_cls") for ks in preds.values() for e in ks.values()}
    vals.update(e.get("_cls") for ks in succs.values() for e in ks.values())
    return len(vals) > 1


def _build_path(G: Any, endpoint: int, first: int, endpoints: set[int]) -> list[int]:
    """osmnx's ``_build_path`` with a set beside the path: linear instead of quadratic.

    The walk is the same step by step (``x not in path`` is ``x not in on_path``), so the
    chains, and therefore the simplified graph, are identical to osmnx's.
    """
    path = [endpoint, first]
    on_path = {endpoint, first}
    for successor in G.successors(first):
        if successor in on_path:
            continue
        path.append(successor)
        on_path.add(successor)
        while successor not in endpoints:
            nxt = [n for n in G.successors(successor) if n not in on_path]
            if len(nxt) == 1:
                successor = nxt[0]
                path.append(successor)
                on_path.add(successor)
            elif not nxt:
                if endpoint in G._succ[successor]:
                    return [*path, endpoint]  # the end of a self-looping chain
                return path
            else:  # pragma: no cover - a node with two ways on is an endpoint
                raise GraphError(f"impossible simplify pattern near node {successor}")
        return path
    return path


def _simplify_graph(G: Any) -> Any:
    """``osmnx.simplify_graph(G, node_attrs_include=["_keep"], edge_attrs_differ=["_cls"],
    remove_rings=False, track_merged=True, edge_attr_aggs={"length": sum, "delay": sum})``,
    in time linear in the chain lengths (osmnx's path building is quadratic: a way of 100,000
    nodes took 324 s). Same chains, same attribute aggregation, same edge order.
    """
    from itertools import pairwise

    from shapely.geometry import LineString

    aggs = {"length": sum, "delay": sum}
    G = G.copy()
    endpoints = {n for n in G.nodes if _is_endpoint(G, n)}
    remove: set[int] = set()
    add = []
    for endpoint in endpoints:
        for succ in G.successors(endpoint):
            if succ in endpoints:
                continue
            path = _build_path(G, endpoint, succ, endpoints)
            merged = []
            attrs: dict[str, Any] = {}
            for u, v in pairwise(path):
                merged.append((u, v))
                data = next(iter(G._adj[u][v].values()))
                for key, val in data.items():
                    if key in attrs:
                        attrs[key].append(val)
                    else:
                        attrs[key] = [val]
            for key, vals in attrs.items():
                if key in aggs:
                    attrs[key] = aggs[key](vals)
                elif len(set(vals)) == 1:
                    attrs[key] = vals[0]
                else:
                    attrs[key] = list(set(vals))
            nodes = G._node
            attrs["geometry"] = LineString([(nodes[n]["x"], nodes[n]["y"]) for n in path])
            attrs["merged_edges"] = merged
            remove.update(path[1:-1])
            add.append((path[0], path[-1], attrs))
    for u, v, attrs in add:
        G.add_edge(u, v, **attrs)
    G.remove_nodes_from(remove)
    G.graph["simplified"] = True
    return G


def _split_lossy_edges(S: Any, G: Any) -> bool:
    """One round of splitting merged edges of ``S`` (see :func:`_simplify`); True if any."""
    interior_of: dict[int, list[tuple[int, int, int]]] = {}
    cuts: set[int] = set()
    for a, b, k, d in S.edges(keys=True, data=True):
        merged = d.get("merged_edges")
        if not merged or len(merged) < 2:
            continue
        interior = [n for n, _ in merged[1:]]
        for n in interior:
            interior_of.setdefault(n, []).append((a, b, k))
        if any(isinstance(d.get(attr), list) for attr in _DIRECTED_ATTRS):
            cuts.update(interior)
        elif a == b or S.number_of_edges(a, b) > 1:
            cuts.add(min(interior))  # the same node for both directions of a chain
    affected = {e for n in cuts for e in interior_of[n]}
    for a, b, k in affected:
        merged = S.edges[a, b, k]["merged_edges"]
        path = [n for n, _ in merged] + [merged[-1][1]]
        S.remove_edge(a, b, k)
        start = 0
        for i in range(1, len(path)):
            if i == len(path) - 1 or path[i] in cuts:
                _add_piece(S, G, path[start : i + 1])
                start = i
    return bool(affected)


def _add_piece(S: Any, G: Any, path: list[int]) -> None:
    """Add the chain ``path`` of ``G`` to the simplified graph ``S`` as one edge."""
    from shapely.geometry import LineString

    for n in (path[0], path[-1]):
        if n not in S:
            S.add_node(n, **G.nodes[n])
    segs = [next(iter(G.get_edge_data(u, v).values())) for u, v in zip(path[:-1], path[1:])]
    attrs = dict(segs[0])
    attrs["length"] = sum(d["length"] for d in segs)
    attrs["delay"] = sum(d["delay"] for d in segs)
    if len(path) > 2:
        attrs["geometry"] = LineString([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in path])
        attrs["merged_edges"] = list(zip(path[:-1], path[1:]))
    S.add_edge(path[0], path[-1], **attrs)


def _graph_to_network(G: Any, prof: Profile, tables: OsmTables) -> BikeNetwork:
    """Arrays of the (simplified) graph -> BikeNetwork, without self-loops or parallel edges.

    Parallel edges left here are single OSM segments mapped twice (overlapping ways between the
    same two consecutive nodes): only the fastest for the profile is kept (then the shortest),
    so every shortest path is unchanged and the CSR has no duplicate entries (scipy's csgraph
    routines assume canonical matrices). The number dropped is ``meta["parallel_edges_dropped"]``.
    """
    ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    ids.sort()
    x = np.array([G.nodes[n]["x"] for n in ids.tolist()])
    y = np.array([G.nodes[n]["y"] for n in ids.tolist()])
    sig = np.array([bool(G.nodes[n].get("_signal")) for n in ids.tolist()], dtype=bool)
    rows = [(a, b, d) for a, b, d in G.edges(data=True) if a != b]
    m = len(rows)
    u = np.searchsorted(ids, np.fromiter((r[0] for r in rows), np.int64, m))
    v = np.searchsorted(ids, np.fromiter((r[1] for r in rows), np.int64, m))

    def one(val: Any) -> Any:
        return sorted(val, key=str)[0] if isinstance(val, list) else val

    length = np.array([float(d["length"]) for _, _, d in rows])
    infra = np.array([int(one(d["infra"])) for _, _, d in rows], dtype=np.int8)
    unpaved = np.array([bool(one(d["unpaved"])) for _, _, d in rows], dtype=bool)
    delay = np.array([int(d["delay"]) for _, _, d in rows], dtype=np.int32)
    tt = travel_time_seconds(length, prof.speed_array(infra, unpaved), delay)
    order = np.lexsort((length, tt, v, u))
    first = np.ones(m, dtype=bool)
    first[1:] = (u[order][1:] != u[order][:-1]) | (v[order][1:] != v[order][:-1])
    keep = np.sort(order[first])
    geoms = []
    for k in keep.tolist():
        a, b, d = rows[k]
        g = d.get("geometry")
        if g is not None:
            geoms.append(np.asarray(g.coords, dtype=np.float64))
        else:
            ga, gb = G.nodes[a], G.nodes[b]
            geoms.append(np.array([[ga["x"], ga["y"]], [gb["x"], gb["y"]]]))
    kept = [rows[k][2] for k in keep.tolist()]
    return BikeNetwork.from_edges(
        x=x,
        y=y,
        node_id=ids,
        u=u[keep],
        v=v[keep],
        length=length[keep],
        infra=infra[keep],
        delay=delay[keep],
        unpaved=unpaved[keep],
        contraflow=np.array([bool(one(d["contraflow"])) for d in kept], dtype=bool),
        way_id=np.array([int(one(d["osmid"])) for d in kept], dtype=np.int64),
        name=np.array([str(one(d["name"])) for d in kept], dtype=object),
        node_signal=sig,
        geometries=geoms,
        profile=prof,
        meta={"source": "osm", "generated": False, "parallel_edges_dropped": int(m - len(keep))},
    )


__all__ = [
    "ZWOLLE",
    "ATTRIBUTION",
    "CUSTOM_FILTER",
    "load_network",
    "network_cache_path",
    "network_from_graph",
    "network_from_tables",
    "osmnx_settings",
    "junction_labels",
]
