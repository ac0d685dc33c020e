"""Atomic writes: all or nothing, readable modes, no temporary files left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pacspdf.errors import BuildError
from pacspdf.write import pickled, write_atomic


def test_new_file_is_world_readable_and_replacement_keeps_the_mode(tmp_path: Path) -> None:
    """A new file gets 0644 (not mkstemp's 0600); replacing a file keeps that file's mode."""
    target = tmp_path / "a.pdf"
    write_atomic(target, b"one")
    assert target.stat().st_mode & 0o777 == 0o644
    os.chmod(target, 0o640)
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]


def test_a_path_that_cannot_be_created_is_a_build_error(tmp_path: Path) -> None:
    """Writing below a regular file (not a folder) raises BuildError naming the path, no traceback."""
    blocker = tmp_path / "file.txt"
    blocker.write_bytes(b"x")
    with pytest.raises(BuildError, match=r"file\.txt/a\.pdf: cannot write"):
        write_atomic(blocker / "a.pdf", b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_pickled_cache_computes_once_and_recovers_from_a_corrupt_entry(tmp_path: Path) -> None:
    """pickled() reuses a stored value, and recomputes (and repairs) an unreadable entry."""
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    assert pickled(tmp_path, "k", dict, compute) == {"n": 1}
    assert pickled(tmp_path, "k", dict, compute) == {"n": 1}
    (tmp_path / "k.pickle").write_bytes(b"not a pickle")
    assert pickled(tmp_path, "k", dict, compute) == {"n": 2}
    assert pickled(tmp_path, "k", dict, compute) == {"n": 2}
    assert pickled(None, "k", dict, compute) == {"n": 3}
