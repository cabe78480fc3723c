"""fietsstad: cycling mobility analytics, built first for Zwolle.

OSM -> bike network -> numba engine -> accessibility / modal share / demand -> scenarios -> maps.

Quick start
-----------
>>> import fietsstad
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)   # a GENERATED network (offline)
>>> print(net.describe().splitlines()[0])                   # doctest: +ELLIPSIS
GENERATED network ...

Public names are imported lazily, so ``import fietsstad`` is fast and does not compile numba
kernels until they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import settings
from .errors import (
    CacheError,
    ConvergenceError,
    CRSError,
    FietsstadError,
    GraphError,
    InputFileError,
    MemoryBudgetError,
    NoRideableNetworkError,
    PlaceNotFoundError,
    SnappingError,
    ValidationError,
)
from .network import BikeNetwork
from .profiles import PROFILES, Infra, Profile, get_profile

__version__ = "0.1.0"

# public name -> module that defines it (resolved on first access)
_LAZY: dict[str, str] = {
    "load_network": "fietsstad.osm",
    "ZWOLLE": "fietsstad.osm",
    "generate_network": "fietsstad.generate",
    "zwolle_districts": "fietsstad.zwolle",
    "zwolle_study_area": "fietsstad.zwolle",
    "zwolle_boundary": "fietsstad.zwolle",
    "zwolle_jobs_total": "fietsstad.zwolle",
    "travel_time_matrix": "fietsstad.routing",
    "iter_travel_time_blocks": "fietsstad.routing",
    "shortest_route": "fietsstad.routing",
    "accessibility": "fietsstad.accessibility",
    "two_step_fca": "fietsstad.accessibility",
    "uptake": "fietsstad.uptake",
    "UptakeModel": "fietsstad.uptake",
    "calibrate_uptake": "fietsstad.uptake",
    "gravity_distribution": "fietsstad.demand",
    "trip_generation": "fietsstad.demand",
    "modal_share": "fietsstad.demand",
    "compare_scenarios": "fietsstad.demand",
    "trip_matrix": "fietsstad.demand",
    "deterrence_table": "fietsstad.demand",
    "snap_zones": "fietsstad.demand",
    "GravityModel": "fietsstad.demand",
    "get_model": "fietsstad.uptake",
    "ZWOLLE_2024": "fietsstad.uptake",
    "ZWOLLE_2024_EBIKE": "fietsstad.uptake",
    "Snelfietspad": "fietsstad.scenario",
    "evaluate_snelfietspad": "fietsstad.scenario",
    "zwolle_routes": "fietsstad.scenario",
    "ScenarioResult": "fietsstad.scenario",
    "Upgrade": "fietsstad.scenario",
    "update_travel_times": "fietsstad.scenario",
    "hub_catchments": "fietsstad.hubs",
    "place_hubs": "fietsstad.hubs",
    "hub_candidates": "fietsstad.hubs",
    "zwolle_hub_candidates": "fietsstad.hubs",
    "snelfietspad_map": "fietsstad.maps",
    "hubs_map": "fietsstad.maps",
    "run_demo": "fietsstad.demo",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'fietsstad' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "settings", "BikeNetwork", "Profile", "PROFILES", "Infra", "get_profile",
    "FietsstadError", "InputFileError", "NoRideableNetworkError", "PlaceNotFoundError", "CRSError",
    "SnappingError", "GraphError", "MemoryBudgetError", "ConvergenceError", "CacheError",
    "ValidationError", *_LAZY,
]
