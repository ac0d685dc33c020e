"""Reading an enquiries CSV: valid rows, rejected rows with reasons, unusable files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacspdf.delivery.enquiries import (
    COLUMNS,
    MAX_LENGTH,
    Enquiry,
    RejectedRow,
    read_enquiries,
    unsafe_char,
)
from pacspdf.errors import UsageError
from selection import examples

HEADER = "name,email,company,job_title,country"


def write(tmp_path: Path, text: str, name: str = "enquiries.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_valid_rows_are_read_with_their_line_numbers(tmp_path: Path) -> None:
    """Each valid row becomes an Enquiry carrying the file line it came from and a normalised email."""
    path = write(tmp_path, f"{HEADER},enquiry_id\n"
                           "Ana Souza,Ana@EXAMPLE.com,Acme Imaging,CTO,Brazil,ENQ-1\n"
                           "Zoë Dubois,zoe@example.org,Hôpital Nord,Radiologist,France,\n")
    rows = read_enquiries(path).rows
    assert rows == [
        Enquiry("Ana Souza", "Ana@example.com", "Acme Imaging", "CTO", "Brazil", "ENQ-1", "", 2, str(path)),
        Enquiry("Zoë Dubois", "zoe@example.org", "Hôpital Nord", "Radiologist", "France", "", "", 3,
                str(path)),
    ]


def test_header_is_matched_loosely_and_bom_is_ignored(tmp_path: Path) -> None:
    """A spreadsheet export (BOM, capitalised headers, extra spaces, CRLF) reads the same as a clean file."""
    path = tmp_path / "e.csv"
    path.write_bytes("\ufeffName , EMAIL,Company,Job_Title,Country\r\nAna,ana@example.com,A,B,C\r\n"
                     .encode())
    (enquiry,) = read_enquiries(path).enquiries
    assert (enquiry.name, enquiry.email, enquiry.row) == ("Ana", "ana@example.com", 2)


def test_bad_rows_are_rejected_with_reasons_and_good_rows_still_read(tmp_path: Path) -> None:
    """Invalid email, missing name, wrong field count: each rejected with its line; others pass."""
    path = write(tmp_path, f"{HEADER}\n"
                           "Ana,ana@example.com,A,B,C\n"
                           "Bob,bob(at)example.com,A,B,C\n"
                           ",nobody@example.com,A,B,C\n"
                           "Cy,cy@example.com,A,B,C,surplus\n"
                           "Di,di@example.com,A,B,C\n")
    batch = read_enquiries(path)
    assert [e.name for e in batch.enquiries] == ["Ana", "Di"]
    rejected = {r.row: r.reason for r in batch.rejected}
    assert set(rejected) == {3, 4, 5}
    assert rejected[3].startswith("email: ") and "@" in rejected[3]
    assert rejected[4] == "name: missing"
    assert "6 fields" in rejected[5] and "5" in rejected[5]


def test_every_problem_of_a_row_is_reported_at_once(tmp_path: Path) -> None:
    """A row with several faults lists all of them, not just the first."""
    path = write(tmp_path, f"{HEADER},enquiry_id\n,not-an-email,A,B,C,has space\n")
    (bad,) = read_enquiries(path).rejected
    assert [r.split(":")[0] for r in bad.reasons] == ["name", "email", "enquiry_id"]


@pytest.mark.parametrize(("value", "expected"), [
    ("Bob\r\nBcc: victim@example.com", "line break (U+000D)"),
    ("Bob\nSmith", "line break (U+000A)"),
    ("Bob\u2028Smith", "line break (U+2028)"),
    ("Bob\x07", "control character (U+0007"),
    ("Bob\x00", "control character (U+0000"),
    ("\u202eevil", "control character (U+202E"),
])
def test_line_breaks_and_control_characters_are_rejected(tmp_path: Path, value: str, expected: str) -> None:
    """CR, LF, Unicode line separators, C0 controls and bidi overrides in a header field reject the row."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS[:5])
    w.writerow([value, "bob@example.com", "Co", "Job", "UK"])
    (bad,) = read_enquiries(write(tmp_path, buf.getvalue())).rejected
    assert bad.reasons[0].startswith("name: contains a ")
    assert expected in bad.reasons[0]


def test_header_injection_through_the_email_field_is_rejected(tmp_path: Path) -> None:
    """An address smuggling a second header via CRLF never becomes an Enquiry."""
    buf = io.StringIO()
    csv.writer(buf).writerows([COLUMNS[:5], ["Eve", "eve@example.com\r\nBcc: all@example.com", "", "", ""]])
    batch = read_enquiries(write(tmp_path, buf.getvalue()))
    assert batch.enquiries == []
    assert batch.rejected[0].reasons == ("email: contains a line break (U+000D)",)


def test_message_may_span_lines_but_not_hold_other_controls(tmp_path: Path) -> None:
    """The free-text message keeps line breaks (it never reaches a header); other controls reject."""
    buf = io.StringIO()
    csv.writer(buf).writerows([list(COLUMNS), ["Ana", "ana@example.com", "", "", "", "E1", "Hi,\r\nthanks"],
                               ["Bo", "bo@example.com", "", "", "", "E2", "bell\x07"]])
    batch = read_enquiries(write(tmp_path, buf.getvalue()))
    assert [e.message for e in batch.enquiries] == ["Hi,\r\nthanks"]
    assert batch.rejected[0].row == 4 and batch.rejected[0].reasons[0].startswith("message: ")


def test_over_long_fields_are_rejected(tmp_path: Path) -> None:
    """A field longer than its limit rejects the row, saying which field and the limit."""
    path = write(tmp_path, f"{HEADER}\n{'N' * (MAX_LENGTH['name'] + 1)},a@example.com,,,\n"
                           f"Ok,b@example.com,{'C' * MAX_LENGTH['company']},,\n")
    batch = read_enquiries(path)
    assert batch.rejected[0].reason == f"name: too long ({MAX_LENGTH['name'] + 1} characters, " \
                                       f"at most {MAX_LENGTH['name']})"
    assert [e.name for e in batch.enquiries] == ["Ok"]


def test_quoted_field_spanning_lines_keeps_later_line_numbers_right(tmp_path: Path) -> None:
    """A record spanning two lines is reported at its first line, and the next record at its own line."""
    path = write(tmp_path, f'{HEADER},message\nAna,ana@example.com,,,,"two\nlines"\nBo,bad,,,,\n')
    batch = read_enquiries(path)
    assert batch.enquiries[0].row == 2
    assert batch.rejected[0].row == 4


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    """Empty lines and rows of bare commas are not enquiries and are neither sent nor rejected."""
    path = write(tmp_path, f"\n{HEADER}\n\nAna,ana@example.com,,,\n,,,,\n")
    batch = read_enquiries(path)
    assert len(batch.rows) == 1 and batch.enquiries[0].row == 4


def test_internationalised_domain_is_sent_in_ascii(tmp_path: Path) -> None:
    """An IDN domain is accepted and converted to its ASCII (punycode) form for SMTP."""
    path = write(tmp_path, f"{HEADER}\nIvan,ivan@пример.рф,,,\n")
    assert read_enquiries(path).enquiries[0].email == "ivan@xn--e1afmkfd.xn--p1ai"


@pytest.mark.parametrize(("text", "message"), [
    ("name,email,company,job_title\nA,a@example.com,C,J\n", "column 'country' is missing"),
    (f"{HEADER},phone\n", "column 'phone' is not known"),
    (f"{HEADER},email\n", "column 'email' appears twice"),
    ("", "empty file"),
])
def test_wrong_columns_are_a_usage_error_naming_file_and_column(tmp_path: Path, text: str,
                                                                 message: str) -> None:
    """A CSV with missing, unknown or duplicate columns stops with one line naming the file and column."""
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        read_enquiries(path, "enquiries.csv")
    assert str(info.value).startswith("enquiries.csv")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_non_utf8_files_are_usage_errors(tmp_path: Path) -> None:
    """A missing file and a Latin-1 file are usage errors naming the file (and the line for bad bytes)."""
    with pytest.raises(UsageError, match=r"nope\.csv: file not found"):
        read_enquiries(tmp_path / "nope.csv", "nope.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\nZo\xeb,zoe@example.com,,,\n".encode("latin-1"))
    with pytest.raises(UsageError, match=r"latin\.csv:2: not valid UTF-8"):
        read_enquiries(latin, "latin.csv")


def test_key_is_enquiry_id_else_email_and_report() -> None:
    """The idempotency key is the enquiry id when given, else the case-folded email with the report slug."""
    assert Enquiry("A", "a@example.com", enquiry_id="E-7").key("pacs") == "id:E-7"
    assert Enquiry("A", "Ana@example.com").key("pacs") == "email:ana@example.com|report:pacs"
    assert Enquiry("A", "Ana@example.com").key("pacs") != Enquiry("A", "Ana@example.com").key("adhesives")


def test_rejected_row_key_is_stable() -> None:
    """The same bad row gets the same outbox key on every run, so reruns do not pile up records."""
    a = RejectedRow(3, ("email: bad",), {"name": "A", "email": "x"})
    b = RejectedRow(9, ("email: bad",), {"email": "x", "name": "A"})
    assert a.key() == b.key() and a.key().startswith("rejected:")


field_text = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=examples(150), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(field_text, field_text, field_text, field_text, field_text), max_size=5))
def test_any_csv_content_is_either_accepted_clean_or_rejected(tmp_path: Path,
                                                              rows: list[tuple[str, ...]]) -> None:
    """Whatever the cells hold, reading never crashes; accepted rows have no control characters anywhere."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(COLUMNS[:5])
    w.writerows(rows)
    batch = read_enquiries(write(tmp_path, buf.getvalue(), "h.csv"))
    for e in batch.enquiries:
        for value in (e.name, e.email, e.company, e.job_title, e.country):
            assert unsafe_char(value) is None
        assert e.name and "@" in e.email
    for r in batch.rejected:
        assert r.reasons and all(":" in reason for reason in r.reasons)
