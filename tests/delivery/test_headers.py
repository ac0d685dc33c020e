"""Whatever a stranger types reaches the headers and body exactly as typed, and can add no header."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pacspdf.content.load import load
from pacspdf.delivery.enquiries import Enquiry, validate_row
from pacspdf.delivery.message import (
    MailContext,
    MailTemplates,
    as_bytes,
    build_message,
    context_from_content,
    parse_address,
)
from pacspdf.delivery.outbox import Outbox
from pacspdf.delivery.send import ReportBinding, SendOptions, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.errors import UsageError
from selection import examples
from smtp_server import HOST, Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n% stand-in\n%%EOF\n"
WHEN = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
EXPECTED_HEADERS = sorted(["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                           "X-Pacspdf-Copy-Id", "MIME-Version", "Content-Type"])

# The pieces an attacker builds names from: encoded words (some decoding to CR LF or to an
# address), raw control characters, and every character that means something in an address.
FRAGMENTS = [
    "=?utf-8?q?X=0D=0AReply-To=3A_attacker=40evil.example?=",
    "=?utf-8?b?PGV2aWxAZXZpbC5leGFtcGxlPg==?=",          # decodes to <evil@evil.example>
    "=?utf-8?q?=0ABcc=3A_a=40b.example?=", "=?iso-8859-1?q?=E9?=", "=?", "?=", "=?utf-8?q?", "?q?",
    "=0D=0A", "\r", "\n", "\r\n", "\x00", "\t", '"', "\\", ",", ";", ":", "<", ">", "@", "(", ")",
    "[", "]", " ", "  ", "Ana", "Bcc: x@y.example", "Zoë", "李", "\u200b", "\u00ad", "evil@example.com",
]
names = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), min_size=1, max_size=8).map("".join)


@pytest.fixture(scope="module")
def ctx() -> MailContext:
    return context_from_content(load(REPO / "content" / "pacs"), environ={})


@pytest.fixture(scope="module")
def templates(ctx: MailContext) -> MailTemplates:
    return MailTemplates(ctx.templates_dir)


def reparse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def check_message(raw: bytes, enquiry: Enquiry, subject: str, text: str, html: str) -> None:
    """The property itself: one To, the literal name, no extra header, the bodies unchanged."""
    assert raw.isascii()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert b"\r" not in head.replace(b"\r\n", b"") and b"\n" not in head.replace(b"\r\n", b"")
    msg = reparse(raw)
    assert sorted(msg.keys()) == EXPECTED_HEADERS
    assert not msg.defects
    to = msg.get_all("To")
    assert to is not None and len(to) == 1
    (addr,) = to[0].addresses
    assert addr.addr_spec == enquiry.email
    assert addr.display_name == enquiry.name
    assert str(msg["Subject"]) == subject
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    # MIME text travels with CRLF line ends (RFC 2046); the characters are otherwise unchanged.
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html


@settings(max_examples=examples(300), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, company=names)
@example(name="=?utf-8?q?X=0D=0AReply-To=3A_attacker=40evil.example?=", company="Acme")
@example(name="=?utf-8?b?PGV2aWxAZXZpbC5leGFtcGxlPg==?=", company="=?utf-8?q?=0ABcc=3A_a=40b.example?=")
@example(name='"Smith, John" <boss@corp.example>; x', company="a\\b")
@example(name="Ζωή Παπαδοπούλου-Καραγιαννοπούλου του Αλεξάνδρου " * 3, company="x")
def test_typed_names_reach_headers_literally_or_are_rejected_for_a_control_character(
        ctx: MailContext, templates: MailTemplates, name: str, company: str) -> None:
    """Accepted names and companies round-trip exactly; the only refusals are control characters."""
    row = validate_row({"name": name.strip(), "email": "ana@example.com", "company": company.strip()}, 2)
    if not isinstance(row, Enquiry):
        # What validation still refuses: control characters, line breaks, over-long fields.
        assert all(("contains" in r) or ("too long" in r) or r == "name: missing" for r in row.reasons), \
            row.reasons
        return
    assert row.name == re.sub(" +", " ", name.strip())   # kept as typed, runs of spaces as one
    msg = build_message(ctx, templates, row, pdf=PDF, copy_id="ABCD-EFGH-IJKL",
                        message_id="<0123456789abcdef01234567@example.com>", date=WHEN)
    subject, text, html = templates.render(ctx, row, "ABCD-EFGH-IJKL")
    check_message(as_bytes(msg), row, subject, text, html)


def test_encoded_word_names_go_through_a_real_smtp_server_literally(
        ctx: MailContext, templates: MailTemplates, server: Server, tmp_path: Path) -> None:
    """The issue's attack, end to end through aiosmtpd: the server gets one To and no Reply-To forgery."""
    controller, handler = server
    attacks = [
        "=?utf-8?q?X=0D=0AReply-To=3A_attacker=40evil.example?=",
        "=?utf-8?b?PGV2aWxAZXZpbC5leGFtcGxlPg==?=",
        '=?utf-8?q?Bob?= "=?utf-8?q?=0D=0ABcc:_x@y.example?=" <z@q.example>',
    ]
    rows = [validate_row({"name": n, "email": f"p{i}@example.com"}, i + 2, "a.csv")
            for i, n in enumerate(attacks)]
    assert all(isinstance(r, Enquiry) for r in rows)
    binding = ReportBinding(ctx, templates, fake_personaliser)
    transport = SmtpTransport(SmtpSettings(host=HOST, port=controller.port, security="none"))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows(rows, binding=binding, outbox=outbox, transport=transport, options=SendOptions())
    transport.close()
    assert report.exit_code == 0
    assert len(handler.received) == 3
    for got, row in zip(handler.received, rows, strict=True):
        assert isinstance(row, Enquiry)
        assert got.rcpt_tos == [row.email]
        msg = got.message
        assert sorted(msg.keys()) == EXPECTED_HEADERS
        (addr,) = msg["To"].addresses
        assert (addr.display_name, addr.addr_spec) == (row.name, row.email)
        assert msg.get_all("Reply-To") is not None and len(msg.get_all("Reply-To") or []) == 1
        assert "evil" not in str(msg["Reply-To"])


@pytest.mark.parametrize("value", [
    "a@example.com, b@example.com",
    "Publisher <a@example.com> b@example.com",
    "a@example.com; b@example.com",
    "team: a@example.com, b@example.com;",
    "<a@example.com> <b@example.com>",
])
def test_mail_from_with_two_addresses_is_refused_not_cut(value: str) -> None:
    """PACSPDF_MAIL_FROM must be exactly one mailbox; a second one is a usage error, not dropped."""
    with pytest.raises(UsageError, match="PACSPDF_MAIL_FROM"):
        parse_address(value, "environment: PACSPDF_MAIL_FROM")


def test_mail_from_with_one_address_and_a_name_is_kept() -> None:
    """A normal sender is accepted with its display name."""
    addr = parse_address('"Reliable, Market" <samples@example.com>', "environment: PACSPDF_MAIL_FROM")
    assert (addr.display_name, addr.addr_spec) == ("Reliable, Market", "samples@example.com")
