"""Turn ``pacspdf db upgrade`` into the outbox's schema migrations, applied explicitly."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pacspdf.delivery.escape import visible
from pacspdf.delivery.settings import DB_HELP, default_db


def add_parsers(subparsers: Any) -> None:
    """Register ``db upgrade`` on the CLI's subparsers."""
    p = subparsers.add_parser("db", help="manage the outbox database (schema migrations)",
                              description="Manage the outbox database. Migrations are also applied "
                                          "when any command opens it.")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    u = sub.add_parser("upgrade", help="apply the schema migrations this pacspdf knows")
    u.add_argument("--db", default=None,
                   help=DB_HELP)
    u.set_defaults(func=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from pacspdf.delivery.store.postgres import SCHEMA_VERSION as PG_VERSION
    from pacspdf.delivery.store.postgres import connect, schema_version, upgrade
    from pacspdf.delivery.store.sqlite import SCHEMA_VERSION as SQLITE_VERSION
    from pacspdf.delivery.store.sqlite import SqliteOutbox
    from pacspdf.delivery.store.target import PostgresTarget, parse_target

    target = parse_target(args.db or default_db())
    if isinstance(target, PostgresTarget):
        with connect(target) as conn:
            before = schema_version(conn)
            applied = upgrade(conn)
        now = PG_VERSION
    else:
        before = _file_version(target.path)
        SqliteOutbox(target).close()  # opening it migrates it, as every command does
        now = SQLITE_VERSION
        applied = list(range(before + 1, now + 1)) if 0 < before < now else []
    where = visible(target.display)  # never the password
    if applied:
        print(f"{where}: schema {before} -> {now} (applied {', '.join(map(str, applied))})")
    else:
        print(f"{where}: schema {now}, up to date")
    return 0


def _file_version(path: Path) -> int:
    """The schema version of an existing SQLite outbox (0 for none, or one that cannot be read)."""
    import sqlite3

    if not path.is_file():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0  # opening it below says what is wrong
