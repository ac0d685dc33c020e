"""Delivery benchmark: throughput, memory and the duplicate window of `pacspdf send` (not a test).

Usage: python benchmarks/delivery.py [--count 1000] [--runs 3] [--rows 1000,10000,100000]
                                     [--kills 0] [--quick]

Prints, each as the median of ``--runs`` batches of ``--count`` real messages (the real
personaliser over the cached base build, real MIME, real outbox in a scratch folder):

1. file transport: messages/s (``.eml`` files written, synced every 64 messages);
2. SMTP to aiosmtpd on 127.0.0.1 in a child process: messages/s over one reused session,
   to aiosmtpd reading DATA in blocks and to aiosmtpd as it is; beside each, the server's
   ceiling: one made message replayed by a bare client, which no sender can beat;
3. peak RSS of ``send`` over CSVs of ``--rows`` rows, each in a fresh process: the first
   1,000 rows are sent for real (file transport), the rest were recorded as sent by an
   earlier run, so the whole CSV streams through reading, validation, the outbox and the
   per-row report while the run stays short;
4. the duplicate window, against both servers: for each SMTP message, the time from the end
   of DATA to the moment the server's 250 has been read (the server's work; the next copy is
   made meanwhile, so it is the longer of the two), from that 250 to ``sent`` written to the
   WAL, and the whole window from the end of DATA to ``sent`` in the WAL (a SIGKILL in it can
   give a duplicate), and from the 250 to ``sent`` fsynced (after which a power cut cannot
   lose it); median, p99, max;
5. with ``--kills K``: K runs of ``python -m pacspdf send`` killed with SIGKILL at a random
   moment, each followed by a clean rerun, and how many messages the server got twice.

Timings depend on the machine and on what else runs on it; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import datetime
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
from dataclasses import dataclass, field
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


def serve_bulk(conn: Connection) -> None:
    """:func:`send_load.serve` with aiosmtpd reading DATA in 64 KB blocks instead of line by line.

    Still aiosmtpd, speaking SMTP over TCP on 127.0.0.1 with every command handled by it;
    only the body of DATA is read in blocks up to the terminating ``CRLF.CRLF`` (then
    un-dot-stuffed, RFC 5321 4.5.2) and handed to the same counting handler. Stock aiosmtpd
    spends 10-23 ms of CPU per 400 KB message awaiting each of its 5,300 lines, so with it the
    figure measures the test server more than the sender; both figures are printed.
    """
    import asyncio

    from aiosmtpd import smtp
    from aiosmtpd.controller import Controller

    class BulkData(smtp.SMTP):
        @smtp.syntax("DATA")
        async def smtp_DATA(self, arg: str) -> None:
            if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
                return
            assert self.envelope is not None
            if not self.envelope.rcpt_tos:
                await self.push("503 Error: need RCPT command")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            buf = bytearray()
            while not (buf.endswith(b"\r\n.\r\n") or buf == b".\r\n"):
                block = await self._reader.read(1 << 16)
                if not block:
                    raise asyncio.CancelledError  # the client went away mid-message
                buf += block
            body = bytes(buf[:-3]).replace(b"\r\n..", b"\r\n.")
            if body.startswith(b".."):
                body = body[1:]
            self.envelope.content = self.envelope.original_content = body
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push("250 OK" if status is smtp.MISSING else status)

    def factory(self: Controller) -> smtp.SMTP:
        return BulkData(self.handler, **self.SMTP_kwargs)

    Controller.factory = factory  # type: ignore[method-assign]  # this child process only
    serve(conn)


def start_server(bulk: bool = False) -> tuple[Any, Connection, int]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve_bulk if bulk else serve, args=(child,), daemon=True)
    proc.start()
    return proc, parent, int(parent.recv())


def stop_server(proc: Any, conn: Connection) -> dict[str, Any]:
    conn.send("stop")
    stats: dict[str, Any] = conn.recv()
    proc.join(timeout=10)
    return stats


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Batches:
    """Per batch: messages/s (wall), the sender's CPU ms per message and the server's (if one)."""

    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)

    def line(self, label: str, target: int) -> str:
        text = (f"  {label:<22}{statistics.median(self.rates):7.1f} msg/s  (runs: "
                + ", ".join(f"{r:.0f}" for r in self.rates) + f")  target >= {target}\n"
                f"  {'':<22}sender CPU {statistics.median(self.cpu_ms):.2f} ms/msg (runs: "
                + ", ".join(f"{c:.2f}" for c in self.cpu_ms) + ")")
        if self.server_ms:
            server = statistics.median(self.server_ms)
            share = server * statistics.median(self.rates) / 10   # ms per message against ms of wall
            text += f"; server CPU {server:.2f} ms/msg ({share:.0f} % of the wall time per message)"
        return text


def throughput(work: Path, binding: Any, transport_name: str, count: int, runs: int,
               port: int = 0, server_pid: int = 0) -> Batches:
    """Messages per second of ``runs`` batches of ``count`` new enquiries each, and CPU per message."""
    from pacspdf.delivery.enquiries import iter_enquiries, scan_enquiries
    from pacspdf.delivery.outbox import Outbox
    from pacspdf.delivery.send import Outcome, send_rows
    from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
    from pacspdf.delivery.transport import FileTransport, Transport

    out = Batches()
    for run in range(runs):
        folder = work / f"{transport_name}-{run}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        path = write_csv(folder / "e.csv", count, f"{transport_name}{run}")
        transport: Transport = (FileTransport(folder / "outbox") if transport_name == "file" else
                                SmtpTransport(SmtpSettings("127.0.0.1", port, "none", timeout=30.0)))
        total = scan_enquiries(path)
        server0 = proc_cpu(server_pid) if server_pid else 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        with Outbox(folder / "pacspdf.db") as outbox:
            report = send_rows(iter_enquiries(path), binding=binding, outbox=outbox, transport=transport,
                               total=total, keep_results=False)
            transport.close()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if server_pid:
            out.server_ms.append(1000 * (proc_cpu(server_pid) - server0) / count)
        if report.count(Outcome.SENT) != count:
            raise SystemExit(f"{transport_name}: only {report.count(Outcome.SENT)} of {count} sent "
                             f"({report.stopped})")
        out.rates.append(count / wall)
        out.cpu_ms.append(1000 * cpu / count)
        if transport_name == "file":
            shutil.rmtree(folder / "outbox", ignore_errors=True)  # 400 KB per message
    return out


def window(work: Path, binding: Any, count: int, port: int) -> dict[str, list[float]]:
    """Per message (seconds): end of DATA sent -> server's 250 read (the server's part, beside which
    the next copy is made), 250 read -> 'sent' in the WAL and -> 'sent' fsynced (ours), and end of
    DATA -> 'sent' in the WAL (the whole window)."""
    from pacspdf.delivery import smtp
    from pacspdf.delivery.enquiries import iter_enquiries
    from pacspdf.delivery.outbox import SqliteOutbox
    from pacspdf.delivery.send import send_rows
    from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport

    marks: dict[str, float] = {}
    written: list[float] = []
    synced: list[float] = []
    server: list[float] = []
    whole: list[float] = []
    plain_data = smtp._send_data

    def timed_data(conn: Any, chunks: list[bytes]) -> None:
        plain_data(conn, chunks)                     # the message, then its ending "\r\n.\r\n"
        marks["dot"] = time.perf_counter()

    class TimedOutbox(SqliteOutbox):
        def begin_sync(self) -> Any:
            marks["written"] = time.perf_counter()   # mark_sent's commit has returned
            wait = super().begin_sync()              # the WAL's fsync starts, in its own thread
            syncing = self._syncing
            if "reply" in marks and syncing is not None:
                reply = marks.pop("reply")
                written.append(marks["written"] - reply)
                whole.append(marks["written"] - marks.pop("sent_dot"))
                syncing.add_done_callback(lambda _f: synced.append(time.perf_counter() - reply))
            return wait

    class TimedSmtp(SmtpTransport):
        def _data_reply(self) -> str:
            receipt = super()._data_reply()
            marks["reply"] = time.perf_counter()     # the 250 has been read and parsed
            if "dot" in marks:
                marks["sent_dot"] = marks.pop("dot")
                server.append(marks["reply"] - marks["sent_dot"])
            return receipt

    folder = work / "window"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = write_csv(folder / "e.csv", count, "W")
    transport = TimedSmtp(SmtpSettings("127.0.0.1", port, "none", timeout=30.0))
    smtp._send_data = timed_data
    try:
        with TimedOutbox(folder / "pacspdf.db") as outbox:
            send_rows(iter_enquiries(path), binding=binding, outbox=outbox, transport=transport,
                      keep_results=False)
        transport.close()
    finally:
        smtp._send_data = plain_data
    return {"server": server, "written": written, "whole": whole, "synced": synced}


def ceiling(work: Path, binding: Any, count: int, port: int) -> tuple[float, float]:
    """What the server alone allows: one real message, made once, replayed ``count`` times over one
    session by a bare client (MAIL, RCPT, DATA, the message in one write, read the 250; no outbox,
    no copy, no composing). Returns (messages per second, client CPU ms per message)."""
    import smtplib
    import socket

    from pacspdf.delivery.enquiries import Enquiry
    from pacspdf.delivery.message import build_message, wire_chunks

    ctx = binding.context
    enquiry = Enquiry(name="Zoë Enquirer", email="zoe@example.com", company="Hôpital", job_title="CIO",
                      country="France", enquiry_id="C-1", message="", row=2, source="e.csv")
    copy = binding.personaliser(enquiry, "C1", "2026-11-30")
    msg = build_message(ctx, binding.templates, enquiry, pdf=copy.pdf, copy_id="C1",
                        message_id="<c1@example.com>", date=datetime.datetime(2026, 11, 30, 12, 0),
                        max_attachment=10 << 20)
    body = b"".join(wire_chunks(msg)).replace(b"\r\n.", b"\r\n..")   # dot-stuffed once, here
    wire = body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n")
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.ehlo()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(count):
            for command in ("mail FROM:<s@example.com>", "rcpt TO:<zoe@example.com>", "data"):
                conn.putcmd(command)
                conn.getreply()
            conn.sock.sendall(wire)
            code, _ = conn.getreply()
            if code != 250:
                raise SystemExit(f"ceiling: the server answered {code}")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        conn.quit()
    return count / wall, 1000 * cpu / count


#: Peak RSS (KiB) of this process image. ``getrusage(RUSAGE_SELF).ru_maxrss`` will not do for a
#: child: Linux carries the high-water mark of the image replaced by ``exec`` into it, and
#: ``subprocess`` forks (vfork) from the parent, so a child of a 150 MiB benchmark reported
#: 150 MiB whatever it used itself. ``VmHWM`` in /proc is the peak of the current image only.
PEAK_RSS = ("def peak_rss_kib():\n"
            "    try:\n"
            "        with open('/proc/self/status') as fh:\n"
            "            return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:'))\n"
            "    except (OSError, StopIteration):\n"
            "        import resource\n"
            "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n")


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
    code = ("import sys\n"
            "from pacspdf.cli import main\n"
            f"rc = main(['send', {str(path)!r}, '--db', {str(db)!r}, '--report', {report!r}])\n"
            + PEAK_RSS +
            "print(peak_rss_kib(), file=sys.stderr)\n"
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


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ceiling_line(work: Path, binding: Any, count: int, port: int, server_pid: int) -> str:
    server0 = proc_cpu(server_pid)
    rate, client_ms = ceiling(work, binding, count, port)
    server_ms = 1000 * (proc_cpu(server_pid) - server0) / count
    return (f"  {'':<22}the server's ceiling: {rate:.1f} msg/s with one made message replayed by a bare "
            f"client ({client_ms:.2f} ms/msg; server {server_ms:.2f} ms/msg)")


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

    from pacspdf.build import ensure_base
    from pacspdf.delivery.batch import default_binding

    tmp = Path(tempfile.mkdtemp(prefix="pacspdf-delivery-"))
    work = Path(opts.workdir) if opts.workdir else tmp
    work.mkdir(parents=True, exist_ok=True)
    try:
        ensure_base(REPO / "content" / "pacs", work / "out")
        binding = default_binding(REPO / "content" / "pacs", work / "out")
        print(f"delivery ({opts.runs} batches of {opts.count} messages each; medians; "
              f"load average {load()})")
        print(throughput(work, binding, "file", opts.count, opts.runs).line("file transport", 250))
        windows = {}
        proc, conn, port = start_server(bulk=True)
        try:
            print(throughput(work, binding, "smtp", opts.count, opts.runs, port, proc.pid)
                  .line("SMTP, bulk-DATA sink", 120))
            print(ceiling_line(work, binding, opts.count, port, proc.pid))
            windows["bulk-DATA sink"] = window(work, binding, opts.count, port)
        finally:
            stop_server(proc, conn)
        proc, conn, port = start_server()
        try:
            print(throughput(work, binding, "smtp", opts.count, opts.runs, port, proc.pid)
                  .line("SMTP to aiosmtpd", 120))
            print(ceiling_line(work, binding, opts.count, port, proc.pid))
            windows["aiosmtpd"] = window(work, binding, opts.count, port)
            for name, w in windows.items():
                ms = {k: [1000 * x for x in v] for k, v in w.items()}
                print(f"  duplicate window, {name}, over {len(ms['written'])} messages:")
                for key, label in (("server", "end of DATA -> 250 read (server)"),
                                   ("written", "250 read -> 'sent' in the WAL"),
                                   ("whole", "end of DATA -> 'sent' in WAL (SIGKILL)"),
                                   ("synced", "250 read -> 'sent' fsynced (power)")):
                    print(f"    {label:<39} median {statistics.median(ms[key]):7.3f} ms, "
                          f"p99 {pct(ms[key], 0.99):7.3f} ms, max {max(ms[key]):7.3f} ms")
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
        print(f"  (load average now {load()})")
        print("  peak RSS of `send`: " + ", ".join(f"{n:,} rows {kb / 1024:.0f} MiB" for n, kb in peaks)
              + "  target <= 130 MiB, flat")
    finally:
        if not opts.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
