"""A server that refuses everything: the circuit breaker stops the batch early; the timeout is settable."""

from __future__ import annotations

import csv
import socket
import time
from pathlib import Path

import pytest
from test_transport import message

from pacspdf.content.load import load
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Outbox, State
from pacspdf.delivery.send import Outcome, ReportBinding, RetryPolicy, SendOptions, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.delivery.transport import DeliveryError
from pacspdf.errors import UsageError
from smtp_server import HOST, Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]
PEOPLE = [(f"Person {n}", f"p{n}@example.com", "Co", "Analyst", "UK") for n in range(1, 11)]


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


def run(tmp_path: Path, port: int, binding: ReportBinding, options: SendOptions):  # type: ignore[no-untyped-def]
    path = tmp_path / "e.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("name", "email", "company", "job_title", "country"), *PEOPLE])
    transport = SmtpTransport(SmtpSettings(HOST, port, "none", timeout=5.0))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows(read_enquiries(path).rows, binding=binding, outbox=outbox, transport=transport,
                           options=options)
        entries = {e.email: e for e in outbox.all()}
    transport.close()
    return report, entries


def test_a_server_answering_4xx_to_everything_trips_the_breaker(tmp_path: Path, server: Server,
                                                                  binding: ReportBinding) -> None:
    """Default breaker (8 temporary failures in a row): two rows' tries, then the rest queued with why."""
    controller, handler = server
    handler.default = ["451 4.7.1 Greylisted, try again later"] * 100
    slept: list[float] = []
    report, entries = run(tmp_path, controller.port, binding, SendOptions(sleep=slept.append))
    assert len(handler.attempts) == 8 and handler.received == []
    assert slept == [2.0, 4.0, 8.0] * 2                        # no backoff once the breaker is open
    assert [r.outcome for r in report.results] == [Outcome.QUEUED] * 10
    assert "circuit breaker" in report.stopped and report.exit_code == 1
    assert all(e.state is State.QUEUED for e in entries.values())
    for p in PEOPLE[2:]:
        reason = entries[p[1]].reason
        assert reason.startswith("not attempted: circuit breaker") and "451" in reason


def test_one_greylisted_recipient_does_not_trip_it(tmp_path: Path, server: Server,
                                                   binding: ReportBinding) -> None:
    """Temporary failures that a success interrupts do not add up: the batch goes on."""
    controller, handler = server
    handler.plan = {p[1]: ["451 4.7.1 later"] * 3 for p in PEOPLE[::2]}   # every other row: 3 failures
    report, _entries = run(tmp_path, controller.port, binding,
                           SendOptions(retry=RetryPolicy(attempts=4), sleep=lambda _s: None, breaker=5))
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 10 and not report.stopped


def test_smtp_timeout_is_read_from_the_environment_and_used() -> None:
    """PACSPDF_SMTP_TIMEOUT sets how long a silent server is waited for."""
    settings = SmtpSettings.from_env({"PACSPDF_SMTP_HOST": HOST, "PACSPDF_SMTP_PORT": "2525",
                                      "PACSPDF_SMTP_SECURITY": "none", "PACSPDF_SMTP_TIMEOUT": "0.4"})
    assert settings.timeout == 0.4
    assert SmtpSettings.from_env({"PACSPDF_SMTP_HOST": "h"}).timeout == 60.0
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1)  # accepts, never greets
        t = SmtpTransport(SmtpSettings.from_env({
            "PACSPDF_SMTP_HOST": HOST, "PACSPDF_SMTP_PORT": str(listener.getsockname()[1]),
            "PACSPDF_SMTP_SECURITY": "none", "PACSPDF_SMTP_TIMEOUT": "0.4"}))
        started = time.monotonic()
        with pytest.raises(DeliveryError) as info:
            t.send(message(), sender="s@example.com",
                   recipient="ana@example.com")
        assert time.monotonic() - started < 3.0
    assert info.value.temporary and "timed out" in info.value.reason


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e9", "soon", ""])
def test_an_unusable_timeout_is_a_usage_error(value: str) -> None:
    """Zero, negative, not-a-number, infinite or absurd timeouts are refused, naming the variable."""
    env = {"PACSPDF_SMTP_HOST": "h", "PACSPDF_SMTP_TIMEOUT": value}
    if not value:
        assert SmtpSettings.from_env(env).timeout == 60.0
        return
    with pytest.raises(UsageError, match="PACSPDF_SMTP_TIMEOUT"):
        SmtpSettings.from_env(env)


def _send_via_env(tmp_path: Path, port: int, binding: ReportBinding, breaker: str,
                  options: SendOptions):  # type: ignore[no-untyped-def]
    from pacspdf.delivery.batch import send_file

    path = tmp_path / "e.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("name", "email", "company", "job_title", "country"), *PEOPLE])
    env = {"PACSPDF_SMTP_HOST": HOST, "PACSPDF_SMTP_PORT": str(port), "PACSPDF_SMTP_SECURITY": "none",
           "PACSPDF_SMTP_TIMEOUT": "5", "PACSPDF_SMTP_BREAKER": breaker}
    return send_file(path, label=str(path), report_dir=REPO / "content" / "pacs", db=tmp_path / "o.db",
                     transport="smtp", make_binding=lambda _p: binding, options=options, environ=env)


@pytest.mark.parametrize(("breaker", "attempts"), [("3", 3), (" 1 ", 1), ("0", 10)])
def test_the_breaker_is_read_from_the_environment(tmp_path: Path, server: Server, binding: ReportBinding,
                                                  breaker: str, attempts: int) -> None:
    """PACSPDF_SMTP_BREAKER overrides the default of 8; 0 never trips (each row fails once here)."""
    controller, handler = server
    handler.default = ["451 4.7.1 Greylisted, try again later"] * 100
    run_ = _send_via_env(tmp_path, controller.port, binding, breaker,
                         SendOptions(retry=RetryPolicy(attempts=1), sleep=lambda _s: None))
    assert len(handler.attempts) == attempts and handler.received == []
    assert ("circuit breaker" in run_.report.stopped) == (breaker.strip() != "0")
    assert run_.report.count(Outcome.QUEUED) == 10


@pytest.mark.parametrize("value", ["-1", "2.5", "eight", "100001", "٣", "1e3"])
def test_a_wrong_breaker_setting_stops_before_anything_is_sent(tmp_path: Path, server: Server,
                                                               binding: ReportBinding, value: str) -> None:
    controller, handler = server
    with pytest.raises(UsageError, match="PACSPDF_SMTP_BREAKER") as info:
        _send_via_env(tmp_path, controller.port, binding, value, SendOptions(sleep=lambda _s: None))
    assert info.value.exit_code == 2
    assert handler.attempts == [] and not (tmp_path / "o.db").exists()
