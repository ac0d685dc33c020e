"""Load run: N enquiries through the SMTP transport to a loopback aiosmtpd server (not a test).

Usage: python benchmarks/send_load.py [--count 1000] [--report content/pacs] [--tracemalloc]

What it does, in order:

1. builds (or reuses) the report's base PDF in a scratch folder; not timed;
2. times the personaliser alone: ``--count`` copies, median and p95 per copy, copies/s;
3. starts aiosmtpd on 127.0.0.1 in a child process (so its memory and CPU are not counted
   against the sender), writes an enquiries CSV of ``--count`` rows and runs the real
   ``send`` pipeline over SMTP: outbox records and commits, personalised copy, MIME
   message, one reused SMTP session;
4. prints throughput (messages/s), per-message latency (median, p95), what the server
   received, and the sender's peak memory: peak RSS (``getrusage``) and, with
   ``--tracemalloc``, the peak of Python allocations during the batch (slower).

Timings depend on the machine and on what else it is doing; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- the server (child process)


def serve(conn: Connection) -> None:
    """Run aiosmtpd on 127.0.0.1:<free port>; report the port; on request, report what it received."""
    import threading

    from aiosmtpd.controller import Controller

    stats = {"messages": 0, "bytes": 0, "first": ""}
    lock = threading.Lock()

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with lock:
                stats["messages"] += 1
                stats["bytes"] += len(envelope.original_content or b"")
                if not stats["first"]:
                    stats["first"] = (envelope.original_content or b"")[:2000].decode("ascii", "replace")
            return "250 2.0.0 OK"

    class Loopback(Controller):
        def _trigger_server(self) -> None:
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Loopback(Counter(), hostname="127.0.0.1", port=0)
    controller.start()
    conn.send(controller.port)
    while conn.recv() == "stats":  # until "stop"
        with lock:
            conn.send(dict(stats))
    controller.stop()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({**stats, "cpu": usage.ru_utime + usage.ru_stime})


# ---------------------------------------------------------------------------- helpers


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="enquiries to send (default 1000)")
    parser.add_argument("--report", default=str(REPO / "content" / "pacs"), help="report content folder")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python allocations during the batch (slows it down)")
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    opts = parser.parse_args(argv)

    from pacspdf.base import ensure_base
    from pacspdf.delivery.commands import default_binding, personaliser_for
    from pacspdf.delivery.enquiries import Enquiry, read_enquiries
    from pacspdf.delivery.outbox import Outbox
    from pacspdf.delivery.send import Outcome, RowResult, send_rows
    from pacspdf.delivery.transport import SmtpSettings, SmtpTransport

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(opts.workdir or tmp)
        out_dir = work / "out"
        t0 = time.perf_counter()
        base = ensure_base(Path(opts.report), out_dir)
        print(f"base PDF: {base.pdf_path} ({len(base.pdf) / 1024:.0f} KiB), ready in "
              f"{time.perf_counter() - t0:.1f} s (built or reused; not part of the figures below)")

        # -- the personaliser alone
        personalise = personaliser_for(base)
        personalise(Enquiry("Warm Up", "warm@example.com", "Co"), "WARM-UPWA-RMUP", "2026-01-01")
        times: list[float] = []
        size = 0
        for i in range(opts.count):
            t = time.perf_counter()
            copy = personalise(Enquiry(f"Zoë Enquirer {i}", f"zoe{i}@example.com", f"Hôpital {i}"),
                               f"ABCD-EFGH-{i:04d}", "2026-11-27")
            times.append(time.perf_counter() - t)
            size = len(copy.pdf)
        print(f"personalised copy: median {statistics.median(times) * 1000:.2f} ms, p95 "
              f"{pct(times, 0.95) * 1000:.2f} ms, {opts.count / sum(times):.0f} copies/s over {opts.count}; "
              f"copy {size / 1024:.0f} KiB (+{(size - len(base.pdf)) / 1024:.1f} KiB over the base)")

        # -- the loopback server
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        server = ctx.Process(target=serve, args=(child,), daemon=True)
        server.start()
        port = parent.recv()

        csv_path = work / "enquiries.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "email", "company", "job_title", "country", "enquiry_id"])
            for i in range(opts.count):
                w.writerow([f"Zoë Enquirer {i}", f"zoe{i}@example.com", f"Hôpital {i}", "CIO", "France",
                            f"LOAD-{i:05d}"])
        rows = read_enquiries(csv_path).rows
        binding = default_binding(Path(opts.report), out_dir)
        transport = SmtpTransport(SmtpSettings("127.0.0.1", port, "none", timeout=30.0))
        stamps: list[float] = []

        def progress(done: int, total: int, result: RowResult) -> None:
            stamps.append(time.perf_counter())

        rss_before = rss_mib()
        if opts.tracemalloc:
            tracemalloc.start()
        cpu0, t0 = time.process_time(), time.perf_counter()
        with Outbox(work / "pacspdf.db") as outbox:
            report = send_rows(rows, binding=binding, outbox=outbox, transport=transport, progress=progress)
        transport.close()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        heap_peak = tracemalloc.get_traced_memory()[1] / 1048576 if opts.tracemalloc else None
        if opts.tracemalloc:
            tracemalloc.stop()
        parent.send("stop")
        stats = parent.recv()
        server.join(timeout=10)

        sent = report.count(Outcome.SENT)
        gaps = [b - a for a, b in zip([t0, *stamps[:-1]], stamps, strict=True)]
        print(f"sent {sent}/{len(rows)} over SMTP to 127.0.0.1:{port} in {wall:.2f} s "
              f"(sender CPU {cpu:.2f} s): {sent / wall:.1f} messages/s")
        print(f"per message (record, personalise, build, send, commit): median "
              f"{statistics.median(gaps) * 1000:.1f} ms, p95 {pct(gaps, 0.95) * 1000:.1f} ms")
        print(f"server received {stats['messages']} messages, {stats['bytes'] / 1048576:.1f} MiB "
              f"({stats['bytes'] / max(stats['messages'], 1) / 1024:.0f} KiB each); server process CPU "
              f"{stats['cpu']:.2f} s")
        print(f"sender peak RSS: {rss_mib():.0f} MiB (before the batch: {rss_before:.0f} MiB)"
              + (f"; peak Python allocations during the batch: {heap_peak:.1f} MiB" if heap_peak else ""))
        if report.stopped or sent != len(rows):
            print(f"not all sent: {report.stopped or 'see outbox'}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
