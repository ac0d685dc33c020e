"""Claims on both stores: each row taken once; an expired lease frees a row; the old holder writes nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pacspdf.delivery.outbox import LeaseLost, NewEntry, Outbox, State, message_id_for
from pacspdf.delivery.store.postgres import PostgresOutbox
from pg_server import PgServer

REPO = Path(__file__).resolve().parents[2]

_WORKER = """
import sys
from pacspdf.delivery.outbox import Outbox
with Outbox(sys.argv[1]) as ob:
    print("ready", flush=True)
    sys.stdin.readline()                      # both start claiming at the same moment
    while (e := ob.claim_next("2026-01-01T00:00:00Z", lease_seconds=60)) is not None:
        print(e.key, flush=True)
        ob.mark_sent(e.key, "250 OK")
"""


def _entries(n: int) -> list[NewEntry]:
    return [NewEntry(key=f"id:E{i}", report_slug="pacs", report_dir="/r/pacs", transport="smtp",
                     message_id=message_id_for(f"id:E{i}", "example.com"), email=f"p{i}@example.com")
            for i in range(n)]


def test_two_worker_processes_never_hold_the_same_row(outbox_target: str) -> None:
    """Two processes claim 400 rows at once: every row is taken exactly once, by one of them."""
    url = outbox_target
    with Outbox(url) as ob:
        ob.record(_entries(400))
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=REPO) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        claimed = [p.communicate(timeout=120)[0].split() for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs)
    first, second = (set(c) for c in claimed)
    assert len(claimed[0]) == len(first) and len(claimed[1]) == len(second)   # no repeat within one
    assert not first & second                                                   # none held by both
    assert first | second == {f"id:E{i}" for i in range(400)}                  # none left behind
    assert first and second, "both workers should have claimed some rows"
    with Outbox(url) as ob:
        assert {e.attempts for e in ob.all()} == {1}
        assert ob.counts()[State.SENT] == 400


def test_an_expired_lease_passes_the_row_on_and_the_old_holder_records_nothing(outbox_target: str) -> None:
    """A sender still alive but past its lease (stuck mid-send): nobody takes its row until the lease
    runs out, then one does, with the same Message-ID and the attempt counted; the first sender's
    late "sent" or "failed" is refused (LeaseLost) and changes nothing of the new holder's row."""
    url = outbox_target
    with Outbox(url) as ob:
        ob.record(_entries(1))
    slow = Outbox(url)
    try:
        held = slow.claim_next("t", lease_seconds=0.5)
        assert held is not None and held.state is State.SENDING
        with Outbox(url) as ob:
            assert ob.claim_next("t", lease_seconds=60) is None     # the lease still holds
            assert ob.claim(held.key, "t") is None
            time.sleep(0.7)
            again = ob.claim_next("t", lease_seconds=60)
            assert again is not None and again.key == held.key
            assert (again.attempts, again.message_id) == (2, held.message_id)
            assert ob.claim_next("t", lease_seconds=60) is None     # now leased to us
            with pytest.raises(LeaseLost, match="passed to"):
                slow.mark_sent(held.key, "250 from the slow one")
            with pytest.raises(LeaseLost):
                slow.mark_failed(held.key, "550 from the slow one")
            with pytest.raises(LeaseLost):
                slow.note_failure(held.key, "451 from the slow one")
            unchanged = ob.get(held.key)
            assert unchanged is not None
            assert (unchanged.state, unchanged.server_reply, unchanged.reason) == (State.SENDING, "", "")
            done = ob.mark_sent(again.key, "250 OK")
            assert (done.state, done.server_reply) == (State.SENT, "250 OK")
            with pytest.raises(LeaseLost):
                slow.mark_queued(held.key, "too late")
            final = ob.get(held.key)
            assert final is not None and (final.state, final.server_reply) == (State.SENT, "250 OK")
    finally:
        slow.close()


def test_a_closed_outbox_frees_its_rows_at_once_in_the_same_process(outbox_target: str) -> None:
    """A run that stopped with a row claimed (its outbox closed) leaves it claimable by the next one
    at once, as a process that died does; an open one in the same process keeps it."""
    url = outbox_target
    with Outbox(url) as ob:
        ob.record(_entries(2))
    first = Outbox(url)
    held = first.claim_next("t")
    assert held is not None
    with Outbox(url) as other:
        nxt = other.claim_next("t")
        assert nxt is not None and nxt.key != held.key
        first.close()
        again = other.claim(held.key, "t")
        assert again is not None and again.attempts == 2


def test_postgres_is_chosen_from_a_url_that_went_through_path(postgres: PgServer) -> None:
    """`--db postgresql://…` reaches the store through Path(), which folds `//`: still PostgreSQL."""
    url = postgres.new_database()
    with Outbox(Path(url)) as ob:
        assert isinstance(ob, PostgresOutbox)
        assert ob.record(_entries(1))[0][1]
