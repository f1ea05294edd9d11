"""Per-stage provider session: records every call's usage and enforces the project budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from dagster import MetadataValue

from video_pipeline.errors import PipelineInputError
from video_pipeline.providers.base import Providers, UsageRecord
from video_pipeline.resources import ProvidersResource
from video_pipeline.storage.usage import PostgresResponseCache, project_cost, record_usage


@dataclass
class StageUsage:
    engine: sa.Engine
    project_id: str
    stage: str
    run_id: str
    max_cost_usd: float | None
    records: list[UsageRecord] = field(default_factory=list)

    def sink(self, record: UsageRecord) -> None:
        self.records.append(record)
        record_usage(self.engine, self.project_id, self.stage, self.run_id, record)

    def budget(self, estimated_cost_usd: float) -> None:
        """Called before a paid call; refuses the call when it would exceed the budget."""
        if self.max_cost_usd is None:
            return
        spent = project_cost(self.engine, self.project_id)
        if spent + estimated_cost_usd > self.max_cost_usd:
            raise PipelineInputError(
                f"the project's budget max_cost_usd={self.max_cost_usd:.4f} would be exceeded: "
                f"${spent:.4f} spent so far and this {self.stage} call needs about "
                f"${estimated_cost_usd:.4f}; raise max_cost_usd in the project settings to go on"
            )

    def providers(
        self, resource: ProvidersResource, speech_words_per_minute: float | None = None
    ) -> Providers:
        return resource.build(
            usage_sink=self.sink,
            cache=PostgresResponseCache(self.engine, self.project_id),
            budget=self.budget,
            speech_words_per_minute=speech_words_per_minute,
        )

    def metadata(self) -> dict[str, Any]:
        calls = [r for r in self.records if r.error is None]
        failed = len(self.records) - len(calls)
        errors = {"provider_failed_attempts": failed} if failed else {}
        if not calls:
            return {"provider_calls": 0, **errors}
        return {
            "provider_calls": len(calls),
            **errors,
            "provider_cached_calls": sum(r.cached for r in calls),
            "provider_models": ", ".join(sorted({r.model for r in calls})),
            "provider_input_units": sum(r.input_units for r in calls),
            "provider_output_units": sum(r.output_units for r in calls),
            "cost_usd": MetadataValue.float(round(sum(r.cost_usd for r in calls), 6)),
            "from_cache": all(r.cached for r in calls),
        }
