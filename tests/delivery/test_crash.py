"""`python -m pacspdf send` killed with SIGKILL mid-batch, then rerun: each enquiry arrives exactly once.

The killed run is the real command line in a subprocess (the rerun runs in the test's own
process, see cli_runner.py), with the real personaliser over the session's base build, against
the loopback SMTP server. The server kills the sender at a
chosen point of the SMTP conversation, so each test is deterministic.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import CliRun, run_cli
from pacspdf.document.personal import sidecar_path
from smtp_server import LoopbackController, ScriptedHandler, Server, attachment, page_one_text

REPO = Path(__file__).resolve().parents[2]
PEOPLE = [(f"Person {n} Example", f"p{n}@example.com", f"Company {n}", "Analyst", "UK") for n in range(1, 7)]
KILL_AT = 4  # the sender dies while the server handles the 4th message


@pytest.fixture
def workdir(tmp_path: Path, sample_pdf) -> Path:  # type: ignore[no-untyped-def]
    """A working folder whose out/ already holds the session's base build, so `send` does not rebuild."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(sample_pdf.path, out / "pacs-sample.pdf")
    shutil.copy(sidecar_path(sample_pdf.path), sidecar_path(out / "pacs-sample.pdf"))
    with (tmp_path / "enquiries.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "email", "company", "job_title", "country"])
        w.writerows(PEOPLE)
    return tmp_path


SEND = ["send", "enquiries.csv", "--report", str(REPO / "content" / "pacs"), "--transport", "smtp"]


def smtp_env(port: int) -> dict[str, str]:
    return {"PACSPDF_SMTP_HOST": "127.0.0.1", "PACSPDF_SMTP_PORT": str(port), "PACSPDF_SMTP_SECURITY": "none"}


def start_send(workdir: Path, port: int) -> subprocess.Popen[str]:
    """`python -m pacspdf send` as a process of its own, to be killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSPDF_")}
    env.update({**smtp_env(port), "PYTHONWARNINGS": "error"})
    return subprocess.Popen([sys.executable, "-m", "pacspdf", *SEND],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rerun(workdir: Path, port: int) -> CliRun:
    """The rerun after the kill: `pacspdf send` in this process (cli_runner.py); warnings fail it here too."""
    return run_cli(SEND, cwd=workdir, env=smtp_env(port))


def states(workdir: Path) -> dict[str, str]:
    db = sqlite3.connect(workdir / "out" / "pacspdf.db")
    try:
        return dict(db.execute("SELECT email, state FROM outbox"))
    finally:
        db.close()


def kill_run(workdir: Path, controller: LoopbackController, handler: ScriptedHandler, action: str) -> None:
    """Run `send`; SIGKILL it when the server gets message KILL_AT, then answer that message ``action``."""
    procs: list[subprocess.Popen[str]] = []

    def on_data(rcpt: str, kept: int) -> None:
        if rcpt == PEOPLE[KILL_AT - 1][1] and not handler.plan.get("killed"):
            handler.plan["killed"] = ["yes"]
            os.kill(procs[0].pid, signal.SIGKILL)
            procs[0].wait(timeout=30)
            handler.plan.setdefault(rcpt, []).insert(0, action)

    handler.on_data = on_data
    with start_send(workdir, controller.port) as proc:
        procs.append(proc)
        proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    handler.on_data = None


def test_killed_mid_batch_and_rerun_delivers_each_exactly_once(workdir: Path, server: Server) -> None:
    """SIGKILL while message 4 is in DATA (not yet accepted), then a rerun: all six arrive once each."""
    controller, handler = server
    kill_run(workdir, controller, handler, "drop")
    assert len(handler.received) == KILL_AT - 1
    left = states(workdir)
    assert [left[p[1]] for p in PEOPLE] == ["sent"] * 3 + ["sending"] + ["queued"] * 2

    again = rerun(workdir, controller.port)
    assert again.returncode == 0, again.err
    lines = again.out.splitlines()
    assert sum("already sent" in line for line in lines if line.startswith("enquiries.csv:")) == 3
    assert "resent after an interrupted run" in lines[KILL_AT - 1]
    assert set(states(workdir).values()) == {"sent"}
    assert sorted(a for r in handler.received for a in r.rcpt_tos) == sorted(p[1] for p in PEOPLE)
    for name, address, *_ in PEOPLE:
        (got,) = handler.to(address)
        filename, pdf = attachment(got.message)
        assert filename == "pacs-sample.pdf"
        assert name in page_one_text(pdf)


@pytest.mark.slow  # a second killed process; the quick run keeps the test above
def test_kill_inside_the_window_resends_with_the_same_message_id(workdir: Path, server: Server) -> None:
    """Killed in the window (message 4 kept, not committed), the rerun resends only it, same headers."""
    # Same Message-ID, Date and copy ID, so a receiving system can drop the duplicate.
    controller, handler = server
    kill_run(workdir, controller, handler, "accept-drop")
    assert handler.wait_for(KILL_AT)  # the server thread keeps message 4 just after the kill
    again = rerun(workdir, controller.port)
    assert again.returncode == 0, again.err
    twice = PEOPLE[KILL_AT - 1][1]
    counts = {p[1]: len(handler.to(p[1])) for p in PEOPLE}
    assert counts == {p[1]: 2 if p[1] == twice else 1 for p in PEOPLE}
    first, second = (r.message for r in handler.to(twice))
    for header in ("Message-ID", "Date", "X-Pacspdf-Copy-Id", "Subject", "To"):
        assert first[header] == second[header]
    assert attachment(first) == attachment(second)
