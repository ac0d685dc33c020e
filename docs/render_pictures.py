"""Render the README's pictures (cover and an inner page) from the real build."""

from __future__ import annotations

import sys
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    pdf = ROOT / "out" / "pacs-sample.pdf"
    if not pdf.is_file():
        print(f"{pdf} not found: run `pacspdf build` first", file=sys.stderr)
        return 2
    doc = pdfium.PdfDocument(str(pdf))
    first_chapter = next(i for i in range(len(doc))
                         if "CHAPTER 1" in doc[i].get_textpage().get_text_range())
    wanted = {"cover.png": 0, "executive-summary.png": first_chapter}
    for name, index in wanted.items():
        image = doc[index].render(scale=1.0).to_pil().convert("P", palette=1, colors=128)
        image.save(ROOT / "docs" / "img" / name, optimize=True)
        print(f"docs/img/{name}: page {index + 1}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
