"""Enquiry CSVs written for delivery tests, and the outbox states read back from a SQLite file."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

COLUMNS = ("name", "email", "company", "job_title", "country")


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ()) -> Path:
    """``rows`` under ``header`` (the five usual columns unless given) as a UTF-8 CSV at ``path``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header or COLUMNS)
        w.writerows(rows)
    return path


def states(db: Path) -> dict[str, str]:
    """email -> state of every row of the SQLite outbox at ``db``."""
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT email, state FROM outbox"))
    finally:
        con.close()
