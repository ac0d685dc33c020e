"""Exactly once, tighter: one claim per row across senders, a 250 never forgotten, signals finish it."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cli_runner import run_cli
from enquiry_files import states, write_csv
from pacspdf.content.load import load
from pacspdf.delivery.enquiries import read_enquiries
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import LeaseLost, NewEntry, Outbox
from pacspdf.delivery.send import Outcome, ReportBinding, RetryPolicy, SendOptions, send_rows
from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
from selection import slow_except
from smtp_server import HOST, Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]
PEOPLE = [(f"Person {n}", f"p{n}@example.com", f"Company {n}", "Analyst", "UK") for n in range(1, 7)]


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


# ---------------------------------------------------------------------------- many senders, one claim per row


@pytest.mark.parametrize("second_path", ["symlink", "folder-symlink", "dotdot"])
def test_a_claim_is_on_the_row_whatever_path_names_the_file(tmp_path: Path, second_path: str) -> None:
    """The same database through a symlink, a linked folder or another spelling: a row claimed through
    one path cannot be claimed through the other (SQLite's own lock is on the file, not the name)."""
    db = tmp_path / "a" / "o.db"
    with Outbox(db) as ob:
        ob.record([NewEntry(key="k", report_slug="pacs", report_dir="/r", transport="file")])
    other = tmp_path / "b" / "o.db"
    if second_path == "symlink":
        other.parent.mkdir()
        other.symlink_to(db)
    elif second_path == "folder-symlink":
        (tmp_path / "b").symlink_to(tmp_path / "a", target_is_directory=True)
    else:
        (tmp_path / "b").mkdir()
        other = tmp_path / "b" / ".." / "a" / "o.db"
    with Outbox(db) as first, Outbox(other) as second:
        assert first.claim("k", "t") is not None
        assert second.claim("k", "t") is None and second.claim_next("t") is None
        with pytest.raises(LeaseLost):
            second.mark_sent("k", "250 OK")
        assert first.mark_sent("k", "250 OK").state.value == "sent"


@pytest.mark.parametrize("store", slow_except(["sqlite-symlink", "postgresql"], keep=["sqlite-symlink"]))
def test_three_senders_at_once_deliver_each_row_exactly_once(tmp_path: Path, server: Server,
                                                             binding: ReportBinding, store: str,
                                                             request: pytest.FixtureRequest) -> None:
    """Three batches of the same CSV at once (on SQLite one of them through a symlink): all run to the
    end, every enquirer gets exactly one message, and each row is sent by one batch and reported by the
    others as claimed elsewhere or already sent."""
    controller, handler = server
    handler.on_data = lambda _rcpt, _kept: time.sleep(0.03)  # keep the batches overlapping
    people = [(f"Person {n}", f"p{n}@example.com", f"Company {n}", "Analyst", "UK") for n in range(1, 16)]
    if store == "postgresql":
        db: str | Path = request.getfixturevalue("postgres").new_database()
        paths: list[str | Path] = [db, db, db]
    else:
        db = tmp_path / "o.db"
        (tmp_path / "link.db").symlink_to(db)
        paths = [db, tmp_path / "link.db", db]
    Outbox(db).close()
    rows = read_enquiries(write_csv(tmp_path / "e.csv", people)).rows
    errors: list[BaseException] = []
    reports: list[Any] = []
    start = threading.Barrier(len(paths))

    def batch(path: str | Path) -> None:
        transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=5.0))
        try:
            with Outbox(path) as outbox:
                start.wait()
                reports.append(send_rows(rows, binding=binding, outbox=outbox, transport=transport))
        except Exception as exc:  # any failure of any batch is reported below
            errors.append(exc)
        finally:
            transport.close()

    threads = [threading.Thread(target=batch, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == sorted(p[1] for p in people)
    sent = [r.email for rep in reports for r in rep.results if r.outcome is Outcome.SENT]
    assert sorted(sent) == sorted(p[1] for p in people)                 # each sent by exactly one batch
    others = {r.outcome for rep in reports for r in rep.results if r.outcome is not Outcome.SENT}
    assert others <= {Outcome.ELSEWHERE, Outcome.ALREADY_SENT}
    with Outbox(db) as ob:
        assert {e.state.value for e in ob.all()} == {"sent"} and {e.attempts for e in ob.all()} == {1}


def test_outbox_files_are_private(tmp_path: Path) -> None:
    """The database (names, emails) and its -wal and -shm files are 0600, whatever the umask."""
    old = os.umask(0o022)
    try:
        with Outbox(tmp_path / "o.db") as ob:
            ob.counts()
            files = [p for p in tmp_path.iterdir() if p.name.startswith("o.db")]
            assert {p.name for p in files} >= {"o.db", "o.db-wal", "o.db-shm"}
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        legacy = tmp_path / "legacy.db"
        Outbox(legacy).close()
        legacy.chmod(0o644)
        Outbox(legacy).close()  # an older outbox left readable by all is tightened when opened
        assert stat.S_IMODE(legacy.stat().st_mode) == 0o600
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------- the 250 is never lost


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another connection taking SQLite's write lock: every commit of the sender fails 'locked'."""
    con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    return con


def test_a_failing_commit_after_250_is_retried_and_lands(tmp_path: Path, server: Server,
                                                          binding: ReportBinding) -> None:
    """The database is locked when the 250 comes; the commit is retried until it lands: no duplicate."""
    controller, handler = server
    db = tmp_path / "o.db"
    blockers: list[sqlite3.Connection] = []

    def on_data(rcpt: str, _kept: int) -> None:
        if rcpt == "p1@example.com" and not blockers:
            blockers.append(hold_write_lock(db))
            threading.Timer(0.4, lambda: blockers[0].execute("ROLLBACK")).start()

    handler.on_data = on_data
    options = SendOptions(commit_retry=RetryPolicy(attempts=8, first_delay=0.1, max_delay=0.2))
    transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=5.0))
    with Outbox(db, busy_timeout=0.05) as outbox:
        report = send_rows(read_enquiries(write_csv(tmp_path / "e.csv", PEOPLE[:3])).rows, binding=binding,
                           outbox=outbox, transport=transport, options=options)
    transport.close()
    assert [r.outcome for r in report.results] == [Outcome.SENT] * 3
    assert len(handler.received) == 3 and set(states(db).values()) == {"sent"}


def test_a_commit_that_never_lands_stops_the_batch_before_the_next_message(
        tmp_path: Path, server: Server, binding: ReportBinding) -> None:
    """Unrecordable 250: the batch stops with a clear message, nothing else is sent, the rerun resends it."""
    controller, handler = server
    db = tmp_path / "o.db"
    blockers: list[sqlite3.Connection] = []

    def on_data(rcpt: str, _kept: int) -> None:
        if rcpt == "p2@example.com" and not blockers:
            blockers.append(hold_write_lock(db))

    handler.on_data = on_data
    options = SendOptions(commit_retry=RetryPolicy(attempts=3, first_delay=0.01))
    csv_path = write_csv(tmp_path / "e.csv", PEOPLE[:4])
    transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=5.0))
    with Outbox(db, busy_timeout=0.05) as outbox:
        report = send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox,
                           transport=transport, options=options)
    transport.close()
    blockers[0].execute("ROLLBACK")
    blockers[0].close()
    assert [r.outcome for r in report.results] == [Outcome.SENT, Outcome.UNRECORDED,
                                                   Outcome.QUEUED, Outcome.QUEUED]
    assert "could not record" in report.results[1].detail and "locked" in report.results[1].detail
    assert "could not record" in report.stopped and report.exit_code == 1
    assert len(handler.received) == 2  # nothing sent after the unrecorded one
    assert states(db) == {"p1@example.com": "sent", "p2@example.com": "sending",
                          "p3@example.com": "queued", "p4@example.com": "queued"}
    handler.on_data = None
    transport = SmtpTransport(SmtpSettings(HOST, controller.port, "none", timeout=5.0))
    with Outbox(db) as outbox:
        again = send_rows(read_enquiries(csv_path).rows, binding=binding, outbox=outbox,
                          transport=transport, options=options)
    transport.close()
    assert again.exit_code == 0 and set(states(db).values()) == {"sent"}
    assert [len(handler.to(p[1])) for p in PEOPLE[:4]] == [1, 2, 1, 1]  # only the unrecorded one twice


# ---------------------------------------------------------------------------- Ctrl-C and SIGTERM


@pytest.fixture
def workdir(tmp_path: Path, sample_pdf) -> Path:  # type: ignore[no-untyped-def]
    import shutil

    from pacspdf.document.personal import sidecar_path

    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    write_csv(tmp_path / "enquiries.csv", PEOPLE)
    return tmp_path


SEND = ["send", "enquiries.csv", "--report", str(REPO / "content" / "pacs"), "--transport", "smtp"]


def smtp_env(port: int) -> dict[str, str]:
    return {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(port), "PACSPDF_SMTP_SECURITY": "none"}


def start_send(workdir: Path, port: int) -> subprocess.Popen[str]:
    """`python -m pacspdf send` as a process of its own: the signal is sent to it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSPDF_")}
    env.update(smtp_env(port))
    return subprocess.Popen([sys.executable, "-m", "pacspdf", *SEND],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", slow_except([signal.SIGINT, signal.SIGTERM], keep=[signal.SIGTERM]))
def test_a_signal_lets_the_message_in_flight_finish_and_be_recorded(workdir: Path, server: Server,
                                                                     sig: signal.Signals) -> None:
    """The signal arrives while message 3 is in DATA: it is sent and recorded, 4-6 stay queued, no dupes."""
    controller, handler = server
    procs: list[subprocess.Popen[str]] = []

    def on_data(rcpt: str, _kept: int) -> None:
        if rcpt == "p3@example.com":
            os.kill(procs[0].pid, sig)
            time.sleep(0.5)  # the reply comes well after the signal

    handler.on_data = on_data
    with start_send(workdir, controller.port) as proc:
        procs.append(proc)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err and f"{sig.name}" in err
    assert states(workdir / "out" / "pacspdf.db") == {
        **{p[1]: "sent" for p in PEOPLE[:3]}, **{p[1]: "queued" for p in PEOPLE[3:]}}
    assert f"interrupted by {sig.name}" in out
    handler.on_data = None
    rerun = run_cli(SEND, cwd=workdir, env=smtp_env(controller.port))  # in this process (cli_runner.py)
    assert rerun.returncode == 0, rerun.err
    assert [len(handler.to(p[1])) for p in PEOPLE] == [1] * 6
