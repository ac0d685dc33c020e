"""Catalogue progress and results -> the lines ``pacspdf build --all`` (and ``--queue``) and
``pacspdf worker --builds`` print, and their exit codes.

A ``rich`` progress bar on a terminal, plain one-line-per-report text when piped.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from pacspdf.catalogue import REPORT_FILE, CatalogueResult, Outcome, build_all

EXIT_NO_REPORTS = 2


class Reporter:
    """The one place catalogue output is written: a rich bar on a terminal, else plain lines."""

    def __init__(self, stream: TextIO | None = None, fancy: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.total = 0
        self.workers = 0
        self.done = 0
        self._progress: Any = None
        self._task: Any = None
        if fancy is None:
            fancy = _isatty(self.stream)
        if fancy:
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )
            except ImportError:  # rich is optional: fall back to plain lines
                return
            console = Console(file=self.stream)
            self._progress = Progress(TextColumn("[bold]building[/]"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TextColumn("{task.description}"),
                                      console=console, transient=True)

    def start(self, total: int, workers: int) -> None:
        self.total, self.workers = total, workers
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("", total=self.total)
        else:
            self._write(f"building {self.total} report{'s' * (self.total != 1)} on "
                        f"{self.workers} worker{'s' * (self.workers != 1)}")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def outcome(self, outcome: Outcome) -> None:
        self.done += 1
        line = outcome_line(outcome)
        if self._progress is not None:
            from rich.markup import escape

            style = "green" if outcome.ok else "bold red"
            self._progress.console.print(f"[{style}]{escape(line)}[/]", highlight=False)
            self._progress.update(self._task, advance=1, description=escape(outcome.label))
        else:
            self._write(f"[{self.done}/{self.total}] {line}")

    def summary(self, result: CatalogueResult) -> None:
        built = len(result.outcomes) - len(result.failures)
        rate = 60.0 * built / result.seconds if result.seconds > 0 else 0.0
        lines = [f"built {built} of {len(result.outcomes)} reports in {result.seconds:.1f} s on "
                 f"{result.workers} worker{'s' * (result.workers != 1)} ({rate:.1f} reports/min)"]
        if result.failures:
            lines.append(f"{len(result.failures)} failed:")
            lines += [f"  {o.label}: {o.error}" for o in result.failures]
        for line in lines:
            self._write(line)

    def message(self, text: str) -> None:
        self._write(text)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def outcome_line(outcome: Outcome) -> str:
    """One report's line: where its PDF went, or why it failed."""
    if outcome.ok:
        warn = f", {outcome.warnings} warning{'s' * (outcome.warnings != 1)}" if outcome.warnings else ""
        return (f"ok     {outcome.label} -> {outcome.path} ({outcome.pages} pages, "
                f"{outcome.size / 1024:.0f} KB, {outcome.seconds:.2f} s{warn})")
    return f"FAILED {outcome.label}: {outcome.error}"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_all(root: Path, jobs: int, out_dir: Path | None, *, stream: TextIO | None = None,
            fancy: bool | None = None, cache_dir: Path | None = None) -> int:
    """``pacspdf build --all``: 0 when every report built, 1 when any failed, 2 when there were none."""
    reporter = Reporter(stream, fancy)
    result = build_all(root, jobs, out_dir, listener=reporter, cache_dir=cache_dir)
    if result is None:
        reporter.message(f"pacspdf: no report folders (a folder holding {REPORT_FILE}) under {root}")
        return EXIT_NO_REPORTS
    return result.exit_code


def queue_all(root: Path, out_dir: Path | None, db: str, *, stream: TextIO | None = None) -> int:
    """``pacspdf build --all --queue``: one job per report in the store ``db``; 2 when a slug clashes."""
    from pacspdf.buildqueue import enqueue
    from pacspdf.catalogue import find_reports, plan

    out = stream if stream is not None else sys.stdout
    folders = find_reports(root)
    if not folders:
        print(f"pacspdf: no report folders (a folder holding {REPORT_FILE}) under {root}", file=out)
        return EXIT_NO_REPORTS
    jobs, clashes = plan(folders, out_dir)
    for c in clashes:
        print(f"{c.label}: {c.error}", file=sys.stderr)
    done = enqueue(db, jobs)
    print(f"{done.added} build job{'s' * (done.added != 1)} queued, {done.unchanged} unchanged "
          f"(already queued or built)", file=out)
    return EXIT_NO_REPORTS if clashes else 0


def build_worker(db: str, *, once: bool, lease_seconds: float | None = None,
                 stream: TextIO | None = None) -> int:
    """``pacspdf worker --builds``: build queued jobs, one line each; 1 when any failed here.

    SIGINT and SIGTERM stop it after the build in flight, which is finished and recorded first;
    a second one stops it at once, giving that job back to the queue.
    """
    from pacspdf.buildqueue import LEASE_SECONDS, run_builds

    out = stream if stream is not None else sys.stdout
    stop = threading.Event()

    def on_signal(_sig: int, _frame: object) -> None:
        if stop.is_set():  # the second one: stop now; the job in flight is given back, queued
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def tell(outcome: Outcome) -> None:
        print(outcome_line(outcome), file=out, flush=True)

    if not once:
        print(f"building queued reports from {_shown(db)} until stopped (Ctrl-C or SIGTERM finish the "
              f"build in flight)", file=out, flush=True)
    try:
        outcomes = run_builds(db, once=once, lease_seconds=lease_seconds or LEASE_SECONDS, stop=stop,
                              on_outcome=tell)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed = sum(not o.ok for o in outcomes)
    print(f"{'stopped: ' if stop.is_set() else ''}{len(outcomes) - failed} built, {failed} failed",
          file=out, flush=True)
    return 1 if failed else 0


def _shown(db: str) -> str:
    from pacspdf.delivery.store.interface import database_url, is_database_url
    from pacspdf.delivery.store.postgres import redacted

    return redacted(database_url(db)) if is_database_url(db) else db
