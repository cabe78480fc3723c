"""Maps built through the real pipeline from hostile text: street names, route names, district
names, hub names and user titles that are HTML / script payloads. The written HTML may contain
them only escaped (checked with an HTML parser and raw-fragment search, independent of fietsstad's
own escaping helper). Complements tests/test_maps.py, which uses a hand-made scenario object.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from _robust import HOSTILE_STRINGS, assert_html_escaped

maps = importlib.import_module("fietsstad.maps")
hubs = importlib.import_module("fietsstad.hubs")
scenario = importlib.import_module("fietsstad.scenario")


@pytest.fixture(scope="module")
def hostile_net():
    from fietsstad.network import generate_network

    net = generate_network(1500, seed=3)
    net.name = np.array([HOSTILE_STRINGS[i % len(HOSTILE_STRINGS)] for i in range(net.n_edges)])
    return net


@pytest.fixture(scope="module")
def hostile_districts():
    from fietsstad.zwolle import zwolle_districts

    d = zwolle_districts().copy()
    name_col = next(c for c in d.columns if "name" in c.lower() or "naam" in c.lower())
    d[name_col] = [HOSTILE_STRINGS[i % len(HOSTILE_STRINGS)] for i in range(len(d))]
    return d


def test_snelfietspad_map_from_real_scenario_escapes_everything(
    tmp_path, hostile_net, hostile_districts
):
    base = scenario.zwolle_routes()["Dalfsen-Zwolle"]
    route = scenario.Snelfietspad.from_waypoints(base.waypoints, name=HOSTILE_STRINGS[0])
    res = scenario.evaluate_snelfietspad(hostile_net, route, hostile_districts)
    path = tmp_path / "snelfietspad.html"
    maps.snelfietspad_map(res, path, title=HOSTILE_STRINGS[1])
    text = path.read_text(encoding="utf-8")
    assert_html_escaped(text, min_markers=3)
    assert "GENERATED" in text  # a generated network is never presented as OSM


def test_hubs_map_from_real_placement_escapes_everything(tmp_path, hostile_net):
    idx = np.linspace(0, hostile_net.n_nodes - 1, 6).astype(int)
    cands = hubs.hub_candidates(
        hostile_net.x[idx], hostile_net.y[idx], names=list(HOSTILE_STRINGS[:6])
    )
    pop = np.ones(hostile_net.n_nodes)
    pl = hubs.place_hubs(hostile_net, cands, pop, k=3, minutes=5)
    cat = hubs.hub_catchments(hostile_net, pl.hubs, minutes=(5, 10), population=pop)
    path = tmp_path / "hubs.html"
    maps.hubs_map(pl, cat, path, net=hostile_net, title=HOSTILE_STRINGS[6])
    text = path.read_text(encoding="utf-8")
    assert_html_escaped(text, min_markers=3)
    assert "GENERATED" in text


def test_assert_html_escaped_can_fail():
    """The oracle is live: raw payloads are caught."""
    for p in HOSTILE_STRINGS[:8]:
        with pytest.raises(AssertionError):
            assert_html_escaped(f"<html><body><div>{p}</div></body></html>")
