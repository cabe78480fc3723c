"""Calibration of the whole demand chain (gravity + intrazonal trips + uptake) to Zwolle's 46 %.

The uptake preset :data:`~fietsstad.demand.ZWOLLE_2024` is fitted
(:func:`~fietsstad.demand.fit_zwolle_2024`) to 46 % of all trips and 49 % of trips up to 7.5 km
by bike on a trip-length distribution fitted to cited Dutch figures (:func:`trip_lengths_nl`,
``data/trip_lengths_nl.csv``: ODiN / OViN / MON via CBS, KiM, Fietsberaad). The full model
distributes trips with the gravity model, so its trip lengths depend on the deterrence; this
module solves the deterrence for which the *full* model (intrazonal trips included, at their
documented distance) gives the target share (:func:`calibrate_deterrence`), and sets the full
model's trip lengths beside the cited figures (:func:`compare_trip_lengths`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fietsstad.demand.assumptions import Assumptions, get_assumptions
from fietsstad.demand.pct import TRIP_LENGTHS_FILE as TRIP_LENGTHS_FILE
from fietsstad.demand.pct import ZWOLLE_TARGETS, trip_lengths_nl
from fietsstad.errors import ConvergenceError


def full_model_check(net_or_cost: Any, zones: Any, **kwargs: Any) -> dict[str, float]:
    """The full model's bike share, share up to 7.5 km and mean trip lengths (one modal share).

    Parameters
    ----------
    net_or_cost, zones, kwargs
        As in :func:`fietsstad.demand.modal_share` (``top_pairs`` is set to 0).

    Returns
    -------
    dict
        ``share_all``, ``share_short`` (trips up to 7.5 km), ``mean_trip_km``,
        ``mean_bike_km``, ``intrazonal_trip_share``... of all trips.

    Example
    -------
    >>> import numpy as np, pandas as pd
    >>> t = np.array([[0, 900], [900, 0]], dtype=np.uint16)
    >>> d = np.array([[0, 4000], [4000, 0]], dtype=np.int32)
    >>> z = pd.DataFrame({"productions": [100.0, 100.0], "attractions": [100.0, 100.0]})
    >>> 0 < full_model_check(t, z, distances=d)["share_all"] < 1
    True
    """
    from fietsstad.demand.modal import modal_share

    kwargs["top_pairs"] = 0
    r = modal_share(net_or_cost, zones, **kwargs)
    c = r["city"].iloc[0]
    d = r["distribution"]
    short = (d["km_to"] <= ZWOLLE_TARGETS["short_km"]).to_numpy()
    return {
        "share_all": float(c["bike_share"]),
        "share_short": float(d["bike_trips"][short].sum() / d["trips"][short].sum()),
        "mean_trip_km": float(c["mean_trip_km"]),
        "mean_bike_km": float(c["mean_bike_trip_km"]),
    }


def calibrate_deterrence(
    net_or_cost: Any,
    zones: Any,
    target_share: float = ZWOLLE_TARGETS["share_all"],
    *,
    bracket: tuple[float, float] = (0.02, 0.2),
    assumptions: Assumptions | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The exponential deterrence (per minute) for which the full model gives ``target_share``.

    Solves ``share_all(beta) = target_share`` (Brent's method; a lower beta gives longer trips
    and a lower bike share) on :func:`full_model_check`, intrazonal trips included.

    Parameters
    ----------
    net_or_cost, zones
        As in :func:`fietsstad.demand.modal_share`.
    target_share
        Bike share of all trips (default Zwolle's 0.46, Fietsersbond).
    bracket
        Search interval of beta per minute.
    assumptions
        The other assumptions (default the documented ones).
    kwargs
        Further :func:`fietsstad.demand.modal_share` arguments.

    Returns
    -------
    dict
        ``beta_per_min``, ``assumptions`` (with that deterrence) and the checks of
        :func:`full_model_check` at the solution.

    Raises
    ------
    ConvergenceError
        No beta in ``bracket`` reaches the target.

    Example
    -------
    >>> import fietsstad                                              # doctest: +SKIP
    >>> net = fietsstad.generate_network(6000, seed=0)                # doctest: +SKIP
    >>> r = calibrate_deterrence(net, fietsstad.zwolle_districts())   # doctest: +SKIP
    >>> round(r["beta_per_min"], 3), round(r["share_all"], 3)         # doctest: +SKIP
    (0.065, 0.46)
    """
    from scipy.optimize import brentq

    asm = get_assumptions(assumptions)

    def resid(beta: float) -> float:
        a = asm.replace(deterrence=("exponential", float(beta)))
        return full_model_check(net_or_cost, zones, assumptions=a, **kwargs)["share_all"] - (
            target_share
        )

    lo, hi = bracket
    r_lo, r_hi = resid(lo), resid(hi)
    if r_lo * r_hi > 0:
        raise ConvergenceError(
            f"calibrate_deterrence: the full model's bike share is {target_share + r_lo:.3f} at "
            f"beta={lo} and {target_share + r_hi:.3f} at beta={hi}: target {target_share} "
            "is not between them; widen bracket= or recalibrate the uptake model"
        )
    beta = float(brentq(resid, lo, hi, xtol=1e-5))
    a = asm.replace(deterrence=("exponential", beta))
    out: dict[str, Any] = {"beta_per_min": beta, "assumptions": a}
    out.update(full_model_check(net_or_cost, zones, assumptions=a, **kwargs))
    return out


def compare_trip_lengths(result: Any, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """A model's trip length distribution beside the cited Dutch figures, row by row.

    Every figure of ``figures`` (default :func:`trip_lengths_nl`) that a trip length histogram
    with bike trips can answer (trips ``all`` or ``bike``; measures ``share_of_trips``,
    ``share_of_trips_min``, ``bike_share``, ``mean_km``) is computed from the model's
    ``"distribution"`` table and set beside the cited value. A histogram bin belongs to a class
    ``[km_from, km_to)`` when its centre does (bins of 0.1 km resolve the classes 0-3.7, 0-5,
    0-7.5 and 7.5-15 km exactly); the open last bin counts as beyond every finite bound.

    Parameters
    ----------
    result
        A :func:`fietsstad.demand.modal_share` result (its ``"distribution"`` is used) or such a
        table itself: columns ``km_from``, ``km_to``, ``trips``, ``bike_trips`` and (for means)
        ``km_mean``.
    figures
        The cited figures (default the shipped table).

    Returns
    -------
    pandas.DataFrame
        Indexed by figure ``id``: ``trips``, ``measure``, ``km_from``, ``km_to``, ``use``,
        ``cited``, ``target`` (what a Zwolle model should reach: the cited value for ``fit`` and
        ``check`` rows, a national bike share scaled by Zwolle's lead up to 7.5 km, 49 % / 34 %
        (the ``scale`` row); NaN for ``context`` rows, which are national figures),
        ``model``, ``difference`` (model - target, a share or km), ``agrees`` (a lower bound is
        met, or the difference is within 0.02 of a share or 0.25 km of a mean: about the
        rounding of the published figures; NA without a target) and ``year``.
        ``attrs["rms_share_pp"]``: the root mean square of the share differences of the rows
        with a target, in percentage points.

    Raises
    ------
    ValidationError
        The table lacks a column, or has no trips.

    Example
    -------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"km_from": [0.0, 5.0, 10.0], "km_to": [5.0, 10.0, float("inf")],
    ...                   "trips": [60.0, 30.0, 10.0], "bike_trips": [30.0, 9.0, 1.0],
    ...                   "km_mean": [2.0, 7.0, 12.0]})
    >>> c = compare_trip_lengths(h)
    >>> round(float(c.loc["bike_mean_kim2016", "model"]), 4)  # (30*2 + 9*7 + 12) / 40
    3.375
    """
    import numpy as np

    from fietsstad.errors import ValidationError

    dist = result["distribution"] if isinstance(result, dict) else result
    need = ("km_from", "km_to", "trips", "bike_trips")
    missing = [c for c in need if c not in getattr(dist, "columns", ())]
    if missing:
        raise ValidationError(f"compare_trip_lengths: the distribution lacks {missing}")
    lo = dist["km_from"].to_numpy(np.float64)
    hi = dist["km_to"].to_numpy(np.float64)
    trips = dist["trips"].to_numpy(np.float64)
    bike = dist["bike_trips"].to_numpy(np.float64)
    if not (np.all(np.isfinite(trips)) and np.all(trips >= 0) and trips.sum() > 0):
        raise ValidationError("compare_trip_lengths: trips must be finite, >= 0 and not all 0")
    centre = np.where(np.isfinite(hi), (lo + hi) / 2.0, np.inf)
    km = (
        dist["km_mean"].to_numpy(np.float64)
        if "km_mean" in dist.columns
        else np.where(np.isfinite(hi), centre, lo)
    )
    figs = trip_lengths_nl() if figures is None else figures
    scale = figs[figs["use"] == "scale"]
    # Zwolle's lead over the national bike share up to 7.5 km (49 % against 34 %)
    lead = ZWOLLE_TARGETS["share_short"] / float(scale["value"].iloc[0]) if len(scale) else 1.0
    rows = []
    for f in figs.itertuples(index=False):
        if f.trips not in ("all", "bike") or f.measure == "crossover_km":
            continue
        w = bike if f.trips == "bike" else trips
        sel = (centre >= f.km_from) & (centre < f.km_to)
        if f.measure == "mean_km":
            model = float((w * km).sum() / w.sum())
        elif f.measure == "bike_share":
            model = float(bike[sel].sum() / trips[sel].sum()) if trips[sel].sum() > 0 else np.nan
        else:
            model = float(w[sel].sum() / w.sum())
        target = np.nan
        if f.use in ("fit", "check"):
            target = float(f.value) * (lead if f.measure == "bike_share" else 1.0)
        if np.isnan(target):
            agrees = pd.NA
        elif f.measure == "share_of_trips_min":
            agrees = bool(model >= target)
        else:
            agrees = bool(abs(model - target) <= (0.25 if f.measure == "mean_km" else 0.02))
        rows.append(
            {
                "id": f.id, "trips": f.trips, "measure": f.measure, "km_from": f.km_from,
                "km_to": f.km_to, "use": f.use, "cited": float(f.value), "target": target,
                "model": model, "difference": model - target, "agrees": agrees, "year": f.year,
            }
        )  # fmt: skip
    out = pd.DataFrame(rows).set_index("id")
    out["agrees"] = out["agrees"].astype("boolean")
    sh = out[out["target"].notna() & out["measure"].isin(["share_of_trips", "bike_share"])]
    out.attrs["rms_share_pp"] = (
        float(100 * np.sqrt(np.mean(sh["difference"] ** 2))) if len(sh) else float("nan")
    )
    return out


__all__ = ["full_model_check", "calibrate_deterrence", "trip_lengths_nl", "compare_trip_lengths"]
