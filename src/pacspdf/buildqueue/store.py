"""Build jobs -> rows in SQLite or PostgreSQL: add, claim with a lease, renew, finish, count.

One interface, two engines, the same statements where they can be. PostgreSQL claims with
``FOR UPDATE SKIP LOCKED`` on the server's clock and serialises the changes to one output
under a transaction-scoped advisory lock keyed by the output path; its ``build_job`` table is
schema migration 3 of :mod:`pacspdf.delivery.store.postgres`. SQLite (one machine) does each
change in a ``BEGIN IMMEDIATE`` transaction of the outbox's file, in a ``build_job`` table of
its own (created when missing from the same table text), with times as Unix seconds.

A job whose lease ran out after :data:`MAX_ATTEMPTS` claims (its workers died each time: a
crash, an out-of-memory kill) is failed with that reason instead of being claimed again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from pacspdf.catalogue import Outcome
from pacspdf.delivery.store.interface import database_url, is_database_url
from pacspdf.delivery.store.schema import POSTGRES, SQLITE, create_script
from pacspdf.errors import PacspdfError

#: Claims of one job whose worker vanished before the job is failed rather than tried again.
MAX_ATTEMPTS = 3


class StoreError(PacspdfError):
    """The job store could not be reached or used (a lost connection, a locked or unwritable file)."""


@dataclass(frozen=True)
class Claimed:
    """A job this process holds the lease of."""

    id: int
    folder: str
    output: str
    label: str
    attempts: int


def worker_name() -> str:
    """Who holds a claim (``claimed_by``): host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(method: Callable[Concatenate[JobStore, _P], _R]) -> Callable[Concatenate[JobStore, _P], _R]:
    """Turn the engine's operational failures inside ``method`` into a one-line :class:`StoreError`."""

    @functools.wraps(method)
    def run(self: JobStore, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except self.transient as exc:
            text = str(exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            raise StoreError(f"{self.where}: {first}") from None

    return run  # type: ignore[return-value]  # wraps() returns _Wrapped, called just like `method`


class JobStore:
    """The statements both engines share; a subclass supplies the connection and the dialect."""

    where = ""
    now = ""  # SQL for the current time
    transient: tuple[type[BaseException], ...] = ()
    conn: Any

    def lease(self) -> str:
        """SQL for "now plus %s seconds"."""
        raise NotImplementedError

    def sql(self, text: str) -> str:
        return text

    def transaction(self, output: str | None = None) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _run(self, text: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(self.sql(text.replace("{now}", self.now).replace("{lease}", self.lease())),
                                 params)

    @_guarded
    def add(self, key: str, output: str, folder: str, label: str) -> bool:
        """Queue (key, output) unless the output holds, or will hold, that content; whether it did."""
        with self.transaction(output):
            rows = self._run("SELECT id, content_hash, state, result_path FROM build_job WHERE output = %s"
                             " ORDER BY created_at DESC, id DESC", (output,)).fetchall()
            if rows and rows[0][1] == key:
                state, result = rows[0][2], rows[0][3]
                if state != "built" or Path(result or output).is_file():
                    return False           # queued, building, failed, or built and still there
            # content new to this output, back to an older version, or built and then deleted:
            # what was queued for the output and never started is superseded
            self._run("DELETE FROM build_job WHERE output = %s AND state = 'queued' AND content_hash <> %s",
                      (output, key))
            mine = [r[0] for r in rows if r[1] == key]
            if mine:
                self._run("UPDATE build_job SET state = 'queued', attempts = 0, error = '', result_path = '',"
                          " lease_until = NULL, claimed_by = '', finished_at = NULL, created_at = {now},"
                          " folder = %s, label = %s WHERE id = %s", (folder, label, mine[0]))
            else:
                self._run("INSERT INTO build_job (content_hash, output, folder, label, created_at)"
                          " VALUES (%s, %s, %s, %s, {now})", (key, output, folder, label))
            return True

    @_guarded
    def claim(self, lease_seconds: float) -> Claimed | None:
        """The oldest queued job, or one whose worker's lease ran out, leased to this process."""
        with self.transaction():
            self._run("UPDATE build_job SET state = 'failed', lease_until = NULL, finished_at = {now},"
                      " error = %s WHERE state = 'building' AND lease_until < {now} AND attempts >= %s",
                      (f"the worker building it stopped (crash or kill) {MAX_ATTEMPTS} times; "
                       "not tried again", MAX_ATTEMPTS))
            row = self._run(self.claim_sql(), (lease_seconds, worker_name())).fetchone()
        return None if row is None else Claimed(int(row[0]), row[1], row[2], row[3], int(row[4]))

    def claim_sql(self) -> str:
        raise NotImplementedError

    @_guarded
    def extend(self, job_id: int, lease_seconds: float) -> None:
        """Renew this process's lease on a job it is building."""
        with self.transaction():
            self._run("UPDATE build_job SET lease_until = {lease} WHERE id = %s AND state = 'building'"
                      " AND claimed_by = %s", (lease_seconds, job_id, worker_name()))

    @_guarded
    def release(self, job_id: int) -> None:
        """Give back a job this process claimed and will not build (it stops at once): queued again."""
        with self.transaction():
            self._run("UPDATE build_job SET state = 'queued', attempts = attempts - 1, lease_until = NULL,"
                      " claimed_by = '' WHERE id = %s AND state = 'building' AND claimed_by = %s",
                      (job_id, worker_name()))

    @_guarded
    def finish(self, job: Claimed, outcome: Outcome, moves: list[tuple[Path, Path]]) -> Outcome:
        """Record the outcome; what was built is renamed into place (``moves``: (built, final), in
        order) unless newer content was queued for the output meanwhile."""
        with self.transaction(job.output):
            newer = self._run("SELECT n.id FROM build_job n, build_job j WHERE j.id = %s"
                              " AND n.output = j.output AND (n.created_at > j.created_at"
                              " OR (n.created_at = j.created_at AND n.id > j.id))"
                              " ORDER BY n.id DESC LIMIT 1", (job.id,)).fetchone()
            if outcome.ok and newer is not None:
                for built, _ in moves:
                    with contextlib.suppress(OSError):
                        built.unlink()
                outcome = Outcome(outcome.label, False, error=f"superseded by newer content for {job.output} "
                                  f"(job {newer[0]}) while it was built; not written", worker=outcome.worker)
            elif outcome.ok:
                for built, final in moves:
                    try:
                        os.replace(built, final)
                    except FileNotFoundError:  # a second claim of this job (a lapsed lease) placed it
                        if final.is_file():
                            continue
                        outcome = Outcome(outcome.label, False, error=f"{built}: vanished before it was "
                                          f"moved to {final}", worker=outcome.worker)
                        break
                    except OSError as exc:
                        outcome = Outcome(outcome.label, False, error=f"{final}: cannot write: "
                                          f"{exc.strerror or exc}", worker=outcome.worker)
                        break
            self._run("UPDATE build_job SET state = %s, lease_until = NULL, result_path = %s, error = %s,"
                      " pages = %s, seconds = %s, finished_at = {now} WHERE id = %s",
                      ("built" if outcome.ok else "failed", job.output if outcome.ok else "", outcome.error,
                       outcome.pages, outcome.seconds, job.id))
        return outcome

    @_guarded
    def counts(self) -> dict[str, int]:
        rows = self._run("SELECT state, COUNT(*) FROM build_job GROUP BY state").fetchall()
        return {str(s): int(n) for s, n in rows}

    @_guarded
    def failures(self) -> list[tuple[str, str]]:
        rows = self._run("SELECT label, error FROM build_job WHERE state = 'failed' ORDER BY id").fetchall()
        return [(str(label), str(error)) for label, error in rows]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class SqliteJobs(JobStore):
    """Jobs in a SQLite file (created 0600 when missing, WAL mode): workers on this machine."""

    now = SQLITE.now
    transient = (sqlite3.OperationalError,)

    def __init__(self, path: Path, busy_timeout: float = 30.0) -> None:
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout,
                                        check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL").fetchall()
            self.conn.executescript(create_script(SQLITE, "build_job", "build_job_output"))
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
            raise StoreError(f"{path}: cannot use it as the build queue ({reason})") from None

    def lease(self) -> str:
        return f"{self.now} + ?"

    def sql(self, text: str) -> str:
        return text.replace("%s", "?")

    @contextlib.contextmanager
    def transaction(self, output: str | None = None) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")  # one writer at a time: the whole file is the lock
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def claim_sql(self) -> str:
        return ("UPDATE build_job SET state = 'building', attempts = attempts + 1, lease_until = {lease},"
                " claimed_by = %s WHERE id = (SELECT id FROM build_job WHERE state = 'queued'"
                " OR (state = 'building' AND lease_until < {now}) ORDER BY id LIMIT 1)"
                " RETURNING id, folder, output, label, attempts")


class PostgresJobs(JobStore):
    """Jobs in PostgreSQL (migrated on open): workers on any number of machines."""

    now = POSTGRES.now

    def __init__(self, url: str, connect_timeout: float = 10.0) -> None:
        import psycopg

        from pacspdf.delivery.store.postgres import redacted, upgrade

        self.transient = (psycopg.OperationalError,)
        self.where = redacted(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
            upgrade(self.conn)
        except psycopg.Error as exc:
            text = str(exc).strip()
            raise StoreError(f"{self.where}: cannot use it as the build queue "
                             f"({text.splitlines()[0] if text else type(exc).__name__})") from None

    def lease(self) -> str:
        return "now() + make_interval(secs => %s)"

    @contextlib.contextmanager
    def transaction(self, output: str | None = None) -> Iterator[None]:
        with self.conn.transaction():
            if output is not None:  # every change to one output's rows, one at a time
                key = int.from_bytes(hashlib.sha256(b"build_job\0" + output.encode()).digest()[:8], "big",
                                     signed=True)
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            yield

    def claim_sql(self) -> str:
        return ("WITH c AS (SELECT id FROM build_job WHERE state = 'queued'"
                " OR (state = 'building' AND lease_until < now()) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                " UPDATE build_job b SET state = 'building', attempts = b.attempts + 1,"
                " lease_until = {lease}, claimed_by = %s FROM c WHERE b.id = c.id"
                " RETURNING b.id, b.folder, b.output, b.label, b.attempts")


def open_store(target: str | Path) -> JobStore:
    """The job store ``target`` names: a ``postgresql://`` URL, else a SQLite file."""
    if is_database_url(target):
        return PostgresJobs(database_url(target))
    return SqliteJobs(Path(target))
