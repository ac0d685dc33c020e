"""Record every enquiry and its delivery state in PostgreSQL, shared by processes on many hosts.

The same rows, states and idempotency key (UNIQUE) as the SQLite store; each state change is
its own committed transaction (``synchronous_commit`` as the server has it, ``on`` by
default, so a returned commit survives a crash of the server too). Workers on any host claim
rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease (``lease_until``, on the server's
clock): a row whose worker died is claimable again once its lease has run out. The schema is
versioned in ``pacspdf_schema`` and migrated on open (or by ``pacspdf db upgrade``) under an
advisory lock, so many processes starting at once migrate it once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

from pacspdf.delivery.store.interface import (
    COLUMNS,
    Entry,
    NewEntry,
    Outbox,
    OutboxError,
    State,
    database_url,
    new_copy_id,
    now_utc,
)
from pacspdf.errors import UsageError

_STATES = ", ".join(repr(s.value) for s in State)
_SELECT = ", ".join(COLUMNS)
_MIGRATION_LOCK = 0x7061637370646601   # pg_advisory_xact_lock key while migrating ("pacspdf" 1)
_SENDER_LOCK = 0x7061637370646602      # pg_try_advisory_lock key: the one `send`/`retry` at a time

# (version, statements): applied in order, each in one transaction with its version row.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, f"""
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    key           TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL CHECK (state IN ({_STATES})),
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
    sent_at       TEXT,
    lease_until   TIMESTAMPTZ,
    claimed_by    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_state ON outbox (state, updated_at);
"""),
    # 2: the web intake's requests, mails and daily counters (pacspdf.web.store), beside the outbox
    (2, """
CREATE TABLE web_request (
    id                TEXT PRIMARY KEY,
    outbox_key        TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('sample', 'question')),
    report_slug       TEXT NOT NULL,
    marketing_consent INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    confirmed_at      TEXT
);
CREATE TABLE web_mail (
    id          BIGSERIAL PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES web_request (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('confirm', 'sales')),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    transport   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    next_at     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (request_id, purpose)
);
CREATE INDEX web_mail_due ON web_mail (state, next_at);
CREATE TABLE web_counter (
    bucket TEXT NOT NULL,
    day    TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (bucket, day)
);
"""),
    # 3: catalogue builds as jobs (pacspdf.buildqueue), keyed by content hash and output
    (3, """
CREATE TABLE build_job (
    id            BIGSERIAL PRIMARY KEY,
    content_hash  TEXT NOT NULL,
    output        TEXT NOT NULL DEFAULT '',
    folder        TEXT NOT NULL,
    label         TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'building', 'built', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_until   TIMESTAMPTZ,
    claimed_by    TEXT NOT NULL DEFAULT '',
    result_path   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    pages         INTEGER NOT NULL DEFAULT 0,
    seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ,
    UNIQUE (content_hash, output)
);
CREATE INDEX build_job_state ON build_job (state, id);
"""),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def _guarded(method: Callable[Concatenate[PostgresOutbox, _P], _R]
             ) -> Callable[Concatenate[PostgresOutbox, _P], _R]:
    """Turn any database failure inside ``method`` into an :class:`OutboxError` naming the server."""

    @functools.wraps(method)
    def run(self: PostgresOutbox, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise OutboxError(f"{self.where}: {str(exc).strip().splitlines()[0]}") from None

    return run  # type: ignore[return-value]  # wraps() returns _Wrapped, called just like `method`


def worker_name() -> str:
    """Who holds a claim: host and process, shown by ``claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def upgrade(conn: psycopg.Connection[Any]) -> list[int]:
    """Apply every migration newer than the database's version; the versions applied."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS pacspdf_schema"
                     " (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM pacspdf_schema").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise UsageError(f"outbox written by a newer pacspdf (schema {current})")
        for version, sql in MIGRATIONS:
            if version > current:
                conn.execute(sql.encode())  # our own constant text, no parameters
                conn.execute("INSERT INTO pacspdf_schema (version) VALUES (%s)", (version,))
                applied.append(version)
    return applied


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version; 0 when pacspdf has never written to it."""
    row = conn.execute("SELECT to_regclass('pacspdf_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM pacspdf_schema").fetchone()
    return int(row[0]) if row else 0


def connect(target: Path | str, *, connect_timeout: float = 10.0) -> psycopg.Connection[Any]:
    """An autocommit connection to the server ``target`` names; a one-line usage error if it cannot."""
    url = database_url(target)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{redacted(url)}: cannot connect to the outbox database ({reason})") from None


class PostgresOutbox(Outbox):
    """The delivery record in a PostgreSQL database (``postgresql://`` URL), shared across hosts."""

    def __init__(self, path: Path | str, *, create: bool = True, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        self.url = database_url(path)
        self.where = redacted(self.url)
        self.path = Path(self.where)
        self.readonly = readonly
        self._locked = False
        self._db = connect(self.url, connect_timeout=busy_timeout)
        try:
            version = schema_version(self._db)
            if version > SCHEMA_VERSION:
                raise UsageError(f"{self.where}: outbox written by a newer pacspdf (schema {version})")
            if version < SCHEMA_VERSION:
                if readonly or not create:
                    if version == 0:
                        raise UsageError(f"{self.where}: no outbox here yet (run `pacspdf send` or "
                                         "`pacspdf db upgrade` first)")
                    raise UsageError(f"{self.where}: the outbox needs `pacspdf db upgrade` "
                                     f"(schema {version}, this pacspdf uses {SCHEMA_VERSION})")
                upgrade(self._db)
            if readonly:
                self._db.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            self._db.close()
            raise UsageError(f"{self.where}: cannot use it as the outbox: "
                             f"{str(exc).strip().splitlines()[0]}") from None
        except UsageError:
            self._db.close()
            raise

    @property
    def writable(self) -> bool:
        return not self.readonly

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._db.close()  # ends the session: its advisory locks go with it

    def __del__(self) -> None:
        """Dropped unclosed (a thread's outbox in the web app), like a SQLite connection: close quietly."""
        db = getattr(self, "_db", None)
        if db is not None and not db.closed:
            with contextlib.suppress(Exception):
                db.close()

    def lock(self) -> None:
        """The sender's lock as a session advisory lock: released when the connection ends (crash too)."""
        if self._locked:
            return
        if self.readonly:
            raise OutboxError(f"{self.where}: opened read-only, cannot send from it")
        row = self._db.execute("SELECT pg_try_advisory_lock(%s)", (_SENDER_LOCK,)).fetchone()
        if not row or not row[0]:
            raise UsageError(f"{self.where}: another pacspdf send is using this outbox "
                             "(its advisory lock is held); wait for it to finish")
        self._locked = True

    def unlock(self) -> None:
        if self._locked:
            if not self._db.closed:
                self._db.execute("SELECT pg_advisory_unlock(%s)", (_SENDER_LOCK,))
            self._locked = False

    # ------------------------------------------------------------------ writing

    @_guarded
    def record(self, entries: Iterable[NewEntry]) -> list[tuple[Entry, bool]]:
        """Insert each entry unless its key is already there; return (entry, newly recorded), one commit."""
        out: list[tuple[Entry, bool]] = []
        now = now_utc()
        with self._db.transaction():
            for e in entries:
                cur = self._db.execute(
                    "INSERT INTO outbox (key, state, reason, report_slug, report_dir, transport, source,"
                    " row, enquiry_id, email, name, company, job_title, country, message, message_id,"
                    " copy_id, created_at, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (key) DO NOTHING",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now))
                created = cur.rowcount == 1
                entry = self._get(e.key)
                assert entry is not None
                out.append((entry, created))
        return out

    @_guarded
    def claim(self, key: str, prepared_at: str, *, lease_seconds: float = 600.0) -> Entry:
        """Mark the entry ``sending`` (one more attempt) with a lease, just before it goes out."""
        return self._update(key, "state = 'sending', attempts = attempts + 1,"
                                 " prepared_at = COALESCE(prepared_at, %s),"
                                 " lease_until = now() + make_interval(secs => %s), claimed_by = %s",
                            prepared_at, lease_seconds, worker_name(),
                            allowed=(State.QUEUED, State.SENDING, State.REJECTED))

    @_guarded
    def claim_next(self, prepared_at: str, *, lease_seconds: float = 60.0) -> Entry | None:
        """Take the oldest claimable row for this worker, or None: ``queued``, or ``sending`` with an
        expired lease (its worker died). ``FOR UPDATE SKIP LOCKED`` lets any number of workers on
        any hosts claim at once without two taking the same row or waiting on each other."""
        row = self._db.execute(
            "WITH c AS (SELECT id FROM outbox WHERE state = 'queued'"
            "           OR (state = 'sending' AND lease_until < now())"
            "           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox o SET state = 'sending', attempts = o.attempts + 1,"
            " prepared_at = COALESCE(o.prepared_at, %s), lease_until = now() + make_interval(secs => %s),"
            " claimed_by = %s, updated_at = %s FROM c WHERE o.id = c.id"
            f" RETURNING {', '.join('o.' + c for c in COLUMNS)}",
            (prepared_at, lease_seconds, worker_name(), now_utc())).fetchone()
        return Entry.from_row(row) if row else None

    @_guarded
    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance; committed (and so durable) when this returns."""
        return self._update(key, "state = 'sent', reason = '', server_reply = %s, sent_at = %s,"
                                 " lease_until = NULL", server_reply, now_utc())

    def sync(self) -> None:
        """Nothing to do: every commit above is durable when it returns."""

    @_guarded
    def confirm(self, key: str) -> Entry | None:
        cur = self._db.execute("UPDATE outbox SET state = 'queued', copy_id = %s, updated_at = %s"
                               " WHERE key = %s AND state = 'unconfirmed'", (new_copy_id(), now_utc(), key))
        if cur.rowcount != 1:
            return None
        return self._get(key)

    @_guarded
    def expire_unconfirmed(self, before: str, reason: str) -> int:
        cur = self._db.execute("UPDATE outbox SET state = 'refused', reason = %s, updated_at = %s"
                               " WHERE state = 'unconfirmed' AND created_at < %s",
                               (reason, now_utc(), before))
        return cur.rowcount

    @_guarded
    def mark_queued(self, key: str, reason: str) -> Entry:
        return self._update(key, "state = 'queued', reason = %s, lease_until = NULL", reason)

    @_guarded
    def mark_failed(self, key: str, reason: str) -> Entry:
        return self._update(key, "state = 'failed', reason = %s, lease_until = NULL", reason)

    @_guarded
    def mark_rejected(self, key: str, reason: str) -> Entry:
        return self._update(key, "state = 'rejected', reason = %s, lease_until = NULL", reason)

    @_guarded
    def note_queued(self, reasons: Iterable[tuple[str, str]]) -> None:
        now = now_utc()
        with self._db.transaction(), self._db.cursor() as cur:
            cur.executemany("UPDATE outbox SET reason = %s, updated_at = %s"
                            " WHERE key = %s AND state = 'queued'",
                            [(reason, now, key) for key, reason in reasons])

    @_guarded
    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        self._update(key, "warnings = %s", "\n".join(warnings))

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
        rows = self._db.execute(f"SELECT {_SELECT} FROM outbox WHERE state IN ('queued', 'sending')"
                                " AND id > %s ORDER BY id LIMIT %s", (after_id, limit))
        return [Entry.from_row(r) for r in rows]

    @_guarded
    def count_pending(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()
        return int(row[0]) if row else 0

    @_guarded
    def counts(self) -> dict[State, int]:
        counts: dict[State, int] = dict.fromkeys(State, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[State(state)] = int(n)
        return counts

    @_guarded
    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        names = [State(s).value for s in states]
        rows = self._db.execute(f"SELECT {_SELECT} FROM outbox WHERE state = ANY(%s)"
                                " ORDER BY updated_at DESC, id DESC LIMIT %s", (names, limit))
        return [Entry.from_row(r) for r in rows]

    @_guarded
    def all(self) -> list[Entry]:
        return [Entry.from_row(r) for r in self._db.execute(f"SELECT {_SELECT} FROM outbox ORDER BY id")]

    # ------------------------------------------------------------------ internals

    def _get(self, key: str) -> Entry | None:
        row = self._db.execute(f"SELECT {_SELECT} FROM outbox WHERE key = %s", (key,)).fetchone()
        return Entry.from_row(row) if row else None

    def _update(self, key: str, assignments: str, *params: object,
                allowed: tuple[State, ...] | None = None) -> Entry:
        where = "key = %s"
        if allowed:
            where += f" AND state IN ({', '.join(repr(s.value) for s in allowed)})"
        row = self._db.execute(f"UPDATE outbox SET {assignments}, updated_at = %s WHERE {where}"
                               f" RETURNING {_SELECT}", (*params, now_utc(), key)).fetchone()
        if row is not None:
            return Entry.from_row(row)
        entry = self._get(key)
        if entry is None:
            raise OutboxError(f"{self.where}: outbox entry {key!r} has gone (changed by another process)")
        raise OutboxError(f"{self.where}: outbox entry {key!r} is {entry.state}, cannot change it "
                          "(changed by another process?)")
