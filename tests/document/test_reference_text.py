"""Reference test in rst2pdf's style: the sample's page text, compared with a file in tests/.

A change to the document's text shows up as a diff against
``tests/document/reference/pacs-sample.txt``, to be reviewed like code. When the change is
intended, regenerate the file and commit it with the change::

    PACSPDF_REGENERATE=1 .venv/bin/python -m pytest -q tests/document/test_reference_text.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest

from pdf_reading import Doc

REFERENCE = Path(__file__).parent / "reference" / "pacs-sample.txt"


def page_text_dump(doc: Doc) -> str:
    """One block per page: a header line, then the page's text lines, whitespace normalised."""
    out: list[str] = []
    for page in range(1, doc.pages + 1):
        out.append(f"=== page {page} of {doc.pages} ===")
        out += [" ".join(line.split()) for line in doc.text(page).splitlines() if line.strip()]
    return "\n".join(out) + "\n"


def test_page_text_matches_the_reference(doc: Doc, sample_pdf: Any) -> None:
    dump = page_text_dump(doc)
    if os.environ.get("PACSPDF_REGENERATE"):
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        REFERENCE.write_text(dump, encoding="utf-8")
        pytest.skip(f"regenerated {REFERENCE.name}: review `git diff` and commit it")
    expected = REFERENCE.read_text(encoding="utf-8")
    if dump != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                            dump.splitlines(keepends=True), "reference", "built", n=1))
        pytest.fail(f"the sample's text differs from {REFERENCE} (PACSPDF_REGENERATE=1 rewrites it "
                    f"for review):\n{diff[:6000]}")


def test_the_dump_is_stable_and_covers_every_page(doc: Doc) -> None:
    dump = page_text_dump(doc)
    assert dump == page_text_dump(doc)
    assert dump.count("=== page ") == doc.pages
