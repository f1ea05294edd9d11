"""Every aspect and resolution renders to a file that is what it claims to be."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import ffmpeg
import pytest

from video_pipeline.models import Aspect, Resolution
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import audio_level, render_video, verify_render
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.graph import LOUDNESS_TARGET_LUFS
from video_pipeline.render.probe import loudness, pixel_formats
from video_pipeline_tests.render.conftest import make_script, settings_for

EXPECTED_SIZES = {
    ("9:16", "720p"): (720, 1280),
    ("16:9", "720p"): (1280, 720),
    ("1:1", "720p"): (720, 720),
    ("9:16", "1080p"): (1080, 1920),
    ("16:9", "1080p"): (1920, 1080),
    ("1:1", "1080p"): (1080, 1080),
}


@pytest.mark.parametrize("resolution", get_args(Resolution))
@pytest.mark.parametrize("aspect", get_args(Aspect))
def test_every_format_renders_a_valid_video(
    aspect: Aspect,
    resolution: Resolution,
    speech: EspeakSpeech,
    images: TitleCardImages,
    tmp_path: Path,
) -> None:
    script = make_script("A short first scene.", "And a second one.")
    settings = settings_for(script, aspect=aspect, resolution=resolution)

    rendered = render_video(script, settings, speech, images, tmp_path)

    width, height = EXPECTED_SIZES[(aspect, resolution)]
    assert (rendered.width, rendered.height) == (width, height)
    [video] = rendered.probe.video
    assert (video.codec, video.width, video.height, video.fps) == ("h264", width, height, 30.0)
    assert pixel_formats(rendered.video) == ["yuv420p"]
    [audio] = rendered.probe.audio
    assert audio.codec == "aac"
    assert not audio_level(rendered.video).silent
    assert abs(loudness(rendered.video) - LOUDNESS_TARGET_LUFS) <= 1.0
    assert abs(rendered.probe.duration_seconds - rendered.narration_seconds) <= 0.5
    spoken = sum(span.spoken_seconds for span in rendered.scenes)
    assert spoken <= rendered.probe.duration_seconds
    assert verify_render(rendered, script, settings) == []
    assert rendered.thumbnail.stat().st_size > 0
    assert len(rendered.scene_frames) == len(script.scenes)
    assert all(path.suffix == ".jpg" and path.stat().st_size > 0 for path in rendered.scene_frames)


def test_background_music_is_mixed_in_stereo(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    music = tmp_path / "music's [tune].wav"
    ffmpeg.input("sine=frequency=220:duration=1.5", f="lavfi").output(
        str(music), ac=2
    ).overwrite_output().run(cmd=str(ffmpeg_path()), quiet=True)
    script = make_script("Music plays under this voice, from its first word to its very last.")
    settings = settings_for(script, aspect="1:1", resolution="720p")

    rendered = render_video(script, settings, speech, images, tmp_path / "out", music_path=music)

    assert verify_render(rendered, script, settings) == []
    [audio] = rendered.probe.audio
    assert audio.channels == 2
    assert abs(loudness(rendered.video) - LOUDNESS_TARGET_LUFS) <= 1.0
