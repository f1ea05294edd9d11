"""The Dagster resources: each is a settings section (declared once, where it belongs) plus
what the assets and sensors need from it."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from dagster import (
    Config,
    ConfigurableIOManager,
    ConfigurableResource,
    Failure,
    InputContext,
    OutputContext,
)
from pydantic import BaseModel, ConfigDict, Field

from video_pipeline.config import setting
from video_pipeline.providers.base import Providers
from video_pipeline.providers.openai.calls import ResponseCache
from video_pipeline.providers.registry import (
    BudgetHook,
    ProviderSettings,
    UsageSink,
    build_providers,
)
from video_pipeline.render.graph import EncoderSettings
from video_pipeline.stages.sources import IngestLimits
from video_pipeline.storage.db import DatabaseSettings
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.storage.stage_outputs import load_output, save_output


class DatabaseResource(ConfigurableResource, DatabaseSettings):
    """The app database (Postgres with pgvector)."""


class ObjectStoreResource(ConfigurableResource, ObjectStore):
    """Where binary artifacts go."""


class ProvidersResource(ConfigurableResource, ProviderSettings):
    """The providers of every capability, offline or OpenAI."""

    def build(
        self,
        *,
        usage_sink: UsageSink,
        cache: ResponseCache,
        budget: BudgetHook,
        speech_words_per_minute: float | None = None,
    ) -> Providers:
        return build_providers(
            self,
            speech_words_per_minute=speech_words_per_minute,
            usage_sink=usage_sink,
            cache=cache,
            budget=budget,
        )


class IngestResource(ConfigurableResource, IngestLimits):
    """Limits on what a project's sources may be."""


class StageTimeLimits(Config):
    """Seconds each stage may run before it fails; unknown stages are refused."""

    model_config = ConfigDict(extra="forbid")

    sources: float = Field(default=300, gt=0)
    research: float = Field(default=900, gt=0)
    dna_profile: float = Field(default=600, gt=0)
    safety_check: float = Field(default=600, gt=0)
    script: float = Field(default=900, gt=0)
    embeddings: float = Field(default=900, gt=0)
    render: float = Field(default=3600, gt=0)


class StageSettings(Config):
    time_limits: StageTimeLimits = setting(
        "VIDEO_PIPELINE_STAGE_TIME_LIMITS",
        StageTimeLimits,
        'JSON object, seconds per stage, e.g. `{"render": 7200}`; defaults: '
        + ", ".join(f"`{name}` {f.default:g}" for name, f in StageTimeLimits.model_fields.items()),
    )


class StageLimitsResource(ConfigurableResource, StageSettings):
    """How long each stage may run."""

    def seconds(self, stage: str) -> float:
        return float(getattr(self.time_limits, stage))


class RenderSettings(Config):
    x264_preset: str = setting(
        "VIDEO_PIPELINE_X264_PRESET",
        EncoderSettings.preset,
        "x264 preset of the render (`ultrafast` … `veryslow`)",
    )
    work_dir: str | None = setting(
        "VIDEO_PIPELINE_WORK_DIR", None, "scratch space of the render; unset: the system temp"
    )


class RenderResource(ConfigurableResource, RenderSettings):
    """How videos are encoded and where the render works."""

    @property
    def encoder(self) -> EncoderSettings:
        return EncoderSettings(preset=self.x264_preset)

    def scratch_dir(self, project_id: str, run_id: str, stage: str) -> Path:
        """A new folder for one attempt of a step: two runs of one project (a launch by hand
        beside the sensor's), or a step that runs again while the attempt before it is
        still going (a Celery task delivered again), must never write into each other's."""
        path = self._project_scratch(project_id) / f"{stage}-{uuid.uuid4().hex[:12]}-{run_id}"
        path.mkdir(parents=True)
        return path

    def discard_scratch(self, project_id: str, run_id: str, folder: Path | None = None) -> None:
        """Remove one attempt's `folder`, or everything a run whose process died left (on
        this host), then the project's folder when nothing else is in it."""
        project_dir = self._project_scratch(project_id)
        for path in [folder] if folder else project_dir.glob(f"*-{run_id}"):
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            project_dir.rmdir()

    def _project_scratch(self, project_id: str) -> Path:
        base = Path(self.work_dir) if self.work_dir else Path(tempfile.gettempdir())
        return base / "video_pipeline" / project_id


class ModelIOManager(ConfigurableIOManager):
    """Stores each asset's pydantic output as JSONB, keyed by (project, stage).

    Re-materializing a partition replaces its row; an input loads as the type the consuming
    asset declares.
    """

    db: DatabaseResource

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        if not isinstance(obj, BaseModel):
            raise TypeError(f"{context.asset_key.to_user_string()} must return a pydantic model")
        save_output(
            self.db.engine,
            context.partition_key,
            context.asset_key.path[-1],
            obj,
            run_id=context.run_id,
        )

    def load_input(self, context: InputContext) -> Any:
        declared = context.dagster_type.typing_type
        if not (isinstance(declared, type) and issubclass(declared, BaseModel)):
            raise TypeError(
                f"input {context.name} must be annotated with a pydantic model, not {declared}"
            )
        try:
            return load_output(
                self.db.engine, context.partition_key, context.asset_key.path[-1], declared
            )
        except LookupError as missing:
            # Retrying cannot make an upstream stage's output appear.
            raise Failure(description=str(missing), allow_retries=False) from None
