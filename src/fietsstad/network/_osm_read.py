"""Readers of OpenStreetMap input into plain way/node tables (private plumbing of :mod:`osm`).

Every input path ends in the same :class:`OsmTables`: ways (id, the tags the cycling rules read,
node id list in the way's order) and nodes (id, lon, lat, plus the tags of interest). The
builder in :mod:`fietsstad.osm` turns tables into a network, so the same tags give the same
network whichever way they came in:

* :func:`read_osm_file` reads ``.osm``, ``.osm.bz2``, ``.osm.gz`` and ``.osm.pbf`` with pyosmium
  (node locations resolved for ways, also for nodes listed after their ways, as Overpass writes
  them, and for the negative ids of unsaved JOSM objects; references to nodes absent from the
  file are kept in the way's node list but have no coordinates, and the builder splits the way
  there). Deleted elements (``visible="false"``, and JOSM's ``action="delete"``, which pyosmium
  does not report: the XML pre-scan finds them) are skipped; an osmChange file is refused. XML
  is scanned first, streaming, within :data:`fietsstad.settings.max_osm_xml_bytes` (decompressed)
  and :data:`fietsstad.settings.max_osm_xml_token_bytes`; the ways and node references kept are
  bounded by :data:`fietsstad.settings.max_osm_elements`;
* :func:`graph_to_tables` converts an osmnx ``MultiDiGraph`` (a download, or a ``.graphml`` via
  :func:`read_graphml`) back into ways.

Example
-------
>>> from fietsstad.network._osm_read import read_osm_file  # doctest: +SKIP
>>> t = read_osm_file("tests/fixtures/osm/rules.osm")  # doctest: +SKIP
>>> len(t.way_ids) > 0  # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fietsstad import settings
from fietsstad.errors import InputFileError
from fietsstad.network.rules import NODE_TAGS, WAY_TAGS

#: File name endings read with pyosmium.
OSMIUM_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
#: File name endings read with osmnx.
GRAPHML_SUFFIXES: tuple[str, ...] = (".graphml",)
_REVERSED_ONEWAY = {"-1", "reverse", "T"}  # osmnx reverses node order for these oneway values


@dataclass
class OsmTables:
    """Ways and nodes of an OSM input, reduced to what the cycling rules need.

    Attributes
    ----------
    way_ids : list[int]
    way_tags : list[dict[str, str]]  (only the keys in :data:`fietsstad.rules.WAY_TAGS`)
    way_nodes : list[np.ndarray]  int64 node ids in way order
    node_ids, lon, lat : np.ndarray  nodes with a known location (int64 / float64)
    node_tags : dict[int, dict[str, str]]  tags of interest (:data:`fietsstad.rules.NODE_TAGS`)
    source : str  where the tables came from
    missing_refs : int  way node references without a location (the builder splits there)
    """

    way_ids: list[int] = field(default_factory=list)
    way_tags: list[dict[str, str]] = field(default_factory=list)
    way_nodes: list[np.ndarray] = field(default_factory=list)
    node_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    source: str = ""
    missing_refs: int = 0


def input_kind(path: str | os.PathLike) -> str:
    """``"osmium"`` or ``"graphml"`` from a file name; unknown endings raise InputFileError.

    Example
    -------
    >>> input_kind("zwolle.osm.pbf"), input_kind("g.graphml")
    ('osmium', 'graphml')
    """
    name = Path(path).name.lower()
    if name.endswith(OSMIUM_SUFFIXES):
        return "osmium"
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    raise InputFileError(
        f"{path}: unknown file type; fietsstad reads {', '.join(OSMIUM_SUFFIXES + GRAPHML_SUFFIXES)}"
    )


def _check_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if not p.is_file():
        raise InputFileError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise InputFileError(f"{p}: the file is empty")
    return p


_XML_CHUNK = 1 << 20
_XML_NAME = re.compile(rb"[A-Za-z_][^\s/>]*")


def _root_name(head: bytes) -> bytes | None:
    """Name of the first element of an XML document's beginning; None if not there yet."""
    i = 0
    while True:
        i = head.find(b"<", i)
        if i < 0:
            return None
        for start, end in ((b"<!--", b"-->"), (b"<?", b"?>"), (b"<!", b">")):
            if head.startswith(start, i):
                j = head.find(end, i + len(start))
                if j < 0:
                    return None
                i = j + len(end)
                break
        else:
            m = _XML_NAME.match(head, i + 1)
            return m.group(0) if m else b""


def _xml_stream(p: Path) -> Any:
    """The decompressed bytes of an XML input, as pyosmium would read them (by suffix)."""
    import bz2
    import gzip

    name = p.name.lower()
    if name.endswith(".gz"):
        return gzip.open(p, "rb")
    if name.endswith(".bz2"):
        return bz2.open(p, "rb")
    return open(p, "rb")


_START_TAG = re.compile(rb"<(node|way)\s([^>]*)>")
_ACTION_DELETE = re.compile(rb"""\baction\s*=\s*["']delete["']""")
_ID_ATTR = re.compile(rb"""(?:^|\s)id\s*=\s*["'](-?\d+)["']""")


def _deleted_in(buf: bytes, deleted: dict[bytes, set[int]]) -> None:
    """Add the ids of ``<node>``/``<way>`` start tags with ``action="delete"`` (JOSM) in ``buf``."""
    if b"delete" not in buf:
        return
    for m in _START_TAG.finditer(buf):
        attrs = m.group(2)
        if _ACTION_DELETE.search(attrs):
            i = _ID_ATTR.search(attrs)
            if i is not None:
                deleted[m.group(1)].add(int(i.group(1)))


def _scan_xml(p: Path) -> dict[bytes, set[int]]:
    """Stream an OSM XML input once, in 1 MiB pieces, before pyosmium parses it.

    Refuses (InputFileError), with memory bounded by the piece size: a document that decompresses
    to more than ``settings.max_osm_xml_bytes``; a single piece of markup (a comment, an
    attribute, text) longer than ``settings.max_osm_xml_token_bytes`` without a ``<`` (an OSM
    element is a few kB; expat would buffer such a token whole); and an ``<osmChange>`` root
    (a change file, not a map).

    Returns the ids of the nodes and ways a JOSM file marks ``action="delete"`` (deleted in the
    editor, not yet uploaded): pyosmium reads them as ordinary objects, so the reader skips them.
    """
    deleted: dict[bytes, set[int]] = {b"node": set(), b"way": set()}
    carry = b""
    limit = int(settings.max_osm_xml_bytes)
    token = int(settings.max_osm_xml_token_bytes)
    total, last_lt = 0, 0
    tail = b""
    open_at: tuple[int, bytes] | None = None
    head: bytes | None = b""
    try:
        with _xml_stream(p) as fh:
            while True:
                chunk = fh.read(_XML_CHUNK)
                if not chunk:
                    break
                if head is not None:
                    head += chunk
                    root = _root_name(head)
                    if root is not None:
                        if root == b"osmChange":
                            raise InputFileError(
                                f"{p}: this is an OSM change file (<osmChange> with "
                                "create/modify/delete), not a map; apply it to the map it "
                                "changes first (e.g. `osmium apply-changes map.osm.pbf "
                                "change.osc -o new.osm.pbf`) and load the result"
                            )
                        head = None
                    elif len(head) > 4 * _XML_CHUNK:
                        head = None
                open_at = _long_markup(p, chunk, total, tail, open_at, token)
                buf = carry + chunk
                cut = buf.rfind(b"<")
                if cut < 0 or len(buf) - cut > token:
                    cut = len(buf)
                _deleted_in(buf[:cut], deleted)
                carry = buf[cut:]
                tail = chunk[-8:]
                lt = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 60)  # b"<"
                if lt.size:
                    gap = max(int(lt[0]) + total - last_lt, int(np.diff(lt).max(initial=0)))
                    last_lt = total + int(lt[-1])
                else:
                    gap = total + len(chunk) - last_lt
                total += len(chunk)
                if gap > token:
                    raise InputFileError(
                        f"{p}: more than {token:,} bytes of XML without a '<' near byte "
                        f"{total:,} (one huge comment, attribute or text: not OSM data, or a "
                        "decompression bomb); limit: fietsstad.settings.max_osm_xml_token_bytes"
                    )
                if total > limit:
                    raise InputFileError(
                        f"{p}: the XML document is larger than {limit:,} bytes (decompressed); "
                        "refused as too large or a decompression bomb. Convert large extracts "
                        "to .osm.pbf, cut a smaller area (osmium extract), or raise "
                        "fietsstad.settings.max_osm_xml_bytes"
                    )
    except InputFileError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as err:  # truncated or corrupt
        raise InputFileError(f"{p}: cannot read OSM data (truncated or corrupt?): {err}") from err
    _deleted_in(carry, deleted)
    return deleted


_MARKUP_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>"}
_START_LEN = {end: len(start) for start, end in _MARKUP_END.items()}


def _long_markup(
    p: Path, chunk: bytes, total: int, tail: bytes, open_at: tuple[int, bytes] | None, token: int
) -> tuple[int, bytes] | None:
    """Follow comments, CDATA sections and processing instructions across pieces (they may hold
    ``<`` and ``>``, so the gap check cannot see them); refuse one longer than ``token`` bytes.
    ``open_at`` is (start offset, end marker) of one still open. Linear: one ``find`` per marker.
    """
    data, base = tail + chunk, total - len(tail)
    i = 0
    while True:
        if open_at is None:
            hits = [j for j in (data.find(b"<!", i), data.find(b"<?", i)) if j >= 0]
            if not hits:
                return None
            j = min(hits)
            start = next((m for m in _MARKUP_END if data.startswith(m, j)), None)
            if start is None:
                i = j + 2
                continue
            if base + j + len(start) <= total:  # seen (and handled) in the previous piece
                i = j + 1
                continue
            open_at, i = (base + j, _MARKUP_END[start]), j + len(start)
        else:
            i = max(i, open_at[0] - base + _START_LEN[open_at[1]])
            j = data.find(open_at[1], i)
            end = base + (j + len(open_at[1]) if j >= 0 else len(data))
            if end - open_at[0] > token:
                raise InputFileError(
                    f"{p}: a comment, CDATA section or processing instruction of more than "
                    f"{token:,} bytes at byte {open_at[0]:,} (not OSM data, or a decompression "
                    "bomb); limit: fietsstad.settings.max_osm_xml_token_bytes"
                )
            if j < 0:
                return open_at
            i = j + len(open_at[1])
            open_at = None


def _too_many(p: Path, limit: int) -> InputFileError:
    return InputFileError(
        f"{p}: more than {limit:,} highway ways and node references; refused as too large for "
        "one network (or a file of duplicated ways). Cut a smaller area (osmium extract) or "
        "raise fietsstad.settings.max_osm_elements"
    )


def read_osm_file(path: str | os.PathLike) -> OsmTables:
    """Read ways with a ``highway`` tag and their nodes from an OSM XML/PBF file (pyosmium).

    Node locations are resolved whatever the order of the file: nodes listed after the ways
    that use them (Overpass ``out body; >; out skel qt;``) and negative ids (objects not yet
    uploaded from JOSM) are found in a second pass. Deleted elements (``visible="false"``) are
    skipped, and so are nodes and ways a JOSM file marks ``action="delete"`` (pyosmium reads them
    as ordinary objects; the streaming XML pre-scan collects their ids).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.

    Returns
    -------
    OsmTables

    Raises
    ------
    InputFileError
        Missing, empty, unknown extension, truncated or corrupt file; an osmChange file; an XML
        document beyond ``settings.max_osm_xml_bytes`` (decompressed) or with one piece of markup
        beyond ``settings.max_osm_xml_token_bytes``; more than ``settings.max_osm_elements``
        highway ways and node references.

    Example
    -------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "street.osm"
    >>> _ = f.write_text('<osm version="0.6"><node id="1" lat="52.5" lon="6.0"/>'
    ...     '<node id="2" lat="52.5" lon="6.01"/><way id="7"><nd ref="1"/><nd ref="2"/>'
    ...     '<tag k="highway" v="residential"/></way></osm>')
    >>> t = read_osm_file(f)
    >>> t.way_tags[0]["highway"], len(t.way_tags)
    ('residential', 1)
    """
    import osmium

    if input_kind(path) != "osmium":
        raise InputFileError(f"{path}: not an OSM XML/PBF file; use read_graphml for .graphml")
    p = _check_file(path)
    deleted: dict[bytes, set[int]] = {b"node": set(), b"way": set()}
    if not p.name.lower().endswith(".pbf"):
        deleted = _scan_xml(p)
    limit = int(settings.max_osm_elements)
    wanted_way, wanted_node = set(WAY_TAGS), set(NODE_TAGS)
    out = OsmTables(source=p.name)
    # every way node reference in file order: id and fixed-point location (invalid if unknown)
    ref_ids: list[int] = []
    ref_x: list[int] = []
    ref_y: list[int] = []
    count = 0
    try:
        fp = (
            osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter(*sorted(wanted_node | {"highway"})))
        )
        for obj in fp:
            if isinstance(obj, osmium.osm.Changeset) or not obj.visible:  # deleted (history)
                continue
            if isinstance(obj, osmium.osm.Node):
                tags = {t.k: t.v for t in obj.tags if t.k in wanted_node}
                if tags:
                    out.node_tags[obj.id] = tags
                continue
            if (
                not isinstance(obj, osmium.osm.Way)
                or "highway" not in obj.tags
                or obj.id in deleted[b"way"]
            ):
                continue
            nodes = obj.nodes
            count += 1 + len(nodes)
            if count > limit:
                raise _too_many(p, limit)
            start = len(ref_ids)
            for nref in nodes:
                loc = nref.location
                ref_ids.append(nref.ref)
                ref_x.append(loc.x)
                ref_y.append(loc.y)
            out.way_ids.append(int(obj.id))
            out.way_tags.append({t.k: t.v for t in obj.tags if t.k in wanted_way})
            out.way_nodes.append(np.array(ref_ids[start:], dtype=np.int64))
        ids = np.array(ref_ids, dtype=np.int64)
        x = np.array(ref_x, dtype=np.int64)
        y = np.array(ref_y, dtype=np.int64)
        valid = (np.abs(x) <= _MAX_X) & (np.abs(y) <= _MAX_Y)  # osmium's Location.valid()
        uniq, first = np.unique(ids[valid], return_index=True)
        coords: dict[int, tuple[float, float]] = {}
        unresolved = set(np.setdiff1d(ids, uniq).tolist())
        if unresolved:
            _resolve_late_nodes(p, unresolved, coords)
    except InputFileError:
        raise
    except RuntimeError as err:
        raise InputFileError(f"{p}: cannot read OSM data (truncated or corrupt?): {err}") from err
    except (UnicodeDecodeError, ValueError, OSError, osmium.InvalidLocationError) as err:
        raise InputFileError(f"{p}: cannot read OSM data: {err}") from err
    # fixed-point (1e-7 degree) to degrees exactly as osmium's Location.lon / .lat divide
    late = np.fromiter(coords.keys(), dtype=np.int64, count=len(coords))
    late_xy = np.array(list(coords.values()), dtype=np.float64).reshape(-1, 2)
    node_ids = np.concatenate([uniq, late])
    lon = np.concatenate([x[valid][first] / 1e7, late_xy[:, 0]])
    lat = np.concatenate([y[valid][first] / 1e7, late_xy[:, 1]])
    if deleted[b"node"]:  # JOSM action="delete": the location index still knows them
        keep = ~np.isin(node_ids, np.fromiter(deleted[b"node"], dtype=np.int64))
        node_ids, lon, lat = node_ids[keep], lon[keep], lat[keep]
        for n in deleted[b"node"]:
            out.node_tags.pop(n, None)
    order = np.argsort(node_ids, kind="stable")
    out.node_ids, out.lon, out.lat = node_ids[order], lon[order], lat[order]
    if len(ids):
        out.missing_refs = int(np.count_nonzero(~np.isin(ids, out.node_ids)))
    return out


#: osmium's valid fixed-point coordinate range (``Location::valid``)
_MAX_X, _MAX_Y = 180 * 10_000_000, 90 * 10_000_000


def _resolve_late_nodes(p: Path, wanted: set[int], coords: dict[int, tuple[float, float]]) -> None:
    """Second pass: locations of way nodes the first pass could not place.

    pyosmium's location index only knows nodes read *before* a way and ignores negative ids.
    Positive ids are picked in C++ (``IdFilter``); negative ids (JOSM files, small) are looked
    for among all nodes. Deleted nodes stay unresolved.
    """
    import osmium

    positive = sorted(n for n in wanted if n >= 0)
    negative = {n for n in wanted if n < 0}
    runs: list[tuple[Any, set[int]]] = []
    if positive:
        runs.append((osmium.filter.IdFilter(positive), set(positive)))
    if negative:
        runs.append((None, negative))
    for flt, ids in runs:
        fp = osmium.FileProcessor(str(p), osmium.osm.NODE)
        if flt is not None:
            fp = fp.with_filter(flt)
        for obj in fp:
            if not isinstance(obj, osmium.osm.Node):
                continue
            if obj.id in ids and obj.visible and obj.location.valid():
                loc = obj.location
                coords[obj.id] = (loc.lon, loc.lat)


def _set_nodes(out: OsmTables, coords: dict[int, tuple[float, float]]) -> None:
    ids = np.fromiter(coords.keys(), dtype=np.int64, count=len(coords))
    xy = np.array(list(coords.values()), dtype=np.float64).reshape(-1, 2)
    order = np.argsort(ids, kind="stable")
    out.node_ids, out.lon, out.lat = ids[order], xy[order, 0], xy[order, 1]


def read_graphml(path: str | os.PathLike) -> OsmTables:
    """Read an osmnx ``.graphml`` file into tables (see :func:`graph_to_tables`).

    Example
    -------
    >>> t = read_graphml("zwolle.graphml")  # doctest: +SKIP
    """
    import osmnx as ox

    if input_kind(path) != "graphml":
        raise InputFileError(f"{path}: not a .graphml file")
    p = _check_file(path)
    try:
        G = ox.load_graphml(p, edge_dtypes={"oneway": str, "reversed": str})
    except Exception as err:  # noqa: BLE001 - lxml/networkx/osmnx raise many kinds of errors
        raise InputFileError(
            f"{p}: cannot read graphml (truncated or not an osmnx graph?): {err}"
        ) from err
    tables = graph_to_tables(G)
    tables.source = p.name
    return tables


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, list):
        vals = {_as_bool(v) for v in value}
        return False if False in vals else (True if True in vals else None)
    if isinstance(value, bool):
        return value
    if value in ("True", "False"):
        return value == "True"
    return None


def graph_to_tables(G: Any) -> OsmTables:
    """Turn an osmnx ``MultiDiGraph`` back into ways and nodes.

    Unsimplified graphs are restored exactly: each forward edge (``reversed`` False) is one
    segment of its way, in the way's node order. Two kinds of ``oneway`` attribute are understood:

    * the raw OSM tag (graphs built with ``ox.settings.all_oneway = True``, as
      :func:`fietsstad.osm.load_network` downloads them): osmnx reversed the node order for
      ``oneway=-1``, which is undone here, and the cycling rules see the original tags;
    * osmnx's boolean (ordinary osmnx graphs): ``True`` becomes ``oneway=yes`` along the stored
      edge direction, ``False`` a two-way street. Tags osmnx did not keep (for example
      ``oneway:bicycle``) cannot be recovered: contraflow needs a graph built with fietsstad's
      ``useful_tags_way``.

    Simplified graphs are read approximately: a merged edge becomes one way from ``u`` to ``v``
    through its geometry's interior points (new negative node ids), with the first value of any
    list-valued tag; node tags on nodes osmnx removed (a mid-block signal) are lost. Let
    fietsstad simplify instead (``simplify=True`` on an unsimplified graph).

    Example
    -------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node(1, x=6.0, y=52.5); G.add_node(2, x=6.001, y=52.5)
    >>> _ = G.add_edge(1, 2, osmid=7, highway="residential", oneway=False, reversed=False)
    >>> _ = G.add_edge(2, 1, osmid=7, highway="residential", oneway=False, reversed=True)
    >>> t = graph_to_tables(G)
    >>> t.way_ids, [n.tolist() for n in t.way_nodes]
    ([7], [[1, 2]])
    """
    out = OsmTables(source="osmnx graph")
    coords: dict[int, tuple[float, float]] = {}
    for nid, d in G.nodes(data=True):
        if "x" not in d or "y" not in d:
            continue
        coords[int(nid)] = (float(d["x"]), float(d["y"]))
        tags = {k: str(_first(d[k])) for k in NODE_TAGS if d.get(k) is not None}
        if tags:
            out.node_tags[int(nid)] = tags
    wanted = set(WAY_TAGS)
    synthetic = -1
    seen_two_way: set[tuple[int, int, float]] = set()
    for u, v, d in G.edges(data=True):
        rev = _as_bool(d.get("reversed", False))
        if rev is True:
            continue
        tags = {k: str(_first(d[k])) for k in wanted if k != "oneway" and d.get(k) is not None}
        raw_oneway = _first(d.get("oneway"))
        bool_oneway = _as_bool(raw_oneway)
        nodes = [int(u)]
        geom = d.get("geometry")
        if geom is not None and len(geom.coords) > 2:
            for lon, lat in list(geom.coords)[1:-1]:
                coords[synthetic] = (float(lon), float(lat))
                nodes.append(synthetic)
                synthetic -= 1
        nodes.append(int(v))
        if bool_oneway is None and raw_oneway is not None:  # raw OSM tag (all_oneway graph)
            tags["oneway"] = str(raw_oneway)
            if tags["oneway"] in _REVERSED_ONEWAY:
                nodes.reverse()
        elif bool_oneway:
            tags["oneway"] = "yes"
        elif geom is not None or isinstance(d.get("osmid"), list):
            # merged two-way edge of a simplified graph: both directions may be stored as
            # "forward" (reversed=[False, True]); keep one
            key = (min(int(u), int(v)), max(int(u), int(v)), round(float(d.get("length", 0.0)), 1))
            if key in seen_two_way:
                continue
            seen_two_way.add(key)
        out.way_ids.append(int(_first(d.get("osmid", -1))))
        out.way_tags.append(tags)
        out.way_nodes.append(np.asarray(nodes, dtype=np.int64))
    _set_nodes(out, coords)
    return out
