"""Deleting a project, or everything of an owner: rows, S3 objects, Dagster partition and runs.

Refused while a run of the project is queued or in progress: cancel it first (`project
cancel`). S3 objects go first, then the rows in one transaction, then the Dagster records, so
an interrupted deletion can simply be repeated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from video_pipeline.assets.stage_asset import PROJECTS
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.storage.tables import (
    deletion_requests,
    metadata,
    owner_settings,
    projects,
    response_cache,
    response_cache_users,
)

BUSY_STATUSES = ("queued", "running")
BUSY_RUNS = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


class DeletionRefused(Exception):
    """Nothing was deleted; the message says why and what to do."""


class NoSuchProject(DeletionRefused):
    pass


@dataclass
class DeletionReport:
    projects: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    s3_objects: int = 0
    dagster_runs: int = 0
    dagster_partitions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "projects": self.projects,
            "rows": dict(sorted(self.rows.items())),
            "s3_objects": self.s3_objects,
            "dagster_runs": self.dagster_runs,
            "dagster_partitions": self.dagster_partitions,
        }


def _project_tables() -> list[sa.Table]:
    """Every table holding a project's rows, children before parents."""
    return [
        table
        for table in reversed(metadata.sorted_tables)
        if "project_id" in table.c and table is not deletion_requests
    ]


def _refuse_if_busy(conn: sa.Connection, instance: DagsterInstance, project_ids: list[str]) -> None:
    busy = conn.execute(
        sa.select(projects.c.id, projects.c.status).where(
            projects.c.id.in_(project_ids), projects.c.status.in_(BUSY_STATUSES)
        )
    ).all()
    runs = [
        run
        for project_id in project_ids
        for run in instance.get_runs(
            RunsFilter(tags={"dagster/partition": project_id}, statuses=BUSY_RUNS)
        )
    ]
    if busy or runs:
        names = [f"{r.id} ({r.status})" for r in busy] + [
            f"run {run.run_id} ({run.status.value})" for run in runs
        ]
        raise DeletionRefused(
            "refused while work is in progress: " + ", ".join(names) + "; cancel it with "
            "`video-pipeline project cancel ID` (or wait for it to end), then delete again"
        )


def delete_projects(
    engine: sa.Engine, store: ObjectStore, instance: DagsterInstance, project_ids: list[str]
) -> DeletionReport:
    report = DeletionReport()
    with engine.begin() as conn:
        existing = [
            str(pid)
            for pid in conn.execute(
                sa.select(projects.c.id).where(projects.c.id.in_(project_ids)).with_for_update()
            ).scalars()
        ]
        missing = sorted(set(project_ids) - set(existing))
        if missing:
            raise NoSuchProject(f"no such project: {', '.join(missing)}")
        _refuse_if_busy(conn, instance, existing)
        for project_id in existing:
            keys = store.list_keys(f"projects/{project_id}/")
            store.delete_keys(keys)
            report.s3_objects += len(keys)
        report.rows["response_cache"] = _delete_unshared_cache(conn, existing)
        for table in _project_tables():
            deleted = conn.execute(sa.delete(table).where(table.c.project_id.in_(existing)))
            report.rows[table.name] = deleted.rowcount
        deleted = conn.execute(sa.delete(projects).where(projects.c.id.in_(existing)))
        report.rows["projects"] = deleted.rowcount
    for project_id in existing:
        for run in instance.get_runs(RunsFilter(tags={"dagster/partition": project_id})):
            # The run's captured stdout/stderr first; delete_run removes its event log.
            instance.compute_log_manager.delete_logs(prefix=[run.run_id])
            instance.delete_run(run.run_id)
            report.dagster_runs += 1
        if instance.has_dynamic_partition(PROJECTS, project_id):
            instance.delete_dynamic_partition(PROJECTS, project_id)
            report.dagster_partitions += 1
    report.projects = existing
    return report


def _delete_unshared_cache(conn: sa.Connection, project_ids: list[str]) -> int:
    """Cached provider replies no other project has used."""
    others = sa.select(response_cache_users.c.key).where(
        response_cache_users.c.project_id.not_in(project_ids)
    )
    mine = sa.select(response_cache_users.c.key).where(
        response_cache_users.c.project_id.in_(project_ids)
    )
    return conn.execute(
        sa.delete(response_cache).where(
            response_cache.c.key.in_(mine), response_cache.c.key.not_in(others)
        )
    ).rowcount


def delete_owner(
    engine: sa.Engine, store: ObjectStore, instance: DagsterInstance, owner_id: str
) -> DeletionReport:
    with engine.connect() as conn:
        ids = [
            str(pid)
            for pid in conn.execute(
                sa.select(projects.c.id).where(projects.c.owner_id == owner_id)
            ).scalars()
        ]
    report = delete_projects(engine, store, instance, ids) if ids else DeletionReport()
    with engine.begin() as conn:
        report.rows["owner_settings"] = conn.execute(
            sa.delete(owner_settings).where(owner_settings.c.owner_id == owner_id)
        ).rowcount
    return report


def process_deletion_requests(
    engine: sa.Engine, store: ObjectStore, instance: DagsterInstance, limit: int = 20
) -> Counter[str]:
    """Carry out requests inserted into `deletion_requests`; one refused because work is in
    progress stays pending (with the reason in `detail`) and is tried again next time."""
    with engine.connect() as conn:
        pending = conn.execute(
            sa.select(deletion_requests)
            .where(deletion_requests.c.status == "pending")
            .order_by(deletion_requests.c.id)
            .limit(limit)
        ).all()
    outcomes: Counter[str] = Counter()
    for request in pending:
        values: dict[str, Any] = {"processed_at": sa.func.now()}
        try:
            if request.owner_id is not None:
                report = delete_owner(engine, store, instance, request.owner_id)
            else:
                report = delete_projects(engine, store, instance, [str(request.project_id)])
            values.update(status="done", report=report.as_dict(), detail=None)
        except DeletionRefused as exc:
            final = isinstance(exc, NoSuchProject)
            values.update(status="refused" if final else "pending", detail=str(exc))
        with engine.begin() as conn:
            conn.execute(
                sa.update(deletion_requests)
                .where(deletion_requests.c.id == request.id)
                .values(**values)
            )
        outcomes[values["status"]] += 1
    return outcomes
