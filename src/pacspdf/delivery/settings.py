"""Name the delivery settings: transports, ``PACSPDF_*`` variables and their defaults (imports nothing).

The one home of these names, imported by the CLI arguments (``args``) and by the transports,
so that neither imports the other.
"""

from __future__ import annotations

from typing import Literal

TRANSPORTS = ("file", "smtp")

Security = Literal["none", "starttls", "ssl"]
SECURITY_CHOICES: tuple[Security, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_TIMEOUT = 60.0  # seconds for connecting and for each SMTP reply

ENV_HOST = "PACSPDF_SMTP_HOST"
ENV_PORT = "PACSPDF_SMTP_PORT"
ENV_SECURITY = "PACSPDF_SMTP_SECURITY"
ENV_USER = "PACSPDF_SMTP_USER"
ENV_PASSWORD = "PACSPDF_SMTP_PASSWORD"
ENV_TIMEOUT = "PACSPDF_SMTP_TIMEOUT"
ENV_MAIL_FROM = "PACSPDF_MAIL_FROM"
