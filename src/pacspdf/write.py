"""Bytes -> files on disk, atomically; and the one cache-key scheme for every on-disk cache.

A written file is complete or absent: the old file stays intact until the new one is
complete. A cache entry is a pure speed-up: an unreadable, stale or unwritable entry costs
time, never correctness, so every cache failure falls back to computing the value.

Every cache key (derived figures, chart drawings, the parsed logo, the base PDF's freshness)
is :func:`cache_key`: a hash of the inputs' bytes, of pacspdf's own source (every ``.py``
under the package, hashed once per process) and of the versions of the libraries that
compute and draw. Editing the code or upgrading a library therefore invalidates every entry
without anyone bumping a version by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
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


# ---------------------------------------------------------------- the cache-key scheme

#: Distributions whose version changes what pacspdf computes or draws.
DRAWING_LIBRARIES = ("reportlab", "matplotlib", "pandas", "numpy", "svglib", "jinja2",
                     "font-source-sans-pro")
_PACKAGE = Path(__file__).resolve().parent


@cache
def source_hash() -> str:
    """sha256 of every ``.py`` file of the installed package (names and bytes), once per process."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@cache
def library_versions() -> str:
    """``name=version`` of each of :data:`DRAWING_LIBRARIES` (``name=-`` when not installed).

    Read from the ``<name>-<version>.dist-info`` folders on ``sys.path`` (about 1 ms), not
    with importlib.metadata, whose import alone costs more than a cached rebuild's keys.
    """
    wanted = {_dist_key(name) for name in DRAWING_LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name[: -len(".dist-info")].partition("-")
                key = _dist_key(dist)
                if key in wanted:
                    found.setdefault(key, version)
    return ";".join(f"{name}={found.get(_dist_key(name), '-')}" for name in DRAWING_LIBRARIES)


def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def cache_key(*parts: str | bytes, files: Iterable[Path] = ()) -> str:
    """The key of a cache entry computed from ``parts`` and the bytes of ``files``, under this
    code and these library versions. Parts are length-prefixed, so no two lists collide."""
    h = hashlib.sha256()
    for part in (source_hash(), library_versions(), *parts):
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big") + data)
    for path in files:
        data = Path(path).read_bytes()
        h.update(b"file" + len(data).to_bytes(8, "big") + hashlib.sha256(data).digest())
    return h.hexdigest()


def folders_key(*roots: Path) -> str:
    """:func:`cache_key` of every file under ``roots``, names included (the base PDF's freshness)."""
    names: list[str] = []
    files: list[Path] = []
    for i, root in enumerate(roots):
        for path in sorted(q for q in Path(root).rglob("*") if q.is_file()):
            names.append(f"{i}:{path.relative_to(root).as_posix()}")
            files.append(path)
    return cache_key("\n".join(names), files=files)
