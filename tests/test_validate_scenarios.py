"""benchmarks/validate_scenarios.py: runs end to end on a small generated network, JSON keys."""

from __future__ import annotations

import importlib.util
import json
import math

from conftest import REPO

CORRIDOR_KEYS = {
    "corridor_users_change_pct",
    "new_users_drove_before_share",
    "car_trips_replaced_per_day",
    "car_km_replaced_per_day",
    "bike_share_change_pp_upto_20km",
}


def _script():
    spec = importlib.util.spec_from_file_location(
        "validate_scenarios", REPO / "benchmarks" / "validate_scenarios.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_validate_scenarios_writes_the_documented_json(tmp_path, capsys):
    from fietsstad.scenario import zwolle_routes

    path = tmp_path / "v.json"
    _script().main(["--nodes", "1200", "--seed", "1", "--json", str(path)])
    out = json.loads(path.read_text())
    assert out["network"] == "GENERATED"
    assert out["zones"] >= 2
    for key in ("bike_share_modal_share", "bike_share_scenario_before"):
        assert 0 < out[key] < 100
    # one code path (issue #11): the two shares of the whole model agree within 0.1 pp
    assert abs(out["bike_share_modal_share"] - out["bike_share_scenario_before"]) <= 0.1
    assert set(out["corridors"]) == set(zwolle_routes())
    for c in out["corridors"].values():
        assert CORRIDOR_KEYS <= set(c)
        drove = c["new_users_drove_before_share"]
        assert drove is None or 0 <= drove <= 1
        if c["car_trips_replaced_per_day"] and c["car_km_replaced_per_day"] is not None:
            assert math.isclose(
                c["km_per_replaced_car_trip"],
                c["car_km_replaced_per_day"] / c["car_trips_replaced_per_day"],
            )
    assert "published" in capsys.readouterr().out
