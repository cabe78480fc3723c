"""Geodesy used across fietsstad: the Earth's radius and great-circle distances (one place).

Example
-------
>>> round(float(haversine_m(6.0, 52.0, 6.0, 53.0)))
111195
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Mean Earth radius in metres (IUGG), as osmnx uses.
EARTH_RADIUS_M: float = 6_371_008.8


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in metres between lon/lat points (degrees; vectorised, broadcasts).

    Example
    -------
    >>> haversine_m([6.0, 6.0], [52.0, 52.0], [6.0, 6.01], [52.0, 52.0]).round(1).tolist()
    [0.0, 684.6]
    """
    lon1, lat1, lon2, lat2 = (np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2))
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


__all__ = ["EARTH_RADIUS_M", "haversine_m"]
