"""Turn user-supplied text into one visible line for a terminal or a log: no control reaches the screen.

A CSV field, a server reply or a stored outbox value may hold an escape sequence, a carriage
return or a line break that would redraw the operator's terminal or forge a second record.
:func:`visible` shows every such character as a backslash escape (``\\x1b``, ``\\r``,
``\\u202e``), so one record is always one line and what is printed is what is there.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control, format (zero-width, bidi), separators, surrogates, private use, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: object) -> str:
    """``text`` on one line with every control or invisible character shown as an escape."""
    s = str(text)
    if s.isprintable():  # the common case: nothing to do (isprintable is False for all of _HIDDEN)
        return s
    return "".join(_escape(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in s)
