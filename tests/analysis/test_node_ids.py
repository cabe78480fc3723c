"""Node identity (issue #12): every public function takes and returns OSM node ids.

``nodes_gdf().index[k]`` must route from node ``k`` (it used to route from position ``id``,
another node); ids go through every public function and come back as the same ids. On the
Liechtenstein OSM extract (ids are OSM ids, nothing like positions) and on a GENERATED network
whose ids are relabelled. The oracle is scipy's Dijkstra on the CSR arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import fietsstad
from conftest import LIECHTENSTEIN_PBF
from fietsstad import hubs
from fietsstad.analysis import (
    NodePositions,
    accessibility,
    iter_travel_time_blocks,
    shortest_route,
    travel_time_matrix,
    two_step_fca,
)
from fietsstad.errors import FietsstadError, InputFileError, ValidationError
from fietsstad.network import BikeNetwork


@pytest.fixture(scope="module")
def liechtenstein():
    if not LIECHTENSTEIN_PBF.exists():
        pytest.skip(f"{LIECHTENSTEIN_PBF} not found")
    from fietsstad.network import osm

    net = osm.load_network(file=str(LIECHTENSTEIN_PBF))
    assert not net.is_generated
    return net


@pytest.fixture(scope="module")
def generated():
    g = fietsstad.generate_network(n_nodes=5_000, seed=1)  # GENERATED
    return dataclasses.replace(g, node_id=g.node_id * 13 + 5_000_000_000)


@pytest.fixture(params=["liechtenstein", "generated"])
def net(request):
    return request.getfixturevalue(request.param)


def _graph(net, transpose=False):
    """scipy CSR matrix of ``net`` in the engine's integer deciseconds, keeping the fastest of
    parallel edges (so every oracle value is a sum of ticks; seconds are ticks / 10)."""
    from scipy.sparse import csr_matrix

    indptr, indices, w = net.csr("travel_time_ticks")
    src = np.repeat(np.arange(net.n_nodes), np.diff(indptr))
    order = np.lexsort((w, indices, src))
    u, v, w = src[order], indices[order], w[order].astype(float)
    first = np.ones(len(u), bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    if transpose:
        u, v = v, u
    return csr_matrix((w, (u, v)), shape=(net.n_nodes, net.n_nodes))


def _ref_rows(net, rows):
    """Oracle: scipy Dijkstra from the given positions."""
    from scipy.sparse.csgraph import dijkstra

    return dijkstra(_graph(net), directed=True, indices=np.asarray(rows))


def test_ids_differ_from_positions(net):
    assert np.count_nonzero(net.node_id != np.arange(net.n_nodes)) > 0.9 * net.n_nodes
    assert net.nodes_gdf().index.name == "osmid"


def test_nodes_gdf_index_k_routes_from_node_k(net):
    """The issue's repro: nodes.index[k] must route from node k, not from position id."""
    k = min(3_000, net.n_nodes - 1)
    ids = net.nodes_gdf().index
    ref = _ref_rows(net, [k])[0]
    row = travel_time_matrix(net, [ids[k]], dtype="int32")[0]
    fin = np.isfinite(ref)
    np.testing.assert_array_equal(row[fin], (ref[fin] + 5) // 10)  # rounded half up, once
    dest = int(np.flatnonzero(np.isfinite(ref))[-1])
    r = shortest_route(net, ids[k], ids[dest])
    assert r["travel_time_s"] == (ref[dest] + 5) // 10  # whole seconds, rounded once
    assert r["nodes"][0] == ids[k] and r["nodes"][-1] == ids[dest]
    # an edge of edges_gdf() goes from u to v: the route's consecutive ids are such edges
    e = net.edges_gdf()
    pairs = set(zip(e["u"].tolist(), e["v"].tolist()))
    assert all(p in pairs for p in zip(r["nodes"][:-1].tolist(), r["nodes"][1:].tolist()))


def test_round_trip_ids_through_every_public_function(net):
    rng = np.random.default_rng(0)
    pos = np.sort(rng.choice(net.n_nodes, 6, replace=False))
    ids = net.node_id[pos]
    assert np.array_equal(net.positions(ids), pos) and isinstance(net.positions(ids), NodePositions)
    assert np.array_equal(net.node_ids(pos), ids)
    assert np.array_equal(net.nearest_nodes(net.x[pos], net.y[pos]), ids)
    ref = _ref_rows(net, pos)
    # matrix: labelled by ids, values from the oracle
    df = travel_time_matrix(net, ids, ids, labels=True, dtype="float32")
    assert df.index.tolist() == ids.tolist() and df.columns.tolist() == ids.tolist()
    np.testing.assert_array_equal(df.to_numpy(), (ref[:, pos] / 10).astype(np.float32))
    # blocks: the ids of their rows
    got = list(iter_travel_time_blocks(net, ids, ids, block_size=4, dtype="float32"))
    assert np.concatenate([i for i, _ in got]).tolist() == ids.tolist()
    np.testing.assert_array_equal(np.vstack([b for _, b in got]), df.to_numpy())
    # route: ids in, ids out
    r = shortest_route(net, ids[0], ids[1])
    assert r["travel_time_s"] == (ref[0, pos[1]] + 5) // 10
    assert r["nodes"][0] == ids[0]
    # accessibility: opportunities keyed by id, origins by id, result indexed by id
    opp = pd.Series(1.0, index=ids)
    acc = accessibility(net, opp, 900, cutoff_s=900, origins=ids)
    assert acc.index.tolist() == ids.tolist() and acc["position"].tolist() == pos.tolist()
    np.testing.assert_array_equal(acc.iloc[:, 1], (ref[:, pos] <= 9000).sum(axis=1))
    # 2SFCA: node_id columns back
    d = two_step_fca(net, (ids[:2], [5.0, 5.0]), (ids, np.ones(6)), 900)
    assert d["node_id"].tolist() == ids.tolist()
    # hubs: candidates placed by geometry, results carry the ids
    cands = hubs.hub_candidates(net.x[pos[:3]], net.y[pos[:3]])
    pl = hubs.place_hubs(net, cands, np.ones(net.n_nodes), k=1, cutoff_min=5)
    assert set(pl.candidates["node_id"]) == set(ids[:3].tolist())
    assert pl.hubs["node_id"].iloc[0] in set(ids[:3].tolist())
    sets = hubs.coverage_sets(net, cands, 5, ids)
    for j in range(3):
        assert set(sets[j]) == set(np.flatnonzero(_ref_rows_to(net, pos[j])[pos] <= 3000))


def _ref_rows_to(net, target):
    """Oracle: travel time from every node to ``target`` (scipy on the transposed graph)."""
    from scipy.sparse.csgraph import dijkstra

    return dijkstra(_graph(net, transpose=True), directed=True, indices=[target])[0]


def test_a_position_is_never_read_as_an_id_silently(net):
    bad = int(net.node_id.max()) + 1
    with pytest.raises(ValidationError, match=f"origins: 1 id.*first: {bad}"):
        travel_time_matrix(net, [bad])
    with pytest.raises(ValidationError, match="destination"):
        shortest_route(net, int(net.node_id[0]), bad)
    with pytest.raises(ValidationError, match="ids: 1 id"):
        net.positions([bad])
    with pytest.raises(ValidationError, match="positions"):
        net.node_ids([net.n_nodes])
    # marked positions are positions, whatever their values
    p = net.positions(net.node_id[[2, 5]])
    np.testing.assert_array_equal(
        travel_time_matrix(net, p), travel_time_matrix(net, net.node_id[[2, 5]])
    )


def test_load_of_a_missing_file_is_a_file_error(tmp_path):
    with pytest.raises(InputFileError, match="no such file") as ei:
        BikeNetwork.load(tmp_path / "missing.fsn")
    assert isinstance(ei.value, OSError) and isinstance(ei.value, FietsstadError)
