"""Name the delivery settings: transports, ``PACSPDF_*`` variables and their defaults (imports nothing).

The one home of these names, imported by the CLI arguments (``pacspdf.cli.delivery``) and by the transports,
so that neither imports the other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

TRANSPORTS = ("file", "smtp")
DEFAULT_DB = Path("out/pacspdf.db")  # the outbox, when PACSPDF_DATABASE_URL is not set
DATABASE_URL_ENV = "PACSPDF_DATABASE_URL"  # a shared store: postgresql://...
DB_HELP = (f"outbox database: a SQLite file or a postgresql:// URL "
           f"(default: ${DATABASE_URL_ENV}, else {DEFAULT_DB})")


def default_db() -> str:
    """``PACSPDF_DATABASE_URL`` when set (a ``postgresql://`` URL), else the SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or str(DEFAULT_DB)


Security = Literal["none", "starttls", "ssl"]
SECURITY_CHOICES: tuple[Security, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_TIMEOUT = 60.0  # seconds for connecting and for each SMTP reply
#: the circuit breaker: this many temporary failures in a row (tries, across messages) stop
#: the batch, leaving the rest queued; 8 is two messages' worth of the default retries; 0: never
DEFAULT_BREAKER = 8
MAX_BREAKER = 100_000

ENV_HOST = "PACSPDF_SMTP_HOST"
ENV_PORT = "PACSPDF_SMTP_PORT"
ENV_SECURITY = "PACSPDF_SMTP_SECURITY"
ENV_USER = "PACSPDF_SMTP_USER"
ENV_PASSWORD = "PACSPDF_SMTP_PASSWORD"
ENV_TIMEOUT = "PACSPDF_SMTP_TIMEOUT"
ENV_BREAKER = "PACSPDF_SMTP_BREAKER"
ENV_MAIL_FROM = "PACSPDF_MAIL_FROM"
