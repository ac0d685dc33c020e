"""A rebuild from a warm cache loads neither matplotlib nor pandas (the preflight needs neither)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pacspdf.build import build
result = build(sys.argv[1], sys.argv[2], cache_dir=sys.argv[3])
print(result.pages, sorted(m for m in ("matplotlib", "pandas") if m in sys.modules))
"""


def test_a_cached_rebuild_imports_neither_matplotlib_nor_pandas(tmp_path: Path) -> None:
    args = [str(REPO / "content" / "pacs"), str(tmp_path / "x.pdf"), str(tmp_path / "cache")]
    first = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                           check=True)
    assert "matplotlib" in first.stdout  # a cold build draws the charts
    again = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                           check=True)
    assert again.stdout.strip().endswith("[]"), again.stdout + again.stderr
    assert again.stderr == ""
