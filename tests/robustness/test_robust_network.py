"""BikeNetwork's public surface under bad input: from_edges, snap, subgraph, csr, load; and the
saturation of edge travel times (a Python-int oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from _robust import assert_valid_network, ring_network
from hypothesis import given, settings
from hypothesis import strategies as st

from fietsstad import (
    CacheError,
    CRSError,
    FietsstadError,
    GraphError,
    InputFileError,
    SnappingError,
    ValidationError,
)
from fietsstad.network import BikeNetwork, travel_time_seconds

N_EXAMPLES = 60  # hypothesis examples for the travel-time oracle; recorded in docs/robustness.md

BASE = dict(
    x=np.array([6.0, 6.01]),
    y=np.array([52.5, 52.5]),
    node_id=np.array([1, 2]),
    u=np.array([0, 1]),
    v=np.array([1, 0]),
    length=np.array([680.0, 680.0]),
    infra=np.array([0, 0]),
)

BAD_EDGES = {
    "infra code 99": (dict(infra=np.array([99, 0])), GraphError, "infra codes"),
    "infra code -1": (dict(infra=np.array([-1, 0])), GraphError, "infra codes"),
    "delay NaN": (dict(delay=np.array([np.nan, 0])), GraphError, "finite"),
    "delay negative": (dict(delay=np.array([-5, 0])), GraphError, ">= 0"),
    "delay beyond int32": (dict(delay=np.array([2.0**40, 0])), GraphError, "at most"),
    "length inf": (dict(length=np.array([np.inf, 1.0])), GraphError, "finite"),
    "length strings": (dict(length=["a", "b"]), GraphError, "numeric"),
    "y shorter than x": (dict(y=np.array([52.5])), GraphError, "length 2"),
    "node_id shorter": (dict(node_id=np.array([1])), GraphError, "node_id"),
    "x NaN": (dict(x=np.array([np.nan, 6.0])), FietsstadError, "finite"),
    "latitude 152": (dict(y=np.array([152.5, 52.5])), CRSError, "EPSG:4326"),
    "projected metres": (
        dict(x=np.array([203000.0, 203100.0]), y=np.array([502000.0, 502000.0])),
        CRSError,
        "projected",
    ),
    "u fractional": (dict(u=np.array([0.5, 1.0])), GraphError, "whole numbers"),
    "u strings": (dict(u=np.array(["a", "b"])), GraphError, "numeric"),
    "v out of range": (dict(v=np.array([1, 7])), GraphError, "node positions"),
    "u negative": (dict(u=np.array([-1, 1])), GraphError, "node positions"),
    "v shorter than u": (dict(v=np.array([1])), GraphError, "length 2"),
    "node_signal shorter": (dict(node_signal=np.array([True])), GraphError, "one entry per node"),
    "name shorter": (dict(name=np.array(["a"], dtype=object)), GraphError, "name"),
    "geometries shorter": (dict(geometries=[np.zeros((2, 2))]), GraphError, "geometries"),
    "way_id shorter": (dict(way_id=np.array([5])), GraphError, "way_id"),
    "x None": (dict(x=None), GraphError, "numeric array-like"),
    "profile unknown": (dict(profile="car"), ValidationError, "unknown profile"),
}


@pytest.mark.parametrize("case", sorted(BAD_EDGES))
def test_from_edges_bad_input_raises_fietsstad_error(case):
    change, err, words = BAD_EDGES[case]
    kw = dict(BASE)
    kw.update(change)
    with pytest.raises(err, match=words):
        BikeNetwork.from_edges(**kw)


def test_from_edges_good_input_still_builds():
    net = BikeNetwork.from_edges(**BASE, name=["a", "b"], delay=[2.4, 0])  # lists are fine
    assert_valid_network(net)
    assert net.delay.tolist() == [2, 0] and net.name.tolist() == ["a", "b"]


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1e13, allow_nan=False),
            st.sampled_from([12.0, 18.0, 35.0]),
            st.integers(0, 2**31 - 1),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_travel_time_saturates_against_python_int_oracle(rows):
    length = np.array([r[0] for r in rows])
    speed = np.array([r[1] for r in rows])
    delay = np.array([r[2] for r in rows])
    got = travel_time_seconds(length, speed, delay)
    assert got.dtype == np.float64
    for (ln, sp, dl), g in zip(rows, got.tolist()):
        exact = int(round(ln * 36.0 / sp + dl * 10.0))  # deciseconds, Python ints: no overflow
        assert g == min(max(exact, 1), 2**31 - 2) / 10, (ln, sp, dl)


def test_huge_length_edge_saturates_not_negative():
    kw = dict(BASE)
    kw["length"] = np.array([1e12, 680.0])
    net = BikeNetwork.from_edges(**kw)
    assert net.travel_time.min() >= 0.1
    assert net.travel_time.max() == (2**31 - 2) / 10  # int32 deciseconds saturate


@pytest.mark.parametrize(
    "lon, lat, err, words",
    [
        ("a", "b", ValidationError, "numeric"),
        (None, None, ValidationError, "numeric array-like"),
        ([6.0, 6.1], [52.5], ValidationError, "shape"),
        ([np.nan], [52.5], ValidationError, "finite"),
        ([203000.0], [502000.0], SnappingError, "projected"),
        ([5.0], [52.0], SnappingError, "from the network"),  # about 70 km away
    ],
)
def test_snap_bad_points(lon, lat, err, words):
    net = ring_network()
    with pytest.raises(err, match=words):
        net.snap(lon, lat)


@pytest.mark.parametrize("bad", [-5.0, float("nan"), "500"])
def test_snap_bad_max_distance(bad):
    net = ring_network()
    with pytest.raises(ValidationError, match="max_distance_m"):
        net.snap([net.x[0]], [net.y[0]], max_distance_m=bad)


def test_subgraph_wrong_mask_length():
    net = ring_network()
    with pytest.raises(ValidationError, match="one entry per node"):
        net.subgraph(np.array([True, False]))


def test_csr_and_profile_bad_names():
    net = ring_network()
    with pytest.raises(ValidationError, match="weight"):
        net.csr("speed")
    with pytest.raises(ValidationError, match="unknown profile"):
        net.with_profile("car")


def test_load_missing_directory_and_garbage(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):  # a missing file is not a cache error
        BikeNetwork.load(tmp_path / "nope.fsn")
    with pytest.raises(CacheError):
        BikeNetwork.load(tmp_path)
    (tmp_path / "g.fsn").write_bytes(b"\x00" * 64)
    with pytest.raises(CacheError, match="magic"):
        BikeNetwork.load(tmp_path / "g.fsn")


def test_load_valid_file_with_inconsistent_arrays(tmp_path):
    """A well-formed, checksummed file whose arrays disagree is still refused."""
    from fietsstad._io import load_arrays, save_arrays

    p = ring_network().save(tmp_path / "r.fsn")
    arrays, meta = load_arrays(p)
    arrays["indices"] = arrays["indices"][:-1]
    save_arrays(tmp_path / "bad.fsn", arrays, meta)
    with pytest.raises(CacheError, match="inconsistent"):
        BikeNetwork.load(tmp_path / "bad.fsn")
    arrays, meta = load_arrays(p)
    del arrays["travel_time"]
    save_arrays(tmp_path / "bad2.fsn", arrays, meta)
    with pytest.raises(CacheError, match="missing"):
        BikeNetwork.load(tmp_path / "bad2.fsn")


def test_hostile_names_roundtrip_save_load(tmp_path):
    """Unicode, RTL overrides, emoji, markup and 1,000-character names survive save/load exactly."""
    from _robust import HOSTILE_STRINGS

    names = [*HOSTILE_STRINGS, "x" * 1000, "", "\u0000nul"]
    net = ring_network(names=names, n=7)
    back = BikeNetwork.load(net.save(tmp_path / "names.fsn"))
    assert back.name.tolist() == net.name.tolist()
    assert set(back.name.tolist()) >= set(names) - {"\u0000nul"}


@pytest.mark.parametrize(
    "field, change",
    [
        ("indices", lambda a: a + 10**6),
        ("indices", lambda a: a - 10**6),
        ("indptr", lambda a: a[::-1].copy()),
        ("travel_time", lambda a: -a),
        ("indptr", lambda a: a.astype(np.int64)),
        ("y", lambda a: a[:-1]),
    ],
    ids=[
        "indices too large",
        "indices negative",
        "indptr decreasing",
        "negative travel times",
        "int64 indptr",
        "y too short",
    ],
)
def test_load_checksum_valid_but_nonsense_structure(tmp_path, field, change):
    """A foreign file with a correct checksum but arrays that would crash the engine: refused."""
    from fietsstad._io import load_arrays, save_arrays

    p = ring_network().save(tmp_path / "r.fsn")
    arrays, meta = load_arrays(p)
    arrays[field] = change(arrays[field])
    save_arrays(tmp_path / "bad.fsn", arrays, meta)
    with pytest.raises(CacheError, match="invalid network structure|inconsistent"):
        BikeNetwork.load(tmp_path / "bad.fsn")
