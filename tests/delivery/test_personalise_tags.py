"""A personalised copy stays tagged (PDF/UA) and archival (PDF/A-2b), and reads the name where it shows it."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacspdf.delivery.personalise import Recipient, make_copy, span_lang
from pacspdf.document.personal import BaseArtifact
from pdf_reading import (
    UA_CLAIM_FINDINGS,
    element_text,
    mcr_texts,
    pdfa_report,
    pdfua_findings,
    reading_texts,
    struct_elements,
    untagged_content,
    without_ua_claim,
)


@pytest.fixture(scope="module")
def base(sample_pdf: Any) -> BaseArtifact:
    return BaseArtifact.load(sample_pdf.path)


def _cover_block(data: bytes, pdf: Any) -> str:
    """The text of the structure element whose content is the cover's personal form."""
    texts = mcr_texts(data)
    texts = [element_text(texts, pdf, e) for e in struct_elements(pdf) if str(e.S) == "/P"]
    return next(t for t in texts if t.startswith("PREPAREDFOR"))


def _check(copy: bytes, base: bytes) -> tuple[str, bytes, str]:
    """Every gate on one copy; returns (cover block text, cover form bytes, PreparedFor)."""
    assert copy.startswith(base)
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert untagged_content(pdf) == []
        form = pdf.pages[0].Resources.XObject["/FormXob.PersonalCover"].read_bytes()
        shown = str(pdf.docinfo.PreparedFor)
        block = _cover_block(copy, pdf)
    tree, pages = reading_texts(copy)
    assert tree == pages
    report = pdfa_report(copy, "2b")
    assert {f.message for f in report.findings} == UA_CLAIM_FINDINGS
    assert pdfa_report(without_ua_claim(copy), "2b").passed
    return block, form, shown


def test_named_copy_passes_every_gate(base: BaseArtifact) -> None:
    """A Greek name: the cover block reads label, name, company and copy line; the name's span is el."""
    copy = make_copy(base, Recipient("Zoë Παπαδοπούλου", "Acme Imaging", "zoe@acme.example"),
                     "ABCDE-12345", "1 May 2026").pdf
    block, form, shown = _check(copy, base.pdf)
    assert block == "".join(f"PREPARED FOR{shown}zoe@acme.example·CopyABCDE-12345·1May2026".split())
    assert b"/Span <</Lang (el)>> BDC" in form
    assert pdfua_findings(copy) == []


@pytest.mark.slow  # every gate again; that a Latin name gets no /Lang is test_span_lang's, in the quick run
def test_latin_name_keeps_the_document_language(base: BaseArtifact) -> None:
    """A Latin-script name gets no /Lang of its own (nothing in it says which language)."""
    copy = make_copy(base, Recipient("Jane Smith", "Acme", "jane@acme.example"), "X1", "1 May 2026").pdf
    _block, form, _shown = _check(copy, base.pdf)
    assert b"/Lang" not in form


names = st.text(st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs")), min_size=0,
                max_size=80)


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, company=names)
def test_any_name_keeps_the_copy_valid(base: BaseArtifact, name: str, company: str) -> None:
    """Whatever the enquirer typed, the copy passes the walker, the reading-order check and PDF/A-2b,
    reads what its cover shows, and marks the name's language when its script names one."""
    copy = make_copy(base, Recipient(name, company, "reader@example.com"), "ZXCVB-67890", "2 May 2026").pdf
    block, form, shown = _check(copy, base.pdf)
    assert block.startswith("PREPAREDFOR") and "ZXCVB-67890" in block
    lang = span_lang(shown)
    assert (b"/Lang" in form) == bool(lang)


@pytest.mark.parametrize(("text", "lang"), [
    ("Zoë Παπαδοπούλου", "el"), ("Иван Петров", "und-Cyrl"), ("山田 はなこ", "ja"), ("김민준", "ko"),
    ("Jane O'Neil", None), ("", None), ("12345", None)])
def test_span_lang(text: str, lang: str | None) -> None:
    """Scripts that name a language give it; shared scripts give und-<Script>; Latin gives None."""
    assert span_lang(text) == lang
