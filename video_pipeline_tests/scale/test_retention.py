"""Retention: the archive job removes old projects' partitions from Dagster and nothing
else; `project rerun` brings one back through intake, and it renders again."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from video_pipeline.cli import app
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.helpers import execute_request, tick_intake
from video_pipeline_tests.pipeline.test_end_to_end import counts, demo_sources, launch


def test_archived_partitions_leave_dagster_and_a_rerun_brings_one_back(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any, store: ObjectStore
) -> None:
    url = stack["DATABASE_URL"]
    project = {
        "owner": "retention",
        "brief": "How bees find food, briefly.",
        "settings": {"duration_seconds": 12},
        "sources": demo_sources(),
    }
    old_id, result = launch(engine, defs, instance, url, title="old", **project)
    assert result.success
    recent_id, result = launch(engine, defs, instance, url, title="recent", **project)
    assert result.success
    tick_intake(defs, instance, url)  # confirms both partitions
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE projects SET status = 'done', updated_at = now() - interval '40 days' "
                "WHERE id = :id"
            ),
            {"id": old_id},
        )
    kept = counts(engine, old_id)
    objects = sorted(store.list_keys(f"projects/{old_id}/"))

    archived = defs.resolve_job_def("archive_ended_projects").execute_in_process(instance=instance)
    assert archived.success
    assert not instance.has_dynamic_partition("projects", old_id)
    assert instance.has_dynamic_partition("projects", recent_id)
    assert counts(engine, old_id) == kept
    assert sorted(store.list_keys(f"projects/{old_id}/")) == objects
    runner = CliRunner()
    shown = runner.invoke(app, ["project", "show", old_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["video_uri"].endswith(f"projects/{old_id}/video.mp4")

    refused = runner.invoke(app, ["project", "rerun", "not-a-uuid"])
    assert refused.exit_code == 2 and "not a project id" in refused.output
    rerun = runner.invoke(app, ["project", "rerun", old_id])
    assert rerun.exit_code == 0, rerun.output
    again = runner.invoke(app, ["project", "rerun", old_id])
    assert again.exit_code == 2 and "'new'" in again.output

    requests = [r for r in tick_intake(defs, instance, url) if r.partition_key == old_id]
    assert [r.run_key for r in requests] == [f"{old_id}:rerun:1"]
    assert instance.has_dynamic_partition("projects", old_id)
    rerun_result = execute_request(defs, instance, requests[0])
    assert rerun_result.success
    materialized = {
        e.event_specific_data.materialization.asset_key.path[-1]
        for e in rerun_result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert "render" in materialized
    tick_intake(defs, instance, url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT status, partition_added_at IS NOT NULL AS added, "
                "partition_archived_at FROM projects WHERE id = :id"
            ),
            {"id": old_id},
        ).one()
    assert row.status == "done" and row.added and row.partition_archived_at is None
