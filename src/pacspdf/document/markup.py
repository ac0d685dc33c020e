"""Rendered prose -> ReportLab paragraph markup: paragraphs, bullets, bold and italic.

Prose is plain text: a blank line separates paragraphs, lines starting with ``- `` are
bullets, ``**bold**`` and ``*italic*`` are the only emphasis. Everything else, including a
bare ``<`` or ``&``, is shown literally: the rendered text is escaped before the emphasis is
turned into markup, so content can never inject ReportLab tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape as _html_escape


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for ReportLab paragraph markup (quotes are left alone)."""
    return _html_escape(text, quote=False)


_BOLD_ITALIC = re.compile(r"\*\*\*(.+?)\*\*\*", re.S)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", re.S)


def inline(text: str) -> str:
    """Escape plain text, then turn **bold** and *italic* into paragraph markup."""
    out = escape(" ".join(text.split()))
    out = _BOLD_ITALIC.sub(r"<b><i>\1</i></b>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return _ITALIC.sub(r"<i>\1</i>", out)


@dataclass(frozen=True)
class Para:
    markup: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


def _chunk_blocks(chunk: str) -> list[Para | Bullets]:
    out: list[Para | Bullets] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            out.append(Para(inline(" ".join(para))))
            para.clear()
        if items:
            out.append(Bullets([inline(i) for i in items]))
            items.clear()

    for ln in chunk.splitlines():
        stripped = ln.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            if para:
                flush()
            items.append(stripped[2:])
        elif items and ln[:1].isspace():
            items[-1] += " " + stripped
        else:
            if items:
                flush()
            para.append(stripped)
    flush()
    return out


def blocks(text: str) -> list[Para | Bullets]:
    """Split rendered prose into paragraphs and bullet lists (markup already escaped)."""
    out: list[Para | Bullets] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        out += _chunk_blocks(chunk)
    return out
