"""Fuzzing the OSM readers: every input gives a valid BikeNetwork or a FietsstadError.

Two campaigns:

* hypothesis generates ``.osm`` XML documents with random and hostile tags and values (unicode,
  huge numbers, ``maxspeed=none``, broken ``oneway`` values, duplicate ids, ways referring to
  missing nodes, empty and one-node ways, coordinates out of range or not numbers) and loads
  them in-process under a hang guard;
* truncated, bit-flipped and block-corrupted bytes of real PBF and XML files (pyrosm's
  ``test.osm.pbf``, the hand-written fixtures, a small PBF written from them, their ``.bz2``/``.gz``)
  are loaded in a separate process, so a crash or a hang cannot take the test run down with it.

The nastiest inputs are kept in ``corpus/`` and replayed by :func:`test_corpus_replay`.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import json
import os
import textwrap
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest
from _robust import CORPUS, HERE, OSM_FIXTURES, assert_valid_network, hang_guard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fietsstad
from fietsstad import FietsstadError

load_network = importlib.import_module("fietsstad.network.osm").load_network

# generated .osm documents per run (CI: 150, recorded in docs/robustness.md); raise it for a long
# campaign with FIETSSTAD_FUZZ_EXAMPLES=5000
N_XML_EXAMPLES = int(os.environ.get("FIETSSTAD_FUZZ_EXAMPLES", "150"))
# corrupted byte files per source file (see _mutations); CI: 30, a long campaign: 300
N_MUTATIONS_PER_SOURCE = int(os.environ.get("FIETSSTAD_FUZZ_MUTATIONS", "30"))

KEYS = [
    "highway",
    "oneway",
    "oneway:bicycle",
    "bicycle",
    "cycleway",
    "cycleway:left",
    "cycleway:right",
    "cycleway:both",
    "maxspeed",
    "surface",
    "name",
    "cyclestreet",
    "bicycle_road",
    "access",
    "junction",
    "area",
    "motorroad",
    "segregated",
    "foot",
    "crossing",
    "traffic_signals",
    "smoothness",
    "tracktype",
    "vehicle",
    "bicycle:backward",
]
HIGHWAYS = [
    "residential",
    "cycleway",
    "footway",
    "path",
    "primary",
    "secondary",
    "tertiary",
    "service",
    "living_street",
    "motorway",
    "motorway_link",
    "track",
    "unclassified",
    "pedestrian",
    "steps",
    "construction",
    "traffic_signals",
    "",
    "CYCLEWAY",
    "yes",
    "residential;cycleway",
    "cycleway\u200b",
]
HOSTILE_VALUES = [
    "yes",
    "no",
    "-1",
    "1",
    "reversible",
    "alternating",
    "yes;no",
    "none",
    "designated",
    "dismount",
    "use_sidepath",
    "opposite",
    "opposite_lane",
    "lane",
    "track",
    "shared_lane",
    "unpaved",
    "gravel",
    "asphalt",
    "99999999999999999999",
    "1e400",
    "-1e400",
    "-0",
    "NaN",
    "inf",
    "",
    " ",
    "50 mph",
    "walk",
    "signals",
    "<script>alert(1)</script>",
    "&amp;&lt;",
    "\u03a9\u2248\u00e7\u221a",
    "\u202eevil",
    "\U0001f6b2" * 40,
    "x" * 1000,
]

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
values = st.one_of(st.sampled_from(HOSTILE_VALUES), xml_text, st.integers(-(2**70), 2**70).map(str))
tags = st.dictionaries(st.one_of(st.sampled_from(KEYS), xml_text.filter(bool)), values, max_size=6)
way_tags = st.tuples(st.sampled_from(HIGHWAYS), tags).map(lambda t: {"highway": t[0], **t[1]})
good_coord = st.floats(-0.01, 0.01)  # offset near Zwolle (see _lat/_lon)
bad_coord = st.sampled_from(
    [
        "nan",
        "inf",
        "-inf",
        "1e400",
        "abc",
        "",
        " 52.5",
        "95",
        "-91",
        "181",
        "-180.0000001",
        "90",
        "52,5",
    ]
)


def _lat(c):
    return c if isinstance(c, str) else f"{52.5 + c:.7f}"


def _lon(c):
    return c if isinstance(c, str) else f"{6.08 + c:.7f}"


node_ids = st.integers(-3, 25)


def _nodes(coord):
    return st.lists(st.tuples(node_ids, coord, coord, st.one_of(st.just({}), tags)), max_size=18)


ways = st.lists(
    st.tuples(st.integers(-3, 12), st.lists(st.integers(-3, 30), max_size=9), way_tags), max_size=8
)


def _tags_xml(t: dict) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in t.items())


def _ring() -> tuple[list[str], list[str]]:
    """A valid closed residential ring (ids 1..6) so the builder is exercised, not only refusals."""
    ang = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    ns = [
        f'<node id="{i + 1}" lat="{52.5 + 0.002 * np.sin(a):.7f}" lon="{6.08 + 0.003 * np.cos(a):.7f}"/>'
        for i, a in enumerate(ang)
    ]
    refs = "".join(f'<nd ref="{i}"/>' for i in (1, 2, 3, 4, 5, 6, 1))
    return ns, [f'<way id="1000">{refs}<tag k="highway" v="residential"/></way>']


@st.composite
def osm_documents(draw) -> str:
    ns, ws = ([], [])
    if draw(st.booleans()):
        ns, ws = _ring()
    # one document in four has hostile coordinates (a whole file is then usually refused)
    coord = st.one_of(good_coord, bad_coord) if draw(st.integers(0, 3)) == 0 else good_coord
    for nid, lat, lon, t in draw(_nodes(coord)):
        body = _tags_xml(t)
        ns.append(
            f'<node id="{nid}" lat={quoteattr(_lat(lat))} lon={quoteattr(_lon(lon))}'
            + (f">{body}</node>" if body else "/>")
        )
    for wid, refs, t in draw(ways):
        ws.append(
            f'<way id="{wid}">'
            + "".join(f'<nd ref="{r}"/>' for r in refs)
            + _tags_xml(t)
            + "</way>"
        )
    items = ns + ws
    if draw(st.booleans()):  # nodes are not always before ways
        items = draw(st.permutations(items))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(items)
        + "\n</osm>\n"
    )


def _check_load(path: Path, **kw) -> str:
    """Load; a network must satisfy the invariants, an error must be a FietsstadError."""
    try:
        with hang_guard(60):
            net = load_network(file=path, **kw)
    except FietsstadError as err:
        assert str(err), "a FietsstadError must carry a message"
        return type(err).__name__
    assert_valid_network(net)
    assert net.meta.get("generated") is False and net.meta["source"].startswith("osm")
    return "ok"


OUTCOMES: dict[str, int] = {}


def _report(name: str, data: dict) -> None:
    """Append outcome counts to $FIETSSTAD_ROBUSTNESS_REPORT (for docs/robustness.md), if set."""
    target = os.environ.get("FIETSSTAD_ROBUSTNESS_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({name: data}, sort_keys=True) + "\n")


@settings(
    max_examples=N_XML_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(doc=osm_documents(), simplify=st.booleans(), profile=st.sampled_from(["bike", "ebike"]))
def test_generated_osm_xml_gives_network_or_fietsstad_error(tmp_path, doc, simplify, profile):
    p = tmp_path / "fuzz.osm"
    p.write_text(doc, encoding="utf-8")
    outcome = _check_load(p, simplify=simplify, profile=profile)
    OUTCOMES[outcome] = OUTCOMES.get(outcome, 0) + 1


def test_fuzz_outcomes_cover_both_paths():
    """The campaign above must have produced both valid networks and refusals (not only one)."""
    if not OUTCOMES:
        pytest.skip("run together with the fuzz test")
    assert OUTCOMES.get("ok", 0) > 0, OUTCOMES
    assert sum(v for k, v in OUTCOMES.items() if k != "ok") > 0, OUTCOMES
    _report("xml_fuzz", OUTCOMES)


# ------------------------------------------------------------------ corpus replay


CORPUS_FILES = sorted(p for p in CORPUS.glob("*") if p.is_file() and p.suffix != ".json")
EXPECT = (
    json.loads((CORPUS / "expected.json").read_text())
    if (CORPUS / "expected.json").exists()
    else {}
)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_replay(path):
    """Each corpus file (a nasty case once found or built by hand) gives its recorded outcome."""
    outcome = _check_load(path)
    want = EXPECT.get(path.name)
    if want is not None:
        assert outcome == want, f"{path.name}: expected {want}, got {outcome}"


# ------------------------------------------------------------------ corrupted bytes (subprocess)


def _small_pbf(tmp: Path) -> Path:
    """A small PBF written by pyosmium from the hand-written rules fixture."""
    import osmium

    out = tmp / "rules.osm.pbf"
    if out.exists():
        return out
    with osmium.SimpleWriter(str(out)) as w:
        for obj in osmium.FileProcessor(str(OSM_FIXTURES / "rules.osm")):
            if obj.is_node():
                w.add_node(obj)
            elif obj.is_way():
                w.add_way(obj)
    return out


def _sources(tmp: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, suffix) of the clean inputs that get corrupted."""
    import pyrosm

    rules = (OSM_FIXTURES / "rules.osm").read_bytes()
    return {
        "pyrosm-test": (Path(pyrosm.get_data("test_pbf")).read_bytes(), ".osm.pbf"),
        "rules-pbf": (_small_pbf(tmp).read_bytes(), ".osm.pbf"),
        "rules-xml": (rules, ".osm"),
        "junctions-xml": ((OSM_FIXTURES / "junctions.osm").read_bytes(), ".osm"),
        "rules-bz2": (bz2.compress(rules), ".osm.bz2"),
        "rules-gz": (gzip.compress(rules, mtime=0), ".osm.gz"),
    }


def _mutations(raw: bytes, rng: np.random.Generator, k: int) -> list[tuple[str, bytes]]:
    """``k`` deterministic corruptions: truncation, bit flips, zeroed / shuffled / repeated blocks."""
    out = []
    n = len(raw)
    for i in range(k):
        kind = ("truncate", "flip1", "flip8", "zero-block", "dup-block", "swap-blocks")[i % 6]
        b = bytearray(raw)
        if kind == "truncate":
            b = b[: int(rng.integers(1, n))]
        elif kind == "flip1":
            pos = int(rng.integers(0, n))
            b[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == "flip8":
            for pos in rng.integers(0, n, 8):
                b[int(pos)] ^= int(rng.integers(1, 256))
        elif kind == "zero-block":
            a, k = int(rng.integers(0, n)), int(rng.integers(1, 256))
            b[a : a + k] = bytes(len(b[a : a + k]))
        elif kind == "dup-block":
            a = int(rng.integers(0, n))
            b[a:a] = b[a : a + int(rng.integers(1, 512))]
        else:
            a, c = sorted(int(x) for x in rng.integers(0, n, 2))
            w = min(64, (c - a) // 2)
            if w > 0:
                b[a : a + w], b[c - w : c] = b[c - w : c], b[a : a + w]
        out.append((f"{kind}-{i}", bytes(b)))
    return out


_RUNNER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from _robust import assert_valid_network
    from fietsstad import FietsstadError
    from fietsstad.network import load_network
    for line in open(sys.argv[2]):
        path = line.strip()
        print("START", path, flush=True)
        try:
            net = load_network(file=path)
            assert_valid_network(net)
            print("RESULT ok", flush=True)
        except FietsstadError as err:
            print("RESULT", type(err).__name__, flush=True)
        except Exception as err:
            print("RESULT OTHER", type(err).__name__, repr(str(err))[:300], flush=True)
    print("DONE", flush=True)
    """
)


def _run_batch(tmp: Path, files: list[Path], tag: str):
    import subprocess
    import sys

    listing = tmp / f"{tag}.txt"
    listing.write_text("\n".join(map(str, files)) + "\n")
    runner = tmp / "runner.py"
    runner.write_text(_RUNNER)
    return subprocess.Popen(
        [sys.executable, str(runner), str(HERE), str(listing)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _parse(out: str) -> tuple[dict[str, str], str | None]:
    results, current = {}, None
    for line in out.splitlines():
        if line.startswith("START "):
            current = line[6:]
        elif line.startswith("RESULT ") and current is not None:
            results[current] = line[7:]
            current = None
    return results, current


def test_corrupted_pbf_and_xml_bytes_never_crash_or_hang(tmp_path):
    rng = np.random.default_rng(20261123)
    files = []
    for name, (raw, suffix) in _sources(tmp_path).items():
        files.append(tmp_path / f"{name}-clean{suffix}")
        files[-1].write_bytes(raw)
        for mname, b in _mutations(raw, rng, N_MUTATIONS_PER_SOURCE):
            f = tmp_path / f"{name}-{mname}{suffix}"
            f.write_bytes(b)
            files.append(f)
    # content in the wrong container: PBF bytes named .osm and XML named .osm.pbf
    (tmp_path / "pbf-as-xml.osm").write_bytes(_small_pbf(tmp_path).read_bytes())
    (tmp_path / "xml-as-pbf.osm.pbf").write_bytes((OSM_FIXTURES / "rules.osm").read_bytes())
    files += [tmp_path / "pbf-as-xml.osm", tmp_path / "xml-as-pbf.osm.pbf"]
    halves = [files[0::2], files[1::2]]  # two processes: both cores
    procs = [_run_batch(tmp_path, h, f"batch{i}") for i, h in enumerate(halves)]
    results = {}
    for p in procs:
        try:
            out, err = p.communicate(timeout=300)
        except Exception:  # pragma: no cover - only on a hang
            p.kill()
            out, err = p.communicate()
            raise AssertionError(f"corrupted-input batch hung; last output: {out[-500:]}") from None
        res, crashed_on = _parse(out)
        assert p.returncode == 0 and "DONE" in out, (
            f"reader process died (rc {p.returncode}) on {crashed_on}: {err[-2000:]}"
        )
        results.update(res)
    assert len(results) == len(files)
    other = {k: v for k, v in results.items() if v.startswith("OTHER")}
    assert not other, other
    # the clean inputs still load
    for name in ("pyrosm-test", "rules-pbf", "rules-xml", "rules-bz2", "rules-gz"):
        clean = [v for k, v in results.items() if Path(k).name.startswith(f"{name}-clean")]
        assert clean == ["ok"], (name, clean)
    summary: dict[str, int] = {}
    for v in results.values():
        summary[v] = summary.get(v, 0) + 1
    _report("corrupted_bytes", {"files": len(files), "outcomes": summary})


def test_fietsstad_error_is_what_users_catch():
    assert issubclass(fietsstad.InputFileError, FietsstadError)
