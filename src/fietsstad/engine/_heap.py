"""The binary min-heap every numba search in fietsstad uses (keys and values in parallel arrays).

Read the minimum as ``hk[0]`` / ``hv[0]`` before calling :func:`heap_pop`. Both functions are
inlined into their callers, so a search loop pays no call overhead.

A heap of packed keys that carry their own value (``distance << 32 | node``: the Dijkstra and
PHAST searches) passes the key array as the value array too, ``heap_push(hk, hk, size, key,
key)`` and ``heap_pop(hk, hk, size)``: the second store of each pair writes the same word, so
the heap orders exactly as a keys-only heap would, and the duplicate stores fold away once the
functions are inlined.

Example
-------
>>> import numpy as np
>>> hk, hv = np.empty(4, np.int64), np.empty(4, np.int32)
>>> size = heap_push(hk, hv, 0, 7, 1)
>>> size = heap_push(hk, hv, size, 3, 2)
>>> int(hk[0]), int(hv[0])
(3, 2)
>>> heap_pop(hk, hv, size), int(hk[0])
(1, 7)
>>> size = heap_push(hk, hk, 1, 5, 5)  # packed keys: the keys are their own values
>>> heap_pop(hk, hk, size), int(hk[0])
(1, 7)
"""

from __future__ import annotations

import numba

from fietsstad.engine.config import NJIT_INLINE


@numba.njit(**NJIT_INLINE)
def heap_push(hk, hv, size, key, val):  # pragma: no cover - numba
    """Insert ``key`` with value ``val``; returns the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@numba.njit(**NJIT_INLINE)
def heap_pop(hk, hv, size):  # pragma: no cover - numba
    """Remove the minimum (read ``hk[0]``, ``hv[0]`` first); returns the new size."""
    size -= 1
    if size == 0:
        return 0
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= key:
            break
        hk[i] = hk[c]
        hv[i] = hv[c]
        i = c
    hk[i] = key
    hv[i] = val
    return size
