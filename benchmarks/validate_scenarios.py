"""Evaluate every shipped snelfietspad and print the results beside the published effects.

Usage::

    python benchmarks/validate_scenarios.py --json validation.json
    python benchmarks/validate_scenarios.py --nodes 1500 --route-choice aon

The network is the default one: ``fietsstad.generate_region_network()`` when the package has it
(a GENERATED regional network), otherwise the demo's GENERATED Zwolle network
(:func:`fietsstad.demo.build_demo_network` with ``network="generated"``: this script must give
the same numbers offline). Published ranges: ``anchors.md`` section 3 (Radboud University for
Gelderland 2022, Rijkswaterstaat, Copenhagen 2024); see ``docs/validation.md``.

Per corridor (all per day):

* ``corridor_users_change_pct``: % more bike trips whose route uses the corridor (any edge);
* ``corridor_count_change_pct``: % change of the bike flow at a count point on the corridor's
  existing streets (length-weighted mean edge flow over the upgraded edges);
* ``bike_share_change_pp_upto_20km``: change of the bike share (percentage points) of the trips
  up to 20 km between the zone pairs whose route uses the corridor (each pair weighted by the
  share of its trips on the corridor after the upgrade);
* ``new_users_drove_before_share``: car trips replaced by corridor users over the new corridor
  users (``corridor after - before``);
* ``car_trips_replaced_per_day``, ``car_km_replaced_per_day`` (from the result when it reports
  car-km, else the shifted trips' own distances) and ``km_per_replaced_car_trip``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

import fietsstad

#: Published ranges (anchors.md section 3), as (low, high, source).
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "corridor_users_change_pct": (
        20.0,
        100.0,
        "+20 % on average, +40 % opening year, about double after 4 years (Radboud/Gelderland "
        "2022); +87 % Copenhagen 2024",
    ),
    "bike_share_change_pp_upto_20km": (4.0, 4.0, "+4 pp on 15 Dutch routes (Radboud 2022)"),
    "new_users_drove_before_share": (
        0.02,
        0.20,
        "2-5 % of all route users (Rijkswaterstaat); 14 % of new users (Copenhagen 2024)",
    ),
    "km_per_replaced_car_trip": (1.0, 25.0, "issue #11 bound; Copenhagen commute 12 km"),
}


def default_network(nodes: int, seed: int) -> Any:
    """The default network: the regional one when the package has it, else the demo's."""
    if hasattr(fietsstad, "generate_region_network"):
        return fietsstad.generate_region_network()
    from fietsstad.demo import build_demo_network

    return build_demo_network("generated", nodes=nodes, seed=seed, echo=None)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def corridor_figures(res: Any) -> dict[str, float | None]:
    """Validation figures of one ScenarioResult, read defensively from its documented fields."""
    s = res.summary
    od = res.od
    trips = od["trips"].to_numpy(float)
    bb = od["bike_trips_before"].to_numpy(float)
    ba = od["bike_trips_after"].to_numpy(float)
    use_a = od["corridor_after"].to_numpy(float)
    extra = ba - bb
    car_trips = _num(s.get("car_trips_replaced_per_day"))
    extra_tot = _num(s.get("extra_bike_trips_per_day"))
    car_share = (
        car_trips / extra_tot if car_trips is not None and extra_tot not in (None, 0.0) else None
    )
    km = od["distance_before_km"].to_numpy(float)
    car_km = _num(s.get("car_km_replaced_per_day"))
    if car_km is None and car_share is not None:
        ok = np.isfinite(km)
        car_km = float(car_share * (extra[ok] * km[ok]).sum())
    cb = _num(s.get("corridor_cyclists_before")) or 0.0
    ca = _num(s.get("corridor_cyclists_after")) or 0.0
    drove = None
    if car_share is not None and ca > cb:
        drove = float(car_share * (extra * use_a).sum() / (ca - cb))
    sel = np.isfinite(km) & (km <= 20.0)
    wt = (use_a * trips)[sel]
    pp = None
    if wt.sum() > 0:
        pp = float(100.0 * ((use_a * extra)[sel].sum()) / wt.sum())
    return {
        "corridor_count_change_pct": _count_change(res),
        "corridor_users_before": cb,
        "corridor_users_after": ca,
        "corridor_users_change_pct": _num(s.get("corridor_cyclists_change_pct")),
        "bike_share_change_pp_upto_20km": pp,
        "new_users_drove_before_share": drove,
        "car_trips_replaced_per_day": car_trips,
        "car_km_replaced_per_day": car_km,
        "km_per_replaced_car_trip": (car_km / car_trips)
        if car_km is not None and car_trips
        else None,
        "route_km": _num(s.get("route_length_km")),
        "route_clipped": bool(s.get("route_clipped", False)),
    }


def _count_change(res: Any) -> float | None:
    """% change of the bike flow at a count point on the corridor's existing streets.

    The length-weighted mean of ``edge_flow_after`` over the corridor edges that existed before
    (upgraded, not added), against ``edge_flow_before`` on the same edges: what counting
    stations along the route measure (the Radboud and Copenhagen figures are counts).
    """
    edges = np.asarray(getattr(res, "route_edges", []), dtype=np.int64)
    added = getattr(getattr(res, "route", None), "added_edges", None)
    if added is not None:
        edges = np.setdiff1d(edges, np.asarray(added, dtype=np.int64))
    fb = np.asarray(getattr(res, "edge_flow_before", []), dtype=float)
    fa = np.asarray(getattr(res, "edge_flow_after", []), dtype=float)
    if edges.size == 0 or fb.size == 0 or fa.size == 0:
        return None
    w = np.asarray(res.after.length, dtype=float)[edges]
    before = float((w * fb[edges]).sum() / w.sum())
    return 100.0 * ((w * fa[edges]).sum() / w.sum() / before - 1.0) if before > 0 else None


def _modal_share_before(net: Any) -> float | None:
    """``modal_share`` on the zones ``evaluate_snelfietspad`` used: the default zones of the
    network (both take them when none are given), not the scenario's output table."""
    from fietsstad.demand import modal_share

    city = modal_share(net, top_pairs=0)["city"]
    return float(100.0 * city["bike_share"].iloc[0])


def _fmt(v: float | None, spec: str) -> str:
    width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()) or 0)
    return "n/a".rjust(width) if v is None else format(v, spec)


def run(
    nodes: int = 20_000, seed: int = 0, route_choice: str = "logit", echo: Any = print
) -> dict[str, Any]:
    """Evaluate every shipped corridor; returns the JSON-ready dict (see the module docs)."""
    from fietsstad.scenario import evaluate_snelfietspad, zwolle_routes

    say = echo or (lambda *_: None)
    t0 = time.perf_counter()
    net = default_network(nodes, seed)
    out: dict[str, Any] = {
        "network": "GENERATED" if net.is_generated else str(net.meta.get("source", "unknown")),
        "network_nodes": int(net.n_nodes),
        "network_edges": int(net.n_edges),
        "route_choice": route_choice,
        "corridors": {},
        "published": {k: list(v) for k, v in PUBLISHED.items()},
        "timings_s": {"network": time.perf_counter() - t0},
    }
    first = None
    for name in sorted(zwolle_routes()):
        t = time.perf_counter()
        res = evaluate_snelfietspad(net, name, route_choice=route_choice)
        out["timings_s"][name] = time.perf_counter() - t
        first = first or res
        out["corridors"][name] = corridor_figures(res)
    assert first is not None
    out["zones"] = int(len(first.zones))
    out["bike_share_scenario_before"] = _num(first.summary.get("bike_share_before_pct"))
    t = time.perf_counter()
    out["bike_share_modal_share"] = _modal_share_before(first.before)
    out["timings_s"]["modal_share"] = time.perf_counter() - t

    tag = "GENERATED " if net.is_generated else ""
    say(f"{tag}network: {net.n_nodes:,} nodes, {out['zones']} zones, route choice {route_choice}")
    say(
        f"bike share of all trips before any scenario: modal_share "
        f"{_fmt(out['bike_share_modal_share'], '.1f')} %, evaluate_snelfietspad "
        f"{_fmt(out['bike_share_scenario_before'], '.1f')} %"
    )
    head = (
        f"{'corridor':<24}{'users %':>9}{'count %':>9}{'pp<=20km':>10}{'drove %':>9}"
        f"{'car trips':>11}{'car-km':>9}{'km/trip':>9}{'time s':>8}"
    )
    say(head)
    for name, c in out["corridors"].items():
        drove = c["new_users_drove_before_share"]
        say(
            f"{name:<24}{_fmt(c['corridor_users_change_pct'], '+9.1f')}"
            f"{_fmt(c['corridor_count_change_pct'], '+9.1f')}"
            f"{_fmt(c['bike_share_change_pp_upto_20km'], '+10.2f')}"
            f"{_fmt(None if drove is None else 100 * drove, '9.1f')}"
            f"{_fmt(c['car_trips_replaced_per_day'], '11.1f')}"
            f"{_fmt(c['car_km_replaced_per_day'], '9.1f')}"
            f"{_fmt(c['km_per_replaced_car_trip'], '9.1f')}"
            f"{out['timings_s'][name]:8.1f}"
        )
    say("published:")
    for key, (lo, hi, src) in PUBLISHED.items():
        say(f"  {key}: {lo:g} .. {hi:g}  ({src})")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line entry point; returns the results (also written with ``--json``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--nodes", type=int, default=20_000, help="generated network size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--route-choice", choices=("logit", "aon"), default="logit")
    a = p.parse_args(argv)
    out = run(a.nodes, a.seed, a.route_choice)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
