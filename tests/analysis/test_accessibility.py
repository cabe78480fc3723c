"""BikeNetwork-level accessibility and 2SFCA wrappers against numpy references.

The network's node ids are relabelled far from its positions (``7 * id + 10**9``), so a
function that read ids as positions (or the reverse) fails here instead of passing by luck.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import fietsstad
from fietsstad.analysis import accessibility, two_step_fca
from fietsstad.engine import Decay
from fietsstad.errors import ValidationError
from naive import accessibility_ref, scipy_times, two_step_fca_ref


def relabelled(net):
    """``net`` with OSM-like ids that differ from every position."""
    return dataclasses.replace(net, node_id=net.node_id * 7 + 10**9)


@pytest.fixture(scope="module")
def net():
    return relabelled(fietsstad.generate_network(n_nodes=500, seed=5))


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
        index=net.node_id[nodes],  # OSM node ids
    )
    decs = [Decay.cumulative(300), Decay.exponential(rate_per_s=0.15 / 60)]
    df = accessibility(net, opp, decs, cutoff_s=600)
    assert list(df.columns) == [
        "position",
        "jobs_cum300s",
        "jobs_exp0.0025persec",
        "shops_cum300s",
        "shops_exp0.0025persec",
    ]
    assert df.index.name == "node_id" and np.array_equal(df.index, net.node_id)
    assert df.attrs["generated"] is True
    dense = np.zeros((net.n_nodes, 2))
    dense[nodes] = opp[["jobs", "shops"]].to_numpy()
    ref = accessibility_ref(T, dense, decs, cutoff=600)
    np.testing.assert_allclose(df.iloc[:, 1:].to_numpy(), ref, rtol=1e-10)


def test_series_origins_and_callable_module(net, T):
    s = pd.Series(np.ones(net.n_nodes), index=net.node_id, name="people")
    ids = net.node_id[[3, 4]]
    df = fietsstad.accessibility(net, s, Decay.cumulative(240), 240, origins=ids)
    assert df["position"].tolist() == [3, 4] and df.index.tolist() == ids.tolist()
    np.testing.assert_array_equal(df["people_cum240s"], (T[[3, 4]] <= 240).sum(axis=1))
    # the old keyword works for one release, with a DeprecationWarning; positions only if told
    with pytest.warns(DeprecationWarning, match="sources= is renamed origins="):
        old = fietsstad.accessibility(net, s, Decay.cumulative(240), 240, sources=ids)
    pd.testing.assert_frame_equal(old, df)
    pos = fietsstad.accessibility(net, s, 240, 240, origins=[3, 4], positions=True)
    pd.testing.assert_frame_equal(pos, df)
    with pytest.raises(ValidationError, match="not node ids"):
        fietsstad.accessibility(net, s, 240, 240, origins=[3, 4])


def test_decay_given_as_a_number_and_in_seconds(net, T):
    ones = np.ones(net.n_nodes)
    a = accessibility(net, ones, 300, cutoff_s=300)
    b = accessibility(net, ones, [Decay.cumulative(300)], cutoff_s=300)
    pd.testing.assert_frame_equal(a, b)
    with pytest.warns(DeprecationWarning, match="half_life_s"):
        old = Decay.exponential(0.1)  # beta per minute, the old spelling
    new = Decay.exponential(rate_per_s=0.1 / 60)
    assert old.p1 == pytest.approx(new.p1, rel=1e-15)
    assert Decay.exponential(half_life_s=600).weight(600.0) == pytest.approx(0.5, rel=1e-12)
    with pytest.raises(ValidationError, match="exactly one"):
        Decay.exponential(half_life_s=600, rate_per_s=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new spellings warn about nothing
        accessibility(net, ones, [Decay.exponential(half_life_s=120)], cutoff_s=60)


def test_networkx_graph_gets_a_clear_error(net):
    G = net.to_networkx()
    with pytest.raises(ValidationError, match="expected a BikeNetwork.*load_network"):
        accessibility(G, np.ones(net.n_nodes))
    with pytest.raises(ValidationError, match="expected a BikeNetwork"):
        two_step_fca(G, ([1], [1.0]), ([1], [1.0]), 60)


def test_two_step_fca_tables(net, T):
    sup_pos = np.array([0, 100, 200])
    sup = (net.node_id[sup_pos], [30.0, 10.0, 5.0])
    dem_pos = np.arange(0, net.n_nodes, 2)
    dem = pd.DataFrame({"node_id": net.node_id[dem_pos], "population": np.full(len(dem_pos), 10.0)})
    for decay in (None, Decay.exponential(rate_per_s=0.1 / 60)):
        ddf, sdf = two_step_fca(net, sup, dem, 480, decay, return_supply=True)
        A, R = two_step_fca_ref(
            T, sup_pos, sup[1], dem_pos, dem["population"].to_numpy(), 480, decay
        )
        np.testing.assert_allclose(ddf["access"], A, rtol=1e-10)
        np.testing.assert_allclose(sdf["ratio"], R, rtol=1e-10, equal_nan=True)
        assert ddf.attrs["generated"] is True
        assert ddf["node_id"].tolist() == dem["node_id"].tolist()
        assert ddf["position"].tolist() == dem_pos.tolist()
        assert sdf["node_id"].tolist() == sup[0].tolist()
    # positions only when named; the ambiguous old 'node' column is refused
    by_pos = two_step_fca(
        net, sup, dem.assign(position=dem_pos).drop(columns="node_id"), 480, decay
    )
    np.testing.assert_allclose(by_pos["access"], ddf["access"], rtol=1e-12)
    with pytest.raises(ValidationError, match="ambiguous"):
        two_step_fca(net, sup, dem.rename(columns={"node_id": "node"}), 480)


def test_bad_input(net):
    with pytest.raises(ValidationError, match="opportunities index.*not node ids.*first: 5"):
        accessibility(net, pd.Series([1.0], index=[5]), Decay.cumulative(60))
    with pytest.raises(ValidationError, match=r"a number \(a cumulative cut-off"):
        accessibility(net, np.ones(net.n_nodes), "900")
    with pytest.raises(ValidationError):
        accessibility(net, np.ones(net.n_nodes), [])
    with pytest.raises(ValidationError):
        two_step_fca(net, "hubs", ([0], [1.0]), 60)
