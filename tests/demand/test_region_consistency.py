"""The bike share before a scenario on the region: one code path, default arguments converge.

``modal_share`` and ``evaluate_snelfietspad`` (and their Dask versions) answer the same question
on the same zones and network; ``evaluate_snelfietspad`` runs ``modal_share``'s own chain
(:func:`fietsstad.demand.modal.modal_chain`), so the two agree bit for bit. The chain itself is
checked against an oracle written here from scratch: scipy's Dijkstra on (ticks, metres),
seconds rounded half up, trip generation by hand, a plain numpy Furness and the PCT formula.
"""

from __future__ import annotations

import importlib

import geopandas as gpd
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import fietsstad
from fietsstad import Assumptions
from fietsstad.demand import ZWOLLE_2024, intrazonal_distances, modal_share, snap_zones
from fietsstad.demand.gravity import MAX_ITER
from fietsstad.network import generate_region_network
from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad
from fietsstad.zwolle import zwolle_districts, zwolle_region_zones
from naive import pct

ROUTE = "Dalfsen-Zwolle"


@pytest.fixture(scope="module")
def region():
    """The GENERATED regional network at CI size (about 7,200 nodes, seed 0)."""
    return generate_region_network(6000)


@pytest.fixture(scope="module")
def before(region):
    """modal_share and evaluate_snelfietspad, both with default arguments (default zones)."""
    ms = modal_share(region, top_pairs=0)
    ev = evaluate_snelfietspad(region, ROUTE, route_choice="aon")
    return ms, ev


def test_default_zones_are_the_region_and_defaults_converge(region, before):
    ms, ev = before
    assert len(ms["zones"]) == len(ev.zones) == 37
    assert {"Dalfsen", "Kampen"} <= set(ev.zones["name"])
    # the Furness balance converged with the default cap (it raised on this network before the
    # over-relaxation, with a cap of 500) and with far fewer passes than the cap
    assert ms["city"].attrs["assumptions"]["ipf_iterations"] < MAX_ITER // 4
    assert ms["city"].attrs["assumptions"]["ipf_max_error"] <= 1e-6


def test_modal_share_and_evaluator_agree_on_the_region(before):
    ms, ev = before
    a = 100.0 * float(ms["city"]["bike_share"].iloc[0])
    b = ev.summary["bike_share_before_pct"]
    assert abs(a - b) < 0.1  # the bound
    assert a == b  # one code path: bit for bit
    assert ev.summary["bike_trips_before"] == float(ms["city"]["bike_trips"].iloc[0])
    assert ev.assumptions == ms["city"].attrs["Assumptions"] == Assumptions()
    # per zone pair the evaluator's trips and before-shares sum to the same totals (to rounding)
    od = ev.od
    assert od["trips"].sum() == pytest.approx(float(ms["city"]["trips"].iloc[0]), rel=1e-12)
    assert od["bike_trips_before"].sum() == pytest.approx(ev.summary["bike_trips_before"], rel=1e-9)
    # its output zones keep what trip generation used: modal_share on them gives the same answer
    again = modal_share(ev.before, ev.zones, top_pairs=0)["city"]["bike_share"].iloc[0]
    assert 100.0 * float(again) == a


def _oracle_share(net, zones):
    """Bike share of all trips from scratch (independent of fietsstad's engine and kernels)."""
    asm = Assumptions()
    nodes = snap_zones(net, zones)
    n = net.n_nodes
    src = np.repeat(np.arange(n), np.diff(net.indptr))
    metres = net.csr("length")[2].astype(np.int64)  # the engine's per-edge metres
    key = net.travel_time_ticks().astype(np.int64) * 2**24 + metres  # (time, then metres)
    order = np.lexsort((key, src * n + net.indices))  # parallel edges: keep the cheapest
    first = np.r_[True, np.diff((src * n + net.indices)[order]) != 0]
    e = order[first]
    g = csr_matrix((key[e].astype(np.float64), (src[e], net.indices[e])), shape=(n, n))
    lex = dijkstra(g, indices=nodes)[:, nodes]  # exact: sums stay below 2**53
    ticks = np.floor(lex / 2**24)
    seconds = np.floor((ticks + 5) // 10)  # deciseconds -> seconds, rounded half up
    km = (lex - ticks * 2**24) / 1000.0
    pop = zones["inhabitants"].to_numpy(float)
    jobs = zones["jobs"].to_numpy(float)
    P = asm.trips_per_person * pop
    w = asm.attraction_per_job * jobs + asm.attraction_per_inhabitant * pop
    A = w * P.sum() / w.sum()
    kind, beta = asm.deterrence
    assert kind == "exponential"
    F = np.exp(-beta * seconds / 60.0)
    b = np.ones(len(A))
    for _ in range(100_000):  # plain Furness to 1e-12
        a = P / (F @ b)
        b = A / (F.T @ a)
        if np.abs(a * (F @ b) / P - 1.0).max() < 1e-12:
            break
    T = a[:, None] * F * b[None, :]
    np.fill_diagonal(km, intrazonal_distances(zones))  # the documented intrazonal rule
    return float((T * pct(ZWOLLE_2024, km)).sum() / T.sum()), seconds, km


def test_the_chain_against_an_oracle_from_scratch(region, before):
    from fietsstad.demand.modal import modal_chain

    ms, _ = before
    z = zwolle_region_zones()
    share, seconds, km = _oracle_share(region, z)
    chain = modal_chain(region, z)
    assert np.array_equal(chain.cost, seconds.astype(np.uint16))
    off = ~np.eye(len(z), dtype=bool)
    np.testing.assert_array_equal(chain.dist[off] / 1000.0, km[off])
    np.testing.assert_allclose(chain.distance_km(), km, rtol=1e-12)
    # Furness stops at a row error of 1e-6: shares move by far less than 1e-4 pp
    assert float(ms["city"]["bike_share"].iloc[0]) == pytest.approx(share, abs=1e-6)


@pytest.mark.parametrize("case", ["districts", "liechtenstein"])
def test_one_code_path_on_zwolle_and_liechtenstein(case, request):
    if case == "districts":
        net, zones = fietsstad.generate_network(n_nodes=2500, seed=5), zwolle_districts()
    else:
        from fietsstad.network import osm

        net = osm.load_network(file=str(request.getfixturevalue("liechtenstein_pbf")))
        rng = np.random.default_rng(3)
        nodes = rng.choice(net.n_nodes, 12, replace=False)
        zones = gpd.GeoDataFrame(
            {"name": [f"z{i}" for i in range(12)], "population": rng.uniform(500, 5000, 12),
             "jobs": rng.uniform(0, 3000, 12)},
            geometry=gpd.points_from_xy(net.x[nodes], net.y[nodes]),
            crs="EPSG:4326",
        )  # fmt: skip
    a = 100.0 * float(modal_share(net, zones, top_pairs=0)["city"]["bike_share"].iloc[0])
    lon, lat = net.x[np.argsort(net.x)[[5, -5]]], net.y[np.argsort(net.x)[[5, -5]]]
    route = Snelfietspad.from_waypoints(list(zip(lon, lat)))
    ev = evaluate_snelfietspad(net, route, zones, route_choice="aon")
    assert 0 < a < 100 and ev.summary["bike_share_before_pct"] == a


# ------------------------------------------------------------------------ Dask: the same answers
@pytest.fixture(scope="module")
def client():
    importlib.import_module("distributed")
    from dask.distributed import Client, LocalCluster

    from fietsstad.distributed._tasks import _warm_kernels

    _warm_kernels()  # compile once here: the workers then load numba's on-disk cache
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as cl,
    ):  # fmt: skip
        yield cl


def test_dask_versions_equal_the_single_machine_ones(client, region, before):
    from pandas.testing import assert_frame_equal

    from fietsstad.distributed import evaluate_scenarios_dask, modal_share_dask

    ms, ev = before
    got = modal_share_dask(client, region, top_pairs=0, block_size=10)  # 4 row blocks
    for key in ("city", "zones", "distribution"):  # column sums in another order: 1e-9
        assert_frame_equal(got[key], ms[key], rtol=1e-9)
    assert got["city"].attrs["assumptions"]["ipf_iterations"] == pytest.approx(
        ms["city"].attrs["assumptions"]["ipf_iterations"], abs=2
    )
    (res,) = evaluate_scenarios_dask(client, region, [ROUTE], route_choice="aon")
    for k, v in ev.summary.items():
        if isinstance(v, float):
            assert res.summary[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k
        else:
            assert res.summary[k] == v, k
    share = 100.0 * float(got["city"]["bike_share"].iloc[0])
    assert share == pytest.approx(res.summary["bike_share_before_pct"], rel=1e-9)
