"""Turn one outbox entry into a delivery: personalise, build, claim, send, and record the outcome.

The order of each delivery is what makes it exactly-once as far as SMTP allows:

1. the personalised copy and the message are built from the row as read; nothing is
   written yet;
2. the row is claimed for this sender (``sending``, a lease and a claim token, committed)
   before anything is recorded or sent (a row another live sender holds is left to it, and
   a row that changed since it was read is built again); the message is then handed to
   the transport, the lease renewed before every try;
3. while the server works on the end of DATA, the next row's message is built (step 1;
   :class:`InFlight`); then the server's reply is read and, on 250, the row is marked
   ``sent`` (committed) before anything else happens, and only while the claim is still
   ours. Its fsync runs while the next row is claimed, and is done before that row's
   message goes: nothing is sent while the last message is not durably recorded. Results
   are told to the caller (:attr:`Runner.tell`) only then, between a reply and the next
   message, never while one is in flight; a report's first row lands the message in flight
   before it is made (its binding may take long). A file
   transport's rows are marked ``sent`` a group at a time, once their files
   are durable (:meth:`Runner._record_group`).

A run killed between the server's acceptance and that commit leaves the row ``sending``; the
next sender to claim it (at once on the same machine, else when the lease runs out) sends
it again with the same Message-ID (and Date and copy ID). That gap (the reply is read once
the next message is built, so it is the longer of the server's work on the message and
that build, plus one commit) is the only place a duplicate can come from (see
docs/delivery.md).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol, TypeVar

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
from pacspdf.delivery.transport import DeliveryError, Reply, Transport, begin_flush, submitter, sync_every
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


@dataclass
class Ready:
    """A row claimed by this sender, its message built: what sending it needs."""

    entry: Entry
    msg: EmailMessage
    sender: str
    transport: Transport
    result: Result
    warnings: tuple[str, ...]
    resumed: bool
    prepared: str        # when the copy was first prepared (ISO): a resend keeps its date


@dataclass
class Made:
    """A row's message, built from the row as last read, before the row is claimed (the claim
    and every write come after the message in flight is recorded: :meth:`Runner._claim_made`)."""

    entry: Entry
    binding: ReportBinding
    transport: Transport
    result: Result
    prepared: str                    # the copy's date and the Date header (ISO)
    msg: EmailMessage | None = None  # None: the copy could not be made, or the message was refused
    warnings: tuple[str, ...] = ()
    failed: str = ""                 # why the personalised copy could not be made
    refused: str = ""                # why the message was refused (too large, ...)


@dataclass
class InFlight:
    """A message whose end of DATA has gone to the server, its reply not yet read.

    The next row's message is made meanwhile (not claimed); the reply is read, and ``sent``
    recorded, before that row is claimed or anything else is written (:meth:`Runner.land`).
    """

    ready: Ready
    reply: Reply
    done: RowResult | None = None   # the row's result, once the reply is read and recorded


#: results that may wait, in row order, behind a file whose group is not yet durable and recorded
OWED = 500
T = TypeVar("T")


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
        self.out: deque[RowResult | Written | InFlight] = deque()   # results in row order, some awaited
        self.inflight: InFlight | None = None       # the message whose reply is still to be read
        self.written: list[Written] = []            # delivered by a grouped transport, not yet flushed
        self.flushing: tuple[list[Written], list[Callable[[], None]]] | None = None  # group being fsynced
        self.durable: Callable[[], None] | None = None   # the wait for the last 'sent' fsync under way
        self.reports: set[str] = set()   # report folders bound in this run (the first binding may be slow)
        #: told each result as soon as it is known and nothing is in flight (the caller's progress:
        #: a line printed may block, which no lease of a message in flight need outlast)
        self.tell: Callable[[RowResult], None] | None = None

    @property
    def stopped_reason(self) -> str:
        return "; ".join([self.halted] * bool(self.halted) + list(self.stopped.values()))

    def emit(self, result: RowResult) -> list[RowResult]:
        """Queue the result of a row that sends nothing (refused, conflicting) in row order, after
        the message in flight is landed; return the results now known."""
        self.land()
        return self._emit(result)

    def _emit(self, result: RowResult | Written | InFlight) -> list[RowResult]:
        """Queue the row's result (or its awaited record) in row order; return the results now known.

        Rows behind one whose record is awaited wait with it; past ``OWED`` of them the awaited
        groups are recorded now (a short group is flushed early), so memory stays flat. While a
        message is in flight nothing is recorded or told: that waits until its reply is read.
        """
        self.out.append(result)
        if self.inflight is not None and self.tell is not None:
            return []   # told once its reply is read (:meth:`_tell_ready`)
        self._relieve()
        return self._ready()

    def _relieve(self) -> None:
        """Past ``OWED`` results waiting behind a file group not yet recorded, record it now."""
        if len(self.out) > OWED and isinstance(self.out[0], Written) and self.out[0].done is None:
            self._finish_flushing()
            if self.out[0].done is None and self.written:
                self._group_full()
                self._finish_flushing()

    def _ready(self) -> list[RowResult]:
        ready: list[RowResult] = []
        while self.out:
            head = self.out[0]
            if isinstance(head, Written | InFlight):
                if head.done is None:
                    break
                ready.append(head.done)
            else:
                ready.append(head)
            self.out.popleft()
        return ready

    def process(self, entry: Entry, *, where: str, slug: str) -> list[RowResult]:
        """Deliver the entry; the results of this and earlier rows that are known now, in row order."""
        return self._emit(self._process(entry, where=where, slug=slug))

    def _process(self, entry: Entry, *, where: str, slug: str) -> RowResult | Written | InFlight:
        def result(outcome: Outcome, detail: str, e: Entry = entry,
                   warnings: Iterable[str] = ()) -> RowResult:
            return RowResult(where, e.email, outcome, detail, e.key, e.attempts, tuple(warnings))

        if self.inflight is not None and (self.inflight.ready.entry.key == entry.key
                                          or entry.report_dir not in self.reports):
            # The same row again (a repeated CSV line) is settled first; so is the message in
            # flight before a report's first row: its binding may build the report's base, which
            # no lease need outlast (the claim of the message in flight would lapse meanwhile).
            self.land()
        early = self._early(entry, result, slug)
        if early is not None:
            self.land()
            return early
        try:   # made while the server works on the message in flight; nothing is written yet
            made = self._make(entry, result)
        finally:
            self.land()   # its reply read and recorded before anything else happens
        self._tell_ready()   # before the next message goes: nothing is in flight now
        return self._guarded(entry, result, lambda: self._claim_made(made))

    def _tell_ready(self) -> None:
        """Tell :attr:`tell` the results known now, in row order; if it raises (a stop), the untold
        ones stay first in line (and the row made meanwhile is never claimed)."""
        if self.tell is None:
            return
        self._relieve()
        ready = self._ready()
        while ready:
            try:
                self.tell(ready[0])
            except BaseException:
                self.out.extendleft(reversed(ready[1:]))
                raise
            ready.pop(0)

    def _early(self, entry: Entry, result: Result, slug: str) -> RowResult | None:
        """The result of a row this run will not send (done, another report's, stopped), else None."""
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
        return None

    def land(self) -> None:
        """Read the reply to the message in flight (if any) and record it; see :class:`InFlight`."""
        flight, self.inflight = self.inflight, None
        if flight is None:
            return
        ready = flight.ready
        done = self._guarded(ready.entry, ready.result, lambda: self._send(ready, reply=flight.reply))
        if not isinstance(done, RowResult):  # pragma: no cover  (a read reply ends in a result)
            raise AssertionError(f"a message in flight ended as {type(done).__name__}")
        flight.done = done

    def _claim_made(self, made: Made) -> RowResult | Written | InFlight:
        """Claim a made row and send its message, unless the message landed meanwhile stopped the run
        or its transport; a row that changed since it was read is made again from the claimed row."""
        entry, result = made.entry, made.result
        if not self.halted and (asked := self.options.stop()):
            self.halted = asked
        why = self.halted or self.stopped.get(entry.transport, "")
        if why:
            return self._skip(entry, result, why)
        claimed, resumed = self._claim_first(entry, result, made.prepared)
        if isinstance(claimed, RowResult):
            return claimed
        if resumed:
            log.warning("%s: a previous run stopped while this message was claimed (perhaps sent); "
                        "sending it again with the same Message-ID %s", visible(claimed.where),
                        claimed.message_id)
        if not _same_message(entry, claimed, made.prepared):
            made = self._make(claimed, result)
        key = claimed.key
        if made.failed:
            done = self.outbox.mark_failed(key, made.failed)
            return result(Outcome.FAILED, done.reason, done)
        if made.warnings:
            self.outbox.set_warnings(key, made.warnings)
        if made.msg is None:
            done = self.outbox.mark_rejected(key, made.refused)
            return result(Outcome.REJECTED, done.reason, done, made.warnings)
        ready = Ready(claimed, made.msg, made.binding.context.sender.addr_spec, made.transport, result,
                      made.warnings, resumed, made.prepared)
        return self._send(ready)

    def _guarded(self, entry: Entry, result: Result, step: Callable[[], T]) -> T | RowResult:
        """Run one step of a delivery; a lost claim, a halt or a stopped transport becomes the row's
        result (and the run's state)."""
        try:
            return step()
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
        self.land()
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

    def _claim_first(self, entry: Entry, result: Result, prepared: str) -> tuple[Entry | RowResult, bool]:
        """The first claim of this run: (the claimed entry or the row's result, whether it resumes
        a send that another run left ``sending``).

        An entry last seen ``queued`` is claimed in one statement that also reads it back, and
        only if it is still ``queued``; otherwise (or if it has changed since) it is read again
        and claimed as whatever it now is.
        """
        if entry.state is State.QUEUED:
            claimed = self.outbox.claim_queued(entry.key, prepared, lease_seconds=self.options.lease)
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
        return self._claim(entry, prepared, result), entry.state is State.SENDING

    def _make(self, entry: Entry, result: Result) -> Made:
        """Build the row's personalised copy and message from the row as read; nothing is written.

        A report or transport that cannot be used raises here, before the row is claimed.
        """
        binding = self.bindings(entry)
        self.reports.add(entry.report_dir)
        transport = self.transports(entry.transport)
        made = Made(entry, binding, transport, result, entry.prepared_at or now_utc())
        enquiry = enquiry_of(entry)
        try:
            copy = binding.personaliser(enquiry, entry.copy_id, made.prepared[:10])
        except PacspdfError as exc:
            made.failed = f"could not make the personalised PDF: {exc}"
            return made
        made.warnings = tuple(copy.warnings)
        try:
            made.msg = build_message(binding.context, binding.templates, enquiry, pdf=copy.pdf,
                                     copy_id=entry.copy_id, message_id=entry.message_id,
                                     date=datetime.fromisoformat(made.prepared),
                                     max_attachment=self.options.max_attachment)
        except MessageRejected as exc:
            made.refused = str(exc)
        return made

    def _send(self, ready: Ready, reply: Reply | None = None) -> RowResult | Written | InFlight:
        """Hand the message to its transport, trying again after temporary failures; record it.

        With ``reply`` (the message is in flight) its first try is reading that reply. A first
        try on a transport that pipelines returns the message in flight (:meth:`land` reads it).
        """
        entry, msg, transport, result, warnings = (ready.entry, ready.msg, ready.transport, ready.result,
                                                   ready.warnings)
        key = entry.key
        policy = self.options.retry
        group = sync_every(transport)
        submit = submitter(transport)
        for attempt in range(1, max(1, policy.attempts) + 1):
            if attempt > 1:  # the next try: one more attempt, a fresh lease, while the claim is ours
                again = self._claim(entry, ready.prepared, result)
                if isinstance(again, RowResult):
                    return again
                entry = ready.entry = again
            if reply is None:
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
                if reply is not None:   # read once: a failure's next try sends the message again
                    read, reply = reply, None
                    receipt = read()
                elif submit is not None and attempt == 1:
                    self.inflight = InFlight(ready, submit(msg, sender=ready.sender, recipient=entry.email))
                    return self.inflight
                else:
                    receipt = transport.send(msg, sender=ready.sender, recipient=entry.email)
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
                return self._sent_result(entry, receipt, result, recorded, warnings, ready.resumed)
            # A file: recorded with its group, once the group's files are durable.
            written = Written(entry, receipt, result, warnings, ready.resumed)
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
        commit is in the WAL when this returns; its fsync runs meanwhile (in a thread) while the
        next row is claimed, and is waited for before the next message goes (:meth:`_settle_durable`).
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


def _same_message(read: Entry, claimed: Entry, prepared: str) -> bool:
    """Whether the claimed row makes the message made from the row as read (nothing it depends on
    changed in between, and the copy's date is the one used)."""
    return (enquiry_of(read) == enquiry_of(claimed) and read.copy_id == claimed.copy_id
            and read.message_id == claimed.message_id and read.report_dir == claimed.report_dir
            and read.transport == claimed.transport and claimed.prepared_at == prepared)


def _settled(entry: Entry, result: Result) -> RowResult | None:
    """The result for a row that is already done (sent or failed), else None."""
    if entry.state is State.SENT:
        when = (entry.sent_at or "")[:19].replace("T", " ")
        return result(Outcome.ALREADY_SENT, f"on {when} UTC {entry.message_id}", entry)
    if entry.state is State.FAILED:
        return result(Outcome.FAILED, f"failed earlier: {entry.reason}", entry)
    return None
