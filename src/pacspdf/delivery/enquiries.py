"""Turn an enquiries CSV into validated enquiries, and bad rows into rejections with reasons."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from email_validator import EmailNotValidError, validate_email

from pacspdf.errors import UsageError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("name", "email", "company", "job_title", "country")
OPTIONAL_COLUMNS = ("enquiry_id", "message")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
EXPECTED = ",".join(REQUIRED_COLUMNS) + " (optional: " + ",".join(OPTIONAL_COLUMNS) + ")"

#: Longest value accepted per field, in characters (email: RFC 5321's 254 for a path).
MAX_LENGTH: dict[str, int] = {
    "name": 150,
    "email": 254,
    "company": 150,
    "job_title": 150,
    "country": 80,
    "enquiry_id": 128,
    "message": 4000,
}
#: Fields that must not be empty.
MANDATORY = ("name", "email")
#: Free text that never reaches a header: line breaks and tabs are allowed there.
MULTILINE = frozenset({"message"})

# Characters that change how text is displayed without being visible: bidirectional overrides
# and isolates (a name could make an address look like another) and the BOM.
_INVISIBLE = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
_SPACES = re.compile(" {2,}")
_ENQUIRY_ID = re.compile(r"[!-~]+")  # visible ASCII, no spaces: it is a key, not prose


@dataclass(frozen=True)
class Enquiry:
    """One valid request for a sample; ``email`` is normalised, ASCII (IDN domains in punycode)."""

    name: str
    email: str
    company: str = ""
    job_title: str = ""
    country: str = ""
    enquiry_id: str = ""
    message: str = ""
    row: int = 0
    source: str = ""

    def key(self, report_slug: str) -> str:
        """The idempotency key: the enquiry's id if it has one, else its email and the report."""
        if self.enquiry_id:
            return f"id:{self.enquiry_id}"
        return f"email:{self.email.casefold()}|report:{report_slug}"

    @property
    def where(self) -> str:
        return f"{self.source}:{self.row}" if self.source else f"row {self.row}"


@dataclass(frozen=True)
class RejectedRow:
    """A row that cannot be sent, with every reason found (``field: reason``)."""

    row: int
    reasons: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def email(self) -> str:
        return self.values.get("email", "")

    @property
    def where(self) -> str:
        return f"{self.source}:{self.row}" if self.source else f"row {self.row}"

    def key(self) -> str:
        """A key for the outbox record of this rejection: the same bad row is recorded once."""
        digest = hashlib.sha256(json.dumps(self.values, sort_keys=True).encode()).hexdigest()[:32]
        return f"rejected:{digest}"


Row = Enquiry | RejectedRow


@dataclass
class EnquiryFile:
    """Every row of one enquiries CSV, in file order."""

    path: Path
    rows: list[Row]

    @property
    def enquiries(self) -> list[Enquiry]:
        return [r for r in self.rows if isinstance(r, Enquiry)]

    @property
    def rejected(self) -> list[RejectedRow]:
        return [r for r in self.rows if isinstance(r, RejectedRow)]


def describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if ch in "\r\n\u2028\u2029\x85":
        return f"a line break (U+{ord(ch):04X})"
    return f"a control character (U+{ord(ch):04X}{' ' + name if name else ''})"


def unsafe_char(value: str, *, multiline: bool = False) -> str | None:
    """The first character that must not appear in this field, or None when the text is clean."""
    for ch in value:
        if multiline and ch in "\r\n\t":
            continue
        if ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):
            return ch
    return None


def check_field(name: str, value: str) -> str | None:
    """Why ``value`` is not acceptable for field ``name`` (None when it is)."""
    bad = unsafe_char(value, multiline=name in MULTILINE)
    if bad is not None:
        return f"{name}: contains {describe_char(bad)}"
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        return f"{name}: too long ({len(value)} characters, at most {limit})"
    if not value and name in MANDATORY:
        return f"{name}: missing"
    return None


def normalise_email(value: str) -> str:
    """The address in its normal ASCII form; raises ValueError with the validator's reason."""
    try:
        valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return valid.ascii_email or valid.normalized


def single_spaced(value: str) -> str:
    """Runs of spaces as one: mail readers collapse them in a display name, so the data does too.

    Everything else in a name (quotes, commas, ``=?``, angle brackets, any script) is kept as typed.
    """
    return _SPACES.sub(" ", value) if "  " in value else value


def validate_row(values: dict[str, str], row: int, source: str = "") -> Row:
    """Validate one row's values (already stripped); report every problem of the row at once."""
    reasons = [r for name in COLUMNS if (r := check_field(name, values.get(name, ""))) is not None]
    email = values.get("email", "")
    if email and not any(r.startswith("email:") for r in reasons):
        try:
            email = normalise_email(email)
        except ValueError as exc:
            reasons.append(f"email: {exc}")
    enquiry_id = values.get("enquiry_id", "")
    if enquiry_id and not any(r.startswith("enquiry_id:") for r in reasons) \
            and not _ENQUIRY_ID.fullmatch(enquiry_id):
        reasons.append("enquiry_id: use visible ASCII characters only, without spaces")
    if reasons:
        return RejectedRow(row, tuple(reasons), values, source)
    return Enquiry(name=single_spaced(values["name"]), email=email,
                   company=single_spaced(values.get("company", "")),
                   job_title=single_spaced(values.get("job_title", "")),
                   country=single_spaced(values.get("country", "")),
                   enquiry_id=enquiry_id, message=values.get("message", ""), row=row, source=source)


class _CsvReader(Protocol):
    """What :func:`_records` needs of a ``csv.reader`` (whose class csv does not export)."""

    @property
    def line_num(self) -> int: ...

    def __next__(self) -> list[str]: ...


def _records(reader: _CsvReader) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span lines)."""
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        yield start, record


def read_enquiries(path: Path | str, display: str | None = None) -> EnquiryFile:
    """Read a whole enquiries CSV into memory (see :func:`iter_enquiries` for the streaming form).

    Raises :class:`UsageError` (one line naming the file and the column) when the file as a
    whole is unusable: missing, not UTF-8, no header, unknown or missing columns. Problems of
    single rows do not raise: those rows come back as :class:`RejectedRow` with their line.
    """
    scan_enquiries(path, display)
    return EnquiryFile(Path(path), list(iter_enquiries(path, display)))


def scan_enquiries(path: Path | str, display: str | None = None) -> int:
    """Check the whole file (encoding, header, CSV syntax) without keeping it; the number of rows.

    The first of the two passes of a streamed batch: a file that is unusable anywhere stops the
    run here, before anything is recorded or sent (nothing half-done).
    """
    return sum(1 for _row in _rows(Path(path), display or str(path), validate=False))


def iter_enquiries(path: Path | str, display: str | None = None) -> Iterator[Row]:
    """Each row of the file in order, validated, one at a time (memory does not grow with the file)."""
    yield from (row for row in _rows(Path(path), display or str(path), validate=True) if row is not None)


def _decoded_lines(fh: BinaryIO, shown: str) -> Iterator[str]:
    """The file's lines as text (a leading BOM dropped); bad UTF-8 is a usage error naming its line."""
    for number, raw in enumerate(fh, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{shown}:{number}: not valid UTF-8 text (save the CSV as UTF-8)") from None
        yield line[1:] if number == 1 and line.startswith("\ufeff") else line


def _rows(path: Path, shown: str, *, validate: bool) -> Iterator[Row | None]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{shown}: file not found") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read file: {exc.strerror}") from None
    with fh:
        reader_obj = csv.reader(_decoded_lines(fh, shown), strict=True)
        records = _records(reader_obj)
        try:
            header_line, header = next(((n, r) for n, r in records if any(v.strip() for v in r)), (0, []))
            if not header:
                raise UsageError(f"{shown}: empty file; expected a header row with columns {EXPECTED}")
            columns = [h.strip().lower() for h in header]
            _check_header(columns, shown, header_line)
            for line, record in records:
                if not any(v.strip() for v in record):
                    continue
                if not validate:
                    yield None
                elif len(record) != len(columns):
                    values = dict(zip(columns, (v.strip() for v in record), strict=False))
                    yield RejectedRow(line, (f"row has {len(record)} fields, the header has "
                                             f"{len(columns)} (a missing or extra comma?)",), values, shown)
                else:
                    yield validate_row({c: v.strip() for c, v in zip(columns, record, strict=True)},
                                       line, shown)
        except csv.Error as exc:
            raise UsageError(f"{shown}:{reader_obj.line_num}: not a readable CSV file ({exc})") from None
        except OSError as exc:
            raise UsageError(f"{shown}: cannot read file: {exc.strerror}") from None


def _check_header(columns: list[str], shown: str, line: int) -> None:
    seen: set[str] = set()
    for col in columns:
        if col not in COLUMNS:
            raise UsageError(f"{shown}:{line}: column {col!r} is not known; expected {EXPECTED}")
        if col in seen:
            raise UsageError(f"{shown}:{line}: column {col!r} appears twice")
        seen.add(col)
    for col in REQUIRED_COLUMNS:
        if col not in seen:
            raise UsageError(f"{shown}:{line}: column {col!r} is missing; expected {EXPECTED}")
