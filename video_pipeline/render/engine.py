"""Script in, checked MP4 out: narration, stills, captions, one ffmpeg pass, then probing."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import ffmpeg
from PIL import Image, ImageOps
from pydantic import BaseModel

from video_pipeline.models import ProbeFacts, ProjectSettings, Script
from video_pipeline.providers.base import ImageProvider, Narration, SpeechProvider, WordTiming
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.captions import (
    CaptionEvent,
    SceneWords,
    group_captions,
    write_ass,
    write_srt,
    write_vtt,
)
from video_pipeline.render.encode import ProgressCallback, StartCallback, run_ffmpeg, run_quietly
from video_pipeline.render.errors import RenderError
from video_pipeline.render.fonts import FONT_FILES
from video_pipeline.render.graph import (
    CANVAS,
    CANVAS_LIST,
    CAPTION_IMAGES,
    FONTS_DIR,
    NARRATION,
    SUBTITLES,
    EncoderSettings,
    RenderPlan,
    build_command,
    canvas_script,
    caption_images_command,
    gain_to_target,
    input_files,
    loudness_command,
)
from video_pipeline.render.layout import FPS, CaptionArea, FrameSize, caption_area, frame_size
from video_pipeline.render.narration import assemble_narration
from video_pipeline.render.probe import integrated_loudness, keyframe_times, probe
from video_pipeline.render.tracks import CaptionLayer, caption_cuts, caption_layer, picture_tracks

THUMBNAIL_SHORT_SIDE = 720


@dataclass(frozen=True)
class RenderOptions:
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    scene_pad_seconds: float = 0.4
    """Silence after each scene's narration before the next scene starts."""
    ffmpeg: Path | None = None
    ffprobe: Path | None = None


class SceneSpan(BaseModel):
    start: float
    end: float
    spoken_seconds: float


class RenderedVideo(BaseModel):
    """Local files of one render and what was measured about them."""

    video: Path
    thumbnail: Path
    srt: Path
    vtt: Path
    ass: Path
    scene_frames: list[Path]
    probe: ProbeFacts
    width: int
    height: int
    narration_seconds: float
    """Length of the narration track: every scene's speech plus its pad."""
    scenes: list[SceneSpan]
    captions: list[CaptionEvent]
    caption_count: int
    encode_seconds: float
    realtime_factor: float


def render_video(
    script: Script,
    settings: ProjectSettings,
    speech: SpeechProvider,
    images: ImageProvider,
    workdir: Path,
    music_path: Path | None = None,
    on_progress: ProgressCallback | None = None,
    *,
    on_start: StartCallback | None = None,
    cancel: threading.Event | None = None,
    options: RenderOptions | None = None,
) -> RenderedVideo:
    """Render `script` into `workdir` (created if missing; files in it are replaced).

    Each scene lasts as long as its narration plus a short pad, whatever the script estimated.
    `on_start` receives the encoding ffmpeg process and `cancel` stops it; either way the call
    raises RenderError with the tail of ffmpeg's log.
    """
    options = options or RenderOptions()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    size = frame_size(settings.aspect, settings.resolution)
    ffmpeg_exe = ffmpeg_path(options.ffmpeg)
    music = f"file:{music_path.resolve()}" if music_path else None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="narration") as pool:
        # Narration, its loudness and the caption images (ffmpeg children) are made while the
        # stills are drawn here; neither needs the other. The stills stay on this thread so
        # that their large, short-lived buffers go back to the main heap instead of a second
        # malloc arena.
        sound_job = pool.submit(
            _narrate_and_caption,
            script,
            settings,
            speech,
            workdir,
            size,
            music,
            ffmpeg_exe,
            options,
        )
        try:
            stills = _draw_stills(script, images, workdir, size)
        finally:
            sound_job.cancel()
        sound = sound_job.result()
    frames, spans = sound.frames, _spans(sound.frames, sound.narrations)
    plan = RenderPlan(
        size=size,
        total_frames=sum(frames),
        captions=sound.caption_layer,
        music=music,
        keyframes=sorted({round(t * FPS) for span in spans for t in (span.start, _middle(span))}),
        gain_db=sound.gain_db,
        pictures=picture_tracks(
            stills,
            frames,
            sound.caption_cuts,
            settings.camera_motion,
            round(settings.crossfade_seconds * FPS),
        ),
    )
    for name, text in input_files(plan).items():
        (workdir / name).write_text(text, encoding="utf-8")
    total_seconds = plan.total_frames / FPS
    encode_seconds = run_ffmpeg(
        build_command(plan, ffmpeg_exe, options.encoder),
        workdir,
        total_seconds,
        on_progress=on_progress,
        on_start=on_start,
        cancel=cancel,
    )
    video = workdir / plan.output
    scene_frames = _extract_stills(video, spans, size, ffmpeg_exe, options.ffprobe)
    return RenderedVideo(
        video=video,
        thumbnail=workdir / "thumbnail.jpg",
        srt=write_srt(sound.captions, workdir / "captions.srt"),
        vtt=write_vtt(sound.captions, workdir / "captions.vtt"),
        ass=workdir / SUBTITLES,
        scene_frames=scene_frames,
        probe=probe(video, options.ffprobe),
        width=size.width,
        height=size.height,
        narration_seconds=total_seconds,
        scenes=spans,
        captions=sound.captions,
        caption_count=len(sound.captions),
        encode_seconds=encode_seconds,
        realtime_factor=total_seconds / encode_seconds if encode_seconds > 0 else 0.0,
    )


@dataclass(frozen=True)
class _Sound:
    """Everything that follows from the narration."""

    narrations: list[Narration]
    frames: list[int]
    """Each scene's length in frames."""
    gain_db: float
    """Brings the soundtrack to the loudness target."""
    captions: list[CaptionEvent]
    caption_cuts: list[int]
    """Frames where the caption on screen changes, from 0 to the end of the video."""
    caption_layer: CaptionLayer


def _narrate_and_caption(
    script: Script,
    settings: ProjectSettings,
    speech: SpeechProvider,
    workdir: Path,
    size: FrameSize,
    music: str | None,
    ffmpeg_exe: Path,
    options: RenderOptions,
) -> _Sound:
    """Speak each scene, assemble and measure the narration track, draw the captions."""
    narrations = [
        _placed(
            speech.synthesize(
                scene.narration,
                settings.voice,
                workdir / f"narration_{i:03d}.wav",
                settings.language,
            ),
            workdir / f"narration_{i:03d}.wav",
        )
        for i, scene in enumerate(script.scenes)
    ]
    frames = _scene_frames([n.duration_seconds + options.scene_pad_seconds for n in narrations])
    assemble_narration(
        [(n.audio_path, count) for n, count in zip(narrations, frames, strict=True)],
        workdir / NARRATION,
    )
    gain_db = _loudness_gain(
        RenderPlan(size=size, total_frames=sum(frames), music=music), workdir, ffmpeg_exe
    )
    spans = _spans(frames, narrations)
    area = caption_area(settings.aspect, size, settings.subtitle_style)
    captions = _on_frame_grid(
        group_captions(
            [
                SceneWords(words=_shifted(n.words, span.start), start=span.start, end=span.end)
                for n, span in zip(narrations, spans, strict=True)
            ],
            area.chars_per_line,
        )
    )
    write_ass(captions, workdir / SUBTITLES, size, area, settings.subtitle_style)
    cuts = caption_cuts([(event.start, event.end) for event in captions], sum(frames), FPS)
    layer = _draw_captions(cuts, workdir, size, area, ffmpeg_exe)
    return _Sound(narrations, frames, gain_db, captions, cuts, layer)


def _loudness_gain(soundtrack: RenderPlan, workdir: Path, ffmpeg_exe: Path) -> float:
    """Measured as is, then with the gain and the peak limiter applied, then corrected.

    Speech has high peaks, so the limiter takes off part of every extra dB of gain; the
    correction follows the slope seen between the two measurements (each about 0.2 s/min).
    """
    loudness = integrated_loudness(loudness_command(soundtrack, ffmpeg_exe), workdir)
    gain = gain_to_target(loudness)
    if gain <= 0:
        return gain
    limited = integrated_loudness(
        loudness_command(replace(soundtrack, gain_db=gain), ffmpeg_exe), workdir
    )
    slope = max(0.25, min(1.0, (limited - loudness) / gain))
    return gain_to_target(limited, applied_db=gain, lufs_per_db=slope)


def _draw_captions(
    cuts: list[int],
    workdir: Path,
    size: FrameSize,
    area: CaptionArea,
    ffmpeg_exe: Path,
) -> CaptionLayer:
    """libass draws `SUBTITLES` once per caption segment into images of the caption band."""
    fonts_dir = workdir / FONTS_DIR
    fonts_dir.mkdir(exist_ok=True)
    for font in FONT_FILES:
        shutil.copyfile(font, fonts_dir / font.name)
    for stale in workdir.glob(CAPTION_IMAGES.replace("%05d", "*")):
        stale.unlink()
    Image.new("RGBA", (size.width, area.band_height)).save(workdir / CANVAS)
    layer = caption_layer(cuts, CAPTION_IMAGES, size.height - area.band_height)
    count = len(layer.segments)
    (workdir / CANVAS_LIST).write_text(canvas_script(layer.segments), encoding="utf-8")
    run_quietly(caption_images_command(count, ffmpeg_exe), workdir, "draw the captions")
    drawn = sum((workdir / segment.image).is_file() for segment in layer.segments)
    if drawn != count:
        raise RenderError(f"libass drew {drawn} of {count} caption images")
    return layer


def _draw_stills(
    script: Script, images: ImageProvider, workdir: Path, size: FrameSize
) -> list[str]:
    stills = []
    for i, scene in enumerate(script.scenes):
        image = workdir / f"scene_{i:03d}.png"
        written = images.scene_image(scene, script.title, size.width, size.height, image)
        stills.append(_fit_still(written, image, size))
    return stills


def _placed(narration: Narration, expected: Path) -> Narration:
    """The render reads inputs by fixed names; copy a file a provider wrote elsewhere."""
    _copy_if_elsewhere(narration.audio_path, expected)
    return narration.model_copy(update={"audio_path": expected})


def _copy_if_elsewhere(actual: Path, expected: Path) -> None:
    if actual.resolve() != expected.resolve():
        shutil.copyfile(actual, expected)


def _fit_still(written: Path, expected: Path, size: FrameSize) -> str:
    """Every still fed to ffmpeg has the frame's exact size and RGB pixels.

    The graph then needs no scaling, and the filter graph never reconfigures mid-stream.
    """
    with Image.open(written) as image:
        if image.size != (size.width, size.height) or image.mode != "RGB":
            fitted = ImageOps.fit(
                image.convert("RGB"), (size.width, size.height), Image.Resampling.LANCZOS
            )
            fitted.save(expected, format="PNG", compress_level=1)
        else:
            _copy_if_elsewhere(written, expected)
    return expected.name


def _on_frame_grid(events: list[CaptionEvent]) -> list[CaptionEvent]:
    """Caption times on frame boundaries, so each caption change starts a segment exactly."""
    return [
        event.model_copy(
            update={"start": round(event.start * FPS) / FPS, "end": round(event.end * FPS) / FPS}
        )
        for event in events
    ]


def _scene_frames(seconds: list[float]) -> list[int]:
    """Frame counts whose running total tracks the running total of `seconds` (no drift)."""
    counts, total_seconds, total_frames = [], 0.0, 0
    for length in seconds:
        total_seconds += length
        end_frame = max(total_frames + 1, round(total_seconds * FPS))
        counts.append(end_frame - total_frames)
        total_frames = end_frame
    return counts


def _spans(frames: list[int], narrations: list[Narration]) -> list[SceneSpan]:
    spans, start = [], 0
    for count, narration in zip(frames, narrations, strict=True):
        spans.append(
            SceneSpan(
                start=start / FPS,
                end=(start + count) / FPS,
                spoken_seconds=narration.duration_seconds,
            )
        )
        start += count
    return spans


def _shifted(words: list[WordTiming], offset: float) -> list[WordTiming]:
    return [WordTiming(word=w.word, start=w.start + offset, end=w.end + offset) for w in words]


def _extract_stills(
    video: Path, spans: list[SceneSpan], size: FrameSize, ffmpeg_exe: Path, ffprobe: Path | None
) -> list[Path]:
    """A JPEG from the middle of each scene, and a smaller copy of the first as thumbnail.

    Scene middles are forced keyframes, so only keyframes are decoded (one decoder, a few
    frames per scene, whatever the video's length); the ones that are not middles are dropped.
    """
    for stale in [*video.parent.glob("keyframe_*.jpg"), *video.parent.glob("scene_frame_*.jpg")]:
        stale.unlink()
    command = (
        ffmpeg.input(str(video), skip_frame="nokey")
        .video.output(
            str(video.parent / "keyframe_%05d.jpg"),
            fps_mode="passthrough",
            start_number=0,
            **{"q:v": 3},
        )
        .global_args("-hide_banner", "-nostdin", "-loglevel", "error")
        .overwrite_output()
    )
    try:
        command.run(cmd=str(ffmpeg_exe), capture_stdout=True, capture_stderr=True)
    except ffmpeg.Error as error:
        stderr = error.stderr.decode("utf-8", "replace")[-2000:]
        raise RenderError(f"could not extract scene frames from the video: {stderr}") from error
    keyframes = sorted(video.parent.glob("keyframe_*.jpg"))
    times = keyframe_times(video, ffprobe)
    if len(keyframes) != len(times):
        raise RenderError(f"decoded {len(keyframes)} keyframes, ffprobe lists {len(times)}")
    frames = []
    for index, span in enumerate(spans):
        nearest = min(range(len(times)), key=lambda k: abs(times[k] - _middle(span)))
        if abs(times[nearest] - _middle(span)) > 0.5 / FPS:
            raise RenderError(f"scene {index + 1} has no keyframe at its middle")
        frames.append(keyframes[nearest].replace(video.parent / f"scene_frame_{index:03d}.jpg"))
    for unused in video.parent.glob("keyframe_*.jpg"):
        unused.unlink()
    scale = min(1.0, THUMBNAIL_SHORT_SIDE / min(size.width, size.height))
    with Image.open(frames[0]) as first:
        thumbnail = first.resize((round(size.width * scale), round(size.height * scale)))
        thumbnail.save(video.parent / "thumbnail.jpg", format="JPEG", quality=88)
    return frames


def _middle(span: SceneSpan) -> float:
    """On the frame grid, so that it can be a keyframe."""
    return round((span.start + span.end) / 2 * FPS) / FPS
