"""pacspdf: branded sample-report PDFs from structured content, mailed to enquirers.

The public API, what tests and other programs call::

    import pacspdf

    content, problems = pacspdf.check("content/pacs")     # load + validate, nothing written
    result = pacspdf.build("content/pacs", Path("out/pacs-sample.pdf"))
    copy = pacspdf.make_copy(pacspdf.BaseArtifact.load(result.path),
                             pacspdf.Recipient("Ada", "Example Ltd", "ada@example.com"),
                             copy_id="ab12", date="2025-04-15")

Names are imported on first use (module ``__getattr__``), so ``import pacspdf`` and
``pacspdf --help`` load none of pandas, matplotlib or ReportLab.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name -> the module that defines it
_HOMES = {
    "build": "pacspdf.build",
    "BuildResult": "pacspdf.build",
    "check": "pacspdf.validate",
    "load": "pacspdf.content.load",
    "make_copy": "pacspdf.delivery.personalise",
    "BaseArtifact": "pacspdf.document.personal",
    "Recipient": "pacspdf.delivery.personalise",
    "Problem": "pacspdf.errors",
    "PacspdfError": "pacspdf.errors",
    "ContentError": "pacspdf.errors",
    "UsageError": "pacspdf.errors",
    "BuildError": "pacspdf.errors",
}

__all__ = sorted([*_HOMES, "__version__"])

if TYPE_CHECKING:
    from pacspdf.build import BuildResult as BuildResult
    from pacspdf.build import build as build
    from pacspdf.content.load import load as load
    from pacspdf.delivery.personalise import Recipient as Recipient
    from pacspdf.delivery.personalise import make_copy as make_copy
    from pacspdf.document.personal import BaseArtifact as BaseArtifact
    from pacspdf.errors import BuildError as BuildError
    from pacspdf.errors import ContentError as ContentError
    from pacspdf.errors import PacspdfError as PacspdfError
    from pacspdf.errors import Problem as Problem
    from pacspdf.errors import UsageError as UsageError
    from pacspdf.validate import check as check


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
