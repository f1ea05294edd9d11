"""Frame sizes and where captions may go for each aspect ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass

from video_pipeline.models import Aspect, Resolution, SubtitleStyle

FPS = 30

# Width of one character of DejaVu Sans Bold as a fraction of the ASS font size, measured on
# mixed-case English with some headroom, so a line of N characters is known to fit.
_CHAR_WIDTH_PER_FONT_SIZE = 0.55

# Lines of text the caption band has room for: two, plus headroom for a line that libass
# wraps anyway (glyphs wider than measured, such as CJK or emoji).
_BAND_LINES = 4
# Line height of DejaVu Sans as a fraction of the ASS font size, with headroom.
_LINE_HEIGHT_PER_FONT_SIZE = 1.25

# Fraction of the width kept clear on each side. Vertical videos are watched in apps that
# overlay buttons near the right and bottom edges, so they get the widest margins.
_SIDE_MARGIN_RATIO: dict[Aspect, float] = {"9:16": 0.08, "16:9": 0.05, "1:1": 0.06}


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int


@dataclass(frozen=True)
class CaptionArea:
    """Pixel geometry of burned-in captions in one frame size."""

    font_size: int
    side_margin: int
    bottom_margin: int
    chars_per_line: int
    outline: float
    """Outline width in pixels."""
    band_height: int
    """Height of the strip at the bottom of the frame that captions are drawn in."""


def frame_size(aspect: Aspect, resolution: Resolution) -> FrameSize:
    short_side = 720 if resolution == "720p" else 1080
    long_side = short_side * 16 // 9
    if aspect == "9:16":
        return FrameSize(short_side, long_side)
    if aspect == "16:9":
        return FrameSize(long_side, short_side)
    return FrameSize(short_side, short_side)


def caption_area(aspect: Aspect, size: FrameSize, style: SubtitleStyle) -> CaptionArea:
    """Keep the style's font size and shorten lines if that many characters would not fit."""
    font_size = max(12, round(style.size_ratio * size.height))
    side_margin = round(_SIDE_MARGIN_RATIO[aspect] * size.width)
    usable_width = size.width - 2 * side_margin
    fitting_chars = int(usable_width / (font_size * _CHAR_WIDTH_PER_FONT_SIZE))
    bottom_margin = round(style.bottom_margin_ratio * size.height)
    outline = style.outline * size.height / 720
    text_height = _BAND_LINES * _LINE_HEIGHT_PER_FONT_SIZE * font_size + 2 * outline
    return CaptionArea(
        font_size=font_size,
        side_margin=side_margin,
        bottom_margin=bottom_margin,
        chars_per_line=max(8, min(style.max_chars_per_line, fitting_chars)),
        outline=outline,
        band_height=min(size.height, 2 * math.ceil((bottom_margin + text_height) / 2)),
    )
