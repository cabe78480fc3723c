"""02 - Accessibility: how many inhabitants can each district reach within 10 and 15 minutes?

Cumulative accessibility by bike on the network, per Zwolle district (CBS 2024 inhabitants),
computed in one bounded traversal per district for both thresholds at once::

    python examples/02_accessibility.py                # GENERATED network, offline
    python examples/02_accessibility.py --place "Gemeente Zwolle, Overijssel, Nederland"
"""

from __future__ import annotations

import argparse

from _common import example_parser, get_network

import fietsstad
from fietsstad.analysis import Decay, accessibility
from fietsstad.hubs import node_population


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = example_parser(__doc__)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    net = get_network(args)
    print(net.describe().splitlines()[0])

    districts = fietsstad.zwolle_districts()
    # inhabitants of each district spread over the network nodes nearest to its centre point
    pop = node_population(net, districts, distribute="nearest")
    origins = net.snap(districts.geometry.x, districts.geometry.y)

    decays = [Decay.cumulative(10 * 60), Decay.cumulative(15 * 60)]
    acc = accessibility(net, pop, decays, cutoff_s=15 * 60, origins=origins).iloc[:, 1:].to_numpy()

    table = districts[["name", "inhabitants_2024"]].copy()
    table["reach_10min"] = acc[:, 0].round(0)
    table["reach_15min"] = acc[:, 1].round(0)
    table["share_15min_%"] = (100 * acc[:, 1] / pop.sum()).round(1)
    print(table.sort_values("reach_15min", ascending=False).to_string(index=False))


if __name__ == "__main__":
    main()
