"""The ``send`` and ``outbox`` subcommands: arguments, the per-row report, progress and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from pacspdf.content import choose_report
from pacspdf.delivery.enquiries import Enquiry
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Entry, Outbox, State
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


def cmd_send(args: argparse.Namespace) -> int:
    return run_send(args, default_binding)


def run_send(args: argparse.Namespace, make_binding: BindingFactory, *,
             options: SendOptions | None = None, out: TextIO | None = None,
             err: TextIO | None = None, environ: dict[str, str] | None = None) -> int:
    """``pacspdf send``: the testable body, with the report binding and options injectable."""
    from pacspdf.delivery.enquiries import read_enquiries

    out, err = out or sys.stdout, err or sys.stderr
    batch = read_enquiries(Path(args.enquiries), args.enquiries)   # exit 2 on an unusable file
    db = Path(args.db)
    transport = make_transport(args.transport, outbox_dir=db.parent / "outbox", environ=environ)
    binding = make_binding(choose_report(args.report))  # the only report, or exit 2 listing them
    with Outbox(db) as outbox, contextlib.closing(transport), _progress(len(batch.rows), out, err) as tick:
        report = send_rows(batch.rows, binding=binding, outbox=outbox, transport=transport,
                           options=options, progress=tick)
    _print_summary(report, f"{len(batch.rows)} row{'s' * (len(batch.rows) != 1)}", transport, out)
    return report.exit_code


def cmd_outbox(args: argparse.Namespace) -> int:
    return show_outbox(Path(args.db), sys.stdout)


def show_outbox(db: Path, out: TextIO, limit: int = 10) -> int:
    """``pacspdf outbox``: counts per state, then the latest failures, rejections and retries."""
    with Outbox(db, create=False) as outbox:
        counts = outbox.counts()
        problems = outbox.recent((State.FAILED, State.REJECTED, State.QUEUED, State.SENDING), limit)
    print(f"{db}: {sum(counts.values())} enquiries", file=out)
    for state in State:
        print(f"  {state.value:<9} {counts[state]:>6}", file=out)
    if problems:
        print(f"latest problems (newest first, at most {limit}):", file=out)
        for e in problems:
            print(f"  {e.updated_at[:19].replace('T', ' ')}  {e.state.value:<8} {_who(e):<32} "
                  f"{e.reason or '(no reason recorded)'}", file=out)
    pending = counts[State.QUEUED] + counts[State.SENDING]
    if pending:
        print(f"{pending} still to send: run `pacspdf outbox retry`", file=out)
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    return run_retry(args, default_binding)


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
    return f"{e.email or '(no email)'} [{where}]" if where else e.email or "(no email)"


def format_result(r: RowResult) -> str:
    detail = f"  {r.detail}" if r.detail else ""
    tries = f" (after {r.attempts} tries)" if r.outcome is Outcome.SENT and r.attempts > 1 else ""
    return f"{r.where}: {r.email or '-'}: {r.outcome.value}{tries}{detail}"


def _print_summary(report: BatchReport, what: str, transport: Transport | None, out: TextIO) -> None:
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome)
    via = f" ({transport.describe()})" if transport else ""
    print(f"{what}: {counts}{via}", file=out)
    if report.stopped:
        left = report.count(Outcome.QUEUED)
        print(f"stopped early: {report.stopped}; {left} left queued, run `pacspdf outbox retry` "
              "when the server is reachable", file=out)


@contextlib.contextmanager
def _progress(total: int, out: TextIO, err: TextIO) -> Iterator[Callable[[int, int, RowResult], None]]:
    """Print each row's result; on a terminal and for long batches, draw a bar on stderr as well."""
    bar = total >= PROGRESS_MIN_ROWS and err.isatty() and os.environ.get("TERM") != "dumb"
    held: list[RowResult] = []
    counts = dict.fromkeys(Outcome, 0)

    def tick(done: int, total: int, result: RowResult) -> None:
        counts[result.outcome] += 1
        if not bar:
            _print_row(result, out)
            return
        held.append(result)
        width = 30
        filled = int(width * done / max(total, 1))
        ok = counts[Outcome.SENT] + counts[Outcome.ALREADY_SENT]
        bad = done - ok
        err.write(f"\rsending [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
                  f"{ok} ok, {bad} not")
        err.flush()

    try:
        yield tick
    finally:
        if bar:
            err.write("\n")
            err.flush()
            for r in held:
                _print_row(r, out)


def _print_row(r: RowResult, out: TextIO) -> None:
    print(format_result(r), file=out)
    for w in r.warnings:
        print(f"    warning: {w}", file=out)
