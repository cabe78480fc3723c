"""Global knobs of fietsstad, in one place (the osmnx ``settings`` pattern).

Change them at run time::

    >>> import fietsstad
    >>> fietsstad.settings.snap_max_distance_m = 250.0

Environment variables override the defaults at import time:
``FIETSSTAD_CACHE_DIR`` and ``FIETSSTAD_MEMORY_FRACTION``.

Logging: fietsstad logs through the standard :mod:`logging` module (logger ``"fietsstad"``
and its children, e.g. ``"fietsstad.analysis"``), at INFO the start and end (with elapsed
seconds) of long steps. Configure it as any library's logging, or set
``settings.log_console = True`` to see fietsstad's records on the console (stderr) without
touching the logging configuration::

    >>> fietsstad.settings.log_console = True   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TextIO

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

#: Also send fietsstad's log records to the console (stderr), as osmnx's ``log_console``. A
#: handler is added to the ``"fietsstad"`` logger once, the first time a record is logged
#: while this is True; it prints only while this stays True.
log_console: bool = False

#: Lowest level printed on the console when ``log_console`` is True.
log_level: int = logging.INFO

#: Version of the on-disk cache format; bump when the layout changes.
CACHE_FORMAT_VERSION: int = 1


# ---------------------------------------------------------------------------------- logging
_CONSOLE: list[logging.Handler] = []  # the console handler, once added


def _console_on(record: logging.LogRecord) -> bool:
    return bool(log_console) and record.levelno >= log_level


class _ConsoleHandler(logging.StreamHandler):
    """A StreamHandler on whatever ``sys.stderr`` is at each record (Jupyter, pytest swap it)."""

    @property
    def stream(self) -> TextIO:  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ sets it; the property wins
        pass


def _console_handler() -> logging.Handler:
    """The handler behind ``log_console``, added to the ``"fietsstad"`` logger once."""
    if not _CONSOLE:
        handler = _ConsoleHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler.addFilter(_console_on)
        logging.getLogger("fietsstad").addHandler(handler)
        _CONSOLE.append(handler)
    return _CONSOLE[0]


def _log(logger: logging.Logger, level: int, msg: str, *args: object) -> None:
    """Log ``msg % args`` on ``logger``; with ``log_console`` also print it on the console.

    The logging configuration is left alone: a record the logger's level filters out is still
    printed on the console when ``log_console`` asks for it.

    Example
    -------
    >>> _log(logging.getLogger("fietsstad.example"), logging.INFO, "built %d nodes", 3)
    """
    if log_console:
        handler = _console_handler()
        if not logger.isEnabledFor(level):  # the logger drops it: print it here only
            record = logger.makeRecord(logger.name, level, "(fietsstad)", 0, msg, args, None)
            if _console_on(record):
                handler.handle(record)
            return
    logger.log(level, msg, *args)


def _log_start(logger: logging.Logger, what: str) -> float:
    """Log the start of a long step at INFO; returns the clock for :func:`_log_end`.

    Example
    -------
    >>> log = logging.getLogger("fietsstad.example")
    >>> _log_end(log, "a short step", _log_start(log, "a short step"))
    """
    _log(logger, logging.INFO, "%s: started", what)
    return time.perf_counter()


def _log_end(logger: logging.Logger, what: str, t0: float) -> None:
    """Log the end of a long step started with :func:`_log_start`, with elapsed seconds."""
    _log(logger, logging.INFO, "%s: done in %.2f s", what, time.perf_counter() - t0)
