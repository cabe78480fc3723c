"""Bad input at every public entry point -> a FietsstadError subclass with a useful message.

One table: (entry point, bad input) -> (expected error class, words the message must contain).
Wrong types, wrong CRS, empty inputs, NaN / inf / negative values, ids not in the network,
cut-offs out of range, zones with no population and points far from the network.
"""

from __future__ import annotations

import importlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _robust import OSM_FIXTURES
from shapely.geometry import Point, Polygon

import fietsstad
from fietsstad import (
    ConvergenceError,
    CRSError,
    FietsstadError,
    GraphError,
    InputFileError,
    SnappingError,
    ValidationError,
)

routing = importlib.import_module("fietsstad.analysis.routing")
A = importlib.import_module("fietsstad.analysis.access")
U = importlib.import_module("fietsstad.demand.pct")
D = importlib.import_module("fietsstad.demand")
H = importlib.import_module("fietsstad.hubs")
S = importlib.import_module("fietsstad.scenario")
G = importlib.import_module("fietsstad.network.generate")
from fietsstad.engine import Decay  # noqa: E402

FAR = (4.0, 50.0)  # Belgium: about 300 km from Zwolle


@pytest.fixture(scope="module")
def net():
    return G.generate_network(1500, seed=2)


@pytest.fixture(scope="module")
def zones():
    return fietsstad.zwolle_districts()


def _rd_triangle():
    return Polygon([(200000, 500000), (201000, 500000), (201000, 501000)])


def _cases(net, zones):
    n = net.n_nodes
    cands = H.hub_candidates(net.x[:3], net.y[:3])
    ones = np.ones(n)
    cost = np.array([[60, 60], [60, 60]], np.uint16)
    V, C, Gr, IF, Sn, Co = (
        ValidationError,
        CRSError,
        GraphError,
        InputFileError,
        SnappingError,
        ConvergenceError,
    )
    return {
        # generate_network
        "generate n_nodes negative": (lambda: G.generate_network(-5), V, "n_nodes"),
        "generate n_nodes str": (lambda: G.generate_network("big"), V, "n_nodes"),
        "generate n_nodes NaN": (lambda: G.generate_network(float("nan")), V, "n_nodes"),
        "generate seed negative": (lambda: G.generate_network(500, seed=-1), V, "seed"),
        "generate bbox reversed": (
            lambda: G.generate_network(500, bbox=(6.2, 52.6, 6.0, 52.4)),
            V,
            "bbox",
        ),
        "generate bbox in metres": (
            lambda: G.generate_network(500, bbox=(200000, 500000, 210000, 510000)),
            V,
            "EPSG:4326",
        ),
        "generate share 1.5": (lambda: G.generate_network(500, cycle_path_share=1.5), V, "[0, 1]"),
        "generate share NaN": (
            lambda: G.generate_network(500, oneway_share=float("nan")),
            V,
            "oneway_share",
        ),
        "generate unknown profile": (lambda: G.generate_network(500, profile="car"), V, "profile"),
        # load_network
        "load nothing": (lambda: fietsstad.load_network(), V, "exactly one"),
        "load place and file": (
            lambda: fietsstad.load_network("Zwolle", file="x.osm"),
            V,
            "exactly one",
        ),
        "load missing file": (
            lambda: fietsstad.load_network(file="/nonexistent/x.osm"),
            IF,
            "no such file",
        ),
        "load directory": (lambda: fietsstad.load_network(file=str(OSM_FIXTURES)), IF, "file"),
        "load unknown extension": (
            lambda: fietsstad.load_network(file=__file__),
            IF,
            "unknown file type",
        ),
        "load file=int": (lambda: fietsstad.load_network(file=123), V, "path"),
        "load blank place": (lambda: fietsstad.load_network("  "), V, "non-empty string"),
        "load place=int": (lambda: fietsstad.load_network(42), V, "place"),
        "load polygon without CRS": (
            lambda: fietsstad.load_network(polygon=gpd.GeoDataFrame(geometry=[_rd_triangle()])),
            C,
            "no CRS",
        ),
        "load polygon in metres": (
            lambda: fietsstad.load_network(polygon=_rd_triangle()),
            C,
            "EPSG:4326",
        ),
        "load polygon=str": (lambda: fietsstad.load_network(polygon="POLYGON"), V, "polygon"),
        "load unknown profile": (
            lambda: fietsstad.load_network(file=OSM_FIXTURES / "rules.osm", profile="car"),
            V,
            "unknown profile",
        ),
        # routing
        "matrix net=str": (lambda: routing.travel_time_matrix("net"), V, "BikeNetwork"),
        "matrix id not in network": (
            lambda: routing.travel_time_matrix(net, [int(net.node_id.max()) + 5]),  # an OSM id
            Gr,
            "origins",
        ),
        "matrix negative id": (lambda: routing.travel_time_matrix(net, [-1]), Gr, "origins"),
        "matrix fractional id": (lambda: routing.travel_time_matrix(net, [0.5]), V, "origins"),
        "matrix str ids": (lambda: routing.travel_time_matrix(net, ["a"]), V, "origins"),
        "matrix empty origins": (lambda: routing.travel_time_matrix(net, []), V, "origins"),
        "matrix point far away": (
            lambda: routing.travel_time_matrix(net, [FAR]),
            Sn,
            "from the network",
        ),
        "matrix cutoff negative": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=-5),
            Gr,
            "cutoff",
        ),
        "matrix cutoff NaN": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=float("nan")),
            Gr,
            "NaN",
        ),
        "matrix dtype int8": (
            lambda: routing.travel_time_matrix(net, [0], dtype="int8"),
            Gr,
            "dtype",
        ),
        "matrix unknown method": (
            lambda: routing.travel_time_matrix(net, [0], method="astar"),
            Gr,
            "method",
        ),
        "blocks block_size 0": (
            lambda: next(routing.iter_travel_time_blocks(net, block_size=0)),
            Gr,
            "block_size",
        ),
        "route id not in network": (
            lambda: routing.shortest_route(net, int(net.node_id.max()) + 1, 0),  # OSM ids
            Gr,
            "origin",
        ),
        "route point far away": (
            lambda: routing.shortest_route(net, FAR, 0),
            Sn,
            "from the network",
        ),
        "route origin None": (lambda: routing.shortest_route(net, None, 0), V, "origin"),
        # accessibility
        "access opportunities wrong length": (
            lambda: A.accessibility(net, np.ones(n + 1)),
            Gr,
            "shape",
        ),
        "access opportunities NaN": (
            lambda: A.accessibility(net, np.r_[np.nan, ones[1:]]),
            Gr,
            "NaN",
        ),
        "access opportunities negative": (lambda: A.accessibility(net, -ones), Gr, ">= 0"),
        "access opportunities str": (lambda: A.accessibility(net, "population"), V, "numeric"),
        "access decays not Decay": (lambda: A.accessibility(net, ones, decays=["exp"]), V, "Decay"),
        "access cutoff negative": (lambda: A.accessibility(net, ones, cutoff_s=-1), Gr, "cutoff"),
        "access source not in network": (
            lambda: A.accessibility(net, ones, origins=[int(net.node_id.max()) + 1]),
            Gr,
            "origins",
        ),
        "2sfca supply wrong type": (lambda: A.two_step_fca(net, ones, ones, 600), V, "supply"),
        # cut-offs (issue #13): None / inf = no cut-off, else a finite real >= 0; never a
        # bool, a str, -inf or an int beyond float range (each named as the user wrote it)
        "matrix cutoff -inf": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=-np.inf),
            V,
            "cutoff_s",
        ),
        "matrix cutoff 2**1024": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=2**1024),
            V,
            "cutoff_s",
        ),
        "matrix cutoff str": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s="600"),
            V,
            "cutoff_s",
        ),
        "matrix cutoff bool": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=True),
            V,
            "cutoff_s",
        ),
        "matrix cutoff list": (
            lambda: routing.travel_time_matrix(net, [0], cutoff_s=[600]),
            V,
            "cutoff_s",
        ),
        "blocks cutoff -inf (refused at the call)": (
            lambda: routing.iter_travel_time_blocks(net, cutoff_s=-np.inf),
            V,
            "cutoff_s",
        ),
        "blocks cutoff str": (
            lambda: routing.iter_travel_time_blocks(net, cutoff_s="600"),
            V,
            "cutoff_s",
        ),
        "access cutoff -inf": (
            lambda: A.accessibility(net, ones, cutoff_s=-np.inf),
            V,
            "cutoff_s",
        ),
        "access cutoff bool": (lambda: A.accessibility(net, ones, cutoff_s=True), V, "cutoff_s"),
        "access cutoff 2**1024": (
            lambda: A.accessibility(net, ones, cutoff_s=2**1024),
            V,
            "cutoff_s",
        ),
        "access cutoff NaN": (
            lambda: A.accessibility(net, ones, cutoff_s=float("nan")),
            V,
            "cutoff_s",
        ),
        "2sfca catchment str": (
            lambda: A.two_step_fca(net, ([0], [1.0]), ([1], [1.0]), "600"),
            V,
            "catchment_s",
        ),
        "2sfca catchment -inf": (
            lambda: A.two_step_fca(net, ([0], [1.0]), ([1], [1.0]), -np.inf),
            V,
            "catchment_s",
        ),
        # opportunities with NaN/inf/negative in every container: refused, column named
        "access opportunities Series NaN": (
            lambda: A.accessibility(net, pd.Series([np.nan, 1.0], index=[0, 1], name="jobs")),
            V,
            "'jobs' must be finite",
        ),
        "access opportunities DataFrame NaN": (
            lambda: A.accessibility(
                net, pd.DataFrame({"jobs": [1.0, 2.0], "shops": [np.nan, 1.0]}, index=[3, 4])
            ),
            V,
            "'shops' must be finite",
        ),
        "access opportunities DataFrame inf": (
            lambda: A.accessibility(net, pd.DataFrame({"jobs": [np.inf]}, index=[3])),
            V,
            "'jobs' must be finite",
        ),
        "access opportunities DataFrame negative": (
            lambda: A.accessibility(net, pd.DataFrame({"jobs": [-1.0]}, index=[3])),
            V,
            "'jobs' must be >= 0",
        ),
        "access opportunities Series pd.NA": (
            lambda: A.accessibility(net, pd.Series([1, None], dtype="Int64", name="pop")),
            V,
            "'pop' must be finite",
        ),
        "access opportunities list NaN": (
            lambda: A.accessibility(net, [np.nan] + [1.0] * (n - 1)),
            V,
            "NaN",
        ),
        "access opportunities 2-D column NaN": (
            lambda: A.accessibility(net, np.c_[ones, np.r_[ones[:-1], np.nan]]),
            V,
            "column 1 must be finite",
        ),
        "access opportunities dict NaN": (lambda: A.accessibility(net, {0: np.nan}), V, "NaN"),
        "access opportunities dict column negative": (
            lambda: A.accessibility(net, {"jobs": np.r_[ones[:-1], -1.0]}),
            V,
            "'jobs' must be >= 0",
        ),
        "access opportunities dict column short": (
            lambda: A.accessibility(net, {"jobs": [1.0, 2.0]}),
            V,
            "one value per node",
        ),
        "access opportunities dict empty": (lambda: A.accessibility(net, {}), V, "empty"),
        # Decay built directly: the constructor refuses what makes no sense for its kind
        "decay direct negative exponential rate": (
            lambda: Decay("exponential", -1.0),
            V,
            "beta (p1) must be >= 0",
        ),
        "decay direct negative power t0": (
            lambda: Decay("power", 1.0, -60.0),
            V,
            "t0_s (p2) must be > 0",
        ),
        "decay direct power without t0": (lambda: Decay("power", 1.0), V, "t0_s (p2)"),
        "decay direct negative power beta": (
            lambda: Decay("power", -1.0, 60.0),
            V,
            "beta (p1) must be >= 0",
        ),
        "decay direct negative threshold": (
            lambda: Decay("cumulative", -5.0),
            V,
            "threshold_s (p1) must be >= 0",
        ),
        "decay direct logistic slope 0": (
            lambda: Decay("logistic", 600.0, 0.0),
            V,
            "slope (p2) must be > 0",
        ),
        "decay direct p2 of a one-parameter kind": (
            lambda: Decay("exponential", 0.01, 3.0),
            V,
            "p2 must be 0",
        ),
        "decay direct str parameter": (lambda: Decay("cumulative", "900"), V, "threshold_s"),
        "decay direct bool parameter": (lambda: Decay("exponential", True), V, "beta"),
        "decay direct inf parameter": (lambda: Decay("power", 1.0, np.inf), V, "finite"),
        "decay direct kind not str": (lambda: Decay(0, 1.0), V, "kind"),
        "decay class method str": (lambda: Decay.power("1.5"), V, "beta"),
        "decay name not str": (lambda: Decay("cumulative", 9.0, 0.0, 5), V, "name"),
        "decay negative beta": (lambda: Decay.exponential(-1), Gr, "beta"),
        "decay NaN threshold": (lambda: Decay.cumulative(float("nan")), Gr, "finite"),
        # uptake
        "uptake negative distance": (lambda: U.uptake([-1.0]), V, "negative"),
        "uptake NaN distance": (lambda: U.uptake([np.nan]), V, "NaN"),
        "uptake str distance": (lambda: U.uptake("5 km"), V, "numeric"),
        "uptake gradient shape": (lambda: U.uptake([1.0, 2.0], [1.0, 2.0, 3.0]), V, "shape"),
        "uptake unknown model": (lambda: U.uptake([1.0], model="gonorwegian"), V, "unknown"),
        "uptake distance_scale 0": (lambda: U.uptake([1.0], distance_scale=0), V, "distance_scale"),
        "calibrate share 1.5": (
            lambda: U.calibrate_uptake("godutch_2020", [1.0, 5.0], [10, 10], 1.5),
            Co,
            "target_share",
        ),
        "calibrate negative trips": (
            lambda: U.calibrate_uptake("godutch_2020", [1.0, 5.0], [-10, 10], 0.3),
            V,
            "trips",
        ),
        "calibrate empty": (lambda: U.calibrate_uptake("godutch_2020", [], [], 0.3), V, "empty"),
        # demand
        "trips no population column": (
            lambda: D.trip_generation(pd.DataFrame({"x": [1, 2]})),
            V,
            "population column",
        ),
        "trips not a table": (lambda: D.trip_generation([1, 2, 3]), V, "DataFrame"),
        "trips zones with no population": (
            lambda: D.trip_generation(pd.DataFrame({"population": [0, 0], "jobs": [0, 0]})),
            V,
            "no population",
        ),
        "trips negative population": (
            lambda: D.trip_generation(pd.DataFrame({"population": [-5, 10]})),
            V,
            ">= 0",
        ),
        "gravity zero margins": (
            lambda: D.gravity_distribution([0, 0], [0, 0], cost),
            Co,
            "positive totals",
        ),
        "gravity unequal totals": (
            lambda: D.gravity_distribution([10, 0], [0, 20], cost),
            Co,
            "differ",
        ),
        "gravity all unreachable": (
            lambda: D.gravity_distribution([10, 10], [10, 10], np.full((2, 2), 65535, np.uint16)),
            Co,
            "unreachable",
        ),
        "gravity float cost with NaN": (
            lambda: D.gravity_distribution([10, 10], [10, 10], np.array([[np.nan, 1], [1, 1]])),
            V,
            "uint16 or int32",
        ),
        "gravity cost shape": (
            lambda: D.gravity_distribution([10, 10, 5], [10, 10], cost),
            V,
            "shape",
        ),
        "gravity NaN productions": (
            lambda: D.gravity_distribution([np.nan, 10], [5, 5], cost),
            V,
            "finite",
        ),
        "modal share zones=str": (lambda: D.modal_share(net, "zones"), V, "zones"),
        "snap zones without CRS": (
            lambda: D.snap_zones(net, gpd.GeoDataFrame(geometry=[Point(6.09, 52.5)])),
            C,
            "no CRS",
        ),
        "snap zones metres labelled 4326": (
            lambda: D.snap_zones(net, gpd.GeoDataFrame(geometry=[Point(203000, 502000)], crs=4326)),
            C,
            "lon/lat",
        ),
        # hubs
        "candidates lengths differ": (lambda: H.hub_candidates([6.0, 6.1], [52.5]), V, "length"),
        "candidates NaN": (lambda: H.hub_candidates([np.nan], [52.5]), V, "finite"),
        "candidates in metres": (lambda: H.hub_candidates([203000.0], [502000.0]), C, "EPSG:4326"),
        "candidates empty": (lambda: H.hub_candidates([], []), V, "no candidate"),
        "candidates GeoDataFrame without CRS": (
            lambda: H.hub_candidates(gpd.GeoDataFrame(geometry=[Point(6.09, 52.5)])),
            C,
            "no CRS",
        ),
        "population negative": (lambda: H.node_population(net, -ones), V, ">= 0"),
        "population wrong length": (
            lambda: H.node_population(net, np.ones(n + 3)),
            V,
            "one value per node",
        ),
        "population zones far away": (
            lambda: H.node_population(net, zones.assign(geometry=[Point(*FAR)] * len(zones))),
            Sn,
            "from the network",
        ),
        "catchment minutes negative": (
            lambda: H.hub_catchments(net, cands, minutes=(-5,)),
            V,
            "positive",
        ),
        "catchment minutes NaN": (
            lambda: H.hub_catchments(net, cands, minutes=(float("nan"),)),
            V,
            "positive",
        ),
        "catchment hub far away": (
            lambda: H.hub_catchments(net, H.hub_candidates([FAR[0]], [FAR[1]])),
            Sn,
            "from the network",
        ),
        "place k > candidates": (lambda: H.place_hubs(net, cands, ones, k=10), V, "candidates"),
        "place k fractional": (lambda: H.place_hubs(net, cands, ones, k=1.5), V, "k must"),
        "place zones with no population": (
            lambda: H.place_hubs(net, cands, np.zeros(n), k=1),
            V,
            "zero",
        ),
        "place fixed not a candidate": (
            lambda: H.place_hubs(net, cands, ones, k=2, fixed=(7,)),
            V,
            "fixed",
        ),
        "place unknown method": (
            lambda: H.place_hubs(net, cands, ones, k=1, method="magic"),
            V,
            "method",
        ),
        "place minutes 0": (
            lambda: H.place_hubs(net, cands, ones, k=1, cutoff_min=0),
            V,
            "cutoff_min",
        ),
        # scenario
        "route one waypoint": (
            lambda: S.Snelfietspad.from_waypoints([(6.09, 52.5)]),
            V,
            "at least two",
        ),
        "route NaN waypoint": (
            lambda: S.Snelfietspad.from_waypoints([(6.09, 52.5), (np.nan, 52.4)]),
            V,
            "finite",
        ),
        "route in metres": (
            lambda: S.Snelfietspad.from_waypoints([(203000, 502000), (204000, 503000)]),
            V,
            "EPSG:4326",
        ),
        "route way ids str": (lambda: S.Snelfietspad.from_way_ids(["a"]), V, "way_ids"),
        "evaluate unknown route": (
            lambda: S.evaluate_snelfietspad(net, "Zwolle-Parijs"),
            V,
            "unknown route",
        ),
        "evaluate route far away": (
            lambda: S.evaluate_snelfietspad(net, S.Snelfietspad.from_waypoints([FAR, (4.1, 50.1)])),
            V,
            "network area",
        ),
        "evaluate net=str": (
            lambda: S.evaluate_snelfietspad("net", "Dalfsen-Zwolle"),
            V,
            "BikeNetwork",
        ),
        "evaluate zones with no population": (
            lambda: S.evaluate_snelfietspad(
                net, "Dalfsen-Zwolle", zones.assign(inhabitants_2024=0)
            ),
            V,
            "sums to zero",
        ),
    }


def _names() -> list[str]:
    """The case names, read from the source of :func:`_cases` (no network needed to collect)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(_cases))
    ret = next(n for n in ast.walk(tree) if isinstance(n, ast.Return))
    return [k.value for k in ret.value.keys]


N_CASES = len(_names())


@pytest.mark.parametrize("case", _names())
def test_public_function_bad_input(net, zones, case):
    fn, err, words = _cases(net, zones)[case]
    with pytest.raises(err) as ei:
        fn()
    assert isinstance(ei.value, FietsstadError)
    msg = str(ei.value)
    assert words.lower() in msg.lower(), f"{case}: message lacks {words!r}: {msg}"
