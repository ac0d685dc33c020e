"""Attack the forms: header and markup injection through every field, over HTTP and into the mails."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy_content
from pacspdf.delivery.enquiries import Enquiry, validate_row
from pacspdf.delivery.message import as_bytes, context_from_content
from pacspdf.delivery.outbox import Entry, Outbox, State
from pacspdf.web.core import load
from pacspdf.web.mails import confirmation_message, sales_message
from selection import examples
from web_server import FIELDS, Served, serve

NASTY = ["\r\nBcc: victim@example.org", "\nX-Injected: 1", "<script>alert(1)</script>", "\"><img src=x>",
         "=?utf-8?b?PHNjcmlwdD4=?=", "\u202eevil", "\x00", "%0d%0aBcc:x@y.z", "{{ 7*7 }}", "{% raw %}",
         "Ünïcödé Ltd", "O'Brien & Sons", "a" * 300, " ", "\u2028", "\t"]
field_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60),
                       st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)))
emails = st.one_of(st.just(FIELDS["email"]), st.sampled_from([
    "a@b.co\r\nBcc: c@d.com", "x@y.com\nTo: z@w.com", "\"a b\"@c.com", "name <a@b.com>", "a@b.com, c@d.com",
    "user+tag@example-corp.com", "ü@exämple-corp.de", "a@[127.0.0.1]", "@@", "a" * 300 + "@b.com"]))

EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted", "reply-to",
                    "content-type", "content-transfer-encoding", "mime-version"}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> object:
    return context_from_content(load(copy_content(tmp_path_factory.mktemp("fuzz"))), environ={})


def _entry(e: Enquiry) -> Entry:
    return Entry(id=1, key="web:abc", state=State.QUEUED, reason="", attempts=0, report_slug="pacs",
                 report_dir="x", transport="smtp", source="web:question", row=0, enquiry_id="", email=e.email,
                 name=e.name, company=e.company, job_title=e.job_title, country=e.country, message=e.message,
                 message_id="<m@x>", copy_id="AAAA-BBBB-CCCC", prepared_at=None, warnings="",
                 server_reply="", created_at="", updated_at="", sent_at=None)


@settings(max_examples=examples(250), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=field_text, company=field_text, job=field_text, country=field_text, address=emails,
       question=field_text)
def test_mails_keep_typed_text_out_of_headers(ctx: object, name: str, company: str, job: str, country: str,
                                              address: str, question: str) -> None:
    """Whatever is typed: accepted values make mails with exactly the expected headers, one recipient,
    no typed text in the confirmation, and the question only in the sales mail's plain-text body."""
    values = {"name": name.strip(), "email": address.strip(), "company": company.strip(),
              "job_title": job.strip(), "country": country.strip(), "message": question.strip()}
    row = validate_row(values, 0, "web")
    if not isinstance(row, Enquiry):
        return
    confirm = confirmation_message(ctx, row.email, "https://x.example/confirm/T", "sample", 24,  # type: ignore[arg-type]
                                   "<c@x>")
    baseline = as_bytes(confirmation_message(ctx, "someone@example-corp.com",  # type: ignore[arg-type]
                                             "https://x.example/confirm/T", "sample", 24, "<c@x>"))
    raw = as_bytes(confirm)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert {k.lower() for k in parsed} <= EXPECTED_HEADERS
    assert [a.addr_spec for a in parsed["To"].addresses] == [row.email]
    text = raw.decode("utf-8", "replace")
    for typed in (row.name, row.company, row.job_title, row.country):
        if len(typed) >= 4 and typed not in baseline.decode("utf-8", "replace"):
            assert typed not in text
    try:
        sales = sales_message(ctx, _entry(row), False, "<s@x>")  # type: ignore[arg-type]
    except Exception as exc:  # a name the header cannot carry is refused, never mangled into headers
        assert type(exc).__name__ == "MessageRejected"
        return
    parsed = email.message_from_bytes(as_bytes(sales), policy=email.policy.default)
    assert {k.lower() for k in parsed} <= EXPECTED_HEADERS
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == [row.email]
    assert [a.addr_spec for a in parsed["To"].addresses] == ["sales@reliablemarketforecast.com"]
    assert parsed.get_content_type() == "text/plain"
    body = parsed.get_content().replace("\r\n", "\n")
    if row.message:
        assert row.message.replace("\r\n", "\n").replace("\r", "\n") in body.replace("\r", "\n")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("fuzz-http")
    folder = copy_content(root)
    env = {f"PACSPDF_LIMIT_PER_{k}": "1000000" for k in ("IP", "NETWORK", "EMAIL", "DOMAIN")}
    with serve(root, [folder], env=env, worker=False) as s:
        yield s


MARK = "<x-injected a='1'>"


@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(["name", "email", "company", "job_title", "country", "question", "website",
                               "marketing_consent", "form_token", "extra"]),
       payload=field_text, kind=st.sampled_from(["sample", "enquiry"]))
def test_http_forms_never_echo_markup_or_fail(served: Served, target: str, payload: str, kind: str) -> None:
    """Any value in any field: a clear page (303, 400, 403, 413, 422, 429), never a 500, never the
    typed markup back unescaped."""
    client = served.client()
    fields = {**FIELDS, "question": "What is in chapter 3?"}
    fields[target] = MARK + payload
    reply = client.submit("pacs", kind=kind, fields=fields) if target != "form_token" else \
        client.post(f"/reports/pacs/{kind}", fields)
    assert reply.status in (303, 400, 403, 413, 422, 429), (reply.status, reply.text[:300])
    assert MARK not in reply.text and "<x-injected" not in reply.text
    assert "Traceback" not in reply.text
    with Outbox(served.db) as ob:
        for entry in ob.recent([State.REFUSED], 1):   # printed by `pacspdf outbox` on a terminal
            assert entry.reason.isprintable() and entry.email.isprintable(), entry


def test_oversized_and_odd_bodies(served: Served) -> None:
    client = served.client()
    big = client.post("/reports/pacs/sample", {"name": "x" * 20000})
    assert big.status == 413
    odd = client.request("POST", "/reports/pacs/sample", b'{"name": "x"}',
                         {"Content-Type": "application/json", "Origin": served.url})
    assert odd.status == 415
    bad = client.request("POST", "/reports/pacs/sample", b"name=%ff%fe",
                         {"Content-Type": "application/x-www-form-urlencoded", "Origin": served.url})
    assert bad.status == 400
    twice = client.request("POST", "/reports/pacs/sample", b"name=a&name=b",
                           {"Content-Type": "application/x-www-form-urlencoded", "Origin": served.url})
    assert twice.status == 400
    assert client.get("/reports/pacs/../../etc/passwd").status == 404
    assert client.get("/reports/pacs/report.yaml").status == 404
    assert client.get("/confirm/" + "A" * 5000).status == 400


def test_refusal_pages_escape_what_was_typed(served: Served, tmp_path: Path) -> None:
    reply = served.client().submit("pacs", fields={**FIELDS, "email": "<b>bold</b>@x.com"})
    assert reply.status == 422
    assert "<b>bold</b>" not in reply.text


def test_a_name_shaped_like_an_encoded_word_stays_literal(ctx: object) -> None:
    """The copy's To header carries the typed name: "=?utf-8?q?evil=40x.com?=" must not become an address."""
    from datetime import UTC, datetime

    from pacspdf.delivery.message import MailTemplates, build_message

    for name in ("=?utf-8?q?evil=40attacker=2Ecom?=", "=?utf-8?q?X=0D=0AReply-To=3A_a=40evil.example?="):
        row = validate_row({**FIELDS, "name": name, "message": ""}, 0, "web")
        assert isinstance(row, Enquiry)
        msg = build_message(ctx, MailTemplates(ctx.templates_dir), row, pdf=b"%PDF-1.4", copy_id="A",  # type: ignore[attr-defined, arg-type]
                            message_id="<m@x>", date=datetime.now(UTC))
        parsed = email.message_from_bytes(as_bytes(msg), policy=email.policy.default)
        assert [a.addr_spec for a in parsed["To"].addresses] == [FIELDS["email"]]
        assert parsed["Reply-To"].addresses[0].addr_spec == "sales@reliablemarketforecast.com"
        sales = email.message_from_bytes(as_bytes(sales_message(ctx, _entry(row), False, "<s@x>")),  # type: ignore[arg-type]
                                         policy=email.policy.default)
        assert [a.addr_spec for a in sales["Reply-To"].addresses] == [FIELDS["email"]]
