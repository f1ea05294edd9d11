"""Each self-review rule fails on an input made to break it, naming the time in the video."""

from __future__ import annotations

from pathlib import Path

import ffmpeg
import pytest

from video_pipeline.models import SubtitleStyle
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import render_video, verify_render
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.review import ReviewInput, review
from video_pipeline_tests.render.conftest import make_script, settings_for

# A tone at about -14 LUFS with a true peak near -10 dBTP: passes every sound rule.
TONE = "0.3*sin(2*PI*440*t)"
PICTURE = "testsrc2=s=320x180:r=30:d=4"


def _clip(tmp_path: Path, picture: str = PICTURE, sound: str = TONE) -> Path:
    """A 4 s H.264/AAC file from an ffmpeg test picture and a sound expression."""
    out = tmp_path / "clip.mp4"
    video = ffmpeg.input(picture, f="lavfi")
    audio = ffmpeg.input(f"aevalsrc='{sound}':s=48000:d=4", f="lavfi")
    ffmpeg.output(video, audio, str(out), vcodec="libx264", acodec="aac", pix_fmt="yuv420p").run(
        cmd=str(ffmpeg_path()), quiet=True, overwrite_output=True
    )
    return out


def _review(clip: Path, *, motion: bool = False) -> list[str]:
    item = ReviewInput(video=clip, speech=(0.1, 3.9), motion=motion, captions=[], text_bottom=None)
    return review(item, ffmpeg_path())


def test_a_clean_clip_passes(tmp_path: Path) -> None:
    assert _review(_clip(tmp_path), motion=True) == []


def test_a_black_stretch_is_named(tmp_path: Path) -> None:
    black = f"{PICTURE},drawbox=c=black:t=fill:enable='between(t,1,2.5)'"
    problems = _review(_clip(tmp_path, picture=black), motion=True)
    assert problems == ["the picture is black from 0:01.0 to 0:02.5"]


def test_a_frozen_picture_fails_only_when_motion_was_asked(tmp_path: Path) -> None:
    clip = _clip(tmp_path, picture="color=c=teal:s=320x180:r=30:d=4")
    assert _review(clip, motion=False) == []
    [problem] = _review(clip, motion=True)
    assert problem == (
        "the picture is frozen from 0:00.0 to the end although camera motion was asked for"
    )


def test_a_silence_inside_the_narration_is_named(tmp_path: Path) -> None:
    gap = f"{TONE}*(lt(t,1)+gt(t,3))"
    [problem] = _review(_clip(tmp_path, sound=gap))
    assert problem.startswith("the narration is silent for 2.0 s from 0:01.0")


def test_clipped_audio_is_named(tmp_path: Path) -> None:
    problems = _review(_clip(tmp_path, sound="sin(2*PI*440*t)"))
    assert any(
        p.startswith("the audio clips (true peak above -1 dBTP) at 0:00.1") for p in problems
    )


@pytest.mark.parametrize("amplitude", ["0.05", "0.99"])
def test_loudness_off_the_target_is_named(amplitude: str, tmp_path: Path) -> None:
    sound = f"{amplitude}*sin(2*PI*440*t)"
    problems = _review(_clip(tmp_path, sound=sound))
    assert any(p.startswith("the loudness from 0:00 to the end is") for p in problems)
    assert any("outside -14 ± 1" for p in problems)


def test_captions_reaching_into_the_on_screen_text_are_named(tmp_path: Path) -> None:
    script = make_script("These captions are far too large for this frame.")
    settings = settings_for(
        script,
        aspect="16:9",
        resolution="720p",
        subtitle_style=SubtitleStyle(size_ratio=0.15, max_chars_per_line=12),
    )
    rendered = render_video(script, settings, EspeakSpeech(), TitleCardImages(), tmp_path)
    problems = verify_render(rendered, script, settings)
    assert problems
    assert all("into the on-screen text above y=504" in p for p in problems)
    assert problems[0].startswith("the caption at 0:00.")
