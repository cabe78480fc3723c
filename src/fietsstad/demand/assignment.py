"""Route choice and assignment of bike trips to the network: path-size logit or all-or-nothing.

All-or-nothing puts each origin-destination flow on one fastest path, so an upgraded route
captures a whole flow or none of it. Path-size logit spreads each flow over a few reasonable
alternatives (Ben-Akiva and Bierlaire 1999; for cyclists Broach, Dill and Gliebe 2012):

1. **alternatives by link penalty**: find the fastest path, multiply the (penalised) travel time
   of its edges by ``penalty``, search again, repeat (at most ``3 k`` searches) until ``k``
   routes are kept. A new route is dropped when its true travel time exceeds ``max_ratio`` times
   the fastest, or when ``overlap_max`` or more of its length lies on one already kept route
   (a near-duplicate);
2. **path size** of route ``r``: ``PS_r = sum over edges e of r of (l_e / L_r) / N_e``, with
   ``l_e`` the edge length, ``L_r`` the route length and ``N_e`` the number of kept routes that
   use ``e`` (1 for a route that shares nothing, ``1 / n`` for ``n`` identical routes);
3. **choice**: ``V_r = -theta_per_min * t_r[min] + beta_ps * ln(PS_r)`` and
   ``P_r = exp(V_r) / sum_s exp(V_s)``; each route carries ``flow * P_r``.

Default parameters (:data:`THETA_PER_MIN`, :data:`BETA_PS`): Broach, Dill and Gliebe (2012),
"Where do cyclists ride? A route choice model developed with revealed preference GPS data",
Transportation Research Part A 46(10), path-size logit on 1,449 GPS-recorded trips in
Portland: distance coefficient about -1.05 per mile for commute trips, i.e. about 0.65 per km,
which at a Dutch average cycling speed of about 15 km/h (4 minutes per km) is
``theta = 0.16`` per minute of travel time (rounded: 0.16); ln(path size) coefficient about 1.07
(``beta_ps = 1.0`` rounded; 1 is also the theoretical value of Ben-Akiva and Bierlaire). Danish
studies (Halldórsdóttir et al. 2014; Prato, Halldórsdóttir and Nielsen 2018, Copenhagen region)
use the same path-size logit form for cyclists. With ``theta = 0.16``, a
route 5 minutes slower than an otherwise disjoint alternative carries ``1 / (1 + e^0.8) = 31 %``
of the flow; 10 minutes slower: 17 %. The coefficients were recalled from the paper, not
re-estimated here; pass ``theta_per_min`` to test the sensitivity.

Searches are the engine's path search (:func:`fietsstad.engine._paths.fastest_edges`: Dijkstra on
its heap, int32 node positions, integer ticks, stopped at the target), run in parallel over
origin-destination pairs.

Example
-------
>>> import numpy as np
>>> from fietsstad.demand.assignment import assign
>>> from fietsstad.network import generate_network
>>> net = generate_network(n_nodes=300, seed=1)
>>> res = assign(net, [0, 5], [250, 120], [10.0, 4.0])
>>> res.edge_flow.shape == (net.n_edges,), bool(res.route_count.min() >= 1)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
from numba import prange

from fietsstad.engine._paths import fastest_edges
from fietsstad.engine.config import INF64, MAX_I32, NJIT, NJIT_PAR
from fietsstad.errors import ValidationError
from fietsstad.network import BikeNetwork
from fietsstad.network.bikenetwork import TICKS_PER_S

__all__ = [
    "THETA_PER_MIN",
    "BETA_PS",
    "Assignment",
    "assign",
    "route_alternatives",
]

#: Dispersion of the route choice, per minute of travel time (Broach, Dill and Gliebe 2012).
THETA_PER_MIN = 0.16
#: Coefficient of ln(path size) (Broach, Dill and Gliebe 2012: about 1.07; theory: 1).
BETA_PS = 1.0
#: Alternatives per origin-destination pair, link-penalty factor, longest alternative relative
#: to the fastest (travel time), largest share of a route's length on one other kept route.
K_ROUTES = 4
PENALTY = 1.5
MAX_RATIO = 1.5
OVERLAP_MAX = 0.8

_CHOICES = ("logit", "aon")


# ------------------------------------------------------------------------------ kernels
@numba.njit(**NJIT)
def _buffers(w, k, n):  # pragma: no cover - numba
    """Work arrays of one worker: penalised weights, route marks, the routes, the search."""
    m = w.size
    return (
        w.copy(),  # pw: penalised weights
        np.zeros(m, np.int32),  # mark: bit r set on the edges of kept route r
        np.empty(n, np.int32),  # tmp: the last path found
        np.empty(k * n, np.int32),  # buf: kept routes' edges, back to back
        np.zeros(k + 1, np.int64),  # starts: offsets of the kept routes in buf
        np.zeros(k),  # rtime
        np.zeros(k),  # rlen
        np.full(n, INF64, np.int64),  # dist, pred, hk, touched: the search's
        np.full(n, -1, np.int32),
        np.empty(m + 1, np.int64),
        np.empty(n, np.int32),
    )


@numba.njit(**NJIT)
def _routes_one(
    indptr, indices, w, length, s, t, k, penalty, max_ratio, overlap_max, bufs
):  # pragma: no cover - numba
    """Link-penalty alternatives for one pair; fills ``buf``/``starts``/``rtime``/``rlen``.

    ``bufs`` from :func:`_buffers`; ``pw`` must equal ``w`` and ``mark`` be zero on entry; both are restored before returning.
    Returns the number of kept routes (0: unreachable or ``s == t``).
    """
    pw, mark, tmp, buf, starts, rtime, rlen, dist, pred, hk, touched = bufs
    if s == t:
        return 0
    kept = 0
    pos = 0
    t_best = 0.0
    for _ in range(3 * k):
        n = fastest_edges(indptr, indices, pw, s, t, tmp, dist, pred, hk, touched)
        if n < 0:
            break
        tt = 0.0
        ll = 0.0
        for a in range(n):
            tt += w[tmp[a]]
            ll += length[tmp[a]]
        ok = True
        if kept == 0:
            t_best = tt
        elif tt > max_ratio * t_best:
            ok = False
        else:
            for j in range(kept):
                shared = 0.0
                for a in range(n):
                    if mark[tmp[a]] & (1 << j):
                        shared += length[tmp[a]]
                same = shared >= overlap_max * ll if ll > 0 else True
                if same:
                    ok = False
                    break
        for a in range(n):
            e = tmp[a]
            pw[e] = min(np.int64(np.ceil(pw[e] * penalty)), np.int64(MAX_I32 // 4))
        if ok:
            starts[kept] = pos
            for a in range(n):
                buf[pos + a] = tmp[a]
                mark[tmp[a]] |= 1 << kept
            pos += n
            rtime[kept] = tt
            rlen[kept] = ll
            kept += 1
            starts[kept] = pos
            if kept == k:
                break
    pw[:] = w
    for a in range(pos):
        mark[buf[a]] = 0
    return kept


@numba.njit(**NJIT)
def _choice(
    buf, starts, rtime, rlen, kept, length, mark, theta_s, beta_ps, prob
):  # pragma: no cover
    """Path-size logit probabilities of the ``kept`` routes into ``prob`` (``mark`` zero in/out)."""
    for r in range(kept):
        for a in range(starts[r], starts[r + 1]):
            mark[buf[a]] += 1
    vmax = -np.inf
    for r in range(kept):
        ps = 0.0
        for a in range(starts[r], starts[r + 1]):
            e = buf[a]
            ps += length[e] / mark[e]
        ps = ps / rlen[r] if rlen[r] > 0 else 1.0
        v = -theta_s * rtime[r] + beta_ps * np.log(ps)
        prob[r] = v
        if v > vmax:
            vmax = v
    tot = 0.0
    for r in range(kept):
        prob[r] = np.exp(prob[r] - vmax)
        tot += prob[r]
    for r in range(kept):
        prob[r] /= tot
    for a in range(starts[kept]):
        mark[buf[a]] = 0


@numba.njit(**NJIT_PAR)
def _assign_kernel(
    indptr,
    indices,
    w,
    length,
    corridor,
    src,
    dst,
    q,
    k,
    penalty,
    max_ratio,
    overlap_max,
    theta_s,
    beta_ps,
    nchunk,
):  # pragma: no cover - numba
    n_nodes = indptr.size - 1
    m = w.size
    nod = src.size
    flows = np.zeros((nchunk, m))
    corr = np.zeros(nod)
    exp_len = np.zeros(nod)
    exp_time = np.zeros(nod)
    best_time = np.full(nod, np.inf)
    count = np.zeros(nod, np.int32)
    per = (nod + nchunk - 1) // nchunk
    for c in prange(nchunk):
        bufs = _buffers(w, k, n_nodes)
        mark, buf, starts, rtime, rlen = bufs[1], bufs[3], bufs[4], bufs[5], bufs[6]
        prob = np.zeros(k)
        for i in range(c * per, min(nod, (c + 1) * per)):
            if src[i] == dst[i]:
                best_time[i] = 0.0
                continue
            kept = _routes_one(
                indptr, indices, w, length, src[i], dst[i], k, penalty, max_ratio, overlap_max, bufs
            )
            count[i] = kept
            if kept == 0:
                continue
            best_time[i] = rtime[0]
            _choice(buf, starts, rtime, rlen, kept, length, mark, theta_s, beta_ps, prob)
            for r in range(kept):
                used = False
                for a in range(starts[r], starts[r + 1]):
                    e = buf[a]
                    flows[c, e] += q[i] * prob[r]
                    if corridor[e]:
                        used = True
                if used:
                    corr[i] += prob[r]
                exp_len[i] += prob[r] * rlen[r]
                exp_time[i] += prob[r] * rtime[r]
    return flows.sum(axis=0), corr, exp_len, exp_time, best_time, count


# ------------------------------------------------------------------------------ public API
@dataclass
class Assignment:
    """Bike trips assigned to the network (see :func:`assign`).

    Attributes
    ----------
    edge_flow : float64 array (n_edges,)
        Trips per edge (the sum over pairs of ``flow * P_r`` over the routes using the edge).
    corridor_share : float64 array (n_pairs,)
        Probability that a pair's trip uses at least one ``corridor`` edge (0 without one).
    expected_length_m, expected_time_s : float64 arrays (n_pairs,)
        Probability-weighted route length and travel time (0 for same-node pairs, 0 unreachable).
    fastest_time_s : float64 array (n_pairs,)
        Travel time of the fastest route (``inf``: unreachable).
    route_count : int32 array (n_pairs,)
        Routes kept per pair (1 under all-or-nothing; 0 unreachable or same node).
    unassigned : float
        Flow of pairs with no route (unreachable), not on any edge.
    route_choice : str
    """

    edge_flow: np.ndarray
    corridor_share: np.ndarray
    expected_length_m: np.ndarray
    expected_time_s: np.ndarray
    fastest_time_s: np.ndarray
    route_count: np.ndarray
    unassigned: float
    route_choice: str

    def corridor_users(self, flows: npt.ArrayLike) -> float:
        """Trips whose route uses the corridor: ``sum(flows * corridor_share)``.

        Example
        -------
        >>> import numpy as np
        >>> a = Assignment(np.zeros(1), np.array([0.5, 1.0]), np.zeros(2), np.zeros(2),
        ...                np.zeros(2), np.ones(2, np.int32), 0.0, "logit")
        >>> a.corridor_users([2.0, 1.0])
        2.0
        """
        return float(np.dot(np.asarray(flows, dtype=np.float64), self.corridor_share))


def _check(
    net,
    od_origins,
    od_destinations,
    flows,
    corridor,
    route_choice,
    theta_per_min,
    k,
    penalty,
    max_ratio,
    overlap_max,
    beta_ps,
):
    if not isinstance(net, BikeNetwork):
        raise ValidationError(f"net must be a BikeNetwork, got {type(net).__name__}")
    if route_choice not in _CHOICES:
        raise ValidationError(f"route_choice must be one of {_CHOICES}, got {route_choice!r}")
    o = np.asarray(od_origins)
    d = np.asarray(od_destinations)
    q = np.asarray(flows, dtype=np.float64)
    for a, nm in ((o, "od_origins"), (d, "od_destinations")):
        if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise ValidationError(f"{nm} must be a 1-d array of node positions (integers)")
        if a.size and (a.min() < 0 or a.max() >= net.n_nodes):
            raise ValidationError(f"{nm} must hold node positions in [0, {net.n_nodes})")
    if not (o.shape == d.shape == q.shape):
        raise ValidationError(
            f"od_origins, od_destinations and flows must have the same length, got "
            f"{o.size}, {d.size} and {q.size}"
        )
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValidationError("flows must be finite and >= 0")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= 16:
        raise ValidationError(f"k must be an integer in [1, 16], got {k!r}")
    for val, nm, lo in (
        (theta_per_min, "theta_per_min", 0.0),
        (penalty, "penalty", 1.0),
        (max_ratio, "max_ratio", 1.0),
        (beta_ps, "beta_ps", 0.0),
    ):
        if not isinstance(val, (int, float)) or not np.isfinite(val) or not val >= lo:
            raise ValidationError(f"{nm} must be a finite number >= {lo}, got {val!r}")
    if not isinstance(overlap_max, (int, float)) or not 0.0 < overlap_max <= 1.0:
        raise ValidationError(f"overlap_max must be in (0, 1], got {overlap_max!r}")
    if penalty == 1.0 and k > 1 and route_choice == "logit":
        raise ValidationError("penalty must be > 1 to find alternative routes when k > 1")
    if corridor is None:
        c = np.zeros(net.n_edges, dtype=np.bool_)
    else:
        c = np.asarray(corridor)
        if c.dtype != np.bool_ or c.shape != (net.n_edges,):
            raise ValidationError(f"corridor must be a boolean array of length {net.n_edges}")
    return o.astype(np.int32), d.astype(np.int32), q, c


def assign(
    net: BikeNetwork,
    od_origins: npt.ArrayLike,
    od_destinations: npt.ArrayLike,
    flows: npt.ArrayLike,
    *,
    route_choice: str = "logit",
    theta_per_min: float = THETA_PER_MIN,
    beta_ps: float = BETA_PS,
    k: int = K_ROUTES,
    penalty: float = PENALTY,
    max_ratio: float = MAX_RATIO,
    overlap_max: float = OVERLAP_MAX,
    corridor: np.ndarray | None = None,
) -> Assignment:
    """Assign bike trips between node pairs to the network's edges (path-size logit or AON).

    Parameters
    ----------
    net
        The network; routes follow the engine's exact edge times (``net.travel_time_ticks()``,
        deciseconds); times are reported in seconds.
    od_origins, od_destinations
        Node positions of each pair (``net.snap`` gives them for coordinates).
    flows
        Trips per pair (>= 0).
    route_choice
        ``"logit"`` (default): path-size logit over up to ``k`` link-penalty alternatives (see
        the module docstring); ``"aon"``: all-or-nothing on one fastest path.
    theta_per_min, beta_ps
        Dispersion per minute of travel time (default :data:`THETA_PER_MIN`, 0.16) and the
        ln(path size) coefficient (default :data:`BETA_PS`, 1.0); Broach, Dill and Gliebe 2012.
    k, penalty, max_ratio, overlap_max
        Alternatives per pair (default 4), link-penalty factor (1.5), longest kept route as a
        multiple of the fastest travel time (1.5), and the overlap (share of a route's length on
        one kept route) at which a route counts as a near-duplicate (0.8).
    corridor
        Optional boolean mask of edges; ``corridor_share`` then says, per pair, the probability
        that the trip uses at least one of them.

    Returns
    -------
    Assignment
        ``edge_flow`` (float64, length ``net.n_edges``) and per pair ``corridor_share``,
        expected length and time, fastest time and route count.

    Example
    -------
    >>> import dataclasses
    >>> import numpy as np
    >>> from fietsstad.network import BikeNetwork
    >>> # two disjoint routes 0 -> 1 -> 3 (120 s) and 0 -> 2 -> 3 (180 s), 500 m each
    >>> net = BikeNetwork.from_edges(x=np.zeros(4), y=np.zeros(4), node_id=np.arange(4),
    ...     u=np.array([0, 0, 1, 2]), v=np.array([1, 2, 3, 3]), length=np.full(4, 250.0),
    ...     infra=np.zeros(4, int))
    >>> net = dataclasses.replace(net, travel_time=np.array([60, 90, 60, 90], np.int32))
    >>> res = assign(net, [0], [3], [100.0], theta_per_min=1.0)
    >>> round(float(res.edge_flow.max()), 3)  # 100 / (1 + exp(-1))
    73.106
    """
    o, d, q, c = _check(
        net,
        od_origins,
        od_destinations,
        flows,
        corridor,
        route_choice,
        theta_per_min,
        k,
        penalty,
        max_ratio,
        overlap_max,
        beta_ps,
    )
    kk = 1 if route_choice == "aon" else int(k)
    w = net.travel_time_ticks().astype(np.int64)  # the engine's exact deciseconds
    nchunk = max(1, min(len(o), 4 * numba.get_num_threads()))
    flow, corr, elen, etime, best, count = _assign_kernel(
        net.indptr,
        net.indices,
        w,
        net.length.astype(np.float64),
        c,
        o,
        d,
        q,
        kk,
        float(penalty),
        float(max_ratio),
        float(overlap_max),
        float(theta_per_min) / (60.0 * TICKS_PER_S),
        float(beta_ps),
        nchunk,
    )
    etime, best = etime / TICKS_PER_S, best / TICKS_PER_S  # ticks -> seconds
    unassigned = float(q[(count == 0) & (o != d)].sum())
    return Assignment(flow, corr, elen, etime, best, count, unassigned, route_choice)


def route_alternatives(
    net: BikeNetwork,
    origin: int,
    destination: int,
    *,
    theta_per_min: float = THETA_PER_MIN,
    beta_ps: float = BETA_PS,
    k: int = K_ROUTES,
    penalty: float = PENALTY,
    max_ratio: float = MAX_RATIO,
    overlap_max: float = OVERLAP_MAX,
) -> list[dict]:
    """The routes :func:`assign` considers for one pair, with their logit probabilities.

    Returns a list (fastest first) of dicts with ``edges`` (int32 edge ids in travel order),
    ``time_s``, ``length_m``, ``probability``; empty if unreachable or ``origin == destination``.

    Example
    -------
    >>> from fietsstad.network import generate_network
    >>> net = generate_network(n_nodes=300, seed=1)
    >>> routes = route_alternatives(net, 0, 250)
    >>> round(sum(r["probability"] for r in routes), 9)
    1.0
    """
    o, d, _, _ = _check(
        net,
        [origin],
        [destination],
        [0.0],
        None,
        "logit",
        theta_per_min,
        k,
        penalty,
        max_ratio,
        overlap_max,
        beta_ps,
    )
    n = net.n_nodes
    w = net.travel_time_ticks().astype(np.int64)  # the engine's exact deciseconds
    length = net.length.astype(np.float64)
    bufs = _buffers(w, int(k), n)
    mark, buf, starts, rtime, rlen = bufs[1], bufs[3], bufs[4], bufs[5], bufs[6]
    prob = np.zeros(k)
    kept = _routes_one(
        net.indptr, net.indices, w, length, o[0], d[0], int(k), float(penalty), float(max_ratio),
        float(overlap_max), bufs,
    )  # fmt: skip
    if kept == 0:
        return []
    _choice(
        buf,
        starts,
        rtime,
        rlen,
        kept,
        length,
        mark,
        theta_per_min / (60.0 * TICKS_PER_S),
        float(beta_ps),
        prob,
    )
    return [
        {
            "edges": buf[starts[r] : starts[r + 1]].copy(),
            "time_s": float(rtime[r]) / TICKS_PER_S,
            "length_m": float(rlen[r]),
            "probability": float(prob[r]),
        }
        for r in range(kept)
    ]
