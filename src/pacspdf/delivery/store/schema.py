"""Turn the one description of pacspdf's tables into each database's DDL (the dialects differ in named words).

Every table is written here once, with ``{serial}``, ``{instant}``, ``{clock}``, ``{now}`` and
``{if_not_exists}`` where the two dialects differ (:class:`Dialect`). A new database gets the current tables
(:func:`create_script`) and is stamped with the newest version; an older one is brought up by
its store's deltas (``store/sqlite.py``, ``store/postgres.py``), which are small ``ALTER``
statements (or a table created from :data:`TABLES`: when a later version changes such a
table, freeze that delta's text in place).
"""

from __future__ import annotations

from dataclasses import dataclass

from pacspdf.delivery.store.interface import COLUMNS, State


@dataclass(frozen=True)
class Dialect:
    """The words in which the two databases differ."""

    name: str
    serial: str          # an auto-numbered primary key
    instant: str         # a point in time the database compares (a lease's end)
    clock: str           # a point in time the database's own clock wrote and compares (the build queue)
    now: str             # SQL for that clock's current time
    if_not_exists: str   # "IF NOT EXISTS " where a script may meet tables already there


#: SQLite has no time type: the build queue's clock is Unix seconds, REAL, so that times compare as numbers
SQLITE = Dialect("sqlite", serial="INTEGER PRIMARY KEY", instant="TEXT", clock="REAL",
                 now="((julianday('now') - 2440587.5) * 86400.0)", if_not_exists="IF NOT EXISTS ")
POSTGRES = Dialect("postgresql", serial="BIGSERIAL PRIMARY KEY", instant="TIMESTAMPTZ", clock="TIMESTAMPTZ",
                   now="now()", if_not_exists="")

_STATES = ", ".join(repr(s.value) for s in State)

#: the claim of a row (who holds it, until when, with which token), after the COLUMNS every Entry has
CLAIM_COLUMNS = ("lease_until", "claimed_by", "claim_token")

OUTBOX = f"""
CREATE TABLE {{if_not_exists}}outbox (
    id            {{serial}},
    key           TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL CHECK (state IN ({_STATES})),
    reason        TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    report_slug   TEXT    NOT NULL,
    report_dir    TEXT    NOT NULL,
    transport     TEXT    NOT NULL,
    source        TEXT    NOT NULL DEFAULT '',
    row           INTEGER NOT NULL DEFAULT 0,
    enquiry_id    TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    company       TEXT    NOT NULL DEFAULT '',
    job_title     TEXT    NOT NULL DEFAULT '',
    country       TEXT    NOT NULL DEFAULT '',
    message       TEXT    NOT NULL DEFAULT '',
    message_id    TEXT    NOT NULL DEFAULT '',
    copy_id       TEXT    NOT NULL DEFAULT '',
    prepared_at   TEXT,
    warnings      TEXT    NOT NULL DEFAULT '',
    server_reply  TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    sent_at       TEXT,
    lease_until   {{instant}},
    claimed_by    TEXT    NOT NULL DEFAULT '',
    claim_token   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX {{if_not_exists}}outbox_state ON outbox (state, updated_at);
"""

WEB = """
CREATE TABLE {if_not_exists}web_request (
    id                TEXT PRIMARY KEY,
    outbox_key        TEXT NOT NULL UNIQUE,
    kind              TEXT NOT NULL CHECK (kind IN ('sample', 'question')),
    report_slug       TEXT NOT NULL,
    marketing_consent INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    confirmed_at      TEXT
);
CREATE TABLE {if_not_exists}web_mail (
    id          {serial},
    request_id  TEXT NOT NULL REFERENCES web_request (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('confirm', 'sales')),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    transport   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    next_at     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (request_id, purpose)
);
CREATE INDEX {if_not_exists}web_mail_due ON web_mail (state, next_at);
CREATE TABLE {if_not_exists}web_counter (
    bucket TEXT NOT NULL,
    day    TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (bucket, day)
);
"""

#: a build job's states (pacspdf.buildqueue), in the order a job goes through them
BUILD_STATES = ("queued", "building", "built", "failed")

#: catalogue builds as jobs (pacspdf.buildqueue): in PostgreSQL, the one store many hosts share, or in
#: the outbox's SQLite file for workers on one machine
BUILD_JOB = f"""
CREATE TABLE {{if_not_exists}}build_job (
    id            {{serial}},
    content_hash  TEXT NOT NULL,
    output        TEXT NOT NULL DEFAULT '',
    folder        TEXT NOT NULL,
    label         TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ({", ".join(map(repr, BUILD_STATES))})),
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_until   {{clock}},
    claimed_by    TEXT NOT NULL DEFAULT '',
    result_path   TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    pages         INTEGER NOT NULL DEFAULT 0,
    seconds       DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at    {{clock}} NOT NULL DEFAULT {{now}},
    finished_at   {{clock}},
    UNIQUE (content_hash, output)
);
CREATE INDEX {{if_not_exists}}build_job_state ON build_job (state, id);
"""

#: the build queue's look-up of one output's jobs, newest first (added after BUILD_JOB first shipped)
BUILD_JOB_OUTPUT = """
CREATE INDEX {if_not_exists}build_job_output ON build_job (output, created_at);
"""

TABLES = {"outbox": OUTBOX, "web": WEB, "build_job": BUILD_JOB, "build_job_output": BUILD_JOB_OUTPUT}
OUTBOX_COLUMNS = (*COLUMNS, *CLAIM_COLUMNS)


def render(text: str, dialect: Dialect) -> str:
    """One table's DDL in ``dialect``."""
    return text.format(serial=dialect.serial, instant=dialect.instant, clock=dialect.clock, now=dialect.now,
                       if_not_exists=dialect.if_not_exists)


def create_script(dialect: Dialect, *parts: str) -> str:
    """The DDL of ``parts`` (names in :data:`TABLES`) in ``dialect``, as one script."""
    return "".join(render(TABLES[p], dialect) for p in parts)


def statements(script: str) -> list[str]:
    """A script's statements, one by one (for running them inside an open transaction)."""
    return [s.strip() for s in script.split(";") if s.strip()]
