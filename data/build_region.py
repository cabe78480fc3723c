"""Build the regional zone and commuting tables that fietsstad ships (run by hand, never at import).

Reads CBS / PDOK open data from the shared folder (``../shared/data/zwolle/`` by default) and
writes, next to this script:

* ``zwolle_region_zones.geojson``: Zwolle's 16 wijken plus the other 21 municipalities whose
  boundary lies within 15 km of Zwolle (37 zones), simplified polygons with inhabitants,
  dwellings and jobs (see ``README.md`` for every rule);
* ``zwolle_commute_flows.csv``: CBS home-to-work flows among those 22 municipalities.

Usage::

    python data/build_region.py [SHARED_ZWOLLE_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
#: simplification tolerance in metres (in the Dutch RD New projection, EPSG:28992)
TOLERANCE_M = 75.0
DECIMALS = 5
JOBS_YEAR = 2017
ZWOLLE = "GM0193"


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    order = np.argsort(-(raw - out), kind="stable")
    out[order[:rest]] += 1
    return out


def _simplify(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    rd = geoms.to_crs(28992).simplify(TOLERANCE_M, preserve_topology=True).to_crs(4326)
    rounded = shapely.set_precision(rd.values, 10.0**-DECIMALS)
    return gpd.GeoSeries(shapely.make_valid(rounded), crs=4326)


def build(src: Path, out_dir: Path = HERE) -> None:
    gem = gpd.read_file(src / "region_gemeenten_15km_2023.geojson").to_crs(4326)
    kwb = pd.read_csv(src / "kwb2024_region_gemeenten.csv", dtype={"code": str})
    banen = pd.read_csv(src / "banen_werklocatie_per_gemeente.csv", dtype={"gemeentecode": str})
    wijk = gpd.read_file(src / "zwolle_wijken_geom2014_kwb2024.geojson").to_crs(4326)
    districts = pd.read_csv(HERE / "zwolle_districts.csv", dtype={"wijk_code": str})

    jobs = banen[banen["jaar"] == JOBS_YEAR].set_index("gemeentecode")["total_banen_werk"]
    gem = gem.merge(kwb, left_on="statcode", right_on="code", validate="1:1")
    assert len(gem) == 22 and ZWOLLE in set(gem["code"])

    others = gem[gem["code"] != ZWOLLE].sort_values("code")
    g_rows = pd.DataFrame(
        {
            "zone_id": others["code"].to_numpy(),
            "name": others["naam"].to_numpy(),
            "kind": "gemeente",
            "gemeente_code": others["code"].to_numpy(),
            "inhabitants": others["aantal_inwoners"].astype(int).to_numpy(),
            "dwellings": others["woningvoorraad"].astype(int).to_numpy(),
            "jobs": [int(jobs[c]) for c in others["code"]],
        }
    )
    g_geom = list(others.geometry)

    wijk = wijk.set_index("WK_2014").loc[districts["wijk_code"]]
    zw_jobs = _largest_remainder(int(jobs[ZWOLLE]), districts["inhabitants_2024"].to_numpy(float))
    w_rows = pd.DataFrame(
        {
            "zone_id": districts["wijk_code"].to_numpy(),
            "name": districts["name"].to_numpy(),
            "kind": "wijk",
            "gemeente_code": ZWOLLE,
            "inhabitants": districts["inhabitants_2024"].astype(int).to_numpy(),
            "dwellings": districts["dwellings_2024"].astype(int).to_numpy(),
            "jobs": zw_jobs,
        }
    )
    rows = pd.concat([w_rows, g_rows], ignore_index=True)
    geoms = _simplify(gpd.GeoSeries(list(wijk.geometry) + g_geom, crs=4326))
    # a point inside each zone: the shipped district point for wijken; for municipalities the
    # shapely representative point of the shipped polygon, the point fietsstad's snap_zones uses
    # for a GeoDataFrame, so both ways of snapping a zone agree
    lon, lat = [], []
    for i, geom in enumerate(geoms):
        if rows.loc[i, "kind"] == "wijk":
            pt = shapely.Point(districts.loc[i, "lon"], districts.loc[i, "lat"])
        else:
            pt = geom.representative_point()
            pt = shapely.Point(round(pt.x, DECIMALS), round(pt.y, DECIMALS))
        assert geom.contains(pt), rows.loc[i, "name"]
        lon.append(pt.x)
        lat.append(pt.y)
    rows["lon"] = lon
    rows["lat"] = lat
    out = gpd.GeoDataFrame(rows, geometry=geoms.values, crs=4326)
    assert out.geometry.is_valid.all()
    path = Path(out_dir) / "zwolle_region_zones.geojson"
    doc = json.loads(out.to_json(drop_id=True))
    doc["name"] = "zwolle_region_zones"
    doc["source"] = (
        "CBS Kerncijfers wijken en buurten 2024; CBS banen naar werklocatie 2017; CBS/PDOK "
        "gebiedsindelingen 2023 (simplified). CC-BY 4.0, Bron: CBS. Built by data/build_region.py"
    )
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")

    flows = pd.read_csv(src / "woonwerk_flows_zwolle.csv", dtype={"origin_id": str})
    codes = set(gem["code"])
    flows = flows[flows["origin_id"].isin(codes) & flows["destination_id"].isin(codes)]
    periode = flows["periode"].astype(int).astype(str)
    table = pd.DataFrame(
        {
            "origin_code": flows["origin_id"],
            "origin_name": flows["origin_name"],
            "destination_code": flows["destination_id"],
            "destination_name": flows["destination_name"],
            "period": periode.str[:4] + "-" + periode.str[4:],
            "commuters": flows["flow_value"].round().astype(int),
        }
    ).sort_values(["period", "origin_code", "destination_code"])
    table.to_csv(Path(out_dir) / "zwolle_commute_flows.csv", index=False)
    print(f"{path.name}: {len(out)} zones, {path.stat().st_size:,} bytes; flows: {len(table)} rows")


if __name__ == "__main__":
    default = HERE.parent / ".." / "shared" / "data" / "zwolle"
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
