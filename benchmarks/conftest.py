"""Shared fixtures of the benchmarks: networks (GENERATED 20k, real Liechtenstein) and a ratio
table printed at the end of the run.

Environment: ``FIETSSTAD_BENCH_NODES`` (default 20000) sets the size of the GENERATED network,
so CI can run the same benchmarks small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import compare  # noqa: E402
from compare import BENCH_NODES, TIMINGS  # noqa: E402


def _warm():
    from fietsstad.engine import Decay, accessibility, travel_times

    small = compare.generated_graph(200, seed=1)[0]
    for m in ("phast", "dijkstra"):
        travel_times(small, method=m)
        travel_times(small, method=m, cutoff=60)
        accessibility(small, np.ones(small.n), [Decay.cumulative(60)], cutoff=60, method=m)


@pytest.fixture(scope="session", params=["generated", "liechtenstein"])
def engine_net(request):
    """``(name, CSRGraph, x, y)`` of the benchmark networks (numba kernels warmed first)."""
    _warm()
    if request.param == "generated":
        g, x, y, label = compare.generated_graph(BENCH_NODES)
    else:
        if not compare.LIECHTENSTEIN.exists():
            pytest.skip(f"{compare.LIECHTENSTEIN} not found")
        g, x, y, label = compare.liechtenstein_graph()
    return request.param, g, x, y, label


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    tr = terminalreporter
    tr.section("fietsstad engine: peer time / fietsstad time (same process)")
    groups = sorted({g for g, _ in TIMINGS})
    for grp in groups:
        ours = TIMINGS.get((grp, "fietsstad"))
        for (g2, m), t in sorted(TIMINGS.items()):
            if g2 != grp:
                continue
            ratio = f"{t / ours:8.1f}x" if ours and m != "fietsstad" else "        "
            tr.write_line(f"{grp:<34} {m:<28} {t:10.3f} s {ratio}")
