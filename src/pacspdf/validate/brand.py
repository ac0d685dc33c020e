"""Brand file -> Problems: links, contact addresses, logo images, TrueType fonts and colour contrast."""

from __future__ import annotations

import re
from pathlib import Path

from pacspdf.content._yaml import Path_
from pacspdf.content.brand import locate_asset
from pacspdf.content.confine import MAX_ASSET_BYTES, MAX_FALLBACK_FONT_BYTES, too_big
from pacspdf.content.contrast import problems as contrast_problems
from pacspdf.content.load import display_path
from pacspdf.content.schema import fields_of
from pacspdf.validate.report import (
    Reporter,
)


class BrandChecks(Reporter):
    """Brand links and contact addresses are well-formed; logos and fonts exist and are what they claim."""

    # -- brand fields -----------------------------------------------------------------
    def brand_fields(self) -> None:
        for key, url in fields_of(self.content.brand.links).items():
            if not url and key == "customise":  # optional: the enquiry page takes it
                continue
            if not re.match(r"https?://\S+$", url):
                self.at(("links", key), f'"{url}" is not an http(s) address', brand=True)
            for placeholder in re.findall(r"\{[^}]*\}", url):
                if placeholder != "{id}":
                    self.at(("links", key), f'unknown placeholder "{placeholder}" (only {{id}} is '
                                            "replaced, by the report's publisher_id)", brand=True)
        for key in ("email", "sales_email"):
            value = getattr(self.content.brand.contact, key)
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                self.at(("contact", key), f'"{value}" is not an email address', brand=True)


    # -- brand files ------------------------------------------------------------------
    def brand_files(self) -> None:
        brand = self.content.brand
        base = self.content.brand_dir
        for key, value, required in (("logo", brand.logo, True), ("logo_white", brand.logo_white, False)):
            if not value and not required:
                continue
            path = self._file((key,), value, base)
            if path is not None:
                head = path.read_bytes()[:512]
                if not _is_image(head):
                    self.at((key,), f"{display_path(path)} is not an SVG, PNG or JPEG image",
                            brand=True)
        fonts: list[tuple[Path_, str]] = [(("fonts", k), v) for k, v in fields_of(brand.fonts).items()
                                          if k != "fallback"]
        fonts += [(("fonts", "fallback", i), v) for i, v in enumerate(brand.fonts.fallback)]
        for where, value in fonts:
            limit = MAX_FALLBACK_FONT_BYTES if where[1] == "fallback" else MAX_ASSET_BYTES
            path = self._file(where, value, base, limit)
            if path is not None:
                head = path.read_bytes()[:4]
                if head == b"OTTO":
                    self.at(where, f"{display_path(path)} is an OpenType (CFF) font; "
                                   "ReportLab needs TrueType outlines (.ttf)", brand=True)
                elif head not in (b"\x00\x01\x00\x00", b"true", b"ttcf"):
                    self.at(where, f"{display_path(path)} is not a TrueType font file", brand=True)

    # -- brand colours ----------------------------------------------------------------
    def brand_contrast(self) -> None:
        """Text colours against their backgrounds and chart colours against the page (WCAG AA)."""
        for path, message in contrast_problems(fields_of(self.content.brand.colours)):
            self.at(path, message, brand=True)

    def _file(self, path: Path_, value: str, base: Path, limit: int = MAX_ASSET_BYTES) -> Path | None:
        resolved = resolve_asset(value, base)
        if isinstance(resolved, str):
            self.at(path, resolved, brand=True)
            return None
        if not resolved.is_file():
            self.at(path, f"file not found: {display_path(resolved)}", brand=True)
            return None
        if resolved.stat().st_size == 0:
            self.at(path, f"file is empty: {display_path(resolved)}", brand=True)
            return None
        big = too_big(resolved, limit, display_path(resolved))
        if big:
            self.at(path, big, brand=True)
            return None
        return resolved



def _is_image(head: bytes) -> bool:
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return True
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and (b"<svg" in head or b"<?xml" in head or b"<!--" in head)


def resolve_asset(value: str, base: Path) -> Path | str:
    """A brand file reference as an absolute path, or a message (str) when its package is missing."""
    found = locate_asset(value, base)
    return found.resolve() if isinstance(found, Path) and not value.startswith("pkg:") else found
