"""The ``site``, ``serve`` and ``worker`` subcommands: their arguments, and every line they print.

The web code itself (Starlette, uvicorn, SQLite) is imported only when one of them runs.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pacspdf.delivery.settings import DB_HELP, TRANSPORTS, default_db
from pacspdf.errors import UsageError

log = logging.getLogger("pacspdf.web")

DEFAULT_SITE = "out/site"
CATALOGUE = "content"




def add_parsers(subparsers: Any) -> None:
    """Register ``site``, ``serve`` and ``worker`` on the CLI's subparsers."""
    p = subparsers.add_parser("site", help="write the reports' public teaser pages as static HTML",
                              description="Write each report's teaser page and a catalogue index "
                                          f"(default: {DEFAULT_SITE}/).")
    p.add_argument("report", nargs="?", default=None,
                   help="report folder (default: the only report under content/)")
    p.add_argument("--all", nargs="?", const=CATALOGUE, default=None, metavar="ROOT",
                   help=f"every report folder under ROOT (default: {CATALOGUE}/)")
    p.add_argument("-o", "--output", default=DEFAULT_SITE, help=f"site folder (default: {DEFAULT_SITE})")
    p.set_defaults(func=cmd_site)

    p = subparsers.add_parser("serve", help="serve the teaser pages and their sample-request forms",
                              description="Serve the catalogue at / and each report at /reports/<slug>/, "
                                          "take sample requests and questions, and send what is "
                                          "confirmed (settings: PACSPDF_* environment variables).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    _common(p)
    p.add_argument("--transport", choices=TRANSPORTS, default="file",
                   help="how confirmed requests are sent: file (.eml files under out/outbox/, the "
                        "default) or smtp (PACSPDF_SMTP_*)")
    p.add_argument("--site-dir", default=DEFAULT_SITE,
                   help=f"where the pages are written (default: {DEFAULT_SITE})")
    p.add_argument("--no-worker", action="store_true", help="do not send mail from this process "
                                                            "(run `pacspdf worker` beside it)")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser("worker",
                              help="send confirmation mails and confirmed copies (runs until stopped)",
                              description="Drain the outbox: confirmation and sales mails, then queued "
                                          "personalised copies. Stops after the message in flight on "
                                          "SIGINT or SIGTERM.")
    _common(p)
    p.add_argument("--once", action="store_true", help="send what is due now, then exit")
    p.add_argument("--builds", action="store_true",
                   help="build queued catalogue jobs (`pacspdf build --all --queue`) instead of mailing")
    p.add_argument("--lease", type=float, default=None, metavar="SECONDS",
                   help="with --builds: how long a claim holds unrenewed; a job whose worker died is "
                        "built again after it (default: 60; renewed every third of it)")
    p.set_defaults(func=cmd_worker)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", default=CATALOGUE, help=f"folder of report folders (default: {CATALOGUE}/)")
    p.add_argument("--db", default=default_db(), help=DB_HELP)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def choose_reports(report: str | None, root: str | None, default_root: str = "content") -> list[Path]:
    """The report folders a command works on: REPORT, every one under ROOT, or the only one there is."""
    if report and root:
        raise UsageError("give either REPORT or --all, not both")
    if report:
        folder = Path(report)
        if not (folder / "report.yaml").is_file():
            raise UsageError(f"{folder}: no report.yaml here (not a report folder)")
        return [folder]
    from pacspdf.web.site import report_folders

    base = Path(root or default_root)
    folders = report_folders(base)
    if not folders:
        raise UsageError(f"{base}: no report folders (folders with a report.yaml)")
    if root is None and len(folders) > 1:
        names = ", ".join(str(f) for f in folders)
        raise UsageError(f"{base}: {len(folders)} reports ({names}); name one, or use --all")
    return folders


def cmd_site(args: argparse.Namespace) -> int:
    from pacspdf.web.settings import load_settings
    from pacspdf.web.site import build_site

    folders = choose_reports(args.report, args.all)
    settings = load_settings()
    pages = build_site(folders, Path(args.output), base_url=settings.public_url)
    print(f"{args.output}: {len(pages) - 1} report page{'s' * (len(pages) != 2)} and the catalogue index")
    for page in pages:
        print(f"  {page}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pacspdf.web import core
    from pacspdf.web.app import make_app, server_config
    from pacspdf.web.intake import Intake
    from pacspdf.web.settings import load_settings
    from pacspdf.web.site import prepare_report, report_folders, write_site
    from pacspdf.web.worker import Worker

    _logging()
    settings = load_settings(default_url=f"http://{args.host}:{args.port}", require_key=args.no_worker)
    folders = report_folders(Path(args.content))
    if not folders:
        raise UsageError(f"{args.content}: no report folders (folders with a report.yaml)")
    site_dir, db = Path(args.site_dir), core.parse_target(args.db)
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


def cmd_worker(args: argparse.Namespace) -> int:
    if args.builds:
        return cmd_build_worker(args)
    from pacspdf.web import core
    from pacspdf.web.settings import load_settings
    from pacspdf.web.store import WebStore
    from pacspdf.web.worker import Worker

    _logging()
    settings = load_settings(require_key=True)
    db = core.parse_target(args.db)
    worker = Worker(db, settings)
    if args.once:
        store = WebStore(db)
        with core.Outbox(db) as outbox:
            done = worker.run_once(store, outbox)
        print(f"{done} message{'s' * (done != 1)} handled")
        return 0

    def install(stop: Callable[[], None]) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop())

    from pacspdf.web.worker import run_forever

    print(f"worker on {db.display}: sending until stopped (Ctrl-C or SIGTERM finish the message in flight)",
          flush=True)
    run_forever(worker, install)
    print(f"stopped after {worker.sent} message{'s' * (worker.sent != 1)}", flush=True)
    return 0


def cmd_build_worker(args: argparse.Namespace) -> int:
    """``worker --builds``: build queued catalogue jobs (pacspdf.cli.catalogue)."""
    from pacspdf.cli.catalogue import build_worker

    if args.lease is not None and args.lease <= 0:
        raise UsageError(f"--lease must be more than 0 seconds, not {args.lease:g}")
    return build_worker(args.db, once=args.once, lease_seconds=args.lease)
