"""The render stage: one ffmpeg pass to an MP4, artifacts to S3, facts to Postgres."""

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    DataVersion,
    MetadataValue,
    Output,
)
from pydantic import BaseModel

from video_pipeline.assets.preview import preview_markdown
from video_pipeline.assets.stage_asset import stage_asset
from video_pipeline.assets.tracking import StageRun, tracked_stage
from video_pipeline.models import Project, ProjectSettings, RenderResult, Script
from video_pipeline.render.engine import RenderedVideo, RenderOptions, render_video
from video_pipeline.render.verify import verify_render
from video_pipeline.resources import (
    DatabaseResource,
    IngestResource,
    ObjectStoreResource,
    ProvidersResource,
    RenderResource,
    StageLimitsResource,
)
from video_pipeline.stages.sources import music_file
from video_pipeline.storage.object_store import ObjectStore, key_from_uri
from video_pipeline.storage.renders import current_render, save_render
from video_pipeline.storage.stage_outputs import content_hash

# Bump when a change to the render engine changes its output: stored renders are redone.
RENDER_CODE_VERSION = "4"


class RenderInputs(BaseModel):
    script: Script
    settings: ProjectSettings
    music: str | None
    provider: str
    preset: str
    code_version: str


def artifact_keys(project_id: str, scene_count: int, rejected: bool = False) -> dict[str, str]:
    """Where a render's files go: in place, or, for a render that failed its check, under
    `rejected/` beside that place (kept to look at, never taken for the project's video)."""
    prefix = f"projects/{project_id}/" + ("rejected/" if rejected else "")
    keys = {
        "video": prefix + "video.mp4",
        "thumbnail": prefix + "thumbnail.jpg",
        "srt": prefix + "captions.srt",
        "vtt": prefix + "captions.vtt",
    }
    keys.update({f"frame{i}": f"{prefix}frames/scene-{i:02d}.jpg" for i in range(scene_count)})
    return keys


def publish(
    store: ObjectStore, project_id: str, run_id: str, rendered: RenderedVideo, rejected: bool
) -> dict[str, str]:
    """Upload every artifact beside the published ones, copy them into place, then remove
    what a previous render left that this one lacks (the uploads included).

    The uploads take the time; a run canceled or killed during them leaves the previous
    video, captions and frames as they were, not a mix of two renders. A `rejected` render
    goes under `rejected/`, and the video it replaces, made from older inputs, is removed."""
    keys = artifact_keys(project_id, len(rendered.scene_frames), rejected)
    files: dict[str, Path] = {
        "video": rendered.video,
        "thumbnail": rendered.thumbnail,
        "srt": rendered.srt,
        "vtt": rendered.vtt,
    }
    files.update({f"frame{i}": frame for i, frame in enumerate(rendered.scene_frames)})
    store.ensure_bucket()
    staging = f"projects/{project_id}/staging/{run_id}/"
    for name, path in files.items():
        store.upload_file(path, staging + name)
    uris = {name: store.copy_within(staging + name, keys[name]) for name in files}
    current = set(keys.values())
    stale = [k for k in store.list_keys(f"projects/{project_id}/") if k not in current]
    store.delete_keys(stale)
    return uris


@stage_asset(
    group="render",
    kinds={"ffmpeg", "s3", "postgres"},
    code_version=RENDER_CODE_VERSION,
    description="Narration, a visual per scene (optionally with a slow zoom or pan and "
    "crossfades) and word-synced captions drawn by libass, composed and encoded by one ffmpeg "
    "run to H.264/AAC MP4; mp4, thumbnail, SRT, VTT and scene frames go to S3.",
    checks=[("playable", True)],
    # Render ends the project `done`: every other stage of the run must have ended before,
    # also where steps run side by side (Celery workers).
    after=["embeddings"],
)
def render(
    context: AssetExecutionContext,
    script: Script,
    db: DatabaseResource,
    object_store: ObjectStoreResource,
    providers: ProvidersResource,
    render_engine: RenderResource,
    stage_limits: StageLimitsResource,
    ingest: IngestResource,
) -> Iterator[Output[RenderResult] | AssetCheckResult]:
    store = object_store
    with tracked_stage(context, db.engine, providers, stage_limits, "render") as run:
        project_id = run.project.id
        music = music_file(run.project.music, ingest) if run.project.music else None
        input_hash = render_input_hash(script, run.project, providers.kind, render_engine, music)
        result = current_render(db.engine, project_id, input_hash)
        reused = result is not None and _published(store, result)
        if result is None or not reused:
            result, problems = _render_and_publish(
                context, script, run, store, render_engine, music
            )
            try:
                save_render(db.engine, project_id, result, None if problems else input_hash)
            except sa.exc.IntegrityError:
                # The project was deleted while it rendered: take back what was published.
                store.delete_keys(store.list_keys(f"projects/{project_id}/"))
                raise
        else:
            problems = []
            context.log.info("script and settings unchanged since the last render: reusing it")
        thumbnail = preview_markdown(store.read_bytes(key_from_uri(result.thumbnail_uri)[1]))
    yield Output(
        result,
        data_version=DataVersion(input_hash),
        metadata={
            "video_uri": MetadataValue.url(result.video_uri),
            "duration_seconds": MetadataValue.float(round(result.probe.duration_seconds, 2)),
            "size": f"{result.width}x{result.height}",
            "size_bytes": result.probe.size_bytes,
            "bitrate_kbps": MetadataValue.float(round(result.probe.bit_rate / 1000, 1)),
            "captions": result.caption_count,
            "encode_seconds": MetadataValue.float(round(result.encode_seconds, 2)),
            "realtime_factor": MetadataValue.float(round(result.realtime_factor, 2)),
            "reused_previous_render": reused,
            "thumbnail": MetadataValue.md(thumbnail),
            **run.usage.metadata(),
        },
    )
    yield AssetCheckResult(
        check_name="playable",
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="one video stream of the requested size and rate, the length asked for "
        "(±5 %), captions consistent with the narration; self-review: no black or frozen "
        "stretch, captions clear of the on-screen text, no silence over 1.5 s in the "
        "narration, true peak under -1 dBTP, loudness -14 ± 1 LUFS"
        if not problems
        else "; ".join(problems),
    )
    if problems:
        run.ledger.move(
            "failed", "render: " + "; ".join(problems), stage="render", stage_state="failed"
        )
    else:
        run.ledger.move("done", f"video ready: {result.video_uri}")


def render_input_hash(
    script: Script, project: Project, provider: str, engine: RenderResource, music: Path | None
) -> str:
    """Everything the video depends on: equal hashes mean an equal video."""
    return content_hash(
        RenderInputs(
            script=script,
            settings=project.settings,
            music=f"{music}:{music.stat().st_size}:{music.stat().st_mtime_ns}" if music else None,
            provider=provider,
            preset=engine.x264_preset,
            code_version=RENDER_CODE_VERSION,
        )
    )


def _published(store: ObjectStore, result: RenderResult) -> bool:
    """Whether the bucket still holds this render: its thumbnail, and its video at the size
    it was recorded with (not one a later, interrupted render left at the key)."""
    video = store.size(key_from_uri(result.video_uri)[1])
    thumbnail = store.size(key_from_uri(result.thumbnail_uri)[1])
    return thumbnail is not None and video == result.probe.size_bytes


def _render_and_publish(
    context: AssetExecutionContext,
    script: Script,
    run: StageRun,
    store: ObjectStore,
    engine: RenderResource,
    music: Path | None,
) -> tuple[RenderResult, list[str]]:
    project = run.project
    workdir = engine.scratch_dir(project.id, context.run_id, "render")
    providers = run.providers(speech_words_per_minute=script.words_per_minute)
    last_logged = [-1]

    def log_progress(fraction: float, speed: float | None) -> None:
        percent = int(fraction * 100)
        if percent // 10 > last_logged[0]:
            last_logged[0] = percent // 10
            pace = f" at {speed:.1f}x realtime" if speed else ""
            context.log.info(f"render {percent}%{pace}")

    try:
        rendered = render_video(
            script,
            project.settings,
            providers.speech,
            providers.images,
            workdir,
            music_path=music,
            on_progress=log_progress,
            options=RenderOptions(encoder=engine.encoder),
        )
        problems = verify_render(rendered, script, project.settings)
        uris = publish(store, project.id, context.run_id, rendered, rejected=bool(problems))
    finally:
        engine.discard_scratch(project.id, context.run_id, workdir)
    result = RenderResult(
        video_uri=uris["video"],
        thumbnail_uri=uris["thumbnail"],
        srt_uri=uris["srt"],
        vtt_uri=uris["vtt"],
        scene_frame_uris=[uris[f"frame{i}"] for i in range(len(rendered.scene_frames))],
        probe=rendered.probe,
        width=rendered.width,
        height=rendered.height,
        narration_seconds=rendered.narration_seconds,
        caption_count=rendered.caption_count,
        encode_seconds=rendered.encode_seconds,
        realtime_factor=rendered.realtime_factor,
    )
    return result, problems
