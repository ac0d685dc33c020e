"""Transports: atomic .eml files, and SMTP against a real loopback server with failures classified."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from pathlib import Path

import pytest

from pacspdf.delivery.batch import make_transport
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.delivery.transport import DeliveryError, FileTransport
from pacspdf.errors import UsageError
from smtp_server import (
    HOST,
    LoopbackController,
    ScriptedHandler,
    Server,
    authenticator,
    client_tls,
    free_port,
    server_tls,
)

SENDER = "samples@example.com"


def message(to: str = "ana@example.com", mid: str = "<abc123.pacspdf@example.com>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = to
    msg["Subject"] = "Your sample"
    msg["Message-ID"] = mid
    msg.set_content("Hello\n.\nA line with only a dot, which SMTP must escape.\n")
    return msg


def smtp(port: int, **kw: object) -> SmtpTransport:
    settings: dict[str, object] = {"security": "none", "timeout": 5.0}
    settings.update(kw)
    return SmtpTransport(SmtpSettings(HOST, port, **settings))  # type: ignore[arg-type]


def send(t: SmtpTransport, to: str = "ana@example.com") -> str:
    return t.send(message(to), sender=SENDER, recipient=to)


# ---------------------------------------------------------------------------- file


def test_file_transport_writes_one_eml_per_message_id(tmp_path: Path) -> None:
    """Each message lands in <outbox>/<message-id>.eml; sending it again replaces it, no temp files left."""
    t = FileTransport(tmp_path / "outbox")
    first = t.send(message(), sender=SENDER, recipient="ana@example.com")
    again = t.send(message(), sender=SENDER, recipient="ana@example.com")
    t.send(message("bo@example.com", "<def456.pacspdf@example.com>"), sender=SENDER,
           recipient="bo@example.com")
    assert first == again == str(tmp_path / "outbox" / "abc123.pacspdf.eml")
    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert names == ["abc123.pacspdf.eml", "def456.pacspdf.eml"]
    assert b"\r\nMessage-ID: <abc123.pacspdf@example.com>\r\n" in Path(first).read_bytes()


def test_file_transport_failure_is_fatal_not_a_lost_message(tmp_path: Path) -> None:
    """An unwritable outbox folder stops the batch (fatal) instead of marking messages failed."""
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError) as info:
        FileTransport(blocker).send(message(), sender=SENDER, recipient="ana@example.com")
    assert info.value.fatal


# ---------------------------------------------------------------------------- settings


def test_smtp_settings_come_from_the_environment() -> None:
    """Host, port, security and login are read from PACSPDF_SMTP_*; the port defaults by security."""
    s = SmtpSettings.from_env({"PACSPDF_SMTP_HOST": "mail.example.com", "PACSPDF_SMTP_SECURITY": "ssl",
                               "PACSPDF_SMTP_USER": "u", "PACSPDF_SMTP_PASSWORD": "hunter2"})
    assert (s.host, s.port, s.security) == ("mail.example.com", 465, "ssl")
    assert (s.user, s.password) == ("u", "hunter2")
    assert SmtpSettings.from_env({"PACSPDF_SMTP_HOST": "h"}).port == 587
    assert SmtpSettings.from_env({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_SECURITY": "none"}).port == 25
    assert SmtpSettings.from_env({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_PORT": "2525"}).port == 2525
    assert "hunter2" not in repr(s)


@pytest.mark.parametrize(("env", "names"), [
    ({}, "PACSPDF_SMTP_HOST"),
    ({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_SECURITY": "tls"}, "PACSPDF_SMTP_SECURITY"),
    ({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_PORT": "smtp"}, "PACSPDF_SMTP_PORT"),
    ({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_PORT": "70000"}, "PACSPDF_SMTP_PORT"),
    ({"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_USER": "u"}, "PACSPDF_SMTP_PASSWORD"),
])
def test_bad_smtp_settings_are_usage_errors_naming_the_variable(env: dict[str, str], names: str) -> None:
    """A missing or malformed PACSPDF_SMTP_* variable is a one-line usage error naming it."""
    with pytest.raises(UsageError, match=names):
        make_transport("smtp", outbox_dir=Path("unused"), environ=env)


# ---------------------------------------------------------------------------- smtp


def test_smtp_delivers_over_one_reused_session(server: Server) -> None:
    """Several messages go through one connection; the receipt is the server's 250 reply."""
    controller, handler = server
    t = smtp(controller.port)
    receipts = [send(t, f"user{i}@example.com") for i in range(3)]
    t.close()
    assert receipts == [f"250 2.0.0 OK queued as {i}" for i in (1, 2, 3)]
    assert [r.rcpt_tos for r in handler.received] == [[f"user{i}@example.com"] for i in range(3)]
    assert handler.received[0].mail_from == SENDER
    body = handler.received[0].message.get_content()
    assert "." in body.splitlines()  # the lone dot survived dot-stuffing


def test_connection_refused_is_temporary_and_about_the_connection() -> None:
    """Nobody listening: a temporary, connection-level failure (retry later, stop the batch meanwhile)."""
    with pytest.raises(DeliveryError) as info:
        send(smtp(free_port()))
    e = info.value
    assert (e.temporary, e.fatal, e.connection) == (True, False, True)
    assert "refused" in e.reason


def test_4xx_is_temporary_and_the_session_stays_usable(server: Server) -> None:
    """A 451 after DATA is temporary with the server's text; the next message on the session goes through."""
    controller, handler = server
    handler.plan["ana@example.com"] = ["451 4.3.0 Mailbox busy, try later"]
    t = smtp(controller.port)
    with pytest.raises(DeliveryError) as info:
        send(t)
    assert info.value.temporary and not info.value.connection
    assert info.value.reason == "DATA: 451 4.3.0 Mailbox busy, try later"
    assert send(t).startswith("250")
    t.close()
    assert len(handler.received) == 1


def test_5xx_is_permanent(server: Server) -> None:
    """A 550 to RCPT TO is a permanent failure carrying the server's reply; nothing is kept."""
    controller, handler = server
    handler.rcpt_replies["gone@example.com"] = "550 5.1.1 <gone@example.com>: user unknown"
    t = smtp(controller.port)
    with pytest.raises(DeliveryError) as info:
        send(t, "gone@example.com")
    assert not info.value.temporary and not info.value.fatal
    assert info.value.reason == "RCPT TO: 550 5.1.1 <gone@example.com>: user unknown"
    assert send(t).startswith("250")  # the session was reset, not broken
    t.close()
    assert [r.rcpt_tos for r in handler.received] == [["ana@example.com"]]


def test_dropped_connection_during_data_is_temporary_and_reconnects(
        server: Server) -> None:
    """The server hanging up before its reply to DATA is temporary; the next send opens a new session."""
    controller, handler = server
    handler.plan["ana@example.com"] = ["drop"]
    t = smtp(controller.port)
    with pytest.raises(DeliveryError) as info:
        send(t)
    assert info.value.temporary and "connection lost" in info.value.reason
    assert send(t).startswith("250")
    t.close()
    assert len(handler.received) == 1


def test_server_timeout_is_temporary() -> None:
    """A server that accepts the TCP connection but never greets times out as a temporary failure."""
    import socket

    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1)
        with pytest.raises(DeliveryError) as info:
            send(smtp(listener.getsockname()[1], timeout=0.3))
    assert info.value.temporary and "timed out" in info.value.reason


def test_starttls_with_login(certificate: tuple[Path, Path], caplog: pytest.LogCaptureFixture,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """STARTTLS upgrades the session before AUTH; the password is used but never logged or printed."""
    cert, key = certificate
    handler = ScriptedHandler()
    controller = LoopbackController(handler, tls_context=server_tls(cert, key), require_starttls=True,
                                    authenticator=authenticator({"mailer": "s3cr3t-pw"}, handler))
    controller.start()
    caplog.set_level(logging.DEBUG)
    try:
        t = smtp(controller.port, security="starttls", user="mailer", password="s3cr3t-pw",
                 ssl_context=client_tls(cert))
        assert send(t).startswith("250")
        t.close()
    finally:
        controller.stop()
    assert handler.logins and handler.logins[0][0] == "mailer"
    assert len(handler.received) == 1
    captured = capsys.readouterr()
    assert "s3cr3t-pw" not in caplog.text + captured.out + captured.err


def test_wrong_password_is_fatal_for_the_batch(certificate: tuple[Path, Path]) -> None:
    """A refused login stops the batch (fatal) rather than failing every message."""
    cert, key = certificate
    handler = ScriptedHandler()
    controller = LoopbackController(handler, tls_context=server_tls(cert, key),
                                    authenticator=authenticator({"mailer": "right"}, handler))
    controller.start()
    try:
        with pytest.raises(DeliveryError) as info:
            send(smtp(controller.port, security="starttls", user="mailer", password="wrong",
                      ssl_context=client_tls(cert)))
    finally:
        controller.stop()
    assert info.value.fatal and "login" in info.value.reason and "wrong" not in info.value.reason


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    """security=ssl speaks TLS from the first byte (port 465 style)."""
    cert, key = certificate
    handler = ScriptedHandler()
    controller = LoopbackController(handler, ssl_context=server_tls(cert, key))
    controller.start()
    try:
        t = smtp(controller.port, security="ssl", ssl_context=client_tls(cert))
        assert send(t).startswith("250")
        t.close()
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_untrusted_certificate_is_fatal(certificate: tuple[Path, Path]) -> None:
    """A certificate the client cannot verify stops the batch: no mail goes over an unverified link."""
    cert, key = certificate
    handler = ScriptedHandler()
    controller = LoopbackController(handler, ssl_context=server_tls(cert, key))
    controller.start()
    try:
        with pytest.raises(DeliveryError) as info:
            send(smtp(controller.port, security="ssl"))  # default trust store: our cert is unknown
    finally:
        controller.stop()
    assert info.value.fatal and "TLS" in info.value.reason
    assert handler.received == []


def test_starttls_required_but_not_offered_is_fatal(server: Server) -> None:
    """security=starttls against a server without STARTTLS refuses to send in clear text."""
    controller, _handler = server
    with pytest.raises(DeliveryError) as info:
        send(smtp(controller.port, security="starttls"))
    assert info.value.fatal and "STARTTLS" in info.value.reason


class PipeliningHandler(ScriptedHandler):
    """The scripted handler on a server that also offers PIPELINING (RFC 2920) in its EHLO reply."""

    async def handle_EHLO(self, server: object, session: object, envelope: object, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname  # type: ignore[attr-defined]  # aiosmtpd: the hook sets it
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


def test_pipelined_envelope_delivers_dot_stuffed_and_classifies_each_refusal() -> None:
    """With PIPELINING offered, MAIL, RCPT and DATA go in one write: accepted messages arrive
    whole (lines starting with a dot included), a refused recipient is permanent and a refused
    sender fatal, each with the server's reply, and the session stays usable after a refusal."""
    handler = PipeliningHandler()
    controller = LoopbackController(handler)
    controller.start()
    try:
        handler.rcpt_replies["gone@example.com"] = "550 5.1.1 <gone@example.com>: user unknown"
        t = smtp(controller.port)
        msg = message()
        msg.set_content(".starts with a dot\n..two dots\n.\nend\n")
        assert t.send(msg, sender=SENDER, recipient="ana@example.com").startswith("250")
        assert t._conn is not None and t._conn.has_extn("pipelining")
        with pytest.raises(DeliveryError) as info:
            send(t, "gone@example.com")
        assert (info.value.temporary, info.value.fatal) == (False, False)
        assert info.value.reason == "RCPT TO: 550 5.1.1 <gone@example.com>: user unknown"
        assert send(t, "bo@example.com").startswith("250")
        handler.mail_reply = "553 5.7.1 sender not allowed"
        with pytest.raises(DeliveryError) as info:
            send(t, "cy@example.com")
        assert info.value.fatal and info.value.reason == "MAIL FROM: 553 5.7.1 sender not allowed"
        t.close()
    finally:
        controller.stop()
    assert [r.rcpt_tos for r in handler.received] == [["ana@example.com"], ["bo@example.com"]]
    body = handler.received[0].message.get_content().replace("\r\n", "\n")
    assert body == ".starts with a dot\n..two dots\n.\nend\n"
