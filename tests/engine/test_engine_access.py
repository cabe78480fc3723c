"""Accessibility and 2SFCA against numpy references computed from a full scipy matrix."""

from __future__ import annotations

import numpy as np
import pytest

from fietsstad.engine import CSRGraph, Decay, accessibility, two_step_fca
from fietsstad.errors import GraphError
from naive import accessibility_ref, perturbed_grid, random_graph, scipy_times, two_step_fca_ref

DECAYS = [
    Decay.cumulative(300),
    Decay.cumulative(900),
    Decay.exponential(0.2),  # per minute
    Decay.exponential(0.004, per="second"),
    Decay.power(1.5, t0_s=120),
    Decay.logistic(600, 0.01),
]


@pytest.fixture(scope="module")
def grid():
    arrs = perturbed_grid(20, 25, seed=7, oneway_share=0.2)
    return CSRGraph.from_arrays(*arrs), scipy_times(*arrs)


@pytest.mark.parametrize("method", ["dijkstra", "phast"])
@pytest.mark.parametrize("cutoff", [None, 400, 1200])
def test_accessibility_matches_reference(grid, method, cutoff):
    g, T = grid
    rng = np.random.default_rng(1)
    opp = rng.integers(0, 50, size=(g.n, 3)).astype(float)
    opp[rng.random(g.n) < 0.5] = 0.0  # many empty nodes
    got = accessibility(g, opp, DECAYS, cutoff=cutoff, method=method)
    ref = accessibility_ref(T, opp, DECAYS, cutoff=cutoff)
    assert got.shape == (g.n, 3 * len(DECAYS))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-9)
    src = np.array([5, 5, 499, 0])
    sub = accessibility(g, opp, DECAYS, cutoff=cutoff, sources=src, method=method)
    np.testing.assert_allclose(sub, ref[src], rtol=1e-10, atol=1e-9)


def test_accessibility_random_graphs_and_1d_opportunities():
    rng = np.random.default_rng(3)
    for _ in range(15):
        n = int(rng.integers(1, 30))
        arrs = random_graph(rng, n, int(rng.integers(0, 4 * n)), wmax=200)
        opp = rng.random(n)
        dec = [Decay.cumulative(150), Decay.exponential(0.01, per="second")]
        got = accessibility(arrs, opp, dec, cutoff=300)
        np.testing.assert_allclose(
            got, accessibility_ref(scipy_times(*arrs), opp, dec, 300), rtol=1e-12
        )


def test_cumulative_counts_are_exact_integers(grid):
    g, T = grid
    got = accessibility(g, np.ones(g.n), [Decay.cumulative(600)], cutoff=600)[:, 0]
    np.testing.assert_array_equal(got, (T <= 600).sum(axis=1))


def test_decay_values():
    t = np.array([0.0, 60.0, 600.0, 6000.0])
    assert Decay.cumulative(60).weight(t).tolist() == [1, 1, 0, 0]
    np.testing.assert_allclose(Decay.exponential(0.1).weight(t), np.exp(-0.1 * t / 60))
    np.testing.assert_allclose(Decay.power(2, t0_s=60).weight(t), [1, 1, 0.01, 1e-4])
    np.testing.assert_allclose(Decay.logistic(600, 0.01).weight(t)[2], 0.5)
    with pytest.raises(GraphError):
        Decay("gaussian", 1.0)
    with pytest.raises(GraphError):
        Decay.exponential(-1)


@pytest.mark.parametrize("decay", [None, Decay.exponential(0.1), Decay.power(1.0, 60)])
@pytest.mark.parametrize("method", ["dijkstra", "phast"])
def test_two_step_fca_matches_reference(grid, decay, method):
    g, T = grid
    rng = np.random.default_rng(2)
    sn = rng.choice(g.n, 12, replace=False)
    sn[1] = sn[0]  # two sites at one node
    S = rng.integers(10, 100, size=12).astype(float)
    dn = rng.choice(g.n, 200, replace=False)
    D = rng.integers(0, 500, size=200).astype(float)
    A, R = two_step_fca(g, sn, S, dn, D, catchment_s=500, decay=decay, method=method)
    A_ref, R_ref = two_step_fca_ref(T, sn, S, dn, D, 500, decay)
    np.testing.assert_allclose(A, A_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(R, R_ref, rtol=1e-10, equal_nan=True)


def test_two_step_fca_conserves_supply_without_decay(grid):
    # classic 2SFCA: sum_k D_k A_k equals the total supply of sites some demand reaches
    g, T = grid
    sn = np.arange(0, g.n, 37)
    S = np.full(len(sn), 10.0)
    dn = np.arange(g.n)
    D = np.ones(g.n)
    A, R = two_step_fca(g, sn, S, dn, D, catchment_s=600)
    assert np.isclose((D * A).sum(), S[np.isfinite(R)].sum())


def test_bad_accessibility_input(grid):
    g, _ = grid
    with pytest.raises(GraphError, match="opportunities"):
        accessibility(g, np.ones(3), [Decay.cumulative(1)])
    with pytest.raises(GraphError, match="NaN"):
        accessibility(g, np.full(g.n, np.nan), [Decay.cumulative(1)])
    with pytest.raises(GraphError, match="Decay"):
        accessibility(g, np.ones(g.n), [])
    with pytest.raises(GraphError):
        two_step_fca(g, [0], [1.0, 2.0], [1], [1.0], 100)
    with pytest.raises(GraphError):
        two_step_fca(g, [0], [-1.0], [1], [1.0], 100)


# ------------------------------------------------ the restricted (pruned) cut-off PHAST sweep
@pytest.mark.parametrize("cutoff", [0, 59, 700, 40_000])  # uint16 lanes up to 32766, then int32
def test_pruned_sweep_matches_reference_uint16_and_int32_lanes(cutoff):
    # weights up to 25,000 s so the 40,000 s cut-off (int32 lanes) still cuts; enough sources
    # (> 32 * 4 * threads) for 32-lane groups, asked in a shuffled order with repeats
    rng = np.random.default_rng(11)
    wmax = 25_000 if cutoff > 32_766 else 120
    arrs = perturbed_grid(24, 30, seed=5, oneway_share=0.3, wmin=0, wmax=wmax)
    g, T = CSRGraph.from_arrays(*arrs), scipy_times(*arrs)
    opp = rng.integers(0, 20, size=(g.n, 2)).astype(float)
    opp[rng.random(g.n) < 0.3] = 0.0
    src = rng.permutation(np.concatenate([np.arange(g.n), rng.integers(0, g.n, 50)]))
    dec = [Decay.cumulative(cutoff), Decay.exponential(0.003, per="second")]
    got = accessibility(g, opp, dec, cutoff=cutoff, sources=src, method="phast")
    np.testing.assert_allclose(got, accessibility_ref(T, opp, dec, cutoff)[src], rtol=1e-11)


def test_pruned_and_full_sweep_agree(grid, monkeypatch):
    from fietsstad.engine import _access

    g, _ = grid
    opp = np.random.default_rng(4).random((g.n, 2))
    src = np.arange(g.n)[::-1]
    runs = []
    for pruned in (True, False):
        monkeypatch.setattr(_access, "PRUNED_SWEEP", pruned)
        runs.append(accessibility(g, opp, DECAYS, cutoff=800, sources=src, method="phast"))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)
    assert runs[0][:, 0].max() > 0  # something is within the cut-off


def test_push_graph_is_the_transposed_downward_graph(grid):
    from fietsstad.engine import build_ch
    from fietsstad.engine._access import _push_graph

    g, _ = grid
    ch = build_ch(g)
    indptr, dst, t = _push_graph(ch, top=100)
    assert t.dtype == np.uint16 and indptr[-1] == ch.dn_src.size
    src = np.repeat(np.arange(ch.n), np.diff(indptr))
    pull = set(
        zip(
            ch.dn_src.tolist(),
            np.repeat(np.arange(ch.n), np.diff(ch.dn_indptr)).tolist(),
            np.minimum(ch.dn_t, 100).tolist(),
        )
    )
    assert set(zip(src.tolist(), dst.tolist(), t.tolist())) == pull
    assert np.all(dst > src)  # downward edges go to later sweep positions
    assert _push_graph(ch, top=40_000)[2].dtype == np.int32


# ------------------------------------------------ the real extract: lane-wise upward + downward
@pytest.mark.parametrize("cutoff_s", [300, 900])
def test_pruned_accessibility_on_liechtenstein_equals_scipy(liechtenstein_net, cutoff_s):
    # the upward searches of a group run as one pass over the union of their search spaces
    # (_upward_lanes); on the real topology every source must still sum exactly what scipy's
    # Dijkstra reaches within the cut-off (ticks: the decay is evaluated at ticks / ticks_per_s)
    from test_phast_lanes import scipy_ticks

    g = liechtenstein_net.engine_graph()
    rng = np.random.default_rng(2)
    opp = rng.integers(0, 5, size=(g.n, 2)).astype(float)
    dec = [Decay.cumulative(cutoff_s), Decay.exponential(half_life_s=300)]
    got = accessibility(g, opp, dec, cutoff=cutoff_s, method="phast")  # all nodes, 32 lanes
    src = np.arange(0, g.n, max(1, g.n // 300))
    T = scipy_ticks(g, src) / g.ticks_per_s
    np.testing.assert_allclose(got[src], accessibility_ref(T, opp, dec, cutoff_s), rtol=1e-10)
    assert got[:, 0].max() > 100  # the cut-off reaches real neighbourhoods
