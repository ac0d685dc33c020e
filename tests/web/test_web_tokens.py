"""Signed tokens: any change to a token is caught, purposes do not mix, expiry is enforced."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pacspdf.web.tokens import Purpose, TokenError, sign, verify

KEY = b"k" * 40
ALPHABET = string.ascii_letters + string.digits + "-_."


@given(value=st.text(alphabet=string.ascii_letters + string.digits + "-_:", min_size=1, max_size=40),
       position=st.integers(0, 10_000), replacement=st.sampled_from(ALPHABET))
def test_any_changed_character_is_refused(value: str, position: int, replacement: str) -> None:
    token = sign(KEY, Purpose.CONFIRM, value, 3600)
    assert verify(KEY, Purpose.CONFIRM, token).value == value
    i = position % len(token)
    changed = token[:i] + replacement + token[i + 1:]
    if changed == token:
        return
    try:
        got = verify(KEY, Purpose.CONFIRM, changed)
    except TokenError as exc:
        assert exc.kind == "forged"
    else:  # base64 padding bits: a different spelling of the same bytes is the same token
        assert got.value == value


def test_purposes_and_keys_do_not_mix() -> None:
    token = sign(KEY, Purpose.DOWNLOAD, "abc", 3600)
    for purpose in (Purpose.CONFIRM, Purpose.FORM):
        with pytest.raises(TokenError):
            verify(KEY, purpose, token)
    with pytest.raises(TokenError):
        verify(b"x" * 40, Purpose.DOWNLOAD, token)


def test_expiry() -> None:
    token = sign(KEY, Purpose.CONFIRM, "abc", 60, now=1_000_000)
    assert verify(KEY, Purpose.CONFIRM, token, now=1_000_060).value == "abc"
    with pytest.raises(TokenError) as info:
        verify(KEY, Purpose.CONFIRM, token, now=1_000_061)
    assert info.value.kind == "expired"
    with pytest.raises(ValueError):
        sign(KEY, Purpose.CONFIRM, "a|b", 60)
