"""Prometheus metrics read from the database at scrape time.

Everything is derived from the tables (projects, project_events, provider_usage, renders'
outputs, webhook_deliveries), so every process reports the same numbers and nothing is lost
when one restarts. Labels stay low-cardinality: status, stage, provider, model, error kind, outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import sqlalchemy as sa
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from video_pipeline.storage.tables import (
    project_events,
    projects,
    provider_usage,
    stage_outputs,
    stage_states,
    webhook_deliveries,
)

STAGE_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
REALTIME_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8)
FAILED_STATES = ("failed", "provider_refused", "invalid_input")
QUEUES = {"new": "intake", "queued": "run_slot", "deferred": "quota"}


def _histogram(
    conn: sa.Connection,
    name: str,
    documentation: str,
    labels: Sequence[str],
    values: sa.Subquery,
    buckets: Sequence[float],
) -> HistogramMetricFamily:
    """A histogram whose bucket counts are computed in SQL over `values.c.value`."""
    columns = [values.c[label] for label in labels]
    value = values.c.value
    bucket_counts = [sa.func.count().filter(value <= bound) for bound in buckets]
    rows = conn.execute(
        sa.select(
            *columns, sa.func.count(), sa.func.coalesce(sa.func.sum(value), 0), *bucket_counts
        )
        .group_by(*columns)
        .order_by(*columns)
    ).all()
    family = HistogramMetricFamily(name, documentation, labels=list(labels))
    for row in rows:
        label_values = [str(v) for v in row[: len(labels)]]
        count, total, counts = row[len(labels)], row[len(labels) + 1], row[len(labels) + 2 :]
        family.add_metric(
            label_values,
            [(str(bound), c) for bound, c in zip(buckets, counts, strict=True)] + [("+Inf", count)],
            float(total),
        )
    return family


def stage_durations() -> sa.Subquery:
    """Seconds from each `<stage>: running` event to the project's next event."""
    following = sa.func.lead(project_events.c.time).over(
        partition_by=project_events.c.project_id, order_by=project_events.c.id
    )
    timed = sa.select(
        project_events.c.stage,
        project_events.c.to_status,
        sa.func.extract("epoch", following - project_events.c.time).label("value"),
    ).subquery()
    return (
        sa.select(timed.c.stage, timed.c.value)
        .where(timed.c.to_status == "running", timed.c.stage.is_not(None))
        .where(timed.c.value.is_not(None))
        .subquery()
    )


class PipelineCollector(Collector):
    def __init__(self, engine: sa.Engine, queued_runs: Callable[[], int] | None = None) -> None:
        self._engine = engine
        self._queued_runs = queued_runs

    def collect(self) -> Iterator[Metric]:
        with self._engine.connect() as conn:
            yield from self._projects(conn)
            yield _histogram(
                conn,
                "video_pipeline_stage_duration_seconds",
                "Time from a stage's start to the project's next status event.",
                ["stage"],
                stage_durations(),
                STAGE_BUCKETS,
            )
            yield from self._providers(conn)
            realtime = (
                sa.select(stage_outputs.c.payload["realtime_factor"].as_float().label("value"))
                .where(stage_outputs.c.stage == "render")
                .subquery()
            )
            yield _histogram(
                conn,
                "video_pipeline_render_realtime_factor",
                "Seconds of video encoded per second of wall time, per stored render.",
                [],
                realtime,
                REALTIME_BUCKETS,
            )
            yield self._webhooks(conn)

    def _projects(self, conn: sa.Connection) -> Iterator[Metric]:
        counts: dict[str, int] = dict(
            conn.execute(
                sa.select(projects.c.status, sa.func.count()).group_by(projects.c.status)
            ).all()
        )
        by_status = GaugeMetricFamily(
            "video_pipeline_projects", "Projects by status.", labels=["status"]
        )
        for status, count in sorted(counts.items()):
            by_status.add_metric([status], count)
        yield by_status
        depth = GaugeMetricFamily(
            "video_pipeline_queue_depth",
            "Work waiting: intake (new), run_slot (queued), quota (deferred), dagster "
            "(queued Dagster runs).",
            labels=["queue"],
        )
        for status, queue in QUEUES.items():
            depth.add_metric([queue], counts.get(status, 0))
        if self._queued_runs is not None:
            depth.add_metric(["dagster"], self._queued_runs())
        yield depth
        failures = GaugeMetricFamily(
            "video_pipeline_stage_failures",
            "Stages whose latest state is a failure, by stage and kind.",
            labels=["stage", "state"],
        )
        for stage, state, count in conn.execute(
            sa.select(stage_states.c.stage, stage_states.c.state, sa.func.count())
            .where(stage_states.c.state.in_(FAILED_STATES))
            .group_by(stage_states.c.stage, stage_states.c.state)
            .order_by(stage_states.c.stage, stage_states.c.state)
        ).all():
            failures.add_metric([stage, state], count)
        yield failures

    def _providers(self, conn: sa.Connection) -> Iterator[Metric]:
        keys = [provider_usage.c.provider, provider_usage.c.model]
        answered = provider_usage.c.error.is_(None)
        rows = conn.execute(
            sa.select(
                *keys,
                provider_usage.c.cached,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(provider_usage.c.cost_usd), 0),
            )
            .where(answered)
            .group_by(*keys, provider_usage.c.cached)
            .order_by(*keys, provider_usage.c.cached)
        ).all()
        calls = CounterMetricFamily(
            "video_pipeline_provider_calls",
            "Provider calls, answered by the provider or from the cache.",
            labels=["provider", "model", "cached"],
        )
        cost = CounterMetricFamily(
            "video_pipeline_provider_cost_usd", "Spend in USD.", labels=["provider", "model"]
        )
        spend: dict[tuple[str, str], float] = {}
        for row in rows:
            provider, model, cached, count, total = tuple(row)
            calls.add_metric([provider, model, str(cached).lower()], count)
            spend[(provider, model)] = spend.get((provider, model), 0.0) + float(total)
        for (provider, model), total in sorted(spend.items()):
            cost.add_metric([provider, model], total)
        yield calls
        yield cost
        errors = CounterMetricFamily(
            "video_pipeline_provider_errors",
            "Provider attempts that failed, by kind (timeout, rate_limited, http_503, ...); "
            "a retried call counts each failed attempt.",
            labels=["provider", "model", "error"],
        )
        error_keys = [*keys, provider_usage.c.error]
        failed = conn.execute(
            sa.select(*error_keys, sa.func.count())
            .where(~answered)
            .group_by(*error_keys)
            .order_by(*error_keys)
        ).all()
        for row in failed:
            provider, model, error, count = tuple(row)
            errors.add_metric([provider, model, error], count)
        yield errors
        latency = (
            sa.select(*keys, (provider_usage.c.latency_ms / 1000.0).label("value"))
            .where(provider_usage.c.cached.is_(False), answered)
            .subquery()
        )
        yield _histogram(
            conn,
            "video_pipeline_provider_latency_seconds",
            "Latency of provider calls that reached the provider.",
            ["provider", "model"],
            latency,
            LATENCY_BUCKETS,
        )

    def _webhooks(self, conn: sa.Connection) -> Metric:
        family = GaugeMetricFamily(
            "video_pipeline_webhook_deliveries",
            "Webhook deliveries by outcome (pending, delivered, failed, refused).",
            labels=["outcome"],
        )
        rows = conn.execute(
            sa.select(webhook_deliveries.c.status, sa.func.count())
            .group_by(webhook_deliveries.c.status)
            .order_by(webhook_deliveries.c.status)
        ).all()
        for status, count in rows:
            family.add_metric([status], count)
        return family
