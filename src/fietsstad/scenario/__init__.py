"""Snelfietspad scenarios: the route, its upgrade, the before/after evaluation, incremental update.

* :mod:`~fietsstad.scenario.route`: :class:`Snelfietspad` (waypoints, way ids or GeoJSON) and how
  it is laid onto a network (:class:`Upgrade`, :class:`RouteOnNetwork`);
* :mod:`~fietsstad.scenario.evaluate`: :func:`evaluate_snelfietspad` -> :class:`ScenarioResult`;
* :mod:`~fietsstad.scenario.incremental`: :func:`update_travel_times`, the exact incremental update
  of a travel-time matrix after some edges got faster.

Example
-------
>>> from fietsstad.scenario import zwolle_routes
>>> "Dalfsen-Zwolle" in zwolle_routes()
True
"""

from fietsstad.scenario.evaluate import ScenarioResult, evaluate_snelfietspad
from fietsstad.scenario.incremental import UpdateStats, update_travel_times
from fietsstad.scenario.route import (
    DIRECTNESS_TARGET,
    RouteOnNetwork,
    Snelfietspad,
    Upgrade,
    haversine_m,
    zwolle_routes,
)

__all__ = [
    "DIRECTNESS_TARGET",
    "RouteOnNetwork",
    "ScenarioResult",
    "Snelfietspad",
    "Upgrade",
    "UpdateStats",
    "evaluate_snelfietspad",
    "haversine_m",
    "update_travel_times",
    "zwolle_routes",
]
