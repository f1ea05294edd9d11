"""Script in, checked MP4 out: narration, stills, captions, one ffmpeg pass, then probing.

This module orchestrates; `sound` makes the audio, `stills` the pictures, `graph` the ffmpeg
commands and `tracks` what is on screen when.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from video_pipeline.layout import FPS, FrameSize, caption_area, frame_size
from video_pipeline.models import PACE_TOLERANCE, ProbeFacts, ProjectSettings, Script
from video_pipeline.providers.base import ImageProvider, Narration, SpeechProvider, WordTiming
from video_pipeline.render.ass import write_ass
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.captions import (
    CaptionEvent,
    LineFit,
    SceneWords,
    group_captions,
    write_srt,
    write_vtt,
)
from video_pipeline.render.encode import ProgressCallback, StartCallback, run_ffmpeg
from video_pipeline.render.graph import (
    NARRATION,
    SUBTITLES,
    EncoderSettings,
    RenderPlan,
    build_command,
    input_files,
)
from video_pipeline.render.length import LengthFit, SceneSpeech, fit_length
from video_pipeline.render.narration import assemble_narration
from video_pipeline.render.probe import inspect_media
from video_pipeline.render.review import CaptionReach
from video_pipeline.render.sound import loudness_gain, retimed, scene_frames, speak_scenes
from video_pipeline.render.stills import caption_reach, draw_captions, draw_stills, extract_stills
from video_pipeline.render.tracks import CaptionLayer, caption_cuts, picture_tracks
from video_pipeline.text.words import words


@dataclass(frozen=True)
class RenderOptions:
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    ffmpeg: Path | None = None


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
    script: Script
    """The script as spoken: scenes dropped to fit the length asked for are not in it."""
    captions: list[CaptionEvent]
    caption_reach: list[CaptionReach]
    """How high the drawn captions reach, for the self-review."""
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

    The narration is measured and fitted to the length asked for (see `length.py`); each
    scene lasts as long as its narration plus a pause.
    `on_start` receives the encoding ffmpeg process and `cancel` stops it; either way the call
    raises RenderError with the tail of ffmpeg's log.
    """
    options = options or RenderOptions()
    job = _Job(
        workdir=workdir.resolve(),
        size=frame_size(settings.aspect, settings.resolution),
        ffmpeg_exe=ffmpeg_path(options.ffmpeg),
        music=f"file:{music_path.resolve()}" if music_path else None,
        options=options,
    )
    job.workdir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="narration") as pool:
        # Narration, its loudness and the caption images (ffmpeg children) are made while the
        # stills are drawn here; neither needs the other. The stills stay on this thread so
        # that their large, short-lived buffers go back to the main heap instead of a second
        # malloc arena.
        sound_job = pool.submit(_narrate_and_caption, script, settings, speech, job)
        try:
            stills = draw_stills(script, images, job.workdir, job.size, settings.camera_motion)
        finally:
            sound_job.cancel()
        sound = sound_job.result()
    plan = _plan(job, sound, stills, settings)
    for name, text in input_files(plan).items():
        (job.workdir / name).write_text(text, encoding="utf-8")
    encode_seconds = run_ffmpeg(
        build_command(plan, job.ffmpeg_exe, options.encoder),
        job.workdir,
        plan.total_frames / FPS,
        on_progress=on_progress,
        on_start=on_start,
        cancel=cancel,
    )
    return _result(job, plan, sound, encode_seconds)


@dataclass(frozen=True)
class _Job:
    """Where and with what one render runs."""

    workdir: Path
    size: FrameSize
    ffmpeg_exe: Path
    music: str | None
    options: RenderOptions


@dataclass(frozen=True)
class _Sound:
    """Everything that follows from the narration."""

    script: Script
    """The script as spoken: without the scenes dropped to fit the length."""
    kept: tuple[int, ...]
    """Indexes of the scenes kept in the script as written."""
    narrations: list[Narration]
    frames: list[int]
    """Each scene's length in frames."""
    gain_db: float
    """Brings the soundtrack to the loudness target."""
    captions: list[CaptionEvent]
    caption_cuts: list[int]
    """Frames where the caption on screen changes, from 0 to the end of the video."""
    caption_layer: CaptionLayer

    @property
    def spans(self) -> list[SceneSpan]:
        return _spans(self.frames, self.narrations)


def _narrate_and_caption(
    script: Script, settings: ProjectSettings, speech: SpeechProvider, job: _Job
) -> _Sound:
    """Speak each scene, assemble and measure the narration track, draw the captions."""
    narrations, fit = _fitted_narration(script, settings, speech, job)
    frames = scene_frames(fit.scene_seconds([n.duration_seconds for n in narrations]))
    assemble_narration(
        [(n.audio_path, count) for n, count in zip(narrations, frames, strict=True)],
        job.workdir / NARRATION,
    )
    soundtrack = RenderPlan(size=job.size, total_frames=sum(frames), music=job.music)
    gain_db = loudness_gain(soundtrack, job.workdir, job.ffmpeg_exe)
    spans = _spans(frames, narrations)
    area = caption_area(job.size, settings.subtitle_style)
    captions = _on_frame_grid(
        group_captions(
            [
                SceneWords(words=_shifted(n.words, span.start), start=span.start, end=span.end)
                for n, span in zip(narrations, spans, strict=True)
            ],
            LineFit.of(area),
        )
    )
    shown = write_ass(captions, job.workdir / SUBTITLES, job.size, area, settings.subtitle_style)
    cuts = caption_cuts(shown, sum(frames), FPS)
    texts = [event.text for event in captions]
    layer = draw_captions(texts, cuts, job.workdir, job.size, area, job.ffmpeg_exe)
    spoken = script.model_copy(update={"scenes": [script.scenes[i] for i in fit.kept]})
    return _Sound(spoken, fit.kept, narrations, frames, gain_db, captions, cuts, layer)


def _fitted_narration(
    script: Script, settings: ProjectSettings, speech: SpeechProvider, job: _Job
) -> tuple[list[Narration], LengthFit]:
    """The narration of the scenes kept, at the tempo that fits the length asked for."""
    narrations = speak_scenes(script, settings.voice, settings.language, speech, job.workdir)
    fit = fit_length(
        [
            SceneSpeech(
                n.duration_seconds,
                max(1, len(words(scene.narration))),
                droppable=scene.kind == "body",
            )
            for n, scene in zip(narrations, script.scenes, strict=True)
        ],
        settings.duration_seconds,
        script.words_per_minute,
        PACE_TOLERANCE,
    )
    kept = [narrations[i] for i in fit.kept]
    return retimed(kept, fit.tempo, job.workdir, job.ffmpeg_exe), fit


def _plan(job: _Job, sound: _Sound, stills: list[str], settings: ProjectSettings) -> RenderPlan:
    spans = sound.spans
    return RenderPlan(
        size=job.size,
        total_frames=sum(sound.frames),
        captions=sound.caption_layer,
        music=job.music,
        keyframes=sorted({round(t * FPS) for span in spans for t in (span.start, _middle(span))}),
        gain_db=sound.gain_db,
        pictures=picture_tracks(
            [stills[i] for i in sound.kept],
            sound.frames,
            sound.caption_cuts,
            settings.camera_motion,
            round(settings.crossfade_seconds * FPS),
        ),
    )


def _result(job: _Job, plan: RenderPlan, sound: _Sound, encode_seconds: float) -> RenderedVideo:
    video = job.workdir / plan.output
    media = inspect_media(video, job.ffmpeg_exe)
    spans = sound.spans
    total_seconds = plan.total_frames / FPS
    return RenderedVideo(
        video=video,
        thumbnail=job.workdir / "thumbnail.jpg",
        srt=write_srt(sound.captions, job.workdir / "captions.srt"),
        vtt=write_vtt(sound.captions, job.workdir / "captions.vtt"),
        ass=job.workdir / SUBTITLES,
        scene_frames=extract_stills(
            video, [_middle(s) for s in spans], media.keyframe_times, job.size, job.ffmpeg_exe
        ),
        probe=media.facts,
        width=job.size.width,
        height=job.size.height,
        narration_seconds=total_seconds,
        scenes=spans,
        script=sound.script,
        captions=sound.captions,
        caption_reach=caption_reach(sound.caption_layer, sound.caption_cuts, job.workdir),
        caption_count=len(sound.captions),
        encode_seconds=encode_seconds,
        realtime_factor=total_seconds / encode_seconds if encode_seconds > 0 else 0.0,
    )


def _on_frame_grid(events: list[CaptionEvent]) -> list[CaptionEvent]:
    """Caption and word times on frame boundaries, so each change starts a segment exactly."""
    return [
        event.model_copy(
            update={
                "start": _snapped(event.start),
                "end": _snapped(event.end),
                "words": [
                    w.model_copy(update={"start": _snapped(w.start), "end": _snapped(w.end)})
                    for w in event.words
                ],
            }
        )
        for event in events
    ]


def _snapped(seconds: float) -> float:
    return round(seconds * FPS) / FPS


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


def _middle(span: SceneSpan) -> float:
    """On the frame grid, so that it can be a keyframe."""
    return round((span.start + span.end) / 2 * FPS) / FPS
