"""05 - Mobility hubs: where do k hubs reach the most inhabitants within 10 minutes by bike?

Candidates are the built-in Zwolle sites (Zwolle Centraal, Stadshagen, Zwolle-Zuid, P+R
Meeuwenplas, district centres; positions approximate). Greedy maximal covering with each hub's
marginal gain, the exact optimum (MILP) to compare, 5/10/15-minute catchments, and a map::

    python examples/05_hubs.py --k 4                    # GENERATED network, offline
    python examples/05_hubs.py --place "Gemeente Zwolle, Overijssel, Nederland"
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import example_parser, get_network

import fietsstad
from fietsstad.hubs import hub_catchments, node_population, place_hubs, zwolle_hub_candidates
from fietsstad.maps import hubs_map


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = example_parser(__doc__)
    ap.add_argument("--k", type=int, default=5, help="number of hubs")
    ap.add_argument("--minutes", type=float, default=10.0, help="coverage threshold")
    ap.add_argument(
        "--keep-station",
        action="store_true",
        help="keep Zwolle Centraal as an existing hub and place k more",
    )
    ap.add_argument("--out", default="examples-out", help="output folder")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    net = get_network(args)
    print(net.describe().splitlines()[0])

    candidates = zwolle_hub_candidates()
    population = node_population(net, fietsstad.zwolle_districts(), distribute="nearest")
    fixed = [0] if args.keep_station else []  # row 0 is Zwolle Centraal
    greedy = place_hubs(net, candidates, population, k=args.k, cutoff_min=args.minutes, fixed=fixed)
    exact = place_hubs(
        net, candidates, population, k=args.k, cutoff_min=args.minutes, fixed=fixed, method="exact"
    )
    print(
        greedy.hubs[["rank", "name", "marginal_gain", "covered_after"]]
        .round(0)
        .to_string(index=False)
    )
    curve = exact.coverage_curve.assign(greedy_over_optimal=lambda c: c["greedy"] / c["optimal"])
    print(curve.round(3).to_string())

    catchments = hub_catchments(net, exact.hubs, bands_min=(5, 10, 15), population=population)
    print(catchments.drop(columns="geometry").round(1).to_string(index=False))

    out = Path(args.out)
    hubs_map(exact, catchments, out / "hubs.html", net=net)
    print(f"map written to {out / 'hubs.html'}")


if __name__ == "__main__":
    main()
