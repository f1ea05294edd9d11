"""Offline scene images: plain title cards, honestly generated, never passed off as artwork.

A card is a two-colour gradient chosen from a hash of the scene's text (so the same scene
always looks the same) with the project's title and the scene's on-screen text set in the
package's font stack, inside the frame's safe area.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from video_pipeline.fonts import (
    REGULAR_STACK,
    STACK,
    Face,
    draw_text,
    pillow_font,
    text_width,
    wrap,
)
from video_pipeline.layout import Box, FrameSize, on_screen_text_area
from video_pipeline.models import CameraMotion, Scene

_MAX_TEXT_LINES = 6
_TITLE_LINES = 2
_LINE_SPACING = 1.25


class TitleCardImages:
    name = "title-cards"

    def scene_image(
        self,
        scene: Scene,
        title: str,
        width: int,
        height: int,
        out_path: Path,
        motion: CameraMotion = "none",
    ) -> Path:
        card = card_background(scene, width, height)
        draw = ImageDraw.Draw(card)
        safe = on_screen_text_area(FrameSize(width, height), motion)
        title_box = Box(safe.left, safe.top, safe.right, safe.top + round(0.1 * height))
        title_size = max(12, round(0.028 * height))
        _draw_block(draw, title, title_box, title_size, REGULAR_STACK, _TITLE_LINES, centre=False)
        text = " ".join(scene.on_screen_text.split())
        if text:
            box = Box(safe.left, title_box.bottom, safe.right, safe.bottom)
            size = round(0.12 * min(width, height))
            _draw_block(draw, text, box, size, STACK, _MAX_TEXT_LINES, centre=True)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        card.convert("RGB").save(out_path, format="PNG")
        return out_path


def card_background(scene: Scene, width: int, height: int) -> Image.Image:
    """The card without text: flat across each row."""
    digest = hashlib.sha256(f"{scene.narration}\n{scene.on_screen_text}".encode()).digest()
    hue = digest[0] / 255
    top = colorsys.hsv_to_rgb(hue, 0.55, 0.45)
    bottom = colorsys.hsv_to_rgb((hue + 0.08 + digest[1] / 2550) % 1.0, 0.75, 0.18)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp) * 255
    # One pixel wide, widened by repetition: the same pixels as converting the full frame in
    # numpy, in a fraction of the time.
    column = Image.fromarray(rows.astype(np.uint8))
    return column.resize((width, height), Image.Resampling.NEAREST).convert("RGBA")


def _draw_block(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: Box,
    size: int,
    stack: tuple[Face, ...],
    max_lines: int,
    *,
    centre: bool,
) -> None:
    """`text` wrapped into `box` at the largest size (down to a floor) at which it fits."""
    text = " ".join(text.split())
    size, lines = _fitting(text, box, size, stack, max_lines)
    line_height = round(size * _LINE_SPACING)
    ascent = pillow_font(stack[0], size).getmetrics()[0]
    top = box.top + ((box.height - len(lines) * line_height) // 2 if centre else 0)
    for index, line in enumerate(lines):
        width = text_width(line, size, stack)
        left = box.left + ((box.width - width) / 2 if centre else 0)
        draw_text(
            draw,
            left,
            top + index * line_height + ascent,
            line,
            size,
            stack,
            fill=(255, 255, 255, 255 if centre else 200),
            stroke_width=max(1, size // 18) if centre else 0,
            stroke_fill=(0, 0, 0, 160),
        )


def _fitting(
    text: str, box: Box, size: int, stack: tuple[Face, ...], max_lines: int
) -> tuple[int, list[str]]:
    """Shrink until the wrapped lines fit `box`; at the floor, drop the lines that do not."""
    while True:
        lines = wrap(text.split(" "), _FitsWidth(box.width, size, stack))
        line_height = round(size * _LINE_SPACING)
        fits = len(lines) <= max_lines and len(lines) * line_height <= box.height
        if fits or size <= 12:
            return size, lines[: max(1, min(max_lines, box.height // line_height))]
        size = max(12, round(size * 0.88))


@dataclass(frozen=True)
class _FitsWidth:
    width: int
    size: int
    stack: tuple[Face, ...]

    def __call__(self, line: str) -> bool:
        stroke = 2 * max(1, self.size // 18)
        return text_width(line, self.size, self.stack) + stroke <= self.width
