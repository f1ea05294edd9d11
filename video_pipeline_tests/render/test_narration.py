"""The narration track places each scene's speech at the scene's start, exactly."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from video_pipeline.render.errors import RenderError
from video_pipeline.render.narration import assemble_narration

RATE = 24_000


def _wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def test_each_clip_starts_its_scene_and_silence_fills_the_rest(tmp_path: Path) -> None:
    first = _wav(tmp_path / "a.wav", np.full(RATE // 2, 1000))  # 0.5 s
    second = _wav(tmp_path / "b.wav", np.full(RATE, -2000))  # 1 s, cut to its 0.9 s scene

    out = assemble_narration([(first, 31), (second, 27)], tmp_path / "track.wav")

    with wave.open(str(out), "rb") as track:
        assert (track.getframerate(), track.getnchannels()) == (RATE, 1)
        samples = np.frombuffer(track.readframes(track.getnframes()), "<i2")
    scene_two = 31 * RATE // 30
    assert len(samples) == 58 * RATE // 30
    assert (samples[: RATE // 2] == 1000).all()
    assert (samples[RATE // 2 : scene_two] == 0).all()
    assert (samples[scene_two:] == -2000).all()


def test_clips_in_different_formats_are_refused(tmp_path: Path) -> None:
    first = _wav(tmp_path / "a.wav", np.zeros(100))
    second = _wav(tmp_path / "b.wav", np.zeros(100), rate=22_050)

    with pytest.raises(RenderError, match=r"b\.wav is 22050 Hz"):
        assemble_narration([(first, 30), (second, 30)], tmp_path / "track.wav")
