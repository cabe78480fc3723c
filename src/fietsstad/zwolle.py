"""Every Zwolle preset in one place: study area, place name, districts, routes, hub sites, targets.

Facts, not models (the objects built from them live with their concept: ``scenario.zwolle_routes``
turns :func:`zwolle_route_table` into ``Snelfietspad`` objects, ``hubs.zwolle_hub_candidates``
turns :data:`ZWOLLE_HUB_SITES` into candidates, ``demand.fit_zwolle_2024`` fits to
:data:`ZWOLLE_TARGETS`). Statistics: everything here comes from CBS (Statistics Netherlands) open data, licence
CC-BY 4.0 ("Bron: CBS"); see ``data/README.md`` for the tables fietsstad ships.

* :data:`ZWOLLE_BBOX` -- the municipality's bounding box in lon/lat, from the bounds of the CBS/PDOK
  generalised municipal boundary 2023 (``zwolle_gemeente_2023.geojson``), rounded outwards to 6
  decimals.
* :func:`zwolle_study_area` -- that box as a shapely polygon (offline, always available).
* :func:`zwolle_boundary` -- the real municipal boundary, read from ``../shared`` when present.
* :func:`zwolle_districts` -- the 16 CBS wijken with 2024 inhabitants and dwellings and a
  representative point inside each district, as a GeoDataFrame (EPSG:4326).
* :data:`ZWOLLE_PLACE` -- the municipality as Nominatim knows it (for ``load_network(place=...)``).
* :func:`zwolle_route_table` -- the shipped snelfietspaden around Zwolle (approximate waypoints).
* :data:`ZWOLLE_HUB_SITES` -- approximate candidate mobility-hub sites.
* :data:`ZWOLLE_TARGETS` -- the cycling figures the uptake model is calibrated to.
* :func:`zwolle_jobs_total` -- jobs located in Zwolle (CBS, 2017). There is no per-district jobs
  figure in the shipped data; demand models distribute this total themselves.
* :func:`zwolle_region_zones` -- Regio Zwolle as 37 zones: Zwolle's 16 wijken and the 21 other
  municipalities within 15 km, as polygons with inhabitants, dwellings and jobs.
* :func:`zwolle_commute_flows` -- CBS home-to-work flows among the region's 22 municipalities.

Example
-------
>>> from fietsstad.zwolle import zwolle_districts, ZWOLLE_BBOX
>>> d = zwolle_districts()
>>> len(d), int(d["inhabitants_2024"].sum())
(16, 133135)
>>> ZWOLLE_BBOX[0] < float(d.geometry.x.min())
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fietsstad.errors import FietsstadError, InputFileError

if TYPE_CHECKING:  # annotations only: geopandas, pandas and shapely load on first use
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Polygon
    from shapely.geometry.base import BaseGeometry

#: Bounding box of the municipality of Zwolle, ``(min_lon, min_lat, max_lon, max_lat)`` EPSG:4326.
#: Source: CBS/PDOK gebiedsindelingen, gemeente 2023 (GM0193), generalised; CC-BY 4.0.
ZWOLLE_BBOX: tuple[float, float, float, float] = (6.003619, 52.440530, 6.210811, 52.587810)

#: The municipality of Zwolle, as Nominatim knows it.
ZWOLLE_PLACE: str = "Gemeente Zwolle, Overijssel, Nederland"

#: Targets of the Zwolle calibration (anchors.md section 2: 46 % of all trips and 49 % of trips up
#: to 7.5 km by bike, Fietsersbond / Gemeente Zwolle; KiM 2016 for the mean bike trip of 3.5 km).
ZWOLLE_TARGETS = {"share_all": 0.46, "share_short": 0.49, "short_km": 7.5, "mean_bike_km": 3.5}

#: Built-in Zwolle hub candidates ``(name, kind, lon, lat)``. Positions are APPROXIMATE (a few
#: hundred metres at most), placed by hand from public maps; check them before using the results.
ZWOLLE_HUB_SITES: tuple[tuple[str, str, float, float], ...] = (
    ("Zwolle Centraal (station)", "station", 6.0917, 52.5049),
    ("Stadshagen (centrum)", "district centre", 6.0620, 52.5300),
    ("Zwolle-Zuid (winkelcentrum)", "district centre", 6.1150, 52.4880),
    ("P+R Meeuwenplas", "P+R", 6.1225, 52.4900),
)

_ROUTES_FILE = "snelfietspaden.json"

#: CBS municipality code of Zwolle.
ZWOLLE_GM_CODE = "GM0193"

#: Inhabitants of the municipality, CBS Kerncijfers wijken en buurten 2024 (the 16 wijk figures,
#: rounded by CBS, sum to 133,135).
ZWOLLE_INHABITANTS_2024 = 133_141

#: Jobs located in Zwolle in 2017 (CBS, banen naar werklocatie per gemeente).
ZWOLLE_JOBS_2017 = 79_030

_DISTRICTS_CSV = "zwolle_districts.csv"
_REGION_FILE = "zwolle_region_zones.geojson"
_FLOWS_FILE = "zwolle_commute_flows.csv"
_ZONE_COLUMNS = [
    "zone_id",
    "name",
    "kind",
    "gemeente_code",
    "inhabitants",
    "dwellings",
    "jobs",
    "lon",
    "lat",
]
_FLOW_COLUMNS = [
    "origin_code",
    "origin_name",
    "destination_code",
    "destination_name",
    "period",
    "commuters",
]
_BOUNDARY_FILE = Path("data") / "zwolle" / "zwolle_gemeente_2023.geojson"


def zwolle_study_area() -> Polygon:
    """Zwolle's study area: the municipality's bounding box as a shapely ``Polygon`` (lon/lat).

    Returns
    -------
    shapely.geometry.Polygon
        The box :data:`ZWOLLE_BBOX` in EPSG:4326.

    Example
    -------
    >>> area = zwolle_study_area()
    >>> [round(c, 3) for c in area.bounds]
    [6.004, 52.441, 6.211, 52.588]
    """
    from shapely.geometry import box

    return box(*ZWOLLE_BBOX)


def zwolle_boundary(shared_dir: str | os.PathLike[str] | None = None) -> BaseGeometry:
    """The municipal boundary of Zwolle (CBS/PDOK 2023, generalised) from the shared data folder.

    Parameters
    ----------
    shared_dir
        The ``shared`` folder holding ``data/zwolle/zwolle_gemeente_2023.geojson``. Default: the
        environment variable ``FIETSSTAD_SHARED_DIR``, else ``../shared`` beside the current
        folder, else ``../shared`` beside the source checkout fietsstad runs from.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The boundary (Polygon or MultiPolygon) in EPSG:4326.

    Raises
    ------
    InputFileError
        If the boundary file is not there; use :func:`zwolle_study_area` (the bounding box) instead.

    Example
    -------
    >>> zwolle_boundary("/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fietsstad.errors.InputFileError: Zwolle's municipal boundary was not found at ...
    """
    base = Path(shared_dir) if shared_dir is not None else _default_shared_dir()
    path = base / _BOUNDARY_FILE
    if not path.is_file():
        raise InputFileError(
            f"Zwolle's municipal boundary was not found at {path}. Pass shared_dir= (the folder "
            "holding data/zwolle/zwolle_gemeente_2023.geojson), or use zwolle_study_area() for the "
            "bounding box, which needs no files"
        )
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as err:  # pyogrio / fiona raise many types for a broken file
        raise InputFileError(f"{path}: cannot read the boundary file: {err}") from err
    if len(gdf) == 0:
        raise InputFileError(f"{path}: the boundary file holds no geometry")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf.geometry.union_all() if hasattr(gdf.geometry, "union_all") else gdf.unary_union


def _default_shared_dir() -> Path:
    env = os.environ.get("FIETSSTAD_SHARED_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    candidates = [Path.cwd().parent / "shared", here.parents[2].parent / "shared"]
    return next((c for c in candidates if (c / _BOUNDARY_FILE).is_file()), candidates[0])


def zwolle_districts() -> gpd.GeoDataFrame:
    """The 16 districts (CBS wijken) of Zwolle as points, with 2024 inhabitants and dwellings.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, indexed 0..15 in code order, EPSG:4326, columns ``wijk_code``
        (``WK0193xx``), ``name``, ``inhabitants_2024``, ``dwellings_2024``, ``lon``, ``lat`` and a
        point ``geometry`` (a representative point inside the district polygon).
        Source: CBS Kerncijfers wijken en buurten 2024 (CC-BY 4.0).

    Raises
    ------
    FietsstadError
        If the shipped table is missing or damaged (a broken installation).

    Example
    -------
    >>> d = zwolle_districts()
    >>> d.loc[d["name"] == "Stadshagen", "inhabitants_2024"].item()
    28125
    """
    import geopandas as gpd
    import pandas as pd

    from fietsstad._data import data_path

    path = data_path(_DISTRICTS_CSV)
    try:
        df = pd.read_csv(path, dtype={"wijk_code": str, "name": str})
    except (OSError, ValueError) as err:
        raise FietsstadError(
            f"the shipped table {path} cannot be read ({err}); reinstall fietsstad"
        ) from err
    expected = ["wijk_code", "name", "inhabitants_2024", "dwellings_2024", "lon", "lat"]
    if list(df.columns) != expected or len(df) != 16:
        raise FietsstadError(
            f"the shipped table {path} is damaged (expected 16 rows with columns "
            f"{expected}); reinstall fietsstad"
        )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def zwolle_jobs_total() -> int:
    """Jobs located in the municipality of Zwolle: 79,030 (CBS, 2017).

    CBS publishes no per-district jobs figure in the data fietsstad ships; demand models spread
    this total over zones themselves.

    Example
    -------
    >>> zwolle_jobs_total()
    79030
    """
    return ZWOLLE_JOBS_2017


def zwolle_region_zones() -> gpd.GeoDataFrame:
    """Regio Zwolle as zones: Zwolle's 16 wijken plus the 21 other municipalities within 15 km.

    Returns
    -------
    geopandas.GeoDataFrame
        37 rows (the 16 wijken in code order, then the municipalities in code order), EPSG:4326,
        columns ``zone_id`` (``WK0193xx`` or ``GMxxxx``), ``name``, ``kind`` (``"wijk"`` or
        ``"gemeente"``), ``gemeente_code``, ``inhabitants`` (2024), ``dwellings`` (2024),
        ``jobs`` (2017, by work location), ``lon``/``lat`` (a representative point inside the
        zone: the :func:`zwolle_districts` point of a wijk; for a municipality shapely's
        ``representative_point()`` of the shipped polygon, the point
        :func:`fietsstad.snap_zones` snaps a polygon at) and a simplified (75 m) polygon
        ``geometry``. Zwolle's 79,030 jobs are spread over its wijken
        in proportion to inhabitants (CBS publishes jobs per municipality only), so wijk jobs
        are an estimate; every other figure is CBS's. Sources and rules: ``data/README.md``.

    Raises
    ------
    FietsstadError
        If the shipped file is missing or damaged (a broken installation).

    Example
    -------
    >>> z = zwolle_region_zones()
    >>> len(z), int(z["inhabitants"].sum()), z.crs.to_epsg()
    (37, 877846, 4326)
    >>> z.set_index("name").loc[["Dalfsen", "Kampen"], "inhabitants"].tolist()
    [29683, 56177]
    """
    import geopandas as gpd

    from fietsstad._data import data_path

    path = data_path(_REGION_FILE)
    try:
        gdf = gpd.read_file(path)
    except Exception as err:  # pyogrio / fiona raise many types for a broken file
        raise FietsstadError(
            f"the shipped zone file {path} cannot be read ({err}); reinstall fietsstad"
        ) from err
    if list(gdf.columns) != [*_ZONE_COLUMNS, "geometry"] or len(gdf) != 37:
        raise FietsstadError(
            f"the shipped zone file {path} is damaged (expected 37 zones with columns "
            f"{_ZONE_COLUMNS}); reinstall fietsstad"
        )
    for col in ("inhabitants", "dwellings", "jobs"):
        gdf[col] = gdf[col].astype("int64")
    return gdf.set_crs(4326, allow_override=True)


def zwolle_commute_flows(period: str | None = None) -> pd.DataFrame:
    """CBS home-to-work flows (commuters) among the 22 municipalities of the region.

    Parameters
    ----------
    period
        ``"2007-2012"`` or ``"2012-2017"`` to keep one period; ``None`` (default) keeps both.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_code``, ``origin_name`` (municipality of residence),
        ``destination_code``, ``destination_name`` (municipality of work), ``period`` and
        ``commuters`` (persons, CBS). Only flows with Zwolle at one end are in the source
        table (43 pairs per period, Zwolle -> Zwolle included). CC-BY 4.0, "Bron: CBS".

    Raises
    ------
    ValidationError
        If ``period`` is not one of the two periods.
    FietsstadError
        If the shipped table is missing or damaged.

    Example
    -------
    >>> f = zwolle_commute_flows("2007-2012").set_index(["origin_name", "destination_name"])
    >>> int(f.loc[("Dalfsen", "Zwolle"), "commuters"]), int(f.loc[("Kampen", "Zwolle"), "commuters"])
    (3516, 3481)
    """
    import pandas as pd

    from fietsstad._data import data_path
    from fietsstad.errors import ValidationError

    periods = ("2007-2012", "2012-2017")
    if period is not None and period not in periods:
        raise ValidationError(f"period must be one of {periods} or None, got {period!r}")
    path = data_path(_FLOWS_FILE)
    try:
        df = pd.read_csv(path, dtype={c: str for c in _FLOW_COLUMNS[:5]})
    except (OSError, ValueError) as err:
        raise FietsstadError(
            f"the shipped table {path} cannot be read ({err}); reinstall fietsstad"
        ) from err
    if list(df.columns) != _FLOW_COLUMNS or not set(df["period"]) <= set(periods):
        raise FietsstadError(
            f"the shipped table {path} is damaged (expected columns {_FLOW_COLUMNS}); "
            "reinstall fietsstad"
        )
    if period is not None:
        df = df[df["period"] == period].reset_index(drop=True)
    return df


def zwolle_route_table() -> list[dict[str, Any]]:
    """The shipped snelfietspaden around Zwolle as plain records (``data/snelfietspaden.json``).

    Each record has ``name``, ``waypoints`` (a list of ``(lon, lat)``), ``approximate``, ``note``
    and ``source``. :func:`fietsstad.scenario.zwolle_routes` turns them into ``Snelfietspad``s.

    Example
    -------
    >>> sorted(r["name"] for r in zwolle_route_table())[:2]
    ['Dalfsen-Zwolle', 'Zwolle-Hattem']
    """
    import json

    from fietsstad._data import data_path

    path = data_path(_ROUTES_FILE)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return [
            {
                "name": str(r["name"]),
                "waypoints": [(float(w["lon"]), float(w["lat"])) for w in r["waypoints"]],
                "approximate": bool(r.get("approximate", True)),
                "note": str(r.get("note", "")),
                "source": str(r.get("source", doc.get("source", ""))),
            }
            for r in doc["routes"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputFileError(
            f"the shipped route table {path} is missing or damaged ({err}); reinstall fietsstad"
        ) from err


def zwolle_default_zones(lon: Any, lat: Any, share: float = 0.5) -> gpd.GeoDataFrame:
    """The default zones for a network with node coordinates ``lon``, ``lat``.

    The 37 zones of Regio Zwolle (:func:`zwolle_region_zones`: Zwolle's 16 wijken and the 21
    municipalities within 15 km) when at least ``share`` of the 21 municipalities' points lie
    inside the network's bounding box (widened by about 500 m), i.e. the network covers the
    region; otherwise Zwolle's 16 districts (:func:`zwolle_districts`). ``modal_share`` and
    ``evaluate_snelfietspad`` use it when no zones are given.

    Example
    -------
    >>> z = zwolle_default_zones([6.0, 6.2], [52.45, 52.60])          # a box around the city
    >>> len(z)
    16
    >>> len(zwolle_default_zones([5.7, 6.6], [52.2, 52.85]))          # the whole region
    37
    """
    import numpy as np

    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.size == 0 or y.size == 0:
        return zwolle_districts()
    region = zwolle_region_zones()
    g = region[region["kind"] == "gemeente"]
    gx, gy = g["lon"].to_numpy(float), g["lat"].to_numpy(float)
    pad = 0.007
    inside = (
        (gx >= np.nanmin(x) - pad)
        & (gx <= np.nanmax(x) + pad)
        & (gy >= np.nanmin(y) - pad)
        & (gy <= np.nanmax(y) + pad)
    )
    return region if float(inside.mean()) >= share else zwolle_districts()


__all__ = [
    "ZWOLLE_PLACE",
    "ZWOLLE_TARGETS",
    "ZWOLLE_HUB_SITES",
    "zwolle_route_table",
    "ZWOLLE_BBOX",
    "ZWOLLE_GM_CODE",
    "ZWOLLE_INHABITANTS_2024",
    "ZWOLLE_JOBS_2017",
    "zwolle_study_area",
    "zwolle_boundary",
    "zwolle_districts",
    "zwolle_jobs_total",
    "zwolle_region_zones",
    "zwolle_commute_flows",
    "zwolle_default_zones",
]
