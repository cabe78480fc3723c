"""fietsstad's engine beside its peers, in one process, on one network; writes ratios as JSON.

Usage::

    python benchmarks/compare.py --nodes 5000 --json engine.json          # GENERATED + Liechtenstein
    python benchmarks/compare.py --liechtenstein --json li.json           # real OSM extract only
    python benchmarks/compare.py --nodes 20000 --peers scipy,networkit,igraph,networkx

Measures (seconds, wall clock, same process, same graph), each ratio peer time over fietsstad
time (> 1 means fietsstad is faster), both **warm** (every structure of both sides built before
the timing: contraction hierarchy, scipy matrix, pandana network and ``precompute``) and as a
user's **first call** (everything built inside the timing; numba compile excluded by warming on
a 200-node network first):

* full matrix: fietsstad (PHAST over a contraction hierarchy, uint16) vs
  ``scipy.sparse.csgraph.dijkstra``, networkit APSP, igraph ``distances`` and networkx (a sample
  of sources, extrapolated);
* cut-off accessibility (sum of an opportunity over every node within the cut-off, all nodes):
  fietsstad vs pandana ``precompute`` + ``aggregate``;
* profile switch (bike -> e-bike weights, then the full matrix: the hierarchy is re-customized
  from the CCH topology built with the bike network) over a rebuild of the contraction
  hierarchy plus the sweeps on the e-bike weights;
* peak memory of the full uint16 matrix, in a subprocess: (peak RSS - RSS before) / output;
* the build of the Liechtenstein bike network from its ``.osm.pbf`` against osmnx
  ``graph_from_xml`` on the same highway ways (an ``.osm`` file written beforehand), each the
  first build in the process (fietsstad's numba kernels compiled on a tiny file first).

Without ``--liechtenstein`` the GENERATED network of ``--nodes`` is measured, then the real
Liechtenstein extract (under ``"liechtenstein"`` in the JSON; skipped, and said so, when the
extract is absent).

JSON keys (top level, of the main network): today's ``matrix_vs_scipy`` (scipy including its
matrix build / fietsstad with the hierarchy built), ``matrix_vs_scipy_incl_ch``,
``matrix_vs_networkit``, ``cutoff_vs_pandana`` (pandana precompute + aggregate / fietsstad with
the hierarchy built), ``peak_memory_over_output``; and ``matrix_vs_scipy_warm``,
``matrix_vs_scipy_first_call``, ``access_<c>s_vs_pandana_warm``,
``access_<c>s_vs_pandana_first_call``, ``profile_switch_over_rebuild``,
``network_build_vs_osmnx`` (Liechtenstein), plus raw seconds.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LIECHTENSTEIN = REPO.parent / "shared" / "data" / "osm" / "liechtenstein-latest.osm.pbf"
SEED = 42

#: Size of the GENERATED network of ``bench_engine.py`` (``FIETSSTAD_BENCH_NODES``).
BENCH_NODES = int(os.environ.get("FIETSSTAD_BENCH_NODES", "20000"))

#: (group, method) -> seconds, filled by the engine benchmarks; printed as ratios at the end.
TIMINGS: dict[tuple[str, str], float] = {}


def record(group: str, method: str, seconds: float) -> None:
    """Remember a timing for the ratio table of ``bench_engine.py``."""
    TIMINGS[(group, method)] = seconds


# ----------------------------------------------------------------------------- inputs
def generated_graph(n_nodes: int, seed: int = SEED):
    """``(CSRGraph, x, y, label)`` of a GENERATED street-like network (perturbed-grid fallback)."""
    from fietsstad.engine import CSRGraph

    try:
        from fietsstad.network import generate_network

        net = generate_network(n_nodes, seed=seed)
        return net.engine_graph(), net.x, net.y, f"GENERATED {net.n_nodes} nodes"  # deciseconds
    except ImportError:  # pragma: no cover - the generator is part of the package now
        sys.path.insert(0, str(REPO / "tests"))
        from naive import perturbed_grid

        side = int(np.sqrt(n_nodes))
        g = CSRGraph.from_arrays(*perturbed_grid(side, side, seed=seed))
        xy = np.indices((side, side)).reshape(2, -1).astype(float) * 1e-3
        return g, xy[1], xy[0], f"GENERATED grid {g.n} nodes"


def generated_net(n_nodes: int, seed: int = SEED):
    """The GENERATED :class:`~fietsstad.network.BikeNetwork` of :func:`generated_graph`."""
    from fietsstad.network import generate_network

    return generate_network(n_nodes, seed=seed)


def liechtenstein_net():
    """The real Liechtenstein OSM bike network (:class:`~fietsstad.network.BikeNetwork`)."""
    import fietsstad

    return fietsstad.load_network(file=LIECHTENSTEIN)


def liechtenstein_graph():
    """``(CSRGraph, x, y, label)`` of the real Liechtenstein OSM bike network."""
    net = liechtenstein_net()
    return net.engine_graph(), net.x, net.y, f"Liechtenstein OSM {net.n_nodes} nodes"


def _scipy_matrix(g):
    from scipy.sparse import csr_matrix

    return csr_matrix((g.weights.astype(np.float64), g.indices, g.indptr), shape=(g.n, g.n))


# ----------------------------------------------------------------------------- peers
def run_fietsstad_matrix(g, ch=None, method="phast"):
    from fietsstad.engine import travel_times

    return travel_times(g, dtype=np.uint16, method=method, ch=ch)


def run_scipy(g, sources=None):
    from scipy.sparse.csgraph import dijkstra

    return dijkstra(_scipy_matrix(g), directed=True, indices=sources)


def networkit_graph(g):
    import networkit as nk

    G = nk.Graph(g.n, weighted=True, directed=True)
    src = g.edge_sources()
    G.addEdges((g.weights.astype(np.float64), (src.astype(np.uint64), g.indices.astype(np.uint64))))
    return G


def run_networkit(G):
    import networkit as nk

    nk.setNumberOfThreads(os.cpu_count() or 1)
    apsp = nk.distance.APSP(G)
    apsp.run()
    return apsp


def igraph_graph(g):
    import igraph as ig

    G = ig.Graph(
        n=g.n, edges=np.column_stack([g.edge_sources(), g.indices]).tolist(), directed=True
    )
    G.es["w"] = g.weights.astype(float).tolist()
    return G


def run_igraph(G, sources=None):
    return G.distances(source=sources, weights="w", mode="out")


def networkx_graph(g):
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    for a, b, w in zip(g.edge_sources().tolist(), g.indices.tolist(), g.weights.tolist()):
        if not G.has_edge(a, b) or G[a][b]["w"] > w:
            G.add_edge(a, b, w=w)
    return G


def run_networkx(G, sources):
    import networkx as nx

    return [nx.single_source_dijkstra_path_length(G, s, weight="w") for s in sources]


def pandana_network(g, x, y):
    import pandana
    import pandas as pd

    src = g.edge_sources()
    edges = pd.DataFrame({"from": src, "to": g.indices, "w": g.weights.astype(float)})
    nodes = pd.DataFrame({"x": x, "y": y}, index=np.arange(g.n))
    return pandana.Network(
        nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]], twoway=False
    )


def run_pandana(pnet, cutoff, values):
    pnet.precompute(cutoff)
    pnet.set(np.arange(len(values)), variable=values, name="opp")
    return pnet.aggregate(cutoff, type="sum", decay="flat", name="opp").to_numpy()


def _scipy_dijkstra(M):
    from scipy.sparse.csgraph import dijkstra

    return dijkstra(M, directed=True)


def _pandana_aggregate(pnet, cutoff):
    return pnet.aggregate(cutoff, type="sum", decay="flat", name="opp").to_numpy()


def profile_switch(net, to: str = "ebike") -> dict:
    """Switch ``net`` to another profile's weights and compute the full matrix, over a rebuild
    of the contraction hierarchy plus the sweeps on those weights (issue #14's definition).

    Untimed: the bike network's hierarchy (``net.hierarchy()``), which builds the CCH topology
    (nested-dissection order and fill-in, once per street network). Timed **switch**:
    ``net.with_profile(to)`` (re-costing the edges, the engine graph, the customization of the
    topology for the new weights) and ``travel_times`` on the switched graph. Timed
    **rebuild**: ``build_ch`` of the switched graph (no hierarchy memoised) and the same
    ``travel_times``. Both matrices are checked equal. Keys: ``profile_switch_s``,
    ``rebuild_s``, ``profile_customize_s`` (the customization alone, inside the switch),
    ``profile_switch_sweeps_s`` / ``rebuild_sweeps_s``, ``profile_switch_over_rebuild``, and
    the arcs of both hierarchies (the CCH-derived one keeps more), and both sides in process
    CPU seconds (``*_cpu_s``, less swayed by a busy machine than wall time). When ``travel_times`` takes
    ``out=``, also ``profile_switch_reuse_s``: a second switch writing into the first switch's
    matrix (no first touch of fresh memory), over the same rebuild.
    """
    from fietsstad.engine import build_ch, travel_times
    from fietsstad.engine._ch import _MEMO, find_ch

    _MEMO.clear()
    t0 = time.perf_counter()
    bike = net.hierarchy()  # with the bike network: CCH topology + bike customization
    topology_s = time.perf_counter() - t0
    del bike
    _MEMO.clear()  # the e-bike hierarchy must not exist before the timing
    c0 = time.process_time()
    t0 = time.perf_counter()
    other = net.with_profile(to)
    g2 = other.engine_graph()
    t1 = time.perf_counter()
    T = run_fietsstad_matrix(g2)
    switch = time.perf_counter() - t0
    switch_sweeps = time.perf_counter() - t1
    switch_cpu = time.process_time() - c0
    h = find_ch(g2)
    if h is None:
        raise AssertionError("with_profile did not customize a hierarchy for the new weights")
    customize = h.build_seconds
    cch_arcs = len(h.up_indices) + len(h.dn_src)
    del h
    _MEMO.clear()
    c0 = time.process_time()
    t0 = time.perf_counter()
    ch = build_ch(g2)
    t1 = time.perf_counter()
    R = run_fietsstad_matrix(g2, ch)
    rebuild = time.perf_counter() - t0
    rebuild_sweeps = time.perf_counter() - t1
    rebuild_ch = t1 - t0
    rebuild_cpu = time.process_time() - c0
    if not np.array_equal(T, R):
        raise AssertionError("the switched matrix differs from the rebuilt one")
    del R
    reuse = {}
    if "out" in inspect.signature(travel_times).parameters:
        # a second switch writing into the first one's matrix (numpy's ``out=``): no first
        # touch of fresh output memory, as in repeated scenario evaluations
        _MEMO.clear()
        t0 = time.perf_counter()
        g3 = net.with_profile(to).engine_graph()
        travel_times(g3, dtype=np.uint16, method="phast", out=T)
        reuse["profile_switch_reuse_s"] = time.perf_counter() - t0
        reuse["profile_switch_reuse_over_rebuild"] = reuse["profile_switch_reuse_s"] / rebuild
    return {
        **reuse,
        "profile_switch_to": to,
        "profile_topology_s": topology_s,
        "profile_switch_s": switch,
        "profile_customize_s": customize,
        "profile_switch_sweeps_s": switch_sweeps,
        "rebuild_s": rebuild,
        "profile_rebuild_s": rebuild,  # the key of the previous runs
        "rebuild_ch_build_s": rebuild_ch,
        "rebuild_sweeps_s": rebuild_sweeps,
        "profile_switch_arcs": cch_arcs,
        "rebuild_arcs": len(ch.up_indices) + len(ch.dn_src),
        "profile_switch_over_rebuild": switch / rebuild,
        # process CPU seconds (all threads): less swayed by other processes on a busy machine
        "profile_switch_cpu_s": switch_cpu,
        "rebuild_cpu_s": rebuild_cpu,
        "profile_switch_over_rebuild_cpu": switch_cpu / rebuild_cpu,
    }


def network_build(xml_dir: Path | None = None) -> dict:
    """Liechtenstein's bike network from its ``.osm.pbf`` (fietsstad) against osmnx
    ``graph_from_xml`` on the same highway ways, each the first build in this process.

    The highway ways and their nodes are written to an ``.osm`` file first (untimed; osmnx reads
    no PBF). fietsstad's numba kernels are compiled on a tiny file first; fietsstad is also timed
    on the same ``.osm`` file. osmnx: ``simplify=True``, ``retain_all=False`` (largest weakly
    connected component), its defaults otherwise.
    """
    import tempfile

    import osmium
    import osmnx as ox

    import fietsstad
    from fietsstad import settings

    if not LIECHTENSTEIN.exists():
        return {"network_build": f"skipped: {LIECHTENSTEIN.name} not found"}
    old, settings.progress = settings.progress, False
    tmp = Path(tempfile.mkdtemp(dir=xml_dir))
    try:
        xml = tmp / "liechtenstein-highways.osm"
        with osmium.BackReferenceWriter(str(xml), ref_src=str(LIECHTENSTEIN)) as w:
            for o in osmium.FileProcessor(str(LIECHTENSTEIN), osmium.osm.WAY).with_filter(
                osmium.filter.KeyFilter("highway")
            ):
                w.add(o)
        tiny = REPO / "tests" / "fixtures" / "osm" / "rules.osm"
        fietsstad.load_network(file=tiny)  # numba compile / cache load, not timed
        t_f, net = _timed(fietsstad.load_network, file=LIECHTENSTEIN)
        t_fx, _ = _timed(fietsstad.load_network, file=xml)
        ox.settings.use_cache = False
        t_o, G = _timed(ox.graph_from_xml, xml, simplify=True, retain_all=False)
        return {
            "fietsstad_build_pbf_s": t_f,
            "fietsstad_build_same_xml_s": t_fx,
            "osmnx_build_xml_s": t_o,
            "fietsstad_build_nodes": net.n_nodes,
            "osmnx_build_nodes": G.number_of_nodes(),
            "network_build_vs_osmnx": t_o / t_f,
            "network_build_vs_osmnx_same_xml": t_o / t_fx,
        }
    finally:
        settings.progress = old
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def run_fietsstad_access(g, cutoff, values, method="auto"):
    from fietsstad.engine import Decay, accessibility

    return accessibility(g, values, [Decay.cumulative(cutoff)], cutoff=cutoff, method=method)[:, 0]


# ----------------------------------------------------------------------------- memory
_MEM_CHILD = r"""
import resource, sys, time, numpy as np
sys.path.insert(0, {bench!r})
import compare
g = {loader}
from fietsstad.engine import build_ch, travel_times
ch = build_ch(g)
travel_times(g, np.arange(min(64, g.n)), method="phast", ch=ch)  # compile / warm
def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
try:  # reset the high-water mark so setup peaks do not count (Linux >= 4.0)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
except OSError:
    pass
before = status("VmRSS:")
out = travel_times(g, dtype=np.uint16, method="phast", ch=ch)
peak = status("VmHWM:")
print(before, peak, out.nbytes)
"""


def peak_memory_ratio(loader: str) -> tuple[float, int]:
    """Run the full matrix in a fresh process; ``(peak RSS - RSS before) / output bytes``.

    The child resets its RSS high-water mark (``/proc/self/clear_refs``) after the setup, so only
    the matrix call counts.
    """
    code = _MEM_CHILD.format(bench=str(Path(__file__).parent), loader=loader)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, peak, nbytes = (int(v) for v in res.stdout.split()[-3:])
    return (peak - before) / nbytes, nbytes


# ----------------------------------------------------------------------------- main
def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    res = fn(*args, **kwargs)
    return time.perf_counter() - t0, res


def compare(
    g, x, y, label, peers, cutoffs, loader, networkx_sample=50, net=None, light=False
) -> dict:
    """Run every measurement; returns the JSON-able result dict.

    ``net`` (the BikeNetwork of ``g``) adds the profile-switch measurement; ``light`` skips
    fietsstad's Dijkstra matrix (the second network of a run keeps to the ratios).
    """
    from fietsstad.engine import UNREACHABLE_U16, build_ch, travel_times
    from fietsstad.engine._ch import _MEMO

    res: dict = {"network": label, "n_nodes": g.n, "n_edges": g.m, "threads": os.cpu_count()}
    t0 = time.perf_counter()  # numba compile (first process) or cache load
    small = generated_graph(200, seed=1)[0]
    travel_times(small, method="phast")
    travel_times(small, method="dijkstra", cutoff=60)
    run_fietsstad_access(small, 60, np.ones(small.n), method="dijkstra")
    run_fietsstad_access(small, 60, np.ones(small.n), method="phast")
    if net is not None:  # the CCH kernels (order, fill-in, customization)
        from fietsstad.network import generate_network

        generate_network(200, seed=1).hierarchy()
    res["warmup_compile_s"] = time.perf_counter() - t0
    if "pandana" in peers:  # pandana's one-time start-up in a process (seconds), not timed
        sx, sy = np.arange(small.n, dtype=float) * 1e-3, np.zeros(small.n)
        t0 = time.perf_counter()
        run_pandana(pandana_network(small, sx, sy), 60, np.ones(small.n))
        res["pandana_warmup_s"] = time.perf_counter() - t0
    _MEMO.clear()
    res["ch_build_s"], ch = _timed(build_ch, g)
    res["ch_shortcuts"] = ch.n_shortcuts
    res["fietsstad_matrix_s"], T = _timed(run_fietsstad_matrix, g, ch)
    res["fietsstad_matrix_incl_ch_s"] = res["fietsstad_matrix_s"] + res["ch_build_s"]
    if not light:
        res["fietsstad_dijkstra_matrix_s"], _ = _timed(run_fietsstad_matrix, g, None, "dijkstra")
    # a user's first call: the hierarchy is built inside travel_times
    _MEMO.clear()
    res["fietsstad_matrix_first_call_s"], _ = _timed(run_fietsstad_matrix, g)
    if "scipy" in peers:
        # scipy's first call = its csr_matrix build + dijkstra (today's scipy_matrix_s, which
        # run_scipy times as one); warm = dijkstra alone. Timed apart, run once.
        t_build, M = _timed(_scipy_matrix, g)
        res["scipy_matrix_warm_s"], S = _timed(_scipy_dijkstra, M)
        res["scipy_matrix_s"] = t_build + res["scipy_matrix_warm_s"]
        del M
        # peers sum the same integer ticks; fietsstad rounds them half up to seconds at the end
        tps = g.ticks_per_s
        S = np.where(np.isinf(S), UNREACHABLE_U16, np.floor((S + tps // 2) / tps))
        res["agrees_with_scipy"] = bool(np.array_equal(T, S.astype(np.uint16)))
        del S
        res["matrix_vs_scipy"] = res["scipy_matrix_s"] / res["fietsstad_matrix_s"]
        res["matrix_vs_scipy_incl_ch"] = res["scipy_matrix_s"] / res["fietsstad_matrix_incl_ch_s"]
        res["matrix_vs_scipy_warm"] = res["scipy_matrix_warm_s"] / res["fietsstad_matrix_s"]
        res["matrix_vs_scipy_first_call"] = (
            res["scipy_matrix_s"] / res["fietsstad_matrix_first_call_s"]
        )
    del T
    if "networkit" in peers:
        G = networkit_graph(g)
        res["networkit_matrix_s"], apsp = _timed(run_networkit, G)
        del apsp, G
        res["matrix_vs_networkit"] = res["networkit_matrix_s"] / res["fietsstad_matrix_s"]
    if "igraph" in peers:
        G = igraph_graph(g)
        res["igraph_matrix_s"], D = _timed(run_igraph, G)
        del D, G
        res["matrix_vs_igraph"] = res["igraph_matrix_s"] / res["fietsstad_matrix_s"]
    if "networkx" in peers:
        G = networkx_graph(g)
        sample = np.random.default_rng(0).choice(g.n, min(networkx_sample, g.n), replace=False)
        t, _ = _timed(run_networkx, G, sample.tolist())
        res["networkx_matrix_extrapolated_s"] = t * g.n / len(sample)
        res["matrix_vs_networkx"] = (
            res["networkx_matrix_extrapolated_s"] / res["fietsstad_matrix_s"]
        )
    if "pandana" in peers:
        values = np.random.default_rng(1).integers(0, 10, g.n).astype(np.float64)
        ratios = []
        for c in cutoffs:
            # a fresh pandana network per cut-off: re-running precompute with a larger distance
            # on the same network returned wrong sums in our runs (pandana 0.8)
            _MEMO.clear()
            tf_first, _ = _timed(run_fietsstad_access, g, c, values)  # builds what it needs
            res["pandana_build_s"], pnet = _timed(pandana_network, g, x, y)
            tf, A = _timed(run_fietsstad_access, g, c, values)
            tp, P = _timed(run_pandana, pnet, c * g.ticks_per_s, values)  # pandana: ticks
            tp_warm, _ = _timed(
                _pandana_aggregate, pnet, c * g.ticks_per_s
            )  # precompute done above
            res[f"pandana_build_{c}s_s"] = res["pandana_build_s"]
            res[f"fietsstad_access_{c}s_s"] = tf
            res[f"fietsstad_access_{c}s_first_call_s"] = tf_first
            res[f"pandana_access_{c}s_s"] = tp
            res[f"pandana_access_{c}s_warm_s"] = tp_warm
            res[f"access_{c}s_agree_share"] = float(np.mean(np.isclose(A, P)))
            res[f"access_{c}s_vs_pandana_warm"] = tp_warm / tf
            res[f"access_{c}s_vs_pandana_first_call"] = (res["pandana_build_s"] + tp) / tf_first
            ratios.append(tp / tf)
        res["cutoff_vs_pandana"] = float(min(ratios))
    if net is not None:
        res.update(profile_switch(net))
    if loader:
        res["peak_memory_over_output"], res["matrix_bytes"] = peak_memory_ratio(loader)
    return res


def _table(res: dict) -> str:
    rows = [(k, v) for k, v in res.items()]
    w = max(len(k) for k, _ in rows)
    return "\n".join(
        f"{k:<{w}}  {v:,.3f}" if isinstance(v, float) else f"{k:<{w}}  {v}" for k, v in rows
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=5000, help="size of the GENERATED network")
    p.add_argument("--liechtenstein", action="store_true", help="use the real OSM extract")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument(
        "--peers",
        default="scipy,networkit,pandana",
        help="comma list of scipy,networkit,igraph,networkx,pandana",
    )
    p.add_argument("--cutoffs", default="900,1800", help="cut-offs (s) for accessibility")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocess")
    p.add_argument(
        "--no-liechtenstein", action="store_true", help="skip the real extract and its build"
    )
    a = p.parse_args(argv)

    # first: the network build is timed as the first build in this process
    build = {} if a.no_liechtenstein else network_build()
    if a.liechtenstein:
        net = liechtenstein_net()
        label = f"Liechtenstein OSM {net.n_nodes} nodes"
        loader = "compare.liechtenstein_graph()[0]"
    else:
        net = generated_net(a.nodes)
        label = f"GENERATED {net.n_nodes} nodes"
        loader = f"compare.generated_graph({a.nodes})[0]"
    g = net.engine_graph()
    peers = {s.strip() for s in a.peers.split(",") if s.strip()}
    cutoffs = [int(c) for c in a.cutoffs.split(",")]
    res = compare(g, net.x, net.y, label, peers, cutoffs, None if a.no_memory else loader, net=net)
    if not a.no_liechtenstein:
        if not a.liechtenstein:
            if LIECHTENSTEIN.exists():
                li = liechtenstein_net()
                gl = li.engine_graph()
                lab = f"Liechtenstein OSM {li.n_nodes} nodes"
                # scipy and pandana only: the ratios with the first calls, in CI's time budget
                li_peers = peers & {"scipy", "pandana"}
                res["liechtenstein"] = compare(
                    gl, li.x, li.y, lab, li_peers, cutoffs, None, net=li, light=True
                )
            else:
                res["liechtenstein"] = f"skipped: {LIECHTENSTEIN} not found"
        res.update(build)
    print(_table({k: v for k, v in res.items() if not isinstance(v, dict)}))
    if isinstance(res.get("liechtenstein"), dict):
        print("\n-- liechtenstein")
        print(_table(res["liechtenstein"]))
    if a.json:
        from fietsstad._io import atomic_write

        with atomic_write(a.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
