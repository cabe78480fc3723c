"""``fietsstad network``: build a bike network (place, file or GENERATED) and summarise it.

Example
-------
>>> from fietsstad.cli import main
>>> main(["network", "--file", "tests/fixtures/osm/junctions.osm"])  # doctest: +SKIP
network from osm-file:junctions.osm: OpenStreetMap file junctions.osm
...
0
"""

from __future__ import annotations

import argparse
import json
import sys

from fietsstad.network import PROFILES, BikeNetwork


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``network`` sub-command.

    Example
    -------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); sub = p.add_subparsers()
    >>> _ = add_parser(sub)
    >>> p.parse_args(["network", "--generated", "500", "--seed", "3"]).generated
    500
    """
    p = subparsers.add_parser(
        "network",
        help="build a bike network from OpenStreetMap (place or file) or a GENERATED one",
        description="Build a costed bicycle network and print a summary: nodes, edges, km by "
        "infrastructure type, contraflow share, signals, and what was dropped outside the "
        "largest strongly connected component. A place needs internet the first time (then "
        "it is cached); a file or --generated works offline.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--place", help="place name to download, e.g. 'Gemeente Zwolle, Overijssel, Nederland'"
    )
    src.add_argument("--file", help="OSM file: .osm, .osm.bz2, .osm.gz, .osm.pbf or .graphml")
    src.add_argument(
        "--generated",
        type=int,
        metavar="N",
        help="a GENERATED (synthetic, not OSM) network of about N nodes",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of a --generated network (default 0)")
    p.add_argument(
        "--profile",
        default="bike",
        choices=sorted(PROFILES),
        help="cyclist profile (default: %(default)s)",
    )
    p.add_argument(
        "--no-simplify",
        action="store_true",
        help="keep every OSM node (no topology simplification)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not use the network cache")
    p.add_argument("--save", metavar="PATH", help="save the network to PATH (BikeNetwork.load)")
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON summary")
    p.set_defaults(func=run)
    return p


def build(args: argparse.Namespace) -> BikeNetwork:
    """The network the arguments ask for (OSM place/file, or generated).

    Example
    -------
    >>> ns = argparse.Namespace(generated=300, seed=1, profile="bike", place=None, file=None,
    ...                         no_simplify=False, no_cache=False)
    >>> build(ns).is_generated  # doctest: +SKIP
    True
    """
    if args.generated is not None:
        from fietsstad.network import generate_network

        return generate_network(n_nodes=args.generated, seed=args.seed, profile=args.profile)
    from fietsstad.network import load_network

    simplify = not args.no_simplify
    if args.file is not None:
        return load_network(file=args.file, profile=args.profile, simplify=simplify)
    return load_network(
        args.place, profile=args.profile, simplify=simplify, cache=not args.no_cache
    )


def run(args: argparse.Namespace) -> int:
    """Build, print the summary (text or JSON), optionally save; returns the exit code.

    Example
    -------
    >>> from fietsstad.cli import main
    >>> main(["network", "--generated", "300", "--json"])  # doctest: +SKIP
    0
    """
    net = build(args)
    saved = None
    if args.save:
        saved = str(net.save(args.save))
    if args.json:
        summary = net.summary()
        summary["saved"] = saved
        summary["attribution"] = net.meta.get("attribution")
        json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(net.describe())
        if net.meta.get("attribution"):
            print(f"  data {net.meta['attribution']}")
        if saved:
            print(f"saved to {saved}")
    return 0
