"""Routing and accessibility on a :class:`~fietsstad.network.BikeNetwork` (node ids, DataFrames).

Every function takes and returns OSM node ids (the index of ``net.nodes_gdf()``); node
positions only when marked (:class:`NodePositions`, ``net.positions(ids)``) or with
``positions=True``. See docs/vocabulary.md for the parameter names.

Thin, user-facing wrappers over :mod:`fietsstad.engine`: :mod:`~fietsstad.analysis.routing`
(travel-time matrices, blocks, routes) and :mod:`~fietsstad.analysis.access` (cumulative
and gravity accessibility, two-step floating catchment areas).

Example
-------
>>> import fietsstad
>>> from fietsstad.analysis import travel_time_matrix
>>> net = fietsstad.generate_network(n_nodes=300, seed=2)
>>> ids = net.nodes_gdf().index
>>> travel_time_matrix(net, ids[:2], ids[:2]).shape
(2, 2)
"""

from fietsstad.analysis.access import DEFAULT_DECAYS, Decay, accessibility, two_step_fca
from fietsstad.analysis.routing import (
    NodePositions,
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
    "NodePositions",
]
