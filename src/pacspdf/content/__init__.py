"""Report folder (YAML + CSV + brand) -> a typed, located Content; where report folders live by default."""

from pathlib import Path

#: The report ``pacspdf build`` and ``pacspdf check`` use when none is named.
DEFAULT_REPORT = Path("content/pacs")
#: Where ``pacspdf build --all`` looks for report folders.
CATALOGUE_ROOT = Path("content")
