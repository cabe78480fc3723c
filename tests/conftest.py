"""Shared test fixtures: where ../shared lives, and a small hand-built network.

Hypothesis: with the environment variable ``CI`` set (CI runs ``.ci/run`` with ``CI=true``) the
``ci`` profile is loaded: examples come from a fixed seed (``derandomize=True``, the same
examples on every run and machine), no example database is read or written, and no timing
(deadline, too-slow health check) can fail a test. Example counts are those of each test.
Elsewhere Hypothesis keeps its defaults (random examples, local database); run
``CI=1 python -m pytest ...`` to reproduce a CI run exactly.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
#: the small OSM fixtures of the test suite
FIXTURES_OSM = Path(__file__).resolve().parent / "fixtures" / "osm"
SHARED = (REPO / ".." / "shared").resolve()
LIECHTENSTEIN_PBF = SHARED / "data" / "osm" / "liechtenstein-latest.osm.pbf"

try:
    from hypothesis import HealthCheck
    from hypothesis import settings as hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass
else:
    hypothesis_settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    )
    if os.environ.get("CI"):
        hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` folder (skips when absent)."""
    if not SHARED.exists():
        pytest.skip(f"../shared not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def liechtenstein_pbf() -> Path:
    """The real Liechtenstein OSM extract from ../shared (skips when absent)."""
    if not LIECHTENSTEIN_PBF.exists():
        pytest.skip(f"{LIECHTENSTEIN_PBF} not found")
    return LIECHTENSTEIN_PBF


@pytest.fixture(scope="session")
def liechtenstein_net(liechtenstein_pbf, tmp_path_factory):
    """The BikeNetwork of the real Liechtenstein extract, loaded once per session, quietly and
    with its caches in a temporary folder. Shared by many tests: read it, never change it."""
    from fietsstad import settings
    from fietsstad.network.osm import load_network

    old = settings.progress, settings.cache_dir
    settings.progress, settings.cache_dir = False, tmp_path_factory.mktemp("li-cache")
    try:
        return load_network(file=liechtenstein_pbf)
    finally:
        settings.progress, settings.cache_dir = old


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes fietsstad caches to its own temporary folder, never to ~/.cache."""
    from fietsstad import settings

    monkeypatch.setattr(settings, "cache_dir", tmp_path_factory.mktemp("fietsstad-cache"))
    monkeypatch.setattr(settings, "progress", False)


def square_network(profile="bike"):
    """A 4-node hand-built network: a square 0-1-2-3 with one one-way edge and one signal.

    Edges (both directions unless noted): 0-1 cycle path 100 m, 1-2 mixed 200 m,
    2-3 main road 300 m, 3->0 one-way 400 m (mixed); node 2 has a signal (delay on edges into 2).
    """
    from fietsstad.network import BikeNetwork

    x = np.array([6.0, 6.001, 6.001, 6.0])
    y = np.array([52.5, 52.5, 52.501, 52.501])
    u = np.array([0, 1, 1, 2, 2, 3, 3])
    v = np.array([1, 0, 2, 1, 3, 2, 0])
    length = np.array([100, 100, 200, 200, 300, 300, 400], dtype=float)
    infra = np.array([0, 0, 3, 3, 4, 4, 3])
    delay = np.array([0, 0, 20, 0, 0, 20, 0])
    return BikeNetwork.from_edges(
        x=x, y=y, node_id=np.array([10, 11, 12, 13]), u=u, v=v, length=length, infra=infra,
        delay=delay, node_signal=np.array([False, False, True, False]),
        name=np.array(["a", "a", "b", "b", "c", "c", "d"], dtype=object), profile=profile,
        meta={"source": "test", "generated": True, "description": "hand-built test square"},
    )


def grid_network(
    nx_: int = 8,
    ny: int = 6,
    seed: int = 0,
    oneway_share: float = 0.2,
    names: list[str] | None = None,
) -> Any:
    """A street grid near Zwolle with random lengths and some one-way streets (asymmetric times)."""
    from fietsstad.network import BikeNetwork

    rng = np.random.default_rng(seed)
    lon0, lat0, step = 6.06, 52.49, 0.004
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny), indexing="ij")
    x = (lon0 + step * ii + rng.uniform(-0.0008, 0.0008, ii.shape)).ravel()
    y = (lat0 + step * 0.6 * jj + rng.uniform(-0.0005, 0.0005, jj.shape)).ravel()
    pos = np.arange(nx_ * ny).reshape(nx_, ny)
    u, v = [], []
    for a, b in itertools.chain(
        zip(pos[:-1].ravel(), pos[1:].ravel()), zip(pos[:, :-1].ravel(), pos[:, 1:].ravel())
    ):
        r = rng.uniform()
        if r < oneway_share / 2:
            u.append(a)
            v.append(b)  # noqa: E702
        elif r < oneway_share:
            u.append(b)
            v.append(a)  # noqa: E702
        else:
            u += [a, b]
            v += [b, a]  # noqa: E702
    u, v = np.array(u), np.array(v)
    length = rng.uniform(150, 450, len(u))
    infra = rng.integers(0, 6, len(u))
    name = None
    if names is not None:
        name = np.array([names[i % len(names)] for i in range(len(u))], dtype=object)
    return BikeNetwork.from_edges(
        x=x,
        y=y,
        node_id=np.arange(len(x)) + 1000,
        u=u,
        v=v,
        length=length,
        infra=infra,
        name=name,
        meta={"source": "generated", "generated": True, "description": "test grid"},
    )
