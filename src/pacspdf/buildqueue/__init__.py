"""Turn a catalogue into build jobs in a shared store, and queued jobs into PDFs on any number of machines.

``pacspdf build --all --queue`` enqueues one job per report, keyed by the report's content
(:func:`content_hash`: every file of its folder and brand, pacspdf's source and the drawing
libraries' versions) together with its output path. Enqueueing again does no work while the
output holds that content: the job is already queued, building, built (and its PDF is there)
or failed. ``pacspdf worker --builds`` imports the build stack once (:func:`pacspdf.catalogue.preload`)
and builds job after job. A claim is a lease (``lease_until``) that a heartbeat thread renews
while the build runs, so a job whose worker died is claimable again once the lease runs out;
after :data:`MAX_ATTEMPTS` such deaths it is failed instead of crashing workers forever.

Each PDF is built into a hidden file beside its output and renamed into place in the same
transaction that records it as built, and only when no newer content for that output was
enqueued meanwhile: a reader of the shared folder sees whole PDFs of the latest content.

The store is SQLite (one machine; the outbox's file) or PostgreSQL (``FOR UPDATE SKIP
LOCKED``, the server's clock), behind the same small interface (:mod:`pacspdf.buildqueue.store`).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from pacspdf.buildqueue.store import MAX_ATTEMPTS, Claimed, JobStore, StoreError, open_store
from pacspdf.catalogue import Job, Outcome, build_one, preload

#: Seconds a claim holds without renewal; the heartbeat renews it every third of that.
LEASE_SECONDS = 60.0
#: How long a worker keeps trying to reach its store (a database restart) before it gives up.
RECONNECT_SECONDS = 60.0


def brand_dir(folder: Path) -> Path | None:
    """The assets/ folder a report without its own ``brand:`` finds (the loader's rule)."""
    for parent in [folder.resolve(), *folder.resolve().parents]:
        if (parent / "assets" / "brand.yaml").is_file():
            return parent / "assets"
    return None


def content_hash(folder: Path) -> str:
    """The job key's content part: :func:`pacspdf.write.folders_key` of the folder and its brand."""
    from pacspdf.write import folders_key

    brand = brand_dir(folder)
    return folders_key(folder, *([brand] if brand is not None else []))


@dataclass(frozen=True)
class Enqueued:
    """What an enqueue did: jobs queued (new content for an output), and jobs left as they were."""

    added: int
    unchanged: int


def enqueue(target: str | Path, jobs: Iterable[Job]) -> Enqueued:
    """One job per (content hash, output); each output's PDF path is made absolute first."""
    added = unchanged = 0
    store = open_store(target)
    try:
        for job in jobs:
            output = Path(job.output if job.output is not None else _default_output(job.folder)).resolve()
            if store.add(content_hash(job.folder), str(output), str(job.folder.resolve()), job.label):
                added += 1
            else:
                unchanged += 1
    finally:
        store.close()
    return Enqueued(added, unchanged)


def _default_output(folder: Path) -> Path:
    from pacspdf.catalogue import plan

    jobs, _ = plan([folder], Path("out"))
    return jobs[0].output or Path("out") / f"{folder.name}-sample.pdf"


def part_path(output: Path, job_id: int) -> Path:
    """Where job ``job_id`` builds its PDF before the rename (a crashed build's leftover is reused)."""
    return output.with_name(f".{output.name}.job{job_id}.part")


def placements(output: Path, job_id: int) -> list[tuple[Path, Path]]:
    """(built, final) for the sidecar and then the PDF a build writes (the PDF is renamed last)."""
    from pacspdf.document.personal import sidecar_path

    part = part_path(output, job_id)
    return [(sidecar_path(part), sidecar_path(output)), (part, output)]


class _Heartbeat:
    """A thread with its own connection that renews the lease of the job being built."""

    def __init__(self, target: str | Path, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.job_id: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._target = target
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def hold(self, job_id: int | None) -> None:
        with self._lock:
            self.job_id = job_id

    def _run(self) -> None:
        store: JobStore | None = None
        while not self._stop.wait(self.lease_seconds / 3):
            with self._lock:
                job_id = self.job_id
            if job_id is None:
                continue
            try:
                store = store or open_store(self._target)
                store.extend(job_id, self.lease_seconds)
            except StoreError:  # the store is away: the build goes on; the lease may lapse
                if store is not None:
                    store.close()
                store = None
        if store is not None:
            store.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def run_builds(target: str | Path, *, once: bool = True, lease_seconds: float = LEASE_SECONDS,
               poll: float = 1.0, cache_dir: Path | None = None, stop: threading.Event | None = None,
               on_outcome: Callable[[Outcome], None] | None = None,
               reconnect_seconds: float = RECONNECT_SECONDS) -> list[Outcome]:
    """Build queued jobs until none is left (``once``), or until ``stop`` is set; the outcomes built here.

    ``stop`` is looked at between builds: the build in flight is finished and recorded first.
    An exception during a build (KeyboardInterrupt: a second Ctrl-C) gives its job back, queued.
    """
    stop = stop if stop is not None else threading.Event()
    preload()
    outcomes: list[Outcome] = []
    store = _Reconnecting(target, reconnect_seconds, stop)
    heartbeat = _Heartbeat(target, lease_seconds)
    try:
        while not stop.is_set():
            claimed = store.call(lambda s: s.claim(lease_seconds))
            if claimed is None:
                if once:
                    break
                stop.wait(poll)
                continue
            heartbeat.hold(claimed.id)
            try:
                try:
                    built = _build(claimed, cache_dir)
                except BaseException:  # stopped at once (a second Ctrl-C): give the job back now
                    with contextlib.suppress(StoreError):
                        store.call(functools.partial(JobStore.release, job_id=claimed.id))
                    raise
                outcome = store.call(functools.partial(_finish, job=claimed, outcome=built))
            finally:
                heartbeat.hold(None)
                for part, _ in placements(Path(claimed.output), claimed.id):
                    with contextlib.suppress(OSError):
                        part.unlink()
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    finally:
        heartbeat.close()
        store.close()
    return outcomes


def _finish(store: JobStore, job: Claimed, outcome: Outcome) -> Outcome:
    return store.finish(job, outcome, placements(Path(job.output), job.id))


def _build(claimed: Claimed, cache_dir: Path | None) -> Outcome:
    output = Path(claimed.output)
    outcome = build_one(claimed.folder, str(part_path(output, claimed.id)), claimed.label,
                        str(cache_dir) if cache_dir else None)
    return replace(outcome, path=str(output)) if outcome.ok else outcome


_T = TypeVar("_T")


class _Reconnecting:
    """A store that is opened again after a lost connection, for up to ``patience`` seconds."""

    def __init__(self, target: str | Path, patience: float, stop: threading.Event) -> None:
        self.target, self.patience, self.stop = target, patience, stop
        self.store: JobStore | None = open_store(target)

    def call(self, operation: Callable[[JobStore], _T]) -> _T:
        deadline = time.monotonic() + self.patience
        while True:
            try:
                if self.store is None:
                    self.store = open_store(self.target)
                return operation(self.store)
            except StoreError:
                if self.store is not None:
                    self.store.close()
                    self.store = None
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(1.0, self.patience / 10))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def counts(target: str | Path) -> dict[str, int]:
    """How many jobs are in each state."""
    store = open_store(target)
    try:
        return store.counts()
    finally:
        store.close()


def failures(target: str | Path) -> list[tuple[str, str]]:
    """(label, one-line error) of every failed job, oldest first."""
    store = open_store(target)
    try:
        return store.failures()
    finally:
        store.close()


__all__ = ["LEASE_SECONDS", "MAX_ATTEMPTS", "Enqueued", "content_hash", "counts", "enqueue", "failures",
           "part_path", "placements", "run_builds"]
