"""The bike network: OSM -> which ways are rideable in which direction -> what each edge costs.

Modules, in the order data flows through them:

* :mod:`~fietsstad.network.profiles`: infrastructure categories and cyclist profiles (speeds, delays);
* :mod:`~fietsstad.network.rules`: the cycling rules (OSM tags -> rideable, direction, category);
* :mod:`~fietsstad.network._osm_read`: readers of .osm/.pbf/.graphml files into way/node tables;
* :mod:`~fietsstad.network.osm`: :func:`load_network` (place, polygon or file), caching, simplification;
* :mod:`~fietsstad.network.generate`: :func:`generate_network`, GENERATED street-like networks;
* :mod:`~fietsstad.network.bikenetwork`: :class:`BikeNetwork`, the compact CSR network every
  later layer reads (and its one adapter to the engine, :meth:`BikeNetwork.engine_graph`).

Example
-------
>>> from fietsstad.network import generate_network
>>> generate_network(n_nodes=300, seed=2).meta["generated"]
True
"""

import importlib
from typing import Any

from fietsstad.network.bikenetwork import BikeNetwork, check_network, travel_time_seconds
from fietsstad.network.profiles import INFRA_NAMES, PROFILES, Infra, Profile, get_profile

#: loaded on first use: reading OSM pulls in osmnx, which ``import fietsstad`` need not pay for
_LAZY = {
    "generate_network": "fietsstad.network.generate",
    "generate_region_network": "fietsstad.network.generate",
    "load_network": "fietsstad.network.osm",
    "network_cache_path": "fietsstad.network.osm",
    "ZWOLLE": "fietsstad.network.osm",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fietsstad.network' has no attribute {name!r}")


__all__ = [
    "BikeNetwork",
    "check_network",
    "travel_time_seconds",
    "generate_network",
    "generate_region_network",
    "load_network",
    "network_cache_path",
    "ZWOLLE",
    "Infra",
    "INFRA_NAMES",
    "Profile",
    "PROFILES",
    "get_profile",
]
