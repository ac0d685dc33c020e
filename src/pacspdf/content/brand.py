"""Resolve asset references of a brand: plain paths or ``pkg:<package>/<path>`` in a package."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def resolve_asset(spec: str, base_dir: Path) -> Path:
    """The file ``spec`` names; relative paths are taken from ``base_dir`` (the brand's folder)."""
    if spec.startswith("pkg:"):
        package, _, rest = spec[4:].partition("/")
        found = importlib.util.find_spec(package) if package else None
        locations = list(found.submodule_search_locations or []) if found else []
        if not locations:
            return Path(spec[4:])  # does not exist: callers report it
        return Path(locations[0]) / rest
    return base_dir / spec
