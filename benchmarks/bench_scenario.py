"""Snelfietspad re-evaluation: incremental update vs the engine's full matrix, same process.

A GENERATED 20k-node network over Zwolle's box, a ~10 km corridor (waypoints across the city),
the full 20k x 20k uint16 matrix before the edit, then:

* peer: ``fietsstad.engine.travel_times`` on the edited network (a full recomputation, including
  the contraction hierarchy the engine must build for the new weights; its in-process memo is
  cleared first). For reference, the same call with the hierarchy already memoised (PHAST sweeps
  only, which an edit does not allow) is reported too;
* ours: ``fietsstad.scenario.update_travel_times`` (exact decrease-only update; for a full matrix
  the "hubs" method: corridor overlay + vectorised min-plus over the rows of affected sources),
  timed with the copy of the 0.8 GB input matrix (default) and in place.

Both run in one process; the peer runs before and after ours (the machine is shared, so its mean
is used); the ratios are stored in ``extra_info`` and printed.
A second pair does the same for a short (~2.5 km) corridor. Run with::

    /work/venv/bin/python -m pytest benchmarks/bench_scenario.py --benchmark-only -s
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import fietsstad
from fietsstad.engine import CSRGraph, _ch, travel_times
from fietsstad.scenario import Snelfietspad, update_travel_times

CORRIDORS = {
    "10km": [(6.05, 52.49), (6.10, 52.505), (6.16, 52.52)],
    "2.5km": [(6.08, 52.50), (6.11, 52.51)],
}


@pytest.fixture(scope="module")
def setup():
    net = fietsstad.generate_network(n_nodes=20_000, seed=1)
    # warm the engine's and our kernels (numba compilation) on a small network first
    small = fietsstad.generate_network(n_nodes=300, seed=1)
    travel_times(CSRGraph.from_arrays(*small.csr()))
    r = Snelfietspad.from_waypoints([(6.05, 52.49), (6.15, 52.52)]).resolve(small)
    update_travel_times(
        travel_times(CSRGraph.from_arrays(*small.csr())), small, r.network, r.changed_edges
    )
    old = travel_times(CSRGraph.from_arrays(*net.csr()), dtype=np.uint16)
    return net, old


@pytest.mark.parametrize("corridor", list(CORRIDORS))
def test_incremental_vs_full(benchmark, setup, corridor):
    net, old = setup
    r = Snelfietspad.from_waypoints(CORRIDORS[corridor], name=f"bench {corridor}").resolve(net)
    after = r.network

    def full_recompute(fresh: bool = True):
        if fresh:  # a recomputation after an edit must rebuild the hierarchy for the new weights
            _ch._MEMO.clear()
        t0 = time.perf_counter()
        out = travel_times(CSRGraph.from_arrays(*after.csr()), dtype=np.uint16)
        return out, time.perf_counter() - t0

    full, t_full_1 = full_recompute()

    def incremental():
        return update_travel_times(old, net, after, r.changed_edges)

    new, stats = benchmark.pedantic(incremental, rounds=1, iterations=1)
    t_inc = benchmark.stats.stats.mean
    assert np.array_equal(new, full)  # correctness, not timing
    del new
    # in place (no 0.8 GB copy): the way a scenario loop that keeps only the latest matrix runs
    buf = old.copy()
    t0 = time.perf_counter()
    update_travel_times(buf, net, after, r.changed_edges, inplace=True)
    t_inplace = time.perf_counter() - t0
    assert np.array_equal(buf, full)
    del buf, full
    _, t_full_2 = full_recompute()  # the peer again, so both see the same machine load
    _, t_sweeps = full_recompute(fresh=False)  # hierarchy memoised: PHAST sweeps only
    t_full = 0.5 * (t_full_1 + t_full_2)
    ratio = t_inc / t_full
    benchmark.extra_info.update(
        {
            "network": "GENERATED 20k",
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "corridor_km": round(r.length_km, 2),
            "changed_edges": int(len(r.changed_edges)),
            "full_s": [round(t_full_1, 3), round(t_full_2, 3)],
            "full_sweeps_only_s": round(t_sweeps, 3),
            "incremental_s": round(t_inc, 3),
            "incremental_inplace_s": round(t_inplace, 3),
            "ratio": round(ratio, 3),
            "ratio_inplace": round(t_inplace / t_full, 3),
            "ratio_vs_sweeps_only": round(t_inc / t_sweeps, 3),
            "sources_touched": stats.sources_touched,
            "pairs_changed": stats.pairs_changed,
            "pairs_changed_share": round(stats.pairs_changed / old.size, 4),
        }
    )
    print(
        f"\n[GENERATED network] corridor {corridor} ({r.length_km:.1f} km, {len(r.changed_edges)} edges): "
        f"full recomputation {t_full_1:.2f} / {t_full_2:.2f} s (sweeps only, hierarchy reused: "
        f"{t_sweeps:.2f} s); incremental {t_inc:.2f} s (in place {t_inplace:.2f} s); ratio {ratio:.3f} "
        f"(in place {t_inplace / t_full:.3f}; vs sweeps only {t_inc / t_sweeps:.3f}); "
        f"{stats.sources_touched} sources touched, {stats.pairs_changed / old.size:.1%} of pairs changed"
    )
