"""The sample is archival: PDF/A-2b by default (3b or none on request), XMP in step with Info."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from pacspdf.build import build
from pacspdf.document import icc
from pacspdf.document.archive import Archive, srgb_profile, xmp_date
from pdf_reading import UA_CLAIM_FINDINGS, pdfa_report, without_ua_claim


@pytest.fixture(scope="module")
def data(sample_pdf: Any) -> bytes:
    return bytes(sample_pdf.path.read_bytes())


def test_pdfa_2b_passes_all_but_the_ua_claim_pikepdf_cannot_approve(data: bytes) -> None:
    """pikepdf.pdfa finds nothing but its refusal of pdfuaid and of the PDF/A extension schema for
    it; the same bytes with the UA claim blanked out pass 2b outright."""
    report = pdfa_report(data, "2b")
    assert {f.message for f in report.findings} == UA_CLAIM_FINDINGS
    assert pdfa_report(without_ua_claim(data), "2b").passed


def test_blanking_the_ua_claim_keeps_offsets(data: bytes) -> None:
    """The blanked variant has the same length and differs only inside the XMP packet."""
    blanked = without_ua_claim(data)
    assert len(blanked) == len(data)
    start, end = data.index(b"<?xpacket begin"), data.index(b"<?xpacket end")
    assert blanked[:start] == data[:start] and blanked[end:] == data[end:]


@pytest.mark.slow
def test_3b_and_none_on_request(sample_pdf: Any, tmp_path: Path) -> None:
    """build(pdfa="3b") declares and passes 3b; "none" has no output intent and no PDF/A claim,
    and stays tagged (PDF/UA)."""
    cache = sample_pdf.cache_dir
    three = build(_content(), tmp_path / "3b.pdf", cache_dir=cache, pdfa="3b").path.read_bytes()
    assert b"<pdfaid:part>3</pdfaid:part>" in three
    assert pdfa_report(without_ua_claim(three), "3b").passed
    none = build(_content(), tmp_path / "none.pdf", cache_dir=cache, pdfa="none").path.read_bytes()
    with pikepdf.open(io.BytesIO(none)) as pdf:
        assert "/OutputIntents" not in pdf.Root
        meta = pdf.Root.Metadata.read_bytes()
        assert b"<pdfaid:part" not in meta and b"<pdfuaid:part>1</pdfuaid:part>" in meta
        assert "/StructTreeRoot" in pdf.Root


def _content() -> Path:
    return Path(__file__).resolve().parents[2] / "content" / "pacs"


def _xmp(pdf: pikepdf.Pdf) -> dict[str, str]:
    """The XMP packet's simple properties and first list items, by prefix:name."""
    prefixes = {"http://purl.org/dc/elements/1.1/": "dc", "http://ns.adobe.com/xap/1.0/": "xmp",
                "http://ns.adobe.com/pdf/1.3/": "pdf", "http://www.aiim.org/pdfa/ns/id/": "pdfaid",
                "http://www.aiim.org/pdfua/ns/id/": "pdfuaid"}
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    text = pdf.Root.Metadata.read_bytes().decode("utf-8")
    root = ET.fromstring(text[text.index("<x:xmpmeta"):text.index("<?xpacket end")])
    out: dict[str, str] = {}
    for desc in root.iter(f"{rdf}Description"):
        for el in desc:
            ns, _, name = el.tag[1:].partition("}")
            if ns not in prefixes:
                continue
            item = el.find(f".//{rdf}li")
            out[f"{prefixes[ns]}:{name}"] = (item.text if item is not None else el.text) or ""
    return out


def test_xmp_agrees_with_info(data: bytes) -> None:
    """Title, author, subject, keywords, tools, dates and language agree between Info and XMP."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        info, x = pdf.docinfo, _xmp(pdf)
        assert x["dc:title"] == str(info.Title).strip() and x["dc:title"].startswith("Healthcare")
        assert x["dc:creator"] == str(info.Author) and x["dc:description"] == str(info.Subject)
        assert x["pdf:Keywords"] == str(info.Keywords) and x["pdf:Producer"] == str(info.Producer)
        assert x["xmp:CreatorTool"] == str(info.Creator)
        assert x["xmp:CreateDate"] == xmp_date(str(info.CreationDate))
        assert x["xmp:ModifyDate"] == xmp_date(str(info.ModDate))
        assert x["dc:language"] == str(pdf.Root.Lang) == "en-GB"
        assert (x["pdfaid:part"], x["pdfaid:conformance"], x["pdfuaid:part"]) == ("2", "B", "1")


def test_xmp_date() -> None:
    """PDF dates become XMP dates; anything else is refused."""
    assert xmp_date("D:20250415000000+00'00'") == "2025-04-15T00:00:00+00:00"
    assert xmp_date("D:20250415093000Z") == "2025-04-15T09:30:00Z"
    with pytest.raises(ValueError):
        xmp_date("D:20251345000000")


def test_archive_refuses_unknown_conformance() -> None:
    with pytest.raises(ValueError, match="2b, 3b, none"):
        Archive(pdfa="1b")


def test_document_settings(data: bytes) -> None:
    """Marked, DisplayDocTitle, /Lang, tab order by structure, StructParents, no empty /Trans,
    no unembedded font, an sRGB output intent."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True and root.ViewerPreferences.DisplayDocTitle is True
        assert str(root.Lang) == "en-GB"
        for i, page in enumerate(pdf.pages):
            assert page.obj.Tabs == "/S" and int(page.obj.StructParents) == i
            assert "/Trans" not in page.obj
            for font in page.obj.Resources.get("/Font", {}).values():
                assert str(font.Subtype) != "/Type1"
        (intent,) = root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.read_bytes() == srgb_profile()


def test_icc_profile_is_the_generated_one_and_well_formed() -> None:
    """The shipped profile is what the generator makes, and reads as an ICC v2 RGB display profile."""
    data = srgb_profile()
    assert data == icc.build_profile()
    prof = icc.read_profile(data)
    assert (prof.version, prof.device_class, prof.colour_space, prof.pcs) == ((2, 1), "mntr", "RGB ", "XYZ ")
    assert set(icc.REQUIRED_TAGS) <= set(prof.tags) and prof.description.startswith("sRGB")


def test_icc_profile_is_srgb_for_littlecms() -> None:
    """LittleCMS (Pillow's ImageCms) reads the profile and maps its own sRGB onto it unchanged."""
    from PIL import Image, ImageCms

    ours = ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile()))
    transform = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ours, "RGB", "RGB")
    colours = [(10, 128, 250), (255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 200, 200), (17, 3, 90)]
    image = Image.new("RGB", (len(colours), 1))
    for i, c in enumerate(colours):
        image.putpixel((i, 0), c)
    out = ImageCms.applyTransform(image, transform)
    assert out is not None
    for i, c in enumerate(colours):
        got = out.getpixel((i, 0))
        assert isinstance(got, tuple) and max(abs(a - b) for a, b in zip(c, got, strict=True)) <= 1


def test_icc_reader_refuses_damage() -> None:
    """The reader is a real check: truncated or re-signed bytes are refused."""
    data = srgb_profile()
    with pytest.raises(ValueError, match="size"):
        icc.read_profile(data[:-4])
    with pytest.raises(ValueError, match="acsp"):
        icc.read_profile(data[:36] + b"xxxx" + data[40:])
