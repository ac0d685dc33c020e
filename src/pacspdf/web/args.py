"""The ``site``, ``serve`` and ``worker`` command-line arguments, cheap to import (the code loads on use)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

DEFAULT_SITE = "out/site"
DEFAULT_DB = "out/pacspdf.db"
CATALOGUE = "content"
TRANSPORTS = ("file", "smtp")


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from pacspdf.web import commands

        return int(getattr(commands, name)(args))

    run.__name__ = name
    return run


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
    p.set_defaults(func=_lazy("cmd_site"))

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
    p.set_defaults(func=_lazy("cmd_serve"))

    p = subparsers.add_parser("worker",
                              help="send confirmation mails and confirmed copies (runs until stopped)",
                              description="Drain the outbox: confirmation and sales mails, then queued "
                                          "personalised copies. Stops after the message in flight on "
                                          "SIGINT or SIGTERM.")
    _common(p)
    p.add_argument("--once", action="store_true", help="send what is due now, then exit")
    p.set_defaults(func=_lazy("cmd_worker"))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", default=CATALOGUE, help=f"folder of report folders (default: {CATALOGUE}/)")
    p.add_argument("--db", default=DEFAULT_DB, help=f"outbox database (default: {DEFAULT_DB})")
