"""`--db` values: parsed once into a path or a URL kept as typed; no printed line ever shows a password."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacspdf.cli import main
from pacspdf.delivery.outbox import NewEntry, Outbox, State
from pacspdf.delivery.store.target import PostgresTarget, SqliteTarget, parse_target
from pg_server import PgServer
from selection import examples

MARK = "Zq9"  # starts every generated password, so it cannot occur by chance elsewhere in the URL
passwords = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24).map(
    lambda s: MARK + s)
names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
hosts = st.sampled_from(["localhost", "db.internal", "127.0.0.1", "[::1]", ""])


def _spellings(password: str) -> set[str]:
    """How a password may appear: as typed (percent-encoded in the URL) and decoded."""
    return {password, urllib.parse.quote(password, safe=""), urllib.parse.quote_plus(password, safe="")}


@settings(max_examples=examples(300), deadline=None)
@given(user=names, password=passwords, host=hosts, port=st.none() | st.integers(1, 65535), db=names,
       in_query=st.booleans(), scheme=st.sampled_from(["postgresql", "postgres", "POSTGRESQL"]))
def test_a_url_is_kept_as_typed_and_never_shows_its_password(user: str, password: str, host: str,
                                                             port: int | None, db: str, in_query: bool,
                                                             scheme: str) -> None:
    """Any password (any Unicode, `@ : / ? # % & =` included, percent-encoded as a URL needs), in the
    user part or as `?password=`: the target keeps the URL byte for byte for the driver, and its
    display, str() and repr() and redact() of a message quoting it hold no spelling of it."""
    where = host + (f":{port}" if port else "")
    quoted = urllib.parse.quote(password, safe="")
    url = (f"{scheme}://{user}@{where}/{db}?sslmode=prefer&password={quoted}" if in_query
           else f"{scheme}://{user}:{quoted}@{where}/{db}?sslmode=prefer")
    target = parse_target(url)
    assert isinstance(target, PostgresTarget) and target.url == url
    message = f"connection to {url} failed for {password!s} ({quoted})"
    for shown in (target.display, str(target), repr(target), target.redact(message)):
        for spelling in _spellings(password):
            assert spelling not in shown, (spelling, shown)
    assert target.display.startswith(f"{scheme}://{user}") and f"/{db}?sslmode=prefer" in target.display


@settings(max_examples=examples(200), deadline=None)
@given(password=passwords)
def test_a_raw_password_with_url_characters_is_still_masked(password: str) -> None:
    """Typed without percent-encoding (which the driver may refuse), a password holding `/ ? # @` is
    still masked in full: at worst more than the password is hidden."""
    url = f"postgresql://pacspdf:{password}@db.internal/pacspdf"
    shown = parse_target(url).display
    assert password not in shown and shown.startswith("postgresql://pacspdf:***")


@pytest.mark.parametrize(("value", "url"), [
    ("postgresql:///pacspdf", "postgresql:///pacspdf"),
    ("postgresql:///pacspdf?host=/run/postgresql", "postgresql:///pacspdf?host=/run/postgresql"),
    ("postgres://u@h/db", "postgres://u@h/db"),
    (Path("postgresql://u@h/db"), "postgresql://u@h/db"),     # folded by Path(): the `//` comes back
])
def test_urls_are_not_mangled(value: str | Path, url: str) -> None:
    target = parse_target(value)
    assert isinstance(target, PostgresTarget) and target.url == url


@pytest.mark.parametrize("value", ["out/pacspdf.db", "postgresql.db", "./postgresql:x/o.db", "/tmp/o.db"])
def test_anything_else_is_a_sqlite_file(value: str) -> None:
    assert parse_target(value) == SqliteTarget(Path(value))


def test_no_printed_line_shows_the_password(postgres: PgServer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A real server with the password in the URL (special characters, percent-encoded): `outbox`,
    `db upgrade`, `outbox retry` and a failing connection print the URL, masked, and never the password."""
    password = "p@ss:w/rd?#%&=é"
    quoted = urllib.parse.quote(password, safe="")
    base = postgres.new_database()
    url = base.replace("postgresql://postgres@", f"postgresql://postgres:{quoted}@")  # trust auth: accepted
    with Outbox(url) as ob:
        ob.record([NewEntry(key="k", report_slug="pacs", report_dir=str(tmp_path), transport="file",
                            state=State.REJECTED, reason="a reason")])
    runs = [(["outbox", "--db", url], 0), (["db", "upgrade", "--db", url], 0),
            (["outbox", "--db", url.replace(f"port={postgres.port}", "port=1")], 2),
            (["db", "upgrade", "--db", f"postgresql://pacspdf:{quoted}@127.0.0.1:1/nothing"], 2)]
    for argv, code in runs:
        assert main(argv) == code
        captured = capsys.readouterr()
        printed = captured.out + captured.err
        assert printed.strip()
        for spelling in _spellings(password):
            assert spelling not in printed, (argv, printed)
        assert "postgres:***@" in printed or "pacspdf:***@" in printed, printed
