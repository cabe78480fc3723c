"""A junction's delay is paid once (docs/cycling_rules.md section 5).

Hand-built fixture tests/fixtures/osm/divided_road.osm: a residential way crossing a divided
road whose carriageways are 15 m apart with a signal on each (one junction: one delay), the same
200 m apart (two junctions: two delays), and 15 m apart without signals (one crossing delay).
The expected delays are written by hand from the rule, not computed by fietsstad.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FIXTURES_OSM
from fietsstad import engine, get_profile, load_network
from fietsstad.network.osm import junction_labels

FIX = FIXTURES_OSM / "divided_road.osm"
SIGNAL = round(get_profile("bike").signal_delay_s)  # 20 s
CROSSING = round(get_profile("bike").crossing_delay_s)  # 6 s


@pytest.fixture(scope="module", params=[False, True], ids=["full", "simplified"])
def net(request):
    return load_network(file=FIX, simplify=request.param)


def _delays_into(net, osm_id):
    """{tail OSM id: delay} of the edges into node ``osm_id``."""
    p = int(np.searchsorted(net.node_id, osm_id))
    src = net.edge_sources()
    return {int(net.node_id[src[e]]): int(net.delay[e]) for e in np.flatnonzero(net.indices == p)}


def _route_delay(net, a, b):
    """Junction delay summed along the fastest route from OSM node a to OSM node b."""
    pa, pb = (int(np.searchsorted(net.node_id, x)) for x in (a, b))
    _, delay = engine.travel_times(
        net.engine_graph(), [pa], dtype="int32", secondary=net.delay.astype(np.int32)
    )
    return int(delay[0, pb])


def test_fixture_is_one_component(net):
    assert net.meta["dropped_nodes"] == 0
    assert set(net.node_id[net.node_signal].tolist()) == {3002, 3012, 3102, 3112}


def test_signals_15_m_apart_are_one_junction(net):
    # entering the junction from outside pays: from the crossing way and along each carriageway
    assert _delays_into(net, 3012) == {3013: SIGNAL, 3020: SIGNAL, 3002: 0}
    assert _delays_into(net, 3002) == {3001: SIGNAL, 3021: SIGNAL, 3012: 0}
    # crossing the divided road costs one signal delay, not two (40 s before rules v2)
    assert _route_delay(net, 3020, 3021) == SIGNAL
    assert _route_delay(net, 3021, 3020) == SIGNAL


def test_signals_200_m_apart_are_two_junctions(net):
    assert _delays_into(net, 3112) == {3113: SIGNAL, 3120: SIGNAL, 3102: SIGNAL}
    assert _delays_into(net, 3102) == {3101: SIGNAL, 3121: SIGNAL, 3112: SIGNAL}
    assert _route_delay(net, 3120, 3121) == 2 * SIGNAL
    assert _route_delay(net, 3121, 3120) == 2 * SIGNAL


def test_unsignalled_divided_road_is_one_crossing(net):
    # a minor way entering a main-road node pays the crossing delay, main-road edges none;
    # the second carriageway of the same crossing is free
    assert _delays_into(net, 3212) == {3213: 0, 3220: CROSSING, 3202: 0}
    assert _delays_into(net, 3202) == {3201: 0, 3221: CROSSING, 3212: 0}
    assert _route_delay(net, 3220, 3221) == CROSSING
    assert _route_delay(net, 3221, 3220) == CROSSING


def test_full_and_simplified_routes_pay_the_same():
    full = load_network(file=FIX, simplify=False)
    simp = load_network(file=FIX, simplify=True)
    for a, b in ((3020, 3221), (3120, 3021), (3220, 3120), (3011, 3213)):
        assert _route_delay(full, a, b) == _route_delay(simp, a, b), (a, b)


def test_with_profile_keeps_junctions():
    bike = load_network(file=FIX)
    pedelec = load_network(file=FIX, profile="speed_pedelec")
    np.testing.assert_array_equal(bike.with_profile("speed_pedelec").delay, pedelec.delay)


# ------------------------------------------------------------------ junction_labels
_LAT = 52.5
_M = 1 / (111_195 * np.cos(np.deg2rad(_LAT)))  # one metre east, in degrees of longitude


def _labels(east_m, member, u, v, radius_m=25.0):
    lon = 6.0 + np.asarray(east_m, float) * _M
    lat = np.full(len(lon), _LAT)
    return junction_labels(lon, lat, np.asarray(member), np.asarray(u), np.asarray(v), radius_m)


def test_labels_chain_between_two_signals_is_inside():
    # signal 0 - 5 m - 10 m - signal 15 m - 300 m (outside)
    lab = _labels([0, 5, 10, 15, 300], [1, 0, 0, 1, 0], [0, 1, 2, 3], [1, 2, 3, 4])
    assert lab[0] == lab[1] == lab[2] == lab[3] >= 0 and lab[4] == -1


def test_labels_close_but_unconnected_signals_stay_apart():
    # a bridge: signals 10 m apart on two roads that only meet 400 m away
    east = [0, 10, 400, 200]
    u, v = [0, 1, 2], [3, 2, 3]  # 0 - 3 (200 m) - 2 (400 m) - 1: no short link between 0 and 1
    lab = _labels(east, [1, 1, 0, 0], u, v)
    assert lab[0] >= 0 and lab[1] >= 0 and lab[0] != lab[1]


def test_labels_node_with_a_way_out_is_not_inside():
    # 1 lies between the signals 0 and 2 but also leads to 3, outside: a route can enter the
    # junction through 1 without passing a signal, so 1 -> 2 must still pay
    lab = _labels([0, 8, 16, 100], [1, 0, 1, 0], [0, 1, 1], [1, 2, 3])
    assert lab[0] == lab[2] >= 0 and lab[1] == -1


def test_labels_chain_of_signals_groups_transitively():
    # 0, 20, 40, 60 m: each within 25 m of the next -> one junction; 200 m: its own
    lab = _labels([0, 20, 40, 60, 200], [1, 1, 1, 1, 1], [0, 1, 2, 3], [1, 2, 3, 4])
    assert len(set(lab[:4].tolist())) == 1 and lab[4] != lab[0]


def test_labels_without_members():
    assert _labels([0, 10], [0, 0], [0], [1]).tolist() == [-1, -1]
