"""The send pipeline against a real SMTP server on 127.0.0.1: delivered once, nothing lost, with faults."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from enquiry_files import write_csv
from pacspdf.content.load import load
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailContext, MailTemplates, context_from_content
from pacspdf.delivery.outbox import Outbox, State
from pacspdf.delivery.send import (
    BatchReport,
    Outcome,
    ReportBinding,
    RetryPolicy,
    RowResult,
    SendOptions,
    retry_pending,
    send_rows,
)
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.delivery.transport import FileTransport, Transport
from smtp_server import (
    HOST,
    LoopbackController,
    ScriptedHandler,
    Server,
    attachment,
    fake_personaliser,
    free_port,
    page_one_text,
)

REPO = Path(__file__).resolve().parents[2]
PEOPLE = [
    ("Ana Souza", "ana@example.com", "Acme Imaging", "CTO", "Brazil"),
    ("Bo Lindqvist", "bo@example.com", "Nordic Radiology", "Head of IT", "Sweden"),
    ("Chloé Martin", "chloe@example.org", "Hôpital Nord", "Radiologist", "France"),
    ("Dev Patel", "dev@example.net", "Apollo Diagnostics", "CIO", "India"),
]


@pytest.fixture(scope="module")
def ctx() -> MailContext:
    return context_from_content(load(REPO / "content" / "pacs"), environ={})


@pytest.fixture(scope="module")
def binding(ctx: MailContext) -> ReportBinding:
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def options(sleeps: Sleeps) -> SendOptions:
    """Three tries, backoff recorded instead of slept (1 ms, 2 ms, ...)."""
    return SendOptions(retry=RetryPolicy(attempts=3, first_delay=0.001, factor=2.0), sleep=sleeps)


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(HOST, port, "none", timeout=5.0))


def run(csv_path: Path, db: Path, transport: Transport, binding: ReportBinding,
        options: SendOptions) -> BatchReport:
    with Outbox(db) as outbox:
        try:
            return send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox,
                             transport=transport, options=options)
        finally:
            transport.close()


def assert_delivered_once(handler: ScriptedHandler, people: list[tuple[str, ...]]) -> None:
    """Every person got exactly one message whose attached PDF names them on page 1."""
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == sorted(p[1] for p in people)
    for name, address, *_ in people:
        (got,) = handler.to(address)
        msg = got.message
        assert msg["To"].addresses[0].addr_spec == address
        filename, pdf = attachment(msg)
        assert filename == "pacs-sample.pdf"
        assert f"Prepared for {name}" in page_one_text(pdf)


def test_batch_is_delivered_once_with_the_name_on_page_one(
        tmp_path: Path, server: Server, binding: ReportBinding, options: SendOptions) -> None:
    """Each valid row arrives once with its personalised PDF; a bad row is rejected; the outbox agrees."""
    controller, handler = server
    path = write_csv(tmp_path / "e.csv", [*PEOPLE[:3], ("Bad Row", "not-an-address", "", "", "")])
    report = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 3 + [Outcome.REJECTED]
    assert report.results[3].where.endswith(":5") and report.results[3].detail.startswith("email: ")
    assert report.exit_code == 1
    assert_delivered_once(handler, PEOPLE[:3])
    with Outbox(tmp_path / "o.db") as ob:
        entries = {e.email: e for e in ob.all()}
        assert ob.counts()[State.SENT] == 3 and ob.counts()[State.REJECTED] == 1
    for got in handler.received:
        msg = got.message
        entry = entries[msg["To"].addresses[0].addr_spec]
        assert msg["Message-ID"] == entry.message_id
        assert msg["X-Pacspdf-Copy-Id"] == entry.copy_id
        assert entry.server_reply.startswith("250 ") and entry.attempts == 1


def test_running_the_same_csv_again_sends_nothing(tmp_path: Path, server: Server, binding: ReportBinding,
                                                  options: SendOptions) -> None:
    """A second run of the same enquiries reports them as already sent and sends no mail."""
    controller, handler = server
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    first = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    again = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    assert first.exit_code == again.exit_code == 0
    assert [r.outcome for r in again.results] == [Outcome.ALREADY_SENT] * 4
    assert len(handler.received) == 4


def test_duplicate_rows_in_one_file_are_sent_once(tmp_path: Path, server: Server, binding: ReportBinding,
                                                  options: SendOptions) -> None:
    """Same enquiry_id and email, or the same email without an id: one message. Same id, another
    email: reported as a conflict, not as "already sent"."""
    controller, handler = server
    header = ("name", "email", "company", "job_title", "country", "enquiry_id")
    path = write_csv(tmp_path / "e.csv", [(*PEOPLE[0], "E1"), (*PEOPLE[1], "E1"), (*PEOPLE[2], ""),
                                          ("Chloé M.", "CHLOE@example.org", "", "", "", ""),
                                          (*PEOPLE[0], "E1")], header)
    report = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.CONFLICT, Outcome.SENT,
                                                   Outcome.ALREADY_SENT, Outcome.ALREADY_SENT]
    conflict = report.results[1]
    assert "E1" in conflict.detail and "ana@example.com" in conflict.detail
    assert conflict.email == "bo@example.com" and report.exit_code == 1
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == ["ana@example.com",
                                                                         "chloe@example.org"]


def test_server_not_listening_leaves_rows_queued_then_retry_delivers(
        tmp_path: Path, binding: ReportBinding, options: SendOptions, sleeps: Sleeps) -> None:
    """Nobody listening: backoff, then the batch stops, every row queued; `retry` later sends each once."""
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    report = run(path, tmp_path / "o.db", smtp(free_port()), binding, options)
    assert [r.outcome for r in report.results] == [Outcome.QUEUED] * 4
    assert "refused" in report.stopped
    assert sleeps == [0.001, 0.002]  # exponential, three tries of the first row only
    assert all(r.detail.startswith("not attempted") for r in report.results[1:])
    with Outbox(tmp_path / "o.db") as ob:
        assert ob.counts()[State.QUEUED] == 4
        first = ob.get(report.results[0].key)
        assert first is not None and first.attempts == 3 and "refused" in first.reason

    handler = ScriptedHandler()
    controller = LoopbackController(handler)
    controller.start()
    try:
        transport = smtp(controller.port)
        with Outbox(tmp_path / "o.db") as ob:
            retried = retry_pending(outbox=ob, bindings=lambda _e: binding, transports=lambda _n: transport,
                                    options=options)
            transport.close()
            assert ob.counts()[State.SENT] == 4
    finally:
        controller.stop()
    assert [r.outcome for r in retried.results] == [Outcome.SENT] * 4
    assert_delivered_once(handler, PEOPLE)


def test_451_then_250_is_delivered_once_after_backoff(tmp_path: Path, server: Server, binding: ReportBinding,
                                                     options: SendOptions, sleeps: Sleeps) -> None:
    """A temporary 451 is retried after a backoff and the message arrives exactly once."""
    controller, handler = server
    handler.plan["bo@example.com"] = ["451 4.7.1 Greylisted, try again"]
    report = run(write_csv(tmp_path / "e.csv", PEOPLE), tmp_path / "o.db", smtp(controller.port), binding,
                 options)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 4
    assert report.results[1].attempts == 2 and sleeps == [0.001]
    assert handler.attempts.count("bo@example.com") == 2
    assert_delivered_once(handler, PEOPLE)


def test_persistent_4xx_stays_queued_for_retry(tmp_path: Path, server: Server, binding: ReportBinding,
                                               options: SendOptions) -> None:
    """A 4xx on every try leaves that row queued with the reply (others still go); retry sends it later."""
    controller, handler = server
    handler.plan["bo@example.com"] = ["452 4.2.2 Mailbox full"] * 3
    report = run(write_csv(tmp_path / "e.csv", PEOPLE), tmp_path / "o.db", smtp(controller.port), binding,
                 options)
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.QUEUED, Outcome.SENT, Outcome.SENT]
    assert "452 4.2.2 Mailbox full" in report.results[1].detail
    assert report.exit_code == 1 and not report.stopped
    transport = smtp(controller.port)
    with Outbox(tmp_path / "o.db") as ob:
        retried = retry_pending(outbox=ob, bindings=lambda _e: binding, transports=lambda _n: transport,
                                options=options)
    transport.close()
    assert [(r.email, r.outcome) for r in retried.results] == [("bo@example.com", Outcome.SENT)]
    assert_delivered_once(handler, PEOPLE)


def test_550_fails_at_once_with_the_server_reason(tmp_path: Path, server: Server, binding: ReportBinding,
                                                  options: SendOptions, sleeps: Sleeps) -> None:
    """A 5xx is permanent: no retry, the row is failed with the reply, the others are delivered."""
    controller, handler = server
    handler.rcpt_replies["bo@example.com"] = "550 5.1.1 <bo@example.com>: Recipient address rejected"
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    report = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.FAILED, Outcome.SENT, Outcome.SENT]
    assert report.results[1].detail == "RCPT TO: 550 5.1.1 <bo@example.com>: Recipient address rejected"
    assert sleeps == [] and report.exit_code == 1
    assert_delivered_once(handler, [PEOPLE[0], *PEOPLE[2:]])
    again = run(path, tmp_path / "o.db", smtp(controller.port), binding, options)
    assert again.results[1].outcome is Outcome.FAILED
    assert again.results[1].detail.startswith("failed earlier: RCPT TO: 550")
    assert len(handler.received) == 3


def test_refused_sender_stops_the_batch_without_failing_rows(
        tmp_path: Path, server: Server, binding: ReportBinding, options: SendOptions) -> None:
    """A 5xx to MAIL FROM refuses every message alike, so the run stops and all rows stay queued."""
    controller, handler = server
    handler.mail_reply = "553 5.7.1 <help@reliablemarketforecast.com>: Sender address rejected"
    report = run(write_csv(tmp_path / "e.csv", PEOPLE), tmp_path / "o.db", smtp(controller.port), binding,
                 options)
    assert [r.outcome for r in report.results] == [Outcome.QUEUED] * 4
    assert "MAIL FROM: 553 5.7.1" in report.stopped
    with Outbox(tmp_path / "o.db") as ob:
        assert ob.counts()[State.QUEUED] == 4 and ob.counts()[State.FAILED] == 0


def test_dropped_connection_during_data_is_retried_and_delivered_once(
        tmp_path: Path, server: Server, binding: ReportBinding, options: SendOptions) -> None:
    """The server hanging up during DATA (message not kept) is retried on a new connection, delivered once."""
    controller, handler = server
    handler.plan["chloe@example.org"] = ["drop"]
    report = run(write_csv(tmp_path / "e.csv", PEOPLE), tmp_path / "o.db", smtp(controller.port), binding,
                 options)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 4
    assert report.results[2].attempts == 2
    assert_delivered_once(handler, PEOPLE)


def test_oversized_attachment_rejects_the_row(tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """A PDF over the configured attachment limit is rejected with the sizes; nothing is sent for it."""
    controller, handler = server
    tiny = SendOptions(max_attachment=500)
    report = run(write_csv(tmp_path / "e.csv", PEOPLE[:1]), tmp_path / "o.db", smtp(controller.port), binding,
                 tiny)
    assert report.results[0].outcome is Outcome.REJECTED and "limit" in report.results[0].detail
    assert handler.received == []


def test_file_transport_writes_each_message_once(tmp_path: Path, binding: ReportBinding,
                                                 options: SendOptions) -> None:
    """The default transport writes one .eml per enquiry; a rerun adds none."""
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    box = tmp_path / "outbox"
    assert run(path, tmp_path / "o.db", FileTransport(box), binding, options).exit_code == 0
    assert run(path, tmp_path / "o.db", FileTransport(box), binding, options).exit_code == 0
    files = sorted(box.glob("*.eml"))
    assert len(files) == 4
    names = set()
    for f in files:
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        _, pdf = attachment(msg)  # type: ignore[arg-type]
        names.add(page_one_text(pdf).split("Prepared for ")[1].split(",")[0])
    assert names == {p[0] for p in PEOPLE}


def test_progress_is_reported_for_every_row(tmp_path: Path, binding: ReportBinding,
                                            options: SendOptions) -> None:
    """The progress callback sees each row once, in order, with the running count and the total."""
    path = write_csv(tmp_path / "e.csv", [*PEOPLE, ("", "x@example.com", "", "", "")])
    seen: list[tuple[int, int, Outcome]] = []

    def progress(done: int, total: int, result: RowResult) -> None:
        seen.append((done, total, result.outcome))

    with Outbox(tmp_path / "o.db") as ob:
        send_rows(read_enquiries(path).rows, binding=binding, outbox=ob,
                  transport=FileTransport(tmp_path / "b"), options=options, progress=progress)
    assert seen == [(1, 5, Outcome.SENT), (2, 5, Outcome.SENT), (3, 5, Outcome.SENT), (4, 5, Outcome.SENT),
                    (5, 5, Outcome.REJECTED)]


def test_every_row_is_recorded_before_the_first_send(tmp_path: Path, binding: ReportBinding,
                                                     options: SendOptions) -> None:
    """When the first message is handed over, every row of the batch is already in the outbox."""
    path = write_csv(tmp_path / "e.csv", [*PEOPLE, ("", "bad", "", "", "")])
    db = tmp_path / "o.db"
    seen_at_first_send: list[dict[State, int]] = []

    class Spy(FileTransport):
        def send(self, msg, *, sender, recipient):  # type: ignore[no-untyped-def]
            if not seen_at_first_send:
                with Outbox(db) as other:
                    seen_at_first_send.append(other.counts())
            return super().send(msg, sender=sender, recipient=recipient)

    run(path, db, Spy(tmp_path / "b"), binding, options)
    counts = seen_at_first_send[0]
    assert counts[State.SENDING] == 1 and counts[State.QUEUED] == 3 and counts[State.REJECTED] == 1


def test_retry_reads_the_queue_a_page_at_a_time_and_tries_each_row_once(
        tmp_path: Path, server: Server, binding: ReportBinding, options: SendOptions,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Paged by id: a row that fails again (queued anew) is not met twice, and every page is read."""
    import pacspdf.delivery.send as send_module

    controller, handler = server
    people = [(f"Person {n}", f"p{n}@example.com", "Co", "CIO", "UK") for n in range(11)]
    handler.plan = {p[1]: ["421 4.3.2 Try again later"] * 99 for p in people}  # every row queued
    run(write_csv(tmp_path / "e.csv", people), tmp_path / "o.db", smtp(controller.port), binding,
        SendOptions(retry=RetryPolicy(attempts=1), sleep=options.sleep, breaker=0))
    handler.plan = {p[1]: ["452 4.2.2 Mailbox full"] for p in people[::2]}   # once more for 6 of them
    handler.attempts.clear()
    monkeypatch.setattr(send_module, "CHUNK", 4)
    from pacspdf.delivery.store.sqlite import SqliteOutbox  # the store a file path opens

    pages: list[int] = []
    real_page = SqliteOutbox.pending_page

    def counted(self: SqliteOutbox, after_id: int = 0, limit: int = 500) -> list:  # type: ignore[type-arg]
        page = real_page(self, after_id, limit)
        pages.append(len(page))
        return page

    monkeypatch.setattr(SqliteOutbox, "pending_page", counted)
    transport = smtp(controller.port)
    with Outbox(tmp_path / "o.db") as ob:
        retried = retry_pending(outbox=ob, bindings=lambda _e: binding, transports=lambda _n: transport,
                                options=SendOptions(retry=RetryPolicy(attempts=1), sleep=options.sleep,
                                                    breaker=0))
        transport.close()
        assert ob.count_pending() == 6
    assert pages == [4, 4, 3, 0]
    assert sorted(handler.attempts) == sorted(p[1] for p in people)      # each row tried exactly once
    assert [r.outcome for r in retried.results].count(Outcome.SENT) == 5
    assert [r.outcome for r in retried.results].count(Outcome.QUEUED) == 6
