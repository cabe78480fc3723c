"""Bad input to the Dask backend (fietsstad.distributed): clear FietsstadErrors, nothing gathered
that would not fit. Uses an in-process LocalCluster (loopback only, one worker thread)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from fietsstad import GraphError, MemoryBudgetError, ValidationError

d = importlib.import_module("fietsstad.distributed")
distributed = importlib.import_module("dask.distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def net():
    from fietsstad.network import generate_network

    return generate_network(500, seed=1)


def test_client_must_be_a_client(net):
    with pytest.raises(ValidationError, match="dask.distributed.Client"):
        d.travel_time_matrix_dask("tcp://127.0.0.1:1", net)
    with pytest.raises(ValidationError, match="Client"):
        d.accessibility_dask(None, net, np.ones(net.n_nodes))


def test_distributed_bad_input(client, net, tmp_path):
    n = net.n_nodes
    with pytest.raises(ValidationError, match="store="):
        d.travel_time_matrix_dask(client, net)  # neither a store nor gather: refuse, name both
    with pytest.raises(GraphError, match="origins"):
        d.travel_time_matrix_dask(client, net, [int(net.node_id.max()) + 3], gather=True)
    with pytest.raises(GraphError, match="cutoff"):
        d.travel_time_matrix_dask(client, net, [0], cutoff_s=float("nan"), gather=True)
    with pytest.raises(GraphError, match=">= 0"):
        d.accessibility_dask(client, net, -np.ones(n))
    existing = tmp_path / "exists.txt"
    existing.write_text("keep me")
    with pytest.raises(ValidationError, match="overwrite"):
        d.travel_time_matrix_dask(client, net, [0], store=str(existing))
    assert existing.read_text() == "keep me"


def test_distributed_gather_beyond_memory_is_refused(client, net):
    ids = np.zeros(10**6, dtype=np.int32)
    with pytest.raises(MemoryBudgetError, match="store="):
        d.travel_time_matrix_dask(client, net, ids, ids, gather=True)


def test_distributed_net_must_be_a_network(client):
    with pytest.raises(ValidationError, match="BikeNetwork"):
        d.accessibility_dask(client, "net", np.ones(3))
