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
import os
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from pacspdf.delivery.store import claims
from pacspdf.delivery.store.interface import (
    COLUMNS,
    Entry,
    OutboxError,
    State,
    now_utc,
)
from pacspdf.delivery.store.schema import POSTGRES, create_script, render
from pacspdf.delivery.store.schema import TABLES as _TABLES
from pacspdf.delivery.store.sql import _NOT_A_TOKEN, _SELECT, SqlOutbox, guarded
from pacspdf.delivery.store.target import PostgresTarget, Target, parse_target
from pacspdf.errors import UsageError

_MIGRATION_LOCK = 0x7061637370646601   # pg_advisory_xact_lock key while migrating ("pacspdf" 1)

#: a new database gets every table at once (the current schema, from store/schema.py) ...
CREATE = create_script(POSTGRES, "outbox", "web", "build_job", "build_job_output")
#: ... and an older one the deltas above its version, each in one transaction with its version row
#: (version 1 was the first outbox table: a database has it from its first open)
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (2, render(_TABLES["web"], POSTGRES)),           # the web intake's requests, mails and counters
    (3, render(_TABLES["build_job"], POSTGRES)),     # catalogue builds as jobs (pacspdf.buildqueue)
    (4, "ALTER TABLE outbox ADD COLUMN claim_token TEXT NOT NULL DEFAULT ''"),  # claims carry a token
    (5, render(_TABLES["build_job_output"], POSTGRES)),  # one output's jobs found by index
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    return PostgresTarget(url).display


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


class PostgresOutbox(SqlOutbox):
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

    placeholder = "%s"

    @property
    def writable(self) -> bool:
        return not self.readonly

    def _driver_error(self, exc: Exception) -> str | None:
        return first_line(exc, self.target) if isinstance(exc, psycopg.Error) else None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

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

    @guarded
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

    @guarded
    def claim_queued(self, key: str, prepared_at: str, *,
                     lease_seconds: float = claims.DEFAULT_LEASE) -> Entry | None:
        """Claim the entry if it is ``queued`` (see :meth:`Outbox.claim_queued`): one statement."""
        return self._take("SELECT id FROM outbox WHERE key = %s AND state = 'queued'", [key], prepared_at,
                          lease_seconds)

    @guarded
    def claim_next(self, prepared_at: str, *, lease_seconds: float = claims.DEFAULT_LEASE,
                   after_id: int = 0) -> Entry | None:
        """Take the oldest claimable row above ``after_id``, or None: ``queued``, or ``sending`` whose
        holder is gone or out of lease. ``FOR UPDATE SKIP LOCKED`` lets any number of workers on
        any hosts claim at once without two taking the same row or waiting on each other."""
        held, params = self._claimable(None)
        return self._take(f"SELECT id FROM outbox WHERE id > %s AND (state = 'queued' OR {held})"
                          " ORDER BY id LIMIT 1", [after_id, *params], prepared_at, lease_seconds)

    @guarded
    def holder(self, key: str) -> str:
        row = self._db.execute("SELECT claimed_by, to_char(lease_until AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD HH24:MI:SS') FROM outbox WHERE key = %s AND state = 'sending'",
                               (key,)).fetchone()
        if row is None or not row[0]:
            return ""
        until = f" (lease until {row[1]} UTC)" if row[1] else ""
        return f"{claims.describe(row[0])}{until}"

    def sync(self) -> None:
        """Nothing to do: every commit above is durable when it returns."""

    # ------------------------------------------------------------------ reading

    @guarded
    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        names = [State(s).value for s in states]
        rows = self._db.execute(f"SELECT {_SELECT} FROM outbox WHERE state = ANY(%s)"
                                " ORDER BY updated_at DESC, id DESC LIMIT %s", (names, limit))
        return [Entry.from_row(r) for r in rows]

