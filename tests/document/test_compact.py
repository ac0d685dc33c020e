"""The built PDF keeps its plain objects in Flate object streams behind a cross-reference stream."""

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
from hypothesis import given
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from pacspdf.build import build
from pacspdf.document.compact import PER_STREAM, _predict_up, _unpredict_up, compact, read_objects

ROOT = Path(__file__).resolve().parents[2]
#: ReportLab's own layout of the PACS sample (a classic table, every object on its own) was
#: 274,032 bytes, 19 pages, before object streams; the target is 250 KB.
TARGET = 250 * 1024


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, sample_pdf: Any) -> tuple[bytes, bytes]:
    """The PACS sample as ReportLab writes it (the compaction step turned off) and as built."""
    tmp = tmp_path_factory.mktemp("compact")
    shutil.copytree(ROOT / "content" / "pacs", tmp / "content" / "pacs")
    shutil.copytree(ROOT / "assets", tmp / "assets")
    shutil.copytree(sample_pdf.cache_dir, tmp / "cache")
    with mock.patch("pacspdf.document.compact.compact", lambda pdf: pdf):
        classic = build(tmp / "content" / "pacs", tmp / "classic.pdf", cache_dir=tmp / "cache")
    return classic.path.read_bytes(), sample_pdf.path.read_bytes()


def _tail_dict(pdf: bytes) -> bytes:
    """The dictionary of the object that the file's last ``startxref`` points at."""
    at = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    m = re.compile(rb"\d+ 0 obj\s*(<<.*?>>)\s*stream", re.S).match(pdf, at)
    assert m is not None, f"startxref {at} does not point at a stream object"
    return m.group(1)


def _top_level_plain(pdf: bytes) -> list[int]:
    """Objects written on their own whose body is not a stream."""
    objs = read_objects(pdf)
    return [n for n in re.findall(rb"(?:^|\n)(\d+) 0 obj\b", pdf) if not objs.is_stream(int(n))]


def test_no_classic_table_and_plain_objects_in_object_streams(pair: tuple[bytes, bytes]) -> None:
    """PDF 1.7 header, binary comment kept; no ``xref``/``trailer``; the trailer is a cross-reference
    stream with /Root /Info /ID /Size /W /Index; only streams stand on their own."""
    classic, built = pair
    assert classic.startswith(b"%PDF-1.4") and b"\nxref\n" in classic and b"\ntrailer\n" in classic
    assert built.startswith(b"%PDF-1.7\n%\x93\x8c\x8b\x9e")
    assert b"\nxref\n" not in built and b"trailer" not in built
    head = _tail_dict(built)
    assert b"/Type /XRef" in head
    for key in (b"/Root", b"/Info", b"/ID", b"/Size", b"/W", b"/Index", b"/Prev"):
        assert (key in head) == (key != b"/Prev"), key
    assert built.count(b"/Type /ObjStm") >= 2
    assert _top_level_plain(built) == []
    assert len(_top_level_plain(classic)) > 600  # structure elements, annotations, pages ...


def test_every_object_survives_unchanged(pair: tuple[bytes, bytes]) -> None:
    """qpdf finds no syntax error; each object of ReportLab's file is, by number, the same object
    in the built file (dictionaries and arrays as parsed, streams to the byte)."""
    classic, built = pair
    with pikepdf.open(io.BytesIO(classic)) as a, pikepdf.open(io.BytesIO(built)) as b:
        assert b.check_pdf_syntax() == []
        assert str(b.pdf_version) == "1.7"
        numbers = [o.objgen for o in a.objects if o.objgen != (0, 0)]
        assert len(numbers) > 1000
        for objgen in numbers:
            x, y = a.get_object(objgen), b.get_object(objgen)
            assert x.unparse() == y.unparse(), objgen
            if isinstance(x, pikepdf.Stream):
                assert x.read_raw_bytes() == y.read_raw_bytes(), objgen
        assert a.trailer.ID == b.trailer.ID
        assert a.Root.objgen == b.Root.objgen and a.docinfo.objgen == b.docinfo.objgen


def test_readers_see_the_same_document(pair: tuple[bytes, bytes]) -> None:
    """pypdf (strict) reads every page's text and the structure tree root, pdfium the same text."""
    classic, built = pair
    old, new = pypdf.PdfReader(io.BytesIO(classic)), pypdf.PdfReader(io.BytesIO(built), strict=True)
    assert len(new.pages) == len(old.pages) > 10
    for p, q in zip(old.pages, new.pages, strict=True):
        text = q.extract_text()
        assert text == p.extract_text() and text.strip()
    tree, was = new.trailer["/Root"]["/StructTreeRoot"], old.trailer["/Root"]["/StructTreeRoot"]
    assert tree["/Type"] == "/StructTreeRoot" and len(tree["/K"]) >= 1
    assert int(tree["/ParentTreeNextKey"]) == int(was["/ParentTreeNextKey"]) >= len(new.pages)
    a, b = pdfium.PdfDocument(classic), pdfium.PdfDocument(built)
    for i in range(len(a)):
        assert b[i].get_textpage().get_text_range() == a[i].get_textpage().get_text_range()


def test_the_sample_meets_its_size_target(pair: tuple[bytes, bytes]) -> None:
    """Packing saves at least a third of ReportLab's file and brings the sample under 250 KB."""
    classic, built = pair
    assert len(built) <= TARGET
    assert len(built) <= 0.67 * len(classic)


def test_compacting_is_deterministic_and_what_the_build_writes(pair: tuple[bytes, bytes]) -> None:
    classic, built = pair
    assert compact(classic) == compact(classic) == built


def _reportlab_file(pages: int) -> bytes:
    """A plain ReportLab file of ``pages`` pages, each with text, a web link, an internal link
    and an outline entry: many small objects, more than one object stream holds."""
    buf = io.BytesIO()
    canv = Canvas(buf, pagesize=A4, invariant=1)
    for i in range(pages):
        canv.bookmarkPage(f"p{i}")
        canv.addOutlineEntry(f"Page (\\{i}) »", f"p{i}", level=0)
        canv.drawString(72, 720, f"Page {i}: endobj stream )( \\ text")
        canv.linkURL(f"https://example.com/{i}?a=1&b=(2)", (72, 700, 200, 712))
        canv.linkAbsolute("first", "p0", (72, 680, 200, 692))
        canv.showPage()
    canv.save()
    return buf.getvalue()


@pytest.mark.parametrize("pages", [1, 3, PER_STREAM // 2])
def test_any_reportlab_file_compacts_without_loss(pages: int) -> None:
    """Whatever ReportLab writes (one page, several, several object streams' worth of objects):
    the same objects and text, read back by qpdf, pypdf, pdfium and our own reader."""
    classic = _reportlab_file(pages)
    built = compact(classic)
    assert len(built) < len(classic)
    assert read_objects(built).bodies.items() >= read_objects(classic).bodies.items()
    with pikepdf.open(io.BytesIO(classic)) as a, pikepdf.open(io.BytesIO(built)) as b:
        assert b.check_pdf_syntax() == []
        for o in a.objects:
            if o.objgen != (0, 0):
                assert b.get_object(o.objgen).unparse() == o.unparse()
        assert len(b.open_outline().root) == pages
    reader = pypdf.PdfReader(io.BytesIO(built), strict=True)
    assert [p.extract_text() for p in reader.pages] == [
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(classic)).pages]
    last = reader.pages[-1]["/Annots"][0].get_object()
    assert last["/A"]["/URI"] == f"https://example.com/{pages - 1}?a=1&b=(2)"
    doc = pdfium.PdfDocument(built)
    assert len(doc) == pages and f"Page {pages - 1}:" in doc[pages - 1].get_textpage().get_text_range()


def test_reader_reads_both_layouts_and_refuses_what_is_not_a_pdf() -> None:
    """read_objects gives the same objects and trailer facts for both layouts; a file without
    startxref, or whose table points nowhere, is a ValueError, never a wrong answer."""
    classic = _reportlab_file(2)
    a, b = read_objects(classic), read_objects(compact(classic))
    assert (a.root, a.info, a.id) == (b.root, b.info, b.id)
    assert b.size > a.size and b.startxref > 0
    with pytest.raises(ValueError, match="startxref"):
        read_objects(classic[:-40])
    moved = re.sub(rb"startxref\n(\d+)", lambda m: b"startxref\n%d" % (int(m.group(1)) - 7), classic)
    with pytest.raises(ValueError):
        read_objects(moved)
    with pytest.raises(ValueError, match="not a PDF"):
        compact(b"%!PS" + classic[4:])


@given(st.binary(max_size=600), st.integers(min_value=1, max_value=9), st.data())
def test_png_up_prediction_round_trips(raw: bytes, columns: int, data: st.DataObject) -> None:
    """Rows predicted "Up" come back as they were, and so do rows that another writer left
    unpredicted (filter type 0) among them."""
    rows = raw[:len(raw) - len(raw) % columns]
    assert _unpredict_up(_predict_up(rows, columns) if rows else b"", columns) == rows
    count = len(rows) // columns
    plain = data.draw(st.sets(st.integers(min_value=0, max_value=max(0, count - 1))))
    mixed, prev = bytearray(), bytes(columns)
    for r in range(count):
        row = rows[r * columns:(r + 1) * columns]
        up = bytes((a - b) & 0xFF for a, b in zip(row, prev, strict=True))
        mixed += b"\x00" + row if r in plain else b"\x02" + up
        prev = row
    assert _unpredict_up(bytes(mixed), columns) == rows
