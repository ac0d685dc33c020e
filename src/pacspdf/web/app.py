"""Turn HTTP requests into calls on the intake: routes, form bodies, the worker's lifetime (Starlette).

What each request does is in :mod:`pacspdf.web.intake`; the access log and the security headers
wrap the application in :mod:`pacspdf.web.access`.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pacspdf.web.access import AccessLog, route_of
from pacspdf.web.intake import KINDS, Intake
from pacspdf.web.limits import Refusal, client_ip

log = logging.getLogger("pacspdf.web")

COOKIE = "pacspdf_form"
MAX_BODY = 16 * 1024
_ASSET = re.compile(r"[a-z0-9][a-z0-9-]*\.(png|svg|css)")


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
        log.error("error on %s %s: %s: %s", request.method, route_of(request.url.path), type(exc).__name__,
                  exc)
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
