"""Keeps a project's status row in step with the stage that runs for it.

Every stage runs inside `tracked_stage`, so the status follows the run whether it was
started by the sensor, the UI, or `dagster asset materialize`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from dagster import AssetExecutionContext, Failure, MetadataValue

from video_pipeline.assets.common import PROVIDER_RETRY
from video_pipeline.errors import PipelineInputError
from video_pipeline.storage.projects import set_stage_state, set_status


def _last_attempt(context: AssetExecutionContext) -> bool:
    return context.retry_number >= (PROVIDER_RETRY.max_retries or 0)


@contextmanager
def tracked_stage(context: AssetExecutionContext, engine: sa.Engine, stage: str) -> Iterator[str]:
    """Yield the project id; record running / done / failed for the stage and the project."""
    project_id = context.partition_key
    run_id = context.run_id
    set_stage_state(engine, project_id, stage, "running", run_id=run_id)
    set_status(engine, project_id, "running", f"{stage}: running")
    try:
        yield project_id
    except PipelineInputError as exc:
        message = str(exc)
        set_stage_state(engine, project_id, stage, "invalid_input", message, run_id)
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
            attempt = context.retry_number + 1
            set_stage_state(engine, project_id, stage, "retrying", f"attempt {attempt}: {message}")
        raise
    set_stage_state(engine, project_id, stage, "done", None, run_id)
