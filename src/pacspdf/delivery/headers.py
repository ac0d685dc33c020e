"""Turn ``Address`` objects and header text into header values that decode to exactly what was typed.

Python's header registry does not do this: it turns an ``Address`` back into a string, parses
that string again, decodes any RFC 2047 encoded word a stranger typed into a name
(``=?utf-8?q?X=0D=0ABcc=3A...?=``) and folds the *decoded* text out, raw CR LF included. So
every header here is written once, by these functions, and stored with ``set_raw`` under a
policy that never refolds (:data:`POLICY`):

- a display name that is a plain phrase (ASCII words, no ``=?``, no specials) is written as is;
- any other display name is written as ONE base64 encoded word, which every decoder turns back
  into the literal name (strict RFC 2047 decoders drop the space between adjacent encoded
  words, Python's address parser keeps one, so the name is never split into several);
- unstructured text (the subject) that is not plain printable ASCII becomes encoded words,
  folded at 76 columns (adjacent encoded words in unstructured text decode alike everywhere).

Nothing a user typed can open a new header line: values with CR or LF are refused here too,
as a second line of defence behind the enquiry validation.
"""

from __future__ import annotations

import base64
import email.policy
import re
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage

#: The message policy: SMTP line ends; raw headers set here are written as they are, never refolded.
POLICY = email.policy.SMTP.clone(refold_source="none")

# RFC 5322 atext without "=" and "?" (so no encoded word can start), words separated by one space.
_PLAIN_WORD = r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+"
_PLAIN_PHRASE = re.compile(rf"{_PLAIN_WORD}(?: {_PLAIN_WORD})*")
_PLAIN_TEXT = re.compile(r"[ -~]*")
_MAX_LINE = 998  # RFC 5322's hard limit, CRLF excluded


class HeaderError(ValueError):
    """A header value that cannot be written safely (a line break, or too long for one line)."""


def _no_breaks(value: str, what: str) -> None:
    if any(ch in value for ch in "\r\n\x00"):
        raise HeaderError(f"{what}: contains a line break or NUL")


def encoded_word(text: str) -> str:
    """``text`` as one RFC 2047 base64 encoded word in UTF-8."""
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def display_name(name: str) -> str:
    """The display-name part of an address header: the literal name, safely spelt."""
    _no_breaks(name, "display name")
    if not name or _PLAIN_PHRASE.fullmatch(name):
        return name
    return encoded_word(name)


def address(addr: Address) -> str:
    """One mailbox: ``Name <local@domain>`` (or just the address), ASCII only."""
    spec = addr.addr_spec
    _no_breaks(spec, "address")
    if not spec.isascii():
        raise HeaderError(f"address {spec!r} is not ASCII (no SMTPUTF8)")
    if not addr.display_name:
        return spec
    return f"{display_name(addr.display_name)} <{spec}>"


def address_list(addrs: Sequence[Address]) -> str:
    """A folded address-list header value: one mailbox per line when they do not fit on one."""
    parts = [address(a) for a in addrs]
    one_line = ", ".join(parts)
    if len(one_line) <= 70:
        return one_line
    # fold between the name and the address, and between mailboxes
    return ",\r\n ".join(p.replace(" <", "\r\n <") if len(p) > 70 else p for p in parts)


def unstructured(text: str) -> str:
    """Header text (a subject): as is when plain printable ASCII, else folded encoded words."""
    _no_breaks(text, "header text")
    if _PLAIN_TEXT.fullmatch(text) and "=?" not in text and len(text) <= 900:
        return text
    words: list[str] = []
    chunk = ""
    for ch in text:  # each word's UTF-8 at most 45 bytes: 60 base64 characters, 72 with the frame
        if len((chunk + ch).encode("utf-8")) > 45:
            words.append(encoded_word(chunk))
            chunk = ""
        chunk += ch
    if chunk or not words:
        words.append(encoded_word(chunk))
    # Adjacent encoded words in unstructured text: the folding white space between them is
    # not part of the text (RFC 2047 6.2), and every decoder, the stdlib's included, agrees.
    return "\r\n ".join(words)


def set_header(msg: EmailMessage, name: str, value: str) -> None:
    """Store a value made by this module, checking that each physical line is within the limit."""
    if any(len(line) > _MAX_LINE - len(name) - 2 for line in value.split("\r\n")):
        raise HeaderError(f"{name}: a line of the header would be over {_MAX_LINE} characters")
    # EmailMessage.set_raw stores the value untouched; POLICY writes it without refolding.
    msg.set_raw(name, value.replace("\r\n", "\n"))
