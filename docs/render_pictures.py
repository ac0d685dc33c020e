"""Render the README's pictures (cover, inner pages, back cover, a personalised cover) from the real build."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent


def _page_with(doc: pdfium.PdfDocument, text: str) -> int:
    """The last page showing ``text`` (past the contents and lists that name it too)."""
    return max(i for i in range(len(doc)) if text in doc[i].get_textpage().get_text_range())


def _save(doc: pdfium.PdfDocument, index: int, name: str) -> None:
    image = doc[index].render(scale=1.0).to_pil().convert("P", palette=1, colors=128)
    image.save(ROOT / "docs" / "img" / name, optimize=True)
    print(f"docs/img/{name}: page {index + 1}")


def main() -> int:
    pdf = ROOT / "out" / "pacs-sample.pdf"
    if not pdf.is_file():
        print(f"{pdf} not found: run `pacspdf build` first", file=sys.stderr)
        return 2
    doc = pdfium.PdfDocument(str(pdf))
    wanted = {"cover.png": 0,
              "executive-summary.png": _page_with(doc, "Market snapshot"),
              "full-report-contents.png": _page_with(doc, "Contents of the Full Report"),
              "methodology.png": _page_with(doc, "Market sizing: bottom-up and top-down"),
              "back-cover.png": len(doc) - 1}
    for name, index in wanted.items():
        _save(doc, index, name)
    # A personalised copy for a reader whose name is not in the brand's script.
    from pacspdf.delivery.personalise import Recipient, make_copy
    from pacspdf.document.personal import BaseArtifact

    reader = Recipient("山田 太郎", "東京大学医学部附属病院", "yamada@example.jp")
    copy = make_copy(BaseArtifact.load(pdf), reader, "DEMO-0001", "29 November 2026")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "copy.pdf"
        path.write_bytes(copy.pdf)
        personal = pdfium.PdfDocument(str(path))
        _save(personal, 0, "personalised-cover.png")
        personal.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
