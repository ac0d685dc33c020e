"""Turn the names ``send``, ``retry``, the web intake and the CLI import into the outbox stores.

The outbox itself lives in :mod:`pacspdf.delivery.store`: the interface and shared rows in
``store/interface.py``, the SQLite file in ``store/sqlite.py`` and PostgreSQL in
``store/postgres.py``. ``Outbox(target)`` opens whichever store ``target`` names.
"""

from __future__ import annotations

from pathlib import Path

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

__all__ = ["DATABASE_URL_ENV", "PENDING", "SCHEMA_VERSION", "Entry", "NewEntry", "Outbox", "OutboxError",
           "SqliteOutbox", "State", "is_writable", "message_id_for", "new_copy_id", "now_utc"]


def is_writable(path: Path | str) -> bool:
    """Whether this process may write the outbox: a file's own permission; for a server, its grants decide."""
    if is_database_url(path):
        return True
    return _file_is_writable(Path(path))
