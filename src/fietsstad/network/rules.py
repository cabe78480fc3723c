"""The cycling rules: which OSM ways a cyclist may ride, in which direction, on what infrastructure.

This module is the ONE place where OpenStreetMap tags are interpreted; ``docs/cycling_rules.md``
is its table in prose. Everything here is a pure function of a way's (or node's) tags, so the
same tags give the same network whether they came from ``.osm``, ``.osm.bz2``, ``.osm.pbf``, an
osmnx ``.graphml`` or an osmnx download.

Directions are relative to the way's node order: ``forward`` runs from the first node to the last,
``backward`` the other way. A direction ridden against a one-way street (Dutch contraflow,
"beperkt eenrichtingsverkeer") is flagged ``contraflow``.

Bump :data:`RULES_VERSION` whenever a rule changes: it is part of the cache key of built networks.

Example
-------
>>> from fietsstad.network.rules import classify_way
>>> r = classify_way({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"})
>>> r.forward.rideable, r.backward.rideable, r.backward.contraflow
(True, True, True)
>>> r.backward.infra.name
'MIXED'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fietsstad.network.profiles import Infra

#: Version of the rules; part of every network cache key (3: edge times to 0.1 s, issue #12).
RULES_VERSION: str = "3"

#: Main roads: mixed traffic here is MAIN_ROAD, and minor ways crossing them wait (crossing delay).
MAIN_HIGHWAYS: frozenset[str] = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
    }
)
#: Quiet streets: mixed traffic here is MIXED.
MINOR_HIGHWAYS: frozenset[str] = frozenset(
    {
        "residential",
        "living_street",
        "service",
        "unclassified",
        "road",
    }
)
#: Ways for pedestrians (and horses) that cyclists may use only when tagged ``bicycle=yes|...``.
FOOT_HIGHWAYS: frozenset[str] = frozenset({"footway", "pedestrian", "bridleway", "steps"})
#: Never rideable, whatever the other tags say.
NEVER_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "razed",
        "disused",
        "platform",
        "corridor",
        "elevator",
        "escalator",
        "raceway",
        "bus_guideway",
        "rest_area",
        "services",
        "bus_stop",
    }
)
#: ``bicycle=*`` values that allow cycling.
BICYCLE_YES: frozenset[str] = frozenset({"yes", "designated", "permissive", "destination"})
#: ``bicycle=*`` values that forbid riding (``dismount``: you must walk; ``use_sidepath``: ride the
#: parallel cycle path, which is its own way, not the carriageway).
BICYCLE_NO: frozenset[str] = frozenset({"no", "dismount", "use_sidepath", "private"})
#: ``access=*`` / ``vehicle=*`` values that forbid cycling unless ``bicycle=*`` overrides them.
ACCESS_NO: frozenset[str] = frozenset(
    {
        "no",
        "private",
        "agricultural",
        "forestry",
        "delivery",
        "military",
        "emergency",
    }
)
#: ``oneway=*`` values meaning one-way along the node order / against it.
ONEWAY_FORWARD: frozenset[str] = frozenset({"yes", "true", "1", "reversible"})
ONEWAY_BACKWARD: frozenset[str] = frozenset({"-1", "reverse"})
#: ``surface=*`` values counted as unpaved (slower by the profile's ``unpaved_factor``).
UNPAVED_SURFACES: frozenset[str] = frozenset(
    {
        "unpaved",
        "compacted",
        "gravel",
        "fine_gravel",
        "pebblestone",
        "dirt",
        "earth",
        "ground",
        "grass",
        "grass_paver",
        "sand",
        "mud",
        "woodchips",
        "rock",
        "stepping_stones",
        "shells",
        "salt",
        "snow",
        "ice",
    }
)
#: ``tracktype=*`` values counted as unpaved when ``surface`` is absent.
UNPAVED_TRACKTYPES: frozenset[str] = frozenset({"grade2", "grade3", "grade4", "grade5"})
#: ``cycleway[:left|:right|:both]=*`` values that map a cycle facility on a road: they show that
#: cycling is allowed there, so a road carrying one is rideable whatever its class (a trunk road,
#: a busway) unless ``bicycle=no|dismount|use_sidepath|private`` or it is a motorway/motorroad.
CYCLE_FACILITY_VALUES: frozenset[str] = frozenset(
    {"lane", "track", "shared_lane", "opposite", "opposite_lane", "opposite_track"}
)
#: ``sac_scale=*`` values harder than ``mountain_hiking`` (SAC T3 and up): not rideable by bike.
SAC_SCALE_NOT_RIDEABLE: frozenset[str] = frozenset(
    {
        "demanding_mountain_hiking",
        "alpine_hiking",
        "demanding_alpine_hiking",
        "difficult_alpine_hiking",
    }
)
_CONTRAFLOW_CYCLEWAY = {
    "opposite": None,
    "opposite_lane": Infra.CYCLE_LANE,
    "opposite_track": Infra.CYCLE_PATH,
    "opposite_share_busway": None,
}
_FACILITY = {
    "track": Infra.CYCLE_PATH,
    "lane": Infra.CYCLE_LANE,
    "opposite_track": Infra.CYCLE_PATH,
    "opposite_lane": Infra.CYCLE_LANE,
}

#: Junction radius, metres: signal nodes (and, separately, crossing nodes) closer than this and
#: connected by the ways between them form one junction, whose delay a route pays once (osmnx's
#: ``consolidate_intersections`` idea; see docs/cycling_rules.md section 5).
JUNCTION_RADIUS_M: float = 25.0

#: Every way tag the rules read (osmnx's ``useful_tags_way`` must include them all).
WAY_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "area",
    "access",
    "vehicle",
    "bicycle",
    "bicycle:forward",
    "bicycle:backward",
    "motorroad",
    "oneway",
    "oneway:bicycle",
    "junction",
    "cycleway",
    "cycleway:both",
    "cycleway:left",
    "cycleway:right",
    "cycleway:both:oneway",
    "cycleway:left:oneway",
    "cycleway:right:oneway",
    "cyclestreet",
    "bicycle_road",
    "surface",
    "tracktype",
    "sac_scale",
)
#: Every node tag the rules read.
NODE_TAGS: tuple[str, ...] = ("highway", "crossing")


@dataclass(frozen=True)
class DirectionRule:
    """What one direction of a way allows.

    Attributes
    ----------
    rideable : bool
        A cyclist may ride this direction.
    infra : Infra
        Infrastructure category of this direction (meaningless when not rideable).
    contraflow : bool
        Ridden against the way's one-way direction (allowed by a contraflow tag).
    """

    rideable: bool
    infra: Infra = Infra.MIXED
    contraflow: bool = False


_NOT = DirectionRule(False)


@dataclass(frozen=True)
class WayRule:
    """The verdict of the cycling rules on one OSM way.

    Attributes
    ----------
    forward, backward : DirectionRule
        Along / against the way's node order.
    unpaved : bool
        Unpaved surface (``surface`` or, if absent, ``tracktype``).
    main_road : bool
        The way is a main road (trunk/primary/secondary/tertiary and links), rideable or not;
        minor ways entering its nodes get the crossing delay.
    reason : str
        Why the way is not rideable at all ('' when at least one direction is).
    """

    forward: DirectionRule
    backward: DirectionRule
    unpaved: bool = False
    main_road: bool = False
    reason: str = ""

    @property
    def rideable(self) -> bool:
        """At least one direction is rideable."""
        return self.forward.rideable or self.backward.rideable


def is_main_road(tags: Mapping[str, str]) -> bool:
    """True for main roads (trunk, primary, secondary, tertiary and their links), not areas.

    Example
    -------
    >>> is_main_road({"highway": "secondary", "bicycle": "use_sidepath"})
    True
    """
    return tags.get("highway") in MAIN_HIGHWAYS and tags.get("area") != "yes"


def node_has_signal(tags: Mapping[str, str]) -> bool:
    """True if a node's tags mark traffic signals (``highway=traffic_signals`` or
    ``crossing=traffic_signals``).

    Example
    -------
    >>> node_has_signal({"highway": "crossing", "crossing": "traffic_signals"})
    True
    """
    return tags.get("highway") == "traffic_signals" or tags.get("crossing") == "traffic_signals"


def is_unpaved(tags: Mapping[str, str]) -> bool:
    """Unpaved by ``surface`` (or by ``tracktype`` grade2-5 when ``surface`` is absent).

    Example
    -------
    >>> is_unpaved({"highway": "track", "tracktype": "grade3"}), is_unpaved({"surface": "asphalt"})
    (True, False)
    """
    surface = tags.get("surface")
    if surface is not None:
        return surface.split(";")[0] in UNPAVED_SURFACES
    return tags.get("tracktype") in UNPAVED_TRACKTYPES


def has_cycle_facility(tags: Mapping[str, str]) -> bool:
    """True if ``cycleway``, ``cycleway:left``, ``cycleway:right`` or ``cycleway:both`` maps a
    cycle lane or track (:data:`CYCLE_FACILITY_VALUES`): cycling is allowed on that road.

    Example
    -------
    >>> has_cycle_facility({"highway": "trunk", "cycleway:right": "lane"})
    True
    >>> has_cycle_facility({"highway": "trunk", "cycleway": "no"})
    False
    """
    return any(
        tags.get(key) in CYCLE_FACILITY_VALUES
        for key in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")
    )


def _base(tags: Mapping[str, str]) -> tuple[Infra | None, str]:
    """Infra category of the carriageway if a cyclist may use the way at all, else the reason."""
    hw = tags.get("highway")
    bicycle = tags.get("bicycle")
    if hw is None:
        return None, "no highway tag"
    if tags.get("area") == "yes":
        return None, "area=yes (a square, not a way)"
    if hw in NEVER_HIGHWAYS:
        return None, f"highway={hw} is never rideable"
    if tags.get("motorroad") == "yes":
        return None, "motorroad=yes"
    if bicycle in BICYCLE_NO:
        return None, f"bicycle={bicycle}"
    if tags.get("sac_scale") in SAC_SCALE_NOT_RIDEABLE:
        return None, f"sac_scale={tags['sac_scale']} (harder than mountain_hiking)"
    if bicycle not in BICYCLE_YES:
        for key in ("access", "vehicle"):
            if tags.get(key) in ACCESS_NO:
                return None, f"{key}={tags[key]} without bicycle=yes"
    # a mapped cycle lane/track shows that the road class allows cycling (trunk, busway); it
    # does not lift an access=no|private|... (only bicycle=yes|... does)
    allowed = bicycle in BICYCLE_YES or has_cycle_facility(tags)
    if hw == "cycleway":
        return Infra.CYCLE_PATH, ""
    if hw == "path":
        # NL practice: a fietspad/bromfietspad mapped as path carries bicycle=designated;
        # an untagged path is open to cyclists by default (OSM NL and worldwide defaults).
        return (Infra.CYCLE_PATH if bicycle == "designated" else Infra.SHARED_PATH), ""
    if hw in FOOT_HIGHWAYS:  # not roads: a cycleway=* tag here is no permission
        if bicycle not in BICYCLE_YES:
            return None, f"highway={hw} without bicycle=yes|designated|permissive"
        return (Infra.CYCLE_PATH if bicycle == "designated" else Infra.SHARED_PATH), ""
    if hw in ("trunk", "trunk_link"):
        if not allowed:
            return None, f"highway={hw} without bicycle=yes|designated or a cycle lane/track"
        return Infra.MAIN_ROAD, ""
    if hw in MAIN_HIGHWAYS:
        return Infra.MAIN_ROAD, ""
    if hw in MINOR_HIGHWAYS:
        return Infra.MIXED, ""
    if hw == "track":
        return Infra.TRACK, ""
    if hw == "busway":
        if not allowed:
            return None, "highway=busway without bicycle=yes or a cycle lane/track"
        return Infra.MIXED, ""
    return None, f"highway={hw} is not a rideable way type"


def _oneway(tags: Mapping[str, str]) -> int:
    """+1 one-way along the node order, -1 against it, 0 two-way (for all traffic)."""
    ow = tags.get("oneway")
    if ow in ONEWAY_FORWARD:
        return 1
    if ow in ONEWAY_BACKWARD:
        return -1
    if ow is None and tags.get("junction") in ("roundabout", "circular"):
        return 1
    return 0


def _best(*cats: Infra | None) -> Infra | None:
    """The best facility: separated path beats painted lane."""
    present = [c for c in cats if c is not None]
    if Infra.CYCLE_PATH in present:
        return Infra.CYCLE_PATH
    if Infra.CYCLE_LANE in present:
        return Infra.CYCLE_LANE
    return None


def _sides(tags: Mapping[str, str], oneway: int) -> tuple[Infra | None, Infra | None, bool]:
    """Cycle facility (lane/track) serving each direction, and whether a contraflow facility or
    tag exists.

    For a two-way road the result is ``(forward, backward, False)``; for a one-way road it is
    ``(with_flow, contraflow, contraflow_tagged)``. Sides follow right-hand traffic: the right side
    serves forward travel, the left side backward travel; a side tagged ``:oneway=no`` serves both,
    ``:oneway=-1`` the direction against the node order.
    """
    fac = _FACILITY.get
    cw = tags.get("cycleway", "")
    sides = [  # (facility, its :oneway tag, default direction +1 forward / -1 backward / 0 both)
        (fac(cw) if not cw.startswith("opposite") else None, None, 0),
        (fac(tags.get("cycleway:both", "")), tags.get("cycleway:both:oneway"), 0),
        (fac(tags.get("cycleway:right", "")), tags.get("cycleway:right:oneway"), 1),
        (fac(tags.get("cycleway:left", "")), tags.get("cycleway:left:oneway"), -1),
    ]
    if oneway == 0:
        fwd, bwd = [], []
        for facility, ow, default in sides:
            if facility is None:
                continue
            if ow == "no" or (ow is None and default == 0):
                fwd.append(facility)
                bwd.append(facility)
            elif ow in ("yes", "1") or (ow is None and default == 1):
                fwd.append(facility)
            else:  # ow == "-1" or left side by default
                bwd.append(facility)
        return _best(*fwd), _best(*bwd), False
    # one-way road: a side without :oneway runs with the flow; :oneway against the flow
    # (-1 on oneway=yes, yes on oneway=-1) is a contraflow facility; :oneway=no serves both.
    against = "-1" if oneway == 1 else "yes"
    flow = [f for f, ow, _ in sides if f is not None and ow != against]
    contra: list[Infra | None] = [
        f for f, ow, _ in sides if f is not None and ow in (against, "no")
    ]
    if cw in _CONTRAFLOW_CYCLEWAY:  # opposite* tags: contraflow, with a facility or not (None)
        contra.append(_CONTRAFLOW_CYCLEWAY[cw])
    return _best(*flow), _best(*contra), bool(contra)


def classify_way(tags: Mapping[str, str]) -> WayRule:
    """Apply the cycling rules to one way's tags.

    Parameters
    ----------
    tags
        The way's OSM tags (``{key: value}``, strings).

    Returns
    -------
    WayRule
        Rideability, infrastructure and contraflow flag for each direction, plus ``unpaved``,
        ``main_road`` and, when nothing is rideable, the ``reason``.

    Example
    -------
    >>> r = classify_way({"highway": "cycleway", "oneway": "yes"})
    >>> r.forward.infra.name, r.backward.rideable
    ('CYCLE_PATH', False)
    >>> classify_way({"highway": "footway"}).reason
    'highway=footway without bicycle=yes|designated|permissive'
    """
    main = is_main_road(tags)
    unpaved = is_unpaved(tags)
    base, reason = _base(tags)
    if base is None:
        return WayRule(_NOT, _NOT, unpaved, main, reason)
    street = tags.get("cyclestreet") == "yes" or tags.get("bicycle_road") == "yes"

    def infra(facility: Infra | None) -> Infra:
        if base == Infra.CYCLE_PATH or facility == Infra.CYCLE_PATH:
            return Infra.CYCLE_PATH
        if street:
            return Infra.CYCLE_STREET
        return facility if facility is not None else base

    oneway = _oneway(tags)
    ob = tags.get("oneway:bicycle")
    a, b, contra_tagged = _sides(tags, oneway)
    if oneway == 0:
        fwd, bwd = DirectionRule(True, infra(a)), DirectionRule(True, infra(b))
        # oneway:bicycle=yes|-1 on a two-way road: one-way for bikes only
        if ob in ("yes", "true", "1"):
            bwd = _NOT
        elif ob == "-1":
            fwd = _NOT
    else:
        contra_key = "bicycle:backward" if oneway == 1 else "bicycle:forward"
        allowed = ob == "no" or contra_tagged or tags.get(contra_key) in BICYCLE_YES
        if ob in ("yes", "true", "1", "-1"):
            allowed = False
        flow = DirectionRule(True, infra(a))
        contra = DirectionRule(True, infra(b), True) if allowed else _NOT
        fwd, bwd = (flow, contra) if oneway == 1 else (contra, flow)
    if tags.get("bicycle:forward") in BICYCLE_NO:
        fwd = _NOT
    if tags.get("bicycle:backward") in BICYCLE_NO:
        bwd = _NOT
    reason = "" if (fwd.rideable or bwd.rideable) else "no direction rideable"
    return WayRule(fwd, bwd, unpaved, main, reason)


__all__ = [
    "RULES_VERSION",
    "WAY_TAGS",
    "NODE_TAGS",
    "MAIN_HIGHWAYS",
    "MINOR_HIGHWAYS",
    "DirectionRule",
    "WayRule",
    "classify_way",
    "is_main_road",
    "node_has_signal",
    "is_unpaved",
    "has_cycle_facility",
    "CYCLE_FACILITY_VALUES",
    "SAC_SCALE_NOT_RIDEABLE",
    "JUNCTION_RADIUS_M",
]
