"""The fast path of a delivery: one-statement claims, 'sent' a group at a time for files, the SMTP socket.

Each test is of the exactly-once contract the faster path must keep: a row is claimed before
anything about it is written or sent; a file's row is recorded ``sent`` only once the file is
durable; an SMTP message's ``sent`` is committed straight after its 250 is read, before the
next row is claimed (that row's copy is made while the server works on the message), and
fsynced before the next message goes; every outcome is written only while the claim is held.
"""

from __future__ import annotations

import csv
import errno
import os
import random
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enquiry_files import states, write_csv
from pacspdf.content.load import load
from pacspdf.delivery import transport as transport_module
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Entry, LeaseLost, NewEntry, Outbox, OutboxError, State
from pacspdf.delivery.results import BatchReport
from pacspdf.delivery.send import Outcome, ReportBinding, RetryPolicy, RowResult, SendOptions, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport, _send_data
from pacspdf.delivery.store import sqlite as sqlite_store
from pacspdf.delivery.transport import FileTransport
from selection import slow_except
from smtp_server import HOST, Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


def people(n: int, bad: tuple[int, ...] = ()) -> list[tuple[str, ...]]:
    """``n`` enquirers; the rows numbered in ``bad`` (1-based) have an unusable email."""
    return [(f"Person {i}", f"p{i}.example.com" if i in bad else f"p{i}@example.com", f"Company {i}",
             "Analyst", "UK") for i in range(1, n + 1)]


def smtp_batch(tmp_path: Path, port: int, binding: ReportBinding, n: int, db: Path | str,
               options: SendOptions | None = None) -> tuple[BatchReport, list[Entry]]:
    """Send ``people(n)`` to the test server over one SMTP session; the report and the outbox after."""
    transport = SmtpTransport(SmtpSettings(HOST, port, "none", timeout=5.0))
    with Outbox(db) as outbox:
        report = send_rows(read_enquiries(write_csv(tmp_path / "e.csv", people(n))).rows, binding=binding,
                           outbox=outbox, transport=transport, options=options)
        entries = outbox.all()
    transport.close()
    return report, entries


def entry(key: str, state: State = State.QUEUED) -> NewEntry:
    return NewEntry(key=key, report_slug="pacs", report_dir="/r", transport="file",
                    email=f"{key}@example.com", state=state)


# ---------------------------------------------------------------------------- the store


def test_claim_queued_takes_only_a_queued_row(outbox_target: str) -> None:
    """On both stores: a queued row is claimed and read back; a held, sent or rejected one is not;
    the claim's token is what lets its holder, and only it, record the outcome."""
    with Outbox(outbox_target) as first, Outbox(outbox_target) as second:
        first.record([entry("a"), entry("b"), entry("r", State.REJECTED)])
        claimed = first.claim_queued("a", "2026-11-30T01:00:00.000000Z")
        assert claimed is not None and claimed.state is State.SENDING and claimed.attempts == 1
        assert claimed.prepared_at == "2026-11-30T01:00:00.000000Z" and first.holder("a")
        assert second.claim_queued("a", "t") is None and first.claim_queued("a", "t") is None
        with pytest.raises(LeaseLost):
            second.mark_sent("a", "250 not mine")
        assert first.mark_sent("a", "250 OK").state is State.SENT
        assert first.claim_queued("a", "t") is None                       # sent: never again
        assert first.claim_queued("r", "t") is None                       # rejected: not by this path
        assert first.claim_queued("missing", "t") is None
        b = second.claim_queued("b", "t")
        assert b is not None and b.state is State.SENDING
        assert {e.key: e.state for e in first.all()} == {"a": State.SENT, "b": State.SENDING,
                                                         "r": State.REJECTED}


def test_a_queued_row_costs_one_statement_to_claim_and_one_to_record(tmp_path: Path) -> None:
    """SQLite: the claim of a queued row and its 'sent' are one statement each (each reads the row
    back), and recording a new row is one INSERT: three per delivered row, where it was eight."""
    with Outbox(tmp_path / "o.db") as ob:
        statements: list[str] = []
        ob._db.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        ob.record([entry("a")])
        inserts = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "SELECT"))]
        assert len(inserts) == 1 and "RETURNING" in inserts[0]
        statements.clear()
        assert ob.claim_queued("a", "t") is not None
        assert len(statements) == 1 and statements[0].startswith("UPDATE")
        statements.clear()
        assert ob.mark_sent("a", "250 OK", durable=False).state is State.SENT
        assert len(statements) == 1 and statements[0].startswith("UPDATE")
        ob._db.set_trace_callback(None)  # type: ignore[attr-defined]


def test_mark_sent_many_writes_each_row_only_while_its_claim_is_held(outbox_target: str) -> None:
    """One transaction for a group; a row whose claim passed to another sender is not written and
    is answered with LeaseLost naming the holder; the others are recorded."""
    with Outbox(outbox_target) as first, Outbox(outbox_target) as second:
        first.record([entry("a"), entry("b"), entry("c")])
        assert first.claim("a", "t") is not None and first.claim("c", "t") is not None
        assert first.claim("b", "t", lease_seconds=0) is not None
        time.sleep(0.01)
        assert second.claim("b", "t") is not None                          # b's lease ran out: taken over
        done = first.mark_sent_many([("a", "250 one"), ("b", "250 two"), ("c", "250 three")])
        assert [type(d).__name__ for d in done] == ["Entry", "LeaseLost", "Entry"]
        assert {e.key: (e.state, e.server_reply) for e in first.all()} == {
            "a": (State.SENT, "250 one"), "b": (State.SENDING, ""), "c": (State.SENT, "250 three")}
        assert second.mark_sent("b", "250 mine").state is State.SENT


def test_a_failed_group_commit_keeps_the_claims(tmp_path: Path) -> None:
    """SQLite locked by another connection: nothing is written, and once the lock is gone the same
    sender still holds its rows and records them."""
    db = tmp_path / "o.db"
    with Outbox(db, busy_timeout=0.05) as ob:
        ob.record([entry("a"), entry("b")])
        assert ob.claim_queued("a", "t") is not None and ob.claim_queued("b", "t") is not None
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OutboxError, match="locked"):
            ob.mark_sent_many([("a", "250"), ("b", "250")])
        other.execute("ROLLBACK")
        other.close()
        assert {e.key: e.state for e in ob.all()} == {"a": State.SENDING, "b": State.SENDING}
        done = ob.mark_sent_many([("a", "250"), ("b", "250")])
        assert all(not isinstance(d, LeaseLost) and d.state is State.SENT for d in done)


# ---------------------------------------------------------------------------- files: 'sent' once durable


def test_file_rows_are_recorded_sent_only_after_their_files_are_durable(
        tmp_path: Path, binding: ReportBinding, monkeypatch: pytest.MonkeyPatch) -> None:
    """150 rows (more than two groups) with bad rows among them: every row reported 'sent' had its
    .eml fsynced before the outbox said so, the results come in the CSV's order, one file per row."""
    fsynced: set[str] = set()
    real_fsync = transport_module._fsync_file

    def fsync_file(path: Path) -> None:
        real_fsync(path)
        fsynced.add(str(path))

    monkeypatch.setattr(transport_module, "_fsync_file", fsync_file)
    bad = (3, 70, 129, 150)
    rows = read_enquiries(write_csv(tmp_path / "e.csv", people(150, bad))).rows
    db = tmp_path / "o.db"
    seen: list[RowResult] = []
    transport = FileTransport(tmp_path / "mail")

    def progress(_i: int, _total: int, result: RowResult) -> None:
        seen.append(result)
        if result.outcome is Outcome.SENT:
            path = result.detail.split(" ", 1)[1]
            assert path in fsynced, f"{result.where} reported sent before its file was fsynced"
            assert states(db)[result.email] == "sent"

    with Outbox(db) as outbox:
        report = send_rows(rows, binding=binding, outbox=outbox, transport=transport, progress=progress)
    transport.close()
    lines = [int(r.where.rsplit(":", 1)[1]) for r in seen]
    assert lines == sorted(lines) and len(seen) == 150               # row order, every row once
    assert [r.outcome for r in seen if r.outcome is not Outcome.SENT] == [Outcome.REJECTED] * len(bad)
    assert report.count(Outcome.SENT) == 146
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 146
    assert not list((tmp_path / "mail").glob(".*.tmp"))


def test_files_that_cannot_be_made_durable_are_not_recorded_and_are_written_again(
        tmp_path: Path, binding: ReportBinding, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk refuses the fsync: the rows stay 'sending' (not recorded), the run says so and
    stops; the next run writes the same files again and records them, still one file per row."""
    real_fsync = transport_module._fsync_file

    def failing(_path: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(transport_module, "_fsync_file", failing)
    csv_path = write_csv(tmp_path / "e.csv", people(5))
    db = tmp_path / "o.db"
    transport = FileTransport(tmp_path / "mail")
    with Outbox(db) as outbox:
        report = send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox, transport=transport)
    assert [r.outcome for r in report.results] == [Outcome.UNRECORDED] * 5
    assert "Input/output error" in report.results[0].detail and "durable" in report.stopped
    assert set(states(db).values()) == {"sending"} and report.exit_code == 1
    monkeypatch.setattr(transport_module, "_fsync_file", real_fsync)
    transport = FileTransport(tmp_path / "mail")
    with Outbox(db) as outbox:
        again = send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox, transport=transport)
    transport.close()
    assert [r.outcome for r in again.results] == [Outcome.SENT] * 5
    assert all("resent after an interrupted run" in r.detail for r in again.results)
    assert set(states(db).values()) == {"sent"} and len(list((tmp_path / "mail").glob("*.eml"))) == 5


@pytest.mark.parametrize("seed", slow_except([1, 2, 3], keep=[1]))
def test_a_killed_file_batch_loses_no_row_and_writes_each_file_once(tmp_path: Path, sample_pdf,  # type: ignore[no-untyped-def]
                                                                    seed: int) -> None:
    """SIGKILL of `pacspdf send` (real copies, file transport) at a random moment, then a rerun:
    every row is recorded sent and there is exactly one .eml per row (a file written but not yet
    recorded is written again under the same name)."""
    import shutil

    from pacspdf.document.personal import sidecar_path

    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    write_csv(tmp_path / "enquiries.csv", people(200))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSPDF_")}
    argv = [sys.executable, "-m", "pacspdf", "send", "enquiries.csv",
            "--report", str(REPO / "content" / "pacs")]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    db = out / "pacspdf.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:   # until it is sending
        if (out / "outbox").is_dir() and any((out / "outbox").glob("*.eml")):
            break
        time.sleep(0.02)
    time.sleep(random.Random(seed).uniform(0.0, 0.4))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    rerun = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    assert set(states(db).values()) == {"sent"} and len(states(db)) == 200
    files = sorted((out / "outbox").glob("*.eml"))   # (the killed run's half-written temporary file,
    assert len(files) == 200                          # `.<name>.<pid>.eml.tmp`, may be left beside them)
    assert {f.stem for f in files} == {f.name.split(".")[1] for f in (out / "outbox").glob(".*.tmp")} | {
        f.stem for f in files}


# ---------------------------------------------------------------------------- SMTP


def test_the_smtp_socket_writes_at_once_and_each_message_ends_once(server: Server) -> None:
    """TCP_NODELAY is on (a short write does not wait for the ACK of the data before it), and the
    ending dot travels with the last piece: dot-stuffing and the end are right for any split."""
    controller, handler = server
    transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=5.0))
    conn = transport._open()
    try:
        assert conn.sock is not None
        assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        cases = [
            [b"Subject: a\r\n\r\n", b"", b".starts\r\nmid\r\n.dot\r\n", b".last line"],
            [b"Subject: b\r\n\r\nbody\r\n"],
            [b"Subject: c\r\n\r\n", b"x", b".y\r\n"],
        ]
        for chunks in cases:
            for command in ("mail FROM:<s@example.com>", "rcpt TO:<r@example.com>", "data"):
                conn.putcmd(command)
                assert conn.getreply()[0] in (250, 354)
            _send_data(conn, chunks)
            assert conn.getreply()[0] == 250
    finally:
        conn.close()
    assert handler.wait_for(3)
    expected = [b"".join(c) for c in cases]
    got = [r.data for r in handler.received]
    for want, have in zip(expected, got, strict=True):
        assert have.rstrip(b"\r\n") == want.rstrip(b"\r\n")


def test_a_sent_that_cannot_be_made_durable_stops_before_the_next_message(
        tmp_path: Path, server: Server, binding: ReportBinding, monkeypatch: pytest.MonkeyPatch) -> None:
    """The WAL's fsync fails after the first 250: that row is recorded (in the WAL), and the run
    stops before the second message goes (its copy was made while the server had the first),
    leaving it and the rest queued, not claimed; nothing else is sent."""
    controller, handler = server
    calls: list[int] = []
    real = sqlite_store._fsync_size

    def fsync_size(fd: int) -> int:
        calls.append(fd)
        if len(calls) > 1:   # the first is the sync after the rows were recorded
            raise OSError(errno.EIO, "Input/output error")
        return real(fd)

    monkeypatch.setattr(sqlite_store, "_fsync_size", fsync_size)
    db = tmp_path / "o.db"
    options = SendOptions(commit_retry=RetryPolicy(attempts=2, first_delay=0.01))
    report, _ = smtp_batch(tmp_path, controller.port, binding, 4, db, options=options)
    assert [r.outcome for r in report.results] == [Outcome.SENT] + [Outcome.QUEUED] * 3
    assert "could not be made durable" in report.stopped and "Input/output error" in report.stopped
    assert [r.rcpt_tos for r in handler.received] == [["p1@example.com"]]
    assert states(db) == {"p1@example.com": "sent", "p2@example.com": "queued", "p3@example.com": "queued",
                          "p4@example.com": "queued"}


def read_states(db: Path) -> dict[str, str]:
    """The outbox's states as another process sees them now (committed rows only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5.0)
    try:
        return dict(conn.execute("SELECT email, state FROM outbox"))
    finally:
        conn.close()


def test_while_a_message_is_with_the_server_the_last_is_recorded_and_the_next_not_claimed(
        tmp_path: Path, server: Server, binding: ReportBinding, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the server takes message k: rows before it are committed ``sent``, it is ``sending``, the
    rows after it are still ``queued`` (the next copy is made meanwhile, but claimed only after the
    reply). Each ``sent`` is fsynced in a thread while the next row is claimed; a slow fsync delays
    the next DATA, never overlaps it."""
    controller, handler = server
    real = sqlite_store._fsync_size
    finished: list[float] = []

    def slow_fsync(fd: int) -> int:
        time.sleep(0.05)
        size = real(fd)
        finished.append(time.monotonic())
        return size

    monkeypatch.setattr(sqlite_store, "_fsync_size", slow_fsync)
    db = tmp_path / "o.db"
    seen: list[dict[str, str]] = []
    data_at: list[float] = []

    def on_data(_rcpt: str, _kept: int) -> None:
        data_at.append(time.monotonic())
        seen.append(read_states(db))

    handler.on_data = on_data
    n = 5
    report, _ = smtp_batch(tmp_path, controller.port, binding, n, db)
    assert report.exit_code == 0 and len(data_at) == n
    for k, states_then in enumerate(seen, 1):
        expected = {f"p{i}@example.com": "sent" if i < k else "sending" if i == k else "queued"
                    for i in range(1, n + 1)}
        assert states_then == expected, f"as message {k} reached the server"
    # finished[0] is the sync after recording the rows; finished[k] the fsync of message k's 'sent'
    for k in range(1, n):   # data_at[k] is message k+1
        assert finished[k] < data_at[k], f"message {k + 1} reached the server before {k}'s sent was durable"
    assert threading.active_count() < 50
    with smtplib.SMTP(HOST, controller.port) as probe:   # the server is still fine
        assert probe.noop()[0] == 250


def test_the_next_copy_is_made_while_the_server_works_on_the_last(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """The server takes 0.2 s over each message: the next row's copy is made in that time, not after
    the 250, so a batch costs the longer of the two per message, not their sum."""
    controller, handler = server
    spans: list[tuple[float, float]] = []
    made_at: dict[str, float] = {}

    def slow_server(_rcpt: str, _kept: int) -> None:
        start = time.monotonic()
        time.sleep(0.2)
        spans.append((start, time.monotonic()))

    def personaliser(enquiry, copy_id: str, date: str):  # type: ignore[no-untyped-def]
        made_at[enquiry.email] = time.monotonic()
        return fake_personaliser(enquiry, copy_id, date)

    handler.on_data = slow_server
    n = 4
    timed = ReportBinding(binding.context, binding.templates, personaliser)
    report, _ = smtp_batch(tmp_path, controller.port, timed, n, tmp_path / "o.db")
    assert [r.outcome for r in report.results] == [Outcome.SENT] * n
    for k in range(1, n):   # row k+1 was made before the server answered message k
        assert made_at[f"p{k + 1}@example.com"] < spans[k - 1][1], f"copy {k + 1} was made after reply {k}"


@pytest.mark.parametrize(("first", "outcome", "copies"), [
    (["550 5.1.1 No such user"], Outcome.FAILED, 0),
    (["451 4.3.0 Try again"], Outcome.SENT, 1),
    (["drop"], Outcome.SENT, 1),
    (["accept-drop"], Outcome.SENT, 2),   # kept, but the 250 never came: sent again, same Message-ID
])
def test_a_failure_of_the_message_in_flight_is_settled_before_the_next_goes(
        tmp_path: Path, server: Server, binding: ReportBinding, first: list[str], outcome: Outcome,
        copies: int) -> None:
    """Whatever the server says to the message in flight (or if it says nothing), that message is
    retried or recorded before the next one, already made, is claimed and sent."""
    controller, handler = server
    handler.plan["p1@example.com"] = list(first)
    db = tmp_path / "o.db"
    options = SendOptions(retry=RetryPolicy(attempts=3, first_delay=0.001))
    report, _ = smtp_batch(tmp_path, controller.port, binding, 3, db, options=options)
    assert [r.outcome for r in report.results] == [outcome, Outcome.SENT, Outcome.SENT]
    order = [r.rcpt_tos[0] for r in handler.received]
    assert order == ["p1@example.com"] * copies + ["p2@example.com", "p3@example.com"]
    assert [a for a in handler.attempts if a != "p1@example.com"] == ["p2@example.com", "p3@example.com"]
    assert handler.attempts.index("p2@example.com") == len(first) + (outcome is Outcome.SENT)
    assert states(db)["p1@example.com"] == ("failed" if outcome is Outcome.FAILED else "sent")


def test_each_copy_is_made_once_and_a_row_changed_after_it_is_made_again(
        tmp_path: Path, outbox_target: str, server: Server, binding: ReportBinding) -> None:
    """A copy is made from the row as read, before the claim: on either store the claimed row
    matches it, so each row's copy is made once. A row whose stored date changed in between (as
    if another sender had claimed it and let it go) is made again from what the claim returned."""
    controller, handler = server
    made: list[str] = []
    changed = "2026-01-02T03:04:05+00:00"

    def personaliser(enquiry, copy_id: str, date: str):  # type: ignore[no-untyped-def]
        made.append(enquiry.email)
        if enquiry.email == "p2@example.com" and made.count("p2@example.com") == 1:
            with Outbox(outbox_target) as other, other._transaction():  # still queued: only its date moves
                other._run("UPDATE outbox SET prepared_at = ? WHERE email = ?", (changed, "p2@example.com"))
        return fake_personaliser(enquiry, copy_id, date)

    counting = ReportBinding(binding.context, binding.templates, personaliser)
    report, _ = smtp_batch(tmp_path, controller.port, counting, 3, outbox_target)
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 3
    assert made == ["p1@example.com", "p2@example.com", "p2@example.com", "p3@example.com"]
    (second,) = handler.to("p2@example.com")
    assert second.message["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"


def test_a_stop_while_a_message_is_in_flight_records_it_and_claims_nothing_more(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """Ctrl-C (the stop question says yes) while the server holds message 2: it is recorded sent; the
    row already made behind it is not claimed or sent, and stays ``queued`` saying why."""
    controller, handler = server
    asked: list[str] = []
    handler.on_data = lambda rcpt, _kept: asked.append(rcpt) if rcpt == "p2@example.com" else None
    options = SendOptions(stop=lambda: "interrupted by SIGINT" if asked else "")
    db = tmp_path / "o.db"
    report, entries = smtp_batch(tmp_path, controller.port, binding, 4, db, options=options)
    reasons = {e.email: e.reason for e in entries}
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.SENT, Outcome.QUEUED, Outcome.QUEUED]
    assert [r.rcpt_tos for r in handler.received] == [["p1@example.com"], ["p2@example.com"]]
    assert states(db) == {"p1@example.com": "sent", "p2@example.com": "sent", "p3@example.com": "queued",
                          "p4@example.com": "queued"}
    assert reasons["p3@example.com"] == reasons["p4@example.com"] == "not attempted: interrupted by SIGINT"
    assert report.stopped == "interrupted by SIGINT"


def test_results_behind_an_unrecorded_group_stay_few(tmp_path: Path, binding: ReportBinding) -> None:
    """70 new rows, then 1,500 sent by an earlier run: the new rows' short last group is recorded
    early rather than holding every later result in memory until the end (the CSV streams)."""
    from pacspdf.delivery.runner import OWED
    from pacspdf.delivery.send import CHUNK

    path = tmp_path / "e.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "email", "company", "job_title", "country", "enquiry_id"])
        w.writerows([f"Person {i}", f"p{i}@example.com", "Co", "CIO", "UK", f"E-{i:05d}"]
                    for i in range(1570))
    db = tmp_path / "o.db"
    with Outbox(db) as ob:
        ob.record(NewEntry(key=f"id:E-{i:05d}", report_slug="pacs", report_dir="x", transport="file",
                           email=f"p{i}@example.com", state=State.SENT) for i in range(70, 1570))
    drawn = 0

    def rows():  # type: ignore[no-untyped-def]
        nonlocal drawn
        for row in read_enquiries(path).rows:
            drawn += 1
            yield row

    lag: list[int] = []
    transport = FileTransport(tmp_path / "mail")
    with Outbox(db) as outbox:
        report = send_rows(rows(), binding=binding, outbox=outbox, transport=transport,
                           progress=lambda i, _t, _r: lag.append(drawn - i))
    transport.close()
    assert report.count(Outcome.SENT) == 70 and report.count(Outcome.ALREADY_SENT) == 1500
    assert len(lag) == 1570 and max(lag) <= OWED + CHUNK + 1


@given(st.text(max_size=40))
def test_has_rtl_fast_path_agrees_with_the_bidi_classes(text: str) -> None:
    """The one-pass test (no character before U+0590 is right-to-left) gives the same answer as
    asking every character's bidi class, for any text."""
    import unicodedata

    from pacspdf.delivery.personal_text import has_rtl

    assert has_rtl(text) == any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)
    assert not any(unicodedata.bidirectional(chr(c)) in ("R", "AL") for c in range(0x590))
