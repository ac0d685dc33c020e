"""Turn the environment (``PACSPDF_*``) into the web service's settings, naming any variable that is wrong."""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pacspdf.web.core import UsageError

log = logging.getLogger("pacspdf.web")

ENV_PUBLIC_URL = "PACSPDF_PUBLIC_URL"
ENV_SECRET_KEY = "PACSPDF_SECRET_KEY"
ENV_TRUSTED_PROXIES = "PACSPDF_TRUSTED_PROXIES"
ENV_ALLOWED_ORIGINS = "PACSPDF_ALLOWED_ORIGINS"
ENV_BUSINESS_ONLY = "PACSPDF_BUSINESS_EMAIL_ONLY"
ENV_MIN_FILL = "PACSPDF_MIN_FILL_SECONDS"
ENV_CONFIRM_HOURS = "PACSPDF_CONFIRM_HOURS"
LIMIT_ENV = {  # daily caps on accepted requests, per bucket
    "ip": "PACSPDF_LIMIT_PER_IP",
    "net": "PACSPDF_LIMIT_PER_NETWORK",
    "email": "PACSPDF_LIMIT_PER_EMAIL",
    "domain": "PACSPDF_LIMIT_PER_DOMAIN",
}
DEFAULT_LIMITS = {"ip": 10, "net": 30, "email": 3, "domain": 20}
MIN_SECRET = 32

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Settings:
    """Everything the intake and the worker read from the environment."""

    public_url: str
    secret_key: bytes = field(repr=False)
    trusted_proxies: tuple[Network, ...] = ()
    allowed_origins: frozenset[str] = frozenset()
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    min_fill_seconds: float = 3.0
    business_only: bool = False
    confirm_hours: float = 24.0
    form_hours: float = 4.0
    download_hours: float = 24.0
    ephemeral_key: bool = False

    @property
    def origin(self) -> str:
        return origin_of(self.public_url)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool = False) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise UsageError(f"environment: {name}={text!r} is not a number") from None
    if value < 0:
        raise UsageError(f"environment: {name}={text!r} must not be negative")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in ("", "0", "no", "false", "off"):
        return False
    if text in ("1", "yes", "true", "on"):
        return True
    raise UsageError(f"environment: {name}={text!r} is not one of 1, 0, yes, no, true, false")


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    out = []
    for item in env.get(name, "").replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise UsageError(f"environment: {name}: {item!r} is not an IP address or network") from None
    return tuple(out)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    url = env.get(name, "").strip() or default
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"environment: {name}={url!r} is not an http(s) base URL like https://example.com")
    return url.rstrip("/")


def load_settings(environ: Mapping[str, str] | None = None, *, default_url: str = "http://127.0.0.1:8000",
                  require_key: bool = False) -> Settings:
    """Read the settings; a missing secret key is an error when ``require_key``, else an ephemeral one."""
    env = os.environ if environ is None else environ
    public_url = _url(env, ENV_PUBLIC_URL, default_url)
    key_text = env.get(ENV_SECRET_KEY, "")
    ephemeral = False
    if not key_text:
        if require_key:
            raise UsageError(f"environment: {ENV_SECRET_KEY} is not set (it signs confirmation links; "
                             "use the same value for every serve and worker process)")
        key_text = secrets.token_urlsafe(48)
        ephemeral = True
        log.warning("%s is not set: using a random key for this process only; confirmation links "
                    "die with it", ENV_SECRET_KEY)
    elif len(key_text) < MIN_SECRET:
        raise UsageError(f"environment: {ENV_SECRET_KEY} is too short ({len(key_text)} characters, "
                         f"at least {MIN_SECRET})")
    origins = {origin_of(public_url)}
    for item in env.get(ENV_ALLOWED_ORIGINS, "").split(","):
        if item.strip():
            origins.add(origin_of(_url({"x": item.strip()}, "x", "")))
    limits = {k: int(_number(env, name, DEFAULT_LIMITS[k], integer=True)) for k, name in LIMIT_ENV.items()}
    return Settings(
        public_url=public_url, secret_key=key_text.encode("utf-8"),
        trusted_proxies=_networks(env, ENV_TRUSTED_PROXIES), allowed_origins=frozenset(origins),
        limits=limits, min_fill_seconds=_number(env, ENV_MIN_FILL, 3.0),
        business_only=_flag(env, ENV_BUSINESS_ONLY), confirm_hours=_number(env, ENV_CONFIRM_HOURS, 24.0),
        ephemeral_key=ephemeral)
