"""Frame sizes, the safe area of each aspect, and where captions go."""

from __future__ import annotations

import math
from dataclasses import dataclass

from video_pipeline.models import Aspect, CameraMotion, Resolution, SubtitleStyle

FPS = 30
MOTION_ZOOM = 1.1
"""How far the camera moves over one scene: zoom from 1x to this, or pan at this zoom."""

# Lines of text the caption band has room for: two (captions are wrapped and shrunk to two
# lines' height), plus headroom for taller glyphs and the larger words of the pop style.
# Every caption image is a band's size, so the band is kept small.
_BAND_LINES = 3
# Line height as a fraction of the ASS font size, with headroom for the fallback fonts.
_LINE_HEIGHT_PER_FONT_SIZE = 1.3

# Insets (left, top, right, bottom) as fractions of the frame's width and height that text
# keeps clear of. Vertical videos are watched in apps that draw over the picture: a column of
# buttons on the right, the account name, description and music bar at the bottom, tabs at
# the top.
_SAFE_INSETS: dict[Aspect, tuple[float, float, float, float]] = {
    "9:16": (0.06, 0.08, 0.15, 0.18),
    "16:9": (0.05, 0.06, 0.05, 0.06),
    "1:1": (0.06, 0.06, 0.06, 0.06),
}


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int

    @property
    def aspect(self) -> Aspect:
        if self.width < self.height:
            return "9:16"
        return "16:9" if self.width > self.height else "1:1"


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class CaptionArea:
    """Pixel geometry of burned-in captions in one frame size."""

    font_size: int
    left_margin: int
    right_margin: int
    bottom_margin: int
    line_width: int
    """Widest line, in pixels, between the margins."""
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


def safe_area(size: FrameSize) -> Box:
    """The part of the frame text may use: clear of the edges and of app overlays."""
    left, top, right, bottom = _SAFE_INSETS[size.aspect]
    return Box(
        left=round(left * size.width),
        top=round(top * size.height),
        right=size.width - round(right * size.width),
        bottom=size.height - round(bottom * size.height),
    )


def on_screen_text_area(size: FrameSize, motion: CameraMotion = "none") -> Box:
    """Where pictures may carry text (titles, on-screen text): above the captions. Under a
    camera `motion`, the part of the picture that stays inside that area wherever the camera
    is over it (zoomed in up to `MOTION_ZOOM`, or panning across at that zoom)."""
    safe = safe_area(size)
    area = Box(safe.left, safe.top, safe.right, min(safe.bottom, round(0.7 * size.height)))
    if motion == "none":
        return area
    width, height, zoom = size.width, size.height, MOTION_ZOOM
    middle = ((width - width / zoom) / 2, (height - height / zoom) / 2)
    # Each view: the zoom and the picture's point at the frame's top left corner.
    views = [(zoom, *middle)]
    if motion == "zoom":
        views.append((1.0, 0.0, 0.0))
    else:
        views += [(zoom, 0.0, middle[1]), (zoom, width - width / zoom, middle[1])]
    return Box(
        math.ceil(max(area.left / z + x for z, x, _ in views)),
        math.ceil(max(area.top / z + y for z, _, y in views)),
        math.floor(min(area.right / z + x for z, x, _ in views)),
        math.floor(min(area.bottom / z + y for z, _, y in views)),
    )


def caption_area(size: FrameSize, style: SubtitleStyle) -> CaptionArea:
    """The style's font size and margins, kept inside the safe area."""
    safe = safe_area(size)
    font_size = max(12, round(style.size_ratio * size.height))
    outline = style.outline * size.height / 720
    bottom_margin = max(round(style.bottom_margin_ratio * size.height), size.height - safe.bottom)
    text_height = _BAND_LINES * _LINE_HEIGHT_PER_FONT_SIZE * font_size + 2 * outline
    return CaptionArea(
        font_size=font_size,
        left_margin=safe.left,
        right_margin=size.width - safe.right,
        bottom_margin=bottom_margin,
        line_width=math.floor(safe.width - 2 * outline),
        chars_per_line=style.max_chars_per_line,
        outline=outline,
        band_height=min(size.height, 2 * math.ceil((bottom_margin + text_height) / 2)),
    )


def caption_overlap(aspect: Aspect, resolution: Resolution, style: SubtitleStyle) -> str | None:
    """Why captions of `style` would cover the on-screen text whatever they say (a single
    line, which libass scales to span the font size, reaches above the text area's bottom),
    or None."""
    size = frame_size(aspect, resolution)
    area = caption_area(size, style)
    one_line_top = size.height - area.bottom_margin - area.font_size
    text_bottom = on_screen_text_area(size).bottom
    if one_line_top >= text_bottom:
        return None
    return (
        f"captions of size_ratio {style.size_ratio:g} above a bottom_margin_ratio of "
        f"{style.bottom_margin_ratio:g} would reach {one_line_top / size.height:.0%} of the "
        f"way down a {aspect} frame, over the on-screen text (down to "
        f"{text_bottom / size.height:.0%}): lower size_ratio or bottom_margin_ratio"
    )
