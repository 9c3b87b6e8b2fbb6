"""Lines of a wrapped text, counted from Calibri's widths (text_fit)."""

from __future__ import annotations

import pytest

from xlmodel.workbook.results.text_fit import (
    ALLOWANCE,
    CELL_MARGIN_PX,
    column_px,
    text_lines,
    text_px,
)

# Calibri's digits are 507/1000 em wide, its space 226/1000 (Carlito's widths).
DIGIT_PX = 0.507 * 10 * 96 / 72 * ALLOWANCE  # at 10 pt: 7.098 px
SPACE_PX = 0.226 * 10 * 96 / 72 * ALLOWANCE  # 3.164 px


def test_column_pixels_are_excels():
    # Excel: a width of w digits of Calibri 11 pt is 7w pixels plus 5 of margin
    assert column_px(8.43) == 64
    assert column_px(10) == 75
    assert column_px(0.5) == 6


def test_digits_fill_a_column_as_hand_worked():
    room = column_px(10) - CELL_MARGIN_PX  # 68 px
    assert 9 * DIGIT_PX <= room < 10 * DIGIT_PX
    assert text_px("0" * 9) == pytest.approx(9 * DIGIT_PX)
    assert text_lines("0" * 9, column_px(10)) == 1
    assert text_lines("0" * 9 + " " + "0" * 9, column_px(10)) == 2
    # two columns: 143 px of room hold 9 + space + 9 digits (130.9 px), not 19 + 9
    two = column_px(10) * 2
    assert 18 * DIGIT_PX + SPACE_PX <= two - CELL_MARGIN_PX
    assert text_lines("0" * 9 + " " + "0" * 9, two) == 1
    assert text_lines("0" * 19 + " " + "0" * 9, two) == 2


def test_a_word_wider_than_the_line_runs_over_lines():
    room = column_px(10) - CELL_MARGIN_PX
    word = "0" * 30  # 212.9 px: three full lines of 68 px and a rest
    assert text_lines(word, column_px(10)) == 4
    assert 3 * room < 30 * DIGIT_PX <= 4 * room
    # the rest of the word shares its line with the next word when it fits
    assert text_lines(word + " 0", column_px(10)) == 4


def test_capitals_take_more_lines_than_the_same_count_of_narrow_letters():
    wide, narrow = " ".join(["WWWW"] * 20), " ".join(["iiii"] * 20)
    assert len(wide) == len(narrow)
    assert text_lines(wide, 400) > text_lines(narrow, 400) == 1
    assert text_lines(wide, 400, bold=True) >= text_lines(wide, 400)
    assert text_lines(wide, 400, size_pt=13) > text_lines(wide, 400)


def test_line_breaks_and_blank_text():
    assert text_lines("", 100) == 1
    assert text_lines("a\nb", 100) == 2
    assert text_lines("a\r\nb\rc", 100) == 3
    assert text_lines("a\n\nb", 100) == 3


def test_characters_outside_the_table_count_wide():
    # an ideograph is an em; an unknown letter counts as a capital M
    assert text_px("中") == pytest.approx(10 * 96 / 72 * ALLOWANCE)
    assert text_px("ŧ") == text_px("M")


def test_the_shortcut_for_a_text_that_fits_counts_as_the_layout(monkeypatch):
    import random

    from xlmodel.workbook.results import text_fit

    rng = random.Random(7)
    texts = [
        "".join(rng.choice("aW0 -.\t\n") for _ in range(rng.randint(0, 30)))
        for _ in range(3000)
    ]
    widths = [rng.uniform(10, 400) for _ in texts]
    fast = [text_lines(t, w) for t, w in zip(texts, widths)]
    monkeypatch.setattr(text_fit, "_WIDEST", dict.fromkeys(text_fit._WIDEST, 1e9))
    assert [text_lines(t, w) for t, w in zip(texts, widths)] == fast
    assert fast.count(1) > 100  # the shortcut was taken
