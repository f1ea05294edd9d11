"""Keeping Dagster's state bounded: a nightly job removes the partitions of projects that
ended long ago. Their rows, chunks and objects stay (`project show` and search still work),
and `video-pipeline project rerun ID` hands one back to intake, which re-adds its partition.
"""

# No `from __future__ import annotations`: Dagster reads the op's context annotation.
from datetime import timedelta

from dagster import (
    ConfigurableResource,
    DefaultScheduleStatus,
    OpExecutionContext,
    ScheduleDefinition,
    in_process_executor,
    job,
    op,
)

from video_pipeline.assets.stage_asset import PROJECTS
from video_pipeline.config import setting
from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.partitions import archivable, mark_archived

BATCH = 1000


class RetentionResource(ConfigurableResource):
    archive_after_days: int = setting(
        "VIDEO_PIPELINE_ARCHIVE_AFTER_DAYS",
        30,
        "the Dagster partitions of projects that ended this many days ago are archived "
        "(their rows, chunks and objects stay; `project rerun` brings one back)",
        ge=1,
    )


@op(description="Deletes the Dagster partitions of projects that ended long ago.")
def archive_partitions(
    context: OpExecutionContext, db: DatabaseResource, retention: RetentionResource
) -> None:
    older_than = timedelta(days=retention.archive_after_days)
    archived = 0
    while batch := archivable(db.engine, older_than, BATCH):
        # Dagster first, then the row: a crash in between repeats an idempotent delete.
        for project_id in batch:
            context.instance.delete_dynamic_partition(PROJECTS, project_id)
        mark_archived(db.engine, batch)
        archived += len(batch)
    context.log.info(
        f"archived {archived} partitions of projects that ended over "
        f"{retention.archive_after_days} days ago"
    )


@job(
    executor_def=in_process_executor,
    description="Removes old projects' partitions from Dagster; their data stays.",
)
def archive_ended_projects() -> None:
    archive_partitions()


archive_schedule = ScheduleDefinition(
    name="archive_ended_projects_nightly",
    job=archive_ended_projects,
    cron_schedule="30 2 * * *",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Nightly: archives the partitions of projects ended more than "
    "VIDEO_PIPELINE_ARCHIVE_AFTER_DAYS days ago.",
)
