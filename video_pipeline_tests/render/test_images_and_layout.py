from __future__ import annotations

from pathlib import Path

from PIL import Image

from video_pipeline.layout import FrameSize, caption_area, frame_size
from video_pipeline.models import Scene, SubtitleStyle
from video_pipeline.providers.offline.images import TitleCardImages


def _scene(text: str) -> Scene:
    return Scene(
        index=0,
        narration=f"About {text}.",
        on_screen_text=text,
        visual_description="card",
        duration_seconds=3,
    )


def test_title_cards_are_sized_deterministic_and_distinct(tmp_path: Path) -> None:
    cards = TitleCardImages()
    first = cards.scene_image(_scene("Tides"), "Sea", 720, 1280, tmp_path / "a.png")
    again = cards.scene_image(_scene("Tides"), "Sea", 720, 1280, tmp_path / "b.png")
    other = cards.scene_image(_scene("Winds"), "Sea", 720, 1280, tmp_path / "c.png")
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    with Image.open(first) as image:
        assert (image.size, image.mode, image.format) == ((720, 1280), "RGB", "PNG")


def test_title_cards_survive_unwrappable_and_foreign_text(tmp_path: Path) -> None:
    text = "x" * 300 + " مرحبا שלום 🎉 {\\b1}"
    path = TitleCardImages().scene_image(_scene(text), "T", 1920, 1080, tmp_path / "c.png")
    with Image.open(path) as image:
        assert image.size == (1920, 1080)


def test_frame_sizes() -> None:
    assert frame_size("9:16", "720p") == FrameSize(720, 1280)
    assert frame_size("16:9", "720p") == FrameSize(1280, 720)
    assert frame_size("1:1", "720p") == FrameSize(720, 720)
    assert frame_size("9:16", "1080p") == FrameSize(1080, 1920)
    assert frame_size("16:9", "1080p") == FrameSize(1920, 1080)
    assert frame_size("1:1", "1080p") == FrameSize(1080, 1080)


def test_caption_area_keeps_lines_inside_the_safe_area() -> None:
    style = SubtitleStyle()
    narrow = caption_area(frame_size("9:16", "720p"), style)
    assert narrow.left_margin == round(0.06 * 720)
    assert narrow.right_margin == round(0.15 * 720)
    assert narrow.bottom_margin == round(0.18 * 1280) > round(style.bottom_margin_ratio * 1280)
    assert narrow.line_width <= 720 - narrow.left_margin - narrow.right_margin


def test_caption_band_holds_two_lines_above_the_margin_and_fits_the_frame() -> None:
    for style in (SubtitleStyle(), SubtitleStyle(size_ratio=0.2, bottom_margin_ratio=0.5)):
        size = frame_size("16:9", "1080p")
        area = caption_area(size, style)
        assert area.band_height % 2 == 0
        assert min(size.height, area.bottom_margin + 2 * area.font_size) <= area.band_height
        assert area.band_height <= size.height
