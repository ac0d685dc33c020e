"""Keep the intake's own records beside the outbox (SQLite file or PostgreSQL): requests, mails, counters.

The enquiry itself (who, for which report, its state) lives in the outbox; these tables add
what only the web intake needs: the random request id that confirmation links carry, the
confirmation and sales mails the worker still has to send, and the per-day counters behind
the abuse limits. Every write is its own short transaction, so several ``serve`` and
``worker`` processes can share the file, or, given a ``postgresql://`` URL, one PostgreSQL
database from many hosts (the tables come with the outbox's schema migration 2 there).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pacspdf.delivery.store.schema import SQLITE, create_script
from pacspdf.delivery.store.target import PostgresTarget, Target, parse_target
from pacspdf.web.core import UsageError, now_utc

if TYPE_CHECKING:
    import psycopg

SCHEMA = create_script(SQLITE, "web")  # on PostgreSQL the outbox's migrations create these tables


@dataclass(frozen=True)
class Request:
    id: str
    outbox_key: str
    kind: str
    report_slug: str
    marketing_consent: bool
    created_at: str
    confirmed_at: str | None


@dataclass(frozen=True)
class Mail:
    id: int
    request_id: str
    purpose: str
    state: str
    transport: str
    attempts: int
    created_at: str


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


class _Postgres:
    """A psycopg connection that takes this module's SQLite-style ``?`` placeholders."""

    def __init__(self, target: PostgresTarget) -> None:
        from pacspdf.delivery.store.postgres import connect

        self.conn = connect(target)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(sql.replace("?", "%s").encode(), params)

    def close(self) -> None:
        self.conn.close()

    def __del__(self) -> None:
        """A thread's connection dropped unclosed, like a SQLite one: close it quietly."""
        with contextlib.suppress(Exception):
            self.conn.close()


_Db = sqlite3.Connection | _Postgres


class WebStore:
    """The web tables of one database file, or of a PostgreSQL database; one connection per thread."""

    def __init__(self, path: Path | str | Target) -> None:
        self.target = parse_target(path)
        self.pg = self.target if isinstance(self.target, PostgresTarget) else None
        self.path = Path(self.target.display)   # the SQLite file (for a URL: only for messages)
        self._local = threading.local()
        self._conn()  # create the tables now, and fail early on an unusable file

    def _conn(self) -> _Db:
        conn: _Db | None = getattr(self._local, "conn", None)
        if conn is None and self.pg:
            from pacspdf.delivery.store.postgres import PostgresOutbox

            PostgresOutbox(self.pg).close()  # opening it applies the migrations, web tables included
            conn = self._local.conn = _Postgres(self.pg)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                lite = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
                lite.execute("PRAGMA journal_mode=WAL")
                lite.execute("PRAGMA busy_timeout=30000")
                # Counters and request records: a commit survives a crash of the process; after a
                # power loss the last few may be gone, which costs nothing but a recount.
                lite.execute("PRAGMA synchronous=NORMAL")
                lite.executescript(SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise UsageError(f"{self.path}: cannot open the database ({exc})") from None
            conn = self._local.conn = lite
        return conn

    @contextlib.contextmanager
    def _transaction(self, lock: bool = False) -> Iterator[_Db]:
        """One write transaction; ``lock`` also serialises it against every other ``lock`` one
        (SQLite's BEGIN IMMEDIATE does that anyway; on PostgreSQL an advisory lock does)."""
        db = self._conn()
        if isinstance(db, _Postgres):
            with db.conn.transaction():
                if lock:
                    db.execute("SELECT pg_advisory_xact_lock(7061637370646603)")
                yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ limits

    def admit(self, buckets: Mapping[str, str], limits: Mapping[str, int],
              day: str | None = None) -> str | None:
        """Count one request in every bucket unless one is at its cap; return that bucket's kind, or None.

        ``buckets`` maps a kind (ip, net, email, domain) to its key; check and count happen in
        one write transaction, so concurrent requests from many processes never overshoot a cap.
        """
        day = day or today()
        with self._transaction(lock=True) as db:  # check-then-count must not interleave
            for kind, key in buckets.items():
                row = db.execute("SELECT n FROM web_counter WHERE bucket = ? AND day = ?",
                                 (key, day)).fetchone()
                if row is not None and row[0] >= limits[kind]:
                    return kind
            for key in buckets.values():
                db.execute("INSERT INTO web_counter (bucket, day, n) VALUES (?, ?, 1)"
                           " ON CONFLICT (bucket, day) DO UPDATE SET n = web_counter.n + 1", (key, day))
            db.execute("DELETE FROM web_counter WHERE day < ?",
                       ((datetime.fromisoformat(day) - timedelta(days=2)).date().isoformat(),))
        return None

    # ------------------------------------------------------------------ requests

    def add_request(self, request_id: str, outbox_key: str, kind: str, report_slug: str, consent: bool,
                    transport: str) -> None:
        """The request and its pending confirmation mail, in one transaction."""
        now = now_utc()
        with self._transaction() as db:
            db.execute("INSERT INTO web_request (id, outbox_key, kind, report_slug, marketing_consent,"
                       " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (request_id, outbox_key, kind, report_slug, int(consent), now))
            db.execute("INSERT INTO web_mail (request_id, purpose, state, transport, next_at, created_at,"
                       " updated_at) VALUES (?, 'confirm', 'pending', ?, ?, ?, ?)",
                       (request_id, transport, now, now, now))

    def request(self, request_id: str) -> Request | None:
        row = self._conn().execute(
            "SELECT id, outbox_key, kind, report_slug, marketing_consent, created_at, confirmed_at"
            " FROM web_request WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return None
        return Request(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])

    def mark_confirmed(self, request: Request) -> None:
        """Record the click; a question also gets its mail to the sales team queued."""
        now = now_utc()
        with self._transaction() as db:
            db.execute("UPDATE web_request SET confirmed_at = COALESCE(confirmed_at, ?) WHERE id = ?",
                       (now, request.id))
            if request.kind == "question":
                found = db.execute("SELECT transport FROM web_mail WHERE request_id = ? AND"
                                   " purpose = 'confirm'", (request.id,)).fetchone()
                assert found is not None  # add_request wrote it in the same transaction as the request
                transport = found[0]
                db.execute("INSERT INTO web_mail (request_id, purpose, state, transport, next_at, created_at,"
                           " updated_at) VALUES (?, 'sales', 'pending', ?, ?, ?, ?)"
                           " ON CONFLICT (request_id, purpose) DO NOTHING",
                           (request.id, transport, now, now, now))

    # ------------------------------------------------------------------ mails

    def claim_mail(self) -> Mail | None:
        """The next due mail, marked ``sending`` (conditionally: two workers never take the same one)."""
        db = self._conn()
        now = now_utc()
        while True:
            row = db.execute("SELECT id, request_id, purpose, state, transport, attempts, created_at"
                             " FROM web_mail WHERE state IN ('pending', 'sending') AND next_at <= ?"
                             " ORDER BY next_at, id LIMIT 1", (now,)).fetchone()
            if row is None:
                return None
            cur = db.execute("UPDATE web_mail SET state = 'sending', attempts = attempts + 1, updated_at = ?,"
                             " next_at = ? WHERE id = ? AND state = ? AND attempts = ?",
                             (now, later(120), row[0], row[3], row[5]))
            if cur.rowcount == 1:
                return Mail(row[0], row[1], row[2], "sending", row[4], row[5] + 1, row[6])

    def finish_mail(self, mail_id: int, state: str, reason: str = "", retry_in: float = 0.0) -> None:
        next_at = later(retry_in) if state == "pending" else now_utc()
        self._conn().execute("UPDATE web_mail SET state = ?, reason = ?, next_at = ?, updated_at = ?"
                             " WHERE id = ?", (state, reason, next_at, now_utc(), mail_id))

    def mail_counts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT purpose || ':' || state, COUNT(*) FROM web_mail GROUP BY 1")
        return {k: int(n) for k, n in rows}
