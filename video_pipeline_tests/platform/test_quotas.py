"""Quotas: the pure rules, and the real intake sensor deferring an owner's project over its
quota with the stated message while other owners' projects start."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from dagster import build_sensor_context
from typer.testing import CliRunner

from video_pipeline.cli import app
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.quotas import OwnerUsage, QuotaLimits, quota_stop
from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.events import project_history
from video_pipeline_tests.helpers import insert_project_sql, project_row, tick_intake

NOW = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)


def test_the_first_quota_reached_stops_and_says_when_it_resets() -> None:
    limits = QuotaLimits(projects_per_day=5, cost_per_month_usd=10.0)
    assert quota_stop(limits, OwnerUsage(started_today=4, cost_month_usd=9.99), NOW) is None

    stop = quota_stop(limits, OwnerUsage(started_today=5), NOW)
    assert stop is not None and stop.quota == "projects_per_day"
    assert stop.message == (
        "quota projects_per_day reached (5 of 5); deferred, starts by itself when the quota "
        "resets at 2027-01-01 00:00 UTC"
    )
    monthly = quota_stop(limits, OwnerUsage(cost_month_usd=10.0), NOW)
    assert monthly is not None and monthly.resets_at == datetime(2027, 1, 1, tzinfo=UTC)
    running = quota_stop(QuotaLimits(projects_in_progress=1), OwnerUsage(in_progress=1), NOW)
    assert running is not None and running.resets_at is None
    assert running.message.endswith(
        "starts by itself when one of the owner's projects in progress finishes"
    )
    suspended = quota_stop(QuotaLimits(projects_per_day=0), OwnerUsage(), NOW)
    assert suspended is not None and "starts by itself" not in suspended.message
    assert "this owner may not start projects" in suspended.message
    assert "owner set OWNER --projects-per-day N" in suspended.message


def test_owner_limits_override_the_deployment_defaults() -> None:
    defaults = QuotaLimits(projects_per_day=100, cost_per_day_usd=5.0)
    merged = defaults.overridden_by(QuotaLimits(projects_per_day=2))
    assert merged == QuotaLimits(projects_per_day=2, cost_per_day_usd=5.0)
    assert QuotaLimits().unlimited and not merged.unlimited


def insert(engine: sa.Engine, owner: str) -> str:
    with engine.begin() as conn:
        return insert_project_sql(conn, owner=owner, title="T", brief="B")


def requested(defs: Any, instance: Any, url: str) -> set[str]:
    return {r.partition_key for r in tick_intake(defs, instance, url)}


def test_a_project_over_quota_is_deferred_and_starts_when_the_quota_allows(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    url = stack["DATABASE_URL"]
    limited, other = "platform-quota-limited", "platform-quota-other"
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO owner_settings (owner_id, projects_per_day) VALUES (:o, 1)"),
            {"o": limited},
        )
    first, second = insert(engine, limited), insert(engine, limited)
    others = [insert(engine, other), insert(engine, other)]

    started = requested(defs, instance, url)

    assert first in started and set(others) <= started
    assert second not in started
    with engine.connect() as conn:
        row = project_row(conn, second)
    assert row.status == "deferred"
    assert row.status_detail.startswith("quota projects_per_day reached (1 of 1)")
    assert "resets at" in row.status_detail and "UTC" in row.status_detail
    assert [e["to_status"] for e in project_history(engine, second)] == ["deferred"]

    # Later ticks leave it alone (no new events) until the owner's limit is raised.
    assert second not in requested(defs, instance, url)
    assert len(project_history(engine, second)) == 1
    # A run launched by hand for it (the UI) stops at once, saying why.
    instance.add_dynamic_partitions("projects", [second])
    by_hand = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=second, instance=instance, raise_on_error=False
    )
    failure = next(e for e in by_hand.all_events if e.event_type_value == "STEP_FAILURE")
    assert "sources: not started: the project is deferred: its owner's quota" in str(
        failure.event_specific_data.error
    )
    assert len(project_history(engine, second)) == 1
    raised = CliRunner().invoke(app, ["owner", "set", limited, "--projects-per-day", "2"])
    assert raised.exit_code == 0, raised.output
    assert json.loads(raised.output)["projects_per_day"] == 2
    assert second in requested(defs, instance, url)
    assert [e["to_status"] for e in project_history(engine, second)] == [
        "deferred",
        "new",
        "queued",
    ]


def test_the_deployment_default_applies_to_owners_without_their_own_limits(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    owner = "platform-quota-default"
    first, second = insert(engine, owner), insert(engine, owner)
    context = build_sensor_context(
        instance=instance,
        resources={
            "db": DatabaseResource(url=stack["DATABASE_URL"]),
            "platform": PlatformConfig(quotas=QuotaLimits(projects_in_progress=1)),
        },
    )

    result = defs.resolve_sensor_def("project_intake")(context)

    keys = {r.partition_key for r in result.run_requests}
    assert first in keys and second not in keys
    with engine.connect() as conn:
        row = project_row(conn, second)
    assert row.status == "deferred" and "projects_in_progress" in row.status_detail
