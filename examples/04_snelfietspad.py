"""04 - A snelfietspad (fast cycle route): what does it change, and where?

Evaluates one of the shipped Zwolle routes (approximate waypoints of real places) before against
after: directness, minutes saved, bike share, extra bike trips, car trips replaced; and writes a
folium map (network coloured by the change in bike flow, the corridor, districts)::

    python examples/04_snelfietspad.py --route Zwolle-Kampen     # GENERATED network, offline
    python examples/04_snelfietspad.py --place "Gemeente Zwolle, Overijssel, Nederland"
    python examples/04_snelfietspad.py --region --nodes 25000   # GENERATED regional network

``--region`` runs on Regio Zwolle: the GENERATED regional network (docs/region.md) and the
region's 37 zones (Zwolle's 16 wijken and the 21 municipalities around it); the route then
reaches its real end points (Kampen, Dalfsen, ...) instead of being clipped to the city.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import example_parser, get_network

import fietsstad
from fietsstad.maps import snelfietspad_map
from fietsstad.scenario import evaluate_snelfietspad, zwolle_routes


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = example_parser(__doc__)
    ap.add_argument("--route", default="Dalfsen-Zwolle", choices=sorted(zwolle_routes()))
    ap.add_argument("--out", default="examples-out", help="output folder")
    ap.add_argument(
        "--region",
        action="store_true",
        help="GENERATED regional network and the region's 37 zones (--nodes at least 2000)",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.region:
        net = fietsstad.generate_region_network(max(args.nodes, 2000), seed=args.seed)
        zones = fietsstad.zwolle_region_zones()
    else:
        net, zones = get_network(args), None  # zones None: Zwolle's 16 districts
    print(net.describe().splitlines()[0])

    result = evaluate_snelfietspad(net, args.route, zones, clip=not args.region)
    s = result.summary
    print(
        f"route {s['route_name']}: {s['route_length_km']:.1f} km on the network, directness "
        f"{s['directness']:.2f} (target at most 1.2){' (clipped)' if s['route_clipped'] else ''}"
    )
    print(f"minutes saved per day: {s['minutes_saved_per_day']:,.0f}")
    print(
        f"bike share: {s['bike_share_before_pct']:.2f} % -> {s['bike_share_after_pct']:.2f} % "
        f"({s['bike_share_change_pp']:+.2f} percentage points)"
    )
    print(
        f"extra bike trips per day: {s['extra_bike_trips_per_day']:,.0f}; car trips replaced: "
        f"{s['car_trips_replaced_per_day']:,.0f}"
    )
    print(
        result.zones[["name", "bike_share_change_pp", "minutes_saved"]]
        .round(3)
        .to_string(index=False)
    )

    out = Path(args.out)
    snelfietspad_map(result, out / "snelfietspad.html")
    print(f"map written to {out / 'snelfietspad.html'}")


if __name__ == "__main__":
    main()
