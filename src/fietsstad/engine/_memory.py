"""Output-size estimates and the memory guard that runs before any large allocation.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import estimate_matrix_bytes
>>> estimate_matrix_bytes(20_000, 20_000, np.uint16)
800000000
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from fietsstad import settings
from fietsstad.errors import GraphError, MemoryBudgetError


def estimate_matrix_bytes(n_sources: int, n_targets: int, dtype: npt.DTypeLike = np.uint16) -> int:
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
    """Currently available memory: ``MemAvailable`` of /proc/meminfo, else psutil, else 4 GiB.

    Example
    -------
    >>> n = available_memory_bytes()
    >>> isinstance(n, int) and n > 0
    True
    """
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


def check_memory_budget(
    shape: Sequence[int],
    dtype: Any,
    what: str = "result",
    *,
    alternatives: Sequence[str] = (),
    budget_bytes: int | None = None,
    extra_bytes: int = 0,
) -> int:
    """Refuse, before any allocation, an array that would not fit in the memory budget.

    The budget is :data:`fietsstad.settings.memory_fraction` of the currently available memory
    (:func:`fietsstad.engine.available_memory_bytes`) unless ``budget_bytes`` is given; this is
    the same rule as :func:`fietsstad.engine.check_memory`, for callers that know a shape. Sizes are computed with Python ints (no overflow).

    Parameters
    ----------
    shape, dtype
        Shape and dtype of the array that is about to be allocated.
    what
        What the array is ("travel-time matrix 1,000,000 x 1,000,000"), for the message.
    alternatives
        What the user can do instead (block iteration, cut-off, smaller dtype...).
    budget_bytes
        Explicit budget, for tests.
    extra_bytes
        Bytes needed besides the array (e.g. a second result matrix), added to the need.

    Returns
    -------
    int
        The number of bytes the array needs.

    Raises
    ------
    MemoryBudgetError
        Naming the size, the budget and the alternatives.

    Example
    -------
    >>> check_memory_budget((1000, 1000), np.uint16, budget_bytes=10**7)
    2000000
    """
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise GraphError(f"array shape entries must be whole numbers >= 0, got {d!r}")
        dims.append(int(d))
    need = int(np.dtype(dtype).itemsize)
    for d in dims:
        need *= d
    if isinstance(extra_bytes, bool) or not isinstance(extra_bytes, (int, np.integer)) or extra_bytes < 0:
        raise GraphError(f"extra_bytes must be a whole number >= 0, got {extra_bytes!r}")
    need += int(extra_bytes)
    if budget_bytes is None:
        budget_bytes = int(available_memory_bytes() * float(settings.memory_fraction))
    if need > budget_bytes:
        alt = "; ".join(alternatives) if alternatives else "compute it in smaller pieces"
        raise MemoryBudgetError(
            f"{what} of shape {tuple(dims)} and dtype {np.dtype(dtype).name} needs "
            f"{need / 2**30:,.1f} GiB but the budget is {budget_bytes / 2**30:,.1f} GiB "
            f"(settings.memory_fraction={settings.memory_fraction} of available memory). "
            f"Alternatives: {alt}"
        )
    return need
