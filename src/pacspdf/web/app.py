"""Turn HTTP requests into teaser pages, unconfirmed requests, confirmations and downloads (Starlette).

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
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pacspdf.web import core
from pacspdf.web.limits import Refusal, buckets, check_address, check_origin, client_ip, network_of, over_cap
from pacspdf.web.settings import Settings
from pacspdf.web.site import SiteReport, environment, render_index, render_report
from pacspdf.web.store import WebStore
from pacspdf.web.tokens import Purpose, TokenError, sign, verify
from pacspdf.web.worker import Worker

log = logging.getLogger("pacspdf.web")
access_log = logging.getLogger("pacspdf.web.access")

COOKIE = "pacspdf_form"
MAX_BODY = 16 * 1024
FIELDS = ("name", "email", "company", "job_title", "country")
KINDS = {"sample": "sample", "enquiry": "question"}
_ASSET = re.compile(r"[a-z0-9][a-z0-9-]*\.(png|svg|css)")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # Confirmation and download URLs carry tokens: no Referer leaves the site. (Not "no-referrer": with
    # it, browsers send "Origin: null" on our own form posts.)
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
]


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


# ---------------------------------------------------------------------- the ASGI application


async def _read_form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise Refusal(415, f"unsupported form encoding ({ctype[:60] or 'none'})",
                      "We could not read this form. Please use the form on the report page.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise Refusal(413, f"form too large ({length} bytes)", "This form is too long for us to accept.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refusal(413, "form too large", "This form is too long for us to accept.")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=32,
                          encoding="utf-8", errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "unreadable form body", "We could not read this form.") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise Refusal(400, f"field sent twice ({name[:30]!r})", "We could not read this form.")
        form[name] = value
    return form


def make_app(intake: Intake) -> Starlette:
    """The Starlette application over ``intake``; the worker (if any) runs for the app's lifetime."""
    settings = intake.settings

    def ip_of(request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)

    async def index(request: Request) -> Response:
        return HTMLResponse(intake.index_html)

    async def healthz(request: Request) -> Response:
        worker = intake.worker
        state = "running" if worker is not None and worker.alive else ("off" if worker is None else "stopped")
        ok = worker is None or worker.alive
        return JSONResponse({"status": "ok" if ok else "degraded", "worker": state,
                             "reports": len(intake.reports)}, status_code=200 if ok else 503)

    async def report_page(request: Request) -> Response:
        slug = request.path_params["slug"]
        report = intake.reports.get(slug)
        if report is None:
            return intake.page(404, "Page not found", ["We have no report at this address."], back="/")
        cookie = request.cookies.get(COOKIE, "")
        fresh = not (16 <= len(cookie) <= 64 and cookie.isascii())
        if fresh:
            cookie = secrets.token_urlsafe(24)
        html = intake.report_html(slug, cookie)
        response = HTMLResponse(html, headers={"cache-control": "no-store"})
        if fresh:
            response.set_cookie(COOKIE, cookie, max_age=86400, httponly=True, samesite="strict",
                                secure=intake.secure_cookie)
        return response

    async def report_asset(request: Request) -> Response:
        slug, name = request.path_params["slug"], request.path_params["name"]
        path = intake.site_dir / "reports" / slug / name
        if slug not in intake.reports or not _ASSET.fullmatch(name) or not path.is_file():
            return intake.page(404, "Page not found", ["We have no file at this address."], back="/")
        return FileResponse(path)

    async def submit(request: Request) -> Response:
        slug, kind = request.path_params["slug"], request.path_params["kind"]
        if slug not in intake.reports or kind not in KINDS:
            return intake.page(404, "Page not found", ["We have no form at this address."], back="/")
        try:
            form = await _read_form(request)
        except Refusal as refusal:
            return await run_in_threadpool(intake.refuse, refusal, slug, KINDS[kind], f"/reports/{slug}/")
        return await run_in_threadpool(intake.accept, slug, kind, form, ip_of(request),
                                       dict(request.headers), request.cookies.get(COOKIE, ""))

    async def requested(request: Request) -> Response:
        slug = request.path_params["slug"]
        if slug not in intake.reports:
            return intake.page(404, "Page not found", ["We have no report at this address."], back="/")
        return intake.page(200, "Please check your inbox", [
            "We have sent you an email with a link to confirm your address.",
            "Open it and confirm, and your request goes through. Until then nothing else is sent.",
            "No email after a few minutes? Look in your spam folder, or send the form again."],
            back=f"/reports/{slug}/", slug=slug)

    async def confirm_get(request: Request) -> Response:
        return await run_in_threadpool(intake.confirm_form, request.path_params["token"])

    async def confirm_post(request: Request) -> Response:
        try:
            form = await _read_form(request)
        except Refusal as refusal:
            return await run_in_threadpool(intake.refuse, refusal)
        return await run_in_threadpool(intake.confirm, form.get("token", ""), dict(request.headers))

    async def download(request: Request) -> Response:
        return await run_in_threadpool(intake.download, request.path_params["token"])

    async def not_found(request: Request, exc: Exception) -> Response:
        return intake.page(404, "Page not found", ["We have no page at this address."], back="/")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return intake.page(405, "Not allowed", ["This address does not take that kind of request."], back="/")

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("error on %s %s: %s: %s", request.method, _route(request.url.path), type(exc).__name__, exc)
        return intake.page(500, "Something went wrong", [
            "Something went wrong on our side and your request was not completed. Please try again later."])

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/reports/{slug}/", report_page),
        Route("/reports/{slug}", lambda r: RedirectResponse(f"/reports/{r.path_params['slug']}/", 308)),
        Route("/reports/{slug}/requested", requested),
        Route("/reports/{slug}/{kind}", submit, methods=["POST"]),
        Route("/reports/{slug}/{name}", report_asset),
        Route("/confirm/{token}", confirm_get),
        Route("/confirm", confirm_post, methods=["POST"]),
        Route("/download/{token}", download),
        Mount("/static", StaticFiles(directory=intake.site_dir / "static"), name="static"),
    ]

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        if intake.worker is not None and not intake.worker.alive:
            intake.worker.start()
        yield
        if intake.worker is not None:
            # Finish the message in flight, then stop (uvicorn has already drained the requests).
            await run_in_threadpool(intake.worker.stop, 120.0)

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, 405: method_not_allowed, 500: server_error})
    return AccessLog(app, settings)  # type: ignore[return-value]  # an ASGI wrapper around the app


def server_config(app: Any, host: str, port: int) -> Any:
    """uvicorn's settings for the intake: our own access log and X-Forwarded-For handling (uvicorn's
    would believe the header from any local peer), no Server header, 30 s to finish requests on stop."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False,
                          server_header=False, log_config=None, timeout_graceful_shutdown=30,
                          lifespan="on")


def _route(path: str) -> str:
    """The path with any token cut off: tokens are credentials, not log material."""
    for prefix in ("/confirm/", "/download/"):
        if path.startswith(prefix):
            return prefix + "…"
    return path[:120]


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class AccessLog:
    """One line per request (method, path without tokens, status, time, the client's network), and
    the security headers on every response."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
            peer = scope.get("client") or (None, 0)
            ip = client_ip(peer[0], headers.get("x-forwarded-for"), self.settings.trusted_proxies)
            access_log.info("%s %s %d %.1fms net=%s", scope.get("method", "-"), _route(scope.get("path", "")),
                            status, (time.perf_counter() - started) * 1000, network_of(ip))
