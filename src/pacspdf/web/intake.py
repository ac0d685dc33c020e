"""Turn form posts, confirmation links and download links into outbox entries and short pages.

The flow: a form post passes the checks in :mod:`pacspdf.web.limits` and becomes an
``unconfirmed`` outbox entry plus a pending confirmation mail; nothing else is sent. The
link in that mail carries a signed, expiring token naming a random request id; following it
and pressing the button (a POST, so mail scanners that fetch links confirm nothing) moves the
entry to ``queued`` in one conditional update, which is what makes the link single-use. The
worker then sends the personalised copy; the confirmation page also offers it for download.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse, RedirectResponse, Response

from pacspdf.web import core
from pacspdf.web.limits import Refusal, buckets, check_address, check_origin, over_cap
from pacspdf.web.settings import Settings
from pacspdf.web.site import SiteReport, environment, render_index, render_report
from pacspdf.web.store import WebStore
from pacspdf.web.tokens import Purpose, TokenError, sign, verify
from pacspdf.web.worker import Worker

log = logging.getLogger("pacspdf.web")

FIELDS = ("name", "email", "company", "job_title", "country")
KINDS = {"sample": "sample", "enquiry": "question"}

_RELOAD = "We could not accept this form. Please reload the page and send it again."
_RELOAD_EXPIRED = "This form was open too long. Please reload the page and send it again."


def _printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``), safe to print on a terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _placeholder(kind: str) -> str:
    return f"@@form-token-{kind}@@"


def _nonce_hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "replace")).hexdigest()[:24]


class Intake:
    """The service's state: the prepared report pages, the database and the worker to wake."""

    def __init__(self, reports: list[SiteReport], *, db: Path | core.Target, settings: Settings,
                 site_dir: Path,
                 pdf_dir: Path, transport: str = "file", worker: Worker | None = None) -> None:
        self.reports = {r.slug: r for r in reports}
        self.db = core.parse_target(db)
        self.settings = settings
        self.site_dir = Path(site_dir)
        self.pdf_dir = Path(pdf_dir)
        self.transport = transport
        self.worker = worker
        self.env = environment()
        self.store = WebStore(self.db)
        self._local = threading.local()
        self._bases: dict[str, Any] = {}
        # One writer at a time inside this process: threads queue here instead of in SQLite's
        # busy handler, whose growing sleeps (up to 100 ms a try) made the slowest requests slow.
        self._writes = threading.Lock()
        self._pages: dict[str, str] = {}
        self._base_lock = threading.Lock()
        self.contexts = {r.slug: core.context_from_content(core.load(r.page.folder)) for r in reports}
        self.index_html = render_index(self.env, reports, settings.public_url)
        self.secure_cookie = settings.public_url.startswith("https://")

    # ------------------------------------------------------------------ helpers

    def outbox(self) -> core.Outbox:
        box: core.Outbox | None = getattr(self._local, "outbox", None)
        if box is None:
            box = self._local.outbox = core.Outbox(self.db)
        return box

    def page(self, status: int, heading: str, lines: list[str], *, back: str | None = None,
             download: str | None = None, slug: str = "") -> HTMLResponse:
        """A short page in the brand of report ``slug`` (else the first report)."""
        report = self.reports.get(slug) or next(iter(self.reports.values()), None)
        brand = {}
        if report is not None:
            brand = {"publisher": report.page.publisher, "brand_css": f"/reports/{report.slug}/brand.css",
                     "logo_url": f"/reports/{report.slug}/logo{report.page.logo.suffix}"}
        html = self.env.get_template("message.html").render(heading=heading, lines=lines, back=back,
                                                            download=download, root="/", **brand)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def refuse(self, refusal: Refusal, slug: str = "", kind: str = "",
               back: str | None = None) -> HTMLResponse:
        """Record the refusal in the outbox with its reason, and show the visitor a clear page."""
        report = self.reports.get(slug)
        reason = _printable(refusal.reason)[:300]  # `pacspdf outbox` prints it on a terminal
        try:
            entry = core.NewEntry(
                key=f"refused:{secrets.token_hex(12)}", report_slug=slug,
                report_dir=str(report.page.folder) if report else "", transport=self.transport,
                source=f"web:{kind}" if kind else "web", email=_printable(refusal.email)[:254],
                state=core.State.REFUSED, reason=reason)
            with self._writes:
                self.outbox().record([entry])
        except core.PacspdfError as exc:  # the page still goes out; the operator sees the log
            log.error("could not record a refusal (%s): %s", refusal.reason, exc)
        log.info("refused: %s", reason)
        heading = {429: "Too many requests", 403: "Request not accepted", 410: "Link expired",
                   409: "Link already used"}.get(refusal.status, "Request not accepted")
        return self.page(refusal.status, heading, [refusal.message], back=back, slug=slug)

    def base(self, slug: str) -> Any:
        with self._base_lock:
            if slug not in self._bases:
                self._bases[slug] = core.ensure_base(self.reports[slug].page.folder, self.pdf_dir)
            return self._bases[slug]

    def report_html(self, slug: str, cookie: str) -> str:
        """The served report page: rendered once, then only the forms' tokens change per visitor."""
        template = self._pages.get(slug)
        if template is None:
            template = render_report(self.env, self.reports[slug], self.settings.public_url,
                                     intake=self.form_context(slug, None), root="/")
            self._pages[slug] = template
        for kind, form in self.form_context(slug, cookie).items():
            template = template.replace(_placeholder(kind), form["token"])
        return template

    def form_context(self, slug: str, cookie: str | None) -> dict[str, Any]:
        from pacspdf.delivery.enquiries import MAX_LENGTH

        def form(kind: str, heading: str, intro: str, button: str) -> dict[str, Any]:
            if cookie is None:
                token = _placeholder(kind)
            else:
                value = f"{slug}:{kind}:{_nonce_hash(cookie)}"
                token = sign(self.settings.secret_key, Purpose.FORM, value, self.settings.form_hours * 3600)
            return {"kind": kind, "action": f"/reports/{slug}/{kind}", "token": token, "heading": heading,
                    "intro": intro, "button": button, "question": kind == "enquiry", "max": MAX_LENGTH}

        return {"sample": form("sample", "Request your free sample",
                               "A personalised copy of the sample PDF, sent to your business email.",
                               "Request the sample"),
                "enquiry": form("enquiry", "Ask our analysts",
                                "Your question goes to our sales team, who answer within one working day.",
                                "Send my question")}

    # ------------------------------------------------------------------ handlers (blocking: run in threads)

    def accept(self, slug: str, form_kind: str, form: dict[str, str], ip: str, headers: dict[str, str],
               cookie: str) -> Response:
        kind = KINDS[form_kind]
        back = f"/reports/{slug}/#{form_kind}"
        email = ""  # recorded with a refusal only once it is a valid address
        try:
            token = form.get("form_token", "")
            try:
                t = verify(self.settings.secret_key, Purpose.FORM, token)
            except TokenError as exc:
                if exc.kind == "expired":
                    raise Refusal(400, "form token expired", _RELOAD_EXPIRED) from None
                raise Refusal(400, "form token missing or forged", _RELOAD) from None
            t_slug, t_kind, t_nonce = [*t.value.split(":"), "", "", ""][:3]
            bound = bool(cookie) and secrets.compare_digest(t_nonce, _nonce_hash(cookie))
            check_origin(headers, self.settings, bound)
            if (t_slug, t_kind) != (slug, form_kind):
                raise Refusal(400, "form token made for another form", _RELOAD)
            if form.get("website", ""):
                raise Refusal(400, "honeypot field filled", "We could not accept this request.")
            waited = time.time() - t.issued
            if waited < self.settings.min_fill_seconds:
                raise Refusal(400, f"sent {waited:.1f} s after the form was served "
                                   f"(minimum {self.settings.min_fill_seconds:g} s)",
                              "That was quicker than a person fills in the form. Please wait a few "
                              "seconds and send it again.")
            values = {f: form.get(f, "").strip() for f in FIELDS}
            values["message"] = form.get("question", "").strip() if kind == "question" else ""
            row = core.validate_row(values, 0, "web")
            reasons = list(getattr(row, "reasons", ()))
            if not values["company"]:
                reasons.append("company: missing")
            if kind == "question" and not values["message"]:
                reasons.append("question: missing")
            if reasons:
                raise Refusal(422, "invalid input: " + "; ".join(reasons),
                              "Please correct the form: " + "; ".join(r.rstrip(".") for r in reasons) + ".")
            assert isinstance(row, core.Enquiry)
            email = row.email
            check_address(row.email, self.settings)
            with self._writes:
                capped = self.store.admit(buckets(self.settings.secret_key, ip, row.email),
                                          self.settings.limits)
            if capped:
                raise over_cap(capped) from None
        except Refusal as refusal:
            refusal.email = refusal.email or email
            return self.refuse(refusal, slug, kind, back)
        request_id = secrets.token_urlsafe(16)
        key = f"web:{request_id}"
        with self._writes:
            self._record_request(key, request_id, slug, kind, row, form.get("marketing_consent") == "yes")
        if self.worker is not None:
            self.worker.wake()
        return RedirectResponse(f"/reports/{slug}/requested", status_code=303)

    def _record_request(self, key: str, request_id: str, slug: str, kind: str, row: core.Enquiry,
                        consent: bool) -> None:
        report = self.reports[slug]
        self.outbox().record([core.NewEntry(
            key=key, report_slug=slug, report_dir=str(report.page.folder), transport=self.transport,
            message_id=core.message_id_for(key, self.contexts[slug].domain), source=f"web:{kind}",
            email=row.email, name=row.name, company=row.company, job_title=row.job_title,
            country=row.country, message=row.message, state=core.State.UNCONFIRMED)])
        self.store.add_request(request_id, key, kind, slug, consent, self.transport)

    def _request_for(self, token: str) -> tuple[Any, core.Entry]:
        try:
            t = verify(self.settings.secret_key, Purpose.CONFIRM, token)
        except TokenError as exc:
            if exc.kind == "expired":
                raise Refusal(410, "confirmation link expired",
                              "This link has expired. Please ask for the sample again.") from None
            raise Refusal(400, "confirmation link forged",
                          "This link is not one we sent. Please use the link in our email.") from None
        request = self.store.request(t.value)
        entry = self.outbox().get(request.outbox_key) if request else None
        if request is None or entry is None:
            raise Refusal(400, "confirmation link names no request",
                          "This link is not one we sent. Please use the link in our email.")
        return request, entry

    def confirm_form(self, token: str) -> Response:
        try:
            request, entry = self._request_for(token)
            if entry.state is core.State.REFUSED:
                raise Refusal(410, "confirmation after the request expired",
                              "This request has expired. Please ask for the sample again.")
            if entry.state is not core.State.UNCONFIRMED:
                raise Refusal(409, f"confirmation link replayed (request already {entry.state.value})",
                              "This link has already been used. Your copy was sent to you by email.")
        except Refusal as refusal:
            return self.refuse(refusal)
        report = self.reports[request.report_slug]
        html = self.env.get_template("confirm.html").render(
            token=token, root="/", publisher=report.page.publisher, title=report.page.title,
            kind=request.kind, brand_css=f"/reports/{report.slug}/brand.css",
            logo_url=f"/reports/{report.slug}/logo{report.page.logo.suffix}")
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def confirm(self, token: str, headers: dict[str, str]) -> Response:
        try:
            check_origin(headers, self.settings, token_bound=True)
            request, entry = self._request_for(token)
            with self._writes:
                confirmed = self.outbox().confirm(entry.key)
            if confirmed is None and entry.state is core.State.REFUSED:
                raise Refusal(410, "confirmation after the request expired",
                              "This request has expired. Please ask for the sample again.")
            if confirmed is None:
                raise Refusal(409, f"confirmation link replayed (request already {entry.state.value})",
                              "This link has already been used. Your copy was sent to you by email.")
        except Refusal as refusal:
            return self.refuse(refusal)
        with self._writes:
            self.store.mark_confirmed(request)
        if self.worker is not None:
            self.worker.wake()
        download = sign(self.settings.secret_key, Purpose.DOWNLOAD, request.id,
                        self.settings.download_hours * 3600)
        page = self.reports[request.report_slug].page
        lines = [f"Thank you. Your personalised copy of the {page.title} sample is on its way to your inbox.",
                 "You can also download it now."]
        if request.kind == "question":
            lines.insert(1, "Your question has gone to our sales team, who will reply by email.")
        return self.page(200, "Your request is confirmed", lines, back=f"/reports/{page.slug}/",
                         download=f"/download/{download}", slug=page.slug)

    def download(self, token: str) -> Response:
        try:
            try:
                t = verify(self.settings.secret_key, Purpose.DOWNLOAD, token)
            except TokenError as exc:
                raise Refusal(410 if exc.kind == "expired" else 400, f"download link {exc.kind}",
                              "This download link is not valid any more. Your copy was also sent by email.") \
                    from None
            request = self.store.request(t.value)
            entry = self.outbox().get(request.outbox_key) if request else None
            if request is None or entry is None or entry.state is core.State.UNCONFIRMED:
                raise Refusal(400, "download link names no confirmed request",
                              "This download link is not valid. Use the link on the confirmation page.")
        except Refusal as refusal:
            return self.refuse(refusal)
        date = (entry.prepared_at or datetime.now(UTC).isoformat())[:10]
        personalise = core.personaliser_for(self.base(request.report_slug))
        copy = personalise(core.enquiry_of(entry), entry.copy_id, date)
        return Response(copy.pdf, media_type="application/pdf", headers={
            "content-disposition": f'attachment; filename="{request.report_slug}-sample.pdf"',
            "cache-control": "no-store"})
