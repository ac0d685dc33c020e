"""Turn an enquiry and its personalised PDF into a standard email message (templates + headers)."""

from __future__ import annotations

import base64
import binascii
import email.policy
import email.utils
import hashlib
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import jinja2

from pacspdf.content.brand import link_urls
from pacspdf.content.schema import fields_of
from pacspdf.delivery import headers
from pacspdf.delivery.enquiries import Enquiry, normalise_email, unsafe_char
from pacspdf.delivery.settings import ENV_MAIL_FROM
from pacspdf.errors import PacspdfError, UsageError

DEFAULT_MAX_ATTACHMENT = 7 * 1024 * 1024  # 7 MiB of PDF is about 9.6 MiB once base64-encoded
TEMPLATE_NAMES = ("subject.txt", "body.txt", "body.html")


class MessageRejected(PacspdfError):
    """This one message cannot be sent as built (too large, unusable header); the row is rejected."""


class TemplateError(PacspdfError):
    """A mail template is missing or wrong; names the file and line."""


@dataclass(frozen=True)
class ReportInfo:
    """What the mail says about the report (from the content, or from the base build)."""

    slug: str
    title: str
    folder: Path
    links: Mapping[str, str]
    short_title: str = ""
    code: str = ""
    edition: str = ""
    pages_in_full_report: int | None = None
    full_report_adds: tuple[str, ...] = ()

    @property
    def attachment_name(self) -> str:
        return f"{self.slug}-sample.pdf"


@dataclass(frozen=True)
class BrandInfo:
    publisher: str
    email: str
    sales_email: str
    website: str = ""
    tagline: str = ""
    phone: str = ""
    address: str = ""
    colours: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MailContext:
    """Everything about a report's mail that does not depend on the enquirer."""

    report: ReportInfo
    brand: BrandInfo
    sender: Address
    reply_to: Address
    templates_dir: Path

    @property
    def domain(self) -> str:
        return self.sender.domain


def parse_address(value: str, what: str) -> Address:
    """``Name <addr>`` or ``addr`` -> Address; raises UsageError naming ``what`` when unusable.

    Exactly one mailbox: ``a@x, b@y``, a group, or trailing text is refused rather than cut
    to its first address.
    """
    if unsafe_char(value) is not None:
        raise UsageError(f"{what}: contains a line break or control character")
    try:
        header = email.policy.default.header_factory("From", value)
        found = list(header.addresses)
        defects = [str(d) for d in header.defects]
    except (ValueError, IndexError, TypeError) as exc:  # the parser's own failures
        raise UsageError(f"{what}: {value!r} is not an email address ({exc})") from None
    if len(found) != 1:
        raise UsageError(f"{what}: {value!r} holds {len(found)} addresses; give exactly one")
    if defects:
        raise UsageError(f"{what}: {value!r} is not one address ({defects[0]})")
    name, addr = found[0].display_name, found[0].addr_spec
    if not addr or "@" not in addr:
        raise UsageError(f"{what}: {value!r} is not an email address")
    try:
        addr = normalise_email(addr)
    except ValueError as exc:
        raise UsageError(f"{what}: {exc}") from None
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def mail_context(report: ReportInfo, brand: BrandInfo, templates_dir: Path,
                 environ: Mapping[str, str] | None = None) -> MailContext:
    """The context with the sender from ``PACSPDF_MAIL_FROM`` if set, else the brand's address."""
    env = os.environ if environ is None else environ
    configured = env.get(ENV_MAIL_FROM, "").strip()
    if configured:
        sender = parse_address(configured, f"environment: {ENV_MAIL_FROM}")
    else:
        sender = parse_address(brand.email, "brand: contact.email")
        sender = Address(display_name=brand.publisher, username=sender.username, domain=sender.domain)
    sales = parse_address(brand.sales_email, "brand: contact.sales_email")
    reply_to = Address(display_name=f"{brand.publisher} Sales", username=sales.username,
                       domain=sales.domain)
    return MailContext(report, brand, sender, reply_to, templates_dir)


def context_from_content(content: Any, environ: Mapping[str, str] | None = None) -> MailContext:
    """Build the mail context from a loaded report (``pacspdf.content.load.Content``)."""
    report, brand = content.report, content.brand
    links = link_urls(brand, report.publisher_id)
    info = ReportInfo(slug=report.slug, title=report.title, folder=Path(content.folder).resolve(),
                      links=links, short_title=report.short_title, code=report.code,
                      edition=report.edition, pages_in_full_report=report.pages_in_full_report,
                      full_report_adds=tuple(report.full_report_adds))
    binfo = BrandInfo(publisher=brand.publisher, email=brand.contact.email,
                      sales_email=brand.contact.sales_email, website=links["website"],
                      tagline=brand.tagline, phone=brand.contact.phone, address=brand.contact.address,
                      colours=fields_of(brand.colours))
    return mail_context(info, binfo, Path(content.brand_dir) / "mail", environ)


class MailTemplates:
    """The subject, plain-text and HTML templates of one brand (``<brand dir>/mail/``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False,
                                                default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._templates: dict[str, jinja2.Template] = {}
        for name in TEMPLATE_NAMES:
            try:
                self._templates[name] = self.env.get_template(name)
            except jinja2.TemplateNotFound:
                raise TemplateError(f"{directory / name}: mail template not found") from None
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"{directory / name}:{exc.lineno}: {exc.message}") from None

    def render(self, ctx: MailContext, enquiry: Enquiry, copy_id: str) -> tuple[str, str, str]:
        """(subject, plain text, HTML) for this enquirer."""
        data = {
            "enquirer": enquiry,
            "report": ctx.report,
            "brand": ctx.brand,
            "links": ctx.report.links,
            "copy_id": copy_id,
            "attachment": ctx.report.attachment_name,
        }
        out: list[str] = []
        for name in TEMPLATE_NAMES:
            try:
                out.append(self._templates[name].render(data))
            except jinja2.TemplateError as exc:
                raise TemplateError(f"{self.directory / name}: {exc}") from None
        subject = " ".join(out[0].split())  # one line, whatever the template's layout
        return subject, out[1], out[2]

    def check(self, ctx: MailContext) -> None:
        """Render once with a made-up enquirer, so a template mistake stops the run before any send."""
        self.render(ctx, Enquiry(name="Test Recipient", email="test@example.com", company="Example Ltd"),
                    "TEST-COPY-ID00")


def build_message(ctx: MailContext, templates: MailTemplates, enquiry: Enquiry, *, pdf: bytes,
                  copy_id: str, message_id: str, date: datetime,
                  max_attachment: int = DEFAULT_MAX_ATTACHMENT) -> EmailMessage:
    """The complete message: headers, plain text with an HTML alternative, the PDF attached.

    Raises :class:`MessageRejected` when the attachment is over ``max_attachment`` bytes or
    a header cannot be formed from the enquiry's data.
    """
    if len(pdf) > max_attachment:
        raise MessageRejected(f"attachment is {len(pdf) / 1048576:.1f} MiB, over the "
                              f"{max_attachment / 1048576:.1f} MiB limit")
    subject, text, html = templates.render(ctx, enquiry, copy_id)
    local, _, domain = enquiry.email.rpartition("@")
    msg = EmailMessage(policy=headers.POLICY)
    try:
        # Each value is written once by pacspdf.delivery.headers and never parsed again, so a
        # name decodes to exactly what was typed (see that module for why not msg["To"] = ...).
        headers.set_header(msg, "From", headers.address_list([ctx.sender]))
        headers.set_header(msg, "To", headers.address_list(
            [Address(display_name=enquiry.name, username=local, domain=domain)]))
        headers.set_header(msg, "Reply-To", headers.address_list([ctx.reply_to]))
        headers.set_header(msg, "Subject", headers.unstructured(subject))
        headers.set_header(msg, "Date", email.utils.format_datetime(date))
        headers.set_header(msg, "Message-ID", _token(message_id, "Message-ID"))
        headers.set_header(msg, "Auto-Submitted", "auto-generated")  # RFC 3834: no out-of-office replies
        headers.set_header(msg, "X-Pacspdf-Copy-Id", _token(copy_id, "copy ID"))
    except (ValueError, TypeError) as exc:
        raise MessageRejected(f"cannot form the message headers: {exc}") from None
    # The MIME tree is written directly (raw headers, encoded payloads): the same structure
    # set_content/add_alternative/add_attachment make, without re-parsing each header they set.
    mixed, alternative = _boundary(message_id, 0), _boundary(message_id, 1)
    headers.set_header(msg, "MIME-Version", "1.0")
    headers.set_header(msg, "Content-Type", f'multipart/mixed; boundary="{mixed}"')
    alt = EmailMessage(policy=headers.POLICY)
    headers.set_header(alt, "Content-Type", f'multipart/alternative; boundary="{alternative}"')
    setattr(msg, _BOUNDARY_ATTR, mixed)   # so that writing it need not parse Content-Type again
    setattr(alt, _BOUNDARY_ATTR, alternative)
    alt.attach(_text_part(text, "plain"))
    alt.attach(_text_part(html, "html"))
    msg.attach(alt)
    msg.attach(_pdf_part(pdf, ctx.report.attachment_name))
    return msg


_LINE_ENDS = re.compile(r"\r\n?")
_BOUNDARY_ATTR = "_pacspdf_boundary"  # the boundary a multipart was built with, kept on the part


def _text_part(text: str, subtype: str) -> EmailMessage:
    """UTF-8 text: 7bit when it is short-lined ASCII, else quoted-printable (never 8bit)."""
    text = _LINE_ENDS.sub("\n", text)
    part = EmailMessage(policy=headers.POLICY)
    headers.set_header(part, "Content-Type", f'text/{subtype}; charset="utf-8"')
    if text.isascii() and all(len(line) <= 76 for line in text.split("\n")):
        headers.set_header(part, "Content-Transfer-Encoding", "7bit")
        part.set_payload(text)
    else:
        headers.set_header(part, "Content-Transfer-Encoding", "quoted-printable")
        # binascii's encoder (C) writes the same RFC 2045 form as email.quoprimime's (Python), at
        # a tenth of the cost: 76-character lines, soft breaks, trailing spaces and "=" encoded.
        part.set_payload(binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii"))
    return part


def _pdf_part(pdf: bytes, filename: str) -> EmailMessage:
    """The attachment, base64 in 76-character lines; the lines of a known prefix are reused.

    Every copy of a report is its base PDF followed by a small update, so all but the last
    few kilobytes encode to the same lines: those are encoded once (:class:`_Lines`) and
    each message encodes only its own tail. The part keeps its wire form as those two
    pieces (:class:`_Attachment`): writing a message (:func:`wire_chunks`) hands the shared
    piece on as is, so no per-message copy of the 400 KB of base64 is made at all.
    """
    part = _Attachment(policy=headers.POLICY)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename) or "sample.pdf"
    headers.set_header(part, "Content-Type", "application/pdf")
    headers.set_header(part, "Content-Transfer-Encoding", "base64")
    headers.set_header(part, "Content-Disposition", f'attachment; filename="{safe}"')
    part.set_wire(_LINES.encode(pdf))
    return part


class _Attachment(EmailMessage):
    """A base64 part held as its wire form (CRLF lines, in pieces); its text is made on first read.

    To everything that reads it (``get_payload``, ``get_content``, the stdlib's generator) it
    is an ordinary part whose payload is the base64 text with LF line ends. Setting a payload
    replaces the wire form, so a replaced payload is written as replaced.
    """

    _wire: tuple[bytes, ...] | None = None
    _text: Any = None

    def set_wire(self, pieces: tuple[bytes, ...]) -> None:
        self._text = None
        self._wire = pieces

    @property  # Message keeps the payload in this attribute; this class makes its text on demand
    def _payload(self) -> Any:
        if self._text is None and self._wire is not None:
            self._text = b"".join(self._wire).replace(b"\r\n", b"\n").decode("ascii")
        return self._text

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self._text = value
        self._wire = None

    def is_multipart(self) -> bool:
        return self._wire is None and super().is_multipart()


class _Lines:
    """Base64 lines of the longest recent prefix shared by the attachments (one entry, checked by bytes)."""

    WIDTH = 57  # input bytes per 76-character line

    def __init__(self) -> None:
        self.prefix = b""
        self.crlf = b""
        self.last: bytes | None = None  # the attachment the prefix was cut from, until the next
        self.lock = threading.Lock()

    @staticmethod
    def _lines(data: bytes) -> bytes:
        """``data`` in base64, 76-character lines each ended by CRLF."""
        encoded = base64.b64encode(data)  # in C, in one go (encodebytes loops in Python per 57 bytes)
        if not encoded:
            return b""
        return b"\r\n".join([encoded[i:i + 76] for i in range(0, len(encoded), 76)]) + b"\r\n"

    def encode(self, pdf: bytes) -> tuple[bytes, ...]:
        """The base64 lines of ``pdf`` (CRLF), as (shared prefix, own tail) pieces."""
        with self.lock:
            prefix, crlf = self.prefix, self.crlf
        if not prefix or not pdf.startswith(prefix):
            # Keep the first 7/8 of this attachment, whole lines only: the next copy of the
            # same base shares it (a copy's own update is far smaller than an eighth of it).
            cut = len(pdf) * 7 // 8 // self.WIDTH * self.WIDTH
            prefix = pdf[:cut]
            crlf = self._lines(prefix)
            with self.lock:
                self.prefix, self.crlf, self.last = prefix, crlf, pdf
        elif self.last is not None:
            # The second attachment of a run of copies: extend the prefix to all the whole
            # lines the two share (the whole base), so that each message encodes only its update.
            shared = _shared_length(pdf, self.last, len(prefix)) // self.WIDTH * self.WIDTH
            if shared > len(prefix):
                crlf = crlf + self._lines(pdf[len(prefix):shared])
                prefix = pdf[:shared]
            with self.lock:
                self.prefix, self.crlf, self.last = prefix, crlf, None
        tail = self._lines(pdf[len(prefix):])
        return tuple(p for p in (crlf, tail) if p)


def _shared_length(a: bytes, b: bytes, start: int, block: int = 4096) -> int:
    """How many leading bytes ``a`` and ``b`` share, given that they share ``start``."""
    end = min(len(a), len(b))
    i = start
    while i + block <= end and a[i:i + block] == b[i:i + block]:
        i += block
    while i < end and a[i] == b[i]:
        i += 1
    return i


_LINES = _Lines()


def _boundary(message_id: str, depth: int) -> str:
    """A boundary derived from the Message-ID, so a resent message is byte for byte the same.

    ``=_`` cannot occur in base64 or quoted-printable text, and 7bit parts here are templates.
    """
    return "=_" + hashlib.sha256(f"{message_id}/{depth}".encode()).hexdigest()[:32]


def _token(value: str, what: str) -> str:
    """A value pacspdf made itself (Message-ID, copy ID): visible ASCII, no spaces, or refused."""
    if not value or not all("!" <= c <= "~" for c in value):
        raise ValueError(f"{what} {value!r} is not visible ASCII")
    return value


def as_bytes(msg: Message) -> bytes:
    """The message as it goes on the wire (CRLF line ends, headers exactly as written).

    The same MIME text as ``msg.as_bytes()``, written in bulk instead of line by line (the
    stdlib generator spent most of a message's time on the 2,500 lines of the PDF's base64).
    """
    return b"".join(wire_chunks(msg))


def wire_chunks(msg: Message) -> list[bytes]:
    """:func:`as_bytes` in pieces, for a transport that writes them one after the other.

    The attachment's shared base64 lines are one of the pieces, the same object in every
    message of a report, so writing a message copies them once, into the file or socket.
    """
    out: list[bytes] = []
    _write(msg, out)
    return out


def _write(part: Message, out: list[bytes]) -> None:
    policy = headers.POLICY
    for name, value in part.raw_items():
        out.append(policy.fold_binary(name, value))
    out.append(b"\r\n")
    wire = part._wire if isinstance(part, _Attachment) else None
    if wire is not None:  # built here and not replaced since
        out.extend(wire)
        return
    if part.is_multipart():
        boundary = getattr(part, _BOUNDARY_ATTR, None) or part.get_boundary()
        if boundary is None:  # pragma: no cover - build_message always sets one
            raise ValueError("multipart message without a boundary")
        for sub in part.get_payload():
            assert isinstance(sub, Message)
            out.append(f"--{boundary}\r\n".encode("ascii"))
            _write(sub, out)
            out.append(b"\r\n")
        out.append(f"--{boundary}--\r\n".encode("ascii"))
        return
    # The stored payload as is: get_payload() would parse Content-Transfer-Encoding again.
    payload = part._payload  # type: ignore[attr-defined]  # Message's own attribute
    if not isinstance(payload, str):  # pragma: no cover - our parts always hold text
        raise TypeError("unexpected payload type")
    if "\r" in payload:
        payload = payload.replace("\r\n", "\n").replace("\r", "\n")
    body = payload.replace("\n", "\r\n")
    out.append(body.encode("ascii", "surrogateescape"))
