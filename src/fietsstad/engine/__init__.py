"""fietsstad's numba engine: arrays in, arrays out (no OSM, geopandas or folium here).

Graphs are int32 CSR arrays (:class:`CSRGraph`); node ids are positions ``0..n-1``; weights
are int32 *ticks* of ``1 / ticks_per_s`` seconds (whole seconds by default, deciseconds for a
:class:`~fietsstad.network.BikeNetwork`). Cut-offs are seconds; matrices are seconds, rounded
half up from the exact tick sums only at the output (float32: the exact fractional seconds).
Main entry points:

* :func:`travel_times` / :func:`iter_blocks` - many-to-many matrices (PHAST over a contraction
  hierarchy, or bounded Dijkstra), optionally with a secondary cost along the fastest path;
* :func:`build_cch` / :meth:`CCH.customize` - a customizable contraction hierarchy: order and
  fill-in once per topology, re-weighted per profile in parallel (a hierarchy for ``ch=``);
* :func:`accessibility` / :func:`two_step_fca` - indicators computed inside the traversal;
* :func:`predecessors` / :func:`shortest_path` - routes;
* :func:`estimate_matrix_bytes` / :func:`check_memory` - the memory guard;
  :func:`empty_matrix` - a large ``out=`` buffer with its pages already touched.

Example
-------
>>> import numpy as np
>>> from fietsstad import engine
>>> g = engine.CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [60, 30])
>>> engine.travel_times(g, [0], dtype="int32").tolist()
[[0, 60, 90]]
"""

from __future__ import annotations

from fietsstad.engine._access import Decay, accessibility, two_step_fca
from fietsstad.engine._cch import CCH, build_cch
from fietsstad.engine._ch import ContractionHierarchy, build_ch
from fietsstad.engine._ch import remember as remember_ch
from fietsstad.engine._graph import CSRGraph
from fietsstad.engine._matrix import iter_blocks, resolve_method, travel_times
from fietsstad.engine._memory import (
    available_memory_bytes,
    check_memory,
    empty_matrix,
    estimate_matrix_bytes,
)
from fietsstad.engine._paths import predecessors, shortest_path
from fietsstad.engine.config import UNREACHABLE_I32, UNREACHABLE_U16

__all__ = [
    "UNREACHABLE_U16",
    "UNREACHABLE_I32",
    "CSRGraph",
    "ContractionHierarchy",
    "build_ch",
    "CCH",
    "build_cch",
    "remember_ch",
    "travel_times",
    "iter_blocks",
    "resolve_method",
    "estimate_matrix_bytes",
    "check_memory",
    "available_memory_bytes",
    "empty_matrix",
    "Decay",
    "accessibility",
    "two_step_fca",
    "predecessors",
    "shortest_path",
]
