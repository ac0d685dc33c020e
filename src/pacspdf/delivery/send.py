"""Run a batch: record every row in the outbox, then personalise, build and send each pending one.

The order of each delivery is what makes it exactly-once as far as SMTP allows:

1. every row of the batch is recorded (``queued`` or ``rejected``) in one committed
   transaction before anything is sent;
2. just before a message goes out its row is marked ``sending`` (committed);
3. the transport hands it over; the moment the server answers 250 to the end of DATA the
   row is marked ``sent`` (committed) before anything else happens.

A run killed between the server's 250 and that commit leaves the row ``sending``; the next
run sends it again with the same Message-ID (and Date and copy ID). That gap, one SQLite
commit long, is the only place a duplicate can come from (see docs/delivery.md).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypedDict

from pacspdf.delivery.enquiries import Enquiry, RejectedRow, Row
from pacspdf.delivery.escape import visible
from pacspdf.delivery.message import (
    DEFAULT_MAX_ATTACHMENT,
    MailContext,
    MailTemplates,
    MessageRejected,
    build_message,
)
from pacspdf.delivery.outbox import Entry, NewEntry, Outbox, OutboxError, State, message_id_for, now_utc
from pacspdf.delivery.transport import DeliveryError, Transport, flush, sync_every
from pacspdf.errors import PacspdfError

log = logging.getLogger(__name__)


class PersonalCopyLike(Protocol):
    """What a personaliser returns: the PDF and anything the enquirer's data forced it to change."""

    @property
    def pdf(self) -> bytes: ...

    @property
    def warnings(self) -> Sequence[str]: ...


class Personaliser(Protocol):
    """Make the enquirer's copy of the report's sample (``date`` is ISO ``YYYY-MM-DD``)."""

    def __call__(self, enquiry: Enquiry, copy_id: str, date: str) -> PersonalCopyLike: ...


@dataclass(frozen=True)
class ReportBinding:
    """One report's mail context, templates and personaliser: all a batch needs to know of it."""

    context: MailContext
    templates: MailTemplates
    personaliser: Personaliser


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for temporary failures, within one run."""

    attempts: int = 4          # tries per message in one run (1 = no retry)
    first_delay: float = 2.0   # seconds before the second try
    factor: float = 2.0
    max_delay: float = 60.0

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after try number ``failed_attempt`` (1-based) failed."""
        return min(self.max_delay, self.first_delay * self.factor ** (failed_attempt - 1))


def _never() -> str:
    return ""


@dataclass(frozen=True)
class SendOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_attachment: int = DEFAULT_MAX_ATTACHMENT
    sleep: Callable[[float], None] = time.sleep
    #: the circuit breaker: this many temporary failures in a row (tries, across messages) stop
    #: the batch, leaving the rest queued; 8 is two messages' worth of the default retries.
    breaker: int = 8
    #: how hard to try recording "sent" after the server's 250 before stopping the batch
    commit_retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=6, first_delay=0.25,
                                                                          max_delay=4.0))
    #: asked before each message: a non-empty answer (e.g. "interrupted by SIGINT") ends the batch
    #: there, after the message in flight has been sent and recorded
    stop: Callable[[], str] = _never


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    QUEUED = "queued"
    FAILED = "failed"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    UNRECORDED = "sent, not recorded"


OK_OUTCOMES = frozenset({Outcome.SENT, Outcome.ALREADY_SENT})


@dataclass(frozen=True)
class RowResult:
    """What happened to one row (or one outbox entry, for a retry)."""

    where: str
    email: str
    outcome: Outcome
    detail: str = ""
    key: str = ""
    attempts: int = 0
    warnings: tuple[str, ...] = ()


@dataclass
class BatchReport:
    """Counts per outcome, and each row's result unless ``keep`` is off (a long streamed batch)."""

    results: list[RowResult] = field(default_factory=list)
    stopped: str = ""          # why the run stopped early (rows left queued), if it did
    keep: bool = True
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        if self.keep:
            self.results.append(result)

    def count(self, outcome: Outcome) -> int:
        return self.counts[outcome]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def exit_code(self) -> int:
        """0 when every row is delivered (now or before), else 1."""
        return 0 if all(n == 0 or o in OK_OUTCOMES for o, n in self.counts.items()) else 1


Progress = Callable[[int, int, RowResult], None]


class _Stop(Exception):
    """No further message can go through this transport in this run."""


class _Halt(Exception):
    """No further message may be sent in this run at all (interrupted, breaker open, outbox failing)."""

    def __init__(self, reason: str, result: RowResult | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result


# ---------------------------------------------------------------------------- public entry points


CHUNK = 500  # rows recorded per transaction before any of them is sent


def send_rows(rows: Iterable[Row], *, binding: ReportBinding, outbox: Outbox, transport: Transport,
              options: SendOptions | None = None, progress: Progress | None = None,
              total: int | None = None, keep_results: bool = True) -> BatchReport:
    """Send a batch of CSV rows for one report; rows already delivered are not sent again.

    Rows are taken ``CHUNK`` at a time: each chunk is recorded (one committed transaction)
    before any of its messages goes out, so memory stays flat however long the file is.
    ``total`` is only for progress (default: ``len(rows)`` when it has one).
    """
    options = options or SendOptions()
    ctx = binding.context
    slug = ctx.report.slug
    if total is None:
        total = len(rows) if isinstance(rows, Sized) else 0
    with outbox.locked():
        runner = _Runner(outbox, options, lambda _entry: binding, lambda _name: transport)
        report = BatchReport(keep=keep_results)
        try:
            for i, (row, entry) in enumerate(_recorded(rows, outbox, ctx, transport.name), 1):
                result = _row_result(row, entry, runner, outbox, slug)
                report.add(result)
                if progress:
                    progress(i, max(total, i), result)
        finally:
            runner.finish()
        report.stopped = runner.stopped_reason
        return report


def _recorded(rows: Iterable[Row], outbox: Outbox, ctx: MailContext,
              transport: str) -> Iterator[tuple[Row, Entry]]:
    """Each row with its outbox entry, recording the rows a chunk at a time."""
    it = iter(rows)
    while chunk := list(itertools.islice(it, CHUNK)):
        recorded = outbox.record(_new_entry(row, ctx, transport) for row in chunk)
        for row, (entry, _created) in zip(chunk, recorded, strict=True):
            yield row, entry


def _row_result(row: Row, entry: Entry, runner: _Runner, outbox: Outbox, slug: str) -> RowResult:
    if isinstance(row, RejectedRow):
        return RowResult(row.where, row.email, Outcome.REJECTED, row.reason, entry.key)
    if entry.email.casefold() != row.email.casefold():
        first = f" ({entry.where})" if entry.where else ""
        return RowResult(row.where, row.email, Outcome.CONFLICT,
                         f"enquiry_id {row.enquiry_id} is already recorded for {entry.email}"
                         f"{first}; this row has another address, so it is not sent", entry.key)
    current = outbox.get(entry.key) or entry
    return runner.process(current, where=row.where, slug=slug)


def retry_pending(*, outbox: Outbox, bindings: Callable[[Entry], ReportBinding],
                  transports: Callable[[str], Transport], options: SendOptions | None = None,
                  progress: Progress | None = None) -> BatchReport:
    """Send every entry still ``queued`` (or left ``sending`` by a run that stopped)."""
    options = options or SendOptions()
    with outbox.locked():
        pending = outbox.pending()
        runner = _Runner(outbox, options, bindings, transports)
        report = BatchReport()
        try:
            for i, entry in enumerate(pending, 1):
                result = runner.process(entry, where=entry.where, slug=entry.report_slug)
                report.add(result)
                if progress:
                    progress(i, len(pending), result)
        finally:
            runner.finish()
        report.stopped = runner.stopped_reason
        return report


# ---------------------------------------------------------------------------- the steps


class _Origin(TypedDict):
    """The :class:`NewEntry` fields every row shares, whether queued or rejected."""

    report_slug: str
    report_dir: str
    transport: str
    source: str
    row: int


def _new_entry(row: Row, ctx: MailContext, transport: str) -> NewEntry:
    common: _Origin = {"report_slug": ctx.report.slug, "report_dir": str(ctx.report.folder),
              "transport": transport, "source": row.source, "row": row.row}
    if isinstance(row, RejectedRow):
        v = row.values
        return NewEntry(key=row.key(), state=State.REJECTED, reason=row.reason,
                        email=v.get("email", ""), name=v.get("name", ""), company=v.get("company", ""),
                        job_title=v.get("job_title", ""), country=v.get("country", ""),
                        enquiry_id=v.get("enquiry_id", ""), message=v.get("message", ""),
                        **common)
    key = row.key(ctx.report.slug)
    return NewEntry(key=key, message_id=message_id_for(key, ctx.domain), email=row.email, name=row.name,
                    company=row.company, job_title=row.job_title, country=row.country,
                    enquiry_id=row.enquiry_id, message=row.message, **common)


def enquiry_of(entry: Entry) -> Enquiry:
    """The enquiry as recorded: a resend uses exactly what the first attempt used."""
    return Enquiry(name=entry.name, email=entry.email, company=entry.company, job_title=entry.job_title,
                   country=entry.country, enquiry_id=entry.enquiry_id, message=entry.message,
                   row=entry.row, source=entry.source)


class _Runner:
    def __init__(self, outbox: Outbox, options: SendOptions,
                 bindings: Callable[[Entry], ReportBinding], transports: Callable[[str], Transport]) -> None:
        self.outbox = outbox
        self.options = options
        self.bindings = bindings
        self.transports = transports
        self.stopped: dict[str, str] = {}   # transport name -> why it was given up in this run
        self.halted = ""                     # why nothing more is sent in this run
        self.temporary_run = 0               # temporary failures in a row (the circuit breaker)
        self.skipped: list[tuple[str, str]] = []   # (key, reason) of rows left queued unattempted
        self.unsynced: dict[str, int] = {}          # transport -> messages delivered, not yet synced

    @property
    def stopped_reason(self) -> str:
        return "; ".join([self.halted] * bool(self.halted) + list(self.stopped.values()))

    def process(self, entry: Entry, *, where: str, slug: str) -> RowResult:
        def result(outcome: Outcome, detail: str, e: Entry = entry,
                   warnings: Iterable[str] = ()) -> RowResult:
            return RowResult(where, e.email, outcome, detail, e.key, e.attempts, tuple(warnings))

        if entry.state is State.SENT:
            when = (entry.sent_at or "")[:19].replace("T", " ")
            return result(Outcome.ALREADY_SENT, f"on {when} UTC {entry.message_id}")
        if entry.state is State.FAILED:
            return result(Outcome.FAILED, f"failed earlier: {entry.reason}")
        if entry.report_slug != slug:
            return result(Outcome.QUEUED, f"recorded for report {entry.report_slug!r}: "
                                          "run `pacspdf outbox retry`")
        if not self.halted and (why := self.options.stop()):
            self.halted = why
        if self.halted:
            return self._skip(entry, result, self.halted)
        if entry.transport in self.stopped:
            return self._skip(entry, result, self.stopped[entry.transport])
        try:
            return self._deliver(entry, result)
        except _Halt as halt:
            self.halted = halt.reason
            if halt.result is not None:
                return halt.result
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.QUEUED, f"{latest.reason} (run `pacspdf outbox retry` later)", latest)
        except _Stop as stop:
            self.stopped[entry.transport] = str(stop)
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.QUEUED, f"{latest.reason} (run `pacspdf outbox retry` later)", latest)

    def _skip(self, entry: Entry, result: Callable[..., RowResult], why: str) -> RowResult:
        """A row left queued because the run stopped; its reason is stored by :meth:`finish`."""
        self.skipped.append((entry.key, f"not attempted: {why}"))
        return result(Outcome.QUEUED, f"not attempted: {why}")

    def sync(self) -> None:
        """Make what the transports delivered durable, then the outbox records that say so."""
        if not self.unsynced:
            return
        try:
            for name in list(self.unsynced):
                flush(self.transports(name))
        except DeliveryError as exc:
            raise OutboxError(exc.reason) from None
        self.outbox.sync()
        self.unsynced.clear()

    def finish(self) -> None:
        """Make everything durable; store why each row left queued was not attempted (one commit)."""
        try:
            self.sync()
        except OutboxError as exc:
            self.halted = self.halted or f"what was sent could not be made durable: {exc}"
            log.warning("%s", exc)
        if self.skipped:
            try:
                self.outbox.note_queued(self.skipped)
            except OutboxError as exc:  # only a note; the rows are queued either way
                log.warning("could not note why %d rows were not attempted: %s", len(self.skipped), exc)
            self.skipped.clear()

    def _deliver(self, entry: Entry, result: Callable[..., RowResult]) -> RowResult:
        key = entry.key
        binding = self.bindings(entry)
        ctx = binding.context
        transport = self.transports(entry.transport)
        resumed = entry.state is State.SENDING
        if resumed:
            log.warning("%s: a previous run stopped while sending this message; sending it again "
                        "with the same Message-ID %s", visible(entry.where), entry.message_id)
        enquiry = enquiry_of(entry)
        prepared = entry.prepared_at or now_utc()
        try:
            copy = binding.personaliser(enquiry, entry.copy_id, prepared[:10])
        except PacspdfError as exc:
            done = self.outbox.mark_failed(key, f"could not make the personalised PDF: {exc}")
            return result(Outcome.FAILED, done.reason, done)
        warnings = tuple(copy.warnings)
        if warnings:
            self.outbox.set_warnings(key, warnings)
        try:
            msg = build_message(ctx, binding.templates, enquiry, pdf=copy.pdf, copy_id=entry.copy_id,
                                message_id=entry.message_id, date=datetime.fromisoformat(prepared),
                                max_attachment=self.options.max_attachment)
        except MessageRejected as exc:
            done = self.outbox.mark_rejected(key, str(exc))
            return result(Outcome.REJECTED, done.reason, done, warnings)
        del copy
        policy = self.options.retry
        for attempt in range(1, max(1, policy.attempts) + 1):
            self.outbox.claim(key, prepared)
            try:
                receipt = transport.send(msg, sender=ctx.sender.addr_spec, recipient=enquiry.email)
            except DeliveryError as exc:
                if exc.temporary:
                    self.temporary_run += 1
                if exc.fatal:
                    self.outbox.mark_queued(key, exc.reason)
                    raise _Stop(exc.reason) from None
                if not exc.temporary:
                    done = self.outbox.mark_failed(key, exc.reason)
                    return result(Outcome.FAILED, exc.reason, done, warnings)
                self.outbox.mark_queued(key, exc.reason)
                if self.temporary_run >= self.options.breaker > 0:
                    raise _Halt(f"circuit breaker: {self.temporary_run} temporary failures in a row "
                                f"(last: {exc.reason})") from None
                if attempt < policy.attempts:
                    delay = policy.delay(attempt)
                    log.info("%s: %s; trying again in %.3g s", visible(entry.where), visible(exc.reason),
                             delay)
                    self.options.sleep(delay)
                    continue
                if exc.connection:
                    raise _Stop(exc.reason) from None
                done = self.outbox.get(key) or entry
                return result(Outcome.QUEUED, f"{exc.reason} (gave up for now after {attempt} tries; "
                                              "run `pacspdf outbox retry` later)", done, warnings)
            except Exception as exc:  # a fault outside the transport's classification (a bug)
                self.outbox.mark_queued(key, f"not confirmed: unexpected {type(exc).__name__} in the "
                                             f"{transport.name} transport")
                log.debug("unexpected transport error", exc_info=True)
                raise _Halt(f"unexpected {type(exc).__name__} in the {transport.name} transport") from None
            done = self._record_sent(entry, receipt, result)   # first thing after the server's 250
            self.temporary_run = 0
            detail = f"{done.message_id} {receipt}"
            if resumed:
                detail += " (resent after an interrupted run)"
            return result(Outcome.SENT, detail, done, warnings)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record_sent(self, entry: Entry, receipt: str, result: Callable[..., RowResult]) -> Entry:
        """Commit ``sent``, retrying a failing write; if it never lands, stop before the next message.

        The server's reply is kept here, in memory, across the retries. Nothing else is sent
        while the last message is unrecorded.
        """
        policy = self.options.commit_retry
        failure: OutboxError | None = None
        transport = self.transports(entry.transport)
        group = sync_every(transport)
        for attempt in range(1, max(1, policy.attempts) + 1):
            try:
                done = self.outbox.mark_sent(entry.key, receipt, durable=not group)
                if group:
                    self.unsynced[entry.transport] = self.unsynced.get(entry.transport, 0) + 1
                    if self.unsynced[entry.transport] >= group:
                        self.sync()
                return done
            except OutboxError as exc:
                failure = exc
                if attempt < policy.attempts:
                    self.options.sleep(policy.delay(attempt))
        why = (f"the server accepted {entry.message_id} for {entry.email} ({receipt}) but the outbox "
               f"could not record it ({failure}); stopped so that nothing else is sent. The row "
               "stays 'sending' and the next run sends it again with the same Message-ID")
        raise _Halt(why, result(Outcome.UNRECORDED, why))
