"""evaluate_snelfietspad(route_choice=...): logit against all-or-nothing, generated and OSM."""

from __future__ import annotations

import numpy as np
import pytest

from fietsstad import settings
from fietsstad.errors import ValidationError
from fietsstad.network import generate_network, load_network
from fietsstad.scenario import Snelfietspad, evaluate_snelfietspad


def _balance(res) -> None:
    """Edge flows after: out minus in at each zone node = bike trips leaving minus arriving."""
    net, z = res.after, res.zones
    out = np.bincount(net.edge_sources(), weights=res.edge_flow_after, minlength=net.n_nodes)
    inn = np.bincount(net.indices, weights=res.edge_flow_after, minlength=net.n_nodes)
    od = res.od
    node = dict(zip(z["name"], z["node"], strict=True))
    o = od["origin"].map(node).to_numpy()
    d = od["destination"].map(node).to_numpy()
    q = np.where(o != d, od["bike_trips_after"].to_numpy(), 0.0)
    want = np.bincount(o, weights=q, minlength=net.n_nodes) - np.bincount(
        d, weights=q, minlength=net.n_nodes
    )
    np.testing.assert_allclose(out - inn, want, atol=1e-9 * max(1.0, q.sum()))


def _compare(net, route, zones=None) -> None:
    lo = evaluate_snelfietspad(net, route, zones)
    aon = evaluate_snelfietspad(net, route, zones, route_choice="aon")
    for key in ("bike_trips_after", "extra_bike_trips_per_day", "car_trips_replaced_per_day"):
        assert lo.summary[key] == pytest.approx(aon.summary[key], rel=1e-12)
    assert set(np.unique(aon.od["corridor_after"])) <= {0.0, 1.0}
    for col in ("corridor_before", "corridor_after"):
        assert lo.od[col].between(0, 1 + 1e-12).all()
    assert (lo.od["corridor_after"] * lo.od["bike_trips_after"]).sum() == pytest.approx(
        lo.summary["corridor_cyclists_after"]
    )
    assert not np.allclose(lo.edge_flow_after, aon.edge_flow_after)  # flows are spread
    _balance(lo)
    _balance(aon)


def test_logit_against_aon_on_a_generated_network():
    net = generate_network(n_nodes=2000, seed=2)
    _compare(net, Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)]))
    with pytest.raises(ValidationError, match="route_choice"):
        evaluate_snelfietspad(
            net, Snelfietspad.from_waypoints([(6.05, 52.47), (6.17, 52.56)]), route_choice="x"
        )


def test_logit_against_aon_on_liechtenstein(liechtenstein_pbf):
    import geopandas as gpd
    from shapely.geometry import Point

    old, settings.progress = settings.progress, False
    try:
        net = load_network(file=liechtenstein_pbf)
    finally:
        settings.progress = old
    towns = {  # lon, lat, inhabitants (approximate)
        "Vaduz": (9.521, 47.141, 5700), "Schaan": (9.509, 47.165, 6100),
        "Triesen": (9.528, 47.107, 5200), "Balzers": (9.497, 47.066, 4700),
        "Eschen": (9.523, 47.211, 4600), "Ruggell": (9.526, 47.244, 2400),
    }  # fmt: skip
    zones = gpd.GeoDataFrame(
        {"name": list(towns), "population": [t[2] for t in towns.values()]},
        geometry=[Point(t[0], t[1]) for t in towns.values()],
        crs="EPSG:4326",
    )
    route = Snelfietspad.from_waypoints([(9.497, 47.070), (9.515, 47.150), (9.525, 47.240)])
    _compare(net, route, zones)
