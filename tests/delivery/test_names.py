"""Names with invisible characters: the PDF shows them joined up (NFC, no gaps); the headers keep them."""

from __future__ import annotations

import email
import email.policy
import io
from email.message import EmailMessage
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from pacspdf.content.load import load
from pacspdf.delivery.batch import personaliser_for
from pacspdf.delivery.enquiries import Enquiry, validate_row
from pacspdf.delivery.message import MailTemplates, context_from_content
from pacspdf.delivery.outbox import Outbox
from pacspdf.delivery.personalise import Recipient, clean, make_copy
from pacspdf.delivery.send import Outcome, ReportBinding, send_rows
from pacspdf.delivery.transport import FileTransport
from pacspdf.document.personal import BaseArtifact
from smtp_server import attachment

REPO = Path(__file__).resolve().parents[2]
INVISIBLE = {"ZWSP": "\u200b", "ZWNJ": "\u200c", "ZWJ": "\u200d", "WJ": "\u2060", "SHY": "\u00ad",
             "BOM-inside": "\ufeff", "LRM": "\u200e", "Mongolian VS": "\u180e"}


def page_one(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    return str(doc[0].get_textpage().get_text_range())


@pytest.mark.parametrize("char", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_clean_drops_invisible_characters_instead_of_leaving_a_gap(char: str) -> None:
    """'Ali<ZWSP>ce' prints as 'Alice', never 'Ali ce'; decomposed accents are composed (NFC)."""
    assert clean(f"Ali{char}ce Smi{char}th") == "Alice Smith"
    assert clean("Chloe\u0301 Martin") == "Chloé Martin"


@pytest.fixture(scope="module")
def base(sample_pdf) -> BaseArtifact:  # type: ignore[no-untyped-def]
    return BaseArtifact.load(sample_pdf.path)


def test_the_pdf_names_the_enquirer_without_gaps(base: BaseArtifact) -> None:
    """On the real cover, a name typed with zero-width characters reads as the visible name."""
    copy = make_copy(base, Recipient("Ali\u200bce Sm\u00adith", "Ac\u2060me", "alice@example.com"),
                     "ABCD-EFGH-IJKL", "29 November 2026")
    text = page_one(copy.pdf)
    assert "Alice Smith, Acme" in text
    assert "Ali ce" not in text and "Sm ith" not in text


def test_headers_keep_the_typed_name_while_the_pdf_shows_it_clean(base: BaseArtifact, tmp_path: Path) -> None:
    """Through the whole pipeline: To carries the typed characters, page one the clean name."""
    typed = "Ali\u200bce Sm\u00adith"
    row = validate_row({"name": typed, "email": "alice@example.com", "company": "Acme"}, 2, "e.csv")
    assert isinstance(row, Enquiry) and row.name == typed
    ctx = context_from_content(load(REPO / "content" / "pacs"), environ={})
    binding = ReportBinding(ctx, MailTemplates(ctx.templates_dir), personaliser_for(base))
    with Outbox(tmp_path / "o.db") as outbox:
        report = send_rows([row], binding=binding, outbox=outbox, transport=FileTransport(tmp_path / "mail"))
    assert [r.outcome for r in report.results] == [Outcome.SENT]
    (eml,) = (tmp_path / "mail").glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["To"].addresses[0].display_name == typed
    _name, pdf = attachment(msg)
    assert "Alice Smith, Acme" in page_one(pdf)
