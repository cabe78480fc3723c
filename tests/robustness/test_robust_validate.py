"""The shared validators in fietsstad._validate: bad input -> the right FietsstadError, good passes.

Hypothesis compares each validator's accept/refuse decision with an independent numpy oracle.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from shapely.geometry import Point

from fietsstad import CRSError, FietsstadError, GraphError, MemoryBudgetError, ValidationError
from fietsstad import _validate as V

N_EXAMPLES = 60  # per property test below; recorded in docs/robustness.md

floats_any = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(arrays(np.float64, st.integers(0, 20), elements=floats_any))
def test_check_finite_nonneg_matches_numpy_oracle(a):
    ok = a.size > 0 and bool(np.all(np.isfinite(a)) and np.all(a >= 0))
    if ok:
        out = V.check_finite_nonneg(a, "w")
        np.testing.assert_array_equal(out, a)
    else:
        with pytest.raises(ValidationError, match=r"w (must be|is empty)"):
            V.check_finite_nonneg(a, "w")


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40), min_size=0, max_size=12), st.integers(1, 1000))
def test_check_node_ids_matches_range_oracle(ids, n):
    ok = len(ids) > 0 and all(0 <= i < n for i in ids)
    if ok:
        out = V.check_node_ids(ids, n, "sources")
        assert out.dtype == np.int32 and out.tolist() == ids
    else:
        with pytest.raises(GraphError, match="sources"):
            V.check_node_ids(ids, n, "sources")


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(st.one_of(floats_any, st.integers(-(10**6), 10**6)))
def test_check_cutoff_matches_oracle(s):
    ok = math.isfinite(s) and 0 < s <= V.MAX_CUTOFF_S
    if ok:
        assert V.check_cutoff(s) == float(s)
    else:
        with pytest.raises(ValidationError, match="cutoff"):
            V.check_cutoff(s)


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(floats_any, floats_any)
def test_check_lonlat_matches_oracle(lon, lat):
    finite = math.isfinite(lon) and math.isfinite(lat)
    if finite and abs(lon) <= 180 and abs(lat) <= 90:
        lo, la = V.check_lonlat(lon, lat)
        assert lo[0] == lon and la[0] == lat
    elif not finite:
        with pytest.raises(ValidationError, match="finite"):
            V.check_lonlat(lon, lat)
    else:
        with pytest.raises(CRSError, match="EPSG:4326"):
            V.check_lonlat(lon, lat)


@pytest.mark.parametrize(
    "bad, words",
    [
        (None, "numeric array-like"),
        ("1,2,3", "numeric array-like"),
        ({"a": 1}, "numeric array-like"),
        (["a", "b"], "numeric"),
        ([1.0, None], "numeric"),
        ([[1, 2], [3]], "rectangular"),
        ([], "empty"),
    ],
)
def test_check_array_wrong_types(bad, words):
    with pytest.raises(ValidationError, match=words):
        V.check_array(bad, "weights")


def test_node_ids_non_integer_and_huge():
    with pytest.raises(GraphError, match="whole numbers"):
        V.check_node_ids([0.5], 10)
    with pytest.raises(GraphError, match="not OSM ids"):
        V.check_node_ids([123456789012], 10)
    with pytest.raises(GraphError, match="one-dimensional"):
        V.check_node_ids([[0, 1]], 10)
    assert V.check_node_ids(3, 10).tolist() == [3]  # a scalar is one id


@pytest.mark.parametrize("bad", [True, "900", None, [900], float("nan"), -1, 0, 10**9])
def test_cutoff_refuses(bad):
    with pytest.raises(ValidationError, match="cutoff"):
        V.check_cutoff(bad)


def test_cutoff_message_names_alternatives():
    with pytest.raises(ValidationError, match="float32 or int32"):
        V.check_cutoff(100_000)


def test_check_int_and_range():
    assert V.check_int(7.0, "k") == 7
    for bad in (True, 2.5, "3", None):
        with pytest.raises(ValidationError, match="whole number"):
            V.check_int(bad, "k")
    with pytest.raises(ValidationError, match=">= 1"):
        V.check_int(0, "k", min_value=1)
    assert V.check_in_range(1.0, "p", 0, 1) == 1.0
    with pytest.raises(ValidationError, match=r"\(0, 1\]"):
        V.check_in_range(0.0, "p", 0, 1, lo_open=True)
    with pytest.raises(ValidationError, match="finite"):
        V.check_in_range(float("inf"), "p", 0, 1)


def test_population_all_zero_or_bad():
    with pytest.raises(ValidationError, match="sums to zero"):
        V.check_population([0, 0, 0])
    with pytest.raises(ValidationError, match=">= 0"):
        V.check_population([5, -1])
    with pytest.raises(ValidationError, match="finite"):
        V.check_population([5, np.nan])


def test_seed():
    assert V.check_seed(None) is None
    with pytest.raises(ValidationError):
        V.check_seed(-1)
    with pytest.raises(ValidationError):
        V.check_seed("42")


def test_columns():
    df = pd.DataFrame({"pop": [1, 2]})
    assert V.check_columns(df, ["pop"]) is df
    with pytest.raises(ValidationError, match="lacks column"):
        V.check_columns(df, ["pop", "jobs"], "zones")
    with pytest.raises(ValidationError, match="DataFrame"):
        V.check_columns({"pop": [1]}, ["pop"])
    with pytest.raises(ValidationError, match="empty"):
        V.check_columns(df.iloc[:0], ["pop"])


def test_ensure_crs_4326_reprojects_and_refuses():
    # RD New (EPSG:28992) point of Zwolle's centre, about (203000, 502000): lon 6.09, lat 52.51
    rd = gpd.GeoDataFrame(geometry=[Point(203000, 502000)], crs=28992)
    out = V.ensure_crs_4326(rd)
    assert out.crs.to_epsg() == 4326
    assert abs(out.geometry.x.iloc[0] - 6.09) < 0.02 and abs(out.geometry.y.iloc[0] - 52.51) < 0.02
    with pytest.raises(CRSError, match="no CRS"):
        V.ensure_crs_4326(gpd.GeoDataFrame(geometry=[Point(6.0, 52.0)]))
    # metres labelled as lon/lat: the CRS is a lie
    with pytest.raises(CRSError, match="CRS is probably wrong"):
        V.ensure_crs_4326(gpd.GeoDataFrame(geometry=[Point(203000, 502000)], crs=4326))
    with pytest.raises(ValidationError, match="empty"):
        V.ensure_crs_4326(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(ValidationError, match="GeoDataFrame"):
        V.ensure_crs_4326(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValidationError, match="missing or empty"):
        V.ensure_crs_4326(gpd.GeoDataFrame(geometry=[None], crs=4326))


def test_check_network():
    from _robust import ring_network

    from fietsstad.network import check_network

    net = ring_network()
    assert check_network(net) is net
    with pytest.raises(ValidationError, match="BikeNetwork"):
        check_network("zwolle.osm")


def test_memory_budget_refuses_before_allocation_python_int_size():
    from fietsstad.engine._memory import check_memory_budget

    # 1,000,000 x 1,000,000 uint16 = 2e12 bytes: computed with Python ints, no overflow
    with pytest.raises(MemoryBudgetError, match="Alternatives: use a cut-off") as ei:
        check_memory_budget(
            (10**6, 10**6),
            np.uint16,
            "travel-time matrix",
            alternatives=["use a cut-off", "iterate in blocks"],
        )
    assert "1,862.6 GiB" in str(ei.value)  # 2e12 / 2**30, by hand
    assert isinstance(ei.value, MemoryError) and isinstance(ei.value, FietsstadError)
    assert check_memory_budget((3, 5), np.float32, budget_bytes=60) == 60
    with pytest.raises(MemoryBudgetError):
        check_memory_budget((3, 5), np.float32, budget_bytes=59)
