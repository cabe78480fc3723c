"""01 - Zwolle's bike network: build it, look at it, save it.

Offline this runs on a GENERATED street-like network over Zwolle's study area (it says so).
With ``--place`` it builds the real network from OpenStreetMap (internet once, then cached)::

    python examples/01_network.py                      # generated, offline
    python examples/01_network.py --place "Gemeente Zwolle, Overijssel, Nederland"

Size of the generated network: ``--nodes`` or the environment variable FIETSSTAD_EXAMPLE_NODES.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import example_parser, get_network


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = example_parser(__doc__)
    ap.add_argument("--out", default="examples-out", help="output folder")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    net = get_network(args)
    print(net.describe())  # the first line says GENERATED for a generated network

    # travel time (fastest path) from Zwolle Centraal station to every node, in minutes
    from fietsstad.analysis import travel_time_matrix

    station = int(net.nearest_nodes([6.0917], [52.5049], max_distance_m=2000)[0])  # OSM id
    minutes = travel_time_matrix(net, [station], dtype="float32")[0] / 60
    for t in (5, 10, 15, 20):
        print(
            f"nodes within {t:2d} min of the station by bike: {int((minutes <= t).sum()):6,d} "
            f"of {net.n_nodes:,d}"
        )
    print(f"median time to the station: {float(np.median(minutes[np.isfinite(minutes)])):.1f} min")

    edges = net.edges_gdf()
    print(edges.groupby("infra")["length"].sum().div(1000).round(1).rename("km (directed)"))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = net.save(out / "network.fsn")
    print(f"saved to {path} (reload with fietsstad.BikeNetwork.load)")


if __name__ == "__main__":
    main()
