"""The fietsstad exception hierarchy.

Every error fietsstad raises on purpose is a :class:`FietsstadError`, so a caller can catch one
class. Subclasses say *what kind* of thing went wrong; the message says what to do about it.

Example
-------
>>> import fietsstad
>>> try:
...     fietsstad.load_network(file="missing.osm")
... except fietsstad.FietsstadError as err:
...     print(type(err).__name__)
InputFileError
"""

from __future__ import annotations

from typing import Any


class FietsstadError(Exception):
    """Base class of every error fietsstad raises deliberately.

    Example
    -------
    >>> import fietsstad
    >>> try:
    ...     fietsstad.generate_network(n_nodes=1)
    ... except fietsstad.FietsstadError as err:
    ...     print(type(err).__name__)
    ValidationError
    """


class InputFileError(FietsstadError, OSError):
    """A file is missing, has an unknown extension, or is truncated or corrupt.

    Also an :class:`OSError`.

    Example
    -------
    >>> import fietsstad
    >>> fietsstad.load_network(file="missing.osm")
    Traceback (most recent call last):
    ...
    fietsstad.errors.InputFileError: missing.osm: no such file
    """


class NoRideableNetworkError(FietsstadError):
    """The input holds no way a cyclist may ride (after the cycling rules).

    Example
    -------
    >>> import pathlib, tempfile, fietsstad
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "motorway.osm"
    >>> _ = p.write_text(
    ...     '<osm version="0.6"><node id="1" lat="52.5" lon="6.0"/>'
    ...     '<node id="2" lat="52.5" lon="6.01"/><way id="1"><nd ref="1"/><nd ref="2"/>'
    ...     '<tag k="highway" v="motorway"/></way></osm>'
    ... )
    >>> fietsstad.load_network(file=p)
    Traceback (most recent call last):
    ...
    fietsstad.errors.NoRideableNetworkError: motorway.osm holds no way a cyclist may ride ...
    """


class PlaceNotFoundError(FietsstadError):
    """A place name could not be geocoded, or the download failed (for example offline).

    Example
    -------
    >>> import fietsstad
    >>> def network_of(place):
    ...     try:
    ...         return fietsstad.load_network(place)
    ...     except fietsstad.PlaceNotFoundError:  # offline, or no such place
    ...         return fietsstad.generate_network(n_nodes=300, seed=1)  # says GENERATED
    """


class CRSError(FietsstadError, ValueError):
    """A geometry has no CRS, the wrong CRS, or coordinates outside the valid range.

    Also a :class:`ValueError`.

    Example
    -------
    >>> import geopandas as gpd, shapely, fietsstad
    >>> fietsstad.hub_candidates(gpd.GeoDataFrame(geometry=[shapely.Point(6.1, 52.5)]))
    Traceback (most recent call last):
    ...
    fietsstad.errors.CRSError: the candidate GeoDataFrame has no CRS; set one (e.g. EPSG:4326)
    """


class SnappingError(FietsstadError, ValueError):
    """A point lies further from the network than the allowed snapping distance.

    Also raised for points that cannot be lon/lat at all. A :class:`ValueError`.

    Example
    -------
    >>> import fietsstad
    >>> net = fietsstad.generate_network(n_nodes=300, seed=1)
    >>> net.snap([203_000.0], [503_000.0])  # metres (EPSG:28992), not degrees
    Traceback (most recent call last):
    ...
    fietsstad.errors.SnappingError: coordinates outside lon [-180, 180] / lat [-90, 90]; ...
    """


class GraphError(FietsstadError, ValueError):
    """Engine input is invalid: bad array shapes or dtypes, NaN/inf/negative weights, bad ids.

    Also a :class:`ValueError`.

    Example
    -------
    >>> from fietsstad import engine
    >>> engine.CSRGraph.from_arrays([0, 1], [5], [60])  # edge to node 5 in a 1-node graph
    Traceback (most recent call last):
    ...
    fietsstad.errors.GraphError: indices must lie in [0, 1); found 5..5
    """


class MemoryBudgetError(FietsstadError, MemoryError):
    """A requested result would not fit in memory; the message names the alternatives.

    Also a :class:`MemoryError`. The budget is :data:`fietsstad.settings.memory_fraction` of
    the memory available.

    Example
    -------
    >>> from fietsstad import engine
    >>> engine.check_memory(10**15, what="a 10**15-byte matrix")
    Traceback (most recent call last):
    ...
    fietsstad.errors.MemoryBudgetError: a 10**15-byte matrix needs ... Alternatives: ...
    """


class ConvergenceError(FietsstadError, ArithmeticError):
    """An iterative procedure (IPF balancing, calibration) did not converge or cannot.

    Also an :class:`ArithmeticError`.

    Example
    -------
    >>> import numpy as np, fietsstad
    >>> fietsstad.calibrate_uptake("govtarget_2017", [np.inf], [1.0], target_share=0.3)
    Traceback (most recent call last):
    ...
    fietsstad.errors.ConvergenceError: calibrate_uptake: no trips with a finite distance ...
    """


class CacheError(FietsstadError):
    """A cache file is corrupt, truncated, stale or from an incompatible version.

    fietsstad's caches rebuild an entry that raises it; the error reaches a caller who reads a
    file by hand.

    Example
    -------
    >>> import pathlib, tempfile
    >>> from fietsstad._io import load_arrays
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "net.fsa"
    >>> _ = p.write_text("not arrays")
    >>> load_arrays(p)
    Traceback (most recent call last):
    ...
    fietsstad.errors.CacheError: ... is not a fietsstad array file (bad magic)
    """


class ValidationError(FietsstadError, ValueError):
    """A parameter or table handed in by the user is invalid (type, range, missing column).

    The message names the parameter as the caller wrote it. Also a :class:`ValueError`.

    Example
    -------
    >>> import fietsstad
    >>> fietsstad.generate_network(n_nodes=1)
    Traceback (most recent call last):
    ...
    fietsstad.errors.ValidationError: n_nodes must be an integer from 16 to 20,000,000, got 1
    """


class OutputError(FietsstadError, OSError):
    """A file could not be written: disk full, read-only, no permission, or a folder in the way.

    Also an :class:`OSError`, so code that caught the raw error keeps working.

    Example
    -------
    >>> import pathlib, tempfile
    >>> from fietsstad._io import atomic_write
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(folder, "w") as fh:  # a folder is in the way
    ...     _ = fh.write("x")
    Traceback (most recent call last):
    ...
    fietsstad.errors.OutputError: cannot write ...: a folder is in the way (Is a directory)
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror else super().__str__()


class ForeignCacheEntryError(CacheError):
    """A well-formed cache file that belongs to another key (another place, profile, version).

    Example
    -------
    >>> import pathlib, tempfile, numpy as np
    >>> from fietsstad._io import load_arrays, save_arrays
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fsa"
    >>> save_arrays(p, {"x": np.arange(3)}, {"place": "Zwolle"}, key="zwolle")
    >>> load_arrays(p, key="deventer")
    Traceback (most recent call last):
    ...
    fietsstad.errors.ForeignCacheEntryError: ... belongs to another cache key ...
    """


class ParameterError(ValidationError, GraphError):
    """A bad parameter refused at the public API that the engine used to report as GraphError.

    It *is* a :class:`ValidationError` (what the user passed is wrong) and also
    a :class:`GraphError`, so code written against the earlier engine errors
    (bad cut-offs, decays and opportunities) keeps catching it.

    Example
    -------
    >>> import fietsstad
    >>> fietsstad.Decay.cumulative(-60)
    Traceback (most recent call last):
    ...
    fietsstad.errors.ParameterError: cumulative decay: threshold_s (p1) must be >= 0, got -60
    """


def _describe(obj: Any) -> str:
    """Short ``type: repr`` of a bad value for error messages (never huge)."""
    r = repr(obj)
    if len(r) > 60:
        r = r[:57] + "..."
    return f"{type(obj).__name__} {r}"


class FietsstadWarning(UserWarning):
    """Base class of the warnings fietsstad issues: the result is usable but may mislead.

    Example
    -------
    >>> import warnings, fietsstad
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", fietsstad.FietsstadWarning)  # make them errors
    ...     net = fietsstad.generate_network(n_nodes=300, seed=1)
    """


class NetworkWarning(FietsstadWarning):
    """A built network keeps only a small part of its input (for example one-way fragments).

    Example
    -------
    >>> import warnings, fietsstad
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", fietsstad.NetworkWarning)  # a small extract on purpose
    ...     net = fietsstad.generate_network(n_nodes=300, seed=1)
    """


__all__ = [
    "FietsstadError",
    "InputFileError",
    "NoRideableNetworkError",
    "PlaceNotFoundError",
    "CRSError",
    "SnappingError",
    "GraphError",
    "MemoryBudgetError",
    "ConvergenceError",
    "CacheError",
    "ValidationError",
    "FietsstadWarning",
    "NetworkWarning",
    "ParameterError",
    "OutputError",
    "ForeignCacheEntryError",
]
