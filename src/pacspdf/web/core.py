"""Re-export the parts of pacspdf the web front door uses: the only module of web/ that imports them.

Keeping every import of the rest of the package here means a reorganisation of ``content``,
``derive``, ``charts`` or ``delivery`` is one edit in this file, not one in each web module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pacspdf.build import DEFAULT_OUT, default_output, ensure_base
from pacspdf.charts.spec import ChartData, ChartSpec, ChartStyle
from pacspdf.content.brand import link_urls, resolve_asset
from pacspdf.content.load import Content, load
from pacspdf.delivery.batch import default_binding, make_transport, personaliser_for
from pacspdf.delivery.enquiries import Enquiry, check_field, normalise_email, validate_row
from pacspdf.delivery.message import (
    MailContext,
    MessageRejected,
    as_bytes,
    context_from_content,
)
from pacspdf.delivery.outbox import (
    Entry,
    NewEntry,
    Outbox,
    State,
    Target,
    files_dir,
    message_id_for,
    now_utc,
    parse_target,
)
from pacspdf.delivery.send import ReportBinding, RetryPolicy, SendOptions, enquiry_of, retry_pending
from pacspdf.delivery.transport import DeliveryError, Transport
from pacspdf.derive.frames import derive
from pacspdf.derive.model import template_context
from pacspdf.document.markup import blocks
from pacspdf.document.story import key_figures
from pacspdf.document.tables import chart_input
from pacspdf.document.theme import Theme, make_theme
from pacspdf.errors import ContentError, PacspdfError, UsageError
from pacspdf.templates.environment import TemplateRenderer, Where, fmt_pct, long_date, make_env


def brand_links(content: Content) -> dict[str, str]:
    """The brand's website, sample, enquiry and purchase URLs for this report."""
    return link_urls(content.brand, content.report.publisher_id)


__all__ = [
    "DEFAULT_OUT",
    "ChartData",
    "ChartSpec",
    "ChartStyle",
    "Content",
    "ContentError",
    "DeliveryError",
    "Enquiry",
    "Entry",
    "MailContext",
    "MessageRejected",
    "NewEntry",
    "Outbox",
    "PacspdfError",
    "ReportBinding",
    "RetryPolicy",
    "SendOptions",
    "State",
    "Target",
    "TemplateRenderer",
    "Theme",
    "Transport",
    "UsageError",
    "Where",
    "as_bytes",
    "blocks",
    "brand_links",
    "chart_figure",
    "chart_input",
    "check_field",
    "context_from_content",
    "default_binding",
    "default_output",
    "derive",
    "enquiry_of",
    "ensure_base",
    "files_dir",
    "fmt_pct",
    "key_figures",
    "load",
    "long_date",
    "make_env",
    "make_theme",
    "make_transport",
    "message_id_for",
    "normalise_email",
    "now_utc",
    "parse_target",
    "personaliser_for",
    "resolve_asset",
    "retry_pending",
    "template_context",
    "validate_row",
]


def chart_figure(spec: ChartSpec, data: ChartData, style: ChartStyle, write: Callable[[Any], None]) -> None:
    """Draw a chart with the PDF's own matplotlib code and hand the figure to ``write``."""
    from pacspdf.runtime import import_matplotlib

    import_matplotlib()
    from pacspdf.charts import figure as kinds

    with kinds.chart_rc(style):
        write(kinds.build_figure(spec, data, style))
