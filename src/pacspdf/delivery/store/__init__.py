"""Turn an outbox target into its store: SQLite by default, PostgreSQL for a ``postgresql://`` URL."""

from pacspdf.delivery.store.claims import DEFAULT_LEASE, LeaseLost
from pacspdf.delivery.store.interface import (
    DATABASE_URL_ENV,
    PENDING,
    Entry,
    NewEntry,
    Outbox,
    OutboxError,
    State,
    database_url,
    is_database_url,
    message_id_for,
    new_copy_id,
    now_utc,
)
from pacspdf.delivery.store.target import PostgresTarget, SqliteTarget, Target, parse_target

__all__ = ["DATABASE_URL_ENV", "DEFAULT_LEASE", "PENDING", "Entry", "LeaseLost", "NewEntry", "Outbox",
           "OutboxError", "PostgresTarget", "SqliteTarget", "State", "Target", "database_url",
           "is_database_url", "message_id_for", "new_copy_id", "now_utc", "parse_target"]
