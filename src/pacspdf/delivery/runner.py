"""Turn one outbox entry into a delivery: claim it, personalise, build, send, and record the outcome.

The order of each delivery is what makes it exactly-once as far as SMTP allows:

1. the row is claimed for this sender (``sending``, a lease and a claim token, committed)
   before anything is made or sent; a row another live sender holds is left to it;
2. the personalised copy and the message are built, then handed to the transport; the
   lease is renewed before every try;
3. the moment the server answers 250 to the end of DATA the row is marked ``sent``
   (committed) before anything else happens, and only while the claim is still ours; its
   fsync runs while the next row is claimed and made, and is done before that one is sent.
   A file transport's rows are marked ``sent`` a group at a time, once their files are
   durable (:meth:`Runner._record_group`).

A run killed between the server's 250 and that commit leaves the row ``sending``; the next
sender to claim it (at once on the same machine, else when the lease runs out) sends it
again with the same Message-ID (and Date and copy ID). That gap, one commit long, is the
only place a duplicate can come from (see docs/delivery.md).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pacspdf.delivery.enquiries import Enquiry
from pacspdf.delivery.escape import visible
from pacspdf.delivery.message import (
    DEFAULT_MAX_ATTACHMENT,
    MailContext,
    MailTemplates,
    MessageRejected,
    build_message,
)
from pacspdf.delivery.outbox import DEFAULT_LEASE, Entry, LeaseLost, Outbox, OutboxError, State, now_utc
from pacspdf.delivery.results import Outcome, RowResult
from pacspdf.delivery.settings import DEFAULT_BREAKER
from pacspdf.delivery.transport import DeliveryError, Transport, begin_flush, sync_every
from pacspdf.errors import PacspdfError

log = logging.getLogger("pacspdf.delivery.send")


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
    #: the batch, leaving the rest queued (0: never); ``PACSPDF_SMTP_BREAKER`` sets it for the CLI
    breaker: int = DEFAULT_BREAKER
    #: how hard to try recording "sent" after the server's 250 before stopping the batch
    commit_retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=6, first_delay=0.25,
                                                                          max_delay=4.0))
    #: asked before each message: a non-empty answer (e.g. "interrupted by SIGINT") ends the batch
    #: there, after the message in flight has been sent and recorded
    stop: Callable[[], str] = _never
    #: seconds a claim holds a row, renewed before each try (``PACSPDF_CLAIM_LEASE`` for the CLI);
    #: longer than one try can take, or another sender may take the row over mid-send
    lease: float = DEFAULT_LEASE


class Stop(Exception):
    """No further message can go through this transport in this run."""


class Halt(Exception):
    """No further message may be sent in this run at all (interrupted, breaker open, outbox failing)."""

    def __init__(self, reason: str, result: RowResult | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.result = result


def enquiry_of(entry: Entry) -> Enquiry:
    """The enquiry as recorded: a resend uses exactly what the first attempt used."""
    return Enquiry(name=entry.name, email=entry.email, company=entry.company, job_title=entry.job_title,
                   country=entry.country, enquiry_id=entry.enquiry_id, message=entry.message,
                   row=entry.row, source=entry.source)


Result = Callable[..., RowResult]


@dataclass
class Written:
    """A message a grouped transport has delivered (an ``.eml`` file written), its ``sent`` not yet
    recorded: that waits until the file is durable (see :meth:`Runner._record_group`)."""

    entry: Entry
    receipt: str
    result: Result
    warnings: tuple[str, ...]
    resumed: bool
    done: RowResult | None = None   # the row's result, once recorded (or known unrecordable)


#: results that may wait, in row order, behind a file whose group is not yet durable and recorded
OWED = 500


class Runner:
    """Delivers entries one at a time for one run, keeping the run's state: breaker, stops, skips."""

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
        self.out: deque[RowResult | Written] = deque()   # results in row order, some still awaited
        self.written: list[Written] = []            # delivered by a grouped transport, not yet flushed
        self.flushing: tuple[list[Written], list[Callable[[], None]]] | None = None  # group being fsynced
        self.durable: Callable[[], None] | None = None   # the wait for the last 'sent' fsync under way

    @property
    def stopped_reason(self) -> str:
        return "; ".join([self.halted] * bool(self.halted) + list(self.stopped.values()))

    def emit(self, result: RowResult | Written) -> list[RowResult]:
        """Queue the row's result (or its awaited record) in row order; return the results now known.

        Rows behind one whose record is awaited wait with it; past ``OWED`` of them the awaited
        groups are recorded now (a short group is flushed early), so memory stays flat.
        """
        self.out.append(result)
        if len(self.out) > OWED and isinstance(self.out[0], Written) and self.out[0].done is None:
            self._finish_flushing()
            if self.out[0].done is None and self.written:
                self._group_full()
                self._finish_flushing()
        return self._ready()

    def _ready(self) -> list[RowResult]:
        ready: list[RowResult] = []
        while self.out:
            head = self.out[0]
            if isinstance(head, Written):
                if head.done is None:
                    break
                ready.append(head.done)
            else:
                ready.append(head)
            self.out.popleft()
        return ready

    def process(self, entry: Entry, *, where: str, slug: str) -> list[RowResult]:
        """Deliver the entry; the results of this and earlier rows that are known now, in row order."""
        return self.emit(self._process(entry, where=where, slug=slug))

    def _process(self, entry: Entry, *, where: str, slug: str) -> RowResult | Written:
        def result(outcome: Outcome, detail: str, e: Entry = entry,
                   warnings: Iterable[str] = ()) -> RowResult:
            return RowResult(where, e.email, outcome, detail, e.key, e.attempts, tuple(warnings))

        done = _settled(entry, result)
        if done is not None:
            return done
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
        except LeaseLost as lost:
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.ELSEWHERE, f"taken over by {lost.holder} (this sender's lease ran out); "
                                             "it records this row", latest)
        except Halt as halt:
            self.halted = halt.reason
            if halt.result is not None:
                return halt.result
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.QUEUED, f"{latest.reason} (run `pacspdf outbox retry` later)", latest)
        except Stop as stop:
            self.stopped[entry.transport] = str(stop)
            latest = self.outbox.get(entry.key) or entry
            return result(Outcome.QUEUED, f"{latest.reason} (run `pacspdf outbox retry` later)", latest)

    def _skip(self, entry: Entry, result: Result, why: str) -> RowResult:
        """A row left queued because the run stopped; its reason is stored by :meth:`finish`."""
        self.skipped.append((entry.key, f"not attempted: {why}"))
        return result(Outcome.QUEUED, f"not attempted: {why}")

    def _settle_durable(self) -> None:
        """Wait for the fsync of the last ``sent`` (started right after its commit); retry a failed one.

        Called before the next message is handed to a transport: no message goes while the
        last one's ``sent`` is not durable.
        """
        wait, self.durable = self.durable, None
        if wait is None:
            return
        policy = self.options.commit_retry
        for attempt in range(1, max(1, policy.attempts) + 1):
            try:
                wait()
                return
            except OutboxError as exc:
                if attempt >= policy.attempts:
                    raise Halt(f"what was sent could not be made durable: {exc}") from None
                self.options.sleep(policy.delay(attempt))
                wait = self.outbox.sync

    def _group_full(self) -> None:
        """A group of delivered messages is complete: record the previous group (its files are
        durable by now, or waited for), and start making this one's files durable meanwhile."""
        self._finish_flushing()
        group, self.written = self.written, []
        names = dict.fromkeys(w.entry.transport for w in group)
        self.flushing = (group, [begin_flush(self.transports(name)) for name in names])

    def _finish_flushing(self) -> None:
        """Wait for the group being made durable, then record its rows ``sent`` in one commit."""
        if self.flushing is None:
            return
        group, waits = self.flushing
        self.flushing = None
        try:
            for wait in waits:
                wait()
        except DeliveryError as exc:
            why = (f"written, but could not be made durable ({exc.reason}); not recorded, so the next "
                   "run writes it again")
            for w in group:
                w.done = w.result(Outcome.UNRECORDED, why, w.entry, w.warnings)
            self.halted = self.halted or f"what was sent could not be made durable: {exc.reason}"
            return
        self._record_group(group)

    def _record_group(self, group: list[Written]) -> None:
        """``sent`` for every message of the group, in one transaction, fsynced; retried as one."""
        policy = self.options.commit_retry
        failure: OutboxError | None = None
        for attempt in range(1, max(1, policy.attempts) + 1):
            try:
                recorded = self.outbox.mark_sent_many([(w.entry.key, w.receipt) for w in group])
            except OutboxError as exc:
                failure = exc
                if attempt < policy.attempts:
                    self.options.sleep(policy.delay(attempt))
                continue
            for w, done in zip(group, recorded, strict=True):
                w.done = self._sent_result(w.entry, w.receipt, w.result, done, w.warnings, w.resumed)
            self.durable = self.outbox.sync   # recorded; durable against power loss before anything else
            try:
                self._settle_durable()
            except Halt as halt:
                self.halted = self.halted or halt.reason
            return
        why = (f"written but the outbox could not record it ({failure}); stopped so that nothing else is "
               "sent. The row stays 'sending' and the next run writes it again")
        for w in group:
            w.done = w.result(Outcome.UNRECORDED, why, w.entry, w.warnings)
        self.halted = self.halted or why

    @staticmethod
    def _sent_result(entry: Entry, receipt: str, result: Result, done: Entry | LeaseLost,
                     warnings: tuple[str, ...], resumed: bool) -> RowResult:
        if isinstance(done, LeaseLost):
            return result(Outcome.TAKEN_OVER, f"the server accepted {entry.message_id} ({receipt}), but "
                                              f"the claim had passed to {done.holder}, which records "
                                              "the row (it may send a second copy)", entry)
        detail = f"{done.message_id} {receipt}"
        if resumed:
            detail += " (resent after an interrupted run)"
        return result(Outcome.SENT, detail, done, warnings)

    def finish(self) -> list[RowResult]:
        """Make everything durable and recorded; store why each row left queued was not attempted
        (one commit). Returns the results still owed, in row order."""
        try:
            self._settle_durable()
        except Halt as halt:
            self.halted = self.halted or halt.reason
            log.warning("%s", halt.reason)
        self._finish_flushing()
        if self.written:
            self._group_full()
            self._finish_flushing()
        if self.skipped:
            try:
                self.outbox.note_queued(self.skipped)
            except OutboxError as exc:  # only a note; the rows are queued either way
                log.warning("could not note why %d rows were not attempted: %s", len(self.skipped), exc)
            self.skipped.clear()
        return self._ready()

    def _claim(self, entry: Entry, prepared: str, result: Result) -> Entry | RowResult:
        """The entry claimed for this sender, or the result for a row someone else has or had."""
        claimed = self.outbox.claim(entry.key, prepared, lease_seconds=self.options.lease)
        if claimed is not None:
            return claimed
        latest = self.outbox.get(entry.key) or entry
        settled = _settled(latest, result)
        if settled is not None:
            return settled
        holder = self.outbox.holder(entry.key) or "another sender"
        return result(Outcome.ELSEWHERE, f"being sent by {holder}", latest)

    def _claim_first(self, entry: Entry, result: Result) -> tuple[Entry | RowResult, bool]:
        """The first claim of this run: (the claimed entry or the row's result, whether it resumes
        a send that another run left ``sending``).

        An entry last seen ``queued`` is claimed in one statement that also reads it back, and
        only if it is still ``queued``; otherwise (or if it has changed since) it is read again
        and claimed as whatever it now is.
        """
        if entry.state is State.QUEUED:
            claimed = self.outbox.claim_queued(entry.key, now_utc(), lease_seconds=self.options.lease)
            if claimed is not None:
                return claimed, False
            latest = self.outbox.get(entry.key)
            if latest is None:
                raise OutboxError(f"{self.outbox.where}: outbox entry {entry.key!r} has gone "
                                  "(changed by another process)")
            settled = _settled(latest, result)
            if settled is not None:
                return settled, False
            entry = latest
        return self._claim(entry, now_utc(), result), entry.state is State.SENDING

    def _deliver(self, entry: Entry, result: Result) -> RowResult | Written:
        key = entry.key
        binding = self.bindings(entry)   # a report or transport that cannot be used fails before the claim
        ctx = binding.context
        transport = self.transports(entry.transport)
        claimed, resumed = self._claim_first(entry, result)
        if isinstance(claimed, RowResult):
            return claimed
        entry = claimed
        if resumed:
            log.warning("%s: a previous run stopped while this message was claimed (perhaps sent); "
                        "sending it again with the same Message-ID %s", visible(entry.where),
                        entry.message_id)
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
        group = sync_every(transport)
        for attempt in range(1, max(1, policy.attempts) + 1):
            if attempt > 1:  # the next try: one more attempt, a fresh lease, while the claim is ours
                again = self._claim(entry, prepared, result)
                if isinstance(again, RowResult):
                    return again
                entry = again
            try:
                self._settle_durable()   # the last message's 'sent' is durable before this one goes
            except Halt as halt:
                why = f"not attempted: {halt.reason}"
                try:
                    entry = self.outbox.mark_queued(key, why)   # never sent: back to the queue
                except OutboxError as exc:  # left 'sending', claimable at once once this run ends
                    log.warning("%s", exc)
                raise Halt(halt.reason, result(Outcome.QUEUED, why, entry)) from None
            try:
                receipt = transport.send(msg, sender=ctx.sender.addr_spec, recipient=enquiry.email)
            except DeliveryError as exc:
                if exc.temporary:
                    self.temporary_run += 1
                if exc.fatal:
                    self.outbox.mark_queued(key, exc.reason)
                    raise Stop(exc.reason) from None
                if not exc.temporary:
                    done = self.outbox.mark_failed(key, exc.reason)
                    return result(Outcome.FAILED, exc.reason, done, warnings)
                tripped = self.temporary_run >= self.options.breaker > 0
                if attempt < policy.attempts and not tripped:
                    self.outbox.note_failure(key, exc.reason)   # the claim is kept across the backoff
                    delay = policy.delay(attempt)
                    log.info("%s: %s; trying again in %.3g s", visible(entry.where), visible(exc.reason),
                             delay)
                    self.options.sleep(delay)
                    continue
                done = self.outbox.mark_queued(key, exc.reason)
                if tripped:
                    raise Halt(f"circuit breaker: {self.temporary_run} temporary failures in a row "
                               f"(last: {exc.reason})") from None
                if exc.connection:
                    raise Stop(exc.reason) from None
                return result(Outcome.QUEUED, f"{exc.reason} (gave up for now after {attempt} tries; "
                                              "run `pacspdf outbox retry` later)", done, warnings)
            except Exception as exc:  # a fault outside the transport's classification (a bug)
                self.outbox.mark_queued(key, f"not confirmed: unexpected {type(exc).__name__} in the "
                                             f"{transport.name} transport")
                log.debug("unexpected transport error", exc_info=True)
                raise Halt(f"unexpected {type(exc).__name__} in the {transport.name} transport") from None
            if not group:
                recorded = self._record_sent(entry, receipt, result)   # first thing after the 250
                self.temporary_run = 0
                if isinstance(recorded, RowResult):
                    return recorded
                return self._sent_result(entry, receipt, result, recorded, warnings, resumed)
            # A file: recorded with its group, once the group's files are durable.
            written = Written(entry, receipt, result, warnings, resumed)
            self.temporary_run = 0
            self.written.append(written)
            if len(self.written) >= group:
                self._group_full()
            return written
        raise AssertionError("unreachable")  # pragma: no cover

    def _record_sent(self, entry: Entry, receipt: str, result: Result) -> Entry | LeaseLost | RowResult:
        """Commit ``sent``, retrying a failing write; if it never lands, stop before the next message.

        The server's reply is kept here, in memory, across the retries. Nothing else is sent
        while the last message is unrecorded. If the claim has passed to another sender (the
        lease ran out mid-send), nothing is written: the row is that sender's to record. The
        commit is in the WAL when this returns; its fsync runs meanwhile (in a thread) and is
        waited for before the next message goes (:meth:`_settle_durable`).
        """
        policy = self.options.commit_retry
        failure: OutboxError | None = None
        for attempt in range(1, max(1, policy.attempts) + 1):
            try:
                done = self.outbox.mark_sent(entry.key, receipt, durable=False)
            except LeaseLost as lost:
                return lost
            except OutboxError as exc:
                failure = exc
                if attempt < policy.attempts:
                    self.options.sleep(policy.delay(attempt))
                continue
            try:
                self.durable = self.outbox.begin_sync()
            except OutboxError:  # (the WAL could not be opened) tried again, and waited for, before the next
                self.durable = self.outbox.sync
            return done
        why = (f"the server accepted {entry.message_id} for {entry.email} ({receipt}) but the outbox "
               f"could not record it ({failure}); stopped so that nothing else is sent. The row "
               "stays 'sending' and the next run sends it again with the same Message-ID")
        raise Halt(why, result(Outcome.UNRECORDED, why))


def _settled(entry: Entry, result: Result) -> RowResult | None:
    """The result for a row that is already done (sent or failed), else None."""
    if entry.state is State.SENT:
        when = (entry.sent_at or "")[:19].replace("T", " ")
        return result(Outcome.ALREADY_SENT, f"on {when} UTC {entry.message_id}", entry)
    if entry.state is State.FAILED:
        return result(Outcome.FAILED, f"failed earlier: {entry.reason}", entry)
    return None
