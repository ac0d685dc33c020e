"""Record every enquiry and its delivery state in PostgreSQL, shared by processes on many hosts.

The same rows, states and idempotency key (UNIQUE) as the SQLite store; each state change is
its own committed transaction (``synchronous_commit`` as the server has it, ``on`` by
default, so a returned commit survives a crash of the server too). Senders on any host claim
rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease (``lease_until``, on the server's
clock) and a claim token: a row whose sender died is claimable again once its lease has run
out (at once from the same machine, where the sender's process can be seen to be gone), and
a sender whose row was taken over writes nothing more to it. The tables come from
``store/schema.py``; the schema is versioned in ``pacspdf_schema`` and migrated on open (or
by ``pacspdf db upgrade``) under an advisory lock, so many processes starting at once
migrate it once.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg

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
from pacspdf.delivery.store.schema import POSTGRES, create_script, render
from pacspdf.delivery.store.schema import TABLES as _TABLES
from pacspdf.delivery.store.target import PostgresTarget, Target, parse_target
from pacspdf.errors import UsageError

_SELECT = ", ".join(COLUMNS)
_MIGRATION_LOCK = 0x7061637370646601   # pg_advisory_xact_lock key while migrating ("pacspdf" 1)
_NOT_A_TOKEN = "!"  # never a stored token (those are hex): a claim this outbox does not hold

#: a new database gets every table at once (the current schema, from store/schema.py) ...
CREATE = create_script(POSTGRES, "outbox", "web", "build_job")
#: ... and an older one the deltas above its version, each in one transaction with its version row
#: (version 1 was the first outbox table: a database has it from its first open)
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (2, render(_TABLES["web"], POSTGRES)),           # the web intake's requests, mails and counters
    (3, render(_TABLES["build_job"], POSTGRES)),     # catalogue builds as jobs (pacspdf.buildqueue)
    (4, "ALTER TABLE outbox ADD COLUMN claim_token TEXT NOT NULL DEFAULT ''"),  # claims carry a token
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    return PostgresTarget(url).display


def _guarded(method: Callable[Concatenate[PostgresOutbox, _P], _R]
             ) -> Callable[Concatenate[PostgresOutbox, _P], _R]:
    """Turn any database failure inside ``method`` into an :class:`OutboxError` naming the server."""

    @functools.wraps(method)
    def run(self: PostgresOutbox, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise OutboxError(f"{self.where}: {first_line(exc, self.target)}") from None

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
        if current == 0:
            conn.execute(CREATE.encode())  # our own constant text, no parameters
            applied = list(range(1, SCHEMA_VERSION + 1))
        else:
            for version, sql in MIGRATIONS:
                if version > current:
                    conn.execute(sql.encode())
                    applied.append(version)
        for version in applied:
            conn.execute("INSERT INTO pacspdf_schema (version) VALUES (%s)", (version,))
    return applied


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The database's schema version; 0 when pacspdf has never written to it."""
    row = conn.execute("SELECT to_regclass('pacspdf_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM pacspdf_schema").fetchone()
    return int(row[0]) if row else 0


def first_line(exc: BaseException, target: PostgresTarget) -> str:
    """A driver error as one line, with any spelling of the password taken out."""
    text = str(exc).strip()
    return target.redact(text.splitlines()[0] if text else type(exc).__name__)


def postgres_target(target: Path | str | Target) -> PostgresTarget:
    parsed = parse_target(target)
    if not isinstance(parsed, PostgresTarget):
        raise UsageError(f"{parsed}: not a postgresql:// URL")
    return parsed


def connect(target: Path | str | Target, *, connect_timeout: float = 10.0) -> psycopg.Connection[Any]:
    """An autocommit connection to the server ``target`` names; a one-line usage error if it cannot."""
    pg = postgres_target(target)
    try:
        return psycopg.connect(pg.url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
    except (psycopg.Error, ValueError) as exc:  # ValueError: psycopg's own URL parsing
        reason = first_line(exc, pg)
        raise UsageError(f"{pg.display}: cannot connect to the outbox database ({reason})") from None


class PostgresOutbox(Outbox):
    """The delivery record in a PostgreSQL database (``postgresql://`` URL), shared across hosts."""

    target: PostgresTarget

    def __init__(self, path: Path | str | Target, *, create: bool = True, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        self.target = postgres_target(path)
        self.url = self.target.url
        self.path = Path(self.where)   # for messages only: a URL is not a file
        self.readonly = readonly
        self._claims: dict[str, str] = {}   # key -> token of each row this outbox holds
        self._db = connect(self.target, connect_timeout=busy_timeout)
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
            reason = first_line(exc, self.target)
            raise UsageError(f"{self.where}: cannot use it as the outbox: {reason}") from None
        except UsageError:
            self._db.close()
            raise
        self.owner = claims.new_owner()

    @property
    def writable(self) -> bool:
        return not self.readonly

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if hasattr(self, "owner"):
            claims.end_owner(self.owner)  # rows still held are claimable at once from this machine
        self._db.close()

    def __del__(self) -> None:
        """Dropped unclosed (a thread's outbox in the web app), like a SQLite connection: close quietly."""
        if hasattr(self, "owner"):
            claims.end_owner(self.owner)
        db = getattr(self, "_db", None)
        if db is not None and not db.closed:
            with contextlib.suppress(Exception):
                db.close()

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
                    f" ON CONFLICT (key) DO NOTHING RETURNING {_SELECT}",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now))
                inserted = cur.fetchone()   # the new row as stored; None when the key was there
                entry = Entry.from_row(inserted) if inserted else self._get(e.key)
                assert entry is not None
                out.append((entry, inserted is not None))
        return out

    def _claimable(self, key: str | None) -> tuple[str, list[object]]:
        """The WHERE clause of a claim: ``sending`` rows qualify when their holder is gone or out of lease."""
        rows = self._db.execute("SELECT DISTINCT claimed_by FROM outbox WHERE state = 'sending'"
                                " AND lease_until >= now() AND claimed_by LIKE %s"
                                + (" AND key = %s" if key else ""),
                                (claims.machine().replace("%", r"\%").replace("_", r"\_") + "|%",
                                 *([key] if key else [])))
        dead = [owner for (owner,) in rows if claims.is_dead(owner)]
        token = self._claims.get(key, _NOT_A_TOKEN) if key else _NOT_A_TOKEN
        return ("(state = 'sending' AND (lease_until IS NULL OR lease_until < now() OR claim_token = %s"
                " OR claimed_by = ANY(%s)))", [token, dead])

    def _take(self, chosen: str, params: list[object], prepared_at: str,
              lease_seconds: float) -> Entry | None:
        """Claim the row the ``chosen`` query picks (``FOR UPDATE SKIP LOCKED``), in one statement."""
        token = claims.new_token()
        row = self._db.execute(
            f"WITH c AS ({chosen} FOR UPDATE SKIP LOCKED)"
            " UPDATE outbox o SET state = 'sending', attempts = o.attempts + 1,"
            " prepared_at = COALESCE(o.prepared_at, %s), lease_until = now() + make_interval(secs => %s),"
            " claimed_by = %s, claim_token = %s, updated_at = %s FROM c WHERE o.id = c.id"
            f" RETURNING {', '.join('o.' + c for c in COLUMNS)}",
            (*params, prepared_at, lease_seconds, self.owner, token, now_utc())).fetchone()
        if row is None:
            return None
        entry = Entry.from_row(row)
        self._claims[entry.key] = token
        return entry

    @_guarded
    def claim(self, key: str, prepared_at: str, *,
              lease_seconds: float = claims.DEFAULT_LEASE) -> Entry | None:
        """Claim the entry (see :meth:`Outbox.claim`): ``FOR UPDATE SKIP LOCKED``, a lease, one statement."""
        held, params = self._claimable(key)
        entry = self._take("SELECT id FROM outbox WHERE key = %s"
                           f" AND (state IN ('queued', 'rejected') OR {held})",
                           [key, *params], prepared_at, lease_seconds)
        if entry is None:
            if self._get(key) is None:
                raise OutboxError(f"{self.where}: outbox entry {key!r} has gone (changed by another process)")
            self._claims.pop(key, None)
        return entry

    @_guarded
    def claim_queued(self, key: str, prepared_at: str, *,
                     lease_seconds: float = claims.DEFAULT_LEASE) -> Entry | None:
        """Claim the entry if it is ``queued`` (see :meth:`Outbox.claim_queued`): one statement."""
        return self._take("SELECT id FROM outbox WHERE key = %s AND state = 'queued'", [key], prepared_at,
                          lease_seconds)

    @_guarded
    def claim_next(self, prepared_at: str, *, lease_seconds: float = claims.DEFAULT_LEASE,
                   after_id: int = 0) -> Entry | None:
        """Take the oldest claimable row above ``after_id``, or None: ``queued``, or ``sending`` whose
        holder is gone or out of lease. ``FOR UPDATE SKIP LOCKED`` lets any number of workers on
        any hosts claim at once without two taking the same row or waiting on each other."""
        held, params = self._claimable(None)
        return self._take(f"SELECT id FROM outbox WHERE id > %s AND (state = 'queued' OR {held})"
                          " ORDER BY id LIMIT 1", [after_id, *params], prepared_at, lease_seconds)

    @_guarded
    def holder(self, key: str) -> str:
        row = self._db.execute("SELECT claimed_by, to_char(lease_until AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD HH24:MI:SS') FROM outbox WHERE key = %s AND state = 'sending'",
                               (key,)).fetchone()
        if row is None or not row[0]:
            return ""
        until = f" (lease until {row[1]} UTC)" if row[1] else ""
        return f"{claims.describe(row[0])}{until}"

    @_guarded
    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance; committed (and so durable) when this returns."""
        return self._owned(key, "state = 'sent', reason = '', server_reply = %s, sent_at = %s",
                           server_reply, now_utc())

    @_guarded
    def mark_sent_many(self, replies: Sequence[tuple[str, str]]) -> list[Entry | claims.LeaseLost]:
        """Record several acceptances in one transaction (see :meth:`Outbox.mark_sent_many`)."""
        out: list[Entry | claims.LeaseLost] = []
        held = {key: self._claims[key] for key, _ in replies if key in self._claims}
        now = now_utc()
        try:
            with self._db.transaction():
                for key, reply in replies:
                    try:
                        out.append(self._owned(key, "state = 'sent', reason = '', server_reply = %s,"
                                                    " sent_at = %s", reply, now))
                    except claims.LeaseLost as lost:
                        out.append(lost)
        except BaseException:
            self._claims.update(held)  # nothing was written: the claims are still ours
            raise
        return out

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
        return self._owned(key, "state = 'queued', reason = %s", reason)

    @_guarded
    def note_failure(self, key: str, reason: str) -> Entry:
        return self._owned(key, "reason = %s", reason, release=False)

    @_guarded
    def mark_failed(self, key: str, reason: str) -> Entry:
        return self._owned(key, "state = 'failed', reason = %s", reason)

    @_guarded
    def mark_rejected(self, key: str, reason: str) -> Entry:
        return self._owned(key, "state = 'rejected', reason = %s", reason)

    @_guarded
    def note_queued(self, reasons: Iterable[tuple[str, str]]) -> None:
        now = now_utc()
        with self._db.transaction(), self._db.cursor() as cur:
            cur.executemany("UPDATE outbox SET reason = %s, updated_at = %s"
                            " WHERE key = %s AND state = 'queued'",
                            [(reason, now, key) for key, reason in reasons])

    @_guarded
    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        self._owned(key, "warnings = %s", "\n".join(warnings), release=False)

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

    def _owned(self, key: str, assignments: str, *params: object, release: bool = True) -> Entry:
        """Write ``assignments`` if this outbox still holds the row's claim; ``release`` ends the claim."""
        token = self._claims.get(key, _NOT_A_TOKEN)
        ends = ", lease_until = NULL, claim_token = ''" if release else ""
        row = self._db.execute(f"UPDATE outbox SET {assignments}{ends}, updated_at = %s"
                               " WHERE key = %s AND state = 'sending' AND claim_token = %s"
                               f" RETURNING {_SELECT}", (*params, now_utc(), key, token)).fetchone()
        if row is not None:
            if release:
                self._claims.pop(key, None)
            return Entry.from_row(row)
        self._claims.pop(key, None)
        entry = self._get(key)
        if entry is None:
            raise OutboxError(f"{self.where}: outbox entry {key!r} has gone (changed by another process)")
        nobody = f"no one: this sender does not hold it ({entry.state})"
        raise claims.LeaseLost(key, self.holder(key) or nobody)
