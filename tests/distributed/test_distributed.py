"""Dask scale-out: results identical to the single-machine engine, on a real LocalCluster.

Oracles: the single-machine functions (``fietsstad.engine.travel_times`` / ``accessibility``,
``demand.modal_share``, ``scenario.evaluate_snelfietspad``) and, independently of the engine,
``scipy.sparse.csgraph.dijkstra``. The cluster has two worker *processes* on loopback; one test
kills a real worker process with SIGKILL in the middle of a run.
"""

from __future__ import annotations

import importlib
import os
import signal
import time

import numpy as np
import pytest

importlib.import_module("distributed")
zarr = importlib.import_module("zarr")

from dask.distributed import Client, LocalCluster  # noqa: E402

from conftest import LIECHTENSTEIN_PBF  # noqa: E402
from fietsstad import engine, settings  # noqa: E402
from fietsstad.distributed._tasks import _tt_to_zarr, _warm_kernels  # noqa: E402
from fietsstad.distributed.drivers import (  # noqa: E402
    accessibility_matrix_dask,
    choose_block_size,
    prepare_workers,
    travel_time_matrix_dask,
    worker_state,
)
from fietsstad.errors import GraphError, MemoryBudgetError, ValidationError  # noqa: E402
from fietsstad.network.generate import generate_network  # noqa: E402
from naive import graph_times, min_duplicates  # noqa: E402

LIECHTENSTEIN = str(LIECHTENSTEIN_PBF)


@pytest.fixture(scope="module")
def client():
    _warm_kernels()  # compile once here: the workers then load numba's on-disk cache
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
        yield cl


@pytest.fixture(scope="module")
def net():
    return generate_network(1_200, seed=11)


@pytest.fixture(scope="module")
def graph(net):
    return engine.CSRGraph.from_arrays(*net.csr())


# ------------------------------------------------------------------------ block size (by hand)
def test_choose_block_size_hand_computed():
    # 128 MiB / (200,000 targets * 2 bytes) = 335.5 rows -> 320 (multiple of the 16 PHAST lanes)
    assert choose_block_size(200_000, 400_000, 2) == 320
    # balance: 100 sources on 2 threads -> at least 8 blocks -> ceil(100 / 8) = 13 rows
    assert choose_block_size(100, 200, 2) == 13
    # a single huge row still gets one row per block
    assert choose_block_size(10, 10 * 2**30, 4) == 1
    assert choose_block_size(0, 100, 2) == 1


# ------------------------------------------------------------------------ travel-time matrices
def test_matrix_to_zarr_equals_engine_and_scipy(client, net, graph, tmp_path):
    store = tmp_path / "tt.zarr"
    z = travel_time_matrix_dask(client, net, store=store, block_size=150)
    g = net.engine_graph()  # a network's engine graph sums deciseconds (issue #12)
    ref = engine.travel_times(g)
    assert z.shape == ref.shape == (net.n_nodes, net.n_nodes)
    assert z.dtype == np.uint16 and z.chunks == (150, net.n_nodes)
    assert np.array_equal(z[:], ref)
    # independent oracle on a sample of rows
    rows = np.arange(0, net.n_nodes, 97)
    sp = graph_times(min_duplicates(g), rows)
    sp = np.where(np.isfinite(sp), np.floor((sp + 5) / 10), np.inf)  # ticks -> s, half up
    got = z[:][rows].astype(np.float64)
    got[got == engine.UNREACHABLE_U16] = np.inf
    assert np.array_equal(got, sp)
    grp = zarr.open_group(store=str(store), mode="r")
    assert grp.attrs["complete"] is True
    assert grp.attrs["generated"] is True and "GENERATED" in grp.attrs["note"]
    assert np.array_equal(grp["origins"][:], np.arange(net.n_nodes))
    # one chunk per block of 150 source rows, written by its own task
    assert z.nchunks_initialized == -(-net.n_nodes // 150)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
def test_subsets_cutoff_and_dtypes(client, graph, dtype, tmp_path):
    rng = np.random.default_rng(3)
    orig = rng.choice(graph.n, 70, replace=False)
    dest = rng.choice(graph.n, 500, replace=True)  # repeats allowed
    ref = engine.travel_times(graph, orig, dest, cutoff=600, dtype=dtype)
    got = travel_time_matrix_dask(
        client, graph, orig, dest, cutoff_s=600, dtype=dtype, gather=True, block_size=16
    )
    assert got.dtype == np.dtype(dtype) and np.array_equal(got, ref)
    z = travel_time_matrix_dask(
        client, graph, orig, dest, cutoff_s=600, dtype=dtype, store=tmp_path / "s.zarr"
    )
    assert np.array_equal(z[:], ref)
    sp = graph_times(min_duplicates(graph), orig, limit=600.0)[:, dest]
    unreach = {
        np.dtype(np.uint16): engine.UNREACHABLE_U16,
        np.dtype(np.int32): engine.UNREACHABLE_I32,
    }
    f = got.astype(np.float64)
    if np.dtype(dtype) in unreach:
        f[got == unreach[np.dtype(dtype)]] = np.inf
    assert np.array_equal(f, sp)


def test_phast_method_equals_dijkstra(client, graph):
    orig = np.arange(0, graph.n, 5)
    a = travel_time_matrix_dask(client, graph, orig, method="phast", gather=True)
    b = engine.travel_times(graph, orig, method="dijkstra")
    assert np.array_equal(a, b)


def test_rerun_of_a_block_overwrites_its_chunk(graph, tmp_path):
    """A task re-run by Dask after a crash rewrites exactly its chunk (idempotent)."""
    store = tmp_path / "idem.zarr"
    grp = zarr.open_group(store=str(store), mode="w")
    arr = grp.create_array(
        "travel_time",
        shape=(graph.n, graph.n),
        chunks=(100, graph.n),
        dtype=np.uint16,
        fill_value=engine.UNREACHABLE_U16,
    )
    rows = np.arange(100, 200, dtype=np.int32)
    arr[100:200] = 7  # a half-written / stale chunk
    for _ in range(2):
        n = _tt_to_zarr(
            graph,
            None,
            rows,
            None,
            None,
            np.dtype(np.uint16),
            "dijkstra",
            False,
            None,
            str(store),
            100,
        )
        assert n == 100
        assert np.array_equal(arr[100:200], engine.travel_times(graph, rows))
    assert np.all(arr[:100] == engine.UNREACHABLE_U16)  # neighbours untouched


def test_with_distance_and_points_match_routing(client, net, tmp_path):
    from fietsstad.analysis import travel_time_matrix

    pts = np.column_stack([net.x[[3, 50, 700]], net.y[[3, 50, 700]]])  # lon/lat, snapped
    ref_t, ref_m = travel_time_matrix(net, pts, None, cutoff_s=1200, with_distance=True)
    t, m = travel_time_matrix_dask(client, net, pts, cutoff_s=1200, with_distance=True, gather=True)
    assert np.array_equal(t, ref_t) and np.array_equal(m, ref_m)
    zt, zm = travel_time_matrix_dask(
        client, net, pts, cutoff_s=1200, with_distance=True, store=tmp_path / "d.zarr"
    )
    assert np.array_equal(zt[:], ref_t) and np.array_equal(zm[:], ref_m)
    # metres along the path are at least the straight-line distance between the end nodes
    from fietsstad.scenario import haversine_m

    ok = m[0] != engine.UNREACHABLE_I32
    straight = haversine_m(net.x[3], net.y[3], net.x[ok], net.y[ok])
    assert np.all(m[0][ok] >= np.floor(straight) - 1)
    with pytest.raises(ValidationError, match="BikeNetwork"):
        travel_time_matrix_dask(client, net.csr(), [0], with_distance=True, gather=True)


def test_gathered_matrix_into_out_like_travel_time_matrix(client, net, tmp_path):
    """``out=`` as in analysis.travel_time_matrix (numpy's convention), gather=True only."""
    from fietsstad.analysis import travel_time_matrix

    pts = np.column_stack([net.x[[3, 50, 700]], net.y[[3, 50, 700]]])
    ref_t, ref_m = travel_time_matrix(net, pts, None, cutoff_s=1200, with_distance=True)
    t = np.empty_like(ref_t)
    got = travel_time_matrix_dask(client, net, pts, cutoff_s=1200, gather=True, out=t)
    assert got is t and np.array_equal(t, ref_t)
    outs = (np.empty_like(ref_t), np.empty_like(ref_m))
    gt, gm = travel_time_matrix_dask(
        client, net, pts, cutoff_s=1200, with_distance=True, gather=True, out=outs
    )
    assert gt is outs[0] and gm is outs[1]
    assert np.array_equal(gt, ref_t) and np.array_equal(gm, ref_m)
    with pytest.raises(ValidationError, match="gather=True"):
        travel_time_matrix_dask(client, net, pts, store=tmp_path / "o.zarr", out=t)
    with pytest.raises(ValidationError, match="shape"):
        travel_time_matrix_dask(client, net, pts, gather=True, out=t[:2])
    with pytest.raises(ValidationError, match="tuple"):
        travel_time_matrix_dask(client, net, pts, gather=True, with_distance=True, out=t)


# ------------------------------------------------------------------------ accessibility
def test_accessibility_dask_dataframe_identical(client, net):
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from fietsstad.analysis import accessibility
    from fietsstad.distributed import accessibility_dask

    pop = pd.DataFrame(
        {"inhabitants": [100.0, 50.0, 20.0], "jobs": [0.0, 30.0, 5.0]}, index=[0, 1, 400]
    )
    decays = [engine.Decay.cumulative(600), engine.Decay.exponential(0.2)]
    ref = accessibility(net, pop, decays, cutoff_s=1800)
    got = accessibility_dask(client, net, pop, decays, cutoff_s=1800, block_size=64)
    # bit for bit: one method is chosen for all rows, and each row is one source's sum over the
    # nodes it reaches in a fixed node order (other lanes of a PHAST group only add +0.0)
    assert_frame_equal(got, ref)
    assert got.attrs == ref.attrs and got.attrs["generated"] is True
    with pytest.raises(ValidationError, match="BikeNetwork"):
        accessibility_dask(client, net.csr(), pop, decays)
    ids = net.node_id[[5, 9]]
    sub = accessibility_dask(client, net, pop, origins=ids)
    assert_frame_equal(sub, accessibility(net, pop, origins=ids))


@pytest.mark.parametrize("method", ["dijkstra", "phast", "auto"])
def test_accessibility_matrix_identical(client, graph, method):
    rng = np.random.default_rng(5)
    opp = rng.integers(0, 50, size=(graph.n, 2)).astype(np.float64)
    decays = [engine.Decay.cumulative(600), engine.Decay.exponential(0.15)]
    ref = engine.accessibility(graph, opp, decays, cutoff=900, method=method)
    got = accessibility_matrix_dask(
        client, graph, opp, decays, cutoff=900, method=method, block_size=100
    )
    assert np.array_equal(got, ref)  # bit for bit: rows do not depend on the blocking
    # independent check of the cumulative column against scipy
    sp = graph_times(min_duplicates(graph), np.arange(graph.n), limit=900.0)
    assert np.allclose(got[:, 0], ((sp <= 600) * opp[:, 0][None, :]).sum(1))


def test_accessibility_subset_sources(client, graph):
    src = np.array([5, 5, 17, graph.n - 1])
    opp = np.ones(graph.n)
    d = [engine.Decay.cumulative(300)]
    got = accessibility_matrix_dask(client, graph, opp, d, cutoff=300, sources=src)
    assert np.array_equal(got, engine.accessibility(graph, opp, d, cutoff=300, sources=src))
    assert accessibility_matrix_dask(client, graph, opp, d, sources=[]).shape == (0, 1)


# ------------------------------------------------------------------------ bad input
def test_bad_input_raises_fietsstad_errors_on_the_client(client, graph, tmp_path):
    with pytest.raises(ValidationError, match="store="):
        travel_time_matrix_dask(client, graph)
    with pytest.raises(ValidationError, match="not both"):
        travel_time_matrix_dask(client, graph, store=tmp_path / "a.zarr", gather=True)
    with pytest.raises(GraphError, match="origins"):
        travel_time_matrix_dask(client, graph, [graph.n], gather=True)
    with pytest.raises(GraphError, match="dtype"):
        travel_time_matrix_dask(client, graph, [0], dtype=np.float16, gather=True)
    with pytest.raises(GraphError, match="cutoff"):
        travel_time_matrix_dask(client, graph, [0], cutoff_s=-1, gather=True)
    with pytest.raises(ValidationError, match="block_size"):
        travel_time_matrix_dask(client, graph, [0], block_size=0, gather=True)
    with pytest.raises(GraphError):
        travel_time_matrix_dask(
            client, (np.array([0, 1]), np.array([0]), np.array([-5])), gather=True
        )
    with pytest.raises(ValidationError, match="Client"):
        travel_time_matrix_dask(object(), graph, gather=True)
    with pytest.raises(GraphError, match="decays"):
        accessibility_matrix_dask(client, graph, np.ones(graph.n), ["not a decay"])
    with pytest.raises(GraphError, match="opportunities"):
        accessibility_matrix_dask(client, graph, np.ones(graph.n + 1), [engine.Decay.cumulative(1)])
    with pytest.raises(ValidationError, match="numba_threads"):
        prepare_workers(client, numba_threads=0)
    (tmp_path / "exists.zarr").mkdir()
    with pytest.raises(ValidationError, match="overwrite"):
        travel_time_matrix_dask(client, graph, [0], store=tmp_path / "exists.zarr")


def test_gather_is_guarded_by_the_memory_check(client, graph, monkeypatch):
    monkeypatch.setattr(settings, "memory_fraction", 1e-12)
    with pytest.raises(MemoryBudgetError, match="Zarr"):
        travel_time_matrix_dask(client, graph, gather=True)


def test_uint16_overflow_from_a_worker_is_a_graph_error(client):
    # a 3-node chain of 40,000 s edges: 80,000 s does not fit uint16
    g = engine.CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40_000, 40_000])
    with pytest.raises(GraphError, match="saturate"):
        travel_time_matrix_dask(client, g, gather=True)
    got = travel_time_matrix_dask(client, g, gather=True, saturate=True)
    assert got[0].tolist() == [0, 40_000, 65_534]


# ------------------------------------------------------------------------ workers and numba
def test_workers_warm_once_and_do_not_recompile(client, graph):
    prepare_workers(client)
    before = worker_state(client)
    assert len(before) == 2
    for st in before.values():
        assert st["warm_seconds"] is not None
        assert st["numba_threads"] == max(1, len(os.sched_getaffinity(0)) // 2)
    for _ in range(3):
        travel_time_matrix_dask(client, graph, np.arange(40), gather=True, block_size=7)
    after = worker_state(client)
    assert {a: s["signatures"] for a, s in after.items()} == {
        a: s["signatures"] for a, s in before.items()
    }


# ------------------------------------------------------------------------ resilience
def test_worker_killed_mid_run_does_not_change_the_result(client, tmp_path):
    """SIGKILL a real worker process while blocks run; Dask re-runs them; same matrix."""
    net = generate_network(4_000, seed=5)
    g = engine.CSRGraph.from_arrays(*net.csr())
    ref = engine.travel_times(g, method="dijkstra")
    pids = client.run(os.getpid)
    victim_addr, victim_pid = sorted(pids.items())[0]

    import threading

    killed = {}

    def killer():
        # wait until the run is under way (some chunks written), then kill a busy worker
        deadline = time.time() + 60
        store = tmp_path / "kill.zarr"
        while time.time() < deadline:
            try:
                arr = zarr.open_array(store=str(store), path="travel_time", mode="r")
                done = arr.nchunks_initialized
            except Exception:
                done = 0
            if done >= 3:
                killed["done_at_kill"] = done
                killed["total"] = arr.nchunks
                os.kill(victim_pid, signal.SIGKILL)
                return
            time.sleep(0.02)

    th = threading.Thread(target=killer)
    th.start()
    z = travel_time_matrix_dask(
        client, g, store=tmp_path / "kill.zarr", block_size=50, method="dijkstra"
    )
    th.join()
    assert "done_at_kill" in killed, "the run finished before a worker could be killed"
    assert killed["done_at_kill"] < killed["total"]  # it really was mid-run
    assert np.array_equal(z[:], ref)
    # the nanny restarted the worker: a new process, prepared by the plugin
    deadline = time.time() + 60
    while time.time() < deadline:
        new = client.run(os.getpid)
        if len(new) == 2 and victim_pid not in new.values():
            break
        time.sleep(0.5)
    assert victim_pid not in client.run(os.getpid).values()
    client.wait_for_workers(2, timeout=60)
    assert all(s["warm_seconds"] is not None for s in worker_state(client).values())


# ------------------------------------------------------------------------ modal share, scenarios
def _same_assumptions(got: dict, ref: dict, n_zones: int) -> None:
    """Modal-share ``attrs``: equal, except the IPF error compared with a justified tolerance.

    Model names and shares are inputs and stay bit-equal; so does the iteration count (the
    last error would have to lie within the tolerance below of ``tol`` to flip it). ``ipf_max_error`` is ``max_i |rowsum_i / P_i - 1|`` after the last Furness pass,
    and the column sums feeding each pass are added in an order that depends on the row
    blocking and on numba's thread count (``_chunks``): Dask and one machine differ in the last
    bits (7.575049256747235e-07 vs 7.575049258967681e-07 was seen, one ulp of 1.0 apart). Each
    sum of ``n`` terms moves by at most ``n * eps`` relative when reordered, ``b = A / colsum``
    and ``rowsum = sum_j a_i f_ij b_j`` inherit that, so the error statistic, a difference
    from 1, moves by about ``(n + n) * eps`` absolute per pass; passes contract (Furness
    converges), so ``(iterations + 1) * 2n * eps`` bounds it.
    """
    g, r = got["assumptions"], ref["assumptions"]
    assert set(g) == set(r)
    assert {k: v for k, v in g.items() if k != "ipf_max_error"} == {
        k: v for k, v in r.items() if k != "ipf_max_error"
    }
    atol = (r["ipf_iterations"] + 1) * 2 * n_zones * np.finfo(np.float64).eps
    assert abs(g["ipf_max_error"] - r["ipf_max_error"]) <= atol, (g, r, atol)
    assert {k: v for k, v in got.items() if k != "assumptions"} == {
        k: v for k, v in ref.items() if k != "assumptions"
    }


def test_modal_share_dask_identical_tables(client, net):
    import geopandas as gpd
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from fietsstad.demand import modal_share
    from fietsstad.distributed import modal_share_dask

    rng = np.random.default_rng(8)
    nodes = rng.choice(net.n_nodes, 60, replace=False)
    zones = gpd.GeoDataFrame(
        {
            "population": rng.integers(100, 3000, 60).astype(float),
            "jobs": rng.integers(0, 2000, 60).astype(float),
        },
        geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]),
        index=pd.Index([f"Z{i}" for i in range(60)], name="zone"),
        crs="EPSG:4326",
    )
    # every pair in "od" (3,600 < 4,000): the top-k cut and the order of pairs whose trips tie
    # to 1e-12 follow the summation order, which differs between the two
    ref = modal_share(net, zones, top_pairs=4000)
    got = modal_share_dask(client, net, zones, block_size=8, top_pairs=4000)  # 8 blocks, one short
    assert set(got) == set(ref)
    for key in ref:  # column sums are added in another order: equal to 1e-9, not bit for bit
        a, b = got[key], ref[key]
        if key == "od":
            a = a.sort_values(["origin", "destination"], ignore_index=True)
            b = b.sort_values(["origin", "destination"], ignore_index=True)
        assert_frame_equal(a, b, rtol=1e-9)
    _same_assumptions(got["city"].attrs, ref["city"].attrs, n_zones=60)
    assert len(got["od"]) == 3600 and got["od"]["origin"].str.startswith("Z").all()
    # time-based uptake, a gradient matrix, another deterrence and fewer top pairs
    kw = dict(
        uptake_on="time", deterrence=("power", 1.5), top_pairs=25, gradient=np.full((60, 60), 1.0)
    )
    ref = modal_share(net, zones, **kw)
    got = modal_share_dask(client, net, zones, block_size=25, **kw)
    for key in ref:
        assert_frame_equal(got[key], ref[key], rtol=1e-9)
    city = got["city"].iloc[0]
    assert 0 < city["bike_share"] < 1 and city["trips"] > 0
    with pytest.raises(ValidationError, match="BikeNetwork"):
        modal_share_dask(client, net.csr(), zones)


def test_evaluate_scenarios_dask_equals_one_by_one(client):
    from fietsstad.distributed import evaluate_scenarios_dask
    from fietsstad.scenario import evaluate_snelfietspad, zwolle_routes

    net = generate_network(2_000, seed=2)
    routes = list(zwolle_routes().values())[:2]
    got = evaluate_scenarios_dask(client, net, routes)
    assert len(got) == len(routes)
    for route, res in zip(routes, got):
        ref = evaluate_snelfietspad(net, route)
        # integer travel times and elementwise uptake are bit for bit; the gravity model is
        # the demand chain's parallel Furness loop, whose sums follow the thread count (1 per
        # worker here): floats agree to rounding
        assert res.summary.keys() == ref.summary.keys()
        for k, v in ref.summary.items():
            if isinstance(v, float):
                assert res.summary[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k
            else:
                assert res.summary[k] == v, k
        assert res.summary["generated"] is True and res.summary["route_name"] == route.name
    assert evaluate_scenarios_dask(client, net, []) == []
    with pytest.raises(ValidationError, match="routes"):
        evaluate_scenarios_dask(client, net, "Zwolle-Kampen")


# ------------------------------------------------------------------------ a real OSM network
@pytest.mark.slow
def test_real_osm_network_liechtenstein(client, tmp_path):
    osm = importlib.import_module("fietsstad.network.osm")
    if not os.path.exists(LIECHTENSTEIN):
        pytest.skip(f"shared OSM extract not found at {LIECHTENSTEIN}")
    net = osm.load_network(file=LIECHTENSTEIN)
    assert not net.is_generated
    g = net.engine_graph()  # the network's own engine graph (deciseconds, issue #12)
    orig = np.arange(0, net.n_nodes, 7)
    z = travel_time_matrix_dask(client, net, net.node_id[orig], store=tmp_path / "li.zarr")
    assert np.array_equal(z[:], engine.travel_times(g, orig))
    attrs = zarr.open_group(store=str(tmp_path / "li.zarr"), mode="r").attrs
    assert attrs["generated"] is False and attrs["source"].startswith("osm")
    opp = np.ones(net.n_nodes)
    d = [engine.Decay.cumulative(900), engine.Decay.exponential(0.1)]
    src = np.arange(0, net.n_nodes, 5)
    got = accessibility_matrix_dask(client, net, opp, d, cutoff=900, sources=src)
    assert np.array_equal(got, engine.accessibility(g, opp, d, cutoff=900, sources=src))


def test_uptake_totals_tree_reduction_equals_single_machine(client, net):
    from fietsstad.analysis import travel_time_matrix
    from fietsstad.demand import uptake
    from fietsstad.distributed import uptake_totals_dask

    rng = np.random.default_rng(4)
    orig = rng.choice(net.n_nodes, 90, replace=False)
    dest = rng.choice(net.n_nodes, 400, replace=False)
    orig, dest = net.node_id[orig], net.node_id[dest]  # OSM node ids
    trips = rng.gamma(2.0, 3.0, size=(90, 400))
    got = uptake_totals_dask(
        client, net, orig, dest, trips, "godutch_2020", cutoff_s=1500, block_size=7
    )  # 13 blocks: an uneven reduction tree
    # single machine, from the public functions
    t, m = travel_time_matrix(net, orig, dest, cutoff_s=1500, with_distance=True, saturate=True)
    reach = t != engine.UNREACHABLE_U16
    p = uptake(
        np.where(reach, m, engine.UNREACHABLE_I32), 0.0, "godutch_2020", distance_scale=0.001
    )
    km = np.where(reach, m, 0) / 1000.0
    assert got["trips"] == pytest.approx(trips.sum(), rel=1e-12)
    assert got["reachable_trips"] == pytest.approx((trips * reach).sum(), rel=1e-12)
    assert got["trip_km"] == pytest.approx((trips * km).sum(), rel=1e-12)
    assert got["bike_trips"] == pytest.approx((trips * p).sum(), rel=1e-12)
    assert got["bike_km"] == pytest.approx((trips * p * km).sum(), rel=1e-12)
    assert 0 < got["bike_share"] < 1 and got["reachable_trips"] < got["trips"]  # cut-off bites
    # unit weights: totals are pair counts
    cnt = uptake_totals_dask(client, net, orig[:10], dest, None, "godutch_2020")
    assert cnt["trips"] == 10 * 400
    with pytest.raises(ValidationError, match="shape"):
        uptake_totals_dask(client, net, orig, dest, trips[:5])


def test_tree_sum_hand_computed(client):
    from fietsstad.distributed import tree_sum

    fs = client.map(np.full, [3] * 5, range(5), pure=False)  # 0+1+2+3+4, odd count
    assert tree_sum(client, fs).result().tolist() == [10, 10, 10]
    with pytest.raises(ValidationError):
        tree_sum(client, [])


def test_relative_store_path_is_resolved_for_the_workers(client, graph, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    z = travel_time_matrix_dask(client, graph, [0, 1, 2], store="rel.zarr")
    assert (tmp_path / "rel.zarr" / "travel_time").is_dir()
    assert np.array_equal(z[:], engine.travel_times(graph, [0, 1, 2]))


def test_a_failing_run_leaves_no_tasks_behind(client):
    """Blocks and scattered inputs are cancelled/released when a run fails."""
    g = engine.CSRGraph.from_arrays([0, 1, 2, 2], [1, 2], [40_000, 40_000])
    before = set(client.who_has())
    with pytest.raises(GraphError):
        travel_time_matrix_dask(client, g, [0, 0, 0, 0, 1, 1], gather=True, block_size=1)
    deadline = time.time() + 10
    while time.time() < deadline and set(client.who_has()) - before:
        time.sleep(0.1)
    assert not set(client.who_has()) - before


# ------------------------------------------------------------------------ gravity on the cluster
def _zone_setup(net, k, seed):
    """k zone nodes, their uint16/int32 matrices (single machine) and random balanced margins."""
    from fietsstad.analysis import travel_time_matrix

    rng = np.random.default_rng(seed)
    nodes = net.node_id[rng.choice(net.n_nodes, k, replace=False)]  # OSM node ids
    cost, dist = travel_time_matrix(net, nodes, nodes, with_distance=True, saturate=True)
    P = rng.uniform(1.0, 50.0, k)
    A = rng.uniform(1.0, 50.0, k)
    return nodes, cost, dist, P, A * (P.sum() / A.sum())


def _same_model(got, ref):
    np.testing.assert_allclose(got.a, ref.a, rtol=1e-9, atol=0)
    np.testing.assert_allclose(got.b, ref.b, rtol=1e-9, atol=0)
    assert got.iterations == ref.iterations
    assert got.max_error == pytest.approx(ref.max_error, rel=1e-6)
    assert np.array_equal(got.table, ref.table)


def test_gravity_dask_equals_single_machine_numpy_zarr_int32(client, net, tmp_path):
    from fietsstad.demand import gravity_distribution
    from fietsstad.distributed import gravity_distribution_dask

    nodes, cost, _, P, A = _zone_setup(net, 70, 21)
    ref = gravity_distribution(P, A, cost, tol=1e-10)
    # independent check of the oracle itself: the margins are met
    T = ref.trips(cost, dtype=np.float64)
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-8)
    np.testing.assert_allclose(T.sum(0), A, rtol=1e-12)
    # numpy matrix scattered in 10 uneven row blocks
    _same_model(gravity_distribution_dask(client, P, A, cost, tol=1e-10, block_size=7), ref)
    # a Zarr store written by the workers, read block by block on the workers (path and array)
    z = travel_time_matrix_dask(
        client, net, nodes, nodes, store=tmp_path / "zones.zarr", saturate=True, block_size=16
    )
    assert np.array_equal(z[:], cost)
    _same_model(gravity_distribution_dask(client, P, A, tmp_path / "zones.zarr", tol=1e-10), ref)
    _same_model(gravity_distribution_dask(client, P, A, z, tol=1e-10, block_size=32), ref)
    # int32 costs with the int32 sentinel, a power deterrence and a cut-off
    c32 = cost.astype(np.int32)
    c32[cost == engine.UNREACHABLE_U16] = engine.UNREACHABLE_I32
    c32[3, 5] = engine.UNREACHABLE_I32
    kw = dict(deterrence=("power", 1.2), cutoff=40.0, tol=1e-9)
    ref32 = gravity_distribution(P, A, c32, **kw)
    _same_model(gravity_distribution_dask(client, P, A, c32, block_size=9, **kw), ref32)
    # futures of blocks held on the workers
    futs = client.scatter([cost[:33], cost[33:]], hash=False)
    _same_model(gravity_distribution_dask(client, P, A, futs, tol=1e-10), ref)


def test_gravity_dask_bad_margins_same_errors_as_single_machine(client):
    from fietsstad.demand import gravity_distribution
    from fietsstad.distributed import gravity_distribution_dask
    from fietsstad.errors import ConvergenceError

    rng = np.random.default_rng(2)
    c = rng.integers(0, 1800, size=(9, 9)).astype(np.uint16)
    dead_row = c.copy()
    dead_row[4, :] = engine.UNREACHABLE_U16
    dead_col = c.copy()
    dead_col[:, 6] = engine.UNREACHABLE_U16
    one = np.ones(9)
    split = c.copy()  # two separate components whose totals disagree: never converges
    split[:4, 4:] = split[4:, :4] = engine.UNREACHABLE_U16
    p_split = np.r_[np.full(4, 3.0), np.ones(5)]
    cases = [
        (one, one * 2, c, {}),  # totals differ, normalise=False
        (np.zeros(9), one, c, {}),  # no productions
        (one, one, dead_row, {}),  # an origin reaches nothing
        (one, one, dead_col, {}),  # a destination is reached by nothing
        # plain passes: over-relaxed ones on a problem with no fixed point amplify the last bits
        # in which the blocks' column sums differ, so the error reached after 20 passes differs
        (p_split, np.full(9, p_split.sum() / 9), split, {"max_iter": 20, "accelerate": False}),
        (one, one, c, {"max_iter": 1, "tol": 1e-12}),
    ]
    for P, A, cost, kw in cases:
        with pytest.raises(ConvergenceError) as single:
            gravity_distribution(P, A, cost, **kw)
        with pytest.raises(ConvergenceError) as dist:
            gravity_distribution_dask(client, P, A, cost, block_size=2, **kw)
        assert str(dist.value) == str(single.value)
    # validation errors, raised on the client before any balancing
    for P, A, cost, match in [
        (-one, one, c, "productions"),
        (one, one * np.nan, c, "attractions"),
        (one, one, c.astype(np.float32), "uint16 or int32"),
        (one[:8], one, c, "shape"),
        (one, one, -c.astype(np.int32) - 1, "negative"),
    ]:
        with pytest.raises(ValidationError, match=match):
            gravity_distribution(P, A, cost)
        with pytest.raises(ValidationError, match=match):
            gravity_distribution_dask(client, P, A, cost, block_size=4)
    with pytest.raises(ValidationError, match="row-block futures"):
        gravity_distribution_dask(client, one, one, "not a matrix".split())


def test_run_renew_makes_lost_scattered_inputs_again(client):
    """Issue #13's mechanism without a kill: scattered data the scheduler forgot (what a worker's
    death does to its only copy) is made again by ``renew``, with what was built on it, under
    fresh keys from the client-held recipes, with the same values."""
    from fietsstad.distributed._cluster import _Run

    with _Run(client) as run:
        x = run.scatter(np.arange(5.0), broadcast=False)
        y = run.submit(np.multiply, x, 2.0, key=("double", 0))
        assert y.result().tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
        client.cancel([x], force=True)  # the scheduler forgets x (as when its worker died)
        (y2,) = run.renew([y])  # y2 can only be computed from a re-scattered x
        assert y2.key != y.key and y2.key.startswith(f"fietsstad-double-{run.token}-0-renew")
        assert y2.result().tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
        assert y.key not in {f.key for f in run.held}  # the replaced futures are released
        assert run.renew([3, None]) == [3, None]  # not futures of this run: as they are


def test_worker_killed_during_balancing_does_not_change_the_result(client, net):
    """SIGKILL a worker while the Furness passes run (issue #13): the pass under way is
    recomputed, or made again from client-held inputs if scattered data died with the worker;
    the tables are unchanged."""
    import threading

    import pandas as pd
    from pandas.testing import assert_frame_equal

    from fietsstad.distributed import modal_share_dask

    nodes = np.random.default_rng(5).choice(net.n_nodes, 64, replace=False)
    zones = pd.DataFrame(
        {"productions": np.linspace(10, 80, 64), "attractions": np.linspace(80, 10, 64)},
        index=pd.Index([f"Z{i}" for i in range(64)]),
    )
    zones["node"] = nodes
    kw = dict(tol=1e-12, max_iter=2000, block_size=8)
    calm = modal_share_dask(client, net, zones, **kw)
    assert calm["city"].attrs["assumptions"]["ipf_iterations"] > 10
    pids = client.run(os.getpid)
    victim_addr, victim_pid = sorted(pids.items())[0]
    killed = {}

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                keys = [str(k) for k in list(client.futures)]
            except RuntimeError:  # the dict changed while copying
                continue
            its = [int(k.split("-")[3]) for k in keys if k.startswith("fietsstad-furness-")]
            if its and max(its) >= 5:
                killed["iteration"] = max(its)
                os.kill(victim_pid, signal.SIGKILL)
                return
            time.sleep(0.005)

    th = threading.Thread(target=killer)
    th.start()
    got = modal_share_dask(client, net, zones, **kw)
    th.join()
    assert "iteration" in killed, "balancing finished before a worker could be killed"
    assert killed["iteration"] < got["city"].attrs["assumptions"]["ipf_iterations"]
    for key in calm:  # recomputed blocks give the same bits, the tree the same order
        assert_frame_equal(got[key], calm[key])
    deadline = time.time() + 60
    while time.time() < deadline and victim_pid in client.run(os.getpid).values():
        time.sleep(0.5)
    client.wait_for_workers(2, timeout=60)


# ------------------------------------------------------------------------ signature parity
def test_every_dask_function_mirrors_its_single_machine_signature():
    """``X_dask(client, ...)`` takes X's parameters in X's order, kinds and defaults (stumpy's
    stump/stumped); only the Dask-only keyword-only extras listed here may follow them."""
    import inspect

    import fietsstad.distributed as d
    from fietsstad import analysis, demand, scenario

    twins = {
        "travel_time_matrix_dask": (analysis.travel_time_matrix, {}),
        "accessibility_matrix_dask": (engine.accessibility, {}),
        "accessibility_dask": (analysis.accessibility, {}),
        "gravity_distribution_dask": (demand.gravity_distribution, {}),
        "modal_share_dask": (demand.modal_share, {}),
        # maps over the routes: ``route`` becomes the sequence ``routes``
        "evaluate_scenarios_dask": (scenario.evaluate_snelfietspad, {"route": "routes"}),
    }
    extras = {
        "travel_time_matrix_dask": ["block_size", "store", "overwrite", "gather"],
        "accessibility_matrix_dask": ["block_size"],
        "accessibility_dask": ["block_size"],
        "gravity_distribution_dask": ["block_size"],
        "modal_share_dask": ["block_size"],
        "evaluate_scenarios_dask": [],
    }
    no_twin = {"uptake_totals_dask"}  # no single-machine function; says so in its docstring
    names = {n for n in d.__all__ if n.endswith("_dask")}
    assert names == set(twins) | no_twin
    assert "no single-machine twin" in d.uptake_totals_dask.__doc__
    for name, (single, rename) in twins.items():
        got = list(inspect.signature(getattr(d, name)).parameters.values())
        want = list(inspect.signature(single).parameters.values())
        assert got[0].name == "client" and got[0].kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
        mirrored, extra = got[1 : 1 + len(want)], got[1 + len(want) :]
        for g, w in zip(mirrored, want, strict=True):
            assert (g.name, g.kind) == (rename.get(w.name, w.name), w.kind), (name, g, w)
            assert g.default is w.default or g.default == w.default, (name, g.name)
        assert [p.name for p in extra] == extras[name], name
        assert all(p.kind == inspect.Parameter.KEYWORD_ONLY for p in extra), name


def test_modal_share_dask_cost_matrix_and_intrazonal_km(client, net):
    """The mirrored parameters the cluster version lacked: a cost matrix with ``distances``,
    ``intrazonal_km`` (the diagonal of every row block, not only of the first) and deterrence."""
    import pandas as pd
    from pandas.testing import assert_frame_equal

    from fietsstad.demand import modal_share
    from fietsstad.distributed import modal_share_dask

    nodes, cost, dist, P, A = _zone_setup(net, 50, 13)
    zones = pd.DataFrame({"productions": P, "attractions": A}, index=[f"Z{i}" for i in range(50)])
    intra = np.linspace(0.2, 1.5, 50)
    for src, kw in [
        (cost, dict(distances=dist, intrazonal_km=intra, deterrence=("power", 1.5))),
        (net, dict(intrazonal_km=0.8, top_pairs=40)),
    ]:
        z = zones.assign(node=net.positions(nodes))  # a zone table's node column: positions
        ref = modal_share(src, z, **kw)
        got = modal_share_dask(client, src, z, block_size=7, **kw)  # 8 blocks, diagonal in each
        for key in ref:  # column sums added per block: to 1e-9 (see _same_assumptions)
            assert_frame_equal(got[key], ref[key], rtol=1e-9)
        _same_assumptions(got["city"].attrs, ref["city"].attrs, n_zones=50)
    # the intrazonal distance is really used in every block (not only block 0)
    plain = modal_share_dask(client, cost, zones, distances=dist, block_size=7)
    changed = ref["zones"]["trip_km"].to_numpy() != plain["zones"]["trip_km"].to_numpy()
    assert changed[7:].all()
    with pytest.raises(ValidationError, match="distances"):
        modal_share_dask(client, cost, zones)
