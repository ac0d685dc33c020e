"""Turn an outbox target into its store: SQLite by default, PostgreSQL for a ``postgresql://`` URL."""

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

__all__ = ["DATABASE_URL_ENV", "PENDING", "Entry", "NewEntry", "Outbox", "OutboxError", "State",
           "database_url", "is_database_url", "message_id_for", "new_copy_id", "now_utc"]
