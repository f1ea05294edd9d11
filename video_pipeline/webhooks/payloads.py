"""The body of each webhook event, built once when the event is queued for delivery, so
every retry sends the same event id and the same content."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from video_pipeline.storage.object_store import ObjectStore, key_from_uri
from video_pipeline.storage.tables import renders

EVENT_TYPES = ("queued", "running", "needs_review", "done", "failed", "blocked", "canceled")
_EVENT_NAMESPACE = uuid.UUID("5f0b8f52-8f7e-4d1e-9c56-4a8f3c2b7e10")


def event_id(project_id: str, row_id: int) -> str:
    """Stable across retries and re-enqueueing: derived from the event row."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{project_id}:{row_id}"))


def event_payload(
    event: Any, title: str, owner_id: str, media: dict[str, Any] | None
) -> dict[str, Any]:
    project_id = str(event.project_id)
    payload: dict[str, Any] = {
        "id": event_id(project_id, event.id),
        "type": f"project.{event.to_status}",
        "created_at": event.time.isoformat(),
        "project": {
            "id": project_id,
            "owner_id": owner_id,
            "title": title,
            "status": event.to_status,
            "previous_status": event.from_status,
            "stage": event.stage,
            "reason": event.reason,
        },
        "run_id": event.run_id,
    }
    if event.to_status == "done":
        payload["video"] = media
    return payload


def presigned_media(
    conn: sa.Connection, store: ObjectStore, project_id: str, lifetime_seconds: int, now: datetime
) -> dict[str, Any] | None:
    """Links to the video, thumbnail and captions, valid for `lifetime_seconds`."""
    row = conn.execute(sa.select(renders).where(renders.c.project_id == project_id)).one_or_none()
    if row is None:
        return None

    def link(uri: str) -> str:
        return store.presigned_url(key_from_uri(uri)[1], lifetime_seconds)

    return {
        "url": link(row.video_uri),
        "thumbnail_url": link(row.thumbnail_uri),
        "captions": {"srt": link(row.srt_uri), "vtt": link(row.vtt_uri)},
        "duration_seconds": row.duration_seconds,
        "width": row.width,
        "height": row.height,
        "links_expire_at": (now + timedelta(seconds=lifetime_seconds)).isoformat(),
    }
