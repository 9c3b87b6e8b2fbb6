"""Print the advance widths of Carlito, the font metric-compatible with Calibri,
as the table of ``xlmodel/workbook/results/text_fit.py``.

Carlito (SIL Open Font License, the ``fonts-crosextra-carlito`` package) has the
advance widths of Calibri, glyph for glyph, so its widths are what Excel,
LibreOffice and Gnumeric lay Calibri text out with. Run it where the font is
installed:

    python scripts/font_widths.py FOLDER_WITH_THE_CARLITO_TTF_FILES
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from PIL import ImageFont

# Printable ASCII and the other characters xlmodel's own texts use, with a few
# that users type in names and sources.
CHARS = (
    "".join(chr(c) for c in range(32, 127)) + "²³°·±…◆●▲≥≤•σαµ×÷–—‘’“”€£¥éèáàöüäçñ→≈Δ"
)
STYLES = {
    "regular": "Carlito-Regular.ttf",
    "bold": "Carlito-Bold.ttf",
    "italic": "Carlito-Italic.ttf",
    "bold_italic": "Carlito-BoldItalic.ttf",
}
UNITS = 2048  # Carlito's units per em: at this size a length is in font units


def main(folder: str) -> None:
    print("# Advance widths in thousandths of an em, one per character of CHARS.")
    print("WIDTHS = {")
    for style, name in STYLES.items():
        font = ImageFont.truetype(str(Path(folder) / name), UNITS)
        widths = " ".join(str(round(font.getlength(ch) * 1000 / UNITS)) for ch in CHARS)
        print(f"    {style!r}: (")
        for line in textwrap.wrap(widths, 78):
            print(f'        "{line} "')
        print("    ),")
    print("}")
    print(f"CHARS = {CHARS!r}")


if __name__ == "__main__":
    main(sys.argv[1])
