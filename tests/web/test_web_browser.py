"""A real browser (Debian's Chromium driven by Playwright) asks for a sample on the served page,
confirms by the mailed link, and gets the personalised copy by mail and by download.

Skipped only when no chromium is installed; CI installs it (.ci/run). With
PACSPDF_UPDATE_SCREENSHOTS=1 the screenshots also go to docs/img/ for the README.
"""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pypdf
import pytest

from conftest import REPO, copy_content
from web_server import FIELDS, serve, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")]


def test_browser_requests_confirms_and_downloads(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    folder = copy_content(tmp_path)
    person = {**FIELDS, "name": "Oluwaseun Ferreira-Lindqvist", "company": "Borealis Diagnostics",
              "email": "o.ferreira@borealis-diagnostics.no"}
    shots = tmp_path / "shots"
    shots.mkdir()
    with serve(tmp_path, [folder], env={"PACSPDF_MIN_FILL_SECONDS": "1"}) as s, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page = context.new_page()
            page.goto(f"{s.url}/reports/pacs/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("(PACS) Market")
            page.screenshot(path=str(shots / "teaser-page.png"))
            form = page.locator("form[action='/reports/pacs/sample']")
            form.get_by_label("Full name").fill(person["name"])
            form.get_by_label("Business email").fill(person["email"])
            form.get_by_label("Company").fill(person["company"])
            form.get_by_label("Job title").fill(person["job_title"])
            form.get_by_label("Country").fill(person["country"])
            expect(form.get_by_label("Send me news of related reports", exact=False)).not_to_be_checked()
            form.scroll_into_view_if_needed()
            time.sleep(1.1)  # a person takes longer than the minimum fill time
            form.screenshot(path=str(shots / "sample-form.png"))
            form.get_by_role("button", name="Request the sample").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Please check your inbox")

            assert wait_until(lambda: len(s.sink.received) == 1)
            time.sleep(0.5)
            assert len(s.sink.received) == 1
            confirmation = s.sink.received[0]
            raw = confirmation.data.decode("utf-8", "replace")
            for typed in ("Oluwaseun", "Ferreira-Lindqvist", "Borealis Diagnostics", person["job_title"],
                          person["country"]):
                assert typed not in raw
            body = confirmation.message.get_body(("plain",))
            assert body is not None
            link = next(w for w in body.get_content().split() if "/confirm/" in w)

            page.goto(link)
            page.get_by_role("button", name="Confirm and get the sample").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Your request is confirmed")
            page.screenshot(path=str(shots / "confirmed.png"))

            assert wait_until(lambda: len(s.sink.received) == 2)
            mailed = s.sink.received[1]
            assert mailed.rcpt_tos == [person["email"]]
            (attachment,) = [p for p in mailed.message.iter_attachments()
                             if p.get_content_type() == "application/pdf"]
            first = pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
            assert person["name"] in first

            with page.expect_download() as info:
                page.get_by_role("link", name="Download your personalised copy (PDF)").click()
            download = info.value
            assert download.suggested_filename == "pacs-sample.pdf"
            data = Path(download.path()).read_bytes()
            assert person["name"] in pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
        finally:
            context.close()
    if os.environ.get("PACSPDF_UPDATE_SCREENSHOTS") == "1":
        for shot in shots.iterdir():
            shutil.copyfile(shot, REPO / "docs" / "img" / shot.name)
