"""Record every enquiry and its delivery state in SQLite, before and after each send.

One row per idempotency key (UNIQUE): the enquiry's ``enquiry_id``, else its email and the
report. A row moves ``queued -> sending -> sent``; a temporary failure puts it back to
``queued`` with the reason; a permanent one ends it as ``failed``; a row that cannot be
sent at all is ``rejected``. A request from the web intake starts ``unconfirmed`` and
becomes ``queued`` only when its confirmation link is followed; one turned away is
``refused``. Each state change is its own committed transaction in WAL
mode, written at once (``synchronous=NORMAL``: a crash or SIGKILL cannot lose it) and, but
for ``sending``, fsynced straight after (:meth:`Outbox.sync`: a power cut cannot either), so
after any failure the file says what was done.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import logging
import os
import secrets
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from pacspdf.errors import PacspdfError, UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]  # no locking off POSIX

log = logging.getLogger(__name__)


SCHEMA_VERSION = 2  # 2: the web intake's states, unconfirmed and refused
_CHECKPOINT_BYTES = 4 * 1024 * 1024  # fold the WAL into the database once it is this large


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


def _state(value: str) -> State:
    """A stored state; one no pacspdf wrote is reported as a damaged database."""
    try:
        return State(value)
    except ValueError:
        raise sqlite3.DatabaseError(f"a row has the unknown state {value!r}") from None


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
        values["state"] = _state(values["state"])
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


class OutboxError(PacspdfError):
    """The outbox database cannot be used or written (damaged, read-only, locked, or changed under us)."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"the database is damaged ({text}); move it aside and restore a backup"
    if "readonly" in text or "read-only" in text:
        return f"the database is read-only ({text})"
    if "locked" in text or "busy" in text:
        return f"the database is busy, another process holds it ({text})"
    if "disk" in text and "full" in text:
        return f"the disk is full ({text})"
    return text


def _guarded(method: Callable[Concatenate[Outbox, _P], _R]) -> Callable[Concatenate[Outbox, _P], _R]:
    """Turn any SQLite failure inside ``method`` into an :class:`OutboxError` naming the file."""

    @functools.wraps(method)
    def run(self: Outbox, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise OutboxError(f"{self.path}: {_explain(exc)}") from None

    return run  # type: ignore[return-value]  # wraps() returns _Wrapped, called just like `method`


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 if missing; take group and other bits off one we own (names, emails)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    real = Path(os.path.realpath(path))  # SQLite names its side files after the resolved path
    for p in (real, *(real.with_name(real.name + s) for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(OSError):
            st = p.stat()
            if st.st_mode & 0o077 and st.st_uid == os.geteuid():
                p.chmod(0o600)


def is_writable(path: Path) -> bool:
    """Whether this process may write the file (root included: an immutable file says no)."""
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError:
        return False
    return True


class Outbox:
    """The delivery record in one SQLite file (created 0600 on first use, WAL mode).

    ``readonly=True`` opens an existing outbox for reading only, also when the file, its
    folder or the whole file system is read-only or the file is immutable (``pacspdf outbox``).
    """

    def __init__(self, path: Path | str, *, create: bool = True, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock_fd: int | None = None
        self._wal_fd: int | None = None
        if (readonly or not create) and not self.path.exists():
            raise UsageError(f"{self.path}: no outbox here yet (run `pacspdf send` first)")
        if self.path.exists() and not self.path.is_file():
            raise UsageError(f"{self.path}: not a file (the outbox database is a file)")
        if readonly:
            self._db = self._open_readonly()
            return
        if self.path.exists() and not is_writable(self.path):
            raise UsageError(f"{self.path}: the outbox database is read-only, so nothing sent could be "
                             "recorded (`pacspdf outbox` can still show it)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _private_file(self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout,
                                       check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise UsageError(f"{self.path}: cannot open the outbox database ({reason})") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}").fetchall()
            self._db.execute("PRAGMA journal_mode=WAL").fetchall()
            # Commits reach the WAL at once; sync() makes them durable against power loss.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA wal_autocheckpoint=0").fetchall()  # checkpoints only in sync()
            version = self._check_version()
            exists = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                      " AND name = 'outbox'").fetchall()
            if exists:
                self._check_columns()  # before writing anything into a file that is not ours
            if version == 1 and exists:  # schema 1 -> 2: the web states join the state CHECK
                _migrate_v1(self._db)
                version = SCHEMA_VERSION
            if version < SCHEMA_VERSION:  # a new file; an existing outbox is opened without a write
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._check_columns()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise UsageError(f"{self.path}: cannot use it as the outbox: {_explain(exc)}") from None
        except UsageError:
            self._db.close()
            raise
        _private_file(self.path)  # -wal and -shm now exist; SQLite gives them the file's mode

    def _open_readonly(self) -> sqlite3.Connection:
        uri = "file:" + urllib.parse.quote(str(self.path.resolve()))
        last: sqlite3.Error | None = None
        # mode=ro reads the WAL too; immutable=1 is for a file nobody may write (no -shm possible)
        for suffix in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(uri + suffix, uri=True, isolation_level=None,
                                     check_same_thread=False)
            except sqlite3.Error as exc:
                last = exc
                continue
            try:
                self._db = db
                self._check_version()
                self._check_columns()
                return db
            except sqlite3.Error as exc:
                db.close()
                last = exc
            except UsageError:
                db.close()
                raise
        raise UsageError(f"{self.path}: cannot read the outbox database: "
                         f"{_explain(last) if last else 'unknown error'}")

    def _check_version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchall()[0][0])
        if version > SCHEMA_VERSION:
            raise UsageError(f"{self.path}: outbox written by a newer pacspdf (schema {version})")
        return version

    def _check_columns(self) -> None:
        found = tuple(r[1] for r in self._db.execute("PRAGMA table_info(outbox)"))
        if found != _COLUMNS:
            raise UsageError(f"{self.path}: not a pacspdf outbox (its outbox table has other columns)")
        known = ", ".join(repr(s.value) for s in State)
        odd = self._db.execute(f"SELECT state FROM outbox WHERE state NOT IN ({known}) LIMIT 1").fetchone()
        if odd is not None:
            raise UsageError(f"{self.path}: damaged outbox: a row has the unknown state {odd[0]!r}")

    @property
    def writable(self) -> bool:
        """Whether sends could record anything here (False for a read-only or immutable file)."""
        return not self.readonly and is_writable(self.path)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self.unlock()
        if self._wal_fd is not None:
            os.close(self._wal_fd)  # (SQLite keeps no lock on the WAL file itself)
            self._wal_fd = None
        if not self.readonly:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def locked(self) -> Iterator[Outbox]:
        """Hold the sender's lock: one ``send`` or ``retry`` per outbox file at a time.

        An ``flock`` on ``<db>.lock`` beside the database *file*: the path is resolved first,
        so a symlink to the database, a linked folder or a path through ``..`` all find the
        same lock file (the same name in the same folder), and two senders can never both
        hold it. (A hard link to a SQLite file is refused by SQLite itself.) The kernel
        releases the lock when the process dies, so a ``sending`` row found while holding
        it belongs to a run that stopped. The lock is a separate file on purpose: closing a
        descriptor of the database file itself would drop SQLite's own POSIX locks.
        """
        self.lock()
        try:
            yield self
        finally:
            self.unlock()

    @property
    def lock_path(self) -> Path:
        real = Path(os.path.realpath(self.path))
        return real.with_name(real.name + ".lock")

    def lock(self) -> None:
        if self._lock_fd is not None or fcntl is None:
            return
        if self.readonly:
            raise OutboxError(f"{self.path}: opened read-only, cannot send from it")
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsageError(f"{self.lock_path}: cannot create the sender's lock ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"{self.path}: another pacspdf send is using this outbox "
                             f"(lock held on {self.lock_path}); wait for it to finish") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

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
                    " ON CONFLICT (key) DO NOTHING",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now))
                created = cur.rowcount == 1
                entry = self._get(e.key)
                assert entry is not None
                out.append((entry, created))
        self.sync()
        return out

    @_guarded
    def claim(self, key: str, prepared_at: str) -> Entry:
        """Mark the entry ``sending`` (one more attempt) just before it goes to the transport.

        Not fsynced: if power fails and this commit is lost, the row is still ``queued``,
        which leads to the same resend as a ``sending`` row would. ``sent`` is the state
        that must be durable, and is.
        """
        return self._update(key, "state = 'sending', attempts = attempts + 1,"
                                 " prepared_at = COALESCE(prepared_at, ?)", prepared_at,
                            allowed=(State.QUEUED, State.SENDING, State.REJECTED))

    @_guarded
    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance, in two steps that shrink the duplicate window.

        The commit is first written to the WAL without waiting for the disk
        (``synchronous=NORMAL``): from that ``write`` on, a crash or SIGKILL of this process
        cannot lose it. Then, with ``durable``, the WAL is fsynced (:meth:`sync`), so a power
        cut cannot lose it either. ``durable=False`` leaves that to a later :meth:`sync` (the
        file transport syncs its files and the outbox together, every few dozen messages).
        """
        entry = self._update(key, "state = 'sent', reason = '', server_reply = ?, sent_at = ?",
                             server_reply, now_utc())
        if durable:
            self.sync()
        return entry

    def sync(self) -> None:
        """Make every commit so far durable: fsync the WAL (what ``synchronous=FULL`` does at commit).

        Also the only place a checkpoint runs while this outbox is open (automatic ones are
        off), so the database file never holds a ``sent`` the caller has not made durable first.
        """
        real = Path(os.path.realpath(self.path))  # SQLite names the WAL after the resolved path
        wal = real.with_name(real.name + "-wal")
        try:
            if self._wal_fd is not None and os.fstat(self._wal_fd).st_ino != wal.stat().st_ino:
                os.close(self._wal_fd)
                self._wal_fd = None
            if self._wal_fd is None:
                self._wal_fd = os.open(wal, os.O_RDONLY)
            os.fsync(self._wal_fd)
            size = os.fstat(self._wal_fd).st_size
        except OSError as exc:
            raise OutboxError(f"{self.path}: cannot make the outbox durable ({exc.strerror})") from None
        if size > _CHECKPOINT_BYTES:
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                raise OutboxError(f"{self.path}: {_explain(exc)}") from None

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
        entry = self._update(key, "state = 'queued', reason = ?", reason)
        self.sync()
        return entry

    @_guarded
    def mark_failed(self, key: str, reason: str) -> Entry:
        entry = self._update(key, "state = 'failed', reason = ?", reason)
        self.sync()
        return entry

    @_guarded
    def mark_rejected(self, key: str, reason: str) -> Entry:
        entry = self._update(key, "state = 'rejected', reason = ?", reason)
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
        self._update(key, "warnings = ?", "\n".join(warnings))

    # ------------------------------------------------------------------ reading

    @_guarded
    def get(self, key: str) -> Entry | None:
        return self._get(key)

    @_guarded
    def pending(self) -> list[Entry]:
        """Entries still to send (``queued``, or ``sending`` left by a run that stopped)."""
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY id")
        return [Entry.from_row(r) for r in rows]

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
            f"SELECT {', '.join(_COLUMNS)} FROM outbox WHERE state IN ({', '.join('?' * len(names))})"
            " ORDER BY updated_at DESC, id DESC LIMIT ?", (*names, limit))
        return [Entry.from_row(r) for r in rows]

    @_guarded
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
            raise OutboxError(f"{self.path}: outbox entry {key!r} has gone (changed by another process)")
        if cur.rowcount != 1:
            raise OutboxError(f"{self.path}: outbox entry {key!r} is {entry.state}, cannot change it "
                              "(changed by another process?)")
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
        db.execute(_SCHEMA.split(";")[1])  # CREATE INDEX outbox_state
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
