"""A root folder of reports -> every report built on N worker processes (``pacspdf build --all``).

Each worker process imports the build stack once (in the pool initializer) and then builds
many reports, so a catalogue pays the import floor once per worker, not once per report.
One failing report never stops the others: its one-line error is kept for the summary,
and the exit code says whether anything failed. If a worker process dies outright (a
crash, not an exception), the reports it may have been holding are retried one at a time
on a fresh single worker, so the culprit is identified and the rest still get built.

Nothing here prints: progress goes to a :class:`Listener` (the CLI's prints it, see
:mod:`pacspdf.cli.catalogue`), and the result comes back as a :class:`CatalogueResult`.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pacspdf.errors import UsageError
from pacspdf.runtime import own_process, settle

REPORT_FILE = "report.yaml"
EXIT_OK, EXIT_FAILED = 0, 1

#: Modules each worker imports once, before its first report (the whole layout stack;
#: matplotlib stays lazy: it is only needed on a chart-cache miss).
WORKER_PRELOAD = ("pacspdf.build", "pacspdf.derive.frames", "pacspdf.document.story",
                  "pacspdf.document.cover", "pacspdf.document.pages", "pacspdf.templates.environment",
                  "pacspdf.document.theme", "pacspdf.document.tables", "pacspdf.document.personal",
                  "pacspdf.charts.replay",
                  "reportlab.platypus")


@dataclass(frozen=True)
class Job:
    """One report folder and the PDF it is to be built into."""

    folder: Path
    output: Path | None
    label: str


@dataclass(frozen=True)
class Outcome:
    """What became of one report (picklable: it travels back from a worker)."""

    label: str
    ok: bool
    path: str = ""
    pages: int = 0
    size: int = 0
    seconds: float = 0.0
    warnings: int = 0
    error: str = ""
    worker: int = 0


@dataclass
class CatalogueResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failures else EXIT_OK


# -- discovery -------------------------------------------------------------------------

def find_reports(root: Path) -> list[Path]:
    """Every folder at or below ``root`` holding a report.yaml (hidden folders skipped), sorted."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        if REPORT_FILE in filenames:
            found.append(Path(dirpath))
    return sorted(found)


def _declared_slug(folder: Path) -> str | None:
    """The report's slug as written in report.yaml, or None when it cannot be read cheaply."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 5 ms a report, not 50
    try:
        data = yaml.load((folder / REPORT_FILE).read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    slug = data.get("slug") if isinstance(data, dict) else None
    return slug if isinstance(slug, str) and slug else None


def plan(folders: Iterable[Path], out_dir: Path | None) -> tuple[list[Job], list[Outcome]]:
    """Jobs for the folders, and failures for folders whose output would clash with another's.

    Without ``out_dir`` each report goes where ``pacspdf build`` would put it
    (out/<slug>-sample.pdf). Two folders declaring the same slug would overwrite each
    other's PDF: the second one is reported as failed instead of being built.
    """
    jobs: list[Job] = []
    clashes: list[Outcome] = []
    owners: dict[str, str] = {}
    for folder in folders:
        label = _label(folder)
        slug = _declared_slug(folder)
        if slug is not None:
            if slug in owners:
                clashes.append(Outcome(label, False, error=f"slug {slug!r} is also used by "
                                                           f"{owners[slug]}; not built"))
                continue
            owners[slug] = label
        output = None
        if out_dir is not None:
            output = Path(out_dir) / f"{slug or folder.name}-sample.pdf"
        jobs.append(Job(folder, output, label))
    return jobs, clashes


def _label(folder: Path) -> str:
    return str(folder)


# -- worker side -----------------------------------------------------------------------

#: Each worker is one single-threaded build; BLAS thread pools (numpy, loaded with pandas)
#: would only spin against the other workers for the machine's cores.
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def preload() -> None:
    """Make this process a builder of many reports: import the build stack once, now.

    Called by the pool's initializer and by ``pacspdf worker --builds`` (pacspdf.buildqueue).
    """
    import importlib

    own_process()
    for key, value in WORKER_ENV.items():  # before numpy is imported, or it is too late
        os.environ.setdefault(key, value)
    for name in WORKER_PRELOAD:
        importlib.import_module(name)
    settle()  # the stack stays for every report: later full collections skip it


def _init_worker() -> None:
    """Pool initializer: import the build stack once for all the reports this worker builds."""
    # Ctrl-C is the parent's to handle (it stops the workers): no traceback from each worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker leaves once every result it produced is in the parent's hands (the result queue
    # is written synchronously): tearing down matplotlib, pandas and ReportLab module by
    # module would only keep the parent waiting 0.1-0.3 s at the end of every catalogue.
    atexit.register(_exit_now)
    preload()


def _exit_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def one_line(exc: BaseException) -> str:
    """A one-line description of why a report failed."""
    from pacspdf.errors import PacspdfError

    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, PacspdfError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


#: A worker collects its garbage and freezes what survives after this many reports: the
#: raised collector thresholds (pacspdf.runtime) would otherwise let a long catalogue's worker
#: grow by ~0.35 MB a report; a collection costs ~20 ms, so it is batched.
SETTLE_EVERY = 10
_built = 0


def build_one(folder: str, output: str | None, label: str, cache_dir: str | None) -> Outcome:
    """Build one report in this worker; every failure is returned, never raised."""
    global _built
    try:
        from pacspdf.build import CACHE_DIR, build

        result = build(Path(folder), Path(output) if output else None,
                       cache_dir=CACHE_DIR if cache_dir is None else Path(cache_dir))
    except Exception as exc:
        return Outcome(label, False, error=one_line(exc), worker=os.getpid())
    finally:
        _built += 1
        if _built % SETTLE_EVERY == 0:
            settle()
    return Outcome(label, True, path=str(result.path), pages=result.pages, size=result.size,
                   seconds=result.seconds,
                   warnings=sum(w.severity == "warning" for w in result.warnings), worker=os.getpid())


# -- progress --------------------------------------------------------------------------

class Listener(Protocol):
    """What a catalogue tells its caller as it goes (the CLI prints it: pacspdf.cli.catalogue)."""

    def start(self, total: int, workers: int) -> None: ...

    def outcome(self, outcome: Outcome) -> None: ...

    def stop(self) -> None: ...

    def summary(self, result: CatalogueResult) -> None: ...


class Silent:
    """A listener that tells no one (for programs that only want the result)."""

    def start(self, total: int, workers: int) -> None:
        pass

    def outcome(self, outcome: Outcome) -> None:
        pass

    def stop(self) -> None:
        pass

    def summary(self, result: CatalogueResult) -> None:
        pass


# -- orchestration ---------------------------------------------------------------------

def worker_count(jobs: int) -> int:
    if jobs < 0:
        raise UsageError(f"-j/--jobs must be 0 (one per core) or more, not {jobs}")
    if jobs == 0:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return os.cpu_count() or 1
    return jobs


def _pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": a clean interpreter per worker (no fork of a threaded parent); it imports the
    # stack once in the initializer and then serves many reports.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)


def _submit(pool: ProcessPoolExecutor, job: Job, cache_dir: Path | None) -> Future[Outcome]:
    return pool.submit(build_one, str(job.folder), str(job.output) if job.output else None, job.label,
                       None if cache_dir is None else str(cache_dir))


def start_pool(workers: int) -> ProcessPoolExecutor:
    """A pool whose workers start (and import the stack) now, while the caller plans the jobs."""
    pool = _pool(workers)
    for _ in range(workers):  # each submission to a pool without idle workers spawns one
        pool.submit(os.getpid)
    return pool


def build_jobs(jobs: list[Job], workers: int, listener: Listener, cache_dir: Path | None = None,
               pool: ProcessPoolExecutor | None = None) -> list[Outcome]:
    """Run the jobs on ``workers`` processes (or ``pool``), reporting each outcome as it arrives."""
    outcomes: list[Outcome] = []
    orphans: list[Job] = []
    pool = pool if pool is not None else _pool(workers)
    try:
        futures = {_submit(pool, job, cache_dir): job for job in jobs}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except BrokenProcessPool:
                orphans.append(futures[future])
                continue
            outcomes.append(outcome)
            listener.outcome(outcome)
    except BaseException:  # Ctrl-C or a bug here: do not leave workers building
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    if orphans:  # a worker died: retry those reports one by one to isolate the culprit
        outcomes += _isolate(sorted(orphans, key=lambda j: j.label), listener, cache_dir)
    return outcomes


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now, not after their current report."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API before 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def _isolate(jobs: list[Job], listener: Listener, cache_dir: Path | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    pool = _pool(1)
    try:
        for job in jobs:
            try:
                outcome = _submit(pool, job, cache_dir).result()
            except BrokenProcessPool:
                outcome = Outcome(job.label, False, error="the worker process building it died "
                                                          "(crash or out of memory)")
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(1)
            outcomes.append(outcome)
            listener.outcome(outcome)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return outcomes


def build_all(root: Path, jobs: int = 0, out_dir: Path | None = None, *, listener: Listener | None = None,
              cache_dir: Path | None = None) -> CatalogueResult | None:
    """Build every report under ``root``, telling ``listener`` as it goes; None when there is none."""
    started = time.perf_counter()
    listener = listener if listener is not None else Silent()
    root = Path(root)
    workers = worker_count(jobs)
    folders = find_reports(root)
    if not folders:
        return None
    workers = max(1, min(workers, len(folders)))
    pool = start_pool(workers)  # the workers import the stack while the report folders are read
    try:
        planned, clashes = plan(folders, out_dir)
    except BaseException:
        _stop(pool)
        raise
    result = CatalogueResult(workers=workers)
    listener.start(len(folders), workers)
    try:
        for outcome in clashes:
            listener.outcome(outcome)
        built = build_jobs(planned, workers, listener, cache_dir, pool)
    finally:
        listener.stop()
    order = {_label(f): i for i, f in enumerate(folders)}
    result.outcomes = sorted(clashes + built, key=lambda o: order.get(o.label, len(order)))
    result.seconds = time.perf_counter() - started
    listener.summary(result)
    return result
