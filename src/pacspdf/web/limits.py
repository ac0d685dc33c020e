"""Turn a request's origin headers, address and form into an admission, or a refusal with its reason.

Each check raises :class:`Refusal`, which carries the HTTP status, the reason recorded in
the outbox (for the operator) and the sentence shown to the visitor. Nothing here writes:
the app records refusals and counts admissions (:meth:`WebStore.admit`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pacspdf.web.settings import Network, Settings


@dataclass
class Refusal(Exception):
    """A request turned away: ``reason`` is recorded, ``message`` is shown."""

    status: int
    reason: str
    message: str
    email: str = ""

    def __str__(self) -> str:
        return self.reason


# ------------------------------------------------------------------------------ the client address


def client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The visitor's address: the peer, or, when the peer is a trusted proxy, the last untrusted hop
    of X-Forwarded-For (hops the visitor wrote themselves sit further left and are ignored)."""
    peer = peer or "0.0.0.0"
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a malformed chain: believe only the proxy itself
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def network_of(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) the address belongs to: one office, one provider's customer."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def host_of(address: str) -> str:
    """IPv4 as is; IPv6 as its /64 (one host usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ip) if ip.version == 4 else str(ipaddress.ip_network(f"{ip}/64", strict=False))


def buckets(secret: bytes, address: str, email: str) -> dict[str, str]:
    """The four counters a request counts in, keyed by HMAC so the database holds no raw address."""
    domain = email.rpartition("@")[2].lower()
    raw = {"ip": host_of(address), "net": network_of(address), "email": email.casefold(), "domain": domain}
    return {k: f"{k}:" + hmac.new(secret, f"{k}:{v}".encode(), hashlib.sha256).hexdigest()[:32]
            for k, v in raw.items()}


CAP_MESSAGES = {
    "ip": "Too many requests have come from your network connection today. Please try again tomorrow.",
    "net": "Too many requests have come from your network today. Please try again tomorrow.",
    "email": "This email address has asked for this several times today already. Please check your "
             "inbox (and spam folder) for our earlier emails.",
    "domain": "We have had many requests from your organisation today. Please try again tomorrow or "
              "write to our sales team.",
}


def over_cap(kind: str) -> Refusal:
    return Refusal(429, f"over the daily cap per {kind}", CAP_MESSAGES[kind])


# ------------------------------------------------------------------------------ cross-site requests


def check_origin(headers: Mapping[str, str], settings: Settings, token_bound: bool) -> None:
    """Refuse a form post another site made the browser send.

    A browser that sends ``Sec-Fetch-Site`` must say ``same-origin``; one that sends
    ``Origin`` must name an allowed origin. Only when neither header is there does the
    form token's binding to our cookie (``token_bound``) decide.
    """
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if site is not None and site != "same-origin":
        raise Refusal(403, f"cross-site form post (Sec-Fetch-Site: {site[:40]})", _CSRF_MESSAGE)
    if origin is not None and origin.lower() not in settings.allowed_origins:
        shown = origin[:80].encode("ascii", "replace").decode()
        raise Refusal(403, f"form post from a foreign origin ({shown})", _CSRF_MESSAGE)
    if site is None and origin is None and not token_bound:
        raise Refusal(403, "form post without Origin or Sec-Fetch-Site, and no matching form cookie",
                      _CSRF_MESSAGE)


_CSRF_MESSAGE = ("Your browser sent this form from outside our site, so we did not accept it. "
                 "Please open the report page and fill in the form there.")


# ------------------------------------------------------------------------------ the address itself


@cache
def _freemail() -> frozenset[str]:
    text = resources.files("pacspdf.web").joinpath("data/freemail.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#")


@cache
def _disposable() -> frozenset[str]:
    from disposable_email_domains import blocklist

    return frozenset(d.lower() for d in blocklist)


def _suffixes(domain: str) -> list[str]:
    parts = domain.lower().split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def is_disposable(domain: str) -> bool:
    """The domain, or a domain it belongs to, is on the maintained list of throw-away mail services."""
    listed = _disposable()
    return any(s in listed for s in _suffixes(domain))


def is_freemail(domain: str) -> bool:
    listed = _freemail()
    return any(s in listed for s in _suffixes(domain))


def check_address(email: str, settings: Settings) -> None:
    domain = email.rpartition("@")[2]
    if is_disposable(domain):
        raise Refusal(422, f"disposable email domain ({domain})",
                      "We cannot send samples to temporary or disposable email addresses. Please use "
                      "your work address.", email)
    if settings.business_only and is_freemail(domain):
        raise Refusal(422, f"personal email domain ({domain}) while business email is required",
                      "Please use your work email address: we send samples to business addresses only.",
                      email)
