"""The ``send`` and ``outbox`` command-line arguments, cheap to import.

The commands' code (email, SQLite, SMTP, Jinja2) is imported only when one of them runs, so
``pacspdf --help`` and ``pacspdf check`` do not pay for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pacspdf.delivery.settings import TRANSPORTS

DEFAULT_DB = Path("out/pacspdf.db")


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from pacspdf.delivery import commands

        return int(getattr(commands, name)(args))

    run.__name__ = name
    return run


def add_parsers(subparsers: Any) -> None:
    """Register ``send`` and ``outbox`` (with ``outbox retry``) on the CLI's subparsers."""
    p = subparsers.add_parser("send", help="email personalised sample PDFs to the enquirers in a CSV",
                              description="Email each enquirer in ENQUIRIES.csv a personalised copy of "
                                          "the report's sample PDF, exactly once.")
    p.add_argument("enquiries", metavar="ENQUIRIES.csv",
                   help="CSV with columns name,email,company,job_title,country "
                        "(optional: enquiry_id,message)")
    p.add_argument("--report", default=None,
                   help="report content folder (default: the only report under content/)")
    p.add_argument("--transport", choices=TRANSPORTS, default="file",
                   help="file: .eml files under out/outbox/ (default); smtp: the server in "
                        "PACSPDF_SMTP_HOST/PORT/SECURITY/USER/PASSWORD")
    p.add_argument("--db", default=str(DEFAULT_DB), help=f"outbox database (default: {DEFAULT_DB})")
    p.set_defaults(func=_lazy("cmd_send"))

    p = subparsers.add_parser("outbox", help="show what was queued, sent, failed or rejected, and why",
                              description="Show the outbox: counts per state and the latest problems. "
                                          "`outbox retry` sends what is still queued.")
    p.add_argument("--db", default=str(DEFAULT_DB), help=f"outbox database (default: {DEFAULT_DB})")
    p.set_defaults(func=_lazy("cmd_outbox"))
    sub = p.add_subparsers(dest="outbox_command", metavar="ACTION")
    r = sub.add_parser("retry", help="send every queued message again (after temporary failures)")
    r.add_argument("--db", default=argparse.SUPPRESS, help=f"outbox database (default: {DEFAULT_DB})")
    r.add_argument("--transport", choices=TRANSPORTS, default=None,
                   help="override the transport each message was queued for")
    r.set_defaults(func=_lazy("cmd_retry"))
