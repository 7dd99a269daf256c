"""Indian scripts on documents: the right font per script, HarfBuzz's shaping on the page, and text
that wraps or shrinks inside its box and reads back as typed (chassis.typeset, ADR 390)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from chassis.sheet import Sheet
from chassis.typeset import Box, _shape, fit, runs
from tests import pdf_checks

NOTO = Path("/usr/share/fonts/truetype/noto")
LINES = {
    "Devanagari": "श्रीमती प्रिया शर्मा क्षेत्रीय",
    "Tamil": "திருமதி லக்ஷ்மி கிருஷ்ணன்",
    "Bengali": "শ্রীমতী অর্পিতা সেনগুপ্ত",
    "Gujarati": "શ્રીમતી પ્રિયા ત્રિવેદી",
    "Gurmukhi": "ਸ੍ਰੀਮਤੀ ਪ੍ਰੀਤ ਕੌਰ ਅੰਮ੍ਰਿਤਸਰ",
    "Telugu": "శ్రీమతి లక్ష్మి విజయవాడ",
    "Kannada": "ಶ್ರೀಮತಿ ಲಕ್ಷ್ಮಿ ಬೆಂಗಳೂರು",
    "Malayalam": "ശ്രീമതി ലക്ഷ്മി തിരുവനന്തപുരം",
    "Oriya": "ଶ୍ରୀମତୀ ଲକ୍ଷ୍ମୀ ଭୁବନେଶ୍ୱର",
}
URDU = "محترمہ عائشہ صدیقی، لکھنؤ"
ADDRESS = "फ्लैट 402, श्री गणेश अपार्टमेंट, क्षेत्रीय मार्ग, मालवीय नगर, जयपुर, राजस्थान 302017"


def test_each_run_of_text_gets_the_font_of_its_script_and_shared_characters_stay_with_their_neighbours() -> (
    None
):
    assert runs("Flat 12, गली 4, சென்னை 600004") == [
        ("Latin", "Flat 12, "),
        ("Devanagari", "गली 4, "),
        ("Tamil", "சென்னை 600004"),
    ]
    assert runs("কলকাতা। ₹500") == [("Bengali", "কলকাতা। ₹500")]
    assert runs("12/3 MG Road") == [("Latin", "12/3 MG Road")]


@pytest.mark.parametrize("script", LINES)
def test_a_line_is_drawn_as_harfbuzz_shapes_it_conjuncts_and_matras_not_letter_by_letter(script: str) -> None:
    text = LINES[script]
    sheet = Sheet((400, 60), script)
    box = Box(10, 10, 380, 40)
    block = sheet.text(text, box, size=20)
    drawn = pdf_checks.line_image(sheet.finish(), box, scale=4)
    font = NOTO / f"NotoSans{script}-Regular.ttf"
    shaped = pdf_checks.pillow_line(text, font, block.size * 4, shaped=True)
    unshaped = pdf_checks.pillow_line(text, font, block.size * 4, shaped=False)
    assert abs(drawn.size[0] - shaped.size[0]) <= 4, (drawn.size, shaped.size)
    assert pdf_checks.difference(drawn, shaped) < 0.5 * pdf_checks.difference(drawn, unshaped)


@pytest.mark.parametrize("script", LINES)
def test_text_in_any_script_reads_back_exactly_as_typed(script: str) -> None:
    sheet = Sheet((400, 60), script)
    sheet.text(LINES[script], Box(10, 10, 380, 40), size=20)
    assert pdf_checks.text(sheet.finish().pdf) == LINES[script]


def test_urdu_is_joined_by_harfbuzz_and_set_right_to_left_as_pillows_raqm_sets_it() -> None:
    sheet = Sheet((400, 80), "urdu")
    box = Box(10, 10, 380, 60)
    block = sheet.text(URDU, box, size=20)
    drawn = pdf_checks.line_image(sheet.finish(), box, scale=4)
    font = NOTO / "NotoNaskhArabic-Regular.ttf"
    shaped = pdf_checks.pillow_line(URDU, font, block.size * 4, shaped=True)
    unshaped = pdf_checks.pillow_line(URDU, font, block.size * 4, shaped=False)
    assert abs(drawn.size[0] - shaped.size[0]) <= 4, (drawn.size, shaped.size)
    assert pdf_checks.difference(drawn, shaped) < 0.5 * pdf_checks.difference(drawn, unshaped)
    (line,) = block.lines
    assert line.ink is not None and abs(line.ink.right - box.right) < 2, (
        "a right-to-left line sets from the right"
    )


def test_numbers_in_urdu_read_left_to_right_in_their_place_by_the_bidirectional_algorithm() -> None:
    address = "مکان نمبر 12، گلی 4، لکھنؤ"
    assert [run.text for run in _shape(address, False).runs] == ["، لکھنؤ", "4", "، گلی ", "12", "مکان نمبر "]
    mixed = "Flat 12, گلی 4 Lucknow"  # a left-to-right line: the Urdu street and its number swap sides
    assert [run.text for run in _shape(mixed, False).runs] == ["Flat 12, ", "4", "گلی ", " ", "Lucknow"]


def test_an_address_too_long_for_its_box_wraps_then_shrinks_and_stays_inside_it() -> None:
    sheet = Sheet((200, 120), "address")
    box = Box(10, 10, 180, 60)
    block = sheet.text(ADDRESS, box, size=14, min_size=5)
    drawn = sheet.finish()
    assert 5 <= block.size < 14 and len(block.lines) > 1 and not block.cut
    assert block.ink is not None and box.contains(block.ink)
    assert pdf_checks.ink_outside(drawn, keep="typeset-address") == []
    assert pdf_checks.words(pdf_checks.text(drawn.pdf)) == ADDRESS


def test_a_word_wider_than_its_box_breaks_between_clusters_never_inside_a_conjunct() -> None:
    word = "क्षेत्रीयमार्गमालवीयनगरश्रीगणेशअपार्टमेंट"
    block = fit(word, Box(0, 0, 60, 200), size=12, min_size=10)
    assert len(block.lines) > 1
    assert "".join(line.text for line in block.lines) == word
    for line in block.lines:
        assert not unicodedata.category(line.text[0]).startswith("M"), line.text
        assert unicodedata.combining(line.text[-1]) != 9, line.text  # no line ends on a virama


def test_at_the_smallest_size_what_does_not_fit_is_cut_with_an_ellipsis_inside_the_box() -> None:
    sheet = Sheet((200, 60), "cut")
    box = Box(10, 10, 180, 20)
    block = sheet.text(ADDRESS * 3, box, size=10, min_size=8)
    assert block.cut and block.size == 8 and block.lines[-1].text.endswith("…")
    assert pdf_checks.ink_outside(sheet.finish()) == []


def test_a_smallest_size_above_the_size_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="min_size"):
        fit("x", Box(0, 0, 10, 10), size=8, min_size=9)
