"""Which projects need a Dagster partition, which may lose theirs, and bringing one back.

The intake tick must not list Dagster's partitions (that grows with every project ever
made), so the projects table itself says where each project stands: `partition_added_at` is
NULL until the intake sensor's partition and run request for the project are stored, and a
partial index holds exactly those rows. Every query here touches O(rows it returns).
"""

from __future__ import annotations

import select
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from video_pipeline.storage.ledger import TERMINAL, Ledger
from video_pipeline.storage.tables import projects

# Statuses after which nothing more happens to a project on its own.
ENDED = tuple(sorted(TERMINAL))

# The predicate of the partial index `projects_awaiting_partition` (migration 0007), which
# the intake query repeats so that Postgres can answer it from that index alone.
AWAITING_PARTITION = sa.and_(
    projects.c.partition_added_at.is_(None), projects.c.status.in_(["new", "queued"])
)


@dataclass(frozen=True)
class IntakeCandidate:
    project_id: str
    owner_id: str
    priority: str | None
    reruns: int

    @property
    def run_key(self) -> str:
        """One run per project and per rerun: a repeated request with this key is a no-op."""
        return self.project_id if self.reruns == 0 else f"{self.project_id}:rerun:{self.reruns}"


def intake_query(limit: int) -> sa.Select[Any]:
    return (
        sa.select(
            projects.c.id,
            projects.c.owner_id,
            projects.c.settings["priority"].astext,
            projects.c.reruns,
        )
        .where(AWAITING_PARTITION)
        .order_by(projects.c.created_at)
        .limit(limit)
    )


def awaiting_partition(engine: sa.Engine, limit: int = 500) -> list[IntakeCandidate]:
    """Projects without a stored partition, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(intake_query(limit)).all()
    return [IntakeCandidate(str(r[0]), r[1], r[2], r[3]) for r in rows]


INTAKE_CHANNEL = "video_pipeline_intake"
"""Notified, at commit, when a row starts awaiting a partition (migration 0010's trigger)."""


def wait_for_intake(engine: sa.Engine, seconds: float) -> bool:
    """Listen for up to `seconds` until some project awaits a partition; whether one does.

    A dedicated connection listens (LISTEN state must not go back into the pool). The rows
    are read once after LISTEN, so a commit just before it is not missed, and again after
    each notification.
    """
    if seconds <= 0:
        return False
    deadline = time.monotonic() + seconds
    connection = engine.raw_connection()
    listener: Any = connection.driver_connection  # psycopg2's connection
    connection.detach()
    try:
        listener.autocommit = True
        with listener.cursor() as cursor:
            cursor.execute(f"LISTEN {INTAKE_CHANNEL}")
        while not awaiting_partition(engine, limit=1):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([listener], [], [], left)[0]:
                return False
            listener.poll()
            listener.notifies.clear()
        return True
    finally:
        connection.close()


def confirm_partitions(engine: sa.Engine, project_ids: Sequence[str]) -> None:
    """Record that these projects' partitions and run requests are stored in Dagster."""
    if not project_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.update(projects)
            .where(projects.c.id.in_(list(project_ids)), projects.c.partition_added_at.is_(None))
            .values(partition_added_at=sa.func.now(), partition_archived_at=None)
        )


def archivable(engine: sa.Engine, older_than: timedelta, limit: int) -> list[str]:
    """Ended projects, untouched for `older_than`, whose partition is still in Dagster."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(projects.c.id)
            .where(
                projects.c.partition_archived_at.is_(None),
                projects.c.partition_added_at.is_not(None),
                projects.c.status.in_(ENDED),
                projects.c.updated_at < sa.func.now() - older_than,
            )
            .order_by(projects.c.updated_at)
            .limit(limit)
        ).scalars()
        return [str(r) for r in rows]


def mark_archived(engine: sa.Engine, project_ids: Sequence[str]) -> None:
    if not project_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.update(projects)
            .where(projects.c.id.in_(list(project_ids)))
            .values(partition_archived_at=sa.func.now())
        )


class RerunRefused(ValueError):
    """The project cannot be rerun now; the message says why."""


def request_rerun(engine: sa.Engine, project_id: str) -> int:
    """Hand an ended project back to intake, which gives it a partition (again, if it was
    archived) and a run with a fresh run key. Returns the rerun's number."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(projects.c.status, projects.c.reruns).where(projects.c.id == project_id)
        ).one_or_none()
    if row is None:
        raise RerunRefused(f"no project {project_id}")
    if row.status not in ENDED:
        raise RerunRefused(
            f"project {project_id} is '{row.status}': only a project that ended "
            f"({', '.join(ENDED)}) can be rerun"
        )
    reruns = row.reruns + 1
    moved = Ledger(engine, project_id).move(
        "new",
        f"rerun {reruns} requested",
        only_from=frozenset({row.status}),
        # No run holds the project until the rerun's run takes it: a late event of the old
        # run (a canceled run's sensor) is then refused as stale.
        columns={"reruns": reruns, "partition_added_at": None, "run_id": None},
    )
    if not moved:
        raise RerunRefused(f"project {project_id} changed meanwhile; try again")
    return reruns
