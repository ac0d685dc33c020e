"""Turn the brand's link patterns and tracking settings into the URLs a sample's links open."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pacspdf.content.model import Brand, Report

KINDS = ("website", "sample", "enquiry", "purchase", "customise")


def report_links(brand: Brand, report: Report) -> dict[str, str]:
    """The brand's links for one report (``{id}`` replaced), untracked; customise falls back
    to the enquiry link."""
    pid = report.publisher_id
    out = {k: getattr(brand.links, k).replace("{id}", pid) for k in KINDS}
    out["customise"] = out["customise"] or out["enquiry"]
    return out


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query (existing parameters kept, ours win)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: v for k, v in params.items() if k and v})
    return urlunsplit(parts._replace(path=parts.path or "/", query=urlencode(query)))


def tracked(url: str, brand: Brand, report: Report, placement: str) -> str:
    """``url`` with the brand's UTM parameters, naming where in the PDF the link sits.

    ``mailto:`` and ``tel:`` links are returned as they are.
    """
    if not url.startswith(("http://", "https://")):
        return url
    t = brand.tracking

    def fill(value: str) -> str:
        return value.replace("{slug}", report.slug).replace("{id}", report.publisher_id)

    return with_query(url, {"utm_source": fill(t.utm_source), "utm_medium": fill(t.utm_medium),
                            "utm_campaign": fill(t.utm_campaign), "utm_content": placement})
