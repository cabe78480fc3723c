"""Shared command-line plumbing of the example scripts: the network to run on.

Every example runs offline on a GENERATED street-like network over Zwolle's study area (said
loudly), or on the real OpenStreetMap network of ``--place`` (needs internet the first time).
"""

from __future__ import annotations

import argparse
import os

import fietsstad


def example_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser with ``--nodes``, ``--seed`` and ``--place``.

    ``--nodes`` defaults to ``$FIETSSTAD_EXAMPLE_NODES`` or 5000 (the tests use small sizes).
    """
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument(
        "--nodes", type=int, default=int(os.environ.get("FIETSSTAD_EXAMPLE_NODES", 5000))
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--place", help="real OpenStreetMap place name (needs internet once)")
    return ap


def get_network(args: argparse.Namespace) -> fietsstad.BikeNetwork:
    """The real OSM network of ``--place``, or a GENERATED one over Zwolle's study area."""
    if args.place:
        return fietsstad.load_network(args.place)
    return fietsstad.generate_network(args.nodes, seed=args.seed)
