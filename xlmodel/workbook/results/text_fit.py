"""How many lines a wrapped text takes in a cell, from the widths of its font.

A result sheet sets the height of every row whose text wraps (notes merged over
columns, long cells, table headers), since no reader grows a row to its text when
it opens a file: a row too low for its text draws its last line over the next row.
The lines are counted the way a reader lays them out: the words, at the advance
widths of Calibri (the result sheets' font), filled greedily into the width of the
cell or merged range, a word too long for a line broken where it overflows.

The widths are those of Carlito, the font metric-compatible with Calibri (SIL Open
Font License), printed by ``scripts/font_widths.py``; a character outside the table
counts as a capital M (a CJK ideograph or other full-width character as one em).
Excel's column width unit is the width of a digit of the workbook's default font
(Calibri 11 pt: 7 pixels, plus 5 pixels of margin, at 96 pixels per inch).
The count leans long: text widths get 5 % more and the cell loses its margins,
because a reader that rounds each glyph to whole pixels lays text out a little
wider than its font's widths, and a line too many costs a blank line where a line
too few draws text over text. The geometry is Excel's: LibreOffice lays the same
width out about 6 % wider (its digit of Carlito 11 pt is 7.4 pixels, not 7), so
there a text near the edge (a long variant name in a capped name column) fits on
one line in a row sized for two.
"""

from __future__ import annotations

import math
import re

# Advance widths in thousandths of an em, one per character of CHARS.
WIDTHS = {
    "regular": (
        "226 326 401 498 507 715 682 221 303 303 498 498 250 306 252 386 507 507 507 "
        "507 507 507 507 507 507 507 268 268 498 498 498 463 894 579 544 533 615 488 "
        "459 631 623 252 319 520 420 855 646 662 517 673 543 459 487 642 567 890 519 "
        "487 468 307 386 307 498 498 291 479 525 423 525 498 305 471 525 229 239 455 "
        "229 799 525 527 525 525 349 391 335 525 452 715 433 453 395 314 460 314 498 "
        "336 334 339 252 498 690 507 604 507 498 498 498 532 567 550 498 498 498 905 "
        "250 250 418 418 507 507 507 498 498 479 479 527 525 479 423 525 905 498 564 "
    ),
    "bold": (
        "226 326 438 498 507 729 705 233 312 312 498 498 258 306 267 430 507 507 507 "
        "507 507 507 507 507 507 507 276 276 498 498 498 463 898 606 561 529 630 488 "
        "459 637 631 267 331 547 423 874 659 676 532 686 563 473 495 653 591 906 551 "
        "520 478 325 430 325 498 498 300 494 537 418 537 503 316 474 537 246 255 480 "
        "246 813 537 538 537 537 355 399 347 537 473 745 459 474 397 344 475 344 498 "
        "338 336 342 268 498 711 507 604 507 498 498 498 544 591 563 498 498 498 905 "
        "258 258 435 435 507 507 507 503 503 494 494 538 537 494 418 537 905 498 578 "
    ),
    "italic": (
        "226 326 401 498 507 715 682 221 303 303 498 498 250 306 252 388 507 507 507 "
        "507 507 507 507 507 507 507 268 268 498 498 498 463 894 579 544 522 615 488 "
        "459 631 623 252 319 520 420 855 645 654 517 664 543 452 487 642 567 890 519 "
        "487 468 307 384 307 498 498 291 514 514 416 514 478 305 514 514 229 239 455 "
        "229 791 514 513 514 514 343 389 335 514 446 715 433 447 395 314 460 314 498 "
        "336 334 339 252 498 690 507 604 507 498 498 498 532 565 538 498 498 498 905 "
        "250 250 418 418 507 507 507 478 478 514 514 513 514 514 416 514 905 498 564 "
    ),
    "bold_italic": (
        "226 326 438 498 507 729 705 233 312 312 498 498 258 306 267 434 507 507 507 "
        "507 507 507 507 507 507 507 276 276 498 498 498 463 898 606 561 519 630 488 "
        "459 637 631 267 331 547 423 874 656 668 532 677 563 465 495 653 591 907 551 "
        "520 478 325 425 325 498 498 300 528 528 412 528 491 316 528 527 246 255 480 "
        "246 804 527 527 528 528 352 394 347 527 469 745 459 470 397 344 475 344 498 "
        "338 336 342 268 498 711 507 604 507 498 498 498 544 584 554 498 498 498 905 "
        "258 258 435 435 507 507 507 491 491 528 528 527 527 528 412 527 905 498 578 "
    ),
}
CHARS = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~²³°·±…◆●▲≥≤•σαµ×÷–—‘’“”€£¥éèáàöüäçñ→≈Δ"

_WIDTH = {
    style: dict(zip(CHARS, map(int, widths.split()), strict=True))
    for style, widths in WIDTHS.items()
}

# The widest character a style can have (one outside the table counts at most
# an em, or a capital M's width), for the count of a text that fits for sure.
_WIDEST = {style: max(1000, *widths.values()) for style, widths in _WIDTH.items()}
#: Points to pixels at 96 pixels per inch.
PX_PER_PT = 96 / 72
#: Text width allowance over the font's widths (a reader rounding glyphs to pixels).
ALLOWANCE = 1.05
#: Pixels of a cell's width text cannot use (the reader's margins left and right).
CELL_MARGIN_PX = 7
_WORD = re.compile(r"\S+")


def column_px(width_chars: float) -> int:
    """Pixels of a column ``width_chars`` wide (Excel's width unit: digits of
    Calibri 11 pt, 7 pixels each, plus 5 pixels of margin; below one digit the
    margin shrinks with the width)."""
    if width_chars < 1:
        return int(width_chars * 12 + 0.5)
    return int(width_chars * 7 + 0.5) + 5


def text_px(text: str, size_pt: float = 10, bold: bool = False, italic: bool = False):
    """Width of ``text`` on one line in pixels, with :data:`ALLOWANCE`."""
    table = _WIDTH[_style(bold, italic)]
    em = sum(table.get(ch) or _other(ch, table) for ch in text) / 1000
    return em * size_pt * PX_PER_PT * ALLOWANCE


def text_lines(
    text: str,
    width_px: float,
    size_pt: float = 10,
    bold: bool = False,
    italic: bool = False,
) -> int:
    """Lines ``text`` takes, wrapped in a cell (or merged range) ``width_px``
    pixels wide, at ``size_pt`` points; at least one.

    Words (runs without white space) are filled greedily into lines of the width
    left inside the cell's margins; a line break in the text starts a new line; a
    word wider than a line starts on its own line and runs over as many lines as
    it needs.
    """
    room = max(width_px - CELL_MARGIN_PX, 1.0)
    style = _style(bold, italic)
    table = _WIDTH[style]
    scale = size_pt * PX_PER_PT * ALLOWANCE / 1000
    if len(text) * _WIDEST[style] * scale <= room and text.isprintable():
        return 1  # fits even were every character the widest there is
    space = table[" "] * scale
    lines = 0
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines += 1
        x = 0.0
        for m in _WORD.finditer(paragraph):
            w = sum(table.get(ch) or _other(ch, table) for ch in m.group()) * scale
            if x and x + space + w <= room:
                x += space + w
                continue
            if x:
                lines += 1
            if w > room:  # broken where it overflows, its rest on the last line
                extra = math.ceil(w / room) - 1
                lines += extra
                w -= extra * room
            x = w
    return max(lines, 1)


def _style(bold: bool, italic: bool) -> str:
    if bold and italic:
        return "bold_italic"
    return "bold" if bold else "italic" if italic else "regular"


def _other(ch: str, table: dict[str, int]) -> int:
    """Width of a character outside the table: an em for a full-width one, a
    capital M's for any other."""
    if ch == "\t":
        return 8 * table[" "]
    if (
        "\u2e80" <= ch <= "\ua4cf"
        or "\uac00" <= ch <= "\ud7a3"
        or "\uff00" <= ch <= "\uffef"
    ):
        return 1000
    return table["M"]
