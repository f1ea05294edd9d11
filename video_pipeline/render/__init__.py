"""The render engine: building and running the ffmpeg graph, captions, probing. No Dagster."""

from video_pipeline.render.captions import CaptionEvent
from video_pipeline.render.encode import ProgressCallback, StartCallback
from video_pipeline.render.engine import RenderedVideo, RenderOptions, SceneSpan, render_video
from video_pipeline.render.errors import RenderError
from video_pipeline.render.graph import EncoderSettings
from video_pipeline.render.probe import AudioLevel, audio_level, probe
from video_pipeline.render.verify import verify_render

__all__ = [
    "AudioLevel",
    "CaptionEvent",
    "EncoderSettings",
    "ProgressCallback",
    "RenderError",
    "RenderOptions",
    "RenderedVideo",
    "SceneSpan",
    "StartCallback",
    "audio_level",
    "probe",
    "render_video",
    "verify_render",
]
