"""The typed model of a report's content and of a publisher's brand (schemas only).

Records are declared on content/schema.py, which also reads YAML data into them. Annotations
are evaluated when the classes are created (no ``from __future__ import annotations``), so
the schema sees real types.
"""

import re
from typing import Annotated, Literal

from pacspdf.content.schema import MinLen, Pattern, Range, Record, Strip, field, fields_of

__all__ = ["fields_of"]

Text = Annotated[str, Strip(), MinLen(1)]
Slug = Annotated[str, Pattern(r"[a-z0-9]+(-[a-z0-9]+)*",
                              "lower-case letters, digits and hyphens, like 'region-growth'")]
HexColour = Annotated[str, Pattern(r"#[0-9A-Fa-f]{6}", "a colour as #RRGGBB")]
Year = Annotated[int, Range(ge=1900, le=2200)]
Date = Annotated[str, Pattern(r"\d{4}-\d{2}-\d{2}", "a date as YYYY-MM-DD")]


class Strict(Record):
    """Unknown keys are errors; values are immutable once loaded."""


# ---------------------------------------------------------------- brand (assets/brand.yaml)

class Fonts(Strict):
    """TrueType files (paths relative to the brand file, or ``pkg:font_source_sans_pro/...``)."""

    regular: Text
    semibold: Text
    bold: Text
    italic: Text
    light: Text
    fallback: list[Text] = field(
        factory=list, doc="Fonts for names in other scripts (CJK, Arabic, Hebrew ...), tried in order.")


class Colours(Strict):
    primary: HexColour = field(doc="Main brand colour: cover band, headings.")
    secondary: HexColour = field(doc="Second colour: rules, table headers.")
    accent: HexColour = field(doc="Highlights and callouts; also text (chapter labels), so 4.5:1 on white.")
    highlight: HexColour = field("#F2A65A", doc="Accent for text on the primary colour (the cover band).")
    text: HexColour = "#1F2933"
    muted: HexColour = "#5F6B7A"
    rule: HexColour = "#D5DAE1"
    tint: HexColour = field("#F2F5F9", doc="Light panel background.")
    chart: list[HexColour] = field(min_len=3, doc="Chart series palette, in order.")


class Links(Strict):
    """URL patterns; ``{id}`` is replaced with the report's ``publisher_id``."""

    website: Text
    sample: Text
    enquiry: Text
    purchase: Text
    customise: str = field("", doc="Customisation request; default: the enquiry link.")


class Tracking(Strict):
    """Query parameters added to every web link in the PDF, so sales see which copy led where.

    ``{slug}`` and ``{id}`` are replaced with the report's slug and publisher_id; each link
    also says where it sits (``utm_content``); a personalised copy adds ``copy_param``.
    """

    utm_source: str = "sample-pdf"
    utm_medium: str = "pdf"
    utm_campaign: str = "{slug}"
    copy_param: str = "copy"


class Contact(Strict):
    email: Text
    sales_email: Text
    phone: str = ""
    address: str = ""


class Brand(Strict):
    publisher: Text
    legal_name: Text
    tagline: str = ""
    logo: Text = field(doc="SVG or PNG logo, relative to the brand file.")
    logo_white: str = field("", doc="Logo variant for dark backgrounds (optional).")
    page_size: Literal["A4", "Letter"] = "A4"
    watermark: bool = True
    chapter_start: Literal["new_page", "run_on"] = field(
        "new_page", doc="new_page: a chapter opens a page; run_on: it follows the last when room is left.")
    tracking: Tracking = field(factory=Tracking)
    pdfa: Literal["2b", "3b", "none"] = field(
        "2b", doc="PDF/A conformance the sample declares and meets: 2b (default), 3b or none.")
    fonts: Fonts
    colours: Colours
    links: Links
    contact: Contact
    copyright: Text = field(doc="Template: the copyright line.")
    licence: Text = field(doc="Template: licence terms of the sample.")
    disclaimer: Text


# ---------------------------------------------------------------- report (content/<slug>/report.yaml)

class TableSource(Strict):
    """A CSV file and where its numbers come from."""

    file: Text
    source: Text
    illustrative: str | None = field(
        None, doc="Set when figures are estimates, not sourced: the note printed beside them.")


class MarketSize(TableSource):
    """CSV columns: ``year,value`` with value in the report's unit."""


class Claim(Strict):
    """A figure stated by the source; checked against the tables."""

    cagr_pct: float | None = None
    size: dict[int, float] = field(factory=dict, doc="year -> value in report units")
    tolerance_pct: float = 5.0


class SegmentItem(Strict):
    name: Text
    description: str = ""


class Segmentation(TableSource):
    """CSV columns: ``year`` then one column per item, each a % share of the market."""

    id: Slug
    label: Text = field(doc="Axis name as in 'by Type'.")
    items: list[SegmentItem] = field(min_len=2)
    coverage: str | None = field(None, doc="CSV ``segment,country``: countries covered.")


class Financials(Strict):
    """A small financial table: ``rows`` maps a year to one value per column."""

    unit: Text = field(doc="As printed in the header, e.g. 'USD billion'.")
    columns: list[Text] = field(min_len=1)
    rows: dict[int, list[float]] = field(min_len=1)
    source: Text


class Dated(Strict):
    date: Annotated[str, Pattern(r"\d{4}(-\d{2})?", "a year or a month as YYYY-MM")]
    text: Text


class Swot(Strict):
    strengths: list[Text] = field(min_len=1)
    weaknesses: list[Text] = field(min_len=1)
    opportunities: list[Text] = field(min_len=1)
    threats: list[Text] = field(min_len=1)


class ProfileDetail(Strict):
    """A complete company profile, as the full report has one for every company."""

    overview: Text
    financials: Financials | None = None
    products: list[Text] = field(factory=list)
    developments: list[Dated] = field(factory=list)
    swot: Swot | None = None


class Profile(Strict):
    name: Text
    text: Text
    detail: ProfileDetail | None = field(None, doc="Shown in full by a 'profile: NAME' block.")


class Players(TableSource):
    """CSV columns: ``company,headquarters,focus,share_pct``."""

    profiles: list[Profile] = field(factory=list)
    others: Text = field("Others", doc="Label of the rest of the market in the share chart.")


class Deals(TableSource):
    """CSV columns: ``date,company,event``: deals and launches, date as YYYY-MM."""


class OutlineChapter(Strict):
    """One chapter of the full report, and how much of it this sample shows."""

    title: Text
    pages: int = field(ge=1)
    tables: int = field(0, ge=0)
    figures: int = field(0, ge=0)
    sample: Literal["full", "opening", "none"] = field(
        doc="full: in this sample; opening: its opening only; none: full report only.")
    sections: list[Text] = field(factory=list)


class Analyst(Strict):
    name: Text
    title: Text
    phone: Text
    email: str = ""


class Funnel(Strict):
    title: Text
    steps: list[Text] = field(min_len=2)


class Breakdown(Strict):
    by: Text
    parts: dict[str, float] = field(min_len=2, doc="name -> share (%)")


class Interviews(Strict):
    total: int = field(ge=1)
    breakdowns: list[Breakdown] = field(min_len=1)


class Triangulation(Strict):
    sources: list[Text] = field(min_len=2)
    result: Text


class Methodology(Strict):
    """The data behind the methodology diagrams."""

    illustrative: str | None = field(default=None, doc="Printed beside the diagrams when they are examples.")
    bottom_up: Funnel | None = None
    top_down: Funnel | None = None
    triangulation: Triangulation | None = None
    interviews: Interviews | None = None


class Licence(Strict):
    name: Text
    price: float = field(ge=0)
    description: Text


BLOCK_KINDS = ("text", "figure", "table", "snapshot", "callout", "teaser", "profiles", "contact",
               "outline", "diagram", "profile", "deals", "actions")


class Callout(Strict):
    title: Text
    text: Text


class Block(Strict):
    """One item of a section body; exactly one key is set."""

    text: str | None = None
    figure: Slug | None = None
    table: Slug | None = None
    snapshot: bool | None = None
    callout: Callout | None = None
    teaser: str | None = None
    profiles: bool | None = None
    contact: bool | None = None
    outline: bool | None = None
    diagram: Literal["funnels", "triangulation", "interviews"] | None = None
    profile: Text | None = None
    deals: bool | None = None
    actions: bool | None = None

    def validate(self) -> None:
        present = [k for k in BLOCK_KINDS if getattr(self, k) is not None]
        if len(present) != 1:
            raise ValueError(f"a block needs exactly one of {', '.join(BLOCK_KINDS)}"
                             + (f" (found {', '.join(present)})" if present else ""))

    @property
    def kind(self) -> str:
        return next(k for k in BLOCK_KINDS if getattr(self, k) is not None)


class Subsection(Strict):
    title: Text
    blocks: list[Block] = field(min_len=1)


class Section(Strict):
    id: Slug
    title: Text
    blocks: list[Block] = field(factory=list)
    subsections: list[Subsection] = field(factory=list)


DATA_REF = re.compile(r"^(market_size|players|segment:[a-z0-9-]+|coverage:[a-z0-9-]+)$")
DataRef = Annotated[str, Pattern(DATA_REF.pattern[1:-1],
                                 "market_size, players, segment:<id> or coverage:<id>")]
ChartKind = Literal["bar", "stacked_bar", "grouped_bar", "line", "donut", "hbar"]


class Chart(Strict):
    id: Slug
    kind: ChartKind
    data: DataRef = field(doc="market_size | segment:<id> | players")
    title: Text = field(doc="Caption after 'Figure N:'.")
    alt: Text = field(doc="Alternative text read by screen readers instead of the chart: what it "
                          "shows (the trend, the largest and smallest values) in a sentence or two, "
                          "not the title.")
    years: list[Year] = field(factory=list, doc="Years shown (donut: one).")
    callout: Literal["cagr"] | None = None
    height: float = field(230.0, ge=100, le=600, doc="Height in points.")


class Table(Strict):
    id: Slug
    data: DataRef
    title: Text = field(doc="Caption after 'Table N:'.")
    years: list[Year] = field(factory=list, doc="Year columns shown.")
    cagr: bool = True


class Period(Strict):
    start: Year
    end: Year

    def validate(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")


class Report(Strict):
    slug: Slug
    publisher_id: Text = field(doc="The publisher's report number, used in links.")
    code: Text = field(doc="Report code printed on the cover.")
    title: Text
    subtitle: Text = field(doc="Names the segmentation axes and forecast period.")
    short_title: Text = field(doc="Running header.")
    market: Text = field(doc="Short market name for prose, e.g. 'PACS'.")
    edition: Date = field(doc="Edition date, YYYY-MM-DD.")
    base_year: Year
    forecast: Period
    currency: Text = "USD"
    unit: Literal["million", "billion"] = "million"
    language: Text = "en-GB"
    keywords: list[Text] = field(factory=list)
    brand: str = field("", doc="Path of brand.yaml; default: the nearest assets/brand.yaml.")
    pages_in_full_report: int | None = field(None, ge=1)
    claims: Claim = field(factory=Claim)
    market_size: MarketSize
    segments: list[Segmentation] = field(min_len=1)
    players: Players
    deals: Deals | None = None
    analyst: Analyst | None = None
    chapter_start: Literal["new_page", "run_on"] | None = field(None, doc="Overrides the brand's.")
    full_report: list[OutlineChapter] = field(factory=list, doc="The full report's chapters.")
    methodology: Methodology = field(factory=lambda: Methodology())
    licences: list[Licence] = field(factory=list)
    full_report_adds: list[Text] = field(factory=list)
    charts: list[Chart] = field(factory=list)
    tables: list[Table] = field(factory=list)
    sections: list[Section] = field(min_len=1)
