"""Record what personalisation needs about a built base PDF, and rebuild it only when stale."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pacspdf import __version__
from pacspdf.assets import resolve_asset
from pacspdf.personalise import BaseArtifact, locate_objects, sidecar_path
from pacspdf.write import write_atomic


def _rgb(colour: Any) -> str:
    return " ".join(f"{v:.4f}" for v in colour.rgb())


def content_hash(folder: Path, brand_dir: Path) -> str:
    """A hash of every file of the report folder and the brand folder, and of pacspdf's version."""
    h = hashlib.sha256(__version__.encode())
    for root in (Path(folder), Path(brand_dir)):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(root)).encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def base_meta(content: Any, theme: Any, pdf: bytes, pages: int, links: dict[str, str]) -> dict[str, Any]:
    from pacspdf.cover import personal_box
    from pacspdf.doctemplate import PERSONAL_COVER, PERSONAL_FOOTER, footer_line

    box = personal_box(theme)
    top = box["y"] + box["h"]
    line = footer_line(theme)
    c = theme.colour
    b = content.brand
    return {
        "slug": content.report.slug,
        "title": content.report.title,
        "code": content.report.code,
        "pages": pages,
        "links": links,
        "brand": {"publisher": b.publisher, "email": b.contact.email, "sales_email": b.contact.sales_email,
                  "phone": b.contact.phone, "website": b.links.website,
                  "colours": {"primary": b.colours.primary, "accent": b.colours.accent,
                              "text": b.colours.text, "muted": b.colours.muted, "tint": b.colours.tint}},
        "fonts": {**{k: str(v) for k, v in theme.font_files.items()},
                  "fallback": [str(resolve_asset(f, content.brand_dir)) for f in b.fonts.fallback]},
        "copy_param": b.tracking.copy_param,
        "layout": {
            "page": list(theme.page_size),
            "cover": {"x": round(box["text_x"], 3), "width": round(box["w"] - 36, 3),
                      "label": "PREPARED FOR", "label_size": 7.4, "label_y": round(top - 22, 3),
                      "label_rgb": _rgb(c["muted"]),
                      "name_size": 15.0, "name_min_size": 11.0, "name_y": round(top - 42, 3),
                      "name_two_y": [round(top - 38, 3), round(top - 54, 3)],
                      "name_rgb": _rgb(c["primary"]),
                      "detail_size": 9.0, "detail_y": round(top - 60, 3), "detail_two_y": round(top - 71, 3),
                      "detail_rgb": _rgb(c["text"])},
            "footer": {"x": round(line["x"], 3), "y": round(line["y"], 3), "size": line["size"],
                       "width": round(line["width"], 3), "form_height": round(line["form_height"], 3),
                       "rgb": _rgb(c["muted"])},
        },
        "objects": locate_objects(pdf, PERSONAL_COVER, PERSONAL_FOOTER),
        "content_hash": content_hash(content.folder, content.brand_dir),
    }


def write_meta(pdf_path: Path, meta: dict[str, Any]) -> None:
    write_atomic(sidecar_path(pdf_path), json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def ensure_base(report_folder: Path, out_dir: Path | None = None) -> BaseArtifact:
    """The base build of ``report_folder`` in ``out_dir``, rebuilt first if its content changed."""
    from pacspdf.build import DEFAULT_OUT, build, default_output
    from pacspdf.content.load import load

    content = load(report_folder)  # raises ContentError for bad content
    pdf_path = default_output(content, Path(out_dir) if out_dir is not None else DEFAULT_OUT)
    if pdf_path.is_file() and sidecar_path(pdf_path).is_file():
        try:
            artifact = BaseArtifact.load(pdf_path)
            if artifact.meta.get("content_hash") == content_hash(content.folder, content.brand_dir):
                return artifact
        except (OSError, ValueError, KeyError):
            pass
    result = build(Path(report_folder), pdf_path)
    return BaseArtifact.load(result.path)
