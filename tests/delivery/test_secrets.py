"""SMTP credentials: UTF-8 logins work, no part of a secret is ever shown, no row is left lying."""

from __future__ import annotations

import csv
import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_transport import message

from cli_runner import run_cli
from pacspdf.content.load import load
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Outbox, State
from pacspdf.delivery.send import Outcome, ReportBinding, SendOptions, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.delivery.transport import DeliveryError
from pacspdf.document.personal import sidecar_path
from smtp_server import (
    HOST,
    LoopbackController,
    ScriptedHandler,
    authenticator,
    client_tls,
    fake_personaliser,
    server_tls,
)

REPO = Path(__file__).resolve().parents[2]
USER = "mäiler@exämple.com"
PASSWORD = "ñøþ€✓ß¿Ω"       # every character non-ASCII, so any leak of any part is visible
WRONG = "ЖЖЖ-ЩЩЩ-ЮЮЮ"


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    cert, key = certificate
    handler = ScriptedHandler()
    controller = LoopbackController(handler, tls_context=server_tls(cert, key), require_starttls=True,
                                    authenticator=authenticator({USER: PASSWORD}, handler))
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def no_secret_in(text: str, secret: str) -> bool:
    return not any(ch in text for ch in secret)


def test_a_utf8_user_and_password_log_in(tls_server, certificate, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """AUTH PLAIN carries the credentials in UTF-8 (RFC 4954/6531); the server accepts them."""
    controller, handler = tls_server
    caplog.set_level(logging.DEBUG)
    t = SmtpTransport(SmtpSettings(HOST, controller.port, "starttls", USER, PASSWORD, timeout=5.0,
                                   ssl_context=client_tls(certificate[0])))
    assert t.send(message(), sender="s@example.com", recipient="ana@example.com").startswith("250")
    t.close()
    assert handler.logins == [(USER, "PLAIN")] and len(handler.received) == 1
    captured = capsys.readouterr()
    assert no_secret_in(caplog.text + captured.out + captured.err, PASSWORD)


def test_a_wrong_utf8_password_is_fatal_and_never_quoted(tls_server, certificate) -> None:  # type: ignore[no-untyped-def]
    """A refused non-ASCII password stops the batch; not one of its characters is in the reason."""
    controller, _handler = tls_server
    t = SmtpTransport(SmtpSettings(HOST, controller.port, "starttls", USER, WRONG, timeout=5.0,
                                   ssl_context=client_tls(certificate[0])))
    with pytest.raises(DeliveryError) as info:
        t.send(message(), sender="s@example.com", recipient="ana@example.com")
    assert info.value.fatal and "login" in info.value.reason
    assert no_secret_in(info.value.reason + repr(info.value), WRONG)


def test_a_refused_login_leaves_every_row_queued_not_sending(tls_server, certificate,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    """After a failed login no row claims to be in flight, so no later run calls it 'resent'."""
    controller, _handler = tls_server
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    binding = ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("name,email,company,job_title,country\nAna,ana@example.com,A,B,C\n"
                        "Bo,bo@example.com,A,B,C\n", encoding="utf-8")
    t = SmtpTransport(SmtpSettings(HOST, controller.port, "starttls", USER, WRONG, timeout=5.0,
                                   ssl_context=client_tls(certificate[0])))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox, transport=t,
                           options=SendOptions(sleep=lambda _s: None))
        assert {e.state for e in outbox.all()} == {State.QUEUED}
        assert all("login" in e.reason for e in outbox.all())
    assert [r.outcome for r in report.results] == [Outcome.QUEUED, Outcome.QUEUED]


def test_cli_logs_in_with_utf8_and_trusts_a_private_ca_through_ssl_cert_file(
        tls_server, certificate, tmp_path: Path, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    """`pacspdf send --transport smtp` end to end: SSL_CERT_FILE names the CA, the login is UTF-8."""
    controller, handler = tls_server
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    with (tmp_path / "e.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["name", "email", "company", "job_title", "country"],
                                  ["Ana Souza", "ana@example.com", "Acme", "CTO", "Brazil"]])
    env = {"PACSPDF_SMTP_HOST": HOST, "PACSPDF_SMTP_PORT": str(controller.port),
           "PACSPDF_SMTP_SECURITY": "starttls", "PACSPDF_SMTP_USER": USER,
           "PACSPDF_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(certificate[0])}
    argv = ["send", "e.csv", "--transport", "smtp", "--report", str(REPO / "content" / "pacs")]
    unset = [k for k in os.environ if k.startswith("SSL_CERT")]  # in this process (cli_runner.py)
    run = run_cli(argv, cwd=tmp_path, env=env, unset=unset)
    assert run.returncode == 0, run.err
    assert len(handler.received) == 1
    assert no_secret_in(run.out + run.err, PASSWORD)
    con = sqlite3.connect(out / "pacspdf.db")
    assert no_secret_in(" ".join(str(v) for row in con.execute("SELECT * FROM outbox") for v in row),
                        PASSWORD)
    con.close()
    # Without SSL_CERT_FILE the same private CA is not trusted: a fatal TLS error, rows stay queued.
    del env["SSL_CERT_FILE"]
    (tmp_path / "e.csv").write_text("name,email,company,job_title,country\nBo,bo@example.com,A,B,C\n",
                                    encoding="utf-8")
    run = run_cli(argv, cwd=tmp_path, env=env, unset=[*unset, "SSL_CERT_FILE"])
    assert run.returncode == 1 and "TLS" in run.out and "Traceback" not in run.err
