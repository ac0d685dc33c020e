"""Turn a purpose, a request id and a lifetime into a signed token, and a token back into them (or a refusal).

A token is ``<payload>.<mac>``, both base64url: the payload is ``purpose|value|expiry`` and
the MAC is HMAC-SHA256 under a key derived from the secret for that purpose, so a token
made for one use (a form, a confirmation, a download) is worthless for another. Tokens carry
no personal data: the value is a random request id or a nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from enum import StrEnum


class Purpose(StrEnum):
    FORM = "f"
    CONFIRM = "c"
    DOWNLOAD = "d"


class TokenError(ValueError):
    """Why a token was not accepted: ``forged`` (bad shape or signature) or ``expired``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Token:
    purpose: Purpose
    value: str
    issued: float
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: bytes, purpose: Purpose) -> bytes:
    return hmac.new(secret, b"pacspdf-web-token:" + purpose.value.encode(), hashlib.sha256).digest()


def sign(secret: bytes, purpose: Purpose, value: str, lifetime: float, *, now: float | None = None) -> str:
    if "|" in value:
        raise ValueError("a token value cannot contain '|'")
    issued = int(now if now is not None else time.time())
    payload = f"{purpose.value}|{value}|{issued}|{issued + int(lifetime)}".encode()
    mac = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()[:18]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(secret: bytes, purpose: Purpose, token: str, *, now: float | None = None) -> Token:
    """The token's content, or TokenError; the signature is checked before anything is believed."""
    if not token or len(token) > 300 or token.count(".") != 1:
        raise TokenError("forged", "the link is not one we made")
    payload_text, mac_text = token.split(".")
    try:
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, TypeError):
        raise TokenError("forged", "the link is not one we made") from None
    expected = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()[:18]
    if not hmac.compare_digest(mac, expected):
        raise TokenError("forged", "the link is not one we made")
    kind, value, issued, expires = payload.decode("ascii").split("|")
    if kind != purpose.value:  # pragma: no cover - the per-purpose key already rules this out
        raise TokenError("forged", "the link is not one we made")
    current = now if now is not None else time.time()
    if current > int(expires):
        raise TokenError("expired", "the link has expired")
    return Token(purpose, value, float(issued), float(expires))
