"""Checks a rendered video against what it should be; the result feeds a blocking check."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from video_pipeline.fonts import describe_missing
from video_pipeline.layout import FPS, FrameSize, frame_size, on_screen_text_area
from video_pipeline.models import ProjectSettings, Script
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.engine import RenderedVideo
from video_pipeline.render.errors import RenderError
from video_pipeline.render.length import length_problem
from video_pipeline.render.probe import audio_level, inspect_media
from video_pipeline.render.review import ReviewInput, review

DURATION_TOLERANCE_SECONDS = 0.5
# Caption times are snapped to frames; allow that much slack at scene edges.
CAPTION_SLACK_SECONDS = 1 / FPS


def verify_render(
    rendered: RenderedVideo,
    script: Script,
    settings: ProjectSettings,
    ffmpeg: Path | None = None,
) -> list[str]:
    """Human-readable problems with the file on disk; an empty list means it is fine.

    The video file is probed again rather than trusting what the render recorded.
    """
    try:
        media = inspect_media(rendered.video, ffmpeg)
        facts, formats = media.facts, media.pixel_formats
    except RenderError as error:
        return [str(error)]
    problems: list[str] = []
    expected = frame_size(settings.aspect, settings.resolution)
    if len(facts.video) != 1:
        problems.append(f"expected exactly one video stream, found {len(facts.video)}")
    if len(facts.audio) != 1:
        problems.append(f"expected exactly one audio stream, found {len(facts.audio)}")
    for stream, pixel_format in zip(facts.video, formats, strict=False):
        if stream.codec != "h264" or pixel_format != "yuv420p":
            problems.append(f"video is {stream.codec}/{pixel_format}, expected h264/yuv420p")
        if (stream.width, stream.height) != (expected.width, expected.height):
            problems.append(
                f"video is {stream.width}x{stream.height}, expected "
                f"{expected.width}x{expected.height} for {settings.aspect} {settings.resolution}"
            )
        if stream.fps is None or abs(stream.fps - FPS) > 0.01:
            problems.append(f"video runs at {stream.fps} fps, expected {FPS}")
    for stream in facts.audio:
        if stream.codec != "aac":
            problems.append(f"audio is {stream.codec}, expected aac")
    if facts.audio:
        level = audio_level(rendered.video, ffmpeg)
        if level.silent:
            problems.append(f"the audio is silent (peak {level.max_volume_db} dBFS)")
    missed = length_problem(facts.duration_seconds, settings.duration_seconds)
    if missed:
        problems.append(missed)
    drift = facts.duration_seconds - rendered.narration_seconds
    if abs(drift) > DURATION_TOLERANCE_SECONDS:
        problems.append(
            f"video lasts {facts.duration_seconds:.2f} s but the narration "
            f"{rendered.narration_seconds:.2f} s"
        )
    if any(scene not in script.scenes for scene in rendered.script.scenes):
        problems.append("the video speaks scenes that are not in the script")
    problems += _caption_problems(rendered, rendered.script, facts.duration_seconds)
    shown = [e.text for e in rendered.captions] + [s.on_screen_text for s in script.scenes]
    unshowable = describe_missing(" ".join([script.title, *shown]))
    if unshowable:
        problems.append(
            f"no font here has {unshowable}: the video would show empty boxes for them; "
            "take them out of the title or the material"
        )
    if facts.video and facts.audio:
        problems += review(_review_input(rendered, settings), ffmpeg_path(ffmpeg))
    return problems


def _review_input(rendered: RenderedVideo, settings: ProjectSettings) -> ReviewInput:
    words = [word for event in rendered.captions for word in event.words]
    has_text = any(scene.on_screen_text.strip() for scene in rendered.script.scenes)
    area = on_screen_text_area(FrameSize(rendered.width, rendered.height))
    return ReviewInput(
        video=rendered.video,
        speech=(words[0].start, words[-1].end) if words else (0.0, 0.0),
        motion=settings.camera_motion != "none",
        captions=rendered.caption_reach,
        text_bottom=area.bottom if has_text else None,
    )


def _caption_problems(rendered: RenderedVideo, script: Script, duration: float) -> list[str]:
    problems: list[str] = []
    events = rendered.captions
    if rendered.caption_count != len(events):
        problems.append(
            f"caption_count is {rendered.caption_count} but there are {len(events)} captions"
        )
    srt_cues = rendered.srt.read_text(encoding="utf-8").count(" --> ")
    if srt_cues != len(events):
        problems.append(f"the SRT file has {srt_cues} cues for {len(events)} captions")
    if _letters(" ".join(e.text for e in events)) != _letters(
        " ".join(s.narration for s in script.scenes)
    ):
        problems.append("the captions do not spell out the script's narration")
    for previous, event in pairwise(events):
        if event.start < previous.end - 1e-6:
            problems.append(f"caption {event.text!r} starts before the previous one ends")
    for event in events:
        if event.end <= event.start or event.start < 0 or event.end > duration + 1e-3:
            problems.append(
                f"caption {event.text!r} has an impossible time "
                f"{event.start:.2f}-{event.end:.2f} s in a {duration:.2f} s video"
            )
    if len(rendered.scenes) != len(script.scenes):
        problems.append(
            f"{len(rendered.scenes)} scenes rendered, the script has {len(script.scenes)}"
        )
    for index, span in enumerate(rendered.scenes):
        inside = [
            e
            for e in events
            if span.start - CAPTION_SLACK_SECONDS <= e.start < span.end + CAPTION_SLACK_SECONDS
        ]
        if not inside:
            problems.append(f"scene {index + 1} has no caption")
    return problems


def _letters(text: str) -> str:
    """Letters and digits only, case-folded: what must survive any re-tokenisation."""
    return "".join(char for char in text.casefold() if char.isalnum())
