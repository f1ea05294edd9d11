"""A project's cost estimate, stored beside the actual cost once the project finishes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.storage.tables import cost_estimates, provider_usage


def save_estimate(
    engine: sa.Engine, project_id: str, provider: str, total_usd: float, breakdown: list[Any]
) -> None:
    values = {
        "provider": provider,
        "estimated_usd": total_usd,
        "breakdown": breakdown,
        "estimated_at": sa.func.now(),
    }
    with engine.begin() as conn:
        conn.execute(
            insert(cost_estimates)
            .values(project_id=project_id, **values)
            .on_conflict_do_update(index_elements=[cost_estimates.c.project_id], set_=values)
        )


def settle_estimate(conn: sa.Connection, project_id: str) -> None:
    """Copy the project's spend so far next to its estimate (a no-op without an estimate)."""
    spent = (
        sa.select(sa.func.coalesce(sa.func.sum(provider_usage.c.cost_usd), 0))
        .where(provider_usage.c.project_id == project_id)
        .scalar_subquery()
    )
    conn.execute(
        sa.update(cost_estimates)
        .where(cost_estimates.c.project_id == project_id)
        .values(actual_usd=spent, settled_at=sa.func.now())
    )


def estimate_row(engine: sa.Engine, project_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(cost_estimates).where(cost_estimates.c.project_id == project_id)
        ).one_or_none()
    if row is None:
        return None
    actual = None if row.actual_usd is None else float(row.actual_usd)
    estimated = float(row.estimated_usd)
    return {
        "provider": row.provider,
        "estimated_usd": estimated,
        "actual_usd": actual,
        "actual_over_estimate": actual / estimated if actual is not None and estimated else None,
        "breakdown": row.breakdown,
    }
