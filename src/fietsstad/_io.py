"""Safe file output: atomic writes and checksummed, pickle-free array archives.

Everything fietsstad writes (caches, maps, reports, saved networks) goes through
:func:`atomic_write`, so an interrupted write never leaves a file a later run would trust.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from fietsstad.errors import CacheError, FietsstadError, ForeignCacheEntryError, OutputError

#: Largest JSON header :func:`load_arrays` reads (the header holds metadata, never arrays).
MAX_HEADER_BYTES = 64 * 2**20

#: Signals the command line received (:mod:`fietsstad.cli` records them here). Once one has
#: arrived, :func:`atomic_write` refuses to publish: an interrupted run never leaves a file that
#: looks complete, even when a library below swallowed the ``KeyboardInterrupt``.
SIGNALS_RECEIVED: list[int] = []


def check_interrupt() -> None:
    """Raise ``KeyboardInterrupt`` if the command line received SIGINT/SIGTERM (see above).

    Example
    -------
    >>> check_interrupt()  # nothing received
    """
    if SIGNALS_RECEIVED:
        raise KeyboardInterrupt


def _why(err: OSError) -> str:
    """A short human reason for a failed write."""
    hint = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EFBIG: "the file is too large for this file system (or its size limit)",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "no permission to write there",
        errno.EPERM: "no permission to write there",
        errno.EISDIR: "a folder is in the way",
        errno.EEXIST: "a file is in the way of a folder",
        errno.ENOTDIR: "a file is in the way of a folder",
    }.get(err.errno or 0)
    text = err.strerror or str(err)
    return f"{hint} ({text})" if hint else text


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success.

    A failed write (disk full, read-only, a folder at ``path``) raises :class:`OutputError`
    with the reason, and leaves the old file (if any) untouched and no temporary file.

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_write(p, "w") as fh:
    ...     _ = fh.write("hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir() and not path.is_symlink():  # fail before writing, not at the rename
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FietsstadError:
        raise
    except OSError as err:
        raise OutputError(err.errno, f"cannot write {path}: {_why(err)}") from err
    try:
        os.fchmod(fd, _default_mode())  # mkstemp makes 0600; use what open() would give
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        check_interrupt()  # a received signal never lets a file be published
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FietsstadError):
            raise OutputError(exc.errno, f"cannot write {path}: {_why(exc)}") from exc
        raise


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_arrays(
    path: str | os.PathLike,
    arrays: dict[str, np.ndarray],
    meta: dict,
    *,
    key: str | None = None,
) -> None:
    """Write arrays + JSON metadata to one ``.npz`` with a format version and a SHA-256 checksum.

    No pickling: object arrays are refused. The header also records the payload size (checked
    against the file size before a reader reads the payload) and, if given, the cache ``key``
    the entry belongs to (checked by ``load_arrays(path, key=...)``). Read back with
    :func:`load_arrays`.

    Raises
    ------
    CacheError
        The file cannot be written (disk full, read-only, a folder in the way); nothing is left.

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fsa"
    >>> save_arrays(p, {"x": np.arange(3)}, {"n": 3}, key="k1")
    >>> load_arrays(p, key="k1")[1]
    {'n': 3}
    """
    from fietsstad import settings

    buf = io.BytesIO()
    for k, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {k!r} has dtype object; cannot be saved without pickle")
    # typed as Any: numpy's stub would match a key "allow_pickle" against that keyword (numpy < 2.1
    # has no such keyword, so it is not passed; object arrays were refused above)
    named: dict[str, Any] = {f"a_{k}": np.ascontiguousarray(v) for k, v in arrays.items()}
    np.savez(buf, **named)
    payload = buf.getvalue()
    header = {
        "format": "fietsstad-arrays",
        "version": settings.CACHE_FORMAT_VERSION,
        "sha256": _digest(payload, json.loads(json.dumps(meta))),
        "meta": meta,
        "payload_bytes": len(payload),
    }
    if key is not None:
        header["key"] = str(key)
    hb = json.dumps(header, sort_keys=True).encode()
    try:
        with atomic_write(path, "wb") as fh:
            fh.write(b"FSTD")
            fh.write(len(hb).to_bytes(8, "little"))
            fh.write(hb)
            fh.write(payload)
    except OutputError as err:
        raise CacheError(str(err)) from err


def _digest(payload: bytes, meta: Any) -> str:
    """SHA-256 over the array payload *and* the metadata, so a flipped byte in either is caught."""
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    h.update(b"\0")
    h.update(payload)
    return h.hexdigest()


def _read_exact(fh: IO[bytes], n: int, path: Path) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise CacheError(f"{path} is truncated (read {len(data)} of {n} bytes)")
    return data


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _describe_entry(meta: dict) -> str:
    inner = meta.get("meta")
    if not isinstance(inner, dict):
        inner = meta
    desc = inner.get("description") or inner.get("place") or inner.get("source")
    return f": {str(desc)[:120]!r}" if desc else ""


def load_arrays(
    path: str | os.PathLike, *, key: str | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_arrays`, verifying type, size, magic, version, key
    and checksum.

    Only a regular file is read (a FIFO, device, socket or directory is refused without being
    opened for a blocking read); its 12-byte prefix and header are read and checked (declared
    header and payload sizes against the file size) before the payload is read. With ``key``,
    an entry written for another key is refused (:class:`ForeignCacheEntryError`) before its
    payload is read.

    Raises
    ------
    CacheError
        On anything unexpected (never unpickles).

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.fsa"
    >>> save_arrays(p, {"x": np.arange(3)}, {}, key="mine")
    >>> load_arrays(p, key="theirs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fietsstad.errors.ForeignCacheEntryError: ... belongs to another cache key ...
    """
    from fietsstad import settings

    path = Path(path)
    try:
        st = os.stat(path)  # follows a symlink: its target must be a regular file too
    except OSError as err:
        raise CacheError(f"cannot read {path}: {err.strerror or err}") from err
    if not stat.S_ISREG(st.st_mode):
        raise CacheError(f"{path} is {_file_kind(st.st_mode)}, not a fietsstad file; refusing it")
    try:  # O_NONBLOCK: if the file was swapped for a FIFO since the stat, open does not block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise CacheError(f"cannot read {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise CacheError(f"{path} is {_file_kind(st.st_mode)}, not a fietsstad file")
            size = st.st_size
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"FSTD":
                raise CacheError(f"{path} is not a fietsstad array file (bad magic)")
            hl = int.from_bytes(head[4:12], "little")
            if hl <= 0 or 12 + hl > size or hl > MAX_HEADER_BYTES:
                raise CacheError(f"{path} is truncated (header of {hl} bytes, file of {size})")
            raw_header = _read_exact(fh, hl, path)
            try:
                header = json.loads(raw_header)
            except ValueError as err:
                raise CacheError(f"{path}: corrupt header") from err
            if not isinstance(header, dict) or not isinstance(header.get("meta", {}), dict):
                raise CacheError(f"{path}: corrupt header (not a JSON object)")
            if (
                header.get("format") != "fietsstad-arrays"
                or header.get("version") != settings.CACHE_FORMAT_VERSION
            ):
                raise CacheError(
                    f"{path}: stale or foreign format {header.get('format')!r} "
                    f"v{header.get('version')!r}"
                )
            declared = header.get("payload_bytes")
            if declared is not None and (
                not isinstance(declared, int) or 12 + hl + declared != size
            ):
                raise CacheError(
                    f"{path}: size mismatch (header declares a {declared!r}-byte payload, "
                    f"the file holds {size - 12 - hl} bytes after the header)"
                )
            if key is not None and header.get("key") != key:
                found = header.get("key")
                raise ForeignCacheEntryError(
                    f"{path} belongs to another cache key "
                    f"({'none recorded' if found is None else repr(str(found)[:64])}"
                    f"{_describe_entry(header.get('meta', {}))}), not {key!r}"
                )
            payload = _read_exact(fh, size - 12 - hl, path)
    except OSError as err:
        raise CacheError(f"cannot read {path}: {err.strerror or err}") from err
    if _digest(payload, header.get("meta")) != header.get("sha256"):
        raise CacheError(f"{path}: checksum mismatch (truncated or corrupt)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {k[2:]: z[k] for k in z.files}
    except Exception as err:  # noqa: BLE001 - any decoding failure means a corrupt cache
        raise CacheError(f"{path}: cannot decode arrays: {err}") from err
    return arrays, header.get("meta", {})
