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

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypedDict

from pacspdf.delivery.enquiries import Enquiry, RejectedRow, Row
from pacspdf.delivery.message import (
    DEFAULT_MAX_ATTACHMENT,
    MailContext,
    MailTemplates,
    MessageRejected,
    build_message,
)
from pacspdf.delivery.outbox import Entry, NewEntry, Outbox, State, message_id_for, now_utc
from pacspdf.delivery.transport import DeliveryError, Transport
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


@dataclass(frozen=True)
class SendOptions:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_attachment: int = DEFAULT_MAX_ATTACHMENT
    sleep: Callable[[float], None] = time.sleep


class Outcome(StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    QUEUED = "queued"
    FAILED = "failed"
    REJECTED = "rejected"


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
    results: list[RowResult] = field(default_factory=list)
    stopped: str = ""          # why the run stopped early (rows left queued), if it did

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def exit_code(self) -> int:
        """0 when every row is delivered (now or before), else 1."""
        return 0 if all(r.outcome in OK_OUTCOMES for r in self.results) else 1


Progress = Callable[[int, int, RowResult], None]


class _Stop(Exception):
    """No further message can go through this transport in this run."""


# ---------------------------------------------------------------------------- public entry points


def send_rows(rows: Sequence[Row], *, binding: ReportBinding, outbox: Outbox, transport: Transport,
              options: SendOptions | None = None, progress: Progress | None = None) -> BatchReport:
    """Send a batch of CSV rows for one report; rows already delivered are not sent again."""
    options = options or SendOptions()
    ctx = binding.context
    slug = ctx.report.slug
    with outbox.locked():
        recorded = outbox.record(_new_entry(row, ctx, transport.name) for row in rows)
        runner = _Runner(outbox, options, lambda _entry: binding, lambda _name: transport)
        report = BatchReport()
        total = len(rows)
        for i, (row, (entry, _created)) in enumerate(zip(rows, recorded, strict=True), 1):
            if isinstance(row, RejectedRow):
                result = RowResult(row.where, row.email, Outcome.REJECTED, row.reason, entry.key)
            else:
                current = outbox.get(entry.key) or entry
                result = runner.process(current, where=row.where, slug=slug)
            report.results.append(result)
            if progress:
                progress(i, total, result)
        report.stopped = runner.stopped_reason
        return report


def retry_pending(*, outbox: Outbox, bindings: Callable[[Entry], ReportBinding],
                  transports: Callable[[str], Transport], options: SendOptions | None = None,
                  progress: Progress | None = None) -> BatchReport:
    """Send every entry still ``queued`` (or left ``sending`` by a run that stopped)."""
    options = options or SendOptions()
    with outbox.locked():
        pending = outbox.pending()
        runner = _Runner(outbox, options, bindings, transports)
        report = BatchReport()
        for i, entry in enumerate(pending, 1):
            result = runner.process(entry, where=entry.where, slug=entry.report_slug)
            report.results.append(result)
            if progress:
                progress(i, len(pending), result)
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

    @property
    def stopped_reason(self) -> str:
        return "; ".join(self.stopped.values())

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
        if entry.transport in self.stopped:
            return result(Outcome.QUEUED, f"not attempted: {self.stopped[entry.transport]}")
        try:
            return self._deliver(entry, result)
        except _Stop as stop:
            self.stopped[entry.transport] = str(stop)
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.QUEUED, f"{latest.reason} (run `pacspdf outbox retry` later)", latest)

    def _deliver(self, entry: Entry, result: Callable[..., RowResult]) -> RowResult:
        key = entry.key
        binding = self.bindings(entry)
        ctx = binding.context
        transport = self.transports(entry.transport)
        resumed = entry.state is State.SENDING
        if resumed:
            log.warning("%s: a previous run stopped while sending this message; sending it again "
                        "with the same Message-ID %s", entry.where, entry.message_id)
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
                if exc.fatal:
                    self.outbox.mark_queued(key, exc.reason)
                    raise _Stop(exc.reason) from None
                if not exc.temporary:
                    done = self.outbox.mark_failed(key, exc.reason)
                    return result(Outcome.FAILED, exc.reason, done, warnings)
                self.outbox.mark_queued(key, exc.reason)
                if attempt < policy.attempts:
                    delay = policy.delay(attempt)
                    log.info("%s: %s; trying again in %.3g s", entry.where, exc.reason, delay)
                    self.options.sleep(delay)
                    continue
                if exc.connection:
                    raise _Stop(exc.reason) from None
                done = self.outbox.get(key) or entry
                return result(Outcome.QUEUED, f"{exc.reason} (gave up for now after {attempt} tries; "
                                              "run `pacspdf outbox retry` later)", done, warnings)
            done = self.outbox.mark_sent(key, receipt)   # first thing after the server's 250
            detail = f"{done.message_id} {receipt}"
            if resumed:
                detail += " (resent after an interrupted run)"
            return result(Outcome.SENT, detail, done, warnings)
        raise AssertionError("unreachable")  # pragma: no cover
