"""The ``site``, ``serve`` and ``worker`` subcommands: arguments to calls, and every line they print."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pacspdf.web import core
from pacspdf.web.settings import load_settings
from pacspdf.web.site import build_site, prepare_report, report_folders, write_site

log = logging.getLogger("pacspdf.web")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def choose_reports(report: str | None, root: str | None, default_root: str = "content") -> list[Path]:
    """The report folders a command works on: REPORT, every one under ROOT, or the only one there is."""
    if report and root:
        raise core.UsageError("give either REPORT or --all, not both")
    if report:
        folder = Path(report)
        if not (folder / "report.yaml").is_file():
            raise core.UsageError(f"{folder}: no report.yaml here (not a report folder)")
        return [folder]
    base = Path(root or default_root)
    folders = report_folders(base)
    if not folders:
        raise core.UsageError(f"{base}: no report folders (folders with a report.yaml)")
    if root is None and len(folders) > 1:
        names = ", ".join(str(f) for f in folders)
        raise core.UsageError(f"{base}: {len(folders)} reports ({names}); name one, or use --all")
    return folders


def cmd_site(args: argparse.Namespace) -> int:
    folders = choose_reports(args.report, args.all)
    settings = load_settings()
    pages = build_site(folders, Path(args.output), base_url=settings.public_url)
    print(f"{args.output}: {len(pages) - 1} report page{'s' * (len(pages) != 2)} and the catalogue index")
    for page in pages:
        print(f"  {page}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pacspdf.web.app import Intake, make_app
    from pacspdf.web.worker import Worker

    _logging()
    settings = load_settings(default_url=f"http://{args.host}:{args.port}", require_key=args.no_worker)
    folders = report_folders(Path(args.content))
    if not folders:
        raise core.UsageError(f"{args.content}: no report folders (folders with a report.yaml)")
    site_dir, db = Path(args.site_dir), Path(args.db)
    # The static pages first: `site` and `serve` write the same files.
    reports = [prepare_report(f, site_dir, core.DEFAULT_OUT) for f in folders]
    write_site(reports, site_dir, settings.public_url)
    worker = None if args.no_worker else Worker(db, settings, pdf_dir=core.DEFAULT_OUT)
    intake = Intake(reports, db=db, settings=settings, site_dir=site_dir, pdf_dir=core.DEFAULT_OUT,
                    transport=args.transport, worker=worker)
    app = make_app(intake)
    where = "separate" if worker is None else "in-process"
    print(f"serving {len(reports)} report{'s' * (len(reports) != 1)} on http://{args.host}:{args.port}/ "
          f"(links in mails: {settings.public_url}); worker: {where}, transport: {args.transport}",
          flush=True)
    stops: list[int] = []
    # uvicorn handles SIGINT/SIGTERM while it runs (finishing requests, then the worker's message)
    # and raises the signal again afterwards; these handlers take that second delivery, so a
    # graceful stop ends with exit code 0 instead of "killed by SIGTERM".
    previous = {sig: signal.signal(sig, lambda s, _f: stops.append(s))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(server_config(app, args.host, args.port)).run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", flush=True)
    return 0


def server_config(app: Any, host: str, port: int) -> Any:
    """uvicorn's settings for the intake: our own access log and X-Forwarded-For handling (uvicorn's
    would believe the header from any local peer), no Server header, 30 s to finish requests on stop."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False,
                          server_header=False, log_config=None, timeout_graceful_shutdown=30,
                          lifespan="on")


def cmd_worker(args: argparse.Namespace) -> int:
    from pacspdf.web.store import WebStore
    from pacspdf.web.worker import Worker

    _logging()
    settings = load_settings(require_key=True)
    worker = Worker(Path(args.db), settings)
    if args.once:
        store = WebStore(Path(args.db))
        with core.Outbox(Path(args.db)) as outbox:
            done = worker.run_once(store, outbox)
        print(f"{done} message{'s' * (done != 1)} handled")
        return 0

    def install(stop: Callable[[], None]) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop())

    from pacspdf.web.worker import run_forever

    print(f"worker on {args.db}: sending until stopped (Ctrl-C or SIGTERM finish the message in flight)",
          flush=True)
    run_forever(worker, install)
    print(f"stopped after {worker.sent} message{'s' * (worker.sent != 1)}", flush=True)
    return 0
