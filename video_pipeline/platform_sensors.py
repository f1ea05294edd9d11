"""Daemon-side platform work: webhook delivery and deletion requests. Neither launches runs,
and neither runs inside a stage, so a slow webhook receiver delays no video."""

from __future__ import annotations

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from video_pipeline.deletion import process_deletion_requests
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.resources import DatabaseResource, ObjectStoreResource
from video_pipeline.webhooks.delivery import deliver_due, enqueue_events


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "nothing"


@sensor(
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
    description="Queues a signed webhook for each project status event that has a URL and "
    "delivers what is due, retrying with exponential backoff (at least once).",
)
def deliver_webhooks(
    context: SensorEvaluationContext,
    db: DatabaseResource,
    object_store: ObjectStoreResource,
    platform: PlatformConfig,
) -> SkipReason:
    queued = enqueue_events(db.engine, object_store, platform)
    outcomes = deliver_due(db.engine, platform)
    return SkipReason(f"queued {queued} events; deliveries: {_summary(outcomes)}")


@sensor(
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Carries out rows inserted into deletion_requests: a project's or an "
    "owner's rows, S3 objects, Dagster runs and partitions.",
)
def process_deletions(
    context: SensorEvaluationContext, db: DatabaseResource, object_store: ObjectStoreResource
) -> SkipReason:
    outcomes = process_deletion_requests(db.engine, object_store, context.instance)
    return SkipReason(f"deletion requests: {_summary(outcomes)}")


PLATFORM_SENSORS = [deliver_webhooks, process_deletions]
