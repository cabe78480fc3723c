"""Infrastructure categories and cyclist profiles: what each edge costs a cyclist.

This module is the single place where speeds and delays live. An edge's travel time is::

    travel_time_s = round(length_m / (speed_kmh / 3.6)) + delay_s

where ``speed_kmh`` is the profile's cruising speed for the edge's infrastructure category, times
``unpaved_factor`` on unpaved surfaces, and ``delay_s`` is the expected wait at the junction the edge
runs into (traffic signals, or crossing a main road without priority).

Speeds follow Dutch planning practice (Fietsberaad / CROW planning speeds of 16, 20 and 32 km/h for
bike, e-bike and speed pedelec on ordinary streets; see ``../shared/docs/anchors.md``): faster on
separated cycle paths and cycle streets, slower on shared foot/cycle paths and unpaved surfaces.
Signal delay is the mean wait for a cyclist arriving at random at a fixed-time signal (roughly half
the red time of a 60-90 s cycle).

Example
-------
>>> from fietsstad.network.profiles import get_profile, Infra
>>> bike = get_profile("bike")
>>> bike.speed(Infra.CYCLE_PATH)
18.0
>>> round(bike.edge_seconds(1000.0, Infra.CYCLE_PATH))
200
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

import numpy as np

from fietsstad.errors import ValidationError


class Infra(IntEnum):
    """Infrastructure category of a directed edge (stored as int8 in networks).

    Example
    -------
    >>> Infra.CYCLE_STREET == 2, Infra(7).name
    (True, 'FAST_ROUTE')
    >>> INFRA_NAMES[int(Infra.SHARED_PATH)]
    'shared_path'
    """

    CYCLE_PATH = 0  #: separated cycle path (highway=cycleway, or a designated path)
    CYCLE_LANE = 1  #: painted cycle lane or cycleway:left/right=lane on a road
    CYCLE_STREET = 2  #: fietsstraat (cyclestreet=yes / bicycle_road=yes)
    MIXED = 3  #: mixed traffic on a quiet street (residential, living street, service)
    MAIN_ROAD = 4  #: mixed traffic on a main road (primary..tertiary without cycle facility)
    SHARED_PATH = 5  #: footway / pedestrian / path on which cycling is allowed
    TRACK = 6  #: agricultural / forest track
    FAST_ROUTE = 7  #: snelfietspad upgraded or built by a scenario


INFRA_NAMES: dict[int, str] = {int(c): c.name.lower() for c in Infra}


@dataclass(frozen=True)
class Profile:
    """A cyclist profile: cruising speed per infrastructure category and junction delays.

    Parameters
    ----------
    name
        Profile name (``"bike"``, ``"ebike"``, ``"speed_pedelec"`` or your own).
    speeds_kmh
        Cruising speed per :class:`Infra` category, km/h.
    unpaved_factor
        Multiplier of speed on unpaved surfaces (gravel, dirt, grass, sand...).
    signal_delay_s
        Mean wait at a traffic signal, seconds.
    crossing_delay_s
        Mean wait when crossing or joining a main road without signals or priority, seconds.

    Example
    -------
    >>> from fietsstad.network.profiles import Profile, get_profile
    >>> slow = get_profile("bike").with_speeds(mixed=14.0)
    >>> slow.speed(3)
    14.0
    """

    name: str
    speeds_kmh: dict[int, float] = field(default_factory=dict)
    unpaved_factor: float = 0.75
    signal_delay_s: float = 20.0
    crossing_delay_s: float = 6.0

    def __post_init__(self) -> None:
        for cat in Infra:
            v = self.speeds_kmh.get(int(cat))
            if v is None or not np.isfinite(v) or v <= 0:
                raise ValidationError(
                    f"profile {self.name!r}: speed for {cat.name} must be a positive number, got {v!r}"
                )
        if not (0 < self.unpaved_factor <= 1):
            raise ValidationError("unpaved_factor must be in (0, 1]")
        if self.signal_delay_s < 0 or self.crossing_delay_s < 0:
            raise ValidationError("delays must be >= 0 seconds")

    def speed(self, infra: int, unpaved: bool = False) -> float:
        """Cruising speed in km/h for an infrastructure category (and surface)."""
        v = float(self.speeds_kmh[int(infra)])
        return v * self.unpaved_factor if unpaved else v

    def speed_array(self, infra: np.ndarray, unpaved: np.ndarray | None = None) -> np.ndarray:
        """Vectorised :meth:`speed` over int8 category codes; returns float32 km/h."""
        table = np.array([self.speeds_kmh[int(c)] for c in Infra], dtype=np.float32)
        v = table[np.asarray(infra, dtype=np.int64)]
        if unpaved is not None:
            v = np.where(np.asarray(unpaved, dtype=bool), v * self.unpaved_factor, v)
        return v.astype(np.float32)

    def edge_seconds(self, length_m: float, infra: int, unpaved: bool = False) -> float:
        """Riding time (without junction delay) of ``length_m`` metres, in seconds."""
        return length_m / (self.speed(infra, unpaved) / 3.6)

    def with_speeds(self, **speeds_by_name: float) -> Profile:
        """A copy with some category speeds replaced, by lower-case category name."""
        sp = dict(self.speeds_kmh)
        for key, val in speeds_by_name.items():
            try:
                sp[int(Infra[key.upper()])] = float(val)
            except KeyError as err:
                raise ValidationError(
                    f"unknown infrastructure category {key!r}; known: {sorted(INFRA_NAMES.values())}"
                ) from err
        return replace(self, speeds_kmh=sp)


def _speeds(
    path: float,
    lane: float,
    street: float,
    mixed: float,
    main: float,
    shared: float,
    track: float,
    fast: float,
) -> dict[int, float]:
    vals = (path, lane, street, mixed, main, shared, track, fast)
    return {int(c): float(v) for c, v in zip(Infra, vals)}


#: Built-in profiles. Regular bike ~16 km/h on ordinary streets, e-bike ~20, speed pedelec ~30.
PROFILES: dict[str, Profile] = {
    "bike": Profile("bike", _speeds(18, 17, 18, 16, 15, 12, 13, 20)),
    "ebike": Profile("ebike", _speeds(22, 21, 22, 20, 19, 14, 16, 24), unpaved_factor=0.8),
    "speed_pedelec": Profile(
        "speed_pedelec",
        _speeds(30, 30, 25, 25, 32, 14, 18, 35),
        unpaved_factor=0.7,
        signal_delay_s=20.0,
        crossing_delay_s=8.0,
    ),
}


def get_profile(profile: str | Profile = "bike") -> Profile:
    """Return a :class:`Profile` by name (or pass one through).

    Example
    -------
    >>> get_profile("ebike").name
    'ebike'
    """
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[str(profile)]
    except KeyError:
        raise ValidationError(
            f"unknown profile {profile!r}; choose one of {sorted(PROFILES)} or pass a Profile"
        ) from None
