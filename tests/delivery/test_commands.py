"""`pacspdf send` and `pacspdf outbox [retry]`: arguments, per-row report, exit codes, real copies."""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from enquiry_files import write_csv
from pacspdf.cli import main, make_parser
from pacspdf.cli import send as commands
from pacspdf.content.load import load
from pacspdf.delivery.batch import default_binding
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.send import ReportBinding, RetryPolicy, SendOptions
from pacspdf.document.personal import sidecar_path
from smtp_server import (
    LoopbackController,
    ScriptedHandler,
    Server,
    attachment,
    fake_personaliser,
    free_port,
    page_one_text,
)

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "content" / "pacs"
FAST = SendOptions(retry=RetryPolicy(attempts=2, first_delay=0.001), sleep=lambda _s: None)
PEOPLE = [("Ana Souza", "ana@example.com", "Acme Imaging", "CTO", "Brazil"),
          ("Bo Lindqvist", "bo@example.com", "Nordic Radiology", "Head of IT", "Sweden")]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def fake_binding() -> ReportBinding:
    ctx = context_from_content(load(REPORT), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


def args(*argv: str) -> argparse.Namespace:
    return make_parser().parse_args(list(argv))


def smtp_env(port: int) -> dict[str, str]:
    return {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(port), "PACSPDF_SMTP_SECURITY": "none"}


def test_cli_registers_send_and_outbox_with_the_contracted_options() -> None:
    """send takes ENQUIRIES.csv --report --transport --db; outbox takes --db, before or after `retry`.
    Without --report, send uses the only report under content/ (resolved when it runs)."""
    a = args("send", "e.csv")
    assert (a.func.__name__, a.enquiries, a.report, a.transport, a.db) == (
        "cmd_send", "e.csv", None, "file", "out/pacspdf.db")
    a = args("send", "e.csv", "--report", "content/x", "--transport", "smtp", "--db", "d.db")
    assert (a.report, a.transport, a.db) == ("content/x", "smtp", "d.db")
    assert args("outbox").func.__name__ == "cmd_outbox"
    retry = args("outbox", "retry", "--db", "x.db")
    assert (retry.func.__name__, retry.db) == ("cmd_retry", "x.db")
    assert args("outbox", "--db", "y.db", "retry").db == "y.db"
    with pytest.raises(SystemExit) as info:
        args("send", "e.csv", "--transport", "pigeon")
    assert info.value.code == 2


def test_cli_parser_does_not_import_the_mail_stack() -> None:
    """Building the CLI parser (as --help and check do) imports no email, SMTP or SQLite code."""
    code = ("import sys, pacspdf.cli; pacspdf.cli.make_parser(); "
            "heavy = [m for m in ('pacspdf.cli.send', 'pacspdf.delivery.batch', 'smtplib', 'sqlite3', "
            "'email_validator') "
            "if m in sys.modules]; print(heavy); raise SystemExit(bool(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_send_reports_each_row_and_a_summary(tmp_path: Path, fake_binding: ReportBinding) -> None:
    """Each row gets one line (where, email, outcome, detail) and the summary counts every outcome."""
    path = write_csv(tmp_path / "e.csv", [*PEOPLE, ("No Email", "", "", "", "")])
    out = io.StringIO()
    code = commands.run_send(args("send", str(path), "--db", str(tmp_path / "o.db")), lambda _p: fake_binding,
                             options=FAST, out=out, err=io.StringIO())
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[0].startswith(f"{path}:2: ana@example.com: sent  <")
    assert lines[1].startswith(f"{path}:3: bo@example.com: sent  <")
    assert lines[2] == f"{path}:4: -: rejected  email: missing"
    assert lines[3] == ("3 rows: 2 sent, 0 already sent, 0 queued, 0 failed, 1 rejected "
                        f"(file transport: {tmp_path / 'outbox'})")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_rerun_of_a_clean_batch_exits_0(tmp_path: Path, fake_binding: ReportBinding) -> None:
    """Exit code 0 when every row is delivered, now or by an earlier run."""
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    a = args("send", str(path), "--db", str(tmp_path / "o.db"))
    assert commands.run_send(a, lambda _p: fake_binding, options=FAST, out=io.StringIO()) == 0
    out = io.StringIO()
    assert commands.run_send(a, lambda _p: fake_binding, options=FAST, out=out) == 0
    assert "0 sent, 2 already sent" in out.getvalue()


@pytest.mark.parametrize(("argv", "expected"), [
    (["send", "{tmp}/missing.csv"], "pacspdf: {tmp}/missing.csv: file not found\n"),
    (["send", "{tmp}/cols.csv"], "pacspdf: {tmp}/cols.csv:1: column 'phone' is not known; expected "
                                 "name,email,company,job_title,country (optional: enquiry_id,message)\n"),
    (["send", "{tmp}/ok.csv", "--transport", "smtp"],
     "pacspdf: environment: PACSPDF_SMTP_HOST is not set (the SMTP server for --transport smtp)\n"),
    (["outbox", "--db", "{tmp}/none.db"], "pacspdf: {tmp}/none.db: no outbox here yet (run `pacspdf send` "
                                          "first)\n"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                           expected: str) -> None:
    """Bad input is exit 2 and one line on stderr naming the file or variable and the field, no traceback."""
    for var in ("PACSPDF_SMTP_HOST", "PACSPDF_SMTP_PORT", "PACSPDF_SMTP_SECURITY"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "cols.csv").write_text("name,email,company,job_title,country,phone\n")
    write_csv(tmp_path / "ok.csv", PEOPLE)
    code = main([a.format(tmp=tmp_path) for a in argv])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == expected.format(tmp=tmp_path)
    assert captured.out == ""


def test_outbox_shows_counts_and_latest_problems(tmp_path: Path, server: Server, outbox_target: str,
                                                 fake_binding: ReportBinding) -> None:
    """`outbox` lists the count per state and the latest failures and rejections with their reasons
    (the same lines from the SQLite file and from PostgreSQL)."""
    controller, handler = server
    handler.rcpt_replies["bo@example.com"] = "550 5.1.1 No such user"
    path = write_csv(tmp_path / "e.csv", [*PEOPLE, ("X", "x(at)example.com", "", "", "")])
    db = outbox_target   # as typed: a URL keeps its `//`
    commands.run_send(args("send", str(path), "--db", str(db), "--transport", "smtp"),
                      lambda _p: fake_binding, options=FAST, out=io.StringIO(),
                      environ=smtp_env(controller.port))
    out = io.StringIO()
    assert commands.show_outbox(db, out) == 0
    text = out.getvalue()
    assert f"{db}: 3 enquiries" in text
    assert "  sent           1" in text and "  failed         1" in text and "  rejected       1" in text
    assert "failed   bo@example.com [e.csv:3]" in text and "RCPT TO: 550 5.1.1 No such user" in text
    assert "rejected x(at)example.com [e.csv:4]" in text


def test_outbox_retry_sends_what_an_unreachable_server_left_queued(tmp_path: Path, outbox_target: str,
                                                                    fake_binding: ReportBinding) -> None:
    """`send` to a dead server stops with rows queued (exit 1); `outbox retry` later delivers each once
    (on either store)."""
    path = write_csv(tmp_path / "e.csv", PEOPLE)
    db = outbox_target
    out = io.StringIO()
    code = commands.run_send(args("send", str(path), "--db", str(db), "--transport", "smtp"),
                             lambda _p: fake_binding, options=FAST, out=out, environ=smtp_env(free_port()))
    assert code == 1
    assert "stopped early: connection to 127.0.0.1:" in out.getvalue()
    assert "0 sent, 0 already sent, 2 queued" in out.getvalue()

    handler = ScriptedHandler()
    controller = LoopbackController(handler)
    controller.start()
    try:
        out = io.StringIO()
        code = commands.run_retry(args("outbox", "retry", "--db", str(db)), lambda _p: fake_binding,
                                  options=FAST, out=out, environ=smtp_env(controller.port))
    finally:
        controller.stop()
    assert code == 0, out.getvalue()
    assert "2 queued: 2 sent" in out.getvalue()
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == ["ana@example.com", "bo@example.com"]
    out = io.StringIO()
    assert commands.run_retry(args("outbox", "retry", "--db", str(db)), lambda _p: fake_binding, out=out) == 0
    assert out.getvalue() == "nothing to retry: no queued messages\n"


def test_long_batch_on_a_terminal_draws_a_progress_bar(tmp_path: Path, fake_binding: ReportBinding,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal a long batch shows a bar on stderr, and the per-row report follows it on stdout."""
    monkeypatch.setenv("TERM", "xterm")
    rows = [(f"Person {i}", f"p{i}@example.com", "Co", "Job", "UK") for i in range(25)]
    out, err = io.StringIO(), Tty()
    commands.run_send(args("send", str(write_csv(tmp_path / "e.csv", rows)), "--db", str(tmp_path / "o.db")),
                      lambda _p: fake_binding, options=FAST, out=out, err=err)
    assert "\rsending [" in err.getvalue() and "25/25  25 ok, 0 not" in err.getvalue()
    assert len(out.getvalue().splitlines()) == 26


@pytest.fixture
def real_binding(tmp_path: Path, sample_pdf) -> ReportBinding:  # type: ignore[no-untyped-def]
    """The real personaliser over the session's base build (copied, so nothing is rebuilt)."""
    out = tmp_path / "base"
    out.mkdir()
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    return default_binding(REPORT, out)


def test_real_copies_name_each_enquirer_on_page_one(tmp_path: Path, server: Server,
                                                    real_binding: ReportBinding) -> None:
    """Real copies name each enquirer on page 1 (CJK in the brand's fallback font), and a name in
    a script no font has (Ol Chiki) falls back to the email."""
    # The Ol Chiki row still goes out, addressed to the email, and carries the personaliser's warning.
    controller, handler = server
    people = [("Zoë Ångström", "zoe@example.com", "Hôpital Nord", "CIO", "France"),
              ("Σωκράτης Παπαδόπουλος", "sokratis@example.gr", "Ιατρική ΑΕ", "CTO", "Greece"),
              ("Анна Каренина", "anna@example.ru", "Клиника", "Radiologist", "Russia"),
              ("李小龙", "li@example.cn", "龙医院", "CEO", "China"),
              ("अभिषेक क्षत्रिय", "abhishek@example.in", "दिल्ली डायग्नोस्टिक्स", "CEO", "India"),
              ("ᱥᱟᱱᱛᱟᱲᱤ ᱢᱟᱨᱰᱤ", "santal@example.in", "ᱨᱟᱧᱪᱤ ᱦᱚᱥᱯᱤᱴᱟᱞ", "CEO", "India")]
    out = io.StringIO()
    code = commands.run_send(args("send", str(write_csv(tmp_path / "e.csv", people)), "--db",
                                  str(tmp_path / "o.db"), "--transport", "smtp"),
                             lambda _p: real_binding, options=FAST, out=out,
                             environ=smtp_env(controller.port))
    assert code == 0, out.getvalue()
    for name, address, company, *_ in people:
        (got,) = handler.to(address)
        msg = got.message
        filename, pdf = attachment(msg)
        assert filename == "pacs-sample.pdf"
        first_page = " ".join(page_one_text(pdf).split())
        if address == "santal@example.in":
            assert address in first_page and name not in first_page
        else:
            assert name in first_page and company in first_page
        info = pypdf.PdfReader(io.BytesIO(pdf)).metadata
        assert info is not None and info["/CopyID"] == msg["X-Pacspdf-Copy-Id"]
    assert ("    warning: name or company contains characters the brand and fallback fonts cannot show"
            in out.getvalue())
