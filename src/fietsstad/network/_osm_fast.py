"""Array builder of OSM networks (private plumbing of :mod:`fietsstad.network.osm`).

The same network as the networkx reference path of :mod:`osm` (``_segment_graph`` +
``_simplify`` + ``_graph_to_network``, kept there as the tests' oracle), built from numpy arrays:

* :func:`segments` applies the cycling rules once per distinct tag combination and cuts all
  ways into directed segments at once (forward then backward segments of each way, way by way,
  the order the reference graph inserts them);
* :func:`simplify_and_build` finds osmnx's endpoints with numpy, walks the chains between them
  in a numba kernel (:func:`_walk_chains`, the steps of osmnx's ``_build_path``), splits lossy
  merged edges (a directed attribute changing inside a chain, self-loops, parallel merged edges)
  in the same rounds as the reference, and hands the edges to :meth:`BikeNetwork.from_edges`.

Every choice the reference makes by iteration order is reproduced: endpoints are visited in the
order of the Python set the reference iterates, a merged edge takes the smallest way id and
name (by their text) of its segments, a split piece the attributes of its first segment, lengths
are summed segment by segment in path order, and of parallel edges the fastest, then shortest,
then first inserted is kept.

Example
-------
>>> from fietsstad.network._osm_read import read_osm_file  # doctest: +SKIP
>>> from fietsstad.network.profiles import get_profile  # doctest: +SKIP
>>> t = read_osm_file("tests/fixtures/osm/rules.osm")  # doctest: +SKIP
>>> net = simplify_and_build(segments(t, get_profile("bike")), t, get_profile("bike"))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from fietsstad.engine.config import NJIT
from fietsstad.errors import GraphError, NoRideableNetworkError
from fietsstad.network._osm_read import OsmTables
from fietsstad.network.bikenetwork import BikeNetwork, travel_time_seconds
from fietsstad.network.profiles import Profile
from fietsstad.network.rules import WayRule, classify_way, node_has_signal

_TagKey = tuple[tuple[str, str], ...]


# ---------------------------------------------------------------------------------- segments
def _text_rank(texts: list[str]) -> np.ndarray:
    """Rank of each text in sorted order (equal texts, equal rank)."""
    index = {t: i for i, t in enumerate(sorted(set(texts)))}
    return np.fromiter((index[t] for t in texts), dtype=np.int64, count=len(texts))


def _rule_table(tables: OsmTables) -> tuple[np.ndarray, list[WayRule]]:
    """Rule code per way and the rule of each code: classify_way runs once per tag combination."""
    codes: dict[_TagKey, int] = {}
    code = np.empty(len(tables.way_tags), dtype=np.int64)
    for i, tags in enumerate(tables.way_tags):
        key = tuple(sorted(tags.items()))
        c = codes.get(key)
        if c is None:
            c = codes[key] = len(codes)
        code[i] = c
    rules = [classify_way(dict(k)) for k in codes]
    return code, rules


def segments(tables: OsmTables, prof: Profile, within_junction: Any) -> dict[str, Any]:
    """Directed segments (OSM node ids) of all rideable ways, with their attributes.

    ``within_junction`` is :func:`fietsstad.network.osm._within_junction` (passed in to keep the
    import graph one-way). Same arrays, in the same order, as the reference per-way loop.
    """
    n_w = len(tables.way_ids)
    code, rules = _rule_table(tables)
    f_ride = np.array([r.forward.rideable for r in rules], dtype=bool)[code]
    b_ride = np.array([r.backward.rideable for r in rules], dtype=bool)[code]
    f_infra = np.array([int(r.forward.infra) for r in rules], dtype=np.int8)[code]
    b_infra = np.array([int(r.backward.infra) for r in rules], dtype=np.int8)[code]
    f_contra = np.array([r.forward.contraflow for r in rules], dtype=bool)[code]
    b_contra = np.array([r.backward.contraflow for r in rules], dtype=bool)[code]
    unpaved = np.array([r.unpaved for r in rules], dtype=bool)[code]
    main = np.array([r.main_road for r in rules], dtype=bool)[code]
    sizes = np.fromiter((len(n) for n in tables.way_nodes), dtype=np.int64, count=n_w)
    refs = np.concatenate(tables.way_nodes) if n_w else np.zeros(0, np.int64)
    refs = refs.astype(np.int64, copy=False)
    start = np.zeros(n_w + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])
    way_of = np.repeat(np.arange(n_w), sizes)
    main_ids = np.unique(refs[main[way_of]]) if main.any() else np.zeros(0, np.int64)
    # consecutive pairs inside a way whose two nodes differ and have a location
    node_ids = tables.node_ids
    if len(refs) > 1 and len(node_ids):
        pos = np.searchsorted(node_ids, refs).clip(0, len(node_ids) - 1)
        known = node_ids[pos] == refs
        a_i = np.arange(len(refs) - 1)
        pair = (way_of[a_i] == way_of[a_i + 1]) & (refs[a_i] != refs[a_i + 1])
        pair &= known[a_i] & known[a_i + 1]
        rideable = f_ride | b_ride
        pair &= rideable[way_of[a_i]]
        p = a_i[pair]
    else:
        p = np.zeros(0, np.int64)
    pw = way_of[p]
    n_ways = int(len(np.unique(pw)))
    fw, bw = f_ride[pw], b_ride[pw]
    # forward segments of a way, then its backward ones, way after way
    idx = np.concatenate([p[fw], p[bw]])
    back = np.concatenate([np.zeros(int(fw.sum()), bool), np.ones(int(bw.sum()), bool)])
    w = way_of[idx]
    order = np.lexsort((idx, back, w))
    idx, back, w = idx[order], back[order], w[order]
    if len(idx) == 0:
        raise NoRideableNetworkError(
            f"{tables.source or 'the input'} holds no way a cyclist may ride under the fietsstad "
            f"cycling rules ({n_w} highway ways read); see docs/cycling_rules.md"
        )
    a, b = refs[idx], refs[idx + 1]
    way_ids = np.asarray(tables.way_ids, dtype=np.int64)
    name_list = [t.get("name", "") for t in tables.way_tags]
    names = np.array(name_list, dtype=object)
    seg: dict[str, Any] = {
        "u": np.where(back, b, a),
        "v": np.where(back, a, b),
        "infra": np.where(back, b_infra[w], f_infra[w]).astype(np.int8),
        "contra": np.where(back, b_contra[w], f_contra[w]),
        "unpaved": unpaved[w],
        "way": way_ids[w],
        "main": main[w],
        "name": names[w],
        "n_ways": n_ways,
        # rank of the way id / name by its text: a merged edge keeps the smallest
        "way_rank": _text_rank([str(x) for x in tables.way_ids])[w],
        "name_rank": _text_rank(name_list)[w],
    }
    signal_ids = np.array(
        sorted(n for n, t in tables.node_tags.items() if node_has_signal(t)), dtype=np.int64
    )
    head_signal = np.isin(seg["v"], signal_ids)
    head_cross = np.isin(seg["v"], main_ids) & ~seg["main"] & ~head_signal
    same_signal, same_cross = within_junction(seg["u"], seg["v"], head_signal, head_cross, tables)
    seg["delay"] = np.where(
        head_signal & ~same_signal,
        round(prof.signal_delay_s),
        np.where(head_cross & ~same_cross, round(prof.crossing_delay_s), 0),
    ).astype(np.int32)
    seg["signal_ids"] = signal_ids
    seg["keep_ids"] = np.union1d(signal_ids, np.unique(seg["v"][head_cross]))
    return seg


# ---------------------------------------------------------------------------------- kernels
@numba.njit(**NJIT)
def _grow(a: np.ndarray, need: int) -> np.ndarray:
    if need <= len(a):
        return a
    out = np.empty(max(need, 2 * len(a)), dtype=a.dtype)
    out[: len(a)] = a
    return out


@numba.njit(**NJIT)
def _pair_seg(pptr: np.ndarray, phead: np.ndarray, pseg: np.ndarray, a: int, b: int) -> int:
    for j in range(pptr[a], pptr[a + 1]):
        if phead[j] == b:
            return pseg[j]
    return -1


@numba.njit(**NJIT)
def _walk_chains(
    pptr: np.ndarray, phead: np.ndarray, pseg: np.ndarray, endpoint: np.ndarray, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """osmnx's ``_build_path`` from every endpoint (in ``starts`` order) to each successor that
    is not an endpoint. Successors are visited in insertion order (``pptr``/``phead``, the unique
    node pairs; ``pseg`` the first segment of each pair).

    Returns
    -------
    nodes, offsets : the path of chain c is ``nodes[offsets[c]:offsets[c+1]]``
    segs : the first segment of each consecutive pair (chain c: ``offsets[c] - c`` onwards)
    bad : a node with two ways on that is not an endpoint (-1 if none)
    """
    n = len(endpoint)
    mark = np.zeros(n, dtype=np.int64)
    stamp = 0
    nodes = np.empty(max(16, 2 * len(phead)), dtype=np.int32)
    offsets = np.zeros(max(16, len(phead) + 1), dtype=np.int64)
    k = 0
    c = 0
    for e in starts:
        for j0 in range(pptr[e], pptr[e + 1]):
            s = phead[j0]
            if endpoint[s]:
                continue
            stamp += 1
            nodes = _grow(nodes, k + 2)
            nodes[k] = e
            nodes[k + 1] = s
            k += 2
            mark[e] = stamp
            mark[s] = stamp
            found = -1
            for j in range(pptr[s], pptr[s + 1]):
                if mark[phead[j]] != stamp:
                    found = phead[j]
                    break
            if found >= 0:
                cur = found
                nodes = _grow(nodes, k + 1)
                nodes[k] = cur
                k += 1
                mark[cur] = stamp
                while not endpoint[cur]:
                    cnt = 0
                    nxt = -1
                    for j in range(pptr[cur], pptr[cur + 1]):
                        if mark[phead[j]] != stamp:
                            cnt += 1
                            if nxt < 0:
                                nxt = phead[j]
                    if cnt == 1:
                        cur = nxt
                        nodes = _grow(nodes, k + 1)
                        nodes[k] = cur
                        k += 1
                        mark[cur] = stamp
                    elif cnt == 0:
                        if _pair_seg(pptr, phead, pseg, cur, e) >= 0:
                            nodes = _grow(nodes, k + 1)
                            nodes[k] = e
                            k += 1
                        break
                    else:
                        return nodes[:0], offsets[:1], nodes[:0], cur
            c += 1
            offsets = _grow(offsets, c + 1)
            offsets[c] = k
    nodes = nodes[:k]
    offsets = offsets[: c + 1]
    segs = np.empty(max(k - c, 0), dtype=np.int32)
    q = 0
    for ci in range(c):
        for i in range(offsets[ci], offsets[ci + 1] - 1):
            segs[q] = _pair_seg(pptr, phead, pseg, nodes[i], nodes[i + 1])
            q += 1
    return nodes, offsets, segs, -1


@numba.njit(**NJIT)
def _path_sums(
    seg_off: np.ndarray, segs: np.ndarray, length: np.ndarray, delay: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Length (summed one segment after another, in path order, as Python's ``sum``) and delay
    of every path."""
    m = len(seg_off) - 1
    out_len = np.zeros(m, dtype=np.float64)
    out_del = np.zeros(m, dtype=np.int64)
    for e in range(m):
        acc = 0.0
        d = 0
        for i in range(seg_off[e], seg_off[e + 1]):
            acc += length[segs[i]]
            d += delay[segs[i]]
        out_len[e] = acc
        out_del[e] = d
    return out_len, out_del


@numba.njit(**NJIT)
def _path_min_uniform(
    seg_off: np.ndarray, segs: np.ndarray, rank: np.ndarray, cls: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per path: the smallest ``rank`` of its segments, and whether ``cls`` is uniform."""
    m = len(seg_off) - 1
    low = np.zeros(m, dtype=np.int64)
    same = np.ones(m, dtype=np.bool_)
    for e in range(m):
        lo = rank[segs[seg_off[e]]] if seg_off[e + 1] > seg_off[e] else 0
        c0 = cls[segs[seg_off[e]]] if seg_off[e + 1] > seg_off[e] else 0
        for i in range(seg_off[e], seg_off[e + 1]):
            lo = min(lo, rank[segs[i]])
            if cls[segs[i]] != c0:
                same[e] = False
        low[e] = lo
    return low, same


# ---------------------------------------------------------------------------------- building
def _endpoints(
    n: int,
    pu: np.ndarray,
    pv: np.ndarray,
    cls: np.ndarray,
    keep: np.ndarray,
    pair_u: np.ndarray,
    pair_v: np.ndarray,
    mutual: np.ndarray,
) -> np.ndarray:
    """osmnx's endpoint rules 1-5 with ``_keep`` and ``_cls`` (see ``osm._is_endpoint``).

    ``pair_u``/``pair_v`` are the distinct directed node pairs, ``mutual`` whether the reverse
    pair exists too (so the distinct neighbours of a node are its out- plus in-pairs minus the
    mutual ones).
    """
    indeg = np.bincount(pv, minlength=n)
    outdeg = np.bincount(pu, minlength=n)
    selfloop = np.zeros(n, dtype=bool)
    selfloop[pu[pu == pv]] = True
    n_nb = (
        np.bincount(pair_u, minlength=n)
        + np.bincount(pair_v, minlength=n)
        - np.bincount(pair_u[mutual], minlength=n)
    )
    d = indeg + outdeg
    big = np.iinfo(np.int64).max
    lo = np.full(n, big, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    for ends in (pu, pv):
        np.minimum.at(lo, ends, cls)
        np.maximum.at(hi, ends, cls)
    simple = (n_nb == 2) & ((d == 2) | (d == 4))
    return selfloop | (indeg == 0) | (outdeg == 0) | ~simple | keep | (lo != hi)


class _Edges:
    """The edges of the simplified graph: each a path of graph nodes with its segments.

    ``agg`` edges (merged chains) take the smallest way id and name of their segments; the
    others (single segments and split pieces) the attributes of their first segment.
    """

    def __init__(self, nodes: np.ndarray, off: np.ndarray, segs: np.ndarray, agg: np.ndarray):
        self.nodes, self.off, self.segs, self.agg = nodes, off, segs, agg

    @property
    def size(self) -> np.ndarray:
        return np.diff(self.off)

    def seg_off(self) -> np.ndarray:
        return self.off - np.arange(len(self.off))

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        return self.nodes[self.off[:-1]], self.nodes[self.off[1:] - 1]

    def take(self, keep: np.ndarray) -> _Edges:
        idx = np.flatnonzero(keep)
        size = self.size[idx]
        off = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(size, out=off[1:])
        starts = self.off[:-1][idx]
        node_pos = np.repeat(starts - off[:-1], size) + np.arange(off[-1])
        seg_starts = self.seg_off()[:-1][idx]
        nseg = size - 1
        seg_new = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(nseg, out=seg_new[1:])
        seg_pos = np.repeat(seg_starts - seg_new[:-1], nseg) + np.arange(seg_new[-1])
        return _Edges(self.nodes[node_pos], off, self.segs[seg_pos], self.agg[idx])

    def append(self, other: _Edges) -> _Edges:
        return _Edges(
            np.concatenate([self.nodes, other.nodes]),
            np.concatenate([self.off, self.off[-1] + other.off[1:]]),
            np.concatenate([self.segs, other.segs]),
            np.concatenate([self.agg, other.agg]),
        )


def _split_round(E: _Edges, listy: np.ndarray, n: int) -> tuple[_Edges, np.ndarray, bool]:
    """One round of ``osm._split_lossy_edges`` on the arrays; returns the new edges, the nodes
    re-added as piece ends, and whether anything was split."""
    size = E.size
    cand = size >= 3
    a, b = E.ends()
    key = a * n + b
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    parallel = cnt[inv.ravel()] > 1
    cut = np.zeros(n, dtype=bool)
    interior_edge = np.repeat(np.arange(len(size)), np.maximum(size - 2, 0))
    interior_pos = np.repeat(
        E.off[:-1] + 1 - np.concatenate([[0], np.cumsum(np.maximum(size - 2, 0))[:-1]]),
        np.maximum(size - 2, 0),
    ) + np.arange(len(interior_edge))
    interior = E.nodes[interior_pos]
    full = cand & listy
    cut[interior[full[interior_edge]]] = True
    one = cand & ~listy & ((a == b) | parallel)
    if one.any():
        low = np.full(len(size), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(low, interior_edge, interior)
        cut[low[one]] = True
    hit = np.zeros(len(size), dtype=bool)
    hit[interior_edge[cut[interior]]] = True
    hit &= cand
    if not hit.any():
        return E, np.zeros(0, np.int64), False
    pieces_nodes: list[np.ndarray] = []
    pieces_off = [0]
    pieces_segs: list[np.ndarray] = []
    seg_off = E.seg_off()
    for e in np.flatnonzero(hit).tolist():
        path = E.nodes[E.off[e] : E.off[e + 1]]
        psegs = E.segs[seg_off[e] : seg_off[e + 1]]
        at = np.flatnonzero(cut[path[1:-1]]) + 1
        bounds = [0, *at.tolist(), len(path) - 1]
        for s, t in zip(bounds[:-1], bounds[1:]):
            pieces_nodes.append(path[s : t + 1])
            pieces_segs.append(psegs[s:t])
            pieces_off.append(pieces_off[-1] + t + 1 - s)
    P = _Edges(
        np.concatenate(pieces_nodes),
        np.asarray(pieces_off, dtype=np.int64),
        np.concatenate(pieces_segs),
        np.zeros(len(pieces_off) - 1, dtype=bool),
    )
    readded = np.unique(np.concatenate([p[[0, -1]] for p in pieces_nodes]))
    return E.take(~hit).append(P), readded, True


def simplify_and_build(
    seg: dict[str, Any], tables: OsmTables, prof: Profile, simplify: bool
) -> BikeNetwork:
    """The (simplified) network of the segments, before the largest strongly connected component.

    Same nodes, edges and attributes as the reference networkx path; ``meta`` carries
    ``parallel_edges_dropped``.
    """
    used = np.unique(np.concatenate([seg["u"], seg["v"]]))
    n = len(used)
    pos = np.searchsorted(tables.node_ids, used)
    lon, lat = tables.lon[pos], tables.lat[pos]
    pu, pv = np.searchsorted(used, seg["u"]), np.searchsorted(used, seg["v"])
    from fietsstad._geo import haversine_m

    length = haversine_m(lon[pu], lat[pu], lon[pv], lat[pv]).astype(np.float64)
    delay = seg["delay"].astype(np.int64)
    m0 = len(pu)
    one_seg = _Edges(
        np.column_stack([pu, pv]).ravel(),
        np.arange(0, 2 * m0 + 1, 2, dtype=np.int64),
        np.arange(m0, dtype=np.int64),
        np.zeros(m0, dtype=bool),
    )
    alive = np.ones(n, dtype=bool)
    infra, contra, unpaved = seg["infra"], seg["contra"], seg["unpaved"]
    if simplify:
        E = _simplify(seg, used, pu, pv, one_seg, alive)
    else:
        E = one_seg
    a, b = E.ends()
    seg_off = E.seg_off()
    first = E.segs[seg_off[:-1]]
    tot_len, tot_del = _path_sums(seg_off, E.segs, length, delay)
    way_rank, name_rank = seg["way_rank"], seg["name_rank"]
    dummy = np.zeros(len(pu), dtype=np.int64)
    w_low, _ = _path_min_uniform(seg_off, E.segs, way_rank, dummy)
    n_low, _ = _path_min_uniform(seg_off, E.segs, name_rank, dummy)
    # segment whose way id / name has the smallest rank (any one: equal rank, equal text)
    way_by_rank = np.empty(int(way_rank.max()) + 1, dtype=np.int64)
    way_by_rank[way_rank] = seg["way"]
    name_by_rank = np.empty(int(name_rank.max()) + 1, dtype=object)
    name_by_rank[name_rank] = seg["name"]
    agg = E.agg
    way = np.where(agg, way_by_rank[w_low], seg["way"][first])
    name = np.where(agg, name_by_rank[n_low], seg["name"][first])
    rows = np.flatnonzero(a != b)
    ids_alive = np.flatnonzero(alive)
    ru, rv = np.searchsorted(ids_alive, a[rows]), np.searchsorted(ids_alive, b[rows])
    r_len = tot_len[rows]
    r_infra = infra[first[rows]].astype(np.int8)
    r_unp = unpaved[first[rows]].astype(bool)
    r_del = tot_del[rows].astype(np.int32)
    tt = travel_time_seconds(r_len, prof.speed_array(r_infra, r_unp), r_del)
    m = len(rows)
    order = np.lexsort((r_len, tt, rv, ru))
    keep_first = np.ones(m, dtype=bool)
    keep_first[1:] = (ru[order][1:] != ru[order][:-1]) | (rv[order][1:] != rv[order][:-1])
    keep = np.sort(order[keep_first])
    kr = rows[keep]
    signal = np.isin(used, seg["signal_ids"])
    net = BikeNetwork.from_edges(
        x=lon[ids_alive],
        y=lat[ids_alive],
        node_id=used[ids_alive],
        u=ru[keep],
        v=rv[keep],
        length=r_len[keep],
        infra=r_infra[keep],
        delay=r_del[keep],
        unpaved=r_unp[keep],
        contraflow=contra[first[kr]].astype(bool),
        way_id=way[kr].astype(np.int64),
        name=name[kr],
        node_signal=signal[ids_alive],
        profile=prof,
        meta={"source": "osm", "generated": False, "parallel_edges_dropped": int(m - len(keep))},
    )
    # geometries (the path's node coordinates), in from_edges' CSR order
    csr = kr[np.lexsort((rv[keep], ru[keep]))]
    size = E.size[csr]
    goff = np.zeros(len(csr) + 1, dtype=np.int64)
    np.cumsum(size, out=goff[1:])
    at = np.repeat(E.off[:-1][csr] - goff[:-1], size) + np.arange(goff[-1])
    path = E.nodes[at]
    net.geom_offsets = goff
    net.geom_xy = np.column_stack((lon[path], lat[path]))
    return net


def _simplify(
    seg: dict[str, Any],
    used: np.ndarray,
    pu: np.ndarray,
    pv: np.ndarray,
    one_seg: _Edges,
    alive: np.ndarray,
) -> _Edges:
    """Merge chains and split lossy ones (``osm._simplify``); ``alive`` is updated in place."""
    n = len(used)
    m0 = len(pu)
    own = (seg["infra"].astype(np.int64) * 2 + seg["contra"]) * 2 + seg["unpaved"]
    # distinct node pairs (one stable sort): first and last segment of each
    key = pu * n + pv
    srt = np.argsort(key, kind="stable")
    ks = key[srt]
    head = np.ones(m0, dtype=bool)
    head[1:] = ks[1:] != ks[:-1]
    starts_at = np.flatnonzero(head)
    uniq = ks[starts_at]
    first_k = srt[starts_at]
    last_k = srt[np.append(starts_at[1:], m0) - 1]
    # direction-free class: the segment's own code with that of the last reverse segment
    rkey = pv * n + pu
    at = np.searchsorted(uniq, rkey).clip(0, len(uniq) - 1)
    has_rev = uniq[at] == rkey
    other = np.where(has_rev, own[last_k[at]], -1)
    lo, hi = np.minimum(own, other), np.maximum(own, other)
    cls = (lo + 1) * 64 + (hi + 1)
    keep = np.isin(used, seg["keep_ids"])
    runiq = (uniq % n) * n + uniq // n
    at_p = np.searchsorted(uniq, runiq).clip(0, len(uniq) - 1)
    mutual = uniq[at_p] == runiq
    endpoint = _endpoints(n, pu, pv, cls, keep, uniq // n, uniq % n, mutual)
    # successors in insertion order, with the first segment of each pair
    o = np.lexsort((first_k, uniq // n))
    pair_u, pair_v, pseg = uniq[o] // n, uniq[o] % n, first_k[o]
    pptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_u, minlength=n), out=pptr[1:])
    # the reference visits endpoints in the order of the Python set of their ids
    ep_ids = set(used[endpoint].tolist())
    starts = np.searchsorted(used, np.fromiter(ep_ids, dtype=np.int64, count=len(ep_ids)))
    if max(n, m0) >= 2**31 - 1:
        raise GraphError("networks are limited to 2**31-1 nodes and segments (int32 ids)")
    i32 = np.int32
    nodes32, offsets, segs32, bad = _walk_chains(
        pptr, pair_v.astype(i32), pseg.astype(i32), endpoint, starts.astype(i32)
    )
    nodes, segs = nodes32.astype(np.int64), segs32.astype(np.int64)
    if bad >= 0:  # pragma: no cover - a node with two ways on is an endpoint
        raise GraphError(f"impossible simplify pattern near node {int(used[bad])}")
    chains = _Edges(nodes, offsets, segs, np.ones(len(offsets) - 1, dtype=bool))
    size = chains.size
    interior_mask = np.ones(len(nodes), dtype=bool)
    interior_mask[offsets[:-1]] = False
    interior_mask[offsets[1:] - 1] = False
    alive[nodes[interior_mask]] = False
    ca, cb = chains.ends()
    chains = chains.take(alive[ca] & alive[cb])
    E = one_seg.take(alive[pu] & alive[pv]).append(chains)
    del size
    # directed attributes that are not uniform along a merged chain: split at every interior node
    seg_off = E.seg_off()
    _, u_inf = _path_min_uniform(
        seg_off, E.segs, np.zeros(m0, np.int64), seg["infra"].astype(np.int64)
    )
    _, u_con = _path_min_uniform(
        seg_off, E.segs, np.zeros(m0, np.int64), seg["contra"].astype(np.int64)
    )
    _, u_unp = _path_min_uniform(
        seg_off, E.segs, np.zeros(m0, np.int64), seg["unpaved"].astype(np.int64)
    )
    listy = E.agg & ~(u_inf & u_con & u_unp)
    for _ in range(8):
        E, readded, changed = _split_round(E, listy, n)
        if not changed:
            break
        alive[readded] = True
        listy = np.zeros(len(E.agg), dtype=bool)  # pieces carry one segment's attributes
    return E
