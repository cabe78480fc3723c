"""A broken environment under the command line: full or read-only disk, a file where the output
folder should be, staging folders left by killed runs (issue #13).

Tests run as root, for whom ``chmod`` does not stop a write: a read-only file system is either
real (sysfs refuses to create entries even for root) or injected where fietsstad writes, and a
full disk is injected as ``OSError(ENOSPC)`` from every write of :mod:`fietsstad._io`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _robust import run_guarded

DEMO = ["demo", "--network", "generated", "--area", "zwolle", "--nodes", "1200", "--hubs", "2"]

#: ``fietsstad.cli.main(argv)`` with every write of fietsstad._io failing as on a full disk.
_FULL_DISK = textwrap.dedent(
    """
    import errno, os, sys
    from fietsstad import _io

    class Full:
        def __init__(self, fh):
            self._fh = fh
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")
        def __getattr__(self, name):
            return getattr(self._fh, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self._fh.close()

    class Os:
        def __getattr__(self, name):
            return getattr(os, name)
        def fdopen(self, *a, **k):
            return Full(os.fdopen(*a, **k))

    _io.os = Os()
    from fietsstad.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _cli(args, tmp_path, script: str | None = None):
    env = {"FIETSSTAD_CACHE_DIR": str(tmp_path / "cache")}
    if script is None:
        return run_guarded(["-m", "fietsstad.cli", *args], cwd=tmp_path, env=env, timeout_s=300)
    f = tmp_path / "wrapped_cli.py"
    f.write_text(script)
    return run_guarded([str(f), *args], cwd=tmp_path, env=env, timeout_s=300)


def _clear_error(r, *needles: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("fietsstad: error:"), last
    for n in needles:
        assert n in last, last


def test_demo_out_onto_an_existing_file_is_refused_before_any_work(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("precious")
    t0 = time.perf_counter()
    r = _cli([*DEMO, "--out", str(target)], tmp_path)
    _clear_error(r, "exists and is not a folder")
    assert target.read_text() == "precious"
    assert "Evaluating" not in r.stdout  # refused before the work
    assert not list(tmp_path.glob(".notes.txt.partial-*"))
    print(f"refused in {time.perf_counter() - t0:.1f} s (interpreter start included)")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs sysfs (Linux)")
def test_demo_out_on_a_read_only_file_system_is_a_clear_error(tmp_path):
    out = Path("/sys/fietsstad-demo-out")
    probe = subprocess.run(["mkdir", str(out)], capture_output=True)
    if probe.returncode == 0:  # pragma: no cover - a writable /sys: do not litter it
        os.rmdir(out)
        pytest.skip("/sys is writable here")
    r = _cli([*DEMO, "--out", str(out)], tmp_path)
    _clear_error(r, "cannot write the demo output", str(out))


def test_demo_on_a_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path):
    out = tmp_path / "demo-out"
    r = _cli([*DEMO, "--out", str(out)], tmp_path, script=_FULL_DISK)
    _clear_error(r, "disk is full")
    assert not (out / "manifest.json").exists()
    assert not list(tmp_path.glob(".demo-out.partial-*"))
    assert not list(tmp_path.rglob("*.tmp"))


def test_network_save_on_a_full_disk_is_a_clear_error(tmp_path):
    r = _cli(
        ["network", "--generated", "300", "--save", str(tmp_path / "n.fsn")],
        tmp_path,
        script=_FULL_DISK,
    )
    _clear_error(r, "disk is full")
    assert not (tmp_path / "n.fsn").exists() and not list(tmp_path.glob(".n.fsn.*"))


def test_network_save_onto_a_directory_is_a_clear_error(tmp_path):
    (tmp_path / "n.fsn").mkdir()
    r = _cli(["network", "--generated", "300", "--save", str(tmp_path / "n.fsn")], tmp_path)
    _clear_error(r, "folder is in the way")


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped: no process has this pid (until it is reused, which takes a while)


def test_stale_staging_folders_are_cleaned_by_the_next_run(tmp_path):
    """Repro 5: killed demos left hidden .partial-* folders (about 4 MB each) forever. The next
    run removes those whose process is gone (this host) or that are older than a day, and
    keeps a live run's and anything that is not a real folder."""
    from fietsstad.demo import _host_tag, clean_stale_staging

    host = _host_tag()
    dead = tmp_path / f".demo-out.partial-{_dead_pid()}@{host}-abc"
    live = tmp_path / f".demo-out.partial-{os.getpid()}@{host}-def"  # this test process
    other_host_new = tmp_path / f".demo-out.partial-{_dead_pid()}@ffffffff-ghi"
    legacy_old = tmp_path / ".demo-out.partial-k2j3h4"  # the old name format, 3 days old
    for d in (dead, live, other_host_new, legacy_old):
        d.mkdir()
        (d / "hubs.html").write_bytes(b"x" * 4096)
    os.utime(legacy_old, (time.time() - 3 * 86400,) * 2)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("keep")
    link = tmp_path / f".demo-out.partial-{_dead_pid()}@{host}-lnk"
    link.symlink_to(victim, target_is_directory=True)
    assert clean_stale_staging(tmp_path / "demo-out") == 2
    assert not dead.exists() and not legacy_old.exists()
    assert live.exists() and other_host_new.exists()
    assert link.is_symlink() and (victim / "keep").read_text() == "keep"
    # and a real run does it on its own
    (dead).mkdir()
    r = _cli([*DEMO, "--out", str(tmp_path / "demo-out")], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not dead.exists() and live.exists()
    assert (tmp_path / "demo-out" / "manifest.json").exists()
