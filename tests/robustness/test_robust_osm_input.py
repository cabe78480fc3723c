"""Hostile and unusual OSM input (issue #13): element order, JOSM ids, deleted elements, change
files, decompression bombs, very long ways and degenerate networks.

Each case is checked against an independent oracle: the same data in a benign form (nodes
before ways, positive ids, without the deleted way) must give the *same* network, and the
linear-time simplification must give the same graph as osmnx's own ``simplify_graph``.
"""

from __future__ import annotations

import gzip
import importlib
import tracemalloc
import warnings

import numpy as np
import pytest
from _robust import OSM_FIXTURES

from fietsstad import settings
from fietsstad.errors import InputFileError, NetworkWarning

osm = importlib.import_module("fietsstad.network.osm")
load_network = osm.load_network

FIELDS = (
    "x",
    "y",
    "indptr",
    "indices",
    "length",
    "speed_kmh",
    "delay",
    "travel_time",
    "infra",
    "unpaved",
    "contraflow",
    "way_id",
    "name",
    "node_signal",
)


def _grid(n: int = 4, base: int = 1) -> tuple[list[str], list[str]]:
    """Nodes and two-way residential ways of an n x n grid (ids from ``base``)."""
    nodes, ways = [], []
    nid = lambda i, j: base + i * n + j  # noqa: E731
    for i in range(n):
        for j in range(n):
            nodes.append(
                f'<node id="{nid(i, j)}" lat="{52.5 + 0.001 * i:.6f}" lon="{6.08 + 0.0015 * j:.6f}"/>'
            )
    wid = 100
    for i in range(n):
        for horizontal in (True, False):
            refs = [nid(i, j) if horizontal else nid(j, i) for j in range(n)]
            nds = "".join(f'<nd ref="{r}"/>' for r in refs)
            ways.append(f'<way id="{wid}">{nds}<tag k="highway" v="residential"/></way>')
            wid += 1
    return nodes, ways


def _doc(items: list[str], root: str = "osm") -> str:
    body = "\n".join(items)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} version="0.6">\n{body}\n</{root}>\n'


def _same_network(a, b) -> None:
    assert (a.n_nodes, a.n_edges) == (b.n_nodes, b.n_edges)
    for f in FIELDS + ("node_id",):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def _edge_set(net) -> list[tuple]:
    """Edges by coordinates and costs: independent of node numbering."""
    u = np.repeat(np.arange(net.n_nodes), np.diff(net.indptr))
    v = net.indices
    return sorted(
        zip(
            net.x[u].tolist(),
            net.y[u].tolist(),
            net.x[v].tolist(),
            net.y[v].tolist(),
            net.length.tolist(),
            net.travel_time.tolist(),
            net.infra.tolist(),
        )
    )


def _load(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetworkWarning)
        return load_network(file=path, **kw)


# ------------------------------------------------------------------ 1. element order


@pytest.mark.parametrize("simplify", [True, False])
def test_overpass_order_ways_before_nodes_gives_the_same_network(tmp_path, simplify):
    """``out body; >; out skel qt;`` writes ways first; it was NoRideableNetworkError."""
    nodes, ways = _grid(5)
    sorted_file, overpass = tmp_path / "sorted.osm", tmp_path / "overpass.osm"
    sorted_file.write_text(_doc(nodes + ways))
    overpass.write_text(_doc(ways + nodes))
    a, b = _load(sorted_file, simplify=simplify), _load(overpass, simplify=simplify)
    _same_network(a, b)
    assert b.n_nodes == (
        21 if simplify else 25
    )  # grid corners are interstitial and b.meta["missing_node_refs"] == 0


def test_nodes_after_ways_in_gz_and_interleaved(tmp_path):
    nodes, ways = _grid(4)
    oracle = tmp_path / "sorted.osm"
    oracle.write_text(_doc(nodes + ways))
    mixed = tmp_path / "mixed.osm.gz"
    items = [x for pair in zip(ways, nodes) for x in pair] + nodes[len(ways) :]
    mixed.write_bytes(gzip.compress(_doc(items).encode(), mtime=0))
    _same_network(_load(oracle), _load(mixed))


# ------------------------------------------------------------------ 2. JOSM negative ids


def test_josm_negative_ids_are_kept(tmp_path):
    """Unsaved JOSM objects have negative ids; they were dropped (3 of 6 nodes kept)."""
    nodes, ways = _grid(3, base=1)
    neg = [s.replace('id="', 'id="-').replace('ref="', 'ref="-') for s in nodes + ways]
    neg_file, pos_file = tmp_path / "josm.osm", tmp_path / "positive.osm"
    neg_file.write_text(_doc(neg).replace('version="0.6"', 'version="0.6" generator="JOSM"'))
    pos_file.write_text(_doc(nodes + ways))
    a, b = _load(pos_file, simplify=False), _load(neg_file, simplify=False)
    assert b.n_nodes == 9 and b.meta["missing_node_refs"] == 0
    assert a.n_edges == b.n_edges and _edge_set(a) == _edge_set(b)
    assert sorted(b.node_id.tolist()) == list(range(-9, 0))


def test_josm_mixed_signs_nodes_after_ways(tmp_path):
    nodes, ways = _grid(3, base=-4)  # ids -4 .. 4, 0 included
    f, oracle = tmp_path / "mixed.osm", tmp_path / "sorted.osm"
    f.write_text(_doc(ways + nodes))
    oracle.write_text(_doc(nodes + ways))
    a, b = _load(oracle, simplify=False), _load(f, simplify=False)
    assert b.n_nodes == 9
    _same_network(a, b)


# ------------------------------------------------------------------ 3. deleted elements, changes


def test_deleted_ways_are_not_streets(tmp_path):
    nodes, ways = _grid(3)
    dead = (
        '<way id="900" visible="false"><nd ref="1"/><nd ref="9"/>'
        '<tag k="highway" v="cycleway"/></way>'
    )
    dead_node = '<node id="77" visible="false" lat="52.6" lon="6.1"><tag k="highway" v="traffic_signals"/></node>'
    f, oracle = tmp_path / "deleted.osm", tmp_path / "live.osm"
    f.write_text(_doc(nodes + ways + [dead, dead_node]))
    oracle.write_text(_doc(nodes + ways))
    a, b = _load(oracle), _load(f)
    _same_network(a, b)
    assert 900 not in b.way_id.tolist() and b.meta["osm_ways_read"] == a.meta["osm_ways_read"]


@pytest.mark.parametrize("suffix", [".osm", ".osm.gz", ".osm.bz2"])
def test_osmchange_is_refused_as_a_change_file(tmp_path, suffix):
    import bz2

    nodes, ways = _grid(3)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment <osm> before the root -->\n'
        '<osmChange version="0.6" generator="osmium">\n<create>\n'
        + "\n".join(nodes + ways)
        + '\n</create>\n<modify/>\n<delete><way id="5" version="2"/></delete>\n</osmChange>\n'
    ).encode()
    raw = {".osm": text, ".osm.gz": gzip.compress(text, mtime=0), ".osm.bz2": bz2.compress(text)}
    f = tmp_path / f"change{suffix}"
    f.write_bytes(raw[suffix])
    with pytest.raises(InputFileError, match="change file"):
        load_network(file=f)


# ------------------------------------------------------------------ 4. size limits, bombs


def _gz_members(path, head: bytes, unit: bytes, total: int, tail: bytes = b"") -> int:
    """A .gz of ``head`` + ``unit`` repeated to about ``total`` bytes (+ ``tail``), written as
    repeated compressed 1 MiB members so a GB-sized document is a file of a few MB."""
    block = unit * max(1, (1 << 20) // len(unit))
    member = gzip.compress(block, compresslevel=9, mtime=0)
    n = max(1, total // len(block))
    with open(path, "wb") as fh:
        fh.write(gzip.compress(head, mtime=0))
        for _ in range(n):
            fh.write(member)
        fh.write(gzip.compress(tail, mtime=0))
    return len(head) + n * len(block) + len(tail)


HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
    b'<node id="1" lat="52.5" lon="6.08"/><node id="2" lat="52.5" lon="6.081"/>\n'
)
DUP_WAY = b'<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>\n'


def test_decompressed_size_limit(tmp_path, monkeypatch):
    small = tmp_path / "small.osm.gz"
    size = _gz_members(small, HEAD, DUP_WAY, 1 << 20, b"</osm>\n")
    monkeypatch.setattr(settings, "max_osm_xml_bytes", 1 << 19)
    with pytest.raises(InputFileError, match="max_osm_xml_bytes"):
        load_network(file=small)
    monkeypatch.setattr(settings, "max_osm_xml_bytes", size + 1)
    net = load_network(file=small)  # at the limit it loads (duplicated ways: 2 nodes, 2 edges)
    assert (net.n_nodes, net.n_edges) == (2, 2)


@pytest.mark.parametrize(
    "head, unit",
    [
        (HEAD + b"<!-- ", b"x" * 64),
        (HEAD + b'<way id="9"><tag k="highway" v="', b"y" * 64),
        (HEAD + b"<!-- ", b"<>" * 32),  # markup inside: a 256 MB one took 65 s and 590 MB
        (HEAD + b"<![CDATA[", b"<>" * 32),
    ],
    ids=["comment", "attribute", "comment-of-markup", "cdata"],
)
def test_huge_comment_or_attribute_refused(tmp_path, monkeypatch, head, unit):
    f = tmp_path / "token.osm.gz"
    _gz_members(f, head, unit, 2 << 20)
    monkeypatch.setattr(settings, "max_osm_xml_token_bytes", 1 << 20)
    with pytest.raises(InputFileError, match="max_osm_xml_token_bytes"):
        load_network(file=f)


@pytest.mark.parametrize("fmt", ["osm", "pbf"])
def test_element_limit(tmp_path, monkeypatch, fmt):
    """Many duplicate ways (the uncompressed bomb of a PBF): refused at settings.max_osm_elements."""
    import osmium

    xml = tmp_path / "dups.osm"
    xml.write_bytes(HEAD + DUP_WAY * 2000 + b"</osm>\n")
    f = xml
    if fmt == "pbf":
        f = tmp_path / "dups.osm.pbf"
        with osmium.SimpleWriter(str(f)) as w:
            for obj in osmium.FileProcessor(str(xml)):
                (w.add_node if obj.is_node() else w.add_way)(obj)
    monkeypatch.setattr(settings, "max_osm_elements", 3 * 1000)
    with pytest.raises(InputFileError, match="max_osm_elements"):
        load_network(file=f)
    monkeypatch.setattr(settings, "max_osm_elements", 3 * 2000)
    assert load_network(file=f).n_nodes == 2


@pytest.mark.parametrize("kind", ["duplicate-ways", "comment"])
def test_bomb_at_default_limits_refused_quickly_in_bounded_memory(tmp_path, kind):
    """An ~11 MB .gz of 2.2 GB of duplicate ways (and a 3 MB .gz of one huge comment): refused
    at the default limits; Python-traced memory stays below 64 MiB (the reader streams)."""
    f = tmp_path / f"{kind}.osm.gz"
    if kind == "duplicate-ways":
        _gz_members(f, HEAD, DUP_WAY, settings.max_osm_xml_bytes + (100 << 20))
    else:
        _gz_members(f, HEAD + b"<!-- ", b"z" * 64, 3 << 30)
    assert f.stat().st_size < 16 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError, match="max_osm_xml"):
            load_network(file=f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak


# ------------------------------------------------------------------ 5. long ways, simplification


def _long_way(path, n: int, oneway: bool = False) -> None:
    lat = 52.5 + 0.00001 * (np.arange(n) % 2)
    lon = 6.0 + 0.00001 * np.arange(n)
    with open(path, "w") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n')
        for i in range(n):
            fh.write(f'<node id="{i + 1}" lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"/>\n')
        fh.write('<way id="1">' + "".join(f'<nd ref="{i + 1}"/>' for i in range(n)))
        fh.write('<tag k="highway" v="residential"/>')
        fh.write('<tag k="oneway" v="yes"/>' if oneway else "")
        fh.write("</way>\n</osm>\n")


def test_way_of_100000_nodes_builds(tmp_path):
    """One way of 100,000 nodes (7.5 MB): osmnx's simplification took 324 s, now linear."""
    f = tmp_path / "long.osm"
    _long_way(f, 100_000)
    net = _load(f)
    assert (net.n_nodes, net.n_edges) == (2, 2)
    lat = 52.5 + 0.00001 * (np.arange(100_000) % 2)
    lon = 6.0 + 0.00001 * np.arange(100_000)
    oracle = osm._haversine(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum()
    assert net.length[0] == pytest.approx(oracle, rel=1e-6)  # float32 storage
    assert net.geom_xy.shape[0] == 2 * 100_000


def _osmnx_simplify(G):
    import osmnx as ox

    return ox.simplify_graph(
        G,
        node_attrs_include=["_keep"],
        edge_attrs_differ=["_cls"],
        remove_rings=False,
        track_merged=True,
        edge_attr_aggs={"length": sum, "delay": sum},
    )


def _graph_signature(S):
    out = []
    for u, v, k, d in S.edges(keys=True, data=True):
        items = []
        for key, val in d.items():
            if key == "geometry":
                val = tuple(val.coords)
            elif isinstance(val, list):
                val = tuple(val)
            items.append((key, val))
        out.append((u, v, k, tuple(items)))
    return list(S.nodes(data=True)), out


def _pyrosm_test_pbf():
    pyrosm = importlib.import_module("pyrosm")
    return pyrosm.get_data("test_pbf")


@pytest.mark.parametrize("name", ["rules.osm", "junctions.osm", "pyrosm-test", "long-ring"])
def test_linear_simplification_equals_osmnx(tmp_path, name):
    """Oracle: osmnx.simplify_graph with the same options, node for node, edge for edge (same
    keys, attributes in the same order, same geometry)."""
    from fietsstad.network._osm_read import read_osm_file
    from fietsstad.network.profiles import get_profile

    if name == "pyrosm-test":
        path = _pyrosm_test_pbf()
    elif name == "long-ring":
        path = tmp_path / "ring.osm"
        _long_way(path, 3000)
        text = path.read_text().replace('<tag k="highway"', '<nd ref="1"/><tag k="highway"')
        path.write_text(text)
    else:
        path = OSM_FIXTURES / name
    tables = read_osm_file(path)
    seg = osm._segments(tables, get_profile("bike"))
    G = osm._segment_graph(seg, tables)
    assert _graph_signature(osm._simplify_graph(G)) == _graph_signature(_osmnx_simplify(G))


# ------------------------------------------------------------------ 6. degenerate networks


def test_one_way_fragments_warn(tmp_path):
    """2,000 disjoint one-way fragments: the largest SCC is one node; that is now a warning."""
    items = []
    for k in range(2000):
        a, b = 2 * k + 1, 2 * k + 2
        items += [
            f'<node id="{a}" lat="{52.5 + 0.0001 * k:.6f}" lon="6.08"/>',
            f'<node id="{b}" lat="{52.5 + 0.0001 * k:.6f}" lon="6.081"/>',
            f'<way id="{k + 1}"><nd ref="{a}"/><nd ref="{b}"/>'
            '<tag k="highway" v="residential"/><tag k="oneway" v="yes"/>'
            '<tag k="oneway:bicycle" v="yes"/></way>',
        ]
    f = tmp_path / "fragments.osm"
    f.write_text(_doc(items))
    with pytest.warns(NetworkWarning, match=r"keeps only 1 of 4,000 nodes.*one-way") as rec:
        net = load_network(file=f, simplify=False)
    assert net.n_nodes == 1 and "min_scc_share" in str(rec[0].message)


def test_single_one_way_edge_warns(tmp_path):
    f = tmp_path / "one.osm"
    _long_way(f, 2, oneway=True)
    with pytest.warns(NetworkWarning, match="0.0%"):
        net = load_network(file=f)
    assert net.n_nodes == 1


def test_healthy_network_does_not_warn(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetworkWarning)
        net = load_network(file=OSM_FIXTURES / "rules.osm")
    assert net.n_nodes > 50
    monkeypatch.setattr(settings, "min_scc_share", 1.01)  # the threshold is the setting
    with pytest.warns(NetworkWarning):
        load_network(file=OSM_FIXTURES / "rules.osm")
