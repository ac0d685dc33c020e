"""ReportLab's classic PDF bytes -> the same objects in object streams, behind a cross-reference stream.

ReportLab writes every object on its own and a classic ``xref`` table: in a tagged PDF most
of the file is then hundreds of small uncompressed dictionaries (structure elements, link
annotations, pages, number trees) and a 20-byte table line for each. :func:`compact`
rewrites the file (PDF 32000-1 §7.5.7, §7.5.8; PDF/A-2 and PDF/UA-1 permit both):

* the header says ``%PDF-1.7`` (object streams need 1.5); the binary comment line is kept;
* stream objects stay top-level, in number order, with their numbers and bytes unchanged
  (a stream cannot live in an object stream; the XMP packet stays unfiltered);
* every other object (all have generation 0) goes, in number order, into Flate-compressed
  object streams (``/Type /ObjStm``) of at most :data:`PER_STREAM` objects, numbered after
  the last original object;
* a Flate-compressed cross-reference stream (``/Type /XRef``, PNG "Up" predictor) ends the
  file; its dictionary is the trailer and carries ``/Root``, ``/Info`` and ``/ID`` unchanged.

Object numbers are kept, so references need no rewriting, and the result depends only on
the input bytes (deterministic). :func:`read_objects` reads a file back in either layout
(the sidecar's object facts come from it: :func:`pacspdf.document.personal.locate_objects`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from itertools import accumulate

#: Objects per object stream: large enough to share Flate's window across many similar
#: dictionaries, small enough that a reader fetching one object inflates little.
PER_STREAM = 200
HEADER = b"%PDF-1.7\n"
LEVEL = 6

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_OBJ_HEAD = re.compile(rb"(\d+)\s+(\d+)\s+obj\b[ \t\r\n]*")
_SUBSECTION = re.compile(rb"(\d+)[ \t]+(\d+)[ \t]*\r?\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])[ \r\n]{2}")
_REF = rb"\s+(\d+)\s+0\s+R"


@dataclass(frozen=True)
class PdfObjects:
    """A PDF file's objects (number -> the bytes between ``obj`` and ``endobj``) and trailer facts."""

    bodies: dict[int, bytes]
    trailer: bytes   # the trailer dictionary, or the cross-reference stream's dictionary
    root: int
    info: int
    size: int
    id: bytes        # the /ID array's text, e.g. ``[<ab..><ab..>]``
    startxref: int

    def is_stream(self, num: int) -> bool:
        return _is_stream(self.bodies[num])


def _is_stream(body: bytes) -> bool:
    return body.endswith(b"endstream")


def _one(pattern: bytes, text: bytes, what: str) -> bytes:
    m = re.search(pattern, text, re.S)
    if m is None:
        raise ValueError(f"PDF trailer lacks {what}")
    return bytes(m.group(1))


def _facts(trailer: bytes) -> tuple[int, int, int, bytes]:
    """/Root, /Info, /Size and /ID of a trailer dictionary (its ``%`` comments ignored)."""
    text = re.sub(rb"%[^\r\n]*", b"", trailer)
    return (int(_one(rb"/Root" + _REF, text, "/Root")), int(_one(rb"/Info" + _REF, text, "/Info")),
            int(_one(rb"/Size\s+(\d+)", text, "/Size")),
            re.sub(rb"\s+", b"", _one(rb"/ID\s*(\[[^\]]*\])", text, "/ID")))


def _body_at(pdf: bytes, offset: int, num: int, end: int) -> bytes:
    """The body of object ``num`` whose ``n 0 obj`` is at ``offset``; ``end`` bounds its ``endobj``."""
    m = _OBJ_HEAD.match(pdf, offset)
    if m is None or int(m.group(1)) != num:
        raise ValueError(f"PDF cross-reference table points object {num} at {offset}, where it is not")
    if int(m.group(2)) != 0:
        raise ValueError(f"PDF object {num} has generation {int(m.group(2))}")
    stop = pdf.rfind(b"endobj", m.end(), end)
    if stop < 0:
        raise ValueError(f"PDF object {num} has no endobj")
    return pdf[m.end():stop].rstrip(b" \t\r\n")


def read_objects(pdf: bytes) -> PdfObjects:
    """Every object of a one-section PDF (a classic table or a cross-reference stream)."""
    m = _STARTXREF.search(pdf, max(0, len(pdf) - 64))
    if m is None:
        raise ValueError("PDF lacks startxref at its end")
    start = int(m.group(1))
    if pdf.startswith(b"xref", start):
        return _read_classic(pdf, start)
    return _read_xref_stream(pdf, start)


def _read_classic(pdf: bytes, start: int) -> PdfObjects:
    pos = start + 4
    offsets: dict[int, int] = {}
    while True:
        while pdf[pos:pos + 1] in (b" ", b"\r", b"\n"):
            pos += 1
        sub = _SUBSECTION.match(pdf, pos)
        if sub is None:
            break
        first, count = int(sub.group(1)), int(sub.group(2))
        pos = sub.end()
        for i in range(count):
            entry = _ENTRY.match(pdf, pos)
            if entry is None:
                raise ValueError(f"PDF cross-reference entry {first + i} is malformed")
            pos = entry.end()
            if entry.group(3) == b"n":
                offsets[first + i] = int(entry.group(1))
    if not pdf.startswith(b"trailer", pos):
        raise ValueError("PDF cross-reference table is not followed by its trailer")
    trailer = pdf[pos + 7:pdf.index(b"startxref", pos)]
    bounds = sorted([*offsets.values(), start])
    after = {off: bounds[i + 1] for i, off in enumerate(bounds[:-1])}
    bodies = {num: _body_at(pdf, off, num, after[off]) for num, off in sorted(offsets.items())}
    root, info, size, ident = _facts(trailer)
    return PdfObjects(bodies, trailer, root, info, size, ident, start)


def _stream_data(body: bytes) -> tuple[bytes, bytes]:
    """A stream object's dictionary and its decoded data (Flate, with or without the PNG predictor)."""
    head = re.match(rb"(<<.*?>>)\s*stream\r?\n", body, re.S)
    if head is None:
        raise ValueError("PDF stream object is malformed")
    length = int(_one(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", head.group(1), "a direct stream /Length"))
    data = body[head.end():head.end() + length]
    if b"/FlateDecode" in head.group(1):
        data = zlib.decompress(data)
    parms = re.search(rb"/Predictor\s+(\d+)", head.group(1))
    if parms is not None and int(parms.group(1)) >= 10:
        columns = int(_one(rb"/Columns\s+(\d+)", head.group(1), "/Columns"))
        data = _unpredict_up(data, columns)
    return head.group(1), data


def _read_xref_stream(pdf: bytes, start: int) -> PdfObjects:
    m = _OBJ_HEAD.match(pdf, start)
    if m is None:
        raise ValueError("PDF startxref points at neither a table nor a cross-reference stream")
    end = pdf.index(b"endobj", m.end())
    trailer, data = _stream_data(pdf[m.end():end].rstrip())
    if b"/XRef" not in trailer:
        raise ValueError("PDF startxref points at a stream that is not a cross-reference stream")
    widths = [int(w) for w in _one(rb"/W\s*\[([^\]]*)\]", trailer, "/W").split()]
    root, info, size, ident = _facts(trailer)
    index_text = re.search(rb"/Index\s*\[([^\]]*)\]", trailer)
    index = [int(v) for v in index_text.group(1).split()] if index_text else [0, size]
    row, one, two = sum(widths), widths[0], widths[0] + widths[1]
    numbers = [n for first, count in zip(index[::2], index[1::2], strict=True)
               for n in range(first, first + count)]
    if len(data) < len(numbers) * row:
        raise ValueError("PDF cross-reference stream is shorter than its /Index says")
    entries: list[tuple[int, int, int, int]] = []
    for num, at in zip(numbers, range(0, len(numbers) * row, row), strict=True):
        kind = int.from_bytes(data[at:at + one], "big") if one else 1
        entries.append((num, kind, int.from_bytes(data[at + one:at + two], "big"),
                        int.from_bytes(data[at + two:at + row], "big")))
    offsets = {num: a for num, kind, a, _ in entries if kind == 1}
    bounds = sorted(offsets.values())
    after = {off: bounds[i + 1] if i + 1 < len(bounds) else len(pdf) for i, off in enumerate(bounds)}
    bodies = {num: _body_at(pdf, off, num, after[off]) for num, off in sorted(offsets.items())}
    packed: dict[int, list[bytes]] = {}
    for num, kind, stream_num, index_in in entries:
        if kind == 2:
            members = packed.get(stream_num)
            if members is None:
                members = packed[stream_num] = _unpack(bodies[stream_num])
            bodies[num] = members[index_in]
    return PdfObjects(dict(sorted(bodies.items())), trailer, root, info, size, ident, start)


def _unpack(body: bytes) -> list[bytes]:
    """The objects of an object stream, in their order."""
    head, data = _stream_data(body)
    first = int(_one(rb"/First\s+(\d+)", head, "/First"))
    pairs = [int(v) for v in data[:first].split()]
    starts = pairs[1::2]
    ends = [*starts[1:], len(data) - first]
    return [data[first + s:first + e].strip(b" \t\r\n\x00") for s, e in zip(starts, ends, strict=True)]


# ---------------------------------------------------------------- writing

def byte_width(value: int) -> int:
    """Bytes a cross-reference stream's field needs to hold ``value`` (at least one)."""
    return max(1, (value.bit_length() + 7) // 8)


def _predict_up(rows: bytes, columns: int) -> bytes:
    """PNG "Up" prediction (predictor 12): each row as its byte-wise difference from the row above."""
    diff = bytes((a - b) & 0xFF for a, b in zip(rows, bytes(columns) + rows[:-columns], strict=True))
    return b"".join(b"\x02" + diff[at:at + columns] for at in range(0, len(diff), columns))


def _unpredict_up(data: bytes, columns: int) -> bytes:
    """Undo PNG prediction of rows that each name their filter: None (0) or Up (2)."""
    kinds = data[::columns + 1]
    if set(kinds) - {0, 2}:
        raise ValueError(f"PNG predictor {sorted(set(kinds) - {0, 2})} in a stream is not supported")
    out = bytearray(b"".join(data[at + 1:at + 1 + columns] for at in range(0, len(data), columns + 1)))
    if set(kinds) == {2}:  # every row "Up": each column is a running sum, modulo 256
        for j in range(columns):
            sums: list[int] = list(accumulate(out[j::columns], _add_byte))
            out[j::columns] = bytes(sums)
        return bytes(out)
    for j in range(columns):
        column = out[j::columns]
        total = 0
        for i, (kind, value) in enumerate(zip(kinds, column, strict=True)):
            total = (total + value) & 0xFF if kind == 2 else value
            column[i] = total
        out[j::columns] = column
    return bytes(out)


def _add_byte(a: int, b: int) -> int:
    return (a + b) & 0xFF


def object_stream(num: int, numbers: list[int], bodies: list[bytes], level: int = LEVEL) -> bytes:
    """Object ``num``: a Flate object stream (PDF 32000-1 §7.5.7) holding ``bodies`` as objects
    ``numbers``, in that order (object ``numbers[i]`` is its member ``i``)."""
    index, pos = [], 0
    for n, body in zip(numbers, bodies, strict=True):
        index.append(b"%d %d" % (n, pos))
        pos += len(body) + 1
    head = b" ".join(index) + b"\n"
    entries = b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(bodies), len(head))
    return _stream_object(num, entries, zlib.compress(head + b"\n".join(bodies) + b"\n", level))


def _stream_object(num: int, entries: bytes, data: bytes) -> bytes:
    return (b"%d 0 obj\n<< %s /Length %d >>\nstream\n" % (num, entries, len(data))
            + data + b"\nendstream\nendobj\n")


def compact(pdf: bytes) -> bytes:
    """``pdf`` (one classic section, as ReportLab writes it) with object and cross-reference streams."""
    objs = read_objects(pdf)
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF file")
    if b"/Encrypt" in re.sub(rb"%[^\r\n]*", b"", objs.trailer):
        raise ValueError("an encrypted PDF cannot be compacted")
    line_end = pdf.index(b"\n") + 1
    first_obj = _OBJ_HEAD.search(pdf, line_end)
    comment = pdf[line_end:first_obj.start()] if first_obj is not None else b""
    out = bytearray(HEADER + comment)
    entries: dict[int, tuple[int, int, int]] = {0: (0, 0, 65535)}
    plain: list[int] = []
    for num, body in objs.bodies.items():
        if _is_stream(body):
            entries[num] = (1, len(out), 0)
            out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
        else:
            plain.append(num)
    next_num = max(objs.size, max(objs.bodies, default=0) + 1)
    for at in range(0, len(plain), PER_STREAM):
        chunk = plain[at:at + PER_STREAM]
        stream_num, next_num = next_num, next_num + 1
        entries.update((num, (2, stream_num, i)) for i, num in enumerate(chunk))
        entries[stream_num] = (1, len(out), 0)
        out += object_stream(stream_num, chunk, [objs.bodies[num] for num in chunk])
    xref_num = next_num
    entries[xref_num] = (1, len(out), 0)
    size = xref_num + 1
    widths = (1, byte_width(max(max(e[1] for e in entries.values()), len(out))),
              byte_width(max(e[2] for e in entries.values())))
    rows = bytearray()
    for num in range(size):
        kind, a, b = entries.get(num, (0, 0, 0))
        rows += kind.to_bytes(widths[0], "big") + a.to_bytes(widths[1], "big") + b.to_bytes(widths[2], "big")
    columns = sum(widths)
    data = zlib.compress(_predict_up(bytes(rows), columns), LEVEL)
    xref_at = len(out)
    out += _stream_object(
        xref_num,
        b"/Type /XRef /Size %d /Index [0 %d] /W [%d %d %d] /Root %d 0 R /Info %d 0 R /ID %s "
        b"/Filter /FlateDecode /DecodeParms << /Columns %d /Predictor 12 >>"
        % (size, size, *widths, objs.root, objs.info, objs.id, columns), data)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
