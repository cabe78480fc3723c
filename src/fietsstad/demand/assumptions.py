"""The assumptions of the demand chain, in one frozen object with a source for every number.

Every function that reports a bike share, a scenario effect, car trips, car-km or CO2
(:func:`fietsstad.demand.modal_share`, :func:`fietsstad.demand.compare_scenarios`,
:func:`fietsstad.scenario.evaluate_snelfietspad` and their Dask versions) takes an
:class:`Assumptions` (default :data:`DEFAULT_ASSUMPTIONS`) and returns it with its results.
The same numbers, with their sources, are listed in ``data/README.md`` ("Demand assumptions").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from fietsstad.errors import ValidationError

#: Mean distance between two uniform random points of a unit square (Ghosh 1951).
SQUARE_MEAN_DISTANCE = 0.5214054331647207
#: Mean distance between two uniform random points of a unit-radius disc: 128 / (45 pi).
DISC_MEAN_DISTANCE = 128.0 / (45.0 * math.pi)


@dataclass(frozen=True)
class Assumptions:
    """The assumptions of the demand chain (zones -> trips -> gravity -> uptake -> indicators).

    Attributes
    ----------
    trips_per_person : float
        All-mode trips per inhabitant per day (2.7). Dutch residents make about 2.6-2.9 trips a
        day in the national travel survey (OViN/ODiN, CBS; KiM Mobiliteitsbeeld); a national
        figure, not a Zwolle measurement.
    attraction_per_job, attraction_per_inhabitant : float
        Relative destination weights of a job (1.5) and an inhabitant (1.0); only their ratio
        matters (attractions are scaled to the productions total). An assumption.
    deterrence : tuple
        Gravity deterrence on bike travel time, ``("exponential", 0.063)`` per minute: calibrated
        (:func:`fietsstad.demand.calibrate.calibrate_deterrence`) so that the full model on
        Zwolle's 16 districts, intrazonal trips included, gives 46 % of all trips by bike with
        the :data:`~fietsstad.demand.ZWOLLE_2024` uptake (fitted on the cited Dutch trip-length
        figures of ``data/trip_lengths_nl.csv``): solved 0.0622, 0.0630 and 0.0652 on three
        generated Zwolle networks (20,000 nodes seed 0; 6,000 nodes seeds 0 and 3), 0.063 kept.
        At 0.063 the 20,000-node network gives 46.1 % of all trips, 48.6 % of trips up to 7.5 km
        (municipal indicator: 49 %) and a mean bike trip of 3.17 km (KiM 2016: 3.5 km
        nationally; :func:`fietsstad.demand.calibrate.compare_trip_lengths` sets the model's
        trip lengths beside every cited figure).
    car_share_of_shifted : float
        Share of the trips that move to the bike which were car trips before (0.14): 14 % of the
        new users of Copenhagen's cycle superhighways commuted by car before (2024 survey); 2-5 %
        of all users of an improved Dutch route drove before (Rijkswaterstaat). anchors.md
        section 3. The rest came from other bike routes, public transport or walking.
    car_occupancy : float
        Persons per car on the replaced trips (1.0: every replaced car trip is one car driving;
        commuter cars, the trips snelfietspaden serve, carry barely more than the driver).
        Car trips (vehicles) replaced = shifted person trips x ``car_share_of_shifted`` /
        ``car_occupancy``. An assumption; set about 1.3-1.4 for all purposes.
    co2_kg_per_car_km : float
        kg CO2 per car-km avoided (0.17): order of magnitude of the Dutch petrol/diesel
        passenger-car fleet, tank-to-wheel (0.15-0.2 kg/km); an assumption, set your own.
    intrazonal_area_factor : float
        Intrazonal trip distance of a polygon zone of area ``A``: ``factor * sqrt(A)`` (0.5214:
        the mean distance between two random points of a square, Ghosh 1951).
    intrazonal_point_factor : float
        Intrazonal distance of a point zone: the mean distance within a disc whose radius is
        half the straight-line distance to the nearest other zone, ``0.905 * r`` = ``0.4527 x``
        the nearest-zone distance (the zones then tile the plane without overlap).
    intrazonal_default_km : float
        Intrazonal distance (1.0 km) of zones with neither area nor coordinates when the
        distance matrix's diagonal is 0 (a distance matrix with a positive diagonal is used
        as given).

    Example
    -------
    >>> a = Assumptions()
    >>> a.trips_per_person, a.car_share_of_shifted, a.co2_kg_per_car_km
    (2.7, 0.14, 0.17)
    >>> a.replace(car_share_of_shifted=0.3).car_share_of_shifted
    0.3
    """

    trips_per_person: float = 2.7
    attraction_per_job: float = 1.5
    attraction_per_inhabitant: float = 1.0
    deterrence: tuple[str, float] = ("exponential", 0.063)
    car_share_of_shifted: float = 0.14
    car_occupancy: float = 1.0
    co2_kg_per_car_km: float = 0.17
    intrazonal_area_factor: float = SQUARE_MEAN_DISTANCE
    intrazonal_point_factor: float = DISC_MEAN_DISTANCE / 2.0
    intrazonal_default_km: float = 1.0

    def __post_init__(self) -> None:
        checks = (
            ("trips_per_person", 0.0, math.inf, True),
            ("attraction_per_job", 0.0, math.inf, False),
            ("attraction_per_inhabitant", 0.0, math.inf, False),
            ("car_share_of_shifted", 0.0, 1.0, False),
            ("car_occupancy", 1.0, math.inf, False),
            ("co2_kg_per_car_km", 0.0, math.inf, False),
            ("intrazonal_area_factor", 0.0, math.inf, False),
            ("intrazonal_point_factor", 0.0, math.inf, False),
            ("intrazonal_default_km", 0.0, math.inf, False),
        )
        for name, lo, hi, open_lo in checks:
            v = getattr(self, name)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            if not ok or v < lo or v > hi or (open_lo and v == lo):
                raise ValidationError(
                    f"Assumptions.{name} must be a finite number in "
                    f"{'(' if open_lo else '['}{lo}, {hi}], got {v!r}"
                )
        if not (isinstance(self.deterrence, tuple) and len(self.deterrence) == 2):
            raise ValidationError(
                f"Assumptions.deterrence must be a (kind, parameter) tuple, got {self.deterrence!r}"
            )

    def replace(self, **changes: Any) -> Assumptions:
        """A copy with some fields changed (validated again).

        Example
        -------
        >>> Assumptions().replace(co2_kg_per_car_km=0.2).co2_kg_per_car_km
        0.2
        """
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for result ``attrs`` and JSON).

        Example
        -------
        >>> Assumptions().to_dict()["trips_per_person"]
        2.7
        """
        return asdict(self)

    def car_trips(self, shifted_trips: Any) -> Any:
        """Car (vehicle) trips replaced by ``shifted_trips`` person trips moved to the bike.

        Example
        -------
        >>> round(Assumptions().car_trips(100.0), 6)
        14.0
        """
        return shifted_trips * (self.car_share_of_shifted / self.car_occupancy)


#: The defaults used everywhere unless a caller passes its own.
DEFAULT_ASSUMPTIONS = Assumptions()


def get_assumptions(assumptions: Assumptions | None) -> Assumptions:
    """``assumptions``, or :data:`DEFAULT_ASSUMPTIONS` for ``None``; refuses anything else.

    Example
    -------
    >>> get_assumptions(None) is DEFAULT_ASSUMPTIONS
    True
    """
    if assumptions is None:
        return DEFAULT_ASSUMPTIONS
    if not isinstance(assumptions, Assumptions):
        raise ValidationError(
            f"assumptions must be a fietsstad.Assumptions, got {type(assumptions).__name__}"
        )
    return assumptions


def _lonlat(zones: Any) -> tuple[np.ndarray, np.ndarray] | None:
    cols = getattr(zones, "columns", ())
    if "geometry" in cols and getattr(zones, "crs", None) is not None:
        from fietsstad._validate import ensure_crs_4326

        pts = ensure_crs_4326(zones, "zones").geometry.representative_point()
        return pts.x.to_numpy(), pts.y.to_numpy()
    for x, y in (("lon", "lat"), ("x", "y")):
        if x in cols and y in cols:
            return np.asarray(zones[x], float), np.asarray(zones[y], float)
    return None


def intrazonal_distances(
    zones: Any, assumptions: Assumptions | None = None, diagonal_km: Any = None
) -> np.ndarray:
    """Distance (km) of the trips inside each zone, by the documented rule of ``assumptions``.

    Polygon zones: ``intrazonal_area_factor * sqrt(area)``. Point zones with coordinates
    (``geometry`` or ``lon``/``lat``): ``intrazonal_point_factor`` x the straight-line distance
    to the nearest other zone. Otherwise ``diagonal_km`` (the distance matrix's diagonal) where
    it is positive, else ``intrazonal_default_km``.

    Parameters
    ----------
    zones
        The zones (GeoDataFrame, or DataFrame with or without ``lon``/``lat``).
    assumptions
        Default :data:`DEFAULT_ASSUMPTIONS`.
    diagonal_km
        The distance matrix's diagonal in km, if known.

    Returns
    -------
    numpy.ndarray
        One float64 distance per zone.

    Example
    -------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"lon": [6.0, 6.0], "lat": [52.5, 52.509]})   # 1.0 km apart
    >>> intrazonal_distances(z).round(2).tolist()
    [0.45, 0.45]
    >>> intrazonal_distances(pd.DataFrame(index=[0, 1]), diagonal_km=[0.25, 0.0]).tolist()
    [0.25, 1.0]
    """
    a = get_assumptions(assumptions)
    n = len(zones)
    out = np.full(n, a.intrazonal_default_km)
    if diagonal_km is not None:
        dg = np.asarray(diagonal_km, dtype=np.float64).reshape(-1)
        if dg.shape == (n,):
            good = np.isfinite(dg) & (dg > 0)
            out[good] = dg[good]
    geom = zones.geometry if "geometry" in getattr(zones, "columns", ()) else None
    if geom is not None and getattr(zones, "crs", None) is not None:
        from fietsstad._validate import ensure_crs_4326

        g = ensure_crs_4326(zones, "zones")
        area = g.to_crs(g.estimate_utm_crs()).area.to_numpy() / 1e6  # km2
        poly = area > 0
        out[poly] = a.intrazonal_area_factor * np.sqrt(area[poly])
    else:
        poly = np.zeros(n, dtype=bool)
    ll = _lonlat(zones)
    if ll is not None and n > 1 and not poly.all():
        lon, lat = ll
        from fietsstad._geo import haversine_m

        pts = ~poly
        for i in np.flatnonzero(pts):
            d = haversine_m(lon[i], lat[i], lon, lat) / 1000.0
            d[i] = np.inf
            nn = float(d.min())
            if math.isfinite(nn) and nn > 0:
                out[i] = a.intrazonal_point_factor * nn
    return out


__all__ = [
    "Assumptions",
    "DEFAULT_ASSUMPTIONS",
    "get_assumptions",
    "intrazonal_distances",
    "SQUARE_MEAN_DISTANCE",
    "DISC_MEAN_DISTANCE",
]
