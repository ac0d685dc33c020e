"""Write a finished PDF atomically: the old file stays intact until the new one is complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pacspdf.errors import BuildError


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
