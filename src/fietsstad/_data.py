"""Paths of the small fact tables fietsstad ships (``data/`` in the repository)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_path(name: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("zwolle_districts.csv")``.

    Example
    -------
    >>> data_path("zwolle_districts.csv").name
    'zwolle_districts.csv'
    """
    return Path(str(resources.files("fietsstad.data").joinpath(name)))
