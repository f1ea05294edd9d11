"""Keeps a project's status row in step with the stage that runs for it.

Every stage runs inside `tracked_stage`, so the status follows the run whether it was
started by the sensor, the UI, or `dagster asset materialize`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from dagster import AssetExecutionContext, Failure, MetadataValue

from video_pipeline.assets.usage import StageUsage
from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Project
from video_pipeline.providers.base import ProviderError, Providers
from video_pipeline.resources import PipelineConfig
from video_pipeline.storage.projects import load_project, run_stopped, set_stage_state, set_status


def _last_attempt(context: AssetExecutionContext) -> bool:
    policy = context.op_def.retry_policy
    return policy is None or context.retry_number >= (policy.max_retries or 0)


def _note_retry(
    engine: sa.Engine,
    context: AssetExecutionContext,
    project_id: str,
    stage: str,
    exc: Exception,
) -> None:
    attempt = context.retry_number + 1
    detail = f"attempt {attempt} failed, retrying: {type(exc).__name__}: {exc}"
    set_stage_state(engine, project_id, stage, "retrying", detail, context.run_id)


@dataclass(frozen=True)
class StageRun:
    """What a stage's body works with: its project, its providers, their usage."""

    project: Project
    usage: StageUsage
    pipeline: PipelineConfig

    def providers(self, speech_words_per_minute: float | None = None) -> Providers:
        return self.usage.providers(self.pipeline.provider_options(speech_words_per_minute))


@contextmanager
def tracked_stage(
    context: AssetExecutionContext, engine: sa.Engine, pipeline: PipelineConfig, stage: str
) -> Iterator[StageRun]:
    """Run a stage's body, recording running / done / failed for the stage and the project."""
    project_id = context.partition_key
    run_id = context.run_id
    set_stage_state(engine, project_id, stage, "running", run_id=run_id)
    if not run_stopped(engine, project_id, run_id):
        set_status(engine, project_id, "running", f"{stage}: running")
    try:
        project = load_project(engine, project_id)
        usage = StageUsage(engine, project_id, stage, run_id, project.settings.max_cost_usd)
        yield StageRun(project, usage, pipeline)
    except (PipelineInputError, ProviderError) as exc:
        if isinstance(exc, ProviderError) and exc.transient and not _last_attempt(context):
            _note_retry(engine, context, project_id, stage, exc)
            raise
        message = str(exc)
        if isinstance(exc, PipelineInputError):
            state = "invalid_input"
        else:
            state = "failed" if exc.transient else "provider_refused"
        set_stage_state(engine, project_id, stage, state, message, run_id)
        set_status(engine, project_id, "failed", f"{stage}: {message}")
        raise Failure(
            description=f"{stage}: {message}",
            metadata={"project_id": project_id, "reason": MetadataValue.text(message)},
            allow_retries=False,
        ) from exc
    except Failure:
        raise
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        if _last_attempt(context):
            set_stage_state(engine, project_id, stage, "failed", message, run_id)
            set_status(engine, project_id, "failed", f"{stage}: {message}")
        else:
            _note_retry(engine, context, project_id, stage, exc)
        raise
    set_stage_state(engine, project_id, stage, "done", None, run_id)
