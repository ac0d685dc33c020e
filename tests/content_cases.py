"""A table of broken-content cases: each one small mutation of a copy of content/pacs + assets.

Every case lists the exact problems it must produce (file, line, column, field, message,
severity), on top of the problems the unmodified sample already has (its illustrative
warnings). Lines are found by the text on them in the mutated file, so the table survives
edits elsewhere in the sample; ``tests/validate/test_validation.py`` runs the table through
``load()`` + ``validate()`` and through the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pacspdf.errors import Problem

REPORT = "content/pacs/report.yaml"
BRAND = "assets/brand.yaml"
TABLES = "content/pacs/tables/"
SIZE, BY_TYPE, BY_APP, BY_REGION = (TABLES + f for f in ("market_size.csv", "by_type.csv",
                                                         "by_application.csv", "by_region.csv"))
COUNTRIES, PLAYERS = TABLES + "countries.csv", TABLES + "players.csv"

Mutation = Callable[[Path], None]


def edit(file: str, old: str, new: str) -> Mutation:
    """Replace the one occurrence of ``old`` in ``file`` (relative to the copy's root)."""

    def apply(root: Path) -> None:
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    return apply


def edit_after(file: str, anchor: str, old: str, new: str) -> Mutation:
    """Replace the first occurrence of ``old`` after the first occurrence of ``anchor``."""

    def apply(root: Path) -> None:
        path = root / file
        text = path.read_text(encoding="utf-8")
        at = text.index(anchor)
        hit = text.index(old, at)
        path.write_text(text[:hit] + new + text[hit + len(old):], encoding="utf-8")

    return apply


def replace_line(file: str, prefix: str, new: str) -> Mutation:
    """Replace the first line starting with ``prefix`` by ``new`` (whatever its old value)."""

    def apply(root: Path) -> None:
        path = root / file
        lines = path.read_text(encoding="utf-8").split("\n")
        index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        lines[index] = new
        path.write_text("\n".join(lines), encoding="utf-8")

    return apply


def edit_bytes(file: str, old: bytes, new: bytes) -> Mutation:
    """Replace the one occurrence of ``old`` in ``file``, byte for byte."""

    def apply(root: Path) -> None:
        path = root / file
        data = path.read_bytes()
        assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times in {file}"
        path.write_bytes(data.replace(old, new))

    return apply


def write(file: str, data: bytes) -> Mutation:
    def apply(root: Path) -> None:
        (root / file).write_bytes(data)

    return apply


def delete(file: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / file).unlink()

    return apply


@dataclass(frozen=True)
class At:
    """One expected problem; ``find`` is text on its line (the first line holding it, or the
    first after the line holding ``after``), or None for a problem about the whole file."""

    file: str
    find: str | None
    column: int
    field: str
    message: str
    severity: str = "error"
    after: str | None = None

    def line(self, root: Path) -> int:
        if self.find is None:
            return 0
        lines = (root / self.file).read_text(encoding="utf-8", errors="replace").splitlines()
        start = 0
        if self.after is not None:
            start = next(i for i, ln in enumerate(lines) if self.after in ln) + 1
        for number, text in enumerate(lines[start:], start + 1):
            if self.find in text:
                return number
        raise AssertionError(f"{self.find!r} not found in {self.file}")

    def render(self, root: Path) -> str:
        return str(Problem(self.file, self.line(root), self.column, self.field, self.message,
                           self.severity))


@dataclass(frozen=True)
class Case:
    id: str
    mutations: tuple[Mutation, ...]
    expected: tuple[At, ...]

    @property
    def has_errors(self) -> bool:
        return any(a.severity == "error" for a in self.expected)


def case(id: str, *mutations: Mutation, expect: tuple[At, ...] | At) -> Case:
    return Case(id, mutations, expect if isinstance(expect, tuple) else (expect,))


def E(file: str, find: str | None, column: int, field: str, message: str, **kw: str) -> At:
    return At(file, find, column, field, message, "error", **kw)


def W(file: str, find: str | None, column: int, field: str, message: str, **kw: str) -> At:
    return At(file, find, column, field, message, "warning", **kw)


def N(file: str, find: str | None, column: int, field: str, message: str, **kw: str) -> At:
    return At(file, find, column, field, message, "note", **kw)


CASES: list[Case] = [
    # ---------------------------------------------------------------- report.yaml: YAML and schema
    case("deleted-section-title",
         edit(REPORT, "    title: Executive Summary\n", "    # title deleted\n"),
         expect=E(REPORT, "- id: executive-summary", 5, "sections[0].title", "field required")),
    case("deleted-top-level-field",
         edit(REPORT, "market: PACS\n", "# market deleted\n"),
         expect=E(REPORT, "slug: pacs", 1, "market", "field required")),
    case("typo-top-level-key",
         edit(REPORT, "\nsubtitle: ", "\nsubtitel: "),
         expect=(E(REPORT, "subtitel:", 1, "subtitel", "unknown field (did you mean 'subtitle'?)"),
                 E(REPORT, "slug: pacs", 1, "subtitle", "field required"))),
    case("typo-nested-key",
         edit(REPORT, "    label: Type\n", "    lable: Type\n"),
         expect=(E(REPORT, "lable: Type", 5, "segments[0].lable", "unknown field (did you mean 'label'?)"),
                 E(REPORT, "- id: type", 5, "segments[0].label", "field required"))),
    case("broken-yaml-indent",
         edit(REPORT, "  source: Company reports;", " source: Company reports;"),
         expect=E(REPORT, " source: Company reports;", 2, "",
                  "YAML syntax error: expected <block end>, but found '<block mapping start>'")),
    case("tab-indent",
         edit(REPORT, "  cagr_pct: 6.0\n", "\tcagr_pct: 6.0\n"),
         expect=E(REPORT, "cagr_pct: 6.0", 1, "",
                  "YAML syntax error: found character '\\t' that cannot start any token")),
    case("duplicate-yaml-key",
         edit(REPORT, "currency: USD\n", "currency: USD\ncurrency: EUR\n"),
         expect=E(REPORT, "currency: EUR", 1, "", "duplicate key 'currency'")),
    case("wrong-type",
         edit(REPORT, "base_year: 2024\n", "base_year: twenty\n"),
         expect=E(REPORT, "base_year: twenty", 1, "base_year",
                  "expected a whole number, found the text 'twenty'")),
    case("empty-string",
         edit(REPORT, "\nmarket: PACS\n", '\nmarket: ""\n'),
         expect=E(REPORT, 'market: ""', 1, "market", "must not be empty")),
    case("value-not-allowed",
         edit(REPORT, "unit: million\n", "unit: millions\n"),
         expect=E(REPORT, "unit: millions", 1, "unit",
                  "'millions' is not allowed: input should be 'thousand', 'million' or 'billion'")),
    case("bad-slug",
         edit(REPORT, "  - id: region-growth\n", "  - id: Region Growth\n"),
         expect=E(REPORT, "id: Region Growth", 5, "charts[5].id",
                  "'Region Growth' does not have the expected form "
                  "(lower-case letters, digits and hyphens, like 'region-growth')")),
    case("block-with-two-kinds",
         edit(REPORT, "      - figure: type-value\n", "      - {figure: type-value, table: by-type}\n"),
         expect=E(REPORT, "{figure: type-value, table: by-type}", 9, "sections[2].blocks[2]",
                  "a block needs exactly one of text, figure, table, snapshot, callout, teaser, "
                  "profiles, contact, outline, diagram, profile, deals, actions (found figure, table)")),
    case("forecast-ends-before-it-starts",
         edit(REPORT, "forecast: {start: 2025, end: 2032}", "forecast: {start: 2025, end: 2020}"),
         expect=E(REPORT, "forecast:", 1, "forecast", "end must be after start")),
    case("report-not-a-mapping",
         write(REPORT, b"- just\n- a list\n"),
         expect=E(REPORT, "- just", 1, "", "expected a mapping of fields at the top")),
    case("empty-report-file",
         write(REPORT, b""),
         expect=E(REPORT, None, 0, "", "file is empty")),
    case("binary-report-file",
         write(REPORT, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
         expect=E(REPORT, None, 0, "", "binary file, expected UTF-8 text")),
    case("report-not-utf8",
         edit_bytes(REPORT, b"market: PACS\n", b"market: PACS\n# caf\xe9\n"),
         expect=E(REPORT, "# caf", 0, "", "not valid UTF-8 text")),
    case("invalid-edition-date",
         replace_line(REPORT, "edition:", 'edition: "2026-13-01"'),
         expect=E(REPORT, "edition:", 1, "edition", '"2026-13-01" is not a valid date')),
    case("base-year-after-forecast-start",
         edit(REPORT, "base_year: 2024\n", "base_year: 2026\n"),
         expect=E(REPORT, "base_year: 2026", 1, "base_year", "2026 is after the forecast start (2025)")),
    case("forecast-beyond-the-series",
         edit(REPORT, "forecast: {start: 2025, end: 2032}", "forecast: {start: 2025, end: 2033}"),
         expect=(E(SIZE, "year,value", 0, "year", "the series must cover the base year to the forecast "
                   "end (2024–2033); 2033 missing"),
                 E(REPORT, "by {{ report.forecast.end }}, a", 0, "sections[0].blocks[1].text",
                   "cannot be filled in: no market size for 2033"),
                 E(REPORT, "num(1) }}-fold", 0,
                   "sections[0].blocks[4].callout.text", "cannot be filled in: no market size for 2033"),
                 E(REPORT, "{{ size.growth[report.forecast.end] | pct }} by", 0,
                   "sections[1].blocks[0].text", 'unknown placeholder "2033" (did you mean "2032"?)'),
                 E(REPORT, 'get("Cloud-based PACS").share(report.forecast.end)', 0,
                   "sections[2].blocks[0].text",
                   'cannot be filled in: no share of "Cloud-based PACS" for 2033'),
                 E(REPORT, 'alt: "Two donut charts of market share by type', 0, "charts[1].alt",
                   'cannot be filled in: no share of "Cloud-based PACS" for 2033'),
                 E(REPORT, 'alt: "Two donut charts of market share by region', 0, "charts[4].alt",
                   'cannot be filled in: no share of "North America" for 2033'))),
    case("placeholder-without-value",
         edit(REPORT, "pages_in_full_report: 182\n", "# pages_in_full_report deleted\n"),
         expect=W(REPORT, "{{ report.pages_in_full_report }}-page", 0, "sections[7].blocks[0].text",
                  '"{{ report.pages_in_full_report }}" renders as "None": it has no value')),
    case("prose-cagr-contradicts-series",
         edit(REPORT, "markets add first-time buyers.",
              "markets add first-time buyers, for a market CAGR of 7.2 %."),
         expect=E(REPORT, "a market CAGR of 7.2 %", 0, "sections[1].blocks[0].text",
                  "states a market CAGR of 7.2 %, but the market-size series gives 6.01 % over 2025–2032")),
    case("coverage-of-segment-without-countries",
         edit(REPORT, "    data: coverage:region\n", "    data: coverage:type\n"),
         expect=E(REPORT, "data: coverage:type", 5, "tables[4].data",
                  'segment "type" has no coverage table')),
    case("invalid-contact-email",
         edit(BRAND, "sales_email: sales@reliablemarketforecast.com", "sales_email: sales at rmf"),
         expect=E(BRAND, "sales_email: sales at rmf", 3, "contact.sales_email",
                  '"sales at rmf" is not an email address')),
    # ---------------------------------------------------------------- brand
    case("missing-logo",
         delete("assets/logo.svg"),
         expect=E(BRAND, "logo: logo.svg", 1, "logo", "file not found: assets/logo.svg")),
    case("logo-not-an-image",
         write("assets/logo.svg", b"Reliable Market Forecast\n"),
         expect=E(BRAND, "logo: logo.svg", 1, "logo", "assets/logo.svg is not an SVG, PNG or JPEG image")),
    case("font-package-not-installed",
         edit(BRAND, "bold: pkg:font_source_sans_pro/files/SourceSansPro-Bold.ttf",
              "bold: pkg:no_such_fonts/Bold.ttf"),
         expect=E(BRAND, "bold: pkg:no_such_fonts", 3, "fonts.bold",
                  'package "no_such_fonts" is not installed (in "pkg:no_such_fonts/Bold.ttf")')),
    case("font-file-missing",
         edit(BRAND, "italic: pkg:font_source_sans_pro/files/SourceSansPro-It.ttf",
              "italic: fonts/Italic.ttf"),
         expect=E(BRAND, "italic: fonts/Italic.ttf", 3, "fonts.italic",
                  "file not found: assets/fonts/Italic.ttf")),
    case("font-not-truetype",
         edit(BRAND, "light: pkg:font_source_sans_pro/files/SourceSansPro-Light.ttf", "light: logo.svg"),
         expect=E(BRAND, "light: logo.svg", 3, "fonts.light", "assets/logo.svg is not a TrueType font file")),
    case("brand-typo",
         edit(BRAND, "  primary:", "  primray:"),
         expect=(E(BRAND, "primray:", 3, "colours.primray", "unknown field (did you mean 'primary'?)"),
                 E(BRAND, "colours:", 1, "colours.primary", "field required"))),
    case("brand-missing",
         delete(BRAND),
         expect=E(BRAND, None, 0, "", "file not found")),
    case("bad-colour",
         edit(BRAND, 'accent: "#A8520F"', 'accent: "#A8520"'),
         expect=E(BRAND, 'accent: "#A8520"', 3, "colours.accent",
                  "'#A8520' does not have the expected form (a colour as #RRGGBB)")),
    case("unknown-link-placeholder",
         edit(BRAND, "purchase/{id}", "purchase/{ID}"),
         expect=E(BRAND, "purchase/{ID}", 3, "links.purchase",
                  "unknown placeholder \"{ID}\" (only {id} is replaced, by the report's publisher_id)")),
    # ---------------------------------------------------------------- CSV tables
    case("letter-in-a-number",
         edit(BY_REGION, "2024,40.0,", "2024,4O.0,"),
         expect=E(BY_REGION, "2024,4O.0", 6, "North America", '"4O.0" is not a number')),
    case("negative-value",
         edit(SIZE, "2025,4433.2", "2025,-4433.2"),
         expect=E(SIZE, "2025,-4433.2", 6, "value", "-4433.2 is negative")),
    case("year-not-whole",
         edit(BY_TYPE, "2026,", "2026.5,"),
         expect=E(BY_TYPE, "2026.5,", 1, "year", '"2026.5" is not a whole number')),
    case("misspelt-column",
         edit(PLAYERS, "company,headquarters,focus,share_pct", "company,headquarters,focuss,share_pct"),
         expect=(E(PLAYERS, "focuss", 0, "focus", "missing column"),
                 E(PLAYERS, "focuss", 22, "focuss",
                   "unknown column (expected company, headquarters, focus, share_pct)"))),
    case("row-with-extra-field",
         edit(SIZE, "2028,5309.9", "2028,5309.9,5301.0"),
         expect=E(SIZE, "2028,5309.9,5301.0", 13, "", "expected 2 fields, found 3")),
    case("csv-syntax-error",
         edit(PLAYERS, '"Tokyo, Japan"', '"Tokyo, Japan"x'),
         expect=E(PLAYERS, '"Tokyo, Japan"x', 24, "", "CSV syntax error: ',' expected after '\"'")),
    case("empty-csv-file",
         write(BY_APP, b""),
         expect=E(BY_APP, None, 0, "", "file is empty")),
    case("binary-csv-file",
         write(BY_TYPE, bytes(range(256))),
         expect=E(BY_TYPE, None, 0, "", "binary file, expected UTF-8 text")),
    case("missing-csv-file",
         delete(COUNTRIES),
         expect=E(COUNTRIES, None, 0, "", "file not found")),
    # ---------------------------------------------------------------- numbers
    case("shares-sum-to-120",
         edit(BY_TYPE, "2024,38.0,62.0", "2024,58.0,62.0"),
         expect=E(BY_TYPE, "2024,58.0,62.0", 0, "",
                  "shares for 2024 add up to 120.0 %, expected 100 % (±0.5)")),
    case("cagr-contradicts-series",
         edit(REPORT, "cagr_pct: 6.0", "cagr_pct: 7.5"),
         expect=E(REPORT, "cagr_pct: 7.5", 3, "claims.cagr_pct",
                  "stated CAGR 7.5 % does not match the market-size series (6.01 % over 2025–2032; "
                  "allowed ±0.1 pp)")),
    case("size-claim-off",
         edit(REPORT, "size: {2027: 5000}", "size: {2027: 5600}"),
         expect=E(REPORT, "size: {2027: 5600}", 10, "claims.size.2027",
                  "stated size 5600 for 2027 differs from the table's 4990.5 by 10.9 % (allowed 2 %)")),
    case("duplicate-year",
         edit(BY_APP, "2025,63.4,24.3,12.3\n", "2025,63.4,24.3,12.3\n2025,63.4,24.3,12.3\n"),
         expect=E(BY_APP, "2025,63.4,24.3,12.3", 1, "year", "duplicate year 2025 (first on line 3)",
                  after="2025,63.4,24.3,12.3")),
    case("gap-in-market-size",
         edit(SIZE, "2029,5639.1\n", ""),
         expect=(E(SIZE, "2030,", 0, "year", "missing year 2029 (years must be contiguous)"),
                 E(BY_TYPE, "2029,", 0, "year", "2029 is not a year of the market-size table"),
                 E(BY_APP, "2029,", 0, "year", "2029 is not a year of the market-size table"),
                 E(BY_REGION, "2029,", 0, "year", "2029 is not a year of the market-size table"))),
    case("implausible-year",
         edit(SIZE, "2032,6672.0", "20320,6672.0"),
         expect=(E(SIZE, "20320,", 1, "year", "20320 is not a plausible year (1900–2200)"),
                 E(SIZE, "year,value", 0, "year", "the series must cover the base year to the forecast "
                   "end (2024–2032); 2032 missing"),
                 E(BY_TYPE, "2032,", 0, "year", "2032 is not a year of the market-size table"),
                 E(BY_APP, "2032,", 0, "year", "2032 is not a year of the market-size table"),
                 E(BY_REGION, "2032,", 0, "year", "2032 is not a year of the market-size table"),
                 E(REPORT, "by {{ report.forecast.end }}, a", 0, "sections[0].blocks[1].text",
                   "cannot be filled in: no market size for 2032"),
                 E(REPORT, "num(1) }}-fold", 0, "sections[0].blocks[4].callout.text",
                   "cannot be filled in: no market size for 2032"),
                 E(REPORT, "{{ size.growth[report.forecast.end] | pct }} by", 0,
                   "sections[1].blocks[0].text", 'unknown placeholder "2032" (did you mean "2031"?)'),
                 E(REPORT, 'get("On-premise PACS").value(report.forecast.end)', 0,
                   "sections[2].blocks[0].text",
                   'cannot be filled in: no value of "On-premise PACS" for 2032'))),
    case("market-size-zero",
         edit(SIZE, "2026,4694.8", "2026,0"),
         expect=E(SIZE, "2026,0", 6, "value", "market size must be greater than 0")),
    case("segment-year-missing",
         edit(BY_REGION, "2031,37.4,28.2,23.9,5.8,4.7\n", ""),
         expect=E(BY_REGION, "year,", 0, "year", "missing 2031 (the market-size table has 2024–2032)")),
    case("segment-column-misspelt",
         edit(BY_TYPE, "year,Cloud-based PACS,", "year,Cloud based PACS,"),
         expect=E(BY_TYPE, "year,", 6, "Cloud based PACS",
                  'column is not an item of segments[0] ("type") (did you mean "Cloud-based PACS"?)')),
    case("player-shares-over-100",
         edit(PLAYERS, "Genesis, Edison)\",18.0", "Genesis, Edison)\",78.0"),
         expect=E(PLAYERS, "company,", 28, "share_pct",
                  "company shares add up to 136.0 %, more than the whole market")),
    case("duplicate-company",
         edit(PLAYERS, "Fujifilm,", "Siemens Healthineers,"),
         expect=(E(PLAYERS, 'Siemens Healthineers,"Tokyo', 1, "company",
                   'duplicate company "Siemens Healthineers" (first on line 4)'),
                 E(REPORT, "- name: Fujifilm", 7, "players.profiles[3].name",
                   '"Fujifilm" is not a company in content/pacs/tables/players.csv'))),
    # ---------------------------------------------------------------- names
    case("country-in-two-regions",
         edit(COUNTRIES, "Middle East & Africa,Turkey", "Middle East & Africa,Korea"),
         expect=E(COUNTRIES, ",Korea", 22, "country",
                  '"Korea" is already listed under "Asia-Pacific" (line 11) as "South Korea"; '
                  "a country belongs to one region")),
    case("country-split-in-two",
         edit(COUNTRIES, "Middle East & Africa,Saudi Arabia",
              "Middle East & Africa,Saudi\nMiddle East & Africa,Arabia"),
         expect=W(COUNTRIES, ",Saudi", 22, "country",
                  '"Saudi" and "Arabia" (line 24) look like one country split in two ("Saudi Arabia")')),
    case("countries-run-together",
         edit(COUNTRIES, "Latin America,Argentina", "Latin America,Argentina Korea"),
         expect=W(COUNTRIES, "Argentina Korea", 15, "country",
                  '"Argentina Korea" looks like 2 countries run together ("Argentina", "South Korea")')),
    case("china-taiwan",
         edit(COUNTRIES, "Asia-Pacific,Taiwan", "Asia-Pacific,China Taiwan"),
         expect=W(COUNTRIES, "China Taiwan", 14, "country",
                  '"China Taiwan" looks like 2 countries run together ("China", "Taiwan")')),
    case("misspelt-country",
         edit(COUNTRIES, "Europe,Germany", "Europe,Germnay"),
         expect=W(COUNTRIES, "Germnay", 8, "country",
                  '"Germnay" is not a known country name (did you mean "Germany"?)')),
    case("coverage-names-unknown-region",
         edit(COUNTRIES, "Europe,France", "Eurpoe,France"),
         expect=E(COUNTRIES, "Eurpoe", 1, "segment",
                  '"Eurpoe" is not an item of segments[2] ("region") (did you mean "Europe"?)')),
    case("profile-of-unknown-company",
         edit(REPORT, "    - name: Fujifilm\n", "    - name: Fuji Film\n"),
         expect=E(REPORT, "- name: Fuji Film", 7, "players.profiles[3].name",
                  '"Fuji Film" is not a company in content/pacs/tables/players.csv '
                  '(did you mean "Fujifilm"?)')),
    case("item-renamed-in-yaml",
         edit(REPORT, "      - name: Europe\n", "      - name: Europa\n"),
         expect=(E(BY_REGION, "year,", 20, "Europe",
                   'column is not an item of segments[2] ("region") (did you mean "Europa"?)'),
                 E(COUNTRIES, "Europe,Germany", 1, "segment",
                   '"Europe" is not an item of segments[2] ("region") (did you mean "Europa"?); 5 rows'),
                 W(REPORT, "- name: Europa", 9, "segments[2].items[1].name",
                   '"Europa" has no countries in content/pacs/tables/countries.csv'),
                 E(REPORT, 'segments.region.get("Europe")', 0, "sections[4].blocks[0].text",
                   'cannot be filled in: no item "Europe" in segments.region (did you mean "Europa"?)'))),
    case("description-claims-wrong-leader",
         edit(REPORT, "description: A mature market where",
              "description: The largest market after a decade where"),
         expect=E(REPORT, "description: The largest market after", 9, "segments[2].items[1].description",
                  'says "Europe" is the largest in segments.region, but the table\'s largest in 2024 is '
                  '"North America" (40.0 %)')),
    case("prose-claims-wrong-fastest",
         edit(REPORT, "India and South-East Asia increases.",
              "India and South-East Asia increases. Europe is the fastest-growing region in software."),
         expect=E(REPORT, "Europe is the fastest-growing region in software", 0, "sections[4].blocks[0].text",
                  'says "Europe" grows fastest in segments.region, but the table\'s fastest-growing is '
                  '"Asia-Pacific" (8.7 % CAGR)')),
    # ---------------------------------------------------------------- references
    case("figure-names-unknown-chart",
         edit(REPORT, "      - figure: type-share\n", "      - figure: type-shares\n"),
         expect=(E(REPORT, "- figure: type-shares", 9, "sections[2].blocks[1].figure",
                   'no chart with id "type-shares" (did you mean "type-share"?)'),
                 W(REPORT, "- id: type-share", 5, "charts[1].id",
                   '"type-share" is not shown in any section (no "figure: type-share" block)'))),
    case("figure-names-a-table",
         edit(REPORT, "      - table: by-type\n", "      - figure: by-type\n"),
         expect=(E(REPORT, "- figure: by-type", 9, "sections[2].blocks[3].figure",
                   'no chart with id "by-type" (a table has that id: use "table: by-type")'),
                 W(REPORT, "- id: by-type", 5, "tables[1].id",
                   '"by-type" is not shown in any section (no "table: by-type" block)'))),
    case("duplicate-chart-id",
         edit(REPORT, "  - id: type-value\n", "  - id: type-share\n"),
         expect=(E(REPORT, "- id: type-share", 5, "charts[2].id",
                   'duplicate chart id "type-share" (also charts[1])', after="kind: donut"),
                 E(REPORT, "- figure: type-value", 9, "sections[2].blocks[2].figure",
                   'no chart with id "type-value" (did you mean "type-share"?)'))),
    case("duplicate-section-id",
         edit(REPORT, "  - id: methodology\n", "  - id: market-overview\n"),
         expect=E(REPORT, "- id: market-overview", 5, "sections[6].id",
                  'duplicate section id "market-overview" (also sections[1])',
                  after="id: competitive-landscape")),
    case("data-names-unknown-segment",
         edit(REPORT, "  - id: application-value\n    kind: grouped_bar\n    data: segment:application\n",
              "  - id: application-value\n    kind: grouped_bar\n    data: segment:applications\n"),
         expect=E(REPORT, "data: segment:applications", 5, "charts[3].data",
                  'no segment with id "applications" (did you mean "application"?)')),
    case("donut-year-not-in-data",
         edit_after(REPORT, "- id: region-share", "years: [2024", "years: [2023"),
         expect=E(REPORT, "years: [2023", 13, "charts[4].years[0]",
                  "2023 is not a year of the segment:region data (2024–2032)", after="- id: region-share")),
    # ---------------------------------------------------------------- alternative text
    case("chart-without-alt",
         replace_line(REPORT, '    alt: "Bar chart of the global', "    # no alternative text"),
         expect=E(REPORT, "- id: market-size", 5, "charts[0].alt", "field required", after="charts:")),
    case("chart-alt-placeholder",
         replace_line(REPORT, '    alt: "Bar chart of the global', '    alt: "Figure 1"'),
         expect=E(REPORT, 'alt: "Figure 1"', 5, "charts[0].alt",
                  'alternative text "Figure 1" looks generated, not written: '
                  "say what the chart shows")),
    case("chart-alt-file-name",
         replace_line(REPORT, '    alt: "Two donut charts of market share by type',
                      '    alt: "type-share.png"'),
         expect=E(REPORT, 'alt: "type-share.png"', 5, "charts[1].alt",
                  'alternative text "type-share.png" looks generated, not written: '
                  "say what the chart shows")),
    case("chart-alt-repeats-title",
         replace_line(REPORT, '    alt: "Stacked bars',
                      '    alt: "{{ report.market }} market by type, {{ size.years[0] }}–'
                      '{{ size.years[-1] }} (USD million)"'),
         expect=E(REPORT, 'alt: "{{ report.market }} market by type', 5, "charts[2].alt",
                  "alternative text repeats the title: say what the chart shows (the trend, the largest "
                  "and smallest values)")),
    case("chart-alt-too-short",
         replace_line(REPORT, '    alt: "Grouped bars', '    alt: "Market by application."'),
         expect=E(REPORT, 'alt: "Market by application."', 5, "charts[3].alt",
                  "alternative text is too short (3 words) to say what the chart shows; write a sentence "
                  "of at least 6 words")),
    # ---------------------------------------------------------------- templates
    case("unknown-attribute-placeholder",
         edit(REPORT, 'title: "{{ report.market }} market share by region',
              'title: "{{ report.markt }} market share by region'),
         expect=E(REPORT, "{{ report.markt }}", 0, "charts[4].title",
                  'unknown placeholder "report.markt" (did you mean "market"?)')),
    case("unknown-name-placeholder",
         edit(REPORT, "grows fastest at\n          {{ segments.region.fastest.cagr",
              "grows fastest at\n          {{ segment.region.fastest.cagr"),
         expect=E(REPORT, "{{ segment.region.fastest.cagr", 0, "sections[0].blocks[2].text",
                  'unknown placeholder "segment" (did you mean "segments"?)')),
    case("unknown-nested-attribute",
         edit(REPORT, "{{ segments.region.leading.name }} leads with about",
              "{{ segments.region.leadng.name }} leads with about"),
         expect=E(REPORT, "{{ segments.region.leadng.name }} leads", 0, "sections[4].blocks[0].text",
                  'unknown placeholder "segments.region.leadng" (did you mean "leading"?)')),
    case("template-syntax-error",
         edit(REPORT, "compound annual growth rate of **{{ size.cagr | pct }}** over",
              "compound annual growth rate of **{{ size.cagr | pct }** over"),
         expect=E(REPORT, "compound annual growth rate of **{{ size.cagr | pct }** over", 0,
                  "sections[0].blocks[1].text", "template syntax error: unexpected '}'")),
    case("unknown-filter",
         edit(REPORT, "{{ segments.type.get(\"Cloud-based PACS\").cagr | pct }} a year.",
              "{{ segments.type.get(\"Cloud-based PACS\").cagr | pcnt }} a year."),
         expect=E(REPORT, "| pcnt }} a year.", 0, "sections[2].blocks[0].text",
                  'unknown filter "pcnt" (did you mean "pct"?)')),
    case("year-without-data",
         edit(REPORT, "{{ size.at(2027) | money }}", "{{ size.at(2037) | money }}"),
         expect=E(REPORT, "{{ size.at(2037) | money }}", 0, "sections[0].blocks[1].text",
                  "cannot be filled in: no market size for 2037")),
    case("placeholder-in-plain-field",
         edit(REPORT, "    title: Research Methodology\n",
              "    title: \"{{ report.market }} research methodology\"\n"),
         expect=W(REPORT, "research methodology", 5, "sections[6].title",
                  'contains "{{" or "{%", but this field is not a template: printed as is')),
    case("markup-in-text",
         edit(REPORT, "The full report profiles 20 companies in this depth,",
              "The full report profiles 20 <b>R&D-led</b> companies in this depth,"),
         expect=N(REPORT, "The full report profiles 20 <b>R&D-led</b>", 0,
                  "sections[5].subsections[2].blocks[1].teaser",
                  'contains "&" and "<": printed literally (the renderer escapes ReportLab markup)')),
]
