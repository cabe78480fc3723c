"""The demo on Regio Zwolle (its default): regional network, 37 zones, commuters against CBS."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fietsstad import demo as demo_mod
from fietsstad.cli import main
from fietsstad.errors import PlaceNotFoundError, ValidationError
from fietsstad.network import generate_network, generate_region_network

#: a small GENERATED regional network (about 4,300 nodes)
REGION = ["--network", "generated", "--nodes", "2000", "--hubs", "2", "--seed", "1"]


@pytest.fixture(scope="module")
def region_net():
    return generate_region_network(2000, seed=1)


def test_demo_on_the_generated_region_writes_report_and_maps(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), *REGION]) == 0
    stdout = capsys.readouterr().out
    assert "GENERATED NETWORK" in stdout and "Regio Zwolle" in stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hubs.html", "manifest.json", "report.md", "snelfietspad.html"]
    report = (out / "report.md").read_text()
    assert report.startswith("# fietsstad demo: Regio Zwolle") and "GENERATED" in report
    assert "37 zones" in report and "reaching its real end points" in report
    assert "clipped" not in report.split("## Snelfietspad")[1].split("\n\n")[1]
    table = report.split("## Commuters to Zwolle")[1].split("## Mobility hubs")[0]
    rows = {r.split("|")[1].strip(): r for r in table.splitlines() if r.startswith("| ")}
    for town in ("Dalfsen", "Kampen", "Hattem", "Meppel", "Staphorst"):
        assert town in rows
    # CBS 2012-2017: Dalfsen -> Zwolle 3,276 persons, x 0.75 = 2,457 home-to-work trips a day
    assert "| 3,276 | 2,457 |" in rows["Dalfsen"] and "| 3,345 | 2,509 |" in rows["Kampen"]
    assert len([r for r in rows if r not in ("municipality", "---", "**total**")]) == 21
    assert "Correlation over the 21 municipalities" in table
    ratios = {k: float(v.split("|")[5]) for k, v in rows.items() if k[0].isupper()}
    few = sorted(k for k, r in ratios.items() if r < 0.1)
    if few:  # the far municipalities the cycling-time gravity misses are named
        assert "under a tenth of CBS's commuters from" in table
        assert all(k in table.split("under a tenth")[1] for k in few)
    assert "hubs stay on Zwolle's 16 wijken" in report
    sfp = (out / "snelfietspad.html").read_text()
    hubs = (out / "hubs.html").read_text()
    for html in (sfp, hubs):
        assert "GENERATED network" in html
    assert "Kampen" in sfp and "Dalfsen" in sfp and "Zwartewaterland" in sfp
    assert "Regio Zwolle" in hubs
    man = json.loads((out / "manifest.json").read_text())
    assert man["complete"] is True and sorted(man["files"]) == sorted(names[:1] + names[2:])


def test_demo_region_offline_falls_back_to_the_generated_regional_network(
    tmp_path, capsys, monkeypatch
):
    import fietsstad.network.osm

    asked = []

    def offline(*args, **kwargs):
        asked.append(kwargs)
        raise PlaceNotFoundError("could not download OpenStreetMap data (test: offline)")

    monkeypatch.setattr(fietsstad.network.osm, "load_network", offline)
    net = demo_mod.build_demo_network("auto", nodes=2000, seed=1, echo=print)
    assert net.is_generated and net.meta.get("region") is True
    # OSM was asked for the union of the region's zones, not for Zwolle alone
    assert asked[0]["polygon"].equals(demo_mod.region_polygon())
    out = capsys.readouterr().out
    assert "OpenStreetMap data for Regio Zwolle could not be loaded" in out
    assert "SYNTHETIC street-like network over Regio Zwolle" in out
    with pytest.raises(PlaceNotFoundError):
        demo_mod.build_demo_network("osm", nodes=2000, echo=None)


def test_demo_region_needs_2000_nodes_and_a_known_area():
    with pytest.raises(ValidationError, match="nodes must be an integer >= 2000"):
        demo_mod.build_demo_network("generated", nodes=1500, echo=None)
    with pytest.raises(ValidationError, match="area must be"):
        demo_mod.build_demo_network("generated", echo=None, area="europe")  # type: ignore[arg-type]


def test_region_applies_only_to_networks_covering_the_region(region_net):
    assert demo_mod.region_applies(region_net) and demo_mod.zwolle_applies(region_net)
    assert not demo_mod.region_applies(generate_network(300, seed=1))  # the city alone
    poly = demo_mod.region_polygon()
    for town in (5.92, 52.56), (6.26, 52.50):  # Kampen, Dalfsen
        from shapely.geometry import Point

        assert poly.contains(Point(town))


def _furness(P, A, F, tol=1e-10, max_iter=100_000):
    """Plain numpy doubly constrained gravity (oracle independent of the numba kernels)."""
    b = np.ones(len(A))
    for _ in range(max_iter):
        a = P / (F @ b)
        b = A / (F.T @ a)
        T = a[:, None] * F * b[None, :]
        if np.max(np.abs(T.sum(1) - P) / np.maximum(P, 1e-300)) < tol:
            return T
    raise AssertionError("oracle Furness did not converge")


def test_commuters_against_cbs_matches_a_numpy_gravity_and_the_cbs_table(region_net):
    import fietsstad
    from fietsstad.analysis import travel_time_matrix
    from fietsstad.demand import snap_zones

    t = demo_mod.commuters_against_cbs(region_net)
    z = fietsstad.zwolle_region_zones()
    assert len(t) == 21 and "Zwolle" not in set(t["municipality"])
    # oracle: the margins of trip_generation (public), distributed by a plain numpy Furness with
    # the documented default deterrence exp(-beta * minutes) of the Assumptions
    from fietsstad.demand.gravity import DEFAULT_DETERRENCE

    kind, beta = DEFAULT_DETERRENCE
    assert kind == "exponential"
    tg = fietsstad.trip_generation(z, population_column="inhabitants", jobs_column="jobs")
    P, A = tg["productions"].to_numpy(float), tg["attractions"].to_numpy(float)
    assert P.sum() == pytest.approx(2.7 * z["inhabitants"].sum())
    nodes = snap_zones(region_net, z)
    c = travel_time_matrix(region_net, nodes, nodes, dtype="int32", positions=True).astype(float)
    T = _furness(P, A, np.exp(-beta * c / 60.0))
    wijk = (z["kind"] == "wijk").to_numpy()
    byname = t.set_index("municipality")
    for i in np.flatnonzero(~wijk):
        want = 0.10 * T[i, wijk].sum()
        got = float(byname.loc[z["name"].iloc[i], "model_trips"])
        # Furness stops at a 1e-6 relative margin error; the deterrence table is exact per second
        assert got == pytest.approx(want, rel=1e-4, abs=1e-6)
    flows = fietsstad.zwolle_commute_flows(period="2012-2017")
    dalfsen = flows[(flows.origin_name == "Dalfsen") & (flows.destination_name == "Zwolle")]
    assert float(byname.loc["Dalfsen", "cbs_persons"]) == float(dalfsen["commuters"].iloc[0])
    assert float(byname.loc["Dalfsen", "cbs_trips"]) == pytest.approx(0.75 * 3276)
    assert byname["ratio"].to_numpy() == pytest.approx(
        (byname["model_trips"] / byname["cbs_trips"]).to_numpy()
    )
    ok = np.isfinite(byname["cbs_trips"].to_numpy())
    want_r = np.corrcoef(byname["model_trips"][ok], byname["cbs_trips"][ok])[0, 1]
    assert t.attrs["correlation"] == pytest.approx(want_r, abs=1e-12)
    with pytest.raises(ValidationError, match="home_to_work_share"):
        demo_mod.commuters_against_cbs(region_net, home_to_work_share=2.0)


def test_the_snelfietspad_example_runs_on_the_region(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import REPO

    env = dict(os.environ, FIETSSTAD_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "04_snelfietspad.py"), "--region"]
        + ["--nodes", "2000", "--seed", "1", "--route", "Zwolle-Kampen"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "GENERATED" in out.stdout and "Kampen" in out.stdout and "(clipped)" not in out.stdout
    html = (tmp_path / "examples-out" / "snelfietspad.html").read_text()
    assert "GENERATED network" in html and "Kampen" in html
