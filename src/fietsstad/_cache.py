"""The on-disk cache protocol: keyed paths, a lock, verify-or-rebuild, atomic publish.

A cache entry is one file under :data:`fietsstad.settings.cache_dir`, written by
:func:`fietsstad._io.save_arrays` (format version + SHA-256, no pickle) through
:func:`fietsstad._io.atomic_write` (temporary file, then rename). :func:`cached` is the one way to
use it::

    net = cached(path, build=lambda: build_network(...), load=BikeNetwork.load,
                 save=lambda net, p: net.save(p))

1. try to load; a missing file is built, a corrupt / truncated / stale file, or anything that
   is not a regular file (FIFO, device, directory), is reported with a :class:`CacheWarning`,
   deleted and rebuilt (never trusted, never unpickled, never read blocking). With ``key=...``
   every entry carries its key and a well-formed entry of another key (another place, polygon,
   profile, rules or library version) is never returned: it is rebuilt, and if the rebuild
   fails (offline) a :class:`~fietsstad.errors.CacheError` says so;
2. building happens under an exclusive lock on ``<path>.lock`` (``fcntl.flock``, released by
   the OS if the process dies), and the file is loaded once more after the lock is taken, so two
   processes building the same entry at once build it once and both end with one good file;
3. the result is published atomically, so readers see the old file, or the whole new one;
4. a cache that cannot be written (read-only or full disk, a folder in the way, no lock file)
   never loses the result: it is returned with a :class:`CacheWarning`.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from fietsstad._cache import cached_arrays
>>> p = pathlib.Path(tempfile.mkdtemp()) / "squares.fsa"
>>> arrays, meta = cached_arrays(p, lambda: ({"sq": np.arange(4) ** 2}, {"n": 4}))
>>> arrays["sq"].tolist(), meta["n"]
([0, 1, 4, 9], 4)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fietsstad._io import load_arrays, save_arrays
from fietsstad.errors import CacheError, FietsstadError, ForeignCacheEntryError, PlaceNotFoundError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no inter-process lock, still atomic
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

#: File name suffix of fietsstad cache entries ("fietsstad arrays").
SUFFIX = ".fsa"

__all__ = [
    "CacheWarning",
    "ForeignCacheEntryError",
    "cache_key",
    "cache_path",
    "cached",
    "cached_arrays",
    "clean_stale_temp_files",
    "file_lock",
]


class CacheWarning(UserWarning):
    """A cache entry was unusable (corrupt, truncated, stale, foreign) and is being rebuilt,
    or a built result could not be written to the cache (it is returned all the same)."""


class _LockFileError(CacheError):
    """The lock file cannot be created (read-only or full cache folder, a folder in the way)."""


class ForeignEntryOfflineError(ForeignCacheEntryError, PlaceNotFoundError):
    """The cache entry belongs to another key and the rebuild failed because the download did.

    Both a :class:`~fietsstad.errors.CacheError` and a
    :class:`~fietsstad.errors.PlaceNotFoundError`, so code that falls back when a place cannot
    be loaded (the demo) keeps doing so.
    """


def cache_key(*parts: Any) -> str:
    """A stable hex key from JSON-able parts (plus the cache format version).

    Example
    -------
    >>> cache_key("osm", "zwolle.pbf", 1234, "bike") == cache_key("osm", "zwolle.pbf", 1234, "bike")
    True
    >>> len(cache_key("x"))
    32
    """
    from fietsstad import settings

    blob = json.dumps([settings.CACHE_FORMAT_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def cache_path(kind: str, key: str, suffix: str = SUFFIX, *, create: bool = True) -> Path:
    """Path of a cache entry ``<settings.cache_dir>/<kind>/<key><suffix>`` (folder created
    unless ``create=False``; :func:`cached` creates it when it writes).

    Raises
    ------
    CacheError
        A bad kind or key, or the folder cannot be created (read-only, a file in the way).

    Example
    -------
    >>> cache_path("networks", cache_key("x")).parent.name
    'networks'
    """
    from fietsstad import settings

    if not kind or "/" in kind or "\\" in kind or kind in (".", ".."):
        raise CacheError(f"cache kind must be a plain folder name, got {kind!r}")
    if not key or any(c in key for c in "/\\\0") or key in (".", ".."):
        raise CacheError(f"cache key must be a plain file name, got {key!r}")
    folder = Path(settings.cache_dir) / kind
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CacheError(
                f"cannot create the cache folder {folder}: {err.strerror or err}; set "
                "FIETSSTAD_CACHE_DIR (or fietsstad.settings.cache_dir) to a writable folder, or "
                "fietsstad.settings.use_cache = False"
            ) from err
    return folder / f"{key}{suffix}"


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, timeout_s: float = 600.0) -> Iterator[Path]:
    """Hold an exclusive inter-process lock on ``<path>.lock`` while the block runs.

    The lock is ``fcntl.flock``: the operating system releases it when the holder exits or is
    killed, so a crashed builder never blocks later runs.

    Raises
    ------
    CacheError
        If the lock cannot be taken within ``timeout_s`` seconds, or the lock file cannot be
        created (read-only or full folder, a directory in the way).

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "entry.fsa"
    >>> with file_lock(p) as lock:
    ...     lock.name
    'entry.fsa.lock'
    """
    path = Path(path)
    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise IsADirectoryError(0, "not a regular file", str(lock))
    except OSError as err:
        raise _LockFileError(f"cannot create the lock file {lock}: {err.strerror or err}") from err
    try:
        if fcntl is not None:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise CacheError(
                            f"cache entry {path} is locked by another process for more than "
                            f"{timeout_s:.0f} s; wait for it, or set fietsstad.settings.use_cache"
                            " = False"
                        ) from None
                    time.sleep(0.05)
        yield lock
    finally:
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _try_load(path: Path, load: Callable[[Path], T]) -> tuple[str, T | Exception | None]:
    """Load ``path``: ``("ok", obj)``, ``("missing", None)``, ``("foreign", error)`` (a valid
    entry of another key: warned about, left for the rebuild to replace) or ``("bad", None)``
    (unusable: warned about and deleted)."""
    if not os.path.lexists(path):
        return "missing", None
    try:
        return "ok", load(path)
    except ForeignCacheEntryError as err:
        warnings.warn(
            f"fietsstad cache: {err}; rebuilding it",
            CacheWarning,
            stacklevel=4,
        )
        return "foreign", err
    except Exception as err:  # noqa: BLE001 - whatever a loader raises, the file is not trusted
        warnings.warn(
            f"fietsstad cache entry {path} is unusable ({type(err).__name__}: {err}); rebuilding it",
            CacheWarning,
            stacklevel=4,
        )
        with contextlib.suppress(OSError):
            path.unlink()  # a FIFO or symlink goes too; a directory stays (then the write warns)
        return "bad", None


def _build(build: Callable[[], T], path: Path, foreign: Exception | None) -> T:
    """``build()``; if it fails after a foreign entry was found, say so (never return it)."""
    try:
        return build()
    except FietsstadError as err:
        if foreign is None:
            raise
        cls = ForeignEntryOfflineError if isinstance(err, PlaceNotFoundError) else CacheError
        raise cls(f"{foreign}; it was not used, and rebuilding the entry failed: {err}") from err


def _save_or_warn(save: Callable[..., Any], obj: Any, path: Path, key: str | None) -> None:
    """Publish ``obj``; a failed write only warns (the result is still returned)."""
    try:
        if key is None:
            save(obj, path)
        else:
            save(obj, path, key=key)
    except (OSError, CacheError) as err:
        warnings.warn(
            f"fietsstad could not write the cache entry {path} ({err}); the result is returned "
            "but not cached",
            CacheWarning,
            stacklevel=4,
        )


def cached(
    path: str | os.PathLike,
    build: Callable[[], T],
    *,
    load: Callable[..., T],
    save: Callable[..., Any],
    use_cache: bool | None = None,
    lock_timeout_s: float = 600.0,
    key: str | None = None,
) -> T:
    """Return the cached object at ``path``, or build, publish and return it.

    Parameters
    ----------
    path
        The cache file (see :func:`cache_path`).
    build
        Makes the object when the cache is missing or unusable.
    load
        Reads the object from ``path``; must raise (ideally :class:`CacheError`) on anything
        unexpected and must never unpickle. ``BikeNetwork.load`` and ``load_arrays`` qualify.
        With ``key``, called as ``load(path, key=key)`` and must raise
        :class:`ForeignCacheEntryError` for an entry of another key.
    save
        Writes the object to ``path`` atomically (through :func:`fietsstad._io.atomic_write`);
        with ``key``, called as ``save(obj, path, key=key)`` and must record the key.
    use_cache
        ``None`` follows :data:`fietsstad.settings.use_cache`; ``False`` just builds.
    lock_timeout_s
        How long to wait for another process building the same entry.
    key
        The identity of the entry (e.g. a :func:`cache_key` of place, profile and versions).
        An entry with another key is never returned: it is rebuilt.

    Returns
    -------
    The loaded or freshly built object. If the cache cannot be written (read-only or full
    disk, a folder in the way) the built object is returned with a :class:`CacheWarning`.

    Raises
    ------
    CacheError
        The entry belongs to another key and rebuilding it failed (e.g. offline); or the lock
        is held by another process for more than ``lock_timeout_s``.

    Example
    -------
    >>> import numpy as np, tempfile, pathlib
    >>> from fietsstad._io import load_arrays, save_arrays
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.fsa"
    >>> build = lambda: ({"a": np.ones(3)}, {})
    >>> arrays, _ = cached(p, build, load=load_arrays, save=lambda obj, q: save_arrays(q, *obj))
    >>> p.exists()
    True
    """
    from fietsstad import settings

    path = Path(path)
    if not (settings.use_cache if use_cache is None else use_cache):
        return build()
    do_load = load if key is None else (lambda q: load(q, key=key))
    status, obj = _try_load(path, do_load)
    if status == "ok":
        return obj  # type: ignore[return-value]
    foreign = obj if status == "foreign" else None
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(file_lock(path, timeout_s=lock_timeout_s))
        except _LockFileError as err:
            warnings.warn(
                f"fietsstad cache: {err}; building without the lock", CacheWarning, stacklevel=3
            )
        else:
            # another process may have built it while we waited
            status, obj = _try_load(path, do_load)
            if status == "ok":
                return obj  # type: ignore[return-value]
            if status == "foreign":
                foreign = obj
        built = _build(build, path, foreign)  # type: ignore[arg-type]
        _save_or_warn(save, built, path, key)
    return built


def cached_arrays(
    path: str | os.PathLike,
    build: Callable[[], tuple[dict[str, np.ndarray], dict]],
    *,
    use_cache: bool | None = None,
    key: str | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """:func:`cached` for ``(arrays, meta)`` pairs stored with :func:`fietsstad._io.save_arrays`.

    Example
    -------
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.fsa"
    >>> cached_arrays(p, lambda: ({"a": np.arange(3)}, {"k": 1}))[1]
    {'k': 1}
    """
    return cached(
        path,
        build,
        load=load_arrays,
        save=lambda obj, p, **kw: save_arrays(p, *obj, **kw),
        use_cache=use_cache,
        key=key,
    )


def clean_stale_temp_files(folder: str | os.PathLike, older_than_s: float = 3600.0) -> int:
    """Delete temporary files that a killed writer left behind (``.<name>.*.tmp``).

    :func:`fietsstad._io.atomic_write` removes its temporary file on any exception, but a process
    killed with SIGKILL cannot; such files are never read (their names differ from the entry's),
    this only reclaims the space. Returns the number of files removed.

    Example
    -------
    >>> import tempfile
    >>> clean_stale_temp_files(tempfile.mkdtemp())
    0
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for p in folder.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            if now - p.stat().st_mtime > older_than_s:
                p.unlink()
                removed += 1
    return removed
