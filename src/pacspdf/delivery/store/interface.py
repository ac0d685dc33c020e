"""Turn an outbox target (a SQLite path or a postgresql:// URL) into one outbox interface.

The rows, states and keys every store shares live here, with :class:`Outbox`, the abstract
outbox that ``send``, ``outbox retry``, the web intake and its worker use. ``Outbox(target)``
opens the store the target names (:func:`~pacspdf.delivery.store.target.parse_target`), like
:class:`pathlib.Path` picks its flavour: a ``postgresql://`` (or ``postgres://``) URL opens
:class:`~pacspdf.delivery.store.postgres.PostgresOutbox`, anything else the SQLite file
:class:`~pacspdf.delivery.store.sqlite.SqliteOutbox`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pacspdf.delivery.settings import DATABASE_URL_ENV as DATABASE_URL_ENV  # re-exported by the store
from pacspdf.delivery.store.claims import DEFAULT_LEASE
from pacspdf.delivery.store.claims import LeaseLost as LeaseLost  # re-exported by the store
from pacspdf.delivery.store.target import PostgresTarget, SqliteTarget, Target, parse_target
from pacspdf.delivery.store.target import is_database_url as is_database_url  # re-exported
from pacspdf.errors import PacspdfError


class State(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"  # a web request waiting for its confirmation click
    REFUSED = "refused"          # a web request turned away (limits, honeypot, ...), with the reason


PENDING = (State.QUEUED, State.SENDING)

COLUMNS = ("id", "key", "state", "reason", "attempts", "report_slug", "report_dir", "transport",
           "source", "row", "enquiry_id", "email", "name", "company", "job_title", "country",
           "message", "message_id", "copy_id", "prepared_at", "warnings", "server_reply",
           "created_at", "updated_at", "sent_at")


def now_utc() -> str:
    """The current time as ISO 8601 UTC to the microsecond (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_copy_id() -> str:
    """A random per-copy identifier, short enough to read out: ``XXXX-XXXX-XXXX`` (base32)."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()[:12]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of the mail for ``key``: the same on every attempt, after any crash."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]  # 96 bits; short, so the header never folds
    return f"<{digest}@{domain}>"


def state_of(value: str) -> State:
    """A stored state; one no pacspdf wrote is reported as a damaged database."""
    try:
        return State(value)
    except ValueError:
        raise sqlite3.DatabaseError(f"a row has the unknown state {value!r}") from None


def database_url(target: object) -> str:
    """The URL in ``target`` (a :class:`PostgresTarget`, a URL string, or one folded by ``Path()``)."""
    parsed = parse_target(target if isinstance(target, str | Path | PostgresTarget | SqliteTarget)
                          else str(target))
    if not isinstance(parsed, PostgresTarget):
        raise ValueError("not a postgresql:// URL")
    return parsed.url


@dataclass(frozen=True)
class Entry:
    """One row of the outbox."""

    id: int
    key: str
    state: State
    reason: str
    attempts: int
    report_slug: str
    report_dir: str
    transport: str
    source: str
    row: int
    enquiry_id: str
    email: str
    name: str
    company: str
    job_title: str
    country: str
    message: str
    message_id: str
    copy_id: str
    prepared_at: str | None
    warnings: str
    server_reply: str
    created_at: str
    updated_at: str
    sent_at: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Entry:
        values = dict(zip(COLUMNS, row, strict=True))
        values["state"] = state_of(values["state"])
        return cls(**values)

    @property
    def where(self) -> str:
        if self.source and self.row:
            return f"{self.source}:{self.row}"
        return self.enquiry_id or self.email or self.key


@dataclass(frozen=True)
class NewEntry:
    """What the outbox needs to know to record an enquiry (or a rejected row)."""

    key: str
    report_slug: str
    report_dir: str
    transport: str
    message_id: str = ""
    source: str = ""
    row: int = 0
    enquiry_id: str = ""
    email: str = ""
    name: str = ""
    company: str = ""
    job_title: str = ""
    country: str = ""
    message: str = ""
    state: State = State.QUEUED
    reason: str = ""


class OutboxError(PacspdfError):
    """The outbox database cannot be used or written (damaged, read-only, locked, or changed under us)."""


_STORES = {False: ("pacspdf.delivery.store.sqlite", "SqliteOutbox"),
           True: ("pacspdf.delivery.store.postgres", "PostgresOutbox")}


def _done() -> None:
    """The wait for a sync that has already happened."""


class Outbox:
    """The delivery record: one row per idempotency key, each state change its own commit.

    ``Outbox(target, create=True, readonly=False, busy_timeout=10.0)`` opens the store
    ``target`` names (see the module docstring); both stores take the same arguments and
    implement every method below (a method a store lacks raises :class:`NotImplementedError`
    naming it). Not an ``abc.ABC``: ``Outbox(...)`` itself must stay callable.

    **Claims.** Any number of senders, in any processes on any hosts, may work on one outbox
    at once. A sender *claims* a row before it sends it (:meth:`claim`, :meth:`claim_next`):
    the row becomes ``sending`` with a lease (``lease_until``), the sender's name
    (``claimed_by``) and a fresh claim token, in one atomic statement, so no two senders ever
    hold one row. Every outcome (:meth:`mark_sent`, :meth:`mark_queued`, :meth:`mark_failed`,
    :meth:`mark_rejected`, :meth:`note_failure`, :meth:`set_warnings`) is written only while
    this outbox still holds that token; once another sender took the row over (the lease ran
    out), they raise :class:`LeaseLost` and write nothing. A row held by a sender that is
    provably gone (its process ended on this machine, its outbox closed) is claimable at once;
    any other holder's row when its lease runs out.
    """

    target: Target
    path: Path
    readonly: bool

    def __new__(cls, target: Path | str | Target, *args: Any, **kwargs: Any) -> Outbox:
        if cls is Outbox:  # by name: the stores import this module, not the other way round
            module, name = _STORES[isinstance(parse_target(target), PostgresTarget)]
            store: type[Outbox] = getattr(importlib.import_module(module), name)
            return super().__new__(store)
        return super().__new__(cls)

    def __init__(self, target: Path | str | Target, *, create: bool = True, readonly: bool = False,
                 busy_timeout: float = 10.0) -> None:
        """Each store opens its own kind of target; this signature is what callers may pass."""

    @property
    def where(self) -> str:
        """The target as it may be printed (a URL without its password)."""
        return self.target.display

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        raise NotImplementedError(f"{type(self).__name__}.close")

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def writable(self) -> bool:
        """Whether sends could record anything here."""
        raise NotImplementedError(f"{type(self).__name__}.writable")

    # ------------------------------------------------------------------ writing

    def record(self, entries: Iterable[NewEntry]) -> list[tuple[Entry, bool]]:
        """Insert each entry unless its key is already there; return (entry, newly recorded)."""
        raise NotImplementedError(f"{type(self).__name__}.record")

    def claim(self, key: str, prepared_at: str, *, lease_seconds: float = DEFAULT_LEASE) -> Entry | None:
        """Claim the entry for this sender (``sending``, one more attempt, a fresh lease); None if it
        cannot be claimed: sent, failed, or held by a sender that is alive and within its lease.

        A row this outbox already holds is claimed again (the next try): its lease is renewed.
        ``prepared_at`` is kept from the first claim on (the copy's date, the Date header).
        """
        raise NotImplementedError(f"{type(self).__name__}.claim")

    def claim_queued(self, key: str, prepared_at: str, *,
                     lease_seconds: float = DEFAULT_LEASE) -> Entry | None:
        """:meth:`claim` for the usual case, in one statement: the entry claimed if it is ``queued``
        now, else None (whatever it is: sent, held, gone; the caller reads it and uses :meth:`claim`)."""
        raise NotImplementedError(f"{type(self).__name__}.claim_queued")

    def claim_next(self, prepared_at: str, *, lease_seconds: float = DEFAULT_LEASE,
                   after_id: int = 0) -> Entry | None:
        """Claim the oldest claimable row above ``after_id`` (``queued``, or ``sending`` whose holder
        is gone or out of lease), or None; two senders never get the same row."""
        raise NotImplementedError(f"{type(self).__name__}.claim_next")

    def holder(self, key: str) -> str:
        """Who holds the entry's claim and until when, for messages ('' when no one does)."""
        raise NotImplementedError(f"{type(self).__name__}.holder")

    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance (committed before this returns), if the claim is still ours."""
        raise NotImplementedError(f"{type(self).__name__}.mark_sent")

    def mark_sent_many(self, replies: Sequence[tuple[str, str]]) -> list[Entry | LeaseLost]:
        """Record several acceptances (``(key, server reply)`` pairs) in one transaction, each only if
        its claim is still ours: per pair the entry, or the :class:`LeaseLost` that says who holds it.
        Committed when this returns (durable against power loss after :meth:`sync`)."""
        raise NotImplementedError(f"{type(self).__name__}.mark_sent_many")

    def sync(self) -> None:
        """Make every commit so far durable against power loss."""
        raise NotImplementedError(f"{type(self).__name__}.sync")

    def begin_sync(self) -> Callable[[], None]:
        """Start what :meth:`sync` does and return the wait for it (which raises what ``sync`` would).

        Meanwhile this outbox may be used as usual; the next ``sync``/``begin_sync`` waits for
        this one first. Stores whose commits are durable when they return need do nothing.
        """
        self.sync()
        return _done

    def confirm(self, key: str) -> Entry | None:
        """An ``unconfirmed`` entry becomes ``queued``; None if it was not unconfirmed."""
        raise NotImplementedError(f"{type(self).__name__}.confirm")

    def expire_unconfirmed(self, before: str, reason: str) -> int:
        """``unconfirmed`` entries created before ``before`` become ``refused`` with ``reason``."""
        raise NotImplementedError(f"{type(self).__name__}.expire_unconfirmed")

    def mark_queued(self, key: str, reason: str) -> Entry:
        """A temporary failure: back to ``queued`` with the reason (the claim ends), for a later retry."""
        raise NotImplementedError(f"{type(self).__name__}.mark_queued")

    def note_failure(self, key: str, reason: str) -> Entry:
        """A try failed and another follows in this run: keep the claim, record the reason."""
        raise NotImplementedError(f"{type(self).__name__}.note_failure")

    def mark_failed(self, key: str, reason: str) -> Entry:
        raise NotImplementedError(f"{type(self).__name__}.mark_failed")

    def mark_rejected(self, key: str, reason: str) -> Entry:
        raise NotImplementedError(f"{type(self).__name__}.mark_rejected")

    def note_queued(self, reasons: Iterable[tuple[str, str]]) -> None:
        """Record why rows still ``queued`` were not attempted (``(key, reason)`` pairs)."""
        raise NotImplementedError(f"{type(self).__name__}.note_queued")

    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        raise NotImplementedError(f"{type(self).__name__}.set_warnings")

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> Entry | None:
        raise NotImplementedError(f"{type(self).__name__}.get")

    def pending(self) -> list[Entry]:
        """Entries still to send (``queued``, or ``sending``: claimed now, or left by a run that stopped)."""
        raise NotImplementedError(f"{type(self).__name__}.pending")

    def pending_page(self, after_id: int = 0, limit: int = 500) -> list[Entry]:
        """Up to ``limit`` entries still to send whose id is above ``after_id``, by id (a keyset page).

        Paging by id lets a caller walk every pending row with flat memory while it changes
        their states: a row sent, or queued again after a failure, is never met twice.
        """
        raise NotImplementedError(f"{type(self).__name__}.pending_page")

    def count_pending(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}.count_pending")

    def counts(self) -> dict[State, int]:
        raise NotImplementedError(f"{type(self).__name__}.counts")

    def recent(self, states: Iterable[State], limit: int = 10) -> list[Entry]:
        """The last ``limit`` entries in ``states``, newest first."""
        raise NotImplementedError(f"{type(self).__name__}.recent")

    def all(self) -> list[Entry]:
        raise NotImplementedError(f"{type(self).__name__}.all")
