"""Content digests of a built network, to pin the OSM builder's output (tests/network/data)."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

#: the arrays of a BikeNetwork that the OSM builder determines
FIELDS = (
    "x",
    "y",
    "node_id",
    "node_signal",
    "indptr",
    "indices",
    "length",
    "speed_kmh",
    "delay",
    "travel_time",
    "infra",
    "unpaved",
    "contraflow",
    "way_id",
    "geom_offsets",
    "geom_xy",
)


def network_digests(net: Any) -> dict[str, Any]:
    """blake2b of every array (names joined with NUL), sizes, and the builder's meta counts."""
    out: dict[str, Any] = {"n_nodes": int(net.n_nodes), "n_edges": int(net.n_edges)}
    for f in FIELDS:
        a = getattr(net, f)
        if a is None:
            out[f] = None
            continue
        a = np.ascontiguousarray(a)
        h = hashlib.blake2b(str((a.dtype.str, a.shape)).encode(), digest_size=16)
        h.update(a.view(np.uint8))
        out[f] = h.hexdigest()
    names = "\0".join(str(s) for s in net.name.tolist()).encode()
    out["name"] = hashlib.blake2b(names, digest_size=16).hexdigest()
    for k in (
        "osm_ways_read",
        "osm_ways_rideable",
        "nodes_before_scc",
        "missing_node_refs",
        "parallel_edges_dropped",
        "dropped_nodes",
    ):
        if k in net.meta:
            out[f"meta.{k}"] = int(net.meta[k])
    return out
