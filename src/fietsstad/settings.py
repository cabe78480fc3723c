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

#: Largest OSM XML document (bytes after decompression of ``.osm.gz`` / ``.osm.bz2``) that
#: :func:`fietsstad.load_network` reads; beyond it the file is refused with InputFileError
#: (a decompression bomb, or an area better read as ``.osm.pbf``). 2 GiB holds a regional XML
#: extract of several hundred MB with room to spare.
max_osm_xml_bytes: int = 2 * 2**30

#: Longest stretch of OSM XML without a ``<`` (one comment, attribute value or text); an OSM
#: element takes a few kB at most. Beyond it the file is refused with InputFileError.
max_osm_xml_token_bytes: int = 16 * 2**20

#: Most highway ways plus way node references read from one OSM file (each way counts 1 plus
#: its node references); beyond it the file is refused with InputFileError, so memory stays
#: bounded (about 10 GB at this limit). A regional extract of a few hundred MB of PBF has a
#: few million.
max_osm_elements: int = 30_000_000

#: A network whose largest strongly connected component keeps less than this share of the
#: rideable nodes read is returned with a :class:`fietsstad.errors.NetworkWarning`.
min_scc_share: float = 0.5

#: Show tqdm progress bars on long steps.
progress: bool = True

#: Version of the on-disk cache format; bump when the layout changes.
CACHE_FORMAT_VERSION: int = 1
