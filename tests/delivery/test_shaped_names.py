"""Names in complex scripts (Indic, Sinhala, Khmer, Myanmar ...) and in Ethiopic, Georgian,
Armenian and Lao: shaped on the personalised cover and footer, and extracted as typed."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2 as pdfium
import pytest

from pacspdf.delivery.personalise import Recipient, clean, make_copy
from pacspdf.delivery.shaped_font import needs_shaping, shape
from pacspdf.document.personal import BaseArtifact

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"

# (script, name, company): each name exercises what the script's shaping must do.
NAMES = [
    ("Devanagari", "किशोर प्रसाद शर्मा", "अपोलो अस्पताल"),      # i-matra reordered, conjunct pra, reph
    ("Devanagari", "अभिषेक क्षत्रिय", "दिल्ली डायग्नोस्टिक्स"),   # ksha, tra, ll, st conjuncts
    ("Devanagari", "श्री राम ज़ैदी", "मुंबई हॉस्पिटल"),          # shri, nukta, candra o
    ("Bengali", "অভিজিৎ চক্রবর্তী", "কলকাতা হাসপাতাল"),         # khanda ta, reph, ra-phala
    ("Bengali", "সৌমিত্র ঘোষ", "কোলকাতা মেডিক্যাল"),             # split vowels o and au
    ("Tamil", "அருண் கிருஷ்ணன்", "சென்னை மருத்துவமனை"),
    ("Tamil", "கொழும்பு கோபால்", "பெங்களூர் கிளினிக்"),          # split vowels o and oo
    ("Telugu", "శ్రీనివాస్ రెడ్డి", "హైదరాబాద్ ఆసుపత్రి"),
    ("Gujarati", "આનંદ પટેલ", "અમદાવાદ હોસ્પિટલ"),
    ("Gurmukhi", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", "ਅੰਮ੍ਰਿਤਸਰ ਹਸਪਤਾਲ"),
    ("Kannada", "ಕೃಷ್ಣ ಮೂರ್ತಿ", "ಬೆಂಗಳೂರು ಆಸ್ಪತ್ರೆ"),
    ("Malayalam", "കൃഷ്ണൻ നായർ", "കൊച്ചി ആശുപത്രി"),
    ("Oriya", "ପ୍ରକାଶ ମହାପାତ୍ର", "ଭୁବନେଶ୍ୱର ହସ୍ପିଟାଲ"),
    ("Sinhala", "ශ්\u200dරී ලංකා", "කොළඹ රෝහල"),                # ZWJ selects the rakaransaya form
    ("Khmer", "សុខ ចាន់ធី", "មន្ទីរពេទ្យ ភ្នំពេញ"),
    ("Myanmar", "အောင် ကျော်", "ရန်ကုန် ဆေးရုံ"),
    ("Ethiopic", "አበበ ቢቂላ", "አዲስ ሆስፒታል"),
    ("Georgian", "ნინო ბერიძე", "თბილისის კლინიკა"),
    ("Armenian", "Անի Պետրոսյան", "Երևանի հիվանդանոց"),
    ("Lao", "ສົມພອນ ວົງສາ", "ໂຮງໝໍ ວຽງຈັນ"),
]


@pytest.fixture(scope="module")
def base(sample_pdf: Any) -> BaseArtifact:
    return BaseArtifact.load(sample_pdf.path)


def _page_text(pdf: bytes, index: int) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return " ".join(doc[index].get_textpage().get_text_range().split())
    finally:
        doc.close()


@pytest.mark.parametrize(("script", "name", "company"), NAMES,
                         ids=[f"{n[0]}-{i}" for i, n in enumerate(NAMES)])
def test_name_prints_on_cover_and_footers_and_extracts_as_typed(base: BaseArtifact, script: str, name: str,
                                                               company: str) -> None:
    """The name and company print (no fallback to the email) and read back, through pdfium,
    exactly as typed on the cover and in the footers; through the ToUnicode map alone (pypdf,
    which ignores /ActualText) every character comes back in logical order."""
    copy = make_copy(base, Recipient(name, company, "reader@example.in"), "SHAPE1", "1 May 2026")
    assert copy.warnings == []
    who = f"{name}, {company}"
    assert who in _page_text(copy.pdf, 0)
    assert "reader@example.in" in _page_text(copy.pdf, 0)
    assert name in _page_text(copy.pdf, 3)  # a footer
    plain = pypdf.PdfReader(io.BytesIO(copy.pdf)).pages[0].extract_text()
    squeeze = re.compile(r"[\s,\u200d\u200c]")
    typed, read = (squeeze.sub("", unicodedata.normalize("NFC", t)) for t in (who, plain))
    assert typed in read


def test_devanagari_is_shaped_not_drawn_character_by_character() -> None:
    """HarfBuzz reorders the i-matra before its consonant and forms conjuncts: "कि" draws the
    i-matra's glyph first (reading back as "क"), and "क्ष" is one glyph for three characters."""
    font = str(_package_font("fontpkg_noto_sans_devanagari"))
    from fontTools.ttLib import TTFont

    tt = TTFont(font)
    cmap = tt["cmap"].getBestCmap()
    ki = shape(font, "कि")
    # The first glyph drawn is an i-matra (a width variant, "uni093F.NN"), the second the ka.
    assert [tt.getGlyphName(g[0]).split(".")[0] for g in ki] == [cmap[ord("ि")], cmap[ord("क")]]
    assert "".join(g[1] for g in ki) == "कि"
    ksha = shape(font, "क्ष")
    assert len(ksha) == 1 and ksha[0][1] == "क्ष"
    assert tt.getGlyphName(ksha[0][0]) not in {cmap[ord(c)] for c in "क्ष"}


def test_split_vowel_reads_back_once() -> None:
    """A Tamil split vowel (கொ: the vowel sign drawn on both sides) has more glyphs than
    characters; their texts still add up to the cluster, once."""
    font = str(_package_font("fontpkg_noto_sans_tamil"))
    glyphs = shape(font, "கொ")
    assert len(glyphs) == 3
    assert "".join(g[1] for g in glyphs) == "கொ"


def test_only_complex_script_fonts_are_shaped() -> None:
    """Fonts for scripts that need shaping go through HarfBuzz; an Arabic, Hebrew or Ethiopic
    font does not (Noto Sans Arabic lists "dev2" among its features, for shared marks)."""
    assert needs_shaping(str(_package_font("fontpkg_noto_sans_devanagari")))
    assert needs_shaping(str(ASSETS / "fonts" / "NotoSansGujarati-Regular.ttf"))
    assert not needs_shaping(str(ASSETS / "fonts" / "NotoSansEthiopic-Regular.ttf"))
    assert not needs_shaping(str(_package_font("fontpkg_heebo")))
    assert not needs_shaping(str(_package_font("fontpkg_noto_sans_arabic")))


def test_joiners_are_kept_only_where_they_choose_a_form() -> None:
    """ZWJ and ZWNJ inside an Indic or Sinhala word are kept; elsewhere they are dropped."""
    assert clean("क्\u200dष") == "क्\u200dष"
    assert clean("ශ්\u200dරී") == "ශ්\u200dරී"
    assert clean("Ali\u200dce") == "Alice"
    assert clean("\u200dक") == "क"


def test_shaped_names_wrap_and_stay_in_the_panel(base: BaseArtifact) -> None:
    """A long Devanagari name and company wrap onto two lines inside the cover panel."""
    name = "श्रीमती अनुराधा कृष्णमूर्ति वेंकटरामन"
    company = "अखिल भारतीय आयुर्विज्ञान संस्थान, रेडियोलॉजी विभाग, नई दिल्ली"
    copy = make_copy(base, Recipient(name, company, "a@example.in"), "W1", "1 May 2026")
    doc = pdfium.PdfDocument(copy.pdf)
    text = doc[0].get_textpage()
    panel = base.meta["layout"]["cover"]
    inked = 0
    for i in range(text.count_chars()):
        left, bottom, right, _top = text.get_charbox(i)
        if right > left and panel["detail_y"] - 5 <= bottom <= panel["label_y"] + 10:
            inked += 1
            assert right <= panel["x"] + panel["width"] + 0.5
    assert inked > 40
    assert name in " ".join(text.get_text_range().split())
    doc.close()


def test_shaped_copies_are_deterministic(base: BaseArtifact) -> None:
    who = Recipient("किशोर प्रसाद शर्मा", "अपोलो अस्पताल", "k@example.in")
    assert make_copy(base, who, "D1", "1 May 2026").pdf == make_copy(base, who, "D1", "1 May 2026").pdf


def _package_font(package: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return next((Path(next(iter(spec.submodule_search_locations))) / "files").glob("*.ttf"))
