"""The `renders` table: where each project's video is, what it measured, what made it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.models import RenderResult
from video_pipeline.storage.stage_outputs import load_output
from video_pipeline.storage.tables import renders


def save_render(
    engine: sa.Engine, project_id: str, result: RenderResult, input_hash: str | None
) -> None:
    """Record a render; `input_hash` is None for a render that did not pass its checks."""
    values = {
        "video_uri": result.video_uri,
        "thumbnail_uri": result.thumbnail_uri,
        "srt_uri": result.srt_uri,
        "vtt_uri": result.vtt_uri,
        "duration_seconds": result.probe.duration_seconds,
        "width": result.width,
        "height": result.height,
        "size_bytes": result.probe.size_bytes,
        "probe": result.probe.model_dump(mode="json"),
        "input_hash": input_hash,
        "updated_at": sa.func.now(),
    }
    with engine.begin() as conn:
        conn.execute(
            insert(renders)
            .values(project_id=project_id, **values)
            .on_conflict_do_update(index_elements=[renders.c.project_id], set_=values)
        )


def current_render(engine: sa.Engine, project_id: str, input_hash: str) -> RenderResult | None:
    """The stored render result when it was made from exactly these inputs."""
    with engine.connect() as conn:
        stored_hash = conn.execute(
            sa.select(renders.c.input_hash).where(renders.c.project_id == project_id)
        ).scalar_one_or_none()
    if stored_hash != input_hash:
        return None
    try:
        return load_output(engine, project_id, "render", RenderResult)
    except LookupError:
        return None
