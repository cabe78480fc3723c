"""Helpers shared by the robustness tests: hostile strings, network invariants, guarded runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SRC = REPO / "src" / "fietsstad"
CORPUS = HERE / "corpus"
OSM_FIXTURES = REPO / "tests" / "fixtures" / "osm"

#: Strings that would run, break out of attributes, or inject markup if they reached HTML raw.
#: Each carries a marker ``xss-N`` so a test can check it was drawn (in escaped form).
HOSTILE_STRINGS: tuple[str, ...] = (
    "<script>alert('xss-1')</script>",
    '"><img src=x onerror=alert("xss-2")>',
    "</script><script>alert('xss-3')</script>",
    "<svg/onload=alert('xss-4')>",
    "javascript:alert('xss-5')",
    "' onmouseover='alert(\"xss-6\")",
    "<iframe src=\"javascript:alert('xss-7')\"></iframe>",
    "`);alert('xss-8');(`${alert('xss-8b')}",
    "Stra\u00dfe \u202e<b>xss-9</b> \U0001f6b2",
)

#: Fragments that must never appear in written HTML: each would be live markup or live JS.
RAW_MARKERS: tuple[str, ...] = (
    "alert('xss",
    'alert("xss',
    "<script>alert",
    "<img src=x",
    "<svg/onload",
    "<iframe src=",
    "<b>xss-9</b>",
    "onmouseover='",
)


def assert_html_escaped(text: str, min_markers: int = 1) -> None:
    """No hostile payload is live in ``text``; at least ``min_markers`` were drawn (escaped)."""
    from html.parser import HTMLParser

    for raw in RAW_MARKERS:
        assert raw not in text, f"raw hostile fragment {raw!r} in the HTML"

    class _Tags(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.bad: list[str] = []

        def handle_starttag(self, tag, attrs):
            for k, v in attrs:
                if k.startswith("on") and v and "xss" in v:
                    self.bad.append(f"<{tag} {k}=...>")
                if k in ("src", "href") and v and "xss" in v:
                    self.bad.append(f"<{tag} {k}=...>")
            if tag in ("img", "svg", "iframe", "b") and any("xss" in (v or "") for _, v in attrs):
                self.bad.append(f"<{tag}>")

    parser = _Tags()
    parser.feed(text)
    assert not parser.bad, parser.bad
    drawn = sum(f"xss-{i}" in text for i in range(1, 10))
    assert drawn >= min_markers, f"only {drawn} payloads reached the page: were they dropped?"


def assert_valid_network(net) -> None:
    """The invariants every BikeNetwork must satisfy (CSR, dtypes, costs, one SCC, coordinates)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n, m = net.n_nodes, net.n_edges
    assert n >= 1
    assert net.indptr.dtype == np.int32 and net.indices.dtype == np.int32
    assert len(net.indptr) == n + 1 and net.indptr[0] == 0 and int(net.indptr[-1]) == m
    assert np.all(np.diff(net.indptr) >= 0)
    if m:
        assert net.indices.min() >= 0 and net.indices.max() < n
    for k in (
        "length",
        "speed_kmh",
        "delay",
        "travel_time",
        "infra",
        "unpaved",
        "contraflow",
        "way_id",
        "name",
    ):
        assert len(getattr(net, k)) == m, k
    for k in ("x", "y", "node_id", "node_signal"):
        assert len(getattr(net, k)) == n, k
    assert net.travel_time.dtype == np.float64  # seconds to 0.1 s (issue #12)
    assert np.all(net.travel_time >= 0.1)
    assert np.all(np.isfinite(net.length)) and np.all(net.length >= 0)
    assert np.all(np.isfinite(net.speed_kmh)) and np.all(net.speed_kmh > 0)
    assert np.all(np.isfinite(net.x)) and np.all(np.isfinite(net.y))
    assert np.all(np.abs(net.x) <= 180) and np.all(np.abs(net.y) <= 90)
    if n > 1:
        A = csr_matrix((np.ones(m, dtype=np.int8), net.indices, net.indptr), shape=(n, n))
        ncomp, _ = connected_components(A, directed=True, connection="strong")
        assert ncomp == 1, f"{ncomp} strongly connected components"


def run_guarded(
    args: list[str],
    timeout_s: float = 120.0,
    env: dict | None = None,
    cwd: str | os.PathLike | None = None,
) -> subprocess.CompletedProcess:
    """Run a Python subprocess under a hang guard (a hang fails the test; no timing assertion)."""
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONHASHSEED", "0")
    if env:
        full_env.update(env)
    try:
        return subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=full_env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as err:  # pragma: no cover - only on a hang
        raise AssertionError(f"subprocess hung (> {timeout_s} s): {args}") from err


def ring_network(names=None, n: int = 6, meta: dict | None = None):
    """A hand-built bidirectional ring of ``n`` nodes near Zwolle; edge ``i`` is named ``names[i]``."""
    from fietsstad.network import BikeNetwork

    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = 6.09 + 0.005 * np.cos(ang)
    y = 52.51 + 0.003 * np.sin(ang)
    u = np.concatenate([np.arange(n), (np.arange(n) + 1) % n])
    v = np.concatenate([(np.arange(n) + 1) % n, np.arange(n)])
    if names is None:
        names = [f"street {i}" for i in range(len(u))]
    names = np.array([names[i % len(names)] for i in range(len(u))], dtype=object)
    return BikeNetwork.from_edges(
        x=x,
        y=y,
        node_id=np.arange(100, 100 + n),
        u=u,
        v=v,
        length=np.full(len(u), 300.0),
        infra=np.zeros(len(u), dtype=np.int8),
        name=names,
        meta=meta or {"source": "generated", "generated": True, "description": "test ring"},
    )


class HangError(AssertionError):
    """Raised by :func:`hang_guard` when a call runs far longer than it ever should."""


class hang_guard:  # noqa: N801 - used as a context manager, reads like a function
    """Fail (not time) a call that hangs: SIGALRM after ``seconds`` raises HangError.

    This is a hang detector with a generous limit, not a timing assertion.
    """

    def __init__(self, seconds: float = 60.0):
        self.seconds = seconds

    def __enter__(self):
        import signal

        def _fire(signum, frame):
            raise HangError(f"call did not finish within {self.seconds} s (hang)")

        self._old = signal.signal(signal.SIGALRM, _fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._old)
        return False
