"""The `renders` table: where each project's video is and what it measured."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.models import RenderResult
from video_pipeline.storage.tables import renders


def save_render(engine: sa.Engine, project_id: str, result: RenderResult) -> None:
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
        "updated_at": sa.func.now(),
    }
    with engine.begin() as conn:
        conn.execute(
            insert(renders)
            .values(project_id=project_id, **values)
            .on_conflict_do_update(index_elements=[renders.c.project_id], set_=values)
        )
