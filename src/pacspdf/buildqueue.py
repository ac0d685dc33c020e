"""Turn a catalogue into build jobs in PostgreSQL, and queued jobs into PDFs on any number of machines.

``pacspdf build --all --queue`` enqueues one job per report, keyed by a hash of the report's
content (every file under its folder, its brand assets and the pacspdf version) together with
the output path: enqueueing unchanged content again adds nothing. ``pacspdf worker --builds``
claims jobs with ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease (a crashed worker's job is
claimable again when the lease runs out) and builds each with :func:`pacspdf.catalogue.build_one`,
importing the stack once per process. Results land where the job says: give a shared folder
(``-o``) when the workers run on several machines.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pacspdf import __version__
from pacspdf.catalogue import Job, Outcome, build_one
from pacspdf.delivery.store.postgres import connect, upgrade, worker_name


def _files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            yield path


def content_hash(folder: Path) -> str:
    """SHA-256 over the pacspdf version, the folder's files (names and bytes) and the brand assets."""
    digest = hashlib.sha256(f"pacspdf {__version__}\n".encode())
    roots = [folder]
    for parent in folder.resolve().parents:  # report.yaml finds its brand in the nearest assets/
        if (parent / "assets" / "brand.yaml").is_file():
            roots.append(parent / "assets")
            break
    for root in roots:
        for path in _files(root):
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Enqueued:
    added: int
    unchanged: int


def enqueue(url: str, jobs: Iterable[Job]) -> Enqueued:
    """One row per (content hash, output); a job already there, in any state, is left alone."""
    added = unchanged = 0
    with connect(url) as conn:
        upgrade(conn)
        with conn.transaction():
            for job in jobs:
                cur = conn.execute(
                    "INSERT INTO build_job (content_hash, output, folder, label) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (content_hash, output) DO NOTHING",
                    (content_hash(job.folder), str(job.output or ""), str(job.folder.resolve()), job.label))
                if cur.rowcount == 1:
                    added += 1
                else:
                    unchanged += 1
    return Enqueued(added, unchanged)


def claim(conn: Any, lease_seconds: float) -> tuple[int, Job] | None:
    """The oldest queued job (or one whose builder's lease ran out), leased to this process."""
    row = conn.execute(
        "WITH c AS (SELECT id FROM build_job WHERE state = 'queued'"
        "           OR (state = 'building' AND lease_until < now())"
        "           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
        " UPDATE build_job b SET state = 'building', attempts = b.attempts + 1,"
        " lease_until = now() + make_interval(secs => %s), claimed_by = %s"
        " FROM c WHERE b.id = c.id RETURNING b.id, b.folder, b.output, b.label",
        (lease_seconds, worker_name())).fetchone()
    if row is None:
        return None
    return int(row[0]), Job(Path(row[1]), Path(row[2]) if row[2] else None, row[3])


def finish(conn: Any, job_id: int, outcome: Outcome) -> None:
    conn.execute("UPDATE build_job SET state = %s, lease_until = NULL, result_path = %s, error = %s,"
                 " pages = %s, seconds = %s, finished_at = now() WHERE id = %s",
                 ("built" if outcome.ok else "failed", outcome.path, outcome.error, outcome.pages,
                  outcome.seconds, job_id))


def run_builds(url: str, *, once: bool = True, lease_seconds: float = 600.0, poll: float = 1.0,
               cache_dir: Path | None = None) -> list[Outcome]:
    """Build queued jobs until none is left (``once``) or forever; the outcomes built here."""
    outcomes: list[Outcome] = []
    with connect(url) as conn:
        upgrade(conn)
        while True:
            claimed = claim(conn, lease_seconds)
            if claimed is None:
                if once:
                    return outcomes
                time.sleep(poll)
                continue
            job_id, job = claimed
            outcome = build_one(str(job.folder), str(job.output) if job.output else None, job.label,
                                str(cache_dir) if cache_dir else None)
            finish(conn, job_id, outcome)
            outcomes.append(outcome)


def counts(url: str) -> dict[str, int]:
    with connect(url) as conn:
        upgrade(conn)
        rows = conn.execute("SELECT state, COUNT(*) FROM build_job GROUP BY state")
        return {str(s): int(n) for s, n in rows}


__all__ = ["Enqueued", "claim", "content_hash", "counts", "enqueue", "finish", "run_builds"]
