"""Building the email: headers, templates, autoescaping, the attachment and its size limit."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacspdf.content.load import load
from pacspdf.delivery.enquiries import Enquiry, unsafe_char
from pacspdf.delivery.message import (
    MailContext,
    MailTemplates,
    MessageRejected,
    TemplateError,
    as_bytes,
    build_message,
    context_from_content,
)
from pacspdf.errors import UsageError
from selection import examples
from smtp_server import attachment

REPO = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n% tiny stand-in\n%%EOF\n"
WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def content():  # type: ignore[no-untyped-def]
    return load(REPO / "content" / "pacs")


@pytest.fixture(scope="module")
def ctx(content) -> MailContext:  # type: ignore[no-untyped-def]
    return context_from_content(content, environ={})


@pytest.fixture(scope="module")
def templates(ctx: MailContext) -> MailTemplates:
    return MailTemplates(ctx.templates_dir)


def make(ctx: MailContext, templates: MailTemplates, enquiry: Enquiry, **kw: object) -> EmailMessage:
    args: dict[str, object] = {"pdf": PDF, "copy_id": "ABCD-EFGH-JKLM",
                               "message_id": "<0123abcd.pacspdf@reliablemarketforecast.com>", "date": WHEN}
    args.update(kw)
    return build_message(ctx, templates, enquiry, **args)  # type: ignore[arg-type]


def reparse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(as_bytes(msg), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_headers_come_from_brand_enquirer_and_key(ctx: MailContext, templates: MailTemplates) -> None:
    """From is the brand, To the enquirer, Reply-To sales, with the given Date and Message-ID."""
    msg = reparse(make(ctx, templates, Enquiry("Ana Souza", "ana@example.com", "Acme")))
    assert msg["From"].addresses[0].addr_spec == "help@reliablemarketforecast.com"
    assert msg["From"].addresses[0].display_name == "Reliable Market Forecast"
    assert msg["To"].addresses[0].addr_spec == "ana@example.com"
    assert msg["To"].addresses[0].display_name == "Ana Souza"
    assert msg["Reply-To"].addresses[0].addr_spec == "sales@reliablemarketforecast.com"
    assert msg["Message-ID"] == "<0123abcd.pacspdf@reliablemarketforecast.com>"
    assert msg["Date"].datetime == WHEN
    assert msg["Subject"] == "Your sample: Healthcare PACS Market, 2025–2032"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_pdf_is_attached_with_the_report_file_name(ctx: MailContext, templates: MailTemplates) -> None:
    """The PDF travels intact as application/pdf named <slug>-sample.pdf, beside text and HTML bodies."""
    msg = reparse(make(ctx, templates, Enquiry("Ana", "ana@example.com")))
    assert attachment(msg) == ("pacs-sample.pdf", PDF)
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


def test_bodies_name_the_enquirer_and_carry_purchase_and_enquiry_links(ctx: MailContext,
                                                                       templates: MailTemplates) -> None:
    """Both bodies greet the enquirer and link to the report's purchase and enquiry pages."""
    msg = reparse(make(ctx, templates, Enquiry("Ana Souza", "ana@example.com", "Acme Imaging")))
    for kind in ("plain", "html"):
        body = msg.get_body((kind,))
        assert body is not None
        text = body.get_content()
        assert "Ana Souza" in text and "Acme Imaging" in text
        assert "https://www.reliablemarketforecast.com/purchase/1896609" in text
        assert "https://www.reliablemarketforecast.com/enquiry/pre-order-enquiry/1896609" in text
        assert "ABCD-EFGH-JKLM" in text


def test_markup_in_names_is_escaped_in_html_and_literal_in_text(ctx: MailContext,
                                                               templates: MailTemplates) -> None:
    """Names are text: `<font size=80>Bob</font> & Co` is escaped in HTML and verbatim in plain text."""
    name = "<font size=80>Bob</font> & Co"
    msg = reparse(make(ctx, templates, Enquiry(name, "bob@example.com", "<script>x()</script>")))
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;font size=80&gt;Bob&lt;/font&gt; &amp; Co" in html
    assert "<font" not in html and "<script>" not in html
    assert name in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert msg["To"].addresses[0].display_name == name


def test_accented_greek_and_cyrillic_names_survive_the_round_trip(ctx: MailContext,
                                                                 templates: MailTemplates) -> None:
    """Non-ASCII names are encoded in the To header and bodies, and decode back unchanged."""
    for name in ("Zoë Ångström-Núñez", "Σωκράτης Παπαδόπουλος", "Анна Каренина", "李小龙"):
        msg = reparse(make(ctx, templates, Enquiry(name, "x@example.com")))
        assert msg["To"].addresses[0].display_name == name
        assert name in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert as_bytes(msg).isascii()


def test_attachment_over_the_limit_is_rejected(ctx: MailContext, templates: MailTemplates) -> None:
    """A PDF larger than the configured limit raises MessageRejected naming both sizes."""
    with pytest.raises(MessageRejected, match=r"over the 0\.0 MiB limit"):
        make(ctx, templates, Enquiry("A", "a@example.com"), max_attachment=len(PDF) - 1)
    make(ctx, templates, Enquiry("A", "a@example.com"), max_attachment=len(PDF))


def test_mail_from_environment_overrides_the_brand(content) -> None:  # type: ignore[no-untyped-def]
    """PACSPDF_MAIL_FROM replaces the brand's sender; a malformed value is a usage error naming it."""
    ctx = context_from_content(content, environ={"PACSPDF_MAIL_FROM": "Samples Desk <samples@rmf.example>"})
    assert (ctx.sender.display_name, ctx.sender.addr_spec) == ("Samples Desk", "samples@rmf.example")
    assert ctx.domain == "rmf.example"
    with pytest.raises(UsageError, match="PACSPDF_MAIL_FROM"):
        context_from_content(content, environ={"PACSPDF_MAIL_FROM": "not an address"})
    with pytest.raises(UsageError, match="PACSPDF_MAIL_FROM"):
        context_from_content(content, environ={"PACSPDF_MAIL_FROM": "a@example.com\r\nBcc: b@example.com"})


def test_template_mistakes_are_reported_with_file_and_line(tmp_path: Path, ctx: MailContext) -> None:
    """A syntax error names the template and line; an unknown variable is caught by check() before sending."""
    for name in ("subject.txt", "body.txt", "body.html"):
        (tmp_path / name).write_text("ok\n")
    (tmp_path / "body.txt").write_text("line one\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"body\.txt:2:"):
        MailTemplates(tmp_path)
    (tmp_path / "body.txt").write_text("{{ enquirer.nmae }}\n")
    with pytest.raises(TemplateError, match=r"body\.txt: .*nmae"):
        MailTemplates(tmp_path).check(ctx)
    (tmp_path / "subject.txt").unlink()
    with pytest.raises(TemplateError, match=r"subject\.txt: mail template not found"):
        MailTemplates(tmp_path)


def test_long_non_ascii_name_is_one_encoded_word_that_decodes_the_same_everywhere(
        ctx: MailContext, templates: MailTemplates) -> None:
    """A long name is one encoded word: RFC 2047 decoders and the stdlib's parser both get it exactly."""
    # RFC 2047 6.2: the space between adjacent encoded words is not text, but the stdlib's
    # address parser inserts one; a single word is read the same by both.
    name = "Ζωή Παπαδοπούλου-Καραγιαννοπούλου του Αλεξάνδρου"
    raw = as_bytes(make(ctx, templates, Enquiry(name, "zoe@example.com"))).decode("ascii")
    folded = raw.split("\r\nTo: ", 1)[1].split("\r\nReply-To:", 1)[0]
    assert folded.count("=?utf-8?") == 1
    assert all(len(line) <= 998 for line in raw.split("\r\n"))
    assert str(make_header(decode_header(folded))) == f"{name} <zoe@example.com>"
    parsed = reparse(make(ctx, templates, Enquiry(name, "zoe@example.com")))
    assert parsed["To"].addresses[0].display_name == name


# Short enough (in UTF-8 bytes) for one encoded word, so the stdlib parser decodes it right.
safe_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=18).filter(
    lambda s: unsafe_char(s) is None and s.strip() == s and len(s.encode()) <= 24)


@settings(max_examples=examples(100), deadline=None)
@given(name=safe_text, company=safe_text)
def test_any_accepted_name_round_trips_through_the_headers(ctx: MailContext, templates: MailTemplates,
                                                           name: str, company: str) -> None:
    """Any name the CSV reader accepts is carried exactly in To, and never adds a header line."""
    msg = reparse(make(ctx, templates, Enquiry(name, "x@example.com", company)))
    assert msg["To"].addresses[0].display_name == name
    assert msg["To"].addresses[0].addr_spec == "x@example.com"
    assert len(msg.get_all("To", [])) == 1 and msg.get_all("Bcc") is None


def _reference_base64(pdf: bytes) -> bytes:
    """The attachment's wire text the plain way: all of it encoded, 76-character lines, CRLF."""
    import base64

    encoded = base64.b64encode(pdf)
    return b"".join(encoded[i:i + 76] + b"\r\n" for i in range(0, len(encoded), 76))


@given(st.binary(min_size=0, max_size=3000), st.lists(st.binary(max_size=400), min_size=1, max_size=4))
@settings(max_examples=examples(60), deadline=None)
def test_reused_base64_lines_give_the_same_attachment_as_encoding_it_whole(
        ctx: MailContext, templates: MailTemplates, base: bytes, updates: list[bytes]) -> None:
    """Copies of one base (and unrelated PDFs between them) encode exactly as if encoded whole."""
    enquiry = Enquiry(name="Ana", email="ana@example.com", company="Acme")
    for pdf in [base + u for u in updates] + [updates[0] + base, base]:
        msg = make(ctx, templates, enquiry, pdf=pdf)
        wire = as_bytes(msg)
        assert _reference_base64(pdf) in wire
        assert attachment(reparse(msg))[1] == pdf
        assert wire == msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))   # the stdlib's writer


def test_a_replaced_attachment_payload_is_written_as_replaced(ctx: MailContext,
                                                              templates: MailTemplates) -> None:
    """The kept wire form is used only while the part still holds the text it was made from."""
    msg = make(ctx, templates, Enquiry(name="Ana", email="ana@example.com", company="Acme"), pdf=PDF * 50)
    part = next(iter(msg.iter_attachments()))
    import base64

    part.set_payload(base64.b64encode(b"other").decode("ascii") + "\n")
    assert attachment(reparse(msg))[1] == b"other"
