"""Turn the names ``send``, ``retry``, the web intake and the CLI import into the outbox stores.

The outbox itself lives in :mod:`pacspdf.delivery.store`: the interface and shared rows in
``store/interface.py``, the tables in ``store/schema.py``, claims in ``store/claims.py``,
``--db`` values in ``store/target.py``, the SQLite file in ``store/sqlite.py`` and
PostgreSQL in ``store/postgres.py``. ``Outbox(target)`` opens whichever store ``target`` names.
"""

from __future__ import annotations

from pathlib import Path

from pacspdf.delivery.settings import DEFAULT_DB
from pacspdf.delivery.store.claims import DEFAULT_LEASE, LEASE_ENV, LeaseLost
from pacspdf.delivery.store.interface import (
    DATABASE_URL_ENV,
    PENDING,
    Entry,
    NewEntry,
    Outbox,
    OutboxError,
    State,
    is_database_url,
    message_id_for,
    new_copy_id,
    now_utc,
)
from pacspdf.delivery.store.sqlite import SCHEMA_VERSION, SqliteOutbox
from pacspdf.delivery.store.sqlite import is_writable as _file_is_writable
from pacspdf.delivery.store.target import PostgresTarget, SqliteTarget, Target, parse_target

__all__ = ["DATABASE_URL_ENV", "DEFAULT_LEASE", "LEASE_ENV", "PENDING", "SCHEMA_VERSION", "Entry",
           "LeaseLost", "NewEntry", "Outbox", "OutboxError", "PostgresTarget", "SqliteOutbox",
           "SqliteTarget", "State", "Target", "files_dir", "is_database_url", "is_writable",
           "message_id_for", "new_copy_id", "now_utc", "parse_target"]


def is_writable(target: Path | str | Target) -> bool:
    """Whether this process may write the outbox: a file's own permission; for a server, its grants decide."""
    parsed = parse_target(target)
    if isinstance(parsed, PostgresTarget):
        return True
    return _file_is_writable(parsed.path)


def files_dir(target: Path | str | Target) -> Path:
    """Where the file transport writes: ``outbox/`` beside a SQLite file, else ``out/outbox/``."""
    parsed = parse_target(target)
    base = parsed.path.parent if isinstance(parsed, SqliteTarget) else DEFAULT_DB.parent
    return base / "outbox"
