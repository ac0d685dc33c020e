"""A report folder -> its base PDF and sidecar in the output folder, rebuilt only when stale.

Stale means the key over every file of the report folder and the brand folder, pacspdf's
source and the drawing libraries' versions (:func:`pacspdf.write.folders_key`) differs from
the one the sidecar recorded. (Moves into delivery/ with the delivery restructure.)
"""

from __future__ import annotations

from pathlib import Path

from pacspdf.personalise import BaseArtifact, sidecar_path
from pacspdf.write import folders_key


def content_hash(folder: Path, brand_dir: Path) -> str:
    """The freshness key of a base PDF built from ``folder`` with the brand in ``brand_dir``."""
    return folders_key(Path(folder), Path(brand_dir))


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
