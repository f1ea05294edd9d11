"""The intake tick's cost does not grow with the number of past projects: with a million of
them in the database, its queries read the partial index only and touch O(new) rows.

Time is measured in benchmarks/intake_tick.py; here the query plans are the bound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from dagster import SensorResult, build_sensor_context

from video_pipeline.devstack.embedded import read_state
from video_pipeline.devstack.postgres import ensure_database
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.migrate import upgrade
from video_pipeline.storage.partitions import intake_query
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.scale.cluster import insert_past_projects

PAST_PROJECTS = 1_000_000
NEW_PROJECTS = 5


@pytest.fixture(scope="module")
def million_url(stack: dict[str, str]) -> Iterator[str]:
    """A database of its own holding a million ended projects (none of them has a partition
    in this test's Dagster instance: the tick must not need one)."""
    state = read_state(Path(stack["VIDEO_PIPELINE_DATA_DIR"]))
    assert state is not None
    ensure_database(state.postgres, "million_projects")
    url = stack["DATABASE_URL"].replace("/video_pipeline?", "/million_projects?")
    upgrade(url)
    insert_past_projects(url, PAST_PROJECTS)
    try:
        yield url
    finally:
        admin = psycopg2.connect(state.postgres.dsn("postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE million_projects WITH (FORCE)")
        admin.close()


def _plan(conn: sa.Connection, statement: sa.Executable) -> dict[str, Any]:
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}
    )
    explained = conn.execute(
        sa.text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}")
    ).scalar_one()
    return explained[0]["Plan"]  # type: ignore[no-any-return]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_intake_tick_reads_only_new_rows_among_a_million(million_url: str, instance: Any) -> None:
    engine = sa.create_engine(million_url)
    with engine.begin() as conn:
        new_ids = [
            insert_project_sql(
                conn, owner=f"new-{i}", title=f"new {i}", brief="b", settings={"priority": "high"}
            )
            for i in range(NEW_PROJECTS)
        ]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM projects")).scalar_one() == (
            PAST_PROJECTS + NEW_PROJECTS
        )
        plan = _plan(conn, intake_query(500))
    nodes = list(_nodes(plan))
    scans = [n for n in nodes if "Scan" in n["Node Type"]]
    assert [(n["Node Type"], n.get("Index Name")) for n in scans] == [
        ("Index Scan", "projects_awaiting_partition")
    ]
    assert scans[0]["Actual Rows"] == NEW_PROJECTS
    # O(new): a few index and heap pages, not the million rows' thousands of pages.
    assert plan["Shared Hit Blocks"] + plan.get("Shared Read Blocks", 0) < 50

    from video_pipeline.definitions import defs

    sensor = defs().resolve_sensor_def("project_intake")
    # The idle tick's listening is waiting, not reading: the plans are the bound here.
    platform = PlatformConfig(intake_wait_seconds=0)
    resources = {"db": DatabaseResource(url=million_url), "platform": platform}
    first = sensor(build_sensor_context(instance=instance, resources=resources))
    assert isinstance(first, SensorResult)
    requests = first.run_requests or []
    assert sorted(r.partition_key for r in requests) == sorted(new_ids)
    assert {r.tags["dagster/priority"] for r in requests} == {"10"}
    assert json.loads(first.cursor or "") == [r.partition_key for r in requests]

    # The next tick confirms what the first stored, then finds nothing new.
    second = sensor(
        build_sensor_context(instance=instance, resources=resources, cursor=first.cursor)
    )
    assert isinstance(second, SensorResult)
    assert not second.run_requests
    with engine.connect() as conn:
        confirmed = conn.execute(
            sa.text(
                "SELECT count(*) FROM projects "
                "WHERE id = ANY(CAST(:ids AS uuid[])) AND partition_added_at IS NOT NULL"
            ),
            {"ids": new_ids},
        ).scalar_one()
        confirm_plan = conn.execute(
            sa.text(
                "EXPLAIN (FORMAT JSON) UPDATE projects SET partition_added_at = now() "
                "WHERE id = ANY(CAST(:ids AS uuid[])) AND partition_added_at IS NULL"
            ),
            {"ids": new_ids},
        ).scalar_one()
    assert confirmed == NEW_PROJECTS
    confirm_scans = [n for n in _nodes(confirm_plan[0]["Plan"]) if "Scan" in n["Node Type"]]
    assert [n.get("Index Name") for n in confirm_scans] == ["projects_pkey"]
    engine.dispose()
