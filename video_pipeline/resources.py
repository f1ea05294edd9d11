"""Dagster resources, and the one function that builds them from `Settings`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import ConfigurableIOManager, ConfigurableResource, EnvVar, InputContext, OutputContext
from pydantic import BaseModel

from video_pipeline.providers.registry import ProviderOptions
from video_pipeline.settings import Settings
from video_pipeline.storage.db import engine_for
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.storage.stage_outputs import load_output, save_output


class DatabaseResource(ConfigurableResource):
    """The app database (Postgres with pgvector)."""

    url: str

    @property
    def engine(self) -> sa.Engine:
        return engine_for(self.url)


class ObjectStoreResource(ConfigurableResource):
    """Where binary artifacts go. Credentials left empty use boto3's default chain."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None

    @property
    def store(self) -> ObjectStore:
        return ObjectStore(
            bucket=self.bucket,
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )


class PipelineConfig(ConfigurableResource):
    """Knobs of the stages that are not secrets: limits, render preset, provider choice."""

    provider: str = "offline"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 60.0
    openai_models_json: str = "{}"
    openai_prices_json: str = "{}"
    max_source_bytes: int = 10_000_000
    fetch_timeout_seconds: float = 15.0
    allow_loopback_urls: bool = False
    file_root: str | None = None
    x264_preset: str = "veryfast"
    work_dir: str | None = None
    archive_after_days: int = 30

    def provider_options(self, speech_words_per_minute: float | None = None) -> ProviderOptions:
        return ProviderOptions(
            kind=self.provider,
            openai_api_key=self.openai_api_key,
            openai_base_url=self.openai_base_url,
            openai_timeout_seconds=self.openai_timeout_seconds,
            openai_models_json=self.openai_models_json,
            openai_prices_json=self.openai_prices_json,
            speech_words_per_minute=speech_words_per_minute,
        )

    def scratch_dir(self, project_id: str, stage: str) -> Path:
        import tempfile

        base = Path(self.work_dir) if self.work_dir else Path(tempfile.gettempdir())
        path = base / "video_pipeline" / project_id / stage
        path.mkdir(parents=True, exist_ok=True)
        return path


class ModelIOManager(ConfigurableIOManager):
    """Stores each asset's pydantic output as JSONB, keyed by (project, stage).

    Re-materializing a partition replaces its row; loading validates it back into the model.
    """

    database_url: str

    def _get_engine(self) -> sa.Engine:
        return engine_for(self.database_url)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if not isinstance(obj, BaseModel):
            raise TypeError(f"{context.asset_key.to_user_string()} must return a pydantic model")
        save_output(
            self._get_engine(),
            context.partition_key,
            context.asset_key.path[-1],
            obj,
            run_id=context.run_id,
        )

    def load_input(self, context: InputContext) -> Any:
        return load_output(self._get_engine(), context.partition_key, context.asset_key.path[-1])


def build_resources(settings: Settings) -> dict[str, Any]:
    database_url = settings.require_database_url()
    embedded = settings.embedded_credentials
    return {
        "db": DatabaseResource(url=database_url),
        "io_manager": ModelIOManager(database_url=database_url),
        "object_store": ObjectStoreResource(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.aws_region,
            access_key_id=settings.aws_access_key_id if embedded else None,
            secret_access_key=settings.aws_secret_access_key if embedded else None,
        ),
        "pipeline": PipelineConfig(
            provider=settings.provider,
            # An EnvVar is resolved at run time and never shown in the UI.
            openai_api_key=EnvVar("OPENAI_API_KEY") if settings.openai_api_key else None,
            openai_base_url=settings.openai_base_url,
            openai_timeout_seconds=settings.openai_timeout_seconds,
            openai_models_json=json.dumps(settings.openai_models),
            openai_prices_json=json.dumps(settings.openai_prices),
            max_source_bytes=settings.max_source_bytes,
            fetch_timeout_seconds=settings.fetch_timeout_seconds,
            allow_loopback_urls=settings.allow_loopback_urls,
            file_root=str(settings.file_root) if settings.file_root else None,
            x264_preset=settings.x264_preset,
            work_dir=str(settings.work_dir) if settings.work_dir else None,
            archive_after_days=settings.archive_after_days,
        ),
    }
