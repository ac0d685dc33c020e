"""Report folder (YAML + CSV + brand) -> a typed, located Content; which report folder a command means."""

from pathlib import Path

from pacspdf.errors import UsageError

#: Where report folders live: ``build --all`` builds them, and a command without REPORT uses
#: the only one there.
CATALOGUE_ROOT = Path("content")


def catalogue_reports(root: Path = CATALOGUE_ROOT) -> list[Path]:
    """The report folders under ``root``: its sub-folders that hold a report.yaml, by name."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "report.yaml").is_file())


def choose_report(given: str | None, root: Path = CATALOGUE_ROOT) -> Path:
    """The report a command works on: the one named, else the only report under ``root``.

    With several reports and none named, guessing would build, check or mail the wrong
    sample: UsageError (exit 2) lists them instead. ``build``, ``check`` and ``send`` all go
    through this one rule (the CLI's commands and ``send``).
    """
    if given:
        return Path(given)
    found = catalogue_reports(root)
    if len(found) == 1:
        return found[0]
    if not found:
        raise UsageError(f"no report folder under {root}/ (a folder with report.yaml); name one, "
                         "or make one with: pacspdf new SLUG")
    listed = ", ".join(str(p) for p in found)
    raise UsageError(f"{len(found)} reports under {root}/, name the one to use: {listed}")
