"""Every setting of the system, as one typed tree, and the only reader of the environment.

Each leaf is declared once, where it belongs (`setting(...)` names its variable, default and
description); the tree composes those sections into the Dagster resources, so nothing is
copied between layers. `video-pipeline settings` prints the tree as the README's table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from dagster import Config
from pydantic import BaseModel

from video_pipeline.config import Declared, declared_settings, load_sections, setting
from video_pipeline.distributed import ExecutionSettings
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.resources import (
    DatabaseResource,
    IngestResource,
    ModelIOManager,
    ObjectStoreResource,
    ProvidersResource,
    RenderResource,
    StageLimitsResource,
)
from video_pipeline.retention import RetentionResource


class DevStackSettings(Config):
    data_dir: str = setting(
        "VIDEO_PIPELINE_DATA_DIR", ".data", "where the embedded services keep data and state"
    )

    @property
    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir).expanduser().resolve()


@dataclass(frozen=True)
class Settings:
    """The root of the tree: one section per concern, each a Dagster resource where the
    pipeline uses it as one."""

    devstack: DevStackSettings = field(default_factory=DevStackSettings)
    database: DatabaseResource = field(default_factory=DatabaseResource)
    object_store: ObjectStoreResource = field(default_factory=ObjectStoreResource)
    providers: ProvidersResource = field(default_factory=ProvidersResource)
    ingest: IngestResource = field(default_factory=IngestResource)
    render: RenderResource = field(default_factory=RenderResource)
    stages: StageLimitsResource = field(default_factory=StageLimitsResource)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    retention: RetentionResource = field(default_factory=RetentionResource)

    @property
    def resolved_data_dir(self) -> Path:
        return self.devstack.resolved_data_dir

    @property
    def upload_root(self) -> Path:
        """Where file sources must lie (`project create` copies local files there)."""
        return self.ingest.root or self.resolved_data_dir / "uploads"

    def with_upload_root(self) -> Settings:
        """An unset file root is the uploads folder under the data folder."""
        if self.ingest.file_root is not None:
            return self
        root = str(self.resolved_data_dir / "uploads")
        return replace(
            self, ingest=IngestResource(**{**self.ingest.model_dump(), "file_root": root})
        )

    def require_database_url(self) -> str:
        return self.database.require_url()

    def resources(self) -> dict[str, Any]:
        """The Dagster resources, keyed as the assets and sensors ask for them."""
        return {
            "db": self.database,
            "io_manager": ModelIOManager(db=self.database),
            "object_store": self.object_store,
            "providers": self.providers,
            "ingest": self.ingest,
            "render_engine": self.render,
            "stage_limits": self.stages,
            "platform": self.platform,
            "retention": self.retention,
        }

    def with_embedded_services(self) -> Settings:
        """Unset connection settings fall back to the embedded services, when they run."""
        from video_pipeline.devstack.embedded import read_state

        if self.database.url is not None:
            return self
        state = read_state(self.resolved_data_dir)
        if state is None:
            return self
        env = state.environment(self.resolved_data_dir)
        update: dict[str, Any] = {"database": DatabaseResource(url=env["DATABASE_URL"])}
        if self.object_store.endpoint_url is None:
            update["object_store"] = ObjectStoreResource(
                bucket=env["VIDEO_PIPELINE_BUCKET"],
                endpoint_url=env["AWS_ENDPOINT_URL_S3"],
                region=env["AWS_DEFAULT_REGION"],
                access_key_id=env["AWS_ACCESS_KEY_ID"],
                secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            )
        return replace(self, **update)


def load_settings(
    environ: Mapping[str, str] | None = None, *, secrets_as_env_vars: bool = False
) -> Settings:
    """The settings of this process (or of `environ`), embedded services filled in.

    With `secrets_as_env_vars`, secrets stay `EnvVar`s that Dagster resolves when a run
    starts, so their values never reach the UI.
    """
    source = os.environ if environ is None else environ
    settings = Settings(
        **load_sections(_sections(), source, secrets_as_env_vars=secrets_as_env_vars)
    )
    return settings.with_upload_root().with_embedded_services()


def _sections() -> dict[str, type[BaseModel]]:
    hints = get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings)}


def declared() -> list[Declared]:
    """Every declared setting, in the tree's order."""
    return list(declared_settings(_sections()))


def settings_table() -> str:
    """The README's configuration table, generated from the tree."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for item in declared():
        rows.append(f"| `{item.env}` | {_shown(item)} | {item.description} |")
    return "\n".join(rows)


def _shown(item: Declared) -> str:
    if item.default is None or item.default == {}:
        return "—"
    if isinstance(item.default, BaseModel):
        return "see meaning"
    return f"`{str(item.default).lower() if isinstance(item.default, bool) else item.default}`"
