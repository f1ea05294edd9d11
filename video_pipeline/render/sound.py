"""The sound of a render: each scene spoken, the narration track assembled, its loudness
measured so the encode can bring it to the target with one fixed gain."""

from __future__ import annotations

import shutil
import wave
from dataclasses import replace
from pathlib import Path

import ffmpeg

from video_pipeline.layout import FPS
from video_pipeline.models import Script
from video_pipeline.providers.base import Narration, SpeechProvider, WordTiming
from video_pipeline.render.encode import run_quietly
from video_pipeline.render.graph import (
    LOUDNESS_TARGET_LUFS,
    RenderPlan,
    gain_to_target,
    loudness_command,
)
from video_pipeline.render.probe import integrated_loudness

LOUDNESS_MEASUREMENTS = 4
LOUDNESS_SETTLED_LU = 0.3


def speak_scenes(
    script: Script, voice: str, language: str, speech: SpeechProvider, workdir: Path
) -> list[Narration]:
    """One narration WAV per scene, at the fixed name `narration_NNN.wav` the render reads."""
    narrations = []
    for i, scene in enumerate(script.scenes):
        expected = workdir / f"narration_{i:03d}.wav"
        narration = speech.synthesize(scene.narration, voice, expected, language)
        copy_if_elsewhere(narration.audio_path, expected)
        narrations.append(narration.model_copy(update={"audio_path": expected}))
    return narrations


def copy_if_elsewhere(actual: Path, expected: Path) -> None:
    """The render reads inputs by fixed names; copy a file a provider wrote elsewhere."""
    if actual.resolve() != expected.resolve():
        shutil.copyfile(actual, expected)


def scene_frames(seconds: list[float]) -> list[int]:
    """Frame counts whose running total tracks the running total of `seconds` (no drift)."""
    counts, total_seconds, total_frames = [], 0.0, 0
    for length in seconds:
        total_seconds += length
        end_frame = max(total_frames + 1, round(total_seconds * FPS))
        counts.append(end_frame - total_frames)
        total_frames = end_frame
    return counts


def loudness_gain(soundtrack: RenderPlan, workdir: Path, ffmpeg_exe: Path) -> float:
    """Measured as is, then with the gain and the peak limiter applied, then corrected.

    Speech has high peaks, so the limiter takes off part of every extra dB of gain; each
    correction follows the slope seen between the last two measurements (each measurement
    about 0.2 s/min), until the loudness is within `LOUDNESS_SETTLED_LU` of the target.
    """
    gains = [0.0]
    levels = [integrated_loudness(loudness_command(soundtrack, ffmpeg_exe), workdir)]
    gain = gain_to_target(levels[0])
    for _ in range(LOUDNESS_MEASUREMENTS - 1):
        if gain <= 0:
            return gain
        command = loudness_command(replace(soundtrack, gain_db=gain), ffmpeg_exe)
        gains.append(gain)
        levels.append(integrated_loudness(command, workdir))
        if abs(levels[-1] - LOUDNESS_TARGET_LUFS) <= LOUDNESS_SETTLED_LU:
            return gain
        slope = (levels[-1] - levels[-2]) / (gains[-1] - gains[-2])
        gain = gain_to_target(
            levels[-1], applied_db=gains[-1], lufs_per_db=max(0.25, min(1.0, slope))
        )
    return gain


def retimed(
    narrations: list[Narration], tempo: float, workdir: Path, ffmpeg_exe: Path
) -> list[Narration]:
    """Each narration played `tempo` times as fast (pitch kept), its word times to match.

    One ffmpeg command with an input and an output per scene; `atempo` keeps the pitch.
    """
    if abs(tempo - 1) < 1e-3:
        return narrations
    stretched = [n.audio_path.with_name(n.audio_path.stem + "_tempo.wav") for n in narrations]
    outputs = [
        ffmpeg.input(str(n.audio_path))
        .audio.filter("atempo", tempo)
        .output(str(path), acodec="pcm_s16le")
        for n, path in zip(narrations, stretched, strict=True)
    ]
    command = (
        ffmpeg.merge_outputs(*outputs)
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .overwrite_output()
        .compile(cmd=str(ffmpeg_exe))
    )
    run_quietly(command, workdir, "change the tempo of the narration")
    return [
        _stretched(n, n.audio_path.with_name(n.audio_path.stem + "_tempo.wav")) for n in narrations
    ]


def _stretched(narration: Narration, audio: Path) -> Narration:
    with wave.open(str(audio), "rb") as clip:
        seconds = clip.getnframes() / clip.getframerate()
    scale = seconds / narration.duration_seconds
    words = [
        WordTiming(word=w.word, start=w.start * scale, end=w.end * scale) for w in narration.words
    ]
    return Narration(audio_path=audio, duration_seconds=seconds, words=words)
