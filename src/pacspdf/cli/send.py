"""The ``send`` and ``outbox`` commands: each row's line, the summaries, the progress bar and exit codes.

The work is :mod:`pacspdf.delivery.batch`'s; this module turns what it reports into printed
lines. Every value that came from outside (CSV fields, server replies, stored reasons, paths)
is printed through :func:`pacspdf.delivery.escape.visible`: one record is always one line.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from pacspdf.content import choose_report
from pacspdf.delivery.batch import (
    BindingFactory,
    OutboxView,
    default_binding,
    retry_queued,
    send_file,
    view_outbox,
)
from pacspdf.delivery.escape import visible
from pacspdf.delivery.outbox import Entry, State, Target, parse_target
from pacspdf.delivery.results import RARE_OUTCOMES, BatchReport, Outcome, RowResult
from pacspdf.delivery.runner import SendOptions

PROGRESS_MIN_ROWS = 20  # a progress bar only for batches at least this long, on a terminal


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
             err: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """``pacspdf send``: the testable body, with the report binding and options injectable."""
    out, err = out or sys.stdout, err or sys.stderr
    report_dir = choose_report(args.report)  # the only report, or exit 2 listing them: nothing made yet
    run = send_file(Path(args.enquiries), label=args.enquiries, report_dir=report_dir,
                    db=parse_target(args.db), transport=args.transport, make_binding=make_binding,
                    options=options, listener=Printer(out, err), environ=environ)
    _print_summary(run.report, f"{run.total} row{'s' * (run.total != 1)}", run.transport, out)
    return run.report.exit_code


@_pipe_safe
def cmd_outbox(args: argparse.Namespace) -> int:
    return show_outbox(parse_target(args.db), sys.stdout)


def show_outbox(db: Path | str | Target, out: TextIO, limit: int = 10) -> int:
    """``pacspdf outbox``: counts per state, then the latest failures, rejections and retries.

    Reads only: it works on a read-only or immutable database, and says so.
    """
    target = parse_target(db)
    print_outbox(target, view_outbox(target, limit), limit, out)
    return 0


def print_outbox(db: Path | str | Target, view: OutboxView, limit: int, out: TextIO) -> None:
    """Print the view; the target's heading never shows a password (``Target.display``)."""
    note = "" if view.writable else " (read-only: `send` and `outbox retry` cannot record here)"
    print(f"{visible(parse_target(db).display)}: {view.total} enquiries{note}", file=out)
    for state in State:
        print(f"  {state.value:<9} {view.counts[state]:>6}", file=out)
    if view.problems:
        print(f"latest problems (newest first, at most {limit}):", file=out)
        for e in view.problems:
            print(f"  {e.updated_at[:19].replace('T', ' ')}  {e.state.value:<8} {_who(e):<32} "
                  f"{visible(e.reason) or '(no reason recorded)'}", file=out)
    if view.pending:
        print(f"{view.pending} still to send: run `pacspdf outbox retry`", file=out)


@_pipe_safe
def cmd_retry(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        code = run_retry(args, default_binding, options=SendOptions(stop=stop.reason, sleep=stop.sleep))
    return stop.exit_code or code


def run_retry(args: argparse.Namespace, make_binding: BindingFactory, *,
              options: SendOptions | None = None, out: TextIO | None = None,
              err: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """``pacspdf outbox retry``: send what is queued, each on the transport it was queued for."""
    out, err = out or sys.stdout, err or sys.stderr
    run = retry_queued(parse_target(args.db), transport=args.transport, make_binding=make_binding,
                       options=options, listener=Printer(out, err), environ=environ)
    if run is None:
        print("nothing to retry: no queued messages", file=out)
        return 0
    _print_summary(run.report, f"{run.total} queued", "", out)
    return run.report.exit_code


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


def _print_summary(report: BatchReport, what: str, transport: str, out: TextIO) -> None:
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome
                       if o not in RARE_OUTCOMES or report.count(o))
    via = f" ({visible(transport)})" if transport else ""
    print(f"{what}: {counts}{via}", file=out)
    if report.stopped:
        left = report.count(Outcome.QUEUED)
        print(f"stopped early: {visible(report.stopped)}; {left} left queued, run `pacspdf outbox retry` "
              "when the server is reachable", file=out)


class Printer:
    """Prints each row's result as it happens; on a terminal, for long batches, keeps a bar on stderr.

    Nothing is held back (a 100,000-row batch keeps no list of results): the bar line is
    cleared, the row printed, and the bar drawn again below it.
    """

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.bar = False
        self.counts = dict.fromkeys(Outcome, 0)

    def start(self, total: int) -> None:
        self.bar = total >= PROGRESS_MIN_ROWS and self.err.isatty() and os.environ.get("TERM") != "dumb"

    def row(self, done: int, total: int, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        if not self.bar:
            _print_row(result, self.out)
            return
        err = self.err
        err.write("\r\x1b[K")
        err.flush()
        _print_row(result, self.out)
        self.out.flush()
        width = 30
        filled = int(width * done / max(total, 1))
        ok = self.counts[Outcome.SENT] + self.counts[Outcome.ALREADY_SENT]
        err.write(f"\rsending [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
                  f"{ok} ok, {done - ok} not")
        err.flush()

    def stop(self) -> None:
        if self.bar:
            self.err.write("\n")
            self.err.flush()


def _print_row(r: RowResult, out: TextIO) -> None:
    print(format_result(r), file=out)
    for w in r.warnings:
        print(f"    warning: {visible(w)}", file=out)
