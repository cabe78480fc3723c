"""Where to put k mobility hubs: maximal covering location (MCLP), greedy or exact.

:func:`place_hubs` chooses ``k`` hubs that cover the most population within ``cutoff_min`` minutes by bike
(Church & ReVelle 1974): greedy with each hub's marginal gain (within ``1 - 1/e`` of the optimum),
or exact by mixed-integer programming (:func:`scipy.optimize.milp`), with the coverage curve
(population covered against number of hubs) and optional fixed (existing) hubs. Catchments and
candidate sites live in :mod:`fietsstad.hubs.catchments`.

Example
-------
>>> import numpy as np, fietsstad
>>> from fietsstad.hubs import hub_candidates, place_hubs
>>> net = fietsstad.generate_network(n_nodes=400, seed=1)             # GENERATED network
>>> cands = hub_candidates(net.x[::40], net.y[::40])
>>> pl = place_hubs(net, cands, population=np.ones(net.n_nodes), k=3, cutoff_min=5)
>>> len(pl.hubs), pl.coverage_curve["covered"].is_monotonic_increasing
(3, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fietsstad._validate import renamed_parameters
from fietsstad.analysis.routing import as_nodes
from fietsstad.errors import ConvergenceError, ValidationError
from fietsstad.hubs.catchments import _bounded_times, _snap_candidates, node_population
from fietsstad.network import BikeNetwork
from fietsstad.network.bikenetwork import html_table


@dataclass
class HubPlacement:
    """Result of :func:`place_hubs`.

    Attributes
    ----------
    hubs : geopandas.GeoDataFrame
        Chosen hubs in order (fixed ones first): ``name``, ``kind``, ``node_id`` (OSM id),
        ``position``, ``snap_distance_m``, ``fixed``, ``rank``,
        ``marginal_gain`` (population newly covered by this hub given the ones before it),
        ``covered_after`` (cumulative), ``alone`` (population this hub covers by itself).
    candidates : geopandas.GeoDataFrame
        All candidates with ``node_id``, ``position``, ``snap_distance_m``, ``alone`` and
        ``chosen``.
    coverage_curve : pandas.DataFrame
        Indexed by ``n_hubs`` (new hubs, 0..k): ``covered`` and ``share`` of the method used, and
        ``greedy`` (greedy's coverage, always), plus ``optimal`` for ``method="exact"``.
    covered_population, total_population : float
    minutes : float ; method : str ; k : int
    node_population : numpy.ndarray  (n_nodes,) demand per node, in node-position order (the rows
        of ``net.nodes_gdf()``; ``meta["node_id"]`` holds their OSM ids)
    node_covered : numpy.ndarray  (n_nodes,) bool, demand node (population > 0) within ``minutes``
        of a chosen hub, in the same order
    generated : bool  the network was GENERATED

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.hubs import hub_candidates
    >>> net = fietsstad.generate_network(n_nodes=300, seed=0)             # a GENERATED network
    >>> pl = place_hubs(net, hub_candidates(net.x[:3], net.y[:3]), np.ones(net.n_nodes), k=2)
    >>> len(pl.hubs), pl.k, pl.generated
    (2, 2, True)
    >>> bool(np.isclose(pl.covered_population, pl.node_population[pl.node_covered].sum()))
    True
    >>> 0 <= pl.covered_population <= pl.total_population == net.n_nodes
    True
    """

    hubs: Any
    candidates: Any
    coverage_curve: pd.DataFrame
    covered_population: float
    total_population: float
    minutes: float
    method: str
    k: int
    node_population: np.ndarray
    node_covered: np.ndarray
    generated: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def share_covered(self) -> float:
        """Covered population as a fraction of the total."""
        return self.covered_population / self.total_population if self.total_population else 0.0

    def summary(self) -> dict[str, Any]:
        """Key figures as a plain dict.

        Example
        -------
        >>> import fietsstad
        >>> from fietsstad.hubs import hub_candidates
        >>> net = fietsstad.generate_network(n_nodes=300, seed=0)
        >>> pl = place_hubs(net, hub_candidates(net.x[:3], net.y[:3]), np.ones(net.n_nodes), k=1)
        >>> sorted(pl.summary())[:3]
        ['covered_population', 'generated', 'hubs']
        """
        return {
            "method": self.method,
            "k": self.k,
            "minutes": self.minutes,
            "hubs": self.hubs["name"].tolist(),
            "covered_population": self.covered_population,
            "total_population": self.total_population,
            "share_covered": self.share_covered,
            "generated": self.generated,
        }

    def __repr__(self) -> str:
        tag = " GENERATED" if self.generated else ""
        return (
            f"<HubPlacement{tag} k={self.k} method={self.method} "
            f"covered={100 * self.share_covered:.1f}%>"
        )

    def _repr_html_(self) -> str:
        """k, method, covered population and share, and the hubs, as HTML (Jupyter); escaped.

        Example
        -------
        >>> import fietsstad
        >>> from fietsstad.hubs import hub_candidates
        >>> net = fietsstad.generate_network(n_nodes=300, seed=0)
        >>> pl = place_hubs(net, hub_candidates(net.x[:3], net.y[:3]), np.ones(net.n_nodes), k=1)
        >>> "GENERATED" in pl._repr_html_()
        True
        """
        rows: list[tuple[str, Any]] = [
            ("k (new hubs)", self.k),
            ("method", self.method),
            ("catchment", f"{self.minutes:g} minutes"),
            (
                "covered population",
                f"{self.covered_population:,.0f} of {self.total_population:,.0f}",
            ),
            ("share covered", f"{100 * self.share_covered:.1f} %"),
        ]
        for _, h in self.hubs.iterrows():
            tag = " (fixed)" if bool(h.get("fixed", False)) else ""
            gain = h.get("marginal_gain", float("nan"))
            rows.append((f"hub {h.get('rank', '')}", f"{h['name']}{tag}: +{gain:,.0f} covered"))
        warning = "GENERATED NETWORK (SYNTHETIC, NOT OPENSTREETMAP)" if self.generated else None
        return html_table("Hub placement", rows, warning=warning)


@renamed_parameters({"minutes": "cutoff_min"})
def coverage_sets(
    net: BikeNetwork,
    candidates: Any,
    cutoff_min: float,
    demand_nodes: Any,
    direction: Literal["to_hub", "from_hub"] = "to_hub",
    *,
    positions: bool = False,
    max_distance_m: float | None = None,
) -> list[np.ndarray]:
    """For each candidate, the indices into ``demand_nodes`` it covers within ``cutoff_min``.

    ``demand_nodes`` are OSM node ids (node positions with ``positions=True`` or as
    ``net.positions(...)``); candidates are snapped as in :func:`place_hubs`.

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.hubs import hub_candidates
    >>> net = fietsstad.generate_network(n_nodes=200, seed=0)
    >>> ids = net.nodes_gdf().index
    >>> s = coverage_sets(net, hub_candidates([net.x[0]], [net.y[0]]), 5, ids)
    >>> 0 in s[0]
    True
    """
    _, nodes = _snap_candidates(net, candidates, max_distance_m)
    demand = as_nodes(net, demand_nodes, "demand_nodes", positions=positions)
    return _coverage_sets(net, nodes, float(cutoff_min), np.asarray(demand), direction)


def _coverage_sets(net, nodes, minutes, demand_nodes, direction) -> list[np.ndarray]:
    if not (np.isfinite(minutes) and minutes > 0):
        raise ValidationError(f"cutoff_min must be > 0, got {minutes!r}")
    out: list[np.ndarray] = []
    for _, d in _bounded_times(net, nodes, minutes * 60.0, direction):
        sub = d[:, demand_nodes] <= minutes * 60.0
        out.extend(np.flatnonzero(row).astype(np.int32) for row in sub)
    return out


def _covered(sets: list[np.ndarray], chosen, n_demand: int) -> np.ndarray:
    mask = np.zeros(n_demand, dtype=bool)
    for j in chosen:
        mask[sets[j]] = True
    return mask


def _greedy(sets, w, k, fixed) -> tuple[list[int], list[float]]:
    covered = _covered(sets, fixed, len(w))
    chosen: list[int] = []
    gains: list[float] = []
    avail = [j for j in range(len(sets)) if j not in set(fixed)]
    for _ in range(k):
        best, best_gain = -1, -1.0
        for j in avail:
            if j in chosen:
                continue
            s = sets[j]
            g = float(w[s[~covered[s]]].sum())
            if g > best_gain + 1e-9:
                best, best_gain = j, g
        if best < 0:
            break
        chosen.append(best)
        gains.append(best_gain)
        covered[sets[best]] = True
    return chosen, gains


def _exact(sets, w, k, fixed, time_limit: float | None) -> list[int]:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    nc = len(sets)
    # aggregate demand points with the same covering candidates (fewer MILP variables)
    rows = np.concatenate([s for s in sets]) if nc else np.zeros(0, np.int32)
    cols = np.concatenate([np.full(len(s), j, np.int32) for j, s in enumerate(sets)])
    cover = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(w), nc)).tocsr()
    cover.data[:] = 1.0
    keys: dict[tuple[int, ...], int] = {}
    group = np.empty(len(w), dtype=np.int64)
    for i in range(len(w)):
        key = tuple(cover.indices[cover.indptr[i] : cover.indptr[i + 1]].tolist())
        group[i] = keys.setdefault(key, len(keys))
    gw = np.bincount(group, weights=w, minlength=len(keys))
    ng = len(keys)
    # variables: x_j (candidates), y_g (demand groups); maximise sum gw*y
    c = np.concatenate([np.zeros(nc), -gw])
    a_rows, a_cols, a_vals = [], [], []
    for g, key in enumerate(keys):
        a_rows.append(g)
        a_cols.append(nc + g)
        a_vals.append(1.0)
        for j in key:
            a_rows.append(g)
            a_cols.append(j)
            a_vals.append(-1.0)
    A = coo_matrix((a_vals, (a_rows, a_cols)), shape=(ng, nc + ng)).tocsr()
    cons = [LinearConstraint(A, -np.inf, 0.0)]  # y_g <= sum_{j covers g} x_j
    free = np.ones(nc + ng)
    free[nc:] = 0
    free[list(fixed)] = 0
    cons.append(LinearConstraint(free[None, :], k, k))  # exactly k new hubs
    lb = np.zeros(nc + ng)
    lb[list(fixed)] = 1
    integrality = np.concatenate([np.ones(nc), np.zeros(ng)])  # y relaxes to {0,1} at optimum
    opts = {"time_limit": time_limit} if time_limit else {}
    res = milp(
        c,
        constraints=cons,
        integrality=integrality,
        bounds=Bounds(lb, np.ones(nc + ng)),
        options=opts,
    )
    if res.status != 0 or res.x is None:
        raise ConvergenceError(
            f"the exact hub placement MILP did not solve to optimality: {res.message}"
            " (use method='greedy', fewer candidates or a larger time_limit)"
        )
    x = res.x[:nc] > 0.5
    return [j for j in np.flatnonzero(x).tolist() if j not in set(fixed)]


def _order_by_gain(sets, w, chosen, fixed) -> tuple[list[int], list[float]]:
    """Order a chosen set greedily (largest marginal gain first) and report the gains."""
    sub = [sets[j] for j in list(fixed) + list(chosen)]
    order, gains = _greedy(sub, w, len(chosen), list(range(len(fixed))))
    return [chosen[i - len(fixed)] for i in order], gains


@renamed_parameters({"minutes": "cutoff_min", "time_limit": "time_limit_s"})
def place_hubs(
    net: BikeNetwork,
    candidates: Any,
    population: Any,
    k: int,
    cutoff_min: float = 10.0,
    fixed: tuple[int, ...] | list[int] = (),
    method: Literal["greedy", "exact"] = "greedy",
    population_column: str | None = None,
    distribute: Literal["snap", "nearest"] = "snap",
    direction: Literal["to_hub", "from_hub"] = "to_hub",
    time_limit_s: float | None = None,
    max_distance_m: float | None = None,
) -> HubPlacement:
    """Place ``k`` hubs to cover the most population within ``cutoff_min`` of cycling (MCLP).

    A demand node is *covered* if it can reach at least one chosen hub within ``cutoff_min``
    (``direction="to_hub"``). ``method="greedy"`` adds, k times, the candidate with the largest
    marginal gain; it is within ``1 - 1/e`` of the optimum. ``method="exact"`` solves the
    integer program (:func:`scipy.optimize.milp`, HiGHS) for the coverage curve's every point
    1..k, so use it for small cases (tens of candidates).

    Parameters
    ----------
    net
        The network.
    candidates
        GeoDataFrame of candidate points (see :func:`hub_candidates`) or a ``(lon, lat)`` tuple.
    population
        Demand: anything :func:`node_population` accepts.
    k
        Number of *new* hubs to place (in addition to ``fixed``).
    cutoff_min
        Coverage threshold in minutes of cycling (was ``minutes``, still accepted with a
        DeprecationWarning).
    fixed
        Row positions in ``candidates`` of existing hubs that are kept.
    method
        ``"greedy"`` or ``"exact"``.
    population_column, distribute, direction
        See :func:`node_population` and :func:`hub_catchments`.
    time_limit_s
        Seconds the MILP solver may take per solve (exact only; was ``time_limit``).
    max_distance_m
        Snapping limit in metres for the candidates and for population points (default
        :data:`fietsstad.settings.snap_max_distance_m`); ``candidates`` and ``hubs`` get
        ``node_id``, ``position`` and ``snap_distance_m`` (metres) columns.

    Returns
    -------
    HubPlacement

    Example
    -------
    >>> import fietsstad
    >>> from fietsstad.hubs import hub_candidates
    >>> net = fietsstad.generate_network(n_nodes=300, seed=3)
    >>> c = hub_candidates(net.x[::30], net.y[::30])
    >>> g = place_hubs(net, c, np.ones(net.n_nodes), k=2, cutoff_min=4)
    >>> e = place_hubs(net, c, np.ones(net.n_nodes), k=2, cutoff_min=4, method="exact")
    >>> bool(e.covered_population >= g.covered_population)
    True
    """
    import geopandas as gpd

    if method not in ("greedy", "exact"):
        raise ValidationError(f"method must be 'greedy' or 'exact', not {method!r}")
    cands, nodes = _snap_candidates(net, candidates, max_distance_m)
    nc = len(cands)
    fixed = [int(f) for f in fixed]
    if any(f < 0 or f >= nc for f in fixed) or len(set(fixed)) != len(fixed):
        raise ValidationError(f"fixed must be distinct row positions in 0..{nc - 1}, got {fixed}")
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise ValidationError(f"k must be a non-negative integer, got {k!r}")
    k = int(k)
    if k > nc - len(fixed):
        raise ValidationError(
            f"k={k} new hubs requested but only {nc - len(fixed)} free candidates"
        )
    pop = node_population(net, population, population_column, distribute, max_distance_m)
    demand = np.flatnonzero(pop > 0).astype(np.int32)
    w = pop[demand]
    if not len(w):
        raise ValidationError(
            "the population is zero everywhere: there is nobody to cover; check the population "
            "column and that the zones lie on the network"
        )
    minutes = float(cutoff_min)
    sets = _coverage_sets(net, nodes, minutes, demand, direction)

    g_chosen, g_gains = _greedy(sets, w, k, fixed)
    base = float(w[_covered(sets, fixed, len(w))].sum())
    greedy_curve = np.concatenate([[base], base + np.cumsum(g_gains)])
    if method == "greedy":
        chosen, gains = g_chosen, g_gains
        curve = pd.DataFrame({"covered": greedy_curve, "greedy": greedy_curve})
    else:
        optimal = [base]
        chosen = []
        for p in range(1, k + 1):
            sol = _exact(sets, w, p, fixed, time_limit_s)
            optimal.append(float(w[_covered(sets, fixed + sol, len(w))].sum()))
            chosen = sol
        chosen, gains = _order_by_gain(sets, w, chosen, fixed)
        curve = pd.DataFrame({"covered": optimal, "greedy": greedy_curve, "optimal": optimal})
    total = float(w.sum())
    curve.index = pd.RangeIndex(0, len(curve), name="n_hubs")
    curve["share"] = curve["covered"] / total if total else 0.0

    alone = np.array([float(w[s].sum()) for s in sets])
    order = fixed + chosen
    fixed_gains = []
    cov = np.zeros(len(w), dtype=bool)
    for j in fixed:
        s = sets[j]
        fixed_gains.append(float(w[s[~cov[s]]].sum()))
        cov[s] = True
    all_gains = fixed_gains + list(gains)
    hubs = cands.iloc[order].copy()
    hubs["fixed"] = [True] * len(fixed) + [False] * len(chosen)
    hubs["rank"] = np.arange(1, len(order) + 1)
    hubs["marginal_gain"] = all_gains
    hubs["covered_after"] = np.cumsum(all_gains) if all_gains else []
    hubs["alone"] = alone[order]
    hubs["candidate"] = order
    hubs = gpd.GeoDataFrame(hubs.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")
    allc = cands.copy()
    allc["alone"] = alone
    allc["chosen"] = np.isin(np.arange(nc), order)

    node_cov = np.zeros(net.n_nodes, dtype=bool)
    node_cov[demand[_covered(sets, order, len(w))]] = True
    covered = float(w[node_cov[demand]].sum())
    return HubPlacement(
        hubs=hubs,
        candidates=allc,
        coverage_curve=curve,
        covered_population=covered,
        total_population=total,
        minutes=float(minutes),
        method=method,
        k=k,
        node_population=pop,
        node_covered=node_cov,
        generated=net.is_generated,
        meta={
            "direction": direction,
            "fixed": fixed,
            "n_candidates": nc,
            "n_demand_nodes": int(len(demand)),
            "node_id": net.node_id,
        },
    )


__all__ = ["place_hubs", "HubPlacement", "coverage_sets"]
