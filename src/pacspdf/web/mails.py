"""Turn a web request into its two kinds of mail: the confirmation link, and a question for the sales team.

The confirmation mail holds no text the visitor typed: its only visitor data is the address
it is sent to. Its link carries a signed, random request id. The sales mail is plain text,
so a question can never become markup; its headers are built from parsed addresses, so no
field can add a header.
"""

from __future__ import annotations

import email.policy
import email.utils
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from pacspdf.web import core


def _address(addr: str, name: str = "") -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def _base(ctx: core.MailContext, to: Address, subject: str, message_id: str) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    try:
        msg["From"] = ctx.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = "auto-generated"
    except (ValueError, TypeError) as exc:
        raise core.MessageRejected(f"cannot form the message headers: {exc}") from None
    return msg


def confirmation_message(ctx: core.MailContext, recipient: str, link: str, kind: str, hours: float,
                         message_id: str) -> EmailMessage:
    """The mail asking the address's owner to confirm; nothing in it comes from the form but the address."""
    report = ctx.report
    what = "a free sample of" if kind == "sample" else "to send a question about"
    subject = f"Please confirm your request: {report.short_title or report.title}"
    msg = _base(ctx, _address(recipient), subject, message_id)
    msg["Reply-To"] = ctx.reply_to
    after = ("we email you the personalised sample PDF and you can also download it straight away"
             if kind == "sample" else "we pass your question to our sales team and send you the sample PDF")
    msg.set_content(
        f"Hello,\n\n"
        f"Someone, we hope you, asked {ctx.brand.publisher} for {what} the report\n"
        f"\"{report.title}\" using this email address.\n\n"
        f"To confirm, open this link (it works once, for {hours:g} hours):\n\n"
        f"{link}\n\n"
        f"When you confirm, {after}.\n\n"
        f"If this was not you, ignore this email: nothing else will be sent to you.\n\n"
        f"{ctx.brand.publisher}\n{ctx.brand.website}\n")
    return msg


def sales_message(ctx: core.MailContext, entry: core.Entry, consent: bool, message_id: str) -> EmailMessage:
    """The visitor's question for the brand's sales address, as plain text, replying to the visitor."""
    report = ctx.report
    sales = ctx.reply_to
    subject = f"Pre-purchase question: {report.short_title or report.title} ({report.code})"
    msg = _base(ctx, Address(display_name=sales.display_name, username=sales.username, domain=sales.domain),
                subject, message_id)
    try:
        # The bare address: a typed name can look like an RFC 2047 encoded word ("=?utf-8?b?...?=")
        # that mail clients decode into another address. The name is in the body.
        msg["Reply-To"] = _address(entry.email)
    except (ValueError, TypeError) as exc:
        raise core.MessageRejected(f"cannot form the Reply-To header: {exc}") from None
    fields = [("Name", entry.name), ("Email", entry.email), ("Company", entry.company),
              ("Job title", entry.job_title), ("Country", entry.country),
              ("Marketing consent", "yes" if consent else "no"), ("Request", entry.key)]
    lines = "\n".join(f"{label + ':':<19}{value}" for label, value in fields)
    msg.set_content(
        f"A visitor asked a question about \"{report.title}\" ({report.code}) and confirmed their "
        f"email address.\n\n{lines}\n\nQuestion:\n\n{entry.message}\n\n"
        f"Reply to this email to answer them.\n")
    return msg
