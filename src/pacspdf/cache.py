"""Small on-disk caches of computed Python objects: keyed files, written atomically.

A cache entry is a pure speed-up: an unreadable, stale or unwritable entry costs time,
never correctness, so every failure here falls back to computing the value.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pacspdf.errors import BuildError
from pacspdf.write import write_atomic

T = TypeVar("T")


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
