"""``fietsstad demo``: Zwolle's network, a snelfietspad scenario and hub placement, as maps + report.

Example
-------
>>> from fietsstad.cli import main
>>> main(["demo", "--out", "demo-out", "--network", "generated", "--nodes", "2000"])  # doctest: +SKIP
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
        help="run the Zwolle demo: snelfietspad and mobility-hub maps plus a report",
        description="Build Zwolle's bike network (cached OSM, else download, else a GENERATED "
        "network over the study area, said loudly), evaluate a snelfietspad, place mobility hubs, "
        "and write snelfietspad.html, hubs.html and report.md to --out.",
    )
    p.add_argument("--out", default="fietsstad-demo", help="output folder (default: %(default)s)")
    p.add_argument(
        "--network",
        choices=("auto", "osm", "generated"),
        default="auto",
        help="where the network comes from (default: %(default)s)",
    )
    p.add_argument(
        "--nodes",
        type=int,
        default=20_000,
        help="size of a generated network (default: %(default)s)",
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
    )
    return 0
