"""Mobility hubs: candidate sites, catchments by cycling time, and where to put k hubs.

* :mod:`~fietsstad.hubs.catchments`: :func:`hub_candidates`, :func:`node_population`,
  :func:`hub_catchments` (network catchments as polygons, with the population inside);
* :mod:`~fietsstad.hubs.placement`: :func:`place_hubs` (maximal covering, greedy or exact) and the
  coverage curve.

Example
-------
>>> import numpy as np, fietsstad
>>> from fietsstad.hubs import hub_candidates, place_hubs
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)             # GENERATED network
>>> pl = place_hubs(net, hub_candidates(net.x[::40], net.y[::40]), np.ones(net.n_nodes), k=2)
>>> len(pl.hubs)
2
"""

from fietsstad.hubs.catchments import (
    ZWOLLE_HUB_SITES,
    hub_candidates,
    hub_catchments,
    node_population,
    zwolle_hub_candidates,
)
from fietsstad.hubs.placement import HubPlacement, coverage_sets, place_hubs

__all__ = [
    "ZWOLLE_HUB_SITES",
    "hub_candidates",
    "zwolle_hub_candidates",
    "node_population",
    "hub_catchments",
    "coverage_sets",
    "place_hubs",
    "HubPlacement",
]
