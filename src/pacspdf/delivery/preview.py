"""Turn a loaded report into problems `send` would hit: mail templates, sender address, links.

``pacspdf check`` calls this, so that a brand's broken mail template or unusable sender is
found before anyone runs ``send``. It renders the brand's templates once with a made-up
enquirer, exactly as ``send`` does before its first message, and forms the headers.
"""

from __future__ import annotations

import re
from typing import Any

from pacspdf.errors import PacspdfError, Problem

_AT_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.*)$")
_AT_FILE = re.compile(r"^(?P<file>/.+?|[^:]+\.(?:txt|html)): (?P<message>.*)$")


def _problem(content: Any, exc: Exception) -> Problem:
    from pacspdf.content.load import display_path

    text = str(exc)
    found = _AT_LINE.match(text)
    if found:
        return Problem(display_path_of(found.group("file"), display_path), int(found.group("line")),
                       0, "mail", found.group("message"))
    found = _AT_FILE.match(text)
    if found:
        return Problem(display_path_of(found.group("file"), display_path), 0, 0, "mail",
                       found.group("message"))
    origin, _, rest = text.partition(": ")
    name, _, message = rest.partition(": ")
    if origin == "environment" and message:  # PACSPDF_MAIL_FROM: the setting, not a file
        return Problem("environment", 0, 0, name, message)
    if origin == "brand" and message:  # brand: contact.email: ...
        return Problem(content.brand_file, 0, 0, name, message)
    return Problem(content.brand_file, 0, 0, "", text)


def display_path_of(file: str, display: Any) -> str:
    from pathlib import Path

    return str(display(Path(file)))


def mail_problems(content: Any) -> list[Problem]:
    """Every problem ``send`` would meet with this report's brand, before any enquiry is read."""
    from pacspdf.delivery.message import MailTemplates, context_from_content

    try:
        ctx = context_from_content(content)
    except PacspdfError as exc:  # the sender or reply-to address is unusable
        return [_problem(content, exc)]
    try:
        templates = MailTemplates(ctx.templates_dir)
        templates.check(ctx)
    except PacspdfError as exc:
        return [_problem(content, exc)]
    return []
