"""What an owner's earlier projects left behind, for stages that learn from them."""

from __future__ import annotations

import sqlalchemy as sa

from video_pipeline.models import ExtractedSource, Sources
from video_pipeline.storage.tables import projects, stage_outputs


def earlier_references(
    engine: sa.Engine, owner_id: str, exclude_project_id: str, limit_projects: int = 20
) -> list[ExtractedSource]:
    """Reference sources of the owner's most recent other projects."""
    with engine.connect() as conn:
        payloads = conn.execute(
            sa.select(stage_outputs.c.payload)
            .join(projects, projects.c.id == stage_outputs.c.project_id)
            .where(
                projects.c.owner_id == owner_id,
                projects.c.id != exclude_project_id,
                stage_outputs.c.stage == "sources",
            )
            .order_by(projects.c.created_at.desc())
            .limit(limit_projects)
        ).scalars()
        found: list[ExtractedSource] = []
        for payload in payloads:
            found.extend(Sources.model_validate(payload).by_role("reference"))
    return found
