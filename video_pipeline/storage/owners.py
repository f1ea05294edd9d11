"""Per-owner settings: the default webhook of the owner's projects and its quota overrides."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.storage.tables import owner_settings


def save_owner_settings(engine: sa.Engine, owner_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Upsert the given fields; the others keep their value (NULL: the deployment default)."""
    statement = insert(owner_settings).values(owner_id=owner_id, **values)
    with engine.begin() as conn:
        row = conn.execute(
            statement.on_conflict_do_update(
                index_elements=[owner_settings.c.owner_id],
                set_={**values, "updated_at": sa.func.now()},
            ).returning(owner_settings)
        ).one()
    return dict(row._mapping)
