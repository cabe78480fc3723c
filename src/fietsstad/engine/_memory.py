"""Output-size estimates and the memory guard that runs before any large allocation.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import estimate_matrix_bytes
>>> estimate_matrix_bytes(20_000, 20_000, np.uint16)
800000000
"""

from __future__ import annotations

import numpy as np

from .. import settings
from ..errors import GraphError, MemoryBudgetError


def estimate_matrix_bytes(n_sources: int, n_targets: int, dtype=np.uint16) -> int:
    """Bytes of an ``(n_sources, n_targets)`` matrix of ``dtype`` (computed, nothing allocated).

    Example
    -------
    >>> estimate_matrix_bytes(1_000_000, 1_000_000, "float32")
    4000000000000
    """
    if n_sources < 0 or n_targets < 0:
        raise GraphError("matrix dimensions must be >= 0")
    return int(n_sources) * int(n_targets) * np.dtype(dtype).itemsize


def available_memory_bytes() -> int:
    """Currently available memory: ``MemAvailable`` of /proc/meminfo, else psutil, else 4 GiB."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:  # pragma: no cover - non-Linux
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover
        return 4 * 2**30


def check_memory(nbytes: int, what: str = "the result") -> None:
    """Raise :class:`~fietsstad.errors.MemoryBudgetError` if ``nbytes`` would not fit.

    The budget is :data:`fietsstad.settings.memory_fraction` of the currently available memory.
    Call it *before* allocating.

    Example
    -------
    >>> check_memory(10**15)
    Traceback (most recent call last):
    ...
    fietsstad.errors.MemoryBudgetError: ...
    """
    avail = available_memory_bytes()
    budget = settings.memory_fraction * avail
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{what} needs {nbytes / 2**30:,.2f} GiB but the budget is {budget / 2**30:,.2f} GiB "
            f"({settings.memory_fraction:.0%} of {avail / 2**30:,.2f} GiB available). Alternatives: "
            "pass a cut-off (cutoff=...) so far pairs are not needed, compute a subset of "
            "sources/targets, stream the rows with fietsstad.engine.iter_blocks (or "
            "fietsstad.iter_travel_time_blocks) and reduce each block, compute accessibility "
            "inside the traversal with fietsstad.engine.accessibility, or use the Dask backend "
            "in fietsstad.distributed; a smaller dtype (uint16) also helps"
        )
