"""`pacspdf serve` and `pacspdf worker` as processes: settings errors exit 2 in one line, SIGTERM stops
them cleanly, and `serve` answers on the port it was given."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_runner import run_cli
from conftest import copy_content
from pacspdf.cli import main
from web_server import free_port

GOOD_KEY = "a-perfectly-long-secret-key-for-the-tests-0001"




BAD_SETTINGS = [
    ({}, ["worker"], "PACSPDF_SECRET_KEY is not set"),
    ({"PACSPDF_SECRET_KEY": "short"}, ["worker"], "PACSPDF_SECRET_KEY is too short"),
    ({"PACSPDF_SECRET_KEY": GOOD_KEY, "PACSPDF_PUBLIC_URL": "ftp://x"}, ["worker"], "PACSPDF_PUBLIC_URL"),
    ({"PACSPDF_SECRET_KEY": GOOD_KEY, "PACSPDF_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, ["worker"],
     "'proxy.local' is not an IP address"),
    ({"PACSPDF_SECRET_KEY": GOOD_KEY, "PACSPDF_LIMIT_PER_IP": "ten"}, ["worker"], "PACSPDF_LIMIT_PER_IP"),
    ({}, ["serve", "--no-worker", "--content", "nowhere"], "PACSPDF_SECRET_KEY is not set"),
    ({"PACSPDF_SECRET_KEY": GOOD_KEY}, ["serve", "--content", "nowhere"], "nowhere: no report folders"),
]


# In this process (cli_runner.py), with the caller's PACSPDF_* variables cleared.
@pytest.mark.parametrize(("env", "args", "message"), BAD_SETTINGS)
def test_bad_settings_exit_2_in_one_line(tmp_path: Path, env: dict[str, str], args: list[str],
                                         message: str) -> None:
    result = run_cli(args, cwd=tmp_path, env=env)
    assert result.returncode == 2, result.err
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.err


def test_worker_once_on_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACSPDF_SECRET_KEY", GOOD_KEY)
    assert main(["worker", "--once", "--db", str(tmp_path / "o.db")]) == 0
    assert "0 messages handled" in capsys.readouterr().out


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_and_worker_stop_on_sigterm(tmp_path: Path) -> None:
    copy_content(tmp_path)
    port = free_port()
    env = {**os.environ, "PACSPDF_SECRET_KEY": GOOD_KEY, "PACSPDF_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    serve = subprocess.Popen([sys.executable, "-m", "pacspdf", "serve", "--port", str(port)], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = subprocess.Popen([sys.executable, "-m", "pacspdf", "worker"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        status = 0
        while time.time() < deadline:
            try:
                status = _get(port, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        assert _get(port, "/reports/pacs/") == 200 and _get(port, "/") == 200
        assert (tmp_path / "out" / "site" / "reports" / "pacs" / "index.html").is_file()
        time.sleep(1.0)
    finally:
        for proc in (serve, worker):
            proc.send_signal(signal.SIGTERM)
        outs = [proc.communicate(timeout=60) for proc in (serve, worker)]
    assert serve.returncode == 0, outs[0][1][-2000:]
    assert worker.returncode == 0, outs[1][1][-2000:]
    assert "serving 1 report on" in outs[0][0] and outs[0][0].rstrip().endswith("stopped")
    assert "stopped after 0 messages" in outs[1][0]
    assert "Traceback" not in outs[0][1] + outs[1][1]
