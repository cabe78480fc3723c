"""Generated networks: determinism, size, structure, costs, barriers, conversions, bad input.

Oracles are independent of the generator: scipy.sparse.csgraph (components, Dijkstra), networkx,
shapely (barrier and planarity geometry), pyproj.Geod (edge lengths) and the profile tables.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from fietsstad import BikeNetwork, Infra, ValidationError, get_profile
from fietsstad.network import generate_network
from fietsstad.zwolle import ZWOLLE_BBOX

_ARRAYS = (
    "x",
    "y",
    "node_id",
    "indptr",
    "indices",
    "length",
    "speed_kmh",
    "delay",
    "travel_time",
    "infra",
    "unpaved",
    "contraflow",
    "way_id",
    "name",
    "node_signal",
)


@pytest.fixture(scope="module")
def net20k() -> BikeNetwork:
    return generate_network(20_000, seed=0)


@pytest.fixture(scope="module")
def net3k() -> BikeNetwork:
    return generate_network(3_000, seed=5)


def _n_scc(net: BikeNetwork) -> int:
    A = csr_matrix((np.ones(net.n_edges), net.indices, net.indptr), shape=(net.n_nodes,) * 2)
    return connected_components(A, directed=True, connection="strong")[0]


def _edge_lines(net: BikeNetwork, mask: np.ndarray | None = None):
    s, t = net.edge_sources(), net.indices
    if mask is not None:
        s, t = s[mask], t[mask]
    return shapely.linestrings(np.stack([np.c_[net.x[s], net.y[s]], np.c_[net.x[t], net.y[t]]], 1))


def _grid_rc(net: BikeNetwork) -> tuple[np.ndarray, np.ndarray]:
    _, n_cols = net.meta["grid_shape"]
    return np.divmod(net.node_id, n_cols)


# ------------------------------------------------------------------ determinism and size
def test_same_seed_gives_identical_arrays_and_other_seed_differs():
    a = generate_network(2_000, seed=11)
    b = generate_network(2_000, seed=11)
    c = generate_network(2_000, seed=12)
    for name in _ARRAYS:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.meta == b.meta
    assert a.x.tobytes() != c.x.tobytes()
    assert a.n_edges != c.n_edges or a.indices.tobytes() != c.indices.tobytes()


@pytest.mark.parametrize(("n", "tol"), [(1_000, 0.05), (20_000, 0.03), (200_000, 0.03)])
def test_size_within_tolerance_and_one_strong_component(n, tol):
    net = generate_network(n, seed=3)
    assert abs(net.n_nodes - n) <= tol * n, net.n_nodes
    assert _n_scc(net) == 1
    # about three directed edges per node, like a real city graph (Zwolle: 63,462 / 20,095 = 3.16)
    assert 2.8 <= net.n_edges / net.n_nodes <= 3.4
    assert net.meta["dropped_nodes"] == net.meta["raw_nodes"] - net.n_nodes


def test_twenty_thousand_node_network_is_city_like(net20k):
    net = net20k
    kinds = set(np.unique(net.infra).tolist())
    assert {
        Infra.CYCLE_PATH,
        Infra.CYCLE_LANE,
        Infra.CYCLE_STREET,
        Infra.MIXED,
        Infra.MAIN_ROAD,
    } <= kinds
    assert net.unpaved.any() and not net.unpaved.all()
    # dead ends exist (removed segments), and most nodes are junctions
    out_deg = np.diff(net.indptr)
    undirected = {
        (min(a, b), max(a, b)) for a, b in zip(net.edge_sources().tolist(), net.indices.tolist())
    }
    deg = np.bincount(np.array(list(undirected)).ravel(), minlength=net.n_nodes)
    assert (deg == 1).sum() > 0.01 * net.n_nodes
    assert (deg >= 3).sum() > 0.4 * net.n_nodes
    assert out_deg.min() >= 1


# ------------------------------------------------------------------ geometry
def test_nodes_inside_bbox_default_zwolle_and_custom():
    net = generate_network(1_000, seed=1)
    x0, y0, x1, y1 = ZWOLLE_BBOX
    assert np.all((net.x >= x0) & (net.x <= x1) & (net.y >= y0) & (net.y <= y1))
    assert net.meta["parameters"]["bbox"] == list(ZWOLLE_BBOX)
    box = (4.85, 52.33, 4.95, 52.40)  # somewhere else entirely
    other = generate_network(1_000, seed=1, bbox=box)
    assert np.all((other.x >= box[0]) & (other.x <= box[2]))
    assert np.all((other.y >= box[1]) & (other.y <= box[3]))


def test_lengths_match_geodesic_and_no_edge_is_long(net20k):
    net = net20k
    s, t = net.edge_sources(), net.indices
    _, _, dist = Geod(ellps="WGS84").inv(net.x[s], net.y[s], net.x[t], net.y[t])
    np.testing.assert_allclose(net.length, dist, rtol=5e-3)
    # grid spacing: about sqrt(area / nodes); no edge (bridges included) is more than a few spacings
    spacing = float(np.median(net.length[~np.isin(net.infra, [Infra.CYCLE_PATH])]))
    assert 60 < spacing < 200  # 20k nodes over Zwolle's 14 x 16 km box
    assert net.length.max() < 3 * spacing


def test_planar_no_two_street_segments_cross(net3k):
    net = net3k
    s, t = net.edge_sources(), net.indices
    lines = _edge_lines(net, s < t)  # one of each direction pair suffices for crossings
    lines = np.concatenate([lines, _edge_lines(net, (s > t) & ~_has_reverse(net))])
    tree = shapely.STRtree(lines)
    i, j = tree.query(lines, predicate="crosses")
    assert len(i) == 0


def _has_reverse(net: BikeNetwork) -> np.ndarray:
    s, t = net.edge_sources().astype(np.int64), net.indices.astype(np.int64)
    keys = s * net.n_nodes + t
    rev = t * net.n_nodes + s
    return np.isin(rev, keys)


def _main_line_edges(net: BikeNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Edges running along a main row or column (from grid positions), and all edges' diagonality."""
    k = net.meta["parameters"]["main_road_every"]
    r_off, c_off = net.meta["main_offset"]
    r, c = _grid_rc(net)
    s, t = net.edge_sources(), net.indices
    along = ((r[s] == r[t]) & (r[s] % k == r_off)) | ((c[s] == c[t]) & (c[s] % k == c_off))
    diagonal = (r[s] != r[t]) & (c[s] != c[t])
    return along, diagonal


def test_main_roads_are_complete_two_way_and_carry_main_infra(net20k):
    net = net20k
    along, diagonal = _main_line_edges(net)
    main_kinds = [Infra.CYCLE_PATH, Infra.CYCLE_LANE, Infra.MAIN_ROAD]
    assert np.all(np.isin(net.infra[along], main_kinds))
    quiet = ~along & ~diagonal
    assert np.all(np.isin(net.infra[quiet], [Infra.MIXED, Infra.CYCLE_STREET]))
    assert np.all(net.infra[diagonal] == Infra.CYCLE_PATH)
    assert np.all(_has_reverse(net)[along]) and not net.contraflow[along].any()
    # every main-road segment between two surviving nodes exists, unless it crosses a barrier
    n_rows, n_cols = net.meta["grid_shape"]
    k = net.meta["parameters"]["main_road_every"]
    r_off, c_off = net.meta["main_offset"]
    pos = np.full(n_rows * n_cols, -1)
    pos[net.node_id] = np.arange(net.n_nodes)
    rows = np.arange(r_off, n_rows, k)
    cols = np.arange(c_off, n_cols, k)
    a = np.concatenate(
        [
            (rows[:, None] * n_cols + np.arange(n_cols - 1)).ravel(),
            (np.arange(n_rows - 1)[:, None] * n_cols + cols).ravel(),
        ]
    )
    b = np.concatenate([a[: len(rows) * (n_cols - 1)] + 1, a[len(rows) * (n_cols - 1) :] + n_cols])
    both = (pos[a] >= 0) & (pos[b] >= 0)
    pa, pb = pos[a][both], pos[b][both]
    seg = shapely.linestrings(
        np.stack([np.c_[net.x[pa], net.y[pa]], np.c_[net.x[pb], net.y[pb]]], 1)
    )
    cut = np.zeros(len(pa), dtype=bool)
    for bar in net.meta["barriers"]:
        cut |= shapely.intersects(seg, shapely.LineString(bar["lonlat"]))
    keys = set((net.edge_sources().astype(np.int64) * net.n_nodes + net.indices).tolist())
    present = np.array([int(x) * net.n_nodes + int(y) in keys for x, y in zip(pa, pb)])
    bridge_pairs = {tuple(sorted(p)) for bar in net.meta["barriers"] for p in bar["bridges"]}
    is_bridge = np.array(
        [
            tuple(sorted((int(x), int(y)))) in bridge_pairs
            for x, y in zip(net.node_id[pa], net.node_id[pb])
        ]
    )
    assert np.all(present[~cut])
    assert np.all(present[cut] == is_bridge[cut])


@pytest.mark.parametrize("share", [0.0, 0.5, 0.9])
def test_cycle_path_share_controls_main_road_facilities(share):
    net = generate_network(20_000, seed=2, cycle_path_share=share)
    along, _ = _main_line_edges(net)
    got = float(net.length[along & (net.infra == Infra.CYCLE_PATH)].sum() / net.length[along].sum())
    assert abs(got - share) < 0.08
    lane = float(
        net.length[along & (net.infra == Infra.CYCLE_LANE)].sum() / net.length[along].sum()
    )
    assert abs(lane - (1 - share) / 2) < 0.08


def test_no_self_loops_or_parallel_edges(net20k):
    s, t = net20k.edge_sources().astype(np.int64), net20k.indices.astype(np.int64)
    assert np.all(s != t)
    assert len(np.unique(s * net20k.n_nodes + t)) == net20k.n_edges


# ------------------------------------------------------------------ barriers
def test_segment_intersection_helper_matches_shapely():
    from fietsstad.network.generate import _segments_intersect

    rng = np.random.default_rng(0)
    p, q, r, s = rng.random((4, 3000, 2))
    # exactly touching cases on integer coordinates (an end on the other segment, shared ends, a T)
    p[:3], q[:3] = [[0, 0], [0, 0], [0, 1]], [[2, 2], [1, 1], [2, 1]]
    r[:3], s[:3] = [[1, 1], [1, 1], [1, 0]], [[3, 0], [5, 1], [1, 1]]
    got = _segments_intersect(p, q, r, s)
    assert got[:3].all()
    ref = shapely.intersects(
        shapely.linestrings(np.stack([p, q], 1)), shapely.linestrings(np.stack([r, s], 1))
    )
    assert got.any() and not got.all()
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("seed", [0, 4])
def test_barriers_are_crossed_only_at_bridges(seed):
    net = generate_network(8_000, seed=seed, bridges_per_barrier=3)
    barriers = net.meta["barriers"]
    assert [b["kind"] for b in barriers] == ["river", "railway"]
    pos = {nid: i for i, nid in enumerate(net.node_id.tolist())}
    lines = _edge_lines(net)
    s, t = net.edge_sources(), net.indices
    for b in barriers:
        assert len(b["bridges"]) == 3
        barrier = shapely.LineString(b["lonlat"])
        hits = np.flatnonzero(shapely.intersects(lines, barrier))
        assert len(hits) == 2 * len(b["bridges"])  # each bridge, both directions
        hit_pairs = {(min(s[e], t[e]), max(s[e], t[e])) for e in hits.tolist()}
        bridge_pairs = {tuple(sorted((pos[a], pos[c]))) for a, c in b["bridges"]}
        assert hit_pairs == bridge_pairs
        # without its bridges the barrier splits the network in two (weakly)
        keep = np.ones(net.n_edges, dtype=bool)
        keep[hits] = False
        A = csr_matrix((np.ones(keep.sum()), (s[keep], t[keep])), shape=(net.n_nodes,) * 2)
        assert connected_components(A, directed=True, connection="weak")[0] >= 2


def test_no_barriers_option():
    net = generate_network(1_000, seed=2, n_barriers=0)
    assert net.meta["barriers"] == []
    assert _n_scc(net) == 1


# ------------------------------------------------------------------ costs, signals, one-ways
@pytest.mark.parametrize("profile", ["bike", "ebike"])
def test_travel_time_is_rounded_length_over_speed_plus_delay(profile):
    net = generate_network(3_000, seed=8, profile=profile)
    prof = get_profile(profile)
    speed = np.array([prof.speed(int(c), bool(u)) for c, u in zip(net.infra, net.unpaved)])
    np.testing.assert_array_equal(net.speed_kmh, speed.astype(np.float32))
    length = net.length.astype(np.float64)
    expected = np.maximum(np.rint(length * 36.0 / speed + net.delay * 10.0), 1) / 10  # 0.1 s
    np.testing.assert_array_equal(net.travel_time, expected)
    assert net.profile == profile


def test_signals_at_main_junctions_and_delays(net20k):
    net = net20k
    prof = get_profile("bike")
    k = net.meta["parameters"]["main_road_every"]
    r_off, c_off = net.meta["main_offset"]
    r, c = _grid_rc(net)
    main_junction = (r % k == r_off) & (c % k == c_off)
    on_main = (r % k == r_off) | (c % k == c_off)
    np.testing.assert_array_equal(net.node_signal, main_junction)
    assert net.node_signal.sum() > 100
    head = net.indices
    into_signal = net.node_signal[head]
    assert np.all(net.delay[into_signal] == prof.signal_delay_s)
    # by hand from grid positions: riding along a main road costs nothing at its minor junctions;
    # joining or crossing a main road from a side street or path costs the crossing delay
    rs, cs = r[net.edge_sources()], c[net.edge_sources()]
    rt, ct = r[head], c[head]
    along_main = ((rs == rt) & (rs % k == r_off)) | ((cs == ct) & (cs % k == c_off))
    expected = np.where(
        into_signal,
        prof.signal_delay_s,
        np.where(on_main[head] & ~along_main, prof.crossing_delay_s, 0),
    )
    np.testing.assert_array_equal(net.delay, expected)
    assert (net.delay == prof.crossing_delay_s).sum() > 100


def test_with_profile_reproduces_the_generated_costs():
    bike = generate_network(3_000, seed=9)
    ebike = generate_network(3_000, seed=9, profile="ebike")
    np.testing.assert_array_equal(bike.with_profile("bike").travel_time, bike.travel_time)
    np.testing.assert_array_equal(bike.with_profile("ebike").travel_time, ebike.travel_time)
    np.testing.assert_array_equal(bike.indices, ebike.indices)


def test_contraflow_and_strict_oneways(net20k):
    net = net20k
    s, t = net.edge_sources().astype(np.int64), net.indices.astype(np.int64)
    n = net.n_nodes
    key = s * n + t
    order = np.argsort(key)
    cf = np.flatnonzero(net.contraflow)
    assert len(cf) > 50
    rev = order[np.searchsorted(key[order], t[cf] * n + s[cf])]
    assert np.all(key[rev] == t[cf] * n + s[cf])  # the with-flow edge exists
    assert not net.contraflow[rev].any()
    np.testing.assert_array_equal(net.infra[rev], net.infra[cf])
    np.testing.assert_allclose(net.length[rev], net.length[cf], rtol=1e-6)
    strict = ~_has_reverse(net)
    assert strict.sum() > 10  # some streets are one-way for bikes too
    assert np.all(net.infra[strict] == Infra.MIXED)
    assert 0 < net.summary()["contraflow_share"] < 0.2


# ------------------------------------------------------------------ provenance
def test_meta_and_describe_say_generated(net20k):
    m = net20k.meta
    assert m["source"] == "generated" and m["generated"] is True and m["seed"] == 0
    assert m["description"].startswith(
        "GENERATED street-like network (synthetic, not OpenStreetMap)"
    )
    assert m["parameters"]["n_nodes"] == 20_000
    assert net20k.describe().startswith("GENERATED")
    assert "generated" in repr(net20k)
    extra = generate_network(200, seed=1, description="demo over Zwolle")
    assert extra.to_networkx().graph["generated"] is True
    assert extra.meta["description"].endswith("demo over Zwolle")


def test_save_load_round_trip_keeps_meta(tmp_path, net3k):
    p = net3k.save(tmp_path / "gen.fsn")
    back = BikeNetwork.load(p)
    assert back.meta["barriers"][0]["bridges"] == net3k.meta["barriers"][0]["bridges"]
    assert back.is_generated
    np.testing.assert_array_equal(back.travel_time, net3k.travel_time)


# ------------------------------------------------------------------ conversions
def test_networkx_round_trip_and_dijkstra_agree():
    net = generate_network(1_500, seed=6)
    G = net.to_networkx()
    assert G.number_of_nodes() == net.n_nodes
    assert G.number_of_edges() == net.n_edges
    indptr, indices, w = net.csr("travel_time_ticks")  # integer deciseconds: exact sums
    A = csr_matrix((w.astype(np.float64), indices, indptr), shape=(net.n_nodes,) * 2)
    sources = [0, net.n_nodes // 2, net.n_nodes - 1]
    dist = dijkstra(A, directed=True, indices=sources)
    for row, src in zip(dist, sources):
        ref = nx.single_source_dijkstra_path_length(
            G, int(net.node_id[src]), weight="travel_time_ticks"
        )
        got = {int(net.node_id[i]): int(d) for i, d in enumerate(row)}
        assert got == {k: int(v) for k, v in ref.items()}
        assert np.isfinite(row).all()  # one strongly connected component


# ------------------------------------------------------------------ property test
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(100, 2_500),
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(3, 12),
    removal=st.floats(0.0, 0.4),
    n_barriers=st.integers(0, 2),
    bridges=st.integers(2, 6),
)
def test_invariants_hold_for_any_parameters(n, seed, k, removal, n_barriers, bridges):
    net = generate_network(
        n,
        seed=seed,
        main_road_every=k,
        removal_share=removal,
        n_barriers=n_barriers,
        bridges_per_barrier=bridges,
    )
    assert _n_scc(net) == 1
    assert net.n_nodes >= 0.8 * n
    lines = _edge_lines(net)
    for b in net.meta["barriers"]:
        hits = shapely.intersects(lines, shapely.LineString(b["lonlat"])).sum()
        assert hits == 2 * len(b["bridges"])
        assert 1 <= len(b["bridges"]) <= bridges
    assert np.all(net.travel_time >= 1) and np.all(net.length > 0)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_nodes": 5},
        {"n_nodes": 10**9},
        {"n_nodes": 1_000.5},
        {"n_nodes": True},
        {"seed": -1},
        {"bbox": (200_000.0, 480_000.0, 210_000.0, 490_000.0)},  # RD metres, not lon/lat
        {"bbox": (6.2, 52.4, 6.0, 52.6)},  # min > max
        {"bbox": "Zwolle"},
        {"main_road_every": 1},
        {"cycle_path_share": 1.5},
        {"oneway_share": -0.1},
        {"removal_share": 0.9},
        {"n_barriers": 3},
        {"bridges_per_barrier": 0},
        {"profile": "unicycle"},
    ],
)
def test_bad_input_raises_validation_error(kwargs):
    args = {"n_nodes": 500, **kwargs}
    with pytest.raises(ValidationError):
        generate_network(**args)
