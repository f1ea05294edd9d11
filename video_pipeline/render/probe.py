"""Facts about a rendered file, measured with ffmpeg rather than assumed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from video_pipeline.models import ProbeFacts, StreamFacts
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.encode import run_captured, run_quietly
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


def probe(path: Path, ffmpeg: Path | None = None) -> ProbeFacts:
    return inspect_media(path, ffmpeg).facts


def pixel_formats(path: Path, ffmpeg: Path | None = None) -> list[str]:
    """Pixel format of each video stream (ProbeFacts has no field for it)."""
    return inspect_media(path, ffmpeg).pixel_formats


def keyframe_times(path: Path, ffmpeg: Path | None = None) -> list[float]:
    """Presentation times of the first video stream's keyframes, read from packets (no decoding)."""
    return inspect_media(path, ffmpeg).keyframe_times


@dataclass
class _Stream:
    """One stream as ffmpeg's `framecrc` muxer lists it: a header, then a line per packet."""

    kind: str = ""
    codec: str = "unknown"
    time_base: Fraction = Fraction(1)
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    pixel_format: str = ""
    packets: int = 0
    first: int | None = None
    end: int = 0
    keyframes: list[int] = field(default_factory=list)

    @property
    def start_seconds(self) -> float:
        return float(max(self.first or 0, 0) * self.time_base)

    @property
    def end_seconds(self) -> float:
        return float(self.end * self.time_base)

    @property
    def keyframe_times(self) -> list[float]:
        return [float(pts * self.time_base) for pts in self.keyframes]

    @property
    def facts(self) -> StreamFacts:
        if self.kind == "audio":
            return StreamFacts(
                codec=self.codec, sample_rate=self.sample_rate, channels=self.channels
            )
        seconds = self.end_seconds - self.start_seconds
        return StreamFacts(
            codec=self.codec,
            width=self.width,
            height=self.height,
            fps=round(self.packets / seconds, 3) if seconds > 0 else 0.0,
        )


@dataclass(frozen=True)
class Media:
    """What one reading of a file tells: callers that need several facts read it once."""

    streams: list[_Stream]
    size_bytes: int

    @property
    def duration_seconds(self) -> float:
        if not self.streams:
            return 0.0
        start = min(s.start_seconds for s in self.streams)
        return round(max(s.end_seconds for s in self.streams) - start, 6)

    @property
    def facts(self) -> ProbeFacts:
        duration = self.duration_seconds
        return ProbeFacts(
            duration_seconds=duration,
            size_bytes=self.size_bytes,
            bit_rate=int(self.size_bytes * 8 / duration) if duration > 0 else 0,
            video=[s.facts for s in self.streams if s.kind == "video"],
            audio=[s.facts for s in self.streams if s.kind == "audio"],
        )

    @property
    def pixel_formats(self) -> list[str]:
        return [s.pixel_format for s in self.streams if s.kind == "video"]

    @property
    def keyframe_times(self) -> list[float]:
        video = [s for s in self.streams if s.kind == "video"]
        return sorted(video[0].keyframe_times) if video else []


# Channel counts of the layouts ffmpeg names (libavutil/channel_layout.c).
_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4}
_LAYOUT_CHANNELS |= {"5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}
_HEADER = re.compile(r"^#(\w+) (\d+): (.*)$")
_PIXEL_FORMAT = re.compile(r"Stream #0:(\d+)\S*: Video: [^,]+, (\w+)")


def inspect_media(path: Path, ffmpeg: Path | None = None) -> Media:
    """Every packet of every stream, copied to ffmpeg's `framecrc` listing: no decoding.

    ffmpeg itself does what ffprobe would (the image ships one media binary): the listing
    gives each stream's codec, time base, size or sample rate and each packet's timestamps,
    duration and key flag; the input's description gives the pixel format.
    """
    command = [str(ffmpeg_path(ffmpeg)), "-hide_banner", "-nostdin", "-nostats", "-copyts"]
    command += ["-i", str(path), "-map", "0", "-c", "copy", "-f", "framecrc", "-"]
    result = run_captured(command)
    if result.returncode != 0:
        raise RenderError(f"ffmpeg could not read {path.name}: {result.stderr.strip()[-2000:]}")
    streams: dict[int, _Stream] = {}
    for line in result.stdout.splitlines():
        if line.startswith("#"):
            header = _HEADER.match(line)
            if header:
                name, index, value = header.groups()
                _read_header(streams.setdefault(int(index), _Stream()), name, value)
        elif line.strip():
            _read_packet(streams, line)
    for index, pixel_format in _PIXEL_FORMAT.findall(result.stderr):
        if int(index) in streams:
            streams[int(index)].pixel_format = pixel_format
    return Media([streams[i] for i in sorted(streams)], path.stat().st_size)


def _read_header(stream: _Stream, name: str, value: str) -> None:
    if name == "tb":
        stream.time_base = Fraction(value.strip())
    elif name == "media_type":
        stream.kind = value.strip()
    elif name == "codec_id":
        stream.codec = value.strip()
    elif name == "dimensions":
        width, _, height = value.strip().partition("x")
        stream.width, stream.height = int(width), int(height)
    elif name == "sample_rate":
        stream.sample_rate = int(value)
    elif name == "channel_layout_name":
        layout = value.strip()
        counted = re.fullmatch(r"(\d+) channels.*", layout)
        stream.channels = int(counted.group(1)) if counted else _LAYOUT_CHANNELS.get(layout)


def _read_packet(streams: dict[int, _Stream], line: str) -> None:
    """`stream, dts, pts, duration, size, crc[, F=flags][, side data]`; a key packet has
    no `F=` field (the muxer writes the flags only when they differ from "key")."""
    fields = [f.strip() for f in line.split(",")]
    stream = streams.setdefault(int(fields[0]), _Stream())
    pts, duration = int(fields[2]), int(fields[3])
    stream.packets += 1
    stream.first = pts if stream.first is None else min(stream.first, pts)
    stream.end = max(stream.end, pts + duration)
    if not any(f.startswith("F=") for f in fields[6:]):
        stream.keyframes.append(pts)


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
