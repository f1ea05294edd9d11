"""Every environment variable the system reads, in one place.

Nothing else in the package looks at `os.environ`; the Dagster resources, the CLI and the
services are all built from a `Settings` instance.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # Where the embedded services keep their data and state (`.data/` in the checkout).
    data_dir: Path = Field(Path(".data"), alias="VIDEO_PIPELINE_DATA_DIR")

    # App database (Postgres with pgvector). Empty means "the embedded server under data_dir".
    database_url: str | None = Field(None, alias="DATABASE_URL")

    # Object store. Empty endpoint means AWS itself; the embedded S3 sets it.
    s3_bucket: str = Field("video-pipeline", alias="VIDEO_PIPELINE_BUCKET")
    s3_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL_S3")
    aws_access_key_id: str | None = Field(None, alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(None, alias="AWS_SECRET_ACCESS_KEY")
    aws_region: str = Field("us-east-1", alias="AWS_DEFAULT_REGION")

    # Providers.
    provider: Literal["offline", "openai"] = Field("offline", alias="VIDEO_PIPELINE_PROVIDER")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_timeout_seconds: float = Field(60.0, alias="OPENAI_TIMEOUT_SECONDS")
    # JSON objects: model per step, e.g. {"script": "gpt-4.1", "embeddings":
    # "text-embedding-3-large"}; prices in USD per model, e.g. {"gpt-4.1":
    # {"input_per_million_tokens": 2.0, "output_per_million_tokens": 8.0}}.
    openai_models: dict[str, str | int | None] = Field(
        default_factory=dict, alias="VIDEO_PIPELINE_OPENAI_MODELS"
    )
    openai_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict, alias="VIDEO_PIPELINE_PRICES"
    )

    # True when the S3 credentials are the embedded server's local keys (safe to show in
    # the UI); otherwise boto3 finds credentials itself and they never enter Dagster config.
    embedded_credentials: bool = Field(False, exclude=True)

    # Ingestion limits.
    max_source_bytes: int = Field(10_000_000, alias="VIDEO_PIPELINE_MAX_SOURCE_BYTES")
    fetch_timeout_seconds: float = Field(15.0, alias="VIDEO_PIPELINE_FETCH_TIMEOUT")
    allow_loopback_urls: bool = Field(False, alias="VIDEO_PIPELINE_ALLOW_LOOPBACK_URLS")
    # Where file sources may live; unset allows any local path (fine for a single user's
    # machine, not for a shared platform).
    file_root: Path | None = Field(None, alias="VIDEO_PIPELINE_FILE_ROOT")

    # Where steps run: `in_process` (one process per run; the embedded default) or
    # `celery` (each step a task on `video-pipeline worker`s, through the broker at
    # VIDEO_PIPELINE_BROKER_URL, a Redis-protocol server: redis://host:6379/0).
    executor: Literal["in_process", "celery"] = Field("in_process", alias="VIDEO_PIPELINE_EXECUTOR")
    broker_url: str | None = Field(None, alias="VIDEO_PIPELINE_BROKER_URL")

    # Retention: the partitions of projects that ended this many days ago leave Dagster
    # (their rows, chunks and objects stay; `project rerun` brings one back).
    archive_after_days: int = Field(30, ge=1, alias="VIDEO_PIPELINE_ARCHIVE_AFTER_DAYS")

    # Render.
    x264_preset: str = Field("veryfast", alias="VIDEO_PIPELINE_X264_PRESET")
    work_dir: Path | None = Field(None, alias="VIDEO_PIPELINE_WORK_DIR")

    @model_validator(mode="after")
    def _fill_from_embedded_services(self) -> Settings:
        """Unset connection settings fall back to the embedded services, when they run."""
        from video_pipeline.services.embedded import read_state

        state = read_state(self.resolved_data_dir)
        if state is None:
            return self
        env = state.environment(self.resolved_data_dir)
        if self.database_url is None:
            self.database_url = env["DATABASE_URL"]
            if self.s3_endpoint_url is None:
                self.s3_endpoint_url = env["AWS_ENDPOINT_URL_S3"]
                self.aws_access_key_id = env["AWS_ACCESS_KEY_ID"]
                self.aws_secret_access_key = env["AWS_SECRET_ACCESS_KEY"]
                self.s3_bucket = env["VIDEO_PIPELINE_BUCKET"]
                self.embedded_credentials = True
        return self

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "DATABASE_URL is not set and no embedded services run under "
                f"{self.resolved_data_dir}: start them with `video-pipeline services up` "
                "or set DATABASE_URL to a Postgres with pgvector."
            )
        return self.database_url

    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()


def load_settings() -> Settings:
    return Settings()
