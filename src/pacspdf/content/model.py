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

    regular: Text = field(doc="Body text.")
    semibold: Text = field(doc="Captions, table headings, labels.")
    bold: Text = field(doc="Titles and headline figures.")
    italic: Text = field(doc="Emphasis in prose.")
    light: Text = field(doc="The cover subtitle and lead paragraphs.")
    fallback: list[Text] = field(
        factory=list, doc="Fonts for names in other scripts (CJK, Arabic, Hebrew ...), tried in order.")


class Colours(Strict):
    primary: HexColour = field(doc="Main brand colour: cover band, headings.")
    secondary: HexColour = field(doc="Second colour: rules, table headers.")
    accent: HexColour = field(doc="Highlights and callouts; also text (chapter labels), so 4.5:1 on white.")
    highlight: HexColour = field("#F2A65A", doc="Accent for text on the primary colour (the cover band).")
    text: HexColour = field(default="#1F2933", doc="Body text.")
    muted: HexColour = field(default="#5F6B7A", doc="Sources, labels, axis text.")
    rule: HexColour = field(default="#D5DAE1", doc="Thin rules and gridlines.")
    tint: HexColour = field("#F2F5F9", doc="Light panel background.")
    chart: list[HexColour] = field(min_len=3, doc="Chart series palette, in order.")


class Links(Strict):
    """URL patterns; ``{id}`` is replaced with the report's ``publisher_id``."""

    website: Text = field(doc="The publisher's home page.")
    sample: Text = field(doc="Where a reader asks for this sample.")
    enquiry: Text = field(doc="Where a reader asks a question before buying.")
    purchase: Text = field(doc="Where a reader buys the full report.")
    customise: str = field("", doc="Customisation request; default: the enquiry link.")


class Tracking(Strict):
    """Query parameters added to every web link in the PDF, so sales see which copy led where.

    ``{slug}`` and ``{id}`` are replaced with the report's slug and publisher_id; each link
    also says where it sits (``utm_content``); a personalised copy adds ``copy_param``.
    """

    utm_source: str = field(default="sample-pdf", doc="utm_source of every web link.")
    utm_medium: str = field(default="pdf", doc="utm_medium of every web link.")
    utm_campaign: str = field(default="{slug}", doc="utm_campaign (a pattern: {slug}, {id}).")
    copy_param: str = field(default="copy", doc="Query parameter carrying a personalised copy's ID.")


class Contact(Strict):
    email: Text = field(doc=("The sender of sample mails (unless PACSPDF_MAIL_FROM is set); "
                             "printed on the cover."))
    sales_email: Text = field(doc="Reply-To of sample mails; printed on the closing page.")
    phone: str = field(default="", doc="Printed on the closing page.")
    address: str = field(default="", doc="Printed on the closing page.")


class Brand(Strict):
    publisher: Text = field(doc="The publisher's name: cover, running header, metadata.")
    legal_name: Text = field(doc="The company's legal name, for the copyright line.")
    tagline: str = field(default="", doc="A short line on the cover.")
    logo: Text = field(doc="SVG or PNG logo, relative to the brand file.")
    logo_white: str = field("", doc="Logo variant for dark backgrounds (optional).")
    page_size: Literal["A4", "Letter"] = field(default="A4", doc="Paper size.")
    watermark: bool = field(default=True, doc="A faint \"SAMPLE\" across body pages.")
    chapter_start: Literal["new_page", "run_on"] = field(
        "new_page", doc="new_page: a chapter opens a page; run_on: it follows the last when room is left.")
    tracking: Tracking = field(factory=Tracking, doc="Tracking parameters of the PDF's web links.")
    pdfa: Literal["2b", "3b", "none"] = field(
        default="2b", doc="PDF/A conformance the sample declares and meets: 2b (default), 3b or none.")
    fonts: Fonts = field(doc="The TrueType fonts of text and charts.")
    colours: Colours = field(doc="The brand's colours.")
    links: Links = field(doc="URL patterns of the calls to action.")
    contact: Contact = field(doc="How to reach the publisher.")
    copyright: Text = field(doc="Template: the copyright line.")
    licence: Text = field(doc="Template: licence terms of the sample.")
    disclaimer: Text = field(doc="Printed on the notice page.")


# ---------------------------------------------------------------- report (content/<slug>/report.yaml)

class TableSource(Strict):
    """A CSV file and where its numbers come from."""

    file: Text = field(doc="CSV path, relative to the report folder (and inside it).")
    source: Text = field(doc="Printed under every figure and table fed by the file.")
    illustrative: str | None = field(
        None, doc="Set when figures are estimates, not sourced: the note printed beside them.")


class MarketSize(TableSource):
    """CSV columns: ``year,value`` with value in the report's unit."""


class Claim(Strict):
    """A figure stated by the source; checked against the tables."""

    cagr_pct: float | None = field(
        default=None, doc="The CAGR the source states (%), checked within 0.1 percentage points.")
    size: dict[int, float] = field(factory=dict, doc="year -> value in report units")
    tolerance_pct: float = field(default=5.0, doc="How far (%) a stated size may differ from the table.")


class SegmentItem(Strict):
    name: Text = field(doc="The item's name: a column of the segment's CSV.")
    description: str = field(default="", doc="A template describing the item (prose may loop over it).")


class Segmentation(TableSource):
    """CSV columns: ``year`` then one column per item, each a % share of the market."""

    id: Slug = field(doc="How templates and data references name it: segment:<id>.")
    label: Text = field(doc="Axis name as in 'by Type'.")
    items: list[SegmentItem] = field(min_len=2, doc="The items, one CSV column each.")
    coverage: str | None = field(None, doc="CSV ``segment,country``: countries covered.")


class Financials(Strict):
    """A small financial table: ``rows`` maps a year to one value per column."""

    unit: Text = field(doc="As printed in the header, e.g. 'USD billion'.")
    columns: list[Text] = field(min_len=1, doc="The column headings.")
    rows: dict[int, list[float]] = field(min_len=1, doc="year -> one value per column.")
    source: Text = field(doc="Printed under the table.")


class Dated(Strict):
    date: Annotated[str, Pattern(r"\d{4}(-\d{2})?", "a year or a month as YYYY-MM")] = field(
        doc="YYYY or YYYY-MM.")
    text: Text = field(doc="What happened.")


class Swot(Strict):
    strengths: list[Text] = field(min_len=1, doc="Strengths, one per line of the grid.")
    weaknesses: list[Text] = field(min_len=1, doc="Weaknesses.")
    opportunities: list[Text] = field(min_len=1, doc="Opportunities.")
    threats: list[Text] = field(min_len=1, doc="Threats.")


class ProfileDetail(Strict):
    """A complete company profile, as the full report has one for every company."""

    overview: Text = field(doc="The company in a paragraph (a template).")
    financials: Financials | None = field(default=None, doc="A small financial table.")
    products: list[Text] = field(factory=list, doc="Its main products, a bullet each.")
    developments: list[Dated] = field(factory=list, doc="Recent developments, newest first.")
    swot: Swot | None = field(default=None, doc="The SWOT grid.")


class Profile(Strict):
    name: Text = field(doc="A company of players.csv.")
    text: Text = field(doc="The profile (a template).")
    detail: ProfileDetail | None = field(None, doc="Shown in full by a 'profile: NAME' block.")


class Players(TableSource):
    """CSV columns: ``company,headquarters,focus,share_pct``."""

    profiles: list[Profile] = field(factory=list, doc="The companies profiled in the sample.")
    others: Text = field("Others", doc="Label of the rest of the market in the share chart.")


class Deals(TableSource):
    """CSV columns: ``date,company,event``: deals and launches, date as YYYY-MM."""


class OutlineChapter(Strict):
    """One chapter of the full report, and how much of it this sample shows."""

    title: Text = field(doc="The chapter's title in the full report.")
    pages: int = field(ge=1, doc="Its pages in the full report.")
    tables: int = field(0, ge=0, doc="Its tables in the full report.")
    figures: int = field(0, ge=0, doc="Its figures in the full report.")
    sample: Literal["full", "opening", "none"] = field(
        doc="full: in this sample; opening: its opening only; none: full report only.")
    sections: list[Text] = field(factory=list, doc="Its sections' titles.")


class Analyst(Strict):
    name: Text = field(doc="The analyst's name.")
    title: Text = field(doc="Job title.")
    phone: Text = field(doc="Direct phone number.")
    email: str = field(default="", doc="E-mail address (optional).")


class Funnel(Strict):
    title: Text = field(doc="The funnel's heading.")
    steps: list[Text] = field(min_len=2, doc="Its steps, widest first.")


class Breakdown(Strict):
    by: Text = field(doc="What the interviews are broken down by.")
    parts: dict[str, float] = field(min_len=2, doc="name -> share (%)")


class Interviews(Strict):
    total: int = field(ge=1, doc="Number of interviews.")
    breakdowns: list[Breakdown] = field(min_len=1, doc="How they divide.")


class Triangulation(Strict):
    sources: list[Text] = field(min_len=2, doc="The estimates compared.")
    result: Text = field(doc="What they agree on.")


class Methodology(Strict):
    """The data behind the methodology diagrams."""

    illustrative: str | None = field(default=None, doc="Printed beside the diagrams when they are examples.")
    bottom_up: Funnel | None = field(default=None, doc="The bottom-up sizing funnel.")
    top_down: Funnel | None = field(default=None, doc="The top-down sizing funnel.")
    triangulation: Triangulation | None = field(default=None, doc="The triangulation diagram.")
    interviews: Interviews | None = field(default=None, doc="The primary-interview breakdowns.")


class Licence(Strict):
    name: Text = field(doc="The licence's name.")
    price: float = field(ge=0, doc="Its price, in the report's currency.")
    description: Text = field(doc="Who may read it.")


BLOCK_KINDS = ("text", "figure", "table", "snapshot", "callout", "teaser", "profiles", "contact",
               "outline", "diagram", "profile", "deals", "actions")


class Callout(Strict):
    title: Text = field(doc="The box's heading.")
    text: Text = field(doc="The box's text (a template).")


class Block(Strict):
    """One item of a section body; exactly one key is set."""

    text: str | None = field(
        default=None, doc="Prose (a template): paragraphs, `- ` bullets, **bold**, *italic*.")
    figure: Slug | None = field(default=None, doc="A chart id: the chart with its caption and source.")
    table: Slug | None = field(default=None, doc="A table id: the table with its caption and source.")
    snapshot: bool | None = field(default=None, doc="`true`: the key-facts box.")
    callout: Callout | None = field(default=None, doc="A highlighted box.")
    teaser: str | None = field(default=None, doc="A \"Continued in the full report\" box (a template).")
    profiles: bool | None = field(default=None, doc="`true`: the company profiles.")
    contact: bool | None = field(default=None, doc="`true`: licences, prices and links.")
    outline: bool | None = field(default=None, doc="`true`: the full report's outline (`full_report`).")
    diagram: Literal["funnels", "triangulation", "interviews"] | None = field(
        default=None, doc="A methodology diagram drawn from `methodology`.")
    profile: Text | None = field(default=None, doc="A company's complete profile (its `detail`).")
    deals: bool | None = field(default=None, doc="`true`: the table of deals and launches.")
    actions: bool | None = field(default=None, doc="`true`: the call-to-action buttons.")

    def validate(self) -> None:
        present = [k for k in BLOCK_KINDS if getattr(self, k) is not None]
        if len(present) != 1:
            raise ValueError(f"a block needs exactly one of {', '.join(BLOCK_KINDS)}"
                             + (f" (found {', '.join(present)})" if present else ""))

    @property
    def kind(self) -> str:
        return next(k for k in BLOCK_KINDS if getattr(self, k) is not None)


class Subsection(Strict):
    title: Text = field(doc="The subsection heading.")
    blocks: list[Block] = field(min_len=1, doc="Its content, in order.")


class Section(Strict):
    id: Slug = field(doc="A unique id.")
    title: Text = field(doc="The chapter title (any length: it wraps).")
    blocks: list[Block] = field(factory=list, doc="The chapter's content, in order.")
    subsections: list[Subsection] = field(factory=list, doc="Numbered subsections after the blocks.")


DATA_REF = re.compile(r"^(market_size|players|segment:[a-z0-9-]+|coverage:[a-z0-9-]+)$")
DataRef = Annotated[str, Pattern(DATA_REF.pattern[1:-1],
                                 "market_size, players, segment:<id> or coverage:<id>")]
ChartKind = Literal["bar", "stacked_bar", "grouped_bar", "line", "donut", "hbar"]


class Chart(Strict):
    id: Slug = field(doc="How a `figure:` block names it.")
    kind: ChartKind = field(doc="The chart kind (see \"Which chart fits which data\").")
    data: DataRef = field(doc="market_size | segment:<id> | players")
    title: Text = field(doc="Caption after 'Figure N:'.")
    alt: Text = field(doc="Alternative text read by screen readers instead of the chart: what it "
                          "shows (the trend, the largest and smallest values) in a sentence or two, "
                          "not the title.")
    years: list[Year] = field(factory=list, doc="Years shown (donut: one).")
    callout: Literal["cagr"] | None = field(
        default=None, doc="`cagr`: a CAGR badge (bar and line of market_size).")
    height: float = field(230.0, ge=100, le=600, doc="Height in points.")


class Table(Strict):
    id: Slug = field(doc="How a `table:` block names it.")
    data: DataRef = field(doc="The data shown: market_size, segment:<id>, coverage:<id> or players.")
    title: Text = field(doc="Caption after 'Table N:' (a template).")
    years: list[Year] = field(factory=list, doc="Year columns shown (default: base year and forecast end).")
    cagr: bool = field(default=True, doc="Add a CAGR column.")
    decimals: int | None = field(None, ge=0, le=4, doc=(
        "Decimals of every value column; default: three significant digits of the largest value."))
    column_decimals: dict[str, int] = field(factory=dict, doc=(
        "Decimals of single columns, by their heading's first line (\"2030\", \"CAGR\", \"Share\")."))


class Period(Strict):
    start: Year = field(doc="The first forecast year.")
    end: Year = field(doc="The last forecast year.")

    def validate(self) -> None:
        if self.end <= self.start:
            raise ValueError("end must be after start")


class Report(Strict):
    slug: Slug = field(doc="Names the output: out/<slug>-sample.pdf.")
    publisher_id: Text = field(doc="The publisher's report number, used in links.")
    code: Text = field(doc="Report code printed on the cover.")
    title: Text = field(doc="The cover title.")
    subtitle: Text = field(doc="Names the segmentation axes and forecast period.")
    short_title: Text = field(doc="Running header.")
    market: Text = field(doc="Short market name for prose, e.g. 'PACS'.")
    edition: Date = field(doc="Edition date, YYYY-MM-DD.")
    base_year: Year = field(doc="The last actual year.")
    forecast: Period = field(doc="The forecast period; CAGRs run from start to end.")
    currency: Text = field(default="USD", doc="The currency of every value (USD, EUR, JPY...).")
    unit: Literal["thousand", "million", "billion"] = field(
        "million", doc="The unit of every value in the CSV files (with `currency`).")
    language: Text = field(default="en-GB", doc="The PDF's language (metadata).")
    keywords: list[Text] = field(factory=list, doc="PDF metadata.")
    brand: str = field(default="", doc=("Path of the report's own brand.yaml, inside the report folder; "
                                "default: the nearest assets/brand.yaml above it."))
    pages_in_full_report: int | None = field(None, ge=1, doc="Shown on the cover and the closing page.")
    claims: Claim = field(factory=Claim, doc="Figures the source states, checked against the tables.")
    market_size: MarketSize = field(doc="CSV year,value: the market size each year.")
    segments: list[Segmentation] = field(
        min_len=1, doc="The segmentation axes (type, application, region...).")
    players: Players = field(doc="CSV company,headquarters,focus,share_pct and the profiles.")
    deals: Deals | None = field(default=None, doc="CSV date,company,event: deals and launches.")
    analyst: Analyst | None = field(default=None, doc="The analyst a reader can call (back cover).")
    chapter_start: Literal["new_page", "run_on"] | None = field(None, doc="Overrides the brand's.")
    full_report: list[OutlineChapter] = field(factory=list, doc="The full report's chapters.")
    methodology: Methodology = field(factory=lambda: Methodology(), doc="Data of the methodology diagrams.")
    licences: list[Licence] = field(factory=list, doc="The licence options on the closing page.")
    full_report_adds: list[Text] = field(
        factory=list, doc="What the full report adds (a template can loop over it).")
    charts: list[Chart] = field(factory=list, doc="The figures.")
    tables: list[Table] = field(factory=list, doc="The tables.")
    sections: list[Section] = field(min_len=1, doc="The chapters, in order.")
