"""Clean failures: hostile settings, databases and CSVs end in exit 2 or a clear row state, no traceback."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_runner import CliRun, run_cli
from pacspdf.cli import make_parser
from pacspdf.cli import send as commands
from pacspdf.content.load import load
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import NewEntry, Outbox
from pacspdf.delivery.send import ReportBinding, RetryPolicy, SendOptions
from pacspdf.document.personal import sidecar_path
from pacspdf.errors import PacspdfError
from selection import examples, slow_except

REPO = Path(__file__).resolve().parents[2]
GOOD_CSV = "name,email,company,job_title,country\nAna Souza,ana@example.com,Acme,CTO,Brazil\n"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, sample_pdf) -> Path:  # type: ignore[no-untyped-def]
    """A folder whose out/ holds the session's base build, so `send` never rebuilds the PDF."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "out").mkdir()
    shutil.copy(sample_pdf.path, root / "out" / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(root / "out" / "pacs-sample.pdf"))
    (root / "good.csv").write_text(GOOD_CSV, encoding="utf-8")
    return root


def pacspdf(workdir: Path, *argv: str, env: dict[str, str] | None = None,
            envb: dict[bytes, bytes] | None = None) -> CliRun:
    """``pacspdf *argv`` in workdir (in this process, see cli_runner.py), without the caller's PACSPDF_*."""
    extra = ["--report", str(REPO / "content" / "pacs")] if argv[0] == "send" else []
    return run_cli([*argv, *extra], cwd=workdir, env=env, envb=envb)


def assert_clean(run: CliRun, *codes: int) -> str:
    err = run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert run.returncode in codes, (run.returncode, err, run.stdout[-2000:])
    if run.returncode == 2:
        assert err.strip(), "exit 2 without a message"
    return err


# ---------------------------------------------------------------------------- hostile settings

HOSTILE_ENV: list[tuple[str, dict[str, str]]] = [
    ("two senders", {"PACSPDF_MAIL_FROM": "a@example.com, b@example.com"}),
    ("sender and trailing text", {"PACSPDF_MAIL_FROM": "Pub <a@example.com> b@example.com"}),
    ("sender with a line break", {"PACSPDF_MAIL_FROM": "a@example.com\nBcc: x@y.example"}),
    ("sender not an address", {"PACSPDF_MAIL_FROM": "<<<>>>"}),
    ("sender undecodable", {"PACSPDF_MAIL_FROM": "Pub \udcff <a@example.com>"}),
    ("port huge", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": "99999999999999999999"}),
    ("port text", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": "twenty-five"}),
    ("port undecodable", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": "\udcff"}),
    ("security", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_SECURITY": "tls1.3\x1b[2J"}),
    ("timeout nan", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_TIMEOUT": "nan"}),
    ("timeout inf", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_TIMEOUT": "inf"}),
    ("timeout negative", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_TIMEOUT": "-5"}),
    ("timeout text", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_TIMEOUT": "soon"}),
    ("user without password", {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_USER": "ü"}),
]


@pytest.mark.parametrize("env", slow_except([e for _n, e in HOSTILE_ENV],
                                            keep=[HOSTILE_ENV[2][1], HOSTILE_ENV[9][1]]),
                         ids=[n for n, _e in HOSTILE_ENV])
def test_hostile_settings_exit_2_with_one_line_naming_the_variable(workdir: Path, env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """Each unusable PACSPDF_* value: exit 2, a message naming the variable, nothing sent."""
    transport = "smtp" if "PACSPDF_SMTP_HOST" in env else "file"
    run = pacspdf(workdir, "send", "good.csv", "--transport", transport, "--db", str(tmp_path / "o.db"),
                  env=env)
    err = assert_clean(run, 2)
    assert any(name in err for name in env if name != "PACSPDF_SMTP_HOST"), err
    assert not (tmp_path / "outbox").exists()  # nothing sent


@pytest.mark.parametrize("host", slow_except(["\udcff\udcfe.example", "-bad-.\x7f", "a" * 300, "[::1"],
                                             keep=["\udcff\udcfe.example", "[::1"]))
def test_unusable_smtp_hosts_leave_rows_queued_with_a_reason(workdir: Path, tmp_path: Path,
                                                             host: str) -> None:
    """A host that cannot even be looked up is a reason on the row, not a traceback."""
    env = {"PACSPDF_SMTP_HOST": host, "PACSPDF_SMTP_PORT": "2525", "PACSPDF_SMTP_SECURITY": "none",
           "PACSPDF_SMTP_TIMEOUT": "2", "PACSPDF_SMTP_BREAKER": "1"}  # one try, no backoff waits
    run = pacspdf(workdir, "send", "good.csv", "--transport", "smtp", "--db", str(tmp_path / "o.db"), env=env)
    assert_clean(run, 1, 2)
    if run.returncode == 1:
        con = sqlite3.connect(tmp_path / "o.db")
        assert [r[0] for r in con.execute("SELECT state FROM outbox")] == ["queued"]
        con.close()


# ---------------------------------------------------------------------------- hostile databases


def _filled(path: Path, rows: int = 400) -> Path:
    with Outbox(path) as ob:
        ob.record(NewEntry(key=f"k{i}", report_slug="pacs", report_dir="x", transport="file",
                           email=f"p{i}@example.com", name="N" * 200) for i in range(rows))
    return path


def _corrupt_page(path: Path) -> None:
    _filled(path)
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 + 8: page * 4096 + 200] = b"\xa5" * 192
    path.write_bytes(bytes(data))


def _foreign_table(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE outbox (id INTEGER, something TEXT)")
    con.commit()
    con.close()


def _unknown_state(path: Path) -> None:
    _filled(path, 3)
    con = sqlite3.connect(path)
    con.execute("PRAGMA ignore_check_constraints=ON")
    con.execute("UPDATE outbox SET state = 'exploded' WHERE key = 'k1'")
    con.commit()
    con.close()


def _newer(path: Path) -> None:
    _filled(path, 1)
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version=99")
    con.commit()
    con.close()


DATABASES: dict[str, Callable[[Path], None]] = {
    "random bytes": lambda p: p.write_bytes(os.urandom(8192)),
    "text": lambda p: p.write_text("not a database\n" * 500),
    "sqlite header, then garbage": lambda p: p.write_bytes(b"SQLite format 3\x00" + os.urandom(5000)),
    "truncated": lambda p: p.write_bytes(_filled(p).read_bytes()[:5000]),
    "corrupt page": _corrupt_page,
    "foreign outbox table": _foreign_table,
    "unknown state": _unknown_state,
    "newer schema": _newer,
    "a folder": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("command", slow_except(["outbox", "send", "retry"], keep=["outbox"]))
@pytest.mark.parametrize("kind", slow_except(DATABASES,
                                             keep=["random bytes", "corrupt page", "newer schema"]))
def test_damaged_or_foreign_databases_exit_2_without_a_traceback(workdir: Path, tmp_path: Path, kind: str,
                                                                command: str) -> None:
    """Every command on every kind of bad database: exit 2 and one line naming the file."""
    db = tmp_path / "o.db"
    DATABASES[kind](db)
    argv = {"outbox": ["outbox", "--db", str(db)], "retry": ["outbox", "retry", "--db", str(db)],
            "send": ["send", "good.csv", "--db", str(db)]}[command]
    run = pacspdf(workdir, *argv)
    err = assert_clean(run, 2)
    assert "o.db" in err


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    """An outbox whose file and folder are immutable (chattr +i): not even root may write them."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = _filled(folder / "o.db", 5)
    made = subprocess.run(["chattr", "+i", str(db), str(folder)], capture_output=True)
    if made.returncode != 0:
        if os.geteuid() == 0:
            pytest.skip("chattr +i is not supported here")
        folder.chmod(0o555)
        db.chmod(0o444)
    try:
        yield db
    finally:
        subprocess.run(["chattr", "-i", str(db), str(folder)], capture_output=True)
        folder.chmod(0o755)
        db.chmod(0o600)


def test_a_read_only_outbox_is_still_shown_and_says_so(workdir: Path, immutable: Path) -> None:
    """`pacspdf outbox` reads an immutable database and marks it read-only; send exits 2 cleanly."""
    run = pacspdf(workdir, "outbox", "--db", str(immutable))
    assert_clean(run, 0)
    out = run.stdout.decode()
    assert "5 enquiries" in out and "read-only" in out
    run = pacspdf(workdir, "send", "good.csv", "--db", str(immutable))
    err = assert_clean(run, 2)
    assert "read-only" in err or "readonly" in err or "cannot open" in err


def test_outbox_into_a_closed_pipe_ends_quietly(workdir: Path, tmp_path: Path) -> None:
    """`pacspdf outbox | head -1`: no BrokenPipeError, no traceback, nothing on stderr."""
    db = tmp_path / "o.db"
    with Outbox(db) as ob:
        ob.record(NewEntry(key=f"k{i}", report_slug="pacs", report_dir="x", transport="file",
                           state=__import__("pacspdf.delivery.outbox", fromlist=["State"]).State.REJECTED,
                           reason="x" * 20000, email=f"p{i}@example.com") for i in range(50))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSPDF_")}
    run = subprocess.run(f"'{sys.executable}' -m pacspdf outbox --db '{db}' | head -c 10 >/dev/null; "
                         "echo \"status=${PIPESTATUS[0]}\" >&2",
                         shell=True, executable="/bin/bash", cwd=workdir, env=env, capture_output=True,
                         timeout=60)
    err = run.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert err.strip().splitlines()[-1] == "status=141"  # the pipe did close under it


# ---------------------------------------------------------------------------- hostile CSVs

CSVS: dict[str, bytes] = {
    "latin-1": "name,email,company,job_title,country\nJosé,j@example.com,Acme,CTO,España\n".encode("latin-1"),
    "utf-16 with BOM": GOOD_CSV.encode("utf-16"),
    "NUL in a field": b"name,email,company,job_title,country\nA\x00na,a@example.com,A,B,C\n",
    "NUL in the header": b"na\x00me,email,company,job_title,country\n",
    "huge field": b"name,email,company,job_title,country\n" + b"A" * 200_000 + b",a@example.com,A,B,C\n",
    "wrong columns": b"nom,courriel\nAna,a@example.com\n",
    "duplicate column": b"name,email,email,company,job_title,country\n",
    "unclosed quote": b'name,email,company,job_title,country\n"Ana,a@example.com,A,B,C\n',
    "binary": bytes(range(256)) * 20,
    "empty": b"",
    "only blank lines": b"\n\n\r\n",
    "BOM only": b"\xef\xbb\xbf",
    "header with escape": b"name,email,company,job_title,country,\x1b[2Jx\n",
}


@pytest.mark.parametrize("kind", slow_except(CSVS, keep=["binary", "header with escape"]))
def test_unusable_csv_files_exit_2_with_file_and_line(workdir: Path, tmp_path: Path, kind: str) -> None:
    """Encodings, BOMs, NULs, huge fields, wrong columns: exit 2 naming the file, or rows rejected (1)."""
    path = tmp_path / "in.csv"
    path.write_bytes(CSVS[kind])
    run = pacspdf(workdir, "send", str(path), "--db", str(tmp_path / "o.db"))
    err = assert_clean(run, 1, 2)
    if run.returncode == 2:
        assert "in.csv" in err
        assert "\x1b" not in err


def test_a_csv_that_is_a_folder_or_missing_exits_2(workdir: Path, tmp_path: Path) -> None:
    """Paths that are not readable files are usage errors."""
    for target in (tmp_path, tmp_path / "missing.csv"):
        assert_clean(pacspdf(workdir, "send", str(target), "--db", str(tmp_path / "o.db")), 2)


@pytest.fixture(scope="module")
def binding() -> ReportBinding:
    from smtp_server import fake_personaliser

    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    return ReportBinding(ctx, MailTemplates(ctx.templates_dir), fake_personaliser)


csv_bytes = st.one_of(
    st.binary(max_size=600),
    st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=8), max_size=6).map(
        lambda rows: ("name,email,company,job_title,country,enquiry_id,message\n"
                      + "\n".join(",".join(r) for r in rows)).encode("utf-8", "surrogatepass")),
)


@settings(max_examples=examples(120), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=csv_bytes)
def test_any_bytes_as_a_csv_give_a_result_or_a_usage_error(binding: ReportBinding, tmp_path: Path,
                                                           data: bytes) -> None:
    """Whatever the file holds, `send` returns 0/1 or raises the one usage error type (exit 2)."""
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    db = tmp_path / "fuzz.db"
    args = make_parser().parse_args(["send", str(path), "--db", str(db)])
    out = io.StringIO()
    try:
        code = commands.run_send(args, lambda _p: binding, out=out, err=io.StringIO(), environ={},
                                 options=SendOptions(retry=RetryPolicy(attempts=1), sleep=lambda _s: None))
    except PacspdfError as exc:
        assert exc.exit_code == 2 and "\n" not in str(exc).strip()
    else:
        assert code in (0, 1)
        assert all(c >= " " or c == "\n" for c in out.getvalue())
