"""Travel demand: uptake (PCT family), trip generation, gravity distribution, modal share.

* :mod:`~fietsstad.demand.pct`: the Propensity to Cycle Tool's uptake curves and calibration;
* :mod:`~fietsstad.demand.gravity`: trip generation and the doubly constrained gravity model;
* :mod:`~fietsstad.demand.assumptions`: :class:`Assumptions`, every assumption with its source;
* :mod:`~fietsstad.demand.modal`: modal share, the e-bike scenario, car trips replaced, CO2.

Example
-------
>>> from fietsstad.demand import uptake
>>> round(float(uptake(15, 2, model="govtarget_2017")), 7)
0.0107377
"""

from fietsstad.demand.assumptions import (
    DEFAULT_ASSUMPTIONS,
    Assumptions,
    get_assumptions,
    intrazonal_distances,
)
from fietsstad.demand.gravity import (
    ATTRACTION_PER_INHABITANT,
    ATTRACTION_PER_JOB,
    CAR_SHARE_OF_SHIFTED,
    CO2_KG_PER_CAR_KM,
    DEFAULT_DETERRENCE,
    TRIPS_PER_INHABITANT,
    GravityModel,
    deterrence_table,
    gravity_distribution,
    snap_zones,
    trip_generation,
    trip_matrix,
)
from fietsstad.demand.modal import compare_scenarios, modal_share
from fietsstad.demand.pct import (
    EBIKE_2020,
    GODUTCH_2017,
    GODUTCH_2020,
    GOVTARGET_2017,
    GOVTARGET_2020,
    PRESETS,
    ZWOLLE_2024,
    ZWOLLE_2024_EBIKE,
    ZWOLLE_TARGETS,
    UptakeModel,
    calibrate_uptake,
    fit_zwolle_2024,
    get_model,
    uptake,
    zwolle_trip_length_distribution,
)

__all__ = [
    "Assumptions",
    "DEFAULT_ASSUMPTIONS",
    "get_assumptions",
    "intrazonal_distances",
    "uptake",
    "UptakeModel",
    "calibrate_uptake",
    "get_model",
    "fit_zwolle_2024",
    "zwolle_trip_length_distribution",
    "PRESETS",
    "GOVTARGET_2017",
    "GODUTCH_2017",
    "GOVTARGET_2020",
    "GODUTCH_2020",
    "EBIKE_2020",
    "ZWOLLE_2024",
    "ZWOLLE_2024_EBIKE",
    "ZWOLLE_TARGETS",
    "trip_generation",
    "snap_zones",
    "deterrence_table",
    "gravity_distribution",
    "GravityModel",
    "trip_matrix",
    "modal_share",
    "compare_scenarios",
    "TRIPS_PER_INHABITANT",
    "ATTRACTION_PER_JOB",
    "ATTRACTION_PER_INHABITANT",
    "CAR_SHARE_OF_SHIFTED",
    "CO2_KG_PER_CAR_KM",
    "DEFAULT_DETERRENCE",
]
