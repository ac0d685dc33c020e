"""The intake end to end over HTTP: request, confirmation mail, confirm, personalised copy by mail and
by download; a question for the sales team; health, access log, outbox listing and graceful stop."""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest

from conftest import copy_content
from pacspdf.build import ensure_base
from pacspdf.cli.send import show_outbox
from pacspdf.delivery.outbox import Outbox, State
from smtp_server import ScriptedHandler
from web_server import FIELDS, Served, confirm_link, hidden_fields, serve, wait_until


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's content, with its base PDF built once in ``<root>/out`` for every test here."""
    folder = copy_content(tmp_path_factory.mktemp("flow"))
    ensure_base(folder, folder.parents[1] / "out")
    return folder


@pytest.fixture
def served(folder: Path, tmp_path: Path) -> Iterator[Served]:
    out = folder.parents[1] / "out"
    if out.exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    with serve(tmp_path, [folder]) as s:
        yield s


@pytest.fixture
def served_on_each_store(folder: Path, tmp_path: Path, outbox_target: str) -> Iterator[Served]:
    """The service with its outbox and web tables in a SQLite file, then in PostgreSQL."""
    out = folder.parents[1] / "out"
    if out.exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    db = outbox_target if outbox_target.startswith("postgresql:") else None
    with serve(tmp_path, [folder], db=db) as s:
        yield s


def page_one_text(pdf: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def pdf_of(msg: object) -> bytes:
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]  # type: ignore[attr-defined]
    assert len(parts) == 1
    return bytes(parts[0].get_content())


def confirm(s: Served, client: object, index: int = 0) -> str:
    """Follow the link of the ``index``-th mail and press the button; the confirmation page."""
    link = confirm_link(s.sink.received[index].message)
    path = link.removeprefix(s.url)
    assert path != link, "the link points at the service's public URL"
    page = client.get(path)  # type: ignore[attr-defined]
    assert page.status == 200 and "Confirm your request" in page.text
    token = hidden_fields(page.text)["/confirm"]["token"]
    done = client.post("/confirm", {"token": token})  # type: ignore[attr-defined]
    assert done.status == 200, done.text[:300]
    return str(done.text)


def test_sample_request_end_to_end(served_on_each_store: Served) -> None:
    """Only a confirmation mail (no typed text in it) until the click; then the copy by mail and download
    (on either store: the tokens, counters and mails live beside the outbox)."""
    s = served_on_each_store
    fields = {**FIELDS, "name": "Zebedee Quattlebaum", "company": "Quillfeather Imaging Ltd",
              "job_title": "Chief Radiology Officer", "country": "Iceland"}
    client = s.client()
    reply = client.submit("pacs", fields=fields)
    assert reply.status == 303 and reply.headers["location"] == "/reports/pacs/requested"
    assert "check your inbox" in client.get("/reports/pacs/requested").text.lower()
    assert wait_until(lambda: len(s.sink.received) == 1)
    time.sleep(0.5)
    assert len(s.sink.received) == 1, "nothing but the confirmation mail before the click"
    mail = s.sink.received[0]
    assert mail.rcpt_tos == [fields["email"]]
    raw = mail.data.decode("utf-8", "replace")
    for typed in ("Zebedee", "Quattlebaum", "Quillfeather", "Chief Radiology", "Iceland"):
        assert typed not in raw, f"typed text {typed!r} in the confirmation mail"
    assert not list(mail.message.iter_attachments())
    with Outbox(s.db) as ob:
        assert [e.state for e in ob.all()] == [State.UNCONFIRMED]
    done = confirm(s, client)
    assert "Your request is confirmed" in done
    assert wait_until(lambda: len(s.sink.received) == 2)
    copy = s.sink.received[1]
    assert copy.rcpt_tos == [fields["email"]]
    pdf = pdf_of(copy.message)
    assert "Zebedee Quattlebaum" in page_one_text(pdf)
    download = re.search(r'href="(/download/[^"]+)"', done)
    assert download
    got = client.get(download.group(1))
    assert got.status == 200 and got.headers["content-type"] == "application/pdf"
    assert "attachment" in got.headers["content-disposition"]
    assert "Zebedee Quattlebaum" in page_one_text(got.body)
    with Outbox(s.db) as ob:
        (entry,) = ob.all()
    assert entry.state is State.SENT and entry.copy_id
    assert entry.copy_id in got.body.decode("latin-1")                  # the same copy as the one mailed


def test_question_goes_to_sales(served: Served) -> None:
    """A confirmed question is mailed to the brand's sales address as plain text, replying to the visitor."""
    s = served
    client = s.client()
    question = "Do you cover <b>veterinary</b> PACS?\nAnd Bcc: someone@else.example"
    reply = client.submit("pacs", kind="enquiry", extra={"question": question})
    assert reply.status == 303
    assert wait_until(lambda: len(s.sink.received) == 1)
    assert "veterinary" not in s.sink.received[0].data.decode()
    confirm(s, client)
    assert wait_until(lambda: len(s.sink.received) == 3)
    sales = s.mails_to("sales@reliablemarketforecast.com")
    assert len(sales) == 1
    msg = sales[0]
    assert msg.get_content_type() == "text/plain"
    assert question in msg.get_content().replace("\r\n", "\n")
    assert msg["Reply-To"].addresses[0].addr_spec == FIELDS["email"]
    assert msg["Bcc"] is None and "someone@else" not in str(msg["To"])
    assert "Pre-purchase question" in msg["Subject"] and "veterinary" not in msg["Subject"]
    assert len(s.mails_to(FIELDS["email"])) == 2                          # confirmation, then the sample


def test_health_access_log_and_outbox_listing(served: Served, caplog: pytest.LogCaptureFixture,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    s = served
    caplog.set_level(logging.INFO, logger="pacspdf.web.access")
    client = s.client()
    health = client.get("/healthz")
    assert health.status == 200 and b'"worker":"running"' in health.body
    assert client.get("/").status == 200
    assert client.get("/reports/nope/").status == 404
    client.submit("pacs")
    client.submit("pacs", extra={"website": "filled"})
    def access_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "pacspdf.web.access"]

    # the server logs a request after its reply went out: on a busy machine, a moment later
    assert wait_until(lambda: len([ln for ln in access_lines() if ln.startswith("POST ")]) >= 2)
    lines = access_lines()
    assert any(line.startswith("GET /healthz 200 ") for line in lines)
    assert any(line.startswith("POST /reports/pacs/sample 303 ") for line in lines)
    assert len([ln for ln in lines if ln.startswith("POST ")]) == 2      # one line per request
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for personal in (FIELDS["email"], FIELDS["name"], FIELDS["company"], "127.0.0.1 "):
        assert personal not in logged
    assert "net=127.0.0.0/24" in lines[0]
    assert show_outbox(s.db, __import__("sys").stdout) == 0
    out = capsys.readouterr().out
    assert re.search(r"unconfirmed\s+1", out) and re.search(r"refused\s+1", out)
    assert "honeypot field filled" in out
    headers = client.get("/reports/pacs/").headers
    assert headers["referrer-policy"] == "same-origin"
    assert "script-src 'none'" in headers["content-security-policy"]


@pytest.mark.slow
def test_stop_finishes_the_message_in_flight(folder: Path, tmp_path: Path) -> None:
    """A stop asked for while the copy is on the wire waits for it, and the outbox records it sent."""
    out = folder.parents[1] / "out"
    if out.exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    in_data = threading.Event()

    def slow(rcpt: str, kept: int) -> None:
        if kept >= 1:                     # the copy, not the confirmation
            in_data.set()
            time.sleep(1.5)

    with serve(tmp_path, [folder], sink=ScriptedHandler(on_data=slow)) as s:
        client = s.client()
        client.submit("pacs")
        assert wait_until(lambda: len(s.sink.received) == 1)
        confirm(s, client)
        assert in_data.wait(20)
        assert s.worker is not None
        started = time.time()
        s.worker.stop(timeout=30)
        assert time.time() - started > 0.5, "stop waited for the message on the wire"
        assert not s.worker.alive
        assert len(s.sink.received) == 2
        with Outbox(s.db) as ob:
            assert [e.state for e in ob.all()] == [State.SENT]


def test_served_forms_are_labelled(served: Served) -> None:
    """Every visible field of both forms has a label; the honeypot is hidden from people and AT."""
    from test_web_site import Page

    page = Page(served.client().get("/reports/pacs/").text)
    labels = {a.get("for") for a in page.all("label")}
    fields = [a for t, a in page.tags if t in ("input", "textarea") and a.get("type") != "hidden"]
    assert len(fields) >= 14
    for field in fields:
        assert field.get("id") in labels, field
    honeypots = [a for a in page.all("input") if a.get("name") == "website"]
    assert len(honeypots) == 2 and all(a.get("tabindex") == "-1" for a in honeypots)
    assert all(a.get("aria-hidden") == "true" for a in page.all("div") if a.get("class") == "hp")
    consent = [a for a in page.all("input") if a.get("name") == "marketing_consent"]
    assert consent and not any("checked" in a for a in consent)
    actions = {a.get("action") for a in page.all("form")}
    assert actions == {"/reports/pacs/sample", "/reports/pacs/enquiry"}


@pytest.mark.slow
def test_a_backlog_of_copies_does_not_hold_up_confirmation_mails(folder: Path, tmp_path: Path) -> None:
    """With 25 copies being sent, a new visitor's confirmation mail goes out within a turn of 10 copies."""
    from pacspdf.web.worker import COPIES_PER_TURN, Worker

    out = folder.parents[1] / "out"
    if out.exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    order: list[str] = []

    def slow(rcpt: str, kept: int) -> None:
        order.append(rcpt)
        time.sleep(0.05)

    env = {f"PACSPDF_LIMIT_PER_{k}": "1000" for k in ("IP", "NETWORK", "EMAIL", "DOMAIN")}
    with serve(tmp_path, [folder], env=env, sink=ScriptedHandler(on_data=slow), worker=False) as s:
        client = s.client()
        for n in range(25):
            assert client.submit("pacs", fields={**FIELDS, "email": f"backlog{n}@corp{n}.com"}).status == 303
        with Outbox(s.db) as ob:                      # confirmed, as if 25 people clicked at once
            for entry in ob.all():
                ob.confirm(entry.key)
        s.intake.store._conn().execute("UPDATE web_mail SET state = 'sent'")
        worker = Worker(s.db, s.intake.settings, pdf_dir=tmp_path / "out", poll=0.1, environ={
            "PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(s.sink_port),
            "PACSPDF_SMTP_SECURITY": "none"})
        s.intake.worker = worker
        worker.start()
        try:
            assert wait_until(lambda: len(order) >= 2, 60)
            started = len(order)
            assert client.submit("pacs", fields={**FIELDS, "email": "newcomer@fresh-corp.com"}).status == 303
            assert wait_until(lambda: len(s.sink.received) >= 26, 60)
        finally:
            worker.stop()
    assert order.index("newcomer@fresh-corp.com") <= started + COPIES_PER_TURN + 1, order
    assert order.index("newcomer@fresh-corp.com") < 25
