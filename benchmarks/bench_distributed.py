"""Dask scale-out: accessibility of every node, one process against a 2-worker LocalCluster.

GENERATED street-like networks over Zwolle's box (synthetic, not OpenStreetMap):

* region size: >= 200,000 nodes (``FIETSSTAD_BENCH_DASK_NODES``, default 200,000), cumulative and
  exponential accessibility to two opportunity columns for **all** nodes within a cut-off
  (``FIETSSTAD_BENCH_DASK_CUTOFF_S``, default 300 s; 900 s takes about 10x longer);
* Zwolle size: 20,000 nodes, 15-minute cut-off: the overhead of the cluster on a job that fits one
  machine easily.

Peer: ``fietsstad.analysis.accessibility`` in this process (numba, all cores).
Ours: ``fietsstad.distributed.accessibility_dask`` on ``LocalCluster(n_workers=2,
threads_per_worker=1)`` worker processes (one numba thread each, so the two workers use the same
two cores as the peer). Both run one after the other in the same process; the ratio
(dask time / single time) is stored in ``extra_info`` and printed. The results are asserted to be
identical. Cluster start-up and worker warm-up are measured separately (not in the ratio).

On a 2-core machine a 2-worker cluster cannot be faster than one process using both cores: the
benchmark shows the overhead of scattering, scheduling and gathering, i.e. what scaling out costs
before more machines make it pay. Run with::

    python -m pytest benchmarks/bench_distributed.py --benchmark-only -s
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from dask.distributed import Client, LocalCluster  # noqa: E402
from pandas.testing import assert_frame_equal  # noqa: E402

import fietsstad  # noqa: E402
from fietsstad.analysis.access import accessibility  # noqa: E402
from fietsstad.distributed._tasks import _warm_kernels  # noqa: E402
from fietsstad.distributed.drivers import accessibility_dask, prepare_workers  # noqa: E402
from fietsstad.engine import Decay  # noqa: E402

REGION_NODES = int(os.environ.get("FIETSSTAD_BENCH_DASK_NODES", "200000"))
REGION_CUTOFF_S = float(os.environ.get("FIETSSTAD_BENCH_DASK_CUTOFF_S", "300"))
CASES = {
    "zwolle20k_15min": (20_000, 900.0),
    f"region{REGION_NODES // 1000}k_{REGION_CUTOFF_S / 60:g}min": (REGION_NODES, REGION_CUTOFF_S),
}
SETUP: dict[str, float] = {}


@pytest.fixture(scope="module")
def client():
    _warm_kernels()
    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as cl,
    ):
        SETUP["cluster_start_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        warm = prepare_workers(cl)
        SETUP["prepare_workers_s"] = time.perf_counter() - t1
        SETUP["max_worker_warmup_s"] = max(warm.values())
        print(
            f"\ncluster start {SETUP['cluster_start_s']:.1f} s, prepare_workers "
            f"{SETUP['prepare_workers_s']:.1f} s (warm-up per worker {warm})"
        )
        yield cl


def _inputs(n_nodes: int):
    t0 = time.perf_counter()
    net = fietsstad.generate_network(n_nodes=n_nodes, seed=7)
    gen_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    opp = np.column_stack([np.ones(net.n_nodes), rng.integers(0, 20, net.n_nodes)]).astype(float)
    return net, opp, gen_s


@pytest.mark.parametrize("case", list(CASES))
def test_accessibility_single_vs_dask(benchmark, client, case):
    n_nodes, cutoff = CASES[case]
    net, opp, gen_s = _inputs(n_nodes)
    assert net.is_generated  # a GENERATED network, never presented as OSM
    decays = [Decay.cumulative(cutoff), Decay.exponential(rate_per_s=0.1 / 60)]

    t0 = time.perf_counter()
    ref = accessibility(net, opp, decays, cutoff_s=cutoff)
    t_single = time.perf_counter() - t0

    def dask_run():
        return accessibility_dask(client, net, opp, decays, cutoff_s=cutoff)

    got = benchmark.pedantic(dask_run, rounds=1, iterations=1)
    t_dask = benchmark.stats.stats.mean
    assert_frame_equal(got, ref)  # correctness, not timing
    ratio = t_dask / t_single
    benchmark.extra_info.update(
        nodes=net.n_nodes,
        edges=net.n_edges,
        cutoff_s=cutoff,
        generate_s=round(gen_s, 2),
        single_process_s=round(t_single, 2),
        dask_2_workers_s=round(t_dask, 2),
        ratio_dask_over_single=round(ratio, 3),
        **{k: round(v, 2) for k, v in SETUP.items()},
    )
    print(
        f"\n{case}: GENERATED {net.n_nodes:,} nodes / {net.n_edges:,} edges, cut-off {cutoff:g} s: "
        f"single process {t_single:.2f} s, 2-worker LocalCluster {t_dask:.2f} s, "
        f"ratio {ratio:.2f}"
    )
