"""Offline scene images: plain title cards, honestly generated, never passed off as artwork.

A card is a two-colour gradient chosen from a hash of the scene's text (so the same scene
always looks the same) with the scene's on-screen text set in the shipped font.
"""

from __future__ import annotations

import colorsys
import hashlib
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from video_pipeline.fonts import BOLD_FONT, REGULAR_FONT
from video_pipeline.models import Scene

# The lower part of the frame is left for burned-in captions.
_TEXT_BOTTOM_RATIO = 0.7
_MAX_TEXT_LINES = 6


class TitleCardImages:
    name = "title-cards"

    def scene_image(
        self, scene: Scene, title: str, width: int, height: int, out_path: Path
    ) -> Path:
        card = _gradient(scene, width, height)
        draw = ImageDraw.Draw(card)
        margin = round(0.08 * width)
        title_font = _font(REGULAR_FONT, max(12, round(0.028 * height)))
        draw.text((margin, margin), _one_line(title), font=title_font, fill=(255, 255, 255, 200))
        text = " ".join(scene.on_screen_text.split())
        if text:
            _draw_centered_text(draw, text, width, height, margin)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        card.convert("RGB").save(out_path, format="PNG")
        return out_path


def _gradient(scene: Scene, width: int, height: int) -> Image.Image:
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


def _draw_centered_text(
    draw: ImageDraw.ImageDraw, text: str, width: int, height: int, margin: int
) -> None:
    """Largest font size (down to a floor) at which the wrapped text fits the upper area."""
    area_top = 2 * margin
    area_width = width - 2 * margin
    area_height = round(_TEXT_BOTTOM_RATIO * height) - area_top - margin
    size = round(0.12 * min(width, height))
    while True:
        font = _font(BOLD_FONT, size)
        lines = _wrap(text, font, area_width)
        line_height = round(size * 1.25)
        fits = len(lines) <= _MAX_TEXT_LINES and len(lines) * line_height <= area_height
        if fits or size <= 16:
            break
        size = round(size * 0.88)
    lines = lines[:_MAX_TEXT_LINES]
    top = area_top + (area_height - len(lines) * line_height) // 2
    for index, line in enumerate(lines):
        draw.text(
            (width / 2, top + index * line_height),
            line,
            font=font,
            anchor="ma",
            fill=(255, 255, 255, 255),
            stroke_width=max(1, size // 18),
            stroke_fill=(0, 0, 0, 160),
        )


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap by rendered width; a word wider than a line is split by characters."""
    lines: list[str] = []
    for word in text.split(" "):
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= max_width:
            lines[-1] = candidate
            continue
        piece = ""
        for char in word:
            if piece and font.getlength(piece + char) > max_width:
                lines.append(piece)
                piece = ""
            piece += char
        lines.append(piece)
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())[:80]


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)
