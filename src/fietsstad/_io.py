"""Safe file output: atomic writes and checksummed, pickle-free array archives.

Everything fietsstad writes (caches, maps, reports, saved networks) goes through
:func:`atomic_write`, so an interrupted write never leaves a file a later run would trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fietsstad.errors import CacheError


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[io.IOBase]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success.

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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _default_mode())  # mkstemp makes 0600; use what open() would give
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Write arrays + JSON metadata to one ``.npz`` with a format version and a SHA-256 checksum.

    No pickling: object arrays are refused. Read back with :func:`load_arrays`.
    """
    from fietsstad import settings

    buf = io.BytesIO()
    for k, a in arrays.items():
        if np.asarray(a).dtype == object:
            raise TypeError(f"array {k!r} has dtype object; cannot be saved without pickle")
    np.savez(buf, **{f"a_{k}": np.ascontiguousarray(v) for k, v in arrays.items()})
    payload = buf.getvalue()
    header = {
        "format": "fietsstad-arrays",
        "version": settings.CACHE_FORMAT_VERSION,
        "sha256": _digest(payload, json.loads(json.dumps(meta))),
        "meta": meta,
    }
    hb = json.dumps(header, sort_keys=True).encode()
    with atomic_write(path, "wb") as fh:
        fh.write(b"FSTD")
        fh.write(len(hb).to_bytes(8, "little"))
        fh.write(hb)
        fh.write(payload)


def _digest(payload: bytes, meta) -> str:
    """SHA-256 over the array payload *and* the metadata, so a flipped byte in either is caught."""
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    h.update(b"\0")
    h.update(payload)
    return h.hexdigest()


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_arrays`, verifying magic, version and checksum.

    Raises :class:`~fietsstad.errors.CacheError` on anything unexpected (never unpickles).
    """
    from fietsstad import settings

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CacheError(f"cannot read {path}: {err}") from err
    if len(raw) < 12 or raw[:4] != b"FSTD":
        raise CacheError(f"{path} is not a fietsstad array file (bad magic)")
    hl = int.from_bytes(raw[4:12], "little")
    if hl <= 0 or 12 + hl > len(raw):
        raise CacheError(f"{path} is truncated (header)")
    try:
        header = json.loads(raw[12 : 12 + hl])
    except ValueError as err:
        raise CacheError(f"{path}: corrupt header") from err
    if not isinstance(header, dict) or not isinstance(header.get("meta", {}), dict):
        raise CacheError(f"{path}: corrupt header (not a JSON object)")
    if header.get("format") != "fietsstad-arrays" or header.get("version") != settings.CACHE_FORMAT_VERSION:
        raise CacheError(f"{path}: stale or foreign format {header.get('format')!r} v{header.get('version')!r}")
    payload = raw[12 + hl :]
    if _digest(payload, header.get("meta")) != header.get("sha256"):
        raise CacheError(f"{path}: checksum mismatch (truncated or corrupt)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {k[2:]: z[k] for k in z.files}
    except Exception as err:  # noqa: BLE001 - any decoding failure means a corrupt cache
        raise CacheError(f"{path}: cannot decode arrays: {err}") from err
    return arrays, header.get("meta", {})
