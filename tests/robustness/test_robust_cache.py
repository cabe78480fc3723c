"""Caches and saved files: atomic, versioned, checksummed; bad files rebuilt, never unpickled.

Covers fietsstad._io (save_arrays / load_arrays / atomic_write), fietsstad._cache (the
verify-or-rebuild protocol with an inter-process lock) and BikeNetwork.save / load.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import json
import os
import pickle
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from _robust import REPO, ring_network, run_guarded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fietsstad import CacheError
from fietsstad import settings as fs_settings
from fietsstad._cache import (
    CacheWarning,
    cache_key,
    cache_path,
    cached,
    cached_arrays,
    clean_stale_temp_files,
    file_lock,
)
from fietsstad._io import _digest, atomic_write, load_arrays, save_arrays
from fietsstad.network import BikeNetwork

N_BITFLIP_EXAMPLES = 120  # recorded in docs/robustness.md


class _Evil:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Evil(marker))


def test_evil_pickle_payload_is_live(tmp_path):
    """The oracle can fail: unpickling the crafted payload really does create the marker."""
    marker = tmp_path / "proof"
    pickle.loads(_evil_pickle(marker)).close()  # noqa: S301 - deliberately, in the test only
    assert marker.exists()


def _build_counter():
    calls = []

    def build():
        calls.append(1)
        return {"a": np.arange(10, dtype=np.int32), "b": np.linspace(0, 1, 5)}, {"k": "v"}

    return build, calls


def _fsta_with_payload(payload: bytes, meta: dict | None = None) -> bytes:
    """A file with fietsstad's header, the right version and a *correct* checksum of ``payload``."""
    meta = meta or {}
    header = {
        "format": "fietsstad-arrays",
        "version": fs_settings.CACHE_FORMAT_VERSION,
        "sha256": _digest(payload, meta),
        "meta": meta,
    }
    hb = json.dumps(header, sort_keys=True).encode()
    return b"FSTD" + len(hb).to_bytes(8, "little") + hb + payload


# ------------------------------------------------------------------ cache protocol


def test_cached_builds_once_then_loads(tmp_path):
    p = cache_path("unit", cache_key("a", 1))
    build, calls = _build_counter()
    a1, m1 = cached_arrays(p, build)
    a2, m2 = cached_arrays(p, build)
    assert len(calls) == 1 and m2 == {"k": "v"}
    np.testing.assert_array_equal(a1["a"], a2["a"])
    assert not list(p.parent.glob(".*.tmp"))  # no temp files left


def _corruptions(good: bytes, tmp_path: Path) -> dict[str, bytes]:
    flipped = bytearray(good)
    flipped[-20] ^= 0x40
    head_flip = bytearray(good)
    head_flip[20] ^= 0x01
    npz = io.BytesIO()
    np.savez(npz, a=np.arange(3))
    return {
        "truncated-half": good[: len(good) // 2],
        "truncated-1-byte": good[:-1],
        "empty": b"",
        "magic-only": b"FSTD",
        "payload-bit-flip": bytes(flipped),
        "header-bit-flip": bytes(head_flip),
        "huge-header-length": b"FSTD" + (2**62).to_bytes(8, "little") + good[12:],
        "foreign-npz": npz.getvalue(),
        "foreign-pickle": _evil_pickle(tmp_path / "MARKER"),
        "random-bytes": np.random.default_rng(0).bytes(4096),
        "text": b"not a cache\n" * 10,
        "json-header-not-dict": _fsta_with_payload(b"x")[:12] + b"[]" + b"x",
        "valid-checksum-pickled-object-array": _fsta_with_payload(
            _npz_with_object_array(tmp_path / "MARKER")
        ),
    }


def _npz_with_object_array(marker: Path) -> bytes:
    """An .npz whose array is an object array: loading it would unpickle _Evil."""
    buf = io.BytesIO()
    np.savez(buf, a_a=np.array([_Evil(marker)], dtype=object))  # np.savez pickles objects
    return buf.getvalue()


CORRUPTION_NAMES = [
    "truncated-half",
    "truncated-1-byte",
    "empty",
    "magic-only",
    "payload-bit-flip",
    "header-bit-flip",
    "huge-header-length",
    "foreign-npz",
    "foreign-pickle",
    "random-bytes",
    "text",
    "json-header-not-dict",
    "valid-checksum-pickled-object-array",
]


@pytest.mark.parametrize("kind", CORRUPTION_NAMES)
def test_bad_cache_is_detected_rebuilt_and_never_unpickled(tmp_path, kind):
    p = tmp_path / "entry.fsa"
    build, calls = _build_counter()
    cached_arrays(p, build)
    bad = _corruptions(p.read_bytes(), tmp_path)[kind]
    p.write_bytes(bad)
    with pytest.raises(CacheError):
        load_arrays(p)
    with pytest.warns(CacheWarning, match="rebuilding"):
        arrays, meta = cached_arrays(p, build)
    assert len(calls) == 2  # rebuilt, not trusted
    np.testing.assert_array_equal(arrays["a"], np.arange(10))
    load_arrays(p)  # the rebuilt entry is good
    assert not (tmp_path / "MARKER").exists(), "a crafted cache ran code"


def test_stale_version_is_rebuilt(tmp_path, monkeypatch):
    p = tmp_path / "entry.fsa"
    build, calls = _build_counter()
    cached_arrays(p, build)
    monkeypatch.setattr(fs_settings, "CACHE_FORMAT_VERSION", fs_settings.CACHE_FORMAT_VERSION + 1)
    with pytest.raises(CacheError, match="stale or foreign"):
        load_arrays(p)
    with pytest.warns(CacheWarning):
        cached_arrays(p, build)
    assert len(calls) == 2
    assert (
        json.loads(p.read_bytes()[12 : 12 + int.from_bytes(p.read_bytes()[4:12], "little")])[
            "version"
        ]
        == fs_settings.CACHE_FORMAT_VERSION
    )


def test_crafted_pickle_at_network_path_does_not_run(tmp_path):
    marker = tmp_path / "MARKER"
    p = tmp_path / "net.fsn"
    p.write_bytes(_evil_pickle(marker))
    with pytest.raises(CacheError):
        BikeNetwork.load(p)
    p.write_bytes(_fsta_with_payload(_npz_with_object_array(marker), {"profile": "bike"}))
    with pytest.raises(CacheError, match="cannot decode"):
        BikeNetwork.load(p)
    assert not marker.exists()


def test_cached_network_through_bikenetwork_save_load(tmp_path):
    p = cache_path("networks", cache_key("ring", 6))
    calls = []

    def build():
        calls.append(1)
        return ring_network()

    n1 = cached(p, build, load=BikeNetwork.load, save=lambda net, q: net.save(q))
    n2 = cached(p, build, load=BikeNetwork.load, save=lambda net, q: net.save(q))
    assert len(calls) == 1
    np.testing.assert_array_equal(n1.travel_time, n2.travel_time)
    p.write_bytes(p.read_bytes()[:100])
    with pytest.warns(CacheWarning):
        cached(p, build, load=BikeNetwork.load, save=lambda net, q: net.save(q))
    assert len(calls) == 2


def test_use_cache_false_just_builds(tmp_path, monkeypatch):
    p = tmp_path / "e.fsa"
    build, calls = _build_counter()
    monkeypatch.setattr(fs_settings, "use_cache", False)
    cached_arrays(p, build)
    assert not p.exists() and len(calls) == 1


@pytest.mark.parametrize(
    "kind, key", [("../etc", "k"), ("a/b", "k"), ("", "k"), ("x", "../k"), ("x", "a/b"), ("x", "")]
)
def test_cache_path_refuses_traversal(kind, key):
    with pytest.raises(CacheError, match="plain"):
        cache_path(kind, key)


def test_save_arrays_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        save_arrays(tmp_path / "x.fsa", {"a": np.array([object()], dtype=object)}, {})
    assert not (tmp_path / "x.fsa").exists()


# ------------------------------------------------------------------ atomic writes


def test_atomic_write_exception_leaves_old_file_and_no_temp(tmp_path):
    p = tmp_path / "out.txt"
    p.write_text("old complete")
    with pytest.raises(RuntimeError), atomic_write(p, "w") as fh:
        fh.write("new but partial")
        raise RuntimeError("interrupted")
    assert p.read_text() == "old complete"
    assert not list(tmp_path.glob(".*.tmp"))


def test_clean_stale_temp_files(tmp_path):
    import os
    import time

    old = tmp_path / ".entry.fsa.abc.tmp"
    new = tmp_path / ".entry.fsa.def.tmp"
    keep = tmp_path / "entry.fsa"
    for f in (old, new, keep):
        f.write_bytes(b"x")
    t = time.time() - 7200
    os.utime(old, (t, t))
    assert clean_stale_temp_files(tmp_path, older_than_s=3600) == 1
    assert not old.exists() and new.exists() and keep.exists()


# ------------------------------------------------------------------ bit flips (hypothesis)


@pytest.fixture(scope="module")
def saved_network_bytes(tmp_path_factory):
    p = tmp_path_factory.mktemp("saved") / "ring.fsn"
    ring_network(
        meta={"source": "generated", "generated": True, "description": "ring", "dropped_nodes": 5}
    ).save(p)
    return p.read_bytes()


@settings(
    max_examples=N_BITFLIP_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_bitflipped_or_truncated_network_file_never_trusted(saved_network_bytes, tmp_path, data):
    """Any single-byte corruption or truncation: CacheError, never another exception or a
    silently different network (metadata included)."""
    raw = bytearray(saved_network_bytes)
    if data.draw(st.booleans(), label="truncate"):
        cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
        bad = bytes(raw[:cut])
    else:
        pos = data.draw(st.integers(0, len(raw) - 1), label="pos")
        xor = data.draw(st.integers(1, 255), label="xor")
        raw[pos] ^= xor
        bad = bytes(raw)
    p = tmp_path / "flipped.fsn"
    p.write_bytes(bad)
    try:
        net = BikeNetwork.load(p)
    except CacheError:
        return
    # a load that succeeded must be exactly the original (e.g. a flip in JSON whitespace)
    ref = BikeNetwork.load(_write(tmp_path / "ref.fsn", saved_network_bytes))
    for k in ("x", "y", "node_id", "indptr", "indices", "travel_time", "length", "name"):
        np.testing.assert_array_equal(getattr(net, k), getattr(ref, k))
    assert net.meta == ref.meta and net.profile == ref.profile


def _write(p: Path, b: bytes) -> Path:
    p.write_bytes(b)
    return p


# ------------------------------------------------------------------ concurrency (real processes)

_BUILDER = textwrap.dedent(
    """
    import sys, time, numpy as np
    from pathlib import Path
    from fietsstad._cache import cached_arrays
    path, log, go = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():          # start both processes together
        time.sleep(0.005)
    def build():
        with open(log, "a") as fh:
            fh.write("built\\n")
        time.sleep(0.5)             # a slow build, so the two really overlap
        return {"a": np.arange(1000, dtype=np.int64) * 7}, {"who": "builder"}
    arrays, meta = cached_arrays(path, build)
    print(int(arrays["a"].sum()))
    """
)


def test_two_processes_building_same_cache_end_with_one_good_cache(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "builder.py"
    script.write_text(_BUILDER)
    path, log, go = tmp_path / "c" / "entry.fsa", tmp_path / "log", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(log), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    go.write_text("go")
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].strip() for o in outs] == [str(7 * 999 * 1000 // 2)] * 2
    assert log.read_text().count("built") == 1  # the lock made the second process wait and load
    arrays, meta = load_arrays(path)  # one good cache: loadable, checksum verified
    assert meta == {"who": "builder"}
    assert not list(path.parent.glob(".*.tmp"))


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from fietsstad._io import save_arrays
    path, k = sys.argv[1], int(sys.argv[2])
    for i in range(40):
        v = k * 1000 + i
        save_arrays(path, {"a": np.full(20000, v, dtype=np.int64)}, {"v": v})
    """
)
_READER = textwrap.dedent(
    """
    import sys, os, numpy as np
    from fietsstad._io import load_arrays
    path = sys.argv[1]
    seen = bad = 0
    while not os.path.exists(path):
        pass
    for _ in range(300):
        arrays, meta = load_arrays(path)   # raises CacheError on a torn file
        if not np.all(arrays["a"] == meta["v"]):
            bad += 1
        seen += 1
    print(seen, bad)
    """
)


def test_concurrent_writers_and_reader_never_see_a_torn_file(tmp_path):
    import subprocess
    import sys

    (tmp_path / "w.py").write_text(_WRITER)
    (tmp_path / "r.py").write_text(_READER)
    path = str(tmp_path / "shared.fsa")
    procs = [
        subprocess.Popen(
            [sys.executable, str(tmp_path / "w.py"), path, str(k)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in (1, 2)
    ]
    reader = subprocess.Popen(
        [sys.executable, str(tmp_path / "r.py"), path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert out.split() == ["300", "0"]
    arrays, meta = load_arrays(path)
    assert meta["v"] in (1039, 2039)


def test_file_lock_excludes_a_second_process(tmp_path):
    """While this process holds the lock, another process cannot take it (it times out)."""
    p = tmp_path / "x.fsa"
    code = (
        "import sys\nfrom fietsstad._cache import file_lock\nfrom fietsstad import CacheError\n"
        "try:\n    with file_lock(sys.argv[1], timeout_s=0.3):\n        print('got')\n"
        "except CacheError as e:\n    print('locked:', e)\n"
    )
    with file_lock(p):
        r = run_guarded(["-c", code, str(p)])
    assert r.returncode == 0 and r.stdout.startswith("locked:"), r.stderr
    assert "locked by another process" in r.stdout
    r = run_guarded(["-c", code, str(p)])
    assert r.stdout.strip() == "got"


# ------------------------------------------------------------------ source scan


def test_no_pickle_anywhere_in_src():
    src = REPO / "src" / "fietsstad"
    assert src.is_dir()
    offenders = []
    for f in sorted(src.rglob("*.py")):
        text = f.read_text(encoding="utf-8")
        for needle in (
            "allow_pickle=True",
            "pickle.load",
            "import pickle",
            "cloudpickle.load",
            "joblib.load",
            "pd.read_pickle",
            "dill.load",
            "shelve.open",
        ):
            if needle in text:
                offenders.append(f"{f.relative_to(REPO)}: {needle}")
    assert not offenders, offenders


def test_every_np_load_in_src_says_allow_pickle_false():
    """Every ``np.load`` / ``numpy.load`` call in src/ passes ``allow_pickle=False`` explicitly."""
    import ast

    src = REPO / "src" / "fietsstad"
    calls, offenders = 0, []
    for f in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("np", "numpy")
            ):
                calls += 1
                kw = {k.arg: k.value for k in node.keywords}
                v = kw.get("allow_pickle")
                if not (isinstance(v, ast.Constant) and v.value is False):
                    offenders.append(f"{f.relative_to(REPO)}:{node.lineno}")
    assert calls >= 1  # _io.load_arrays has one: the scan really sees calls
    assert not offenders, offenders


# ------------------------------------------------------------------ load_network's network cache


def test_load_network_place_cache_used_when_good_and_rebuilt_when_corrupt(monkeypatch):
    """End to end through load_network(place=...), with the download replaced (no network):
    a good cache entry is returned without downloading; a corrupt one is never trusted."""
    osm = importlib.import_module("fietsstad.network.osm")
    from fietsstad import PlaceNotFoundError

    calls = []

    def offline(place=None, polygon=None):
        calls.append(place)
        raise PlaceNotFoundError("offline (test)")

    monkeypatch.setattr(osm, "_download_graph", offline)
    path = osm.network_cache_path("Testdorp")
    ring = ring_network(meta={"source": "osm", "generated": False, "description": "cached"})
    ring.save(path, key=path.stem)  # a good entry records its key (issue #13)
    net = osm.load_network("Testdorp")
    assert calls == [] and net.meta["description"] == "cached"
    np.testing.assert_array_equal(net.travel_time, ring.travel_time)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.warns(CacheWarning), pytest.raises(PlaceNotFoundError):
        osm.load_network("Testdorp")
    assert calls == ["Testdorp"]  # it tried to rebuild instead of trusting the corrupt file
    assert not path.exists()


# ------------------------------------------------------------------ contraction-hierarchy cache

_CH_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    from fietsstad.network import generate_network
    from fietsstad import engine
    from fietsstad.analysis.routing import cached_ch
    net = generate_network(300, seed=4)
    g = engine.CSRGraph.from_arrays(*net.csr())
    ch = cached_ch(g)   # loads the persisted hierarchy if there is one
    if sys.argv[1] == "use":
        t = engine.travel_times(g, dtype="int32", method="phast", ch=ch)
        ref = engine.travel_times(g, dtype="int32", method="dijkstra")
        print("EQUAL" if np.array_equal(t, ref) else "WRONG")
    """
)


def _ch_run(tmp_path, what):
    script = tmp_path / "ch.py"
    script.write_text(_CH_SCRIPT)
    return run_guarded(
        [str(script), what], env={"FIETSSTAD_CACHE_DIR": str(tmp_path / "c")}, timeout_s=300
    )


def test_ch_cache_bit_flip_is_rebuilt(tmp_path):
    assert _ch_run(tmp_path, "save").returncode == 0
    (p,) = (tmp_path / "c" / "ch").glob("*.fch")
    raw = bytearray(p.read_bytes())
    raw[-100] ^= 0x08
    p.write_bytes(bytes(raw))
    r = _ch_run(tmp_path, "use")
    assert r.returncode == 0 and r.stdout.strip() == "EQUAL", (r.returncode, r.stderr[-1500:])


@pytest.mark.parametrize(
    "field, change",
    [
        ("up_indices", lambda a: a + 10**6),
        ("dn_src", lambda a: a - 10**6),
        ("up_indptr", lambda a: a[::-1].copy()),
        ("rank", lambda a: np.zeros_like(a)),
        ("dn_t", lambda a: a[:-1]),
    ],
    ids=[
        "up_indices out of range",
        "dn_src negative",
        "indptr reversed",
        "rank not a permutation",
        "dn_t short",
    ],
)
def test_ch_cache_with_valid_checksum_but_nonsense_arrays_is_not_trusted(tmp_path, field, change):
    """A checksum-valid .fch whose arrays would make the PHAST kernel read out of bounds (it
    segfaulted before engine/_ch.py validated the structure): ignored and rebuilt, in a
    subprocess so a crash cannot take the test run down."""
    assert _ch_run(tmp_path, "save").returncode == 0
    (p,) = (tmp_path / "c" / "ch").glob("*.fch")
    arrays, meta = load_arrays(p)
    arrays[field] = change(arrays[field])  # a foreign file, correctly checksummed
    save_arrays(p, arrays, meta)
    r = _ch_run(tmp_path, "use")
    assert r.returncode == 0 and r.stdout.strip() == "EQUAL", (r.returncode, r.stderr[-1500:])


# ------------------------------------------------------------------ hostile cache files (issue #13)
#
# Real OSM data (the fixture extracts, read by osmnx exactly as a download would be) stands in
# for two downloaded places; the download itself is replaced (no internet in tests).

_PLACE_FIXTURES = {"Testdorp": "junctions.osm", "Anderstad": "rules.osm"}


def _use_download(monkeypatch, calls: list, offline: bool = False) -> None:
    """Replace osm._download_graph: each place is a real OSM fixture, or offline."""
    import osmnx as ox
    from _robust import OSM_FIXTURES

    from fietsstad import PlaceNotFoundError
    from fietsstad.network import osm

    def download(place=None, polygon=None):
        calls.append(place)
        if offline:
            raise PlaceNotFoundError(f"could not download {place!r} (offline, test)")
        with osm.osmnx_settings():
            return ox.graph_from_xml(
                OSM_FIXTURES / _PLACE_FIXTURES[place], simplify=False, retain_all=True
            )

    monkeypatch.setattr(osm, "_download_graph", download)


def test_foreign_place_entry_is_never_returned_online_or_offline(monkeypatch):
    """Repro 1: a valid cache entry of place A copied to place B's path was returned as B.
    Now: online it is rebuilt (B's own network, the oracle being B built with an empty cache),
    offline a CacheError names both; A's network is never returned."""
    from fietsstad import PlaceNotFoundError
    from fietsstad.errors import ForeignCacheEntryError
    from fietsstad.network import osm

    calls: list = []
    _use_download(monkeypatch, calls)
    a = osm.load_network("Testdorp")
    b_path = osm.network_cache_path("Anderstad")
    b = osm.load_network("Anderstad")  # the oracle: B built from scratch
    assert a.n_nodes != b.n_nodes and calls == ["Testdorp", "Anderstad"]
    b_path.write_bytes(osm.network_cache_path("Testdorp").read_bytes())  # A's file at B's path
    with pytest.raises(ForeignCacheEntryError, match="another cache key"):
        BikeNetwork.load(b_path, key=b_path.stem)
    # offline: a clear CacheError (also a PlaceNotFoundError, so the demo still falls back)
    _use_download(monkeypatch, calls, offline=True)
    with pytest.warns(CacheWarning, match="another cache key"):
        with pytest.raises(CacheError, match="Testdorp.*not used.*offline") as err:
            osm.load_network("Anderstad")
    assert isinstance(err.value, PlaceNotFoundError)
    # online: rebuilt, B's network and B's meta
    _use_download(monkeypatch, calls)
    with pytest.warns(CacheWarning, match="another cache key"):
        got = osm.load_network("Anderstad")
    assert got.meta["place"] == "Anderstad" and got.n_nodes == b.n_nodes
    np.testing.assert_array_equal(got.travel_time, b.travel_time)
    assert calls[-1] == "Anderstad"
    # the rebuilt entry is B's and is served from the cache from now on
    assert BikeNetwork.load(b_path, key=b_path.stem).meta["place"] == "Anderstad"
    n_calls = len(calls)
    assert osm.load_network("Anderstad").n_nodes == b.n_nodes and len(calls) == n_calls


@pytest.mark.parametrize("what", ["profile", "simplify", "rules-version", "library-version"])
def test_entry_of_another_profile_or_version_is_rebuilt(monkeypatch, what):
    """The key covers place, profile, simplify, rules and library version: an entry written
    under any other value, renamed to this path, is never returned."""
    import fietsstad
    from fietsstad.network import osm

    calls: list = []
    _use_download(monkeypatch, calls)
    here = osm.network_cache_path("Testdorp")
    if what == "profile":
        other = osm.load_network("Testdorp", profile="ebike")
        src = osm.network_cache_path("Testdorp", profile="ebike")
    elif what == "simplify":
        other = osm.load_network("Testdorp", simplify=False)
        src = osm.network_cache_path("Testdorp", simplify=False)
    else:
        mod, name = (
            (osm, "RULES_VERSION") if what == "rules-version" else (fietsstad._data, "VERSION")
        )
        current = getattr(mod, name)
        monkeypatch.setattr(mod, name, "an-older-version")
        other = osm.load_network("Testdorp")
        src = osm.network_cache_path("Testdorp")
        monkeypatch.setattr(mod, name, current)
    assert src != here and src.exists()
    here.parent.mkdir(parents=True, exist_ok=True)
    here.write_bytes(src.read_bytes())
    n = len(calls)
    with pytest.warns(CacheWarning, match="another cache key"):
        got = osm.load_network("Testdorp")
    assert len(calls) == n + 1  # rebuilt, not served
    assert got.profile == "bike" and got.meta["simplified"] is True
    assert got.meta["rules_version"] == osm.RULES_VERSION
    del other


def test_foreign_key_is_refused_before_the_payload_is_read(tmp_path):
    p = tmp_path / "e.fsa"
    save_arrays(p, {"a": np.arange(5)}, {}, key="mine")
    raw = p.read_bytes()
    p.write_bytes(raw[:-10] + b"\0" * 10)  # payload corrupt: a key check must come first
    from fietsstad.errors import ForeignCacheEntryError

    with pytest.raises(ForeignCacheEntryError):
        load_arrays(p, key="theirs")
    with pytest.raises(CacheError, match="checksum"):
        load_arrays(p, key="mine")


@contextlib.contextmanager
def _alarm(seconds: int):
    """Turn a blocking call into a test failure instead of a hung run (main thread only)."""
    import signal as sg

    def ring(*_):
        raise AssertionError(f"blocked for {seconds} s")

    old = sg.signal(sg.SIGALRM, ring)
    sg.alarm(seconds)
    try:
        yield
    finally:
        sg.alarm(0)
        sg.signal(sg.SIGALRM, old)


def _plant(kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero-symlink":
        path.symlink_to("/dev/zero")
    elif kind == "dev-urandom-symlink":
        path.symlink_to("/dev/urandom")
    elif kind == "directory":
        path.mkdir()
        (path / "inside").write_text("keep me")
    elif kind == "dangling-symlink":
        path.symlink_to(path.parent / "nowhere")
    elif kind == "sparse-2gib":
        with open(path, "wb") as fh:
            fh.truncate(2 * 2**30)
    elif kind == "sparse-2gib-valid-header":
        hb = json.dumps(
            {
                "format": "fietsstad-arrays",
                "version": fs_settings.CACHE_FORMAT_VERSION,
                "sha256": "0",
                "meta": {},
                "payload_bytes": 100,
            }
        ).encode()
        with open(path, "wb") as fh:
            fh.write(b"FSTD" + len(hb).to_bytes(8, "little") + hb)
            fh.truncate(2 * 2**30)
    else:  # pragma: no cover
        raise ValueError(kind)


SPECIAL = [
    "fifo",
    "dev-zero-symlink",
    "dev-urandom-symlink",
    "directory",
    "dangling-symlink",
    "sparse-2gib",
    "sparse-2gib-valid-header",
]


@pytest.mark.parametrize("kind", SPECIAL)
def test_special_file_at_cache_path_never_blocks_nor_is_read_whole(monkeypatch, kind):
    """Repro 2: a FIFO at the cache path blocked load_network(place=...) forever; a symlink to
    /dev/zero or a 2 GiB sparse file was read whole before its 12-byte header was checked.
    Now: refused after a stat (or after reading the header), peak Python memory stays small,
    and the network is built; where the entry can be replaced it is."""
    import tracemalloc

    from fietsstad.network import osm

    calls: list = []
    _use_download(monkeypatch, calls)
    path = osm.network_cache_path("Testdorp")
    _plant(kind, path)
    with pytest.raises(CacheError):
        with _alarm(60):
            load_arrays(path)
    tracemalloc.start()
    try:
        with _alarm(120), warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            net = osm.load_network("Testdorp")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert calls == ["Testdorp"] and net.meta["place"] == "Testdorp"
    assert any(issubclass(w.category, CacheWarning) for w in seen) or kind == "dangling-symlink"
    assert peak < 256 * 2**20, f"peak {peak / 2**20:.0f} MiB: the file was read whole"
    if kind == "directory":  # cannot be replaced: left alone, the build still returned (warned)
        assert (path / "inside").read_text() == "keep me"
        assert any("could not write" in str(w.message) for w in seen)
    else:
        assert BikeNetwork.load(path, key=path.stem).n_nodes == net.n_nodes
    assert Path("/dev/zero").exists()  # a symlink is replaced, never its target


def test_declared_payload_size_is_checked_before_reading(tmp_path):
    p = tmp_path / "e.fsa"
    save_arrays(p, {"a": np.arange(100)}, {})
    with open(p, "ab") as fh:
        fh.write(b"\0" * 1000)
    with pytest.raises(CacheError, match="size mismatch"):
        load_arrays(p)


class _OsProxy:
    """``os`` for one module, with some calls replaced (a fault, not a permission)."""

    def __init__(self, **replaced):
        self._replaced = replaced

    def __getattr__(self, name):
        return self._replaced.get(name, getattr(os, name))


class _FullFile:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


def _disk_full(monkeypatch) -> None:
    from fietsstad import _io

    monkeypatch.setattr(_io, "os", _OsProxy(fdopen=lambda *a, **k: _FullFile(os.fdopen(*a, **k))))


def _read_only(monkeypatch, err=errno.EROFS) -> None:
    """A read-only cache folder. Tests run as root, for whom chmod does not stop a write, so
    the refusal is injected where fietsstad creates files (mkstemp, the lock file, mkdir)."""
    import tempfile as tf

    from fietsstad import _cache, _io

    def refuse(*a, **k):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(_io, "tempfile", type("T", (), {"mkstemp": staticmethod(refuse)}))
    monkeypatch.setattr(_cache, "os", _OsProxy(open=refuse))
    assert tf.mkstemp is not refuse


@pytest.mark.parametrize("fault", ["disk-full", "read-only", "no-permission"])
def test_failed_cache_write_returns_the_built_network_with_a_warning(monkeypatch, fault):
    """Repro 3: a read-only or full cache folder raised a raw OSError after the network was
    built (so it was lost). Now the built network is returned with a CacheWarning, nothing is
    left in the cache folder, and saving directly raises a CacheError that says why."""
    from fietsstad.network import osm

    calls: list = []
    _use_download(monkeypatch, calls)
    path = osm.network_cache_path("Testdorp")
    if fault == "disk-full":
        _disk_full(monkeypatch)
        why = "disk is full"
    else:
        _read_only(monkeypatch, errno.EROFS if fault == "read-only" else errno.EACCES)
        why = "read-only" if fault == "read-only" else "no permission"
    with pytest.warns(CacheWarning, match="could not write"):
        net = osm.load_network("Testdorp")
    assert net.meta["place"] == "Testdorp" and net.n_nodes > 0 and calls == ["Testdorp"]
    assert not path.exists()
    if path.parent.exists():
        assert not [p for p in path.parent.iterdir() if p.suffix != ".lock"]
    with pytest.raises(CacheError, match=why):
        net.save(path.parent / "saved.fsn")
    assert not (path.parent / "saved.fsn").exists()


def test_directory_in_the_way_of_a_save_is_a_cache_error(tmp_path):
    (tmp_path / "net.fsn").mkdir()
    with pytest.raises(CacheError, match="folder is in the way"):
        ring_network().save(tmp_path / "net.fsn")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheError, match="file is in the way"):
        ring_network().save(tmp_path / "file" / "net.fsn")


def test_cache_folder_that_cannot_be_created_is_a_cache_error(monkeypatch, tmp_path):
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    monkeypatch.setattr(fs_settings, "cache_dir", tmp_path / "blocker" / "cache")
    with pytest.raises(CacheError, match="cannot create the cache folder"):
        cache_path("networks", "k")
    from fietsstad.network import osm

    calls: list = []
    _use_download(monkeypatch, calls)
    with pytest.warns(CacheWarning, match="could not write"):
        net = osm.load_network("Testdorp")  # the cache is an optimisation: still built
    assert net.meta["place"] == "Testdorp"
