"""Regional zones and commuting flows, checked against the CBS / PDOK files in ../shared."""

from __future__ import annotations

import importlib.util
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import fietsstad
from conftest import REPO
from fietsstad import ValidationError
from fietsstad._data import data_path
from fietsstad.zwolle import (
    ZWOLLE_JOBS_2017,
    zwolle_commute_flows,
    zwolle_districts,
    zwolle_region_zones,
)

ZW = ("data", "zwolle")


@pytest.fixture(scope="module")
def zones():
    return zwolle_region_zones()


def _cbs_gemeenten(shared_dir) -> pd.DataFrame:
    return pd.read_csv(shared_dir.joinpath(*ZW, "kwb2024_region_gemeenten.csv")).set_index("code")


def test_thirty_seven_zones_with_the_promised_columns(zones):
    assert len(zones) == 37
    assert list(zones.columns) == [
        "zone_id",
        "name",
        "kind",
        "gemeente_code",
        "inhabitants",
        "dwellings",
        "jobs",
        "lon",
        "lat",
        "geometry",
    ]
    assert zones.crs.to_epsg() == 4326
    assert zones["zone_id"].is_unique and zones["name"].is_unique
    assert (zones["kind"] == "wijk").sum() == 16 and (zones["kind"] == "gemeente").sum() == 21
    wijk = zones[zones["kind"] == "wijk"]
    assert (wijk["gemeente_code"] == "GM0193").all()
    assert all(z.startswith("WK0193") for z in wijk["zone_id"])
    gem = zones[zones["kind"] == "gemeente"]
    assert (gem["zone_id"] == gem["gemeente_code"]).all() and "GM0193" not in set(gem["zone_id"])
    for name in ("Dalfsen", "Kampen", "Hattem", "Meppel", "Staphorst", "Zwartewaterland"):
        assert name in set(gem["name"])
    for col in ("inhabitants", "dwellings", "jobs"):
        assert zones[col].dtype == np.int64 and (zones[col] > 0).all()


def test_totals_equal_the_cbs_sums(zones):
    # all 22 municipalities: 877,852 inhabitants; Zwolle's 16 wijk figures are rounded by CBS
    # (133,135 instead of 133,141), hence 6 fewer
    assert int(zones["inhabitants"].sum()) == 877_852 - 6
    assert int(zones["jobs"].sum()) == 294_465  # CBS 2017 jobs by work location, 22 municipalities
    wijk = zones[zones["kind"] == "wijk"]
    assert int(wijk["jobs"].sum()) == ZWOLLE_JOBS_2017
    assert int(wijk["dwellings"].sum()) == 61_187
    d = zwolle_districts()
    assert wijk["zone_id"].tolist() == d["wijk_code"].tolist()
    assert wijk["inhabitants"].tolist() == d["inhabitants_2024"].tolist()
    assert np.allclose(wijk[["lon", "lat"]].to_numpy(), d[["lon", "lat"]].to_numpy())
    # the documented rule: Zwolle's jobs spread in proportion to inhabitants (largest remainder)
    exact = ZWOLLE_JOBS_2017 * wijk["inhabitants"] / wijk["inhabitants"].sum()
    assert np.abs(wijk["jobs"] - exact).max() < 1.0


def test_figures_match_the_cbs_tables(zones, shared_dir):
    cbs = _cbs_gemeenten(shared_dir)
    banen = pd.read_csv(shared_dir.joinpath(*ZW, "banen_werklocatie_per_gemeente.csv"))
    jobs = banen[banen["jaar"] == 2017].set_index("gemeentecode")["total_banen_werk"]
    assert int(cbs["aantal_inwoners"].sum()) == 877_852
    gem = zones[zones["kind"] == "gemeente"].set_index("zone_id")
    assert set(gem.index) | {"GM0193"} == set(cbs.index)
    for code, row in gem.iterrows():
        assert row["name"] == cbs.loc[code, "naam"]
        assert row["inhabitants"] == cbs.loc[code, "aantal_inwoners"]
        assert row["dwellings"] == cbs.loc[code, "woningvoorraad"]
        assert row["jobs"] == jobs[code]
    assert ZWOLLE_JOBS_2017 == jobs["GM0193"]


def test_polygons_are_valid_and_contain_their_points(zones):
    assert zones.geometry.is_valid.all()
    assert set(zones.geom_type) <= {"Polygon", "MultiPolygon"}
    pts = gpd.points_from_xy(zones["lon"], zones["lat"], crs=4326)
    assert zones.geometry.contains(gpd.GeoSeries(pts, index=zones.index)).all()
    # the wijken tile Zwolle: no two zones overlap by more than the simplification allows
    rd = zones.to_crs(28992)
    union_area = shapely.union_all(rd.geometry.values).area
    assert union_area == pytest.approx(rd.area.sum(), rel=0.005)


def test_simplified_polygons_stay_close_to_the_cbs_boundaries(zones, shared_dir):
    gem = gpd.read_file(shared_dir.joinpath(*ZW, "region_gemeenten_15km_2023.geojson"))
    wijk = gpd.read_file(shared_dir.joinpath(*ZW, "zwolle_wijken_geom2014_kwb2024.geojson"))
    orig = pd.concat(
        [
            wijk.set_index("WK_2014").geometry.to_crs(28992),
            gem.set_index("statcode").geometry.to_crs(28992),
        ]
    )
    ours = zones.set_index("zone_id").geometry.to_crs(28992)
    for zid, geom in ours.items():
        ref = orig[zid]
        # simplified at 75 m: no point moves more than 100 m (tolerance plus topology
        # preservation and rounding), and the area that changes is a band along the boundary of
        # mean width under 25 m (measured: 2-18 m); small wijken change area by up to 4.3 %
        assert geom.hausdorff_distance(ref) < 100.0, zid
        assert geom.symmetric_difference(ref).area / ref.length < 25.0, zid
        assert geom.area == pytest.approx(ref.area, rel=0.05), zid
    assert ours.area.sum() == pytest.approx(orig[ours.index].area.sum(), rel=0.005)


def test_shipped_file_is_small_and_attributed():
    path = data_path("zwolle_region_zones.geojson")
    assert path.stat().st_size < 150_000
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "CC-BY 4.0" in doc["source"] and "CBS" in doc["source"]
    readme = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    for name in ("zwolle_region_zones.geojson", "zwolle_commute_flows.csv", "build_region.py"):
        assert name in readme


def test_build_script_reproduces_the_shipped_files(tmp_path, shared_dir):
    spec = importlib.util.spec_from_file_location("build_region", REPO / "data" / "build_region.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(shared_dir.joinpath(*ZW), tmp_path)
    for name in ("zwolle_region_zones.geojson", "zwolle_commute_flows.csv"):
        assert (tmp_path / name).read_bytes() == data_path(name).read_bytes(), name


def test_public_names():
    assert fietsstad.zwolle_region_zones is zwolle_region_zones
    assert fietsstad.zwolle_commute_flows is zwolle_commute_flows


# ------------------------------------------------------------------------------ commuting flows
def test_commute_flows_hold_the_cbs_figures():
    f = zwolle_commute_flows()
    assert list(f.columns) == [
        "origin_code",
        "origin_name",
        "destination_code",
        "destination_name",
        "period",
        "commuters",
    ]
    assert sorted(set(f["period"])) == ["2007-2012", "2012-2017"]
    assert len(f) == 86
    early = zwolle_commute_flows("2007-2012").set_index(["origin_name", "destination_name"])
    assert len(early) == 43
    assert early.loc[("Dalfsen", "Zwolle"), "commuters"] == 3_516
    assert early.loc[("Kampen", "Zwolle"), "commuters"] == 3_481
    assert early.loc[("Zwolle", "Zwolle"), "commuters"] == 31_431
    # every flow has Zwolle at one end, between municipalities of the zones
    codes = set(zwolle_region_zones()["gemeente_code"])
    assert ((f["origin_code"] == "GM0193") | (f["destination_code"] == "GM0193")).all()
    assert set(f["origin_code"]) <= codes and set(f["destination_code"]) <= codes
    assert not f.duplicated(["origin_code", "destination_code", "period"]).any()


def test_commute_flows_match_the_cbs_file(shared_dir):
    raw = pd.read_csv(shared_dir.joinpath(*ZW, "woonwerk_flows_zwolle.csv"))
    codes = set(_cbs_gemeenten(shared_dir).index)
    raw = raw[raw["origin_id"].isin(codes) & raw["destination_id"].isin(codes)]
    ours = zwolle_commute_flows()
    ours_idx = ours.set_index(["origin_code", "destination_code", "period"])["commuters"]
    assert len(raw) == len(ours)
    for r in raw.itertuples():
        p = str(int(r.periode))
        assert ours_idx[(r.origin_id, r.destination_id, f"{p[:4]}-{p[4:]}")] == r.flow_value


def test_commute_flows_reject_an_unknown_period():
    with pytest.raises(ValidationError, match="period"):
        zwolle_commute_flows("2020")


def test_docs_table_matches_the_shipped_zones(zones):
    lines = (REPO / "docs" / "region.md").read_text(encoding="utf-8").splitlines()
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith(("WK", "GM")):
            rows[cells[0]] = cells
    assert set(rows) == set(zones["zone_id"])
    for z in zones.itertuples():
        cells = rows[z.zone_id]
        assert cells[1] == z.name and cells[2] == z.kind
        assert int(cells[3].replace(",", "")) == z.inhabitants
        assert int(cells[4].replace(",", "")) == z.dwellings
        assert int(cells[5].split()[0].replace(",", "")) == z.jobs
