"""Output-size estimates, the memory guard that runs before any large allocation, and the
output arrays themselves: fresh ones first touched in parallel (:func:`empty_matrix`), or a
caller's (``out=``, checked by :func:`check_out`).

Example
-------
>>> import numpy as np
>>> from fietsstad.engine import estimate_matrix_bytes
>>> estimate_matrix_bytes(20_000, 20_000, np.uint16)
800000000
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
from numba import prange

from fietsstad import settings
from fietsstad.errors import GraphError, MemoryBudgetError, ParameterError


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
    if (
        isinstance(extra_bytes, bool)
        or not isinstance(extra_bytes, (int, np.integer))
        or extra_bytes < 0
    ):
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


# ----------------------------------------------------------------- output arrays
#: Fresh output matrices of at least this many bytes get their pages first touched in parallel
#: (and no transparent huge pages, see :func:`empty_matrix`).
TOUCH_MIN_BYTES = 1 << 22

#: Let fresh output matrices use transparent huge pages (numpy madvises large arrays). Off:
#: on the 2-core VM of the benchmarks the first touch of a 0.8 GB matrix in 2 MB pages took
#: 1.3-12 s (the kernel compacts and zeroes huge pages synchronously, ``defrag=madvise``)
#: against 0.3-0.6 s in 4 kB pages, and later writes were as fast in either.
HUGE_PAGES = False

_MADV_NOHUGEPAGE = 15
_PAGE = 4096


@numba.njit(parallel=True, cache=True, nogil=True)
def _touch(buf, nch):  # pragma: no cover - numba
    """Write one zero byte per 4 kB page of ``buf`` (uint8), ``nch`` chunks in parallel: the
    page faults (and the kernel's zeroing) are shared by the threads."""
    n = buf.size
    for c in prange(nch):
        lo = c * n // nch
        hi = (c + 1) * n // nch
        for i in range(lo, hi, _PAGE):
            buf[i] = 0


def _no_huge_pages(a: np.ndarray) -> None:
    """``madvise(MADV_NOHUGEPAGE)`` on the whole pages of ``a`` (Linux; silently nothing
    elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        start = (a.ctypes.data + _PAGE - 1) // _PAGE * _PAGE
        length = (a.ctypes.data + a.nbytes - start) // _PAGE * _PAGE
        if length > 0:
            libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(length), _MADV_NOHUGEPAGE)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def empty_matrix(shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
    """A fresh C-ordered array whose memory is already mapped: like :func:`numpy.empty`
    (contents undefined), but for large arrays the pages are first touched by all threads.

    A kernel that fills a fresh 0.8 GB matrix otherwise pays the page faults inside its own
    loop; touched here in parallel, in 4 kB pages (:data:`HUGE_PAGES`), they cost a fraction.

    Example
    -------
    >>> a = empty_matrix((3000, 2000), np.uint16)
    >>> a.shape, a.dtype, a.flags.c_contiguous
    ((3000, 2000), dtype('uint16'), True)
    """
    a = np.empty(shape, dtype)
    if a.nbytes >= TOUCH_MIN_BYTES:
        if not HUGE_PAGES:
            _no_huge_pages(a)
        _touch(a.reshape(-1).view(np.uint8), 16 * numba.get_num_threads())
    return a


def check_out(
    out: Any, shape: tuple[int, ...], dtype: npt.DTypeLike, name: str = "out", inputs=()
) -> np.ndarray:
    """Validate a caller's output array (numpy's ``out=`` convention) and return it.

    It must be a writeable, C-contiguous :class:`numpy.ndarray` of exactly ``shape`` and
    ``dtype`` that shares no memory with any array of ``inputs``.

    Raises
    ------
    ParameterError
        (a :class:`~fietsstad.errors.ValidationError`) naming what is wrong.

    Example
    -------
    >>> out = np.empty((2, 3), np.uint16)
    >>> check_out(out, (2, 3), np.uint16) is out
    True
    >>> check_out(out.T, (3, 2), np.uint16)
    Traceback (most recent call last):
    ...
    fietsstad.errors.ParameterError: out must be C-contiguous (a fresh np.empty((3, 2), dtype=uint16), not a transposed or sliced view)
    """
    dt = np.dtype(dtype)
    shape = tuple(int(d) for d in shape)
    if not isinstance(out, np.ndarray):
        raise ParameterError(f"{name} must be a numpy array of shape {shape} and dtype {dt}, "
                             f"not {type(out).__name__}")  # fmt: skip
    if out.shape != shape:
        raise ParameterError(f"{name} has shape {out.shape}; this result needs {shape}")
    if out.dtype != dt:
        raise ParameterError(f"{name} has dtype {out.dtype}; this result needs {dt}")
    if not out.flags.c_contiguous:
        raise ParameterError(
            f"{name} must be C-contiguous (a fresh np.empty({shape}, dtype={dt}), not a "
            "transposed or sliced view)"
        )
    if not out.flags.writeable:
        raise ParameterError(f"{name} is read-only; pass a writeable array")
    for arr in inputs:
        if isinstance(arr, np.ndarray) and np.may_share_memory(out, arr):
            raise ParameterError(f"{name} overlaps an input array; pass a separate array")
    return out
