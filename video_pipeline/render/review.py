"""Self-review of a rendered video before it is published: what a viewer would notice.

Black or frozen stretches (frozen only counts when the camera was asked to move), captions
reaching into the on-screen text, silences inside the narration, clipped audio and loudness
off the target. Each problem names where in the video it is. Measured on the file: one pass
over the audio (`ebur128` with true peak, `silencedetect`) and one over the pictures
(`blackdetect`, and `freezedetect` with motion), at a small size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from video_pipeline.render.encode import run_quietly
from video_pipeline.render.graph import LOUDNESS_TARGET_LUFS

LOUDNESS_TOLERANCE_LU = 1.0
TRUE_PEAK_CEILING_DBTP = -1.0
MAX_SILENCE_SECONDS = 1.5
SILENCE_LEVEL_DB = -50
MIN_BLACK_SECONDS = 0.5
MIN_FROZEN_SECONDS = 2.0
# Picture analysis runs at this width: black and frozen do not need detail.
_ANALYSIS_WIDTH = 180
_FREEZE_NOISE = 0.0005


@dataclass(frozen=True)
class CaptionReach:
    """How high a caption's drawn pixels reach in the frame while it shows."""

    start: float
    end: float
    top: int


@dataclass(frozen=True)
class ReviewInput:
    video: Path
    speech: tuple[float, float]
    """When the first word starts and the last word ends."""
    motion: bool
    """The camera was asked to move: a still stretch is then a fault."""
    captions: list[CaptionReach]
    text_bottom: int | None
    """The lowest row on-screen text may use; None when the pictures carry none."""


def review(item: ReviewInput, ffmpeg_exe: Path) -> list[str]:
    return [
        *_picture_problems(item, ffmpeg_exe),
        *_caption_problems(item),
        *_sound_problems(item, ffmpeg_exe),
    ]


def _picture_problems(item: ReviewInput, ffmpeg_exe: Path) -> list[str]:
    filters = [f"scale={_ANALYSIS_WIDTH}:-2", f"blackdetect=d={MIN_BLACK_SECONDS}:pix_th=0.08"]
    if item.motion:
        filters.append(f"freezedetect=n={_FREEZE_NOISE}:d={MIN_FROZEN_SECONDS}")
    decode = [] if item.motion else ["-skip_frame", "nokey"]
    command = [str(ffmpeg_exe), "-hide_banner", "-nostats", *decode, "-i", str(item.video)]
    command += ["-map", "0:v:0", "-vf", ",".join(filters), "-f", "null", "-"]
    log = run_quietly(command, item.video.parent, "check the pictures of the video")
    problems = [
        f"the picture is black from {_at(float(start))} to {_at(float(end))}"
        for start, end in re.findall(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)", log)
    ]
    starts = re.findall(r"freeze_start:\s*([\d.]+)", log)
    ends = [_at(float(end)) for end in re.findall(r"freeze_end:\s*([\d.]+)", log)]
    ends += ["the end"] * (len(starts) - len(ends))  # still frozen when the video ends
    problems += [
        f"the picture is frozen from {_at(float(start))} to {end} although camera motion "
        "was asked for"
        for start, end in zip(starts, ends, strict=True)
    ]
    return problems


def _caption_problems(item: ReviewInput) -> list[str]:
    if item.text_bottom is None:
        return []
    return [
        f"the caption at {_at(reach.start)} reaches up to y={reach.top}, into the on-screen "
        f"text above y={item.text_bottom}"
        for reach in item.captions
        if reach.top < item.text_bottom
    ]


def _sound_problems(item: ReviewInput, ffmpeg_exe: Path) -> list[str]:
    analysis = f"ebur128=peak=true,silencedetect=n={SILENCE_LEVEL_DB}dB:d={MAX_SILENCE_SECONDS}"
    command = [str(ffmpeg_exe), "-hide_banner", "-nostats", "-i", str(item.video)]
    command += ["-map", "0:a:0", "-af", analysis, "-f", "null", "-"]
    log = run_quietly(command, item.video.parent, "check the sound of the video")
    problems = []
    first, last = item.speech
    for start, end in _silences(log):
        if start > first and end < last:
            problems.append(
                f"the narration is silent for {end - start:.1f} s from {_at(start)} "
                f"(more than {MAX_SILENCE_SECONDS:g} s)"
            )
    clipped = [
        float(time)
        for time, peak in re.findall(r"t:\s*([\d.]+).*?FTPK:\s*(-?[\d.]+|-inf)", log)
        if peak != "-inf" and float(peak) > TRUE_PEAK_CEILING_DBTP
    ]
    if clipped:
        problems.append(
            f"the audio clips (true peak above {TRUE_PEAK_CEILING_DBTP:g} dBTP) at "
            + ", ".join(_at(t) for t in clipped[:5])
            + (f" and {len(clipped) - 5} more moments" if len(clipped) > 5 else "")
        )
    summary = log.rpartition("Integrated loudness:")[2]
    loudness = re.search(r"I:\s*(-?[\d.]+|-inf) LUFS", summary)
    level = float(loudness.group(1)) if loudness and loudness.group(1) != "-inf" else -70.0
    if abs(level - LOUDNESS_TARGET_LUFS) > LOUDNESS_TOLERANCE_LU:
        problems.append(
            f"the loudness from 0:00 to the end is {level:.1f} LUFS, outside "
            f"{LOUDNESS_TARGET_LUFS:g} ± {LOUDNESS_TOLERANCE_LU:g}"
        )
    return problems


def _silences(log: str) -> list[tuple[float, float]]:
    starts = [float(s) for s in re.findall(r"silence_start:\s*(-?[\d.]+)", log)]
    ends = [float(e) for e in re.findall(r"silence_end:\s*(-?[\d.]+)", log)]
    return list(zip(starts, ends, strict=False))


def _at(seconds: float) -> str:
    """A time in the video as a viewer reads it: 1:05.2."""
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"
