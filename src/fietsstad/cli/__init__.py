"""The ``fietsstad`` command line: a thin dispatcher over ``fietsstad.cli.*``.

Each module in :mod:`fietsstad.cli` defines ``add_parser(subparsers)`` and ``run(args) -> int``.

Example
-------
>>> from fietsstad.cli import main
>>> main(["network", "--generated", "300", "--seed", "1"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from types import FrameType

from fietsstad._io import SIGNALS_RECEIVED
from fietsstad.errors import FietsstadError

COMMANDS = ("network", "demo")


#: Signals received during :func:`main` (shared with :mod:`fietsstad._io`, whose atomic writes
#: refuse to publish once one arrived). Whatever exception surfaces after a signal (numba's
#: compiler can turn a KeyboardInterrupt into a RuntimeError), the exit code is 130.
_INTERRUPTED: list[int] = SIGNALS_RECEIVED


# both handlers are exercised by the robustness tests (in subprocesses)
def _on_sigterm(signum: int, frame: FrameType | None) -> None:  # pragma: no cover
    _INTERRUPTED.append(signum)
    raise KeyboardInterrupt


def _on_sigint(signum: int, frame: FrameType | None) -> None:  # pragma: no cover
    # remembered as well: C extensions can swallow the KeyboardInterrupt (seen with scipy/HiGHS)
    _INTERRUPTED.append(signum)
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(prog="fietsstad", description="Cycling mobility analytics.")
    from fietsstad._data import VERSION as __version__

    parser.add_argument("--version", action="version", version=f"fietsstad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"fietsstad.cli.{name}")
        except ImportError:
            continue
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 ok, 1 fietsstad error, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _INTERRUPTED.clear()
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    old_int = signal.getsignal(signal.SIGINT)
    if old_int is signal.default_int_handler:  # leave SIG_IGN (background jobs) alone
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        code = int(args.func(args) or 0)
        if _INTERRUPTED:  # the interrupt was swallowed below us: still report it
            raise KeyboardInterrupt
        return code
    except KeyboardInterrupt:
        return _interrupted()
    except Exception as err:
        if _INTERRUPTED:  # e.g. numba's "no compiled object yet" after an interrupted compile
            return _interrupted(err)
        if isinstance(err, FietsstadError):
            print(f"fietsstad: error: {err}", file=sys.stderr)
            return 1
        if isinstance(err, OSError):  # the environment (disk full, read-only, ...), not a bug
            where = f" ({err.filename})" if err.filename else ""
            print(f"fietsstad: error: {err.strerror or err}{where}", file=sys.stderr)
            return 1
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
        if old_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, old_int)
        _INTERRUPTED.clear()  # later atomic writes in this process are not interrupted


def _interrupted(surfaced: BaseException | None = None) -> int:
    how = f" (surfaced as {type(surfaced).__name__})" if surfaced is not None else ""
    print(f"fietsstad: interrupted{how}; no partial output was left behind", file=sys.stderr)
    return 130
