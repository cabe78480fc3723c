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
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any

from fietsstad import errors, settings
from fietsstad._data import VERSION
from fietsstad.errors import *  # noqa: F403  (every error and warning class is public)
from fietsstad.network import PROFILES, BikeNetwork, Infra, Profile, get_profile

__version__ = VERSION

# public name -> module that defines it (resolved on first access, so that `import fietsstad` is
# fast and compiles no numba kernel). No public name is also the name of a subpackage or module,
# so `fietsstad.<name>` is the same object whatever was imported before.
_LAZY: dict[str, str] = {
    "load_network": "fietsstad.network.osm",
    "ZWOLLE": "fietsstad.network.osm",
    "generate_network": "fietsstad.network.generate",
    "zwolle_districts": "fietsstad.zwolle",
    "zwolle_study_area": "fietsstad.zwolle",
    "zwolle_boundary": "fietsstad.zwolle",
    "zwolle_jobs_total": "fietsstad.zwolle",
    "zwolle_region_zones": "fietsstad.zwolle",
    "zwolle_commute_flows": "fietsstad.zwolle",
    "generate_region_network": "fietsstad.network.generate",
    "travel_time_matrix": "fietsstad.analysis.routing",
    "iter_travel_time_blocks": "fietsstad.analysis.routing",
    "shortest_route": "fietsstad.analysis.routing",
    "accessibility": "fietsstad.analysis.access",
    "two_step_fca": "fietsstad.analysis.access",
    "Decay": "fietsstad.analysis.access",
    "uptake": "fietsstad.demand.pct",
    "UptakeModel": "fietsstad.demand.pct",
    "calibrate_uptake": "fietsstad.demand.pct",
    "get_model": "fietsstad.demand.pct",
    "ZWOLLE_2024": "fietsstad.demand.pct",
    "ZWOLLE_2024_EBIKE": "fietsstad.demand.pct",
    "gravity_distribution": "fietsstad.demand.gravity",
    "trip_generation": "fietsstad.demand.gravity",
    "trip_matrix": "fietsstad.demand.gravity",
    "deterrence_table": "fietsstad.demand.gravity",
    "snap_zones": "fietsstad.demand.gravity",
    "GravityModel": "fietsstad.demand.gravity",
    "Assumptions": "fietsstad.demand.assumptions",
    "modal_share": "fietsstad.demand.modal",
    "compare_scenarios": "fietsstad.demand.modal",
    "Snelfietspad": "fietsstad.scenario.route",
    "Upgrade": "fietsstad.scenario.route",
    "zwolle_routes": "fietsstad.scenario.route",
    "evaluate_snelfietspad": "fietsstad.scenario.evaluate",
    "ScenarioResult": "fietsstad.scenario.evaluate",
    "update_travel_times": "fietsstad.scenario.incremental",
    "hub_catchments": "fietsstad.hubs.catchments",
    "hub_candidates": "fietsstad.hubs.catchments",
    "zwolle_hub_candidates": "fietsstad.hubs.catchments",
    "place_hubs": "fietsstad.hubs.placement",
    "snelfietspad_map": "fietsstad.maps.draw",
    "hubs_map": "fietsstad.maps.draw",
    "run_demo": "fietsstad.demo",
}

# module paths of fietsstad 0.1.0 that moved into subpackages: still importable (with a warning)
_MOVED: dict[str, str] = {
    "fietsstad.osm": "fietsstad.network.osm",
    "fietsstad.generate": "fietsstad.network.generate",
    "fietsstad.profiles": "fietsstad.network.profiles",
    "fietsstad.rules": "fietsstad.network.rules",
    "fietsstad.routing": "fietsstad.analysis.routing",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import fietsstad.osm`` gives :mod:`fietsstad.network.osm` (the module moved in 0.2)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        warnings.warn(
            f"{spec.name} moved to {_MOVED[spec.name]} in fietsstad 0.2; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(_MOVED[spec.name])

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the module already ran under its new name."""


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'fietsstad' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "settings",
    "BikeNetwork",
    "Profile",
    "PROFILES",
    "Infra",
    "get_profile",
    *errors.__all__,
    *_LAZY,
]
