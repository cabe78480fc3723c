"""Tests of fietsstad.demand.pct: PCT reference values, curve shape, units, calibration, Zwolle preset.

Oracles: the values published with the pct R package (anchors.md section 1), the formula written
out here independently from the anchors.md coefficient table (with scipy.special.expit), and
hand-built trip length distributions.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.special import expit

from fietsstad._data import data_path
from fietsstad.demand import (
    EBIKE_2020,
    GODUTCH_2017,
    GODUTCH_2020,
    GOVTARGET_2017,
    GOVTARGET_2020,
    PRESETS,
    ZWOLLE_2024,
    ZWOLLE_2024_EBIKE,
    UptakeModel,
    calibrate_uptake,
    fit_zwolle_2024,
    get_model,
    uptake,
    zwolle_trip_length_distribution,
)
from fietsstad.errors import ConvergenceError, ValidationError

# The anchors.md table, typed in again: (a, d1, d2, d3, h1, h2, i1, i2)
TABLE = {
    "govtarget_2017": (-3.959, -0.5963, 1.866, 0.008050, -0.2710, 0.0, 0.009394, -0.05135),
    "godutch_2017": (
        -3.959 + 2.523,
        -0.5963 - 0.07626,
        1.866,
        0.008050,
        -0.2710,
        0.0,
        0.009394,
        -0.05135,
    ),
    "govtarget_2020": (-4.018, -0.6369, 1.988, 0.008775, -0.2555, -0.78, 0.02006, -0.1234),
    "godutch_2020": (
        -4.018 + 2.550,
        -0.6369 - 0.08036,
        1.988,
        0.008775,
        -0.2555,
        -0.78,
        0.02006,
        -0.1234,
    ),
    "ebike_2020": (
        -4.018 + 2.550,
        -0.6369 - 0.08036 + 0.05509,
        1.988,
        0.008775 - 0.000295,
        -0.2555 + 0.1812,
        -0.78,
        0.02006,
        -0.1234,
    ),
}


def oracle(name, d, g=0.0):
    a, d1, d2, d3, h1, h2, i1, i2 = TABLE[name]
    d = np.asarray(d, dtype=float)
    G = np.asarray(g, dtype=float) + h2
    return expit(
        a + d1 * d + d2 * np.sqrt(d) + d3 * d**2 + h1 * G + i1 * d * G + i2 * np.sqrt(d) * G
    )


# ----------------------------------------------------------------------------- published values
def test_published_reference_values_2017():
    assert abs(float(uptake(15, 2, GOVTARGET_2017)) - 0.0107377) < 1e-6
    assert abs(float(uptake(15, 2, GODUTCH_2017)) - 0.04132445) < 1e-6
    # the R package's Equation 1B example also prints the logit
    assert abs(float(GODUTCH_2017.logit(15, 2)) - (-3.144098)) < 1e-6


def test_godutch_is_govtarget_plus_dutch_increment_on_the_logit():
    d = np.linspace(0.1, 20, 200)  # below every model's tail_km (where distances are capped)
    g = np.linspace(0, 3, 200)
    diff17 = GODUTCH_2017.logit(d, g) - GOVTARGET_2017.logit(d, g)
    np.testing.assert_allclose(diff17, 2.523 - 0.07626 * d, atol=1e-12)
    diff20 = GODUTCH_2020.logit(d, g) - GOVTARGET_2020.logit(d, g)
    np.testing.assert_allclose(diff20, 2.550 - 0.08036 * d, atol=1e-12)
    G = g - 0.78
    diffe = EBIKE_2020.logit(d, g) - GODUTCH_2020.logit(d, g)
    np.testing.assert_allclose(diffe, 0.05509 * d - 0.000295 * d**2 + 0.1812 * G, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_presets_match_the_table_formula(name):
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 20, 500)
    g = rng.uniform(0, 6, 500)
    np.testing.assert_allclose(uptake(d, g, name), oracle(name, d, g), rtol=1e-12, atol=1e-15)
    assert get_model(name) is PRESETS[name]


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 24), st.floats(0, 8))
def test_scalar_matches_oracle_property(d, g):
    for name in ("govtarget_2017", "godutch_2020", "ebike_2020"):
        assert abs(float(uptake(d, g, name)) - float(oracle(name, d, g))) < 1e-12


# ----------------------------------------------------------------------------- shape
def test_godutch_2020_shape_matches_anchors():
    p = lambda d: float(uptake(d, 0.0, GODUTCH_2020))  # noqa: E731
    assert abs(p(1) - 0.52) < 0.01
    assert abs(p(5) - 0.49) < 0.01
    assert abs(p(10) - 0.24) < 0.01
    assert abs(p(15) - 0.10) < 0.01
    d = np.linspace(0.05, 10, 20_000)
    curve = uptake(d, 0.0, GODUTCH_2020)
    assert abs(d[np.argmax(curve)] - 2.3) < 0.15
    assert abs(curve.max() - 0.56) < 0.01
    e15 = float(uptake(15, 0.0, EBIKE_2020))
    assert abs(e15 - 0.17) < 0.01
    assert e15 > p(15)
    # fatter tail everywhere beyond 5 km
    far = np.linspace(5, 30, 100)
    assert np.all(uptake(far, 0, EBIKE_2020) > uptake(far, 0, GODUTCH_2020))


@pytest.mark.parametrize("model", list(PRESETS.values()), ids=list(PRESETS))
def test_monotonic_decline_beyond_the_peak(model):
    d = np.linspace(0.05, 120, 50_000)
    p = uptake(d, 0.0, model)
    k = int(np.argmax(p))
    assert 1.0 < d[k] < 4.0
    assert np.all(np.diff(p[k:]) <= 1e-15)


@pytest.mark.parametrize("model", list(PRESETS.values()), ids=list(PRESETS))
def test_tail_km_is_the_minimum_of_the_published_logit(model):
    # the published polynomial turns up again; tail_km is where (independent: scipy minimiser)
    def raw(x):
        return model.a + model.d1 * x + model.d2 * np.sqrt(x) + model.d3 * x * x

    res = minimize_scalar(raw, bounds=(5, 80), method="bounded", options={"xatol": 1e-9})
    assert abs(res.x - model.tail_km) < 1e-4
    assert raw(model.tail_km + 20) > raw(model.tail_km)  # the published curve does rise
    assert float(uptake(model.tail_km + 20, 0, model)) == pytest.approx(
        float(uptake(model.tail_km, 0, model)), abs=1e-15
    )


# ----------------------------------------------------------------------------- units, matrices
def test_integer_metre_matrices_and_sentinels():
    km = np.array([[0.25, 1.0, 7.5], [3.2, 15.0, 22.0]])
    metres32 = np.rint(km * 1000).astype(np.int32)
    metres16 = metres32.astype(np.uint16)
    expect = oracle("godutch_2020", km)
    np.testing.assert_allclose(uptake(metres32, distance_scale=0.001), expect, rtol=1e-12)
    np.testing.assert_allclose(uptake(metres16, distance_scale=0.001), expect, rtol=1e-12)
    metres32[0, 1] = 2**31 - 1
    metres16[1, 2] = 65535
    assert uptake(metres32, distance_scale=0.001)[0, 1] == 0.0
    assert uptake(metres16, distance_scale=0.001)[1, 2] == 0.0
    f = km.astype(np.float32)
    f[1, 1] = np.inf
    out = uptake(f, dtype=np.float32)
    assert out.dtype == np.float32 and out[1, 1] == 0.0
    np.testing.assert_allclose(out[0], expect[0], rtol=1e-6)


def test_gradient_matrix_and_broadcasting():
    rng = np.random.default_rng(3)
    d = rng.uniform(0.1, 12, (40, 30))
    g = rng.uniform(0, 4, (40, 30))
    np.testing.assert_allclose(
        uptake(d, g, "govtarget_2020"), oracle("govtarget_2020", d, g), rtol=1e-12
    )
    row = rng.uniform(0, 4, 30)
    np.testing.assert_allclose(
        uptake(d, row, "govtarget_2020"), oracle("govtarget_2020", d, row[None, :]), rtol=1e-12
    )
    assert uptake(d).shape == (40, 30)
    assert np.ndim(uptake(3.0)) == 0


@pytest.mark.parametrize(
    "dist, grad",
    [
        ([1.0, np.nan], 0.0),
        ([1.0, -2.0], 0.0),
        (["a"], 0.0),
        ([1.0, 2.0], [np.nan, 1.0]),
        ([1.0, 2.0], [1.0, 2.0, 3.0]),
    ],
)
def test_bad_input_raises_validation_error(dist, grad):
    with pytest.raises(ValidationError):
        uptake(dist, grad)


def test_bad_model_and_scale():
    with pytest.raises(ValidationError):
        uptake(1.0, model="no_such_model")
    with pytest.raises(ValidationError):
        uptake(1.0, distance_scale=0.0)
    with pytest.raises(ValidationError):
        UptakeModel("x", a=float("nan"), d1=0, d2=0, d3=0, h1=0)


# ----------------------------------------------------------------------------- calibration
def _dist(theta=2.0):
    d = np.linspace(0.05, 30, 600)
    w = d * np.exp(-d / theta)
    return d, w


def share(model, d, w, max_km=None):
    p = oracle_model(model, d)
    sel = np.ones_like(d, bool) if max_km is None else d <= max_km
    return float((w * p)[sel].sum() / w[sel].sum())


def oracle_model(m, d, g=0.0):
    d = np.minimum(np.asarray(d, float), m.tail_km)
    G = g + m.h2
    return expit(
        m.a
        + m.d1 * d
        + m.d2 * np.sqrt(d)
        + m.d3 * d * d
        + m.h1 * G
        + m.i1 * d * G
        + m.i2 * np.sqrt(d) * G
    )


@pytest.mark.parametrize("target", [0.05, 0.27, 0.46, 0.8])
def test_intercept_calibration_hits_target(target):
    d, w = _dist()
    m = calibrate_uptake(GODUTCH_2020, d, w, target)
    assert abs(share(m, d, w) - target) < 1e-9
    assert m.d1 == GODUTCH_2020.d1 and m.d2 == GODUTCH_2020.d2
    assert "intercept" in m.source


def test_two_target_calibration_hits_both():
    d, w = _dist(2.5)
    m = calibrate_uptake(GODUTCH_2020, d, w, 0.46, "intercept+distance", second_target=(0.49, 7.5))
    assert abs(share(m, d, w) - 0.46) < 1e-9
    assert abs(share(m, d, w, 7.5) - 0.49) < 1e-9
    assert m.d1 != GODUTCH_2020.d1


def test_calibration_with_gradient_and_matrix_input():
    rng = np.random.default_rng(5)
    d = rng.uniform(0.2, 15, (20, 20))
    g = rng.uniform(0, 3, (20, 20))
    w = rng.uniform(0, 10, (20, 20))
    m = calibrate_uptake(GOVTARGET_2020, d, w, 0.3, gradient=g)
    p = oracle_model(m, d, g)
    assert abs(float((w * p).sum() / w.sum()) - 0.3) < 1e-9


@pytest.mark.parametrize("target", [0.0, 1.0, 1.5, -0.2])
def test_unreachable_targets_raise_convergence_error(target):
    d, w = _dist()
    with pytest.raises(ConvergenceError):
        calibrate_uptake(GODUTCH_2020, d, w, target)


def test_incompatible_second_target_raises():
    d, w = _dist(1.0)  # almost all trips short: both shares nearly equal
    with pytest.raises(ConvergenceError):
        calibrate_uptake(GODUTCH_2020, d, w, 0.46, "intercept+distance", second_target=(0.9, 7.5))


def test_calibration_bad_input():
    d, w = _dist()
    with pytest.raises(ValidationError):
        calibrate_uptake(GODUTCH_2020, d, w[:-1], 0.4)
    w2 = w.copy()
    w2[3] = np.nan
    with pytest.raises(ValidationError):
        calibrate_uptake(GODUTCH_2020, d, w2, 0.4)
    with pytest.raises(ValidationError):
        calibrate_uptake(GODUTCH_2020, d, w, 0.4, fit="everything")
    with pytest.raises(ConvergenceError):
        calibrate_uptake(GODUTCH_2020, d, np.zeros_like(w), 0.4)


# ----------------------------------------------------------------------------- Zwolle preset
def test_shipped_zwolle_preset_matches_its_fit():
    shipped = json.loads(data_path("uptake_presets.json").read_text())
    fresh = fit_zwolle_2024()
    for key in ("zwolle_2024", "zwolle_2024_ebike"):
        for c in ("a", "d1", "d2", "d3", "h1", "h2", "i1", "i2"):
            assert abs(shipped["models"][key][c] - fresh[key][c]) < 1e-7
    assert ZWOLLE_2024.name == "zwolle_2024" and "Zwolle" in ZWOLLE_2024.source
    assert abs(shipped["fit"]["theta_km"] - fresh["fit"]["theta_km"]) < 1e-6


def test_zwolle_preset_reproduces_zwolle_figures():
    theta = json.loads(data_path("uptake_presets.json").read_text())["fit"]["theta_km"]
    d, w = zwolle_trip_length_distribution(theta)
    assert abs(share(ZWOLLE_2024, d, w) - 0.46) < 1e-6
    assert abs(share(ZWOLLE_2024, d, w, 7.5) - 0.49) < 1e-6
    bw = w * oracle_model(ZWOLLE_2024, d)
    assert abs(float((bw * d).sum() / bw.sum()) - 3.5) < 1e-6
    # the e-bike companion has the same local shifts as the bike model
    assert ZWOLLE_2024_EBIKE.a - EBIKE_2020.a == pytest.approx(ZWOLLE_2024.a - GODUTCH_2020.a)
    assert ZWOLLE_2024_EBIKE.d1 - EBIKE_2020.d1 == pytest.approx(ZWOLLE_2024.d1 - GODUTCH_2020.d1)
    assert float(uptake(15, 0, ZWOLLE_2024_EBIKE)) > float(uptake(15, 0, ZWOLLE_2024))
