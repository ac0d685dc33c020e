"""Turn a path into an open SQLite outbox connection: created 0600, checked, migrated, or opened read-only.

Schema versions (``PRAGMA user_version``): 1, the first outbox; 2, the web intake's states
``unconfirmed`` and ``refused`` join the state CHECK (SQLite rebuilds the table for that);
3, the claim columns ``lease_until``, ``claimed_by`` and ``claim_token``. The current tables
come from :mod:`pacspdf.delivery.store.schema`, like PostgreSQL's.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.parse
from pathlib import Path

from pacspdf.delivery.store.interface import State
from pacspdf.delivery.store.schema import OUTBOX_COLUMNS, SQLITE, create_script, statements
from pacspdf.errors import UsageError

SCHEMA_VERSION = 3  # 2: the web intake's states; 3: claims with leases


def explain(exc: sqlite3.Error) -> str:
    """A SQLite error as a reason a person can act on."""
    text = str(exc)
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"the database is damaged ({text}); move it aside and restore a backup"
    if "readonly" in text or "read-only" in text:
        return f"the database is read-only ({text})"
    if "locked" in text or "busy" in text:
        return f"the database is busy, another process holds it ({text})"
    if "disk" in text and "full" in text:
        return f"the disk is full ({text})"
    return text


def private_file(path: Path) -> None:
    """Create ``path`` 0600 if missing; take group and other bits off one we own (names, emails)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    real = Path(os.path.realpath(path))  # SQLite names its side files after the resolved path
    for p in (real, *(real.with_name(real.name + s) for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(OSError):
            st = p.stat()
            if st.st_mode & 0o077 and st.st_uid == os.geteuid():
                p.chmod(0o600)


def is_writable(path: Path) -> bool:
    """Whether this process may write the file (root included: an immutable file says no)."""
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError:
        return False
    return True


def open_writable(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """The outbox file at ``path`` opened for sending (created and migrated as needed), WAL mode."""
    if path.exists() and not is_writable(path):
        raise UsageError(f"{path}: the outbox database is read-only, so nothing sent could be "
                         "recorded (`pacspdf outbox` can still show it)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UsageError(f"{path}: cannot open the outbox database ({reason})") from None
    try:
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}").fetchall()
        db.execute("PRAGMA journal_mode=WAL").fetchall()
        # Commits reach the WAL at once; Outbox.sync() makes them durable against power loss.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA wal_autocheckpoint=0").fetchall()  # checkpoints only in sync()
        _upgrade(db, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise UsageError(f"{path}: cannot use it as the outbox: {explain(exc)}") from None
    except UsageError:
        db.close()
        raise
    private_file(path)  # -wal and -shm now exist; SQLite gives them the file's mode
    return db


def open_readonly(path: Path) -> sqlite3.Connection:
    """The outbox at ``path`` for reading only, also when the file or its file system is read-only."""
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    last: sqlite3.Error | None = None
    # mode=ro reads the WAL too; immutable=1 is for a file nobody may write (no -shm possible)
    for suffix in ("?mode=ro", "?mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(uri + suffix, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            version = check_version(db, path)
            check_columns(db, path, version)
            return db
        except sqlite3.Error as exc:
            db.close()
            last = exc
        except UsageError:
            db.close()
            raise
    raise UsageError(f"{path}: cannot read the outbox database: {explain(last) if last else 'unknown error'}")


def check_version(db: sqlite3.Connection, path: Path) -> int:
    version = int(db.execute("PRAGMA user_version").fetchall()[0][0])
    if version > SCHEMA_VERSION:
        raise UsageError(f"{path}: outbox written by a newer pacspdf (schema {version})")
    return version


def check_columns(db: sqlite3.Connection, path: Path, version: int = SCHEMA_VERSION) -> None:
    """Refuse a file whose outbox table is not ours (or holds a state no pacspdf wrote)."""
    found = tuple(r[1] for r in db.execute("PRAGMA table_info(outbox)"))
    expected = OUTBOX_COLUMNS if version >= 3 else OUTBOX_COLUMNS[: -3]
    if found != expected:
        raise UsageError(f"{path}: not a pacspdf outbox (its outbox table has other columns)")
    known = ", ".join(repr(s.value) for s in State)
    odd = db.execute(f"SELECT state FROM outbox WHERE state NOT IN ({known}) LIMIT 1").fetchone()
    if odd is not None:
        raise UsageError(f"{path}: damaged outbox: a row has the unknown state {odd[0]!r}")


def _upgrade(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables in a new file, or bring an older outbox to :data:`SCHEMA_VERSION`."""
    version = check_version(db, path)
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").fetchall()
    if not exists:
        db.executescript(create_script(SQLITE, "outbox"))
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        check_columns(db, path)
        return
    check_columns(db, path, version)  # before writing anything into a file that is not ours
    if version == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if version < 2:  # the state CHECK gains the web states: a rebuild (which adds 3's columns too)
            old = OUTBOX_COLUMNS[: -3]
            db.execute("ALTER TABLE outbox RENAME TO outbox_v1")
            db.execute("DROP INDEX IF EXISTS outbox_state")
            create_table, create_index = statements(create_script(SQLITE, "outbox"))
            db.execute(create_table)
            db.execute(f"INSERT INTO outbox ({', '.join(old)}) SELECT {', '.join(old)} FROM outbox_v1")
            db.execute("DROP TABLE outbox_v1")
            db.execute(create_index)
        else:  # 2 -> 3: the claim columns
            db.execute(f"ALTER TABLE outbox ADD COLUMN lease_until {SQLITE.instant}")
            db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT ''")
            db.execute("ALTER TABLE outbox ADD COLUMN claim_token TEXT NOT NULL DEFAULT ''")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
