"""Turn a base sample PDF into a personalised copy by appending a small incremental update.

The base build reserves two form XObjects: the cover's "Prepared for" block and a footer
line shared by every page. A copy is the base file's bytes, unchanged, followed by an
update that replaces those two forms, adds a tiny TrueType subset holding exactly the
glyphs the personal text needs, and a new document-information dictionary carrying the
copy ID. Nothing is re-rendered; a copy costs a few milliseconds. The update is indexed
as the base is: after a base packed into object streams, by a cross-reference stream whose
/Prev is the base's, with the update's small dictionaries in an object stream of its own
(a replaced object may have lived in one of the base's object streams: its new entry
overrides it); after a classic base, by a classic table (:meth:`_Update.finish`).

Where the personal text goes (the reserved forms' object numbers and the block's geometry)
is read from the base build's sidecar, whose format :mod:`pacspdf.document.personal` owns.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlencode

from pacspdf.delivery.personal_text import can_show, footer_line, keeps_joiner, wrap
from pacspdf.delivery.shaped_font import ShapedSubset, actual_text, needs_shaping
from pacspdf.document.compact import byte_width, object_stream
from pacspdf.document.personal import BaseArtifact, ObjectsSpec

ELLIPSIS = "\u2026"
#: Characters the text font's subset holds first, in this order, so that most copies share
#: one subset (made and compressed once): the letters, digits and signs of names, emails,
#: copy IDs and dates, and the middle dot and ellipsis of the copy's lines. Only a copy whose
#: name and company use the brand fonts alone and need at most ``MAX_OWN_GLYPHS`` other
#: glyphs gets it (about 4 KB more than an exact subset: a copy stays within 30 KB).
COMMON = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 @.-_,'&"
          "\u00b7" + ELLIPSIS)
MAX_OWN_GLYPHS = 8


class Person(Protocol):
    """Who a copy is for; read-only, so frozen dataclasses (Recipient, Enquiry) satisfy it."""

    @property
    def name(self) -> str: ...

    @property
    def company(self) -> str: ...

    @property
    def email(self) -> str: ...


@dataclass(frozen=True)
class Recipient:
    name: str
    company: str
    email: str


@dataclass
class PersonalCopy:
    pdf: bytes
    copy_id: str
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- fonts

@lru_cache(maxsize=8)
def _face(path: str) -> Any:
    from reportlab.pdfbase.ttfonts import TTFontFace

    return TTFontFace(path)


class _Metrics:
    """What a face says about characters, memoised (shared by every copy in the process)."""

    def __init__(self, face: Any) -> None:
        self.face = face
        self.shown: set[str] = set()       # characters the face has
        self.widths: dict[str, float] = {}

    def can_show(self, text: str) -> bool:
        chars = set(text)
        if chars <= self.shown:
            return True
        has = self.face.charToGlyph
        for ch in chars - self.shown:
            if ord(ch) not in has:
                return False
            self.shown.add(ch)
        return True

    def width(self, text: str) -> float:
        """Sum of the advance widths, in thousandths of the size (in text order, as ReportLab adds)."""
        widths = self.widths
        try:
            return sum(map(widths.__getitem__, text))
        except KeyError:
            for ch in text:
                if ch not in widths:
                    widths[ch] = float(self.face.getCharWidth(ord(ch)))
            return sum(map(widths.__getitem__, text))


@lru_cache(maxsize=8)
def _metrics(path: str) -> _Metrics:
    return _Metrics(_face(path))


@lru_cache(maxsize=8)
def _seed_codes(path: str, chars: str) -> dict[int, int]:
    """Codes 0, 1, ... for the characters of ``chars`` the face has, in that order."""
    metrics = _metrics(path)
    codes: dict[int, int] = {}
    for ch in chars:
        if metrics.can_show(ch):
            codes.setdefault(ord(ch), len(codes))
    return codes


class _Subset:
    """One font's glyphs for this copy: unicode code point -> one-byte code."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.metrics = _metrics(path)
        self.face = self.metrics.face
        self.codes: dict[int, int] = {}
        self.seeded = False

    def can_show(self, text: str) -> bool:
        return self.metrics.can_show(text)

    def seed(self, chars: str) -> None:
        """Give ``chars`` (those the face has) the first codes, in this order, before any text."""
        assert not self.codes
        self.seeded = True
        self.codes = dict(_seed_codes(self.path, chars))

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for ch in text:
            cp = ord(ch)
            if cp not in self.codes:
                self.codes[cp] = len(self.codes)
            out.append(self.codes[cp])
        return bytes(out)

    def width(self, text: str, size: float) -> float:
        return self.metrics.width(text) * size / 1000.0

    def show(self, text: str, size: float) -> str:
        return f"<{self.encode(text).hex()}> Tj"


_Font = _Subset | ShapedSubset


def _fallback(path: str) -> _Font:
    """A fallback font: shaped by HarfBuzz when it is for a complex script (Indic ...)."""
    return ShapedSubset(path) if needs_shaping(path) else _Subset(path)


def _fit(sub: _Subset, text: str, size: float, min_size: float, width: float) -> tuple[str, float]:
    """Shrink ``text`` down to ``min_size`` to fit ``width``; past that, cut it with an ellipsis."""
    while size > min_size and sub.width(text, size) > width:
        size = max(min_size, size - 0.5)
    if sub.width(text, size) <= width:
        return text, size
    while text and sub.width(text + ELLIPSIS, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS, size


# ---------------------------------------------------------------- text cleaning

def clean(text: str, limit: int = 120) -> str:
    """Single-line, printable text for the page: NFC, invisible characters dropped, spaces collapsed.

    Format characters (zero-width space and joiners, word joiner, soft hyphen, BOM, bidi marks)
    draw nothing in a correct text engine but a gap in a PDF text run ("Ali ce"), so they are
    dropped (except a zero-width joiner or non-joiner inside a word of a shaped script, where it
    chooses a conjunct's form); controls and other separators become spaces. The mail headers
    keep the typed form.
    """
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(c if keeps_joiner(text, i) else "" if unicodedata.category(c) == "Cf"
                   else " " if unicodedata.category(c)[0] in "CZ" else c for i, c in enumerate(text))
    return " ".join(text.split())[:limit]


# Scripts whose text names its language, and scripts shared by many languages (BCP 47
# "und-<Script>": language undetermined, script known). Latin text keeps the document's
# language: nothing in a name says which Latin-script language it is.
_SCRIPT_LANG = {"GREEK": "el", "HEBREW": "he", "ARMENIAN": "hy", "GEORGIAN": "ka", "THAI": "th",
                "HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "CYRILLIC": "und-Cyrl",
                "ARABIC": "und-Arab", "CJK": "und-Hani", "DEVANAGARI": "und-Deva"}


def span_lang(text: str) -> str | None:
    """The BCP 47 tag for a span such as a person's name, or None for the document's own."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            lang = _SCRIPT_LANG.get(unicodedata.name(ch, "").split(" ", 1)[0])
            if lang:
                counts[lang] = counts.get(lang, 0) + 1
    if not counts:
        return None
    if "ja" in counts:  # kana marks Japanese even among Han characters
        return "ja"
    return max(sorted(counts), key=lambda k: counts[k])


def marked_span(op: str, lang: str | None) -> str:
    """Content-stream ``op`` inside a ``/Span`` that carries ``/Lang``. It has no MCID: the span
    belongs to the marked content that draws the form (the cover's personal P)."""
    return f"/Span <</Lang {_pdf_string(lang)}>> BDC {op} EMC" if lang else op


def _pdf_string(text: str) -> str:
    """A PDF text string (UTF-16BE hex when not plain ASCII)."""
    if all(32 <= ord(c) < 127 for c in text):
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


# ---------------------------------------------------------------- the copy

def make_copy(base: BaseArtifact, recipient: Person, copy_id: str, date: str) -> PersonalCopy:
    """The base PDF plus an incremental update naming ``recipient`` on the cover and every footer.

    Names in scripts the brand fonts lack (Chinese, Japanese, Korean, Arabic, Hebrew ...) are
    set in the brand's fallback fonts, in visual order; a long name wraps onto a second line on
    the cover and is shortened first in the footer, so that the email and copy ID stay whole.
    Every web link of the copy gets the copy ID as a query parameter.
    """
    m = base.meta
    lay = m["layout"]
    warnings: list[str] = []
    bold = _Subset(m["fonts"]["semibold"])
    regular = _Subset(m["fonts"]["regular"])
    fallback_paths = [str(p) for p in m["fonts"].get("fallback", [])]
    name, company, email = clean(recipient.name), clean(recipient.company), clean(recipient.email, 254)
    if not bold.can_show(email) or not regular.can_show(email):
        warnings.append("email address contains characters the brand fonts cannot show; "
                        "the copy names only its ID")
        email = ""
    who = ", ".join(x for x in (name, company) if x)
    fallbacks: list[_Font] = []
    if who and not (bold.can_show(who) and regular.can_show(who)):
        fallbacks = [_fallback(p) for p in fallback_paths]
    heads: list[_Font] = [bold, *fallbacks]
    texts: list[_Font] = [regular, *fallbacks]
    if not who or not can_show(who, heads) or not can_show(who, texts):
        if who:
            warnings.append(f"name or company contains characters the brand and fallback fonts cannot show; "
                            f"the copy is addressed to {email or 'its copy ID'} instead")
        who = email or f"Copy {copy_id}"
    detail = " · ".join(x for x in (email, f"Copy {copy_id}", date) if x)
    if not fallbacks and len(set(who + detail).difference(COMMON)) <= MAX_OWN_GLYPHS:
        # The common glyphs come first, in a fixed order: most copies then need no glyph of
        # their own, share one subset, and its font objects are made once (_font_objects).
        regular.seed(COMMON)

    c = lay["cover"]
    names = ["PP1"] + [f"PP{3 + i}" for i in range(len(fallbacks))]
    lines, who_size = wrap(who, heads, c["name_size"], c["name_min_size"], c["width"], max_lines=2)
    name_ys = c["name_y"] if len(lines) == 1 else c["name_two_y"]
    if len(lines) == 1:
        name_ys = [name_ys]
    detail_text = _fit(regular, detail, c["detail_size"], c["detail_size"], c["width"])[0]
    cover_ops = [_text_op("PP1", bold, c["label"], c["label_size"], c["x"], c["label_y"], c["label_rgb"])]
    for line, y in zip(lines, name_ys, strict=False):
        cover_ops.append(marked_span(_runs_op(line, names, heads, who_size, c["x"], y, c["name_rgb"]),
                                     span_lang(who)))
    cover_ops.append(_text_op("PP2", regular, detail_text, c["detail_size"], c["x"],
                              c["detail_two_y"] if len(lines) > 1 else c["detail_y"], c["detail_rgb"]))
    f = lay["footer"]
    text_names = ["PP2"] + [f"PP{3 + i}" for i in range(len(fallbacks))]
    keep = [x for x in (email if who != email else "", f"copy {copy_id}") if x]
    footer_runs, footer_size = footer_line("Prepared for ", who, keep, texts, f["size"], 6.0, f["width"])
    footer_ops = [_runs_op(footer_runs, text_names, texts, footer_size, f["x"], f["y"], f["rgb"])]
    info_extra = {"PreparedFor": who, "CopyID": copy_id}
    if email:
        info_extra["PreparedForEmail"] = email
    update = _Update(base.pdf, base.objects)
    font_refs = {}
    for n, (res_name, sub) in enumerate((("PP1", bold), ("PP2", regular),
                                         *((f"PP{3 + i}", fb) for i, fb in enumerate(fallbacks)))):
        if sub.codes:
            font_refs[res_name] = _add_font(update, sub, n)
    resources = "<< /Font << " + " ".join(f"/{k} {v} 0 R" for k, v in font_refs.items()) + " >> >>"
    objs = base.objects
    width = lay["page"][0]
    update.replace_stream(objs["cover"], "\n".join(cover_ops).encode("latin-1"),
                          _form_dict(width, lay["page"][1], resources))
    update.replace_stream(objs["footer"], "\n".join(footer_ops).encode("latin-1"),
                          _form_dict(width, f["form_height"], resources))
    tag_query = urlencode({m.get("copy_param") or "copy": copy_id})
    for num, body, uri in objs["links"]:
        tagged = uri + ("&" if "?" in uri else "?") + tag_query
        update.replace(num, body.replace(f"/URI ({uri})", f"/URI ({_pdf_literal(tagged)})")
                       .encode("latin-1"))
    info = objs["info_body"].rstrip()
    assert info.endswith(">>")
    extra = " ".join(f"/{k} {_pdf_string(v)}" for k, v in info_extra.items())
    update.replace(objs["info"], (info[:-2] + " " + extra + " >>").encode("latin-1"))
    return PersonalCopy(update.finish(copy_id), copy_id, warnings)


def _runs_op(parts: list[tuple[int, str]], names: list[str], subs: list[_Font], size: float, x: float,
             y: float, rgb: str) -> str:
    """One line of text in several fonts: each run selects its font and shows its glyphs."""
    shows = " ".join(f"/{names[i]} {size} Tf {subs[i].show(t, size)}" for i, t in parts)
    if any(isinstance(subs[i], ShapedSubset) for i, _ in parts):
        shows = actual_text("".join(t for _, t in parts), shows)
    return f"{rgb} rg BT {x} {y} Td {shows} ET"


def _pdf_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_op(font: str, sub: _Subset, text: str, size: float, x: float, y: float, rgb: str) -> str:
    return f"{rgb} rg BT /{font} {size} Tf {x} {y} Td <{sub.encode(text).hex()}> Tj ET"


def _form_dict(width: float, height: float, resources: str) -> str:
    return (f"/Type /XObject /Subtype /Form /FormType 1 /BBox [0 0 {width} {height}] "
            f"/Matrix [1 0 0 1 0 0] /Resources {resources}")


# Stand-ins for object numbers in the cached font objects, replaced when a copy adds them.
_FF, _DESC, _CMAP = b"\x00ff\x00", b"\x00desc\x00", b"\x00cmap\x00"


@lru_cache(maxsize=64)
def _font_objects(path: str, subset: tuple[int, ...], n: int,
                  level: int) -> tuple[bytes, bytes, bytes, bytes]:
    """The bodies of the font file, ToUnicode CMap, descriptor and font dictionary of a subset
    holding ``subset``'s code points in that order, as font number ``n`` of a copy.

    They depend on nothing else: the subset's tag is derived from the same inputs, so every
    copy with this subset (most copies, for the seeded text font) shares them, made once.
    """
    from reportlab.pdfbase.ttfonts import makeToUnicodeCMap

    face = _face(path)
    name = _subset_name(face, f"{n}/{subset}")
    return _font_bodies(face, list(subset), name, makeToUnicodeCMap(name, list(subset)), level)


def _shaped_font_objects(sub: ShapedSubset, subset: list[int], n: int) -> tuple[bytes, bytes, bytes, bytes]:
    """As :func:`_font_objects`, for a shaped subset: its code points stand for (glyph, text)
    pairs numbered per process, so the tag derives from those pairs, not from the numbers."""
    name = _subset_name(sub.face, f"{n}/{sub.glyphs(subset)}")
    return _font_bodies(sub.face, subset, name, sub.to_unicode(name, subset), 1)


def _subset_name(face: Any, what: str) -> str:
    """The subset's PDF font name: a six-letter tag derived from ``what``, then the face's name."""
    face_name = face.name.decode("latin-1") if isinstance(face.name, bytes) else face.name
    digest = hashlib.sha256(f"{face_name}/{what}".encode()).digest()
    return f"{''.join(chr(65 + b % 26) for b in digest[:6])}+{face_name}"


def _font_bodies(face: Any, subset: list[int], name: str, to_unicode: str,
                 level: int) -> tuple[bytes, bytes, bytes, bytes]:
    """The four objects' bodies, with stand-ins where the other objects' numbers go."""
    font_file = face.makeSubset(subset)
    font_stream = _stream(font_file, f"/Length1 {len(font_file)}", level)
    cmap = _stream(to_unicode.encode("latin-1"), "", level)
    flags = (face.flags & ~32) | 4
    desc = (f"<< /Type /FontDescriptor /Ascent {face.ascent} /CapHeight {face.capHeight} "
            f"/Descent {face.descent} "
            f"/Flags {flags} /FontBBox [{' '.join(str(v) for v in face.bbox)}] /FontName /{name} "
            f"/ItalicAngle {face.italicAngle} /StemV {face.stemV} /FontFile2 ").encode("latin-1") + _FF + (
            f" 0 R /MissingWidth {face.defaultWidth} >>").encode("latin-1")
    widths = " ".join(str(face.getCharWidth(cp)) for cp in subset)
    font = (f"<< /Type /Font /Subtype /TrueType /BaseFont /{name} /FirstChar 0 /LastChar {len(subset) - 1} "
            f"/Widths [{widths}] /FontDescriptor ").encode("latin-1") + _DESC + b" 0 R /ToUnicode " \
        + _CMAP + b" 0 R >>"
    return font_stream, cmap, desc, font


def _add_font(update: _Update, sub: _Font, n: int) -> int:
    """Add the subset ``sub`` as font number ``n`` of the copy; the font dictionary's number."""
    subset = [0] * len(sub.codes)
    for cp, code in sub.codes.items():
        subset[code] = cp
    if isinstance(sub, ShapedSubset):
        font_stream, cmap, desc, font = _shaped_font_objects(sub, subset, n)
    else:
        # A shared (seeded) subset is compressed once, so as tightly as zlib can; an exact one per copy.
        font_stream, cmap, desc, font = _font_objects(sub.path, tuple(subset), n, 9 if sub.seeded else 1)
    ff = update.add(font_stream)
    cmap_num = update.add(cmap)
    desc_num = update.add(desc.replace(_FF, b"%d" % ff))
    return update.add(font.replace(_DESC, b"%d" % desc_num).replace(_CMAP, b"%d" % cmap_num))


def _stream(data: bytes, extra: str, level: int = 1) -> bytes:
    """A stream object's body: ``data`` deflated, with ``extra`` entries in its dictionary."""
    packed = zlib.compress(data, level)  # 1 by default: half the time of 6 for about 0.5 KB more per copy
    head = f"<< {extra} /Filter /FlateDecode /Length {len(packed)} >>\nstream\n".encode("latin-1")
    return head + packed + b"\nendstream"


class _Update:
    """Collects replaced and new objects and writes them as one incremental update."""

    def __init__(self, base: bytes, objects: ObjectsSpec) -> None:
        self.base = base
        self.objects = objects
        self.next_num = int(objects["size"])
        self.bodies: dict[int, bytes] = {}

    def add(self, body: bytes) -> int:
        num = self.next_num
        self.next_num += 1
        self.bodies[num] = body
        return num

    def replace(self, num: int, body: bytes) -> None:
        self.bodies[num] = body

    def add_stream(self, data: bytes, extra: str) -> int:
        return self.add(_stream(data, extra))

    def replace_stream(self, num: int, data: bytes, extra: str) -> None:
        self.replace(num, _stream(data, extra))

    def finish(self, copy_id: str) -> bytes:
        """The base and the update, indexed as the base is.

        After a base that ends in a cross-reference stream (as :mod:`pacspdf.document.compact`
        writes it), the update's streams stand on their own and its other objects (the tagged
        links, the font dictionaries) share one Flate object stream; a cross-reference stream
        indexes them. Info stands on its own too, so that the copy ID stays readable in the
        file's bytes (``grep``/``strings`` find whose copy a leaked file is). After a classic
        table (a base built before object streams), every object stands on its own behind a
        classic table.
        """
        out = bytearray() if self.base.endswith(b"\n") else bytearray(b"\n")
        start = len(self.base)  # the update is written on its own, then joined to the base once
        o = self.objects
        classic = self.base.startswith(b"xref", o["startxref"])
        entries: dict[int, tuple[int, int, int]] = {}
        plain: list[int] = []
        for num in sorted(self.bodies):
            body = self.bodies[num]
            if classic or body.endswith(b"endstream") or num == o["info"]:
                entries[num] = (1, start + len(out), 0)
                out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
            else:
                plain.append(num)
        if plain:
            packed = self.next_num
            self.next_num += 1
            entries[packed] = (1, start + len(out), 0)
            entries.update((num, (2, packed, i)) for i, num in enumerate(plain))
            out += object_stream(packed, plain, [self.bodies[num] for num in plain], level=1)
        second = hashlib.md5(copy_id.encode("utf-8"), usedforsecurity=False).hexdigest()
        facts = (f"/Root {o['root']} 0 R /Info {o['info']} 0 R /Prev {o['startxref']} "
                 f"/ID [{o['id']} <{second}>]").encode("latin-1")
        xref = start + len(out)
        if classic:
            out += b"xref\n"
            for num in sorted(entries):
                out += b"%d 1\n%010d 00000 n \n" % (num, entries[num][1])
            out += b"trailer\n<< /Size %d %s >>\n" % (self.next_num, facts)
        else:
            out += _xref_stream(self.next_num, entries, xref, facts)
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return self.base + out


def _xref_stream(num: int, entries: dict[int, tuple[int, int, int]], at: int, facts: bytes) -> bytes:
    """Object ``num`` at file offset ``at``: an unfiltered cross-reference stream (PDF 32000-1
    §7.5.8) for ``entries`` (number -> type, offset or object stream, generation or index) and
    itself, one subsection per run of numbers."""
    entries = {**entries, num: (1, at, 0)}
    two = byte_width(max(e[1] for e in entries.values()))
    three = byte_width(max(e[2] for e in entries.values()))
    index: list[int] = []
    rows = bytearray()
    for n in sorted(entries):
        if index and index[-2] + index[-1] == n:
            index[-1] += 1
        else:
            index += [n, 1]
        kind, field2, field3 = entries[n]
        rows += bytes((kind,)) + field2.to_bytes(two, "big") + field3.to_bytes(three, "big")
    head = (b"%d 0 obj\n<< /Type /XRef /Size %d /Index [%s] /W [1 %d %d] %s /Length %d >>\nstream\n"
            % (num, num + 1, " ".join(map(str, index)).encode("ascii"), two, three, facts, len(rows)))
    return head + bytes(rows) + b"\nendstream\nendobj\n"
