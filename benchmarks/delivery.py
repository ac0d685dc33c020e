"""Delivery benchmark: throughput, memory and the duplicate window of `pacspdf send` (not a test).

Usage: python benchmarks/delivery.py [--count 1000] [--runs 3] [--rows 1000,10000,100000]
                                     [--kills 0] [--quick]

Prints, each as the median of ``--runs`` batches of ``--count`` real messages (the real
personaliser over the cached base build, real MIME, real outbox in a scratch folder):

1. file transport: messages/s (``.eml`` files written, synced every 64 messages);
2. SMTP to aiosmtpd on 127.0.0.1 in a child process: messages/s over one reused session;
3. peak RSS of ``send`` over CSVs of ``--rows`` rows, each in a fresh process: the first
   1,000 rows are sent for real (file transport), the rest were recorded as sent by an
   earlier run, so the whole CSV streams through reading, validation, the outbox and the
   per-row report while the run stays short;
4. the duplicate window: for each SMTP message, the time from the moment the server's 250
   has been read to the moment ``sent`` is written to the WAL (after which a SIGKILL cannot
   lose it) and to the moment it is fsynced (after which a power cut cannot); median, p99, max;
5. with ``--kills K``: K runs of ``python -m pacspdf send`` killed with SIGKILL at a random
   moment, each followed by a clean rerun, and how many messages the server got twice.

Timings depend on the machine and on what else runs on it; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from send_load import serve  # noqa: E402  (the loopback aiosmtpd child of the load run)


def write_csv(path: Path, count: int, prefix: str = "B") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "email", "company", "job_title", "country", "enquiry_id"])
        for i in range(count):
            w.writerow([f"Zoë Enquirer {i}", f"zoe{i}@example.com", f"Hôpital {i}", "CIO", "France",
                        f"{prefix}-{i:06d}"])
    return path


def start_server() -> tuple[Any, Connection, int]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child,), daemon=True)
    proc.start()
    return proc, parent, int(parent.recv())


def stop_server(proc: Any, conn: Connection) -> dict[str, Any]:
    conn.send("stop")
    stats: dict[str, Any] = conn.recv()
    proc.join(timeout=10)
    return stats


def throughput(work: Path, binding: Any, transport_name: str, count: int, runs: int,
               port: int = 0) -> list[float]:
    """Messages per second of ``runs`` batches of ``count`` new enquiries each."""
    from pacspdf.delivery.enquiries import iter_enquiries, scan_enquiries
    from pacspdf.delivery.outbox import Outbox
    from pacspdf.delivery.send import Outcome, send_rows
    from pacspdf.delivery.transport import FileTransport, SmtpSettings, SmtpTransport, Transport

    rates = []
    for run in range(runs):
        folder = work / f"{transport_name}-{run}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        path = write_csv(folder / "e.csv", count, f"{transport_name}{run}")
        transport: Transport = (FileTransport(folder / "outbox") if transport_name == "file" else
                                SmtpTransport(SmtpSettings("127.0.0.1", port, "none", timeout=30.0)))
        total = scan_enquiries(path)
        t0 = time.perf_counter()
        with Outbox(folder / "pacspdf.db") as outbox:
            report = send_rows(iter_enquiries(path), binding=binding, outbox=outbox, transport=transport,
                               total=total, keep_results=False)
            transport.close()
        wall = time.perf_counter() - t0
        if report.count(Outcome.SENT) != count:
            raise SystemExit(f"{transport_name}: only {report.count(Outcome.SENT)} of {count} sent "
                             f"({report.stopped})")
        rates.append(count / wall)
        if transport_name == "file":
            shutil.rmtree(folder / "outbox", ignore_errors=True)  # 190 KB per message
    return rates


def window(work: Path, binding: Any, count: int, port: int) -> dict[str, list[float]]:
    """Per message (seconds): end of DATA sent -> server's 250 read (the server's part), and
    250 read -> 'sent' in the WAL, and -> 'sent' fsynced (ours)."""
    import smtplib

    from pacspdf.delivery.enquiries import iter_enquiries
    from pacspdf.delivery.outbox import Outbox
    from pacspdf.delivery.send import send_rows
    from pacspdf.delivery.transport import SmtpSettings, SmtpTransport

    marks: dict[str, float] = {}
    written: list[float] = []
    synced: list[float] = []
    server: list[float] = []
    plain_send = smtplib.SMTP.send

    def timed_send(self: smtplib.SMTP, s: bytes | str) -> None:
        plain_send(self, s)
        if len(s) > 10_000:                          # the message itself, ending "\r\n.\r\n"
            marks["dot"] = time.perf_counter()

    class TimedOutbox(Outbox):
        def sync(self) -> None:
            marks["written"] = time.perf_counter()   # mark_sent's commit has returned
            super().sync()
            if "reply" in marks:
                written.append(marks["written"] - marks.pop("reply"))
                synced.append(time.perf_counter() - marks["written"] + written[-1])

    class TimedSmtp(SmtpTransport):
        def send(self, msg: Any, *, sender: str, recipient: str) -> str:
            receipt = super().send(msg, sender=sender, recipient=recipient)
            marks["reply"] = time.perf_counter()     # the 250 has been read and parsed
            if "dot" in marks:
                server.append(marks["reply"] - marks.pop("dot"))
            return receipt

    folder = work / "window"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = write_csv(folder / "e.csv", count, "W")
    transport = TimedSmtp(SmtpSettings("127.0.0.1", port, "none", timeout=30.0))
    smtplib.SMTP.send = timed_send  # type: ignore[method-assign]
    try:
        with TimedOutbox(folder / "pacspdf.db") as outbox:
            send_rows(iter_enquiries(path), binding=binding, outbox=outbox, transport=transport,
                      keep_results=False)
        transport.close()
    finally:
        smtplib.SMTP.send = plain_send  # type: ignore[method-assign]
    return {"server": server, "written": written, "synced": synced}


def rss_child(work: Path, rows: int) -> int:
    """In a fresh process: peak RSS (KiB) of `send` over ``rows`` rows (1,000 new, the rest already sent)."""
    folder = work / f"rss-{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = write_csv(folder / "e.csv", rows, "R")
    db = folder / "pacspdf.db"
    prefill = ("import itertools\n"
               "from pacspdf.delivery.outbox import NewEntry, Outbox, State\n"
               f"ob = Outbox({str(db)!r})\n"
               "entries = (NewEntry(key=f'id:R-{i:06d}', report_slug='pacs', report_dir='x',"
               " transport='file', email=f'zoe{i}@example.com', state=State.SENT)"
               f" for i in range(1000, {rows}))\n"
               "while chunk := list(itertools.islice(entries, 5000)):\n    ob.record(chunk)\n"
               "ob._db.execute('UPDATE outbox SET sent_at = created_at')\nob.close()\n")
    # (rows recorded 'sent' by that earlier run: the measured run reports them as already sent)
    subprocess.run([sys.executable, "-c", prefill], check=True)
    report = str(REPO / "content" / "pacs")
    code = ("import resource, sys\n"
            "from pacspdf.cli import main\n"
            f"rc = main(['send', {str(path)!r}, '--db', {str(db)!r}, '--report', {report!r}])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(rc)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"rss run over {rows} rows failed ({run.returncode}): {run.stderr[-2000:]}")
    shutil.rmtree(folder / "outbox", ignore_errors=True)
    return int(run.stderr.strip().splitlines()[-1])


def kills(work: Path, port: int, stats_of: Any, k: int, count: int) -> tuple[int, int, int]:
    """K SIGKILLs at random moments of a `send`, each rerun to the end: (kills, duplicates, kept)."""
    env = {key: v for key, v in os.environ.items() if not key.startswith("PACSPDF_")}
    env.update({"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(port),
                "PACSPDF_SMTP_SECURITY": "none"})
    duplicates = killed = 0
    rng = random.Random(9)
    for i in range(k):
        folder = work / f"kill-{i}"
        folder.mkdir()
        shutil.copytree(work / "out", folder / "out")
        write_csv(folder / "e.csv", count, f"K{i}")
        argv = [sys.executable, "-m", "pacspdf", "send", "e.csv", "--transport", "smtp",
                "--report", str(REPO / "content" / "pacs")]
        before = stats_of()
        proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        subprocess.run(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        after = stats_of()
        duplicates += after["messages"] - before["messages"] - count
        shutil.rmtree(folder, ignore_errors=True)
    return killed, duplicates, k


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000, help="messages per throughput batch (default 1000)")
    ap.add_argument("--runs", type=int, default=3, help="batches per transport; the median is quoted")
    ap.add_argument("--rows", default="1000,10000,100000", help="CSV sizes for the memory figure")
    ap.add_argument("--kills", type=int, default=0, help="SIGKILL experiments (each about 5-10 s)")
    ap.add_argument("--quick", action="store_true", help="300 messages, 3 runs, rows 1000,10000")
    ap.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    opts = ap.parse_args(argv)
    if opts.quick:
        opts.count, opts.rows = min(opts.count, 300), "1000,10000"

    from pacspdf.base import ensure_base
    from pacspdf.delivery.commands import default_binding

    tmp = Path(tempfile.mkdtemp(prefix="pacspdf-delivery-"))
    work = Path(opts.workdir) if opts.workdir else tmp
    work.mkdir(parents=True, exist_ok=True)
    try:
        ensure_base(REPO / "content" / "pacs", work / "out")
        binding = default_binding(REPO / "content" / "pacs", work / "out")
        print(f"delivery ({opts.runs} batches of {opts.count} messages each; medians)")
        rates = throughput(work, binding, "file", opts.count, opts.runs)
        print(f"  file transport       {statistics.median(rates):7.1f} msg/s  (runs: "
              + ", ".join(f"{r:.0f}" for r in rates) + ")  target >= 250")
        proc, conn, port = start_server()
        try:
            rates = throughput(work, binding, "smtp", opts.count, opts.runs, port)
            print(f"  SMTP to aiosmtpd     {statistics.median(rates):7.1f} msg/s  (runs: "
                  + ", ".join(f"{r:.0f}" for r in rates) + ")  target >= 120")
            w = window(work, binding, opts.count, port)
            ms = {k: [1000 * x for x in v] for k, v in w.items()}
            print(f"  duplicate window, over {len(ms['written'])} messages:")
            for key, label in (("server", "end of DATA sent -> 250 read (server)"),
                               ("written", "250 read -> 'sent' in the WAL (SIGKILL)"),
                               ("synced", "250 read -> 'sent' fsynced (power)")):
                print(f"    {label:<37} median {statistics.median(ms[key]):.3f} ms, "
                      f"p99 {pct(ms[key], 0.99):.3f} ms, max {max(ms[key]):.3f} ms")
            if opts.kills:
                def stats_of() -> dict[str, Any]:
                    conn.send("stats")
                    return dict(conn.recv())
                killed, dups, k = kills(work, port, stats_of, opts.kills, 300)
                print(f"  SIGKILL experiment: {killed} of {k} runs killed mid-batch, "
                      f"{dups} message(s) received twice after the reruns")
        finally:
            stop_server(proc, conn)
        sizes = [int(x) for x in opts.rows.split(",") if x]
        peaks = [(n, rss_child(work, n)) for n in sizes]
        print("  peak RSS of `send`: " + ", ".join(f"{n:,} rows {kb / 1024:.0f} MiB" for n, kb in peaks)
              + "  target <= 130 MiB, flat")
    finally:
        if not opts.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
