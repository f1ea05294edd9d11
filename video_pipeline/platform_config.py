"""The Dagster resource of the platform sensors (webhooks, quotas), built from `Settings`."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource, EnvVar

from video_pipeline.quotas import QuotaLimits
from video_pipeline.settings import Settings
from video_pipeline.storage.object_store import ObjectStore


class PlatformConfig(ConfigurableResource):
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_retry_seconds: float = 86_400.0
    webhook_timeout_seconds: float = 10.0
    webhook_link_seconds: int = 86_400
    allow_loopback_urls: bool = False
    quotas_json: str = "{}"

    def quota_defaults(self) -> QuotaLimits:
        return QuotaLimits.model_validate_json(self.quotas_json)


def platform_resources(settings: Settings) -> dict[str, Any]:
    return {
        "platform": PlatformConfig(
            webhook_url=settings.webhook_url,
            # An EnvVar is resolved at run time and never shown in the UI.
            webhook_secret=EnvVar("VIDEO_PIPELINE_WEBHOOK_SECRET")
            if settings.webhook_secret
            else None,
            webhook_retry_seconds=settings.webhook_retry_seconds,
            webhook_timeout_seconds=settings.webhook_timeout_seconds,
            webhook_link_seconds=settings.webhook_link_seconds,
            allow_loopback_urls=settings.allow_loopback_urls,
            quotas_json=settings.quotas.model_dump_json(),
        )
    }


def store_from_settings(settings: Settings) -> ObjectStore:
    """The object store for commands run outside Dagster (doctor, deletion)."""
    return ObjectStore(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.aws_region,
        access_key_id=settings.aws_access_key_id,
        secret_access_key=settings.aws_secret_access_key,
    )
