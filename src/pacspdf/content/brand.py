"""Brand -> what its fields point at: the report's (tracked) link URLs and its asset files.

A brand's links are URL patterns whose ``{id}`` is the report's ``publisher_id``; its logo and
font references are plain paths (relative to the brand file's folder) or ``pkg:<package>/<path>``
inside an installed package. Both are resolved here and nowhere else.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pacspdf.content.confine import Refusal, inside
from pacspdf.content.model import Brand, Report
from pacspdf.content.schema import fields_of


def link_urls(brand: Brand, publisher_id: str) -> dict[str, str]:
    """Every brand link with ``{id}`` replaced by the report's ``publisher_id`` (customisation
    requests go to the enquiry page unless the brand has a page for them)."""
    urls = {key: url.replace("{id}", publisher_id) for key, url in fields_of(brand.links).items()}
    urls["customise"] = urls.get("customise") or urls["enquiry"]
    return urls


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query (existing parameters kept, ours win)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: v for k, v in params.items() if k and v})
    return urlunsplit(parts._replace(path=parts.path or "/", query=urlencode(query)))


def tracked(url: str, brand: Brand, report: Report, placement: str) -> str:
    """``url`` with the brand's tracking (UTM) parameters, ``utm_content`` naming where in the
    PDF the link sits. ``mailto:`` and ``tel:`` links are returned as they are."""
    if not url.startswith(("http://", "https://")):
        return url
    t = brand.tracking

    def fill(value: str) -> str:
        return value.replace("{slug}", report.slug).replace("{id}", report.publisher_id)

    return with_query(url, {"utm_source": fill(t.utm_source), "utm_medium": fill(t.utm_medium),
                            "utm_campaign": fill(t.utm_campaign), "utm_content": placement})


def locate_asset(spec: str, base_dir: Path) -> Path | str:
    """The file ``spec`` names (relative paths are taken from ``base_dir``, the brand's folder),
    or a message: the package of a ``pkg:`` reference is not installed, or the path leads out
    of the brand folder (or the package)."""
    if not spec.startswith("pkg:"):
        here = inside(base_dir, spec, "the brand folder")
        return here.message if isinstance(here, Refusal) else here
    package, _, rest = spec[4:].partition("/")
    try:
        found = importlib.util.find_spec(package) if package else None
    except (ImportError, ValueError):
        found = None
    if found is None or not found.submodule_search_locations:
        return f'package "{package}" is not installed (in "{spec}")'
    where = inside(Path(next(iter(found.submodule_search_locations))), rest, f'the package "{package}"')
    return where.message if isinstance(where, Refusal) else where


def resolve_asset(spec: str, base_dir: Path) -> Path:
    """Like :func:`locate_asset`, for content that passed the checks: always a path (a missing
    package gives a path that does not exist, which the caller reports)."""
    found = locate_asset(spec, base_dir)
    return Path(spec[4:]) if isinstance(found, str) else found
