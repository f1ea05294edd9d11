"""The platform's settings section and resource: completion webhooks, the metrics server,
quota defaults. The webhook and quota sensors and `video-pipeline serve` read it."""

from __future__ import annotations

from dagster import Config, ConfigurableResource

from video_pipeline.config import setting
from video_pipeline.quotas import QuotaLimits
from video_pipeline.stages.sources import IngestLimits


class PlatformSettings(Config):
    webhook_url: str | None = setting(
        "VIDEO_PIPELINE_WEBHOOK_URL",
        None,
        "deployment default for completion webhooks (an owner's or a project's own URL wins)",
    )
    webhook_secret: str | None = setting(
        "VIDEO_PIPELINE_WEBHOOK_SECRET",
        None,
        "HMAC-SHA256 key that signs every webhook (see Webhooks)",
        secret=True,
    )
    webhook_retry_seconds: float = setting(
        "VIDEO_PIPELINE_WEBHOOK_RETRY_SECONDS",
        86_400.0,
        "how long a failing webhook delivery is retried, with exponential backoff",
        gt=0,
    )
    webhook_timeout_seconds: float = setting(
        "VIDEO_PIPELINE_WEBHOOK_TIMEOUT", 10.0, "seconds per webhook request", gt=0
    )
    webhook_link_seconds: int = setting(
        "VIDEO_PIPELINE_WEBHOOK_LINK_SECONDS",
        86_400,
        "lifetime of the presigned video, thumbnail and caption links in a `done` event",
        gt=0,
    )
    metrics_host: str = setting(
        "VIDEO_PIPELINE_METRICS_HOST", "127.0.0.1", "address of `video-pipeline serve`"
    )
    metrics_port: int = setting(
        "VIDEO_PIPELINE_METRICS_PORT", 9100, "port of `video-pipeline serve`", gt=0, lt=65536
    )
    intake_wait_seconds: float = setting(
        "VIDEO_PIPELINE_INTAKE_WAIT_SECONDS",
        3.5,
        "how long an idle intake tick listens for a new project before it ends (Dagster starts "
        "a tick every 5 s at most; 0: no listening)",
        ge=0,
        lt=60,
    )
    quotas: QuotaLimits = setting(
        "VIDEO_PIPELINE_QUOTAS",
        QuotaLimits,
        'JSON quota defaults per owner, e.g. `{"projects_per_day": 50, "projects_in_progress": '
        '5, "cost_per_day_usd": 20, "cost_per_month_usd": 300}` (absent: unlimited; '
        "`owner set` overrides per owner)",
    )


class PlatformConfig(ConfigurableResource, PlatformSettings):
    """What the platform sensors need; webhook addresses follow the URL sources' rules."""

    ingest: IngestLimits = IngestLimits()

    @property
    def allow_loopback_urls(self) -> bool:
        return self.ingest.allow_loopback

    def quota_defaults(self) -> QuotaLimits:
        return self.quotas
