"""`/metrics`, `/health` and `/ready` over HTTP after projects ran; the values parsed with
prometheus-client's parser match the database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def samples(base_url: str) -> Samples:
    response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def query(engine: sa.Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql)).all())


def test_metrics_match_the_database(
    engine: sa.Engine, finished_projects: list[str], server: str
) -> None:
    metrics = samples(server)

    by_status = {dict(k)["status"]: v for k, v in metrics["video_pipeline_projects"].items()}
    assert by_status == {
        status: float(n)
        for status, n in query(engine, "SELECT status, count(*) FROM projects GROUP BY status")
    }
    assert by_status["done"] >= 2

    render_stage = (("stage", "render"),)
    stage_counts = metrics["video_pipeline_stage_duration_seconds_count"]
    [(rendered,)] = query(
        engine,
        "SELECT count(*) FROM project_events WHERE to_status = 'running' AND stage = 'render'",
    )
    assert stage_counts[render_stage] == rendered >= 2
    assert metrics["video_pipeline_stage_duration_seconds_sum"][render_stage] > 0
    buckets = metrics["video_pipeline_stage_duration_seconds_bucket"]
    assert buckets[(("le", "+Inf"), ("stage", "render"))] == rendered

    assert_provider_metrics_match(engine, metrics)

    [(renders, mean_factor)] = query(
        engine,
        "SELECT count(*), avg((payload->>'realtime_factor')::float) FROM stage_outputs "
        "WHERE stage = 'render'",
    )
    assert metrics["video_pipeline_render_realtime_factor_count"][()] == renders >= 2
    assert metrics["video_pipeline_render_realtime_factor_sum"][()] == pytest.approx(
        mean_factor * renders
    )

    depth = {dict(k)["queue"]: v for k, v in metrics["video_pipeline_queue_depth"].items()}
    assert depth["intake"] == by_status.get("new", 0)
    assert depth["quota"] == by_status.get("deferred", 0)
    assert "dagster" in depth

    outcomes = {
        dict(k)["outcome"]: v
        for k, v in metrics.get("video_pipeline_webhook_deliveries", {}).items()
    }
    assert outcomes == {
        status: float(n)
        for status, n in query(
            engine, "SELECT status, count(*) FROM webhook_deliveries GROUP BY status"
        )
    }
    labels = {name for series in metrics.values() for key in series for name, _ in key}
    assert labels <= {
        "status",
        "stage",
        "state",
        "provider",
        "model",
        "cached",
        "error",
        "queue",
        "le",
        "outcome",
    }, "no project or run ids as labels"


def assert_provider_metrics_match(engine: sa.Engine, metrics: Samples) -> None:
    """Calls, cost and latency by provider and model equal the provider_usage rows."""
    calls = metrics.get("video_pipeline_provider_calls_total", {})
    cost = metrics.get("video_pipeline_provider_cost_usd_total", {})
    latency = metrics.get("video_pipeline_provider_latency_seconds_count", {})
    rows = query(
        engine,
        "SELECT provider, model, cached, count(*), sum(cost_usd) FROM provider_usage "
        "WHERE error IS NULL GROUP BY provider, model, cached",
    )
    spend: dict[tuple[tuple[str, str], ...], float] = {}
    for provider, model, cached, count, total in rows:
        labels = (("model", model), ("provider", provider))
        assert calls[(("cached", str(cached).lower()), *labels)] == count
        if not cached:
            assert latency[labels] == count
        spend[labels] = spend.get(labels, 0.0) + float(total)
    assert sum(calls.values()) == sum(r[3] for r in rows)
    assert cost == pytest.approx(spend)
    errors = metrics.get("video_pipeline_provider_errors_total", {})
    failed = query(
        engine,
        "SELECT provider, model, error, count(*) FROM provider_usage WHERE error IS NOT NULL "
        "GROUP BY provider, model, error",
    )
    assert errors == {
        (("error", error), ("model", model), ("provider", provider)): count
        for provider, model, error, count in failed
    }


def test_health_and_ready(server: str) -> None:
    assert httpx.get(f"{server}/health").json() == {"status": "alive"}
    ready = httpx.get(f"{server}/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert set(checks) == {"postgres", "dagster storage", "s3 bucket"}
    assert all(check["ok"] for check in checks.values())
    assert httpx.get(f"{server}/nowhere").status_code == 404
