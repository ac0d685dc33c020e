"""A real ``pacspdf serve`` for tests: the Starlette app under uvicorn on 127.0.0.1, a real worker,
a real aiosmtpd sink, and a small HTTP client that speaks like a browser (cookies, Origin)."""

from __future__ import annotations

import email
import email.policy
import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import uvicorn

from pacspdf.web.app import make_app, server_config
from pacspdf.web.intake import Intake
from pacspdf.web.settings import load_settings
from pacspdf.web.site import prepare_report, write_site
from pacspdf.web.worker import Worker
from smtp_server import LoopbackController, ScriptedHandler

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
FIELDS = {"name": "Ada Lovelace", "email": "ada@analytical-engines.co.uk", "company": "Analytical Engines",
          "job_title": "Head of Research", "country": "United Kingdom"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running service and its mail sink."""

    url: str
    intake: Intake
    server: uvicorn.Server
    sink: ScriptedHandler
    db: Path
    root: Path
    worker: Worker | None
    sink_port: int = 0

    @property
    def origin(self) -> str:
        return self.url

    def client(self, **kw: object) -> Client:
        return Client(self.url, **kw)  # type: ignore[arg-type]

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.sink.received if address in r.rcpt_tos]


@contextmanager
def serve(root: Path, folders: list[Path], *, env: Mapping[str, str] | None = None, worker: bool = True,
          sink: ScriptedHandler | None = None, transport: str = "smtp",
          db: str | None = None) -> Iterator[Served]:
    """Start the sink, prepare the pages, start uvicorn and (optionally) the worker; stop all after.

    ``db``: a postgresql:// URL to keep the outbox and the web tables in (default: a SQLite file)."""
    handler = sink or ScriptedHandler()
    controller = LoopbackController(handler)
    controller.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environ = {"PACSPDF_PUBLIC_URL": url, "PACSPDF_SECRET_KEY": SECRET, "PACSPDF_MIN_FILL_SECONDS": "0",
               "PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(controller.port),
               "PACSPDF_SMTP_SECURITY": "none", **(env or {})}
    settings = load_settings(environ, require_key=True)
    site_dir = root / "site"
    db = Path(db) if db else root / "db" / "pacspdf.db"  # Path(): as the CLI passes it
    reports = [prepare_report(f, site_dir, root / "out") for f in folders]
    write_site(reports, site_dir, settings.public_url)
    the_worker = Worker(db, settings, pdf_dir=root / "out", environ=environ, poll=0.2) if worker else None
    intake = Intake(reports, db=db, settings=settings, site_dir=site_dir, pdf_dir=root / "out",
                    transport=transport, worker=the_worker)
    server = uvicorn.Server(server_config(make_app(intake), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield Served(url, intake, server, handler, db, root, the_worker, controller.port)
    finally:
        server.should_exit = True
        thread.join(30)
        controller.stop()


# ---------------------------------------------------------------------------- a browser-like client


class _Forms(HTMLParser):
    """The hidden inputs of every form on a page, by form action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._action = a.get("action") or ""
            self.forms[self._action] = {}
        elif tag == "input" and self._action is not None and a.get("type") == "hidden":
            self.forms[self._action][a.get("name") or ""] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None


def hidden_fields(html: str) -> dict[str, dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """HTTP/1.1 over one connection at a time, keeping cookies, sending Origin like a browser."""

    base: str
    origin: str | None = None
    sec_fetch_site: str | None = "same-origin"
    cookies: dict[str, str] = field(default_factory=dict)
    forwarded_for: str | None = None

    def __post_init__(self) -> None:
        if self.origin is None:
            self.origin = self.base

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Reply:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for:
            h["X-Forwarded-For"] = self.forwarded_for
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            for value in resp.headers.get_all("set-cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";")[0]
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None) -> Reply:
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.origin:
            h["Origin"] = self.origin
        if self.sec_fetch_site:
            h["Sec-Fetch-Site"] = self.sec_fetch_site
        h.update(headers or {})
        return self.request("POST", path, urlencode(fields).encode("ascii"), h)

    def submit(self, slug: str, kind: str = "sample", fields: Mapping[str, str] | None = None,
               extra: Mapping[str, str] | None = None) -> Reply:
        """Load the report page, then post its ``kind`` form with ``fields`` (default: FIELDS)."""
        page = self.get(f"/reports/{slug}/")
        assert page.status == 200, page.text[:300]
        hidden = hidden_fields(page.text)[f"/reports/{slug}/{kind}"]
        data = {**hidden, **(fields if fields is not None else FIELDS), **(extra or {})}
        return self.post(f"/reports/{slug}/{kind}", data)


def parse_mail(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def confirm_link(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    found = re.search(r"https?://\S+/confirm/\S+", body.get_content())
    assert found, "no confirmation link in the mail"
    return found.group(0)


def wait_until(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False
