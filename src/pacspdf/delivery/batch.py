"""An enquiries file or an outbox -> a delivered batch, told row by row to a :class:`Listener`.

The bodies of ``pacspdf send``, ``pacspdf outbox retry`` and ``pacspdf outbox``, with the
report binding, the options and the environment injectable. Nothing here prints: each row's
result goes to the listener as it happens (the CLI's prints it, see :mod:`pacspdf.cli.send`),
and the run's totals come back as data.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, Unpack

from pacspdf.build import DEFAULT_OUT, ensure_base
from pacspdf.delivery.enquiries import Enquiry, iter_enquiries, scan_enquiries
from pacspdf.delivery.escape import visible
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import (
    LEASE_ENV,
    Entry,
    Outbox,
    State,
    Target,
    files_dir,
    is_writable,
    parse_target,
)
from pacspdf.delivery.personalise import Recipient, make_copy
from pacspdf.delivery.send import (
    BatchReport,
    PersonalCopyLike,
    Personaliser,
    ReportBinding,
    RowResult,
    SendOptions,
    retry_pending,
    send_rows,
)
from pacspdf.delivery.settings import TRANSPORTS
from pacspdf.delivery.smtp import SmtpOverrides, SmtpSettings, SmtpTransport, breaker_from_env
from pacspdf.delivery.transport import FileTransport, Transport
from pacspdf.document.personal import BaseArtifact
from pacspdf.errors import UsageError

BindingFactory = Callable[[Path], ReportBinding]


# ---------------------------------------------------------------------------- wiring


def default_binding(report_dir: Path, out_dir: Path = DEFAULT_OUT) -> ReportBinding:
    """The mail context of a report folder and the real personaliser over its cached base build."""
    from pacspdf.content.load import load

    content = load(report_dir)
    ctx = context_from_content(content)
    templates = MailTemplates(ctx.templates_dir)
    templates.check(ctx)
    return ReportBinding(ctx, templates, personaliser_for(ensure_base(Path(report_dir), out_dir)))


def personaliser_for(base: BaseArtifact) -> Personaliser:
    """Adapt :func:`pacspdf.delivery.personalise.make_copy` over a base build to the send pipeline."""

    def personalise(enquiry: Enquiry, copy_id: str, date: str) -> PersonalCopyLike:
        day = datetime.date.fromisoformat(date)
        return make_copy(base, Recipient(name=enquiry.name, company=enquiry.company, email=enquiry.email),
                         copy_id, f"{day.day} {day:%B %Y}")

    return personalise


def make_transport(name: str, *, outbox_dir: Path, environ: Mapping[str, str] | None = None,
                   **smtp_overrides: Unpack[SmtpOverrides]) -> Transport:
    """The transport called ``name`` (``file`` or ``smtp``), configured from the environment."""
    if name == "file":
        return FileTransport(outbox_dir)
    if name == "smtp":
        return SmtpTransport(SmtpSettings.from_env(environ, **smtp_overrides))
    raise UsageError(f"--transport: {name!r} is not one of {', '.join(TRANSPORTS)}")


# ---------------------------------------------------------------------------- listening


class Listener(Protocol):
    """What a batch tells its caller as it goes (the CLI prints it)."""

    def start(self, total: int) -> None:
        """The batch holds ``total`` rows (before the first one is sent)."""

    def row(self, done: int, total: int, result: RowResult) -> None:
        """Row number ``done`` of ``total`` ended as ``result``."""

    def stop(self) -> None:
        """The batch is over (also after an error)."""


class Silent:
    """A listener that tells no one (for programs that only want the report)."""

    def start(self, total: int) -> None:
        pass

    def row(self, done: int, total: int, result: RowResult) -> None:
        pass

    def stop(self) -> None:
        pass


@contextlib.contextmanager
def _listening(listener: Listener, total: int) -> Iterator[None]:
    listener.start(total)
    try:
        yield
    finally:
        listener.stop()


# ---------------------------------------------------------------------------- runs


def with_env(options: SendOptions | None, environ: Mapping[str, str] | None = None) -> SendOptions:
    """``options`` with ``PACSPDF_SMTP_BREAKER`` and ``PACSPDF_CLAIM_LEASE`` when set (exit 2 if wrong)."""
    options = options or SendOptions()
    return replace(options, breaker=breaker_from_env(environ, default=options.breaker),
                   lease=lease_from_env(environ, default=options.lease))


def lease_from_env(environ: Mapping[str, str] | None = None, *, default: float) -> float:
    """Seconds a claim holds a row, from ``PACSPDF_CLAIM_LEASE`` (10 s to a day), else ``default``."""
    text = (os.environ if environ is None else environ).get(LEASE_ENV, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 10 <= seconds <= 86_400:
        raise UsageError(f"{LEASE_ENV}: expected seconds from 10 to 86400, got {visible(text)}")
    return seconds


@dataclass(frozen=True)
class BatchRun:
    """A finished run: its report, how many rows it held and the transport it used (if one)."""

    report: BatchReport
    total: int
    transport: str = ""   # the transport's description, for the summary line


def send_file(enquiries: Path, *, label: str, report_dir: Path, db: Path | str | Target, transport: str,
              make_binding: BindingFactory = default_binding, options: SendOptions | None = None,
              listener: Listener | None = None, environ: Mapping[str, str] | None = None) -> BatchRun:
    """Send the enquiries in ``enquiries`` (named ``label`` in messages) for the report in ``report_dir``.

    Raises a PacspdfError (exit 2) for an unusable file, outbox, transport setting or report,
    before anything is sent. The CSV is streamed: memory stays flat however long it is.
    """
    listener = listener or Silent()
    options = with_env(options, environ)
    target = parse_target(db)
    total = scan_enquiries(Path(enquiries), label)
    chosen = make_transport(transport, outbox_dir=files_dir(target), environ=environ)
    with Outbox(target) as outbox, contextlib.closing(chosen):
        binding = make_binding(Path(report_dir))
        with _listening(listener, total):
            report = send_rows(iter_enquiries(Path(enquiries), label), binding=binding, outbox=outbox,
                               transport=chosen, options=options, progress=listener.row, total=total,
                               keep_results=False)
    return BatchRun(report, total, chosen.describe())


def retry_queued(db: Path | str | Target, *, transport: str | None = None,
                 make_binding: BindingFactory = default_binding,
                 options: SendOptions | None = None, listener: Listener | None = None,
                 environ: Mapping[str, str] | None = None) -> BatchRun | None:
    """Send what is queued in ``db``, each on the transport it was queued for (or ``transport``).

    None when nothing is queued.
    """
    listener = listener or Silent()
    options = with_env(options, environ)
    target = parse_target(db)
    bindings: dict[str, ReportBinding] = {}
    transports: dict[str, Transport] = {}

    def binding_for(entry: Entry) -> ReportBinding:
        if entry.report_dir not in bindings:
            bindings[entry.report_dir] = make_binding(Path(entry.report_dir))
        return bindings[entry.report_dir]

    def transport_for(name: str) -> Transport:
        name = transport or name
        if name not in transports:
            transports[name] = make_transport(name, outbox_dir=files_dir(target), environ=environ)
        return transports[name]

    def close_transports() -> None:
        for t in transports.values():
            t.close()

    with Outbox(target, create=False) as outbox, contextlib.ExitStack() as stack:
        stack.callback(close_transports)
        pending = outbox.count_pending()
        if not pending:
            return None
        with _listening(listener, pending):   # rows are read a page at a time: memory stays flat
            report = retry_pending(outbox=outbox, bindings=binding_for, transports=transport_for,
                                   options=options, progress=listener.row, keep_results=False)
    return BatchRun(report, pending)


# ---------------------------------------------------------------------------- the outbox's state


@dataclass(frozen=True)
class OutboxView:
    """What ``pacspdf outbox`` shows: counts per state, the latest problems, whether it is writable."""

    counts: dict[State, int]
    problems: list[Entry] = field(default_factory=list)
    writable: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pending(self) -> int:
        return self.counts[State.QUEUED] + self.counts[State.SENDING]


PROBLEM_STATES = (State.FAILED, State.REJECTED, State.REFUSED, State.QUEUED, State.SENDING)


def view_outbox(db: Path | str | Target, limit: int = 10) -> OutboxView:
    """Read the outbox only: works on a read-only or immutable database (and says so)."""
    target = parse_target(db)
    with Outbox(target, readonly=True) as outbox:
        counts = outbox.counts()
        problems = outbox.recent(PROBLEM_STATES, limit)
    return OutboxView(counts, problems, is_writable(target))
