"""Test helpers: insert projects the way another service would, tick the intake sensor and
execute the runs it requests through the real job on the real instance."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import (
    DagsterEventType,
    RunRequest,
    SensorResult,
    build_run_status_sensor_context,
    build_sensor_context,
)

from video_pipeline.assets.stage_asset import PROJECTS
from video_pipeline.devstack.postgres import _embedded_postgres
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.resources import DatabaseResource, RenderResource


def insert_project_sql(
    conn: sa.Connection,
    *,
    owner: str,
    title: str,
    brief: str,
    settings: Any = None,
    sources: list[dict[str, Any]] | None = None,
) -> str:
    """Plain SQL, as any client of the public schema would write it."""
    project_id = conn.execute(
        sa.text(
            "INSERT INTO projects (owner_id, title, brief, settings) "
            "VALUES (:owner, :title, :brief, CAST(:settings AS jsonb)) RETURNING id"
        ),
        {
            "owner": owner,
            "title": title,
            "brief": brief,
            "settings": json.dumps({} if settings is None else settings),
        },
    ).scalar_one()
    for source in sources or []:
        conn.execute(
            sa.text(
                "INSERT INTO project_sources (project_id, role, kind, uri, content) "
                "VALUES (:project_id, :role, :kind, :uri, :content)"
            ),
            {"project_id": project_id, "uri": None, "content": None, **source},
        )
    return str(project_id)


# The intake sensor's cursor per (instance, database), kept between ticks as the daemon does.
_intake_cursors: dict[tuple[int, str], str | None] = {}


def tick_intake(defs: Any, instance: Any, database_url: str) -> list[RunRequest]:
    """Evaluate the intake sensor once and store its partitions and cursor, as the daemon
    would."""
    sensor = defs.resolve_sensor_def("project_intake")
    key = (id(instance), database_url)
    context = build_sensor_context(
        instance=instance,
        # Callers tick after their own writes: an idle tick need not listen for more.
        resources={
            "db": DatabaseResource(url=database_url),
            "platform": PlatformConfig(intake_wait_seconds=0),
        },
        cursor=_intake_cursors.get(key),
    )
    result = sensor(context)
    assert isinstance(result, SensorResult)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(PROJECTS, list(request.partition_keys))
    _intake_cursors[key] = result.cursor
    return list(result.run_requests or [])


def execute_request(defs: Any, instance: Any, request: RunRequest) -> Any:
    """Run what the sensor requested through the `make_video` job."""
    return defs.resolve_job_def("make_video").execute_in_process(
        partition_key=request.partition_key,
        instance=instance,
        tags=dict(request.tags),
        raise_on_error=False,
    )


def project_row(conn: sa.Connection, project_id: str) -> Any:
    return conn.execute(
        sa.text("SELECT status, status_detail FROM projects WHERE id = :id"), {"id": project_id}
    ).one()


def current_project(engine: sa.Engine, project_id: str) -> Any:
    """The project's status row, read now."""
    with engine.connect() as conn:
        return project_row(conn, project_id)


def stage_states(engine: sa.Engine, project_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("SELECT stage, state FROM stage_states WHERE project_id = :id"),
                {"id": project_id},
            ).all()
        )


def stopped_project(engine: sa.Engine, project_id: str, result: Any) -> Any:
    """The project's status row after a run that must not have succeeded."""
    assert not result.success
    with engine.connect() as conn:
        return project_row(conn, project_id)


def react_to_run(
    defs: Any, instance: Any, database_url: str, sensor: str, result: Any, event: DagsterEventType
) -> None:
    """Evaluate the run-status sensor `sensor` on `result`'s `event`, as the daemon does."""
    logged = instance.all_logs(result.run_id, of_type=event)
    context = build_run_status_sensor_context(
        sensor_name=sensor,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=logged[0].dagster_event,
        resources={"db": DatabaseResource(url=database_url), "render_engine": RenderResource()},
    )
    defs.resolve_sensor_def(sensor)(context)


def materialization_metadata(result: Any, asset: str) -> dict[str, Any]:
    """The metadata a run recorded when it materialized `asset`."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if materialization.asset_key.path[-1] == asset:
                return {k: v.value for k, v in materialization.metadata.items()}
    raise AssertionError(f"no materialization of {asset}")


@contextmanager
def local_http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Base URL of a server on 127.0.0.1 answering with `handler`, stopped on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def restart_postgres(stack: dict[str, str]) -> None:
    """Restart the session's Postgres (fast shutdown: open connections are cut)."""
    pgdata = Path(stack["VIDEO_PIPELINE_DATA_DIR"]) / "pg"
    owner = pgdata.owner()
    _embedded_postgres().pg_ctl(
        ["-w", "-m", "fast", "restart"],
        pgdata=pgdata,
        user=owner if owner != "root" else None,
        timeout=60,
    )
