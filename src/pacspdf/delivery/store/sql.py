"""Turn the outbox's operations into SQL once, for both stores: one text per statement, ``?`` placeholders.

The statements SQLite and PostgreSQL share are written here with ``?``; a store names its
driver's placeholder (:attr:`SqlOutbox.placeholder`: ``?`` for sqlite3, ``%s`` for psycopg),
how it opens a write transaction (:meth:`SqlOutbox._transaction`) and which of its driver's
errors become an :class:`OutboxError` (:meth:`SqlOutbox._driver_error`). What differs in
substance (claims and their locking, leases on whose clock, durability, reading a lease's
end) stays in each store.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from pacspdf.delivery.store import claims
from pacspdf.delivery.store.interface import (
    COLUMNS,
    Entry,
    NewEntry,
    Outbox,
    OutboxError,
    State,
    new_copy_id,
    now_utc,
)

_SELECT = ", ".join(COLUMNS)
_NOT_A_TOKEN = "!"  # never a stored token (those are hex): a claim this outbox does not hold

_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound="SqlOutbox")


def guarded(method: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Turn the store's driver failures inside ``method`` into an :class:`OutboxError` naming the outbox."""

    @functools.wraps(method)
    def run(self: _S, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            reason = self._driver_error(exc)
            if reason is None:
                raise
            raise OutboxError(f"{self.where}: {reason}") from None

    return run  # type: ignore[return-value]  # wraps() returns _Wrapped, called just like `method`


@functools.cache
def _converted(sql: str, placeholder: str) -> str:
    return sql if placeholder == "?" else sql.replace("?", placeholder)


class SqlOutbox(Outbox):
    """The outbox operations both SQL stores run alike; see the module docstring for the hooks."""

    placeholder = "?"
    _db: Any                   # the driver's connection
    _claims: dict[str, str]    # key -> token of each row this outbox holds

    # ------------------------------------------------------------------ what a store provides

    def _driver_error(self, exc: Exception) -> str | None:
        """The message for a driver failure (it becomes an OutboxError), None for anything else."""
        raise NotImplementedError(f"{type(self).__name__}._driver_error")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, committed when the block ends, rolled back if it raises."""
        raise NotImplementedError(f"{type(self).__name__}._transaction")
        yield  # pragma: no cover

    def _run(self, sql: str, params: Sequence[object] = ()) -> Any:
        """Execute ``sql`` (written with ``?``) with ``params``; the driver's cursor."""
        return self._db.execute(_converted(sql, self.placeholder), params)

    # ------------------------------------------------------------------ writing

    @guarded
    def record(self, entries: Iterable[NewEntry]) -> list[tuple[Entry, bool]]:
        """Insert each entry unless its key is already there; return (entry, newly recorded), one commit."""
        out: list[tuple[Entry, bool]] = []
        now = now_utc()
        with self._transaction():
            for e in entries:
                inserted = self._run(
                    "INSERT INTO outbox (key, state, reason, report_slug, report_dir, transport, source,"
                    " row, enquiry_id, email, name, company, job_title, country, message, message_id,"
                    " copy_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    f" ON CONFLICT (key) DO NOTHING RETURNING {_SELECT}",
                    (e.key, e.state.value, e.reason, e.report_slug, e.report_dir, e.transport, e.source,
                     e.row, e.enquiry_id, e.email, e.name, e.company, e.job_title, e.country, e.message,
                     e.message_id, new_copy_id() if e.state is State.QUEUED else "", now, now)).fetchall()
                entry = Entry.from_row(inserted[0]) if inserted else self._get(e.key)  # none: it was there
                assert entry is not None
                out.append((entry, bool(inserted)))
        self.sync()
        return out

    @guarded
    def mark_sent(self, key: str, server_reply: str, *, durable: bool = True) -> Entry:
        """Record the server's acceptance, committed when this returns; with ``durable`` also
        :meth:`sync`\\ ed (a store whose commits are durable at once has nothing more to do)."""
        entry = self._owned(key, "state = 'sent', reason = '', server_reply = ?, sent_at = ?",
                            server_reply, now_utc())
        if durable:
            self.sync()
        return entry

    @guarded
    def mark_sent_many(self, replies: Sequence[tuple[str, str]]) -> list[Entry | claims.LeaseLost]:
        """Record several acceptances in one transaction (see :meth:`Outbox.mark_sent_many`); not synced."""
        out: list[Entry | claims.LeaseLost] = []
        held = {key: self._claims[key] for key, _ in replies if key in self._claims}
        now = now_utc()
        try:
            with self._transaction():
                for key, reply in replies:
                    try:
                        out.append(self._owned(key, "state = 'sent', reason = '', server_reply = ?,"
                                                    " sent_at = ?", reply, now))
                    except claims.LeaseLost as lost:
                        out.append(lost)
        except BaseException:
            self._claims.update(held)  # nothing was written: the claims are still ours
            raise
        return out

    @guarded
    def confirm(self, key: str) -> Entry | None:
        """An ``unconfirmed`` entry becomes ``queued`` with its copy ID; None if it was not unconfirmed.

        The one conditional UPDATE is what makes a confirmation link single-use.
        """
        rows = self._run("UPDATE outbox SET state = 'queued', copy_id = ?, updated_at = ?"
                         f" WHERE key = ? AND state = 'unconfirmed' RETURNING {_SELECT}",
                         (new_copy_id(), now_utc(), key)).fetchall()
        if not rows:
            return None
        self.sync()
        return Entry.from_row(rows[0])

    @guarded
    def expire_unconfirmed(self, before: str, reason: str) -> int:
        """``unconfirmed`` entries created before ``before`` become ``refused`` with ``reason``."""
        cur = self._run("UPDATE outbox SET state = 'refused', reason = ?, updated_at = ?"
                        " WHERE state = 'unconfirmed' AND created_at < ?", (reason, now_utc(), before))
        if cur.rowcount:
            self.sync()
        return int(cur.rowcount)

    @guarded
    def mark_queued(self, key: str, reason: str) -> Entry:
        """A temporary failure: back to ``queued`` with the reason, for a later retry."""
        return self._leave(key, State.QUEUED, reason)

    @guarded
    def note_failure(self, key: str, reason: str) -> Entry:
        return self._owned(key, "reason = ?", reason, release=False)

    @guarded
    def mark_failed(self, key: str, reason: str) -> Entry:
        return self._leave(key, State.FAILED, reason)

    @guarded
    def mark_rejected(self, key: str, reason: str) -> Entry:
        return self._leave(key, State.REJECTED, reason)

    def _leave(self, key: str, state: State, reason: str) -> Entry:
        """The claimed row leaves ``sending`` for ``state`` with ``reason``: committed, then synced."""
        entry = self._owned(key, f"state = '{state.value}', reason = ?", reason)
        self.sync()
        return entry

    @guarded
    def note_queued(self, reasons: Iterable[tuple[str, str]]) -> None:
        """Record why rows still ``queued`` were not attempted (``(key, reason)`` pairs), in one commit."""
        now = now_utc()
        with self._transaction(), contextlib.closing(self._db.cursor()) as cur:
            cur.executemany(_converted("UPDATE outbox SET reason = ?, updated_at = ?"
                                       " WHERE key = ? AND state = 'queued'", self.placeholder),
                            [(reason, now, key) for key, reason in reasons])

    @guarded
    def set_warnings(self, key: str, warnings: Iterable[str]) -> None:
        self._owned(key, "warnings = ?", "\n".join(warnings), release=False)

    # ------------------------------------------------------------------ reading

    @guarded
    def get(self, key: str) -> Entry | None:
        return self._get(key)

    @guarded
    def pending(self) -> list[Entry]:
        rows = self._run(f"SELECT {_SELECT} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY id")
        return [Entry.from_row(r) for r in rows]

    @guarded
    def pending_page(self, after_id: int = 0, limit: int = 500) -> list[Entry]:
        rows = self._run(f"SELECT {_SELECT} FROM outbox WHERE state IN ('queued', 'sending') AND id > ?"
                         " ORDER BY id LIMIT ?", (after_id, limit))
        return [Entry.from_row(r) for r in rows]

    @guarded
    def count_pending(self) -> int:
        row = self._run("SELECT COUNT(*) FROM outbox WHERE state IN ('queued', 'sending')").fetchone()
        return int(row[0]) if row else 0

    @guarded
    def counts(self) -> dict[State, int]:
        counts: dict[State, int] = dict.fromkeys(State, 0)
        for state, n in self._run("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[self._state(state)] = int(n)
        return counts

    def _state(self, value: str) -> State:
        return State(value)

    @guarded
    def all(self) -> list[Entry]:
        return [Entry.from_row(r) for r in self._run(f"SELECT {_SELECT} FROM outbox ORDER BY id")]

    # ------------------------------------------------------------------ internals

    def _get(self, key: str) -> Entry | None:
        row = self._run(f"SELECT {_SELECT} FROM outbox WHERE key = ?", (key,)).fetchone()
        return Entry.from_row(row) if row else None

    def _owned(self, key: str, assignments: str, *params: object, release: bool = True) -> Entry:
        """Write ``assignments`` if this outbox still holds the row's claim; ``release`` ends the claim.

        RETURNING reads the row back in the same statement; ``fetchall()`` steps it to its end, so
        outside a transaction the UPDATE is committed before this returns.
        """
        token = self._claims.get(key, _NOT_A_TOKEN)
        ends = ", lease_until = NULL, claim_token = ''" if release else ""
        rows = self._run(f"UPDATE outbox SET {assignments}{ends}, updated_at = ?"
                         " WHERE key = ? AND state = 'sending' AND claim_token = ?"
                         f" RETURNING {_SELECT}", (*params, now_utc(), key, token)).fetchall()
        if rows:
            if release:
                self._claims.pop(key, None)
            return Entry.from_row(rows[0])
        self._claims.pop(key, None)
        entry = self._get(key)
        if entry is None:
            raise OutboxError(f"{self.where}: outbox entry {key!r} has gone (changed by another process)")
        nobody = f"no one: this sender does not hold it ({entry.state})"
        raise claims.LeaseLost(key, self.holder(key) or nobody)
