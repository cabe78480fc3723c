"""Incremental travel-time update (fietsstad.scenario.incremental) against scipy Dijkstra on the new graph."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fietsstad
from fietsstad.engine.config import UNREACHABLE_U16
from fietsstad.errors import GraphError, ValidationError
from fietsstad.network import BikeNetwork
from fietsstad.scenario.incremental import full_travel_times, update_travel_times
from naive import min_plus_pass, network_times


def _net(n, u, v, w):
    """A network whose travel times are exactly ``w`` (lengths chosen so that speed 18 km/h gives w)."""
    u, v = np.asarray(u), np.asarray(v)
    net = BikeNetwork.from_edges(
        x=6.0 + np.arange(n) * 0.001,
        y=np.full(n, 52.5),
        node_id=np.arange(n),
        u=u,
        v=v,
        length=np.asarray(w, float) * 5.0,
        infra=np.zeros(len(u)),
    )
    return net


def _with_weights(net, w):
    out = net.recompute_travel_time()
    out.travel_time = np.asarray(w, dtype=np.float64)
    return out


def test_hand_made_line_upgrade():
    # 0 <-> 1 <-> 2 <-> 3, 100 s each way; make 1 -> 2 take 10 s (matrices in deciseconds)
    net = _net(4, [0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2], [100] * 6)
    old = full_travel_times(net)
    assert old[0].tolist() == [0, 1000, 2000, 3000]
    after = _with_weights(net, [100, 100, 10, 100, 100, 100])
    new, stats = update_travel_times(old, net, after, np.array([2]))
    assert np.array_equal(new, update_travel_times(old, net, after, method="repair")[0])
    assert new[0].tolist() == [0, 1000, 1100, 2100]
    assert new[1].tolist() == [1000, 0, 100, 1100]
    assert new[3].tolist() == old[3].tolist()  # 3 -> anything never uses 1 -> 2
    # sources 0 and 1 improve (2 pairs each); 2 and 3 cannot
    assert stats.sources_touched == 2 and stats.pairs_changed == 4 and not stats.full_recompute
    assert np.array_equal(old, full_travel_times(net))  # the input matrix is untouched


def test_new_link_joins_components_and_uint16_sentinel():
    # two separate two-node islands; a new bridge 1 <-> 2 connects them
    net = _net(4, [0, 1, 2, 3], [1, 0, 3, 2], [50] * 4)
    old = full_travel_times(net)
    assert old[0, 3] == UNREACHABLE_U16
    bridged = BikeNetwork.from_edges(
        x=net.x,
        y=net.y,
        node_id=net.node_id,
        u=[0, 1, 2, 3, 1, 2],
        v=[1, 0, 3, 2, 2, 1],
        length=[250.0] * 4 + [100.0] * 2,
        infra=np.zeros(6),
    )
    new, stats = update_travel_times(old, net, bridged)
    assert new.tolist() == network_times(bridged).tolist()
    assert new[0, 3] == (50 + 20 + 50) * 10  # deciseconds


def test_saturating_uint16_stays_unreachable():
    # 0 -> 1 -> 2 with 4 000 s (40 000 ds) each: 0 -> 2 is 80 000 ds, beyond uint16 (unreachable)
    net = _net(3, [0, 1], [1, 2], [4_000, 4_000])
    old = network_times(net)
    assert old[0, 2] == 65535
    after = _with_weights(net, [3_000, 4_000])
    for method in ("hubs", "repair"):
        new, _ = update_travel_times(old, net, after, method=method)
        assert new[0, 1] == 30_000 and new[0, 2] == 65535  # 70 000 ds still does not fit
        after2 = _with_weights(net, [2_000, 4_000])
        new2, _ = update_travel_times(old, net, after2, method=method)
        assert new2[0, 2] == 60_000


@pytest.mark.parametrize("method", ["hubs", "repair"])
@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_upgrades_on_generated_network(seed, dtype, method):
    rng = np.random.default_rng(seed)
    net = fietsstad.generate_network(n_nodes=500, seed=seed)
    old = network_times(net, dtype=dtype)
    after = net.recompute_travel_time()
    k = rng.choice(net.n_edges, size=40, replace=False)
    w = after.travel_time.copy()
    w[k] = np.maximum(1, (w[k] * rng.uniform(0.2, 0.9, size=len(k))).astype(np.int32))
    after.travel_time = w
    new, stats = update_travel_times(old, net, after, k, method=method)
    ref = network_times(after, dtype=dtype)
    assert new.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(new, ref)
    assert stats.pairs_changed == int(np.count_nonzero(new != old))
    assert not stats.full_recompute
    assert 0 < stats.sources_touched <= net.n_nodes


def test_rows_subset_and_inplace():
    net = fietsstad.generate_network(n_nodes=400, seed=5)
    rng = np.random.default_rng(5)
    sources = rng.choice(net.n_nodes, size=25, replace=False).astype(np.int32)
    old = network_times(net, sources=sources)
    after = net.recompute_travel_time()
    k = rng.choice(net.n_edges, size=30, replace=False)
    after.travel_time = after.travel_time.copy()
    after.travel_time[k] = 1
    with pytest.raises(ValidationError, match="hubs"):  # corridor rows are missing
        update_travel_times(old, net, after, sources=sources, method="hubs")
    buf = old.copy()
    new, stats = update_travel_times(buf, net, after, sources=sources, inplace=True)
    assert new is buf
    np.testing.assert_array_equal(new, network_times(after, sources=sources))
    assert stats.sources_total == 25


def test_increase_falls_back_to_full_recompute():
    net = fietsstad.generate_network(n_nodes=300, seed=7)
    old = full_travel_times(net, dtype=np.int32)
    after = net.recompute_travel_time()
    after.travel_time = after.travel_time * 2  # everything slower: some pairs beyond 6,553.4 s
    new, stats = update_travel_times(old, net, after)
    assert stats.full_recompute
    np.testing.assert_array_equal(new, full_travel_times(after, dtype=np.int32))
    # in uint16 deciseconds those pairs do not fit: an error, never a silent "unreachable"
    with pytest.raises(ValidationError, match="int32"):
        update_travel_times(network_times(net), net, after)


def test_removed_edge_falls_back_to_full_recompute():
    net = _net(3, [0, 1, 0], [1, 2, 2], [10, 10, 5])
    old = network_times(net)
    fewer = _net(3, [0, 1], [1, 2], [10, 10])
    new, stats = update_travel_times(old, net, fewer)
    assert stats.full_recompute and new[0, 2] == 200  # deciseconds


def test_parallel_edges_use_the_fastest():
    net = _net(2, [0, 0], [1, 1], [30, 50])
    old = full_travel_times(net)
    assert old[0, 1] == 300  # deciseconds
    after = _with_weights(net, [30, 20])
    new, stats = update_travel_times(old, net, after)
    assert new[0, 1] == 200 and stats.changed_arcs == 1


def test_bad_input_raises_fietsstad_errors():
    net = _net(3, [0, 1], [1, 2], [10, 10])
    old = full_travel_times(net)
    with pytest.raises(ValidationError, match="columns"):
        update_travel_times(old[:, :2], net, net)
    with pytest.raises(ValidationError, match="square"):
        update_travel_times(old[:2], net, net)
    with pytest.raises(ValidationError, match="uint16, int32"):
        update_travel_times(old.astype(np.int8), net, net)
    with pytest.raises(ValidationError, match="edge indices"):
        update_travel_times(old, net, net, changed_edges=np.array([99]))
    with pytest.raises(ValidationError, match="method"):
        update_travel_times(old, net, net, method="magic")
    with pytest.raises(ValidationError, match="2-D"):
        update_travel_times(old[0], net, net)
    other = _net(4, [0], [1], [10])
    with pytest.raises(GraphError, match="share their nodes"):
        update_travel_times(old, net, other)


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(2, 25),
    data=st.data(),
)
def test_property_decrease_only_matches_scipy(n, data):
    method = data.draw(st.sampled_from(["hubs", "repair"]))
    m = data.draw(st.integers(1, 4 * n))
    u = data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    v = data.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))
    # large weights make uint16 sums saturate at 65535 (reported unreachable)
    dtype = data.draw(st.sampled_from([np.uint16, np.int32, np.float32]))
    top = data.draw(st.sampled_from([300, 30_000]))
    w = data.draw(st.lists(st.integers(1, top), min_size=m, max_size=m))
    net = _net(n, u, v, w)
    old = network_times(net, dtype=dtype)
    # decrease some weights, and add a few new edges
    w2 = np.array(net.travel_time)
    dec = data.draw(st.lists(st.integers(0, m - 1), max_size=m))
    for e in dec:
        w2[e] = max(1, w2[e] // 3)
    k = data.draw(st.integers(0, 3))
    nu = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    nv = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    src = net.edge_sources()
    after = BikeNetwork.from_edges(
        x=net.x,
        y=net.y,
        node_id=net.node_id,
        u=np.r_[src, nu].astype(int),
        v=np.r_[net.indices, nv].astype(int),
        length=np.r_[net.length, [500.0] * k],
        infra=np.zeros(m + k),
    )
    order = np.lexsort((np.r_[net.indices, nv], np.r_[src, nu]))
    after.travel_time = np.r_[w2, [100] * k].astype(np.int32)[order]
    new, stats = update_travel_times(old, net, after, method=method)
    ref = network_times(after, dtype=dtype)
    np.testing.assert_array_equal(new, ref)
    assert not stats.full_recompute
    assert stats.pairs_changed == int(np.count_nonzero(ref != old))


# ------------------------------------------------------------------ the vectorised hub kernels
@pytest.mark.parametrize(
    ("kernel", "dtype", "sentinel"),
    [
        ("_pass_u16", np.uint16, 65535),
        ("_pass_i32", np.int32, 2**31 - 1),
        ("_pass_f", np.float32, np.inf),
    ],
)
def test_min_plus_pass_saturates_like_the_sentinel(kernel, dtype, sentinel):
    from fietsstad.engine import _incremental as inc

    f = getattr(inc, kernel)
    rng = np.random.default_rng(3)
    hi = 65535 if dtype == np.uint16 else 2**31 - 1
    edge = np.array([0, 1, hi // 2, hi - 2, hi - 1, hi], dtype=np.int64)
    for du in [0, 1, 7, hi // 2, hi - 2, hi - 1]:
        e = np.r_[edge, rng.integers(0, hi, 500, endpoint=True)].astype(dtype)
        row = np.r_[edge[::-1], rng.integers(0, hi, 500, endpoint=True)].astype(dtype)
        if dtype == np.float32:
            e[e == hi] = np.inf
            row[row == hi] = np.inf
        want = min_plus_pass(row, e, du, sentinel)
        got = row.copy()
        f(got, e, dtype(du))
        np.testing.assert_array_equal(got.astype(want.dtype), want)
    # saturation: the largest finite values plus anything positive become the sentinel, never wrap
    top = np.inf if dtype == np.float32 else hi
    row = np.full(3, top, dtype)
    f(row, np.array([top if dtype == np.float32 else hi - 1, 1, 0], dtype), dtype(1))
    assert row.tolist() == [top, 2, 1]


def _compare_all_modes(old, before, after, dtype):
    """hubs (copy and in place) and repair against scipy on the new network; returns hubs stats."""
    ref = network_times(after, dtype=dtype)
    new, stats = update_travel_times(old, before, after, method="hubs")
    np.testing.assert_array_equal(new, ref)
    buf = old.copy()
    new2, stats2 = update_travel_times(buf, before, after, method="hubs", inplace=True)
    assert new2 is buf
    np.testing.assert_array_equal(buf, ref)
    rep, rstats = update_travel_times(old, before, after, method="repair")
    np.testing.assert_array_equal(rep, ref)
    changed = int(np.count_nonzero(ref != old))
    assert stats.pairs_changed == stats2.pairs_changed == rstats.pairs_changed == changed
    rows_changed = int(np.count_nonzero((ref != old).any(axis=1)))
    assert stats.sources_touched == rows_changed == rstats.sources_touched
    return stats


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32])
def test_two_corridors_and_a_new_link_on_a_generated_network(dtype):
    from fietsstad.scenario import Snelfietspad

    net = fietsstad.generate_network(n_nodes=600, seed=11)  # GENERATED, not OSM
    old = network_times(net, dtype=dtype)
    lon0, lat0, lon1, lat1 = (
        float(net.x.min()),
        float(net.y.min()),
        float(net.x.max()),
        float(net.y.max()),
    )
    a = Snelfietspad.from_waypoints(
        [
            (lon0 + 0.1 * (lon1 - lon0), lat0 + 0.2 * (lat1 - lat0)),
            (lon0 + 0.9 * (lon1 - lon0), lat0 + 0.3 * (lat1 - lat0)),
        ]
    ).resolve(net)
    mid = a.network
    b = Snelfietspad.from_waypoints(
        [
            (lon0 + 0.5 * (lon1 - lon0), lat0 + 0.1 * (lat1 - lat0)),
            (lon0 + 0.4 * (lon1 - lon0), lat0 + 0.9 * (lat1 - lat0)),
        ]
    ).resolve(mid)
    after = b.network
    # plus a brand-new fast one-way link between two far-apart nodes
    src = after.edge_sources()
    far = (int(np.argmin(after.x + after.y)), int(np.argmax(after.x + after.y)))
    both = BikeNetwork.from_edges(
        x=after.x,
        y=after.y,
        node_id=after.node_id,
        u=np.r_[src, far[0]],
        v=np.r_[after.indices, far[1]],
        length=np.r_[after.length, 100.0],
        infra=np.r_[after.infra, 0],
    )
    order = np.lexsort((np.r_[after.indices, far[1]], np.r_[src, far[0]]))
    both.travel_time = np.r_[after.travel_time, 30.0][order]
    stats = _compare_all_modes(old, net, both, dtype)
    assert stats.changed_arcs >= 3 and 0 < stats.entries_per_source
    # the new one-way link helps one direction only
    ref = network_times(both, dtype=dtype)
    assert ref[far[0], far[1]] <= 300 < ref[far[1], far[0]]  # deciseconds


def test_one_way_corridor_and_unreachable_pairs_keep_their_sentinels():
    # two strongly connected islands {0..4} and {5..9}; a new fast ONE-WAY corridor 2 -> 6 -> 7
    u = [0, 1, 1, 2, 2, 3, 3, 4, 4, 0, 5, 6, 6, 7, 7, 8, 8, 9, 9, 5]
    v = [1, 0, 2, 1, 3, 2, 4, 3, 0, 4, 6, 5, 7, 6, 8, 7, 9, 8, 5, 9]
    w = [60] * len(u)
    net = _net(10, u, v, w)
    after = _net(10, u + [2, 6], v + [6, 7], w + [40, 5])  # new arcs; 6 -> 7 faster than 60
    for dtype, sentinel in [(np.uint16, 65535), (np.int32, 2**31 - 1), (np.float32, np.inf)]:
        old = network_times(net, dtype=dtype)
        assert old[0, 9] == sentinel and old[9, 0] == sentinel
        _compare_all_modes(old, net, after, dtype)
        new, _ = update_travel_times(old, net, after)
        assert new[2, 6] == 400 and new[2, 7] == 450  # deciseconds
        assert new[0, 7] == (120 + 40 + 5) * 10  # 0-1-2-6-7
        assert new[0, 5] == (120 + 40 + 60) * 10  # 0-1-2-6-5
        assert (new[5:, :5] == sentinel).all()  # still no way back


def test_uint16_saturation_across_the_corridor():
    # 0 -(30000)-> 1 -(w)-> 2 -(35000)-> 3 deciseconds; the corridor arc 1 -> 2 gets faster
    net = _net(4, [0, 1, 2], [1, 2, 3], [3_000, 100, 3_500])
    old = network_times(net)
    assert old[0, 3] == 65535  # 66 000 ds does not fit
    for w12, want in [(53.6, 65535), (53.5, 65535), (53.4, 65534), (0.1, 65001)]:
        after = _with_weights(net, [3_000, w12, 3_500])
        for method in ("hubs", "repair"):
            new, stats = update_travel_times(old, net, after, method=method)
            assert new[0, 3] == want, (w12, method)
            np.testing.assert_array_equal(new, network_times(after))


def test_full_travel_times_refuses_uint16_overflow_instead_of_marking_unreachable():
    """uint16 deciseconds end at 6,553.4 s: a reachable pair beyond is an error, never 65535."""
    from fietsstad.errors import ValidationError
    from fietsstad.network import BikeNetwork
    from fietsstad.scenario.incremental import full_travel_times

    # 0 -> 1 -> 2, 4,000 s each (20 km at 18 km/h): 0 -> 2 takes 8,000 s
    net = BikeNetwork.from_edges(
        x=np.array([6.0, 6.3, 6.6]), y=np.full(3, 52.5), node_id=np.arange(3),
        u=np.array([0, 1]), v=np.array([1, 2]), length=np.array([20_000.0, 20_000.0]),
        infra=np.array([0, 0]),
    )  # fmt: skip
    wide = full_travel_times(net, dtype=np.int32)
    assert wide[0, 2] == 2 * wide[0, 1] and wide[0, 2] > 65_534
    with pytest.raises(ValidationError, match="int32"):
        full_travel_times(net)
    assert full_travel_times(net, [1])[0, 2] == wide[1, 2]  # within range: unchanged
    assert full_travel_times(net, [2])[0, 0] == 65535  # truly unreachable: the sentinel
