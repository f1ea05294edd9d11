"""Keeps a project's status row in step with the stage that runs for it.

Every stage runs inside `tracked_stage`, so the status follows the run whether it was
started by the sensor, the UI, or `dagster asset materialize`.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from dagster import AssetExecutionContext, DagsterRunStatus, Failure, MetadataValue
from dagster._core.errors import DagsterExecutionInterruptedError

from video_pipeline.assets.time_limit import StageTimeLimitExceeded, time_limit
from video_pipeline.assets.usage import StageUsage
from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Project, ProjectStatus
from video_pipeline.providers.base import ProviderError, Providers
from video_pipeline.render.errors import RenderError
from video_pipeline.resources import ProvidersResource, StageLimitsResource
from video_pipeline.run_launcher import PID_TAG
from video_pipeline.storage.cancel import CANCELABLE
from video_pipeline.storage.ledger import Ledger, StageState, allowed
from video_pipeline.storage.projects import is_project_id, load_project, project_status


def _last_attempt(context: AssetExecutionContext) -> bool:
    policy = context.op_def.retry_policy
    return policy is None or context.retry_number >= (policy.max_retries or 0)


@dataclass(frozen=True)
class StageRun:
    """What a stage's body works with: its project, its providers, their usage, its ledger."""

    project: Project
    usage: StageUsage
    provider_resource: ProvidersResource
    ledger: Ledger

    def providers(self, speech_words_per_minute: float | None = None) -> Providers:
        return self.usage.providers(self.provider_resource, speech_words_per_minute)


def stage_ledger(context: AssetExecutionContext, engine: sa.Engine) -> Ledger:
    return Ledger(engine, context.partition_key, context.run_id, warn=context.log.warning)


def _stop(
    ledger: Ledger,
    stage: str,
    state: StageState,
    status: ProjectStatus,
    message: str,
    only_from: frozenset[ProjectStatus] | None = None,
) -> Failure:
    """Record why the stage stopped the project; the returned failure is never retried."""
    ledger.move(status, f"{stage}: {message}", stage=stage, stage_state=state, only_from=only_from)
    return Failure(
        description=f"{stage}: {message}",
        metadata={"project_id": ledger.project_id, "reason": MetadataValue.text(message)},
        allow_retries=False,
    )


def failure_message(exc: Exception) -> str:
    """What a stage's failure says in the project's status."""
    if isinstance(exc, PipelineInputError | ProviderError):
        return str(exc)
    if _disk_full(exc):
        where = f" writing {exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        return (
            f"the disk is full{where}: free space on it, or point VIDEO_PIPELINE_WORK_DIR "
            "(where renders work; the system's temporary folder by default) at a larger disk"
        )
    return f"{type(exc).__name__}: {exc}"


def _disk_full(exc: Exception) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _deterministic(exc: Exception) -> StageState | None:
    """The stage state of a failure that would fail the same way again, if it is one.

    A provider error has already spent the provider call's retry budget (see
    `RetrySettings`), so the step does not add attempts of its own.
    """
    if isinstance(exc, PipelineInputError):
        return "invalid_input"
    if isinstance(exc, ProviderError):
        return "failed" if exc.transient else "provider_refused"
    if isinstance(exc, RenderError) and not exc.transient:
        return "failed"
    if _disk_full(exc):  # trying again at once fills the same disk
        return "failed"
    return None


def _terminated(context: AssetExecutionContext) -> bool:
    """Whether the run's interrupt is a cancel: a terminate (the UI, `project cancel`) marks
    the run canceling before it signals its process, and a run in a person's own foreground
    process (`dagster asset materialize`) is stopped by their Ctrl-C. A run the daemon
    launched that gets a signal otherwise is stopped with the stack (Ctrl-C of `make dev`)."""
    run = context.instance.get_run_by_id(context.run_id)
    if run is None or run.status in (DagsterRunStatus.CANCELING, DagsterRunStatus.CANCELED):
        return True
    return PID_TAG not in run.tags


def _why_not_started(engine: sa.Engine, project_id: str) -> str:
    current = project_status(engine, project_id)
    if current is None:
        return f"project {project_id} does not exist (it was deleted)"
    status = current[0]
    if status == "deferred":
        return (
            "the project is deferred: its owner's quota is reached, and it starts by itself "
            f"when the quota allows ({current[1]})"
        )
    if not allowed(status, "running"):
        return f"a run cannot start a project that is '{status}' ({current[1]})"
    return "this run no longer holds the project (it already stopped it, or a newer run took over)"


@contextmanager
def tracked_stage(
    context: AssetExecutionContext,
    engine: sa.Engine,
    providers: ProvidersResource,
    limits: StageLimitsResource,
    stage: str,
) -> Iterator[StageRun]:
    """Run a stage's body, recording running / done / failed for the stage and the project.

    Only failures that may pass on their own (a dropped database connection, an S3 hiccup,
    a killed encoder) reach the step's retry policy; an interrupt (a terminated run) ends
    the project `canceled`, and a stage past its time limit ends it `failed`; neither is
    retried.
    """
    if not is_project_id(context.partition_key):
        # A partition added by hand in the UI: no row of ours can carry the refusal.
        raise Failure(
            description=f"{stage}: partition {context.partition_key!r} is not a project id; "
            "the intake sensor adds one partition per row of the projects table (a UUID): "
            "delete this partition",
            allow_retries=False,
        )
    ledger = stage_ledger(context, engine)
    if not ledger.move("running", f"{stage}: running", stage=stage, stage_state="running"):
        raise Failure(
            description=f"{stage}: not started: {_why_not_started(engine, ledger.project_id)}",
            allow_retries=False,
        )
    seconds = limits.seconds(stage)
    try:
        with time_limit(seconds):
            project = load_project(engine, ledger.project_id)
            usage = StageUsage(
                engine, project.id, stage, context.run_id, project.settings.max_cost_usd
            )
            yield StageRun(project, usage, providers, ledger)
    except StageTimeLimitExceeded:
        raise _stop(
            ledger,
            stage,
            "failed",
            "failed",
            f"{stage} took longer than {seconds:g} s, its time limit "
            "(VIDEO_PIPELINE_STAGE_TIME_LIMITS)",
        ) from None
    except DagsterExecutionInterruptedError:
        if not _terminated(context):
            # A stop signal nobody asked for through Dagster: Ctrl-C of the dev stack, a
            # shutdown. Not the user's cancel: the project failed and may run again.
            raise _stop(
                ledger,
                stage,
                "failed",
                "failed",
                "the run's process was stopped by a signal (the stack was stopped while it "
                "ran); `video-pipeline project rerun` starts the project again",
            ) from None
        # A requested cancel has already recorded who asked and when.
        raise _stop(
            ledger, stage, "canceled", "canceled", "the run was terminated", only_from=CANCELABLE
        ) from None
    except Failure:
        raise
    except Exception as exc:
        if project_status(engine, ledger.project_id) is None:
            # Deleted under the run (its rows cascade away): nothing to retry or record.
            raise Failure(
                description=f"{stage}: project {ledger.project_id} was deleted while it ran",
                allow_retries=False,
            ) from exc
        message = failure_message(exc)
        state = _deterministic(exc)
        if state is not None:
            raise _stop(ledger, stage, state, "failed", message) from exc
        if _last_attempt(context):
            ledger.move("failed", f"{stage}: {message}", stage=stage, stage_state="failed")
        else:
            attempt = context.retry_number + 1
            ledger.stage(stage, "retrying", f"attempt {attempt} failed, retrying: {message}")
        raise
    ledger.stage(stage, "done")
