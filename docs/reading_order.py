"""Compare pdftotext's reading order with the structure tree's: ``python docs/reading_order.py PDF``.

A manual check (poppler's pdftotext is not a dependency): for each page, how many of the
words the structure tree reads, in its order, pdftotext also reads in that order (the longest
common subsequence of the two word lists). Figure content is left out: a screen reader reads
a Figure's alt text instead, and pdftotext orders chart labels by position.
"""

from __future__ import annotations

import difflib
import io
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pikepdf

from pdf_reading import structure_mcrs, text_objects


def main(path: str) -> int:
    data = Path(path).read_bytes()
    by_mcr: dict[tuple[int, int], list[str]] = {}
    for page, name, mcid, text in text_objects(data):
        if name not in ("Artifact", "Figure") and mcid is not None:
            by_mcr.setdefault((page, mcid), []).append(text)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        order, pages = structure_mcrs(pdf), len(pdf.pages)
    agreed = total = 0
    for page in range(1, pages + 1):
        tree = " ".join(" ".join(by_mcr.get(m, [])) for m in order if m[0] == page).split()
        shown = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), path, "-"],
                               capture_output=True, text=True, check=True).stdout.split()
        same = sum(b.size for b in difflib.SequenceMatcher(None, tree, shown, autojunk=False)
                   .get_matching_blocks())
        agreed, total = agreed + same, total + len(tree)
        print(f"page {page:2d}: {same}/{len(tree)} words in the same order")
    print(f"all pages: {100 * agreed / max(total, 1):.1f} % of the structure's words in pdftotext's order")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
