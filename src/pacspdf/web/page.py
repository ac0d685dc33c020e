"""Turn a loaded report and its derived figures into what its teaser page shows (plain data)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pacspdf.web import core
from pacspdf.web.colours import Palette, palette_for


@dataclass(frozen=True)
class Item:
    name: str
    text: str = ""
    detail: str = ""          # countries of a region, headquarters of a company


@dataclass(frozen=True)
class Group:
    """One segmentation axis (``by Type``) or the regions, with its items."""

    label: str
    items: list[Item]
    regional: bool = False


@dataclass(frozen=True)
class Chapter:
    title: str
    subsections: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChartPick:
    """A chart of the report chosen for the page, with its input and a text equivalent."""

    id: str
    title: str
    spec: core.ChartSpec
    data: core.ChartData
    alt: str
    note: str = ""            # the content's "illustrative" note for the figures shown


@dataclass(frozen=True)
class Licence:
    name: str
    price: float
    description: str


@dataclass(frozen=True)
class ReportPage:
    """Everything the report's teaser page says, in display form (no markup except ``summary``)."""

    slug: str
    folder: Path
    title: str
    subtitle: str
    code: str
    edition: str
    edition_long: str
    description: str
    keywords: list[str]
    language: str
    currency: str
    key_figures: list[tuple[str, str]]
    summary: list[Markup]
    chapters: list[Chapter]
    groups: list[Group]
    players: list[Item]
    charts: list[ChartPick]
    licences: list[Licence]
    full_report_adds: list[str]
    pages_in_full_report: int | None
    links: dict[str, str]
    publisher: str
    legal_name: str
    tagline: str
    copyright: str
    contact_email: str
    sales_email: str
    address: str
    palette: Palette
    logo: Path
    fonts: dict[str, Path]
    chart_style: core.ChartStyle
    size_note: str            # the illustrative note of the market sizes among the key figures

    def json_ld(self, canonical: str, image: str) -> Markup:
        """schema.org Product data for the report, safe inside a <script> element."""
        offers = [{"@type": "Offer", "name": lic.name, "price": f"{lic.price:.2f}",
                   "priceCurrency": self.currency, "url": self.links["purchase"],
                   "availability": "https://schema.org/InStock"} for lic in self.licences]
        data: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "Product", "name": self.title,
            "description": self.description, "sku": self.code, "url": canonical, "image": image,
            "brand": {"@type": "Brand", "name": self.publisher},
            "releaseDate": self.edition, "category": "Market research report",
        }
        if offers:
            data["offers"] = offers
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
        # "<", ">" and "&" escaped, so no "</script>" or "<!--" can end the element early.
        return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# ------------------------------------------------------------------------------ building


def _plain(markup: str) -> str:
    return " ".join(Markup(markup).striptags().split())


def _summary(content: core.Content, renderer: core.TemplateRenderer) -> list[Markup]:
    """The opening prose of the first section: its first two paragraphs, emphasis kept."""
    out: list[Markup] = []
    first = content.report.sections[0]
    for i, block in enumerate(first.blocks):
        if block.text is None:
            continue
        line = content.located.where(("sections", 0, "blocks", i, "text"))[0]
        where = core.Where(content.report_file, line, f"sections[0].blocks[{i}].text")
        for b in core.blocks(renderer.render(block.text, where)):
            markup = getattr(b, "markup", None)
            if markup is not None:
                out.append(Markup(markup))  # escaped by pacspdf.text, only <b> and <i> added
            if len(out) == 2:
                return out
    return out


def _pick_charts(content: core.Content, derived: Any, width: float,
                 renderer: core.TemplateRenderer) -> list[ChartPick]:
    """The market-size chart and one share chart (donut), else the first two charts."""
    charts = list(content.report.charts)
    chosen = [c for c in charts if c.data == "market_size"][:1]
    chosen += [c for c in charts if c.kind == "donut" and c not in chosen][:1]
    chosen += [c for c in charts if c not in chosen][: max(0, 2 - len(chosen))]
    picks = []
    for chart in chosen:
        index = charts.index(chart)
        title = renderer.render(chart.title, core.Where(
            content.report_file, content.located.where(("charts", index, "title"))[0],
            f"charts[{index}].title"))
        spec, data = core.chart_input(chart, content.report, derived, width)
        picks.append(ChartPick(chart.id, title, spec, data, _alt(chart.kind, title, data),
                               _note(content.report, chart.data)))
    return picks


def _note(report: Any, ref: str) -> str:
    """The illustrative note of the table a chart or figure reads (market_size, players, segment:<id>)."""
    if ref == "market_size":
        return report.market_size.illustrative or ""
    if ref == "players":
        return report.players.illustrative or ""
    wanted = ref.split(":", 1)[1]
    return next((s.illustrative or "" for s in report.segments if s.id == wanted), "")


def _alt(kind: str, title: str, data: core.ChartData) -> str:
    """A text equivalent of a chart: its title and every value it shows."""
    words = {"bar": "Bar chart", "stacked_bar": "Stacked bar chart", "grouped_bar": "Grouped bar chart",
             "line": "Line chart", "donut": "Donut chart", "hbar": "Bar chart"}
    unit = data.unit.strip()
    parts = []
    for s in data.series:
        values = ", ".join(f"{c} {_num(v)}{'%' if unit == '%' else ''}"
                           for c, v in zip(data.categories, s.values, strict=True))
        parts.append(f"{s.name}: {values}" if len(data.series) > 1 or kind == "donut" else values)
    unit_note = "" if unit == "%" else f" ({unit})"
    return f"{words.get(kind, 'Chart')}: {title}{unit_note}. " + "; ".join(parts) + "."


def _num(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def build_page(folder: Path) -> ReportPage:
    """Load, check and derive the report in ``folder`` into its teaser page (ContentError if bad)."""
    content = core.load(folder)
    derived = core.derive(content)
    r, b = content.report, content.brand
    renderer = core.TemplateRenderer(core.make_env(r.currency, r.unit),
                                     core.template_context(content, derived))
    money = renderer.env.filters["money"]
    theme = core.make_theme(b, content.brand_dir, content.brand_file)
    links = core.brand_links(content)
    summary = _summary(content, renderer)
    description = _plain(summary[0]) if summary else r.subtitle
    if len(description) > 300:
        description = description[:297].rsplit(" ", 1)[0] + "…"
    groups = []
    for seg in r.segments:
        view = derived.segments[seg.id]
        regional = seg.coverage is not None
        items = [Item(i.name, i.description, ", ".join(view.countries.get(i.name, []))) for i in seg.items]
        groups.append(Group(seg.label, items, regional))
    players = [Item(p.company, p.focus, p.headquarters) for p in derived.players]
    chapters = [Chapter(s.title, [sub.title for sub in s.subsections]) for s in r.sections]
    copyright_text = renderer.render(b.copyright, core.Where(content.brand_file, 0, "copyright"))
    fonts = {k: core.resolve_asset(getattr(b.fonts, k), content.brand_dir)
             for k in ("regular", "semibold", "bold")}
    return ReportPage(
        slug=r.slug, folder=Path(folder), title=r.title, subtitle=r.subtitle, code=r.code, edition=r.edition,
        edition_long=core.long_date(r.edition), description=description, keywords=list(r.keywords),
        language=r.language, currency=r.currency,
        key_figures=core.key_figures(content, derived, money), summary=summary, chapters=chapters,
        groups=groups, players=players,
        charts=_pick_charts(content, derived, min(theme.frame_width, 480.0), renderer),
        licences=[Licence(lic.name, lic.price, lic.description) for lic in r.licences],
        full_report_adds=list(r.full_report_adds), pages_in_full_report=r.pages_in_full_report,
        links=links, publisher=b.publisher, legal_name=b.legal_name, tagline=b.tagline,
        copyright=copyright_text, contact_email=b.contact.email, sales_email=b.contact.sales_email,
        address=b.contact.address, palette=palette_for(b.colours), logo=content.brand_dir / b.logo,
        fonts=fonts, chart_style=theme.chart, size_note=_note(r, "market_size"))
