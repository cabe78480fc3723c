"""Customizable contraction hierarchy (CCH) beside the contraction hierarchy (CH), one process.

On GENERATED street-like networks (default 20k and 10k nodes, seed 42), after warming the numba
caches on a small graph, it prints side by side:

* CCH order + fill-in time (metric-independent, once per topology) and its fill-in size;
* customization time (bike, e-bike weights) against the CH build time;
* arcs of the hierarchy the sweeps read (CCH after customization vs CH with its shortcuts);
* PHAST sweep time of the full matrix on the CCH vs on the CH (uint16, all sources);
* the profile switch bike -> e-bike: ``customize + sweeps`` over ``CH build + sweeps``
  (issue #14 asks for at most 0.3).

Every CCH matrix is checked equal to the CH one. Run::

    python benchmarks/bench_cch.py [n_nodes | liechtenstein ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numba
import numpy as np

HERE = Path(__file__).resolve().parent


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    res = fn(*args, **kw)
    return res, time.perf_counter() - t0


def _arcs(ch) -> int:
    return len(ch.up_indices) + len(ch.dn_src)


def _warm() -> None:
    from fietsstad.engine import CSRGraph, build_cch, build_ch, travel_times
    from fietsstad.network import generate_network

    net = generate_network(n_nodes=300, seed=1)
    g = CSRGraph.from_arrays(*net.csr())
    travel_times(g, ch=build_ch(g), method="phast")
    travel_times(g, ch=build_cch(g, net.x, net.y).customize(g.weights), method="phast")


def _network(which: str):
    """``(label, network)``: a GENERATED network of ``which`` nodes, or the Liechtenstein PBF."""
    from fietsstad import settings
    from fietsstad.network import generate_network

    if which == "liechtenstein":
        from fietsstad.network.osm import load_network

        settings.progress = False
        pbf = HERE.parent.parent / "shared" / "data" / "osm" / "liechtenstein-latest.osm.pbf"
        return "Liechtenstein", load_network(file=pbf)
    net = generate_network(n_nodes=int(which), seed=42)
    return "GENERATED", net


def run(which: str) -> dict:
    """All timings for one network (seconds): ``which`` is a node count or "liechtenstein"."""
    from fietsstad.engine import CSRGraph, build_cch, build_ch, travel_times
    from fietsstad.engine._ch import _MEMO

    name, net = _network(which)
    g = CSRGraph.from_arrays(*net.csr())
    e = CSRGraph.from_arrays(*net.with_profile("ebike").csr())
    r: dict = {"label": f"{name} {net.n_nodes} nodes, {g.m} arcs"}

    _MEMO.clear()
    ch, r["ch_build"] = _timed(build_ch, g)
    cch, r["cch_build"] = _timed(build_cch, g, net.x, net.y)
    r["cch_order"], r["cch_fill"] = cch.order_seconds, cch.fill_seconds
    h, r["customize_bike"] = _timed(cch.customize, g.weights)
    hb, r["customize_basic"] = _timed(cch.customize, g.weights, perfect=False)
    r["cch_arcs_basic"] = _arcs(hb)
    r["ch_arcs"], r["cch_arcs"], r["fill_edges"] = _arcs(ch), _arcs(h), cch.n_edges
    r["ch_shortcuts"], r["cch_shortcuts"] = ch.n_shortcuts, h.n_shortcuts

    ref, r["sweeps_ch"] = _timed(travel_times, g, ch=ch, method="phast")
    got, r["sweeps_cch"] = _timed(travel_times, g, ch=h, method="phast")
    assert np.array_equal(ref, got), "CCH matrix differs from the CH matrix"
    del ref, got

    # profile switch bike -> e-bike
    _MEMO.clear()
    t0 = time.perf_counter()
    che = build_ch(e)
    ref = travel_times(e, ch=che, method="phast")
    r["switch_ch"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    he = cch.customize(e.weights)
    r["customize_ebike"] = time.perf_counter() - t0
    got = travel_times(e, ch=he, method="phast")
    r["switch_cch"] = time.perf_counter() - t0
    assert np.array_equal(ref, got), "CCH e-bike matrix differs from the CH matrix"
    r["switch_ratio"] = r["switch_cch"] / r["switch_ch"]
    return r


def main(argv: list[str]) -> None:
    sizes = argv or ["20000", "10000"]
    _warm()
    print(f"threads: {numba.get_num_threads()}")
    rows = [
        ("CCH order (s)", "cch_order", "{:.2f}"),
        ("CCH fill-in (s)", "cch_fill", "{:.2f}"),
        ("CCH fill-in edges (undirected)", "fill_edges", "{:,}"),
        ("CH build (s)", "ch_build", "{:.2f}"),
        ("CCH customize bike, basic only (s)", "customize_basic", "{:.3f}"),
        ("CCH customize bike, perfect (s)", "customize_bike", "{:.3f}"),
        ("CCH customize e-bike, perfect (s)", "customize_ebike", "{:.3f}"),
        ("hierarchy arcs CH", "ch_arcs", "{:,}"),
        ("hierarchy arcs CCH basic", "cch_arcs_basic", "{:,}"),
        ("hierarchy arcs CCH perfect (pruned)", "cch_arcs", "{:,}"),
        ("shortcuts CH", "ch_shortcuts", "{:,}"),
        ("shortcuts CCH", "cch_shortcuts", "{:,}"),
        ("full-matrix sweeps on CH (s)", "sweeps_ch", "{:.2f}"),
        ("full-matrix sweeps on CCH (s)", "sweeps_cch", "{:.2f}"),
        ("switch: CH build + sweeps (s)", "switch_ch", "{:.2f}"),
        ("switch: CCH customize + sweeps (s)", "switch_cch", "{:.2f}"),
        ("switch ratio CCH / CH (target <= 0.3)", "switch_ratio", "{:.2f}"),
    ]
    results = [run(n) for n in sizes]
    print(f"{'':42}" + "".join(f"{r['label']:>36}" for r in results))
    for title, key, fmt in rows:
        print(f"{title:42}" + "".join(f"{fmt.format(r[key]):>36}" for r in results))


if __name__ == "__main__":
    main(sys.argv[1:])
