"""BikeNetwork-level accessibility and 2SFCA wrappers against numpy references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fietsstad
from fietsstad.analysis import accessibility, two_step_fca
from fietsstad.engine import Decay
from fietsstad.errors import ValidationError
from naive import accessibility_ref, scipy_times, two_step_fca_ref


@pytest.fixture(scope="module")
def net():
    return fietsstad.generate_network(n_nodes=500, seed=5)


@pytest.fixture(scope="module")
def T(net):
    return scipy_times(*net.csr("travel_time_ticks")) / 10  # exact seconds (0.1 s edges)


def test_dataframe_with_several_columns_and_decays(net, T):
    rng = np.random.default_rng(0)
    nodes = rng.choice(net.n_nodes, 60, replace=False)
    opp = pd.DataFrame(
        {
            "jobs": rng.integers(1, 100, 60).astype(float),
            "shops": rng.integers(0, 5, 60).astype(float),
            "label": ["x"] * 60,
        },
        index=nodes,
    )
    decs = [Decay.cumulative(300), Decay.exponential(0.15)]
    df = accessibility(net, opp, decs, cutoff_s=600)
    assert list(df.columns) == [
        "node",
        "jobs_cum300s",
        "jobs_exp0.15permin",
        "shops_cum300s",
        "shops_exp0.15permin",
    ]
    assert df.index.name == "node_id" and np.array_equal(df.index, net.node_id)
    assert df.attrs["generated"] is True
    dense = np.zeros((net.n_nodes, 2))
    dense[nodes] = opp[["jobs", "shops"]].to_numpy()
    ref = accessibility_ref(T, dense, decs, cutoff=600)
    np.testing.assert_allclose(df.iloc[:, 1:].to_numpy(), ref, rtol=1e-10)


def test_series_sources_and_callable_module(net, T):
    s = pd.Series(np.ones(net.n_nodes), name="people")
    df = fietsstad.accessibility(net, s, Decay.cumulative(240), 240, sources=[3, 4])
    assert df["node"].tolist() == [3, 4]
    np.testing.assert_array_equal(df["people_cum240s"], (T[[3, 4]] <= 240).sum(axis=1))


def test_two_step_fca_tables(net, T):
    sup = ([0, 100, 200], [30.0, 10.0, 5.0])
    dem = pd.DataFrame(
        {
            "node": np.arange(0, net.n_nodes, 2),
            "population": np.full(len(range(0, net.n_nodes, 2)), 10.0),
        }
    )
    for decay in (None, Decay.exponential(0.1)):
        ddf, sdf = two_step_fca(net, sup, dem, 480, decay, return_supply=True)
        A, R = two_step_fca_ref(
            T,
            np.array(sup[0]),
            sup[1],
            dem["node"].to_numpy(),
            dem["population"].to_numpy(),
            480,
            decay,
        )
        np.testing.assert_allclose(ddf["access"], A, rtol=1e-10)
        np.testing.assert_allclose(sdf["ratio"], R, rtol=1e-10, equal_nan=True)
        assert ddf.attrs["generated"] is True


def test_bad_input(net):
    with pytest.raises(ValidationError, match="node position"):
        accessibility(net, pd.Series([1.0], index=[net.n_nodes + 5]), Decay.cumulative(60))
    with pytest.raises(ValidationError):
        accessibility(net, np.ones(net.n_nodes), [])
    with pytest.raises(ValidationError):
        two_step_fca(net, "hubs", ([0], [1.0]), 60)
