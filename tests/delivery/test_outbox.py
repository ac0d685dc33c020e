"""The outbox: one record per idempotency key, committed state changes, claims that one sender holds."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pacspdf.delivery.outbox import (
    LeaseLost,
    NewEntry,
    Outbox,
    State,
    message_id_for,
    new_copy_id,
)
from pacspdf.errors import UsageError


def entry(key: str, **kw: object) -> NewEntry:
    values: dict[str, object] = {"report_slug": "pacs", "report_dir": "/r/pacs", "transport": "file",
                                 "message_id": message_id_for(key, "example.com"), "email": "a@example.com"}
    values.update(kw)
    return NewEntry(key=key, **values)  # type: ignore[arg-type]


def test_recording_the_same_key_twice_keeps_the_first_record(outbox_target: str) -> None:
    """A key already in the outbox is not recorded again; the existing record and copy ID come back."""
    with Outbox(outbox_target) as ob:
        [(first, created)] = ob.record([entry("id:E1", name="Ana")])
        assert created and first.state is State.QUEUED and first.copy_id
        [(again, created_again)] = ob.record([entry("id:E1", name="Someone else")])
        assert not created_again
        assert (again.id, again.name, again.copy_id) == (first.id, "Ana", first.copy_id)
        assert len(ob.all()) == 1


def test_key_is_unique_in_the_schema(tmp_path: Path) -> None:
    """The database itself refuses a second row with the same key, whatever code writes to it."""
    with Outbox(tmp_path / "o.db") as ob:
        ob.record([entry("id:E1")])
    db = sqlite3.connect(tmp_path / "o.db")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO outbox (key, state, report_slug, report_dir, transport, created_at,"
                   " updated_at) VALUES ('id:E1', 'queued', 'x', 'x', 'file', '', '')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO outbox (key, state, report_slug, report_dir, transport, created_at,"
                   " updated_at) VALUES ('id:E2', 'lost', 'x', 'x', 'file', '', '')")


def test_states_move_through_sending_to_sent_with_attempts_counted(outbox_target: str) -> None:
    """claim -> queued (temporary failure) -> claim -> sent counts two attempts and keeps the reply."""
    with Outbox(outbox_target) as ob:
        ob.record([entry("k")])
        assert ob.claim("k", "2026-01-02T03:04:05Z").state is State.SENDING
        assert ob.mark_queued("k", "451 try later").reason == "451 try later"
        ob.claim("k", "2099-01-01T00:00:00Z")
        done = ob.mark_sent("k", "250 OK")
        assert (done.state, done.attempts, done.server_reply, done.reason) == (State.SENT, 2, "250 OK", "")
        assert done.prepared_at == "2026-01-02T03:04:05Z"  # the first attempt's date is kept
        assert done.sent_at is not None
        assert ob.claim("k", "2026-01-02T03:04:05Z") is None   # a sent row is never claimed again
        with pytest.raises(LeaseLost):
            ob.mark_sent("k", "250 again")                        # nor recorded without a claim


def test_counts_and_recent_problems(outbox_target: str) -> None:
    """counts() covers every state; recent() lists the newest problems first with their reasons."""
    with Outbox(outbox_target) as ob:
        ob.record([entry("a"), entry("b"), entry("c"), entry("r", state=State.REJECTED, reason="email: bad")])
        ob.claim("a", "t")
        ob.mark_sent("a", "250")
        ob.claim("b", "t")
        ob.mark_failed("b", "550 no such user")
        counts = ob.counts()
        assert counts == {State.QUEUED: 1, State.SENDING: 0, State.SENT: 1, State.FAILED: 1,
                          State.REJECTED: 1, State.UNCONFIRMED: 0, State.REFUSED: 0}
        assert [e.key for e in ob.recent([State.FAILED, State.REJECTED])] == ["b", "r"]
        assert [e.key for e in ob.pending()] == ["c"]


def test_database_is_in_wal_mode_and_commits_reach_the_wal_at_once(tmp_path: Path) -> None:
    """WAL with synchronous=NORMAL: a commit is in the WAL file when it returns (a crash keeps it);
    sync() (called after every state change but `sending`) then fsyncs it against power loss."""
    db = tmp_path / "o.db"
    with Outbox(db) as ob:
        assert ob._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ob._db.execute("PRAGMA synchronous").fetchone()[0] == 1
        ob.record([entry("k")])
        ob.claim("k", "2026-01-02T03:04:05Z")
        ob.mark_sent("k", "250 OK")
        # another connection, as after a crash of this one, sees the committed state
        other = sqlite3.connect(db)
        assert other.execute("SELECT state FROM outbox WHERE key = 'k'").fetchone()[0] == "sent"
        other.close()
        ob.sync()


def test_a_row_held_by_a_live_sender_is_left_to_it_and_freed_when_that_process_dies(
        outbox_target: str) -> None:
    """Another process claims a row: this one cannot claim it (nor write it) while that process lives;
    once it is SIGKILLed, the row is claimable at once from this machine, with the attempt counted."""
    db = outbox_target
    with Outbox(db) as ob:
        ob.record([entry("k"), entry("other")])
    script = ("import sys\nfrom pacspdf.delivery.outbox import Outbox\n"
              f"ob = Outbox({db!r}); assert ob.claim('k', 't') is not None\n"
              "print('claimed', flush=True); sys.stdin.read()")
    with subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "claimed"
            with Outbox(db) as ob:
                assert ob.claim("k", "t") is None
                assert f":{holder.pid} (lease until " in ob.holder("k")
                with pytest.raises(LeaseLost):
                    ob.mark_failed("k", "not mine to fail")
                nxt = ob.claim_next("t")
                assert nxt is not None and nxt.key == "other"     # the held row is skipped
        finally:
            holder.kill()
    with Outbox(db) as ob:
        taken = ob.claim("k", "t")
        assert taken is not None and taken.attempts == 2
        assert ob.mark_sent("k", "250 OK").state is State.SENT


def test_missing_outbox_is_a_usage_error_when_not_creating(tmp_path: Path) -> None:
    """`pacspdf outbox` on a path with no database says so instead of creating an empty one."""
    with pytest.raises(UsageError, match="no outbox here yet"):
        Outbox(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_a_file_that_is_not_an_outbox_is_a_usage_error(tmp_path: Path) -> None:
    """Pointing --db at some other file gives a one-line usage error rather than a traceback."""
    bogus = tmp_path / "bogus.db"
    bogus.write_text("hello, not sqlite\n" * 100)
    with pytest.raises(UsageError, match=r"bogus\.db"):
        Outbox(bogus)


def test_message_id_is_deterministic_and_copy_ids_are_not() -> None:
    """The Message-ID depends only on the key (so a resend reuses it); copy IDs are random and readable."""
    assert message_id_for("id:E1", "example.com") == message_id_for("id:E1", "example.com")
    assert message_id_for("id:E1", "example.com") != message_id_for("id:E2", "example.com")
    assert message_id_for("id:E1", "example.com").endswith("@example.com>")
    ids = {new_copy_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 14 and i.count("-") == 2 for i in ids)


def test_the_key_and_the_states_are_enforced_by_either_database(outbox_target: str) -> None:
    """Whatever code writes to it, the database refuses a second row with a key, or an unknown state."""
    with Outbox(outbox_target) as ob:
        ob.record([entry("id:E1")])
        db = ob._db  # the store's own connection: plain SQL, no outbox method in between
        insert = ("INSERT INTO outbox (key, state, report_slug, report_dir, transport, created_at,"
                  " updated_at) VALUES ({0}, {0}, 'x', 'x', 'file', '', '')")
        for key, state in (("id:E1", "queued"), ("id:E2", "lost")):
            if isinstance(db, sqlite3.Connection):
                with pytest.raises(sqlite3.IntegrityError):
                    db.execute(insert.format("?"), (key, state))
            else:
                import psycopg

                with pytest.raises(psycopg.errors.IntegrityError):
                    db.execute(insert.format("%s"), (key, state))
        assert [e.key for e in ob.all()] == ["id:E1"]


def test_an_outbox_not_yet_created_is_a_usage_error_for_readers(outbox_target: str) -> None:
    """`pacspdf outbox` (read-only) on a store nobody has written says so, for a file and a server."""
    with pytest.raises(UsageError, match="no outbox here yet"):
        Outbox(outbox_target, readonly=True)


def test_confirm_is_single_use_and_expiry_refuses_the_stale(outbox_target: str) -> None:
    """The web states: confirm() turns `unconfirmed` into `queued` once; expiry refuses the old ones."""
    with Outbox(outbox_target) as ob:
        ob.record([entry("w1", state=State.UNCONFIRMED), entry("w2", state=State.UNCONFIRMED)])
        first = ob.confirm("w1")
        assert first is not None and first.state is State.QUEUED and first.copy_id
        assert ob.confirm("w1") is None
        assert ob.expire_unconfirmed("9999", "not confirmed in time") == 1
        stale = ob.get("w2")
        assert stale is not None and (stale.state, stale.reason) == (State.REFUSED, "not confirmed in time")
        ob.note_queued([("w1", "breaker open")])
        noted = ob.get("w1")
        assert noted is not None and noted.reason == "breaker open"
