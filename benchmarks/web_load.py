"""Load the intake: N sample requests from C concurrent clients on loopback, then confirm them all.

Usage: python benchmarks/web_load.py [--requests 1000] [--clients 50] [--decoys 50]

Starts the real ``pacspdf serve`` (a subprocess, in-process worker, SMTP transport) on a
copy of content/pacs in a temporary folder, and a real aiosmtpd sink. Every request comes
from its own /24 through X-Forwarded-For (127.0.0.1 is the trusted proxy), so the abuse
limits are exercised, not switched off. Each client loads the page (cookie, form token) and
posts the form; the POST latency is reported. When every confirmation mail has arrived, the
links are followed (POST /confirm) by the same number of clients, and the copies counted as
they arrive. ``--decoys`` more requests are made but never confirmed: none may get a copy.

Prints p50/p95 latency per phase and the counts that must be 0: lost (confirmed requests
without exactly one copy), duplicates (a second copy or confirmation to one address), and
mails to unconfirmed addresses.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[1]
_HIDDEN = re.compile(r'<form[^>]*action="/reports/pacs/sample".*?name="form_token" value="([^"]+)"', re.S)


class Sink:
    """aiosmtpd handler keeping (recipient, has a PDF, confirmation link) per message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.confirmations: list[tuple[str, str]] = []
        self.copies: list[str] = []
        self.other: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)  # type: ignore[attr-defined]
        rcpt = envelope.rcpt_tos[0]  # type: ignore[attr-defined]
        pdf = any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
        with self.lock:
            if pdf:
                self.copies.append(rcpt)
            else:
                body = msg.get_body(("plain",))
                link = re.search(r"/confirm/\S+", body.get_content() if body else "")
                if link:
                    self.confirmations.append((rcpt, link.group(0)))
                else:
                    self.other.append(rcpt)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(port: int, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str], float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, {k.lower(): v for k, v in resp.getheaders()}, time.perf_counter() - started
    finally:
        conn.close()


def request_sample(port: int, n: int) -> tuple[int, float, float]:
    """Load the page and post the form as visitor ``n``; (status, GET seconds, POST seconds)."""
    ip = f"100.{64 + n // 250}.{n % 250}.7"
    status, page, headers, get_s = call(port, "GET", "/reports/pacs/", headers={"X-Forwarded-For": ip})
    cookie = headers.get("set-cookie", "").split(";")[0]
    token = _HIDDEN.search(page.decode())
    assert status == 200 and token, status
    fields = {"form_token": token.group(1), "name": f"Visitor {n}", "email": f"buyer{n}@company{n}.com",
              "company": f"Company {n} Ltd", "job_title": "Analyst", "country": "Germany"}
    status, _, _, post_s = call(port, "POST", "/reports/pacs/sample", urlencode(fields).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}",
        "Sec-Fetch-Site": "same-origin", "Cookie": cookie, "X-Forwarded-For": ip})
    return status, get_s, post_s


def confirm(port: int, link: str) -> tuple[int, float]:
    token = link.rsplit("/", 1)[1]
    status, _, _, seconds = call(port, "POST", "/confirm", urlencode({"token": token}).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}",
        "Sec-Fetch-Site": "same-origin"})
    return status, seconds


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else 0.0


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--decoys", type=int, default=50)
    args = parser.parse_args()
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    work = Path(tempfile.mkdtemp(prefix="pacspdf-web-load-"))
    shutil.copytree(REPO / "content" / "pacs", work / "content" / "pacs")
    shutil.copytree(REPO / "assets", work / "assets")
    port = free_port()
    env = {**os.environ, "PACSPDF_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
           "PACSPDF_PUBLIC_URL": f"http://127.0.0.1:{port}", "PACSPDF_TRUSTED_PROXIES": "127.0.0.1",
           "PACSPDF_MIN_FILL_SECONDS": "0", "PACSPDF_SMTP_HOST": "127.0.0.1",
           "PACSPDF_SMTP_PORT": str(smtp.port), "PACSPDF_SMTP_SECURITY": "none"}
    log = open(work / "serve.log", "w")  # noqa: SIM115  (closed below, after the server)
    server = subprocess.Popen([sys.executable, "-m", "pacspdf", "serve", "--port", str(port), "--transport",
                               "smtp"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_for(lambda: _healthy(port), 180):
            print(f"server did not start; see {work / 'serve.log'}")
            return 1
        total = args.requests + args.decoys
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(lambda n: request_sample(port, n), range(total)))
        phase1 = time.perf_counter() - started
        statuses = Counter(r[0] for r in results)
        posts = [r[2] for r in results]
        gets = [r[1] for r in results]
        print(f"requests: {total} ({args.requests} to confirm + {args.decoys} decoys) from {args.clients} "
              f"clients in {phase1:.1f} s ({total / phase1:.0f}/s); statuses {dict(statuses)}")
        print(f"  page GET   p50 {pct(gets, 50):6.1f} ms   p95 {pct(gets, 95):6.1f} ms")
        print(f"  form POST  p50 {pct(posts, 50):6.1f} ms   p95 {pct(posts, 95):6.1f} ms")
        wait_for(lambda: len(sink.confirmations) >= total, 300)
        early_copies = len(sink.copies)
        decoys = {f"buyer{n}@company{n}.com" for n in range(args.requests, total)}
        links = [(rcpt, link) for rcpt, link in sink.confirmations if rcpt not in decoys]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            confirmed = list(pool.map(lambda rl: confirm(port, rl[1]), links))
        phase2 = time.perf_counter() - started
        ok = [r for r in confirmed if r[0] == 200]
        codes = dict(Counter(r[0] for r in confirmed))
        print(f"confirmations: {len(confirmed)} in {phase2:.1f} s; statuses {codes}")
        print(f"  confirm POST p50 {pct([r[1] for r in confirmed], 50):6.1f} ms   "
              f"p95 {pct([r[1] for r in confirmed], 95):6.1f} ms")
        started = time.perf_counter()
        wait_for(lambda: len(sink.copies) >= len(ok), 900)
        time.sleep(2.0)  # anything extra (a duplicate) would arrive now
        drain = time.perf_counter() - started
        copies = Counter(sink.copies)
        confirmation_counts = Counter(r for r, _ in sink.confirmations)
        wanted = {rcpt for rcpt, _ in links}
        lost = sum(1 for r in wanted if copies[r] == 0)
        duplicates = sum(c - 1 for c in copies.values() if c > 1) + \
            sum(c - 1 for c in confirmation_counts.values() if c > 1)
        unconfirmed = sum(copies[r] for r in decoys) + early_copies
        print(f"copies: {len(sink.copies)} mailed, the last {drain:.1f} s after the confirmations "
              f"({len(sink.copies) / max(drain, 0.001):.0f}/s)")
        print(f"lost {lost}, duplicates {duplicates}, mails to unconfirmed addresses {unconfirmed}, "
              f"other mails {len(sink.other)}")
        return 0 if (lost, duplicates, unconfirmed) == (0, 0, 0) and statuses == {303: total} else 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        smtp.stop()
        shutil.rmtree(work, ignore_errors=True)


def _healthy(port: int) -> bool:
    try:
        return call(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
