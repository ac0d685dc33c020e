"""Record every enquiry and its delivery state in SQLite, before and after each send.

One row per idempotency key (UNIQUE): the enquiry's ``enquiry_id``, else its email and the
report. A row moves ``queued -> sending -> sent``; a temporary failure puts it back to
``queued`` with the reason; a permanent one ends it as ``failed``; a row that cannot be
sent at all is ``rejected``. A request from the web intake starts ``unconfirmed`` and
becomes ``queued`` only when its confirmation link is followed; one turned away is ``refused``.
Each state change is its own committed transaction
(WAL, ``synchronous=FULL``), so after a crash the file says what was done.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pacspdf.errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]  # no locking off POSIX

log = logging.getLogger(__name__)


SCHEMA_VERSION = 2  # 2: the web intake's states, unconfirmed and refused


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"  # a web request waiting for its confirmation click
    REFUSED = "refused"          # a web request turned away (limits, honeypot, ...), with the reason


PENDING = (State.QUEUED, State.SENDING)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS outbox (
    id            INTEGER PRIMARY KEY,
    key           TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL CHECK (state IN ({", ".join(repr(s.value) for s in State)})),
    reason        TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    report_slug   TEXT    NOT NULL,
    report_dir    TEXT    NOT NULL,
    transport     TEXT    NOT NULL,
    source        TEXT    NOT NULL DEFAULT '',
    row           INTEGER NOT NULL DEFAULT 0,
    enquiry_id    TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    company       TEXT    NOT NULL DEFAULT '',
    job_title     TEXT    NOT NULL DEFAULT '',
    country       TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    message_id    TEXT    NOT NULL DEFAULT '',
    copy_id       TEXT    NOT NULL DEFAULT '',
    prepared_at   TEXT,
    warnings      TEXT    NOT NULL DEFAULT '',
    server_reply  TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    sent_at       TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, updated_at);
"""

_COLUMNS = ("id", "key", "state", "reason", "attempts", "report_slug", "report_dir", "transport",
            "source", "row", "enquiry_id", "email", "name", "company", "job_title", "country",
            "message", "message_id", "copy_id", "prepared_at", "warnings", "server_reply",
            "created_at", "updated_at", "sent_at")


def now_utc() -> str:
    """The current time as ISO 8601 UTC to the microsecond (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_copy_id() -> str:
    """A random per-copy identifier, short enough to read out: ``XXXX-XXXX-XXXX`` (base32)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()[:12]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of the mail for ``key``: the same on every attempt, after any crash."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]  # 96 bits; short, so the header never folds
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class Entry:
    """One row of the outbox."""

    id: int
    key: str
    state: State
    reason: str
    attempts: int
    report_slug: str
    report_dir: str
    transport: str
    source: str
    row: int
    enquiry_id: str
    email: str
    name: str
    company: str
    job_title: str
    country: str
    message: str
    message_id: str
    copy_id: str
    prepared_at: str | None
    warnings: str
    server_reply: str
    created_at: str
    updated_at: str
    sent_at: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Entry:
        values = dict(zip(_COLUMNS, row, strict=True))
        values["state"] = State(values["state"])
        return cls(**values)

    @property
    def where(self) -> str:
        if self.source and self.row:
            return f"{self.source}:{self.row}"
        return self.enquiry_id or self.email or self.key


@dataclass(frozen=True)
class NewEntry:
    """What the outbox needs to know to record an enquiry (or a rejected row)."""

    key: str
    report_slug: str
    report_dir: str
    transport: str
    message_id: str = ""
    source: str = ""
    row: int = 0
    enquiry_id: str = ""
    email: str = ""
    name: str = ""
    company: str = ""
    job_title: str = ""
    country: str = ""
    message: str = ""
    state: State = State.QUEUED
    reason: str = ""


class Outbox:
    """The delivery record in one SQLite file (created on first use, WAL mode)."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise UsageError(f"{self.path}: no outbox here yet (run `pacspdf send` first)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0,
                                       check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"{self.path}: cannot open the outbox database ({exc})") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a commit survives power loss, not just a crash
            self._db.execute("PRAGMA busy_timeout=10000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UsageError(f"{self.path}: outbox written by a newer pacspdf (schema {version})")
            if version == 1:
                _migrate_v1(self._db)
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise UsageError(f"{self.path}: not a pacspdf outbox database ({exc})") from None
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self.unlock()
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def locked(self) -> Iterator[Outbox]:
        """Hold the sender's lock: one ``send`` or ``retry`` per outbox at a time.

        The lock is an ``flock`` on ``<db>.lock``, released by the kernel when the process
        dies, so a ``sending`` row found while holding it belongs to a run that stopped.
        """
        self.lock()
        try:
            yield self
        finally:
            self.unlock()

    def lock(self) -> None:
        if self._lock_fd is not None or fcntl is None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"{self.path}: another pacspdf send is using this outbox "
                             f"(lock held on {lock_path}); wait for it to finish") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # ------------------------------------------------------------------ writing

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
                    " ON CONFLICT (key) DO NOTHING",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now))
                created = cur.rowcount == 1
                entry = self._get(e.key)
                assert entry is not None
                out.append((entry, created))
        return out

    def claim(self, key: str, prepared_at: str) -> Entry:
        """Mark the entry ``sending`` (one more attempt) just before it goes to the transport.

        Committed without waiting for the disk (``synchronous=NORMAL``): if power fails and
        this commit is lost, the row is still ``queued``, which leads to the same resend as a
        ``sending`` row would. ``sent`` is the state that must be durable, and is.
        """
        self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            return self._update(key, "state = 'sending', attempts = attempts + 1,"
                                     " prepared_at = COALESCE(prepared_at, ?)", prepared_at,
                                allowed=(State.QUEUED, State.SENDING, State.REJECTED))
        finally:
            self._db.execute("PRAGMA synchronous=FULL")

    def confirm(self, key: str) -> Entry | None:
        """An ``unconfirmed`` entry becomes ``queued`` with its copy ID; None if it was not unconfirmed.

        The one conditional UPDATE is what makes a confirmation link single-use.
        """
        cur = self._db.execute("UPDATE outbox SET state = 'queued', copy_id = ?, updated_at = ?"
                               " WHERE key = ? AND state = 'unconfirmed'", (new_copy_id(), now_utc(), key))
        return self._get(key) if cur.rowcount == 1 else None

    def expire_unconfirmed(self, before: str, reason: str) -> int:
        """``unconfirmed`` entries created before ``before`` become ``refused`` with ``reason``."""
        cur = self._db.execute("UPDATE outbox SET state = 'refused', reason = ?, updated_at = ?"
                               " WHERE state = 'unconfirmed' AND created_at < ?", (reason, now_utc(), before))
        return cur.rowcount

    def mark_sent(self, key: str, server_reply: str) -> Entry:
        return self._update(key, "state = 'sent', reason = '', server_reply = ?, sent_at = ?",
                            server_reply, now_utc())

    def mark_queued(self, key: str, reason: str) -> Entry:
        """A temporary failure: back to ``queued`` with the reason, for a later retry."""
        return self._update(key, "state = 'queued', reason = ?", reason)

    def mark_failed(self, key: str, reason: str) -> Entry:
        return self._update(key, "state = 'failed', reason = ?", reason)

    def mark_rejected(self, key: str, reason: str) -> Entry:
        return self._update(key, "state = 'rejected', reason = ?", reason)

    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        self._update(key, "warnings = ?", "\n".join(warnings))

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> Entry | None:
        return self._get(key)

    def pending(self) -> list[Entry]:
        """Entries still to send (``queued``, or ``sending`` left by a run that stopped)."""
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY id")
        return [Entry.from_row(r) for r in rows]

    def counts(self) -> dict[State, int]:
        counts: dict[State, int] = dict.fromkeys(State, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[State(state)] = n
        return counts

    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        """The last ``limit`` entries in ``states``, newest first."""
        names = [State(s).value for s in states]
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE state IN ({', '.join('?' * len(names))})"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (*names, limit))
        return [Entry.from_row(r) for r in rows]

    def all(self) -> list[Entry]:
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox ORDER BY id")
        return [Entry.from_row(r) for r in rows]

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
        row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE key = ?", (key,)).fetchone()
        return Entry.from_row(row) if row else None

    def _update(self, key: str, assignments: str, *params: object,
                allowed: tuple[State, ...] | None = None) -> Entry:
        where = "key = ?"
        if allowed:
            where += f" AND state IN ({', '.join(repr(s.value) for s in allowed)})"
        cur = self._db.execute(f"UPDATE outbox SET {assignments}, updated_at = ? WHERE {where}",
                               (*params, now_utc(), key))
        entry = self._get(key)
        if entry is None:
            raise KeyError(key)
        if cur.rowcount != 1:
            raise ValueError(f"outbox entry {key!r} is {entry.state}, cannot change it")
        return entry


def _migrate_v1(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2: the state CHECK gains the web states (SQLite rebuilds the table for that)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE outbox RENAME TO outbox_v1")
        db.execute("DROP INDEX IF EXISTS outbox_state")
        db.execute(_SCHEMA.split(";")[0])  # CREATE TABLE outbox (executescript would commit)
        db.execute(f"INSERT INTO outbox ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM outbox_v1")
        db.execute("DROP TABLE outbox_v1")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
