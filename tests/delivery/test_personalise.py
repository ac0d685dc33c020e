"""Personalised copies: an incremental update naming the enquirer on the cover and every footer."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

import pikepdf
import pypdf
import pypdfium2 as pdfium
import pytest

from pacspdf.build import build
from pacspdf.delivery.personalise import Recipient, clean, make_copy
from pacspdf.document.personal import BaseArtifact

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, sample_pdf: Any) -> BaseArtifact:
    tmp = tmp_path_factory.mktemp("personal")
    shutil.copytree(ROOT / "content" / "pacs", tmp / "content" / "pacs")
    shutil.copytree(ROOT / "assets", tmp / "assets")
    shutil.copytree(sample_pdf.cache_dir, tmp / "cache")  # the session build's charts: read, not drawn
    result = build(tmp / "content" / "pacs", tmp / "out" / "pacs-sample.pdf", cache_dir=tmp / "cache")
    return BaseArtifact.load(result.path)


def _pages_text(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]


def test_copy_names_recipient_on_cover_and_every_footer(base: BaseArtifact) -> None:
    """The cover shows name and company, and every page after it carries the email and copy ID."""
    who = Recipient("Jane Smith", "Acme Imaging", "jane@acme.example")
    copy = make_copy(base, who, "ABCDE-FGHJK", "27 November 2026")
    pages = _pages_text(copy.pdf)
    assert "Jane Smith, Acme Imaging" in pages[0]
    assert "jane@acme.example" in pages[0] and "ABCDE-FGHJK" in pages[0]
    for text in pages[1:]:
        assert "jane@acme.example" in text and "ABCDE-FGHJK" in text
    assert "THE FULL REPORT" not in pages[0]  # the base file's panel is replaced
    assert copy.warnings == []


def test_copy_is_base_plus_small_update(base: BaseArtifact) -> None:
    """A copy starts with the unchanged base bytes and grows it by at most 30 KB."""
    copy = make_copy(base, Recipient("Jane Smith", "Acme", "jane@acme.example"), "X1", "1 May 2026")
    assert copy.pdf.startswith(base.pdf)
    assert 0 < len(copy.pdf) - len(base.pdf) <= 30 * 1024


def test_copy_metadata_carries_copy_id(base: BaseArtifact) -> None:
    """The document information names the recipient and the copy ID; the title is kept."""
    copy = make_copy(base, Recipient("Jane Smith", "Acme", "jane@acme.example"), "QWERT-12345", "1 May 2026")
    reader = pypdf.PdfReader(io.BytesIO(copy.pdf), strict=True)
    meta = reader.metadata
    assert meta is not None
    assert meta["/CopyID"] == "QWERT-12345"
    assert meta["/PreparedFor"] == "Jane Smith, Acme"
    assert meta["/PreparedForEmail"] == "jane@acme.example"
    assert meta.title == base.title
    assert len(reader.pages) == base.meta["pages"]


def test_accents_greek_and_cyrillic_render_as_text(base: BaseArtifact) -> None:
    """Names in Latin with accents, Greek and Cyrillic come out as extractable text, no fallback."""
    who = Recipient("Zoë Ångström Παπαδοπούλου", "Иванов и партнёры", "zoe@example.com")
    copy = make_copy(base, who, "C1", "1 May 2026")
    assert copy.warnings == []
    assert "Zoë Ångström Παπαδοπούλου, Иванов и партнёры" in _pages_text(copy.pdf)[0]


def test_unshowable_script_falls_back_to_email(base: BaseArtifact) -> None:
    """A name in a script no brand or fallback font has (Ol Chiki, written for Santali in India)
    is replaced by the email address, with a warning; CJK, Arabic, Hebrew, Indic and Ethiopic
    names print (see document/test_sales and delivery/test_shaped_names)."""
    copy = make_copy(base, Recipient("ᱥᱟᱱᱛᱟᱲᱤ ᱢᱟᱨᱰᱤ", "ᱨᱟᱧᱪᱤ ᱦᱚᱥᱯᱤᱴᱟᱞ", "santal@example.in"), "C2",
                     "1 May 2026")
    assert copy.warnings and "cannot show" in copy.warnings[0]
    cover = _pages_text(copy.pdf)[0]
    assert "santal@example.in" in cover
    assert "ᱥ" not in cover


def test_markup_in_names_is_literal_text(base: BaseArtifact) -> None:
    """Markup in a name or company is printed as typed, never interpreted."""
    who = Recipient("<font size=80>Bob</font>", "Smith & Co", "bob@example.com")
    copy = make_copy(base, who, "C3", "1 May 2026")
    assert "<font size=80>Bob</font>, Smith & Co" in _pages_text(copy.pdf)[0]


def test_long_names_fit_the_cover_panel(base: BaseArtifact) -> None:
    """An over-long name is shrunk, then cut with an ellipsis, never drawn past the panel."""
    who = Recipient("Maximilian " * 12, "Very Long Company Name International Holdings " * 3, "m@example.com")
    copy = make_copy(base, who, "C4", "1 May 2026")
    doc = pdfium.PdfDocument(copy.pdf)
    page = doc[0]
    text = page.get_textpage()
    panel = base.meta["layout"]["cover"]
    right_limit = panel["x"] + panel["width"]
    in_panel = 0
    for i in range(text.count_chars()):
        _left, bottom, right, _top = text.get_charbox(i)
        if right > 0 and panel["detail_y"] - 5 <= bottom <= panel["label_y"] + 10:
            in_panel += 1
            assert right <= right_limit + 0.5
    assert in_panel > 20
    assert "\u2026" in text.get_text_range()


def test_copies_are_deterministic(base: BaseArtifact) -> None:
    """The same recipient, ID and date give byte-identical copies."""
    who = Recipient("Jane", "Acme", "jane@acme.example")
    assert make_copy(base, who, "D1", "1 May 2026").pdf == make_copy(base, who, "D1", "1 May 2026").pdf


def test_control_characters_are_removed() -> None:
    """Control and line-break characters never reach the PDF text."""
    assert clean("Jane\r\nSmith\x00\t Jr.") == "Jane Smith Jr."


def _section_at(pdf: bytes, at: int) -> bytes:
    """The cross-reference section at offset ``at``: a classic table and its trailer, or the
    dictionary of a cross-reference stream."""
    if pdf.startswith(b"xref", at):
        return pdf[at:pdf.index(b"startxref", at)]
    m = re.compile(rb"\d+ 0 obj\s*(<<.*?>>)\s*stream\r?\n", re.S).match(pdf, at)
    assert m is not None, f"offset {at} holds neither a table nor a stream"
    return m.group(1)


def _startxref(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def test_update_is_a_cross_reference_stream_after_the_base(base: BaseArtifact) -> None:
    """The base ends in a cross-reference stream, so the copy's update is one too: no classic
    table, /Prev at the base's startxref, the base's first ID kept; objects the base packed in
    object streams (Info, the web links) are replaced (the links by versions in the update's
    own object stream), and qpdf, pypdf and pdfium read the copy."""
    copy = make_copy(base, Recipient("Jane Smith", "Acme", "jane@acme.example"), "XS-123", "1 May 2026")
    tail = copy.pdf[len(base.pdf):]
    assert len(tail) <= 22 * 1024  # 26 KB with every object of the update on its own
    assert not re.search(rb"(?<!start)xref\s", tail) and b"trailer" not in tail
    assert b"/Type /XRef" in _section_at(base.pdf, _startxref(base.pdf))
    update = _section_at(copy.pdf, _startxref(copy.pdf))
    assert _startxref(copy.pdf) >= len(base.pdf) and b"/Type /XRef" in update
    assert int(re.search(rb"/Prev (\d+)", update).group(1)) == _startxref(base.pdf)  # type: ignore[union-attr]
    for key in (b"/Root", b"/Info", b"/Size", b"/W", b"/Index"):
        assert key in update
    objs = base.objects
    # Info and the link annotations lived in the base's object streams; the copy's links live
    # in the update's own object stream, its Info on its own: the copy ID stays in plain bytes.
    for num in [objs["info"], *(num for num, _body, _uri in objs["links"])]:
        assert not re.search(rb"(?:^|\n)%d 0 obj" % num, base.pdf)
        assert bool(re.search(rb"\n%d 0 obj" % num, tail)) == (num == objs["info"])
    assert tail.count(b"/Type /ObjStm") == 1 and b"/CopyID (XS-123)" in tail
    with pikepdf.open(io.BytesIO(copy.pdf)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert str(pdf.docinfo.CopyID) == "XS-123"
        assert bytes(pdf.trailer.ID[0]) == bytes.fromhex(objs["id"].strip("<>"))
    reader = pypdf.PdfReader(io.BytesIO(copy.pdf), strict=True)
    assert "Jane Smith, Acme" in reader.pages[0].extract_text()
    assert reader.metadata is not None and reader.metadata["/CopyID"] == "XS-123"
    uris = [a.get_object()["/A"]["/URI"] for page in reader.pages for a in page.get("/Annots", [])
            if str(a.get_object().get("/A", {}).get("/URI", "")).startswith("http")]
    assert len(uris) == len(objs["links"]) and all(u.endswith("copy=XS-123") for u in uris)
    assert "Jane Smith, Acme" in _pages_text(copy.pdf)[0]


def test_a_base_with_a_classic_table_gets_a_classic_update(tmp_path: Path, sample_pdf: Any) -> None:
    """A base built before object streams (kept on disk while its content is unchanged) still
    gets an update its readers accept: a classic table whose /Prev is the base's table."""
    shutil.copytree(ROOT / "content" / "pacs", tmp_path / "content" / "pacs")
    shutil.copytree(ROOT / "assets", tmp_path / "assets")
    shutil.copytree(sample_pdf.cache_dir, tmp_path / "cache")
    with mock.patch("pacspdf.document.compact.compact", lambda pdf: pdf):
        result = build(tmp_path / "content" / "pacs", tmp_path / "old.pdf", cache_dir=tmp_path / "cache")
    old = BaseArtifact.load(result.path)
    assert old.pdf.startswith(b"%PDF-1.4")
    copy = make_copy(old, Recipient("Jane Smith", "Acme", "jane@acme.example"), "CL-1", "1 May 2026")
    update = _section_at(copy.pdf, _startxref(copy.pdf))
    assert update.startswith(b"xref") and b"/Prev %d " % _startxref(old.pdf) in update
    with pikepdf.open(io.BytesIO(copy.pdf)) as pdf:
        assert pdf.check_pdf_syntax() == [] and str(pdf.docinfo.CopyID) == "CL-1"
    assert "Jane Smith, Acme" in _pages_text(copy.pdf)[0]
