"""Facts about a rendered file, measured with ffprobe and ffmpeg rather than assumed."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from video_pipeline.models import ProbeFacts, StreamFacts
from video_pipeline.render.binaries import ffmpeg_path, ffprobe_path
from video_pipeline.render.encode import run_quietly
from video_pipeline.render.errors import RenderError

# Below this peak level (dBFS) a track is treated as silence.
SILENCE_MAX_VOLUME_DB = -60.0


@dataclass(frozen=True)
class AudioLevel:
    mean_volume_db: float
    max_volume_db: float

    @property
    def silent(self) -> bool:
        return self.max_volume_db < SILENCE_MAX_VOLUME_DB


def probe(path: Path, ffprobe: Path | None = None) -> ProbeFacts:
    data = _ffprobe_json(path, ffprobe)
    streams: list[dict[str, Any]] = data.get("streams", [])
    fmt: dict[str, Any] = data.get("format", {})
    return ProbeFacts(
        duration_seconds=float(fmt.get("duration", 0.0)),
        size_bytes=int(fmt.get("size", path.stat().st_size)),
        bit_rate=int(fmt.get("bit_rate", 0)),
        video=[_video_facts(s) for s in streams if s.get("codec_type") == "video"],
        audio=[_audio_facts(s) for s in streams if s.get("codec_type") == "audio"],
    )


def pixel_formats(path: Path, ffprobe: Path | None = None) -> list[str]:
    """Pixel format of each video stream (ProbeFacts has no field for it)."""
    streams: list[dict[str, Any]] = _ffprobe_json(path, ffprobe).get("streams", [])
    return [s.get("pix_fmt", "") for s in streams if s.get("codec_type") == "video"]


def keyframe_times(path: Path, ffprobe: Path | None = None) -> list[float]:
    """Presentation times of the first video stream's keyframes, read from packets (no decoding)."""
    command = [str(ffprobe_path(ffprobe)), "-v", "error", "-select_streams", "v:0"]
    command += ["-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"ffprobe could not read {path.name}: {result.stderr.strip()[-2000:]}")
    rows = (line.split(",") for line in result.stdout.splitlines() if line.strip())
    return sorted(float(row[0]) for row in rows if len(row) > 1 and row[1].startswith("K"))


def _ffprobe_json(path: Path, ffprobe: Path | None) -> dict[str, Any]:
    command = [str(ffprobe_path(ffprobe)), "-v", "error", "-print_format", "json"]
    command += ["-show_format", "-show_streams", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RenderError(f"ffprobe could not read {path.name}: {result.stderr.strip()[-2000:]}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _video_facts(stream: dict[str, Any]) -> StreamFacts:
    rate = stream.get("avg_frame_rate") or stream.get("r_frame_rate") or "0/1"
    numerator, _, denominator = rate.partition("/")
    fps = int(numerator) / int(denominator) if denominator and int(denominator) else 0.0
    return StreamFacts(
        codec=stream.get("codec_name", "unknown"),
        width=stream.get("width"),
        height=stream.get("height"),
        fps=round(fps, 3),
    )


def _audio_facts(stream: dict[str, Any]) -> StreamFacts:
    return StreamFacts(
        codec=stream.get("codec_name", "unknown"),
        sample_rate=int(stream["sample_rate"]) if "sample_rate" in stream else None,
        channels=stream.get("channels"),
    )


def audio_level(path: Path, ffmpeg: Path | None = None) -> AudioLevel:
    """Mean and peak volume of the first audio track (decodes audio only)."""
    log = _analyse_audio(path, "volumedetect", ffmpeg)
    mean = re.search(r"mean_volume:\s*(-?[\d.]+|-inf) dB", log)
    peak = re.search(r"max_volume:\s*(-?[\d.]+|-inf) dB", log)
    if mean is None or peak is None:
        raise RenderError(f"could not measure the audio of {path.name}: {log.strip()[-2000:]}")
    return AudioLevel(mean_volume_db=float(mean.group(1)), max_volume_db=float(peak.group(1)))


def loudness(path: Path, ffmpeg: Path | None = None) -> float:
    """Integrated loudness of the first audio track, in LUFS (decodes audio only)."""
    return _integrated(_analyse_audio(path, "ebur128", ffmpeg))


def integrated_loudness(command: list[str], cwd: Path) -> float:
    """Run an ffmpeg command that ends in the `ebur128` filter; return its integrated LUFS."""
    return _integrated(run_quietly(command, cwd, "measure the loudness of the soundtrack"))


def _analyse_audio(path: Path, audio_filter: str, ffmpeg: Path | None) -> str:
    command = [str(ffmpeg_path(ffmpeg)), "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-map", "0:a:0", "-af", audio_filter, "-f", "null", "-"]
    return run_quietly(command, path.parent, f"measure the audio of {path.name}")


def _integrated(log: str) -> float:
    match = re.search(r"I:\s*(-?[\d.]+|-inf) LUFS", log.rpartition("Integrated loudness:")[2])
    if match is None:
        raise RenderError(f"ffmpeg reported no integrated loudness: {log[-2000:]}")
    return float(match.group(1))
