"""The intake refuses abuse: over the caps, honeypot, too fast, disposable domains, cross-site posts,
replayed, expired or forged links. Each refusal is a clear page, recorded with its reason, and the
mail sink receives nothing for it."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import copy_content
from pacspdf.delivery.outbox import Outbox, State
from pacspdf.web.limits import client_ip
from pacspdf.web.settings import _networks
from pacspdf.web.store import WebStore
from pacspdf.web.tokens import Purpose, sign
from web_server import FIELDS, SECRET, Served, confirm_link, hidden_fields, serve, wait_until

pytestmark = pytest.mark.slow  # a server per test: about a minute in all

LOW_CAPS = {"PACSPDF_LIMIT_PER_EMAIL": "2", "PACSPDF_LIMIT_PER_IP": "3", "PACSPDF_LIMIT_PER_NETWORK": "4",
            "PACSPDF_LIMIT_PER_DOMAIN": "3", "PACSPDF_TRUSTED_PROXIES": "127.0.0.1"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_content(tmp_path_factory.mktemp("abuse"))


@pytest.fixture
def served(folder: Path, tmp_path: Path) -> Iterator[Served]:
    with serve(_root(folder, tmp_path), [folder], env=LOW_CAPS) as s:
        yield s


def _root(folder: Path, tmp_path: Path) -> Path:
    """A fresh root per test (own database), reusing the module's built PDF."""
    out = folder.parents[1] / "out"
    if out.exists() and not (tmp_path / "out").exists():
        (tmp_path / "out").symlink_to(out, target_is_directory=True)
    return tmp_path


def refusals(s: Served) -> list[str]:
    with Outbox(s.db) as ob:
        return [e.reason for e in ob.all() if e.state is State.REFUSED]


def states(s: Served) -> dict[State, int]:
    with Outbox(s.db) as ob:
        return {k: v for k, v in ob.counts().items() if v}


def nothing_more(s: Served, before: int) -> None:
    """The worker ran (it is woken by every request) and still nothing reached the sink."""
    assert s.worker is not None
    s.worker.wake()
    time.sleep(1.0)
    assert len(s.sink.received) == before, [r.rcpt_tos for r in s.sink.received[before:]]


def assert_refused(reply: object, status: int) -> None:
    assert reply.status == status, reply.text[:500]  # type: ignore[attr-defined]
    text = reply.text  # type: ignore[attr-defined]
    assert "<h1>" in text and "Traceback" not in text and "Internal Server Error" not in text


def as_visitor(s: Served, ip: str, email: str) -> object:
    c = s.client(forwarded_for=ip)
    return c.submit("pacs", fields={**FIELDS, "email": email})


def test_daily_caps_per_email_ip_network_and_domain(served: Served) -> None:
    """Each cap lets its quota through, refuses the next (429), and the refused get no mail."""
    s = served
    ok = [as_visitor(s, f"203.0.113.{n}", "one@alpha-labs.com") for n in (7, 8)]
    assert [r.status for r in ok] == [303, 303]
    assert_refused(as_visitor(s, "203.0.113.9", "ONE@alpha-labs.com"), 429)          # per email (case)
    assert wait_until(lambda: len(s.sink.received) == 2)
    for n in range(1, 4):                                                           # per IP: 3
        assert as_visitor(s, "198.51.100.20", f"p{n}@beta-{n}.com").status == 303
    assert_refused(as_visitor(s, "198.51.100.20", "p9@beta-9.com"), 429)
    # per /24: 198.51.100.0/24 has 3 (counted above); one more from another host there reaches 4
    assert as_visitor(s, "198.51.100.21", "q1@gamma-1.com").status == 303
    assert_refused(as_visitor(s, "198.51.100.22", "q2@gamma-2.com"), 429)
    for n in range(3):                                                              # per domain: 3
        assert as_visitor(s, f"192.0.2.{10 + n * 40}", f"d{n}@delta-corp.com").status == 303
    assert_refused(as_visitor(s, "192.0.2.250", "d9@delta-corp.com"), 429)
    accepted = 2 + 3 + 1 + 3
    assert wait_until(lambda: len(s.sink.received) == accepted)
    nothing_more(s, accepted)
    reasons = refusals(s)
    for kind in ("email", "ip", "net", "domain"):
        assert f"over the daily cap per {kind}" in reasons
    assert states(s) == {State.UNCONFIRMED: accepted, State.REFUSED: 4}


def _admit_many(args: tuple[str, int]) -> int:
    db, n = args
    store = WebStore(db)
    return sum(store.admit({"email": "email:shared"}, {"email": 7}) is None for _ in range(n))


def test_caps_hold_across_processes(tmp_path: Path) -> None:
    """Four processes admitting against one counter in one database let exactly the cap through."""
    db = str(tmp_path / "shared.db")
    WebStore(db)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        admitted = pool.map(_admit_many, [(db, 10)] * 4)
    assert sum(admitted) == 7


def test_honeypot(served: Served) -> None:
    reply = served.client().submit("pacs", extra={"website": "https://spam.example"})
    assert_refused(reply, 400)
    assert "honeypot field filled" in refusals(served)
    nothing_more(served, 0)


def test_too_fast(folder: Path, tmp_path: Path) -> None:
    with serve(_root(folder, tmp_path), [folder], env={"PACSPDF_MIN_FILL_SECONDS": "30"}) as s:
        reply = s.client().submit("pacs")
        assert_refused(reply, 400)
        assert "quicker than a person" in reply.text
        assert any(r.startswith("sent ") and "minimum 30 s" in r for r in refusals(s))
        nothing_more(s, 0)


@pytest.mark.parametrize("address", ["someone@mailinator.com", "x@guerrillamail.com", "y@sub.mailinator.com"])
def test_disposable_domains(served: Served, address: str) -> None:
    reply = served.client().submit("pacs", fields={**FIELDS, "email": address})
    assert_refused(reply, 422)
    assert any(r.startswith("disposable email domain") for r in refusals(served))
    nothing_more(served, 0)


def test_business_email_only(folder: Path, tmp_path: Path) -> None:
    with serve(_root(folder, tmp_path), [folder], env={"PACSPDF_BUSINESS_EMAIL_ONLY": "yes"}) as s:
        assert_refused(s.client().submit("pacs", fields={**FIELDS, "email": "ada@gmail.com"}), 422)
        assert s.client().submit("pacs").status == 303
        assert wait_until(lambda: len(s.sink.received) == 1)
        assert s.sink.received[0].rcpt_tos == [FIELDS["email"]]
        nothing_more(s, 1)


def test_cross_site_posts(served: Served) -> None:
    """Foreign Origin, cross-site Sec-Fetch-Site, and neither header without the form cookie: refused.
    Neither header but the form's cookie (old browsers): accepted, the token fallback."""
    s = served
    assert_refused(s.client(origin="https://evil.example").submit("pacs"), 403)
    assert_refused(s.client(sec_fetch_site="cross-site").submit("pacs"), 403)
    assert_refused(s.client(sec_fetch_site="same-site").submit("pacs"), 403)
    bare = s.client(origin="", sec_fetch_site=None)
    page = bare.get("/reports/pacs/")
    hidden = hidden_fields(page.text)["/reports/pacs/sample"]
    bare.cookies.clear()                                                  # a forged post carries no cookie
    assert_refused(bare.post("/reports/pacs/sample", {**hidden, **FIELDS}), 403)
    nothing_more(s, 0)
    reasons = refusals(s)
    assert any("foreign origin (https://evil.example)" in r for r in reasons)
    assert any("Sec-Fetch-Site: cross-site" in r for r in reasons)
    assert any("without Origin or Sec-Fetch-Site" in r for r in reasons)
    fallback = s.client(origin="", sec_fetch_site=None)
    assert fallback.submit("pacs").status == 303
    assert wait_until(lambda: len(s.sink.received) == 1)


def test_forged_form_token_and_wrong_form(served: Served) -> None:
    c = served.client()
    assert_refused(c.post("/reports/pacs/sample", {**FIELDS, "form_token": "x.y"}), 400)
    page = c.get("/reports/pacs/")
    enquiry_token = hidden_fields(page.text)["/reports/pacs/enquiry"]
    assert_refused(c.post("/reports/pacs/sample", {**enquiry_token, **FIELDS}), 400)
    nothing_more(served, 0)
    assert {"form token missing or forged", "form token made for another form"} <= set(refusals(served))


def _confirmed(s: Served) -> tuple[object, str]:
    c = s.client()
    assert c.submit("pacs").status == 303
    assert wait_until(lambda: len(s.sink.received) == 1)
    path = confirm_link(s.sink.received[0].message).removeprefix(s.url)
    return c, path


def test_replayed_link(served: Served) -> None:
    """The second use of a confirmation link is refused, and only one copy is ever mailed."""
    s = served
    c, path = _confirmed(s)
    token = path.rsplit("/", 1)[1]
    assert c.post("/confirm", {"token": token}).status == 200            # type: ignore[attr-defined]
    assert wait_until(lambda: len(s.sink.received) == 2)
    assert_refused(c.post("/confirm", {"token": token}), 409)            # type: ignore[attr-defined]
    assert_refused(c.get(path), 409)                                     # type: ignore[attr-defined]
    nothing_more(s, 2)
    assert any(r.startswith("confirmation link replayed") for r in refusals(s))
    assert states(s)[State.SENT] == 1


def test_expired_and_forged_links(served: Served) -> None:
    s = served
    c, path = _confirmed(s)
    token = path.rsplit("/", 1)[1]
    request_id = s.intake.store._conn().execute("SELECT id FROM web_request").fetchone()[0]
    expired = sign(SECRET.encode(), Purpose.CONFIRM, request_id, 60, now=time.time() - 3600)
    assert_refused(c.post("/confirm", {"token": expired}), 410)          # type: ignore[attr-defined]
    other_key = sign(b"another-secret-key-of-enough-length-000", Purpose.CONFIRM, request_id, 3600)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    download_as_confirm = sign(SECRET.encode(), Purpose.DOWNLOAD, request_id, 3600)
    for forged in (other_key, flipped, download_as_confirm, "", "a.b.c", "%00"):
        assert_refused(c.post("/confirm", {"token": forged}), 400)       # type: ignore[attr-defined]
    assert_refused(c.get("/download/" + sign(SECRET.encode(), Purpose.DOWNLOAD, request_id, 3600)), 400)  # type: ignore[attr-defined]
    nothing_more(s, 1)
    reasons = refusals(s)
    assert "confirmation link expired" in reasons and "confirmation link forged" in reasons
    assert states(s)[State.UNCONFIRMED] == 1


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    trusted = _networks({"x": "10.0.0.0/8, 127.0.0.1"}, "x")
    assert client_ip("198.51.100.1", "1.2.3.4", trusted) == "198.51.100.1"       # not a proxy: ignored
    assert client_ip("10.1.1.1", "1.2.3.4", trusted) == "1.2.3.4"
    assert client_ip("10.1.1.1", "6.6.6.6, 1.2.3.4, 10.2.2.2", trusted) == "1.2.3.4"  # spoofed hop left
    assert client_ip("10.1.1.1", "not-an-ip", trusted) == "10.1.1.1"
    assert client_ip("10.1.1.1", "10.9.9.9", trusted) == "10.9.9.9"


def test_untrusted_forwarded_for_cannot_dodge_the_ip_cap(folder: Path, tmp_path: Path) -> None:
    env = {**LOW_CAPS, "PACSPDF_TRUSTED_PROXIES": "10.0.0.1", "PACSPDF_LIMIT_PER_NETWORK": "100"}
    with serve(_root(folder, tmp_path), [folder], env=env) as s:
        statuses = [as_visitor(s, f"203.0.113.{n}", f"u{n}@epsilon-{n}.com").status for n in range(5)]
        assert statuses == [303, 303, 303, 429, 429]


def test_request_expired_before_its_click(served: Served) -> None:
    """An unconfirmed request past its time is refused by the worker's sweep; its link then says so."""
    s = served
    c, path = _confirmed(s)
    with Outbox(s.db) as ob:
        assert ob.expire_unconfirmed("9999-12-31", "not confirmed within 24 hours") == 1
    assert_refused(c.get(path), 410)                                     # type: ignore[attr-defined]
    token = path.rsplit("/", 1)[1]
    assert_refused(c.post("/confirm", {"token": token}), 410)            # type: ignore[attr-defined]
    nothing_more(s, 1)
    assert "not confirmed within 24 hours" in refusals(s)
    assert states(s) == {State.REFUSED: 3}
