"""Several web workers drain one outbox at once (SQLite or PostgreSQL): each copy is claimed and sent once."""

from __future__ import annotations

import collections
import time
from pathlib import Path

import pytest

from conftest import copy_content
from pacspdf.delivery.outbox import Outbox, State
from smtp_server import ScriptedHandler
from web_server import FIELDS, serve, wait_until


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_content(tmp_path_factory.mktemp("workers"))


@pytest.mark.slow
def test_three_workers_at_once_send_each_copy_exactly_once(folder: Path, tmp_path: Path,
                                                           outbox_target: str) -> None:
    """18 confirmed requests, three workers started together on the same outbox: every enquirer gets
    one copy, no row is sent twice or left behind, and no worker waits for a lock to do its share."""
    from pacspdf.web.worker import Worker

    out = folder.parents[1] / "out"
    if out.exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    received: list[str] = []
    handler = ScriptedHandler(on_data=lambda rcpt, _kept: (received.append(rcpt), time.sleep(0.03)))
    env = {f"PACSPDF_LIMIT_PER_{k}": "1000" for k in ("IP", "NETWORK", "EMAIL", "DOMAIN")}
    db = outbox_target if outbox_target.startswith("postgresql:") else None
    with serve(tmp_path, [folder], env=env, sink=handler, worker=False, db=db) as s:
        client = s.client()
        people = [f"reader{n}@corp{n}.com" for n in range(18)]
        for email in people:
            assert client.submit("pacs", fields={**FIELDS, "email": email}).status == 303
        with Outbox(s.db) as ob:                      # confirmed, as if all had clicked at once
            for entry in ob.all():
                assert ob.confirm(entry.key) is not None
        s.intake.store._conn().execute("UPDATE web_mail SET state = 'sent'")  # copies only
        smtp = {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(s.sink_port),
                "PACSPDF_SMTP_SECURITY": "none"}
        workers = [Worker(s.db, s.intake.settings, pdf_dir=tmp_path / "out", poll=0.1, environ=smtp)
                   for _ in range(3)]
        for w in workers:
            w.start()
        try:
            assert wait_until(lambda: sum(w.sent for w in workers) >= len(people), 120)
            time.sleep(0.5)                            # a second copy, were one coming, would arrive now
        finally:
            for w in workers:
                w.stop()
        with Outbox(s.db) as ob:
            rows = ob.all()
    assert collections.Counter(received) == collections.Counter(people)       # one copy each
    assert sum(w.sent for w in workers) == len(people)
    assert {e.state for e in rows} == {State.SENT} and {e.attempts for e in rows} == {1}
    assert sum(1 for w in workers if w.sent) >= 2, [w.sent for w in workers]  # the work was shared
