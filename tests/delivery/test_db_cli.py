"""`pacspdf db upgrade`: the schema migrations applied explicitly, on either store; bad targets exit 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from pacspdf.cli import main
from pacspdf.delivery.outbox import NewEntry, Outbox, State
from pacspdf.delivery.store.postgres import MIGRATIONS, SCHEMA_VERSION
from pacspdf.delivery.store.schema import CLAIM_COLUMNS, OUTBOX, SQLITE, render
from pacspdf.delivery.store.sqlite import SCHEMA_VERSION as SQLITE_VERSION
from pg_server import PgServer


def test_upgrade_applies_each_migration_once_on_postgresql(postgres: PgServer,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh database gets every version, in order; a second run has nothing left to do."""
    url = postgres.new_database()
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    versions = ", ".join(str(v) for v in range(1, SCHEMA_VERSION + 1))
    assert out == f"{url}: schema 0 -> {SCHEMA_VERSION} (applied {versions})\n"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert capsys.readouterr().out == f"{url}: schema {SCHEMA_VERSION}, up to date\n"
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM pacspdf_schema ORDER BY version").fetchall()
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"outbox", "web_request", "web_mail", "web_counter"} <= tables


def test_upgrade_reads_the_url_from_the_environment(postgres: PgServer, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = postgres.new_database()
    monkeypatch.setenv("PACSPDF_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.startswith(f"{url}: schema 0 -> {SCHEMA_VERSION}")


def test_a_newer_schema_is_refused_not_downgraded(postgres: PgServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A database written by a newer pacspdf: exit 2 with one line, nothing changed."""
    url = postgres.new_database()
    Outbox(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO pacspdf_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    assert main(["outbox", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"newer pacspdf (schema {SCHEMA_VERSION + 1})" in err


def test_unreachable_server_and_password_are_one_line_without_the_secret(
        capsys: pytest.CaptureFixture[str]) -> None:
    """No server at the URL: exit 2, one line naming it, the password replaced by ***."""
    assert main(["db", "upgrade", "--db", "postgresql://pacspdf:s3cret@127.0.0.1:1/nothing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect" in err
    assert "s3cret" not in err and "pacspdf:***@127.0.0.1:1/nothing" in err


def test_upgrade_of_a_sqlite_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "o.db"
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    assert capsys.readouterr().out == f"{db}: schema {SQLITE_VERSION}, up to date\n"
    with Outbox(db) as ob:
        assert ob.all() == []


def test_a_postgresql_outbox_of_schema_3_gains_claim_tokens(postgres: PgServer,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An outbox made before claims carried tokens (schema 3) is brought up by the deltas alone; a row
    it left `sending` is claimable and recordable after the upgrade."""
    url = postgres.new_database()
    with Outbox(url) as ob:
        ob.record([NewEntry(key="k", report_slug="pacs", report_dir="/r", transport="file")])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE outbox DROP COLUMN claim_token")
        conn.execute("UPDATE outbox SET state = 'sending', claimed_by = 'oldhost:1'")
        conn.execute("DROP INDEX build_job_output")              # added by a later version too
        conn.execute("DELETE FROM pacspdf_schema WHERE version > 3")
    assert main(["db", "upgrade", "--db", url]) == 0
    later = [v for v, _ in MIGRATIONS if v > 3]
    applied = ", ".join(map(str, later))
    assert capsys.readouterr().out.endswith(f"schema 3 -> {SCHEMA_VERSION} (applied {applied})\n")
    assert later[0] == 4
    with Outbox(url) as ob:
        assert ob.claim("k", "t") is not None      # no lease: the old sender's claim does not hold
        assert ob.mark_sent("k", "250 OK").state is State.SENT


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_sqlite_outbox_is_migrated_keeping_its_rows(tmp_path: Path, version: int,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Schema 1 (before the web states) and 2 (before claims) become 3 (`db upgrade`, as any open does)
    with every row kept; a row an old run left `sending` (no lease) is claimable at once."""
    db = tmp_path / "old.db"
    lines = [line for line in render(OUTBOX, SQLITE).split(";")[0].splitlines()
             if not line.strip().startswith(CLAIM_COLUMNS)]       # the table as it was before claims
    ddl = "\n".join(lines).replace("sent_at       TEXT,", "sent_at       TEXT")
    if version == 1:
        ddl = ddl.replace(", 'unconfirmed', 'refused'", "")
    con = sqlite3.connect(db)
    con.execute(ddl)
    con.execute("INSERT INTO outbox (key, state, report_slug, report_dir, transport, email, created_at,"
                " updated_at) VALUES ('k', 'sending', 'pacs', '/r', 'file', 'a@example.com', 't', 't')")
    con.execute(f"PRAGMA user_version={version}")
    con.commit()
    con.close()
    assert main(["db", "upgrade", "--db", str(db)]) == 0
    applied = ", ".join(str(v) for v in range(version + 1, SQLITE_VERSION + 1))
    assert capsys.readouterr().out == f"{db}: schema {version} -> {SQLITE_VERSION} (applied {applied})\n"
    with Outbox(db) as ob:
        [row] = ob.all()
        assert (row.key, row.state, row.email) == ("k", State.SENDING, "a@example.com")
        assert ob.claim("k", "t") is not None
        assert ob.mark_sent("k", "250 OK").state is State.SENT
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SQLITE_VERSION
    assert [r[1] for r in con.execute("PRAGMA table_info(outbox)")][-3:] == list(CLAIM_COLUMNS)
    con.close()
