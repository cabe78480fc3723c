"""Dask versions of fietsstad's computations: the same parameters plus a client first.

Like stumpy's ``stump``/``stumped``, each ``*_dask(client, ...)`` mirrors a single-machine function
and runs the same code on blocks held by the workers (see :mod:`~fietsstad.distributed.drivers`).
Needs the ``dask`` extra (``pip install "fietsstad[dask]"``).

Example
-------
>>> from fietsstad.distributed import travel_time_matrix_dask
>>> callable(travel_time_matrix_dask)
True
"""

from fietsstad.distributed.drivers import (
    DEFAULT_BLOCK_BYTES,
    PLUGIN_NAME,
    NumbaWarmup,
    accessibility_dask,
    accessibility_matrix_dask,
    choose_block_size,
    evaluate_scenarios_dask,
    gravity_distribution_dask,
    modal_share_dask,
    prepare_workers,
    travel_time_matrix_dask,
    tree_reduce,
    tree_sum,
    uptake_totals_dask,
    worker_state,
)

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "PLUGIN_NAME",
    "NumbaWarmup",
    "prepare_workers",
    "worker_state",
    "choose_block_size",
    "travel_time_matrix_dask",
    "accessibility_matrix_dask",
    "accessibility_dask",
    "gravity_distribution_dask",
    "modal_share_dask",
    "tree_reduce",
    "uptake_totals_dask",
    "tree_sum",
    "evaluate_scenarios_dask",
]
