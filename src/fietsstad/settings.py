"""Global knobs of fietsstad, in one place (the osmnx ``settings`` pattern).

Change them at run time::

    >>> import fietsstad
    >>> fietsstad.settings.snap_max_distance_m = 250.0

Environment variables override the defaults at import time:
``FIETSSTAD_CACHE_DIR`` and ``FIETSSTAD_MEMORY_FRACTION``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Folder for fietsstad's own caches (built networks, contraction hierarchies).
cache_dir: Path = Path(os.environ.get("FIETSSTAD_CACHE_DIR", Path.home() / ".cache" / "fietsstad"))

#: Use the on-disk cache of built networks.
use_cache: bool = True

#: Largest distance (metres) between a point and its nearest network node when snapping.
snap_max_distance_m: float = 500.0

#: Fraction of currently available memory that one result array may take.
memory_fraction: float = float(os.environ.get("FIETSSTAD_MEMORY_FRACTION", "0.6"))

#: Seconds osmnx waits for Overpass / Nominatim before giving up.
download_timeout_s: float = 30.0

#: Show tqdm progress bars on long steps.
progress: bool = True

#: Version of the on-disk cache format; bump when the layout changes.
CACHE_FORMAT_VERSION: int = 1
