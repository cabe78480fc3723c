"""Snelfietspad re-evaluation: incremental update vs a full recomputation, same process.

A GENERATED 20k-node network over Zwolle's box (synthetic, not OpenStreetMap), a ~10 km corridor
(waypoints across the city), the full 20k x 20k uint16 matrix before the edit, then:

* peer: a full recomputation on the edited network with the engine's public API:
  ``build_ch(after_graph)`` (after an edit the contraction hierarchy must be rebuilt for the new
  weights; the in-process memo is cleared first so it really is built) plus
  ``travel_times(after_graph, ch=ch)`` (PHAST sweeps). Build and sweeps are reported apart;
* ours: ``fietsstad.scenario.update_travel_times(old, before, after, changed_edges)`` (exact
  decrease-only update; for a full matrix the "hubs" method: corridor overlay, ~10 entry points
  per source, blocked saturating uint16 min-plus passes), in place (``inplace=True``, the
  benchmarked call, 3 rounds on fresh copies) and returning a new 0.8 GB matrix (default).

The peer runs before and after ours (the machine is shared; the mean of the two is used); both
results are asserted equal to ours. Ratios go to ``extra_info`` and are printed. A second pair does
the same for a short (~2.5 km) corridor. Run with::

    python -m pytest benchmarks/bench_scenario.py --benchmark-only -s
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import fietsstad
from fietsstad.engine import CSRGraph, _ch, build_ch, travel_times
from fietsstad.scenario import Snelfietspad, update_travel_times
from fietsstad.scenario.incremental import full_travel_times

CORRIDORS = {
    "10km": [(6.05, 52.49), (6.10, 52.505), (6.16, 52.52)],
    "2.5km": [(6.08, 52.50), (6.11, 52.51)],
}
ROUNDS = 3


@pytest.fixture(scope="module")
def setup():
    net = fietsstad.generate_network(n_nodes=20_000, seed=1)  # GENERATED
    # warm the engine's and our kernels (numba compilation / cache load) on a small network first
    small = fietsstad.generate_network(n_nodes=300, seed=1)
    g_small = CSRGraph.from_arrays(*small.csr("travel_time_ticks"))  # the update's unit
    travel_times(g_small, ch=build_ch(g_small))
    r = Snelfietspad.from_waypoints([(6.05, 52.49), (6.15, 52.52)]).resolve(small)
    for inplace in (False, True):
        update_travel_times(
            full_travel_times(small), small, r.network, r.changed_edges, inplace=inplace
        )
    old = full_travel_times(net)  # uint16 deciseconds, the unit of update_travel_times
    return net, old


def _full_recompute(after):
    """The peer: rebuild the hierarchy for the edited weights, then PHAST sweeps."""
    _ch._MEMO.clear()  # an edited network has a new hash anyway; this makes the 2nd run honest too
    g = CSRGraph.from_arrays(*after.csr("travel_time_ticks"))  # deciseconds, as the update
    t0 = time.perf_counter()
    ch = build_ch(g)
    t1 = time.perf_counter()
    out = travel_times(g, ch=ch, dtype=np.uint16)
    t2 = time.perf_counter()
    return out, t1 - t0, t2 - t1


@pytest.mark.parametrize("corridor", list(CORRIDORS))
def test_incremental_vs_full(benchmark, setup, corridor):
    net, old = setup
    r = Snelfietspad.from_waypoints(CORRIDORS[corridor], name=f"bench {corridor}").resolve(net)
    after = r.network

    full, build_1, sweep_1 = _full_recompute(after)

    def fresh():
        return (old.copy(), net, after, r.changed_edges), {"inplace": True}

    res = {}

    def incremental_inplace(buf, before, aft, changed, inplace):
        res["out"], res["stats"] = update_travel_times(buf, before, aft, changed, inplace=inplace)

    benchmark.pedantic(incremental_inplace, setup=fresh, rounds=ROUNDS, iterations=1)
    t_inplace = benchmark.stats.stats.mean
    t_inplace_min = benchmark.stats.stats.min
    stats = res["stats"]
    assert np.array_equal(res["out"], full)  # correctness, not timing
    res.clear()
    t_copy = []
    for _ in range(ROUNDS):  # default call: the input stays untouched, a new matrix is returned
        t0 = time.perf_counter()
        new, _ = update_travel_times(old, net, after, r.changed_edges)
        t_copy.append(time.perf_counter() - t0)
        assert np.array_equal(new, full)
        del new
    del full
    _, build_2, sweep_2 = _full_recompute(after)  # the peer again: same machine load for both
    t_full = 0.5 * (build_1 + sweep_1 + build_2 + sweep_2)
    t_sweeps = 0.5 * (sweep_1 + sweep_2)
    tc = float(np.mean(t_copy))
    load = os.getloadavg()[0]
    benchmark.extra_info.update(
        {
            "network": "GENERATED 20k",
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "corridor_km": round(r.length_km, 2),
            "changed_edges": int(len(r.changed_edges)),
            "full_s": [round(build_1 + sweep_1, 3), round(build_2 + sweep_2, 3)],
            "ch_build_s": [round(build_1, 3), round(build_2, 3)],
            "sweeps_s": [round(sweep_1, 3), round(sweep_2, 3)],
            "incremental_inplace_s": round(t_inplace, 3),
            "incremental_inplace_min_s": round(t_inplace_min, 3),
            "incremental_copy_s": round(tc, 3),
            "ratio_inplace": round(t_inplace / t_full, 4),
            "ratio_copy": round(tc / t_full, 4),
            "ratio_inplace_vs_sweeps_only": round(t_inplace / t_sweeps, 4),
            "sources_touched": stats.sources_touched,
            "entries_per_source": stats.entries_per_source,
            "pairs_changed": stats.pairs_changed,
            "pairs_changed_share": round(stats.pairs_changed / old.size, 4),
            "load_avg_1min": round(load, 2),
        }
    )
    print(
        f"\n[GENERATED network, load avg {load:.1f}] corridor {corridor} ({r.length_km:.1f} km, "
        f"{len(r.changed_edges)} edges): full recomputation {build_1 + sweep_1:.2f} / "
        f"{build_2 + sweep_2:.2f} s (hierarchy {build_1:.2f} / {build_2:.2f} s + sweeps "
        f"{sweep_1:.2f} / {sweep_2:.2f} s); incremental in place {t_inplace:.2f} s "
        f"(min {t_inplace_min:.2f}), new matrix {tc:.2f} s; ratio in place {t_inplace / t_full:.3f}, "
        f"new matrix {tc / t_full:.3f} (in place vs sweeps only {t_inplace / t_sweeps:.3f}); "
        f"{stats.sources_touched} sources touched, {stats.entries_per_source:.1f} entries/source, "
        f"{stats.pairs_changed / old.size:.1%} of pairs changed"
    )
