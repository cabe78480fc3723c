"""The demo's first run: the numba warm-up child, the commuters' compact costs, the timings line.

A fresh install compiles every kernel the demo touches in its first run; a child process warms
numba's on-disk cache with the kernels the demo needs last (:func:`fietsstad.demo._start_warmup`).
These tests check that the child compiles exactly the specializations the demo uses, that a
child that fails or hangs changes nothing of the demo, and that the demo's closing line reports
its stages, total and numba's share. No timed assertions.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from fietsstad import demo as demo_mod
from fietsstad.demand import assignment as assignment_mod
from fietsstad.demand import gravity_distribution
from fietsstad.engine.config import UNREACHABLE_I32, UNREACHABLE_U16
from fietsstad.network import generate_region_network


def _signatures() -> dict[str, set]:
    """Compiled specializations of every numba kernel of the assignment module (the warm-up's)."""
    from numba.core.dispatcher import Dispatcher

    kernels = {k: v for k, v in vars(assignment_mod).items() if isinstance(v, Dispatcher)}
    return {name: set(kernel.signatures) for name, kernel in kernels.items()}


@pytest.fixture(scope="module")
def region_net():
    return generate_region_network(2000, seed=1)


def _demo(out, net, said):
    return demo_mod.run_demo(out, net=net, k=2, echo=said.append)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, region_net):
    """The demo's files on ``region_net`` with no warm-up child (kernels in this process)."""
    said: list[str] = []
    return _demo(tmp_path_factory.mktemp("ref") / "d", region_net, said)


def test_the_warmup_compiles_the_specializations_the_demo_uses(tmp_path, region_net):
    demo_mod._warm_demo_kernels()  # in this process: what the child would put in the cache
    warmed = _signatures()
    assert warmed["_assign_kernel"]  # (its callees are compiled too, unless it came from the cache)
    said: list[str] = []
    paths = _demo(tmp_path / "d", region_net, said)
    # the demo found every specialization it needed among the warmed ones (none compiled anew),
    # and compiles no other specialization of these kernels (the child's cache entries are the
    # only ones of their functions: no two processes add different entries to one cache index)
    assert _signatures() == warmed
    report = paths["report.md"].read_text()
    assert report.startswith("# fietsstad demo: Regio Zwolle") and "GENERATED" in report
    assert "## Zones: the region" in report and "## Commuters to Zwolle" in report


def test_the_timings_line_names_every_stage_the_total_and_numba(tmp_path, region_net):
    said: list[str] = []
    _demo(tmp_path / "d", region_net, said)
    line = next(s for s in said if s.startswith("Timings (s):"))
    for stage in ("network", "snelfietspad", "commuters", "hubs", "maps", "report"):
        assert re.search(rf"\b{stage} \d+\.\d\b", line), (stage, line)
    assert re.search(r"total \d+\.\d", line)
    assert re.search(r"numba compile / cache load \d+\.\d: ", line)
    # the kernels are in this process already: no warm-up child is started
    assert not demo_mod._warmup_helps()
    assert demo_mod._start_warmup() is None


def test_a_warm_numba_cache_needs_no_warmup_child(monkeypatch):
    from numba.core import caching

    kernel = assignment_mod._assign_kernel
    magic = kernel.targetctx.codegen().magic_tuple()
    index = {("sig", magic): "x.1.nbc"}
    monkeypatch.setattr(caching.IndexDataCacheFile, "_load_index", lambda self: index)
    assert demo_mod._in_numba_cache(kernel)
    index.clear()  # an empty (or stale) cache
    assert not demo_mod._in_numba_cache(kernel)
    index[("sig", ("another", "cpu"))] = "x.1.nbc"  # a cache written on another machine
    assert not demo_mod._in_numba_cache(kernel)
    assert not demo_mod._in_numba_cache(object())  # no numba cache at all


@pytest.mark.parametrize(
    "code",
    [
        "import sys; sys.exit(3)",
        "raise RuntimeError('warm-up broken')",
        "import time; time.sleep(600)",
    ],
    ids=["exits", "raises", "hangs"],
)
def test_a_failing_or_hanging_warmup_child_changes_nothing(
    tmp_path, region_net, reference, monkeypatch, code
):
    said: list[str] = []
    children: list[subprocess.Popen] = []
    start = demo_mod._start_warmup

    def started():
        proc = start()
        children.append(proc)
        return proc

    monkeypatch.setattr(demo_mod, "_warmup_helps", lambda: True)
    monkeypatch.setattr(demo_mod, "_WARM_CODE", code)
    monkeypatch.setattr(demo_mod, "_start_warmup", started)
    paths = _demo(tmp_path / "d", region_net, said)
    assert len(children) == 1 and children[0] is not None
    assert children[0].poll() is not None  # ended (or ended by the demo), never left running
    for name in ("report.md", "snelfietspad.html", "hubs.html"):
        assert paths[name].read_bytes() == reference[name].read_bytes(), name


def test_the_warmup_child_imports_this_fietsstad(monkeypatch):
    import fietsstad

    here = fietsstad.__file__
    monkeypatch.setattr(demo_mod, "_warmup_helps", lambda: True)
    monkeypatch.setattr(
        demo_mod, "_WARM_CODE", f"import sys, fietsstad; sys.exit(fietsstad.__file__ != {here!r})"
    )
    proc = demo_mod._start_warmup()
    assert proc is not None
    try:
        assert proc.wait(timeout=300) == 0
    finally:
        demo_mod._stop_warmup(proc)


def test_no_warmup_child_without_a_python(monkeypatch):
    monkeypatch.setattr(demo_mod, "_warmup_helps", lambda: True)
    monkeypatch.setattr(demo_mod.sys, "executable", "")
    assert demo_mod._start_warmup() is None
    monkeypatch.setattr(demo_mod.sys, "executable", "/nonexistent/python")
    assert demo_mod._start_warmup() is None  # the OSError is the demo's business, not the user's
    demo_mod._stop_warmup(None)


def test_compact_cost_keeps_every_time_and_the_unreachable_pairs():
    c = np.array([[0, 300, UNREACHABLE_I32], [65534, 0, 7]], dtype=np.int32)
    u = demo_mod._compact_cost(c)
    assert u.dtype == np.uint16
    assert u.tolist() == [[0, 300, UNREACHABLE_U16], [65534, 0, 7]]
    far = c.copy()
    far[0, 1] = 65535  # a finite time that uint16 cannot hold: the int32 matrix stays
    assert demo_mod._compact_cost(far) is far


def test_gravity_gives_the_same_trips_on_the_compact_costs():
    # the oracle: the int32 matrix the commuters used before, balanced by the same model
    rng = np.random.default_rng(3)
    c = rng.integers(0, 9000, size=(9, 9)).astype(np.int32)
    c[2, 5] = c[6, 1] = UNREACHABLE_I32
    P, A = rng.uniform(10, 500, 9), rng.uniform(10, 500, 9)
    u = demo_mod._compact_cost(c)
    a = gravity_distribution(P, A, c, max_iter=20_000, normalise=True)
    b = gravity_distribution(P, A, u, max_iter=20_000, normalise=True)
    assert np.array_equal(a.trips(c), b.trips(u))  # bit for bit: same table entries, same passes


def test_numba_clock_counts_a_compile():
    import numba

    @numba.njit(cache=False)
    def plus_one(x):
        return x + 1

    with demo_mod._NumbaClock() as clock:
        assert plus_one(1) == 2
    assert clock.compiled >= 1 and clock.seconds > 0.0
    seconds = clock.seconds
    assert plus_one(2) == 3  # outside the clock: not counted
    assert clock.seconds == seconds
