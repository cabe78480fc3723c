"""``fietsstad demo``: Regio Zwolle's network (or any OSM file), a snelfietspad scenario and hubs.

By default the demo runs on Regio Zwolle (Zwolle's 16 wijken and the 21 municipalities around
it); ``--area zwolle`` runs it on the city alone.

``fietsstad demo --file extract.osm.pbf`` runs the demo on an OpenStreetMap extract of any place
(Zwolle's routes and districts then apply only if the extract covers Zwolle; see
:mod:`fietsstad.demo`).

Example
-------
>>> from fietsstad.cli import main
>>> main(["demo", "--out", "demo-out", "--network", "generated", "--nodes", "4000"])  # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``demo`` sub-command.

    Example
    -------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> _ = add_parser(sub)
    >>> p.parse_args(["demo", "--nodes", "500"]).nodes
    500
    """
    p = subparsers.add_parser(
        "demo",
        help="run the demo (Regio Zwolle, or any OSM file): snelfietspad and hub maps, report",
        description="Build Regio Zwolle's bike network (cached OSM, else download, else a "
        "GENERATED regional network, said loudly) or read an OSM extract (--file), evaluate a "
        "snelfietspad on the region's zones, compare the model's commuters to Zwolle with CBS, "
        "place mobility hubs, and write snelfietspad.html, hubs.html and report.md to --out.",
    )
    p.add_argument("--out", default="fietsstad-demo", help="output folder (default: %(default)s)")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--file",
        default=None,
        help="an OpenStreetMap extract (.osm, .osm.pbf, .graphml) to run the demo on instead of "
        "Zwolle's network",
    )
    src.add_argument(
        "--network",
        choices=("auto", "osm", "generated"),
        default="auto",
        help="where the network comes from (default: %(default)s)",
    )
    p.add_argument(
        "--area",
        choices=("region", "zwolle"),
        default="region",
        help="Regio Zwolle (37 zones) or the city of Zwolle alone (default: %(default)s)",
    )
    p.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="size of a generated network (default: 25000 for the region, 20000 for Zwolle; "
        "at least 2000 for the region)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of a generated network")
    p.add_argument(
        "--route",
        default="Dalfsen-Zwolle",
        help="shipped snelfietspad to evaluate (default: %(default)s)",
    )
    p.add_argument("--hubs", type=int, default=5, help="number of hubs to place (default: 5)")
    p.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="hub coverage threshold in minutes by bike (default: 10)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run the demo with parsed arguments; returns 0 on success."""
    from fietsstad.demo import run_demo

    run_demo(
        args.out,
        network=args.network,
        nodes=args.nodes,
        seed=args.seed,
        route=args.route,
        k=args.hubs,
        minutes=args.minutes,
        file=args.file,
        area=args.area,
    )
    return 0
