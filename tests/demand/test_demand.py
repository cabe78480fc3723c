"""Tests of fietsstad.demand: trip generation, deterrence, Furness/IPF, modal share, scenarios.

Oracles: a plain numpy Furness (dense f[cost] matrix, tests/naive.py), hand-computed small cases,
scipy.sparse.csgraph.dijkstra for network travel times, and the PCT formula typed in from
anchors.md (see test_uptake.py).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fietsstad.demand import (
    CAR_SHARE_OF_SHIFTED,
    CO2_KG_PER_CAR_KM,
    DEFAULT_DETERRENCE,
    GODUTCH_2020,
    ZWOLLE_2024,
    ZWOLLE_2024_EBIKE,
    GravityModel,
    calibrate_uptake,
    compare_scenarios,
    deterrence_table,
    gravity_distribution,
    modal_share,
    trip_generation,
    trip_matrix,
)
from fietsstad.errors import ConvergenceError, ValidationError
from naive import dense_f, furness_numpy, pct

U16 = 65535


# ----------------------------------------------------------------------------- references
def random_problem(seed, n, m, p_unreach=0.2):
    """Feasible margins: the row/column sums of a positive matrix on the reachable pairs."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 3600, (n, m)).astype(np.uint16)
    unreach = rng.random((n, m)) < p_unreach
    cost[unreach] = U16
    X = rng.uniform(0.1, 10.0, (n, m)) * ~unreach
    return cost, X.sum(1), X.sum(0)


# ----------------------------------------------------------------------------- trip generation
def test_trip_generation_hand_computed():
    z = pd.DataFrame({"population": [1000, 3000, 0], "jobs": [2000, 0, 500]}, index=list("ABC"))
    tg = trip_generation(
        z, trips_per_inhabitant=3.0, attraction_per_job=2.0, attraction_per_inhabitant=1.0
    )
    np.testing.assert_allclose(tg["productions"], [3000, 9000, 0])
    w = np.array([2 * 2000 + 1000, 3000, 2 * 500])
    np.testing.assert_allclose(tg["attractions"], w * 12000 / w.sum())
    assert list(tg.index) == list("ABC")
    assert tg.attrs["assumptions"]["trips_per_inhabitant"] == 3.0


def test_trip_generation_zwolle_districts_without_jobs():
    from fietsstad.zwolle import zwolle_districts

    d = zwolle_districts()
    tg = trip_generation(d, jobs_column=False)
    assert tg.crs.to_epsg() == 4326 and "geometry" in tg.columns
    np.testing.assert_allclose(tg["productions"].sum(), 2.7 * d["inhabitants_2024"].sum())
    np.testing.assert_allclose(tg["attractions"], tg["productions"])  # population only


@pytest.mark.parametrize(
    "table, kw",
    [
        (pd.DataFrame({"jobs": [1]}), {}),
        (pd.DataFrame({"population": [1.0, np.nan], "jobs": [1, 1]}), {}),
        (pd.DataFrame({"population": [1.0, -1.0], "jobs": [1, 1]}), {}),
        (pd.DataFrame({"population": [1.0], "jobs": [1]}), {"trips_per_inhabitant": 0}),
        (pd.DataFrame({"population": [0.0], "jobs": [1]}), {}),
        (pd.DataFrame({"population": [1.0]}), {}),
        ("not a table", {}),
    ],
)
def test_trip_generation_bad_input(table, kw):
    with pytest.raises(ValidationError):
        trip_generation(table, **kw)


def test_trip_generation_snaps_to_network():
    from fietsstad.network import generate_network

    net = generate_network(300, seed=4)
    pick = np.array([5, 77, 150])
    z = pd.DataFrame(
        {
            "population": [10, 20, 30],
            "jobs": [0, 5, 0],
            "lon": net.x[pick] + 1e-6,
            "lat": net.y[pick],
        }
    )
    tg = trip_generation(z, net=net)
    np.testing.assert_array_equal(tg["node"], net.snap(z["lon"], z["lat"]))
    np.testing.assert_array_equal(tg["node"], pick)


# ----------------------------------------------------------------------------- deterrence
def test_deterrence_tables_hand_computed():
    x = np.arange(65536) / 60.0
    f = deterrence_table(("exponential", 0.1))
    np.testing.assert_allclose(f[:-1], np.exp(-0.1 * x[:-1]))
    assert f[U16] == 0.0
    p = deterrence_table(("power", 2.0), size=1000, scale=1.0)
    assert p[0] == 1.0 and p[1] == 1.0 and p[10] == pytest.approx(0.01)
    c = deterrence_table(("combined", 1.0, 0.5), size=100, scale=0.1)
    assert c[20] == pytest.approx(2.0**-1 * np.exp(-1.0))
    cut = deterrence_table(("exponential", 0.0), size=100, scale=1.0, cutoff=50)
    assert cut[50] == 1.0 and cut[51] == 0.0
    g = deterrence_table(lambda xx: 1.0 / (1.0 + xx), size=10, scale=1.0)
    np.testing.assert_allclose(g, 1.0 / (1.0 + np.arange(10)))
    t = deterrence_table(np.array([3.0, 2.0, 1.0]), size=5)
    np.testing.assert_array_equal(t, [3, 2, 1, 0, 0])


@pytest.mark.parametrize(
    "bad",
    [
        ("gaussian", 1.0),
        ("exponential",),
        ("exponential", float("nan")),
        lambda xx: -xx,
        lambda xx: xx[:3],
        np.array([1.0, np.nan]),
        42,
    ],
)
def test_deterrence_bad(bad):
    with pytest.raises(ValidationError):
        deterrence_table(bad, size=100)


# ----------------------------------------------------------------------------- Furness / IPF
def test_two_zone_case_by_hand():
    # symmetric 2x2 with f = [[1, q], [q, 1]]: closed form T_12 = T_21 = x solves
    # (P1 - x)(P2 - x) = x^2 / q^2 ... checked against the numpy reference and margins
    cost = np.array([[0, 600], [600, 0]], dtype=np.uint16)
    g = gravity_distribution([10.0, 30.0], [20.0, 20.0], cost, ("exponential", 0.1), tol=1e-12)
    T = trip_matrix(g, cost, dtype=np.float64)
    np.testing.assert_allclose(T.sum(1), [10, 30], rtol=1e-12)
    np.testing.assert_allclose(T.sum(0), [20, 20], rtol=1e-12)
    q = np.exp(-1.0)
    # doubly constrained gravity: T11*T22/(T12*T21) = 1/q^2 (odds ratio of the deterrence)
    assert T[0, 0] * T[1, 1] / (T[0, 1] * T[1, 0]) == pytest.approx(1.0 / q**2, rel=1e-9)
    a, b = g
    assert isinstance(g, GravityModel) and a.shape == (2,) and b.shape == (2,)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_numba_ipf_matches_numpy_reference(dtype):
    cost, P, A = random_problem(11, 60, 45)
    F = dense_f(cost, 0.08)
    c = cost.astype(dtype)
    if dtype == np.int32:
        c[cost == U16] = 2**31 - 1
    g = gravity_distribution(P, A, c, ("exponential", 0.08), tol=1e-9, accelerate=False)
    a_ref, b_ref = furness_numpy(P, A, F, g.iterations)
    np.testing.assert_allclose(g.a, a_ref, rtol=1e-9)
    np.testing.assert_allclose(g.b, b_ref, rtol=1e-9)
    T = trip_matrix(g, c, dtype=np.float64)
    np.testing.assert_allclose(T, a_ref[:, None] * b_ref[None, :] * F, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-9)
    np.testing.assert_allclose(T.sum(0), A, rtol=1e-12)
    assert g.max_error <= 1e-9


@st.composite
def problems(draw):
    n = draw(st.integers(1, 14))
    m = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    p = draw(st.sampled_from([0.0, 0.3, 0.6]))
    return random_problem(seed, n, m, p)


@settings(max_examples=60, deadline=None)
@given(problems(), st.sampled_from([0.02, 0.1, 0.3]))
def test_ipf_margins_property(problem, beta):
    cost, P, A = problem
    assume(P.sum() > 0)
    g = gravity_distribution(
        P, A, cost, ("exponential", beta), tol=1e-8, max_iter=20_000, accelerate=False
    )  # pass for pass against the reference (accelerated: tests/demand/test_chain.py)
    F = dense_f(cost, beta)
    T = g.a[:, None] * g.b[None, :] * F
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(T.sum(0), A, rtol=1e-9, atol=1e-12)
    assert np.all(T[cost == U16] == 0)
    a_ref, b_ref = furness_numpy(P, A, F, g.iterations)
    T_ref = a_ref[:, None] * b_ref[None, :] * F
    np.testing.assert_allclose(T, T_ref, rtol=1e-9, atol=1e-12 * P.sum())


def test_sentinel_is_never_a_travel_time():
    cost, P, A = random_problem(3, 8, 8, 0.0)
    c2 = cost.copy()
    c2[2, 5] = U16
    # with a huge but finite time instead, the pair would get exp(-0.1 * 1092) > 0 trips
    g = gravity_distribution(P, A, c2, ("exponential", 0.001))
    T = trip_matrix(g, c2, dtype=np.float64)
    assert T[2, 5] == 0.0
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-6)


def test_unequal_totals_and_normalise():
    cost = np.array([[0, 300], [300, 0]], dtype=np.uint16)
    with pytest.raises(ConvergenceError, match="normalise"):
        gravity_distribution([10.0, 10.0], [10.0, 5.0], cost)
    g = gravity_distribution([10.0, 10.0], [10.0, 5.0], cost, normalise=True)
    T = trip_matrix(g, cost, dtype=np.float64)
    np.testing.assert_allclose(T.sum(0), [40 / 3, 20 / 3], rtol=1e-9)


def test_zero_rows_and_columns():
    cost = np.array([[0, 300, 600], [U16, U16, U16], [600, 300, 0]], dtype=np.uint16)
    # an origin with productions but only unreachable pairs
    with pytest.raises(ConvergenceError, match="origin"):
        gravity_distribution([5.0, 5.0, 5.0], [5.0, 5.0, 5.0], cost)
    # the same origin with zero productions is fine
    g = gravity_distribution([5.0, 0.0, 5.0], [2.0, 3.0, 5.0], cost)
    T = trip_matrix(g, cost, dtype=np.float64)
    assert np.all(T[1] == 0)
    np.testing.assert_allclose(T.sum(0), [2, 3, 5], rtol=1e-9)
    # a destination with attractions that no origin with productions reaches
    c = np.array([[0, U16], [300, U16]], dtype=np.uint16)
    with pytest.raises(ConvergenceError, match="destination"):
        gravity_distribution([1.0, 1.0], [1.0, 1.0], c)


def test_all_unreachable_and_infeasible():
    cost = np.full((4, 4), U16, dtype=np.uint16)
    with pytest.raises(ConvergenceError):
        gravity_distribution(np.ones(4), np.ones(4), cost)
    # two separate components whose totals differ cannot be balanced
    c = np.array(
        [[0, 60, U16, U16], [60, 0, U16, U16], [U16, U16, 0, 60], [U16, U16, 60, 0]],
        dtype=np.uint16,
    )
    with pytest.raises(ConvergenceError, match="did not converge"):
        gravity_distribution([1.0, 1.0, 1.0, 1.0], [3.0, 0.5, 0.25, 0.25], c, max_iter=200)
    # a beyond-cutoff-only row
    c2 = np.array([[4000, 4000], [0, 0]], dtype=np.uint16)
    with pytest.raises(ConvergenceError):
        gravity_distribution([1.0, 1.0], [1.0, 1.0], c2, cutoff=10.0, scale=1 / 60)


def test_iteration_cap():
    cost, P, A = random_problem(8, 30, 30, 0.3)
    with pytest.raises(ConvergenceError, match="within 1 iterations"):
        gravity_distribution(P, A, cost, max_iter=1, tol=1e-12)


@pytest.mark.parametrize(
    "P, A, cost",
    [
        ([1.0, np.nan], [1.0, 1.0], np.zeros((2, 2), np.uint16)),
        ([1.0, -1.0], [1.0, 1.0], np.zeros((2, 2), np.uint16)),
        ([1.0, 1.0], [1.0, 1.0], np.zeros((2, 2), np.float64)),
        ([1.0, 1.0], [1.0, 1.0], np.zeros((3, 2), np.uint16)),
        ([1.0, 1.0], [1.0, 1.0], np.array([[0, -5], [1, 0]], np.int32)),
        ([1.0, 1.0], [1.0, 1.0], np.zeros(4, np.uint16)),
    ],
)
def test_ipf_bad_input_is_validation_error(P, A, cost):
    with pytest.raises(ValidationError):
        gravity_distribution(P, A, cost)


# ----------------------------------------------------------------------------- modal share
def _hand_case(seed=0, n=25):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 8000, (n, 2))
    dm = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3 + 150
    dist = np.rint(dm).astype(np.int32)
    cost = np.rint(dm / 4.5 + 30).astype(np.uint16)
    z = pd.DataFrame({"productions": rng.uniform(50, 500, n)}, index=[f"z{i}" for i in range(n)])
    z["attractions"] = rng.uniform(50, 500, n)
    z["attractions"] *= z["productions"].sum() / z["attractions"].sum()
    return cost, dist, z


def test_modal_share_matches_dense_numpy():
    cost, dist, z = _hand_case()
    r = modal_share(cost, z, distances=dist, top_pairs=10, tol=1e-10)
    F = dense_f(cost, DEFAULT_DETERRENCE[1])
    g = gravity_distribution(z["productions"], z["attractions"], cost, tol=1e-10)
    a, b = furness_numpy(z["productions"].to_numpy(), z["attractions"].to_numpy(), F, g.iterations)
    T = a[:, None] * b[None, :] * F
    km = dist / 1000.0
    pb, pe = pct(ZWOLLE_2024, km), pct(ZWOLLE_2024_EBIKE, km)
    zr = r["zones"]
    np.testing.assert_allclose(zr["trips"], T.sum(1), rtol=1e-9)
    np.testing.assert_allclose(zr["trip_km"], (T * km).sum(1), rtol=1e-9)
    np.testing.assert_allclose(zr["bike_trips"], (T * pb).sum(1), rtol=1e-9)
    np.testing.assert_allclose(zr["bike_km"], (T * pb * km).sum(1), rtol=1e-9)
    np.testing.assert_allclose(zr["ebike_trips"], (T * pe).sum(1), rtol=1e-9)
    np.testing.assert_allclose(zr["bike_trips_attracted"], (T * pb).sum(0), rtol=1e-9)
    np.testing.assert_allclose(zr["bike_share"], (T * pb).sum(1) / T.sum(1), rtol=1e-9)
    c = r["city"].iloc[0]
    assert c["bike_share"] == pytest.approx((T * pb).sum() / T.sum(), rel=1e-9)
    assert c["mean_bike_trip_km"] == pytest.approx((T * pb * km).sum() / (T * pb).sum(), rel=1e-9)
    # e-bike scenario: gains and losses apart, car trips and car-km from the gains only, each
    # gained trip at its own distance (exact up to the one 0.1 km bin where the curves cross)
    extra = (T * (pe - pb)).sum()
    gain = T * np.maximum(pe - pb, 0.0)
    assert c["extra_ebike_trips"] == pytest.approx(extra, rel=1e-9)
    assert c["ebike_trips_gained"] == pytest.approx(gain.sum(), rel=1e-3)
    assert c["ebike_trips_lost"] == pytest.approx((T * np.maximum(pb - pe, 0.0)).sum(), rel=1e-3)
    assert c["car_trips_replaced"] == pytest.approx(CAR_SHARE_OF_SHIFTED * gain.sum(), rel=1e-3)
    co2 = CO2_KG_PER_CAR_KM * CAR_SHARE_OF_SHIFTED * (gain * km).sum()
    assert c["co2_avoided_kg"] == pytest.approx(co2, rel=1e-3)
    assert c["car_km_per_replaced_trip"] <= km.max()
    # distribution: histogram of the same trips by 0.1 km bins
    dist_tab = r["distribution"]
    hist, _ = np.histogram(np.minimum(km, 40.0), bins=np.arange(0, 40.2, 0.1), weights=T)
    np.testing.assert_allclose(dist_tab["trips"].sum(), T.sum(), rtol=1e-9)
    np.testing.assert_allclose(dist_tab["trips"].to_numpy()[:60], hist[:60], rtol=1e-6, atol=1e-9)
    # od: the 10 largest bike flows
    bt = (T * pb).ravel()
    top = np.argsort(-bt)[:10]
    np.testing.assert_allclose(r["od"]["bike_trips"], bt[top], rtol=1e-5)
    assert list(r["od"]["origin"]) == list(z.index.to_numpy()[top // 25])


def test_modal_share_dtypes_gradient_and_intrazonal():
    cost, dist, z = _hand_case(1, 12)
    base = modal_share(cost, z, distances=dist)["city"]
    # float32 km distances (direct evaluation) give the same answer as int32 metres (tables)
    r32 = modal_share(
        cost, z, distances=(dist / 1000.0).astype(np.float32), distance_scale=1.0, top_pairs=0
    )
    assert r32["city"]["bike_trips"].iloc[0] == pytest.approx(base["bike_trips"].iloc[0], rel=1e-6)
    # int32 costs with the int32 sentinel
    r_i = modal_share(cost.astype(np.int32), z, distances=dist, top_pairs=0)
    assert r_i["city"]["bike_trips"].iloc[0] == pytest.approx(base["bike_trips"].iloc[0], rel=1e-9)
    # hills lower uptake
    hilly = modal_share(cost, z, distances=dist, gradient=3.0)["city"]
    assert hilly["bike_trips"].iloc[0] < base["bike_trips"].iloc[0]
    gm = np.full(cost.shape, 3.0)
    hm = modal_share(cost, z, distances=dist, gradient=gm)["city"]
    assert hm["bike_trips"].iloc[0] == pytest.approx(hilly["bike_trips"].iloc[0], rel=1e-9)
    # intrazonal distance replaces the diagonal
    intra = modal_share(cost, z, distances=dist, intrazonal_km=0.8)
    F = dense_f(cost, DEFAULT_DETERRENCE[1])
    g = gravity_distribution(z["productions"], z["attractions"], cost)
    T = trip_matrix(g, cost, dtype=np.float64)
    km = dist / 1000.0
    np.fill_diagonal(km, 0.8)
    assert intra["city"]["bike_trips"].iloc[0] == pytest.approx(
        (T * pct(ZWOLLE_2024, km)).sum(), rel=1e-6
    )
    assert F.shape == T.shape


def test_modal_share_errors():
    cost, dist, z = _hand_case(2, 6)
    with pytest.raises(ValidationError):
        modal_share(cost, z)  # no distances
    bad = dist.copy()
    bad[1, 2] = 2**31 - 1  # reachable in time but no distance
    with pytest.raises(ValidationError, match="no route distance"):
        modal_share(cost, z, distances=bad)
    with pytest.raises(ValidationError):
        modal_share(cost, z, distances=dist[:5])
    with pytest.raises(ValidationError):
        modal_share(cost, z, distances=dist, car_share_of_shifted=1.5)
    c = cost.copy()
    c[0, :] = U16
    with pytest.raises(ConvergenceError):
        modal_share(c, z, distances=dist)


def test_compare_scenarios_shorter_routes_add_bike_trips():
    cost, dist, z = _hand_case(4, 15)
    before = modal_share(cost, z, distances=dist)
    # same times (so the same trips), 20 % shorter routes for pairs beyond 3.5 km: past the
    # uptake peak (2.3 km) a shorter route is always cycled more
    shorter = np.where(dist > 3500, np.rint(dist * 0.8), dist).astype(np.int32)
    after = modal_share(cost, z, distances=shorter)
    cmp = compare_scenarios(before, after, car_share_of_shifted=0.5, co2_kg_per_car_km=0.2)
    city = cmp["city"].iloc[0]
    assert city["bike_trips_change"] == pytest.approx(
        after["city"]["bike_trips"].iloc[0] - before["city"]["bike_trips"].iloc[0]
    )
    # every pair gains (shorter routes past the uptake peak): car trips = 0.5 x the change;
    # car-km counts each gained trip at its own (before) distance, from the dense oracle
    assert city["car_trips_replaced"] == pytest.approx(0.5 * city["bike_trips_change"])
    F = dense_f(cost, DEFAULT_DETERRENCE[1])
    g = gravity_distribution(z["productions"], z["attractions"], cost)
    T = trip_matrix(g, cost, dtype=np.float64)
    d0, d1 = dist / 1000.0, shorter / 1000.0
    np.fill_diagonal(d0, 0.15)  # the matrix diagonal (150 m) is used: it is positive
    np.fill_diagonal(d1, 0.15)
    gain = np.maximum(T * (pct(ZWOLLE_2024, d1) - pct(ZWOLLE_2024, d0)), 0.0)
    assert city["car_km_replaced"] == pytest.approx(0.5 * (gain * d0).sum(), rel=1e-5)
    assert city["co2_avoided_kg"] == pytest.approx(0.2 * 0.5 * (gain * d0).sum(), rel=1e-5)
    assert F.shape == T.shape
    assert city["bike_trips_change"] > 0
    assert np.all(cmp["zones"]["bike_trips_change"] >= -1e-9)
    assert city["bike_share_change_pp"] == pytest.approx(
        100 * (after["city"]["bike_share"].iloc[0] - before["city"]["bike_share"].iloc[0])
    )


def test_uptake_on_time_rewards_faster_routes():
    cost, dist, z = _hand_case(5, 15)
    base = modal_share(cost, z, distances=dist, uptake_on="time")
    # equivalent distance = time * 16 km/h: check one zone against the formula
    F = dense_f(cost, DEFAULT_DETERRENCE[1])
    g = gravity_distribution(z["productions"], z["attractions"], cost)  # modal_share's own call
    T = g.a[:, None] * g.b[None, :] * F  # (Furness itself is checked against furness_numpy above)
    p = pct(ZWOLLE_2024, cost * 16.0 / 3600.0)
    np.testing.assert_allclose(base["zones"]["bike_trips"], (T * p).sum(1), rtol=1e-9)
    np.testing.assert_allclose(base["zones"]["bike_km"], (T * p * dist / 1000).sum(1), rtol=1e-9)
    with pytest.raises(ValidationError):
        modal_share(cost, z, distances=dist, uptake_on="mood")


def test_modal_share_memory_has_no_dense_float64():
    n = 2500
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 9000, (n, 2))
    dm = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3 + 100
    dist = np.rint(dm).astype(np.int32)
    cost = np.rint(dm / 4.5).astype(np.uint16)
    del dm, xy
    z = pd.DataFrame({"productions": rng.uniform(10, 100, n), "attractions": np.ones(n)})
    # warm up (300 x 300: the parallel Furness pass of large matrices, as the traced call)
    modal_share(cost[:300, :300], z.iloc[:300], distances=dist[:300, :300])
    tracemalloc.start()
    modal_share(cost, z, distances=dist, top_pairs=500)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # an n x n float64 would be 50 MB; allow a quarter of it for row blocks and bookkeeping
    assert peak < n * n * 8 / 4, peak


# ----------------------------------------------------------------------------- networks
def _net_and_zones(n_nodes=700, n_zones=30, seed=2):
    from fietsstad.network import generate_network

    net = generate_network(n_nodes, seed=seed)
    rng = np.random.default_rng(seed)
    nodes = np.sort(rng.choice(net.n_nodes, n_zones, replace=False))
    z = pd.DataFrame(
        {
            "population": rng.integers(100, 2000, n_zones),
            "jobs": rng.integers(0, 1500, n_zones),
            "lon": net.x[nodes],
            "lat": net.y[nodes],
        }
    )
    return net, nodes, z


def test_modal_share_on_generated_network_against_scipy():
    net, nodes, z = _net_and_zones()
    assert net.is_generated
    tg = trip_generation(z, net=net)
    np.testing.assert_array_equal(tg["node"], nodes)
    r = modal_share(net, tg)
    # exact oracle: scipy Dijkstra on lexicographic weights time * 1e8 + metres, so that among
    # equally fast paths the shortest is taken (as documented for the engine); all sums are
    # integers below 2**53, exact in float64
    src = net.edge_sources()
    w = net.travel_time_ticks().astype(np.int64) * 10**8 + np.rint(net.length).astype(np.int64)
    order = np.lexsort((w, net.indices, src))
    first = np.ones(len(order), bool)
    first[1:] = (src[order][1:] != src[order][:-1]) | (
        net.indices[order][1:] != net.indices[order][:-1]
    )
    keep = order[first]  # cheapest of parallel edges
    G = csr_matrix(
        (w[keep].astype(float), (src[keep], net.indices[keep])), shape=(net.n_nodes, net.n_nodes)
    )
    lex = dijkstra(G, indices=nodes)[:, nodes].astype(np.int64)
    T_s = ((lex // 10**8 + 5) // 10).astype(np.uint16)  # deciseconds, rounded half up to s
    D = (lex % 10**8).astype(np.int32)
    ref = modal_share(T_s, tg, distances=D, distance_scale=0.001)
    for col in ("trips", "trip_km", "bike_trips", "bike_km", "ebike_trips"):
        np.testing.assert_allclose(r["zones"][col], ref["zones"][col], rtol=1e-9)


def test_calibration_on_generated_zwolle_sized_network():
    """Calibrate on the demand model's own trip lengths, then re-run: targets within 0.5 pp."""
    from fietsstad import engine

    net, nodes, z = _net_and_zones(n_nodes=20_000, n_zones=250, seed=3)  # Zwolle-sized, GENERATED
    assert net.is_generated and net.n_nodes > 19_000
    tg = trip_generation(z)
    T, D = engine.travel_times(
        net.csr(), nodes, nodes, dtype=np.uint16, secondary=np.rint(net.length).astype(np.int32)
    )
    first = modal_share(T, tg, GODUTCH_2020, distances=D, top_pairs=0)
    dist = first["distribution"]
    for fit in ("intercept", "intercept+distance"):
        m = calibrate_uptake(
            GODUTCH_2020, dist["km_mean"], dist["trips"], 0.46, fit, second_target=(0.49, 7.5)
        )
        again = modal_share(T, tg, m, distances=D, top_pairs=0)
        assert abs(again["city"]["bike_share"].iloc[0] - 0.46) < 0.005
        if fit == "intercept+distance":
            d2 = again["distribution"]
            short = d2["km_to"] <= 7.5
            share_short = d2["bike_trips"][short].sum() / d2["trips"][short].sum()
            assert abs(share_short - 0.49) < 0.005


def test_zwolle_districts_end_to_end_on_generated_network():
    from fietsstad.network import generate_network
    from fietsstad.zwolle import zwolle_districts

    net = generate_network(3000, seed=5)  # GENERATED network over Zwolle's box
    d = zwolle_districts()
    tg = trip_generation(d, jobs_column=False, net=net)
    np.testing.assert_array_equal(tg["node"], net.snap(d["lon"], d["lat"]))
    r = modal_share(net, tg, intrazonal_km=1.0, top_pairs=20)
    z = r["zones"]
    assert z.crs.to_epsg() == 4326 and len(z) == 16 and list(z.index) == list(d.index)
    np.testing.assert_allclose(z["trips"], tg["productions"], rtol=1e-5)
    assert np.all((z["bike_share"] > 0) & (z["bike_share"] < 1))
    assert r["city"]["trips"].iloc[0] == pytest.approx(tg["productions"].sum(), rel=1e-5)
    assert r["city"].attrs["assumptions"]["model"] == "zwolle_2024"
    od = r["od"]
    assert len(od) == 20 and od["bike_trips"].is_monotonic_decreasing
    assert set(od["origin"]) <= set(d.index)
    # intrazonal pairs use the given 1 km, not the 0 km of a zone snapped to one node
    own = od[od["origin"] == od["destination"]]
    assert np.all(own["distance_km"] == 1.0)


def test_modal_share_accepts_plain_dataframe_with_lon_lat():
    """A plain DataFrame with lon/lat and population is snapped like a GeoDataFrame."""
    import pandas as pd

    import fietsstad
    from fietsstad.demand import modal_share

    net = fietsstad.generate_network(n_nodes=600, seed=3)
    pick = [5, 50, 300]
    zones = pd.DataFrame(
        {
            "lon": net.x[pick],
            "lat": net.y[pick],
            "population": [1000.0, 2000.0, 500.0],
            "jobs": [300.0, 100.0, 900.0],
        }
    )
    geo = __import__("geopandas").GeoDataFrame(
        zones[["population", "jobs"]],
        geometry=__import__("geopandas").points_from_xy(zones.lon, zones.lat),
        crs="EPSG:4326",
    )
    plain = modal_share(net, zones)["city"]
    ref = modal_share(net, geo)["city"]
    assert float(plain["trips"].iloc[0]) == pytest.approx(float(ref["trips"].iloc[0]))
    assert float(plain["bike_trips"].iloc[0]) == pytest.approx(float(ref["bike_trips"].iloc[0]))
