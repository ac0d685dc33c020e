"""What `send` and `outbox` print: every outside value escaped, one record per line, nothing forged."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacspdf.cli import make_parser
from pacspdf.cli import send as commands
from pacspdf.content.load import load
from pacspdf.delivery.escape import visible
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.send import ReportBinding, RetryPolicy, SendOptions
from selection import examples
from smtp_server import fake_personaliser

REPO = Path(__file__).resolve().parents[2]
FAST = SendOptions(retry=RetryPolicy(attempts=1), sleep=lambda _s: None)
HOSTILE = [
    "\x1b[2J\x1b[H",                                  # clear the screen
    "\x1b]0;owned\x07",                               # set the terminal title
    "x\rrow 99: boss@corp.example: sent  <forged>",   # overwrite the line
    "x\nrow 99: boss@corp.example: sent  <forged>",   # a second, forged record
    "\u202eevil\u202c", "\u2028", "\x85", "\x00", "\x7f", "\x9b31m",
]


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


def clean_lines(text: str) -> list[str]:
    """Split printed output into lines, asserting no hidden or control character is left in any."""
    lines = text.split("\n")
    for line in lines:
        bad = [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
        assert not bad, f"control characters reached the terminal: {line!r}"
    return [line for line in lines if line]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "email", "company", "job_title", "country", "enquiry_id"])
        w.writerows(rows)
    return path


def test_visible_escapes_every_control_and_keeps_ordinary_text() -> None:
    """Escapes are visible backslash sequences; letters, accents and spaces are untouched."""
    assert visible("Zoë Ångström, O'Brien & Co") == "Zoë Ångström, O'Brien & Co"
    assert visible("a\x1b[31mb\r\nc\u202ed\u200be") == "a\\x1b[31mb\\r\\nc\\u202ed\\u200be"


@settings(max_examples=examples(200), deadline=None)
@given(st.text())
def test_visible_is_always_one_line_without_controls(text: str) -> None:
    """Any text at all comes out as one line with no control, format or separator character."""
    out = visible(text)
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in out)


def test_send_and_outbox_print_hostile_fields_escaped_one_record_per_line(
        tmp_path: Path, binding: ReportBinding) -> None:
    """Rejected rows with escapes and line breaks in every field print as one escaped line each."""
    rows = [[h, f"p{i}@example.com{h}", h, h, h, f"id-{i}"] for i, h in enumerate(HOSTILE)]
    rows.append(["Ana Souza", "ana@example.com", "Acme", "CTO", "Brazil", "ok-1"])
    csv_path = write_rows(tmp_path / "hostile.csv", rows)
    out = io.StringIO()
    db = tmp_path / "o.db"
    code = commands.run_send(make_parser().parse_args(["send", str(csv_path), "--db", str(db)]),
                             lambda _p: binding, options=FAST, out=out, err=io.StringIO(), environ={})
    assert code == 1
    lines = clean_lines(out.getvalue())
    assert len(lines) == len(rows) + 1                        # one per row, then the summary
    records = [line for line in lines if line.startswith(f"{csv_path}:")]
    assert len(records) == len(rows)                          # every row's line starts as a record
    sent = [line for line in records if re.match(r"[^ ]+:\d+: [^ ]+: sent", line)]
    assert len(sent) == 1 and "ana@example.com: sent" in sent[0]   # only Ana's; nothing forged
    shown = io.StringIO()
    assert commands.show_outbox(db, shown, limit=50) == 0
    outbox_lines = clean_lines(shown.getvalue())
    problems = [line for line in outbox_lines if re.match(r"  \d{4}-\d\d-\d\d .* rejected ", line)]
    assert len(problems) == len(HOSTILE)
    assert not any("boss@corp.example: sent" in line and "\\r" not in line and "\\n" not in line
                   for line in outbox_lines)
