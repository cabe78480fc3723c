"""Interrupting long CLI runs (Ctrl-C = SIGINT, SIGTERM) and bad CLI arguments.

A run interrupted mid-way must exit non-zero with a message on stderr and leave no output that
looks complete: no final file, or only a staging/temp file that a loader rejects.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _robust import run_guarded

from fietsstad.cli import build_parser

#: 130 from fietsstad.cli; -SIGINT when CPython re-raises the interrupt on exit (it does so when
#: the KeyboardInterrupt passed through an exec'd frame, then shells show 130 as well)
INTERRUPTED_CODES = (130, -signal.SIGINT)


def _has_command(name: str) -> bool:
    try:
        build_parser().parse_args([name, "--help"])
    except SystemExit as e:  # --help exits 0 when the command exists, 2 when it does not
        return e.code == 0
    return True


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", FIETSSTAD_CACHE_DIR=str(cwd / "cache"))
    return subprocess.Popen(
        [sys.executable, "-m", "fietsstad.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    """In the child, before exec: SIGINT back to its default, so Ctrl-C reaches the CLI.

    A process started in the background by a non-interactive shell (``cmd &``, as some CI
    harnesses do) inherits SIGINT *ignored*; Python then installs no KeyboardInterrupt handler and
    the CLI (rightly) leaves an ignored SIGINT alone, so the signal these tests send would never
    arrive. A user's Ctrl-C comes from an interactive terminal, where SIGINT is not ignored.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(pred, proc: subprocess.Popen, limit_s: float = 120.0) -> bool:
    """Poll until ``pred()`` (True) or the process ends (False); a hang guard, not a timing test."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        if proc.poll() is not None:
            return False
        if pred():
            return True
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run never reached the point where it should be interrupted")


#: Runs ``fietsstad.cli.main(argv)`` after making one function pause at a chosen point: it writes
#: the READY file, then sleeps until the test's signal arrives. So the signal lands at that point
#: on every machine and every run, whatever the speed: the test does not depend on timing.
_PAUSE_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    point, ready, out, *argv = sys.argv[1:]

    def pause():
        Path(ready).write_text(point)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(0.02)
        raise SystemExit(f"never signalled at {point}")

    def once(fn, swallow=None):
        state = []

        def wrapper(*a, **k):
            if not state:
                state.append(1)
                try:
                    pause()
                except KeyboardInterrupt:
                    if swallow is None:
                        raise
                    if swallow == "as-runtime-error":  # what numba's compiler did in CI
                        raise RuntimeError("no compiled object yet (simulated)") from None
                    # "entirely": the library carries on as if nothing happened
            return fn(*a, **k)

        return wrapper

    if point.startswith("compiling"):
        from numba.core import codegen, typed_passes

        if point == "compiling-object-code":
            # LLVM calls this hook through ctypes, which swallows a KeyboardInterrupt raised in
            # it; numba then fails later with "no compiled object yet" (the CI failure)
            hook = codegen.CPUCodeLibrary._object_compiled_hook.__func__
            codegen.CPUCodeLibrary._object_compiled_hook = classmethod(once(hook))
        else:
            swallow = "as-runtime-error" if point == "compiling-swallowed" else None
            cls = typed_passes.NopythonTypeInference
            cls.run_pass = once(cls.run_pass, swallow)
    elif point == "generating":
        import fietsstad.network.generate as g

        g.generate_network = once(g.generate_network)
    elif point == "hubs-swallowed":
        import fietsstad.hubs as h

        h.place_hubs = once(h.place_hubs, swallow="entirely")
    elif point == "maps":
        import fietsstad.maps as m

        m.hubs_map = once(m.hubs_map)
    elif point == "publishing":
        real_replace, first = os.replace, once(lambda: None)

        def replace(src, dst, **kw):
            if Path(dst).parent == Path(out):
                first()
            return real_replace(src, dst, **kw)

        os.replace = replace
    else:
        raise SystemExit(f"unknown point {point}")

    from fietsstad.cli import main

    sys.exit(main(argv))
    """
)

#: (point, needs a fresh numba cache so that kernels really compile)
_POINTS = {
    "generating": False,
    "compiling-types": True,
    "compiling-object-code": True,
    "compiling-swallowed": True,
    "hubs-swallowed": False,
    "maps": False,
    "publishing": False,
}
_CASES = [(signal.SIGINT, p) for p in _POINTS] + [
    (signal.SIGTERM, "compiling-object-code"),
    (signal.SIGTERM, "publishing"),
]


def _start_paused(point: str, args: list[str], cwd: Path, out: Path) -> subprocess.Popen:
    script = cwd / "paused_cli.py"
    script.write_text(_PAUSE_SCRIPT)
    env = dict(os.environ, PYTHONUNBUFFERED="1", FIETSSTAD_CACHE_DIR=str(cwd / "cache"))
    if _POINTS.get(point):
        env["NUMBA_CACHE_DIR"] = str(cwd / "numba-cache")  # empty: every kernel compiles
    return subprocess.Popen(
        [sys.executable, str(script), point, str(cwd / "READY"), str(out), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def _interrupt_at(point: str, sig: int, args: list[str], tmp_path: Path, out: Path):
    proc = _start_paused(point, args, tmp_path, out)
    reached = _wait_for(lambda: (tmp_path / "READY").exists(), proc, limit_s=600)
    assert reached, f"the run never reached {point}: {proc.communicate()}"
    proc.send_signal(sig)
    try:
        stdout, stderr = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:  # pragma: no cover - only on a hang
        proc.kill()
        raise AssertionError(f"demo did not stop after {sig!r} at {point}") from None
    return proc, stderr


@pytest.mark.skipif(not _has_command("demo"), reason="fietsstad demo not available yet")
@pytest.mark.parametrize(
    "sig, point", _CASES, ids=[f"{signal.Signals(s).name}-{p}" for s, p in _CASES]
)
def test_demo_interrupted_leaves_no_complete_output(tmp_path, sig, point):
    """Interrupted at a fixed point (numba compilation included, and where a library swallows
    the KeyboardInterrupt or turns it into another exception): exit 130, "interrupted" on
    stderr, no output that looks complete, no staging folder."""
    out = tmp_path / "demo-out"
    args = ["demo", "--out", str(out), "--network", "generated", "--area", "zwolle", "--nodes", "1200", "--hubs", "2"]
    proc, stderr = _interrupt_at(point, sig, args, tmp_path, out)
    assert proc.returncode in INTERRUPTED_CODES, (proc.returncode, stderr[-3000:])
    assert "interrupted" in stderr
    if point != "compiling-object-code":  # there ctypes prints the swallowed interrupt itself
        assert "Traceback" not in stderr, stderr[-3000:]
    # nothing that looks complete: no manifest, no final files; the staging folder was removed
    assert not (out / "manifest.json").exists()
    for name in ("snelfietspad.html", "hubs.html", "report.md"):
        assert not (out / name).exists(), name
    assert not list(tmp_path.glob(".demo-out.partial-*"))


@pytest.mark.skipif(not _has_command("demo"), reason="fietsstad demo not available yet")
def test_interrupted_rerun_keeps_previous_complete_output(tmp_path):
    """A finished demo, then a second run into the same folder interrupted mid-way: the folder
    still holds the first run's files, and its manifest's checksums match them."""
    import hashlib
    import json

    out = tmp_path / "demo-out"
    env = {"FIETSSTAD_CACHE_DIR": str(tmp_path / "cache")}
    first = run_guarded(
        [
            "-m",
            "fietsstad.cli",
            "demo",
            "--out",
            str(out),
            "--network",
            "generated",
            "--area",
            "zwolle",
            "--nodes",
            "1200",
            "--hubs",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        timeout_s=300,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["demo", "--out", str(out), "--network", "generated", "--area", "zwolle", "--nodes", "1500", "--hubs", "2"]
    proc, stderr = _interrupt_at("maps", signal.SIGINT, args, tmp_path, out)
    assert proc.returncode in INTERRUPTED_CODES and "interrupted" in stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    manifest = json.loads(after["manifest.json"])
    assert manifest["complete"] is True
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(after[name]).hexdigest() == entry["sha256"], name


@pytest.mark.skipif(not _has_command("network"), reason="fietsstad network not available yet")
@pytest.mark.parametrize(
    "sig, when",
    [(signal.SIGINT, "generating"), (signal.SIGINT, "saving"), (signal.SIGTERM, "saving")],
    ids=["SIGINT-generating", "SIGINT-saving", "SIGTERM-saving"],
)
def test_network_save_interrupted_leaves_nothing_loadable(tmp_path, sig, when):
    """``fietsstad network --generated 1000000 --save PATH`` (about 10 s here) interrupted while
    generating, or while the atomic save is writing its temporary file."""
    from fietsstad import CacheError
    from fietsstad.network import BikeNetwork

    target = tmp_path / "big.fsn"
    # 3M nodes take about 15 s to generate on a quiet machine, so 3 s in is surely mid-generation
    size = "3000000" if when == "generating" else "1000000"
    proc = _start(["network", "--generated", size, "--seed", "1", "--save", str(target)], tmp_path)
    if when == "generating":
        time.sleep(3.0)  # imports take about 1.5 s
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
    else:
        saving = _wait_for(lambda: any(tmp_path.glob(".big.fsn.*")), proc, limit_s=300)
        assert saving, f"finished before its save could be interrupted: {proc.communicate()}"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode in INTERRUPTED_CODES, (proc.returncode, stderr[-2000:])
    assert "interrupted" in stderr
    if target.exists():  # only if the rename happened just before the signal: then it is whole
        BikeNetwork.load(target)
    for tmp in tmp_path.glob(".big.fsn.*"):
        with pytest.raises(CacheError):
            BikeNetwork.load(tmp)


def test_cli_bad_arguments_exit_nonzero_with_message(tmp_path):
    r = run_guarded(["-m", "fietsstad.cli", "nosuchcommand"], cwd=tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr
    if _has_command("demo"):
        r = run_guarded(["-m", "fietsstad.cli", "demo", "--nodes", "many"], cwd=tmp_path)
        assert r.returncode == 2 and "invalid int value" in r.stderr
        r = run_guarded(
            [
                "-m",
                "fietsstad.cli",
                "demo",
                "--out",
                str(tmp_path / "o"),
                "--network",
                "generated",
                "--route",
                "<script>nowhere</script>",
            ],
            cwd=tmp_path,
            env={"FIETSSTAD_CACHE_DIR": str(tmp_path / "c")},
        )
        assert r.returncode == 1, r.stderr[-2000:]
        assert r.stderr.startswith("fietsstad: error:") and "unknown route" in r.stderr
        assert "Traceback" not in r.stderr
        assert not (tmp_path / "o" / "manifest.json").exists()
