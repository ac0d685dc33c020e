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
machine's clock. Opening, checking and migrating the file is :mod:`.sqlite_file`'s; the
statements both stores share are :mod:`.sql`'s.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pacspdf.delivery.store import claims
from pacspdf.delivery.store.interface import (
    Entry,
    OutboxError,
    State,
    now_utc,
)
from pacspdf.delivery.store.interface import state_of as _state
from pacspdf.delivery.store.sql import _NOT_A_TOKEN, _SELECT, SqlOutbox, guarded
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


class SqliteOutbox(SqlOutbox):
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

    def _driver_error(self, exc: Exception) -> str | None:
        return explain(exc) if isinstance(exc, sqlite3.Error) else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: the write lock (on the file, whatever path names it) from the start."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _state(self, value: str) -> State:
        return _state(value)

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

    @guarded
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

    @guarded
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

    @guarded
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

    @guarded
    def holder(self, key: str) -> str:
        row = self._db.execute("SELECT claimed_by, lease_until FROM outbox"
                               " WHERE key = ? AND state = 'sending'", (key,)).fetchone()
        if row is None or not row[0]:
            return ""
        until = f" (lease until {str(row[1])[:19].replace('T', ' ')} UTC)" if row[1] else ""
        return f"{claims.describe(row[0])}{until}"

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

    # ------------------------------------------------------------------ reading

    @guarded
    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        """The last ``limit`` entries in ``states``, newest first."""
        names = [State(s).value for s in states]
        rows = self._db.execute(
            f"SELECT {_SELECT} FROM outbox WHERE state IN ({', '.join('?' * len(names))})"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (*names, limit))
        return [Entry.from_row(r) for r in rows]

