"""The ffmpeg commands of a render: captions drawn by libass into images, the loudness of the
soundtrack measured, then one command that composes and encodes the whole video.

Every file the graph reads has a fixed, safe name inside one render directory and ffmpeg runs
with that directory as its working directory, so neither file paths nor user text ever become
filter syntax.

Pictures are read through concat-demuxer scripts, by `movie` sources inside the graph, one
decoded frame per entry. Without camera motion or crossfades an entry is a segment, a stretch
during which neither the picture nor the caption changes: the caption is laid over it once and
the `fps` filter repeats the result by reference. One input per scene with a `loop` filter
each was measured to keep every decoded still in memory at once (about 11 MB per scene at
1080x1920, 1 GB for a 10-minute video); this keeps memory flat with length.

With motion or crossfades every frame differs. `zoompan` then turns each scene's still into
its frames one at a time, as the encoder asks for them; `fps` followed by a per-frame filter
was measured to queue up to a hundred full frames (300 MB at 1080x1920).

Captions are drawn by libass in their own short command, once per caption, into images of the
caption band that the encode overlays. libass caches every caption bitmap it has drawn; in
the encode that cache grew with the video's length (20 MB over 10 minutes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg
from ffmpeg.nodes import FilterableStream, FilterNode, Node

from video_pipeline.layout import FPS, MOTION_ZOOM, FrameSize
from video_pipeline.render.tracks import CaptionLayer, Pictures, Segment, Shot

AUDIO_SAMPLE_RATE = 48_000
LOUDNESS_TARGET_LUFS = -14.0
MUSIC_VOLUME = 0.3
# Linear sample peak ceiling, about -3.4 dBFS: AAC encoding and the peaks between samples
# were measured to add up to 1.5 dB, and the true peak must stay below -1 dBTP. At -2.9
# dBFS a narration now and then still came out above it (espeak's output for the same text
# differs a little with what the process synthesised before).
TRUE_PEAK_LIMIT = 0.68
# Bounds for the loudness gain, so near-silent input is not amplified into noise.
MIN_GAIN_DB, MAX_GAIN_DB = -30.0, 30.0

# `option` lines in a concat script need the demuxer's unsafe mode; the scripts only name
# files this module wrote, by fixed names, in the render directory.
CONCAT_OPTIONS = {"safe": "0"}

NARRATION = "narration.wav"
STILLS_LIST = "stills.ffconcat"
PREVIOUS_LIST = "previous.ffconcat"
CAPTIONS_LIST = "captions.ffconcat"
CANVAS_LIST = "canvas.ffconcat"
CANVAS = "canvas.png"
CAPTION_IMAGES = "caption_%05d.png"
CROSSFADE_COMMANDS = "crossfades.cmd"
SUBTITLES = "captions.ass"
FONTS_DIR = "fonts"


@dataclass(frozen=True)
class EncoderSettings:
    """Defaults measured on 2 cores at 1080x1920 (see BENCHMARKS.md).

    x264's frame threads and lookahead dominate memory; diamond motion search, subpel level 1
    and no macroblock tree cost little quality on still pictures and save about a fifth of the
    encode time. A fixed B-frame pattern (`b-adapt=0`), no scene-cut detection (every scene
    start is a forced keyframe) and no weighted prediction save about a fifth more. The fast
    AAC coder is four times faster than the default one.

    Pictures made by `zoompan` (camera motion or crossfades, where frames differ) are encoded
    with `moving_x264_params` and without the still-image tuning: without B-frames x264 holds
    fewer frames in flight (about 60 MB less at 1080x1920) and spends about 6 % less CPU, for
    about a tenth more bytes at the same CRF. They also get `moving_threads` frame threads:
    `zoompan` keeps the filter graph's thread busy, and one frame thread more than cores keeps
    both cores busy while it works (about 5 % faster, 14 MB more).
    """

    preset: str = "veryfast"
    crf: int = 23
    threads: int = 2
    lookahead_frames: int = 10
    x264_params: str = "me=dia:subme=1:mbtree=0:b-adapt=0:scenecut=0:weightp=0"
    moving_x264_params: str = "bframes=0"
    moving_threads: int = 3
    audio_bitrate_per_channel_kbps: int = 80

    def x264(self, moving: bool) -> dict[str, str | int]:
        """The x264 options of `build_command`'s output."""
        params = f"rc-lookahead={self.lookahead_frames}:sync-lookahead=0:{self.x264_params}"
        if moving:
            params += f":{self.moving_x264_params}"
            return {"threads": self.moving_threads, "x264-params": params}
        return {"threads": self.threads, "tune": "stillimage", "x264-params": params}


@dataclass(frozen=True)
class RenderPlan:
    size: FrameSize
    total_frames: int
    output: str = "video.mp4"
    pictures: Pictures = field(default_factory=Pictures)
    captions: CaptionLayer | None = None
    music: str | None = None
    """An ffmpeg input URL, e.g. `file:/abs/path.mp3`; looped to the video's length."""
    keyframes: Sequence[int] = ()
    """Frames that must be keyframes: scene starts (for seeking) and scene middles (stills)."""
    gain_db: float = 0.0
    """Applied to the soundtrack; see `loudness_command` and `gain_to_target`."""


def input_files(plan: RenderPlan) -> dict[str, str]:
    """The concat-demuxer scripts and the command file that `build_command` reads."""
    pictures = plan.pictures
    files = {STILLS_LIST: _concat_script(pictures.stills or pictures.shots)}
    if pictures.previous_shots:
        files[PREVIOUS_LIST] = _concat_script(pictures.previous_shots)
        # `sendcmd` moves the blend's opacity from 0 to 1 over each crossfade, frame by frame.
        files[CROSSFADE_COMMANDS] = "".join(
            f"{start / FPS:.6f}-{(start + count) / FPS:.6f} "
            "[expr] blend all_opacity 'clip(TI,0,1)';\n"
            for start, count in pictures.crossfades
        )
    if plan.captions:
        files[CAPTIONS_LIST] = _concat_script(plan.captions.segments)
    return files


def canvas_script(segments: Sequence[Segment]) -> str:
    """The blank canvas once per caption segment, for `caption_images_command`."""
    return _concat_script([Segment(CANVAS, s.frames) for s in segments])


def _concat_script(entries: Sequence[Segment | Shot]) -> str:
    """A concat-demuxer script showing each entry's image for its number of frames.

    Each image is opened at the video's frame rate: the image demuxer's default of 25 fps
    would round every start to 40 ms and show a caption or scene change a frame late. The
    last image is listed twice: the demuxer only applies a duration to an entry that has a
    successor, and the graph cuts the extra frame off.
    """
    lines = ["ffconcat version 1.0"]
    for entry in entries:
        lines += [*_image_entry(entry.image), f"duration {entry.frames / FPS:.6f}"]
    lines += _image_entry(entries[-1].image)
    return "\n".join(lines) + "\n"


def _image_entry(image: str) -> list[str]:
    return [f"file '{image}'", f"option framerate {FPS}"]


def caption_images_command(count: int, ffmpeg_exe: Path) -> list[str]:
    """libass draws `SUBTITLES` on a transparent canvas, once per caption segment.

    The images are premultiplied (libass blends onto transparent black) and the encode
    overlays them as such.
    """
    output = (
        ffmpeg.input(CANVAS_LIST, f="concat", threads=1, **CONCAT_OPTIONS)
        .video.filter("format", "rgba")
        .filter("ass", SUBTITLES, fontsdir=FONTS_DIR, alpha=1)
        .output(CAPTION_IMAGES, fps_mode="passthrough", vframes=count, start_number=0, threads=1)
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .overwrite_output()
    )
    args: list[str] = output.compile(cmd=str(ffmpeg_exe))
    return args


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
        pix_fmt="yuv420p",
        r=FPS,
        acodec="aac",
        aac_coder="fast",
        audio_bitrate=f"{encoder.audio_bitrate_per_channel_kbps * channels}k",
        ac=channels,
        ar=AUDIO_SAMPLE_RATE,
        movflags="+faststart",
        **encoder.x264(moving=bool(plan.pictures.shots)),
        **(keyframes if plan.keyframes else {}),
    ).global_args("-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats")
    args: list[str] = output.overwrite_output().compile(cmd=str(ffmpeg_exe))
    return args


def _video(plan: RenderPlan) -> Any:
    if not plan.pictures.shots:
        return (
            _with_captions(_stills(STILLS_LIST), plan)
            .filter("fps", FPS)
            .filter("trim", end_frame=plan.total_frames)
        )
    video = _moving_track(STILLS_LIST, plan.pictures.shots, plan.size)
    if plan.pictures.previous_shots:
        previous = _on_timeline(
            _moving_track(PREVIOUS_LIST, plan.pictures.previous_shots, plan.size),
            plan.pictures.previous_frames,
        )
        video = ffmpeg.filter(
            [video.filter("sendcmd", f=CROSSFADE_COMMANDS), previous],
            "blend",
            all_mode="normal",
            enable="+".join(
                f"between(n,{start},{start + count - 1})"
                for start, count in plan.pictures.crossfades
            ),
        )
    return _with_captions(video, plan).filter("trim", end_frame=plan.total_frames)


def _with_captions(video: Any, plan: RenderPlan) -> Any:
    if plan.captions is None:
        return video
    captions = _pictures(CAPTIONS_LIST)
    return ffmpeg.filter(
        [video, captions],
        "overlay",
        x=0,
        y=plan.captions.top,
        alpha="premultiplied",
        format="yuv420",
    )


def _moving_track(concat_script: str, shots: Sequence[Shot], size: FrameSize) -> Any:
    """Each shot's still turned into its frames by `zoompan`, the camera moving as it says.

    zoompan's `in` counts input frames (one per shot) and `on` output frames over the whole
    track, so each expression picks its shot's constants by `in` and its progress from `on`.
    """
    progress = [f"(on-{s.scene_start})/{s.scene_frames}" for s in shots]
    zoom = [
        f"1+{MOTION_ZOOM - 1:g}*{p}"
        if s.motion == "zoom"
        else str(MOTION_ZOOM if s.motion == "pan" else 1)
        for s, p in zip(shots, progress, strict=True)
    ]
    pan = [
        f"(iw-iw/zoom)*{'(1-' + p + ')' if s.reverse else p}"
        if s.motion == "pan"
        else "(iw-iw/zoom)/2"
        for s, p in zip(shots, progress, strict=True)
    ]
    return _stills(concat_script).filter(
        "zoompan",
        d=_by_shot([str(s.frames) for s in shots]),
        z=_by_shot(zoom),
        x=_by_shot(pan),
        y="(ih-ih/zoom)/2",
        s=f"{size.width}x{size.height}",
        fps=FPS,
    )


def _on_timeline(track: Any, placed: Sequence[tuple[int, int]]) -> Any:
    """A track filmed only in stretches, its frames moved to where the stretches are on the
    video's timeline; `fps` fills the gaps with references to the last frame, which costs
    nothing (the blend that reads them is off there)."""
    made = [sum(count for _, count in placed[:i]) for i in range(len(placed))]
    moves = [f"{start - first}+N" for (start, _), first in zip(placed, made, strict=True)]
    frame = _piecewise(moves, made, "N")
    return track.filter("setpts", f"({frame})/({FPS}*TB)").filter("fps", FPS)


def _stills(concat_script: str) -> Any:
    """Stills in the encoder's pixel format; PNGs decode as full-range RGB."""
    return _pictures(concat_script).filter("format", pix_fmts="yuv420p", color_ranges="tv")


def _pictures(concat_script: str) -> Any:
    """The images a concat-demuxer script lists, read by a `movie` source inside the graph.

    As an ordinary input, each image would be decoded ahead into ffmpeg's queues between
    threads: up to 48 MB of decoded 1080x1920 stills, and the caption images on top, which
    also let memory creep up with length. Inside the graph an image is decoded when the graph
    needs it, on one thread.
    """
    options = ":".join(f"{key}={value}" for key, value in CONCAT_OPTIONS.items())
    return _Source(
        "movie", filename=concat_script, f="concat", dec_threads=1, format_opts=options
    ).stream()


class _Source(FilterNode):
    """A filter without inputs, such as `movie`; ffmpeg-python models only filters with one."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        Node.__init__(self, None, name, {FilterableStream}, FilterableStream, 0, 0, kwargs=kwargs)


def _by_shot(values: Sequence[str]) -> str:
    """An expression worth `values[in]`, in zoompan, where `in` counts shots."""
    return _piecewise(values, range(len(values)), "in")


def _piecewise(values: Sequence[str], starts: Sequence[int], variable: str) -> str:
    """An expression worth `values[i]` from `variable` = `starts[i]` on: a balanced tree of
    `if`s, as deep as log2(len(values))."""
    if len(set(values)) == 1:
        return values[0]
    middle = len(values) // 2
    return (
        f"if(lt({variable},{starts[middle]}),"
        f"{_piecewise(values[:middle], starts[:middle], variable)},"
        f"{_piecewise(values[middle:], starts[middle:], variable)})"
    )


def loudness_command(plan: RenderPlan, ffmpeg_exe: Path) -> list[str]:
    """Measures the loudness (`ebur128`) of the audio the encode would make, writing nothing."""
    output = ffmpeg.output(_audio(plan).filter("ebur128", framelog="quiet"), "-", f="null")
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
        _soundtrack(plan)
        .filter("volume", f"{plan.gain_db:.2f}dB")
        .filter("alimiter", limit=TRUE_PEAK_LIMIT, level=0, latency=1)
    )


def _soundtrack(plan: RenderPlan) -> Any:
    """The narration track (see `narration.py`), music ducked under it."""
    voice = _audio_format(ffmpeg.input(NARRATION).audio, plan)
    return _duck_music_under(voice, plan) if plan.music else voice


def gain_to_target(
    integrated_lufs: float, applied_db: float = 0.0, lufs_per_db: float = 1.0
) -> float:
    """The gain that moves a soundtrack measured at `integrated_lufs`, with `applied_db` of
    gain already in, to the target, if each further dB of gain adds `lufs_per_db`."""
    wanted = applied_db + (LOUDNESS_TARGET_LUFS - integrated_lufs) / lufs_per_db
    return min(MAX_GAIN_DB, max(MIN_GAIN_DB, wanted))


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
