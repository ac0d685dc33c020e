"""Turn a batch (CSV rows, or the outbox's pending entries) into deliveries: record all, then deliver each.

1. every row of the batch is recorded (``queued`` or ``rejected``) in one committed
   transaction, ``CHUNK`` rows at a time, before any of them is sent;
2. each row is then delivered by :class:`~pacspdf.delivery.runner.Runner`: claimed, made,
   sent and recorded (the order that makes it exactly-once as far as SMTP allows is there).

Any number of batches may run at once on one outbox, on any hosts: each row is claimed by
one sender only, and a row another sender holds is reported as such, not sent again.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sized
from typing import TypedDict

from pacspdf.delivery.enquiries import RejectedRow, Row
from pacspdf.delivery.message import MailContext
from pacspdf.delivery.outbox import Entry, NewEntry, Outbox, State, message_id_for
from pacspdf.delivery.results import OK_OUTCOMES, BatchReport, Outcome, Progress, RowResult
from pacspdf.delivery.runner import (
    PersonalCopyLike,
    Personaliser,
    ReportBinding,
    RetryPolicy,
    Runner,
    SendOptions,
    enquiry_of,
)
from pacspdf.delivery.transport import Transport

__all__ = ["CHUNK", "OK_OUTCOMES", "BatchReport", "Outcome", "PersonalCopyLike", "Personaliser", "Progress",
           "ReportBinding", "RetryPolicy", "RowResult", "SendOptions", "enquiry_of", "retry_pending",
           "send_rows"]

CHUNK = 500  # rows recorded per transaction before any of them is sent; outbox rows read per page


def send_rows(rows: Iterable[Row], *, binding: ReportBinding, outbox: Outbox, transport: Transport,
              options: SendOptions | None = None, progress: Progress | None = None,
              total: int | None = None, keep_results: bool = True) -> BatchReport:
    """Send a batch of CSV rows for one report; rows already delivered are not sent again.

    Rows are taken ``CHUNK`` at a time: each chunk is recorded (one committed transaction)
    before any of its messages goes out, so memory stays flat however long the file is.
    ``total`` is only for progress (default: ``len(rows)`` when it has one).
    """
    options = options or SendOptions()
    slug = binding.context.report.slug
    if total is None:
        total = len(rows) if isinstance(rows, Sized) else 0
    runner = Runner(outbox, options, lambda _entry: binding, lambda _name: transport)
    results = (_row_result(row, entry, runner, outbox, slug)
               for row, entry in _recorded(rows, outbox, binding.context, transport.name, runner.land))
    return _collect(runner, results, total, progress, keep_results)


def retry_pending(*, outbox: Outbox, bindings: Callable[[Entry], ReportBinding],
                  transports: Callable[[str], Transport], options: SendOptions | None = None,
                  progress: Progress | None = None, keep_results: bool = True) -> BatchReport:
    """Send every entry still ``queued`` (or ``sending`` under a claim that has ended), each claimed first.

    The entries are read ``CHUNK`` at a time (by id), so memory stays flat however many wait,
    and each is met once per run.
    """
    options = options or SendOptions()
    total = outbox.count_pending()
    runner = Runner(outbox, options, bindings, transports)
    results = (runner.process(entry, where=entry.where, slug=entry.report_slug)
               for entry in _pending(outbox, runner.land))
    return _collect(runner, results, total, progress, keep_results)


def _collect(runner: Runner, results: Iterator[list[RowResult]], total: int, progress: Progress | None,
             keep_results: bool) -> BatchReport:
    """Drive ``results`` (made as they are drawn; each the rows' results known by then, in row order)
    into the batch's report, telling ``progress`` (the runner tells it the results it learns between
    a reply and the next message); the runner is finished however the loop ends, and the results it
    still owed (rows whose ``sent`` waited for their files to be durable) come last, also when the
    loop ends in an error."""
    report = BatchReport(keep=keep_results)

    def add(result: RowResult) -> None:
        report.add(result)
        if progress:
            progress(report.total, max(total, report.total), result)

    untold: list[RowResult] = []
    runner.tell = add   # results known between a reply and the next message are told there
    try:
        for ready in results:
            untold = list(ready)
            while untold:
                add(untold.pop(0))
    except BaseException:
        # The batch ends in an error (a report that cannot be used, a bug, or progress itself
        # asking to stop): the message in flight is landed by ``finish``, and its result, like
        # every other result already known, is still told before the error goes on.
        for result in [*untold, *runner.finish()]:
            with contextlib.suppress(Exception):   # a progress that stops the batch says so again
                add(result)
        raise
    for result in runner.finish():
        add(result)
    report.stopped = runner.stopped_reason
    return report


def _recorded(rows: Iterable[Row], outbox: Outbox, ctx: MailContext, transport: str,
              land: Callable[[], None]) -> Iterator[tuple[Row, Entry]]:
    """Each row with its outbox entry, recording the rows a chunk at a time (after ``land``: the
    message in flight is recorded before anything else is written)."""
    it = iter(rows)
    while chunk := list(itertools.islice(it, CHUNK)):
        land()
        recorded = outbox.record(_new_entry(row, ctx, transport) for row in chunk)
        for row, (entry, _created) in zip(chunk, recorded, strict=True):
            yield row, entry


def _row_result(row: Row, entry: Entry, runner: Runner, outbox: Outbox, slug: str) -> list[RowResult]:
    if isinstance(row, RejectedRow):
        return runner.emit(RowResult(row.where, row.email, Outcome.REJECTED, row.reason, entry.key))
    if entry.email.casefold() != row.email.casefold():
        first = f" ({entry.where})" if entry.where else ""
        return runner.emit(RowResult(row.where, row.email, Outcome.CONFLICT,
                                     f"enquiry_id {row.enquiry_id} is already recorded for {entry.email}"
                                     f"{first}; this row has another address, so it is not sent", entry.key))
    # A queued entry goes straight to its claim, which is conditional on it still being queued
    # (and reads it back); any other state is read again first, as another sender may have moved it.
    current = entry if entry.state is State.QUEUED else outbox.get(entry.key) or entry
    return runner.process(current, where=row.where, slug=slug)


def _pending(outbox: Outbox, land: Callable[[], None]) -> Iterator[Entry]:
    """Every entry pending when it is reached, a page at a time (after ``land``, as in :func:`_recorded`)."""
    last = 0
    while True:
        land()
        page = outbox.pending_page(last, CHUNK)
        if not page:
            return
        for entry in page:
            last = entry.id
            yield entry


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
