"""Optional camera motion and crossfades: the picture moves within a scene and blends across
scene boundaries, and the video still checks out."""

from __future__ import annotations

import re
from pathlib import Path

import ffmpeg
import numpy as np
import pytest

from video_pipeline.layout import FrameSize, on_screen_text_area, safe_area
from video_pipeline.models import CameraMotion
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import RenderedVideo, render_video, verify_render
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline_tests.render.conftest import make_script, settings_for

NARRATIONS = ("The tide comes in twice a day.", "Boats wait for it at the pier.")
WIDTH, HEIGHT = 64, 36


def _render(
    tmp_path: Path, motion: CameraMotion, crossfade: float
) -> tuple[RenderedVideo, np.ndarray]:
    script = make_script(*NARRATIONS)
    settings = settings_for(
        script, aspect="16:9", resolution="720p", camera_motion=motion, crossfade_seconds=crossfade
    )
    rendered = render_video(script, settings, EspeakSpeech(), TitleCardImages(), tmp_path)
    assert verify_render(rendered, script, settings) == []
    return rendered, _upper_halves(rendered.video)


def _upper_halves(video: Path) -> np.ndarray:
    """Every frame's upper half (no captions there), small and grey, as floats."""
    out, _ = (
        ffmpeg.input(str(video))
        .video.filter("crop", "iw", "ih/2", 0, 0)
        .filter("scale", WIDTH, HEIGHT)
        .filter("format", "gray")
        .output("pipe:", format="rawvideo", fps_mode="passthrough")
        .run(cmd=str(ffmpeg_path()), capture_stdout=True, capture_stderr=True)
    )
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, HEIGHT, WIDTH).astype(float)


def _picture_types(video: Path) -> set[str]:
    """The picture types (I, P, B) of the video's frames, as the decoder reports them."""
    _, log = (
        ffmpeg.input(str(video))
        .video.filter("showinfo")
        .output("-", format="null")
        .run(cmd=str(ffmpeg_path()), capture_stdout=True, capture_stderr=True)
    )
    return set(re.findall(r" type:([IPB]) ", log.decode()))


def _change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


@pytest.mark.parametrize("motion", ["zoom", "pan"])
def test_camera_moves_within_each_scene(motion: CameraMotion, tmp_path: Path) -> None:
    still, still_frames = _render(tmp_path / "still", "none", 0.0)
    moving, moving_frames = _render(tmp_path / motion, motion, 0.0)

    # espeak's first synthesis in a process differs by a few samples: a frame at most.
    assert abs(len(moving_frames) - len(still_frames)) <= 1
    for span, still_span in zip(moving.scenes, still.scenes, strict=True):
        first, last = round(span.start * 30), round(span.end * 30) - 1
        still_last = round(still_span.end * 30) - 1
        assert _change(still_frames[first], still_frames[still_last]) < 0.5
        assert _change(moving_frames[first], moving_frames[last]) > 2.0
    if motion == "zoom":  # from the whole picture, whose text keeps clear of the zoom
        scene = moving.script.scenes[0]
        card = TitleCardImages().scene_image(
            scene, moving.script.title, moving.width, moving.height, tmp_path / "card.png", motion
        )
        assert _change(moving_frames[0], _upper_halves(card)[0]) < 1.0
    # Moving pictures are encoded without B-frames (less memory and CPU); stills keep them.
    assert _picture_types(moving.video) == {"I", "P"}
    assert _picture_types(still.video) == {"I", "P", "B"}


def test_crossfade_blends_one_scene_into_the_next(tmp_path: Path) -> None:
    rendered, frames = _render(tmp_path, "none", 0.5)

    cut = round(rendered.scenes[1].start * 30)
    before, after = frames[cut - 1], frames[cut + 30]
    halfway = frames[cut + 7]
    assert _change(before, after) > 10
    assert _change(halfway, (before + after) / 2) < 0.15 * _change(before, after)
    # The fade has started at the cut and is over half a second later.
    assert _change(frames[cut], before) < 0.1 * _change(before, after)
    assert _change(frames[cut + 15], after) < 0.05 * _change(before, after)


@pytest.mark.parametrize("motion", ["zoom", "pan"])
def test_text_on_the_pictures_stays_in_the_safe_area_while_the_camera_moves(
    motion: CameraMotion, tmp_path: Path
) -> None:
    """A square video's long title and on-screen text, set edge to edge of the text area:
    in every frame, its bright pixels (the cards' backgrounds are dark) are inside the
    frame's safe area."""
    script = make_script(
        "Harbours hold many boats in every season.",
        on_screen="HHHHHHHHHHHH HHHHHHHHHHHH",
    ).model_copy(update={"title": "Harbour Harbour Harbour Harbour Harbour Harbour Harbour"})
    settings = settings_for(script, aspect="1:1", resolution="720p", camera_motion=motion)
    rendered = render_video(script, settings, EspeakSpeech(), TitleCardImages(), tmp_path)
    size = FrameSize(rendered.width, rendered.height)
    safe, text = safe_area(size), on_screen_text_area(size)
    out, _ = (
        ffmpeg.input(str(rendered.video))
        .video.filter("crop", "iw", text.bottom, 0, 0)
        .filter("format", "gray")
        .output("pipe:", format="rawvideo", fps_mode="passthrough")
        .run(cmd=str(ffmpeg_path()), capture_stdout=True, capture_stderr=True)
    )
    frames = np.frombuffer(out, dtype=np.uint8).reshape(-1, text.bottom, size.width)
    columns = np.nonzero((frames > 200).any(axis=(0, 1)))[0]
    rows = np.nonzero((frames > 200).any(axis=(0, 2)))[0]
    assert columns.size, "no text was drawn"
    assert safe.left <= columns.min() and columns.max() < safe.right, (columns.min(), columns.max())
    assert safe.top <= rows.min(), rows.min()
