"""Every cycling rule on the hand-written fixture tests/fixtures/osm/rules.osm.

Each test way of the fixture is named after the rule it exercises. The expected verdicts below are
written by hand from docs/cycling_rules.md (not computed by fietsstad); they are checked twice:
on the pure rule function, and on the edges of the network actually built from the file.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES_OSM
from fietsstad import Infra, load_network
from fietsstad.network._osm_read import read_osm_file
from fietsstad.network.rules import classify_way, is_main_road, is_unpaved, node_has_signal

FIX = FIXTURES_OSM
P, L, S, M, R, SH, T = (
    Infra.CYCLE_PATH,
    Infra.CYCLE_LANE,
    Infra.CYCLE_STREET,
    Infra.MIXED,
    Infra.MAIN_ROAD,
    Infra.SHARED_PATH,
    Infra.TRACK,
)
NO = None
# way name -> (forward, backward); each (infra, contraflow) or NO (not rideable)
EXPECTED: dict[str, tuple] = {
    "cycleway": ((P, False), (P, False)),
    "residential": ((M, False), (M, False)),
    "living_street": ((M, False), (M, False)),
    "service": ((M, False), (M, False)),
    "unclassified": ((M, False), (M, False)),
    "tertiary": ((R, False), (R, False)),
    "secondary_link": ((R, False), (R, False)),
    "primary": ((R, False), (R, False)),
    "trunk": (NO, NO),
    "trunk bicycle=yes": ((R, False), (R, False)),
    "track": ((T, False), (T, False)),
    "road": ((M, False), (M, False)),
    "busway": (NO, NO),
    "busway bicycle=yes": ((M, False), (M, False)),
    "footway": (NO, NO),
    "footway bicycle=yes": ((SH, False), (SH, False)),
    "footway bicycle=designated": ((P, False), (P, False)),
    "pedestrian bicycle=permissive": ((SH, False), (SH, False)),
    "path": ((SH, False), (SH, False)),
    "path bicycle=designated": ((P, False), (P, False)),
    "bridleway": (NO, NO),
    "steps": (NO, NO),
    "bicycle=no": (NO, NO),
    "bicycle=dismount": (NO, NO),
    "bicycle=use_sidepath": (NO, NO),
    "access=private": (NO, NO),
    "access=private bicycle=yes": ((M, False), (M, False)),
    "motorway": (NO, NO),
    "motorway bicycle=yes": (NO, NO),
    "motorroad": (NO, NO),
    "area=yes": (NO, NO),
    "construction": (NO, NO),
    "proposed": (NO, NO),
    "oneway=yes": ((M, False), NO),
    "oneway=-1": (NO, (M, False)),
    "oneway:bicycle=no": ((M, False), (M, True)),
    "cycleway=opposite": ((M, False), (M, True)),
    "cycleway=opposite_lane": ((M, False), (L, True)),
    "cycleway=opposite_track": ((M, False), (P, True)),
    "cycleway:left=lane oneway=-1": ((M, False), (L, True)),
    "cycleway:right=track oneway=no": ((P, False), (P, True)),
    "bicycle:backward=yes": ((M, False), (M, True)),
    "oneway:bicycle=yes on two-way": ((M, False), NO),
    "cycleway oneway=yes": ((P, False), NO),
    "roundabout": ((M, False), NO),
    "oneway=reversible": ((M, False), NO),
    "cyclestreet=yes": ((S, False), (S, False)),
    "bicycle_road contraflow": ((S, False), (S, True)),
    "secondary cycleway=lane": ((L, False), (L, False)),
    "secondary cycleway:right=track": ((P, False), (R, False)),
    "tertiary cycleway:both=lane": ((L, False), (L, False)),
    "track surface=gravel": ((T, False), (T, False)),
    "track tracktype=grade3": ((T, False), (T, False)),
    "track grade3 surface=asphalt": ((T, False), (T, False)),
    "oneway=-1 oneway:bicycle=no": ((M, True), (M, False)),
    "oneway=yes cycleway:left=lane": ((L, False), NO),
    "secondary cycleway:left=lane": ((R, False), (L, False)),
    # a mapped cycle lane/track makes a road of any class (trunk, busway) rideable (rules v2)
    "trunk cycleway=lane oneway:bicycle=yes": ((L, False), NO),
    "trunk_link cycleway:right=track": ((P, False), (R, False)),
    "trunk cycleway=shared_lane": ((R, False), (R, False)),
    "trunk oneway=yes cycleway=opposite_lane": ((R, False), (L, True)),
    "trunk cycleway:both=lane bicycle=no": (NO, NO),
    "trunk cycleway=lane access=no": (NO, NO),
    "busway cycleway:left=lane": ((M, False), (L, False)),
    "motorway cycleway=lane": (NO, NO),
    "footway cycleway=track": (NO, NO),
    # sac_scale harder than mountain_hiking is not rideable (rules v2), even with bicycle=yes
    "path sac_scale=mountain_hiking": ((SH, False), (SH, False)),
    "path sac_scale=demanding_mountain_hiking": (NO, NO),
    "path sac_scale=alpine_hiking": (NO, NO),
    "path sac_scale=demanding_alpine_hiking": (NO, NO),
    "path sac_scale=difficult_alpine_hiking bicycle=yes": (NO, NO),
}
UNPAVED = {"track surface=gravel", "track tracktype=grade3"}


@pytest.fixture(scope="module")
def tables():
    return read_osm_file(FIX / "rules.osm")


@pytest.fixture(scope="module")
def test_ways(tables):
    """name -> (way id, tags, node ids) of the fixture's test ways (not the backbone)."""
    return {
        t["name"]: (w, t, n)
        for w, t, n in zip(tables.way_ids, tables.way_tags, tables.way_nodes)
        if w >= 100
    }


def test_fixture_covers_every_expected_rule(test_ways):
    assert set(test_ways) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_function(name, test_ways):
    _, tags, _ = test_ways[name]
    rule = classify_way(tags)
    for got, want in ((rule.forward, EXPECTED[name][0]), (rule.backward, EXPECTED[name][1])):
        if want is NO:
            assert not got.rideable, f"{name}: expected not rideable"
        else:
            assert got.rideable, f"{name}: expected rideable"
            assert (got.infra, got.contraflow) == want, name
    assert rule.unpaved == (name in UNPAVED)
    assert rule.rideable == (EXPECTED[name] != (NO, NO))
    assert (rule.reason == "") == rule.rideable


@pytest.fixture(scope="module")
def net():
    return load_network(file=FIX / "rules.osm", simplify=False)


def _edges_of_way(net, way_id):
    src = net.edge_sources()
    sel = np.flatnonzero(net.way_id == way_id)
    return {(int(net.node_id[src[e]]), int(net.node_id[net.indices[e]])): e for e in sel}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_in_built_network(name, test_ways, net):
    """The built network holds exactly the rideable directions, with their infra/contraflow."""
    wid, _, nodes = test_ways[name]
    a, b, c = (int(n) for n in nodes)
    edges = _edges_of_way(net, wid)
    expect_fwd, expect_bwd = EXPECTED[name]
    for want, pairs in ((expect_fwd, [(a, b), (b, c)]), (expect_bwd, [(c, b), (b, a)])):
        for pair in pairs:
            if want is NO:
                assert pair not in edges, f"{name}: {pair} must not be rideable"
            else:
                e = edges[pair]
                assert (Infra(int(net.infra[e])), bool(net.contraflow[e])) == want, (name, pair)
                assert bool(net.unpaved[e]) == (name in UNPAVED)
    n_dirs = sum(x is not NO for x in EXPECTED[name])
    assert len(edges) == 2 * n_dirs


def test_backbone_and_everything_in_one_scc(net):
    # all 72 backbone nodes (58 before the 14 ways of rules v2) plus the middle node of every
    # rideable test way
    n_rideable = sum(v != (NO, NO) for v in EXPECTED.values())
    assert net.n_nodes == 72 + n_rideable
    assert net.meta["dropped_nodes"] == 0


def test_simplified_network_keeps_directions_and_categories():
    """After osmnx simplification each test way is one edge per rideable direction."""
    simp = load_network(file=FIX / "rules.osm", simplify=True)
    full = load_network(file=FIX / "rules.osm", simplify=False)
    assert simp.n_nodes < full.n_nodes
    assert np.isclose(simp.length.sum(), full.length.sum(), rtol=1e-6)
    for c in Infra:
        assert np.isclose(
            simp.length[simp.infra == c].sum(),
            full.length[full.infra == c].sum(),
            rtol=1e-5,
            atol=1e-3,
        ), c.name
    assert np.isclose(simp.length[simp.contraflow].sum(), full.length[full.contraflow].sum())


@pytest.mark.parametrize(
    ("tags", "main"),
    [
        ({"highway": "tertiary_link"}, True),
        ({"highway": "trunk"}, True),
        ({"highway": "residential"}, False),
        ({"highway": "primary", "area": "yes"}, False),
    ],
)
def test_is_main_road(tags, main):
    assert is_main_road(tags) is main


def test_node_signals_and_surfaces():
    assert node_has_signal({"highway": "traffic_signals"})
    assert node_has_signal({"crossing": "traffic_signals", "highway": "crossing"})
    assert not node_has_signal({"highway": "crossing", "crossing": "uncontrolled"})
    assert is_unpaved({"surface": "fine_gravel"}) and is_unpaved({"surface": "compacted"})
    assert not is_unpaved({"surface": "paving_stones"}) and not is_unpaved({})
    assert not is_unpaved({"tracktype": "grade1"})


def test_untagged_way_and_unknown_highway_not_rideable():
    assert not classify_way({}).rideable
    assert not classify_way({"highway": "raceway"}).rideable
    assert "raceway" in classify_way({"highway": "raceway"}).reason


@pytest.mark.parametrize(
    ("tags", "fwd", "bwd"),
    [
        # oneway:bicycle=yes overrides a contraflow facility: no contraflow riding
        (
            {
                "highway": "residential",
                "oneway": "yes",
                "cycleway": "opposite_lane",
                "oneway:bicycle": "yes",
            },
            True,
            False,
        ),
        # explicit oneway=no on a roundabout-tagged way keeps it two-way
        ({"highway": "residential", "junction": "roundabout", "oneway": "no"}, True, True),
        # per-direction ban
        ({"highway": "residential", "bicycle:backward": "no"}, True, False),
        # vehicle=no without bicycle override
        ({"highway": "service", "vehicle": "no"}, False, False),
        ({"highway": "service", "vehicle": "no", "bicycle": "yes"}, True, True),
        # oneway:bicycle=-1 on a two-way road: bikes only against the node order
        ({"highway": "residential", "oneway:bicycle": "-1"}, False, True),
    ],
)
def test_more_rule_cases(tags, fwd, bwd):
    r = classify_way(tags)
    assert (r.forward.rideable, r.backward.rideable) == (fwd, bwd)


# ------------------------------------------------------------------ properties (hypothesis)
_VOCAB = {
    "highway": [
        "cycleway",
        "residential",
        "primary",
        "trunk",
        "footway",
        "path",
        "track",
        "motorway",
        "service",
        "busway",
        "steps",
        "construction",
    ],
    "bicycle": ["yes", "no", "designated", "dismount", "use_sidepath", "permissive"],
    "access": ["no", "private", "destination", "yes"],
    "oneway": ["yes", "no", "-1", "reversible"],
    "oneway:bicycle": ["no", "yes"],
    "cycleway": ["lane", "track", "opposite", "opposite_lane", "opposite_track", "no"],
    "cyclestreet": ["yes"],
    "junction": ["roundabout"],
    "surface": ["asphalt", "gravel"],
    "motorroad": ["yes"],
    "sac_scale": ["hiking", "mountain_hiking", "demanding_mountain_hiking", "alpine_hiking"],
    "cycleway:right": ["lane", "track", "shared_lane", "no"],
}
_tags = st.dictionaries(st.sampled_from(sorted(_VOCAB)), st.just(None), max_size=6).flatmap(
    lambda d: st.fixed_dictionaries({k: st.sampled_from(_VOCAB[k]) for k in d})
)


@settings(max_examples=400, deadline=None)
@given(_tags)
def test_invariants(tags):
    r = classify_way(tags)
    if (
        tags.get("bicycle") in ("no", "dismount", "use_sidepath")
        or tags.get("highway") in ("motorway", "construction", None)
        or tags.get("motorroad") == "yes"
        or tags.get("sac_scale") in ("demanding_mountain_hiking", "alpine_hiking")
    ):
        assert not r.rideable
    # a cycle lane/track on a trunk road allows cycling (rules v2), unless another tag forbids it
    facility = {tags.get("cycleway"), tags.get("cycleway:right")} & {"lane", "track", "shared_lane"}
    if tags.get("highway") == "trunk" and facility:
        forbidden = ("bicycle=", "access=", "motorroad", "sac_scale", "no direction")
        assert r.rideable or r.reason.startswith(forbidden), (tags, r.reason)
    for d in (r.forward, r.backward):
        if d.contraflow:  # contraflow only exists against a one-way
            assert tags.get("oneway") in ("yes", "-1", "reversible") or tags.get("junction")
        if d.rideable and tags.get("highway") == "cycleway":
            assert d.infra == Infra.CYCLE_PATH
    directional = {"oneway", "junction", "oneway:bicycle", "cycleway", "cycleway:right"}
    if r.rideable and not directional & set(tags):
        assert r.forward == r.backward


@settings(max_examples=300, deadline=None)
@given(_tags)
def test_oneway_minus_one_mirrors_oneway_yes(tags):
    """Reversing the node order and the one-way direction swaps forward and backward."""
    base = {k: v for k, v in tags.items() if k not in ("oneway", "junction")}
    fwd = classify_way({**base, "oneway": "yes"})
    bwd = classify_way({**base, "oneway": "-1"})
    assert fwd.forward == bwd.backward and fwd.backward == bwd.forward
