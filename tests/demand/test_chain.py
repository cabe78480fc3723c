"""The demand chain's assumptions, intrazonal distances, e-bike accounting and calibration."""

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import fietsstad
from fietsstad import Assumptions
from fietsstad.demand import (
    DEFAULT_ASSUMPTIONS,
    ZWOLLE_2024,
    ZWOLLE_2024_EBIKE,
    intrazonal_distances,
    modal_share,
    uptake,
)
from fietsstad.demand.calibrate import full_model_check
from fietsstad.errors import ValidationError
from fietsstad.zwolle import zwolle_districts


def test_assumptions_are_frozen_validated_and_exported():
    a = Assumptions()
    assert fietsstad.Assumptions is Assumptions and a == DEFAULT_ASSUMPTIONS
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.trips_per_person = 3.0  # type: ignore[misc]
    for bad in (
        {"car_share_of_shifted": 1.5},
        {"trips_per_person": 0.0},
        {"car_occupancy": 0.5},
        {"co2_kg_per_car_km": float("nan")},
        {"deterrence": "exponential"},
    ):
        name = next(iter(bad))
        with pytest.raises(ValidationError, match=name):
            Assumptions(**bad)
    assert a.car_trips(100.0) == pytest.approx(14.0)
    assert a.replace(car_occupancy=2.0).car_trips(100.0) == pytest.approx(7.0)
    with pytest.raises(ValidationError, match="assumptions"):
        modal_share(np.zeros((2, 2), np.uint16), pd.DataFrame(), assumptions={"x": 1})


def test_intrazonal_distance_rules_against_monte_carlo():
    rng = np.random.default_rng(0)
    # a 2 km x 2 km polygon zone: mean distance between two random points (Monte Carlo)
    p, q = rng.uniform(0, 2, (200_000, 2)), rng.uniform(0, 2, (200_000, 2))
    mc_square = float(np.hypot(*(p - q).T).mean())
    utm = gpd.GeoDataFrame(
        {"population": [1.0, 1.0]},
        geometry=[box(200_000, 5_800_000, 202_000, 5_802_000), box(205_000, 5_800_000, 206_000, 5_801_000)],
        crs="EPSG:32632",
    )  # fmt: skip
    d = intrazonal_distances(utm)
    assert d[0] == pytest.approx(mc_square, rel=0.01)
    assert d[1] == pytest.approx(mc_square / 2, rel=0.01)
    # point zones: the mean distance within a disc of radius half the nearest-zone distance
    r = 0.5
    ang, rad = rng.uniform(0, 2 * np.pi, (2, 200_000)), r * np.sqrt(rng.uniform(0, 1, (2, 200_000)))
    mc_disc = float(
        np.hypot(rad[0] * np.cos(ang[0]) - rad[1] * np.cos(ang[1]),
                 rad[0] * np.sin(ang[0]) - rad[1] * np.sin(ang[1])).mean()
    )  # fmt: skip
    pts = pd.DataFrame({"lon": [6.0, 6.0, 6.3], "lat": [52.5, 52.5 + 1.0 / 111.195, 52.5]})
    assert intrazonal_distances(pts)[0] == pytest.approx(mc_disc, rel=0.01)
    # no coordinates: a positive diagonal, else the documented default
    bare = pd.DataFrame(index=range(3))
    assert intrazonal_distances(bare, diagonal_km=[0.3, 0.0, np.nan]).tolist() == [0.3, 1.0, 1.0]


def test_modal_share_uses_the_intrazonal_rule_by_default():
    net = fietsstad.generate_network(n_nodes=2000, seed=2)  # GENERATED
    z = zwolle_districts()
    r = modal_share(net, z, top_pairs=256)
    od = r["od"]
    own = od[od["origin"] == od["destination"]].set_index("origin")
    want = pd.Series(intrazonal_distances(z), index=z.index)
    np.testing.assert_allclose(own["distance_km"], want[own.index], rtol=1e-12)
    assert np.all(own["distance_km"] > 0.2)
    # "diagonal" keeps the 0 km of zones snapped to one node: a different (wrong) answer
    diag = modal_share(net, z, top_pairs=0, intrazonal_km="diagonal")["city"]
    assert diag["bike_share"].iloc[0] != pytest.approx(r["city"]["bike_share"].iloc[0], abs=1e-3)
    for t in r.values():
        assert t.attrs["Assumptions"] == Assumptions()


def test_ebike_gains_and_losses_are_apart():
    # two pairs: 1 km (the e-bike curve is lower there: a loss) and 10 km (a gain)
    t = np.array([[60, 900], [900, 60]], dtype=np.uint16)
    d = np.array([[1000, 10000], [10000, 1000]], dtype=np.int32)
    z = pd.DataFrame({"productions": [100.0, 100.0], "attractions": [100.0, 100.0]})
    r = modal_share(t, z, distances=d)
    c = r["city"].iloc[0]
    T = np.array([[1.0, np.exp(-0.063 * 14)], [np.exp(-0.063 * 14), 1.0]])
    T = T / T.sum(1, keepdims=True) * 100.0  # symmetric: the balanced matrix
    km = d / 1000.0
    dp = uptake(km, 0, ZWOLLE_2024_EBIKE) - uptake(km, 0, ZWOLLE_2024)
    assert dp[0, 0] < 0 < dp[0, 1]
    gain, loss = (T * np.maximum(dp, 0)).sum(), (T * np.maximum(-dp, 0)).sum()
    assert c["ebike_trips_gained"] == pytest.approx(gain, rel=1e-6)
    assert c["ebike_trips_lost"] == pytest.approx(loss, rel=1e-6)
    assert c["extra_ebike_trips"] == pytest.approx(gain - loss, rel=1e-6)
    assert c["car_trips_replaced"] == pytest.approx(0.14 * gain, rel=1e-6)
    # every replaced car trip is a 10 km trip: 10 car-km each, not the net km change
    assert c["car_km_per_replaced_trip"] == pytest.approx(10.0, rel=1e-6)
    assert c["co2_avoided_kg"] == pytest.approx(0.17 * 0.14 * gain * 10.0, rel=1e-6)


@pytest.mark.parametrize("n_nodes, seed", [(20000, 0), (6000, 3)])
def test_full_model_is_calibrated_to_zwolle(n_nodes, seed):
    """The whole chain (gravity, intrazonal trips at their documented distance, uptake) gives
    Zwolle's 46 % of all trips and 49 % of trips up to 7.5 km by bike (+/- 1 pp)."""
    net = fietsstad.generate_network(n_nodes=n_nodes, seed=seed)  # GENERATED
    chk = full_model_check(net, zwolle_districts())
    assert abs(chk["share_all"] - 0.46) <= 0.01
    assert abs(chk["share_short"] - 0.49) <= 0.01
    # KiM 2016: the mean bike trip is about 3.5 km nationally
    assert 2.8 < chk["mean_bike_km"] < 3.8


# ----------------------------------------------------------------------------- Furness
def _two_towns(seed: int, n: int = 14, far_s: int = 2400):
    """Two towns of zones ``far_s`` seconds apart: plain Furness contracts slowly (rho ~ 0.99)."""
    rng = np.random.default_rng(seed)
    town = np.arange(n) % 2
    xy = rng.uniform(0, 600, (n, 2))
    cost = np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))
    cost = np.rint(cost + far_s * (town[:, None] != town[None, :])).astype(np.uint16)
    P = rng.uniform(100, 1000, n)
    A = rng.uniform(100, 1000, n)
    return cost, P, A * P.sum() / A.sum()


def _numpy_fixed_point(P, A, F, tol=1e-13):
    """Plain Furness in numpy, run to ``tol`` (the oracle)."""
    b = np.ones(len(A))
    for _ in range(1_000_000):
        a = P / (F @ b)
        b = A / (F.T @ a)
        if np.abs(a * (F @ b) / P - 1.0).max() < tol:
            return a[:, None] * F * b[None, :]
    raise AssertionError("oracle did not converge")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_accelerated_furness_has_the_fixed_point_of_plain_furness(seed):
    from fietsstad.demand import gravity_distribution
    from fietsstad.demand.gravity import deterrence_table

    cost, P, A = _two_towns(seed)
    det = ("exponential", 0.15)
    F = deterrence_table(det)[cost]
    ref = _numpy_fixed_point(P, A, F)
    fast = gravity_distribution(P, A, cost, det, tol=1e-10)
    plain = gravity_distribution(P, A, cost, det, tol=1e-10, max_iter=100_000, accelerate=False)
    # the same test as plain Furness: exact columns, rows within tol
    T = fast.trips(cost, dtype=np.float64)
    np.testing.assert_allclose(T.sum(0), A, rtol=1e-12)
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-10)
    # the same fixed point: a row error of 1e-10 leaves T within 1e-10 / (1 - rho) of it
    np.testing.assert_allclose(T, ref, rtol=1e-7)
    np.testing.assert_allclose(plain.trips(cost, dtype=np.float64), ref, rtol=1e-7)
    assert fast.iterations < plain.iterations, (fast.iterations, plain.iterations)
    # at the default tolerance both stop within the same distance of the fixed point
    d_fast = gravity_distribution(P, A, cost, det).trips(cost, dtype=np.float64)
    d_plain = gravity_distribution(P, A, cost, det, accelerate=False).trips(cost, np.float64)
    for got in (d_fast, d_plain):
        assert np.abs(got - ref).max() <= 1e-4 * ref.max()


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1),
    st.sampled_from([0.0, 0.3, 0.6]), st.sampled_from([0.02, 0.1, 0.3]),
)  # fmt: skip
def test_accelerated_furness_meets_the_margins(n, m, seed, p, beta):
    from fietsstad.demand import gravity_distribution
    from fietsstad.demand.gravity import deterrence_table

    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 3600, (n, m)).astype(np.uint16)
    cost[rng.random((n, m)) < p] = 65535
    X = rng.uniform(0.1, 10.0, (n, m)) * (cost != 65535)
    P, A = X.sum(1), X.sum(0)
    assume(P.sum() > 0)
    g = gravity_distribution(P, A, cost, ("exponential", beta), tol=1e-8, max_iter=20_000)
    T = g.a[:, None] * g.b[None, :] * deterrence_table(("exponential", beta))[cost]
    np.testing.assert_allclose(T.sum(1), P, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(T.sum(0), A, rtol=1e-9, atol=1e-12)
    assert np.all(T[cost == 65535] == 0)


def test_over_relaxation_safeguard_returns_to_the_best_state():
    from fietsstad.demand.gravity import _Relaxation

    r = _Relaxation(1e-6, True)
    pos = np.ones(3, dtype=bool)
    b = np.ones(3)
    # steady log-step ratios of 0.975: omega = 2 / (1 + sqrt(0.025)) = 1.7266
    for k in range(12):
        b = r.step(b, b * np.exp(0.975**k * np.array([1.0, -1.0, 0.5])), 1.0, pos)
        assert r.check(k + 2, 0.975**k, np.full(3, float(k)), b) is None
    assert r.omega == pytest.approx(2 / (1 + np.sqrt(0.025)), rel=1e-6)
    best_a = np.full(3, 11.0)  # the state of the smallest error so far
    # the error stops improving: after WINDOW passes, back to the best state with half the excess
    w = r.omega
    backs = [r.check(100 + k, 1.0, np.zeros(3), np.zeros(3)) for k in range(r.WINDOW + 1)]
    assert all(x is None for x in backs[:-1]) and np.array_equal(backs[-1][0], best_a)
    assert r.omega == pytest.approx(1 + (w - 1) / 2, rel=1e-12) and r.ceiling == r.omega
    # a blow-up returns at once; near 1 the relaxation is switched off for good
    while not r.final:
        w = r.omega
        back = r.check(200, 1e9, np.zeros(3), np.zeros(3))
        assert back is not None and np.array_equal(back[0], best_a)
        assert r.omega == (1.0 if r.final else pytest.approx(1 + (w - 1) / 2, rel=1e-12))
    assert r.omega == 1.0


def test_furness_cap_error_names_the_over_relaxation():
    from fietsstad.demand import gravity_distribution
    from fietsstad.errors import ConvergenceError

    cost, P, A = _two_towns(2)  # over-relaxed from about pass 30
    with pytest.raises(ConvergenceError, match=r"did not converge within 40 iterations.*omega"):
        gravity_distribution(P, A, cost, ("exponential", 0.15), max_iter=40, tol=1e-14)
    with pytest.raises(ConvergenceError, match=r"within 5 iterations \(largest .*tol 1e-14\);"):
        gravity_distribution(P, A, cost, ("exponential", 0.15), max_iter=5, tol=1e-14)
