"""The ``send`` and ``outbox`` subcommands: arguments, the per-row report, progress and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from pacspdf.content import choose_report
from pacspdf.delivery.enquiries import Enquiry
from pacspdf.delivery.escape import visible
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Entry, Outbox, State, is_writable
from pacspdf.delivery.send import (
    BatchReport,
    Outcome,
    PersonalCopyLike,
    Personaliser,
    ReportBinding,
    RowResult,
    SendOptions,
    retry_pending,
    send_rows,
)
from pacspdf.delivery.transport import Transport, make_transport
from pacspdf.personalise import BaseArtifact, Recipient, make_copy

DEFAULT_OUT = Path("out")
PROGRESS_MIN_ROWS = 20  # a progress bar only for batches at least this long, on a terminal

BindingFactory = Callable[[Path], ReportBinding]


def add_parsers(subparsers: Any) -> None:
    """Register ``send`` and ``outbox``; kept for callers that import it from here."""
    from pacspdf.delivery.args import add_parsers as add

    add(subparsers)


# ---------------------------------------------------------------------------- wiring


def default_binding(report_dir: Path, out_dir: Path = DEFAULT_OUT) -> ReportBinding:
    """The mail context of a report folder and the real personaliser over its cached base build."""
    from pacspdf.content.load import load

    content = load(report_dir)
    ctx = context_from_content(content)
    templates = MailTemplates(ctx.templates_dir)
    templates.check(ctx)
    return ReportBinding(ctx, templates, _real_personaliser(report_dir, out_dir))


def _real_personaliser(report_dir: Path, out_dir: Path) -> Personaliser:
    from pacspdf.base import ensure_base

    return personaliser_for(ensure_base(Path(report_dir), out_dir))


def personaliser_for(base: BaseArtifact) -> Personaliser:
    """Adapt :func:`pacspdf.personalise.make_copy` over a cached base build to the send pipeline."""

    def personalise(enquiry: Enquiry, copy_id: str, date: str) -> PersonalCopyLike:
        day = datetime.date.fromisoformat(date)
        copy = make_copy(base, Recipient(name=enquiry.name, company=enquiry.company, email=enquiry.email),
                         copy_id, f"{day.day} {day:%B %Y}")
        return copy

    return personalise


# ---------------------------------------------------------------------------- commands


EXIT_BROKEN_PIPE = 128 + 13  # what a shell shows for a program stopped by SIGPIPE


def _pipe_safe(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """End quietly when the reader of stdout goes away (``pacspdf outbox | head``)."""

    def run(args: argparse.Namespace) -> int:
        try:
            code = command(args)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return EXIT_BROKEN_PIPE

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


@_pipe_safe
def cmd_send(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        code = run_send(args, default_binding, options=SendOptions(stop=stop.reason, sleep=stop.sleep))
    return stop.exit_code or code


class _StopFlag:
    """Set by SIGINT or SIGTERM: the batch ends after the message in flight is sent and recorded."""

    def __init__(self) -> None:
        self.signal = ""

    def reason(self) -> str:
        return f"interrupted by {self.signal}" if self.signal else ""

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends early when a stop was asked for (a backoff is not worth waiting)."""
        deadline = time.monotonic() + seconds
        while not self.signal and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))

    @property
    def exit_code(self) -> int:
        return 128 + int(getattr(signal, self.signal, 0)) if self.signal else 0


@contextlib.contextmanager
def stop_on_signals() -> Iterator[_StopFlag]:
    """While a batch runs, the first SIGINT/SIGTERM asks it to stop; a second one stops at once."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, _frame: object) -> None:
        if flag.signal:
            raise KeyboardInterrupt
        flag.signal = signal.Signals(signum).name
        sys.stderr.write(f"\npacspdf: {flag.signal}: finishing the message in flight, then stopping "
                         "(again to stop at once)\n")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_send(args: argparse.Namespace, make_binding: BindingFactory, *,
             options: SendOptions | None = None, out: TextIO | None = None,
             err: TextIO | None = None, environ: dict[str, str] | None = None) -> int:
    """``pacspdf send``: the testable body, with the report binding and options injectable."""
    from pacspdf.delivery.enquiries import iter_enquiries, scan_enquiries

    out, err = out or sys.stdout, err or sys.stderr
    report_dir = choose_report(args.report)  # the only report, or exit 2 listing them: nothing made yet
    total = scan_enquiries(Path(args.enquiries), args.enquiries)   # exit 2 on an unusable file
    db = Path(args.db)
    transport = make_transport(args.transport, outbox_dir=db.parent / "outbox", environ=environ)
    with Outbox(db) as outbox, contextlib.closing(transport):   # exit 2 on an unusable outbox
        binding = make_binding(report_dir)
        with _progress(total, out, err) as tick:   # rows are streamed: memory stays flat
            report = send_rows(iter_enquiries(Path(args.enquiries), args.enquiries), binding=binding,
                               outbox=outbox, transport=transport, options=options, progress=tick,
                               total=total, keep_results=False)
    _print_summary(report, f"{total} row{'s' * (total != 1)}", transport, out)
    return report.exit_code


@_pipe_safe
def cmd_outbox(args: argparse.Namespace) -> int:
    return show_outbox(Path(args.db), sys.stdout)


def show_outbox(db: Path, out: TextIO, limit: int = 10) -> int:
    """``pacspdf outbox``: counts per state, then the latest failures, rejections and retries.

    Reads only: it works on a read-only or immutable database, and says so.
    """
    with Outbox(db, readonly=True) as outbox:
        counts = outbox.counts()
        problems = outbox.recent((State.FAILED, State.REJECTED, State.REFUSED, State.QUEUED, State.SENDING),
                                  limit)
    note = "" if is_writable(db) else " (read-only: `send` and `outbox retry` cannot record here)"
    print(f"{visible(db)}: {sum(counts.values())} enquiries{note}", file=out)
    for state in State:
        print(f"  {state.value:<9} {counts[state]:>6}", file=out)
    if problems:
        print(f"latest problems (newest first, at most {limit}):", file=out)
        for e in problems:
            print(f"  {e.updated_at[:19].replace('T', ' ')}  {e.state.value:<8} {_who(e):<32} "
                  f"{visible(e.reason) or '(no reason recorded)'}", file=out)
    pending = counts[State.QUEUED] + counts[State.SENDING]
    if pending:
        print(f"{pending} still to send: run `pacspdf outbox retry`", file=out)
    return 0


@_pipe_safe
def cmd_retry(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        code = run_retry(args, default_binding, options=SendOptions(stop=stop.reason, sleep=stop.sleep))
    return stop.exit_code or code


def run_retry(args: argparse.Namespace, make_binding: BindingFactory, *,
              options: SendOptions | None = None, out: TextIO | None = None,
              err: TextIO | None = None, environ: dict[str, str] | None = None) -> int:
    """``pacspdf outbox retry``: send what is queued, each on the transport it was queued for."""
    out, err = out or sys.stdout, err or sys.stderr
    db = Path(args.db)
    bindings: dict[str, ReportBinding] = {}
    transports: dict[str, Transport] = {}

    def binding_for(entry: Entry) -> ReportBinding:
        if entry.report_dir not in bindings:
            bindings[entry.report_dir] = make_binding(Path(entry.report_dir))
        return bindings[entry.report_dir]

    def transport_for(name: str) -> Transport:
        name = args.transport or name
        if name not in transports:
            transports[name] = make_transport(name, outbox_dir=db.parent / "outbox", environ=environ)
        return transports[name]

    def close_transports() -> None:
        for t in transports.values():
            t.close()

    with Outbox(db, create=False) as outbox, contextlib.ExitStack() as stack:
        stack.callback(close_transports)
        pending = len(outbox.pending())
        if not pending:
            print("nothing to retry: no queued messages", file=out)
            return 0
        with _progress(pending, out, err) as tick:
            report = retry_pending(outbox=outbox, bindings=binding_for, transports=transport_for,
                                   options=options, progress=tick)
    _print_summary(report, f"{pending} queued", None, out)
    return report.exit_code


# ---------------------------------------------------------------------------- output


def _who(e: Entry) -> str:
    where = f"{Path(e.source).name}:{e.row}" if e.source and e.row else (e.enquiry_id or "")
    email = visible(e.email) or "(no email)"
    return f"{email} [{visible(where)}]" if where else email


def format_result(r: RowResult) -> str:
    """One line per row; every value that came from outside is shown escaped (see ``escape``)."""
    detail = f"  {visible(r.detail)}" if r.detail else ""
    tries = f" (after {r.attempts} tries)" if r.outcome is Outcome.SENT and r.attempts > 1 else ""
    return f"{visible(r.where)}: {visible(r.email) or '-'}: {r.outcome.value}{tries}{detail}"


def _print_summary(report: BatchReport, what: str, transport: Transport | None, out: TextIO) -> None:
    rare = (Outcome.CONFLICT, Outcome.UNRECORDED)  # listed only when they happened
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome
                       if o not in rare or report.count(o))
    via = f" ({visible(transport.describe())})" if transport else ""
    print(f"{what}: {counts}{via}", file=out)
    if report.stopped:
        left = report.count(Outcome.QUEUED)
        print(f"stopped early: {visible(report.stopped)}; {left} left queued, run `pacspdf outbox retry` "
              "when the server is reachable", file=out)


@contextlib.contextmanager
def _progress(total: int, out: TextIO, err: TextIO) -> Iterator[Callable[[int, int, RowResult], None]]:
    """Print each row's result as it happens; on a terminal, for long batches, keep a bar on stderr.

    Nothing is held back (a 100,000-row batch keeps no list of results): the bar line is
    cleared, the row printed, and the bar drawn again below it.
    """
    bar = total >= PROGRESS_MIN_ROWS and err.isatty() and os.environ.get("TERM") != "dumb"
    counts = dict.fromkeys(Outcome, 0)

    def tick(done: int, total: int, result: RowResult) -> None:
        counts[result.outcome] += 1
        if not bar:
            _print_row(result, out)
            return
        err.write("\r\x1b[K")
        err.flush()
        _print_row(result, out)
        out.flush()
        width = 30
        filled = int(width * done / max(total, 1))
        ok = counts[Outcome.SENT] + counts[Outcome.ALREADY_SENT]
        err.write(f"\rsending [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
                  f"{ok} ok, {done - ok} not")
        err.flush()

    try:
        yield tick
    finally:
        if bar:
            err.write("\n")
            err.flush()


def _print_row(r: RowResult, out: TextIO) -> None:
    print(format_result(r), file=out)
    for w in r.warnings:
        print(f"    warning: {visible(w)}", file=out)
