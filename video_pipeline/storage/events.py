"""The history of every project: one row per status transition.

`record_event` is called inside the transaction that changes the status, so the history
can never disagree with the `projects` row. Webhooks and metrics are fed from it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from video_pipeline.storage.estimates import settle_estimate
from video_pipeline.storage.tables import project_events

STAGES = ("sources", "research", "dna_profile", "safety_check", "script", "embeddings", "render")
# A project in one of these has finished; its estimate is settled against the actual cost.
FINISHED = frozenset({"done", "failed", "blocked", "rejected", "canceled"})


def stage_of(detail: str | None) -> str | None:
    """The stage a status detail names ("render: ..."), by the convention of the stages."""
    head = (detail or "").partition(":")[0].strip()
    return head if head in STAGES else None


def record_event(
    conn: sa.Connection,
    *,
    project_id: str,
    from_status: str | None,
    to_status: str,
    stage: str | None,
    reason: str | None,
    run_id: str | None,
) -> None:
    conn.execute(
        sa.insert(project_events).values(
            project_id=project_id,
            from_status=from_status,
            to_status=to_status,
            stage=stage,
            reason=reason,
            run_id=run_id,
        )
    )
    if to_status in FINISHED:
        settle_estimate(conn, project_id)


def project_history(engine: sa.Engine, project_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(project_events)
            .where(project_events.c.project_id == project_id)
            .order_by(project_events.c.id)
        ).all()
    return [
        {
            "id": r.id,
            "time": r.time.isoformat(),
            "from_status": r.from_status,
            "to_status": r.to_status,
            "stage": r.stage,
            "reason": r.reason,
            "run_id": r.run_id,
        }
        for r in rows
    ]
