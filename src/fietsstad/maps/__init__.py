"""Folium maps of scenarios and hubs (read results only; all text escaped, never a template).

:mod:`~fietsstad.maps.draw` has :func:`snelfietspad_map` and :func:`hubs_map`;
:mod:`~fietsstad.maps._style` holds escaping, offline Leaflet, colours, legends and panels.

Example
-------
>>> from fietsstad.maps import hubs_map, snelfietspad_map
>>> callable(hubs_map) and callable(snelfietspad_map)
True
"""

from fietsstad.maps.draw import MAX_EDGES, hubs_map, save_map, snelfietspad_map

__all__ = ["snelfietspad_map", "hubs_map", "save_map", "MAX_EDGES"]
