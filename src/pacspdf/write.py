"""Bytes -> files on disk, atomically, and the on-disk caches of computed objects.

A written file is complete or absent: the old file stays intact until the new one is
complete. A cache entry is a pure speed-up: an unreadable, stale or unwritable entry costs
time, never correctness, so every cache failure falls back to computing the value.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pacspdf.errors import BuildError

T = TypeVar("T")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise BuildError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        # mkstemp creates 0600 files; keep the mode of the file being replaced, else 0644.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o644
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise BuildError(f"{path}: cannot write: {exc.strerror}") from None
        raise



def pickled(cache_dir: Path | None, key: str, kind: type[T], compute: Callable[[], T]) -> T:
    """``compute()``, or the object of type ``kind`` stored under ``key`` by an earlier run."""
    if cache_dir is None:
        return compute()
    path = Path(cache_dir) / f"{key}.pickle"
    try:
        with path.open("rb") as fh:
            value = pickle.load(fh)
        if isinstance(value, kind):
            return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    value = compute()
    with contextlib.suppress(BuildError, pickle.PicklingError, TypeError, AttributeError):
        write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return value
