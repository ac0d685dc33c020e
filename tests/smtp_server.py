"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, a free port, scriptable replies.

The handler answers each message by the next action in its recipient's plan (default:
accept). Actions: ``"accept"``; an SMTP reply such as ``"451 4.3.0 Try again later"``;
``"drop"`` (close the connection after the data arrived, before any reply, without keeping
the message); ``"accept-drop"`` (keep the message, then close the connection before the 250
reaches the client: the window in which a duplicate is possible). ``on_data`` runs before
each action, with the recipient and the number of messages kept so far.

Also here, shared by the delivery tests: a stand-in personaliser that makes a tiny real PDF
with the enquirer's name on page 1, and helpers to read what the server received.
"""

from __future__ import annotations

import email
import email.policy
import io
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass
class Received:
    """One message the server kept."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class ScriptedHandler:
    """Keeps accepted messages; replies as scripted per recipient (``plan``) or for all (``default``)."""

    plan: dict[str, list[str]] = field(default_factory=dict)
    default: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    mail_reply: str = ""
    on_data: Callable[[str, int], None] | None = None
    received: list[Received] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _next(self, rcpt: str) -> str:
        queue = self.plan.get(rcpt) or self.default
        return queue.pop(0) if queue else "accept"

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        rcpt = envelope.rcpt_tos[0]
        self.attempts.append(rcpt)
        if self.on_data is not None:
            self.on_data(rcpt, len(self.received))
        action = self._next(rcpt)
        data = envelope.original_content or b""
        if action in ("accept", "accept-drop"):
            with self._cond:
                self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data))
                self._cond.notify_all()
            if action == "accept":
                return f"250 2.0.0 OK queued as {len(self.received)}"
        if action in ("drop", "accept-drop"):
            assert server.transport is not None
            server.transport.abort()
            return "451 4.3.0 (never sent: the connection is gone)"
        return action

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.received) >= count, timeout)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class LoopbackController(Controller):
    """A Controller that binds port 0 on 127.0.0.1 and learns the port the kernel chose."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=0, **kwargs)

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def authenticator(users: dict[str, str], handler: ScriptedHandler) -> Callable[..., AuthResult]:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            handler.logins.append((user, mechanism))
            if users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    return check


def free_port() -> int:
    """A port nobody listens on (bound then released), for "server not listening" tests."""
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------- TLS


def self_signed(directory: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate for 127.0.0.1 made with the openssl tool; None if it is missing."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def client_tls(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


# ---------------------------------------------------------------------------- PDFs


@dataclass(frozen=True)
class FakeCopy:
    pdf: bytes
    warnings: list[str]


def fake_personaliser(enquiry: Any, copy_id: str, date: str) -> FakeCopy:
    """A tiny real PDF: "Prepared for NAME, COMPANY" on page 1, the copy ID in the footer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=True)
    canvas.setTitle("Sample")
    canvas.setFont("Helvetica", 14)
    canvas.drawString(72, 700, f"Prepared for {enquiry.name}, {enquiry.company}")
    canvas.setFont("Helvetica", 8)
    canvas.drawString(72, 40, f"{enquiry.email} · copy {copy_id} · {date}")
    canvas.showPage()
    canvas.drawString(72, 700, "Page two")
    canvas.showPage()
    canvas.save()
    return FakeCopy(buf.getvalue(), [])


def attachment(msg: EmailMessage) -> tuple[str, bytes]:
    """(file name, bytes) of the message's one PDF attachment."""
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, f"expected one PDF attachment, found {len(parts)}"
    payload = parts[0].get_content()
    assert isinstance(payload, bytes)
    return parts[0].get_filename() or "", payload


def page_one_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


#: What the ``server`` fixture (tests/conftest.py) yields: a running controller and its handler.
Server = tuple[LoopbackController, ScriptedHandler]
