"""Numba flags and engine-wide constants (the stumpy ``config.py`` pattern).

Every kernel of :mod:`fietsstad.engine` is compiled with :data:`NJIT` (serial) or
:data:`NJIT_PAR` (``parallel=True``), both with ``cache=True`` so a second process loads the
machine code from numba's on-disk cache instead of recompiling.

Example
-------
>>> from fietsstad.engine import config
>>> config.NJIT["cache"], config.NJIT_PAR["parallel"]
(True, True)
"""

from __future__ import annotations

import numpy as np

#: Flags of serial kernels.
NJIT: dict = {"cache": True, "nogil": True, "fastmath": False, "error_model": "numpy"}

#: Flags of kernels parallel over sources (``numba.prange``).
NJIT_PAR: dict = {**NJIT, "parallel": True}

#: Unreachable sentinel of ``uint16`` matrices (seconds).
UNREACHABLE_U16: int = 65535

#: Unreachable sentinel of ``int32`` matrices (seconds).
UNREACHABLE_I32: int = 2**31 - 1

#: Largest finite ``int32`` distance; sums saturate here instead of overflowing.
MAX_I32: int = 2**31 - 2

#: Internal "infinity" of the PHAST sweep labels: keeps ``label + weight`` below 2**31.
PHAST_INF: int = 2**30

#: Sources processed together in one PHAST sweep (the SIMD lanes).
PHAST_LANES: int = 16

#: Default number of sources per block of :func:`fietsstad.engine.iter_blocks`.
DEFAULT_BLOCK_ROWS: int = 512

INT32 = np.int32
