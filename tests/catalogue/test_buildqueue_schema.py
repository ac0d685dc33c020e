"""The build queue's table: one text for SQLite and PostgreSQL, shipped migrations frozen, old databases
brought up by a delta that keeps their jobs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from pacspdf.buildqueue.store import open_store
from pacspdf.cli import main
from pacspdf.delivery.store.postgres import MIGRATIONS, SCHEMA_VERSION
from pacspdf.delivery.store.schema import BUILD_JOB, POSTGRES, SQLITE, render
from pg_server import PgServer

#: migration 3 exactly as it shipped (2024f75): a database that applied it must never see another text
SHIPPED_MIGRATION_3 = """
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
"""


def test_a_shipped_migration_keeps_its_text() -> None:
    assert dict(MIGRATIONS)[3] == SHIPPED_MIGRATION_3


def sqlite_columns(db: Path) -> dict[str, str]:
    con = sqlite3.connect(db)
    try:
        return {r[1]: r[2] for r in con.execute("PRAGMA table_info(build_job)")}
    finally:
        con.close()


def test_sqlite_and_postgresql_tables_have_the_same_columns(tmp_path: Path, postgres: PgServer) -> None:
    """Both engines make the table from BUILD_JOB; only the words of the dialect differ (times are
    REAL Unix seconds in SQLite, so that leases compare as numbers)."""
    db = tmp_path / "q.db"
    open_store(db).close()
    url = postgres.new_database()
    open_store(url).close()
    with psycopg.connect(url) as conn:
        pg = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns"
                                         " WHERE table_name = 'build_job' ORDER BY ordinal_position")]
        indexes = {r[0] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'build_job'")}
    columns = sqlite_columns(db)
    assert list(columns) == pg
    assert {columns[c] for c in ("lease_until", "created_at", "finished_at")} == {"REAL"}
    assert {"build_job_state", "build_job_output"} <= indexes
    con = sqlite3.connect(db)
    assert {"build_job_state", "build_job_output"} <= {
        r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()


def test_sqlite_times_are_numbers_that_compare_with_the_clock(tmp_path: Path) -> None:
    """A job queued without an explicit time gets the dialect's clock: a REAL near time.time()."""
    import time

    db = tmp_path / "q.db"
    store = open_store(db)
    store.close()
    con = sqlite3.connect(db)
    con.execute("INSERT INTO build_job (content_hash, folder, label) VALUES ('k', '/f', 'x')")
    (created, kind), = con.execute("SELECT created_at, typeof(created_at) FROM build_job").fetchall()
    con.close()
    assert kind == "real" and abs(created - time.time()) < 60
    assert "REAL" in render(BUILD_JOB, SQLITE) and "REAL" not in render(BUILD_JOB, POSTGRES)


def test_a_postgresql_queue_of_schema_4_gains_the_output_index_keeping_its_jobs(
        postgres: PgServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres.new_database()
    store = open_store(url)
    assert store.add("hash-1", "/out/a.pdf", "/content/a", "a")
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX build_job_output")
        conn.execute("DELETE FROM pacspdf_schema WHERE version > 4")
    assert main(["db", "upgrade", "--db", url]) == 0
    later = [v for v, _ in MIGRATIONS if v > 4]
    assert capsys.readouterr().out.endswith(
        f"schema 4 -> {SCHEMA_VERSION} (applied {', '.join(map(str, later))})\n")
    store = open_store(url)
    try:
        assert store.counts() == {"queued": 1}
        assert not store.add("hash-1", "/out/a.pdf", "/content/a", "a")   # the same content: nothing new
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'build_job_output'").fetchone()
