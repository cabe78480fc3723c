"""Numba flags and engine-wide constants (the stumpy ``config.py`` pattern).

Every numba kernel of fietsstad lives in :mod:`fietsstad.engine` and is compiled with
:data:`NJIT` (serial), :data:`NJIT_PAR` (``parallel=True``) or :data:`NJIT_INLINE` (small
helpers inlined into their callers), all with ``cache=True`` so a second process loads the
machine code from numba's on-disk cache instead of recompiling.

The unreachable sentinels of travel-time matrices are defined here and only here;
:func:`unreachable_for` gives the one for a matrix dtype.

Example
-------
>>> from fietsstad.engine import config
>>> config.NJIT["cache"], config.NJIT_PAR["parallel"], config.NJIT_INLINE["inline"]
(True, True, 'always')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fietsstad.errors import ValidationError

#: Flags of serial kernels.
NJIT: dict = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

#: Flags of kernels parallel over sources (``numba.prange``).
NJIT_PAR: dict = {**NJIT, "parallel": True}

#: Flags of small helpers inlined into their callers at the numba IR level (heap operations,
#: per-dtype min-plus passes): no call overhead inside the hot loops.
NJIT_INLINE: dict = {**NJIT, "inline": "always"}

#: Unreachable sentinel of ``uint16`` matrices (seconds).
UNREACHABLE_U16: int = 65535

#: Unreachable sentinel of ``int32`` matrices (seconds).
UNREACHABLE_I32: int = 2**31 - 1

#: Largest finite ``int32`` distance; sums saturate here instead of overflowing.
MAX_I32: int = 2**31 - 2

#: Internal "infinity" of the PHAST sweep labels: keeps ``label + weight`` below 2**31.
PHAST_INF: int = 2**30

#: Internal int64 "infinity" of searches on int64 labels (CH witness searches, incremental
#: repair): far above any sum of int32 travel times, and ``2 * INF64`` still fits in an int64.
INF64: int = 2**62

#: Sources processed together in one PHAST sweep (the SIMD lanes).
PHAST_LANES: int = 16

#: Default number of sources per block of :func:`fietsstad.engine.iter_blocks`.
DEFAULT_BLOCK_ROWS: int = 512

INT32 = np.int32


_NO_DEFAULT: Any = object()


def unreachable_for(dtype: Any, default: Any = _NO_DEFAULT) -> Any:
    """The unreachable sentinel of a travel-time matrix of ``dtype``, as a scalar of that dtype.

    Parameters
    ----------
    dtype : numpy dtype or anything :class:`numpy.dtype` accepts
        ``uint16`` (:data:`UNREACHABLE_U16`), ``int32`` (:data:`UNREACHABLE_I32`), or
        ``float32``/``float64`` (``inf``).
    default : optional
        Returned for any other dtype; without it, another dtype raises.

    Returns
    -------
    numpy scalar
        The sentinel, of the matrix dtype (or ``default``).

    Raises
    ------
    ValidationError
        ``dtype`` is none of the four matrix dtypes and no ``default`` was given.

    Example
    -------
    >>> import numpy as np
    >>> int(unreachable_for(np.uint16)), int(unreachable_for("int32")), unreachable_for(np.float32)
    (65535, 2147483647, np.float32(inf))
    >>> unreachable_for(np.int64, default=float("inf"))
    inf
    """
    dt = np.dtype(dtype)
    if dt == np.uint16:
        return np.uint16(UNREACHABLE_U16)
    if dt == np.int32:
        return np.int32(UNREACHABLE_I32)
    if dt == np.float32 or dt == np.float64:
        return dt.type(np.inf)
    if default is _NO_DEFAULT:
        raise ValidationError(f"travel-time matrices must be uint16, int32 or float32/64, not {dt}")
    return default
