"""Turn each HTTP exchange into one access-log line, and give every response the security headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pacspdf.web.limits import client_ip, network_of
from pacspdf.web.settings import Settings

access_log = logging.getLogger("pacspdf.web.access")

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


def route_of(path: str) -> str:
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
            access_log.info("%s %s %d %.1fms net=%s", scope.get("method", "-"),
                            route_of(scope.get("path", "")), status, (time.perf_counter() - started) * 1000,
                            network_of(ip))
