"""Turn a path written in content into a file inside its folder, or a problem; and hold the size limits.

A report may only read files inside its own folder (a brand: inside the brand folder, or an
installed font package). ``../``, absolute paths and symbolic links that lead elsewhere are
refused before anything is opened, and the message never quotes the outside file. Every file
is also measured before it is read: a report stays small enough to check in a second and
build in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The limits a report must stay within (named in README, "Limits").
MAX_TABLE_BYTES = 256 * 1024          # one CSV file
MAX_TABLE_ROWS = 400                  # data rows of one CSV file
MAX_YAML_BYTES = 256 * 1024           # report.yaml or brand.yaml
MAX_REPORT_BYTES = 512 * 1024         # report.yaml and all its CSV files together
MAX_ASSET_BYTES = 4 * 1024 * 1024     # one logo or font file of a brand
MAX_FALLBACK_FONT_BYTES = 32 * 1024 * 1024  # one fallback font (a CJK font holds tens of thousands of glyphs)
MAX_CELL_CHARS = 300                  # one text cell of a CSV table (a company's focus, say)


@dataclass(frozen=True)
class Refusal:
    """Why a written path cannot be used (the message names only what was written)."""

    message: str


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def inside(base: Path, written: str, what: str = "the report folder") -> Path | Refusal:
    """``written`` resolved against ``base``, or a Refusal when it leads outside ``base``.

    Symbolic links are followed before the test, so a link inside the folder that points
    elsewhere is refused too.
    """
    if Path(written).is_absolute() or written.startswith("~"):
        return Refusal(f'"{written}" is an absolute path; write a path relative to {what}')
    root = base.resolve()
    target = (base / written).resolve()
    try:
        target.relative_to(root)
    except ValueError:
        via = " through a symbolic link" if ".." not in Path(written).parts else ""
        return Refusal(f'"{written}" leads outside {what}{via}; copy the file into it')
    return target


def too_big(path: Path, limit: int, kind: str) -> str | None:
    """A message when the file at ``path`` is larger than ``limit`` bytes (None otherwise)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None  # the reader reports a missing or unreadable file
    if size > limit:
        return f"{kind} is {_size(size)}; the limit is {_size(limit)}"
    return None


def limit_text(n: int) -> str:
    return _size(n)
