"""Cycling uptake: the Propensity to Cycle Tool (PCT) family, local calibration, Zwolle preset.

The PCT models the probability that a trip is cycled from its *network route* distance ``d`` (km,
fastest route, not straight line) and average route gradient ``g`` (percent)::

    logit(p) = a + d1*d + d2*sqrt(d) + d3*d**2 + h1*G + i1*d*G + i2*sqrt(d)*G
    G = g + h2        (h2 = 0 for the 2017 coefficients, -0.78 for 2020: "Dutch hilliness")

Presets (Lovelace et al. 2017, doi:10.5198/jtlu.2016.862; coefficients as in the ``pct`` R
package, ITSLeeds/pct ``R/uptake.R``): :data:`GOVTARGET_2017`, :data:`GODUTCH_2017`,
:data:`GOVTARGET_2020`, :data:`GODUTCH_2020`, :data:`EBIKE_2020`. They reproduce the values
published with the R package to 1e-9: ``uptake_pct_govtarget(15, 2) = 0.0107377`` and
``uptake_pct_godutch(15, 2) = 0.04132445``. Go Dutch is *not* a multiplier on Government Target:
as in the R package (its Equation 1B example), the Dutch increments are added on the logit scale,
``logit_godutch = logit_govtarget + 2.523 - 0.07626*d`` (2017) or ``+ 2.550 - 0.08036*d`` (2020),
which is what the presets' ``a`` and ``d1`` hold.

Beyond the published formula: the quadratic term makes the published curve rise again beyond
25-31 km (outside the commuting range PCT was fitted on). Each model therefore has ``tail_km``,
the distance at which its flat-terrain logit is lowest; longer distances are evaluated at
``tail_km``, so uptake never increases with distance past the peak. Unreachable pairs (``inf``
distance, or the integer sentinel of a ``uint16``/``int32`` matrix) get ``p = 0``.

Zwolle calibration (preset :data:`ZWOLLE_2024`, shipped in ``data/uptake_presets.json``)
---------------------------------------------------------------------------------------
PCT was fitted on English commutes; its intercept is meant to be recalibrated locally. What is
fitted, on what:

* start model: Go Dutch 2020, flat terrain (Zwolle's gradients are close to zero);
* trip length distribution of *all* trips (all modes): a gamma distribution
  ``w(d) ~ d**(k-1) * exp(-d / theta)`` on 0.05 .. 40 km in 0.1 km steps whose two parameters
  are fitted to cited Dutch figures (``data/trip_lengths_nl.csv``, read by
  :func:`trip_lengths_nl`): ``theta`` so that the bike trips average
  3.5 km (KiM Mobiliteitsbeeld 2016), ``k`` by least squares on 90 % of bike trips within 7.5 km
  (KiM 2016) and the bike share of 7.5-15 km trips, 15 % nationally (Fietsberaad 2009, MON
  2007) scaled by Zwolle's lead up to 7.5 km (49 % against 34 %): 21.6 %;
* two Zwolle targets, solved exactly at every ``(k, theta)``: 46 % of all trips by bike
  (Fietsersbond) and 49 % of trips up to 7.5 km by bike (Gemeente Zwolle indicator 2009/2014,
  from CBS); unknowns: the intercept shift ``da`` and the distance-term shift ``dd1``
  (``fit="intercept+distance"``).

No published table gives the full distribution by distance class (ODiN classes 0.1-0.5,
0.5-1, 1-2.5, 2.5-3.7, 3.7-5, 5-7.5, 7.5-10, 10-15, ... km) in a form read here, so the
distribution is a gamma *constrained* by the figures that were read; the national all-trip
figures (65-70 % of trips within 7.5 km, 11-13 km mean trip) are kept as context: with them,
46 % of all trips and 49 % up to 7.5 km would need a 39-40 % bike share beyond 7.5 km.

The fitted numbers (``shape_k``, ``theta_km``, ``da``, ``dd1``, the reached shares) are stored
beside the coefficients in ``data/uptake_presets.json`` and are recomputed by
:func:`fit_zwolle_2024` (a test checks that the shipped file matches). Fitted values:
``k = 2.077``, ``theta = 1.954 km`` (mean trip of all modes 4.06 km, 11.4 % of trips longer than
7.5 km), ``da = -0.0473``, ``dd1 = -0.0159``, so ``a = -1.5153`` and ``d1 = -0.73312`` (Go
Dutch 2020: -1.468 and -0.71726; before the fit of ``k``, with ``k = 2`` assumed: -1.5358 and
-0.72655). Reached: mean bike trip 3.5 km; 94.4 % of bike trips within 7.5 km (cited 90 %);
bike share 23.4 % at 7.5-15 km (target 21.6 %); 61.3 % of bike trips under 3.7 km (CBS 2021:
"the majority"). Flat-terrain uptake of ZWOLLE_2024: 0.51 at 1 km, 0.54 at 2.3 km, 0.46 at
5 km, 0.33 at 7.5 km, 0.21 at 10 km, 0.08 at 15 km. :data:`ZWOLLE_2024_EBIKE` applies the same
``da`` and ``dd1`` to :data:`EBIKE_2020`.

Example
-------
>>> from fietsstad.demand.pct import uptake, GODUTCH_2017, GOVTARGET_2017
>>> round(float(uptake(15, 2, GOVTARGET_2017)), 7)
0.0107377
>>> round(float(uptake(15, 2, GODUTCH_2017)), 8)
0.04132445
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fietsstad._data import data_path
from fietsstad._validate import check_array, check_in_range
from fietsstad.engine._uptake import _uptake_flat

# sentinels live in engine/config.py; re-exported as fietsstad.demand.pct.UNREACHABLE_U16
from fietsstad.engine.config import UNREACHABLE_I32 as UNREACHABLE_I32
from fietsstad.engine.config import UNREACHABLE_U16 as UNREACHABLE_U16
from fietsstad.engine.config import unreachable_for
from fietsstad.errors import ConvergenceError, FietsstadError, ValidationError
from fietsstad.zwolle import ZWOLLE_TARGETS

if TYPE_CHECKING:
    import pandas as pd

_PCT_SOURCE = (
    "Lovelace et al. 2017, The Propensity to Cycle Tool, JTLU 10(1), "
    "doi:10.5198/jtlu.2016.862; coefficients as in the pct R package (R/uptake.R)"
)


def _tail_km(a: float, d1: float, d2: float, d3: float) -> float:
    """Distance (km) where the flat-terrain logit is lowest after its peak (``inf`` if never)."""
    d = np.linspace(0.05, 500.0, 100_000)
    slope = d1 + d2 / (2.0 * np.sqrt(d)) + 2.0 * d3 * d
    neg = np.flatnonzero(slope < 0)
    if len(neg) == 0:
        return math.inf
    after = np.flatnonzero((slope >= 0) & (np.arange(len(d)) > neg[0]))
    if len(after) == 0:
        return math.inf
    from scipy.optimize import brentq

    k = int(after[0])
    return float(
        brentq(lambda x: d1 + d2 / (2.0 * math.sqrt(x)) + 2.0 * d3 * x, d[k - 1], d[k], xtol=1e-12)
    )


@dataclass(frozen=True)
class UptakeModel:
    """One PCT-style uptake model: logistic in route distance and gradient.

    Parameters
    ----------
    name
        Short identifier (``"godutch_2020"``, ``"zwolle_2024"``...).
    a, d1, d2, d3, h1, h2, i1, i2
        Coefficients of ``logit(p) = a + d1*d + d2*sqrt(d) + d3*d^2 + h1*G + i1*d*G + i2*sqrt(d)*G``
        with ``G = g + h2`` (``h2 = 0`` for the 2017 models).
    source
        Where the coefficients come from (citation or calibration note).

    Attributes
    ----------
    tail_km : float
        Derived: distances beyond it are evaluated at it (the published curve turns up there).

    Example
    -------
    >>> from fietsstad.demand.pct import GODUTCH_2020
    >>> m = GODUTCH_2020.with_changes(name="mine", a=GODUTCH_2020.a + 0.5)
    >>> m.a > GODUTCH_2020.a and m.name
    'mine'
    """

    name: str
    a: float
    d1: float
    d2: float
    d3: float
    h1: float
    h2: float = 0.0
    i1: float = 0.0
    i2: float = 0.0
    source: str = ""
    tail_km: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for k in ("a", "d1", "d2", "d3", "h1", "h2", "i1", "i2"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValidationError(f"UptakeModel.{k} must be a finite number, got {v!r}")
            object.__setattr__(self, k, float(v))
        object.__setattr__(self, "tail_km", _tail_km(self.a, self.d1, self.d2, self.d3))

    def coef(self) -> np.ndarray:
        """Coefficients as the float64 array the numba kernels take.

        Returns
        -------
        numpy.ndarray
            ``[a, d1, d2, d3, h1, h2, i1, i2, tail_km]``.

        Example
        -------
        >>> from fietsstad.demand.pct import GODUTCH_2020
        >>> GODUTCH_2020.coef().shape
        (9,)
        """
        return np.array(
            [self.a, self.d1, self.d2, self.d3, self.h1, self.h2, self.i1, self.i2, self.tail_km],
            dtype=np.float64,
        )

    def logit(self, distance_km: Any, gradient_pct: Any = 0.0) -> np.ndarray:
        """The linear predictor (numpy; distances capped at ``tail_km``).

        Example
        -------
        >>> from fietsstad.demand.pct import GODUTCH_2017
        >>> round(float(GODUTCH_2017.logit(15, 2)), 6)
        -3.144098
        """
        d = np.minimum(np.asarray(distance_km, dtype=np.float64), self.tail_km)
        G = np.asarray(gradient_pct, dtype=np.float64) + self.h2
        s = np.sqrt(d)
        return (
            self.a
            + self.d1 * d
            + self.d2 * s
            + self.d3 * d * d
            + self.h1 * G
            + self.i1 * d * G
            + self.i2 * s * G
        )

    def with_changes(self, **changes: Any) -> UptakeModel:
        """A copy with some fields changed (``dataclasses.replace``).

        Example
        -------
        >>> from fietsstad.demand.pct import GODUTCH_2020
        >>> GODUTCH_2020.with_changes(name="x").name
        'x'
        """
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict (without the derived ``tail_km``).

        Example
        -------
        >>> from fietsstad.demand.pct import GODUTCH_2020, UptakeModel
        >>> UptakeModel.from_dict(GODUTCH_2020.to_dict()) == GODUTCH_2020
        True
        """
        d = asdict(self)
        d.pop("tail_km", None)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UptakeModel:
        """Build a model from :meth:`to_dict` output (extra keys are ignored).

        Example
        -------
        >>> UptakeModel.from_dict({"name": "m", "a": 0, "d1": -1, "d2": 0, "d3": 0, "h1": 0}).a
        0.0
        """
        keys = ("name", "a", "d1", "d2", "d3", "h1", "h2", "i1", "i2", "source")
        missing = [k for k in keys[:6] if k not in d]
        if missing:
            raise ValidationError(f"uptake model dict lacks {missing}")
        return cls(**{k: d[k] for k in keys if k in d})


GOVTARGET_2017 = UptakeModel(
    "govtarget_2017",
    a=-3.959,
    d1=-0.5963,
    d2=1.866,
    d3=0.008050,
    h1=-0.2710,
    h2=0.0,
    i1=0.009394,
    i2=-0.05135,
    source=_PCT_SOURCE + ", uptake_pct_govtarget",
)
GODUTCH_2017 = UptakeModel(
    "godutch_2017",
    a=-3.959 + 2.523,
    d1=-0.5963 - 0.07626,
    d2=1.866,
    d3=0.008050,
    h1=-0.2710,
    h2=0.0,
    i1=0.009394,
    i2=-0.05135,
    source=_PCT_SOURCE + ", uptake_pct_godutch",
)
GOVTARGET_2020 = UptakeModel(
    "govtarget_2020",
    a=-4.018,
    d1=-0.6369,
    d2=1.988,
    d3=0.008775,
    h1=-0.2555,
    h2=-0.78,
    i1=0.02006,
    i2=-0.1234,
    source=_PCT_SOURCE + ", uptake_pct_govtarget_2020",
)
GODUTCH_2020 = UptakeModel(
    "godutch_2020",
    a=-4.018 + 2.550,
    d1=-0.6369 - 0.08036,
    d2=1.988,
    d3=0.008775,
    h1=-0.2555,
    h2=-0.78,
    i1=0.02006,
    i2=-0.1234,
    source=_PCT_SOURCE + ", uptake_pct_godutch_2020",
)
EBIKE_2020 = UptakeModel(
    "ebike_2020",
    a=-4.018 + 2.550,
    d1=-0.6369 - 0.08036 + 0.05509,
    d2=1.988,
    d3=0.008775 - 0.0002950,
    h1=-0.2555 + 0.1812,
    h2=-0.78,
    i1=0.02006,
    i2=-0.1234,
    source=_PCT_SOURCE + ", uptake_pct_ebike_2020",
)

PRESETS_FILE = "uptake_presets.json"


def _load_presets() -> dict[str, Any]:
    try:
        with open(data_path(PRESETS_FILE), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as err:  # pragma: no cover - a broken install
        raise ValidationError(f"cannot read the shipped {PRESETS_FILE}: {err}") from err


_PRESET_JSON = _load_presets()
#: Go Dutch 2020 recalibrated to Zwolle (46 % of all trips, 49 % of trips up to 7.5 km by bike).
ZWOLLE_2024 = UptakeModel.from_dict(_PRESET_JSON["models"]["zwolle_2024"])
#: The e-bike 2020 model with the same local shifts as :data:`ZWOLLE_2024`.
ZWOLLE_2024_EBIKE = UptakeModel.from_dict(_PRESET_JSON["models"]["zwolle_2024_ebike"])

#: Every preset by name.
PRESETS: dict[str, UptakeModel] = {
    m.name: m
    for m in (
        GOVTARGET_2017,
        GODUTCH_2017,
        GOVTARGET_2020,
        GODUTCH_2020,
        EBIKE_2020,
        ZWOLLE_2024,
        ZWOLLE_2024_EBIKE,
    )
}


def get_model(model: str | UptakeModel) -> UptakeModel:
    """A preset by name (see :data:`PRESETS`), or the model itself.

    Parameters
    ----------
    model
        An :class:`UptakeModel` or one of ``govtarget_2017``, ``godutch_2017``,
        ``govtarget_2020``, ``godutch_2020``, ``ebike_2020``, ``zwolle_2024``,
        ``zwolle_2024_ebike``.

    Returns
    -------
    UptakeModel

    Example
    -------
    >>> get_model("godutch_2020").h2
    -0.78
    """
    if isinstance(model, UptakeModel):
        return model
    if isinstance(model, str) and model in PRESETS:
        return PRESETS[model]
    raise ValidationError(
        f"unknown uptake model {model!r}; use an UptakeModel or one of {sorted(PRESETS)}"
    )


def _sentinel_for(dtype: np.dtype) -> float:
    """The unreachable sentinel of ``dtype`` as the float the kernels compare with (``inf``: none)."""
    return float(unreachable_for(dtype, default=math.inf))


def uptake(
    distance_km: Any,
    gradient_pct: Any = 0.0,
    model: str | UptakeModel = GODUTCH_2020,
    *,
    distance_scale: float = 1.0,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Share of trips cycled, for route distances (and gradients), vectorised (numba, parallel).

    Parameters
    ----------
    distance_km
        Route distances, any shape and numeric dtype (an OD matrix is fine). Multiplied by
        ``distance_scale`` first, so an ``int32``/``uint16`` matrix of metres works with
        ``distance_scale=0.001`` without a float copy. ``inf`` (float) or the matrix sentinel
        (65535 for uint16, 2**31-1 for int32) means unreachable: uptake 0.
    gradient_pct
        Average route gradient in percent: a scalar or an array of the same shape; 0 where no
        elevation is known.
    model
        An :class:`UptakeModel` or a preset name (default Go Dutch 2020).
    distance_scale
        Factor turning the given values into km.
    dtype
        ``float64`` (default) or ``float32`` result.

    Returns
    -------
    numpy.ndarray
        Uptake probabilities, same shape as ``distance_km``.

    Raises
    ------
    ValidationError
        NaN or negative distances, NaN gradients, mismatched shapes, non-numeric input.

    Example
    -------
    >>> round(float(uptake(2.3)), 3)  # Go Dutch 2020, flat: the peak
    0.563
    >>> uptake([1000, 5000], distance_scale=0.001).round(2).tolist()
    [0.52, 0.49]
    """
    m = get_model(model)
    d = check_array(
        distance_km,
        "distance_km",
        dtype=np.asarray(distance_km).dtype
        if np.asarray(distance_km).dtype.kind in "biuf"
        else np.float64,
        ndim=None,
    )
    scale = check_in_range(
        distance_scale, "distance_scale", 0.0, math.inf, lo_open=True, hi_open=True
    )
    out_dtype = np.dtype(dtype)
    if out_dtype not in (np.float64, np.float32):
        raise ValidationError(f"dtype must be float64 or float32, got {out_dtype}")
    if np.isscalar(gradient_pct) or np.ndim(gradient_pct) == 0:
        g = check_array(np.atleast_1d(gradient_pct), "gradient_pct", ndim=1)
    else:
        g = check_array(gradient_pct, "gradient_pct", ndim=None)
        if g.shape != d.shape:
            try:
                g = np.ascontiguousarray(np.broadcast_to(g, d.shape), dtype=np.float64)
            except ValueError as err:
                raise ValidationError(
                    f"gradient_pct shape {g.shape} does not match distance shape {d.shape}"
                ) from err
        g = g.ravel()
    flat = d.reshape(-1)
    sentinel = _sentinel_for(d.dtype)
    out = np.empty(flat.shape[0], dtype=out_dtype)
    if d.dtype.kind == "b":
        flat = flat.astype(np.uint8)
    bad = _uptake_flat(flat, scale, g, m.coef(), out, sentinel)
    if bad:
        raise ValidationError(
            f"uptake: {bad} distance/gradient value(s) are NaN or negative "
            "(use inf for unreachable pairs)"
        )
    return out.reshape(np.shape(distance_km))


# ------------------------------------------------------------------------- calibration
def calibrate_uptake(
    model: str | UptakeModel,
    distances_km: Any,
    trips: Any,
    target_share: float,
    fit: str = "intercept",
    gradient: Any = None,
    *,
    second_target: tuple[float, float] = (0.49, 7.5),
    name: str | None = None,
    source: str | None = None,
) -> UptakeModel:
    """Recalibrate a model so that it reproduces an observed bike share on a trip distribution.

    ``share(model) = sum(trips * p(d, g)) / sum(trips)``. With ``fit="intercept"`` the intercept
    ``a`` is shifted (1-D root finding, :func:`scipy.optimize.brentq`; the share rises strictly
    with ``a``, so the root is unique). With ``fit="intercept+distance"`` the distance term ``d1``
    is shifted as well so that a second target is met too: ``second_target=(share, max_km)``
    is the bike share among trips up to ``max_km`` (default Zwolle's 49 % up to 7.5 km). For each
    ``d1`` shift the intercept is solved exactly; the ``d1`` shift is then a root of the second
    residual (bracketed scan + brentq), or, when no exact solution exists, the least-squares
    minimiser of it (accepted if within 0.5 percentage point).

    Parameters
    ----------
    model
        Start model (e.g. ``GODUTCH_2020``).
    distances_km, trips
        Route distances (km) and trip counts of the same shape: OD matrices, or a trip length
        histogram (bin centres and trips), which is faster for large cases
        (the ``"distribution"`` table of :func:`fietsstad.demand.modal_share`: ``km_mean`` and
        ``trips``). Pairs with ``inf`` distance (unreachable) or zero trips are ignored.
    target_share
        Bike share of all given trips to reproduce, in (0, 1).
    fit
        ``"intercept"`` or ``"intercept+distance"``.
    gradient
        Gradients (percent) of the same shape, or ``None`` for flat.
    second_target
        ``(share, max_km)`` for ``fit="intercept+distance"``.
    name, source
        Name and provenance note of the result (default: derived from the start model).

    Returns
    -------
    UptakeModel
        The calibrated model.

    Raises
    ------
    ConvergenceError
        A target outside (0, 1), no trips, or a pair of targets that no shift reproduces.
    ValidationError
        NaN/negative inputs or mismatched shapes.

    Example
    -------
    >>> import numpy as np
    >>> d = np.linspace(0.2, 15, 75); w = d * np.exp(-d / 2.0)
    >>> m = calibrate_uptake("godutch_2020", d, w, 0.46)
    >>> round(float((w * uptake(d, 0, m)).sum() / w.sum()), 6)
    0.46
    """
    from scipy.optimize import brentq, minimize_scalar

    m0 = get_model(model)
    d = check_array(distances_km, "distances_km", ndim=None).ravel()
    w = check_array(trips, "trips", ndim=None).ravel()
    if d.shape != w.shape:
        raise ValidationError(f"distances_km and trips differ in size ({d.size} vs {w.size})")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValidationError("trips must be finite and >= 0")
    if np.any(np.isnan(d)) or np.any(d < 0):
        raise ValidationError("distances_km must not be NaN or negative (inf = unreachable)")
    g = (
        np.zeros_like(d)
        if gradient is None
        else check_array(gradient, "gradient", ndim=None).ravel()
    )
    if g.shape != d.shape or np.any(~np.isfinite(g)):
        raise ValidationError("gradient must be finite and of the same size as distances_km")
    ok = np.isfinite(d) & (w > 0)
    d, w, g = d[ok], w[ok], g[ok]
    if fit not in ("intercept", "intercept+distance"):
        raise ValidationError(f"fit must be 'intercept' or 'intercept+distance', not {fit!r}")
    t1 = _check_target(target_share, "target_share")
    if w.sum() <= 0:
        raise ConvergenceError("calibrate_uptake: no trips with a finite distance to calibrate on")
    wn = w / w.sum()
    bases: dict[float, np.ndarray] = {}

    def base(dd1: float) -> np.ndarray:
        # the linear predictor without the intercept shift; a d1 shift moves tail_km too
        if dd1 not in bases:
            bases[dd1] = m0.with_changes(d1=m0.d1 + dd1).logit(d, g)
        return bases[dd1]

    def share(da: float, dd1: float, sel: np.ndarray | None = None) -> float:
        p = 1.0 / (1.0 + np.exp(-(base(dd1) + da)))
        if sel is None:
            return float(np.dot(wn, p))
        return float(np.dot(wn[sel], p[sel]) / wn[sel].sum())

    def solve_a(dd1: float) -> float:
        lo, hi = -40.0, 40.0
        f_lo, f_hi = share(lo, dd1) - t1, share(hi, dd1) - t1
        if f_lo > 0 or f_hi < 0:
            raise ConvergenceError(
                f"calibrate_uptake: target share {t1} is unreachable by shifting the intercept"
            )
        return float(
            brentq(lambda x: share(x, dd1) - t1, lo, hi, xtol=1e-13, rtol=1e-14, maxiter=500)
        )

    dd1 = 0.0
    if fit == "intercept":
        da = solve_a(0.0)
        what = f"intercept fitted to {t1:.4f} of trips"
    else:
        t2 = _check_target(second_target[0], "second_target share")
        max_km = check_in_range(
            second_target[1], "second_target max_km", 0.0, math.inf, lo_open=True, hi_open=True
        )
        sel = d <= max_km
        if not sel.any() or sel.all():
            raise ConvergenceError(
                f"calibrate_uptake: the second target needs trips both up to and beyond {max_km} km"
            )

        def resid(x: float) -> float:
            return share(solve_a(x), x, sel) - t2

        grid = np.linspace(-0.6, 0.6, 49)
        vals = np.array([resid(x) for x in grid])
        sign = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) <= 0)
        if len(sign):
            k = int(sign[np.argmin(np.abs(grid[sign]))])
            dd1 = float(brentq(resid, grid[k], grid[k + 1], xtol=1e-13, maxiter=500))
        else:
            best = minimize_scalar(
                lambda x: resid(x) ** 2,
                bounds=(-0.6, 0.6),
                method="bounded",
                options={"xatol": 1e-10},
            )
            dd1 = float(best.x)
            if abs(resid(dd1)) > 0.005:
                raise ConvergenceError(
                    f"calibrate_uptake: no intercept/distance shift reproduces both {t1:.3f} of "
                    f"all trips and {t2:.3f} of trips up to {max_km} km (closest: "
                    f"{t2 + resid(dd1):.4f}); check the trip length distribution"
                )
        da = solve_a(dd1)
        what = (
            f"intercept and distance term fitted to {t1:.4f} of all trips and {t2:.4f} of "
            f"trips up to {max_km:g} km"
        )
    return m0.with_changes(
        name=name or f"{m0.name}_calibrated",
        a=m0.a + da,
        d1=m0.d1 + dd1,
        source=source or f"{m0.name} ({m0.source}); {what}: da={da:+.6f}, dd1={dd1:+.6f}",
    )


def _check_target(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValidationError(f"{name} must be a number in (0, 1), got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ConvergenceError(
            f"{name}={v} is unreachable: a logistic model gives shares strictly between 0 and 1"
        )
    return v


# ------------------------------------------------------------------------- Zwolle preset


TRIP_LENGTHS_FILE = "trip_lengths_nl.csv"
_TRIP_COLUMNS = (
    "id", "trips", "measure", "km_from", "km_to", "value", "year", "use", "source", "url", "note",
)  # fmt: skip
_MEASURES = ("share_of_trips", "share_of_trips_min", "bike_share", "mean_km", "crossover_km")


def trip_lengths_nl() -> pd.DataFrame:
    """Cited Dutch trip-length figures (ODiN / OViN / MON via CBS, KiM, Fietsberaad).

    Each row is one published figure, as read in the cited text (see ``data/README.md``):
    the trips it is about (``all``, ``bike``, ``car``), the ``measure`` (``share_of_trips``:
    share of those trips with a length in ``[km_from, km_to)``; ``share_of_trips_min``: a lower
    bound of that share; ``bike_share``: bike share of all trips in the class; ``mean_km``;
    ``crossover_km``: where the car overtakes the bike), the ``value`` (a fraction or km), the
    survey ``year``, its ``use`` here (``fit``: fitted by
    :func:`~fietsstad.demand.fit_zwolle_2024`; ``check``: compared; ``context``: national, not
    comparable with a city model), ``source``, ``url`` and the quoted ``note``.

    Returns
    -------
    pandas.DataFrame
        One row per figure (18 rows).

    Raises
    ------
    FietsstadError
        If the shipped table is missing or damaged.

    Example
    -------
    >>> t = trip_lengths_nl().set_index("id")
    >>> float(t.loc["bike_upto_7_5_kim2016", "value"]), float(t.loc["bike_mean_odin2019", "value"])
    (0.9, 3.97)
    """
    import pandas as pd

    try:
        df = pd.read_csv(data_path(TRIP_LENGTHS_FILE), dtype={"year": str}, keep_default_na=False)
    except (OSError, ValueError) as err:  # pragma: no cover - a broken install
        raise FietsstadError(f"cannot read the shipped {TRIP_LENGTHS_FILE}: {err}") from err
    if tuple(df.columns) != _TRIP_COLUMNS:
        raise FietsstadError(f"{TRIP_LENGTHS_FILE} has columns {list(df.columns)}")
    for c in ("km_from", "km_to", "value"):
        df[c] = pd.to_numeric(df[c], errors="raise").astype(np.float64)
    if not df["measure"].isin(_MEASURES).all() or df["id"].duplicated().any():
        raise FietsstadError(f"{TRIP_LENGTHS_FILE}: unknown measure or duplicate id")
    return df


#: Bin centres (km) of the trip length distribution the Zwolle preset is fitted on.
_FIT_KM = np.arange(400, dtype=np.float64) * 0.1 + 0.05


def zwolle_trip_length_distribution(
    theta_km: float | None = None, shape: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The all-trip length distribution the Zwolle preset is fitted on (a gamma distribution).

    Bin centres 0.05 .. 39.95 km (0.1 km bins) and weights ``d**(shape - 1) * exp(-d / theta_km)``,
    normalised to sum 1. Both parameters are fitted by :func:`fit_zwolle_2024` to the cited Dutch
    figures of ``data/trip_lengths_nl.csv``; ``None`` takes the shipped fit.

    Parameters
    ----------
    theta_km
        Scale of the gamma distribution in km (default: the shipped fit's ``theta_km``).
    shape
        Shape ``k`` (default: the shipped fit's ``shape_k``; 1 is exponential, 2 the shape the
        preset assumed before it was fitted).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Bin centres (km) and weights.

    Example
    -------
    >>> d, w = zwolle_trip_length_distribution(2.0, shape=2.0)
    >>> len(d), round(float(w.sum()), 12)
    (400, 1.0)
    """
    fit = _PRESET_JSON.get("fit", {})
    th = float(fit.get("theta_km", 2.0) if theta_km is None else theta_km)
    k = float(fit.get("shape_k", 2.0) if shape is None else shape)
    if not (math.isfinite(th) and th > 0 and math.isfinite(k) and k > 0):
        raise ValidationError(f"theta_km and shape must be positive, got {th!r} and {k!r}")
    d = _FIT_KM.copy()
    w = np.exp((k - 1.0) * np.log(d) - d / th)
    return d, w / w.sum()


def _bike_stats(model: UptakeModel, d: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Bike share, bike-trip shares and means of a model on a trip length histogram (flat)."""
    p = uptake(d, 0.0, model)
    b = w * p
    mid = (d > 7.5) & (d < 15.0)
    short = d < 7.5
    return {
        "share_all": float(b.sum() / w.sum()),
        "share_short": float(b[short].sum() / w[short].sum()),
        "share_7_5_15": float(b[mid].sum() / w[mid].sum()),
        "mean_trip_km": float((w * d).sum() / w.sum()),
        "mean_bike_km": float((b * d).sum() / b.sum()),
        "bike_trips_under_7_5_km": float(b[short].sum() / b.sum()),
        "bike_trips_under_3_7_km": float(b[d < 3.7].sum() / b.sum()),
        "trips_under_7_5_km": float(w[short].sum() / w.sum()),
    }


def fit_zwolle_2024(base: UptakeModel = GODUTCH_2020) -> dict[str, Any]:
    """Recompute the Zwolle preset on a trip length distribution fitted to cited Dutch figures.

    Three nested fits, each exact except the last:

    1. for a gamma all-trip distribution (shape ``k``, scale ``theta``;
       :func:`zwolle_trip_length_distribution`), the intercept and distance term of ``base``
       are calibrated to 46 % of all trips and 49 % of trips up to 7.5 km by bike
       (:data:`~fietsstad.zwolle.ZWOLLE_TARGETS`);
    2. ``theta`` is solved so that the bike trips average 3.5 km (KiM 2016, row
       ``bike_mean_kim2016`` of ``data/trip_lengths_nl.csv``);
    3. ``k`` minimises the sum of squared misfits (in shares) to two class figures built from
       the rows marked ``use == "fit"``: 90 % of bike trips within 7.5 km (KiM 2016), and the
       national 15 % bike share of 7.5-15 km trips (Fietsberaad 2009, MON 2007) scaled by
       Zwolle's lead up to 7.5 km (49 % against 34 % nationally, MON 2007), i.e. 21.6 %. The
       two pull in opposite directions (``k = 1`` meets the first, ``k = 2.3`` the second);
       the least-squares ``k`` lies between. The scaling is an assumption: that Zwolle leads
       the country by the same factor beyond 7.5 km as up to 7.5 km.

    Parameters
    ----------
    base
        The model to recalibrate (default Go Dutch 2020).

    Returns
    -------
    dict
        ``{"zwolle_2024": model dict, "zwolle_2024_ebike": model dict, "fit": details}``;
        ``fit`` holds ``shape_k``, ``theta_km``, ``da``, ``dd1``, the reached targets and the
        checks against the cited figures.

    Example
    -------
    >>> r = fit_zwolle_2024()
    >>> round(r["fit"]["share_all"], 4), round(r["fit"]["share_short"], 4)
    (0.46, 0.49)
    >>> round(r["fit"]["mean_bike_km"], 4)
    3.5
    """
    from scipy.optimize import brentq, minimize_scalar

    t = ZWOLLE_TARGETS
    facts = trip_lengths_nl().set_index("id")["value"]
    mean_bike = float(facts["bike_mean_kim2016"])
    bike_upto = float(facts["bike_upto_7_5_kim2016"])
    # the national 7.5-15 km bike share, scaled by Zwolle's lead up to 7.5 km (49 % / 34 %)
    lead = t["share_short"] / float(facts["bikeshare_upto_7_5_mon2007"])
    share_mid = float(facts["bikeshare_7_5_15_mon2007"]) * lead

    def calib(k: float, theta: float) -> UptakeModel:
        d, w = zwolle_trip_length_distribution(theta, k)
        return calibrate_uptake(
            base,
            d,
            w,
            t["share_all"],
            "intercept+distance",
            second_target=(t["share_short"], t["short_km"]),
        )

    def stats(k: float, theta: float) -> dict[str, float]:
        d, w = zwolle_trip_length_distribution(theta, k)
        return _bike_stats(calib(k, theta), d, w)

    def short_of_mean(k: float, theta: float) -> float:
        try:
            return stats(k, theta)["mean_bike_km"] - mean_bike
        except ConvergenceError:
            # too few long trips for 46 % and 49 % at once: the mean bike trip is too short
            return -1.0

    def theta_for(k: float) -> float:
        # k * theta is the mean trip of the gamma; a mean bike trip of 3.5 km needs about 4 km
        return float(brentq(lambda th: short_of_mean(k, th), 3.6 / k, 4.8 / k, xtol=1e-10))

    def loss(k: float) -> float:
        s = stats(k, theta_for(k))
        return (s["bike_trips_under_7_5_km"] - bike_upto) ** 2 + (
            s["share_7_5_15"] - share_mid
        ) ** 2

    best = minimize_scalar(loss, bounds=(1.0, 4.5), method="bounded", options={"xatol": 1e-7})
    k = float(best.x)
    theta = theta_for(k)
    m = calib(k, theta)
    d, w = zwolle_trip_length_distribution(theta, k)
    da, dd1 = m.a - base.a, m.d1 - base.d1
    fit = {
        "base": base.name,
        "shape_k": k,
        "theta_km": theta,
        "da": da,
        "dd1": dd1,
        **_bike_stats(m, d, w),
        "distribution": (
            "gamma: w(d) ~ d**(k-1)*exp(-d/theta), d = 0.05..39.95 km, 0.1 km bins; theta: mean "
            "bike trip 3.5 km (KiM 2016); k: least squares on 90 % of bike trips within 7.5 km "
            "(KiM 2016) and a bike share of 7.5-15 km trips of 15 % (Fietsberaad 2009) x 49/34 "
            "(Zwolle's lead up to 7.5 km) (data/trip_lengths_nl.csv)"
        ),
    }
    note = (
        "Go Dutch 2020 recalibrated to Zwolle: intercept and distance term fitted to 46 % of "
        "all trips by bike (Fietsersbond) and 49 % of trips up to 7.5 km by bike (Gemeente "
        "Zwolle 2014, CBS) on a gamma(k, theta) all-trip length distribution fitted to Dutch "
        "figures (data/trip_lengths_nl.csv): mean bike trip 3.5 km (KiM 2016), 90 % of bike "
        "trips within 7.5 km (KiM 2016) and the 15 % bike share at 7.5-15 km (Fietsberaad "
        "2009) scaled by Zwolle's 49/34 lead up to 7.5 km; "
        f"flat terrain. da={da:+.6f}, dd1={dd1:+.6f}, k={k:.4f}, theta={theta:.4f} km"
    )
    zw = m.with_changes(name="zwolle_2024", source=note)
    eb = EBIKE_2020.with_changes(
        name="zwolle_2024_ebike",
        a=EBIKE_2020.a + da,
        d1=EBIKE_2020.d1 + dd1,
        source="E-bike 2020 with the Zwolle 2024 shifts: " + note,
    )
    return {"zwolle_2024": zw.to_dict(), "zwolle_2024_ebike": eb.to_dict(), "fit": fit}
