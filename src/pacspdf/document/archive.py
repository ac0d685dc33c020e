"""Turn a finished ReportLab document into a tagged PDF/A file: catalog keys, page keys, XMP, output intent.

ReportLab 5.1 drops ``/StructParents`` and ``/Tabs`` from pages and ``/OutputIntents``
from the catalog, and writes an empty ``/Trans`` on every page. :func:`finish` fixes
these on the document's own objects (each object gets its own key list, so nothing in
ReportLab is patched for other users), writes the structure tree recorded by the
canvas's :class:`~tags.Tagger`, and adds XMP metadata built from the same values as the
Info dictionary, so the two agree by construction. Everything is deterministic: dates
come from the document's date formatter and no identifier is random.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, cast
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfdoc

from pacspdf.document.tagcanvas import TaggedCanvas
from pacspdf.document.tags import RawObject
from pacspdf.reportlab_surface import canvas_document

CONFORMANCE = ("2b", "3b", "none")
ICC_NAME = "sRGB-v2.icc"
UA_NS = "http://www.aiim.org/pdfua/ns/id/"


@dataclass(frozen=True)
class Archive:
    """What the finished file declares: a PDF/A flavour ("2b", "3b" or "none") and PDF/UA-1."""

    pdfa: str = "2b"
    ua: bool = True

    def __post_init__(self) -> None:
        if self.pdfa not in CONFORMANCE:
            raise ValueError(f"PDF/A conformance must be one of {', '.join(CONFORMANCE)}, not {self.pdfa!r}")


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    return resources.files("pacspdf").joinpath("data").joinpath(ICC_NAME).read_bytes()


def _with_keys(obj: Any, *names: str) -> None:
    """Let this one ReportLab object write the extra keys ``names`` (an instance key list)."""
    cls = type(obj)
    obj.__NoDefault__ = [*cls.__NoDefault__, *(n for n in names if n not in cls.__NoDefault__)]
    refs = list(cls.__Refs__)
    obj.__Refs__ = refs  # the catalog shares one list for both: keep references as they were


def finish(canv: TaggedCanvas, archive: Archive) -> None:
    """Write structure, document settings and (unless "none") the PDF/A identification."""
    doc = canvas_document(canv)
    pages = doc.Pages.pages
    cat = doc.Catalog
    for i, page in enumerate(pages):
        _with_keys(page, "StructParents", "Tabs")
        page.Trans = None  # ReportLab writes an empty /Trans, which PDF/A validators refuse
        page.StructParents = i
        page.Tabs = pdfdoc.PDFName("S")
    _with_keys(cat, "OutputIntents")
    cat.StructTreeRoot = canv.tagger.write(doc, pages)
    cat.MarkInfo = pdfdoc.PDFDictionary({"Marked": pdfdoc.PDFtrue})
    cat.ViewerPreferences = pdfdoc.PDFDictionary({"DisplayDocTitle": pdfdoc.PDFtrue})
    if archive.pdfa != "none":
        icc = pdfdoc.PDFStream(pdfdoc.PDFDictionary({"N": 3}), srgb_profile(), filters=[pdfdoc.PDFZCompress])
        intent = pdfdoc.PDFDictionary({
            "Type": pdfdoc.PDFName("OutputIntent"), "S": pdfdoc.PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
            "RegistryName": pdfdoc.PDFString("http://www.color.org"),
            "DestOutputProfile": doc.Reference(icc, "OutputIntentProfile")})
        cat.OutputIntents = pdfdoc.PDFArray([intent])
    packet = xmp(info_values(doc), archive, _lang(cat)).encode("utf-8")
    # Unfiltered and without a /Filter key, so any tool can read (and a copy can rewrite) it.
    metadata = RawObject(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream"
                      % (len(packet), packet))
    cat.Metadata = doc.Reference(metadata, "XMPMetadata")


def _lang(cat: Any) -> str:
    lang = getattr(cat, "Lang", None)
    return str(getattr(lang, "s", lang) or "")


def info_values(doc: Any) -> dict[str, str]:
    """The Info dictionary's values exactly as ReportLab will write them."""
    info = doc.info
    date = pdfdoc.PDFDate(ts=doc._timeStamp, dateFormatter=info._dateFormatter).format(doc)
    stamp = date.decode("latin-1").strip("()")
    return {"Title": str(info.title), "Author": str(info.author), "Subject": str(info.subject),
            "Keywords": str(info.keywords), "Creator": str(info.creator), "Producer": str(info.producer),
            "CreationDate": stamp, "ModDate": stamp}


def xmp_date(pdf_date: str) -> str:
    """``D:20251015000000+00'00'`` -> ``2025-10-15T00:00:00+00:00``."""
    m = re.fullmatch(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:([+-])(\d{2})'(\d{2})'?|Z)?", pdf_date)
    if m is None:
        raise ValueError(f"not a PDF date: {pdf_date!r}")
    y, mo, d, h, mi, s, sign, tzh, tzm = m.groups()
    datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))  # a real date, or ValueError
    zone = f"{sign}{tzh}:{tzm}" if sign else "Z"
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}{zone}"


_UA_EXTENSION = f"""
   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>{UA_NS}</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed\
</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>"""


def xmp(values: dict[str, str], archive: Archive, lang: str) -> str:
    """The XMP packet: Dublin Core, XMP basic and PDF properties mirroring Info, plus the
    PDF/A and PDF/UA identification (and the extension schema PDF/A needs for pdfuaid)."""
    e = escape
    created, modified = xmp_date(values["CreationDate"]), xmp_date(values["ModDate"])
    lang_attr = e(lang or "x-default")
    props = [
        '  <dc:format>application/pdf</dc:format>',
        f'  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(values["Title"])}</rdf:li></rdf:Alt>'
        '</dc:title>',
        f'  <dc:creator><rdf:Seq><rdf:li>{e(values["Author"])}</rdf:li></rdf:Seq></dc:creator>',
        f'  <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(values["Subject"])}</rdf:li></rdf:Alt>'
        f'</dc:description>',
        f'  <pdf:Keywords>{e(values["Keywords"])}</pdf:Keywords>',
        f'  <pdf:Producer>{e(values["Producer"])}</pdf:Producer>',
        f'  <xmp:CreatorTool>{e(values["Creator"])}</xmp:CreatorTool>',
        f'  <xmp:CreateDate>{created}</xmp:CreateDate>',
        f'  <xmp:ModifyDate>{modified}</xmp:ModifyDate>',
        f'  <xmp:MetadataDate>{modified}</xmp:MetadataDate>',
    ]
    if lang:
        props.append(f'  <dc:language><rdf:Bag><rdf:li>{lang_attr}</rdf:li></rdf:Bag></dc:language>')
    if archive.pdfa != "none":
        props += [f'  <pdfaid:part>{archive.pdfa[0]}</pdfaid:part>',
                  f'  <pdfaid:conformance>{archive.pdfa[1].upper()}</pdfaid:conformance>']
    if archive.ua:
        props.append('  <pdfuaid:part>1</pdfuaid:part>')
        if archive.pdfa != "none":
            props.append(_UA_EXTENSION)
    body = "\n".join(props)
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:pdfuaid="{UA_NS}"
    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
{body}
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def canvas_maker(archive: Archive) -> Any:
    """A canvasmaker for ``multiBuild``: every pass gets a fresh :class:`DocumentCanvas`."""
    return functools.partial(DocumentCanvas, archive=archive)


class DocumentCanvas(TaggedCanvas):
    """The canvas of a tagged (and by default PDF/A-2b) document."""

    def __init__(self, *args: Any, archive: Archive | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.archive = archive or Archive()

    def save(self) -> None:
        if len(cast(Any, self)._code):  # a page still open
            self.showPage()
        finish(self, self.archive)
        super().save()
