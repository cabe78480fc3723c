"""A profile switch re-customizes the street topology's CCH instead of rebuilding a hierarchy.

Every matrix is compared with scipy's Dijkstra (:func:`naive.network_times`) on the switched
network's own weights; times are integers (deciseconds summed, rounded half up to seconds only
at the output), so equality is exact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fietsstad import settings
from fietsstad.engine import _cch, _ch, travel_times
from fietsstad.network.generate import generate_network
from naive import network_times

I32_UNREACHABLE = 2**31 - 1


def _scipy_seconds(net, sources=None) -> np.ndarray:
    """scipy's times of ``net`` in the engine's output convention (int32 seconds)."""
    ticks = network_times(net, sources, dtype=np.float64)
    secs = np.floor((ticks + 5) / 10)  # deciseconds -> seconds, half up
    return np.where(np.isfinite(secs), secs, I32_UNREACHABLE).astype(np.int64)


def _phast(net, sources=None) -> np.ndarray:
    """The matrix of ``net`` through whatever hierarchy is memoised for its graph."""
    return travel_times(net.engine_graph(), sources, method="phast", dtype=np.int32)


@pytest.fixture(autouse=True)
def _fresh_memos():
    """No hierarchy or CCH of an earlier test is at hand."""
    _ch._MEMO.clear()
    _cch._TOPO.clear()
    yield
    _ch._MEMO.clear()
    _cch._TOPO.clear()


def test_switch_recustomizes_and_equals_scipy_on_the_ebike_weights():
    net = generate_network(n_nodes=600, seed=21)  # GENERATED
    bike = net.hierarchy()
    cch = _cch.find_cch(net.engine_graph(), net.x, net.y)
    assert cch is not None and _ch.find_ch(net.engine_graph()) is bike
    np.testing.assert_array_equal(_phast(net), _scipy_seconds(net))
    ebike = net.with_profile("ebike")
    g = ebike.engine_graph()
    assert not np.array_equal(g.weights, net.engine_graph().weights)
    h = _ch.find_ch(g)  # customized by with_profile: travel_times builds nothing
    assert h is not None and h.key == g.content_hash()
    assert np.array_equal(h.rank, cch.rank)  # the topology's order, not a new CH order
    assert _cch.find_cch(g, ebike.x, ebike.y) is cch  # same topology, same CCH
    np.testing.assert_array_equal(_phast(ebike), _scipy_seconds(ebike))
    # and back: the bike weights again, from the same CCH
    again = ebike.with_profile("bike")
    np.testing.assert_array_equal(_phast(again), _scipy_seconds(net))


def test_switch_on_a_network_never_routed_stays_lazy():
    net = generate_network(n_nodes=200, seed=22)  # GENERATED
    ebike = net.with_profile("ebike")
    assert _ch.find_ch(ebike.engine_graph()) is None
    assert not _cch._TOPO


def test_topology_order_is_stored_and_reused_from_the_cache_folder():
    net = generate_network(n_nodes=400, seed=23)  # GENERATED
    net.hierarchy()
    g = net.engine_graph()
    order = _cch.find_cch(g, net.x, net.y).order.copy()
    key = _cch.topology_key(g, net.x, net.y)
    files = list((settings.cache_dir / "cch").glob(f"{key}.fsa"))
    assert len(files) == 1
    _ch._MEMO.clear()
    _cch._TOPO.clear()
    # a new process finds only the file: its order is used, no hierarchy is built for it
    again = generate_network(n_nodes=400, seed=23)
    np.testing.assert_array_equal(again._topology().order, order)
    assert _ch.find_ch(again.engine_graph()) is None
    np.testing.assert_array_equal(
        _phast(again.with_profile("ebike")), _scipy_seconds(again.with_profile("ebike"))
    )
    # a damaged file is rebuilt, never trusted
    files[0].write_bytes(files[0].read_bytes()[:-7])
    _ch._MEMO.clear()
    _cch._TOPO.clear()
    with pytest.warns(Warning):
        net.hierarchy()
    np.testing.assert_array_equal(_phast(net), _scipy_seconds(net))


def test_switch_after_plain_routing_derives_the_topology_from_its_hierarchy():
    net = generate_network(n_nodes=500, seed=25)  # GENERATED
    first = _phast(net)  # the engine builds a contraction hierarchy (no CCH yet)
    ch = _ch.find_ch(net.engine_graph())
    assert ch is not None and not _cch._TOPO
    ebike = net.with_profile("ebike")
    h = _ch.find_ch(ebike.engine_graph())
    assert h is not None
    cch = _cch.find_cch(net.engine_graph(), net.x, net.y)
    np.testing.assert_array_equal(
        cch.order, _cch.hybrid_order(net.engine_graph(), ch, net.x, net.y)
    )
    np.testing.assert_array_equal(_phast(ebike), _scipy_seconds(ebike))
    np.testing.assert_array_equal(first, _scipy_seconds(net))


def test_scenario_edit_on_a_corridor_recustomizes_exactly():
    net = generate_network(n_nodes=600, seed=24)  # GENERATED
    net.hierarchy()
    cch = _cch.find_cch(net.engine_graph(), net.x, net.y)
    # a fast corridor: every edge with both ends in a band across the network takes a third
    src = net.edge_sources()
    band = np.abs(net.y - np.median(net.y)) < 0.15 * np.ptp(net.y)
    corridor = band[src] & band[net.indices]
    assert 20 < corridor.sum() < net.n_edges // 2
    tt = np.where(corridor, np.maximum(net.travel_time / 3, 0.1), net.travel_time)
    edited = replace(net, travel_time=np.round(tt, 1), meta=dict(net.meta))
    h = edited.hierarchy()
    assert _cch.find_cch(edited.engine_graph(), edited.x, edited.y) is cch
    assert np.array_equal(h.rank, cch.rank)
    before, after = _phast(net), _phast(edited)
    np.testing.assert_array_equal(after, _scipy_seconds(edited))
    assert np.all(after <= before) and np.any(after < before)


@pytest.mark.slow
def test_liechtenstein_switch_equals_scipy(liechtenstein_pbf):
    from fietsstad.network.osm import load_network

    net = load_network(file=liechtenstein_pbf)  # real OSM
    net.hierarchy()
    ebike = net.with_profile("ebike")
    assert _ch.find_ch(ebike.engine_graph()) is not None
    src = np.arange(0, net.n_nodes, max(1, net.n_nodes // 150))
    np.testing.assert_array_equal(_phast(ebike, src), _scipy_seconds(ebike, src))
    np.testing.assert_array_equal(_phast(net, src), _scipy_seconds(net, src))
