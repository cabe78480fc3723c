"""Zwolle study area and districts table, checked against the CBS files in ../shared."""

from __future__ import annotations

import csv

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import REPO
from fietsstad import FietsstadError, InputFileError
from fietsstad.zwolle import (
    ZWOLLE_BBOX,
    ZWOLLE_JOBS_2017,
    zwolle_boundary,
    zwolle_districts,
    zwolle_jobs_total,
    zwolle_study_area,
)

ZW = ("data", "zwolle")


@pytest.fixture(scope="module")
def districts():
    return zwolle_districts()


def test_sixteen_districts_with_cbs_codes(districts):
    d = districts
    assert len(d) == 16
    assert list(d.columns) == [
        "wijk_code",
        "name",
        "inhabitants_2024",
        "dwellings_2024",
        "lon",
        "lat",
        "geometry",
    ]
    assert d.crs.to_epsg() == 4326
    assert d["wijk_code"].is_unique and d["name"].is_unique
    assert all(c.startswith("WK0193") and len(c) == 8 and c[6:].isdigit() for c in d["wijk_code"])
    # the 2014 division: 10-14 (centre), 20-22 (west), 30-32 (north), 40-41 (east), 50-52 (south)
    assert sorted(int(c[6:]) for c in d["wijk_code"]) == [
        10,
        11,
        12,
        13,
        14,
        20,
        21,
        22,
        30,
        31,
        32,
        40,
        41,
        50,
        51,
        52,
    ]
    assert d["inhabitants_2024"].sum() == 133_135  # CBS rounds; the municipality total is 133,141
    assert d["dwellings_2024"].sum() == 61_187
    assert d.loc[d["wijk_code"] == "WK019322", "name"].item() == "Stadshagen"


def test_figures_match_cbs_table(districts, shared_dir):
    path = shared_dir.joinpath(*ZW, "kwb2024_zwolle_gemeente_wijken.csv")
    with open(path, newline="") as fh:
        cbs = {r["code"]: r for r in csv.DictReader(fh) if r["code"].startswith("WK")}
    assert set(cbs) == set(districts["wijk_code"])
    for row in districts.itertuples():
        assert row.inhabitants_2024 == int(cbs[row.wijk_code]["aantal_inwoners"])
        assert row.dwellings_2024 == int(cbs[row.wijk_code]["woningvoorraad"])


def test_points_lie_inside_their_district_polygon(districts, shared_dir):
    polys = gpd.read_file(shared_dir.joinpath(*ZW, "zwolle_wijken_geom2014_kwb2024.geojson"))
    polys = polys.set_index("WK_2014").geometry
    for row in districts.itertuples():
        assert polys[row.wijk_code].contains(row.geometry), row.wijk_code
        # and in no other district
        others = polys.drop(row.wijk_code)
        assert not others.contains(row.geometry).any(), row.wijk_code


def test_names_agree_with_the_neighbourhoods_they_contain(districts, shared_dir):
    buurten = gpd.read_file(shared_dir.joinpath(*ZW, "zwolle_buurten_2014.geojson"))
    by_wijk = buurten.groupby("WK_2014")["BU_NAAM"].apply(
        lambda s: " ".join(s).lower().replace("-", "")
    )
    # districts named after a part of them: the name (or its first part) is a buurt name
    for code, name in [
        ("WK019310", "Binnenstad"),
        ("WK019312", "Wipstrik"),
        ("WK019313", "Assendorp"),
        ("WK019314", "Kamperpoort-Veerallee"),
        ("WK019321", "Westenholte"),
        ("WK019330", "Holtenbroek"),
        ("WK019331", "Aa-landen"),
        ("WK019340", "Berkum"),
        ("WK019350", "Schelle"),
        ("WK019351", "Ittersum"),
    ]:
        assert districts.loc[districts["wijk_code"] == code, "name"].item() == name
        assert name.lower().replace("-", "")[:6] in by_wijk[code], (code, name)


def test_points_inside_bbox_and_bbox_matches_boundary(districts, shared_dir):
    x0, y0, x1, y1 = ZWOLLE_BBOX
    assert np.all((districts["lon"] > x0) & (districts["lon"] < x1))
    assert np.all((districts["lat"] > y0) & (districts["lat"] < y1))
    boundary = zwolle_boundary(shared_dir)
    bx0, by0, bx1, by1 = boundary.bounds
    # hard-coded box = real bounds rounded outwards to 6 decimals
    assert x0 <= bx0 < x0 + 1e-6 and y0 <= by0 < y0 + 1e-6
    assert x1 - 1e-6 < bx1 <= x1 and y1 - 1e-6 < by1 <= y1
    assert zwolle_study_area().contains(boundary)
    assert all(boundary.contains(p) for p in districts.geometry)
    # the municipality is 119 km2 (CBS); compute in RD New (EPSG:28992)
    area = gpd.GeoSeries([boundary], crs=4326).to_crs(28992).area.item() / 1e6
    assert 115 < area < 124


def test_study_area_polygon():
    area = zwolle_study_area()
    assert isinstance(area, shapely.Polygon)
    assert area.bounds == pytest.approx(ZWOLLE_BBOX)


def test_boundary_missing_raises_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="zwolle_study_area"):
        zwolle_boundary(tmp_path)
    assert issubclass(InputFileError, FietsstadError)


def test_boundary_corrupt_file_raises(tmp_path):
    bad = tmp_path.joinpath(*ZW, "zwolle_gemeente_2023.geojson")
    bad.parent.mkdir(parents=True)
    bad.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(InputFileError):
        zwolle_boundary(tmp_path)


def test_jobs_total_is_the_cbs_figure(shared_dir):
    assert zwolle_jobs_total() == ZWOLLE_JOBS_2017 == 79_030
    with open(shared_dir / "data" / "zwolle" / "banen_werklocatie_per_gemeente.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["gemeentecode"] == "GM0193"]
    jobs_2017 = [float(r["total_banen_werk"]) for r in rows if float(r["jaar"]) == 2017]
    assert jobs_2017 == [79_030.0]


def test_generated_default_network_lies_over_zwolle(districts):
    from fietsstad.network import generate_network

    net = generate_network(2_000, seed=0)
    # every district point snaps to the generated network within a few hundred metres
    idx, dist = net.snap(districts["lon"], districts["lat"], return_distance=True)
    assert len(idx) == 16 and dist.max() < 300


def test_boundary_default_location_and_env_override(shared_dir, tmp_path, monkeypatch):
    from pathlib import Path

    import fietsstad

    monkeypatch.delenv("FIETSSTAD_SHARED_DIR", raising=False)
    repo = REPO
    monkeypatch.chdir(repo)  # ../shared beside the current folder
    assert zwolle_boundary().equals(zwolle_boundary(shared_dir))
    if Path(fietsstad.__file__).resolve().is_relative_to(repo / "src"):
        # editable install: from anywhere, falls back to ../shared beside the source checkout
        monkeypatch.chdir(tmp_path)
        assert zwolle_boundary().equals(zwolle_boundary(shared_dir))
    monkeypatch.setenv("FIETSSTAD_SHARED_DIR", str(tmp_path))
    with pytest.raises(InputFileError, match=str(tmp_path)):
        zwolle_boundary()
