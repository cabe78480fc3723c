"""Routing and accessibility on a :class:`~fietsstad.network.BikeNetwork` (node ids, DataFrames).

Thin, user-facing wrappers over :mod:`fietsstad.engine`: :mod:`~fietsstad.analysis.routing`
(travel-time matrices, blocks, routes) and :mod:`~fietsstad.analysis.access` (cumulative
and gravity accessibility, two-step floating catchment areas).

Example
-------
>>> import fietsstad
>>> from fietsstad.analysis import travel_time_matrix
>>> net = fietsstad.generate_network(n_nodes=300, seed=2)
>>> travel_time_matrix(net, [0, 1], [0, 1]).shape
(2, 2)
"""

from fietsstad.analysis.access import DEFAULT_DECAYS, Decay, accessibility, two_step_fca
from fietsstad.analysis.routing import (
    iter_travel_time_blocks,
    shortest_route,
    travel_time_matrix,
)

__all__ = [
    "travel_time_matrix",
    "iter_travel_time_blocks",
    "shortest_route",
    "accessibility",
    "two_step_fca",
    "Decay",
    "DEFAULT_DECAYS",
]
