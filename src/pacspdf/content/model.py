"""The typed model of a report's content and of a publisher's brand (schemas only)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
HexColour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
Year = Annotated[int, Field(ge=1900, le=2200)]


def fields_of(model: BaseModel) -> dict[str, Any]:
    """A model's fields as a dict, without building pydantic's serializer (unlike model_dump)."""
    return {name: getattr(model, name) for name in type(model).model_fields}


class Strict(BaseModel):
    """Unknown keys are errors; values are immutable once loaded."""

    # Validators are built on first use: valid content is read without them (content/_fast.py).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# ---------------------------------------------------------------- brand (assets/brand.yaml)

class Fonts(Strict):
    """TrueType files (paths relative to the brand file, or ``pkg:font_source_sans_pro/...``)."""

    regular: Text
    semibold: Text
    bold: Text
    italic: Text
    light: Text


class Colours(Strict):
    primary: HexColour = Field(description="Main brand colour: cover band, headings.")
    secondary: HexColour = Field(description="Second colour: rules, table headers.")
    accent: HexColour = Field(description="Highlights and callouts.")
    text: HexColour = "#1F2933"
    muted: HexColour = "#5F6B7A"
    rule: HexColour = "#D5DAE1"
    tint: HexColour = Field("#F2F5F9", description="Light panel background.")
    chart: list[HexColour] = Field(min_length=3, description="Chart series palette, in order.")


class Links(Strict):
    """URL patterns; ``{id}`` is replaced with the report's ``publisher_id``."""

    website: Text
    sample: Text
    enquiry: Text
    purchase: Text


class Contact(Strict):
    email: Text
    sales_email: Text
    phone: str = ""
    address: str = ""


class Brand(Strict):
    publisher: Text
    legal_name: Text
    tagline: str = ""
    logo: Text = Field(description="SVG or PNG logo, relative to the brand file.")
    logo_white: str = Field("", description="Logo variant for dark backgrounds (optional).")
    page_size: Literal["A4", "Letter"] = "A4"
    watermark: bool = True
    fonts: Fonts
    colours: Colours
    links: Links
    contact: Contact
    copyright: Text = Field(description="Template: the copyright line.")
    licence: Text = Field(description="Template: licence terms of the sample.")
    disclaimer: Text


# ---------------------------------------------------------------- report (content/<slug>/report.yaml)

class TableSource(Strict):
    """A CSV file and where its numbers come from."""

    file: Text
    source: Text
    illustrative: str | None = Field(
        None, description="Set when figures are estimates, not sourced: the note printed beside them.")


class MarketSize(TableSource):
    """CSV columns: ``year,value`` with value in the report's unit."""


class Claim(Strict):
    """A figure stated by the source; checked against the tables."""

    cagr_pct: float | None = None
    size: dict[int, float] = Field(default_factory=dict, description="year -> value in report units")
    tolerance_pct: float = 5.0


class SegmentItem(Strict):
    name: Text
    description: str = ""


class Segmentation(TableSource):
    """CSV columns: ``year`` then one column per item, each a % share of the market."""

    id: Slug
    label: Text = Field(description="Axis name as in 'by Type'.")
    items: list[SegmentItem] = Field(min_length=2)
    coverage: str | None = Field(None, description="CSV ``segment,country``: countries covered.")


class Profile(Strict):
    name: Text
    text: Text


class Players(TableSource):
    """CSV columns: ``company,headquarters,focus,share_pct``."""

    profiles: list[Profile] = Field(default_factory=list)


class Licence(Strict):
    name: Text
    price: float = Field(ge=0)
    description: Text


BLOCK_KINDS = ("text", "figure", "table", "snapshot", "callout", "teaser", "profiles", "contact")


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

    @model_validator(mode="after")
    def _exactly_one(self) -> Block:
        present = [k for k in BLOCK_KINDS if getattr(self, k) is not None]
        if len(present) != 1:
            raise ValueError(f"a block needs exactly one of {', '.join(BLOCK_KINDS)}"
                             + (f" (found {', '.join(present)})" if present else ""))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in BLOCK_KINDS if getattr(self, k) is not None)


class Subsection(Strict):
    title: Text
    blocks: list[Block] = Field(min_length=1)


class Section(Strict):
    id: Slug
    title: Text
    blocks: list[Block] = Field(default_factory=list)
    subsections: list[Subsection] = Field(default_factory=list)


DATA_REF = re.compile(r"^(market_size|players|segment:[a-z0-9-]+|coverage:[a-z0-9-]+)$")
DataRef = Annotated[str, StringConstraints(pattern=DATA_REF.pattern)]
ChartKind = Literal["bar", "stacked_bar", "grouped_bar", "line", "donut", "hbar"]


class Chart(Strict):
    id: Slug
    kind: ChartKind
    data: DataRef = Field(description="market_size | segment:<id> | players")
    title: Text = Field(description="Caption after 'Figure N:'.")
    years: list[Year] = Field(default_factory=list, description="Years shown (donut: one).")
    callout: Literal["cagr"] | None = None
    height: float = Field(230, ge=100, le=600, description="Height in points.")


class Table(Strict):
    id: Slug
    data: DataRef
    title: Text = Field(description="Caption after 'Table N:'.")
    years: list[Year] = Field(default_factory=list, description="Year columns shown.")
    cagr: bool = True


class Period(Strict):
    start: Year
    end: Year

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Report(Strict):
    slug: Slug
    publisher_id: Text = Field(description="The publisher's report number, used in links.")
    code: Text = Field(description="Report code printed on the cover.")
    title: Text
    subtitle: Text = Field(description="Names the segmentation axes and forecast period.")
    short_title: Text = Field(description="Running header.")
    market: Text = Field(description="Short market name for prose, e.g. 'PACS'.")
    edition: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] = Field(
        description="Edition date, YYYY-MM-DD.")
    base_year: Year
    forecast: Period
    currency: Text = "USD"
    unit: Literal["million", "billion"] = "million"
    language: Text = "en-GB"
    keywords: list[Text] = Field(default_factory=list)
    brand: str = Field("", description="Path of brand.yaml; default: the nearest assets/brand.yaml.")
    pages_in_full_report: int | None = Field(None, ge=1)
    claims: Claim = Field(default_factory=Claim)
    market_size: MarketSize
    segments: list[Segmentation] = Field(min_length=1)
    players: Players
    licences: list[Licence] = Field(default_factory=list)
    full_report_adds: list[Text] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)
