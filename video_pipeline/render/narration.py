"""The narration track: each scene's speech placed at the scene's start, silence in between.

Assembled here as plain PCM rather than in ffmpeg, so the encode reads one audio input
whatever the number of scenes (one input per scene made ffmpeg's memory grow with length).
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

from video_pipeline.layout import FPS
from video_pipeline.render.errors import RenderError


def assemble_narration(clips: Sequence[tuple[Path, int]], out: Path) -> Path:
    """Write `out`: each (16-bit PCM WAV, scene frame count) padded or cut to its scene.

    Scene boundaries are computed on the running frame total, so rounding never drifts.
    """
    params: wave._wave_params | None = None
    with wave.open(str(out), "wb") as track:
        written = frames_so_far = 0
        for path, frames in clips:
            with wave.open(str(path), "rb") as clip:
                if params is None:
                    params = clip.getparams()
                    track.setparams(params)
                _check_same_format(path, clip.getparams(), params)
                frames_so_far += frames
                end = frames_so_far * params.framerate // FPS
                samples = clip.readframes(end - written)
            silence = (end - written) * params.sampwidth * params.nchannels - len(samples)
            track.writeframes(samples + bytes(silence))
            written = end
    return out


def _check_same_format(path: Path, actual: wave._wave_params, first: wave._wave_params) -> None:
    if actual.sampwidth != 2:
        raise RenderError(f"narration {path.name} is not 16-bit PCM")
    if (actual.framerate, actual.nchannels) != (first.framerate, first.nchannels):
        raise RenderError(
            f"narration {path.name} is {actual.framerate} Hz x {actual.nchannels} channels, "
            f"the first scene's is {first.framerate} Hz x {first.nchannels}"
        )
