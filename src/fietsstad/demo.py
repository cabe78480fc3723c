"""The demo: Regio Zwolle's bike network, a snelfietspad scenario and hubs, as maps + report.

:func:`run_demo` (and ``fietsstad demo`` on the command line) does, in order:

1. builds the network of Regio Zwolle (``area="region"``, the default: Zwolle's 16 wijken and the
   21 municipalities around it, :func:`fietsstad.zwolle.zwolle_region_zones`): the cached
   OpenStreetMap network of the union of the zones' polygons, else a download, else (offline) the
   GENERATED regional network (:func:`fietsstad.network.generate_region_network`), announced
   loudly on stdout, in the report and in the map titles (``network="auto"``); ``"osm"`` insists
   on OSM, ``"generated"`` never tries it. ``area="zwolle"`` gives the city alone (study area);
2. evaluates one snelfietspad (default the shipped Dalfsen-Zwolle route, F340 along the Vecht)
   with :func:`fietsstad.scenario.evaluate_snelfietspad` on the region's 37 zones; on a regional
   network the route reaches its real end points (not clipped);
3. compares the model's commuters from each neighbouring municipality to Zwolle with the CBS
   home-to-work flows (:func:`commuters_against_cbs`);
4. places ``k`` mobility hubs among the built-in Zwolle candidates (station, P+R, district
   centres) covering the most of Zwolle's inhabitants within ``minutes`` by bike (greedy, and
   exact by MILP to show how close greedy is), with catchments of 5, 10 and 15 minutes; the hubs
   stay on Zwolle's 16 wijken, also on the regional network (the candidates are Zwolle's);
5. writes ``snelfietspad.html``, ``hubs.html``, ``report.md`` and ``manifest.json`` to ``out``.

Any network: ``run_demo(file="extract.osm.pbf")`` (``fietsstad demo --file ...``) reads an OSM
extract, and ``run_demo(net=...)`` takes a BikeNetwork the caller built. Zwolle's districts, hub
sites and snelfietspad routes apply only when the network covers Zwolle (most district points inside
its bounding box); the regional zones and the commuter table only when it covers the region (most
municipality points inside its bounding box; else Zwolle's 16 districts are the zones and the route
is clipped to the network, as for a city-only network). Elsewhere the report says so: the snelfietspad scenario is skipped with a note
when the shipped route does not touch the network (no ``snelfietspad.html``), and the hubs are placed
on candidates from the network itself (:func:`network_hub_candidates`: its best-connected junctions,
spread out) with every network node weighing 1 (no population data for an arbitrary area).

Output is atomic: everything is written to a staging folder beside ``out`` and moved in only when
all steps succeeded; ``manifest.json`` (file names, sizes and SHA-256) is written last, and a
previous manifest is removed before any file is replaced. An interrupted run (Ctrl-C) therefore
leaves either the previous complete output or no manifest, never a half-written set that looks
complete. Staging folders a killed run left behind (``.<out>.partial-<pid>@<host>-*``) are removed
by the next run (owner process gone, or older than a day). A disk that is full or read-only, or a
file where the output folder should be, gives a clear error (:class:`fietsstad._io.OutputError`,
or :class:`ValidationError` before any work for an existing file at ``out``).

First run: a fresh install has an empty numba cache, so the first demo compiles every kernel it
touches. While the demo builds its network, a child process compiles the kernels it needs last
(the route-choice assignment) into numba's on-disk cache, and the demo loads them from there; the
child is not started when the cache already holds them, and the demo never waits for it. The
closing ``Timings (s): ...`` line gives each stage, the total and the time numba took compiling or
loading kernels (timings go to stdout, not to ``report.md``, which stays byte-identical).

Example
-------
>>> from fietsstad.demo import run_demo
>>> paths = run_demo("demo-out", network="generated", nodes=2000, echo=None)  # doctest: +SKIP
>>> sorted(p.name for p in paths.values())                                   # doctest: +SKIP
['hubs.html', 'manifest.json', 'report.md', 'snelfietspad.html']
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fietsstad import settings
from fietsstad.errors import ConvergenceError, PlaceNotFoundError, ValidationError
from fietsstad.maps._style import network_label
from fietsstad.network import BikeNetwork

if TYPE_CHECKING:  # pragma: no cover
    from fietsstad.hubs import HubPlacement
    from fietsstad.scenario import ScenarioResult

#: Files the demo writes (``manifest.json`` last).
DEMO_FILES = ("snelfietspad.html", "hubs.html", "report.md")

_LOUD = (
    "\n" + "!" * 78 + "\n"
    "!!  GENERATED NETWORK: {why}\n"
    "!!  The demo runs on a SYNTHETIC street-like network over {area}.\n"
    "!!  It shows how fietsstad works; its numbers are NOT Zwolle's. For real results run\n"
    "!!  online once (fietsstad demo --network osm) or load an OSM extract.\n" + "!" * 78 + "\n"
)

#: Default size of a generated network per area (the regional one ends near 22,500 nodes).
DEFAULT_NODES = {"region": 25_000, "zwolle": 20_000}


def _noop(*_: Any, **__: Any) -> None:
    return None


def region_polygon() -> Any:
    """The union of the polygons of :func:`fietsstad.zwolle.zwolle_region_zones` (lon/lat).

    The area the demo loads from OpenStreetMap for the region.

    Example
    -------
    >>> round(region_polygon().bounds[0], 1), round(region_polygon().bounds[3], 1)
    (5.6, 52.9)
    """
    from shapely.ops import unary_union

    from fietsstad.zwolle import zwolle_region_zones

    return unary_union(list(zwolle_region_zones().geometry))


def build_demo_network(
    network: Literal["auto", "osm", "generated"] = "auto",
    nodes: int | None = None,
    seed: int = 0,
    echo: Callable[[str], Any] | None = print,
    area: Literal["region", "zwolle"] = "region",
) -> BikeNetwork:
    """The demo's network: cached/downloaded OSM, or a GENERATED one (said loudly).

    Parameters
    ----------
    network
        ``"auto"`` (OSM if cached or downloadable, else generated), ``"osm"`` (OSM or an error),
        ``"generated"``.
    nodes, seed
        Size and seed of a generated network (default size :data:`DEFAULT_NODES` of the area;
        at least 2,000 for the region, 100 for Zwolle).
    echo
        Where messages go (``print`` by default; None for silence).
    area
        ``"region"`` (default): Regio Zwolle, OSM over :func:`region_polygon` or
        :func:`fietsstad.network.generate_region_network`; ``"zwolle"``: the city, OSM of
        :data:`fietsstad.network.osm.ZWOLLE` or :func:`fietsstad.network.generate_network` over
        the study area.

    Returns
    -------
    BikeNetwork

    Raises
    ------
    PlaceNotFoundError
        ``network="osm"`` and the network can be neither loaded from the cache nor downloaded.

    Example
    -------
    >>> net = build_demo_network("generated", nodes=500, echo=None, area="zwolle")
    >>> net.is_generated
    True
    """
    say = echo or _noop
    if network not in ("auto", "osm", "generated"):
        raise ValidationError(f"network must be 'auto', 'osm' or 'generated', not {network!r}")
    if area not in ("region", "zwolle"):
        raise ValidationError(f"area must be 'region' or 'zwolle', not {area!r}")
    nodes = DEFAULT_NODES[area] if nodes is None else nodes
    least = 2000 if area == "region" else 100
    if not isinstance(nodes, (int, np.integer)) or isinstance(nodes, bool) or nodes < least:
        raise ValidationError(f"nodes must be an integer >= {least} (area {area!r}), got {nodes!r}")
    place = "Regio Zwolle" if area == "region" else "Zwolle"
    why = "you asked for one (--network generated)"
    if network in ("auto", "osm"):
        from fietsstad.network import osm

        where: dict[str, Any] = (
            {"polygon": region_polygon()} if area == "region" else {"place": osm.ZWOLLE}
        )
        cached = osm.network_cache_path(**where).exists()
        say(
            f"Loading {place}'s OpenStreetMap network "
            f"({'from the cache' if cached else 'download'})"
        )
        try:
            net = osm.load_network(**where)
        except PlaceNotFoundError as err:
            if network == "osm":
                raise
            why = f"OpenStreetMap data for {place} could not be loaded ({str(err)[:90]}...)"
        else:
            say(f"Network: {net.describe().splitlines()[0]}")
            return net
    from fietsstad.network import generate_network, generate_region_network

    if area == "region":
        say(_LOUD.format(why=why, area="Regio Zwolle (towns, regional roads, rivers)"))
        net = generate_region_network(int(nodes), seed=int(seed))
    else:
        say(_LOUD.format(why=why, area="Zwolle's study area"))
        net = generate_network(
            int(nodes), seed=int(seed), description="demo network over the Zwolle study area"
        )
    say(net.describe().splitlines()[0])
    return net


def _say_network(say: Callable[[str], Any], net: BikeNetwork) -> None:
    """One line on the network the demo runs on (GENERATED when it is)."""
    say(
        f"Network: {network_label(net.meta, net.is_generated)}, {net.n_nodes:,} nodes, "
        f"{net.n_edges:,} directed edges"
    )


def _progress(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return contextlib.nullcontext(None)
    return tqdm(
        total=total,
        desc="fietsstad demo",
        unit="step",
        file=sys.stderr,
        disable=not settings.progress,
        leave=False,
    )


def zwolle_applies(net: BikeNetwork, share: float = 0.5) -> bool:
    """Whether Zwolle's presets (districts, hub sites, routes) apply: most districts on the network.

    True when at least ``share`` of Zwolle's 16 district points lie inside the network's bounding
    box (widened by about 500 m).

    Example
    -------
    >>> from fietsstad.network import generate_network
    >>> zwolle_applies(generate_network(300, seed=1))                       # Zwolle's study area
    True
    >>> zwolle_applies(generate_network(300, seed=1, bbox=(9.5, 47.1, 9.6, 47.2)))  # Liechtenstein
    False
    """
    from fietsstad.zwolle import zwolle_districts

    d = zwolle_districts()
    return _share_inside(net, d.geometry.x.to_numpy(), d.geometry.y.to_numpy()) >= share


def _share_inside(net: BikeNetwork, x: np.ndarray, y: np.ndarray, pad: float = 0.007) -> float:
    """Share of the points (lon, lat) inside the network's bounding box widened by ``pad``."""
    inside = (
        (x >= net.x.min() - pad)
        & (x <= net.x.max() + pad)
        & (y >= net.y.min() - pad)
        & (y <= net.y.max() + pad)
    )
    return float(inside.mean())


@contextlib.contextmanager
def _one_numba_thread() -> Any:
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def region_applies(net: BikeNetwork, share: float = 0.5) -> bool:
    """Whether the regional zones apply: most of the region's municipality points on the network.

    True when at least ``share`` of the points of the 21 municipalities around Zwolle
    (:func:`fietsstad.zwolle.zwolle_region_zones`, ``kind == "gemeente"``) lie inside the
    network's bounding box (widened by about 500 m).

    Example
    -------
    >>> from fietsstad.network import generate_network
    >>> region_applies(generate_network(300, seed=1))                       # the city alone
    False
    """
    from fietsstad.zwolle import zwolle_region_zones

    z = zwolle_region_zones()
    g = z[z["kind"] == "gemeente"]
    return _share_inside(net, g["lon"].to_numpy(float), g["lat"].to_numpy(float)) >= share


#: Share of all trips of the demand model that go from home to work. The demand model has no trip
#: purposes yet, so the commuters are this share of its distributed trips. ASSUMPTION: in ODiN
#: (CBS, Onderweg in Nederland) about one trip in five is to or from work; half of those go
#: from home to work: 0.10.
HOME_TO_WORK_SHARE = 0.10

#: Home-to-work trips per CBS commuter per working day. CBS flows count persons (living in A,
#: working in B), not trips; a worker goes to the work place on about 3.75 of 5 working days
#: (part-time work, leave, sickness, working from home). ASSUMPTION: 0.75.
TRIPS_PER_COMMUTER_PER_WORKDAY = 0.75


def commuters_against_cbs(
    net: BikeNetwork,
    zones: Any = None,
    *,
    period: str = "2012-2017",
    home_to_work_share: float = HOME_TO_WORK_SHARE,
    trips_per_commuter: float = TRIPS_PER_COMMUTER_PER_WORKDAY,
) -> Any:
    """Commuters from each neighbouring municipality to Zwolle: demand model against CBS.

    The model side uses the public demand functions only: productions and attractions from
    :func:`fietsstad.demand.trip_generation` (inhabitants, jobs), distributed by
    :func:`fietsstad.demand.gravity_distribution` (doubly constrained, default deterrence) on the
    zone-to-zone cycling times of ``net`` (a ``zones x zones`` matrix, not the full node matrix).
    It has no trip purposes, so model commuters = distributed trips from the municipality to
    Zwolle's 16 wijken x ``home_to_work_share``. The model's trips are per average day and are
    taken as per working day. The CBS side: :func:`fietsstad.zwolle.zwolle_commute_flows`
    (persons) x ``trips_per_commuter`` = home-to-work trips per working day.

    Parameters
    ----------
    net
        The network covering the region.
    zones
        Zones with ``kind`` (``wijk`` / ``gemeente``), ``gemeente_code``, ``inhabitants``, ``jobs``
        (default :func:`fietsstad.zwolle.zwolle_region_zones`).
    period
        CBS period (``"2012-2017"`` default, or ``"2007-2012"``).
    home_to_work_share, trips_per_commuter
        See :data:`HOME_TO_WORK_SHARE` and :data:`TRIPS_PER_COMMUTER_PER_WORKDAY`.

    Returns
    -------
    pandas.DataFrame
        One row per municipality (not Zwolle), by CBS flow descending: ``municipality``,
        ``gemeente_code``, ``model_trips`` (home->work per day), ``cbs_persons``, ``cbs_trips``
        (per working day), ``ratio`` (model / CBS trips). ``attrs`` holds ``correlation``
        (Pearson, model against CBS trips over the municipalities), ``period`` and the two
        factors.

    Example
    -------
    >>> from fietsstad.network import generate_region_network
    >>> t = commuters_against_cbs(generate_region_network(2000, seed=1))
    >>> len(t) >= 20, {"Dalfsen", "Kampen"} <= set(t["municipality"])
    (True, True)
    """
    import pandas as pd

    from fietsstad.analysis import travel_time_matrix
    from fietsstad.demand import gravity_distribution, snap_zones, trip_generation
    from fietsstad.zwolle import zwolle_commute_flows, zwolle_region_zones

    for val, nm in ((home_to_work_share, "home_to_work_share"), (trips_per_commuter,
                    "trips_per_commuter")):  # fmt: skip
        if not isinstance(val, (int, float)) or not 0 < val <= 1:
            raise ValidationError(f"{nm} must be a number in (0, 1], got {val!r}")
    zones = zwolle_region_zones() if zones is None else zones
    tg = trip_generation(zones, population_column="inhabitants", jobs_column="jobs")
    nodes = snap_zones(net, zones)
    cost = _compact_cost(travel_time_matrix(net, nodes, nodes, dtype="int32", positions=True))
    # 37 x 37 zones: far towns exchange few trips, so Furness takes ~300 plain passes (~75
    # over-relaxed); one thread is 50x faster than a parallel pass's sync (measured 0.1 s / 6 s)
    with _one_numba_thread():
        grav = gravity_distribution(tg["productions"], tg["attractions"], cost, normalise=True)
    trips = np.asarray(grav.trips(cost), dtype=np.float64)
    kind = zones["kind"].to_numpy()
    codes = zones["gemeente_code"].to_numpy()
    wijk = kind == "wijk"
    flows = zwolle_commute_flows(period=period)
    to_zwolle = flows[flows["destination_code"] == "GM0193"].set_index("origin_code")["commuters"]
    rows = []
    for i in np.flatnonzero(kind == "gemeente"):
        persons = float(to_zwolle.get(codes[i], np.nan))
        model = float(trips[i, wijk].sum()) * home_to_work_share
        cbs = persons * trips_per_commuter
        rows.append((str(zones["name"].iloc[i]), str(codes[i]), model, persons, cbs, model / cbs))
    cols = ["municipality", "gemeente_code", "model_trips", "cbs_persons", "cbs_trips", "ratio"]
    out = pd.DataFrame(rows, columns=cols).sort_values("cbs_persons", ascending=False)
    out = out.reset_index(drop=True)
    ok = np.isfinite(out["cbs_trips"].to_numpy())
    corr = np.corrcoef(out["model_trips"].to_numpy()[ok], out["cbs_trips"].to_numpy()[ok])[0, 1]
    out.attrs.update(
        correlation=float(corr),
        period=period,
        home_to_work_share=float(home_to_work_share),
        trips_per_commuter=float(trips_per_commuter),
    )
    return out


def _compact_cost(cost: np.ndarray) -> np.ndarray:
    """An int32 seconds matrix as uint16 (65535 = unreachable) when every finite time fits.

    The gravity model gives the same trips on either dtype (its deterrence table is indexed by
    the integer cost), and the snelfietspad scenario already balanced a uint16 matrix: on uint16
    the commuters reuse the kernels numba compiled for it instead of compiling int32 ones (about
    7 s of a first run). A time above 65,534 s keeps the int32 matrix (no saturation).
    """
    from fietsstad.engine.config import UNREACHABLE_I32, UNREACHABLE_U16

    gone = cost == UNREACHABLE_I32
    if cost.dtype != np.int32 or np.any(cost[~gone] >= UNREACHABLE_U16):
        return cost
    return np.where(gone, UNREACHABLE_U16, cost).astype(np.uint16)


def _route_touches(net: BikeNetwork, route: Any) -> bool:
    """Whether a shipped route reaches the network (a waypoint or an OSM way id on it)."""
    if route.waypoints is None:
        return bool(np.isin(route.way_ids, net.way_id).any())
    w = np.asarray(route.waypoints, dtype=np.float64)
    lo = np.minimum(w[:-1], w[1:]).min(axis=0) if len(w) > 1 else w.min(axis=0)
    hi = np.maximum(w[:-1], w[1:]).max(axis=0) if len(w) > 1 else w.max(axis=0)
    return bool(
        lo[0] <= net.x.max()
        and hi[0] >= net.x.min()
        and lo[1] <= net.y.max()
        and hi[1] >= net.y.min()
    )


def network_hub_candidates(net: BikeNetwork, n: int = 20) -> Any:
    """Candidate hub sites from the network itself: its best-connected junctions, spread out.

    Nodes are taken by degree (in + out edges; ties by node index) and kept only when at least
    half the side of an ``n``-th of the network's bounding box away from every site kept before;
    if that leaves fewer than ``n`` sites the spacing is halved until enough are found (or all
    nodes are taken).

    Parameters
    ----------
    net
        The network.
    n
        Number of candidates wanted.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`fietsstad.hubs.hub_candidates`: ``name`` (``"junction 1 (node <id>)"``, ...),
        ``kind`` (``"junction"``), ``approximate`` (False), point geometry at the nodes.

    Example
    -------
    >>> from fietsstad.network import generate_network
    >>> c = network_hub_candidates(generate_network(400, seed=1), n=6)
    >>> len(c), c["kind"].iloc[0]
    (6, 'junction')
    """
    from fietsstad.hubs import hub_candidates

    n = int(min(max(int(n), 1), net.n_nodes))
    deg = np.bincount(net.edge_sources(), minlength=net.n_nodes) + np.bincount(
        net.indices, minlength=net.n_nodes
    )
    order = np.lexsort((np.arange(net.n_nodes), -deg))
    lat0 = np.deg2rad(float(np.mean(net.y)))
    xm = (net.x - net.x.min()) * 111_320.0 * np.cos(lat0)
    ym = (net.y - net.y.min()) * 110_574.0
    area = max(float(np.ptp(xm)) * float(np.ptp(ym)), 1.0)
    spacing = 0.5 * np.sqrt(area / n)
    picked: list[int] = []
    while True:
        picked = []
        for i in order:
            if picked:
                d2 = (xm[picked] - xm[i]) ** 2 + (ym[picked] - ym[i]) ** 2
                if d2.min() < spacing * spacing:
                    continue
            picked.append(int(i))
            if len(picked) == n:
                break
        if len(picked) == n or spacing < 1.0:
            break
        spacing /= 2
    if len(picked) < n:  # pragma: no cover - nodes at the same spot: take them in degree order
        rest = [int(i) for i in order if int(i) not in set(picked)]
        picked += rest[: n - len(picked)]
    idx = np.asarray(picked, dtype=np.int64)
    names = [f"junction {r + 1} (node {int(net.node_id[i])})" for r, i in enumerate(idx)]
    return hub_candidates(net.x[idx], net.y[idx], names=names, kind="junction")


# ------------------------------------------------------------------ numba: a first run's compiles
# A fresh install has an empty numba cache, so the demo's first run compiles every kernel it
# touches (most of its time on a 2-core machine). A child process started with the demo compiles
# the kernels it needs last into numba's on-disk cache while the demo builds its network and runs
# the scenario's first steps; the demo then loads them from the cache. The child only compiles
# kernels the demo uses in one specialization and compiles no other specialization of: numba's
# per-function cache index is not safe for two processes adding different entries at once.


def _warm_demo_kernels() -> None:
    """Compile (or load from numba's cache) the kernels the demo needs last (run in a child).

    The route-choice assignment (:func:`fietsstad.demand.assignment.assign` with
    ``route_choice="logit"`` and a corridor, as the snelfietspad scenario calls it: the largest
    compile of the demo), on a tiny network, through the public function so the argument types
    are the demo's (``tests/test_demo_warmup.py`` checks the demo compiles no other).
    """
    from fietsstad.demand.assignment import assign
    from fietsstad.network import generate_network

    net = generate_network(60, seed=0)
    corridor = np.zeros(net.n_edges, dtype=np.bool_)
    o, d = np.array([0]), np.array([net.n_nodes - 1])
    assign(net, o, d, np.array([1.0]), route_choice="logit", corridor=corridor)


#: What the warm-up child runs (``python -c``).
_WARM_CODE = "from fietsstad.demo import _warm_demo_kernels as w; w()"


def _in_numba_cache(dispatcher: Any) -> bool:
    """Whether numba's on-disk cache holds a specialization of ``dispatcher`` for this CPU.

    Reads numba's cache index (numba internals: False if they change, as for an empty cache).

    Example
    -------
    >>> _in_numba_cache(object())
    False
    """
    try:
        magic = dispatcher.targetctx.codegen().magic_tuple()
        return any(key[1] == magic for key in dispatcher._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - any failure reads as "not cached"
        return False


def _warmup_helps() -> bool:
    """Whether a warm-up child would help: numba compiles, 2+ CPUs, the kernels neither in this
    process nor in numba's on-disk cache (a warm cache loads in a fraction of a second, and a
    child would only compete with the demo for the CPU).

    Example
    -------
    >>> isinstance(_warmup_helps(), bool)
    True
    """
    from numba.core import config as numba_config

    from fietsstad.demand.assignment import _assign_kernel

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jit = not getattr(numba_config, "DISABLE_JIT", False)
    return (
        jit
        and (cpus or 1) >= 2
        and not _assign_kernel.signatures
        and not _in_numba_cache(_assign_kernel)
    )


def _start_warmup() -> subprocess.Popen | None:
    """Start :func:`_warm_demo_kernels` in a child process; None when it would not help.

    Not started when this process or numba's cache already holds the kernels (a second demo),
    when numba's JIT is disabled, or with a single CPU (:func:`_warmup_helps`). The child imports
    the fietsstad this process runs; its output is discarded. The demo never waits for it, so a
    child that fails or is slow only leaves the compiles to the demo.
    """
    try:
        if not sys.executable or not _warmup_helps():
            return None
        root = str(Path(__file__).resolve().parent.parent)  # the fietsstad this process runs
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        return subprocess.Popen(
            [sys.executable, "-c", _WARM_CODE],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": path},
        )
    except Exception:  # noqa: BLE001 - the warm-up is an optimisation, never a failure
        return None


def _stop_warmup(proc: subprocess.Popen | None) -> None:
    """End the warm-up child if it still runs (numba writes cache files atomically)."""
    if proc is None:
        return
    with contextlib.suppress(OSError):
        if proc.poll() is None:
            proc.kill()
        proc.wait()


class _NumbaClock:
    """Time spent in numba's compiler (compiling or loading from the cache) while active.

    Counts the outermost holds of numba's compiler lock (nested compiles are inside them) and
    the kernels compiled (cache misses).

    Example
    -------
    >>> with _NumbaClock() as clock:
    ...     pass
    >>> clock.seconds, clock.compiled
    (0.0, 0)
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.compiled = 0
        self._depth = 0
        self._t0 = 0.0
        self._listeners: list[tuple[str, Any]] = []

    def __enter__(self) -> _NumbaClock:
        try:
            from numba.core import event
        except ImportError:  # pragma: no cover - numba is a dependency
            return self
        clock = self

        class _Lock(event.Listener):
            def on_start(self, ev: Any) -> None:
                if clock._depth == 0:
                    clock._t0 = time.perf_counter()
                clock._depth += 1

            def on_end(self, ev: Any) -> None:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - clock._t0

        class _Compile(event.Listener):
            def on_start(self, ev: Any) -> None:
                pass

            def on_end(self, ev: Any) -> None:
                clock.compiled += 1

        self._listeners = [("numba:compiler_lock", _Lock()), ("numba:compile", _Compile())]
        for kind, listener in self._listeners:
            event.register(kind, listener)
        return self

    def __exit__(self, *exc: Any) -> None:
        from numba.core import event

        for kind, listener in self._listeners:
            with contextlib.suppress(ValueError):
                event.unregister(kind, listener)
        self._listeners = []


def _timings_line(timings: dict[str, float], total: float, clock: _NumbaClock) -> str:
    """The demo's closing line on its time: per stage, total, and numba's share.

    Example
    -------
    >>> c = _NumbaClock(); c.seconds, c.compiled = 30.0, 12
    >>> print(_timings_line({"network": 1.0, "hubs": 40.0}, 41.5, c))
    Timings (s): network 1.0, hubs 40.0, total 41.5
    (numba compile / cache load 30.0: 12 kernels compiled)
    """
    stages = ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    what = f"{clock.compiled} kernels compiled" if clock.compiled else "all from the cache"
    return (
        f"Timings (s): {stages}, total {total:.1f} "
        f"(numba compile / cache load {clock.seconds:.1f}: {what})"
    )


def run_demo(
    out: str | os.PathLike = "fietsstad-demo",
    network: Literal["auto", "osm", "generated"] = "auto",
    nodes: int | None = None,
    seed: int = 0,
    route: str = "Dalfsen-Zwolle",
    k: int = 5,
    minutes: float = 10.0,
    echo: Callable[[str], Any] | None = print,
    *,
    file: str | os.PathLike | None = None,
    net: BikeNetwork | None = None,
    area: Literal["region", "zwolle"] = "region",
) -> dict[str, Path]:
    """Run the demo and write its maps and report to ``out`` (atomically; see the module docs).

    Parameters
    ----------
    out
        Output folder (created; existing demo files in it are replaced).
    network, nodes, seed, area
        See :func:`build_demo_network` (not used with ``file`` or ``net``).
    route
        Name of a shipped route (:func:`fietsstad.scenario.zwolle_routes`).
    k
        Number of hubs to place.
    minutes
        Hub coverage threshold, minutes by bike.
    echo
        Where messages go (``print``; None for silence).
    file
        An OpenStreetMap extract (``.osm``, ``.osm.pbf``, ...) to run the demo on.
    net
        A BikeNetwork the caller built, to run the demo on.

    Returns
    -------
    dict
        ``{"snelfietspad.html": path, "hubs.html": path, "report.md": path, "manifest.json": path}``
        (no ``snelfietspad.html`` when the scenario was skipped: route not on the network).

    Example
    -------
    >>> import tempfile
    >>> p = run_demo(tempfile.mkdtemp(), network="generated", nodes=2000, k=2, echo=None)  # doctest: +SKIP
    >>> "GENERATED" in p["report.md"].read_text()                                        # doctest: +SKIP
    True
    """
    from fietsstad import hubs as H
    from fietsstad import maps
    from fietsstad.scenario import evaluate_snelfietspad, zwolle_routes
    from fietsstad.zwolle import zwolle_districts, zwolle_region_zones

    say = echo or _noop
    routes = zwolle_routes()
    if route not in routes:
        raise ValidationError(f"unknown route {route!r}; shipped routes: {sorted(routes)}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValidationError(f"k must be a positive integer, got {k!r}")
    if file is not None and net is not None:
        raise ValidationError("pass at most one of file= and net=")
    if net is not None and not isinstance(net, BikeNetwork):
        raise ValidationError(f"net must be a BikeNetwork, got {type(net).__name__}")
    out = Path(out)
    stage = _make_stage(out)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # the built-in network is Zwolle's or the region's: the scenario runs, warm its kernels now
    warm = _start_warmup() if net is None and file is None else None
    try:
        with _NumbaClock() as clock, _progress(6) as bar:

            def step(name: str) -> float:
                if bar is not None:
                    bar.set_postfix_str(name)
                return time.perf_counter()

            def done(name: str, t0: float) -> None:
                timings[name] = time.perf_counter() - t0
                if bar is not None:
                    bar.update(1)

            t0 = step("network")
            if net is None and file is not None:
                from fietsstad.network import load_network

                say(f"Reading the OpenStreetMap extract {Path(file).name}")
                net = load_network(file=file)
                _say_network(say, net)
            elif net is None:
                net = build_demo_network(network, nodes, seed, echo=say, area=area)
            else:
                _say_network(say, net)
            if bar is not None and net.is_generated:  # the label stays on the bar to the end
                bar.set_description("fietsstad demo (GENERATED network)")
            in_zwolle = zwolle_applies(net)
            in_region = in_zwolle and region_applies(net)
            done("network", t0)

            t0 = step("snelfietspad")
            res, skipped = None, ""
            if not in_zwolle or not _route_touches(net, routes[route]):
                skipped = (
                    f"The shipped snelfietspad routes are Zwolle's; {route} does not touch this "
                    f"network ({network_label(net.meta, net.is_generated)}), so no snelfietspad "
                    "scenario was evaluated and no snelfietspad.html was written."
                )
                say(skipped)
            elif in_region:
                warm = warm or _start_warmup()
                say(
                    f"Evaluating the snelfietspad {route} on the region's 37 zones (approximate "
                    "route to its real end points)"
                )
                res = evaluate_snelfietspad(net, routes[route], zwolle_region_zones(), clip=False)
            else:
                warm = warm or _start_warmup()
                say(
                    f"Evaluating the snelfietspad {route} (approximate route, clipped to the network)"
                )
                res = evaluate_snelfietspad(net, routes[route])
            done("snelfietspad", t0)

            t0 = step("commuters")
            commuters = None
            if in_region:
                say("Comparing the model's commuters to Zwolle with CBS home-to-work flows")
                commuters = commuters_against_cbs(net)
            done("commuters", t0)

            t0 = step("hubs")
            if in_zwolle:
                cands = H.zwolle_hub_candidates()
                pop = H.node_population(net, zwolle_districts(), distribute="nearest")
                pop_label = "inhabitants"
            else:
                cands = network_hub_candidates(net, max(4 * int(k), 20))
                pop = np.ones(net.n_nodes, dtype=np.float64)
                pop_label = "network nodes"
                say(
                    "Not Zwolle: hubs placed among the network's best-connected junctions, "
                    "every network node weighing 1 (no population data for this area)"
                )
            k_used = int(min(int(k), len(cands)))
            say(
                f"Placing {k_used} mobility hubs (within {minutes:g} min by bike; greedy and exact)"
            )
            greedy = H.place_hubs(net, cands, pop, k=k_used, cutoff_min=minutes)
            try:
                best = H.place_hubs(
                    net, cands, pop, k=k_used, cutoff_min=minutes, method="exact", time_limit_s=20.0
                )
            except ConvergenceError as err:  # the MILP hit its time limit: keep greedy
                say(f"exact placement not solved in time ({err}); showing the greedy solution")
                best = greedy
            catch = H.hub_catchments(net, best.hubs, bands_min=(5, 10, 15), population=pop)
            done("hubs", t0)

            t0 = step("maps")
            if res is not None:
                maps.snelfietspad_map(res, stage / "snelfietspad.html")
            title = None
            if in_region:  # the map spans the network: say the region is drawn, hubs in Zwolle
                title = (
                    f"Mobility hubs in Zwolle: {best.k} new hub(s), {best.method} placement, "
                    "on the Regio Zwolle network"
                )
            maps.hubs_map(
                best, catch, stage / "hubs.html", net=net, population_label=pop_label, title=title
            )
            done("maps", t0)

            t0 = step("report")
            text = _report(
                net, res, greedy, best, catch, in_zwolle=in_zwolle, skipped=skipped,
                commuters=commuters,
            )  # fmt: skip
            from fietsstad._io import atomic_write

            with atomic_write(stage / "report.md", "w") as fh:
                fh.write(text)
            done("report", t0)
        paths = _publish(stage, out)
    finally:
        _stop_warmup(warm)
        shutil.rmtree(stage, ignore_errors=True)
    gen = " (GENERATED network)" if net.is_generated else ""
    say(_timings_line(timings, time.perf_counter() - started, clock))
    say(f"\nDemo written to {out.resolve()}{gen}:")
    for name in paths:
        say(f"  {paths[name]}")
    return paths


#: A staging folder whose owner is not known to be gone is removed after this many seconds.
STALE_STAGING_S = 24 * 3600.0


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # exists but belongs to someone else (or a nonsense pid: treat as alive)
    return True


def clean_stale_staging(out: str | os.PathLike, older_than_s: float = STALE_STAGING_S) -> int:
    """Remove staging folders that killed demo runs left beside ``out``; returns how many.

    A staging folder ``.<out>.partial-<pid>@<host>-*`` is stale when its process (on this host)
    has exited, or when it is older than ``older_than_s`` (other hosts, older name formats).
    Only real folders are removed (a symlink with that name is left alone).

    Example
    -------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / ".out.partial-999999999@00000000-x").mkdir()
    >>> (d / ".out.partial-999999999@00000000-x" / "hubs.html").write_text("half")
    4
    >>> clean_stale_staging(d / "out", older_than_s=0.0)
    1
    """
    out = Path(out)
    prefix = f".{out.name}.partial-"
    owner = re.compile(r"(\d{1,10})@([0-9a-f]{8})-")
    here, now, removed = _host_tag(), time.time(), 0
    for found in glob.glob(glob.escape(str(out.parent / prefix)) + "*"):
        p = Path(found)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        m = owner.match(p.name[len(prefix) :])
        gone = m is not None and m.group(2) == here and not _pid_alive(int(m.group(1)))
        if gone or now - st.st_mtime > older_than_s:
            shutil.rmtree(p, ignore_errors=True)
            removed += not os.path.lexists(p)
    return removed


def _make_stage(out: Path) -> Path:
    """Check ``out`` can be written, clean stale staging folders, create this run's."""
    from fietsstad._io import _why
    from fietsstad.errors import OutputError

    if out.exists() and not out.is_dir():
        raise ValidationError(
            f"the demo output {out} exists and is not a folder; pass a new folder, or one whose "
            "demo files may be replaced"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(out)
        if out.is_dir():  # fail now, not after the work, if the files cannot go there
            fd, probe = tempfile.mkstemp(prefix=f".{out.name}.probe-", dir=out)
            os.close(fd)
            os.unlink(probe)
        return Path(
            tempfile.mkdtemp(
                prefix=f".{out.name}.partial-{os.getpid()}@{_host_tag()}-", dir=out.parent
            )
        )
    except OSError as err:
        raise OutputError(err.errno, f"cannot write the demo output {out}: {_why(err)}") from err


def _publish(stage: Path, out: Path) -> dict[str, Path]:
    """Move the staged files into ``out``: old manifest removed first, new manifest written last."""
    from fietsstad._io import _why, check_interrupt
    from fietsstad.errors import OutputError

    check_interrupt()  # an interrupt a library swallowed still stops the publication
    try:
        return _publish_files(stage, out)
    except OutputError:
        raise
    except OSError as err:
        raise OutputError(err.errno, f"cannot write the demo output {out}: {_why(err)}") from err


def _publish_files(stage: Path, out: Path) -> dict[str, Path]:
    from fietsstad._io import atomic_write, check_interrupt

    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    with contextlib.suppress(FileNotFoundError):
        manifest.unlink()
    entries = {}
    written = [name for name in DEMO_FILES if (stage / name).exists()]
    for name in DEMO_FILES:  # a file of an earlier run that this run did not write is stale
        if name not in written:
            with contextlib.suppress(FileNotFoundError):
                (out / name).unlink()
    for name in written:
        data = (stage / name).read_bytes()
        entries[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        os.chmod(stage / name, 0o644)  # staged files are private (mkstemp); outputs are not
        os.replace(stage / name, out / name)
    check_interrupt()
    with atomic_write(manifest, "w") as fh:
        json.dump(
            {
                "complete": True,
                "files": entries,
                "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            fh,
            indent=2,
        )
    os.chmod(manifest, 0o644)
    return {name: out / name for name in (*written, "manifest.json")}


def _md(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _corridor_pct(s: dict) -> str:
    pct = s.get("corridor_cyclists_change_pct")
    if pct is None:
        return "new: no fastest path used these streets before"
    return f"{float(pct):+.1f} %"


def _n(v: Any, d: int = 1) -> str:
    if v is None:
        return "–"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return _md(v)
    return "–" if not np.isfinite(f) else f"{f:,.{d}f}"


def _report(
    net: BikeNetwork,
    res: ScenarioResult | None,
    greedy: HubPlacement,
    exact: HubPlacement,
    catch: Any,
    in_zwolle: bool = True,
    skipped: str = "",
    commuters: Any = None,
) -> str:
    ns = net.summary()
    gen = net.is_generated
    label = network_label(net.meta, gen)
    region = commuters is not None
    place = "Regio Zwolle" if region else "Zwolle" if in_zwolle else _md(label)
    lines = [f"# fietsstad demo: {place}", ""]
    if gen and not in_zwolle:
        lines += [
            "> **GENERATED network (synthetic, not OpenStreetMap).** The figures below show how "
            "fietsstad works, not what would happen in a real place.",
            "",
        ]
    elif gen:
        lines += [
            "> **GENERATED network (synthetic, not OpenStreetMap).** No OpenStreetMap data for "
            f"{place} was used: the figures below show how fietsstad works, not what would happen "
            f"in {place}.",
            "",
        ]
    lines += [
        "## Network",
        "",
        f"- provenance: **{'GENERATED' if gen else _md(label)}** — {_md(ns['description'])}",
        f"- {ns['nodes']:,} nodes, {ns['edges']:,} directed edges, "
        f"{ns['km_directed']:,.1f} km of directed edges, profile `{ns['profile']}`",
        f"- contraflow share {100 * ns['contraflow_share']:.1f} %, {ns['signals']} signalled nodes",
        "- km by infrastructure: "
        + ", ".join(f"{_md(k)} {v:,.1f}" for k, v in ns["km_by_infra"].items()),
        "",
    ]
    if region:
        lines += [
            "## Zones: the region",
            "",
            "37 zones: Zwolle's 16 wijken and the 21 municipalities around it (Dalfsen, Kampen, "
            "Hattem, Meppel, Staphorst, ...; CBS 2024 inhabitants, 2017 jobs). The snelfietspad "
            "scenario and the commuter table use all 37; the hubs use Zwolle's wijken.",
            "",
        ]
    if res is None:
        lines += ["## Snelfietspad: not evaluated", "", f"> {_md(skipped)}", ""]
    else:
        lines += _scenario_lines(res.summary)
    if region:
        lines += _commuter_lines(commuters, gen)
    lines += _hub_lines(net, greedy, exact, catch, in_zwolle)
    if region:
        lines[-1:-1] = [
            "",
            "The hubs stay on Zwolle's 16 wijken: the candidate sites (station, P+R, district "
            "centres) are Zwolle's, so the region's other municipalities are not part of the "
            "placement.",
        ]
    lines += [
        "## Files",
        "",
    ]
    if res is not None:
        lines.append(
            "- `snelfietspad.html`: network coloured by the change in bike flow, the corridor, "
            "districts shaded by the change in bike share (open in a browser; tiles need internet)"
        )
    lines += [
        "- `hubs.html`: hubs, 5/10/15-minute catchments, covered and uncovered population, "
        "coverage curve",
        "- `manifest.json`: written last; its presence means the set is complete",
        "",
    ]
    return "\n".join(lines)


def _commuter_lines(t: Any, gen: bool) -> list[str]:
    a = t.attrs
    lines = [
        "## Commuters to Zwolle: model against CBS",
        "",
        "Home-to-work trips per day from each neighbouring municipality to Zwolle. **Model**: the "
        "demand model's doubly constrained gravity distribution (`trip_generation`, "
        "`gravity_distribution` on the zone-to-zone cycling times"
        + (" of the GENERATED network" if gen else "")
        + "); it has no trip purposes, so commuters = its trips from the municipality to "
        f"Zwolle's wijken x {a['home_to_work_share']:g} (assumed share of all trips that go from "
        "home to work: about one trip in five is to or from work in ODiN, half of them from "
        f"home). **CBS**: home-to-work flows {a['period']} (persons living in the municipality "
        f"and working in Zwolle) x {a['trips_per_commuter']:g} home-to-work trips per working "
        "day (assumed: part-time work, leave, working from home). Both are assumptions until "
        "the demand model has a commuting purpose.",
        "",
        "| municipality | model trips/day | CBS persons | CBS trips/working day | model / CBS |",
        "|---|---|---|---|---|",
    ]
    for _, r in t.iterrows():
        lines.append(
            f"| {_md(r['municipality'])} | {_n(r['model_trips'], 0)} | {_n(r['cbs_persons'], 0)} "
            f"| {_n(r['cbs_trips'], 0)} | {_n(r['ratio'], 2)} |"
        )
    lines += [
        f"| **total** | {_n(t['model_trips'].sum(), 0)} | {_n(t['cbs_persons'].sum(), 0)} | "
        f"{_n(t['cbs_trips'].sum(), 0)} | {_n(t['model_trips'].sum() / t['cbs_trips'].sum(), 2)} |",
        "",
        f"Correlation over the {len(t)} municipalities (Pearson, model against CBS trips): "
        f"**{_n(a['correlation'], 2)}**.",
        "",
    ]
    few = t.loc[t["ratio"] < 0.1, "municipality"].tolist()
    if few:
        lines += [
            f"The model has under a tenth of CBS's commuters from {', '.join(map(_md, few))}: "
            "the distribution runs on cycling times with the default deterrence, so long "
            "commutes (mostly by car or train) are nearly absent; a commuting purpose with its "
            "own trip-length distribution is left to the demand model.",
            "",
        ]
    return lines


def _scenario_lines(s: dict) -> list[str]:
    clipped = (
        " (clipped to the network area)"
        if s.get("route_clipped")
        else " reaching its real end points"
    )
    return [
        f"## Snelfietspad: {_md(s.get('route_name', ''))}",
        "",
        "Approximate route through real places" + clipped + "; upgraded to snelfietspad standard "
        "(design speed, priority at side roads, green waves).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| route length | {_n(s.get('route_length_km'), 2)} km |",
        f"| straight line | {_n(s.get('route_straight_km'), 2)} km |",
        f"| directness (length / straight line; target ≤ 1.2) | {_n(s.get('directness'), 2)} |",
        f"| OD pairs faster | {_n(100 * float(s.get('od_pairs_improved_share', 0)), 0)} % |",
        f"| minutes saved per day (all cyclists) | {_n(s.get('minutes_saved_per_day'), 0)} |",
        f"| bike share before → after | {_n(s.get('bike_share_before_pct'), 2)} % → "
        f"{_n(s.get('bike_share_after_pct'), 2)} % |",
        f"| bike share change | {_n(s.get('bike_share_change_pp'), 2)} percentage points |",
        f"| extra bike trips per day | {_n(s.get('extra_bike_trips_per_day'), 0)} |",
        f"| car trips replaced per day | {_n(s.get('car_trips_replaced_per_day'), 0)} |",
        f"| cyclists on the corridor per day | {_n(s.get('corridor_cyclists_before'), 0)} → "
        f"{_n(s.get('corridor_cyclists_after'), 0)} ({_corridor_pct(s)}) |",
        f"| CO2 avoided per day | {_n(s.get('co2_avoided_kg_per_day'), 0)} kg |",
        "",
    ]


def _hub_lines(
    net: BikeNetwork, greedy: HubPlacement, exact: HubPlacement, catch: Any, in_zwolle: bool
) -> list[str]:
    tot = exact.total_population
    if in_zwolle:
        what = "inhabitants"
        demand = (
            f"Demand: {tot:,.0f} inhabitants (CBS 2024, 16 districts) spread over the network "
            "nodes nearest to each district point. Candidates: Zwolle Centraal, Stadshagen, "
            "Zwolle-Zuid, P+R Meeuwenplas and the district centres (positions approximate)."
        )
    else:
        what = "network nodes"
        demand = (
            f"This network is not Zwolle, so Zwolle's districts and hub sites do not apply. "
            f"Demand: every one of the {tot:,.0f} network nodes weighs 1 (no population data for "
            "this area), so 'covered' counts network nodes, a stand-in for where people live. "
            f"Candidates: the network's {len(exact.candidates)} best-connected junctions "
            "(most edges), spread out over its area."
        )
    lines = [
        f"## Mobility hubs: {exact.k} hubs, {what} within {exact.minutes:g} min by bike",
        "",
        demand,
        "",
        "| hubs | greedy covered | exact (MILP) covered | greedy / exact |",
        "|---|---|---|---|",
    ]
    solved = exact.method == "exact"
    if not solved:
        lines[-2] = "| hubs | greedy covered | exact: not solved within the time limit | – |"
    for i in exact.coverage_curve.index[1:]:
        g = float(greedy.coverage_curve.loc[i, "covered"])
        e = float(exact.coverage_curve.loc[i, "covered"]) if solved else float("nan")
        lines.append(
            f"| {i} | {g:,.0f} ({100 * g / tot:.1f} %) | {e:,.0f} ({100 * e / tot:.1f} %) | "
            f"{(g / e if e else 1):.3f} |"
            if solved
            else f"| {i} | {g:,.0f} ({100 * g / tot:.1f} %) | – | – |"
        )
    lines += [
        "",
        f"Chosen hubs ({'exact' if solved else 'greedy'} solution, ordered by marginal gain):",
        "",
        "| # | hub | marginal gain | covered after | catchment 15 min |",
        "|---|---|---|---|---|",
    ]
    for _, row in exact.hubs.iterrows():
        c15 = catch[(catch["hub_index"] == row["rank"] - 1) & (catch["minutes"] == 15)]
        pop15 = float(c15["population"].iloc[0]) if len(c15) else float("nan")
        lines.append(
            f"| {int(row['rank'])} | {_md(row['name'])} | {row['marginal_gain']:,.0f} | "
            f"{row['covered_after']:,.0f} | {_n(pop15, 0)} |"
        )
    lines.append("")
    return lines


__all__ = [
    "run_demo",
    "build_demo_network",
    "network_hub_candidates",
    "zwolle_applies",
    "region_applies",
    "region_polygon",
    "commuters_against_cbs",
    "HOME_TO_WORK_SHARE",
    "TRIPS_PER_COMMUTER_PER_WORKDAY",
    "DEFAULT_NODES",
    "clean_stale_staging",
    "DEMO_FILES",
]
