"""The message in flight when a batch ends in an error: it is landed, recorded and reported.

With SMTP pipelining the message of row N is still waiting for its reply while row N+1 is
made. When making row N+1 (or anything after the reply) raises, row N is landed and
recorded ``sent`` by ``finish``; these tests hold that its result also reaches the
caller's progress (the operator's printed line, the web worker's count), and that no
row is left ``sending`` or sent twice. Real aiosmtpd on 127.0.0.1 and real SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from enquiry_files import write_csv
from pacspdf.content.load import load
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import NewEntry, Outbox, State, message_id_for
from pacspdf.delivery.send import Outcome, ReportBinding, RowResult, SendOptions, retry_pending, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from pacspdf.delivery.transport import DeliveryError
from pacspdf.errors import UsageError
from smtp_server import HOST, Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


def people(n: int) -> list[tuple[str, ...]]:
    return [(f"Person {i}", f"p{i}@example.com", f"Company {i}", "Analyst", "UK") for i in range(1, n + 1)]


def smtp(port: int) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(HOST, port, "none", timeout=5.0))


def test_retry_reports_the_message_in_flight_when_the_next_report_is_unusable(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """``outbox retry`` over two reports, the second one's folder gone: the first report's last
    message was in flight when the second's binding raised. It is sent once, recorded, and its
    ``sent`` result is told before the error ends the run; the other report's row stays queued."""
    controller, handler = server
    db = tmp_path / "outbox.db"
    slug = binding.context.report.slug
    rows = [NewEntry(key=f"k{i}", report_slug=slug, report_dir=str(REPO / "content" / "pacs"),
                     transport="smtp", message_id=message_id_for(f"k{i}", "example.com"),
                     email=f"p{i}@example.com", name=f"Person {i}") for i in (1, 2)]
    rows.append(NewEntry(key="gone1", report_slug="gone", report_dir=str(tmp_path / "gone"), transport="smtp",
                         message_id=message_id_for("gone1", "example.com"), email="g@example.com",
                         name="Gone"))

    def bindings(entry: object) -> ReportBinding:
        if getattr(entry, "report_slug", "") == "gone":
            raise UsageError(f"{tmp_path / 'gone'}: no such report folder")
        return binding

    told: list[RowResult] = []
    transport = smtp(controller.port)
    with Outbox(db) as outbox:
        outbox.record(rows)
        with pytest.raises(UsageError):
            retry_pending(outbox=outbox, bindings=bindings, transports=lambda _n: transport,
                          options=SendOptions(), progress=lambda _d, _t, r: told.append(r))
        states = {e.key: e.state for e in outbox.all()}
    transport.close()
    assert states == {"k1": State.SENT, "k2": State.SENT, "gone1": State.QUEUED}
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == ["p1@example.com", "p2@example.com"]
    assert [(r.key, r.outcome) for r in told] == [("k1", Outcome.SENT), ("k2", Outcome.SENT)]


class Boom(RuntimeError):
    """A fault in the personaliser that is not a PacspdfError (a bug)."""


def test_a_personaliser_bug_on_the_next_row_still_reports_the_row_in_flight(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """Making row 3 raises a non-PacspdfError while row 2 is in flight: rows 1-2 are sent once,
    recorded and told; row 3 is left queued (never claimed), not ``sending``."""
    controller, handler = server

    def personaliser(enquiry, copy_id, date):  # type: ignore[no-untyped-def]
        if enquiry.email == "p3@example.com":
            raise Boom("bug")
        return fake_personaliser(enquiry, copy_id, date)

    b = ReportBinding(binding.context, binding.templates, personaliser)
    told: list[RowResult] = []
    transport = smtp(controller.port)
    with Outbox(tmp_path / "o.db") as outbox:
        with pytest.raises(Boom):
            send_rows(read_enquiries(write_csv(tmp_path / "e.csv", people(4))).rows, binding=b, outbox=outbox,
                      transport=transport, progress=lambda _d, _t, r: told.append(r))
        states = sorted((e.email, e.state) for e in outbox.all())
    transport.close()
    assert states == [("p1@example.com", State.SENT), ("p2@example.com", State.SENT),
                      ("p3@example.com", State.QUEUED), ("p4@example.com", State.QUEUED)]
    assert len(handler.received) == 2
    assert [(r.email, r.outcome) for r in told] == [("p1@example.com", Outcome.SENT),
                                                    ("p2@example.com", Outcome.SENT)]


class Enough(Exception):
    """What a caller's progress raises to end the batch early (the web worker's turn or stop)."""


def test_progress_that_ends_the_batch_is_still_told_the_message_it_left_in_flight(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """The web worker ends a turn by raising from progress after N results. Progress is told
    while nothing is in flight (row N+1 is made, not claimed), so every copy that went out is
    recorded and told (the worker counts and logs it), the rest stay ``queued``, and the
    transport is left with no reply unread and is reused."""
    controller, handler = server
    told: list[RowResult] = []

    def progress(done: int, _total: int, result: RowResult) -> None:
        told.append(result)
        if done >= 2:
            raise Enough

    transport = smtp(controller.port)
    with Outbox(tmp_path / "o.db") as outbox:
        with pytest.raises(Enough):
            send_rows(read_enquiries(write_csv(tmp_path / "e.csv", people(5))).rows, binding=binding,
                      outbox=outbox, transport=transport, progress=progress)
        sent = {e.email for e in outbox.all() if e.state is State.SENT}
        left = {e.email: e.state for e in outbox.all() if e.state is not State.SENT}
    assert transport._awaiting is None
    receipt = transport.send(binding_message(binding), sender=binding.context.sender.addr_spec,
                             recipient="after@example.com")
    transport.close()
    assert receipt.startswith("250")
    assert {e for r in handler.received for e in r.rcpt_tos} == sent | {"after@example.com"}
    assert len(handler.received) == len(sent) + 1
    assert set(left.values()) <= {State.QUEUED}
    assert {r.email for r in told if r.outcome is Outcome.SENT} == sent


def binding_message(binding: ReportBinding):  # type: ignore[no-untyped-def]
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = binding.context.sender
    msg["To"] = "after@example.com"
    msg["Subject"] = "after the batch"
    msg.set_content("hello")
    return msg


def test_a_slow_first_make_for_another_report_does_not_outlast_the_lease_of_the_message_in_flight(
        tmp_path: Path, server: Server, binding: ReportBinding, outbox_target: str) -> None:
    """``outbox retry`` meets a second report while the first report's last message is in flight.
    Its binding is slow (a base build can take longer than any lease); meanwhile the in-flight
    row's lease runs out and another sender on the outbox takes it over. The message in flight
    must be landed before that first make, so the other sender finds it ``sent``: every
    enquirer gets exactly one copy."""
    import time

    controller, handler = server
    db = outbox_target   # SQLite, and PostgreSQL in the full run
    lease = 1.0
    slug = binding.context.report.slug
    a, b = str(REPO / "content" / "pacs"), str(tmp_path / "second-report")
    rows = [NewEntry(key=f"k{i}", report_slug=slug, report_dir=where, transport="smtp",
                     message_id=message_id_for(f"k{i}", "example.com"), email=f"p{i}@example.com",
                     name=f"Person {i}") for i, where in ((1, a), (2, a), (3, b))]
    other: list[RowResult] = []

    def bindings(entry: object) -> ReportBinding:
        if getattr(entry, "report_dir", "") == b and not other:
            time.sleep(lease + 0.5)   # the second report's base is built (slowly)
            second = smtp(controller.port)
            with Outbox(db) as outbox2:   # meanwhile another sender drains the outbox
                other.extend(retry_pending(outbox=outbox2, bindings=lambda _e: binding,
                                           transports=lambda _n: second,
                                           options=SendOptions(lease=lease)).results)
            second.close()
        return binding

    transport = smtp(controller.port)
    with Outbox(db) as outbox:
        outbox.record(rows)
        report = retry_pending(outbox=outbox, bindings=bindings, transports=lambda _n: transport,
                               options=SendOptions(lease=lease))
        states = {e.key: e.state for e in outbox.all()}
    transport.close()
    got = sorted(a for r in handler.received for a in r.rcpt_tos)
    assert got == ["p1@example.com", "p2@example.com", "p3@example.com"], (
        got, [(r.key, r.outcome, r.detail) for r in report.results + other])
    assert states == {"k1": State.SENT, "k2": State.SENT, "k3": State.SENT}


@pytest.mark.parametrize("fault", ["421 4.3.2 Service shutting down", "451 4.3.0 Try again later", "drop"])
def test_a_fault_at_the_end_of_data_of_the_message_in_flight_is_retried_once_and_the_rest_go(
        tmp_path: Path, server: Server, binding: ReportBinding, fault: str) -> None:
    """The server answers the end of DATA of row 2 with a 421 (and closes), a 451, or drops the
    connection, while row 3 is being made: row 2 is tried again (a new session where needed) and
    delivered once, rows 3-4 go after it, no row is left ``sending``, results come in row order."""
    from pacspdf.delivery.send import RetryPolicy

    controller, handler = server
    handler.plan["p2@example.com"] = [fault]
    transport = smtp(controller.port)
    options = SendOptions(retry=RetryPolicy(attempts=3, first_delay=0.01))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows(read_enquiries(write_csv(tmp_path / "e.csv", people(4))).rows, binding=binding,
                           outbox=outbox, transport=transport, options=options)
        states = {e.email: e.state for e in outbox.all()}
    transport.close()
    assert [(r.email, r.outcome, r.attempts) for r in report.results] == [
        (f"p{i}@example.com", Outcome.SENT, 2 if i == 2 else 1) for i in range(1, 5)]
    assert set(states.values()) == {State.SENT}
    got = sorted(a for r in handler.received for a in r.rcpt_tos)
    assert got == [f"p{i}@example.com" for i in range(1, 5)]


@pytest.mark.slow  # 1.8 s of waiting; the quick run keeps a 0.2 s reply (test_delivery_pipeline.py)
def test_a_reply_slower_than_the_make_but_within_the_timeout_is_waited_for(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """The server takes most of the client's timeout to answer each end of DATA: every reply is
    still read (the timeout counts from the read, after the next copy is made), each row once."""
    import time

    controller, handler = server
    handler.on_data = lambda _rcpt, _n: time.sleep(0.6)
    transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=1.0))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows(read_enquiries(write_csv(tmp_path / "e.csv", people(3))).rows, binding=binding,
                           outbox=outbox, transport=transport)
    transport.close()
    assert [(r.outcome, r.attempts) for r in report.results] == [(Outcome.SENT, 1)] * 3
    assert len(handler.received) == 3


def test_retry_with_reports_and_transports_interleaved_delivers_each_once_in_row_order(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """``outbox retry`` over rows of two reports, on the file and the SMTP transport in turn (and
    one SMTP row the server refuses for good): every row is delivered once on its own transport,
    results come in row order although file rows wait for their group and SMTP rows for their
    reply, and no row is left ``sending``."""
    from pacspdf.delivery.transport import FileTransport

    controller, handler = server
    handler.plan["p8@example.com"] = ["550 5.1.1 No such user"]
    slug = binding.context.report.slug
    dirs = [str(REPO / "content" / "pacs"), str(tmp_path / "second")]
    rows = [NewEntry(key=f"k{i:02}", report_slug=slug, report_dir=dirs[(i // 3) % 2],
                     transport=("smtp", "file")[i % 2], message_id=message_id_for(f"k{i:02}", "example.com"),
                     email=f"p{i}@example.com", name=f"Person {i}") for i in range(1, 21)]
    transports = {"smtp": smtp(controller.port), "file": FileTransport(tmp_path / "files")}
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.record(rows)
        report = retry_pending(outbox=outbox, bindings=lambda _e: binding, transports=transports.__getitem__)
        states = {e.key: e.state for e in outbox.all()}
    transports["smtp"].close()
    assert [r.key for r in report.results] == [r.key for r in rows]
    expected = {r.key: State.FAILED if r.key == "k08" else State.SENT for r in rows}
    assert states == expected
    by_smtp = sorted(a for m in handler.received for a in m.rcpt_tos)
    assert by_smtp == sorted(r.email for r in rows if r.transport == "smtp" and r.key != "k08")
    assert len(list((tmp_path / "files").glob("*.eml"))) == sum(r.transport == "file" for r in rows)


def test_a_slow_progress_does_not_outlast_the_lease_of_a_message_in_flight(
        tmp_path: Path, server: Server, binding: ReportBinding, outbox_target: str) -> None:
    """The caller's progress (the printed line: a terminal or a pipe nobody reads may block it)
    is told a row's result while nothing is in flight: here it stalls past the lease once, and
    meanwhile another sender drains the outbox. No row's claim lapses with its message unanswered,
    so every enquirer gets exactly one copy."""
    import time

    controller, handler = server
    lease = 1.0
    rows = people(4)
    other: list[RowResult] = []

    def progress(done: int, _total: int, _result: RowResult) -> None:
        if done == 1:
            time.sleep(lease + 0.5)          # stdout blocked for longer than the lease
            second = smtp(controller.port)
            with Outbox(outbox_target) as outbox2:
                other.extend(retry_pending(outbox=outbox2, bindings=lambda _e: binding,
                                           transports=lambda _n: second,
                                           options=SendOptions(lease=lease)).results)
            second.close()

    transport = smtp(controller.port)
    with Outbox(outbox_target) as outbox:
        report = send_rows(read_enquiries(write_csv(tmp_path / "e.csv", rows)).rows, binding=binding,
                           outbox=outbox, transport=transport, options=SendOptions(lease=lease),
                           progress=progress)
        states = {e.email: e.state for e in outbox.all()}
    transport.close()
    got = sorted(a for r in handler.received for a in r.rcpt_tos)
    assert got == [f"p{i}@example.com" for i in range(1, 5)], (
        got, [(r.key, r.outcome, r.detail) for r in report.results + other])
    assert set(states.values()) == {State.SENT}


def test_smtp_results_behind_an_unrecorded_file_group_stay_few(
        tmp_path: Path, server: Server, binding: ReportBinding, monkeypatch: pytest.MonkeyPatch) -> None:
    """``outbox retry``: one file row (its short group not yet durable), then many SMTP rows. The
    results behind the file row are not held to the end of the run: past ``OWED`` of them the
    file's group is recorded early, even though an SMTP message is in flight at nearly every
    row (memory stays flat; here ``OWED`` is made small)."""
    from pacspdf.delivery import runner as runner_module
    from pacspdf.delivery.transport import FileTransport

    monkeypatch.setattr(runner_module, "OWED", 5)
    controller, handler = server
    slug = binding.context.report.slug
    n = 30
    rows = [NewEntry(key=f"k{i:02}", report_slug=slug, report_dir=str(REPO / "content" / "pacs"),
                     transport="file" if i == 0 else "smtp",
                     message_id=message_id_for(f"k{i:02}", "example.com"),
                     email=f"p{i}@example.com", name=f"Person {i}") for i in range(n)]
    transports = {"smtp": smtp(controller.port), "file": FileTransport(tmp_path / "files")}
    lag: list[int] = []
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.record(rows)
        report = retry_pending(outbox=outbox, bindings=lambda _e: binding, transports=transports.__getitem__,
                               progress=lambda done, _t, _r: lag.append(len(handler.received) + 1 - done))
    transports["smtp"].close()
    assert report.count(Outcome.SENT) == n and [r.key for r in report.results] == [r.key for r in rows]
    assert len(lag) == n and max(lag) <= 5 + 2, lag


def test_a_transport_with_a_reply_unread_is_closed_or_reused_without_reading_it_as_another(
        server: Server, binding: ReportBinding) -> None:
    """``close`` with the reply to DATA unread drops the session (QUIT would take that reply as its
    own); a ``submit`` or ``send`` after an unread reply opens a new session, so no reply is ever
    read as the answer to another message. Each message reaches the server once."""
    controller, handler = server
    sender = binding.context.sender.addr_spec
    transport = smtp(controller.port)
    transport.submit(binding_message(binding), sender=sender, recipient="a@example.com")
    transport.close()                                  # reply unread: dropped, no exception
    assert transport._awaiting is None and transport._conn is None
    transport.submit(binding_message(binding), sender=sender, recipient="b@example.com")
    receipt = transport.send(binding_message(binding), sender=sender, recipient="c@example.com")
    assert receipt.startswith("250")
    read = transport.submit(binding_message(binding), sender=sender, recipient="d@example.com")
    assert read().startswith("250")
    with pytest.raises(DeliveryError) as stale:         # a reply read twice is not another's verdict
        read()
    assert "connection lost" in str(stale.value)
    transport.close()
    assert handler.wait_for(4)
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == [f"{c}@example.com" for c in "abcd"]
