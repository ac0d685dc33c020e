"""A rebuild from a warm cache loads neither matplotlib nor pandas (the preflight needs neither)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pacspdf.build import build
result = build(sys.argv[1], sys.argv[2], cache_dir=sys.argv[3])
print(result.pages, sorted(m for m in ("matplotlib", "pandas") if m in sys.modules))
"""


def rebuild(cache_dir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """content/pacs built in a fresh interpreter with ``cache_dir``; prints pages and drawing modules."""
    return subprocess.run([sys.executable, "-c", SCRIPT, str(REPO / "content" / "pacs"), str(out),
                           str(cache_dir)], capture_output=True, text=True, check=True)


@pytest.mark.slow  # a new interpreter (~1.8 s of CPU) is the point: CI runs it
def test_a_rebuild_on_the_sessions_warm_cache_imports_neither(sample_pdf: Any, tmp_path: Path) -> None:
    """The session's sample build left its cache warm: a rebuild in a new process draws nothing."""
    again = rebuild(sample_pdf.cache_dir, tmp_path / "x.pdf")
    assert again.stdout.split() == [str(sample_pdf.result.pages), "[]"], again.stdout + again.stderr
    assert again.stderr == ""


@pytest.mark.slow  # a cold build first, in its own process
def test_a_cached_rebuild_imports_neither_matplotlib_nor_pandas(tmp_path: Path) -> None:
    args = [str(REPO / "content" / "pacs"), str(tmp_path / "x.pdf"), str(tmp_path / "cache")]
    first = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                           check=True)
    assert "matplotlib" in first.stdout  # a cold build draws the charts
    again = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                           check=True)
    assert again.stdout.strip().endswith("[]"), again.stdout + again.stderr
    assert again.stderr == ""
