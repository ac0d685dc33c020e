"""Turn a ``--db`` value into a typed target: a SQLite path, or a PostgreSQL URL printed without its password.

The value is parsed once, where it enters (the CLI, ``PACSPDF_DATABASE_URL``, the web
worker), and carried as a :class:`SqliteTarget` or a :class:`PostgresTarget` from there on. A
URL is kept exactly as typed (``postgresql:///db`` keeps its three slashes) and is handed to
the driver as such; what is ever shown of it, ``str(target)`` included, is
:attr:`PostgresTarget.display`, with the password (in the user part or a ``password=``
parameter) replaced by ``***``. :meth:`PostgresTarget.redact` does the same to any text, such
as a driver's error message, that might quote the password.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

_URL = re.compile(r"^postgres(?:ql)?:/+", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)
MASK = "***"


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file."""
    if isinstance(target, PostgresTarget):
        return True
    if isinstance(target, SqliteTarget):
        return False
    return bool(_URL.match(str(target)))


def unfold(text: str) -> str:
    """A URL that went through ``Path()`` (``postgresql:/host/db``) with its ``//`` back."""
    match = _URL.match(text)
    if not match:
        raise ValueError("not a postgresql:// URL")
    return f"{text[: match.end()].rstrip('/')}//{text[match.end():]}"


def _user_password(url: str) -> tuple[int, int] | None:
    """Where the password of ``scheme://user:password@host`` is, cautiously: from the first ``:`` of
    the user part to the last ``@`` of the URL (a password with a raw ``/``, ``?``, ``#`` or ``@``
    is still covered; at worst more than the password is masked)."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return None
    start = scheme_end + 3
    at = url.rfind("@")
    colon = url.find(":", start)
    if at < 0 or colon < 0 or colon > at:
        return None
    return colon + 1, at


@dataclass(frozen=True)
class SqliteTarget:
    """The outbox in one SQLite file."""

    path: Path

    @property
    def display(self) -> str:
        return str(self.path)

    def redact(self, text: str) -> str:
        return text

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class PostgresTarget:
    """The outbox in a PostgreSQL database; ``url`` is as typed, :attr:`display` safe to print."""

    url: str = field(repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password as written in the URL and decoded, longest first (what :meth:`redact` hides)."""
        found: list[str] = []
        span = _user_password(self.url)
        if span:
            found.append(self.url[span[0]:span[1]])
        found += [m.group(2) for m in _QUERY_PASSWORD.finditer(self.url)]
        every = {s for raw in found for s in (raw, urllib.parse.unquote(raw), urllib.parse.unquote_plus(raw))}
        return tuple(sorted((s for s in every if s), key=len, reverse=True))

    @property
    def display(self) -> str:
        """The URL with every password shown as ``***``."""
        text = self.url
        span = _user_password(text)
        if span and span[1] > span[0]:
            text = text[: span[0]] + MASK + text[span[1]:]
        return _QUERY_PASSWORD.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), text)

    def redact(self, text: str) -> str:
        """``text`` with any spelling of the password replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"PostgresTarget({self.display!r})"


Target = SqliteTarget | PostgresTarget


def parse_target(value: str | Path | Target) -> Target:
    """The target ``value`` names: a URL (kept as typed; unfolded if it went through ``Path``) or a path."""
    if isinstance(value, SqliteTarget | PostgresTarget):
        return value
    if isinstance(value, Path):
        text = str(value)
        return PostgresTarget(unfold(text)) if _URL.match(text) else SqliteTarget(value)
    if _URL.match(value):
        return PostgresTarget(value if "://" in value else unfold(value))
    return SqliteTarget(Path(value))
