"""Route choice: path-size logit against hand-computed cases, all-or-nothing, real OSM networks."""

from __future__ import annotations

import dataclasses
import math

import networkx as nx
import numpy as np
import pytest

from fietsstad import settings
from fietsstad.demand.assignment import THETA_PER_MIN, assign, route_alternatives
from fietsstad.errors import ValidationError
from fietsstad.network import BikeNetwork, generate_network, load_network


def _net(u, v, length, time) -> BikeNetwork:
    n = max(max(u), max(v)) + 1
    order = np.lexsort((np.asarray(v), np.asarray(u)))
    net = BikeNetwork.from_edges(
        x=np.linspace(6.0, 6.01, n), y=np.full(n, 52.5), node_id=np.arange(n),
        u=np.asarray(u), v=np.asarray(v), length=np.asarray(length, float),
        infra=np.zeros(len(u), int),
    )  # fmt: skip
    return dataclasses.replace(net, travel_time=np.asarray(time, np.int32)[order])


def _edge(net: BikeNetwork, a: int, b: int) -> int:
    src = net.edge_sources()
    return int(np.flatnonzero((src == a) & (net.indices == b))[0])


def _logit(v) -> np.ndarray:
    e = np.exp(np.asarray(v) - max(v))
    return e / e.sum()


@pytest.mark.parametrize(
    "t1, t2, theta", [(600, 780, THETA_PER_MIN), (300, 330, 1.0), (90, 90, 0.3)]
)
def test_two_disjoint_routes_follow_the_logit_formula(t1, t2, theta):
    # 0 -> 1 -> 3 and 0 -> 2 -> 3, disjoint, different lengths (path size 1 for both)
    net = _net([0, 1, 0, 2], [1, 3, 2, 3], [400.0, 600.0, 500.0, 900.0],
               [t1 // 2, t1 - t1 // 2, t2 // 2, t2 - t2 // 2])  # fmt: skip
    p1 = 1.0 / (1.0 + math.exp(-theta * (t2 - t1) / 60.0))
    res = assign(net, [0], [3], [200.0], theta_per_min=theta)
    assert res.route_count.tolist() == [2]
    assert res.edge_flow[_edge(net, 0, 1)] == pytest.approx(200 * p1, rel=1e-12)
    assert res.edge_flow[_edge(net, 2, 3)] == pytest.approx(200 * (1 - p1), rel=1e-12)
    routes = route_alternatives(net, 0, 3, theta_per_min=theta)
    assert sorted(r["probability"] for r in routes) == pytest.approx(
        sorted([p1, 1 - p1]), rel=1e-12
    )
    aon = assign(net, [0], [3], [200.0], route_choice="aon")
    assert aon.route_count.tolist() == [1]
    fast = (0, 1) if t1 <= t2 else (0, 2)
    assert aon.edge_flow[_edge(net, *fast)] == 200.0


def test_overlapping_routes_get_the_path_size_correction():
    # shared 0 -> 1 (400 m, 100 s); then 1 -> 2 -> 4 (300 + 300 m, 150 + 150 s) or
    # 1 -> 3 -> 4 (400 + 400 m, 200 + 200 s)
    net = _net([0, 1, 2, 1, 3], [1, 2, 4, 3, 4], [400.0, 300, 300, 400, 400],
               [100, 150, 150, 200, 200])  # fmt: skip
    ps_a = (400 / 1000) / 2 + 600 / 1000  # 0.8
    ps_b = (400 / 1200) / 2 + 800 / 1200  # 0.8333...
    theta, beta = 0.5, 1.0
    p = _logit(
        [-theta * 400 / 60 + beta * math.log(ps_a), -theta * 500 / 60 + beta * math.log(ps_b)]
    )
    res = assign(net, [0], [4], [10.0], theta_per_min=theta, beta_ps=beta)
    assert res.edge_flow[_edge(net, 0, 1)] == pytest.approx(10.0, rel=1e-12)
    assert res.edge_flow[_edge(net, 1, 2)] == pytest.approx(10 * p[0], rel=1e-12)
    assert res.edge_flow[_edge(net, 1, 3)] == pytest.approx(10 * p[1], rel=1e-12)
    assert res.expected_length_m[0] == pytest.approx(1000 * p[0] + 1200 * p[1], rel=1e-12)
    # without the path-size term the shares are the plain logit ones
    q = _logit([-theta * 400 / 60, -theta * 500 / 60])
    res0 = assign(net, [0], [4], [10.0], theta_per_min=theta, beta_ps=0.0)
    assert res0.edge_flow[_edge(net, 1, 2)] == pytest.approx(10 * q[0], rel=1e-12)


def test_routes_much_longer_than_the_fastest_are_dropped():
    net = _net([0, 1, 0, 2], [1, 3, 2, 3], [400.0] * 4, [100, 100, 200, 200])  # 200 s vs 400 s
    assert assign(net, [0], [3], [1.0], max_ratio=1.5).route_count.tolist() == [1]
    assert assign(net, [0], [3], [1.0], max_ratio=2.0, penalty=3.0).route_count.tolist() == [2]


def _nx(net: BikeNetwork) -> nx.MultiDiGraph:
    """The independent oracle's graph, keyed by node position."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(net.n_nodes))
    # integer deciseconds, the engine's weights (exact sums); seconds are ticks / 10
    for a, b, t in zip(net.edge_sources().tolist(), net.indices.tolist(),
                       net.travel_time_ticks().tolist(), strict=True):  # fmt: skip
        G.add_edge(a, b, travel_time=t)
    return G


def _check_routes(net: BikeNetwork, pairs, G) -> None:
    """Every alternative is a connected path origin -> destination; fastest = networkx."""
    src = net.edge_sources()
    for o, d in pairs:
        routes = route_alternatives(net, int(o), int(d))
        truth = nx.shortest_path_length(G, int(o), int(d), weight="travel_time")
        assert routes[0]["time_s"] == pytest.approx(truth / 10, abs=1e-9)
        assert sum(r["probability"] for r in routes) == pytest.approx(1.0, abs=1e-12)
        seen = set()
        for r in routes:
            e = r["edges"]
            assert src[e[0]] == o and net.indices[e[-1]] == d
            assert np.array_equal(net.indices[e[:-1]], src[e[1:]])  # consecutive edges connect
            assert len(set(net.indices[e].tolist())) == len(e)  # simple path
            assert r["time_s"] == pytest.approx(net.travel_time[e].sum())
            assert r["time_s"] <= 1.5 * routes[0]["time_s"] + 1e-9
            assert tuple(e) not in seen
            seen.add(tuple(e))


def _check_conservation(net: BikeNetwork, o, d, q, res) -> None:
    """Node balance: out-flow minus in-flow at each node = trips starting minus trips ending."""
    src = net.edge_sources()
    out = np.bincount(src, weights=res.edge_flow, minlength=net.n_nodes)
    inn = np.bincount(net.indices, weights=res.edge_flow, minlength=net.n_nodes)
    keep = o != d
    want = np.bincount(o[keep], weights=q[keep], minlength=net.n_nodes) - np.bincount(
        d[keep], weights=q[keep], minlength=net.n_nodes
    )
    np.testing.assert_allclose(out - inn, want, atol=1e-9 * max(1.0, q.sum()))


def _pairs(net: BikeNetwork, n: int, seed: int):
    rng = np.random.default_rng(seed)
    o = rng.integers(0, net.n_nodes, n).astype(np.int32)
    d = rng.integers(0, net.n_nodes, n).astype(np.int32)
    return o, d, rng.uniform(0.5, 20.0, n)


def _flows_from_routes(net, o, d, q):
    flow = np.zeros(net.n_edges)
    for a, b, x in zip(o, d, q, strict=True):
        for r in route_alternatives(net, int(a), int(b)):
            np.add.at(flow, r["edges"], x * r["probability"])
    return flow


def _huge_theta_equals_aon(net, o, d, q):
    # pairs whose fastest route is unique among the alternatives (a tie splits the flow)
    uniq = []
    for i, (a, b) in enumerate(zip(o, d, strict=True)):
        times = sorted(r["time_s"] for r in route_alternatives(net, int(a), int(b)))
        if len(times) < 2 or times[1] > times[0]:
            uniq.append(i)
    uniq = np.asarray(uniq)
    big = assign(net, o[uniq], d[uniq], q[uniq], theta_per_min=1e6)
    aon = assign(net, o[uniq], d[uniq], q[uniq], route_choice="aon")
    np.testing.assert_allclose(big.edge_flow, aon.edge_flow, rtol=0, atol=1e-9)
    return len(uniq)


def test_generated_network_flows_conserved_and_routes_valid():
    net = generate_network(n_nodes=1500, seed=3)
    G = _nx(net)
    o, d, q = _pairs(net, 60, 1)
    res = assign(net, o, d, q)
    _check_conservation(net, o, d, q, res)
    np.testing.assert_allclose(res.edge_flow, _flows_from_routes(net, o, d, q), atol=1e-9)
    assert res.route_count[o != d].min() >= 1 and res.route_count.max() > 1
    _check_routes(net, list(zip(o[:15], d[:15], strict=True)), G)
    assert _huge_theta_equals_aon(net, o, d, q) > 30


@pytest.fixture(scope="module")
def liechtenstein(liechtenstein_pbf) -> BikeNetwork:
    old, settings.progress = settings.progress, False
    try:
        return load_network(file=liechtenstein_pbf).largest_scc()
    finally:
        settings.progress = old


def test_liechtenstein_flows_conserved_routes_valid_and_huge_theta_is_aon(liechtenstein):
    net = liechtenstein
    G = _nx(net)
    o, d, q = _pairs(net, 40, 7)
    corridor = np.zeros(net.n_edges, bool)
    corridor[np.argsort(-net.length)[:200]] = True
    res = assign(net, o, d, q, corridor=corridor)
    _check_conservation(net, o, d, q, res)
    np.testing.assert_allclose(res.edge_flow, _flows_from_routes(net, o, d, q), atol=1e-9)
    assert np.all((res.corridor_share >= 0) & (res.corridor_share <= 1 + 1e-12))
    assert res.unassigned == 0.0
    _check_routes(net, list(zip(o[:10], d[:10], strict=True)), G)
    assert _huge_theta_equals_aon(net, o, d, q) > 20


def test_bad_input_names_the_parameter():
    net = generate_network(n_nodes=200, seed=1)
    with pytest.raises(ValidationError, match="route_choice"):
        assign(net, [0], [5], [1.0], route_choice="probit")
    with pytest.raises(ValidationError, match="same length"):
        assign(net, [0, 1], [5], [1.0])
    with pytest.raises(ValidationError, match="flows"):
        assign(net, [0], [5], [-1.0])
    with pytest.raises(ValidationError, match="od_origins"):
        assign(net, [net.n_nodes], [5], [1.0])
    with pytest.raises(ValidationError, match="k must"):
        assign(net, [0], [5], [1.0], k=0)
    with pytest.raises(ValidationError, match="theta_per_min"):
        assign(net, [0], [5], [1.0], theta_per_min=-1.0)
    with pytest.raises(ValidationError, match="corridor"):
        assign(net, [0], [5], [1.0], corridor=np.zeros(3, bool))
