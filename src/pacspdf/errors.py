"""The exception tree: every problem a user can act on, with file, line and field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a report's content, located as precisely as we can."""

    file: str
    line: int = 0
    column: int = 0
    field: str = ""
    message: str = ""
    severity: str = dataclasses.field(default="error", compare=False)

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        subject = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity}: {subject}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class PacspdfError(Exception):
    """Base of every error pacspdf raises on purpose; the CLI maps it to exit code 2."""

    exit_code = 2


class ContentError(PacspdfError):
    """A report's content has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(str(self.problems[0]) if self.problems else "invalid content")

    @classmethod
    def one(cls, file: str | Path, message: str, *, line: int = 0, column: int = 0,
            field: str = "") -> ContentError:
        return cls([Problem(str(file), line, column, field, message)])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def __str__(self) -> str:
        first = self.errors[0] if self.errors else self.problems[0]
        more = len(self.errors) - 1
        return str(first) + (f" (and {more} more error{'s' * (more > 1)})" if more > 0 else "")


class UsageError(PacspdfError):
    """The command line itself is wrong (a missing file argument, an unknown option value)."""


class BuildError(PacspdfError):
    """The PDF could not be produced for a reason outside the content (e.g. an unwritable path)."""


class PreflightError(BuildError):
    """The laid-out pages have text over text, outside its frame or a squashed chart.

    ``findings`` are one line each ("page 4: cover text "…": overprints …"); no PDF was
    written (``build --force`` writes it anyway).
    """

    def __init__(self, file: str, findings: list[str]) -> None:
        self.file = file
        self.findings = findings
        more = len(findings) - 1
        super().__init__(f"{file}: layout: {findings[0] if findings else 'problems on the pages'}"
                         + (f" (and {more} more)" if more > 0 else ""))

