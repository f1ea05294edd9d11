"""How work is queued: run tags for priority and per-owner fairness, Celery queues and
concurrency pools for steps.

The limits themselves live in dagster.yaml (`concurrency:`): the run queue's
`max_concurrent_runs`, a tag limit per unique `owner` value, and the pools' default limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster import DagsterInstance

from video_pipeline.models import Priority

# Run tags the queued run coordinator reads.
PRIORITY_TAG = "dagster/priority"
OWNER_TAG = "owner"
PRIORITY_VALUES: dict[Priority, int] = {"high": 10, "normal": 0, "low": -10}

# Celery queues: steps that build text go to `content`, the ffmpeg-bound render to `render`.
CELERY_QUEUE_TAG = "dagster-celery/queue"
CONTENT_QUEUE = "content"
RENDER_QUEUE = "render"
QUEUES = (CONTENT_QUEUE, RENDER_QUEUE)

# Concurrency pools across all runs: provider-backed steps and the render.
PROVIDER_POOL = "provider"
RENDER_POOL = "render"


POOLS = (PROVIDER_POOL, RENDER_POOL)


def initialize_pools(instance: DagsterInstance) -> None:
    """Give each pool its row (at the default limit of dagster.yaml) before any run claims
    it. Dagster creates the row on a pool's first claim, and two runs claiming a new pool at
    the same moment fail one of them (a unique violation, then an aborted transaction), so a
    fresh deployment's first burst of projects lost runs."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    # Only the missing ones: on an existing row Dagster's initializer fails the same way.
    existing = storage.get_concurrency_keys()
    for pool in POOLS:
        if pool not in existing:
            storage.initialize_concurrency_limit_to_default(pool)


def run_tags(project_id: str, owner_id: str, priority: str | None) -> dict[str, str]:
    """Tags of a project's run. An unknown priority counts as normal here; the project's
    settings are validated (with an actionable error) when its first stage loads them."""
    value = PRIORITY_VALUES.get(priority, 0)  # type: ignore[call-overload]
    return {"project_id": project_id, OWNER_TAG: owner_id, PRIORITY_TAG: str(value)}


@dataclass(frozen=True)
class StepPlacement:
    """Where a stage's step runs: its Celery queue (an op tag) and its concurrency pool."""

    op_tags: dict[str, str]
    pool: str | None


def step_placement(group: str, calls_provider: bool) -> StepPlacement:
    if group == RENDER_QUEUE:
        return StepPlacement({CELERY_QUEUE_TAG: RENDER_QUEUE}, RENDER_POOL)
    return StepPlacement(
        {CELERY_QUEUE_TAG: CONTENT_QUEUE}, PROVIDER_POOL if calls_provider else None
    )
