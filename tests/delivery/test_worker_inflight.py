"""The web worker's turns over SMTP: every copy a turn sends is counted, and the session is reused safely.

A turn ends by raising from the batch's progress after ``COPIES_PER_TURN`` results. Progress
is told while no copy is in flight (the next copy is made, not claimed), so the turn ends
with every copy it sent recorded and counted in ``Worker.sent`` (which drives the worker's
backoff; before, the copy left in flight was sent but not counted), nothing ``sending``, and
the same SMTP session then carries the next mail with no reply left unread. Real aiosmtpd
on 127.0.0.1, real SQLite.
"""

from __future__ import annotations

from pathlib import Path

from pacspdf.content.load import load
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import NewEntry, Outbox, State, message_id_for
from pacspdf.delivery.send import ReportBinding
from pacspdf.web.settings import Settings
from pacspdf.web.worker import COPIES_PER_TURN, Worker
from smtp_server import Server, fake_personaliser

REPO = Path(__file__).resolve().parents[2]


def test_a_turn_counts_the_copy_it_left_in_flight_and_the_session_is_reused(tmp_path: Path,
                                                                            server: Server) -> None:
    controller, handler = server
    report_dir = str(REPO / "content" / "pacs")
    ctx = context_from_content(load(Path(report_dir)), environ={})
    n = COPIES_PER_TURN + 5
    db = tmp_path / "o.db"
    with Outbox(db) as outbox:
        outbox.record(NewEntry(key=f"k{i:02}", report_slug=ctx.report.slug, report_dir=report_dir,
                               transport="smtp", message_id=message_id_for(f"k{i:02}", "example.com"),
                               email=f"p{i}@example.com", name=f"Person {i}") for i in range(n))
    env = {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(controller.port),
           "PACSPDF_SMTP_SECURITY": "none"}
    worker = Worker(db, Settings(public_url="http://127.0.0.1", secret_key=b"k" * 32), environ=env,
                    outbox_dir=tmp_path / "files")
    # the report's binding with the stand-in personaliser (no base build), as the worker caches it
    worker._bindings[report_dir] = ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)
    with Outbox(db) as outbox:
        first = worker._drain(outbox)             # one turn: ends after COPIES_PER_TURN results
        sent_rows = sum(e.state is State.SENT for e in outbox.all())
        assert first == sent_rows == len(handler.received), (first, sent_rows, len(handler.received))
        assert sent_rows == COPIES_PER_TURN         # the turn ended with nothing in flight
        assert all(e.state in (State.SENT, State.QUEUED) for e in outbox.all())
        transport = worker._transports["smtp"]
        second = worker._drain(outbox)               # the same session, reused after the turn
        assert transport is worker._transports["smtp"]
        assert first + second == n == worker.sent
        assert {e.state for e in outbox.all()} == {State.SENT}
    for t in worker._transports.values():
        t.close()
    got = sorted(a for r in handler.received for a in r.rcpt_tos)
    assert got == sorted(f"p{i}@example.com" for i in range(n))
