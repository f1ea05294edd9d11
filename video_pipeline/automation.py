"""How work starts and ends: the intake sensor, the job it launches, run-status sensors and
the nightly retry schedule."""

import json

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    run_failure_sensor,
    run_status_sensor,
    schedule,
    sensor,
)

from video_pipeline.assets.stage_asset import projects_partitions
from video_pipeline.models import ProjectStatus
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.queues import run_tags
from video_pipeline.resources import DatabaseResource, RenderResource
from video_pipeline.storage.ledger import Ledger, StageState, mark_queued, stage_in_flight
from video_pipeline.storage.partitions import (
    IntakeCandidate,
    awaiting_partition,
    confirm_partitions,
    wait_for_intake,
)
from video_pipeline.storage.projects import (
    approved_resumptions,
    failed_retryable_projects,
    project_status,
    standing,
)
from video_pipeline.storage.quota_usage import admit_within_quotas
from video_pipeline.storage.tables import is_project_id

OPEN: frozenset[ProjectStatus] = frozenset({"queued", "running"})
STOPPED_STAGE: dict[ProjectStatus, StageState] = {"failed": "failed", "canceled": "canceled"}
"""The state of a stage that was in flight when its run ended with the project this way."""
"""What a run-status sensor may still close: a project a stage has not closed itself."""

make_video = define_asset_job(
    "make_video",
    selection=AssetSelection.all(),
    partitions_def=projects_partitions,
    description="Every stage for one project: sources to rendered video.",
)


@sensor(
    job=make_video,
    minimum_interval_seconds=1,
    default_status=DefaultSensorStatus.RUNNING,
    description="Gives each new project row a partition and one run (run_key = project id).",
)
def project_intake(
    context: SensorEvaluationContext, db: DatabaseResource, platform: PlatformConfig
) -> SensorResult:
    """What is new is derived from state, not from order: a project is new while its row has
    no `partition_added_at`. A row whose transaction commits late is found on a later tick.

    The cursor carries the ids this sensor requested on its previous tick. Dagster stores a
    cursor only with the tick's partitions and run requests, so reading it back proves
    those were stored: only then are the rows marked. A tick lost before that is simply
    repeated, and the run key makes a repeated request a no-op: one run per project.
    Each tick reads O(new) rows through a partial index, never Dagster's partition list.
    A project over its owner's quota waits in `deferred` instead.

    Dagster starts a tick every 5 s at most, whatever the interval says, so an idle tick
    listens for a project's commit (`VIDEO_PIPELINE_INTAKE_WAIT_SECONDS`) and takes it at
    once; the run is requested within a fraction of a second of the commit.
    """
    confirm_partitions(db.engine, json.loads(context.cursor or "[]"))
    candidates = _admitted(db, platform)
    if not candidates and wait_for_intake(db.engine, platform.intake_wait_seconds):
        candidates = _admitted(db, platform)
    if not candidates:
        return SensorResult(skip_reason="no new projects", cursor="[]")
    # A project deleted since it was read is not moved (the deletion holds its row while it
    # checks that nothing runs), and gets no run or partition.
    moved = set(mark_queued(db.engine, [c.project_id for c in candidates]))
    candidates = [c for c in candidates if c.project_id in moved]
    if not candidates:
        return SensorResult(skip_reason="the new projects were deleted", cursor="[]")
    new_ids = [c.project_id for c in candidates]
    return SensorResult(
        run_requests=[
            RunRequest(
                partition_key=c.project_id,
                run_key=c.run_key,
                tags=run_tags(c.project_id, c.owner_id, c.priority),
            )
            for c in candidates
        ],
        dynamic_partitions_requests=[projects_partitions.build_add_request(new_ids)],
        cursor=json.dumps(new_ids),
    )


def _admitted(db: DatabaseResource, platform: PlatformConfig) -> list[IntakeCandidate]:
    """Projects awaiting a partition that their owners' quotas admit now."""
    waiting = [c.project_id for c in awaiting_partition(db.engine)]
    admitted = set(admit_within_quotas(db.engine, platform.quota_defaults(), waiting))
    # Read again: a deferred project the quota now admits is waiting again too.
    return [c for c in awaiting_partition(db.engine) if c.project_id in admitted]


def downstream_of(context: SensorEvaluationContext, stage: str) -> list[AssetKey]:
    """What follows `stage` in the asset graph: what runs after a person approved it."""
    graph = context.repository_def.asset_graph if context.repository_def else None
    if graph is None:
        raise RuntimeError("the sensor needs the code location's asset graph")
    selection = AssetSelection.assets(stage).downstream(include_self=False)
    return sorted(selection.resolve(graph), key=lambda key: key.to_user_string())


@sensor(
    job=make_video,
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
    description="Resumes an approved project with the stages after the one that asked for "
    "review; finished stages are not run again.",
)
def resume_approved(
    context: SensorEvaluationContext, db: DatabaseResource
) -> SensorResult | SkipReason:
    requests = [
        RunRequest(
            partition_key=project_id,
            run_key=f"{project_id}:approved:{stage}:{approved_at}",
            asset_selection=downstream_of(context, stage),
            tags={"project_id": project_id, "resumed_after": stage},
        )
        for project_id, stage, approved_at in approved_resumptions(db.engine)
    ]
    if not requests:
        return SkipReason("no approved projects waiting")
    return SensorResult(run_requests=requests)


def crash_explanation(context: RunFailureSensorContext) -> str | None:
    """What the run launcher said when the run's process died (`... was terminated by signal
    9 (SIGKILL) ...`), if it did."""
    events = context.instance.all_logs(
        context.dagster_run.run_id, of_type=DagsterEventType.ENGINE_EVENT
    )
    marker = "Run execution process for"
    said = [e.message for e in events if marker in e.message]
    return said[-1][said[-1].index(marker) :] if said else None


def run_error(context: RunFailureSensorContext) -> str | None:
    """The run's failure message with the errors behind it, the outermost first: "An
    exception was thrown during execution" alone says nothing of a broker that is down."""
    event = context.failure_event
    error = getattr(event.event_specific_data, "error", None)
    if error is None:
        return event.message
    said: list[str] = []
    while error is not None and len(said) < 4:
        said.append(" ".join(error.message.split()))
        error = error.cause or error.context
    return f"{event.message or 'the run failed'} ({' ← '.join(said)[:600]})"


@run_failure_sensor(
    monitored_jobs=None,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="Marks a project failed when its run fails outside any stage: its process "
    "was killed (the run launcher notices at once) or run monitoring gave up on it.",
    monitor_all_code_locations=False,
)
def project_run_failed(
    context: RunFailureSensorContext, db: DatabaseResource, render_engine: RenderResource
) -> None:
    message = crash_explanation(context) or run_error(context) or "the run failed"
    close_project(context, db, "failed", f"failed: {message}")
    project_id = context.dagster_run.tags.get("dagster/partition")
    if project_id and is_project_id(project_id):
        # A process killed mid-render never ran its own clean-up.
        render_engine.discard_scratch(project_id, context.dagster_run.run_id)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Closes a project's status when a run that did not include render succeeds: "
    "as its stages stand (blocked, failed, done with its video), never `done` without one.",
)
def project_run_succeeded(context: RunStatusSensorContext, db: DatabaseResource) -> None:
    project_id = context.dagster_run.tags.get("dagster/partition")
    if not project_id or project_status(db.engine, project_id) is None:
        return
    status, detail = standing(db.engine, project_id)
    close_project(context, db, status, f"succeeded without render; {detail}")


def close_project(
    context: RunStatusSensorContext,
    db: DatabaseResource,
    to: ProjectStatus,
    what: str,
    only_from: frozenset[ProjectStatus] = OPEN,
) -> None:
    """Move the project of the run the sensor reacts to, if it is still `only_from`, with
    the detail `run <id> <what>`; a stage the run left `running` (its process died in it)
    ends with the project, and the detail names it."""
    project_id = context.dagster_run.tags.get("dagster/partition")
    if not project_id:
        return
    run_id = context.dagster_run.run_id
    detail = f"run {run_id[:8]} {what}"
    stage = stage_in_flight(db.engine, project_id, run_id) if to in STOPPED_STAGE else None
    Ledger(db.engine, project_id, run_id, warn=context.log.warning).move(
        to,
        f"{stage}: {detail}" if stage else detail,
        stage=stage,
        stage_state=STOPPED_STAGE.get(to),
        only_from=only_from,
    )


@schedule(
    job=make_video,
    cron_schedule="0 3 * * *",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Nightly: re-runs projects whose last failure was transient (not bad input).",
)
def retry_failed_projects(
    context: ScheduleEvaluationContext, db: DatabaseResource
) -> list[RunRequest]:
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return [
        RunRequest(partition_key=pid, run_key=f"{pid}:retry:{day}", tags={"project_id": pid})
        for pid in failed_retryable_projects(db.engine)
    ]
