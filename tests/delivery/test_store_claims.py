"""Claims across hosts on PostgreSQL: SKIP LOCKED takes each row once; an expired lease frees a row."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pacspdf.delivery.outbox import NewEntry, Outbox, State, message_id_for
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


def test_two_worker_processes_never_hold_the_same_row(postgres: PgServer) -> None:
    """Two processes claim 400 rows at once: every row is taken exactly once, by one of them."""
    url = postgres.new_database()
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


def test_an_expired_lease_makes_the_row_claimable_again(postgres: PgServer) -> None:
    """A worker that dies holding a row: nobody else takes it until its lease runs out, then one does,
    with the same Message-ID (so the resend is recognisable) and the attempt counted."""
    url = postgres.new_database()
    with Outbox(url) as ob:
        ob.record(_entries(1))
    crashed = PostgresOutbox(url)
    held = crashed.claim_next("t", lease_seconds=0.5)
    assert held is not None and held.state is State.SENDING
    crashed.close()                                  # as a SIGKILL would: the row stays `sending`
    with Outbox(url) as ob:
        assert isinstance(ob, PostgresOutbox)
        assert ob.claim_next("t", lease_seconds=60) is None     # the lease still holds
        time.sleep(0.7)
        again = ob.claim_next("t", lease_seconds=60)
        assert again is not None and again.key == held.key
        assert (again.attempts, again.message_id) == (2, held.message_id)
        assert ob.claim_next("t", lease_seconds=60) is None     # now leased to us
        assert ob.mark_sent(again.key, "250 OK").state is State.SENT


def test_postgres_is_chosen_from_a_url_that_went_through_path(postgres: PgServer) -> None:
    """`--db postgresql://…` reaches the store through Path(), which folds `//`: still PostgreSQL."""
    url = postgres.new_database()
    with Outbox(Path(url)) as ob:
        assert isinstance(ob, PostgresOutbox)
        assert ob.record(_entries(1))[0][1]
