"""fietsstad's version, and the paths of the small fact tables it ships (``data/`` in the repo)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The package version (pyproject.toml reads it from here; caches are keyed by it).
VERSION = "0.2.0"


def data_path(name: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("zwolle_districts.csv")``.

    Example
    -------
    >>> data_path("zwolle_districts.csv").name
    'zwolle_districts.csv'
    """
    # a source checkout (tests, PYTHONPATH=src) reads its own data/, so files added on a branch are
    # found even when the installed fietsstad.data points at another checkout
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "data" / name).is_file():
        return checkout / "data" / name
    return Path(str(resources.files("fietsstad.data").joinpath(name)))
