"""BikeNetwork.to_file: GeoPackage, GraphML (exact round trip) and GeoParquet, written atomically."""

from __future__ import annotations

import sys

import geopandas as gpd
import numpy as np
import pytest

import fietsstad
from fietsstad.errors import FietsstadError, InputFileError, OutputError, ValidationError
from fietsstad.network.bikenetwork import _EDGE_FIELDS, BikeNetwork


@pytest.fixture(scope="module")
def generated():
    return fietsstad.generate_network(n_nodes=400, seed=2)


@pytest.fixture(scope="module")
def osm_test_pbf():
    pyrosm = pytest.importorskip("pyrosm")
    return fietsstad.load_network(file=pyrosm.get_data("test_pbf"))


def assert_same_network(a: BikeNetwork, b: BikeNetwork) -> None:
    for k in ("x", "y", "node_id", "indptr", "node_signal", *_EDGE_FIELDS):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype, k
        np.testing.assert_array_equal(x, y, err_msg=k)
    assert (a.geom_offsets is None) == (b.geom_offsets is None)
    if a.geom_offsets is not None:
        np.testing.assert_array_equal(a.geom_offsets, b.geom_offsets)
        np.testing.assert_array_equal(a.geom_xy, b.geom_xy)
    ca, oa = a.edge_coordinates()
    cb, ob = b.edge_coordinates()
    np.testing.assert_array_equal(ca, cb)
    np.testing.assert_array_equal(oa, ob)
    assert a.profile == b.profile and a.meta == b.meta and a.is_generated == b.is_generated


# ------------------------------------------------------------------------------ GeoPackage
def test_gpkg_has_nodes_and_edges_layers(generated, tmp_path):
    p = generated.to_file(tmp_path / "net.gpkg")
    nodes = gpd.read_file(p, layer="nodes")
    edges = gpd.read_file(p, layer="edges")
    assert len(nodes) == generated.n_nodes and len(edges) == generated.n_edges
    assert nodes.crs.to_epsg() == 4326 and edges.crs.to_epsg() == 4326
    np.testing.assert_allclose(edges["length"].to_numpy(), generated.length)
    np.testing.assert_array_equal(edges["travel_time"].to_numpy(), generated.travel_time)
    assert sorted(p.parent.iterdir()) == [p]  # no temporary left behind


# ------------------------------------------------------------------------------ GraphML
def test_graphml_round_trip_generated(generated, tmp_path):
    p = generated.to_file(tmp_path / "net.graphml")
    assert_same_network(generated, BikeNetwork.read_graphml(p))


def test_graphml_round_trip_osm_test_extract(osm_test_pbf, tmp_path):
    assert not osm_test_pbf.is_generated and osm_test_pbf.geom_offsets is not None
    p = osm_test_pbf.to_file(tmp_path / "test.graphml")
    assert_same_network(osm_test_pbf, BikeNetwork.read_graphml(p))


def test_graphml_is_an_osmnx_graph(generated, tmp_path):
    ox = pytest.importorskip("osmnx")
    G = ox.load_graphml(generated.to_file(tmp_path / "net.graphml"))
    assert G.number_of_nodes() == generated.n_nodes
    assert G.number_of_edges() == generated.n_edges
    assert G.graph["crs"] == "EPSG:4326"


def test_graphml_round_trip_through_load_network(generated, tmp_path):
    p = generated.to_file(tmp_path / "net.graphml")
    assert_same_network(generated, fietsstad.load_network(file=p))


def test_read_graphml_refuses_foreign_and_broken_files(generated, tmp_path):
    import networkx as nx

    foreign = tmp_path / "osmnx.graphml"
    nx.write_graphml(nx.MultiDiGraph(), foreign)
    with pytest.raises(InputFileError, match="not a GraphML file written by"):
        BikeNetwork.read_graphml(foreign)
    broken = tmp_path / "broken.graphml"
    broken.write_bytes(generated.to_file(tmp_path / "ok.graphml").read_bytes()[:500])
    with pytest.raises(InputFileError):
        BikeNetwork.read_graphml(broken)
    with pytest.raises(InputFileError):
        BikeNetwork.read_graphml(tmp_path / "missing.graphml")


# ------------------------------------------------------------------------------ GeoParquet
def test_parquet_edges(generated, tmp_path):
    pytest.importorskip("pyarrow")
    p = generated.to_file(tmp_path / "edges.parquet")
    edges = gpd.read_parquet(p)
    assert len(edges) == generated.n_edges and edges.crs.to_epsg() == 4326
    np.testing.assert_array_equal(edges["travel_time"].to_numpy(), generated.travel_time)


def test_parquet_without_pyarrow_names_the_extra(generated, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(FietsstadError, match=r"fietsstad\[io\]"):
        generated.to_file(tmp_path / "edges.parquet")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ errors, atomicity
@pytest.mark.parametrize("name", ["net.shp", "net", "net.geojson"])
def test_unknown_ending_lists_the_supported_ones(generated, tmp_path, name):
    with pytest.raises(ValidationError) as err:
        generated.to_file(tmp_path / name)
    for ending in (".gpkg", ".graphml", ".parquet"):
        assert ending in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_ending_is_case_insensitive(generated, tmp_path):
    p = generated.to_file(tmp_path / "NET.GPKG")
    assert len(gpd.read_file(p, layer="edges")) == generated.n_edges


@pytest.mark.parametrize("name", ["net.gpkg", "net.graphml"])
def test_failed_write_leaves_old_file_and_no_temporary(generated, tmp_path, monkeypatch, name):
    p = tmp_path / name
    p.write_bytes(b"old contents")

    def boom(self, *args, **kwargs):
        raise RuntimeError("interrupted half-way")

    # the GeoPackage fails after its nodes layer is written, the GraphML before saving
    monkeypatch.setattr(BikeNetwork, "edges_gdf", boom)
    monkeypatch.setattr(BikeNetwork, "_graphml_graph", boom)
    with pytest.raises(RuntimeError, match="half-way"):
        generated.to_file(p)
    assert p.read_bytes() == b"old contents"
    assert list(tmp_path.iterdir()) == [p]


def test_folder_in_the_way_is_an_output_error(generated, tmp_path):
    (tmp_path / "net.gpkg").mkdir()
    with pytest.raises(OutputError, match="folder"):
        generated.to_file(tmp_path / "net.gpkg")


def test_overwrites_an_existing_file(generated, tmp_path):
    p = generated.to_file(tmp_path / "net.graphml")
    small = fietsstad.generate_network(n_nodes=100, seed=0)
    small.to_file(p)
    assert BikeNetwork.read_graphml(p).n_nodes == small.n_nodes
    assert list(tmp_path.iterdir()) == [p]
