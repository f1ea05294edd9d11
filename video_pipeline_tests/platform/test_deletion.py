"""Deleting a project or an owner leaves nothing of it in any table, in the bucket, in
search results or in Dagster's partitions and runs; work in progress is never deleted."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import RunsFilter, build_sensor_context
from typer.testing import CliRunner

from video_pipeline.assets.stage_asset import PROJECTS
from video_pipeline.cli import app
from video_pipeline.providers.registry import ProviderSettings, build_embedder
from video_pipeline.storage.ledger import mark_queued
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.storage.tables import deletion_requests, metadata
from video_pipeline.storage.vectors import search
from video_pipeline_tests.helpers import insert_project_sql, tick_intake
from video_pipeline_tests.platform.conftest import run_project, sensor_resources


def leftovers(engine: sa.Engine, project_id: str) -> dict[str, int]:
    """Rows that still name the project, in every table but the deletion requests."""
    found = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            column = table.c.get("project_id") if table.name != "projects" else table.c.id
            if column is None or table is deletion_requests:
                continue
            count = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(column == project_id)
            ).scalar_one()
            if count:
                found[table.name] = count
    return found


def hits(engine: sa.Engine, owner: str) -> set[str]:
    embedder = build_embedder(ProviderSettings())
    vector = embedder.embed(["how a honeybee colony works"])[0]
    return {hit.project_id for hit in search(engine, owner, embedder.model, vector, 50)}


def new_project(engine: sa.Engine, owner: str) -> str:
    with engine.begin() as conn:
        return insert_project_sql(conn, owner=owner, title="T", brief="B")


def add_cache_entry(engine: sa.Engine, key: str, *project_ids: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO response_cache (key, value) VALUES (:key, '{}')"), {"key": key}
        )
        for project_id in project_ids:
            conn.execute(
                sa.text("INSERT INTO response_cache_users (key, project_id) VALUES (:k, :p)"),
                {"k": key, "p": project_id},
            )


def cache_keys(engine: sa.Engine, *keys: str) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text("SELECT key FROM response_cache WHERE key = ANY(:keys)"),
                {"keys": list(keys)},
            ).scalars()
        )


def test_project_delete_removes_everything_and_refuses_work_in_progress(
    stack: dict[str, str], engine: sa.Engine, store: ObjectStore, defs: Any, instance: Any
) -> None:
    owner = "platform-delete"
    project_id = run_project(stack, engine, defs, instance, owner)
    neighbour = new_project(engine, owner)
    add_cache_entry(engine, "platform-delete-only-mine", project_id)
    add_cache_entry(engine, "platform-delete-shared", project_id, neighbour)
    assert project_id in hits(engine, owner)
    assert store.list_keys(f"projects/{project_id}/")
    busy = new_project(engine, owner)
    mark_queued(engine, [busy])
    [run] = instance.get_runs(RunsFilter(tags={"dagster/partition": project_id}))
    compute_logs = Path(stack["DAGSTER_HOME"]) / "storage" / run.run_id
    assert compute_logs.is_dir(), "the run captured its stdout and stderr"

    refused = CliRunner().invoke(app, ["project", "delete", busy])
    assert refused.exit_code == 2
    assert "refused while work is in progress" in refused.output and "queued" in refused.output
    assert leftovers(engine, busy) == {"projects": 1, "project_events": 1}

    deleted = CliRunner().invoke(app, ["project", "delete", project_id, "--json"])

    assert deleted.exit_code == 0, deleted.output
    report = json.loads(deleted.output)
    assert report["projects"] == [project_id]
    assert report["rows"]["projects"] == 1
    assert report["rows"]["stage_outputs"] == 7 and report["rows"]["retrievable_text"] > 0
    assert report["rows"]["response_cache"] == 1
    assert report["s3_objects"] >= 5 and report["dagster_runs"] == 1
    assert report["dagster_partitions"] == 1
    assert leftovers(engine, project_id) == {}
    assert store.list_keys(f"projects/{project_id}/") == []
    assert project_id not in hits(engine, owner)
    assert cache_keys(engine, "platform-delete-only-mine", "platform-delete-shared") == {
        "platform-delete-shared"
    }
    assert not instance.has_dynamic_partition(PROJECTS, project_id)
    assert not instance.get_runs(RunsFilter(tags={"dagster/partition": project_id}))
    assert not compute_logs.exists()
    again = CliRunner().invoke(app, ["project", "delete", project_id])
    assert again.exit_code == 2 and "no such project" in again.output


def test_an_owner_deleted_through_the_contract_table_and_the_daemon_sensor(
    stack: dict[str, str], engine: sa.Engine, store: ObjectStore, defs: Any, instance: Any
) -> None:
    owner, other = "platform-delete-owner", "platform-delete-other"
    done = run_project(stack, engine, defs, instance, owner)
    waiting = new_project(engine, owner)
    kept = new_project(engine, other)
    busy = new_project(engine, other)
    mark_queued(engine, [busy])
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO owner_settings (owner_id, projects_per_day) VALUES (:o, 3)"),
            {"o": owner},
        )
        conn.execute(sa.text("INSERT INTO deletion_requests (owner_id) VALUES (:o)"), {"o": owner})
        conn.execute(sa.text("INSERT INTO deletion_requests (project_id) VALUES (:p)"), {"p": busy})
    context = build_sensor_context(
        instance=instance,
        resources=sensor_resources(stack, store),
    )

    outcome = defs.resolve_sensor_def("process_deletions")(context)

    assert "1 done" in outcome.skip_message and "1 pending" in outcome.skip_message
    with engine.connect() as conn:
        requests = {
            (r.owner_id or str(r.project_id)): r
            for r in conn.execute(
                sa.text(
                    "SELECT owner_id, project_id, status, detail, report FROM deletion_requests "
                    "WHERE owner_id = :o OR project_id = :p"
                ),
                {"o": owner, "p": busy},
            ).all()
        }
        settings_left = conn.execute(
            sa.text("SELECT count(*) FROM owner_settings WHERE owner_id = :o"), {"o": owner}
        ).scalar_one()
    assert requests[owner].status == "done"
    assert sorted(requests[owner].report["projects"]) == sorted([done, waiting])
    assert requests[owner].report["rows"]["owner_settings"] == 1 and settings_left == 0
    assert requests[busy].status == "pending" and "in progress" in requests[busy].detail
    for project_id in (done, waiting):
        assert leftovers(engine, project_id) == {}
        assert store.list_keys(f"projects/{project_id}/") == []
    assert hits(engine, owner) == set()
    assert leftovers(engine, kept) == {"projects": 1}


def test_a_project_deleted_while_the_intake_takes_it_gets_no_run_or_partition(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    """The intake has read a new project when its deletion (which holds the row while it
    checks that nothing runs) commits: no run and no partition are made for it."""
    with engine.begin() as conn:
        project_id = insert_project_sql(conn, owner="deleted-at-intake", title="T", brief="B")
    ticks: list[list[Any]] = []
    with engine.connect() as deleting:
        deleting.execute(
            sa.text("SELECT id FROM projects WHERE id = :id FOR UPDATE"), {"id": project_id}
        )
        deleting.execute(sa.text("DELETE FROM projects WHERE id = :id"), {"id": project_id})
        tick = threading.Thread(
            target=lambda: ticks.append(tick_intake(defs, instance, stack["DATABASE_URL"]))
        )
        tick.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _waiting_on_a_lock(engine):
            time.sleep(0.05)
        assert _waiting_on_a_lock(engine), "the intake did not reach the project's row"
        deleting.commit()
        tick.join(60)
    assert project_id not in [r.partition_key for r in ticks[0]]
    assert project_id not in instance.get_dynamic_partitions(PROJECTS)
    assert instance.get_runs(RunsFilter(tags={"dagster/partition": project_id})) == []


def _waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND query ILIKE 'UPDATE projects%'"
                )
            ).scalar_one()
        )
