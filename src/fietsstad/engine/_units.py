"""The engine's time unit: integer *ticks* inside, seconds at every entry point and output.

A :class:`~fietsstad.engine.CSRGraph` carries ``ticks_per_s`` (1 for graphs built from plain
arrays, 10 for :meth:`fietsstad.network.BikeNetwork.engine_graph`: deciseconds). The kernels
add integer ticks only; a cut-off in seconds becomes ``floor(cutoff * ticks_per_s)`` ticks
(:func:`cutoff_ticks`), and a time written into a matrix becomes ``round-half-up(ticks /
ticks_per_s)`` seconds in an integer matrix, or the exact ``ticks / ticks_per_s`` in a float
matrix (:func:`put_time`). So per-edge rounding never accumulates: only the output is rounded.

Example
-------
>>> import numpy as np
>>> from fietsstad.engine._units import put_time
>>> out = np.zeros((1, 3), np.int32)
>>> [put_time(out, 0, j, t, 2**31 - 2, 2**31 - 1, 2**31 - 2, 10, False) for j, t in
...  enumerate([14, 15, 2**31 - 1])], out.tolist()
([0, 0, 0], [[1, 2, 2147483647]])
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np

from fietsstad.engine.config import MAX_I32, NJIT_INLINE
from fietsstad.errors import GraphError


@numba.njit(**NJIT_INLINE)
def put_time(out, i, j, d, lim, unreach, cap, tps, exact):  # pragma: no cover - numba
    """``out[i, j]`` = ``d`` ticks in seconds; returns 1 if the value was clipped to ``cap``.

    ``d > lim`` (beyond the cut-off, or unreached) writes ``unreach``. ``exact`` (float
    matrices) writes ``d / tps``; otherwise ``(d + tps // 2) // tps`` (round half up; the
    divisions by the common unit sizes 1 and 10 are constants, which LLVM turns into a
    multiply), clipped to ``cap`` seconds.
    """
    if d > lim:
        out[i, j] = unreach
        return 0
    if exact:
        out[i, j] = d / tps
        return 0
    if tps == 1:
        s = d
    elif tps == 10:
        s = (d + 5) // 10
    else:
        s = (d + tps // 2) // tps
    if s > cap:
        out[i, j] = cap
        return 1
    out[i, j] = s
    return 0


def check_ticks_per_s(ticks_per_s) -> int:
    """Validate a graph's time unit: a whole number of ticks per second, 1 .. 1000."""
    if isinstance(ticks_per_s, (bool, np.bool_)) or not isinstance(ticks_per_s, numbers.Integral):
        raise GraphError(f"ticks_per_s must be an integer (ticks per second), not {ticks_per_s!r}")
    if not 1 <= int(ticks_per_s) <= 1000:
        raise GraphError(f"ticks_per_s must lie in [1, 1000], got {ticks_per_s}")
    return int(ticks_per_s)


def cutoff_ticks(cutoff_s: float, ticks_per_s: int) -> int:
    """A finite cut-off of ``cutoff_s`` seconds (>= 0) in whole ticks (inclusive: floor).

    The tiny epsilon keeps a product that lands a hair below a whole tick in binary floating
    point from losing that tick.

    Example
    -------
    >>> cutoff_ticks(600, 10), cutoff_ticks(0.7, 10), cutoff_ticks(12.34, 10), cutoff_ticks(5.9, 1)
    (6000, 7, 123, 5)
    """
    t = math.floor(float(cutoff_s) * ticks_per_s + 1e-9)
    return int(min(t, MAX_I32))


def phast_limit_message(g) -> str:
    """Why a graph cannot be swept by PHAST: its weights sum to 2**30 ticks or more."""
    return (
        "PHAST sweeps and contraction hierarchies need the sum of all edge weights below "
        f"2**30 ticks; this graph sums to "
        f"{g.total_weight():,} ticks ({g.total_weight() / g.ticks_per_s:,.0f} s at "
        f"{g.ticks_per_s} ticks per second); use method='dijkstra'"
    )
