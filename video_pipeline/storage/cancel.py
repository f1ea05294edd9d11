"""Cancel requests: the contract way to stop a project.

`project cancel` or another service sets `projects.cancel_requested_at` (and who asked in
`cancel_requested_by`); the `project_cancel_requests` sensor (or `project cancel` itself,
where it reaches the Dagster instance) ends the project's runs and moves it to `canceled`.
A request on a project that already ended does nothing: the ledger clears it when a new
attempt starts (a rerun, a run from the UI, the nightly retry). A project marked canceled
whose runs were not stopped (the command could not reach the Dagster instance, or died in
between) has them stopped by the sensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from video_pipeline.models import ProjectStatus
from video_pipeline.storage.ledger import Ledger, stage_in_flight
from video_pipeline.storage.tables import is_project_id, projects

CANCELABLE: frozenset[ProjectStatus] = frozenset(
    {"new", "deferred", "queued", "running", "needs_review"}
)


class CancelRefused(ValueError):
    """Nothing was requested; the message says why."""


@dataclass(frozen=True)
class CancelRequest:
    project_id: str
    requested_by: str
    requested_at: datetime

    @property
    def detail(self) -> str:
        return f"canceled by {self.requested_by} at {self.requested_at:%Y-%m-%d %H:%M:%S %Z}"


def request_cancel(
    engine: sa.Engine, project_id: str, requested_by: str
) -> tuple[str, CancelRequest]:
    """Record a cancel request; the project's status at that moment, and the request."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.update(projects)
            .where(projects.c.id == project_id, projects.c.status.in_(sorted(CANCELABLE)))
            .values(cancel_requested_at=sa.func.now(), cancel_requested_by=requested_by)
            .returning(projects.c.status, projects.c.cancel_requested_at)
        ).one_or_none()
        if row is not None:
            return str(row.status), CancelRequest(project_id, requested_by, row.cancel_requested_at)
        current = conn.execute(
            sa.select(projects.c.status).where(projects.c.id == project_id)
        ).scalar_one_or_none()
    if current is None:
        raise CancelRefused(f"no project {project_id}")
    raise CancelRefused(
        f"project {project_id} is '{current}': nothing to cancel (only "
        + ", ".join(sorted(CANCELABLE))
        + " can be)"
    )


def pending_cancels(engine: sa.Engine) -> list[CancelRequest]:
    """Requests on projects that have not ended yet, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(projects.c.id, projects.c.cancel_requested_by, projects.c.cancel_requested_at)
            .where(
                projects.c.cancel_requested_at.is_not(None),
                projects.c.status.in_(sorted(CANCELABLE)),
            )
            .order_by(projects.c.cancel_requested_at)
        ).all()
    return [
        CancelRequest(str(row.id), row.cancel_requested_by or "an unnamed client", row[2])
        for row in rows
    ]


def mark_canceled(engine: sa.Engine, request: CancelRequest) -> bool:
    """Move the project to `canceled` with who and when; the stage that was running (if
    any) is marked canceled with it."""
    stage = stage_in_flight(engine, request.project_id)
    return Ledger(engine, request.project_id).move(
        "canceled",
        f"{stage}: {request.detail}" if stage else request.detail,
        stage=stage,
        stage_state="canceled" if stage else None,
        only_from=CANCELABLE,
    )


def canceled_at(engine: sa.Engine, project_ids: list[str]) -> dict[str, datetime]:
    """When the cancel of each of `project_ids` that ended canceled on request was asked."""
    ids = [pid for pid in project_ids if is_project_id(pid)]
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(projects.c.id, projects.c.cancel_requested_at).where(
                projects.c.id.in_(ids),
                projects.c.status == "canceled",
                projects.c.cancel_requested_at.is_not(None),
            )
        ).all()
    return {str(row.id): row.cancel_requested_at for row in rows}
