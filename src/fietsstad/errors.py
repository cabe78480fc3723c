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
    """Base class of every error fietsstad raises deliberately."""


class InputFileError(FietsstadError, OSError):
    """A file is missing, has an unknown extension, or is truncated or corrupt."""


class NoRideableNetworkError(FietsstadError):
    """The input holds no way a cyclist may ride (after the cycling rules)."""


class PlaceNotFoundError(FietsstadError):
    """A place name could not be geocoded, or the download failed (for example offline)."""


class CRSError(FietsstadError, ValueError):
    """A geometry has no CRS, the wrong CRS, or coordinates outside the valid range."""


class SnappingError(FietsstadError, ValueError):
    """A point lies further from the network than the allowed snapping distance."""


class GraphError(FietsstadError, ValueError):
    """Engine input is invalid: bad array shapes or dtypes, NaN/inf/negative weights, bad ids."""


class MemoryBudgetError(FietsstadError, MemoryError):
    """A requested result would not fit in memory; the message names the alternatives."""


class ConvergenceError(FietsstadError, ArithmeticError):
    """An iterative procedure (IPF balancing, calibration) did not converge or cannot."""


class CacheError(FietsstadError):
    """A cache file is corrupt, truncated, stale or from an incompatible version."""


class ValidationError(FietsstadError, ValueError):
    """A parameter or table handed in by the user is invalid (type, range, missing column)."""


class OutputError(FietsstadError, OSError):
    """A file could not be written: disk full, read-only, no permission, or a folder in the way.

    Also an :class:`OSError`, so code that caught the raw error keeps working.
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror else super().__str__()


class ForeignCacheEntryError(CacheError):
    """A well-formed cache file that belongs to another key (another place, profile, version)."""


class ParameterError(ValidationError, GraphError):
    """A bad parameter refused at the public API that the engine used to report as GraphError.

    It *is* a :class:`ValidationError` (what the user passed is wrong) and also
    a :class:`GraphError`, so code written against the earlier engine errors
    (bad cut-offs, decays and opportunities) keeps catching it.
    """


def _describe(obj: Any) -> str:
    """Short ``type: repr`` of a bad value for error messages (never huge)."""
    r = repr(obj)
    if len(r) > 60:
        r = r[:57] + "..."
    return f"{type(obj).__name__} {r}"


class FietsstadWarning(UserWarning):
    """Base class of the warnings fietsstad issues: the result is usable but may mislead."""


class NetworkWarning(FietsstadWarning):
    """A built network keeps only a small part of its input (for example one-way fragments)."""


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
