"""What the quota rules need from the database, and the intake's admission step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from video_pipeline.quotas import OwnerUsage, QuotaLimits, admitted, day_start, month_start
from video_pipeline.quotas import quota_stop as first_stop
from video_pipeline.storage.ledger import Ledger
from video_pipeline.storage.tables import owner_settings, project_events, projects, provider_usage

IN_PROGRESS = ("queued", "running")


def owner_limits(conn: sa.Connection, owner_id: str) -> QuotaLimits:
    row = conn.execute(
        sa.select(owner_settings).where(owner_settings.c.owner_id == owner_id)
    ).one_or_none()
    if row is None:
        return QuotaLimits()
    return QuotaLimits.model_validate(
        {name: getattr(row, name) for name in QuotaLimits.model_fields}
    )


def owner_usage(conn: sa.Connection, owner_id: str, now: datetime) -> OwnerUsage:
    owned = sa.select(projects.c.id).where(projects.c.owner_id == owner_id)
    started_today = conn.execute(
        sa.select(sa.func.count())
        .select_from(project_events)
        .where(
            project_events.c.project_id.in_(owned),
            project_events.c.from_status == "new",
            project_events.c.to_status == "queued",
            project_events.c.time >= day_start(now),
        )
    ).scalar_one()
    in_progress = conn.execute(
        sa.select(sa.func.count())
        .select_from(projects)
        .where(projects.c.owner_id == owner_id, projects.c.status.in_(IN_PROGRESS))
    ).scalar_one()

    def spent(since: datetime) -> float:
        return float(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(provider_usage.c.cost_usd), 0)).where(
                    provider_usage.c.project_id.in_(owned), provider_usage.c.created_at >= since
                )
            ).scalar_one()
        )

    return OwnerUsage(
        started_today=started_today,
        in_progress=in_progress,
        cost_today_usd=spent(day_start(now)),
        cost_month_usd=spent(month_start(now)),
    )


def admit_within_quotas(
    engine: sa.Engine,
    defaults: QuotaLimits,
    candidate_ids: Sequence[str],
    now: datetime | None = None,
) -> list[str]:
    """The new projects (and earlier deferred ones) that may start now, oldest first; the
    others are moved to `deferred` with the quota that stops them and when it resets."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                projects.c.id, projects.c.owner_id, projects.c.status, projects.c.status_detail
            )
            .where(sa.or_(projects.c.id.in_(list(candidate_ids)), projects.c.status == "deferred"))
            .order_by(projects.c.created_at)
        ).all()
        owners = {row.owner_id for row in rows}
        limits = {owner: defaults.overridden_by(owner_limits(conn, owner)) for owner in owners}
        usage = {
            owner: owner_usage(conn, owner, now) for owner in owners if not limits[owner].unlimited
        }
    allowed: list[str] = []
    for row in rows:
        project_id = str(row.id)
        stop = (
            None
            if limits[row.owner_id].unlimited
            else first_stop(limits[row.owner_id], usage[row.owner_id], now)
        )
        if stop is None:
            if row.status == "deferred":
                Ledger(engine, project_id).move(
                    "new", "quota available again", only_from=frozenset({"deferred"})
                )
            if not limits[row.owner_id].unlimited:
                usage[row.owner_id] = admitted(usage[row.owner_id])
            allowed.append(project_id)
        elif row.status != "deferred" or row.status_detail != stop.message:
            Ledger(engine, project_id).move(
                "deferred", stop.message, only_from=frozenset({"new", "deferred"})
            )
    return allowed
