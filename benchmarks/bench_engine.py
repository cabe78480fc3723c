"""The engine beside its peers, same process, same graph (pytest-benchmark).

Networks: the GENERATED 20k-node street-like network (seed 42; ``FIETSSTAD_BENCH_NODES`` to
shrink) and the real Liechtenstein OSM extract from ``../shared/data/osm/``.

* full matrix: fietsstad PHAST (hierarchy prebuilt; its build is a benchmark of its own) vs
  scipy ``dijkstra``, networkit APSP, igraph ``distances`` and networkx (a sample of sources,
  extrapolated to all);
* cut-off accessibility for every node at 15 and 30 minutes: fietsstad vs pandana
  ``precompute`` + ``aggregate`` (pandana's network build is a separate benchmark);
* numba compile cost (fresh cache) and cache load, in subprocesses;
* peak memory of the full matrix over the output size, in a subprocess.

The heavy peers run once (``pedantic``, one round). Ratios (peer / fietsstad) are stored in
``extra_info`` and printed at the end. Run with::

    python -m pytest benchmarks/bench_engine.py --benchmark-only -s
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import compare
from compare import BENCH_NODES, TIMINGS, record

CUTOFFS = {"15min": 900, "30min": 1800}


def _run(benchmark, group, method, fn, *args, rounds=1):
    res = benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1, warmup_rounds=0)
    t = benchmark.stats.stats.min
    record(group, method, t)
    ours = TIMINGS.get((group, "fietsstad"))
    if ours and method != "fietsstad":
        benchmark.extra_info["peer_over_fietsstad"] = t / ours
    return res


@pytest.fixture(scope="session")
def ch_of(engine_net):
    from fietsstad.engine import build_ch

    return build_ch(engine_net[1])


# ------------------------------------------------------------------------- full matrix
def test_ch_build(benchmark, engine_net):
    from fietsstad.engine import build_ch
    from fietsstad.engine._ch import _MEMO

    name, g, *_ = engine_net

    def build():
        _MEMO.clear()
        return build_ch(g)

    benchmark.group = f"ch-build-{name}"
    ch = _run(benchmark, f"ch-build-{name}", "fietsstad", build)
    benchmark.extra_info["shortcuts"] = ch.n_shortcuts


def test_matrix_fietsstad(benchmark, engine_net, ch_of):
    from fietsstad.engine import travel_times

    name, g, *_ = engine_net
    benchmark.group = f"matrix-{name}"
    T = _run(
        benchmark,
        f"matrix-{name}",
        "fietsstad",
        lambda: travel_times(g, dtype=np.uint16, method="phast", ch=ch_of),
        rounds=3,
    )
    benchmark.extra_info["n"] = g.n
    assert T.shape == (g.n, g.n)


def test_matrix_scipy(benchmark, engine_net, ch_of):
    from fietsstad.engine import travel_times

    name, g, *_ = engine_net
    benchmark.group = f"matrix-{name}"
    D = _run(benchmark, f"matrix-{name}", "scipy.csgraph.dijkstra", compare.run_scipy, g)
    ours = travel_times(g, np.arange(0, g.n, 97), dtype=np.float32, ch=ch_of, method="phast")
    np.testing.assert_array_equal(ours, D[::97].astype(np.float32))  # same answers


def test_matrix_networkit(benchmark, engine_net):
    name, g, *_ = engine_net
    G = compare.networkit_graph(g)
    benchmark.group = f"matrix-{name}"
    _run(benchmark, f"matrix-{name}", "networkit APSP", compare.run_networkit, G)


def test_matrix_igraph(benchmark, engine_net):
    name, g, *_ = engine_net
    G = compare.igraph_graph(g)
    benchmark.group = f"matrix-{name}"
    _run(benchmark, f"matrix-{name}", "igraph distances", compare.run_igraph, G)


def test_matrix_networkx_sample(benchmark, engine_net):
    name, g, *_ = engine_net
    G = compare.networkx_graph(g)
    sample = np.random.default_rng(0).choice(g.n, 40, replace=False).tolist()
    benchmark.group = f"matrix-{name}"
    benchmark.pedantic(compare.run_networkx, args=(G, sample), rounds=1, iterations=1)
    t = benchmark.stats.stats.min * g.n / len(sample)
    record(f"matrix-{name}", "networkx (extrapolated)", t)
    benchmark.extra_info["extrapolated_full_s"] = t
    ours = TIMINGS.get((f"matrix-{name}", "fietsstad"))
    if ours:
        benchmark.extra_info["peer_over_fietsstad"] = t / ours


# ------------------------------------------------------------------------- cut-off access
@pytest.fixture(scope="session")
def opportunities(engine_net):
    return np.random.default_rng(1).integers(0, 10, engine_net[1].n).astype(np.float64)


@pytest.mark.parametrize("cut", list(CUTOFFS))
def test_access_fietsstad(benchmark, engine_net, ch_of, opportunities, cut):
    name, g, *_ = engine_net
    benchmark.group = f"access-{cut}-{name}"
    A = _run(
        benchmark,
        f"access-{cut}-{name}",
        "fietsstad",
        compare.run_fietsstad_access,
        g,
        CUTOFFS[cut],
        opportunities,
        rounds=3,
    )
    assert A.shape == (g.n,)


def test_pandana_build(benchmark, engine_net):
    name, g, x, y, _ = engine_net
    benchmark.group = f"pandana-build-{name}"
    _run(benchmark, f"pandana-build-{name}", "pandana.Network", compare.pandana_network, g, x, y)


@pytest.mark.parametrize("cut", list(CUTOFFS))
def test_access_pandana(benchmark, engine_net, opportunities, cut):
    name, g, x, y, _ = engine_net
    benchmark.group = f"access-{cut}-{name}"
    pnet = compare.pandana_network(g, x, y)  # fresh per cut-off (see compare.py)
    P = _run(
        benchmark,
        f"access-{cut}-{name}",
        "pandana precompute+aggregate",
        compare.run_pandana,
        pnet,
        CUTOFFS[cut],
        opportunities,
    )
    A = compare.run_fietsstad_access(g, CUTOFFS[cut], opportunities)
    np.testing.assert_allclose(A, P)  # both count the same opportunities


# ------------------------------------------------------------------------- compile, memory
def _first_call_seconds(env) -> float:
    code = (
        "import time, numpy as np; t=time.perf_counter(); "
        "from fietsstad.engine import travel_times, accessibility, Decay; "
        "g=([0,1,2,2],[1,2],[5,6]); travel_times(g, method='phast'); "
        "travel_times(g, method='dijkstra'); "
        "accessibility(g, np.ones(3), [Decay.cumulative(9)], cutoff=9, method='dijkstra'); "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


def test_compile_and_cache_load(benchmark):
    benchmark.group = "numba"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp}
        t0 = time.perf_counter()
        compile_s = _first_call_seconds(env)  # empty cache: full compilation
        benchmark.extra_info["compile_s"] = compile_s
        benchmark.extra_info["subprocess_s"] = time.perf_counter() - t0
        load_s = benchmark.pedantic(_first_call_seconds, args=(env,), rounds=1, iterations=1)
        benchmark.extra_info["cache_load_s"] = load_s
    record("numba", "compile (fresh cache)", compile_s)
    record("numba", "load from cache", load_s)


def test_peak_memory(benchmark, engine_net):
    name = engine_net[0]
    loader = (
        "compare.liechtenstein_graph()[0]"
        if name == "liechtenstein"
        else f"compare.generated_graph({BENCH_NODES})[0]"
    )
    benchmark.group = f"memory-{name}"
    ratio, nbytes = benchmark.pedantic(
        compare.peak_memory_ratio, args=(loader,), rounds=1, iterations=1
    )
    benchmark.extra_info["peak_over_output"] = ratio
    benchmark.extra_info["output_bytes"] = nbytes
    record(f"memory-{name}", "peak RSS / output (ratio)", ratio)
    assert ratio <= 1.25
