"""The ffmpeg commands of a render: an audio-only pass that mixes and measures the soundtrack,
then one pass that draws stills and captions and encodes the whole video.

Every file the graph reads has a fixed, safe name inside one render directory and ffmpeg runs
with that directory as its working directory, so neither file paths nor user text ever become
filter syntax.

Stills are read through a single concat-demuxer input that yields one decoded frame per
segment; the `fps` filter then repeats that frame (by reference) until the next segment. A
segment is a stretch during which neither the picture nor the caption changes, so libass
draws each caption once instead of on every frame. One input per scene with a `loop` filter
each was measured to keep every decoded still in memory at once (about 11 MB per scene at
1080x1920, 1 GB for a 10-minute video); this keeps memory flat with length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from video_pipeline.render.layout import FPS, FrameSize

AUDIO_SAMPLE_RATE = 48_000
LOUDNESS_TARGET_LUFS = -14.0
MUSIC_VOLUME = 0.3
# Linear sample peak ceiling, about -1.5 dBFS.
TRUE_PEAK_LIMIT = 0.84
# Bounds for the loudness gain, so near-silent input is not amplified into noise.
MIN_GAIN_DB, MAX_GAIN_DB = -30.0, 30.0
STILLS_LIST = "stills.ffconcat"
SOUNDTRACK = "soundtrack.wav"


@dataclass(frozen=True)
class StillSegment:
    image: str
    """File name of a still of exactly the frame size, relative to the render directory."""
    frames: int


@dataclass(frozen=True)
class NarrationClip:
    audio: str
    """File name of the scene's narration, relative to the render directory."""
    frames: int
    """The scene's length: the narration is padded with silence to it."""


@dataclass(frozen=True)
class EncoderSettings:
    """Defaults measured on 2 cores at 1080x1920 (see BENCHMARKS.md).

    x264's frame threads and lookahead dominate memory; diamond motion search, subpel level 1
    and no macroblock tree cost little quality on still pictures and save about a fifth of the
    encode time. A fixed B-frame pattern (`b-adapt=0`), no scene-cut detection (every scene
    start is a forced keyframe) and no weighted prediction (stills never fade) save about a
    fifth more. The fast AAC coder is four times faster than the default one.
    """

    preset: str = "veryfast"
    crf: int = 23
    threads: int = 2
    lookahead_frames: int = 10
    x264_params: str = "me=dia:subme=1:mbtree=0:b-adapt=0:scenecut=0:weightp=0"
    audio_bitrate_per_channel_kbps: int = 80


@dataclass(frozen=True)
class RenderPlan:
    size: FrameSize
    stills: Sequence[StillSegment]
    narrations: Sequence[NarrationClip]
    output: str
    subtitles: str | None = None
    """ASS file name, rendered with the fonts in `fonts_dir`."""
    fonts_dir: str = "fonts"
    music: str | None = None
    """An ffmpeg input URL, e.g. `file:/abs/path.mp3`; looped to the video's length."""
    keyframes: Sequence[int] = ()
    """Frames that must be keyframes: scene starts (for seeking) and scene middles (stills)."""
    gain_db: float = 0.0
    """Applied to the soundtrack; see `soundtrack_command` and `gain_to_target`."""

    @property
    def total_frames(self) -> int:
        return sum(clip.frames for clip in self.narrations)


def stills_list(plan: RenderPlan) -> str:
    """The concat-demuxer script for `STILLS_LIST`.

    The last still is listed twice: the demuxer only applies a duration to an entry that has
    a successor, and the `trim` in the graph cuts the extra frame off.
    """
    lines = ["ffconcat version 1.0"]
    for segment in plan.stills:
        lines += [f"file '{segment.image}'", f"duration {segment.frames / FPS:.6f}"]
    lines.append(f"file '{plan.stills[-1].image}'")
    return "\n".join(lines) + "\n"


def build_command(
    plan: RenderPlan, ffmpeg_exe: Path, encoder: EncoderSettings | None = None
) -> list[str]:
    encoder = encoder or EncoderSettings()
    # Half a frame early: x264 makes the first frame at or after each time a keyframe.
    keyframes = {"force_key_frames": ",".join(f"{(f - 0.5) / FPS:.4f}" for f in plan.keyframes)}
    channels = _channels(plan)
    output = ffmpeg.output(
        _video(plan),
        _audio(plan),
        plan.output,
        vcodec="libx264",
        preset=encoder.preset,
        crf=encoder.crf,
        tune="stillimage",
        pix_fmt="yuv420p",
        r=FPS,
        threads=encoder.threads,
        acodec="aac",
        aac_coder="fast",
        audio_bitrate=f"{encoder.audio_bitrate_per_channel_kbps * channels}k",
        ac=channels,
        ar=AUDIO_SAMPLE_RATE,
        movflags="+faststart",
        **{
            "x264-params": f"rc-lookahead={encoder.lookahead_frames}:sync-lookahead=0:"
            + encoder.x264_params
        },
        **(keyframes if plan.keyframes else {}),
    ).global_args("-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats")
    args: list[str] = output.overwrite_output().compile(cmd=str(ffmpeg_exe))
    return args


def _video(plan: RenderPlan) -> Any:
    video = ffmpeg.input(STILLS_LIST, f="concat").video.filter("format", "yuv420p")
    if plan.subtitles:
        video = video.filter("ass", plan.subtitles, fontsdir=plan.fonts_dir)
    return video.filter("fps", FPS).filter("trim", end_frame=plan.total_frames)


def soundtrack_command(plan: RenderPlan, ffmpeg_exe: Path) -> list[str]:
    """Mixes narration (and music) into `SOUNDTRACK`, measuring its loudness on the way.

    A separate audio-only pass (a fraction of a second per minute): with one input per scene
    in the video pass, ffmpeg's memory grew with the number of scenes.
    """
    output = ffmpeg.output(
        _mix(plan).filter("ebur128", framelog="quiet"), SOUNDTRACK, acodec="pcm_f32le"
    )
    args: list[str] = (
        output.global_args("-hide_banner", "-nostdin", "-nostats")
        .overwrite_output()
        .compile(cmd=str(ffmpeg_exe))
    )
    return args


def _audio(plan: RenderPlan) -> Any:
    """The soundtrack brought to the loudness target by a fixed gain, peaks limited.

    A fixed gain from the measurement is used instead of `loudnorm`: loudnorm works at
    192 kHz and delays audio by 3 s, which at 1080x1920 cost about 4 s of CPU and 90 MB of
    queued video per minute of output.
    """
    return (
        ffmpeg.input(SOUNDTRACK)
        .audio.filter("volume", f"{plan.gain_db:.2f}dB")
        .filter("alimiter", limit=TRUE_PEAK_LIMIT, level=0, latency=1)
    )


def _mix(plan: RenderPlan) -> Any:
    """Each scene's narration padded with silence to the scene's length, joined, music under."""
    parts = [
        _audio_format(ffmpeg.input(clip.audio).audio, plan)
        .filter("apad", whole_len=_samples(clip.frames))
        .filter("atrim", end_sample=_samples(clip.frames))
        for clip in plan.narrations
    ]
    voice = ffmpeg.concat(*parts, v=0, a=1) if len(parts) > 1 else parts[0]
    if plan.music:
        voice = _duck_music_under(voice, plan)
    return voice


def gain_to_target(integrated_lufs: float) -> float:
    return min(MAX_GAIN_DB, max(MIN_GAIN_DB, LOUDNESS_TARGET_LUFS - integrated_lufs))


def _duck_music_under(voice: Any, plan: RenderPlan) -> Any:
    split = voice.filter_multi_output("asplit", 2)
    music = (
        _audio_format(ffmpeg.input(plan.music, stream_loop=-1).audio, plan)
        .filter("atrim", end_sample=_samples(plan.total_frames))
        .filter("volume", MUSIC_VOLUME)
    )
    ducked = ffmpeg.filter(
        [music, split[1]], "sidechaincompress", threshold=0.02, ratio=8, attack=20, release=400
    )
    return ffmpeg.filter([split[0], ducked], "amix", inputs=2, duration="first", normalize=0)


def _channels(plan: RenderPlan) -> int:
    """Narration is mono; only music makes stereo worth encoding."""
    return 2 if plan.music else 1


def _audio_format(stream: Any, plan: RenderPlan) -> Any:
    layout = "stereo" if _channels(plan) == 2 else "mono"
    return stream.filter("aresample", AUDIO_SAMPLE_RATE).filter(
        "aformat", sample_fmts="fltp", channel_layouts=layout
    )


def _samples(frames: int) -> int:
    return frames * AUDIO_SAMPLE_RATE // FPS
