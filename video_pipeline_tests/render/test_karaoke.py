"""Karaoke captions highlight each word when it is spoken; pop captions show one word."""

from __future__ import annotations

from pathlib import Path

import ffmpeg
import numpy as np
import pytest

from video_pipeline.layout import FPS
from video_pipeline.models import SubtitleStyle
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import (
    EncoderSettings,
    RenderedVideo,
    RenderOptions,
    render_video,
    verify_render,
)
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline_tests.render.conftest import make_script, settings_for

NARRATIONS = (
    "Every morning the harbour fills with small boats.",
    "By noon the market is quiet again.",
)
# The default highlight, #FFD23F: yellow, unlike the white text, black outline and the card.
HIGHLIGHT = np.array([0xFF, 0xD2, 0x3F])
TOLERANCE_SECONDS = 0.1


def _render(mode: str, tmp_path: Path) -> RenderedVideo:
    script = make_script(*NARRATIONS)
    settings = settings_for(
        script, aspect="16:9", resolution="720p", subtitle_style=SubtitleStyle(mode=mode)
    )
    options = RenderOptions(encoder=EncoderSettings(preset="ultrafast"))
    rendered = render_video(
        script, settings, EspeakSpeech(), TitleCardImages(), tmp_path, options=options
    )
    assert verify_render(rendered, script, settings) == []
    return rendered


def _caption_band(rendered: RenderedVideo) -> np.ndarray:
    """The lower third of every frame, at half size, in RGB."""
    width, height = rendered.width // 2, rendered.height // 6
    out, _ = (
        ffmpeg.input(str(rendered.video))
        .video.filter("crop", "iw", "ih/3", 0, "2*ih/3")
        .filter("scale", width, height)
        .output("pipe:", format="rawvideo", pix_fmt="rgb24", fps_mode="passthrough")
        .run(cmd=str(ffmpeg_path()), capture_stdout=True, capture_stderr=True)
    )
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, height, width, 3)


def _highlighted(frames: np.ndarray) -> np.ndarray:
    """Per frame, the mean column of the highlight-coloured pixels (NaN when there are none)."""
    mask = np.abs(frames.astype(np.int16) - HIGHLIGHT).max(axis=3) < 40
    columns = np.arange(frames.shape[2])
    counts = mask.sum(axis=(1, 2))
    with np.errstate(invalid="ignore"):
        return (mask.sum(axis=1) * columns).sum(axis=1) / counts


def test_karaoke_highlights_each_word_within_100_ms_of_its_start(tmp_path: Path) -> None:
    rendered = _render("karaoke", tmp_path)
    positions = _highlighted(_caption_band(rendered))
    words = [word for event in rendered.captions for word in event.words]
    assert len(words) == sum(len(n.split()) for n in NARRATIONS)
    for word in words:
        frame = round(word.start * FPS)
        settled = frame + round(TOLERANCE_SECONDS * FPS)
        assert not np.isnan(positions[settled]), f"{word.word!r} is not highlighted"
    # The highlight moves at each word's start and nowhere else inside an event.
    moves = [f for f in range(1, len(positions)) if _moved(positions[f - 1], positions[f])]
    starts = [round(word.start * FPS) for word in words]
    for move in moves:
        nearest = min(abs(move - start) for start in starts)
        assert nearest <= TOLERANCE_SECONDS * FPS, f"the highlight moved at frame {move}"
    changed = {min(starts, key=lambda s: abs(s - move)) for move in moves}
    firsts = {round(event.words[0].start * FPS) for event in rendered.captions}
    assert set(starts) - firsts <= changed


def _moved(before: float, after: float) -> bool:
    return bool(np.isnan(before) != np.isnan(after) or abs(before - after) > 0.5)


def test_pop_shows_one_word_at_a_time(tmp_path: Path) -> None:
    rendered = _render("pop", tmp_path)
    text = rendered.ass.read_text(encoding="utf-8")
    dialogues = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    words = [word for event in rendered.captions for word in event.words]
    assert len(dialogues) == len(words)
    for dialogue, word in zip(dialogues, words, strict=True):
        assert dialogue.endswith(word.word)
        start = dialogue.split(",")[1]
        hours, minutes, seconds = start.split(":")
        shown = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        assert shown == pytest.approx(word.start, abs=TOLERANCE_SECONDS)
