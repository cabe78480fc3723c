"""03 - Modal share: trips between Zwolle's districts and the share cycled (PCT uptake, Zwolle preset).

A doubly constrained gravity model distributes all trips over the districts by travel time on the
network; the Zwolle-calibrated PCT (Propensity to Cycle Tool) uptake curve gives the share cycled
at each route distance, plus an e-bike scenario with car trips replaced and CO2 avoided::

    python examples/03_modal_share.py                  # GENERATED network, offline
    python examples/03_modal_share.py --place "Gemeente Zwolle, Overijssel, Nederland"

Jobs per district are an ASSUMPTION here: CBS gives Zwolle's total (79,030 in 2017), spread in
proportion to inhabitants.
"""

from __future__ import annotations

import argparse

from _common import example_parser, get_network

import fietsstad
from fietsstad.demand import modal_share
from fietsstad.zwolle import zwolle_jobs_total


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = example_parser(__doc__)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    net = get_network(args)
    print(net.describe().splitlines()[0])

    zones = fietsstad.zwolle_districts()
    share = zones["inhabitants_2024"] / zones["inhabitants_2024"].sum()
    zones["jobs"] = zwolle_jobs_total() * share  # assumption: jobs in proportion to inhabitants

    result = modal_share(net, zones)
    city = result["city"].iloc[0]
    print(f"trips per day between and within districts: {city['trips']:,.0f}")
    print(f"bike share: {100 * city['bike_share']:.1f} % (Zwolle measured: 46 % of all trips)")
    print(f"mean bike trip: {city['mean_bike_trip_km']:.2f} km")
    print(
        f"e-bike scenario: +{city['extra_ebike_trips']:,.0f} bike trips, "
        f"{city['car_trips_replaced']:,.0f} car trips replaced, "
        f"{city['co2_avoided_kg']:,.0f} kg CO2 avoided per day"
    )
    z = result["zones"].assign(name=zones["name"].to_numpy())
    print(z[["name", "trips", "bike_share", "bike_trips"]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
