"""`pacspdf db upgrade`: the schema migrations applied explicitly, on either store; bad targets exit 2."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pacspdf.cli import main
from pacspdf.delivery.outbox import Outbox
from pacspdf.delivery.store.postgres import MIGRATIONS, SCHEMA_VERSION
from pg_server import PgServer


def test_upgrade_applies_each_migration_once_on_postgresql(postgres: PgServer,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh database gets every version, in order; a second run has nothing left to do."""
    url = postgres.new_database()
    assert main(["db", "upgrade", "--db", url]) == 0
    out = capsys.readouterr().out
    versions = ", ".join(str(v) for v, _ in MIGRATIONS)
    assert out == f"{url}: schema 0 -> {SCHEMA_VERSION} (applied {versions})\n"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert capsys.readouterr().out == f"{url}: schema {SCHEMA_VERSION}, up to date\n"
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM pacspdf_schema ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [v for v, _ in MIGRATIONS]
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
    assert capsys.readouterr().out == f"{db}: schema 2, up to date\n"
    with Outbox(db) as ob:
        assert ob.all() == []
