"""Calibration of the whole demand chain (gravity + intrazonal trips + uptake) to Zwolle's 46 %.

The uptake preset :data:`~fietsstad.demand.ZWOLLE_2024` is fitted
(:func:`~fietsstad.demand.fit_zwolle_2024`) to 46 % of all trips and 49 % of trips up to 7.5 km
by bike on a trip-length distribution whose bike trips average 3.5 km (KiM 2016). The full model
distributes trips with the gravity model, so its trip lengths depend on the deterrence; this
module solves the deterrence for which the *full* model (intrazonal trips included, at their
documented distance) gives the target share, and reports the other Dutch checks beside it.
"""

from __future__ import annotations

from typing import Any

from fietsstad.demand.assumptions import Assumptions, get_assumptions
from fietsstad.demand.pct import ZWOLLE_TARGETS
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


__all__ = ["full_model_check", "calibrate_deterrence"]
