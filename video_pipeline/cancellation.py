"""Cancel that cancels: a requested cancel ends the project's runs, and a run that ends
canceled (the UI's Terminate, `dagster run terminate`) ends its project `canceled`."""

import sqlalchemy as sa
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_status_sensor,
    sensor,
)

from video_pipeline.automation import close_project
from video_pipeline.deletion import BUSY_RUNS
from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.cancel import (
    CancelRequest,
    canceled_at,
    mark_canceled,
    pending_cancels,
)

RUNNING_RUNS = [status for status in BUSY_RUNS if status is not DagsterRunStatus.CANCELING]


def stop_runs(instance: DagsterInstance, project_id: str) -> list[str]:
    """Cancel every queued or running run of the project: a queued one is dropped, a
    started one is interrupted in its process (its step is not retried, its ffmpeg ends)."""
    runs = instance.get_runs(
        RunsFilter(tags={"dagster/partition": project_id}, statuses=RUNNING_RUNS)
    )
    for run in runs:
        instance.run_coordinator.cancel_run(run.run_id)
    return [run.run_id for run in runs]


def carry_out(engine: sa.Engine, instance: DagsterInstance, request: CancelRequest) -> list[str]:
    """Mark the project canceled, then stop its runs; the runs stopped. Idempotent, so the
    sensor and `project cancel` may both carry out one request."""
    # The status first: a stage that reaches the ledger before the interrupt does is
    # refused, so nothing after the request is recorded as done.
    mark_canceled(engine, request)
    return stop_runs(instance, request.project_id)


def stop_stray_runs(engine: sa.Engine, instance: DagsterInstance) -> list[str]:
    """Stop the runs, created before the cancel was asked, of projects already canceled on
    request: the command that marked them could not reach this Dagster instance, or died
    before it stopped them. A run started after the cancel (a rerun from the UI) stays."""
    records = instance.get_run_records(RunsFilter(statuses=RUNNING_RUNS))
    asked = canceled_at(engine, [r.dagster_run.tags.get("dagster/partition", "") for r in records])
    stray = [
        record.dagster_run.run_id
        for record in records
        if (when := asked.get(record.dagster_run.tags.get("dagster/partition", ""))) is not None
        and record.create_timestamp <= when
    ]
    for run_id in stray:
        instance.run_coordinator.cancel_run(run_id)
    return stray


@sensor(
    minimum_interval_seconds=2,
    default_status=DefaultSensorStatus.RUNNING,
    description="Stops projects whose cancel was requested (`video-pipeline project cancel`, "
    "or `projects.cancel_requested_at` set by the platform): marks them canceled with who "
    "asked and when, then ends their runs.",
)
def project_cancel_requests(context: SensorEvaluationContext, db: DatabaseResource) -> SkipReason:
    requests = pending_cancels(db.engine)
    for request in requests:
        runs = carry_out(db.engine, context.instance, request)
        context.log.info(
            f"project {request.project_id} {request.detail}; runs stopped: "
            + (", ".join(runs) if runs else "none")
        )
    stray = stop_stray_runs(db.engine, context.instance)
    if stray:
        context.log.info(f"runs of canceled projects stopped: {', '.join(stray)}")
    if not requests and not stray:
        return SkipReason("no cancel requested")
    return SkipReason(f"canceled {len(requests)} project(s), stopped {len(stray)} stray run(s)")


@run_status_sensor(
    run_status=DagsterRunStatus.CANCELED,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="Marks a project canceled when its run was canceled and no stage did (a "
    "forced terminate, a queued run dropped from the UI).",
)
def project_run_canceled(context: RunStatusSensorContext, db: DatabaseResource) -> None:
    # Only while the project is still queued or running: by the time the sensor sees the
    # event, a person may already have rerun the project.
    close_project(context, db, "canceled", "was canceled")
