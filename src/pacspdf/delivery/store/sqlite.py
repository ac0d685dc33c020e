"""Record every enquiry, its claim and its delivery state in one SQLite file, before and after each send.

One row per idempotency key (UNIQUE): the enquiry's ``enquiry_id``, else its email and the
report. A row moves ``queued -> sending -> sent``; a temporary failure puts it back to
``queued`` with the reason; a permanent one ends it as ``failed``; a row that cannot be
sent at all is ``rejected``. A request from the web intake starts ``unconfirmed`` and
becomes ``queued`` only when its confirmation link is followed; one turned away is
``refused``. Each state change is its own committed transaction in WAL mode (a group of
``sent`` files is one, :meth:`SqliteOutbox.mark_sent_many`), written at once
(``synchronous=NORMAL``: a crash or SIGKILL cannot lose it) and, but for ``sending``,
fsynced straight after (:meth:`SqliteOutbox.sync`, or :meth:`SqliteOutbox.begin_sync` in a
thread of its own: a power cut cannot either), so after any failure the file says what was
done.

Senders claim rows (see :class:`~pacspdf.delivery.store.interface.Outbox`): each claim and
each outcome is one UPDATE, conditional on the row's state and claim token, under SQLite's
own write lock on the file, so any number of senders in processes on this machine (through
any path, symlink or ``..`` spelling of the file) may run at once; leases are on this
machine's clock. Opening, checking and migrating the file is :mod:`.sqlite_file`'s.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from pacspdf.delivery.store import claims
from pacspdf.delivery.store.interface import (
    COLUMNS,
    Entry,
    NewEntry,
    Outbox,
    OutboxError,
    State,
    new_copy_id,
    now_utc,
)
from pacspdf.delivery.store.interface import state_of as _state
from pacspdf.delivery.store.sqlite_file import (
    SCHEMA_VERSION,
    explain,
    is_writable,
    open_readonly,
    open_writable,
)
from pacspdf.delivery.store.target import SqliteTarget, Target, parse_target
from pacspdf.errors import UsageError

__all__ = ["SCHEMA_VERSION", "SqliteOutbox", "is_writable"]

_CHECKPOINT_BYTES = 4 * 1024 * 1024  # fold the WAL into the database once it is this large
_SELECT = ", ".join(COLUMNS)
_NOT_A_TOKEN = "!"  # never a stored token (those are hex): a claim this outbox does not hold

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(method: Callable[Concatenate[SqliteOutbox, _P], _R]
             ) -> Callable[Concatenate[SqliteOutbox, _P], _R]:
    """Turn any SQLite failure inside ``method`` into an :class:`OutboxError` naming the file."""

    @functools.wraps(method)
    def run(self: SqliteOutbox, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise OutboxError(f"{self.path}: {explain(exc)}") from None

    return run  # type: ignore[return-value]  # wraps() returns _Wrapped, called just like `method`


_datasync = getattr(os, "fdatasync", os.fsync)  # (macOS has no fdatasync)


def _fsync_size(fd: int) -> int:
    """Make the WAL behind ``fd`` durable; its size after.

    ``fdatasync``, as SQLite itself syncs its WAL on Linux: the data and whatever is needed to
    read it back (the size, when the WAL grew) reach the disk, the modification time need not.
    Once the WAL has been restarted it is overwritten in place, and then no journal commit of
    the file system is needed at all.
    """
    _datasync(fd)
    return os.fstat(fd).st_size


def _in(seconds: float) -> str:
    """The time ``seconds`` from now, as :func:`now_utc` writes it (so the two compare as text)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


class SqliteOutbox(Outbox):
    """The delivery record in one SQLite file (created 0600 on first use, WAL mode).

    ``readonly=True`` opens an existing outbox for reading only, also when the file, its
    folder or the whole file system is read-only or the file is immutable (``pacspdf outbox``).
    """

    def __init__(self, path: Path | str | Target, *, create: bool = True, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        target = parse_target(path)
        if not isinstance(target, SqliteTarget):
            raise UsageError(f"{target}: a PostgreSQL URL is not a SQLite file")
        self.target = target
        self.path = target.path
        self.readonly = readonly
        self._wal_fd: int | None = None
        self._syncer: ThreadPoolExecutor | None = None   # the thread begin_sync() fsyncs the WAL in
        self._syncing: Future[int] | None = None
        self._claims: dict[str, str] = {}   # key -> token of each row this outbox holds
        if (readonly or not create) and not self.path.exists():
            raise UsageError(f"{self.path}: no outbox here yet (run `pacspdf send` first)")
        if self.path.exists() and not self.path.is_file():
            raise UsageError(f"{self.path}: not a file (the outbox database is a file)")
        self._db = open_readonly(self.path) if readonly else open_writable(self.path, busy_timeout)
        real = Path(os.path.realpath(self.path))  # SQLite names the WAL after the resolved path
        self._wal_path = real.with_name(real.name + "-wal")
        self.owner = claims.new_owner()

    @property
    def writable(self) -> bool:
        """Whether sends could record anything here (False for a read-only or immutable file)."""
        return not self.readonly and is_writable(self.path)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        claims.end_owner(self.owner)  # rows still held are claimable at once by the next sender
        with contextlib.suppress(OutboxError):
            self._settle()
        if self._syncer is not None:
            self._syncer.shutdown()
            self._syncer = None
        if self._wal_fd is not None:
            os.close(self._wal_fd)  # (SQLite keeps no lock on the WAL file itself)
            self._wal_fd = None
        if not self.readonly:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._db.close()

    # ------------------------------------------------------------------ writing

    @_guarded
    def record(self, entries: Iterable[NewEntry]) -> list[tuple[Entry, bool]]:
        """Insert each entry unless its key is already there; return (entry, newly recorded).

        All in one transaction, committed before anything is sent.
        """
        out: list[tuple[Entry, bool]] = []
        now = now_utc()
        with self._transaction():
            for e in entries:
                cur = self._db.execute(
                    "INSERT INTO outbox (key, state, reason, report_slug, report_dir, transport, source,"
                    " row, enquiry_id, email, name, company, job_title, country, message, message_id,"
                    " copy_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    f" ON CONFLICT (key) DO NOTHING RETURNING {_SELECT}",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now))
                inserted = cur.fetchall()   # the new row as stored; nothing when the key was there
                entry = Entry.from_row(inserted[0]) if inserted else self._get(e.key)
                assert entry is not None
                out.append((entry, bool(inserted)))
        self.sync()
        return out

    def _claimable(self, now: str, token: str, dead: list[str]) -> tuple[str, list[object]]:
        """The WHERE clause of a claim: ``sending`` rows qualify when their holder is gone or out of lease."""
        gone = f" OR claimed_by IN ({', '.join('?' * len(dead))})" if dead else ""
        return (f"(state = 'sending' AND (lease_until IS NULL OR lease_until < ? OR claim_token = ?{gone}))",
                [now, token, *dead])

    def _dead_owners(self, now: str, key: str | None = None) -> list[str]:
        """Holders of rows in lease that are provably gone (ended on this machine, or closed here)."""
        sql = "SELECT DISTINCT claimed_by FROM outbox WHERE state = 'sending' AND lease_until >= ?"
        rows = self._db.execute(sql + " AND key = ?", (now, key)) if key else self._db.execute(sql, (now,))
        return [owner for (owner,) in rows if claims.is_dead(owner)]

    @_guarded
    def claim(self, key: str, prepared_at: str, *,
              lease_seconds: float = claims.DEFAULT_LEASE) -> Entry | None:
        """Claim the entry (see :meth:`Outbox.claim`): one conditional UPDATE.

        Not fsynced: if power fails and this commit is lost, the row is still ``queued``,
        which leads to the same resend as a ``sending`` row would. ``sent`` is the state
        that must be durable, and is.
        """
        now = now_utc()
        token = claims.new_token()
        held, params = self._claimable(now, self._claims.get(key, _NOT_A_TOKEN), self._dead_owners(now, key))
        cur = self._db.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
            " prepared_at = COALESCE(prepared_at, ?),"
            " lease_until = ?, claimed_by = ?, claim_token = ?, updated_at = ?"
            f" WHERE key = ? AND (state IN ('queued', 'rejected') OR {held})",
            (prepared_at, _in(lease_seconds), self.owner, token, now, key, *params))
        if cur.rowcount != 1:
            if self._get(key) is None:
                raise OutboxError(f"{self.path}: outbox entry {key!r} has gone (changed by another process)")
            self._claims.pop(key, None)
            return None
        self._claims[key] = token
        return self._get(key)

    @_guarded
    def claim_queued(self, key: str, prepared_at: str, *,
                     lease_seconds: float = claims.DEFAULT_LEASE) -> Entry | None:
        """Claim the entry if it is ``queued`` (see :meth:`Outbox.claim_queued`): one UPDATE ... RETURNING."""
        now = now_utc()
        token = claims.new_token()
        rows = self._db.execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
            " prepared_at = COALESCE(prepared_at, ?),"
            " lease_until = ?, claimed_by = ?, claim_token = ?, updated_at = ?"
            f" WHERE key = ? AND state = 'queued' RETURNING {_SELECT}",
            (prepared_at, _in(lease_seconds), self.owner, token, now, key)).fetchall()  # all: then it commits
        if not rows:
            return None
        self._claims[key] = token
        return Entry.from_row(rows[0])

    @_guarded
    def claim_next(self, prepared_at: str, *, lease_seconds: float = claims.DEFAULT_LEASE,
                   after_id: int = 0) -> Entry | None:
        """Claim the oldest claimable row above ``after_id``: SELECT and UPDATE in one write transaction."""
        token = claims.new_token()
        with self._transaction():
            now = now_utc()
            held, params = self._claimable(now, _NOT_A_TOKEN, self._dead_owners(now))
            row = self._db.execute(f"SELECT id, key FROM outbox WHERE id > ? AND (state = 'queued' OR {held})"
                                   " ORDER BY id LIMIT 1", (after_id, *params)).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1,"
                " prepared_at = COALESCE(prepared_at, ?), lease_until = ?, claimed_by = ?, claim_token = ?,"
                " updated_at = ? WHERE id = ?",
                (prepared_at, _in(lease_seconds), self.owner, token, now, row[0]))
        self._claims[row[1]] = token
        return self._get(row[1])

    @_guarded
    def holder(self, key: str) -> str:
        row = self._db.execute("SELECT claimed_by, lease_until FROM outbox"
                               " WHERE key = ? AND state = 'sending'", (key,)).fetchone()
        if row is None or not row[0]:
            return ""
        until = f" (lease until {str(row[1])[:19].replace('T', ' ')} UTC)" if row[1] else ""
        return f"{claims.describe(row[0])}{until}"

    @_guarded
    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance, in two steps that shrink the duplicate window.

        The commit is first written to the WAL without waiting for the disk
        (``synchronous=NORMAL``): from that ``write`` on, a crash or SIGKILL of this process
        cannot lose it. Then, with ``durable``, the WAL is fsynced (:meth:`sync`), so a power
        cut cannot lose it either. ``durable=False`` leaves that to a later :meth:`sync` (the
        file transport syncs its files and the outbox together, every few dozen messages).
        """
        entry = self._owned(key, "state = 'sent', reason = '', server_reply = ?, sent_at = ?",
                            server_reply, now_utc())
        if durable:
            self.sync()
        return entry

    @_guarded
    def mark_sent_many(self, replies: Sequence[tuple[str, str]]) -> list[Entry | claims.LeaseLost]:
        """Record several acceptances in one transaction (see :meth:`Outbox.mark_sent_many`); not fsynced."""
        out: list[Entry | claims.LeaseLost] = []
        held = {key: self._claims[key] for key, _ in replies if key in self._claims}
        now = now_utc()
        try:
            with self._transaction():
                for key, reply in replies:
                    try:
                        out.append(self._owned(key, "state = 'sent', reason = '', server_reply = ?,"
                                                    " sent_at = ?", reply, now))
                    except claims.LeaseLost as lost:
                        out.append(lost)
        except BaseException:
            self._claims.update(held)  # nothing was written: the claims are still ours
            raise
        return out

    def sync(self) -> None:
        """Make every commit so far durable: fsync the WAL (what ``synchronous=FULL`` does at commit).

        Also the only place a checkpoint runs while this outbox is open (automatic ones are
        off), so the database file never holds a ``sent`` the caller has not made durable first.
        """
        self.begin_sync()()

    def begin_sync(self) -> Callable[[], None]:
        """:meth:`sync` with the WAL's fsync in a thread of its own (it holds no lock and no GIL).

        The commits to make durable are those written before this call; the wait raises
        :class:`OutboxError` if the fsync failed, and runs the checkpoint when the WAL is large.
        """
        self._settle()
        fd = self._wal()
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pacspdf-wal-sync")
        self._syncing = self._syncer.submit(_fsync_size, fd)
        return self._settle

    def _settle(self) -> None:
        """Wait for the fsync :meth:`begin_sync` started (if any); then checkpoint a large WAL."""
        syncing, self._syncing = self._syncing, None
        if syncing is None:
            return
        try:
            size = syncing.result()
        except OSError as exc:
            raise OutboxError(f"{self.path}: cannot make the outbox durable ({exc.strerror})") from None
        if size > _CHECKPOINT_BYTES:
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                raise OutboxError(f"{self.path}: {explain(exc)}") from None

    def _wal(self) -> int:
        """A descriptor of the WAL file as it is now (reopened if a checkpoint restarted it)."""
        wal = self._wal_path
        try:
            if self._wal_fd is not None and os.fstat(self._wal_fd).st_ino != wal.stat().st_ino:
                os.close(self._wal_fd)
                self._wal_fd = None
            if self._wal_fd is None:
                self._wal_fd = os.open(wal, os.O_RDONLY)
        except OSError as exc:
            raise OutboxError(f"{self.path}: cannot make the outbox durable ({exc.strerror})") from None
        return self._wal_fd

    @_guarded
    def confirm(self, key: str) -> Entry | None:
        """An ``unconfirmed`` entry becomes ``queued`` with its copy ID; None if it was not unconfirmed.

        The one conditional UPDATE is what makes a confirmation link single-use.
        """
        cur = self._db.execute("UPDATE outbox SET state = 'queued', copy_id = ?, updated_at = ?"
                               " WHERE key = ? AND state = 'unconfirmed'", (new_copy_id(), now_utc(), key))
        if cur.rowcount != 1:
            return None
        self.sync()
        return self._get(key)

    @_guarded
    def expire_unconfirmed(self, before: str, reason: str) -> int:
        """``unconfirmed`` entries created before ``before`` become ``refused`` with ``reason``."""
        cur = self._db.execute("UPDATE outbox SET state = 'refused', reason = ?, updated_at = ?"
                               " WHERE state = 'unconfirmed' AND created_at < ?", (reason, now_utc(), before))
        if cur.rowcount:
            self.sync()
        return cur.rowcount

    @_guarded
    def mark_queued(self, key: str, reason: str) -> Entry:
        """A temporary failure: back to ``queued`` with the reason, for a later retry."""
        entry = self._owned(key, "state = 'queued', reason = ?", reason)
        self.sync()
        return entry

    @_guarded
    def note_failure(self, key: str, reason: str) -> Entry:
        return self._owned(key, "reason = ?", reason, release=False)

    @_guarded
    def mark_failed(self, key: str, reason: str) -> Entry:
        entry = self._owned(key, "state = 'failed', reason = ?", reason)
        self.sync()
        return entry

    @_guarded
    def mark_rejected(self, key: str, reason: str) -> Entry:
        entry = self._owned(key, "state = 'rejected', reason = ?", reason)
        self.sync()
        return entry

    @_guarded
    def note_queued(self, reasons: Iterable[tuple[str, str]]) -> None:
        """Record why rows still ``queued`` were not attempted (``(key, reason)`` pairs), in one commit."""
        now = now_utc()
        with self._transaction():
            self._db.executemany("UPDATE outbox SET reason = ?, updated_at = ?"
                                 " WHERE key = ? AND state = 'queued'",
                                 [(reason, now, key) for key, reason in reasons])

    @_guarded
    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        self._owned(key, "warnings = ?", "\n".join(warnings), release=False)

    # ------------------------------------------------------------------ reading

    @_guarded
    def get(self, key: str) -> Entry | None:
        return self._get(key)

    @_guarded
    def pending(self) -> list[Entry]:
        rows = self._db.execute(f"SELECT {_SELECT} FROM outbox"
                                " WHERE state IN ('queued', 'sending') ORDER BY id")
        return [Entry.from_row(r) for r in rows]

    @_guarded
    def pending_page(self, after_id: int = 0, limit: int = 500) -> list[Entry]:
        rows = self._db.execute(
            f"SELECT {_SELECT} FROM outbox WHERE state IN ('queued', 'sending') AND id > ? "
            "ORDER BY id LIMIT ?", (after_id, limit))
        return [Entry.from_row(r) for r in rows]

    @_guarded
    def count_pending(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()
        return int(row[0])

    @_guarded
    def counts(self) -> dict[State, int]:
        counts: dict[State, int] = dict.fromkeys(State, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[_state(state)] = n
        return counts

    @_guarded
    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        """The last ``limit`` entries in ``states``, newest first."""
        names = [State(s).value for s in states]
        rows = self._db.execute(
            f"SELECT {_SELECT} FROM outbox WHERE state IN ({', '.join('?' * len(names))})"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (*names, limit))
        return [Entry.from_row(r) for r in rows]

    @_guarded
    def all(self) -> list[Entry]:
        return [Entry.from_row(r) for r in self._db.execute(f"SELECT {_SELECT} FROM outbox ORDER BY id")]

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _get(self, key: str) -> Entry | None:
        row = self._db.execute(f"SELECT {_SELECT} FROM outbox WHERE key = ?", (key,)).fetchone()
        return Entry.from_row(row) if row else None

    def _owned(self, key: str, assignments: str, *params: object, release: bool = True) -> Entry:
        """Write ``assignments`` if this outbox still holds the row's claim; ``release`` ends the claim."""
        token = self._claims.get(key, _NOT_A_TOKEN)
        ends = ", lease_until = NULL, claim_token = ''" if release else ""
        # RETURNING reads the row back in the same statement; fetchall() steps it to the end, so
        # the UPDATE is committed (autocommit) before this returns, as a separate SELECT's was.
        rows = self._db.execute(f"UPDATE outbox SET {assignments}{ends}, updated_at = ?"
                                " WHERE key = ? AND state = 'sending' AND claim_token = ?"
                                f" RETURNING {_SELECT}", (*params, now_utc(), key, token)).fetchall()
        if rows:
            if release:
                self._claims.pop(key, None)
            return Entry.from_row(rows[0])
        self._claims.pop(key, None)
        entry = self._get(key)
        if entry is None:
            raise OutboxError(f"{self.path}: outbox entry {key!r} has gone (changed by another process)")
        nobody = f"no one: this sender does not hold it ({entry.state})"
        raise claims.LeaseLost(key, self.holder(key) or nobody)
