"""Malformed GeoJSON and a route emptied after construction give a clear ValidationError."""

from __future__ import annotations

import json

import pytest

import fietsstad
from fietsstad.errors import ValidationError
from fietsstad.scenario import Snelfietspad

LINE = {"type": "LineString", "coordinates": [[6.09, 52.50], [6.06, 52.47]]}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ([LINE], r"the content of .*route\.geojson must be a GeoJSON object \(a dict\), got list"),
        (
            {"type": "FeatureCollection", "features": [[1, 2]]},
            "the feature of the FeatureCollection",
        ),
        ({"type": "Feature", "properties": {}, "geometry": "LineString"}, "the feature's geometry"),
        ({"type": "Feature", "properties": ["x"], "geometry": LINE}, "the feature's properties"),
    ],
)
def test_geojson_that_is_not_an_object(tmp_path, content, match):
    p = tmp_path / "route.geojson"
    p.write_text(json.dumps(content))
    with pytest.raises(ValidationError, match=match):
        Snelfietspad.from_geojson(p)


def test_geojson_feature_without_properties_keeps_the_default_name():
    r = Snelfietspad.from_geojson({"type": "Feature", "properties": None, "geometry": LINE})
    assert r.name == "snelfietspad" and r.waypoints.tolist() == LINE["coordinates"]


def test_route_whose_definition_was_removed_after_construction():
    net = fietsstad.generate_network(n_nodes=100, seed=1)  # GENERATED network
    r = Snelfietspad.from_waypoints([(6.05, 52.48), (6.15, 52.55)])
    r.waypoints = None
    with pytest.raises(ValidationError, match="exactly one of waypoints or way_ids"):
        r.resolve(net)
