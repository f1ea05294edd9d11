"""The fonts shipped with the package (DejaVu Sans, see LICENSE), so output never depends on
which fonts a machine happens to have. Any layer may use them: the render's captions, the
offline title cards."""

from pathlib import Path

FONTS_DIR = Path(__file__).parent
REGULAR_FONT = FONTS_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONTS_DIR / "DejaVuSans-Bold.ttf"
FONT_FILES = (REGULAR_FONT, BOLD_FONT)
