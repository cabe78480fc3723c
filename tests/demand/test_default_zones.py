"""Default zones: the region on a regional network, Zwolle's districts on the city (issue #11)."""

from __future__ import annotations

import numpy as np
import pytest

import fietsstad
from fietsstad.demand.modal import modal_share, zones_or_default
from fietsstad.errors import ValidationError
from fietsstad.zwolle import zwolle_default_zones, zwolle_districts, zwolle_region_zones


@pytest.fixture(scope="module")
def region_net():
    return fietsstad.generate_region_network(2_000, seed=1)


def test_default_zones_follow_the_network(region_net):
    city = fietsstad.generate_network(400, seed=2)
    assert len(zwolle_default_zones(city.x, city.y)) == len(zwolle_districts()) == 16
    z = zwolle_default_zones(region_net.x, region_net.y)
    assert len(z) == 37 and {"Dalfsen", "Kampen"} <= set(z["name"])
    assert len(zwolle_default_zones([], [])) == 16


def test_modal_share_defaults_to_the_region_and_equals_explicit_zones(region_net):
    """``modal_share(net)`` on a regional network models the 37 regional zones, exactly as if
    they had been passed."""
    auto = modal_share(region_net)
    given = modal_share(region_net, zwolle_region_zones())
    assert len(auto["zones"]) == 37
    np.testing.assert_allclose(
        auto["city"]["bike_share"].to_numpy(), given["city"]["bike_share"].to_numpy(), rtol=1e-12
    )


def test_evaluate_defaults_to_the_region(region_net):
    from fietsstad.scenario import evaluate_snelfietspad

    res = evaluate_snelfietspad(region_net, "Dalfsen-Zwolle", clip=False, route_choice="aon")
    assert len(res.zones) == 37 and "Dalfsen" in set(res.zones["name"])


def test_a_cost_matrix_needs_zones():
    with pytest.raises(ValidationError, match="zones"):
        zones_or_default(np.zeros((2, 2)), None)


def test_zone_snapping_distances_are_reported(region_net):
    """Zones are snapped by geometry; every table says how far each zone is from its node."""
    z = zwolle_region_zones()
    auto = modal_share(region_net, z, top_pairs=0)
    pts = z.geometry.representative_point()
    _, want = region_net.snap(pts.x.to_numpy(), pts.y.to_numpy(), return_distance=True)
    np.testing.assert_allclose(auto["zones"]["snap_distance_m"].to_numpy(), want)
    assert (want >= 0).all() and (want <= fietsstad.settings.snap_max_distance_m).all()
    from fietsstad.scenario import evaluate_snelfietspad

    res = evaluate_snelfietspad(region_net, "Zwolle-Hattem", z, clip=False, route_choice="aon")
    np.testing.assert_allclose(res.zones["snap_distance_m"].to_numpy(), want)
